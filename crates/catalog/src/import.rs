//! Importers: the official MITRE ATLAS data file and CISO Assistant framework libraries.
//!
//! Importers build a [`Catalog`] from a foreign format; they check the shape of the input and
//! report problems by file, element and field. Add the result to a [`crate::Library`] to run
//! the full validation rules (parents, references, ids).

use std::collections::{BTreeMap, HashMap, HashSet};

use yaml_rust2::yaml::Hash;
use yaml_rust2::Yaml;

use crate::error::CatalogError;
use crate::model::{Catalog, CatalogMeta, Item};
use crate::parse::{key, load_yaml, scalar, Reader};
use crate::validate::{is_valid_date, is_valid_id};

/// Turns arbitrary text into a valid id: disallowed characters become `-`.
pub fn slug(text: &str) -> String {
    let mut s: String = text
        .trim()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '-'
            }
        })
        .collect();
    while s.starts_with(['.', '_', '-']) {
        s.remove(0);
    }
    s
}

fn get<'a>(h: &'a Hash, k: &str) -> Option<&'a Yaml> {
    h.get(&key(k)).filter(|y| !matches!(y, Yaml::Null))
}

fn text(h: &Hash, k: &str) -> Option<String> {
    get(h, k).and_then(scalar).filter(|s| !s.trim().is_empty())
}

