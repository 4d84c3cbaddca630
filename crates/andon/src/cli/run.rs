//! Dispatch: each verb to the module that runs it. Only `main` calls this.

use std::process::ExitCode;

use crate::cli::args::{Args, Command};
use crate::cli::output;
use crate::commands;

/// Runs the verb `args` names.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let mut ctx = args.context();
    let out = args.client.output;
    // The verbs whose server is --server (the demo and the benchmarks may run their own).
    let remote = !matches!(
        args.command,
        Command::Serve(_)
            | Command::Keygen { .. }
            | Command::Backup { .. }
            | Command::Restore { .. }
            | Command::Demo(_)
            | Command::Login(_)
            | Command::Bench(_)
            | Command::Completions { .. }
    );
    if remote && ctx.token.is_none() {
        // In CI without a stored token: the job's ID token stands for it.
        if let Some(s) = crate::cli::workload::session(
            &ctx.server,
            args.client.id_token_file.as_deref(),
            &args.client.audience,
        )? {
            ctx.token = Some(s.token);
            ctx.job_key = Some(s.key);
        }
    }
    let done = dispatch(&args, &ctx, out);
    match done {
        Err(e) if remote && unreachable(&e) => Err(e.context(format!(
            "the server at {} (--server, ANDON_SERVER)",
            ctx.server
        ))),
        done => done,
    }
}

/// Whether `e` is a server that could not be reached or read.
fn unreachable(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        matches!(
            c.downcast_ref::<andon_client::ClientError>(),
            Some(andon_client::ClientError::Transport(_))
        )
    })
}

fn dispatch(
    args: &Args,
    ctx: &crate::cli::context::Context,
    out: output::Output,
) -> anyhow::Result<ExitCode> {
    let ctx = ctx.clone();
    match &args.command {
        Command::Serve(s) => commands::serve::run(s),
        Command::Keygen {
            out: path,
            algorithm,
        } => commands::identity::keygen(path, *algorithm, out),
        Command::Completions { shell } => {
            clap_complete::generate(
                *shell,
                &mut crate::cli::args::command(),
                "andon",
                &mut std::io::stdout(),
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::App(a) => commands::app::run(&ctx, a, out),
        Command::Identity(cmd) => commands::identity::run(&ctx, cmd, out),
        Command::Sigstore(cmd) => commands::sigstore::run(&ctx, cmd, out),
        Command::Oidc(cmd) => commands::oidc::run(&ctx, cmd, out),
        Command::Token(cmd) => commands::token::run(&ctx, cmd, out),
        Command::Enroll { code } => commands::token::enroll(&ctx, code, out),
        Command::Login(l) => commands::login::run(&ctx, l, args.client.profile.as_deref(), out),
        Command::Attest(cmd) => commands::attest::run(&ctx, cmd, out),
        Command::Evidence(e) => commands::evidence::run(&ctx, e, out),
        Command::Ledger(l) => commands::ledger::run(&ctx, l, out),
        Command::Trace(t) => commands::trace::run(&ctx, t, out),
        Command::Gate(g) => commands::gate::gate(&ctx, g, out),
        Command::Decision(d) => commands::gate::decision(&ctx, d, out),
        Command::Policy(p) => commands::policy::run(&ctx, p, out),
        Command::Waiver(w) => commands::gate::waiver(&ctx, w, out),
        Command::Deploy(d) => commands::change::deploy(&ctx, d, out),
        Command::Change(c) => commands::change::change(&ctx, c, out),
        Command::Metrics(m) => commands::change::metrics(&ctx, m, out),
        Command::Vuln(v) => commands::vuln::run(&ctx, v, out),
        Command::Admission(a) => commands::admission::run(&ctx, a, out),
        Command::Drill(d) => commands::drill::run(&ctx, d, out),
        Command::Telemetry(t) => commands::telemetry::run(&ctx, t, out),
        Command::Backup {
            database,
            out: file,
        } => commands::backup::backup(database, file, out),
        Command::Restore { file, database } => commands::backup::restore(database, file, out),
        Command::Access(a) => commands::access::run(&ctx, a, out),
        Command::Env(e) => commands::env::run(&ctx, e, out),
        Command::Alerts {
            check,
            state,
            kind,
            app,
        } => {
            let q = output::query(&[("state", state), ("kind", kind), ("application", app)]);
            commands::change::alerts(&ctx, *check, &q, out)
        }
        Command::Alert(a) => commands::change::alert(&ctx, a, out),
        Command::Verify(v) => commands::verify::run(&ctx, v, out),
        Command::Export(e) => commands::export::run(&ctx, e, out),
        Command::Demo(d) => crate::demo::run(&ctx, d),
        Command::Bench(b) => crate::bench::run(&ctx, b),
    }
}
