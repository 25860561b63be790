//! The Statement of Applicability, coverage, reference checks and reports, on small
//! registers built for each rule against the built-in catalogs.

use airisk_catalog::Library;
use airisk_compliance::{
    build_soa, check_references, coverage, oscal, render, Applicability, CoverageState,
    EvidenceFact, EvidenceIndex, ItemStatus, Via,
};
use airisk_model::{EffectivenessRating, EvidenceOutcome, Object, ObjectKind, Register};
use chrono::NaiveDate;
use serde_json::{json, Value};

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 22).unwrap()
}

fn library() -> Library {
    Library::embedded().unwrap()
}

fn object(kind: ObjectKind, value: Value) -> Object {
    Object::from_value(kind, value).unwrap()
}

/// Two people, a 3×3 criteria set accepting up to medium, one system, one high risk
/// (R-HIGH) and one low risk (R-LOW).
fn base() -> Register {
    let mut objects = vec![
        object(
            ObjectKind::Settings,
            json!({"name": "Test Ltd", "criteria": "c3"}),
        ),
        object(ObjectKind::Person, json!({"id": "ana", "name": "Ana"})),
        object(ObjectKind::Person, json!({"id": "ben", "name": "Ben"})),
        object(
            ObjectKind::Criteria,
            json!({
                "id": "c3", "name": "3x3",
                "likelihood": [{"label": "a"}, {"label": "b"}, {"label": "c"}],
                "consequence": [{"label": "a"}, {"label": "b"}, {"label": "c"}],
                "grid": [["low","low","medium"],["low","medium","high"],["medium","high","critical"]],
                "acceptance_threshold": "medium"
            }),
        ),
        object(
            ObjectKind::System,
            json!({
                "id": "bot", "name": "Bot", "purpose": "answers", "model_type": "proprietary",
                "environment": "production", "exposure": "public", "criticality": "medium",
                "lifecycle": "deployed", "owners": {"business": "ana", "technical": "ben"}
            }),
        ),
    ];
    for (id, l, c) in [("R-HIGH", 3, 3), ("R-LOW", 1, 1)] {
        objects.push(object(
            ObjectKind::Risk,
            json!({
                "id": id, "title": format!("Risk {id}"), "event": "e", "cause": "c",
                "consequence": "x", "category": "security", "systems": ["bot"],
                "inherent": {"likelihood": l, "consequence": c, "rationale": "r"},
                "owner": "ana", "status": "assessed"
            }),
        ));
    }
    let register = Register::from_objects(objects);
    assert_eq!(register.validate(), vec![]);
    register
}

fn add_control(register: &mut Register, value: Value) {
    let mut base = json!({
        "title": "A control", "description": "How it works", "owner": "ben",
        "status": "operating"
    });
    for (k, v) in value.as_object().unwrap() {
        base[k] = v.clone();
    }
    register.insert(object(ObjectKind::Control, base));
}

fn decide(register: &mut Register, item: &str, applicable: bool, reason: Option<&str>) {
    let mut value = json!({"item": item, "applicable": applicable});
    if let Some(r) = reason {
        value["reason"] = json!(r);
    }
    register.insert(object(ObjectKind::Soa, value));
}

fn no_evidence() -> EvidenceIndex {
    EvidenceIndex::new(vec![])
}

fn fact(id: i64, target: &str, days_ago: u64, outcome: Option<EvidenceOutcome>) -> EvidenceFact {
    EvidenceFact {
        id,
        target: target.into(),
        ledger_index: 100 + id as u64,
        on: today() - chrono::Days::new(days_ago),
        outcome,
        file_name: format!("e{id}.json"),
    }
}

fn codes(soa: &airisk_compliance::Soa) -> Vec<(&str, &str)> {
    soa.problems
        .iter()
        .map(|p| (p.code, p.subject.as_str()))
        .collect()
}

const ISO: &str = "iso42001-2023";

