//! Export of a catalog as an OSCAL catalog (JSON).
//!
//! Items become OSCAL `groups` when they and all their siblings have children, otherwise
//! `controls` (an item with children below a control, or among leaf siblings, becomes a control
//! with nested controls), because OSCAL lets a group hold groups or controls but not both. Item ids that are not
//! valid OSCAL tokens (e.g. `4.1`, which starts with a digit) are prefixed with `id-`; the
//! original id is always kept in a `label` prop. Descriptions become a `statement` part
//! (controls) or an `overview` part (groups). The catalog `uuid` is a UUID v5 of the catalog
//! id and version, so the same catalog always exports to the same document.

use serde_json::{json, Map, Value};
use uuid::Uuid;

use crate::model::{Catalog, Item};

/// OSCAL version the export declares.
pub const OSCAL_VERSION: &str = "1.1.2";

/// Namespace for airisk-specific OSCAL props.
pub const PROP_NS: &str = "https://example.invalid/airisk/ns/oscal";

/// The UUID v5 namespace for airisk OSCAL documents (itself v5 of a fixed URL).
pub fn uuid_namespace() -> Uuid {
    Uuid::new_v5(
        &Uuid::NAMESPACE_URL,
        b"https://example.invalid/airisk/oscal",
    )
}

/// The deterministic UUID of a catalog export.
pub fn catalog_uuid(cat: &Catalog) -> Uuid {
    let name = format!("catalog:{}:{}", cat.meta.id, cat.meta.version);
    Uuid::new_v5(&uuid_namespace(), name.as_bytes())
}

/// The OSCAL id used for an item id.
pub fn oscal_id(item_id: &str) -> String {
    let clean: String = item_id
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    match clean.chars().next() {
        Some(c) if c.is_alphabetic() || c == '_' => clean,
        _ => format!("id-{clean}"),
    }
}

fn token(s: &str) -> String {
    let t: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    match t.chars().next() {
        Some(c) if c.is_ascii_alphabetic() || c == '_' => t,
        _ => format!("_{t}"),
    }
}

fn prop(name: &str, value: &str, ours: bool) -> Value {
    let mut p = Map::new();
    p.insert("name".into(), json!(token(name)));
    if ours {
        p.insert("ns".into(), json!(PROP_NS));
    }
    p.insert("value".into(), json!(value));
    Value::Object(p)
}

/// The catalog as an OSCAL JSON document (`{"catalog": {...}}`).
pub fn to_oscal(cat: &Catalog) -> Value {
    let m = &cat.meta;
    let day = m
        .updated
        .as_deref()
        .or(m.published.as_deref())
        .unwrap_or("1970-01-01");
    let mut remarks = format!(
        "Licence: {}\n\nSource: {}\n\nText: {}",
        m.licence, m.source, m.text_note
    );
    for n in &m.notes {
        remarks.push_str("\n\nNote: ");
        remarks.push_str(n);
    }
    let metadata = json!({
        "title": m.name,
        "last-modified": format!("{day}T00:00:00Z"),
        "version": m.version,
        "oscal-version": OSCAL_VERSION,
        "props": [
            prop("catalog-id", &m.id, true),
            prop("framework", &m.framework, true),
            prop("publisher", &m.publisher, true),
            prop("licence", &m.licence, true),
        ],
        "remarks": remarks,
    });
    let (groups, controls) = children_of(cat, None, false);
    let mut body = Map::new();
    body.insert("uuid".into(), json!(catalog_uuid(cat).to_string()));
    body.insert("metadata".into(), metadata);
    if !controls.is_empty() {
        body.insert("controls".into(), Value::Array(controls));
    }
    if !groups.is_empty() {
        body.insert("groups".into(), Value::Array(groups));
    }
    json!({ "catalog": body })
}

/// The OSCAL JSON document as pretty-printed text.
pub fn to_oscal_string(cat: &Catalog) -> String {
    // Serialising a `Value` cannot fail.
    serde_json::to_string_pretty(&to_oscal(cat)).unwrap_or_default()
}

/// Children of `parent` as (groups, controls). OSCAL lets a group hold groups *or* controls,
/// not both: siblings become groups only when every one of them has children; otherwise all of
/// them become controls, and their subtrees nested controls.
fn children_of(
    cat: &Catalog,
    parent: Option<&str>,
    inside_control: bool,
) -> (Vec<Value>, Vec<Value>) {
    let kids: Vec<&Item> = cat
        .items()
        .iter()
        .filter(|it| it.parent.as_deref() == parent)
        .collect();
    let all_have_children = kids.iter().all(|k| cat.children(&k.id).next().is_some());
    if !inside_control && !kids.is_empty() && all_have_children {
        (
            kids.iter().map(|k| node(cat, k, true)).collect(),
            Vec::new(),
        )
    } else {
        (
            Vec::new(),
            kids.iter().map(|k| node(cat, k, false)).collect(),
        )
    }
}

fn node(cat: &Catalog, it: &Item, is_group: bool) -> Value {
    let id = oscal_id(&it.id);
    let mut props = vec![prop("label", &it.id, false)];
    if let Some(d) = &it.applies_from {
        props.push(prop("applies-from", d, true));
    }
    if let Some(s) = &it.source {
        props.push(prop("source", s, true));
    }
    for (k, v) in &it.attributes {
        props.push(prop(k, v, true));
    }
    for r in &it.references {
        props.push(prop("reference", r, true));
    }
    let mut parts = vec![json!({
        "id": format!("{id}_{}", if is_group { "ovw" } else { "smt" }),
        "name": if is_group { "overview" } else { "statement" },
        "prose": it.description,
    })];
    if let Some(n) = &it.note {
        parts.push(json!({
            "id": format!("{id}_note"),
            "name": "guidance",
            "prose": n,
        }));
    }
    let mut o = Map::new();
    o.insert("id".into(), json!(id));
    o.insert("class".into(), json!(token(&it.kind)));
    o.insert("title".into(), json!(it.title));
    o.insert("props".into(), Value::Array(props));
    o.insert("parts".into(), Value::Array(parts));
    let (groups, controls) = children_of(cat, Some(&it.id), !is_group);
    if !groups.is_empty() {
        o.insert("groups".into(), Value::Array(groups));
    }
    if !controls.is_empty() {
        o.insert("controls".into(), Value::Array(controls));
    }
    Value::Object(o)
}
