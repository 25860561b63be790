//! The server-rendered web UI: plain HTML forms and links, no script needed.

pub mod dashboard;
pub mod forms;
pub mod pages;

use crate::auth::User;
use crate::problem::Problem;
use crate::state::AppState;
use airisk_model::Level;
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use maud::{html, Markup, PreEscaped, DOCTYPE};
use std::sync::Arc;

pub type S = Arc<AppState>;

pub const STYLE: &str = include_str!("style.css");

/// One HTML page: header with navigation and the signed-in user, then `body`.
pub fn page(title: &str, user: Option<&User>, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · airisk" }
                link rel="stylesheet" href="/static/style.css";
            }
            body {
                a.skip href="#main" { "Skip to content" }
                header.top {
                    a.brand href="/" { "airisk" }
                    @if let Some(user) = user {
                        nav aria-label="Main" {
                            a href="/" { "Dashboard" }
                            a href="/systems" { "Inventory" }
                            a href="/risks" { "Risks" }
                            a href="/screening" { "Screening" }
                            a href="/controls" { "Controls" }
                            a href="/soa" { "SoA" }
                            a href="/evidence" { "Evidence" }
                            a href="/walk" { "Auditor's walk" }
                        }
                        form.signout method="post" action="/logout" {
                            input type="hidden" name="csrf" value=(user.csrf.clone().unwrap_or_default());
                            span.who { (user.account.display_name) " (" (user.role.as_str()) ")" }
                            button type="submit" { "Sign out" }
                        }
                    }
                }
                main id="main" { (body) }
            }
        }
    }
}

pub fn html_page(title: &str, user: Option<&User>, body: Markup) -> Response {
    Html(page(title, user, body).into_string()).into_response()
}

/// A problem as an HTML page (for browser routes).
pub fn error_page(problem: Problem, user: Option<&User>) -> Response {
    let status = problem.status();
    let body = html! {
        h1 { (problem.title) }
        p.error { (problem.detail) }
        @if !problem.errors.is_empty() {
            ul { @for e in &problem.errors { li { (e.object) " " (e.field) ": " (e.message) } } }
        }
        p { a href="/" { "Back to the dashboard" } }
    };
    (status, Html(page(&problem.title, user, body).into_string())).into_response()
}

pub fn level_badge(level: Option<Level>) -> Markup {
    match level {
        Some(l) => html! { span class=(format!("badge level-{}", l.as_str())) { (l.as_str()) } },
        None => html! { span.badge.level-none { "unscored" } },
    }
}

pub fn csrf_field(user: &User) -> Markup {
    html! { input type="hidden" name="csrf" value=(user.csrf.clone().unwrap_or_default()); }
}

async fn style() -> Response {
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        PreEscaped(STYLE).into_string(),
    )
        .into_response()
}

pub fn router() -> Router<S> {
    Router::new()
        .route("/static/style.css", get(style))
        .route("/login", get(forms::login_page).post(forms::login))
        .route("/logout", post(forms::logout))
        .route("/", get(dashboard::dashboard))
        .route("/systems", get(pages::systems))
        .route(
            "/systems/new",
            get(forms::new_system).post(forms::create_system),
        )
        .route("/systems/{id}", get(pages::system))
        .route(
            "/systems/{id}/edit",
            get(forms::edit_system).post(forms::update_system),
        )
        .route("/risks", get(pages::risks))
        .route("/risks/new", get(forms::new_risk).post(forms::create_risk))
        .route("/risks/{id}", get(pages::risk))
        .route(
            "/risks/{id}/edit",
            get(forms::edit_risk).post(forms::update_risk),
        )
        .route(
            "/treatments/new",
            get(forms::new_treatment).post(forms::create_treatment),
        )
        .route(
            "/treatments/{id}/edit",
            get(forms::edit_treatment).post(forms::update_treatment),
        )
        .route("/screening", get(pages::screening))
        .route("/controls", get(pages::controls))
        .route("/controls/{id}", get(pages::control))
        .route("/soa", get(pages::soa))
        .route(
            "/evidence",
            get(pages::evidence).post(forms::upload_evidence),
        )
        .route("/walk", get(pages::walk))
        .route("/walk/{catalog}", get(pages::walk_catalog))
        .route("/walk/{catalog}/{item}", get(pages::walk_item))
        .route("/proof/{index}", get(pages::proof))
}
