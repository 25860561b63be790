//! Reading catalog and crosswalk YAML files into the model.
//!
//! Parsing only checks shape (types, unknown keys); the rules about content (required
//! fields, unique ids, parents, references...) live in [`crate::validate`], so that
//! catalogs built by importers go through the same rules.

use std::collections::{BTreeMap, HashSet};

use yaml_rust2::parser::Parser;
use yaml_rust2::{Event, Yaml, YamlLoader};

use crate::error::{CatalogError, Issue};
use crate::model::{Catalog, CatalogMeta, Crosswalk, CrosswalkMeta, Item, Mapping, Relationship};

/// A parsed data file: either a catalog or a crosswalk.
#[derive(Debug, Clone)]
pub enum Document {
    /// A file with a top-level `catalog:` section.
    Catalog(Catalog),
    /// A file with a top-level `crosswalk:` section.
    Crosswalk(Crosswalk),
}

/// Deepest nesting of sequences and mappings accepted. Catalog files need about 6; the limit
/// keeps hostile input from exhausting the stack in the recursive YAML loader.
pub const MAX_NESTING: usize = 64;

/// Walks the YAML event stream (iteratively) and rejects what the tree loader would hide or
/// choke on: nesting deeper than [`MAX_NESTING`], aliases, and duplicate keys in a mapping
/// (which the loader would silently collapse).
fn check_stream(file: &str, text: &str) -> Result<(), CatalogError> {
    struct Frame {
        mapping: bool,
        expect_key: bool,
        keys: HashSet<String>,
    }
    let fail = |message: String| CatalogError::Syntax {
        file: file.to_string(),
        message,
    };
    let mut parser = Parser::new_from_str(text);
    let mut stack: Vec<Frame> = Vec::new();
    loop {
        let (event, mark) = parser.next_token().map_err(|e| fail(e.to_string()))?;
        let line = mark.line();
        match &event {
            Event::StreamEnd => return Ok(()),
            Event::SequenceEnd | Event::MappingEnd => {
                stack.pop();
                continue;
            }
            // Aliases are not needed in data files and allow exponential expansion.
            Event::Alias(_) => {
                return Err(fail(format!(
                    "YAML aliases are not supported (line {line})"
                )))
            }
            Event::Scalar(..) | Event::SequenceStart(..) | Event::MappingStart(..) => {}
            _ => continue,
        }
        if let Some(top) = stack.last_mut() {
            if top.mapping {
                if top.expect_key {
                    if let Event::Scalar(k, ..) = &event {
                        if !top.keys.insert(k.clone()) {
                            return Err(fail(format!("duplicate key `{k}` (line {line})")));
                        }
                    }
                }
                top.expect_key = !top.expect_key;
            }
        }
        let mapping = matches!(event, Event::MappingStart(..));
        if mapping || matches!(event, Event::SequenceStart(..)) {
            if stack.len() >= MAX_NESTING {
                return Err(fail(format!(
                    "nested deeper than {MAX_NESTING} levels (line {line})"
                )));
            }
            stack.push(Frame {
                mapping,
                expect_key: true,
                keys: HashSet::new(),
            });
        }
    }
}

/// Loads a YAML text into a single document root, refusing multi-document streams and
/// excessive nesting.
pub(crate) fn load_yaml(file: &str, text: &str) -> Result<Yaml, CatalogError> {
    check_stream(file, text)?;
    let mut docs = YamlLoader::load_from_str(text).map_err(|e| CatalogError::Syntax {
        file: file.to_string(),
        message: e.to_string(),
    })?;
    match docs.len() {
        1 => Ok(docs.remove(0)),
        0 => Err(CatalogError::Syntax {
            file: file.to_string(),
            message: "the file is empty".into(),
        }),
        n => Err(CatalogError::Syntax {
            file: file.to_string(),
            message: format!("expected one YAML document, found {n}"),
        }),
    }
}

/// Collects issues while reading one file.
pub(crate) struct Reader<'f> {
    pub file: &'f str,
    pub issues: Vec<Issue>,
}

