//! The Statement of Applicability as an OSCAL component definition (JSON): one component
//! for the organisation's AI management system, one implemented requirement per SoA item,
//! with applicability, status, owners, controls and evidence as props in airisk's namespace.

use crate::soa::{Applicability, Soa};
use airisk_catalog::oscal::{oscal_id, uuid_namespace, OSCAL_VERSION, PROP_NS};
use serde_json::{json, Value};
use uuid::Uuid;

fn prop(name: &str, value: &str) -> Value {
    json!({ "name": name, "ns": PROP_NS, "value": value })
}

/// Deterministic: the same SoA always exports to the same document, and any change to its
/// content changes the document's uuid (as OSCAL asks of a new revision).
pub fn soa_component_definition(soa: &Soa, organisation: &str) -> Value {
    let content = serde_json::to_string(soa).unwrap_or_default();
    let ns = uuid_namespace();
    let doc_uuid = Uuid::new_v5(&ns, format!("soa-doc:{content}").as_bytes());
    let component_uuid = Uuid::new_v5(&ns, format!("soa-component:{}", soa.catalog).as_bytes());
    let implementation_uuid = Uuid::new_v5(
        &ns,
        format!("soa-implementation:{}", soa.catalog).as_bytes(),
    );
    let requirements: Vec<Value> = soa
        .rows
        .iter()
        .map(|row| {
            let mut props = vec![
                prop("label", &row.item),
                prop(
                    "applicability",
                    match row.applicability {
                        Applicability::Applicable | Applicability::ApplicableImplied => {
                            "applicable"
                        }
                        Applicability::Excluded => "excluded",
                        Applicability::Undecided => "undecided",
                    },
                ),
                prop("implementation-status", &row.status.as_str().replace(' ', "-")),
                prop("evidence-count", &row.evidence_count.to_string()),
            ];
            for owner in &row.owners {
                props.push(prop("owner", owner));
            }
            for control in &row.controls {
                props.push(prop("applied-control", &control.id));
            }
            for risk in &row.justification {
                props.push(prop("treats-risk", &risk.id));
            }
            if let Some(rating) = row.effectiveness {
                props.push(prop("effectiveness", &rating.as_str().replace('_', "-")));
            }
            let description = if row.controls.is_empty() {
                format!("{}: no applied control.", row.title)
            } else {
                row.controls
                    .iter()
                    .map(|c| format!("{} ({}): {}", c.id, c.status.as_str(), c.title))
                    .collect::<Vec<_>>()
                    .join("; ")
            };
            let mut requirement = json!({
                "uuid": Uuid::new_v5(&ns, format!("soa-row:{}", row.reference).as_bytes()).to_string(),
                "control-id": oscal_id(&row.item),
                "description": description,
                "props": props,
            });
            if let Some(reason) = &row.reason {
                requirement["remarks"] = json!(reason);
            }
            requirement
        })
        .collect();
    let last_modified = format!("{}T00:00:00Z", soa.as_of);
    json!({
        "component-definition": {
            "uuid": doc_uuid.to_string(),
            "metadata": {
                "title": format!("Statement of Applicability: {}", soa.framework),
                "last-modified": last_modified,
                "version": soa.as_of.to_string(),
                "oscal-version": OSCAL_VERSION,
            },
            "components": [{
                "uuid": component_uuid.to_string(),
                "type": "this-system",
                "title": format!("{organisation} AI management system"),
                "description": format!(
                    "The applied controls of {organisation}'s AI risk register, against {} (airisk catalog {}).",
                    soa.framework, soa.catalog
                ),
                "control-implementations": [{
                    "uuid": implementation_uuid.to_string(),
                    "source": format!("{}.oscal.json", soa.catalog),
                    "description": format!(
                        "Statement of Applicability of {} as of {}: {} items, {} applicable, {} excluded, {} undecided.",
                        soa.framework, soa.as_of, soa.summary.items, soa.summary.applicable,
                        soa.summary.excluded, soa.summary.undecided
                    ),
                    "implemented-requirements": requirements,
                }],
            }],
        }
    })
}
