//! Validation rules. Each rule reports [`Issue`]s naming file, item and field.
//!
//! Catalog rules (checked per file):
//! - `metadata`: `id, framework, name, version, publisher, licence, source, text_note` are present.
//! - `id-syntax`: catalog and item ids match `[A-Za-z0-9][A-Za-z0-9._-]*`.
//! - `item-fields`: every item has `id, kind, title, description`; `kind` is snake_case.
//! - `unique-ids`: item ids are unique within a catalog.
//! - `parent-exists`: a `parent` names another item of the same catalog.
//! - `no-cycles`: following `parent` never returns to the item.
//! - `dates`: `published`, `updated`, `applies_from` are real `YYYY-MM-DD` dates.
//! - `references`: each reference (`item` or `catalog:item`) resolves (cross-catalog ones at
//!   library level).
//!
//! Library rules: catalog ids and crosswalk ids are unique; crosswalk metadata is present; a
//! crosswalk's catalogs exist; every mapping's `source` and `target` exist in them; every
//! mapping has a rationale; a (source, target) pair appears once. Relationship values are
//! checked while parsing (only `equal`, `subset`, `superset`, `intersects`), as are unknown
//! fields, field types, YAML syntax, duplicate keys, aliases and nesting depth.

use std::collections::{HashMap, HashSet};

use crate::error::Issue;
use crate::model::{Catalog, Crosswalk};

/// True if `id` is a valid catalog or item id.
pub fn is_valid_id(id: &str) -> bool {
    let mut chars = id.chars();
    match chars.next() {
        Some(c) if c.is_ascii_alphanumeric() => {}
        _ => return false,
    }
    chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

fn is_snake_case(s: &str) -> bool {
    s.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// True if `s` is a real calendar date written `YYYY-MM-DD`.
pub fn is_valid_date(s: &str) -> bool {
    let b = s.as_bytes();
    if !s.is_ascii() || b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        let part = &s[r];
        if part.bytes().all(|c| c.is_ascii_digit()) {
            part.parse().ok()
        } else {
            None
        }
    };
    let (Some(y), Some(m), Some(d)) = (num(0..4), num(5..7), num(8..10)) else {
        return false;
    };
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&d)
}

/// Checks the per-catalog rules. Cross-catalog references are left to [`validate_references`].
pub fn validate_catalog(cat: &Catalog) -> Vec<Issue> {
    let file = cat.origin.as_str();
    let mut out = Vec::new();
    let mut issue = |loc: &str, field: &str, msg: String| {
        out.push(Issue::new(file, loc, field, msg));
    };
    let m = &cat.meta;
    let meta_loc = "catalog metadata";
    for (field, value) in [
        ("id", &m.id),
        ("framework", &m.framework),
        ("name", &m.name),
        ("version", &m.version),
        ("publisher", &m.publisher),
        ("licence", &m.licence),
        ("source", &m.source),
        ("text_note", &m.text_note),
    ] {
        if value.trim().is_empty() {
            issue(meta_loc, field, "missing (required metadata)".into());
        }
    }
    if !m.id.is_empty() && !is_valid_id(&m.id) {
        issue(
            meta_loc,
            "id",
            format!(
                "`{}` is not a valid id (letters, digits, `.`, `_`, `-`)",
                m.id
            ),
        );
    }
    for (field, value) in [("published", &m.published), ("updated", &m.updated)] {
        if let Some(v) = value {
            if !is_valid_date(v) {
                issue(meta_loc, field, format!("`{v}` is not a YYYY-MM-DD date"));
            }
        }
    }

    let mut seen: HashSet<&str> = HashSet::new();
    for (n, it) in cat.items().iter().enumerate() {
        let loc = if it.id.is_empty() {
            format!("item #{}", n + 1)
        } else {
            format!("item `{}`", it.id)
        };
        for (field, value) in [
            ("id", &it.id),
            ("kind", &it.kind),
            ("title", &it.title),
            ("description", &it.description),
        ] {
            if value.trim().is_empty() {
                issue(&loc, field, "missing (required)".into());
            }
        }
        if !it.id.is_empty() {
            if !is_valid_id(&it.id) {
                issue(
                    &loc,
                    "id",
                    format!(
                        "`{}` is not a valid id (letters, digits, `.`, `_`, `-`)",
                        it.id
                    ),
                );
            }
            if !seen.insert(it.id.as_str()) {
                issue(&loc, "id", format!("duplicate id `{}`", it.id));
            }
        }
        if !it.kind.is_empty() && !is_snake_case(&it.kind) {
            issue(&loc, "kind", format!("`{}` is not snake_case", it.kind));
        }
        if let Some(p) = &it.parent {
            if p == &it.id {
                issue(&loc, "parent", "an item cannot be its own parent".into());
            } else if cat.item(p).is_none() {
                issue(&loc, "parent", format!("parent `{p}` does not exist"));
            }
        }
        if let Some(d) = &it.applies_from {
            if !is_valid_date(d) {
                issue(
                    &loc,
                    "applies_from",
                    format!("`{d}` is not a YYYY-MM-DD date"),
                );
            }
        }
        for r in &it.references {
            if r.is_empty() {
                issue(&loc, "references", "empty reference".into());
            } else if !r.contains(':') && cat.item(r).is_none() {
                issue(
                    &loc,
                    "references",
                    format!("`{r}` does not exist in this catalog"),
                );
            }
        }
        for (k, v) in &it.attributes {
            if k.trim().is_empty() || v.trim().is_empty() {
                issue(
                    &loc,
                    "attributes",
                    "attribute names and values must not be empty".into(),
                );
            }
        }
    }

    // Cycles: walk up from each item; reaching the item again means it sits on a loop.
    let parent_of: HashMap<&str, &str> = cat
        .items()
        .iter()
        .filter_map(|it| it.parent.as_deref().map(|p| (it.id.as_str(), p)))
        .collect();
    for it in cat.items() {
        if it.parent.as_deref() == Some(it.id.as_str()) {
            continue; // reported by parent-exists
        }
        let mut cur = parent_of.get(it.id.as_str()).copied();
        let mut visited: HashSet<&str> = HashSet::new();
        while let Some(p) = cur {
            if p == it.id {
                issue(
                    &format!("item `{}`", it.id),
                    "parent",
                    "the parent chain loops back to this item".into(),
                );
                break;
            }
            if !visited.insert(p) {
                break; // a loop that does not pass through this item
            }
            cur = parent_of.get(p).copied();
        }
    }
    out
}