impl<'f> Reader<'f> {
    pub fn new(file: &'f str) -> Self {
        Reader {
            file,
            issues: Vec::new(),
        }
    }

    pub fn issue(&mut self, location: &str, field: &str, message: impl Into<String>) {
        self.issues
            .push(Issue::new(self.file, location, field, message));
    }

    /// Reports keys of `hash` not in `allowed`.
    pub fn check_keys(&mut self, hash: &yaml_rust2::yaml::Hash, allowed: &[&str], location: &str) {
        for k in hash.keys() {
            match k.as_str() {
                Some(k) if allowed.contains(&k) => {}
                Some(k) => self.issue(
                    location,
                    k,
                    format!("unknown field (allowed: {})", allowed.join(", ")),
                ),
                None => self.issue(location, "?", "field names must be strings"),
            }
        }
    }

    /// An optional scalar field as a string (numbers and booleans keep their text).
    pub fn opt_str(
        &mut self,
        hash: &yaml_rust2::yaml::Hash,
        key: &str,
        location: &str,
    ) -> Option<String> {
        match hash.get(&Yaml::String(key.to_string())) {
            None | Some(Yaml::Null) => None,
            Some(v) => match scalar(v) {
                Some(s) => Some(s),
                None => {
                    self.issue(location, key, "expected a text value");
                    None
                }
            },
        }
    }

    /// A field that validation requires; missing reads as empty so validation reports it once.
    pub fn str_or_empty(
        &mut self,
        hash: &yaml_rust2::yaml::Hash,
        key: &str,
        location: &str,
    ) -> String {
        self.opt_str(hash, key, location).unwrap_or_default()
    }

    /// An optional list of scalars.
    pub fn str_list(
        &mut self,
        hash: &yaml_rust2::yaml::Hash,
        key: &str,
        location: &str,
    ) -> Vec<String> {
        match hash.get(&Yaml::String(key.to_string())) {
            None | Some(Yaml::Null) => Vec::new(),
            Some(Yaml::Array(a)) => {
                let mut out = Vec::with_capacity(a.len());
                for (i, v) in a.iter().enumerate() {
                    match scalar(v) {
                        Some(s) => out.push(s),
                        None => {
                            self.issue(location, &format!("{key}[{i}]"), "expected a text value")
                        }
                    }
                }
                out
            }
            Some(v) => match scalar(v) {
                // A single value is accepted as a one-element list.
                Some(s) => vec![s],
                None => {
                    self.issue(location, key, "expected a list of text values");
                    Vec::new()
                }
            },
        }
    }

    /// An optional mapping of scalar to scalar.
    pub fn str_map(
        &mut self,
        hash: &yaml_rust2::yaml::Hash,
        key: &str,
        location: &str,
    ) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        match hash.get(&Yaml::String(key.to_string())) {
            None | Some(Yaml::Null) => {}
            Some(Yaml::Hash(h)) => {
                for (k, v) in h {
                    match (scalar(k), scalar(v)) {
                        (Some(k), Some(v)) => {
                            out.insert(k, v);
                        }
                        _ => self.issue(
                            location,
                            key,
                            "expected a mapping of text keys to text values",
                        ),
                    }
                }
            }
            Some(_) => self.issue(location, key, "expected a mapping"),
        }
        out
    }
}

/// The text of a scalar node; `None` for collections, null, aliases and bad values.
pub(crate) fn scalar(y: &Yaml) -> Option<String> {
    match y {
        Yaml::String(s) | Yaml::Real(s) => Some(s.clone()),
        Yaml::Integer(i) => Some(i.to_string()),
        Yaml::Boolean(b) => Some(b.to_string()),
        _ => None,
    }
}

pub(crate) fn key(k: &str) -> Yaml {
    Yaml::String(k.to_string())
}

