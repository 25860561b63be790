//! The crate's single error type.

use std::fmt;
use std::path::PathBuf;

/// One problem found in a catalog, crosswalk or imported file, located by file, item and field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    /// The file (or embedded file name) the problem is in.
    pub file: String,
    /// The item, mapping or section concerned, e.g. ``item `A.2.2` `` or `catalog metadata`.
    pub location: String,
    /// The field concerned, e.g. `parent`.
    pub field: String,
    /// What is wrong.
    pub message: String,
}

impl Issue {
    pub(crate) fn new(
        file: impl Into<String>,
        location: impl Into<String>,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Issue {
            file: file.into(),
            location: location.into(),
            field: field.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for Issue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {}: field `{}`: {}",
            self.file, self.location, self.field, self.message
        )
    }
}

/// Everything that can go wrong in this crate.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// A file or directory could not be read.
    #[error("{}: cannot read: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The file is not well-formed YAML (or JSON, for exports).
    #[error("{file}: not valid YAML: {message}")]
    Syntax { file: String, message: String },
    /// The file parsed but breaks one or more validation rules; every problem is listed.
    #[error("{}", render_issues(.0))]
    Invalid(Vec<Issue>),
    /// A lookup named something that does not exist.
    #[error("unknown {what} `{id}`")]
    NotFound { what: &'static str, id: String },
    /// A framework name matched several catalogs (versions); give a catalog id.
    #[error("`{name}` matches several catalogs ({}); give one of these ids", candidates.join(", "))]
    Ambiguous {
        name: String,
        candidates: Vec<String>,
    },
}

impl CatalogError {
    /// The validation problems, if this is an [`CatalogError::Invalid`] error.
    pub fn issues(&self) -> &[Issue] {
        match self {
            CatalogError::Invalid(issues) => issues,
            _ => &[],
        }
    }
}

fn render_issues(issues: &[Issue]) -> String {
    match issues {
        [one] => one.to_string(),
        many => {
            let mut s = format!("{} problems:", many.len());
            for i in many {
                s.push_str("\n  ");
                s.push_str(&i.to_string());
            }
            s
        }
    }
}
