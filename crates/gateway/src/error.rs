//! The one error type of the gateway crate.

/// Errors raised while loading the configuration or starting the server. Request-time
/// problems are never errors of this type: they become OpenAI-style error responses.
#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    /// The configuration is invalid; `path` is the dotted path of the bad field.
    #[error("{source_name}: `{path}`: {message}")]
    Config {
        source_name: String,
        path: String,
        message: String,
    },
    /// A route's policy does not compile.
    #[error("route `{route}`: {message}")]
    Policy { route: String, message: String },
    /// The listen address cannot be bound, or another IO failure at start-up.
    #[error("{0}")]
    Io(String),
}
