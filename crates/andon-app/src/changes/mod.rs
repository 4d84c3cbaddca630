//! Change management (docs/changes.md): the change record a production gate opens or
//! finds, approvals with separation of duty, deployments, incidents, and the request for
//! change Andon writes.

pub mod gate;
pub mod markdown;
pub mod rfc;