fn collapse(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

// ---------------------------------------------------------------------------------------------
// MITRE ATLAS
// ---------------------------------------------------------------------------------------------

/// Imports the official MITRE ATLAS data file (`dist/ATLAS.yaml` of `mitre-atlas/atlas-data`).
///
/// Expected structure: top-level `id`, `name`, `version` and `matrices[]`, each matrix with
/// `tactics[]`, `techniques[]` and `mitigations[]` (`case-studies` are ignored). Tactics become
/// items of kind `tactic`; techniques of kind `technique` (or `sub_technique`, parented to the
/// technique named by `subtechnique-of`) referencing their `tactics`; mitigations of kind
/// `mitigation` referencing the techniques they address. The catalog id is
/// `mitre-atlas-<version>`.
pub fn import_atlas(file: &str, text_in: &str) -> Result<Catalog, CatalogError> {
    let root = load_yaml(file, text_in)?;
    let mut r = Reader::new(file);
    let Yaml::Hash(top) = &root else {
        r.issue("file", "(top level)", "expected a mapping");
        return Err(CatalogError::Invalid(r.issues));
    };
    if let Some(fv) = text(top, "format-version") {
        r.issue(
            "file",
            "format-version",
            format!(
                "ATLAS data format {fv} (collection/relationships layout) is not supported; \
                 use dist/ATLAS.yaml in the v5 layout (id, name, version, matrices[])"
            ),
        );
        return Err(CatalogError::Invalid(r.issues));
    }
    let version = text(top, "version").unwrap_or_default();
    if version.is_empty() {
        r.issue("file", "version", "missing (required to name the catalog)");
    }
    let name = text(top, "name").unwrap_or_else(|| "MITRE ATLAS".into());
    let matrices = match get(top, "matrices") {
        Some(Yaml::Array(a)) => a.as_slice(),
        Some(_) => {
            r.issue("file", "matrices", "expected a list of matrices");
            &[]
        }
        None => {
            r.issue("file", "matrices", "missing");
            &[]
        }
    };

    let mut items: Vec<Item> = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    for (mi, m) in matrices.iter().enumerate() {
        let Yaml::Hash(mh) = m else {
            r.issue(
                &format!("matrix #{}", mi + 1),
                "(matrix)",
                "expected a mapping",
            );
            continue;
        };
        let matrix_id = text(mh, "id").unwrap_or_else(|| format!("#{}", mi + 1));
        let mloc = format!("matrix `{matrix_id}`");
        for (section, kind) in [
            ("tactics", "tactic"),
            ("techniques", "technique"),
            ("mitigations", "mitigation"),
        ] {
            let list = match get(mh, section) {
                Some(Yaml::Array(a)) => a.as_slice(),
                Some(_) => {
                    r.issue(&mloc, section, "expected a list");
                    continue;
                }
                None => continue,
            };
            for (i, obj) in list.iter().enumerate() {
                let Yaml::Hash(h) = obj else {
                    r.issue(
                        &format!("{mloc} {section}[{i}]"),
                        "(entry)",
                        "expected a mapping",
                    );
                    continue;
                };
                let Some(id) = text(h, "id") else {
                    r.issue(&format!("{mloc} {section}[{i}]"), "id", "missing");
                    continue;
                };
                let loc = format!("{kind} `{id}`");
                if !is_valid_id(&id) {
                    r.issue(&loc, "id", format!("`{id}` is not a valid id"));
                    continue;
                }
                if !seen.insert(id.clone()) {
                    continue; // the same object listed in several matrices
                }
                let title = match text(h, "name") {
                    Some(n) => collapse(&n),
                    None => {
                        r.issue(&loc, "name", "missing");
                        String::new()
                    }
                };
                let description = text(h, "description")
                    .map(|d| collapse(&d))
                    .unwrap_or_else(|| "(no description in the source file)".into());
                let mut attributes = BTreeMap::new();
                attributes.insert("matrix".to_string(), matrix_id.clone());
                if let Some(mat) = text(h, "maturity") {
                    attributes.insert("maturity".into(), mat);
                }
                if let Some(Yaml::Hash(att)) = get(h, "ATT&CK-reference") {
                    if let Some(aid) = text(att, "id") {
                        attributes.insert("attack_reference".into(), aid);
                    }
                }
                let mut item = Item {
                    id: id.clone(),
                    kind: kind.into(),
                    title,
                    description,
                    attributes,
                    ..Item::default()
                };
                match kind {
                    "technique" => {
                        if let Some(parent) = text(h, "subtechnique-of") {
                            item.kind = "sub_technique".into();
                            item.parent = Some(parent);
                        }
                        item.references = r.str_list(h, "tactics", &loc);
                    }
                    "mitigation" => {
                        if let Some(Yaml::Array(ts)) = get(h, "techniques") {
                            for (ti, t) in ts.iter().enumerate() {
                                let tid = match t {
                                    Yaml::Hash(th) => text(th, "id"),
                                    other => scalar(other),
                                };
                                match tid {
                                    Some(t) => item.references.push(t),
                                    None => {
                                        r.issue(&loc, &format!("techniques[{ti}].id"), "missing")
                                    }
                                }
                            }
                        }
                    }
                    _ => {}
                }
                items.push(item);
            }
        }
    }
    if !r.issues.is_empty() {
        return Err(CatalogError::Invalid(r.issues));
    }
    let meta = CatalogMeta {
        id: format!("mitre-atlas-{}", slug(&version)),
        framework: "mitre-atlas".into(),
        name,
        version,
        publisher: "MITRE".into(),
        licence: "Apache-2.0 (MITRE ATLAS data, github.com/mitre-atlas/atlas-data LICENSE)".into(),
        source: format!(
            "ATLAS.yaml (mitre-atlas/atlas-data dist/ATLAS.yaml), imported from {file}"
        ),
        text_note:
            "Imported from the official ATLAS data file; names and descriptions are MITRE's \
                    own text (Apache-2.0), whitespace collapsed."
                .into(),
        published: None,
        updated: None,
        notes: vec!["Case studies are not imported.".into()],
    };
    Ok(Catalog::new(meta, file, items))
}

// ---------------------------------------------------------------------------------------------
// CISO Assistant
// ---------------------------------------------------------------------------------------------

/// Imports the framework of a CISO Assistant YAML library
/// (`objects.framework.requirement_nodes[]` with `urn, ref_id, name, description, parent_urn,
/// assessable, depth`).
///
/// Item ids come from `ref_id` (made id-safe; the original is kept in the `ref_id` attribute),
/// falling back to the last segment of the node URN when `ref_id` is missing or repeated.
/// Assessable nodes become kind `requirement`, the others `group`; `depth`, `importance`,
/// `implementation_groups`, `urn` and the original `ref_id` are kept as attributes. The catalog id is
/// `ciso-<framework ref_id or URN tail>`, the licence is the library's `copyright` field.
pub fn import_ciso_library(file: &str, text_in: &str) -> Result<Catalog, CatalogError> {
    let root = load_yaml(file, text_in)?;
    let mut r = Reader::new(file);
    let Yaml::Hash(top) = &root else {
        r.issue(
            "file",
            "(top level)",
            "expected a mapping (a CISO Assistant library)",
        );
        return Err(CatalogError::Invalid(r.issues));
    };
    let lib_urn = text(top, "urn").unwrap_or_default();
    if lib_urn.is_empty() {
        r.issue("library", "urn", "missing");
    }
    let fw = match get(top, "objects") {
        Some(Yaml::Hash(o)) => match get(o, "framework") {
            Some(Yaml::Hash(f)) => Some(f),
            Some(_) => {
                r.issue("library", "objects.framework", "expected a mapping");
                None
            }
            None => {
                r.issue(
                    "library",
                    "objects.framework",
                    "missing (only framework libraries can be imported)",
                );
                None
            }
        },
        _ => {
            r.issue("library", "objects", "missing or not a mapping");
            None
        }
    };
    let Some(fw) = fw else {
        return Err(CatalogError::Invalid(r.issues));
    };
    let fw_urn = text(fw, "urn").unwrap_or_else(|| lib_urn.clone());
    let fw_tail = fw_urn.rsplit(':').next().unwrap_or_default().to_string();
    let fw_ref = text(fw, "ref_id").unwrap_or(fw_tail);
    let nodes = match get(fw, "requirement_nodes") {
        Some(Yaml::Array(a)) => a.as_slice(),
        _ => {
            r.issue(
                "objects.framework",
                "requirement_nodes",
                "missing or not a list",
            );
            &[]
        }
    };

    // First pass: ids, keyed by URN.
    let mut used: HashSet<String> = HashSet::new();
    let mut urn_to_id: HashMap<String, String> = HashMap::new();
    let mut items: Vec<Item> = Vec::new();
    let mut parents: Vec<Option<(String, String)>> = Vec::new(); // (parent_urn, location)
    for (i, n) in nodes.iter().enumerate() {
        let Yaml::Hash(h) = n else {
            r.issue(
                &format!("requirement_nodes[{i}]"),
                "(node)",
                "expected a mapping",
            );
            continue;
        };
        let Some(urn) = text(h, "urn") else {
            r.issue(&format!("requirement_nodes[{i}]"), "urn", "missing");
            continue;
        };
        let loc = format!("node `{urn}`");
        if urn_to_id.contains_key(&urn) {
            r.issue(&loc, "urn", "duplicate urn");
            continue;
        }
        let ref_id = text(h, "ref_id");
        let urn_tail = slug(urn.rsplit(':').next().unwrap_or_default());
        let mut id = ref_id.as_deref().map(slug).unwrap_or_default();
        if id.is_empty() || used.contains(&id) {
            id = urn_tail;
        }
        if id.is_empty() {
            id = format!("node-{}", i + 1);
        }
        let base = id.clone();
        let mut k = 2;
        while used.contains(&id) {
            id = format!("{base}-{k}");
            k += 1;
        }
        used.insert(id.clone());
        urn_to_id.insert(urn.clone(), id.clone());

        let name = text(h, "name").map(|s| collapse(&s));
        let desc = text(h, "description").map(|s| collapse(&s));
        let title = name
            .clone()
            .or_else(|| ref_id.clone())
            .unwrap_or_else(|| id.clone());
        let description = desc.or(name).unwrap_or_else(|| title.clone());
        let assessable = match get(h, "assessable") {
            Some(Yaml::Boolean(b)) => *b,
            None => false,
            Some(_) => {
                r.issue(&loc, "assessable", "expected true or false");
                false
            }
        };
        let mut attributes = BTreeMap::new();
        attributes.insert("urn".to_string(), urn.clone());
        if let Some(rid) = &ref_id {
            attributes.insert("ref_id".into(), rid.clone());
        }
        if let Some(imp) = text(h, "importance") {
            attributes.insert("importance".into(), imp);
        }
        let groups = r.str_list(h, "implementation_groups", &loc);
        if !groups.is_empty() {
            attributes.insert("implementation_groups".into(), groups.join(", "));
        }
        match get(h, "depth") {
            Some(Yaml::Integer(d)) => {
                attributes.insert("depth".into(), d.to_string());
            }
            None => {}
            Some(_) => r.issue(&loc, "depth", "expected an integer"),
        }
        items.push(Item {
            id,
            kind: if assessable { "requirement" } else { "group" }.into(),
            title,
            description,
            note: text(h, "annotation").map(|s| collapse(&s)),
            attributes,
            ..Item::default()
        });
        parents.push(text(h, "parent_urn").map(|p| (p, loc)));
    }
    // Second pass: parents.
    for (item, p) in items.iter_mut().zip(parents) {
        if let Some((purn, loc)) = p {
            match urn_to_id.get(&purn) {
                Some(pid) => item.parent = Some(pid.clone()),
                None => r.issue(
                    &loc,
                    "parent_urn",
                    format!("`{purn}` is not the urn of a node in this library"),
                ),
            }
        }
    }
    if !r.issues.is_empty() {
        return Err(CatalogError::Invalid(r.issues));
    }
    let published = text(top, "publication_date").filter(|d| is_valid_date(d));
    let name = text(fw, "name")
        .or_else(|| text(top, "name"))
        .unwrap_or_else(|| fw_ref.clone());
    let version = text(top, "version").unwrap_or_else(|| "unversioned".into());
    let provider = text(top, "provider").unwrap_or_else(|| "unstated".into());
    let meta = CatalogMeta {
        id: format!("ciso-{}", slug(&fw_ref).to_ascii_lowercase()),
        framework: format!("ciso-{}", slug(&fw_ref).to_ascii_lowercase()),
        name,
        version,
        publisher: provider,
        licence: text(top, "copyright")
            .map(|c| collapse(&c))
            .unwrap_or_else(|| {
                "unstated in the source library; check before redistributing".into()
            }),
        source: format!("CISO Assistant library `{lib_urn}` ({file})"),
        text_note: "Imported from a CISO Assistant YAML library; titles and descriptions are \
                    the library's own text, not airisk's."
            .into(),
        published,
        updated: None,
        notes: Vec::new(),
    };
    Ok(Catalog::new(meta, file, items))
}
