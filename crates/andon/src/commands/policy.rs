//! `andon policy`: publish, list, test and evaluate policy bundles. A directory is read
//! the same way here and by `andon serve --policies` ([`bundle_dirs`]).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use andon_policy::{Bundle, Policy};
use anyhow::{Context as _, bail};

use crate::cli::context::{Context, client};
use crate::cli::output::{Listing, Output, emit, plural};
use crate::commands::gate::{mark, short};

/// `andon policy`.
#[derive(clap::Subcommand, Debug)]
pub enum PolicyCmd {
    /// Publish policy bundles: the directory itself when it is a bundle (it holds
    /// *.rego files or a policy.json: name, applications, environments, builtin, disabled,
    /// params), else each subdirectory that is one (the rule of `serve --policies`).
    Publish {
        /// The directory.
        dir: PathBuf,
        /// Publish a bundle that names no applications or no environments, which governs
        /// every one without a policy of its own: say `--scope global` to mean it.
        #[arg(long, value_parser = ["global"])]
        scope: Option<String>,
    },
    /// List published policies.
    List,
    /// Run the Rego unit tests (`test_` rules) of each bundle in a directory (read as
    /// `publish` reads it), with the built-in library unless a policy.json says
    /// `"builtin": false`.
    Test {
        /// The directory (default: only the built-in library).
        dir: Option<PathBuf>,
    },
    /// Evaluate a policy directory (or the built-in library) against a gate input file.
    Eval {
        /// The gate input (JSON; a decision's `input` works).
        #[arg(long)]
        input: PathBuf,
        /// The policy directory.
        #[arg(long)]
        dir: Option<PathBuf>,
    },
}

/// The policy bundles under `dir`: itself when it is a bundle (it holds *.rego files or a
/// policy.json), else each subdirectory that is one, in name order; none is an error.
/// `andon policy publish` and `andon serve --policies` read directories alike.
pub fn bundle_dirs(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let is_bundle = |d: &Path| -> anyhow::Result<bool> {
        Ok(std::fs::read_dir(d)
            .with_context(|| format!("reading {}", d.display()))?
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .any(|p| {
                p.is_file()
                    && (p.extension().is_some_and(|x| x == "rego")
                        || p.file_name().is_some_and(|n| n == "policy.json"))
            }))
    };
    if is_bundle(dir)? {
        return Ok(vec![dir.to_path_buf()]);
    }
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir)?.filter_map(|e| e.ok()) {
        let p = e.path();
        if p.is_dir() && is_bundle(&p)? {
            out.push(p);
        }
    }
    out.sort();
    if out.is_empty() {
        bail!(
            "{}: no policy bundle here (a directory with *.rego files or a policy.json, or subdirectories that are)",
            dir.display()
        );
    }
    Ok(out)
}

/// Loads a policy directory into a bundle.
pub fn load_dir(dir: &Path) -> anyhow::Result<Bundle> {
    let meta = dir.join("policy.json");
    let mut bundle: Bundle = if meta.exists() {
        let mut v: serde_json::Value = serde_json::from_slice(&std::fs::read(&meta)?)
            .with_context(|| format!("{} is not JSON", meta.display()))?;
        if v.get("name").is_none() {
            v["name"] = dir_name(dir).into();
        }
        serde_json::from_value(v).with_context(|| format!("{}", meta.display()))?
    } else {
        Bundle {
            name: dir_name(dir),
            ..Bundle::builtin_default()
        }
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "rego"))
        .collect();
    files.sort();
    for f in files {
        let name = f
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        bundle.modules.insert(name, std::fs::read_to_string(&f)?);
    }
    Ok(bundle)
}

fn dir_name(dir: &Path) -> String {
    dir.canonicalize()
        .ok()
        .and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "policy".into())
}