#[test]
fn the_iso_soa_lists_all_38_annex_a_controls_in_catalog_order() {
    let lib = library();
    let soa = build_soa(&base(), lib.catalog(ISO).unwrap(), &no_evidence(), today());
    assert_eq!(soa.rows.len(), 38);
    assert_eq!(soa.rows[0].item, "A.2.2");
    assert_eq!(soa.rows[37].item, "A.10.4");
    assert_eq!(soa.summary.undecided, 38);
    // Nothing decided, nothing applied: every item is undecided, and the high risk has no control.
    assert_eq!(
        soa.problems
            .iter()
            .filter(|p| p.code == "undecided")
            .count(),
        38
    );
    assert!(codes(&soa).contains(&("risk_without_control", "R-HIGH")));
    assert!(!codes(&soa).iter().any(|(_, s)| *s == "R-LOW"));
}

#[test]
fn each_soa_rule_reports_its_problem() {
    let lib = library();
    let mut reg = base();
    // Excluded without a reason, and excluded while a control implements it.
    decide(&mut reg, "iso42001-2023:A.10.4", false, None);
    decide(
        &mut reg,
        "iso42001-2023:A.10.3",
        false,
        Some("no suppliers"),
    );
    add_control(
        &mut reg,
        json!({"id": "C-SUP", "implements": ["iso42001-2023:A.10.3"], "risks": ["R-HIGH"]}),
    );
    // Applicable by decision but nothing implements it.
    decide(&mut reg, "iso42001-2023:A.2.2", true, None);
    // Implemented only by a control without an owner.
    let mut ownerless = json!({
        "title": "Logs", "description": "d", "status": "implemented",
        "id": "C-NOOWNER", "implements": ["iso42001-2023:A.6.2.8"]
    });
    ownerless["evidence"] = json!(["evidence:999"]);
    reg.insert(object(ObjectKind::Control, ownerless));
    assert_eq!(reg.validate(), vec![]);
    let soa = build_soa(&reg, lib.catalog(ISO).unwrap(), &no_evidence(), today());
    let found = codes(&soa);
    for expected in [
        ("excluded_without_reason", "iso42001-2023:A.10.4"),
        ("excluded_but_implemented", "iso42001-2023:A.10.3"),
        ("applicable_without_control", "iso42001-2023:A.2.2"),
        ("applicable_without_owner", "iso42001-2023:A.6.2.8"),
        ("unknown_evidence", "C-NOOWNER"),
        ("undecided", "iso42001-2023:A.2.3"),
    ] {
        assert!(
            found.contains(&expected),
            "missing {expected:?} in {found:?}"
        );
    }
    // R-HIGH is treated by C-SUP, so it is not reported.
    assert!(!found.contains(&("risk_without_control", "R-HIGH")));
    let excluded = soa.rows.iter().find(|r| r.item == "A.10.3").unwrap();
    assert_eq!(excluded.applicability, Applicability::Excluded);
    assert_eq!(excluded.reason.as_deref(), Some("no suppliers"));
}

#[test]
fn a_retired_control_neither_implements_nor_treats() {
    let lib = library();
    let mut reg = base();
    add_control(
        &mut reg,
        json!({"id": "C-OLD", "status": "retired", "implements": ["iso42001-2023:A.2.2"], "risks": ["R-HIGH"]}),
    );
    let soa = build_soa(&reg, lib.catalog(ISO).unwrap(), &no_evidence(), today());
    let row = &soa.rows[0];
    assert_eq!(row.applicability, Applicability::Undecided);
    assert_eq!(row.status, ItemStatus::NotImplemented);
    assert_eq!(row.controls.len(), 1, "still listed for the record");
    assert!(codes(&soa).contains(&("risk_without_control", "R-HIGH")));
}

