//! One test (at least) per validation rule. Each checks that the problem is reported with the
//! file, the item (or section) and the field.

use airisk_catalog::{CatalogError, Issue, Library};

const META: &str = "catalog:
  id: t
  framework: t
  name: Test
  version: '1'
  publisher: me
  licence: CC0
  source: here
  text_note: own words
";

fn cat(items: &str) -> String {
    format!("{META}items:\n{items}")
}

fn item(id: &str, extra: &str) -> String {
    format!("  - id: '{id}'\n    kind: thing\n    title: T {id}\n    description: D {id}\n{extra}")
}

fn issues_of(files: &[(&str, &str)]) -> Vec<Issue> {
    match Library::from_texts(files.iter().map(|(n, t)| (n.to_string(), *t))) {
        Ok(_) => panic!("expected a validation error"),
        Err(e) => {
            assert!(
                matches!(e, CatalogError::Invalid(_)),
                "expected Invalid, got {e:?}"
            );
            // The rendered error names every issue.
            let text = e.to_string();
            for i in e.issues() {
                assert!(text.contains(&i.message));
            }
            e.issues().to_vec()
        }
    }
}

fn one(files: &[(&str, &str)]) -> Issue {
    let v = issues_of(files);
    assert_eq!(v.len(), 1, "expected exactly one issue, got {v:#?}");
    v.into_iter().next().unwrap()
}

fn assert_issue(i: &Issue, file: &str, location: &str, field: &str, msg_part: &str) {
    assert_eq!(i.file, file, "{i}");
    assert_eq!(i.location, location, "{i}");
    assert_eq!(i.field, field, "{i}");
    assert!(i.message.contains(msg_part), "{i}");
}

#[test]
fn valid_minimal_catalog_loads() {
    let t = cat(&(item("a", "") + &item("b", "    parent: a\n")));
    let lib = Library::from_texts([("f.yaml".to_string(), t.as_str())]).unwrap();
    assert_eq!(lib.catalog("t").unwrap().children("a").count(), 1);
}

#[test]
fn rule_metadata_present() {
    for field in [
        "id",
        "framework",
        "name",
        "version",
        "publisher",
        "licence",
        "source",
        "text_note",
    ] {
        let meta: String = META
            .lines()
            .filter(|l| !l.trim_start().starts_with(&format!("{field}:")))
            .map(|l| format!("{l}\n"))
            .collect();
        let t = format!("{meta}items:\n{}", item("a", ""));
        let i = one(&[("m.yaml", &t)]);
        assert_issue(&i, "m.yaml", "catalog metadata", field, "missing");
    }
}

#[test]
fn rule_metadata_dates_are_dates() {
    let t = cat(&item("a", "")).replace(
        "text_note: own words\n",
        "text_note: x\n  updated: 2026-02-30\n",
    );
    let i = one(&[("d.yaml", &t)]);
    assert_issue(&i, "d.yaml", "catalog metadata", "updated", "YYYY-MM-DD");
}

#[test]
fn rule_item_required_fields() {
    for field in ["kind", "title", "description"] {
        let it: String = item("a", "")
            .lines()
            .filter(|l| !l.trim_start().starts_with(&format!("{field}:")))
            .map(|l| format!("{l}\n"))
            .collect();
        let t = cat(&it);
        let i = one(&[("r.yaml", &t)]);
        assert_issue(&i, "r.yaml", "item `a`", field, "missing");
    }
    let t = cat("  - kind: thing\n    title: T\n    description: D\n");
    let i = one(&[("r.yaml", &t)]);
    assert_issue(&i, "r.yaml", "item #1", "id", "missing");
}

#[test]
fn rule_id_syntax() {
    let t = cat(&item("GOVERN 1.1", ""));
    let i = one(&[("s.yaml", &t)]);
    assert_issue(&i, "s.yaml", "item `GOVERN 1.1`", "id", "not a valid id");
    let t = cat(&item("a", "")).replace("  id: t\n", "  id: 'bad id'\n");
    let i = one(&[("s.yaml", &t)]);
    assert_issue(&i, "s.yaml", "catalog metadata", "id", "not a valid id");
}

#[test]
fn rule_kind_is_snake_case() {
    let t = cat(&item("a", "").replace("kind: thing", "kind: Big-Thing"));
    let i = one(&[("k.yaml", &t)]);
    assert_issue(&i, "k.yaml", "item `a`", "kind", "snake_case");
}

