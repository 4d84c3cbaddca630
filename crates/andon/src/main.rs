//! `andon`: the one binary. `serve` runs the server; every other verb is a client of it.

mod bench;
mod cli;
mod commands;
mod demo;
mod fixtures;

fn main() -> std::process::ExitCode {
    quiet_when_stdout_closes();
    let args = match cli::args::Args::read() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("error: {e:#}");
            return std::process::ExitCode::from(2);
        }
    };
    match cli::run::run(args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::from(2)
        }
    }
}

/// `andon evidence list | head -1`: when the reader of standard output goes away, end as a
/// Unix tool killed by SIGPIPE does (status 141, nothing on standard error). Rust ignores
/// SIGPIPE, so `println!` meets the closed pipe as an error and panics; restoring the signal
/// instead would also let it kill the process on a socket a peer closed.
fn quiet_when_stdout_closes() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = info.payload_as_str().unwrap_or("");
        if message.starts_with("failed printing to stdout") && message.contains("(os error 32)") {
            std::process::exit(141);
        }
        default(info);
    }));
}
