//! Which items of a catalog are requirements a control can satisfy.

use airisk_catalog::{Catalog, Item};

/// Item kinds that describe, date or group rather than require (risk sources, application
/// dates, the EU AI Act's tiers and Annex III areas, the MIT causal taxonomy).
const DESCRIPTIVE_KINDS: [&str; 11] = [
    "risk_source",
    "risk_source_group",
    "application_date",
    "amended_date",
    "risk_tier",
    "high_risk_area",
    "gpai_category",
    "causal_factor",
    "causal_value",
    "taxonomy",
    "annex",
];

/// The items a Statement of Applicability lists: the catalog's controls when it has any
/// (ISO/IEC 42001 Annex A), otherwise every requirement item ([`assessable_items`]).
pub fn soa_items(catalog: &Catalog) -> Vec<&Item> {
    let controls: Vec<&Item> = catalog.items_of_kind("control").collect();
    if controls.is_empty() {
        assessable_items(catalog)
    } else {
        controls
    }
}

/// The items coverage is measured over: leaves of the catalog's tree that are not merely
/// descriptive (ISO clauses' subclauses and Annex A controls, NIST subcategories, EU AI Act
/// obligations and prohibited practices, OWASP entries, ATLAS tactics…), in catalog order.
pub fn assessable_items(catalog: &Catalog) -> Vec<&Item> {
    catalog
        .items()
        .iter()
        .filter(|item| !DESCRIPTIVE_KINDS.contains(&item.kind.as_str()))
        .filter(|item| catalog.children(&item.id).next().is_none())
        .collect()
}