const CATALOG_META_KEYS: &[&str] = &[
    "id",
    "framework",
    "name",
    "version",
    "publisher",
    "licence",
    "source",
    "text_note",
    "published",
    "updated",
    "notes",
];
const ITEM_KEYS: &[&str] = &[
    "id",
    "kind",
    "title",
    "description",
    "parent",
    "applies_from",
    "source",
    "note",
    "references",
    "attributes",
];
const CROSSWALK_META_KEYS: &[&str] = &[
    "id",
    "name",
    "version",
    "source_catalog",
    "target_catalog",
    "licence",
    "source",
    "text_note",
    "updated",
    "notes",
];
const MAPPING_KEYS: &[&str] = &[
    "source",
    "target",
    "relationship",
    "rationale",
    "provenance",
];

/// Parses one data file (catalog or crosswalk). `file` names it in errors.
pub fn parse_document(file: &str, text: &str) -> Result<Document, CatalogError> {
    let root = load_yaml(file, text)?;
    let Yaml::Hash(top) = &root else {
        return Err(CatalogError::Invalid(vec![Issue::new(
            file,
            "file",
            "(top level)",
            "expected a mapping with a `catalog:` or `crosswalk:` section",
        )]));
    };
    let mut r = Reader::new(file);
    let doc = if top.contains_key(&key("catalog")) {
        r.check_keys(top, &["catalog", "items"], "file");
        Document::Catalog(read_catalog(&mut r, top))
    } else if top.contains_key(&key("crosswalk")) {
        r.check_keys(top, &["crosswalk", "mappings"], "file");
        Document::Crosswalk(read_crosswalk(&mut r, top))
    } else {
        r.issue(
            "file",
            "(top level)",
            "expected a `catalog:` or `crosswalk:` section",
        );
        return Err(CatalogError::Invalid(r.issues));
    };
    if r.issues.is_empty() {
        Ok(doc)
    } else {
        Err(CatalogError::Invalid(r.issues))
    }
}

/// Parses a catalog file; a crosswalk file is an error.
pub fn parse_catalog(file: &str, text: &str) -> Result<Catalog, CatalogError> {
    match parse_document(file, text)? {
        Document::Catalog(c) => Ok(c),
        Document::Crosswalk(_) => Err(CatalogError::Invalid(vec![Issue::new(
            file,
            "file",
            "(top level)",
            "expected a catalog, found a crosswalk",
        )])),
    }
}

/// Parses a crosswalk file; a catalog file is an error.
pub fn parse_crosswalk(file: &str, text: &str) -> Result<Crosswalk, CatalogError> {
    match parse_document(file, text)? {
        Document::Crosswalk(c) => Ok(c),
        Document::Catalog(_) => Err(CatalogError::Invalid(vec![Issue::new(
            file,
            "file",
            "(top level)",
            "expected a crosswalk, found a catalog",
        )])),
    }
}

fn read_catalog(r: &mut Reader<'_>, top: &yaml_rust2::yaml::Hash) -> Catalog {
    let loc = "catalog metadata";
    let meta = match top.get(&key("catalog")) {
        Some(Yaml::Hash(h)) => {
            r.check_keys(h, CATALOG_META_KEYS, loc);
            CatalogMeta {
                id: r.str_or_empty(h, "id", loc),
                framework: r.str_or_empty(h, "framework", loc),
                name: r.str_or_empty(h, "name", loc),
                version: r.str_or_empty(h, "version", loc),
                publisher: r.str_or_empty(h, "publisher", loc),
                licence: r.str_or_empty(h, "licence", loc),
                source: r.str_or_empty(h, "source", loc),
                text_note: r.str_or_empty(h, "text_note", loc),
                published: r.opt_str(h, "published", loc),
                updated: r.opt_str(h, "updated", loc),
                notes: r.str_list(h, "notes", loc),
            }
        }
        _ => {
            r.issue(loc, "catalog", "expected a mapping of metadata fields");
            CatalogMeta::default()
        }
    };
    let mut items = Vec::new();
    match top.get(&key("items")) {
        Some(Yaml::Array(a)) => {
            for (i, y) in a.iter().enumerate() {
                let Yaml::Hash(h) = y else {
                    r.issue(&format!("item #{}", i + 1), "(item)", "expected a mapping");
                    continue;
                };
                let id = h.get(&key("id")).and_then(scalar).unwrap_or_default();
                let loc = if id.is_empty() {
                    format!("item #{}", i + 1)
                } else {
                    format!("item `{id}`")
                };
                r.check_keys(h, ITEM_KEYS, &loc);
                items.push(Item {
                    id: r.str_or_empty(h, "id", &loc),
                    kind: r.str_or_empty(h, "kind", &loc),
                    title: r.str_or_empty(h, "title", &loc),
                    description: r.str_or_empty(h, "description", &loc),
                    parent: r.opt_str(h, "parent", &loc),
                    applies_from: r.opt_str(h, "applies_from", &loc),
                    source: r.opt_str(h, "source", &loc),
                    note: r.opt_str(h, "note", &loc),
                    references: r.str_list(h, "references", &loc),
                    attributes: r.str_map(h, "attributes", &loc),
                });
            }
        }
        None | Some(Yaml::Null) => {}
        Some(_) => r.issue("file", "items", "expected a list of items"),
    }
    Catalog::new(meta, r.file, items)
}

