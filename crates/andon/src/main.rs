//! `andon`: the one binary. `serve` runs the server; every other verb is a client of it.

mod bench;
mod cli;
mod commands;
mod demo;
mod fixtures;

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
