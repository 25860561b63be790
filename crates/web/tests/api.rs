//! The JSON API: every route, the authorization matrix (role × action), problem details,
//! attribution of writes, and the OpenAPI document.

mod common;

use airisk_web::access::Role;
use axum::http::{Method, StatusCode};
use common::*;
use serde_json::{json, Value};

fn concrete(path: &str) -> String {
    path.replace("{id}", "R-SUP-01").replace("{index}", "3")
}

/// GET routes with a concrete example path each.
fn get_paths() -> Vec<String> {
    airisk_web::api::routes()
        .into_iter()
        .filter(|(d, _)| d.method == "get")
        .map(|(d, _)| {
            let p = d.path;
            if p.starts_with("/api/systems/") {
                p.replace("{id}", "credit-scoring")
            } else if p.starts_with("/api/treatments/") {
                p.replace("{id}", "T-SUP-01-A")
            } else if p.starts_with("/api/controls/") {
                p.replace("{id}", "CTL-REDTEAM")
            } else if p.starts_with("/api/evidence/") {
                p.replace("{id}", "1")
            } else if p == "/api/coverage" {
                "/api/coverage?framework=nist-ai-rmf".into()
            } else {
                concrete(p)
            }
        })
        .collect()
}

#[tokio::test]
async fn every_get_route_answers_signed_in_and_refuses_anonymous() {
    let app = TestApp::new();
    // One evidence record so /api/evidence/1 exists.
    let added = app
        .send(
            axum::http::Request::post(
                "/api/evidence?for=control:CTL-REDTEAM&file_name=r.json&outcome=pass",
            )
            .header(
                "authorization",
                format!("Bearer {}", app.tokens[&Role::RiskManager]),
            )
            .body(axum::body::Body::from("{\"asr\":0.01}"))
            .unwrap(),
        )
        .await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.body);
    for path in get_paths() {
        let public = path == "/api/openapi.json" || path == "/api/healthz";
        let role = if path == "/api/accounts" {
            Role::Admin
        } else {
            Role::Auditor
        };
        let reply = app.api(Some(role), Method::GET, &path, None).await;
        assert_eq!(reply.status, StatusCode::OK, "GET {path}: {}", reply.body);
        let anonymous = app.api(None, Method::GET, &path, None).await;
        if public {
            assert_eq!(anonymous.status, StatusCode::OK, "{path}");
        } else {
            assert_eq!(
                anonymous.status,
                StatusCode::UNAUTHORIZED,
                "GET {path} anonymous"
            );
            assert_eq!(anonymous.content_type(), "application/problem+json");
        }
    }
}

async fn risk_body(app: &TestApp, id: &str) -> Value {
    let reply = app
        .api(
            Some(Role::Auditor),
            Method::GET,
            &format!("/api/risks/{id}"),
            None,
        )
        .await;
    reply.json()["risk"].clone()
}

