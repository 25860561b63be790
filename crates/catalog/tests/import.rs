//! Importers: official ATLAS.yaml structure and CISO Assistant framework libraries.

use airisk_catalog::import::{import_atlas, import_ciso_library};
use airisk_catalog::{CatalogError, Library};

const ATLAS: &str = include_str!("fixtures/atlas-mini.yaml");
const CISO: &str = include_str!("fixtures/ciso-mini.yaml");

#[test]
fn atlas_import_builds_tactics_techniques_and_mitigations() {
    let cat = import_atlas("atlas-mini.yaml", ATLAS).unwrap();
    assert_eq!(cat.id(), "mitre-atlas-9.9.9");
    assert_eq!(cat.meta.version, "9.9.9");
    assert!(cat.meta.licence.contains("Apache-2.0"));
    assert_eq!(cat.count_kind("tactic"), 2);
    assert_eq!(cat.count_kind("technique"), 1);
    assert_eq!(cat.count_kind("sub_technique"), 1);
    assert_eq!(cat.count_kind("mitigation"), 1);
    let t = cat.item("AML.T0051").unwrap();
    assert_eq!(t.references, ["AML.TA0005", "AML.TA0004"]);
    assert_eq!(t.attributes["maturity"], "realized");
    let sub = cat.item("AML.T0051.000").unwrap();
    assert_eq!(sub.parent.as_deref(), Some("AML.T0051"));
    assert_eq!(sub.attributes["attack_reference"], "T1059");
    assert_eq!(
        cat.item("AML.TA0005").unwrap().description,
        "Test tactic two."
    );
    let m = cat.item("AML.M0015").unwrap();
    assert_eq!(m.references, ["AML.T0051", "AML.T0051.000"]);
    assert!(cat.item("AML.CS0000").is_none());
    // It validates next to the shipped catalogs.
    let mut lib = Library::embedded().unwrap();
    lib.add(vec![cat], vec![]).unwrap();
    assert!(lib.item("mitre-atlas-9.9.9", "AML.T0051").is_some());
}

#[test]
fn atlas_import_reports_structural_problems() {
    let err = import_atlas("a.yaml", "id: ATLAS\nname: x\n").unwrap_err();
    let fields: Vec<&str> = err.issues().iter().map(|i| i.field.as_str()).collect();
    assert_eq!(fields, ["version", "matrices"]);
    assert!(err.issues().iter().all(|i| i.file == "a.yaml"));

    let bad = ATLAS.replace(
        "      - id: AML.T0051.000\n",
        "      - idx: AML.T0051.000\n",
    );
    let err = import_atlas("a.yaml", &bad).unwrap_err();
    assert!(err.to_string().contains("techniques[1]"), "{err}");

    let err = import_atlas("a.yaml", "format-version: 6.0.0\ncollection: {}\n").unwrap_err();
    assert_eq!(err.issues()[0].field, "format-version");

    let err = import_atlas("a.yaml", "matrices: [unclosed").unwrap_err();
    assert!(matches!(err, CatalogError::Syntax { .. }));
}

#[test]
fn atlas_import_dangling_tactic_fails_validation() {
    let bad = ATLAS.replace("          - AML.TA0004\n", "          - AML.TA9999\n");
    let cat = import_atlas("a.yaml", &bad).unwrap();
    let err = Library::empty().add(vec![cat], vec![]).unwrap_err();
    let i = &err.issues()[0];
    assert_eq!(i.location, "item `AML.T0051`");
    assert_eq!(i.field, "references");
}

#[test]
fn ciso_import_maps_requirement_nodes() {
    let cat = import_ciso_library("ciso-mini.yaml", CISO).unwrap();
    assert_eq!(cat.id(), "ciso-tf-1");
    assert_eq!(cat.meta.licence, "CC0 test data");
    assert_eq!(cat.meta.version, "3");
    assert_eq!(cat.meta.published.as_deref(), Some("2026-01-15"));
    let ids: Vec<&str> = cat.items().iter().map(|i| i.id.as_str()).collect();
    // ref_id made id-safe; missing ref_id and repeated ref_id fall back to the URN tail.
    assert_eq!(ids, ["GOV", "GOV-1.1", "gov-2", "dup"]);
    let g = cat.item("GOV").unwrap();
    assert_eq!(g.kind, "group");
    let p = cat.item("GOV-1.1").unwrap();
    assert_eq!(p.kind, "requirement");
    assert_eq!(p.parent.as_deref(), Some("GOV"));
    assert_eq!(p.attributes["ref_id"], "GOV 1.1");
    assert_eq!(p.attributes["depth"], "2");
    assert_eq!(p.attributes["importance"], "mandatory");
    assert_eq!(p.attributes["implementation_groups"], "clauses, core");
    assert_eq!(p.note.as_deref(), Some("Some guidance."));
    let n = cat.item("gov-2").unwrap();
    assert_eq!(n.description, "A node with no ref_id and no name.");
    assert!(!n.title.is_empty());
    assert_eq!(cat.children("GOV").count(), 3);
    Library::empty().add(vec![cat], vec![]).unwrap();
}

#[test]
fn ciso_import_reports_problems_by_node_and_field() {
    let bad = CISO.replace(
        "parent_urn: urn:example:risk:req_node:test-framework:gov\n        ref_id: GOV 1.1\n        name: Policy",
        "parent_urn: urn:example:risk:req_node:test-framework:nope\n        ref_id: GOV 1.1\n        name: Policy",
    );
    let err = import_ciso_library("c.yaml", &bad).unwrap_err();
    let i = &err.issues()[0];
    assert_eq!(i.file, "c.yaml");
    assert_eq!(
        i.location,
        "node `urn:example:risk:req_node:test-framework:gov-1`"
    );
    assert_eq!(i.field, "parent_urn");

    let err = import_ciso_library("c.yaml", "urn: x\nobjects:\n  risk_matrix: []\n").unwrap_err();
    assert_eq!(err.issues()[0].field, "objects.framework");

    let bad = CISO.replace("assessable: false", "assessable: maybe");
    let err = import_ciso_library("c.yaml", &bad).unwrap_err();
    assert_eq!(err.issues()[0].field, "assessable");

    let err = import_ciso_library("c.yaml", "- not a library\n").unwrap_err();
    assert_eq!(err.issues()[0].field, "(top level)");
}

#[test]
fn a_library_folder_may_hold_ciso_assistant_and_atlas_files_as_they_are() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ciso.yaml"), CISO).unwrap();
    std::fs::write(
        dir.path().join("atlas.yaml"),
        include_str!("fixtures/atlas-mini.yaml"),
    )
    .unwrap();
    let mut lib = Library::empty();
    lib.load_dir(dir.path()).unwrap();
    let ids: Vec<&str> = lib.catalogs().iter().map(|c| c.id()).collect();
    assert!(ids.contains(&"ciso-tf-1"), "{ids:?}");
    assert!(
        ids.iter().any(|id| id.starts_with("mitre-atlas-")),
        "{ids:?}"
    );
    assert!(lib.resolve("ciso-tf-1:GOV-1.1").is_some());
}
