//! What a client verb runs with besides its own flags: the server, the token, the output
//! form. Built from the client flags by the dispatch, so the verbs need not know the parsed
//! command line.

use andon_client::Client;

use crate::cli::output::Output;

/// The client flags of one run, as the verbs see them.
#[derive(Clone, Debug)]
pub struct Context {
    /// The Andon server.
    pub server: String,
    /// API token (admin, pipeline, approver or auditor).
    pub token: Option<String>,
    /// Output format of read verbs.
    pub output: Output,
    /// In CI with an ID token: the private key (PEM) the job made for itself and registered
    /// with its session; `attest` signs with it when no --key is given.
    pub job_key: Option<String>,
}

/// A client of the server for a verb run by hand or by a pipeline step.
pub fn client(ctx: &Context) -> Client {
    // A busy server answers 429 with Retry-After: a pipeline step waits and tries again.
    Client::new(&ctx.server, ctx.token.clone()).retrying(5)
}
