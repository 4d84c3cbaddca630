//! `andon export`: what auditors take away. `export package` lives in `package`; this
//! module dispatches it and writes the Risk Control Matrix (`export controls`).

use std::path::PathBuf;
use std::process::ExitCode;

use crate::cli::context::{Context, client};
use crate::cli::output::Output;

/// `andon export`.
#[derive(clap::Subcommand, Debug)]
pub enum ExportCmd {
    /// One archive with an application's ledger entries of a period, their documents,
    /// inclusion proofs, a signed checkpoint, each control's effectiveness and an offline
    /// report.
    Package(crate::commands::package::PackageArgs),
    /// The Risk Control Matrix of an application: each control, its risk, frameworks and
    /// effectiveness over a period, as CSV, JSON or OSCAL 1.2.3.
    Controls(ControlsExport),
}

/// Runs an export verb.
pub fn run(ctx: &Context, cmd: &ExportCmd, out: Output) -> anyhow::Result<ExitCode> {
    match cmd {
        ExportCmd::Package(p) => crate::commands::package::export(ctx, p, out),
        ExportCmd::Controls(e) => export_controls(ctx, e),
    }
}

/// `andon export controls`.
#[derive(clap::Args, Debug)]
pub struct ControlsExport {
    /// The application.
    #[arg(long, env = "ANDON_APP")]
    pub app: String,
    /// The environment whose policy applies.
    #[arg(long, default_value = "production")]
    pub env: String,
    /// From this time (RFC 3339), inclusive; default 90 days ago.
    #[arg(long)]
    pub since: Option<String>,
    /// Until this time (RFC 3339), exclusive; default now.
    #[arg(long)]
    pub until: Option<String>,
    /// What to write.
    #[arg(long, value_enum, default_value = "csv")]
    pub format: ControlsFormat,
    /// Where to write it (default: standard output).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// The forms of the Risk Control Matrix.
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum ControlsFormat {
    /// CSV, a row per control.
    Csv,
    /// JSON, as `GET /v1/controls` answers.
    Json,
    /// OSCAL assessment results: each control's effectiveness over the period.
    OscalAssessmentResults,
    /// OSCAL component definition: the controls and the framework requirements they meet.
    OscalComponentDefinition,
}

fn export_controls(ctx: &Context, e: &ControlsExport) -> anyhow::Result<ExitCode> {
    let mut query = vec![
        ("application", e.app.clone()),
        ("environment", e.env.clone()),
    ];
    query.extend(e.since.clone().map(|s| ("since", s)));
    query.extend(e.until.clone().map(|u| ("until", u)));
    let path = match e.format {
        ControlsFormat::Csv => {
            query.push(("format", "csv".into()));
            "/v1/controls"
        }
        ControlsFormat::Json => "/v1/controls",
        ControlsFormat::OscalAssessmentResults => "/v1/controls/oscal/assessment-results",
        ControlsFormat::OscalComponentDefinition => "/v1/controls/oscal/component-definition",
    };
    let body = client(ctx).controls_document(path, &query)?;
    match &e.out {
        Some(p) => {
            std::fs::write(p, &body)?;
            eprintln!("wrote {} ({} bytes)", p.display(), body.len());
        }
        None => print!("{body}"),
    }
    Ok(ExitCode::SUCCESS)
}
