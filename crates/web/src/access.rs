//! Roles and what each may do. Pure rules: the handlers ask, this module answers.

use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Everything, including accounts.
    Admin,
    /// Keeps the register: creates and edits every register object.
    RiskManager,
    /// Edits the systems, risks and treatments they own (through their register person).
    Owner,
    /// Proposes: creates systems, risks and treatments and adds evidence; edits nothing else.
    Contributor,
    /// Reads everything and exports (SoA, proofs, bundles); writes nothing.
    Auditor,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Admin,
        Role::RiskManager,
        Role::Owner,
        Role::Contributor,
        Role::Auditor,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::RiskManager => "risk_manager",
            Role::Owner => "owner",
            Role::Contributor => "contributor",
            Role::Auditor => "auditor",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == text)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a request wants to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Read,
    Export,
    Create,
    /// Update an existing object; `owned` says whether the account's person owns it.
    Update {
        owned: bool,
    },
    AddEvidence,
    ManageAccounts,
}

/// The authorization matrix (role × action), in one place so tests can enumerate it.
pub fn allowed(role: Role, action: Action) -> bool {
    match (role, action) {
        (_, Action::Read | Action::Export) => true,
        (Role::Admin, _) => true,
        (Role::RiskManager, Action::ManageAccounts) => false,
        (Role::RiskManager, _) => true,
        (Role::Owner, Action::Update { owned }) => owned,
        (Role::Owner, Action::AddEvidence) => true,
        (Role::Owner, _) => false,
        (Role::Contributor, Action::Create | Action::AddEvidence) => true,
        (Role::Contributor, _) => false,
        (Role::Auditor, _) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_matrix() {
        let actions = [
            Action::Read,
            Action::Export,
            Action::Create,
            Action::Update { owned: true },
            Action::Update { owned: false },
            Action::AddEvidence,
            Action::ManageAccounts,
        ];
        // Rows in the order of `actions`.
        let expected: [(Role, [bool; 7]); 5] = [
            (Role::Admin, [true, true, true, true, true, true, true]),
            (
                Role::RiskManager,
                [true, true, true, true, true, true, false],
            ),
            (Role::Owner, [true, true, false, true, false, true, false]),
            (
                Role::Contributor,
                [true, true, true, false, false, true, false],
            ),
            (
                Role::Auditor,
                [true, true, false, false, false, false, false],
            ),
        ];
        for (role, row) in expected {
            for (action, want) in actions.iter().zip(row) {
                assert_eq!(allowed(role, *action), want, "{role} {action:?}");
            }
        }
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
    }
}
