//! Applying desired objects to a register: what would be created, updated or left alone,
//! down to the field.

use crate::object::ObjectKind;
use crate::objects::Object;
use crate::register::Register;
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Create,
    Update,
    Unchanged,
}

/// One field that differs. `None` means the field is absent on that side.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldChange {
    pub path: String,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlannedChange {
    pub kind: ObjectKind,
    pub id: String,
    pub action: Action,
    pub fields: Vec<FieldChange>,
    #[serde(skip)]
    pub before: Option<Value>,
    #[serde(skip)]
    pub after: Value,
}

/// The outcome of applying desired objects to the current register.
#[derive(Debug, Clone)]
pub struct Plan {
    /// One entry per desired object, in the order given.
    pub changes: Vec<PlannedChange>,
    /// The register as it would be after the plan is carried out.
    pub result: Register,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Update => "update",
            Action::Unchanged => "unchanged",
        }
    }
}

impl Plan {
    pub fn count(&self, action: Action) -> usize {
        self.changes.iter().filter(|c| c.action == action).count()
    }

    pub fn is_noop(&self) -> bool {
        self.changes.iter().all(|c| c.action == Action::Unchanged)
    }

    /// The changes that would write something.
    pub fn writes(&self) -> impl Iterator<Item = &PlannedChange> {
        self.changes
            .iter()
            .filter(|c| c.action != Action::Unchanged)
    }
}

/// Upserts `desired` into a copy of `current`. Objects not mentioned are kept as they are.
pub fn plan(current: &Register, desired: Vec<Object>) -> Plan {
    let mut result = current.clone();
    let mut changes = Vec::with_capacity(desired.len());
    for object in desired {
        let (kind, id, after) = (object.kind(), object.id(), object.to_value());
        let before = result.insert(object).map(|o| o.to_value());
        let (action, fields) = match &before {
            None => (Action::Create, diff(None, Some(&after))),
            Some(b) if *b == after => (Action::Unchanged, Vec::new()),
            Some(b) => (Action::Update, diff(Some(b), Some(&after))),
        };
        changes.push(PlannedChange {
            kind,
            id,
            action,
            fields,
            before,
            after,
        });
    }
    Plan { changes, result }
}

/// Field-level differences between two canonical objects. Nested objects are compared
/// field by field (`inherent.likelihood`); arrays of objects element by element
/// (`components[0].version`); arrays of plain values as one value (`systems`).
pub fn diff(before: Option<&Value>, after: Option<&Value>) -> Vec<FieldChange> {
    let mut out = Vec::new();
    diff_into(String::new(), before, after, &mut out);
    out
}

fn diff_into(
    path: String,
    before: Option<&Value>,
    after: Option<&Value>,
    out: &mut Vec<FieldChange>,
) {
    if before == after {
        return;
    }
    let join = |key: &str| {
        if path.is_empty() {
            key.to_string()
        } else {
            format!("{path}.{key}")
        }
    };
    match (before, after) {
        (Some(Value::Object(b)), Some(Value::Object(a))) => {
            for (key, bv) in b {
                diff_into(join(key), Some(bv), a.get(key), out);
            }
            for (key, av) in a {
                if !b.contains_key(key) {
                    diff_into(join(key), None, Some(av), out);
                }
            }
        }
        // A new non-empty object is reported field by field; an empty one is a change of
        // its own. A removed object is one change that keeps its whole old value.
        (None, Some(Value::Object(a))) if !a.is_empty() => {
            for (key, av) in a {
                diff_into(join(key), None, Some(av), out);
            }
        }
        (Some(Value::Array(b)), Some(Value::Array(a)))
            if b.iter().chain(a.iter()).all(Value::is_object) =>
        {
            for i in 0..b.len().max(a.len()) {
                diff_into(format!("{path}[{i}]"), b.get(i), a.get(i), out);
            }
        }
        _ => out.push(FieldChange {
            path,
            before: before.cloned(),
            after: after.cloned(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn diff_reports_nested_fields_by_path() {
        let before =
            json!({"a": 1, "inherent": {"likelihood": 2, "consequence": 3}, "systems": ["X"]});
        let after = json!({"a": 1, "inherent": {"likelihood": 4, "consequence": 3}, "systems": ["X", "Y"], "new": true});
        let changes = diff(Some(&before), Some(&after));
        let paths: Vec<&str> = changes.iter().map(|c| c.path.as_str()).collect();
        assert_eq!(paths, vec!["inherent.likelihood", "systems", "new"]);
        assert_eq!(changes[0].before, Some(json!(2)));
        assert_eq!(changes[0].after, Some(json!(4)));
        assert_eq!(changes[2].before, None);
    }

    #[test]
    fn diff_of_identical_values_is_empty() {
        let v = json!({"a": [{"b": 1}], "c": null});
        assert!(diff(Some(&v), Some(&v)).is_empty());
    }

    #[test]
    fn diff_walks_arrays_of_objects_by_index() {
        let before = json!({"tools": [{"name": "a", "v": 1}]});
        let after = json!({"tools": [{"name": "a", "v": 2}, {"name": "b", "v": 1}]});
        let paths: Vec<String> = diff(Some(&before), Some(&after))
            .into_iter()
            .map(|c| c.path)
            .collect();
        assert_eq!(paths, vec!["tools[0].v", "tools[1].name", "tools[1].v"]);
    }
}
