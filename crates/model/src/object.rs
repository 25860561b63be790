//! The kinds of object a register holds, and the common handle front ends use for them.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Every kind of register object, in the order they are applied (referenced kinds first).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ObjectKind {
    Settings,
    Person,
    Criteria,
    System,
    Risk,
    Treatment,
    Screening,
    Control,
    Soa,
}

impl ObjectKind {
    pub const ALL: [ObjectKind; 9] = [
        ObjectKind::Settings,
        ObjectKind::Person,
        ObjectKind::Criteria,
        ObjectKind::System,
        ObjectKind::Risk,
        ObjectKind::Treatment,
        ObjectKind::Screening,
        ObjectKind::Control,
        ObjectKind::Soa,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ObjectKind::Settings => "settings",
            ObjectKind::Person => "person",
            ObjectKind::Criteria => "criteria",
            ObjectKind::System => "system",
            ObjectKind::Risk => "risk",
            ObjectKind::Treatment => "treatment",
            ObjectKind::Screening => "screening",
            ObjectKind::Control => "control",
            ObjectKind::Soa => "soa",
        }
    }

    pub fn parse(text: &str) -> Option<ObjectKind> {
        ObjectKind::ALL.into_iter().find(|k| k.as_str() == text)
    }

    /// The top-level key that holds objects of this kind in a register file.
    pub fn file_key(self) -> &'static str {
        match self {
            ObjectKind::Settings => "settings",
            ObjectKind::Person => "people",
            ObjectKind::Criteria => "criteria",
            ObjectKind::System => "systems",
            ObjectKind::Risk => "risks",
            ObjectKind::Treatment => "treatments",
            ObjectKind::Screening => "screening",
            ObjectKind::Control => "controls",
            ObjectKind::Soa => "soa",
        }
    }
}

impl fmt::Display for ObjectKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Compares identifiers the way people read them: `R-2` before `R-10`.
pub fn natural_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    let (mut a, mut b) = (a.as_bytes(), b.as_bytes());
    loop {
        match (a.first(), b.first()) {
            (None, None) => return std::cmp::Ordering::Equal,
            (None, Some(_)) => return std::cmp::Ordering::Less,
            (Some(_), None) => return std::cmp::Ordering::Greater,
            (Some(x), Some(y)) if x.is_ascii_digit() && y.is_ascii_digit() => {
                let da = a.iter().take_while(|c| c.is_ascii_digit()).count();
                let db = b.iter().take_while(|c| c.is_ascii_digit()).count();
                let (na, nb) = (trim_zeros(&a[..da]), trim_zeros(&b[..db]));
                let ord = na.len().cmp(&nb.len()).then_with(|| na.cmp(nb));
                if ord != std::cmp::Ordering::Equal {
                    return ord;
                }
                a = &a[da..];
                b = &b[db..];
            }
            (Some(x), Some(y)) => {
                if x != y {
                    return x.cmp(y);
                }
                a = &a[1..];
                b = &b[1..];
            }
        }
    }
}

fn trim_zeros(digits: &[u8]) -> &[u8] {
    let start = digits.iter().take_while(|d| **d == b'0').count();
    &digits[start..]
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cmp::Ordering;

    #[test]
    fn natural_order_puts_numbers_in_numeric_order() {
        let mut ids = vec!["R-10", "R-2", "R-1", "R-02b", "Q-9"];
        ids.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(ids, vec!["Q-9", "R-1", "R-2", "R-02b", "R-10"]);
        assert_eq!(natural_cmp("R-007", "R-7"), Ordering::Equal);
    }
}
