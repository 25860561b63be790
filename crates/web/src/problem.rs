//! Errors as RFC 9457 problem details (`application/problem+json`).

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// One invalid field, for 422 responses and inline form errors.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct FieldProblem {
    /// `kind id` of the object concerned.
    pub object: String,
    /// Dotted path inside the object; empty for the object as a whole.
    pub field: String,
    pub message: String,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Problem {
    /// A URI naming the problem type; `about:blank` when the status says it all.
    #[serde(rename = "type")]
    pub type_uri: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldProblem>,
}

impl Problem {
    pub fn new(status: StatusCode, detail: impl Into<String>) -> Problem {
        Problem {
            type_uri: "about:blank".into(),
            title: status.canonical_reason().unwrap_or("Error").to_string(),
            status: status.as_u16(),
            detail: detail.into(),
            errors: Vec::new(),
        }
    }

    pub fn typed(mut self, name: &str) -> Problem {
        self.type_uri = format!("https://airisk.dev/problems/{name}");
        self
    }

    pub fn bad_request(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::BAD_REQUEST, detail)
    }

    pub fn unauthorized() -> Problem {
        Problem::new(
            StatusCode::UNAUTHORIZED,
            "sign in, or send an API token as `Authorization: Bearer TOKEN`",
        )
    }

    pub fn forbidden(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::FORBIDDEN, detail).typed("forbidden")
    }

    pub fn not_found(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::NOT_FOUND, detail)
    }

    pub fn conflict(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::CONFLICT, detail).typed("conflict")
    }

    pub fn invalid(errors: Vec<FieldProblem>) -> Problem {
        let n = errors.len();
        let mut p = Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!(
                "{n} rule{} violated; nothing was written",
                if n == 1 { "" } else { "s" }
            ),
        )
        .typed("invalid");
        p.errors = errors;
        p
    }

    pub fn internal(detail: impl std::fmt::Display) -> Problem {
        Problem::new(StatusCode::INTERNAL_SERVER_ERROR, detail.to_string())
    }

    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let body = serde_json::to_vec(&self).unwrap_or_default();
        (
            self.status(),
            [(header::CONTENT_TYPE, "application/problem+json")],
            body,
        )
            .into_response()
    }
}

impl From<airisk_store::StoreError> for Problem {
    fn from(e: airisk_store::StoreError) -> Problem {
        match e {
            airisk_store::StoreError::Conflict { .. } => Problem::conflict(e.to_string()),
            airisk_store::StoreError::NotFound(m) => Problem::not_found(m),
            other => Problem::internal(other),
        }
    }
}
