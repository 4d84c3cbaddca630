//! The authenticated caller and the authorization checks every operation makes.

use andon_domain::{Role, Via};

use crate::AppError;

/// Who is acting: an identity with its role, the applications a pipeline is scoped to, and
/// the approver groups it belongs to.
#[derive(Clone, Debug)]
pub struct Actor {
    /// Identity name.
    pub name: String,
    /// Role.
    pub role: Role,
    /// Applications a pipeline is scoped to.
    pub applications: Vec<String>,
    /// Approver groups it belongs to.
    pub groups: Vec<String>,
    /// The token it acts with and who issued it (absent for the server itself).
    pub via: Option<Via>,
    /// For a person who signs in through single sign-on: the issuer and subject.
    pub sso: Option<crate::authority::SsoLink>,
}

impl Actor {
    /// Refuses unless the actor has one of `roles`.
    pub fn require(&self, roles: &[Role]) -> Result<(), AppError> {
        if roles.contains(&self.role) {
            Ok(())
        } else {
            let wanted: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
            Err(AppError::forbidden(
                "forbidden",
                format!(
                    "{} has role {}; this needs {}",
                    self.name,
                    self.role,
                    wanted.join(" or ")
                ),
            ))
        }
    }

    /// Refuses an actor whose token somebody else issued (an admin minted it for them):
    /// approvals, waiver approvals and access decisions are made only with a token the
    /// identity issued for itself, so that nobody can decide in someone else's name.
    pub fn require_own_token(&self, verb: &str) -> Result<(), AppError> {
        if let Some(link) = &self.sso {
            // A person who signs in through their identity provider decides only with a
            // session of that sign-in: no token an admin could have minted or enrolled.
            let signed_in = self
                .via
                .as_ref()
                .and_then(|v| v.federated.as_ref())
                .is_some_and(|f| f.issuer == link.issuer && f.subject == link.subject);
            if !signed_in {
                return Err(AppError::forbidden(
                    "sso_required",
                    format!(
                        "{} signs in through {}: to {verb}, sign in there (andon login, or the web interface); a token made any other way does not decide",
                        self.name, link.issuer
                    ),
                ));
            }
        }
        match &self.via {
            Some(v) if v.self_issued(&self.name) => Ok(()),
            Some(v) => Err(AppError::forbidden(
                "token_not_own",
                format!(
                    "{} may not {verb} with token {}: {} issued it, not {}; {} enrolls with a one-time code and acts with its own token",
                    self.name, v.token, v.issued_by, self.name, self.name
                ),
            )),
            None => Err(AppError::forbidden(
                "token_not_own",
                format!("{verb} needs a token its identity issued for itself"),
            )),
        }
    }

    /// Refuses a pipeline acting for an application it is not scoped to.
    pub fn require_application(&self, application: &str, verb: &str) -> Result<(), AppError> {
        if self.role == Role::Pipeline && !self.applications.iter().any(|a| a == application) {
            return Err(AppError::forbidden(
                "application_not_allowed",
                format!("{} may not {verb} application {application}", self.name),
            ));
        }
        Ok(())
    }
}
