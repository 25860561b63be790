//! Checks that controls and SoA decisions name framework items that exist.

use crate::items::soa_items;
use airisk_catalog::Library;
use airisk_model::{is_item_reference, Issue, ObjectKind, Register};

/// Every `implements` entry of a control and every SoA decision must name an item of a
/// loaded catalog; an SoA decision must name an item the catalog's SoA lists (ISO 42001's
/// clauses 4–10 are mandatory, so only Annex A controls can be decided).
pub fn check_references(register: &Register, library: &Library) -> Vec<Issue> {
    let mut issues = Vec::new();
    for control in register.controls.values() {
        for (i, reference) in control.implements.iter().enumerate() {
            if let Some(message) = unresolved(library, reference) {
                issues.push(Issue::new(
                    ObjectKind::Control,
                    &control.id,
                    format!("implements[{i}]"),
                    message,
                ));
            }
        }
    }
    for decision in register.soa.values() {
        if let Some(message) = unresolved(library, &decision.item) {
            issues.push(Issue::new(ObjectKind::Soa, &decision.item, "item", message));
            continue;
        }
        let Some((catalog, item)) = library.resolve(&decision.item) else {
            continue;
        };
        if !soa_items(catalog).iter().any(|i| i.id == item.id) {
            issues.push(Issue::new(
                ObjectKind::Soa,
                &decision.item,
                "item",
                format!(
                    "{} `{}` is not in the Statement of Applicability of {} (it lists the {}s; the rest applies in full)",
                    item.kind,
                    item.id,
                    catalog.id(),
                    soa_items(catalog).first().map_or("item", |i| i.kind.as_str()),
                ),
            ));
        }
    }
    issues
}

/// `None` when the reference resolves, else what is wrong with it.
fn unresolved(library: &Library, reference: &str) -> Option<String> {
    if !is_item_reference(reference) {
        // The model's own rule reports the shape; nothing more to say here.
        return None;
    }
    let (catalog_id, item_id) = reference.split_once(':')?;
    let Some(catalog) = library.catalog(catalog_id) else {
        let known: Vec<&str> = library.catalogs().iter().map(|c| c.id()).collect();
        return Some(format!(
            "unknown catalog `{catalog_id}` (known: {})",
            known.join(", ")
        ));
    };
    if catalog.item(item_id).is_none() {
        return Some(format!(
            "catalog {catalog_id} has no item `{item_id}` (see `airisk catalog show {catalog_id}`)"
        ));
    }
    None
}
