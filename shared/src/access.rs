//! Who may do what: the roles of a sales team and the one table of what each may do. The server
//! enforces it (`server/src/api/authz.rs`); the dashboard reads the same table to offer each rep
//! only the keys their role allows.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A rep's role, least powerful first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Works leads: their own and unowned ones.
    Rep,
    /// Runs the team: every lead, assignments, exports, per-rep figures.
    Manager,
    /// Runs the installation: erasure, reps and tokens.
    Admin,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Rep, Role::Manager, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Rep => "rep",
            Role::Manager => "manager",
            Role::Admin => "admin",
        }
    }

    /// The permission table: whether this role may do `action`.
    pub fn may(self, action: Action) -> bool {
        self >= action.least_role()
    }

    /// Whether this role sees every lead, or only its own and unowned ones.
    pub fn sees_all_leads(self, visibility: Visibility) -> bool {
        visibility == Visibility::Team || self.may(Action::SeeEveryLead)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown role {0:?}: the roles are rep, manager and admin")]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|role| role.as_str() == name.trim().to_ascii_lowercase())
            .ok_or_else(|| UnknownRole(name.to_string()))
    }
}

/// What reps see of leads other reps own (`LEADHOOK_VISIBILITY`); managers and admins see all.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Visibility {
    /// Every rep sees every lead.
    #[default]
    Team,
    /// A rep sees their own leads and unowned ones.
    Own,
}

/// Everything a caller may be refused. Each action has one row in [`Action::least_role`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// See leads other reps own, whatever `LEADHOOK_VISIBILITY` says.
    SeeEveryLead,
    /// Claim an unowned lead, release or update one's own, enter a lead by hand.
    WorkOwnLead,
    /// Change the status or notes of a lead someone else owns.
    WorkOthersLead,
    /// Assign, reassign, or release another rep's lead.
    Assign,
    /// Export every lead.
    Export,
    /// Every rep's figures in the stats.
    SeePerRepStats,
    /// The insights: figures by campaign, ad and rep, and what the leads cost.
    SeeInsights,
    /// Retry the inbox's failed events.
    RetryInbox,
    /// Sweep the Graph API now.
    Sync,
    /// Erase a person's data.
    Erase,
    /// Add, rotate, change and remove reps and their tokens.
    ManageReps,
}

impl Action {
    /// The table of the README's "Roles" section: the least role that may do this.
    pub fn least_role(self) -> Role {
        match self {
            Action::WorkOwnLead => Role::Rep,
            Action::SeeEveryLead
            | Action::WorkOthersLead
            | Action::Assign
            | Action::Export
            | Action::SeePerRepStats
            | Action::SeeInsights
            | Action::RetryInbox
            | Action::Sync => Role::Manager,
            Action::Erase | Action::ManageReps => Role::Admin,
        }
    }

    /// How a refusal names what was refused: "erase leads needs the admin role".
    pub fn describe(self) -> &'static str {
        match self {
            Action::SeeEveryLead => "see leads other reps own",
            Action::WorkOwnLead => "work leads",
            Action::WorkOthersLead => "change a lead another rep owns",
            Action::Assign => "assign or release another rep's lead",
            Action::Export => "export leads",
            Action::SeePerRepStats => "see every rep's figures",
            Action::SeeInsights => "see the insights",
            Action::RetryInbox => "retry the inbox",
            Action::Sync => "sync from Facebook",
            Action::Erase => "erase a person's data",
            Action::ManageReps => "manage reps and tokens",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_nest() {
        for action in [
            Action::SeeEveryLead,
            Action::WorkOwnLead,
            Action::WorkOthersLead,
            Action::Assign,
            Action::Export,
            Action::SeePerRepStats,
            Action::SeeInsights,
            Action::RetryInbox,
            Action::Sync,
            Action::Erase,
            Action::ManageReps,
        ] {
            assert!(Role::Admin.may(action), "{action:?}");
            if Role::Rep.may(action) {
                assert!(Role::Manager.may(action), "{action:?}");
            }
        }
        assert!(!Role::Rep.may(Action::Assign));
        assert!(!Role::Manager.may(Action::Erase));
    }

    #[test]
    fn visibility_limits_only_reps() {
        assert!(Role::Rep.sees_all_leads(Visibility::Team));
        assert!(!Role::Rep.sees_all_leads(Visibility::Own));
        assert!(Role::Manager.sees_all_leads(Visibility::Own));
    }

    #[test]
    fn roles_parse_by_name() {
        assert_eq!("Manager".parse::<Role>(), Ok(Role::Manager));
        assert!("boss".parse::<Role>().is_err());
    }
}