/// Checks `catalog:item` references of every catalog against the set of catalogs.
pub fn validate_references<'a>(
    catalogs: &[Catalog],
    find: impl Fn(&str) -> Option<&'a Catalog>,
) -> Vec<Issue> {
    let mut out = Vec::new();
    for cat in catalogs {
        for it in cat.items() {
            for r in &it.references {
                let Some((c, i)) = r.split_once(':') else {
                    continue;
                };
                let problem = match find(c) {
                    None => Some(format!("catalog `{c}` of reference `{r}` is not loaded")),
                    Some(other) if other.item(i).is_none() => {
                        Some(format!("`{i}` does not exist in catalog `{c}`"))
                    }
                    Some(_) => None,
                };
                if let Some(p) = problem {
                    out.push(Issue::new(
                        &cat.origin,
                        format!("item `{}`", it.id),
                        "references",
                        p,
                    ));
                }
            }
        }
    }
    out
}

/// Checks one crosswalk against the loaded catalogs.
pub fn validate_crosswalk<'a>(
    cw: &Crosswalk,
    find: impl Fn(&str) -> Option<&'a Catalog>,
) -> Vec<Issue> {
    let file = cw.origin.as_str();
    let mut out = Vec::new();
    let mut issue = |loc: &str, field: &str, msg: String| {
        out.push(Issue::new(file, loc, field, msg));
    };
    let m = &cw.meta;
    let meta_loc = "crosswalk metadata";
    for (field, value) in [
        ("id", &m.id),
        ("name", &m.name),
        ("version", &m.version),
        ("source_catalog", &m.source_catalog),
        ("target_catalog", &m.target_catalog),
        ("licence", &m.licence),
        ("source", &m.source),
        ("text_note", &m.text_note),
    ] {
        if value.trim().is_empty() {
            issue(meta_loc, field, "missing (required metadata)".into());
        }
    }
    if !m.id.is_empty() && !is_valid_id(&m.id) {
        issue(meta_loc, "id", format!("`{}` is not a valid id", m.id));
    }
    if let Some(u) = &m.updated {
        if !is_valid_date(u) {
            issue(
                meta_loc,
                "updated",
                format!("`{u}` is not a YYYY-MM-DD date"),
            );
        }
    }
    let src = if m.source_catalog.is_empty() {
        None
    } else {
        let c = find(&m.source_catalog);
        if c.is_none() {
            issue(
                meta_loc,
                "source_catalog",
                format!("catalog `{}` is not loaded", m.source_catalog),
            );
        }
        c
    };
    let tgt = if m.target_catalog.is_empty() {
        None
    } else {
        let c = find(&m.target_catalog);
        if c.is_none() {
            issue(
                meta_loc,
                "target_catalog",
                format!("catalog `{}` is not loaded", m.target_catalog),
            );
        }
        c
    };
    let mut pairs: HashSet<(&str, &str)> = HashSet::new();
    for (n, row) in cw.mappings.iter().enumerate() {
        let loc = format!("mapping #{} ({} -> {})", n + 1, row.source, row.target);
        for (field, value, cat) in [("source", &row.source, src), ("target", &row.target, tgt)] {
            if value.trim().is_empty() {
                issue(&loc, field, "missing (required)".into());
            } else if let Some(c) = cat {
                if c.item(value).is_none() {
                    issue(
                        &loc,
                        field,
                        format!("`{value}` does not exist in catalog `{}`", c.id()),
                    );
                }
            }
        }
        if row.rationale.trim().is_empty() {
            issue(&loc, "rationale", "missing (required)".into());
        }
        if !pairs.insert((row.source.as_str(), row.target.as_str())) {
            issue(
                &loc,
                "target",
                "this source/target pair is mapped twice".into(),
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert!(is_valid_date("2024-02-29"));
        assert!(!is_valid_date("2023-02-29"));
        assert!(!is_valid_date("2026-13-01"));
        assert!(!is_valid_date("2026-1-01"));
        assert!(!is_valid_date("2026-01-0x"));
    }

    #[test]
    fn ids() {
        assert!(is_valid_id("A.6.2.4"));
        assert!(is_valid_id("GOVERN-1.1"));
        assert!(is_valid_id("4"));
        assert!(!is_valid_id("GOVERN 1.1"));
        assert!(!is_valid_id(".x"));
        assert!(!is_valid_id(""));
        assert!(!is_valid_id("a:b"));
    }
}
