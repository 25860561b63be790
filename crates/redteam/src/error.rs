//! The one error type of the red-team crate.

/// Everything that can go wrong: bad suite files, bad gate expressions, target failures.
#[derive(Debug, thiserror::Error)]
pub enum RedteamError {
    /// A suite file is not valid YAML or breaks a suite rule. `at` is `FILE:LINE` or
    /// `FILE: attacks[ID].field`.
    #[error("{at}: {message}")]
    Suite { at: String, message: String },
    /// A converter name is unknown.
    #[error("unknown converter `{0}` (known: {known})", known = crate::converters::NAMES.join(", "))]
    UnknownConverter(String),
    /// A gate expression could not be parsed.
    #[error("gate `{expr}`: {message}")]
    Gate { expr: String, message: String },
    /// A report or dataset file could not be read.
    #[error("{at}: {message}")]
    Input { at: String, message: String },
    /// The target could not be configured or reached.
    #[error("target: {0}")]
    Target(String),
    /// A file or socket operation failed.
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
}

impl RedteamError {
    pub(crate) fn suite(at: impl Into<String>, message: impl Into<String>) -> Self {
        RedteamError::Suite {
            at: at.into(),
            message: message.into(),
        }
    }
    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        RedteamError::Io {
            context: context.into(),
            source,
        }
    }
}

/// Result alias for this crate.
pub type Result<T> = std::result::Result<T, RedteamError>;
