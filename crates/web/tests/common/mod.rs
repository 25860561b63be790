//! A web app over a fresh database holding the example register, with one account and one
//! API token per role, driven in-process (no sockets).
#![allow(dead_code)]

use airisk_catalog::Library;
use airisk_store::accounts::Account;
use airisk_store::{testing, Location, Store};
use airisk_web::access::Role;
use airisk_web::{app, AppState, Config};
use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use tower::ServiceExt;

pub struct TestApp {
    pub router: Router,
    pub tokens: HashMap<Role, String>,
    pub location: Location,
    _dir: tempfile::TempDir,
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: String,
}

impl Reply {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
    pub fn content_type(&self) -> &str {
        self.headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
}

pub const PASSWORD: &str = "correct-horse-battery";

pub fn username(role: Role) -> String {
    format!("user-{}", role.as_str())
}

/// Which register person each role's account acts as.
fn person(role: Role) -> Option<String> {
    match role {
        Role::Owner => Some("e.lindqvist".into()),
        Role::Contributor => Some("l.moreau".into()),
        Role::RiskManager => Some("a.khan".into()),
        _ => None,
    }
}

pub fn example_register() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/register")
}

impl TestApp {
    pub fn new() -> TestApp {
        let dir = tempfile::tempdir().unwrap();
        TestApp::on(Location::Sqlite(dir.path().join("web.db")), dir)
    }

    /// The same app on PostgreSQL when a test server is configured.
    pub fn postgres() -> Option<TestApp> {
        let location = testing::fresh_postgres()?;
        Some(TestApp::on(location, tempfile::tempdir().unwrap()))
    }

    fn on(location: Location, dir: tempfile::TempDir) -> TestApp {
        let mut store = Store::open(&location).unwrap();
        let key = airisk_ledger::SignerKey::generate("airisk.test/web").unwrap();
        store.init_ledger(&key).unwrap();
        store.set_signer(Some(key));
        let loaded = airisk_regfile::load_path(&example_register()).unwrap();
        let planned = airisk_model::plan(&store.load_register().unwrap(), loaded.objects);
        store
            .commit(planned.writes(), "loader", chrono::Utc::now(), "test")
            .unwrap();
        let mut tokens = HashMap::new();
        let hash = airisk_web::auth::hash_password(PASSWORD).unwrap();
        for role in Role::ALL {
            let name = username(role);
            store
                .put_account(&Account {
                    username: name.clone(),
                    display_name: format!("Test {role}"),
                    role: role.as_str().into(),
                    person_id: person(role),
                    password_hash: Some(hash.clone()),
                    disabled: false,
                    created_at: "2026-11-22T00:00:00Z".into(),
                })
                .unwrap();
            let (secret, credential) = airisk_web::auth::new_token(&name, "test");
            store.put_credential(&credential).unwrap();
            tokens.insert(role, secret);
        }
        let config = Config {
            today: Some(chrono::NaiveDate::from_ymd_opt(2026, 11, 22).unwrap()),
            ..Config::default()
        };
        let state = Arc::new(AppState::new(store, Library::embedded().unwrap(), config));
        TestApp {
            router: app(state),
            tokens,
            location,
            _dir: dir,
        }
    }

    pub async fn send(&self, request: Request<Body>) -> Reply {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        Reply {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    /// An API call as `role` (None: anonymous) with an optional JSON body.
    pub async fn api(
        &self,
        role: Option<Role>,
        method: Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> Reply {
        let mut request = Request::builder().method(method).uri(path);
        if let Some(role) = role {
            request = request.header(
                header::AUTHORIZATION,
                format!("Bearer {}", self.tokens[&role]),
            );
        }
        let body = match body {
            Some(json) => {
                request = request.header(header::CONTENT_TYPE, "application/json");
                Body::from(json.to_string())
            }
            None => Body::empty(),
        };
        self.send(request.body(body).unwrap()).await
    }

    /// Signs in through the login form; returns the session cookie.
    pub async fn login(&self, role: Role) -> String {
        let reply = self
            .send(
                Request::post("/login")
                    .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .body(Body::from(format!(
                        "username={}&password={PASSWORD}&next=%2F",
                        username(role)
                    )))
                    .unwrap(),
            )
            .await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
        let cookie = reply.headers[header::SET_COOKIE].to_str().unwrap();
        assert!(
            cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
            "{cookie}"
        );
        cookie.split(';').next().unwrap().to_string()
    }

    pub async fn page(&self, cookie: &str, path: &str) -> Reply {
        self.send(
            Request::get(path)
                .header(header::COOKIE, cookie)
                .body(Body::empty())
                .unwrap(),
        )
        .await
    }

    pub async fn post_form(&self, cookie: &str, path: &str, form: &[(&str, &str)]) -> Reply {
        let body = form
            .iter()
            .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
            .collect::<Vec<_>>()
            .join("&");
        self.send(
            Request::post(path)
                .header(header::COOKIE, cookie)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(body))
                .unwrap(),
        )
        .await
    }
}

fn enc(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The CSRF token a page's forms carry.
pub fn csrf_of(html: &str) -> String {
    let at = html
        .find("name=\"csrf\" value=\"")
        .expect("a form with a CSRF field");
    let rest = &html[at + 19..];
    rest[..rest.find('"').unwrap()].to_string()
}