#[test]
fn a_row_joins_its_controls_risks_owners_status_and_evidence() {
    let lib = library();
    let mut reg = base();
    add_control(
        &mut reg,
        json!({"id": "C-1", "status": "planned", "owner": "ana", "implements": ["iso42001-2023:A.6.2.4"], "risks": ["R-LOW"]}),
    );
    add_control(
        &mut reg,
        json!({"id": "C-2", "implements": ["iso42001-2023:A.6.2.4"], "risks": ["R-HIGH", "R-LOW"]}),
    );
    let evidence = EvidenceIndex::new(vec![
        fact(1, "control:C-2", 30, Some(EvidenceOutcome::Pass)),
        fact(2, "control:C-2", 3, Some(EvidenceOutcome::Fail)),
    ]);
    let soa = build_soa(&reg, lib.catalog(ISO).unwrap(), &evidence, today());
    let row = soa.rows.iter().find(|r| r.item == "A.6.2.4").unwrap();
    assert_eq!(row.applicability, Applicability::ApplicableImplied);
    assert_eq!(
        row.status,
        ItemStatus::Operating,
        "the most advanced live control"
    );
    assert_eq!(row.owners, vec!["ana", "ben"]);
    let risks: Vec<&str> = row.justification.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(risks, vec!["R-HIGH", "R-LOW"]);
    assert_eq!(row.evidence_count, 2);
    assert_eq!(row.effectiveness, Some(EffectivenessRating::Ineffective));
    assert_eq!(soa.summary.with_evidence, 1);
    assert_eq!(
        codes(&soa)
            .iter()
            .filter(|c| **c == ("ineffective_control", "C-2"))
            .count(),
        1
    );
    // A year later the same tests are stale.
    let later = today() + chrono::Days::new(400);
    let soa = build_soa(&reg, lib.catalog(ISO).unwrap(), &evidence, later);
    assert!(codes(&soa).contains(&("stale_evidence", "C-2")));
}

#[test]
fn coverage_counts_direct_and_crosswalked_controls() {
    let lib = library();
    let mut reg = base();
    // Direct NIST coverage with evidence.
    add_control(
        &mut reg,
        json!({"id": "C-NIST", "implements": ["nist-ai-rmf-1.0:MEASURE-2.7"]}),
    );
    // ISO control with crosswalk rows to NIST.
    add_control(
        &mut reg,
        json!({"id": "C-ISO", "implements": ["iso42001-2023:A.6.2.6"]}),
    );
    // A planned control covers nothing in full.
    add_control(
        &mut reg,
        json!({"id": "C-PLAN", "status": "planned", "implements": ["nist-ai-rmf-1.0:GOVERN-1.1"]}),
    );
    let evidence = EvidenceIndex::new(vec![fact(
        1,
        "control:C-NIST",
        1,
        Some(EvidenceOutcome::Pass),
    )]);
    let nist = lib.catalog("nist-ai-rmf-1.0").unwrap();
    let c = coverage(&reg, &lib, nist, &evidence, today());
    assert_eq!(c.items, 72, "the 72 subcategories");
    let row = |id: &str| c.rows.iter().find(|r| r.item == id).unwrap();
    assert_eq!(row("MEASURE-2.7").state, CoverageState::Evidenced);
    assert_eq!(row("GOVERN-1.1").state, CoverageState::Partial);
    let crosswalked: Vec<_> = c
        .rows
        .iter()
        .filter(|r| r.controls.iter().any(|cc| cc.control == "C-ISO"))
        .collect();
    assert!(!crosswalked.is_empty(), "A.6.2.6 maps to NIST rows");
    for r in &crosswalked {
        let cc = r.controls.iter().find(|cc| cc.control == "C-ISO").unwrap();
        let Via::Crosswalk { from, .. } = &cc.via else {
            panic!("C-ISO reaches NIST only through the crosswalk");
        };
        assert_eq!(from, "iso42001-2023:A.6.2.6");
        let expected = if cc.via.is_full() {
            CoverageState::Covered
        } else {
            CoverageState::Partial
        };
        if r.item != "MEASURE-2.7" {
            assert_eq!(r.state, expected, "{}", r.item);
        }
    }
    let counted = c.evidenced + c.covered + c.partial + c.uncovered;
    assert_eq!(counted, c.items);
    let expected = ((c.evidenced + c.covered) as f64 * 1000.0 / 72.0).round() / 10.0;
    assert_eq!(c.percent_covered, expected);
    assert_eq!(c.percent_with_evidence, (1000.0_f64 / 72.0).round() / 10.0);
}

#[test]
fn excluded_items_leave_the_coverage_denominator() {
    let lib = library();
    let mut reg = base();
    decide(
        &mut reg,
        "iso42001-2023:A.10.4",
        false,
        Some("no customers"),
    );
    let iso = lib.catalog(ISO).unwrap();
    let c = coverage(&reg, &lib, iso, &no_evidence(), today());
    assert_eq!(c.excluded, 1);
    // The 27 leaf subclauses (6.1 is split into 6.1.1–6.1.4) and 38 controls, less the exclusion.
    assert_eq!(c.items, 27 + 38 - 1);
    assert_eq!(c.percent_covered, 0.0);
}

