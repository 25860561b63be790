//! The shipped catalogs load, validate and have the right counts.

use std::collections::BTreeSet;
use std::path::Path;

use airisk_catalog::{Library, Relationship, EMBEDDED_FILES};

fn lib() -> Library {
    Library::embedded().unwrap_or_else(|e| panic!("embedded catalogs must load: {e}"))
}

fn count(lib: &Library, catalog: &str, kind: &str) -> usize {
    lib.catalog(catalog)
        .unwrap_or_else(|| panic!("catalog {catalog} missing"))
        .count_kind(kind)
}

#[test]
fn iso42001_has_38_annex_a_controls_in_9_groups() {
    let l = lib();
    assert_eq!(count(&l, "iso42001-2023", "control"), 38);
    assert_eq!(count(&l, "iso42001-2023", "control_group"), 9);
    assert_eq!(count(&l, "iso42001-2023", "clause"), 7);
    let cat = l.catalog("iso42001-2023").unwrap();
    let per_group: Vec<(String, usize)> = cat
        .items_of_kind("control_group")
        .map(|g| {
            let n = cat
                .items_of_kind("control")
                .filter(|c| c.id.starts_with(&format!("{}.", g.id)))
                .count();
            (g.id.clone(), n)
        })
        .collect();
    let expected = [
        ("A.2", 3),
        ("A.3", 2),
        ("A.4", 5),
        ("A.5", 4),
        ("A.6", 9),
        ("A.7", 5),
        ("A.8", 4),
        ("A.9", 3),
        ("A.10", 3),
    ];
    let expected: Vec<(String, usize)> =
        expected.iter().map(|(g, n)| (g.to_string(), *n)).collect();
    assert_eq!(per_group, expected);
    // Clauses 4-10 are all present with their subclauses.
    for id in ["4.4", "5.3", "6.1.4", "6.3", "7.5", "8.4", "9.3", "10.2"] {
        assert!(cat.item(id).is_some(), "clause {id}");
    }
}

#[test]
fn nist_ai_rmf_has_4_functions_19_categories_72_subcategories() {
    let l = lib();
    assert_eq!(count(&l, "nist-ai-rmf-1.0", "function"), 4);
    assert_eq!(count(&l, "nist-ai-rmf-1.0", "category"), 19);
    assert_eq!(count(&l, "nist-ai-rmf-1.0", "subcategory"), 72);
    let cat = l.catalog("nist-ai-rmf-1.0").unwrap();
    let per_function: Vec<usize> = ["GOVERN", "MAP", "MEASURE", "MANAGE"]
        .iter()
        .map(|f| {
            cat.items_of_kind("subcategory")
                .filter(|s| s.id.starts_with(&format!("{f}-")))
                .count()
        })
        .collect();
    assert_eq!(per_function, [19, 18, 22, 13]);
    assert_eq!(cat.children("MEASURE-2").count(), 13);
    assert_eq!(
        cat.item("GOVERN-1.1").unwrap().attributes["nist_id"],
        "GOVERN 1.1"
    );
}

#[test]
fn nist_ai_600_1_has_12_risks() {
    assert_eq!(count(&lib(), "nist-ai-600-1", "risk"), 12);
}

#[test]
fn owasp_editions_have_10_items_each() {
    let l = lib();
    for c in [
        "owasp-llm-top10-2025",
        "owasp-llm-top10-2026",
        "owasp-agentic-top10-2026",
    ] {
        assert_eq!(count(&l, c, "risk"), 10, "{c}");
        assert_eq!(l.catalog(c).unwrap().items().len(), 10, "{c}");
    }
    assert_eq!(
        l.item("owasp-llm-top10-2026", "LLM08").unwrap().title,
        "Hidden Context Exposure"
    );
    assert_eq!(
        l.item("owasp-agentic-top10-2026", "ASI01").unwrap().title,
        "Agent Goal Hijack"
    );
}

#[test]
fn atlas_has_16_tactics() {
    let l = lib();
    assert_eq!(count(&l, "mitre-atlas-tactics", "tactic"), 16);
    assert!(l.item("mitre-atlas-tactics", "AML.TA0000").is_some());
}

#[test]
fn mit_repository_has_7_domains_24_subdomains_and_causal_taxonomy() {
    let l = lib();
    let c = "mit-ai-risk-repository-2025-04";
    assert_eq!(count(&l, c, "domain"), 7);
    assert_eq!(count(&l, c, "subdomain"), 24);
    assert_eq!(count(&l, c, "causal_factor"), 3);
    assert_eq!(count(&l, c, "causal_value"), 9);
    let cat = l.catalog(c).unwrap();
    assert_eq!(cat.children("6").count(), 6);
    assert_eq!(cat.children("7").count(), 6);
}

