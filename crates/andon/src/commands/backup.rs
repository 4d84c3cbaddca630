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
                std::fs::File::create(file)
                    .with_context(|| format!("creating {}", file.display()))?,
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

/// `andon restore`: rebuilds the empty `database` from the backup `file`.
pub fn restore(database: &str, file: &PathBuf, out: Output) -> anyhow::Result<ExitCode> {
    use anyhow::Context as _;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let summary = rt.block_on(async {
        let store = andon_store::Store::connect(database).await?;
        let f = std::fs::File::open(file).with_context(|| format!("opening {}", file.display()))?;
        anyhow::Ok(store.restore(std::io::BufReader::new(f)).await?)
    })?;
    emit(out, &summary, |s| {
        println!(
            "restored {} rows of {} tables ({} ledger entries); start andon serve on it with the same log key, then run andon verify",
            s.rows, s.tables, s.ledger_entries
        )
    })?;
    Ok(ExitCode::SUCCESS)
}