#[test]
fn rule_unique_item_ids() {
    let t = cat(&(item("a", "") + &item("a", "")));
    let i = one(&[("u.yaml", &t)]);
    assert_issue(&i, "u.yaml", "item `a`", "id", "duplicate id `a`");
}

#[test]
fn rule_parent_exists() {
    let t = cat(&item("a", "    parent: zz\n"));
    let i = one(&[("p.yaml", &t)]);
    assert_issue(
        &i,
        "p.yaml",
        "item `a`",
        "parent",
        "parent `zz` does not exist",
    );
}

#[test]
fn rule_no_parent_cycles() {
    let t = cat(&item("a", "    parent: a\n"));
    let i = one(&[("c.yaml", &t)]);
    assert_issue(&i, "c.yaml", "item `a`", "parent", "own parent");

    let t = cat(&(item("a", "    parent: b\n")
        + &item("b", "    parent: a\n")
        + &item("c", "    parent: a\n")));
    let v = issues_of(&[("c.yaml", &t)]);
    let looped: Vec<&str> = v.iter().map(|i| i.location.as_str()).collect();
    assert_eq!(looped, ["item `a`", "item `b`"], "{v:#?}");
    assert!(v
        .iter()
        .all(|i| i.field == "parent" && i.message.contains("loops")));
}

#[test]
fn rule_applies_from_is_a_date() {
    let t = cat(&item("a", "    applies_from: 2 Aug 2026\n"));
    let i = one(&[("a.yaml", &t)]);
    assert_issue(&i, "a.yaml", "item `a`", "applies_from", "YYYY-MM-DD");
}

#[test]
fn rule_references_resolve() {
    let t = cat(&item("a", "    references: [nope]\n"));
    let i = one(&[("x.yaml", &t)]);
    assert_issue(
        &i,
        "x.yaml",
        "item `a`",
        "references",
        "`nope` does not exist",
    );

    let t = cat(&item("a", "    references: ['other:b']\n"));
    let i = one(&[("x.yaml", &t)]);
    assert_issue(&i, "x.yaml", "item `a`", "references", "catalog `other`");

    let other = META.replace("id: t\n", "id: other\n") + "items:\n" + &item("b", "");
    let t = cat(&item("a", "    references: ['other:c']\n"));
    let i = one(&[("x.yaml", &t), ("o.yaml", &other)]);
    assert_issue(
        &i,
        "x.yaml",
        "item `a`",
        "references",
        "`c` does not exist in catalog `other`",
    );

    let t = cat(&item("a", "    references: ['other:b']\n"));
    Library::from_texts([
        ("x.yaml".to_string(), t.as_str()),
        ("o.yaml".to_string(), other.as_str()),
    ])
    .unwrap();
}

#[test]
fn rule_unknown_fields_are_rejected() {
    let t = cat(&item("a", "    titel: typo\n"));
    let i = one(&[("f.yaml", &t)]);
    assert_issue(&i, "f.yaml", "item `a`", "titel", "unknown field");
    let t = cat(&item("a", "")).replace("  licence: CC0\n", "  licence: CC0\n  license: CC0\n");
    let i = one(&[("f.yaml", &t)]);
    assert_issue(&i, "f.yaml", "catalog metadata", "license", "unknown field");
}

#[test]
fn rule_field_types() {
    let t = cat(&item("a", "    attributes: [x]\n"));
    let i = one(&[("t.yaml", &t)]);
    assert_issue(&i, "t.yaml", "item `a`", "attributes", "mapping");
    let t = cat(&item("a", "").replace("title: T a", "title: {x: 1}"));
    let i = one(&[("t.yaml", &t)]);
    assert_issue(&i, "t.yaml", "item `a`", "title", "text");
    let t = format!("{META}items: 3\n");
    let i = one(&[("t.yaml", &t)]);
    assert_issue(&i, "t.yaml", "file", "items", "list");
}

#[test]
fn rule_yaml_syntax_and_shape() {
    let i = one(&[("y.yaml", "catalog: [unclosed\n")]);
    assert_eq!(i.file, "y.yaml");
    assert_eq!(i.field, "(yaml)");
    let i = one(&[("y.yaml", "- a\n- b\n")]);
    assert_issue(&i, "y.yaml", "file", "(top level)", "catalog");
    let i = one(&[("y.yaml", "something: else\n")]);
    assert_issue(&i, "y.yaml", "file", "(top level)", "catalog");
    let i = one(&[("y.yaml", "")]);
    assert!(i.message.contains("empty"), "{i}");
    let i = one(&[("y.yaml", "a: 1\n---\nb: 2\n")]);
    assert!(i.message.contains("one YAML document"), "{i}");
}