#[test]
fn eu_ai_act_tiers_practices_areas_obligations_and_dates() {
    let l = lib();
    let c = "eu-ai-act-2024-1689";
    assert_eq!(count(&l, c, "risk_tier"), 4);
    assert_eq!(l.catalog(c).unwrap().children("art5").count(), 9); // 8 + Omnibus addition
    assert_eq!(count(&l, c, "high_risk_area"), 8);
    let cat = l.catalog(c).unwrap();
    let obligations: Vec<&str> = cat
        .items_of_kind("obligation")
        .map(|i| i.id.as_str())
        .collect();
    assert_eq!(
        obligations,
        [
            "art9", "art10", "art11", "art12", "art13", "art14", "art15", "art17", "art26",
            "art27", "art43", "art49", "art50", "art53", "art55", "art72", "art73"
        ]
    );
    for o in cat.items_of_kind("obligation") {
        assert!(o.applies_from.is_some(), "{} has a date", o.id);
        assert!(o.attributes.contains_key("role"), "{} has a role", o.id);
    }
    assert_eq!(
        cat.item("art53").unwrap().applies_from.as_deref(),
        Some("2025-08-02")
    );
    // Amended dates are separate items, each with its own source.
    let amended: Vec<_> = cat.items_of_kind("amended_date").collect();
    assert_eq!(amended.len(), 5);
    for a in amended {
        assert!(
            a.source.as_deref().unwrap_or("").contains("2026/1744"),
            "{}",
            a.id
        );
        assert!(a.applies_from.is_some());
    }
    assert_eq!(
        cat.item("omnibus.annex-iii-high-risk")
            .unwrap()
            .applies_from
            .as_deref(),
        Some("2027-12-02")
    );
}

#[test]
fn taxonomy_has_the_eight_m4_categories() {
    let l = lib();
    let cat = l.catalog("airisk-taxonomy-1").unwrap();
    let ids: Vec<&str> = cat.items().iter().map(|i| i.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "bias_fairness",
            "explainability_transparency",
            "security",
            "privacy",
            "safety",
            "societal",
            "operational",
            "supply_chain"
        ]
    );
    for c in cat.items() {
        assert!(!c.references.is_empty(), "{} suggests controls", c.id);
        for r in &c.references {
            let (cat_id, item) = l.resolve(r).expect("resolves");
            assert_eq!(cat_id.id(), "iso42001-2023");
            assert_eq!(item.kind, "control", "{r} is an Annex A control");
        }
    }
    // Annex C risk sources ship with ISO 42001.
    assert_eq!(count(&l, "iso42001-2023", "risk_source"), 7);
}

#[test]
fn taxonomy_crosswalk_matches_suggested_controls() {
    let l = lib();
    let cat = l.catalog("airisk-taxonomy-1").unwrap();
    let from_refs: BTreeSet<(String, String)> = cat
        .items()
        .iter()
        .flat_map(|c| {
            c.references.iter().map(move |r| {
                (
                    c.id.clone(),
                    r.trim_start_matches("iso42001-2023:").to_string(),
                )
            })
        })
        .collect();
    let from_cw: BTreeSet<(String, String)> = l
        .crosswalk("airisk-taxonomy-1", "iso42001-2023")
        .iter()
        .map(|m| (m.from_item.to_string(), m.to_item.to_string()))
        .collect();
    assert_eq!(from_refs, from_cw);
}

#[test]
fn every_catalog_has_metadata_and_every_item_a_description() {
    let l = lib();
    assert_eq!(l.catalogs().len(), 10);
    for c in l.catalogs() {
        for f in [
            &c.meta.licence,
            &c.meta.source,
            &c.meta.version,
            &c.meta.text_note,
        ] {
            assert!(!f.trim().is_empty(), "{}", c.id());
        }
        for it in c.items() {
            assert!(!it.description.trim().is_empty(), "{}:{}", c.id(), it.id);
        }
    }
}

#[test]
fn embedded_list_matches_the_catalogs_directory() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../catalogs");
    let mut on_disk = BTreeSet::new();
    for dir in [root.clone(), root.join("crosswalks")] {
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            if p.extension().and_then(|x| x.to_str()) == Some("yaml") {
                on_disk.insert(
                    p.strip_prefix(&root)
                        .unwrap()
                        .to_string_lossy()
                        .replace('\\', "/"),
                );
            }
        }
    }
    let embedded: BTreeSet<String> = EMBEDDED_FILES.iter().map(|(n, _)| n.to_string()).collect();
    assert_eq!(embedded, on_disk);
}

