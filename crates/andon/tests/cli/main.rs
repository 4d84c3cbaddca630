//! The `andon` binary's integration tests, one test binary: the binary as operators,
//! pipelines and auditors run it (`binary`), every built-in control through `andon gate`
//! (`gate_cli`), the web interface in a real browser (`browser`) and single sign-on to it
//! (`sso_browser`). `common` starts `andon serve` for them.

mod binary;
mod browser;
mod common;
mod gate_cli;
mod sso_browser;
