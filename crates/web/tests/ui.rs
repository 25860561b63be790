//! The HTML UI: sign-in, pages for every role, forms with inline errors, CSRF, sign-out.

mod common;

use airisk_web::access::Role;
use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use common::*;

#[tokio::test]
async fn signing_in_and_out() {
    let app = TestApp::new();
    let anonymous = app.page("", "/risks").await;
    assert_eq!(anonymous.status, StatusCode::SEE_OTHER);
    assert_eq!(anonymous.headers[header::LOCATION], "/login?next=/risks");
    let wrong = app
        .send(
            Request::post("/login")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from("username=user-admin&password=nope"))
                .unwrap(),
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(wrong.body.contains("Wrong username or password"));
    let unknown = app
        .send(
            Request::post("/login")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(format!("username=ghost&password={PASSWORD}")))
                .unwrap(),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);

    let cookie = app.login(Role::Admin).await;
    let dashboard = app.page(&cookie, "/").await;
    assert_eq!(dashboard.status, StatusCode::OK);
    let csrf = csrf_of(&dashboard.body);
    // Sign-out needs the CSRF token, then the session is gone.
    let forged = app.post_form(&cookie, "/logout", &[]).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let out = app.post_form(&cookie, "/logout", &[("csrf", &csrf)]).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert_eq!(app.page(&cookie, "/").await.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn every_page_renders_for_every_role() {
    let app = TestApp::new();
    for role in Role::ALL {
        let cookie = app.login(role).await;
        for path in [
            "/",
            "/systems",
            "/systems/credit-scoring",
            "/risks",
            "/risks?category=security",
            "/risks/R-SUP-01",
            "/screening",
            "/controls",
            "/controls/CTL-REDTEAM",
            "/soa",
            "/soa?framework=nist-ai-rmf",
            "/evidence",
            "/walk",
            "/walk/iso42001-2023",
            "/walk/iso42001-2023/A.6.2.4",
            "/proof/0",
        ] {
            let page = app.page(&cookie, path).await;
            assert_eq!(page.status, StatusCode::OK, "{role} {path}: {}", page.body);
            assert!(page.body.starts_with("<!DOCTYPE html>"), "{path}");
            assert!(page.body.contains("<main id=\"main\">"), "{path}");
        }
    }
}

#[tokio::test]
async fn the_dashboard_shows_heat_maps_and_what_is_due() {
    let app = TestApp::new();
    let cookie = app.login(Role::Auditor).await;
    let page = app.page(&cookie, "/").await.body;
    assert_eq!(
        page.matches("<svg role=\"img\"").count(),
        3,
        "two heat maps and the trend"
    );
    assert!(page.contains("Inherent risk heat map"));
    assert!(page.contains("Top risks"));
    assert!(page.contains("Nonconformities (2)"), "the example has two");
    assert!(
        page.contains("R-CVS-01"),
        "above the threshold without approved treatment"
    );
    let proof = app.page(&cookie, "/proof/0").await.body;
    assert!(proof.contains("id=\"proof-status\">Verified"), "{proof}");
}

#[tokio::test]
async fn forms_show_errors_inline_and_save_valid_input() {
    let app = TestApp::new();
    let cookie = app.login(Role::RiskManager).await;
    let form = app.page(&cookie, "/risks/new").await;
    assert_eq!(form.status, StatusCode::OK);
    let csrf = csrf_of(&form.body);
    let mut fields = vec![
        ("csrf", csrf.as_str()),
        ("id", "R-UI-01"),
        ("title", ""),
        ("event", "The model answers in the wrong language"),
        ("cause", "No language detection"),
        ("consequence", "Customers misunderstand"),
        ("category", "operational"),
        ("systems", "support-assistant"),
        ("owner", "s.jansen"),
        ("status", "assessed"),
        ("inherent.likelihood", "3"),
        ("inherent.consequence", "2"),
        ("inherent.rationale", "Seen in logs"),
    ];
    let invalid = app.post_form(&cookie, "/risks/new", &fields).await;
    assert_eq!(
        invalid.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        invalid.body
    );
    assert!(
        invalid.body.contains("id=\"title-error\""),
        "{}",
        invalid.body
    );
    assert!(invalid.body.contains("aria-invalid=\"true\""));
    assert!(
        invalid.body.contains("aria-describedby=\"title-error\""),
        "the error is announced with its field"
    );
    assert!(
        invalid.body.contains("Seen in logs"),
        "what was typed is kept"
    );
    assert_eq!(
        app.page(&cookie, "/risks/R-UI-01").await.status,
        StatusCode::NOT_FOUND
    );

    fields[2] = ("title", "Answers in the wrong language");
    let saved = app.post_form(&cookie, "/risks/new", &fields).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    assert_eq!(saved.headers[header::LOCATION], "/risks/R-UI-01");
    let page = app.page(&cookie, "/risks/R-UI-01").await.body;
    assert!(page.contains("Answers in the wrong language"));
    assert!(
        page.contains("user-risk_manager"),
        "history names the author"
    );

    // Editing keeps fields the form does not show, and records only what changed.
    let edit = app.page(&cookie, "/risks/R-SUP-01/edit").await;
    let csrf = csrf_of(&edit.body);
    let risk = app
        .api(
            Some(Role::Auditor),
            axum::http::Method::GET,
            "/api/risks/R-SUP-01",
            None,
        )
        .await
        .json()["risk"]
        .clone();
    let text = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_string();
    let (title, event, cause, consequence) = (
        "Prompt injection (reviewed)".to_string(),
        text(&risk["event"]),
        text(&risk["cause"]),
        text(&risk["consequence"]),
    );
    let (il, ic, ir) = (
        risk["inherent"]["likelihood"].to_string(),
        risk["inherent"]["consequence"].to_string(),
        text(&risk["inherent"]["rationale"]),
    );
    let (rl, rc, rr) = (
        risk["residual"]["likelihood"].to_string(),
        risk["residual"]["consequence"].to_string(),
        text(&risk["residual"]["rationale"]),
    );
    let last = text(&risk["last_reviewed"]);
    let updated = app
        .post_form(
            &cookie,
            "/risks/R-SUP-01/edit",
            &[
                ("csrf", &csrf),
                ("title", &title),
                ("event", &event),
                ("cause", &cause),
                ("consequence", &consequence),
                ("category", "security"),
                ("systems", "support-assistant"),
                ("owner", "e.lindqvist"),
                ("status", "treated"),
                ("inherent.likelihood", &il),
                ("inherent.consequence", &ic),
                ("inherent.rationale", &ir),
                ("residual.likelihood", &rl),
                ("residual.consequence", &rc),
                ("residual.rationale", &rr),
                ("last_reviewed", &last),
            ],
        )
        .await;
    assert_eq!(updated.status, StatusCode::SEE_OTHER, "{}", updated.body);
    let history = app
        .api(
            Some(Role::Auditor),
            axum::http::Method::GET,
            "/api/history?kind=risk&id=R-SUP-01",
            None,
        )
        .await
        .json();
    let changes = history["history"].as_array().unwrap().last().unwrap()["changes"].clone();
    assert_eq!(changes.as_array().unwrap().len(), 1, "{changes}");
    assert_eq!(changes[0]["path"], "title");
    let after = app
        .api(
            Some(Role::Auditor),
            axum::http::Method::GET,
            "/api/risks/R-SUP-01",
            None,
        )
        .await
        .json()["risk"]
        .clone();
    assert_eq!(
        after["risk_sources"], risk["risk_sources"],
        "fields outside the form are kept"
    );
}

#[tokio::test]
async fn forms_need_the_csrf_token_and_the_right_role() {
    let app = TestApp::new();
    let cookie = app.login(Role::RiskManager).await;
    let no_token = app
        .post_form(&cookie, "/risks/new", &[("id", "R-X"), ("title", "x")])
        .await;
    assert_eq!(no_token.status, StatusCode::FORBIDDEN);
    let wrong = app
        .post_form(&cookie, "/risks/new", &[("csrf", "forged"), ("id", "R-X")])
        .await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN);

    let auditor = app.login(Role::Auditor).await;
    assert_eq!(
        app.page(&auditor, "/risks/new").await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.page(&auditor, "/risks/R-SUP-01/edit").await.status,
        StatusCode::FORBIDDEN
    );
    // The owner edits what their person owns, and nothing else.
    let owner = app.login(Role::Owner).await;
    assert_eq!(
        app.page(&owner, "/risks/R-SUP-01/edit").await.status,
        StatusCode::OK
    );
    assert_eq!(
        app.page(&owner, "/risks/R-CRS-01/edit").await.status,
        StatusCode::FORBIDDEN
    );
    // API calls riding on a session need the CSRF header.
    let api = app
        .send(
            Request::post("/api/tokens")
                .header(header::COOKIE, &cookie)
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from("{\"name\":\"x\"}"))
                .unwrap(),
        )
        .await;
    assert_eq!(api.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn html_escapes_what_users_wrote() {
    let app = TestApp::new();
    let cookie = app.login(Role::RiskManager).await;
    let csrf = csrf_of(&app.page(&cookie, "/risks/new").await.body);
    let saved = app
        .post_form(
            &cookie,
            "/risks/new",
            &[
                ("csrf", &csrf),
                ("id", "R-XSS"),
                ("title", "<script>alert(1)</script>"),
                ("event", "e"),
                ("cause", "c"),
                ("consequence", "x"),
                ("category", "security"),
                ("systems", "support-assistant"),
                ("owner", "a.khan"),
                ("status", "identified"),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let page = app.page(&cookie, "/risks/R-XSS").await.body;
    assert!(!page.contains("<script>alert(1)"));
    assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
}