#[test]
fn rule_unique_catalog_ids() {
    let t = cat(&item("a", ""));
    let v = issues_of(&[("one.yaml", &t), ("two.yaml", &t)]);
    assert_eq!(v.len(), 1, "{v:#?}");
    assert_issue(&v[0], "two.yaml", "catalog metadata", "id", "one.yaml");
}

const CW_META: &str = "crosswalk:
  id: cw
  name: CW
  version: '1'
  source_catalog: s
  target_catalog: t
  licence: CC0
  source: here
  text_note: own words
";

fn two_catalogs() -> (String, String) {
    let s = META.replace("id: t\n", "id: s\n") + "items:\n" + &item("s1", "") + &item("s2", "");
    let t = cat(&(item("t1", "") + &item("t2", "")));
    (s, t)
}

fn cw(rows: &str) -> String {
    format!("{CW_META}mappings:\n{rows}")
}

fn row(s: &str, t: &str, rel: &str) -> String {
    format!("  - source: {s}\n    target: {t}\n    relationship: {rel}\n    rationale: because\n")
}

#[test]
fn valid_crosswalk_loads_and_reads_both_ways() {
    let (s, t) = two_catalogs();
    let c = cw(&(row("s1", "t1", "subset") + &row("s2", "t1", "equal")));
    let lib = Library::from_texts([
        ("s.yaml".to_string(), s.as_str()),
        ("t.yaml".to_string(), t.as_str()),
        ("cw.yaml".to_string(), c.as_str()),
    ])
    .unwrap();
    let back = lib.crosswalk("t", "s");
    assert_eq!(back.len(), 2);
    assert_eq!(back[0].from_item, "t1");
    assert_eq!(back[0].to_item, "s1");
    assert_eq!(back[0].relationship.as_str(), "superset");
    assert_eq!(back[1].relationship.as_str(), "equal");
}

#[test]
fn rule_crosswalk_metadata_present() {
    let (s, t) = two_catalogs();
    for field in [
        "id",
        "name",
        "version",
        "licence",
        "source",
        "text_note",
        "source_catalog",
        "target_catalog",
    ] {
        let meta: String = CW_META
            .lines()
            .filter(|l| !l.trim_start().starts_with(&format!("{field}:")))
            .map(|l| format!("{l}\n"))
            .collect();
        let c = format!("{meta}mappings:\n{}", row("s1", "t1", "equal"));
        let i = one(&[("s.yaml", &s), ("t.yaml", &t), ("cw.yaml", &c)]);
        assert_issue(&i, "cw.yaml", "crosswalk metadata", field, "missing");
    }
}

#[test]
fn rule_crosswalk_catalogs_exist() {
    let (s, _) = two_catalogs();
    let c = cw(&row("s1", "t1", "equal"));
    let i = one(&[("s.yaml", &s), ("cw.yaml", &c)]);
    assert_issue(
        &i,
        "cw.yaml",
        "crosswalk metadata",
        "target_catalog",
        "`t` is not loaded",
    );
}

#[test]
fn rule_crosswalk_endpoints_exist() {
    let (s, t) = two_catalogs();
    let c = cw(&row("s9", "t1", "equal"));
    let i = one(&[("s.yaml", &s), ("t.yaml", &t), ("cw.yaml", &c)]);
    assert_issue(
        &i,
        "cw.yaml",
        "mapping #1 (s9 -> t1)",
        "source",
        "`s9` does not exist in catalog `s`",
    );
    let c = cw(&row("s1", "t9", "equal"));
    let i = one(&[("s.yaml", &s), ("t.yaml", &t), ("cw.yaml", &c)]);
    assert_issue(
        &i,
        "cw.yaml",
        "mapping #1 (s1 -> t9)",
        "target",
        "`t9` does not exist in catalog `t`",
    );
}

