//! Who is calling, and the role table of RULES.md in one place.
//!
//! Every use case in the domain takes an `&Actor` and starts with
//! `actor.require(Permission::…)?`; an `Actor` only comes from a verified,
//! active account, so a use case cannot run without the check being
//! possible, and the table below is the only place roles are compared.

use uuid::Uuid;

use super::error::{DomainError, DomainResult};
use crate::entities::enums::Role;

/// The authenticated caller, as loaded from the database on this request
/// (so deactivation and role changes apply at once).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub user_id: Uuid,
    pub role: Role,
    /// The technician profile linked to this login, if any.
    pub technician_id: Option<Uuid>,
    /// The session epoch of the token in use (see `users::revoke_sessions`).
    pub session_epoch: i64,
}

/// Everything a role may or may not do (the rows of the role table).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    ManageUsers,
    RegisterTechnicianAccounts,
    RegisterAnyAccount,
    ReadAuditLog,
    ManageCustomers,
    ManageTechnicians,
    ReadAllTechnicians,
    ReadAllJobs,
    DispatchJobs,
    WorkAnyJob,
    WorkOwnJobs,
    ManageAnySchedule,
    ManageOwnSchedule,
    Billing,
    WatchAllJobs,
    WatchInvoices,
    ManageWebhooks,
}

impl Permission {
    pub fn allowed_for(self, role: Role) -> bool {
        use Permission::*;
        match role {
            Role::Admin => true,
            Role::Dispatcher => !matches!(self, ManageUsers | RegisterAnyAccount | ReadAuditLog | ManageWebhooks),
            Role::Technician => matches!(self, WorkOwnJobs | ManageOwnSchedule),
        }
    }
}

impl Actor {
    pub fn can(&self, permission: Permission) -> bool {
        permission.allowed_for(self.role)
    }

    /// FORBIDDEN unless the role has the permission.
    pub fn require(&self, permission: Permission) -> DomainResult<()> {
        if self.can(permission) { Ok(()) } else { Err(DomainError::Forbidden) }
    }

    pub fn is_technician(&self) -> bool {
        self.role == Role::Technician
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_table() {
        use Permission::*;
        let tech = Role::Technician;
        assert!(!ManageCustomers.allowed_for(tech));
        assert!(WorkOwnJobs.allowed_for(tech));
        assert!(!Billing.allowed_for(tech));
        assert!(!ManageUsers.allowed_for(Role::Dispatcher));
        assert!(RegisterTechnicianAccounts.allowed_for(Role::Dispatcher));
        assert!(!RegisterAnyAccount.allowed_for(Role::Dispatcher));
        assert!(ReadAuditLog.allowed_for(Role::Admin));
        assert!(ManageWebhooks.allowed_for(Role::Admin));
        assert!(!ManageWebhooks.allowed_for(Role::Dispatcher));
        assert!(!ManageWebhooks.allowed_for(tech));
    }
}
