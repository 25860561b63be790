//! The airisk web application (M16, M20): a JSON API for every register object with an
//! OpenAPI 3.1 document generated from the route table, RFC 9457 problem details, a
//! server-rendered UI (dashboard with SVG heat maps, inventory, risks with history,
//! screening, controls, SoA, evidence, the auditor's walk to a verified ledger proof), and
//! accounts with roles, argon2id passwords, sessions with CSRF tokens, and API tokens.
//!
//! What it is not: a second copy of the rules. Every write goes through `model::plan`,
//! `Register::validate`, `compliance::check_references` and `Store::commit`, like
//! `airisk apply`, attributed to the signed-in account.
//!
//! Invariants:
//! - The store is synchronous: it is only touched inside `AppState::with_store`
//!   (a blocking thread), never on an async worker.
//! - Authorization is decided by `access::allowed` alone; handlers only ask.
//! - Every API route is declared once in `api::routes`, which builds both the router and the
//!   OpenAPI document.

pub mod access;
pub mod api;
pub mod auth;
pub mod openapi;
pub mod problem;
pub mod state;
pub mod ui;
pub mod writes;

pub use state::{AppState, Config};

use axum::Router;
use std::net::SocketAddr;
use std::sync::Arc;

/// Requests larger than this are refused (evidence uploads are the largest).
pub const MAX_BODY_BYTES: usize = api::MAX_EVIDENCE_BYTES + (1 << 20);

/// The whole application.
pub fn app(state: Arc<AppState>) -> Router {
    let mut api = Router::new();
    for (doc, handler) in api::routes() {
        api = api.route(doc.path, handler);
    }
    api.merge(ui::router())
        .fallback(not_found)
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}

async fn not_found(uri: axum::http::Uri) -> axum::response::Response {
    use axum::response::IntoResponse;
    let problem = problem::Problem::not_found(format!("nothing at {}", uri.path()));
    if uri.path().starts_with("/api/") {
        problem.into_response()
    } else {
        ui::error_page(problem, None)
    }
}

/// Serves until Ctrl-C or SIGTERM, then lets in-flight requests finish.
pub async fn serve(state: Arc<AppState>, listener: tokio::net::TcpListener) -> std::io::Result<()> {
    axum::serve(
        listener,
        app(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}
