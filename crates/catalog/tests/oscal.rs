//! OSCAL catalog export: shape, determinism, ids.

use std::collections::HashSet;

use airisk_catalog::import::{import_atlas, import_ciso_library};
use airisk_catalog::oscal::{catalog_uuid, oscal_id, to_oscal, to_oscal_string};
use airisk_catalog::Library;
use serde_json::Value;

fn is_token(s: &str) -> bool {
    let mut c = s.chars();
    matches!(c.next(), Some(f) if f.is_alphabetic() || f == '_')
        && c.all(|x| x.is_alphanumeric() || matches!(x, '.' | '-' | '_'))
}

/// Walks groups and controls, returning (groups, controls) and checking each node.
fn walk(node: &Value, ids: &mut HashSet<String>, counts: &mut (usize, usize)) {
    if node.get("id").is_some() && node.get("class").is_some() {
        assert!(
            !(node.get("groups").is_some() && node.get("controls").is_some()),
            "a group holds groups or controls, not both: {}",
            node["id"]
        );
    }
    for (key, is_group) in [("groups", true), ("controls", false)] {
        if let Some(list) = node.get(key) {
            let list = list.as_array().expect("array");
            assert!(!list.is_empty(), "empty {key} arrays must be omitted");
            for n in list {
                let id = n["id"].as_str().unwrap();
                assert!(is_token(id), "bad OSCAL id {id}");
                assert!(ids.insert(id.to_string()), "duplicate id {id}");
                assert!(!n["title"].as_str().unwrap().is_empty());
                assert_eq!(n["props"][0]["name"], "label");
                let part = &n["parts"][0];
                assert_eq!(
                    part["name"],
                    if is_group { "overview" } else { "statement" }
                );
                assert!(!part["prose"].as_str().unwrap().is_empty());
                for p in n["props"].as_array().unwrap() {
                    assert!(is_token(p["name"].as_str().unwrap()));
                    assert!(!p["value"].as_str().unwrap().is_empty());
                }
                if is_group {
                    counts.0 += 1;
                } else {
                    counts.1 += 1;
                    assert!(n.get("groups").is_none(), "controls hold no groups");
                }
                walk(n, ids, counts);
            }
        }
    }
}

#[test]
fn every_embedded_catalog_exports_well_formed_oscal() {
    let lib = Library::embedded().unwrap();
    for cat in lib.catalogs() {
        let doc = to_oscal(cat);
        let c = &doc["catalog"];
        let uuid = uuid::Uuid::parse_str(c["uuid"].as_str().unwrap()).unwrap();
        assert_eq!(uuid.get_version_num(), 5);
        let m = &c["metadata"];
        assert_eq!(m["title"], cat.meta.name.as_str());
        assert_eq!(m["version"], cat.meta.version.as_str());
        assert_eq!(m["oscal-version"], "1.1.2");
        let lm = m["last-modified"].as_str().unwrap();
        assert_eq!(lm.len(), 20, "{lm}");
        assert!(lm.ends_with("T00:00:00Z"));
        assert!(m["remarks"].as_str().unwrap().contains(&cat.meta.licence));
        let mut ids = HashSet::new();
        let mut counts = (0, 0);
        walk(c, &mut ids, &mut counts);
        assert_eq!(counts.0 + counts.1, cat.items().len(), "{}", cat.id());
    }
}

#[test]
fn nist_export_has_function_and_category_groups() {
    let lib = Library::embedded().unwrap();
    let cat = lib.catalog("nist-ai-rmf-1.0").unwrap();
    let doc = to_oscal(cat);
    let groups = doc["catalog"]["groups"].as_array().unwrap();
    assert_eq!(groups.len(), 4);
    assert_eq!(groups[0]["id"], "GOVERN");
    let mut ids = HashSet::new();
    let mut counts = (0, 0);
    walk(&doc["catalog"], &mut ids, &mut counts);
    assert_eq!(counts, (4 + 19, 72));
    assert!(ids.contains("GOVERN-1.1"));
}

#[test]
fn mixed_children_become_nested_controls() {
    let lib = Library::embedded().unwrap();
    let doc = to_oscal(lib.catalog("iso42001-2023").unwrap());
    let clause6 = &doc["catalog"]["groups"][2];
    assert_eq!(clause6["id"], "id-6");
    assert!(clause6.get("groups").is_none());
    let c61 = &clause6["controls"][0];
    assert_eq!(c61["id"], "id-6.1");
    assert_eq!(c61["controls"].as_array().unwrap().len(), 4);
}

#[test]
fn iso_export_prefixes_numeric_ids_and_keeps_labels() {
    let lib = Library::embedded().unwrap();
    let cat = lib.catalog("iso42001-2023").unwrap();
    let doc = to_oscal(cat);
    let first = &doc["catalog"]["groups"][0];
    assert_eq!(first["id"], "id-4");
    assert_eq!(first["props"][0]["value"], "4");
    assert_eq!(oscal_id("A.6.2.4"), "A.6.2.4");
    assert_eq!(oscal_id("6.1.2"), "id-6.1.2");
    assert_eq!(oscal_id("a b"), "a_b");
}

#[test]
fn export_is_deterministic() {
    let a = Library::embedded().unwrap();
    let b = Library::embedded().unwrap();
    for (x, y) in a.catalogs().iter().zip(b.catalogs()) {
        assert_eq!(to_oscal_string(x), to_oscal_string(y));
        assert_eq!(catalog_uuid(x), catalog_uuid(y));
    }
    let ids: HashSet<_> = a.catalogs().iter().map(catalog_uuid).collect();
    assert_eq!(
        ids.len(),
        a.catalogs().len(),
        "distinct catalogs, distinct uuids"
    );
}

/// Writes the OSCAL exports to `$AIRISK_OSCAL_OUT` (used by `scripts/validate-oscal.sh`).
#[test]
fn write_exports_when_asked() {
    let Ok(dir) = std::env::var("AIRISK_OSCAL_OUT") else {
        return;
    };
    std::fs::create_dir_all(&dir).unwrap();
    let lib = Library::embedded().unwrap();
    let mut cats: Vec<_> = lib.catalogs().to_vec();
    // Imported catalogs too (fixtures), for their nested-control shapes.
    cats.push(import_atlas("atlas-mini.yaml", include_str!("fixtures/atlas-mini.yaml")).unwrap());
    cats.push(
        import_ciso_library("ciso-mini.yaml", include_str!("fixtures/ciso-mini.yaml")).unwrap(),
    );
    for cat in &cats {
        let path = std::path::Path::new(&dir).join(format!("{}.json", cat.id()));
        std::fs::write(path, to_oscal_string(cat)).unwrap();
    }
}