#[tokio::test]
async fn the_authorization_matrix() {
    let app = TestApp::new();
    let template = risk_body(&app, "R-SUP-01").await;
    // Expected status per role, in Role::ALL order: admin, risk_manager, owner, contributor, auditor.
    type Case = (&'static str, [u16; 5]);
    let cases: Vec<Case> = vec![
        ("create risk", [201, 201, 403, 201, 403]),
        (
            "edit risk owned by the owner role's person",
            [200, 200, 200, 403, 403],
        ),
        ("edit risk owned by someone else", [200, 200, 403, 403, 403]),
        (
            "create treatment for an owned risk",
            [201, 201, 201, 201, 403],
        ),
        ("add evidence", [201, 201, 201, 201, 403]),
        ("create account", [201, 403, 403, 403, 403]),
        ("list accounts", [200, 403, 403, 403, 403]),
        ("export the SoA", [200, 200, 200, 200, 200]),
    ];
    for (what, expected) in cases {
        for (role, want) in Role::ALL.into_iter().zip(expected) {
            let tag = role.as_str().replace('_', "-");
            let reply = match what {
                "create risk" => {
                    let mut body = template.clone();
                    body["id"] = json!(format!("R-NEW-{tag}"));
                    body["status"] = json!("assessed");
                    app.api(Some(role), Method::POST, "/api/risks", Some(body))
                        .await
                }
                "edit risk owned by the owner role's person" => {
                    let mut body = risk_body(&app, "R-SUP-01").await;
                    body["title"] = json!(format!("Edited by {tag}"));
                    app.api(Some(role), Method::PUT, "/api/risks/R-SUP-01", Some(body))
                        .await
                }
                "edit risk owned by someone else" => {
                    let mut body = risk_body(&app, "R-CRS-01").await;
                    body["title"] = json!(format!("Edited by {tag}"));
                    app.api(Some(role), Method::PUT, "/api/risks/R-CRS-01", Some(body))
                        .await
                }
                "create treatment for an owned risk" => {
                    let body = json!({
                        "id": format!("T-NEW-{tag}"), "risk": "R-SUP-01", "option": "mitigate",
                        "description": "More tests", "owner": "e.lindqvist",
                        "target_date": "2027-03-31", "status": "planned"
                    });
                    app.api(Some(role), Method::POST, "/api/treatments", Some(body))
                        .await
                }
                "add evidence" => {
                    app.send(
                        axum::http::Request::post(format!(
                            "/api/evidence?for=risk:R-SUP-01&file_name={tag}.txt"
                        ))
                        .header("authorization", format!("Bearer {}", app.tokens[&role]))
                        .body(axum::body::Body::from("evidence"))
                        .unwrap(),
                    )
                    .await
                }
                "create account" => {
                    let body = json!({
                        "username": format!("new-{tag}"), "display_name": "New",
                        "role": "auditor", "password": "a long enough password"
                    });
                    app.api(Some(role), Method::POST, "/api/accounts", Some(body))
                        .await
                }
                "list accounts" => {
                    app.api(Some(role), Method::GET, "/api/accounts", None)
                        .await
                }
                "export the SoA" => {
                    app.api(Some(role), Method::GET, "/api/soa?format=csv", None)
                        .await
                }
                _ => unreachable!(),
            };
            assert_eq!(
                reply.status.as_u16(),
                want,
                "{what} as {role}: {}",
                reply.body
            );
            if want == 403 {
                assert_eq!(reply.content_type(), "application/problem+json");
                assert!(reply.json()["detail"]
                    .as_str()
                    .unwrap()
                    .contains(role.as_str()));
            }
        }
    }
}

#[tokio::test]
async fn writes_are_attributed_in_history_and_ledger() {
    let app = TestApp::new();
    attributed(&app).await;
    // The PostgreSQL client is synchronous and runs its own runtime: set it up off the
    // async thread, as the server does.
    let pg = tokio::task::spawn_blocking(TestApp::postgres)
        .await
        .unwrap();
    if let Some(pg) = pg {
        attributed(&pg).await;
        tokio::task::spawn_blocking(move || drop(pg)).await.unwrap();
    }
}

async fn attributed(app: &TestApp) {
    let mut body = risk_body(app, "R-SUP-02").await;
    body["title"] = json!("Disclosure on every channel, incl. voice");
    let reply = app
        .api(
            Some(Role::RiskManager),
            Method::PUT,
            "/api/risks/R-SUP-02",
            Some(body),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let result = reply.json();
    assert_eq!(result["action"], "update");
    let history = app
        .api(
            Some(Role::Auditor),
            Method::GET,
            "/api/history?kind=risk&id=R-SUP-02",
            None,
        )
        .await
        .json();
    let last = history["history"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["actor"], "user-risk_manager");
    assert_eq!(last["changes"][0]["path"], "title");
    let index = last["ledger_index"].as_u64().unwrap();
    let bundle = app
        .api(
            Some(Role::Auditor),
            Method::GET,
            &format!("/api/ledger/bundle/{index}"),
            None,
        )
        .await
        .json();
    assert_eq!(bundle["verification"]["verified"], true, "{bundle}");
    assert_eq!(bundle["bundle"]["entry"]["actor"], "user-risk_manager");
    assert_eq!(bundle["bundle"]["entry"]["subject"], "risk:R-SUP-02");
}

#[tokio::test]
async fn errors_are_problem_details() {
    let app = TestApp::new();
    let rm = Some(Role::RiskManager);
    let not_found = app.api(rm, Method::GET, "/api/risks/R-404", None).await;
    assert_eq!(not_found.status, StatusCode::NOT_FOUND);
    assert_eq!(not_found.content_type(), "application/problem+json");
    assert_eq!(not_found.json()["status"], 404);
    assert!(not_found.json()["detail"]
        .as_str()
        .unwrap()
        .contains("R-404"));

    let send_raw = |body: &'static str, content_type: &'static str| {
        axum::http::Request::post("/api/risks")
            .header(
                "authorization",
                format!("Bearer {}", app.tokens[&Role::RiskManager]),
            )
            .header("content-type", content_type)
            .body(axum::body::Body::from(body))
            .unwrap()
    };
    let syntax = app.send(send_raw("{\"id\": ", "application/json")).await;
    assert_eq!(syntax.status, StatusCode::BAD_REQUEST, "{}", syntax.body);
    let media = app.send(send_raw("id=1", "text/plain")).await;
    assert_eq!(media.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);

    let mut bad = risk_body(&app, "R-SUP-01").await;
    bad["id"] = json!("R-BAD");
    bad["inherent"]["likelihood"] = json!("high");
    let typed = app
        .api(rm, Method::POST, "/api/risks", Some(bad.clone()))
        .await;
    assert_eq!(typed.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        typed.json()["detail"]
            .as_str()
            .unwrap()
            .starts_with("inherent.likelihood"),
        "{}",
        typed.body
    );

    bad["inherent"]["likelihood"] = json!(9);
    bad["owner"] = json!("nobody");
    let rules = app.api(rm, Method::POST, "/api/risks", Some(bad)).await;
    assert_eq!(
        rules.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        rules.body
    );
    let fields: Vec<String> = rules.json()["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_string())
        .collect();
    assert!(fields.contains(&"owner".to_string()), "{fields:?}");
    assert!(
        fields.iter().any(|f| f.starts_with("inherent")),
        "{fields:?}"
    );
    // Nothing was written.
    let gone = app.api(rm, Method::GET, "/api/risks/R-BAD", None).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);

    let duplicate = app
        .api(
            rm,
            Method::POST,
            "/api/risks",
            Some(risk_body(&app, "R-SUP-01").await),
        )
        .await;
    assert_eq!(duplicate.status, StatusCode::CONFLICT);

    let mismatch = app
        .api(
            rm,
            Method::PUT,
            "/api/risks/R-SUP-02",
            Some(risk_body(&app, "R-SUP-01").await),
        )
        .await;
    assert_eq!(mismatch.status, StatusCode::BAD_REQUEST);

    let paging = app.api(rm, Method::GET, "/api/risks?limit=0", None).await;
    assert_eq!(paging.status, StatusCode::BAD_REQUEST);
    let bad_query = app
        .api(rm, Method::GET, "/api/risks?limit=lots", None)
        .await;
    assert_eq!(bad_query.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad_query.content_type(), "application/problem+json");
}

#[tokio::test]
async fn lists_filter_and_page() {
    let app = TestApp::new();
    let all = app
        .api(Some(Role::Auditor), Method::GET, "/api/risks", None)
        .await
        .json();
    assert_eq!(all["total"], 33);
    let page = app
        .api(
            Some(Role::Auditor),
            Method::GET,
            "/api/risks?limit=5&offset=30",
            None,
        )
        .await
        .json();
    assert_eq!(page["items"].as_array().unwrap().len(), 3);
    let security = app
        .api(
            Some(Role::Auditor),
            Method::GET,
            "/api/risks?category=security&system=refund-agent",
            None,
        )
        .await
        .json();
    let ids: Vec<&str> = security["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec!["R-RFA-01"]);
    let systems = app
        .api(Some(Role::Auditor), Method::GET, "/api/systems", None)
        .await
        .json();
    assert_eq!(systems["total"], 6);
}

#[tokio::test]
async fn api_tokens_and_accounts() {
    let app = TestApp::new();
    let created = app
        .api(
            Some(Role::Contributor),
            Method::POST,
            "/api/tokens",
            Some(json!({"name": "ci"})),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED);
    let token = created.json()["token"].as_str().unwrap().to_string();
    let me = app
        .send(
            axum::http::Request::get("/api/me")
                .header("authorization", format!("Bearer {token}"))
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await
        .json();
    assert_eq!(me["role"], "contributor");
    let wrong = app
        .send(
            axum::http::Request::get("/api/me")
                .header("authorization", "Bearer airisk_not-a-token")
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    let short = app
        .api(
            Some(Role::Admin),
            Method::POST,
            "/api/accounts",
            Some(json!({"username": "x", "display_name": "X", "role": "auditor", "password": "short"})),
        )
        .await;
    assert_eq!(short.status, StatusCode::BAD_REQUEST);
    let unknown_role = app
        .api(
            Some(Role::Admin),
            Method::POST,
            "/api/accounts",
            Some(json!({"username": "x", "display_name": "X", "role": "superuser", "password": "long enough password"})),
        )
        .await;
    assert_eq!(unknown_role.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn the_openapi_document_lists_every_route() {
    let app = TestApp::new();
    let doc = app
        .api(None, Method::GET, "/api/openapi.json", None)
        .await
        .json();
    assert_eq!(doc["openapi"], "3.1.0");
    for (route, _) in airisk_web::api::routes() {
        let op = &doc["paths"][route.path][route.method];
        assert!(op.is_object(), "{} {} missing", route.method, route.path);
        assert_eq!(op["summary"], route.summary);
    }
    let risk_post = &doc["paths"]["/api/risks"]["post"]["requestBody"]["content"]
        ["application/json"]["schema"]["$ref"];
    assert_eq!(risk_post, "#/components/schemas/Risk");
    assert!(doc["components"]["schemas"]["Risk"]["properties"]["inherent"].is_object());
    let params = doc["paths"]["/api/risks"]["get"]["parameters"]
        .as_array()
        .unwrap();
    assert!(params
        .iter()
        .any(|p| p["name"] == "category" && p["in"] == "query"));
    // Every $ref resolves.
    let text = doc.to_string();
    for piece in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
        let name = &piece[..piece.find('"').unwrap()];
        assert!(
            doc["components"]["schemas"][name].is_object(),
            "dangling $ref {name}"
        );
    }
}

/// The document passes an independent OpenAPI 3.1 validator (openapi-spec-validator, from
/// the Python venv scripts/test prepares).
#[tokio::test]
async fn the_openapi_document_passes_openapi_spec_validator() {
    let Some(python) = airisk_testkit::python("openapi-spec-validator") else {
        return;
    };
    let app = TestApp::new();
    let doc = app
        .api(None, Method::GET, "/api/openapi.json", None)
        .await
        .body;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("openapi.json");
    std::fs::write(&path, doc).unwrap();
    let output = std::process::Command::new(python)
        .args([
            "-c",
            "import json, sys\nfrom openapi_spec_validator import validate\nvalidate(json.load(open(sys.argv[1])))\nprint('valid')",
        ])
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
