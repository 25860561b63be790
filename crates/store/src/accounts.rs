//! Web application accounts and their credentials (sessions and API tokens).
//!
//! The store keeps only what it is given: password hashes (argon2id PHC strings) and the
//! SHA-256 of session and token secrets. Hashing and checking happen in the web crate.

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Account {
    pub username: String,
    pub display_name: String,
    /// `admin`, `risk_manager`, `owner`, `contributor` or `auditor`.
    pub role: String,
    /// The register person this account acts as (for `owner`: what they own).
    pub person_id: Option<String>,
    #[serde(skip)]
    pub password_hash: Option<String>,
    pub disabled: bool,
    pub created_at: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CredentialKind {
    Session,
    Token,
}

impl CredentialKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CredentialKind::Session => "session",
            CredentialKind::Token => "token",
        }
    }

    pub(crate) fn parse(text: &str) -> CredentialKind {
        if text == "token" {
            CredentialKind::Token
        } else {
            CredentialKind::Session
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Credential {
    /// Hex SHA-256 of the secret; the secret itself is never stored.
    #[serde(skip)]
    pub secret_sha256: String,
    pub kind: CredentialKind,
    pub username: String,
    /// A token's name (what it is for).
    pub name: String,
    /// A session's CSRF token (compared with the one in each form).
    #[serde(skip)]
    pub csrf: String,
    pub created_at: String,
    pub expires_at: Option<String>,
}

impl crate::Store {
    /// The latest history sequence number; it changes whenever the register does.
    pub fn revision(&mut self) -> Result<i64, crate::StoreError> {
        self.backend.revision()
    }

    pub fn put_account(&mut self, account: &Account) -> Result<(), crate::StoreError> {
        self.backend.account_put(account)
    }

    pub fn account(&mut self, username: &str) -> Result<Option<Account>, crate::StoreError> {
        self.backend.account_get(username)
    }

    /// Every account, by username.
    pub fn accounts(&mut self) -> Result<Vec<Account>, crate::StoreError> {
        self.backend.accounts()
    }

    pub fn put_credential(&mut self, credential: &Credential) -> Result<(), crate::StoreError> {
        self.backend.credential_put(credential)
    }

    pub fn credential(
        &mut self,
        secret_sha256: &str,
    ) -> Result<Option<Credential>, crate::StoreError> {
        self.backend.credential_get(secret_sha256)
    }

    pub fn delete_credential(&mut self, secret_sha256: &str) -> Result<bool, crate::StoreError> {
        self.backend.credential_delete(secret_sha256)
    }

    pub fn credentials_of(&mut self, username: &str) -> Result<Vec<Credential>, crate::StoreError> {
        self.backend.credentials_of(username)
    }
}
