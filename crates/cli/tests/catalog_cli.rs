//! `airisk catalog …` and `airisk crosswalk …` over the built-in catalogs.

mod common;

use common::*;
use predicates::prelude::*;

#[test]
fn catalog_list_shows_every_framework_with_counts() {
    let db = sqlite_db();
    let list = json_of(db.airisk(&["catalog", "list", "--json"]));
    let catalogs = list["catalogs"].as_array().unwrap();
    let iso = catalogs
        .iter()
        .find(|c| c["id"] == "iso42001-2023")
        .expect("ISO 42001");
    assert_eq!(iso["kinds"]["control"], 38, "{iso}");
    let nist = catalogs
        .iter()
        .find(|c| c["id"] == "nist-ai-rmf-1.0")
        .expect("NIST AI RMF");
    assert_eq!(nist["kinds"]["subcategory"], 72, "{nist}");
    assert!(catalogs
        .iter()
        .all(|c| !c["licence"].as_str().unwrap().is_empty()));
    db.airisk(&["catalog", "list"])
        .assert()
        .success()
        .stdout(predicate::str::contains("iso42001-2023"));
}

#[test]
fn catalog_show_an_item_with_its_mappings() {
    let db = sqlite_db();
    let item = json_of(db.airisk(&["catalog", "show", "iso42001-2023", "A.6.2.6", "--json"]));
    assert_eq!(item["id"], "A.6.2.6");
    assert_eq!(item["kind"], "control");
    db.airisk(&["catalog", "show", "iso42001-2023", "A.6.2.6"])
        .assert()
        .success()
        .stdout(predicate::str::contains("iso42001-2023:A.6.2.6"));
    db.airisk(&["catalog", "show", "iso42001-2023", "A.99"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("has no item `A.99`"));
    db.airisk(&["catalog", "show", "no-such-framework"])
        .assert()
        .code(1);
    let oscal = json_of(db.airisk(&["catalog", "show", "iso42001-2023", "--oscal"]));
    assert!(oscal["catalog"]["uuid"].is_string());
}

#[test]
fn crosswalk_reads_both_directions() {
    let db = sqlite_db();
    let forward = json_of(db.airisk(&["crosswalk", "nist-ai-rmf-1.0", "iso42001-2023", "--json"]));
    let backward = json_of(db.airisk(&["crosswalk", "iso42001-2023", "nist-ai-rmf-1.0", "--json"]));
    let (f, b) = (
        forward["mappings"].as_array().unwrap(),
        backward["mappings"].as_array().unwrap(),
    );
    assert!(!f.is_empty());
    assert_eq!(f.len(), b.len());
    fn flip(relationship: &str) -> &str {
        match relationship {
            "subset" => "superset",
            "superset" => "subset",
            other => other,
        }
    }
    for row in f {
        let twin = b
            .iter()
            .find(|x| {
                x["from"] == row["to"]
                    && x["to"] == row["from"]
                    && x["rationale"] == row["rationale"]
            })
            .expect("every row read backwards");
        assert_eq!(
            twin["relationship"],
            flip(row["relationship"].as_str().unwrap())
        );
    }
    db.airisk(&["crosswalk", "nist-ai-rmf-1.0", "iso42001-2023"])
        .assert()
        .success()
        .stdout(predicate::str::contains("mappings."));
}
