//! `andon backup` and `andon restore`: a consistent snapshot of the database while the
//! server runs, and an empty database (either backend) rebuilt from one.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::cli::output::{Output, emit};

/// `andon backup`: writes a snapshot of `database` to `file` (`-`: standard output).
pub fn backup(database: &str, file: &PathBuf, out: Output) -> anyhow::Result<ExitCode> {
    use anyhow::Context as _;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let summary = rt.block_on(async {
        let store = andon_store::Store::connect(database).await?;
        let mut w: Box<dyn std::io::Write> = if file.as_os_str() == "-" {
            Box::new(std::io::stdout().lock())
        } else {
            Box::new(std::io::BufWriter::new(
                private_file(file).with_context(|| format!("creating {}", file.display()))?,
            ))
        };
        let s = store.backup(&mut w).await?;
        w.flush()?;
        anyhow::Ok(s)
    })?;
    if file.as_os_str() != "-" {
        emit(out, &summary, |s| {
            println!(
                "backed up {} rows of {} tables ({} ledger entries, schema {}) to {}",
                s.rows,
                s.tables,
                s.ledger_entries,
                s.schema,
                file.display()
            )
        })?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Creates (or empties) `path` readable and writable by its owner only: a backup holds
/// every token hash, webhook secret and document of the database.
fn private_file(path: &PathBuf) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
        options.mode(0o600);
        let f = options.open(path)?;
        // An existing file keeps its mode through open: narrowed here.
        f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        Ok(f)
    }
    #[cfg(not(unix))]
    options.open(path)
}

/// What `andon restore` did, and what the audit of the result found.
#[derive(serde::Serialize)]
struct Restored {
    #[serde(flatten)]
    summary: andon_store::BackupSummary,
    verified: bool,
    problem_count: u64,
    problems: Vec<andon_app::audit::Problem>,
}

/// `andon restore`: rebuilds the empty `database` from the backup `file`, then audits what
/// it restored (every entry, document and checkpoint, as `andon verify --database` does) and
/// fails, naming the problems, when it does not verify.
pub fn restore(database: &str, file: &PathBuf, out: Output) -> anyhow::Result<ExitCode> {
    use anyhow::Context as _;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let (summary, findings) = rt.block_on(async {
        let store = andon_store::Store::connect(database).await?;
        let f = std::fs::File::open(file).with_context(|| format!("opening {}", file.display()))?;
        let summary = store.restore(std::io::BufReader::new(f)).await?;
        let findings = audit_restored(&store).await?;
        anyhow::Ok((summary, findings))
    })?;
    let restored = Restored {
        summary,
        verified: findings.is_clean(),
        problem_count: findings.total,
        problems: findings.problems.clone(),
    };
    emit(out, &restored, |r| {
        let s = &r.summary;
        if r.verified {
            println!(
                "restored {} rows of {} tables ({} ledger entries) and verified them; start andon serve on it with the same log key",
                s.rows, s.tables, s.ledger_entries
            );
        } else {
            println!(
                "FAILED: restored {} rows of {} tables ({} ledger entries), but they do not verify: {}. Do not serve this database.",
                s.rows,
                s.tables,
                s.ledger_entries,
                findings.summary()
            );
            for p in &r.problems {
                println!("  {p}");
            }
        }
    })?;
    Ok(if restored.verified {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// The audit of a restored database, with the keys and origin it names.
async fn audit_restored(store: &andon_store::Store) -> anyhow::Result<andon_app::audit::Findings> {
    let Some(keys) = andon_app::audit::stored_keys(store)
        .await
        .map_err(anyhow::Error::msg)?
    else {
        // An empty ledger: nothing to check.
        return Ok(Default::default());
    };
    let origin = store.meta("log_origin").await?;
    let expected = store
        .latest_checkpoint()
        .await?
        .map(|c| c.size)
        .unwrap_or_default();
    let walked = andon_app::audit::audit_store(store, keys, origin, None, expected).await?;
    Ok(walked.findings)
}
