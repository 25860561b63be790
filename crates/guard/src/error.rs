//! The one error type of the guard crate.

/// Errors raised while loading, validating or compiling a policy, or loading a model.
///
/// Checking an input never fails: `Guard::check` always returns a `Decision`.
#[derive(Debug, thiserror::Error)]
pub enum GuardError {
    /// The policy text is not valid YAML or does not match the policy schema.
    /// `path` is the dotted path of the offending field (e.g. `stages.input.detectors[1].action`).
    #[error("invalid policy at `{path}`: {message}")]
    Policy { path: String, message: String },
    /// The classifier weights could not be decoded.
    #[error("invalid classifier model: {0}")]
    Model(String),
    /// A dataset row could not be read (evaluation only, never on the hot path).
    #[error("dataset line {line}: {message}")]
    Dataset { line: usize, message: String },
}

impl GuardError {
    pub(crate) fn policy(path: impl Into<String>, message: impl Into<String>) -> Self {
        GuardError::Policy {
            path: path.into(),
            message: message.into(),
        }
    }
}

/// Result alias for this crate.
pub type Result<T> = std::result::Result<T, GuardError>;
