//! The command line: the flags and verbs (`args`), dispatch (`run`), and what every verb
//! shares: where the server is (`context`), how answers print (`output`), key files
//! (`keys`). `context`, `output` and `keys` are leaves: they import nothing above them, so
//! the verbs, the demo and the benchmarks use them without importing the dispatch.

pub mod args;
pub mod context;
pub mod keys;
pub mod output;
pub mod profile;
pub mod run;
pub mod workload;
