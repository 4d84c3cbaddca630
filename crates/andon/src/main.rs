//! `andon`: the one binary. `serve` runs the server; every other verb is a client of it.

mod bench;
mod bench_gate;
mod bench_load;
mod bench_pages;
mod bench_pipeline;
mod bench_telemetry;
mod cli;
mod commands;
mod demo;
mod demo_access;
mod demo_changes;
mod demo_history;
mod demo_telemetry;
mod github_history;
mod sample_release;

use clap::Parser;

fn main() -> std::process::ExitCode {
    let args = cli::args::Args::parse();
    match cli::run::run(args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::from(2)
        }
    }
}
