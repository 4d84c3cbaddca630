//! Change management (docs/changes.md): the change record a production gate opens or
//! finds, approvals with separation of duty, deployments, incidents, and the request for
//! change Andon writes.

use andon_domain::Role;

use crate::{Actor, AppError};

pub mod approve;
pub mod deploy;
pub mod gate;
pub mod incident;
pub mod list;
pub mod markdown;
pub mod provenance;
pub mod rfc;

/// The input the transport read (a body or a query), once the actor holds one of `roles`.
///
/// The role is checked first: a caller without it is refused even when its input is
/// malformed, as the API has always answered. `E` is the transport's error for an input it
/// could not read.
pub(crate) fn authorized<T, E: From<AppError>>(
    actor: &Actor,
    roles: &[Role],
    input: Result<T, E>,
) -> Result<T, E> {
    actor.require(roles)?;
    input
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(role: Role) -> Actor {
        Actor {
            name: "someone".into(),
            role,
            applications: Vec::new(),
            groups: Vec::new(),
            via: None,
            sso: None,
        }
    }

    #[test]
    fn the_role_is_checked_before_the_input() {
        let unread: Result<(), AppError> = Err(AppError::bad_request("bad_json", "unreadable"));
        let refused =
            authorized(&actor(Role::Auditor), &[Role::Admin], unread.clone()).expect_err("refused");
        assert_eq!(refused.code, "forbidden");
        let malformed =
            authorized(&actor(Role::Admin), &[Role::Admin], unread).expect_err("malformed");
        assert_eq!(malformed.code, "bad_json");
        assert_eq!(
            authorized(&actor(Role::Admin), &[Role::Admin], Ok::<_, AppError>(7)).ok(),
            Some(7)
        );
    }
}