#[test]
fn loading_the_directory_equals_the_embedded_library() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../catalogs");
    let mut from_dir = Library::empty();
    from_dir.load_dir(&root).unwrap();
    let emb = lib();
    let ids = |l: &Library| -> BTreeSet<String> {
        l.catalogs().iter().map(|c| c.id().to_string()).collect()
    };
    assert_eq!(ids(&from_dir), ids(&emb));
    assert_eq!(from_dir.crosswalks().len(), emb.crosswalks().len());
}

#[test]
fn crosswalk_reads_both_directions() {
    let l = lib();
    let fwd = l.crosswalk("nist-ai-rmf-1.0", "iso42001-2023");
    let back = l.crosswalk("iso42001-2023", "nist-ai-rmf-1.0");
    assert!(fwd.len() >= 60);
    assert_eq!(fwd.len(), back.len());
    let row = fwd
        .iter()
        .find(|m| m.from_item == "MAP-1.5" && m.to_item == "6.1.1")
        .unwrap();
    assert_eq!(row.relationship, Relationship::Subset);
    assert!(!row.inverted);
    let inv = back
        .iter()
        .find(|m| m.from_item == "6.1.1" && m.to_item == "MAP-1.5")
        .unwrap();
    assert_eq!(inv.relationship, Relationship::Superset);
    assert!(inv.inverted);
    assert_eq!(inv.from_catalog, "iso42001-2023");
    // Unrelated catalogs have no crosswalk.
    assert!(l
        .crosswalk("nist-ai-600-1", "mitre-atlas-tactics")
        .is_empty());
    // Item-level lookup.
    let g11 = l.mappings_for("nist-ai-rmf-1.0", "GOVERN-1.1", "iso42001-2023");
    let targets: BTreeSet<&str> = g11.iter().map(|m| m.to_item).collect();
    assert_eq!(targets, BTreeSet::from(["4.1", "6.2", "A.2.2", "A.2.4"]));
}

#[test]
fn mappings_from_an_item_span_all_crosswalks() {
    let l = lib();
    let m = l.mappings_from("iso42001-2023", "A.6.2.6");
    let catalogs: BTreeSet<&str> = m.iter().map(|x| x.to_catalog).collect();
    assert_eq!(
        catalogs,
        BTreeSet::from([
            "nist-ai-rmf-1.0",
            "airisk-taxonomy-1",
            "eu-ai-act-2024-1689"
        ])
    );
    assert!(m.iter().all(|x| x.from_item == "A.6.2.6" && x.inverted));
    assert!(l.mappings_from("iso42001-2023", "nope").is_empty());
}

#[test]
fn every_eu_obligation_maps_to_iso42001() {
    let l = lib();
    let cw = l.crosswalk("eu-ai-act-2024-1689", "iso42001-2023");
    let cat = l.catalog("eu-ai-act-2024-1689").unwrap();
    for o in cat.items_of_kind("obligation") {
        assert!(cw.iter().any(|m| m.from_item == o.id), "{} unmapped", o.id);
    }
}

#[test]
fn lookups() {
    let l = lib();
    assert_eq!(l.find_catalog("iso42001").unwrap().id(), "iso42001-2023");
    assert_eq!(
        l.find_catalog("nist-ai-rmf-1.0").unwrap().id(),
        "nist-ai-rmf-1.0"
    );
    // Two OWASP LLM editions: the family name is ambiguous.
    let err = l.find_catalog("owasp-llm-top10").unwrap_err();
    assert_eq!(
        err.to_string(),
        "`owasp-llm-top10` matches several catalogs (owasp-llm-top10-2025, owasp-llm-top10-2026); give one of these ids"
    );
    let err = l.find_catalog("nope").unwrap_err();
    assert_eq!(err.to_string(), "unknown catalog `nope`");
    let cat = l.catalog("iso42001-2023").unwrap();
    let kids: Vec<&str> = cat.children("A.6.1").map(|i| i.id.as_str()).collect();
    assert_eq!(kids, ["A.6.1.2", "A.6.1.3"]);
    let up: Vec<&str> = cat
        .ancestors("A.6.2.4")
        .iter()
        .map(|i| i.id.as_str())
        .collect();
    assert_eq!(up, ["A.6.2", "A.6", "A"]);
    assert_eq!(cat.roots().count(), 9); // clauses 4-10, Annex A, Annex C
    assert!(l.resolve("iso42001-2023:A.9.4").is_some());
    assert!(l.resolve("iso42001-2023:A.9.9").is_none());
    assert!(l.resolve("no-colon").is_none());
}