#[test]
fn rule_relationship_values() {
    let (s, t) = two_catalogs();
    let c = cw(&row("s1", "t1", "overlaps"));
    let i = one(&[("s.yaml", &s), ("t.yaml", &t), ("cw.yaml", &c)]);
    assert_issue(
        &i,
        "cw.yaml",
        "mapping #1 (s1 -> t1)",
        "relationship",
        "`overlaps` is not a relationship",
    );
    let c = cw("  - source: s1\n    target: t1\n    rationale: r\n");
    let i = one(&[("s.yaml", &s), ("t.yaml", &t), ("cw.yaml", &c)]);
    assert_issue(
        &i,
        "cw.yaml",
        "mapping #1 (s1 -> t1)",
        "relationship",
        "missing",
    );
}

#[test]
fn rule_rationale_present() {
    let (s, t) = two_catalogs();
    let c = cw("  - source: s1\n    target: t1\n    relationship: equal\n");
    let i = one(&[("s.yaml", &s), ("t.yaml", &t), ("cw.yaml", &c)]);
    assert_issue(
        &i,
        "cw.yaml",
        "mapping #1 (s1 -> t1)",
        "rationale",
        "missing",
    );
}

#[test]
fn rule_mapping_pairs_unique() {
    let (s, t) = two_catalogs();
    let c = cw(&(row("s1", "t1", "equal") + &row("s1", "t1", "subset")));
    let i = one(&[("s.yaml", &s), ("t.yaml", &t), ("cw.yaml", &c)]);
    assert_issue(
        &i,
        "cw.yaml",
        "mapping #2 (s1 -> t1)",
        "target",
        "mapped twice",
    );
}

#[test]
fn rule_unique_crosswalk_ids() {
    let (s, t) = two_catalogs();
    let c = cw(&row("s1", "t1", "equal"));
    let i = one(&[
        ("s.yaml", &s),
        ("t.yaml", &t),
        ("a.yaml", &c),
        ("b.yaml", &c),
    ]);
    assert_issue(&i, "b.yaml", "crosswalk metadata", "id", "a.yaml");
}

#[test]
fn failed_load_leaves_library_unchanged() {
    let mut lib = Library::embedded().unwrap();
    let before = lib.catalogs().len();
    let bad = cat(&item("a", "    parent: missing\n"));
    assert!(lib
        .add_texts([("bad.yaml".to_string(), bad.as_str())])
        .is_err());
    assert_eq!(lib.catalogs().len(), before);
    // A good extra catalog can reference the embedded ones.
    let good = cat(&item("a", "    references: ['iso42001-2023:A.2.2']\n"));
    lib.add_texts([("good.yaml".to_string(), good.as_str())])
        .unwrap();
    assert_eq!(lib.catalogs().len(), before + 1);
}

#[test]
fn load_dir_reports_paths_and_io_errors() {
    let dir = tempfile::tempdir().unwrap();
    let sub = dir.path().join("crosswalks");
    std::fs::create_dir(&sub).unwrap();
    let (s, t) = two_catalogs();
    std::fs::write(dir.path().join("s.yaml"), &s).unwrap();
    std::fs::write(dir.path().join("t.yml"), &t).unwrap();
    std::fs::write(dir.path().join("README.md"), "not yaml").unwrap();
    std::fs::write(sub.join("cw.yaml"), cw(&row("s1", "t9", "equal"))).unwrap();
    let mut lib = Library::empty();
    let err = lib.load_dir(dir.path()).unwrap_err();
    let i = &err.issues()[0];
    assert!(i.file.ends_with("cw.yaml"), "{i}");
    assert_eq!(i.field, "target");
    assert!(lib.catalogs().is_empty());
    std::fs::write(sub.join("cw.yaml"), cw(&row("s1", "t2", "equal"))).unwrap();
    lib.load_dir(dir.path()).unwrap();
    assert_eq!(lib.catalogs().len(), 2);
    assert_eq!(lib.crosswalks().len(), 1);

    let err = lib.load_dir(dir.path().join("missing")).unwrap_err();
    assert!(matches!(err, CatalogError::Io { .. }));
    assert!(err.to_string().contains("missing"));
    let err = lib.load_file(dir.path().join("nope.yaml")).unwrap_err();
    assert!(matches!(err, CatalogError::Io { .. }));
}

#[test]
fn all_problems_in_a_file_are_reported_together() {
    let t = cat(&(item("a", "    parent: zz\n") + &item("a", "    applies_from: x\n")));
    let v = issues_of(&[("many.yaml", &t)]);
    let fields: Vec<&str> = v.iter().map(|i| i.field.as_str()).collect();
    assert!(
        fields.contains(&"parent") && fields.contains(&"id") && fields.contains(&"applies_from"),
        "{v:#?}"
    );
}
