//! Bad input never panics: arbitrary text and mutated real files give errors, not crashes.

use airisk_catalog::import::{import_atlas, import_ciso_library};
use airisk_catalog::{parse_document, Library, EMBEDDED_FILES};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_text(s in "\\PC{0,400}") {
        let _ = parse_document("fuzz.yaml", &s);
        let _ = import_atlas("fuzz.yaml", &s);
        let _ = import_ciso_library("fuzz.yaml", &s);
    }

    #[test]
    fn yaml_like_text(s in "(catalog:|items:|  - id: |parent: |crosswalk:|mappings:|\\[|\\]|\\{|\\}|: |\n|  |a|1|'|&x|\\*x|---)*") {
        let _ = Library::from_texts([("fuzz.yaml".to_string(), s.as_str())]);
        let _ = import_atlas("fuzz.yaml", &s);
        let _ = import_ciso_library("fuzz.yaml", &s);
    }

    #[test]
    fn truncated_real_files(i in 0usize..EMBEDDED_FILES.len(), cut in 0usize..4000) {
        let text = EMBEDDED_FILES[i].1;
        let mut end = cut.min(text.len());
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        let _ = parse_document("cut.yaml", &text[..end]);
    }
}

#[test]
fn deeply_nested_input() {
    let s = "[".repeat(200_000);
    assert!(parse_document("deep.yaml", &s).is_err());
    let s = "- ".repeat(50_000) + "x";
    let _ = parse_document("deep.yaml", &s);
    let s = "{a: ".repeat(50_000);
    assert!(parse_document("deep.yaml", &s).is_err());
}

#[test]
fn aliases_are_refused() {
    let s = "a: &x [1, 2]\nb: [*x, *x, *x]\nc: [*b]\n";
    let e = parse_document("alias.yaml", s).unwrap_err();
    assert!(e.to_string().contains("aliases"), "{e}");
}

#[test]
fn duplicate_keys_are_refused() {
    let s = "catalog:\n  id: a\n  id: b\n";
    let e = parse_document("dup.yaml", s).unwrap_err();
    assert_eq!(
        e.to_string(),
        "dup.yaml: not valid YAML: duplicate key `id` (line 3)"
    );
    // The same key in different mappings is fine.
    let s = "items:\n  - id: a\n  - id: b\ncatalog: {id: c, x: {id: d}}\n";
    let e = parse_document("ok.yaml", s).unwrap_err();
    assert!(!e.to_string().contains("duplicate"), "{e}");
}
