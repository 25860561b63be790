//! Validation findings: what is wrong, on which object, in which field.

use crate::object::ObjectKind;
use std::fmt;

/// One rule violation found while validating a register.
///
/// `field` is a dotted path inside the object (`inherent.likelihood`, `grid[2][3]`), or
/// empty when the problem concerns the object as a whole. Front ends map it to a file
/// and line when the object came from a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    pub kind: ObjectKind,
    pub id: String,
    pub field: String,
    pub message: String,
}

impl Issue {
    pub fn new(
        kind: ObjectKind,
        id: impl Into<String>,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> Issue {
        Issue {
            kind,
            id: id.into(),
            field: field.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for Issue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.kind, self.id)?;
        if !self.field.is_empty() {
            write!(f, ", field {}", self.field)?;
        }
        write!(f, ": {}", self.message)
    }
}

/// Collects issues for one object, so rules need not repeat its kind and id.
pub(crate) struct IssueSink<'a> {
    pub kind: ObjectKind,
    pub id: &'a str,
    pub issues: &'a mut Vec<Issue>,
}

impl IssueSink<'_> {
    pub fn push(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.issues
            .push(Issue::new(self.kind, self.id, field, message));
    }
}