/// Runs a policy verb.
pub fn run(ctx: &Context, cmd: &PolicyCmd, out: Output) -> anyhow::Result<ExitCode> {
    match cmd {
        PolicyCmd::Publish { dir, scope } => {
            let dirs = bundle_dirs(dir)?;
            let mut bundles = Vec::new();
            for d in &dirs {
                let bundle = load_dir(d)?;
                if scope.is_none()
                    && (bundle.applications.is_empty() || bundle.environments.is_empty())
                {
                    bail!(
                        "{}: bundle {} names {} in its policy.json, so it would govern every {} without a policy of its own; name them (\"applications\": [...], \"environments\": [...]), or say --scope global if that is meant (nothing was published)",
                        d.display(),
                        bundle.name,
                        if bundle.applications.is_empty() && bundle.environments.is_empty() {
                            "no applications and no environments"
                        } else if bundle.applications.is_empty() {
                            "no applications"
                        } else {
                            "no environments"
                        },
                        if bundle.applications.is_empty() {
                            "application"
                        } else {
                            "environment"
                        }
                    );
                }
                bundles.push(bundle);
            }
            let c = client(ctx);
            let mut published = Vec::new();
            for bundle in bundles {
                published.push(c.publish_policy(&serde_json::to_value(&bundle)?)?);
            }
            emit(out, &published, |list| {
                for p in list {
                    println!(
                        "{} policy {} version {} (ledger entry {}): {}, {} passed",
                        if p.existing {
                            "already had"
                        } else {
                            "published"
                        },
                        p.name,
                        p.version,
                        p.ledger_index,
                        plural(p.controls.len() as u64, "control", "controls"),
                        plural(p.tests as u64, "test", "tests")
                    )
                }
            })?;
            Ok(ExitCode::SUCCESS)
        }
        PolicyCmd::List => {
            let list = client(ctx).list_policies()?;
            emit(out, &list, |list| {
                // A scope's names joined; an empty scope is every one.
                let scope = |v: &serde_json::Value| {
                    let names: Vec<&str> = v
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|x| x.as_str())
                        .collect();
                    if names.is_empty() {
                        "all".to_owned()
                    } else {
                        names.join(", ")
                    }
                };
                let mut t = Listing::new(
                    &["name", "version", "applications", "environments", "entry"],
                    &["entry"],
                );
                for p in list {
                    t.row([
                        p["name"].as_str().unwrap_or("").to_owned(),
                        short(p["version"].as_str().unwrap_or("")).to_owned(),
                        scope(&p["applications"]),
                        scope(&p["environments"]),
                        p["ledger_index"].to_string(),
                    ]);
                }
                t.print("no policies");
            })?;
            Ok(ExitCode::SUCCESS)
        }
        PolicyCmd::Test { dir } => {
            let bundles = match dir {
                Some(d) => bundle_dirs(d)?
                    .iter()
                    .map(|d| load_dir(d))
                    .collect::<anyhow::Result<Vec<_>>>()?,
                None => vec![Bundle::builtin_default()],
            };
            let mut tests = Vec::new();
            for bundle in bundles {
                tests.extend(Policy::compile(bundle)?.run_tests());
            }
            let failed = tests.iter().filter(|t| !t.passed).count();
            emit(out, &tests, |tests| {
                for t in tests {
                    println!(
                        "{} {}{}",
                        if t.passed { "PASS" } else { "FAIL" },
                        t.name,
                        t.error
                            .as_deref()
                            .map(|e| format!(": {e}"))
                            .unwrap_or_default()
                    );
                }
                println!(
                    "{}, {} passed, {failed} failed",
                    plural(tests.len() as u64, "test", "tests"),
                    tests.len() - failed
                );
            })?;
            Ok(if failed == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        PolicyCmd::Eval { input, dir } => {
            let bundle = match dir {
                Some(d) => load_dir(d)?,
                None => Bundle::builtin_default(),
            };
            let p = Policy::compile(bundle)?;
            let v: serde_json::Value = serde_json::from_slice(&std::fs::read(input)?)
                .with_context(|| format!("{} is not JSON", input.display()))?;
            // A decision (or a decision view) carries its input inside.
            let v = v
                .pointer("/decision/input")
                .or_else(|| v.get("input"))
                .cloned()
                .unwrap_or(v);
            let e = p.evaluate(&v);
            emit(out, &e, |e| {
                println!("{}", if e.allow { "ALLOW" } else { "DENY" });
                for c in &e.controls {
                    println!("  {:<26} {:<7} {}", c.id, mark(c.verdict), c.reason);
                }
            })?;
            Ok(if e.allow {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
    }
}