fn read_crosswalk(r: &mut Reader<'_>, top: &yaml_rust2::yaml::Hash) -> Crosswalk {
    let loc = "crosswalk metadata";
    let meta = match top.get(&key("crosswalk")) {
        Some(Yaml::Hash(h)) => {
            r.check_keys(h, CROSSWALK_META_KEYS, loc);
            CrosswalkMeta {
                id: r.str_or_empty(h, "id", loc),
                name: r.str_or_empty(h, "name", loc),
                version: r.str_or_empty(h, "version", loc),
                source_catalog: r.str_or_empty(h, "source_catalog", loc),
                target_catalog: r.str_or_empty(h, "target_catalog", loc),
                licence: r.str_or_empty(h, "licence", loc),
                source: r.str_or_empty(h, "source", loc),
                text_note: r.str_or_empty(h, "text_note", loc),
                updated: r.opt_str(h, "updated", loc),
                notes: r.str_list(h, "notes", loc),
            }
        }
        _ => {
            r.issue(loc, "crosswalk", "expected a mapping of metadata fields");
            CrosswalkMeta::default()
        }
    };
    let mut mappings = Vec::new();
    match top.get(&key("mappings")) {
        Some(Yaml::Array(a)) => {
            for (i, y) in a.iter().enumerate() {
                let Yaml::Hash(h) = y else {
                    r.issue(
                        &format!("mapping #{}", i + 1),
                        "(mapping)",
                        "expected a mapping",
                    );
                    continue;
                };
                let src = h.get(&key("source")).and_then(scalar).unwrap_or_default();
                let tgt = h.get(&key("target")).and_then(scalar).unwrap_or_default();
                let loc = format!("mapping #{} ({src} -> {tgt})", i + 1);
                r.check_keys(h, MAPPING_KEYS, &loc);
                let rel_text = r.str_or_empty(h, "relationship", &loc);
                let relationship = match rel_text.parse::<Relationship>() {
                    Ok(rel) => rel,
                    Err(msg) => {
                        let msg = if rel_text.is_empty() {
                            "missing (expected equal, subset, superset or intersects)".to_string()
                        } else {
                            msg
                        };
                        r.issue(&loc, "relationship", msg);
                        Relationship::Intersects
                    }
                };
                mappings.push(Mapping {
                    source: r.str_or_empty(h, "source", &loc),
                    target: r.str_or_empty(h, "target", &loc),
                    relationship,
                    rationale: r.str_or_empty(h, "rationale", &loc),
                    provenance: r.opt_str(h, "provenance", &loc),
                });
            }
        }
        None | Some(Yaml::Null) => {}
        Some(_) => r.issue("file", "mappings", "expected a list of mappings"),
    }
    Crosswalk {
        meta,
        origin: r.file.to_string(),
        mappings,
    }
}
