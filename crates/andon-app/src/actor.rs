//! The authenticated caller and the authorization checks every operation makes.

use andon_domain::Role;
use andon_store::IdentityRow;

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
}

impl Actor {
    /// The actor a stored identity row describes.
    pub fn from_row(row: IdentityRow) -> Result<Self, AppError> {
        let role = row.role.parse::<Role>()?;
        Ok(Self {
            name: row.name,
            role,
            applications: row.applications,
            groups: row.groups,
        })
    }

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