#[test]
fn references_must_name_catalog_items_and_soa_items() {
    let lib = library();
    let mut reg = base();
    add_control(
        &mut reg,
        json!({"id": "C-1", "implements": ["iso42001-2023:A.99", "nist-ai-rmf-9:GOVERN-1.1", "iso42001-2023:A.2.2"]}),
    );
    decide(&mut reg, "iso42001-2023:4.1", true, None);
    decide(&mut reg, "owasp-llm-top10-2025:LLM01", true, None);
    let issues = check_references(&reg, &lib);
    let fields: Vec<(String, String, &str)> = issues
        .iter()
        .map(|i| (i.kind.to_string(), i.id.clone(), i.field.as_str()))
        .collect();
    assert_eq!(
        fields,
        vec![
            ("control".into(), "C-1".into(), "implements[0]"),
            ("control".into(), "C-1".into(), "implements[1]"),
            ("soa".into(), "iso42001-2023:4.1".into(), "item"),
        ]
    );
    assert!(issues[0].message.contains("has no item `A.99`"));
    assert!(issues[1]
        .message
        .contains("unknown catalog `nist-ai-rmf-9`"));
    assert!(issues[2]
        .message
        .contains("not in the Statement of Applicability"));
}

#[test]
fn reports_escape_what_users_wrote() {
    let lib = library();
    let mut reg = base();
    decide(
        &mut reg,
        "iso42001-2023:A.10.4",
        false,
        Some("<script>alert(1)</script> | pipes, \"quotes\"\nand lines"),
    );
    let soa = build_soa(&reg, lib.catalog(ISO).unwrap(), &no_evidence(), today());
    let html = render::soa_html(&soa);
    assert!(!html.contains("<script>alert"));
    assert!(html.contains("&lt;script&gt;"));
    let md = render::soa_markdown(&soa);
    let line = md.lines().find(|l| l.starts_with("| A.10.4")).unwrap();
    assert_eq!(
        line.matches(" | ").count(),
        7,
        "escaped pipes keep 8 columns: {line}"
    );
    let csv_text = render::soa_csv(&soa).unwrap();
    let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
    let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(records.len(), 38);
    let excluded = records.iter().find(|r| &r[0] == "A.10.4").unwrap();
    assert_eq!(&excluded[4], "excluded");
    assert!(excluded[5].contains("\"quotes\"\nand lines"));
}

#[test]
fn the_oscal_component_definition_is_deterministic_and_names_catalog_ids() {
    let lib = library();
    let mut reg = base();
    add_control(
        &mut reg,
        json!({"id": "C-1", "implements": ["iso42001-2023:A.2.2"], "risks": ["R-HIGH"]}),
    );
    let soa = build_soa(&reg, lib.catalog(ISO).unwrap(), &no_evidence(), today());
    let doc = oscal::soa_component_definition(&soa, "Test Ltd");
    assert_eq!(doc, oscal::soa_component_definition(&soa, "Test Ltd"));
    let cd = &doc["component-definition"];
    let reqs = cd["components"][0]["control-implementations"][0]["implemented-requirements"]
        .as_array()
        .unwrap();
    assert_eq!(reqs.len(), 38);
    let catalog_ids: Vec<String> = lib
        .catalog(ISO)
        .unwrap()
        .items_of_kind("control")
        .map(|i| airisk_catalog::oscal::oscal_id(&i.id))
        .collect();
    let exported: Vec<&str> = reqs
        .iter()
        .map(|r| r["control-id"].as_str().unwrap())
        .collect();
    assert_eq!(exported, catalog_ids);
    let props = reqs[0]["props"].as_array().unwrap();
    assert!(props.contains(
        &json!({"name": "applied-control", "ns": airisk_catalog::oscal::PROP_NS, "value": "C-1"})
    ));
    // A change in content is a new revision: a new document uuid.
    decide(&mut reg, "iso42001-2023:A.10.4", false, Some("none"));
    let changed = build_soa(&reg, lib.catalog(ISO).unwrap(), &no_evidence(), today());
    let doc2 = oscal::soa_component_definition(&changed, "Test Ltd");
    assert_ne!(doc2["component-definition"]["uuid"], cd["uuid"]);
}
