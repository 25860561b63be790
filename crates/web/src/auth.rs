//! Passwords (argon2id), sessions and API tokens (random secrets; only their SHA-256 is
//! stored), CSRF tokens, and the extractor that turns a request into a signed-in user.

use crate::access::{allowed, Action, Role};
use crate::problem::Problem;
use crate::state::AppState;
use airisk_store::accounts::{Account, Credential, CredentialKind};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, Method};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::CookieJar;
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::sync::Arc;

pub const SESSION_COOKIE: &str = "airisk_session";
pub const CSRF_HEADER: &str = "x-csrf-token";

/// An argon2id PHC string for `password` (random salt, the crate's default parameters).
pub fn hash_password(password: &str) -> Result<String, Problem> {
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(Problem::internal)?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(Problem::internal)
}

/// A real hash of nothing, verified against when the account does not exist, so a failed
/// sign-in takes as long whatever the username.
pub fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| hash_password("no such account").unwrap_or_default())
}

pub fn verify_password(hash: &str, password: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// 32 random bytes, URL-safe base64 without padding.
pub fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

pub fn sha256_hex(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Compares secrets without stopping at the first difference.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// Whoever made the request.
#[derive(Debug, Clone)]
pub struct User {
    pub account: Account,
    pub role: Role,
    /// The session's CSRF token; `None` for API tokens (which browsers never send by themselves).
    pub csrf: Option<String>,
}

impl User {
    pub fn name(&self) -> &str {
        &self.account.username
    }

    pub fn person(&self) -> Option<&str> {
        self.account.person_id.as_deref()
    }

    pub fn may(&self, action: Action) -> bool {
        allowed(self.role, action)
    }

    /// `Ok` when the role allows `action`; 403 naming the role otherwise.
    pub fn require(&self, action: Action, what: &str) -> Result<(), Problem> {
        if self.may(action) {
            Ok(())
        } else {
            Err(Problem::forbidden(format!(
                "role {} may not {what}",
                self.role
            )))
        }
    }

    /// For unsafe requests made with a session cookie: the CSRF token must come back.
    pub fn check_csrf(&self, provided: Option<&str>) -> Result<(), Problem> {
        match (&self.csrf, provided) {
            (None, _) => Ok(()),
            (Some(expected), Some(given)) if same_secret(expected, given) => Ok(()),
            _ => Err(Problem::forbidden(
                "missing or wrong CSRF token; reload the page and try again",
            )),
        }
    }
}

/// Not signed in: 401 for the API, a redirect to the login page for the UI.
pub struct AuthRejection(Response);

impl IntoResponse for AuthRejection {
    fn into_response(self) -> Response {
        self.0
    }
}

impl FromRequestParts<Arc<AppState>> for User {
    type Rejection = AuthRejection;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<User, AuthRejection> {
        let api = parts.uri.path().starts_with("/api/");
        let reject = |problem: Problem| {
            if api {
                AuthRejection(problem.into_response())
            } else {
                let next = parts.uri.path_and_query().map_or("/", |p| p.as_str());
                AuthRejection(
                    Redirect::to(&format!("/login?next={}", urlencode(next))).into_response(),
                )
            }
        };
        let bearer = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .map(str::to_string);
        let (secret, kind) = match bearer {
            Some(token) => (token, CredentialKind::Token),
            None => match CookieJar::from_headers(&parts.headers).get(SESSION_COOKIE) {
                Some(cookie) => (cookie.value().to_string(), CredentialKind::Session),
                None => return Err(reject(Problem::unauthorized())),
            },
        };
        let hash = sha256_hex(&secret);
        let now = chrono::Utc::now().to_rfc3339();
        let found = state
            .with_store(move |store| {
                let Some(credential) = store.credential(&hash)? else {
                    return Ok(None);
                };
                if credential.kind != kind
                    || credential
                        .expires_at
                        .as_deref()
                        .is_some_and(|e| e <= now.as_str())
                {
                    return Ok(None);
                }
                let account = store.account(&credential.username)?;
                Ok(account.map(|a| (a, credential)))
            })
            .await
            .map_err(|p| AuthRejection(p.into_response()))?;
        let Some((account, credential)) = found else {
            return Err(reject(Problem::unauthorized()));
        };
        let Some(role) = Role::parse(&account.role).filter(|_| !account.disabled) else {
            return Err(reject(Problem::unauthorized()));
        };
        let user = User {
            account,
            role,
            csrf: (credential.kind == CredentialKind::Session).then_some(credential.csrf),
        };
        // API calls that ride on a browser session must carry the CSRF token.
        if api && !matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS) {
            let given = parts.headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok());
            user.check_csrf(given)
                .map_err(|p| AuthRejection(p.into_response()))?;
        }
        Ok(user)
    }
}

/// Creates a browser session for `username`; returns (secret for the cookie, credential).
pub fn new_session(username: &str, hours: i64) -> (String, Credential) {
    let secret = new_secret();
    let now = chrono::Utc::now();
    let credential = Credential {
        secret_sha256: sha256_hex(&secret),
        kind: CredentialKind::Session,
        username: username.to_string(),
        name: String::new(),
        csrf: new_secret(),
        created_at: now.to_rfc3339(),
        expires_at: Some((now + chrono::Duration::hours(hours)).to_rfc3339()),
    };
    (secret, credential)
}

/// Creates an API token; returns (the token, shown once, and its credential).
pub fn new_token(username: &str, name: &str) -> (String, Credential) {
    let secret = format!("airisk_{}", new_secret());
    let credential = Credential {
        secret_sha256: sha256_hex(&secret),
        kind: CredentialKind::Token,
        username: username.to_string(),
        name: name.to_string(),
        csrf: String::new(),
        created_at: chrono::Utc::now().to_rfc3339(),
        expires_at: None,
    };
    (secret, credential)
}

pub fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A redirect target from a `next` parameter: only paths on this site.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_string(),
        _ => "/".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_only_with_the_right_password() {
        let hash = hash_password("correct horse").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password(&hash, "correct horse"));
        assert!(!verify_password(&hash, "correct horsE"));
        assert!(!verify_password("not a hash", "x"));
    }

    #[test]
    fn secrets_are_random_and_compared_fully() {
        let (a, b) = (new_secret(), new_secret());
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert!(same_secret(&a, &a.clone()));
        assert!(!same_secret(&a, &b));
        assert!(!same_secret("abc", "abcd"));
    }

    #[test]
    fn next_stays_on_this_site() {
        assert_eq!(safe_next(Some("/risks/R-1")), "/risks/R-1");
        assert_eq!(safe_next(Some("//evil.example")), "/");
        assert_eq!(safe_next(Some("https://evil.example")), "/");
        assert_eq!(safe_next(None), "/");
    }
}
