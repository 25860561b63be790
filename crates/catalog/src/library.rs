//! The set of loaded catalogs and crosswalks: embedded data, extra directories, lookups.

use std::path::{Path, PathBuf};

use crate::error::{CatalogError, Issue};
use crate::model::{Catalog, Crosswalk, Item, OrientedMapping};
use crate::parse::{parse_document, Document};
use crate::validate::{validate_catalog, validate_crosswalk, validate_references};

macro_rules! embedded {
    ($($path:literal),* $(,)?) => {
        &[$(($path, include_str!(concat!("../../../catalogs/", $path)))),*]
    };
}

/// The data files compiled into the binary: (path relative to `catalogs/`, text).
///
/// A test checks that this list matches the files in `catalogs/`, so a new file cannot be
/// forgotten here.
pub const EMBEDDED_FILES: &[(&str, &str)] = embedded![
    "iso42001-2023.yaml",
    "nist-ai-rmf-1.0.yaml",
    "nist-ai-600-1.yaml",
    "eu-ai-act-2024-1689.yaml",
    "owasp-llm-top10-2025.yaml",
    "owasp-llm-top10-2026.yaml",
    "owasp-agentic-top10-2026.yaml",
    "mitre-atlas-tactics-5.6.0.yaml",
    "mit-ai-risk-repository-2025-04.yaml",
    "airisk-taxonomy-1.yaml",
    "crosswalks/nist-ai-rmf-1.0--iso42001-2023.yaml",
    "crosswalks/owasp-llm-top10-2025--mitre-atlas.yaml",
    "crosswalks/owasp-llm-top10-2026--mitre-atlas.yaml",
    "crosswalks/owasp-llm-top10-2025--owasp-llm-top10-2026.yaml",
    "crosswalks/airisk-taxonomy-1--iso42001-2023.yaml",
    "crosswalks/eu-ai-act-2024-1689--iso42001-2023.yaml",
];

/// A validated set of catalogs and crosswalks.
///
/// Invariant: a `Library` returned by any constructor or loader of this type has passed every
/// validation rule (see [`crate::validate`]); loaders that fail leave the library unchanged.
#[derive(Debug, Clone, Default)]
pub struct Library {
    catalogs: Vec<Catalog>,
    crosswalks: Vec<Crosswalk>,
}

impl Library {
    /// An empty library (no catalogs).
    pub fn empty() -> Self {
        Library::default()
    }

    /// The catalogs and crosswalks shipped inside the binary.
    pub fn embedded() -> Result<Self, CatalogError> {
        Library::from_texts(
            EMBEDDED_FILES
                .iter()
                .map(|(name, text)| (format!("embedded:catalogs/{name}"), *text)),
        )
    }

    /// Builds a library from (file name, YAML text) pairs; the names only label errors.
    pub fn from_texts<'t>(
        files: impl IntoIterator<Item = (String, &'t str)>,
    ) -> Result<Self, CatalogError> {
        let mut lib = Library::empty();
        lib.add_texts(files)?;
        Ok(lib)
    }

    /// Adds (file name, YAML text) pairs, validating the result as a whole. On error the
    /// library is left unchanged and every problem found is returned.
    pub fn add_texts<'t>(
        &mut self,
        files: impl IntoIterator<Item = (String, &'t str)>,
    ) -> Result<(), CatalogError> {
        let mut issues = Vec::new();
        let mut cats = Vec::new();
        let mut cws = Vec::new();
        for (name, text) in files {
            let parsed = match foreign_format(text) {
                Some(Foreign::CisoAssistant) => {
                    crate::import::import_ciso_library(&name, text).map(Document::Catalog)
                }
                Some(Foreign::Atlas) => {
                    crate::import::import_atlas(&name, text).map(Document::Catalog)
                }
                None => parse_document(&name, text),
            };
            match parsed {
                Ok(Document::Catalog(c)) => cats.push(c),
                Ok(Document::Crosswalk(c)) => cws.push(c),
                Err(CatalogError::Invalid(mut v)) => issues.append(&mut v),
                Err(CatalogError::Syntax { file, message }) => {
                    issues.push(Issue::new(file, "file", "(yaml)", message));
                }
                Err(e) => return Err(e),
            }
        }
        if !issues.is_empty() {
            return Err(CatalogError::Invalid(issues));
        }
        self.add(cats, cws)
    }

    /// Adds every `*.yaml` / `*.yml` file under `dir` (recursively, in path order). Each file
    /// holds a catalog or a crosswalk in airisk's format, a CISO Assistant framework library,
    /// or MITRE's ATLAS.yaml; the last two are imported as they load.
    pub fn load_dir(&mut self, dir: impl AsRef<Path>) -> Result<(), CatalogError> {
        let mut paths = Vec::new();
        collect_yaml(dir.as_ref(), &mut paths)?;
        paths.sort();
        let mut texts = Vec::with_capacity(paths.len());
        for p in &paths {
            let t = std::fs::read_to_string(p).map_err(|source| CatalogError::Io {
                path: p.clone(),
                source,
            })?;
            texts.push((p.display().to_string(), t));
        }
        self.add_texts(texts.iter().map(|(n, t)| (n.clone(), t.as_str())))
    }

    /// Adds one file (catalog or crosswalk).
    pub fn load_file(&mut self, path: impl AsRef<Path>) -> Result<(), CatalogError> {
        let p = path.as_ref();
        let t = std::fs::read_to_string(p).map_err(|source| CatalogError::Io {
            path: p.to_path_buf(),
            source,
        })?;
        self.add_texts([(p.display().to_string(), t.as_str())])
    }

    /// Adds already-built catalogs (e.g. from an importer) and crosswalks, validating the
    /// whole library. On error nothing is added.
    pub fn add(
        &mut self,
        catalogs: Vec<Catalog>,
        crosswalks: Vec<Crosswalk>,
    ) -> Result<(), CatalogError> {
        let mut next = self.clone();
        next.catalogs.extend(catalogs);
        next.crosswalks.extend(crosswalks);
        let issues = next.check();
        if issues.is_empty() {
            *self = next;
            Ok(())
        } else {
            Err(CatalogError::Invalid(issues))
        }
    }

    /// Runs every validation rule over the whole library.
    pub fn check(&self) -> Vec<Issue> {
        let mut issues = Vec::new();
        for (i, c) in self.catalogs.iter().enumerate() {
            issues.extend(validate_catalog(c));
            if let Some(first) = self.catalogs[..i].iter().find(|o| o.id() == c.id()) {
                issues.push(Issue::new(
                    &c.origin,
                    "catalog metadata",
                    "id",
                    format!(
                        "catalog id `{}` is already used by {}",
                        c.id(),
                        first.origin
                    ),
                ));
            }
        }
        let find = |id: &str| self.catalogs.iter().find(|c| c.id() == id);
        issues.extend(validate_references(&self.catalogs, find));
        for (i, cw) in self.crosswalks.iter().enumerate() {
            issues.extend(validate_crosswalk(cw, find));
            if let Some(first) = self.crosswalks[..i]
                .iter()
                .find(|o| o.meta.id == cw.meta.id)
            {
                issues.push(Issue::new(
                    &cw.origin,
                    "crosswalk metadata",
                    "id",
                    format!(
                        "crosswalk id `{}` is already used by {}",
                        cw.meta.id, first.origin
                    ),
                ));
            }
        }
        issues
    }

    /// All catalogs, in load order.
    pub fn catalogs(&self) -> &[Catalog] {
        &self.catalogs
    }

    /// All crosswalks, in load order.
    pub fn crosswalks(&self) -> &[Crosswalk] {
        &self.crosswalks
    }

    /// The catalog with exactly this id.
    pub fn catalog(&self, id: &str) -> Option<&Catalog> {
        self.catalogs.iter().find(|c| c.id() == id)
    }

    /// A catalog by id, or by framework family name when exactly one catalog is of that
    /// family (e.g. `iso42001` → `iso42001-2023`). Useful for CLI arguments.
    pub fn find_catalog(&self, name: &str) -> Result<&Catalog, CatalogError> {
        if let Some(c) = self.catalog(name) {
            return Ok(c);
        }
        let family: Vec<&Catalog> = self
            .catalogs
            .iter()
            .filter(|c| c.meta.framework == name)
            .collect();
        match family.as_slice() {
            [one] => Ok(one),
            [] => Err(CatalogError::NotFound {
                what: "catalog",
                id: name.to_string(),
            }),
            many => Err(CatalogError::Ambiguous {
                name: name.to_string(),
                candidates: many.iter().map(|c| c.id().to_string()).collect(),
            }),
        }
    }

    /// An item by catalog id and item id.
    pub fn item(&self, catalog: &str, item: &str) -> Option<&Item> {
        self.catalog(catalog)?.item(item)
    }

    /// An item by qualified reference `catalog:item`.
    pub fn resolve(&self, reference: &str) -> Option<(&Catalog, &Item)> {
        let (c, i) = reference.split_once(':')?;
        let cat = self.catalog(c)?;
        Some((cat, cat.item(i)?))
    }

    /// The crosswalk file(s) between two catalogs, in either direction.
    pub fn crosswalks_between(&self, a: &str, b: &str) -> Vec<&Crosswalk> {
        self.crosswalks
            .iter()
            .filter(|cw| {
                let (s, t) = (&cw.meta.source_catalog, &cw.meta.target_catalog);
                (s == a && t == b) || (s == b && t == a)
            })
            .collect()
    }

    /// Every mapping between catalogs `from` and `to`, read from `from` to `to`. Rows stored
    /// the other way round are inverted (`subset` ↔ `superset`). Empty if no crosswalk links
    /// the two.
    pub fn crosswalk(&self, from: &str, to: &str) -> Vec<OrientedMapping<'_>> {
        let mut out = Vec::new();
        for cw in self.crosswalks_between(from, to) {
            let inverted = cw.meta.source_catalog != from;
            for m in &cw.mappings {
                let (fi, ti) = if inverted {
                    (m.target.as_str(), m.source.as_str())
                } else {
                    (m.source.as_str(), m.target.as_str())
                };
                out.push(OrientedMapping {
                    from_catalog: if inverted {
                        &cw.meta.target_catalog
                    } else {
                        &cw.meta.source_catalog
                    },
                    from_item: fi,
                    to_catalog: if inverted {
                        &cw.meta.source_catalog
                    } else {
                        &cw.meta.target_catalog
                    },
                    to_item: ti,
                    relationship: if inverted {
                        m.relationship.inverse()
                    } else {
                        m.relationship
                    },
                    rationale: &m.rationale,
                    provenance: m.provenance.as_deref(),
                    crosswalk_id: &cw.meta.id,
                    inverted,
                });
            }
        }
        out
    }

    /// Every mapping of one item to any other catalog, read from that item, across all
    /// crosswalks that touch its catalog (e.g. for `catalog show iso42001 A.6.2.4`).
    pub fn mappings_from(&self, catalog: &str, item: &str) -> Vec<OrientedMapping<'_>> {
        let mut others: Vec<&str> = Vec::new();
        for cw in &self.crosswalks {
            let (s, t) = (
                cw.meta.source_catalog.as_str(),
                cw.meta.target_catalog.as_str(),
            );
            let other = if s == catalog {
                t
            } else if t == catalog {
                s
            } else {
                continue;
            };
            if !others.contains(&other) {
                others.push(other);
            }
        }
        others
            .into_iter()
            .flat_map(|o| self.mappings_for(catalog, item, o))
            .collect()
    }

    /// Mappings of one item to catalog `to` (both directions), e.g. the ISO 42001 controls
    /// that a NIST subcategory maps to.
    pub fn mappings_for(&self, from: &str, item: &str, to: &str) -> Vec<OrientedMapping<'_>> {
        self.crosswalk(from, to)
            .into_iter()
            .filter(|m| m.from_item == item)
            .collect()
    }
}

/// Files in another tool's format that a library folder may hold as they are.
enum Foreign {
    /// A CISO Assistant library (`urn:` and `objects:` at the top level).
    CisoAssistant,
    /// MITRE's ATLAS.yaml (`id:` and `matrices:` at the top level).
    Atlas,
}

/// Recognises a foreign file by its top-level keys (block-style YAML: unindented `key:` lines),
/// without parsing it twice.
fn foreign_format(text: &str) -> Option<Foreign> {
    let keys: Vec<&str> = text
        .lines()
        .filter(|l| !l.starts_with([' ', '\t', '#', '-']))
        .filter_map(|l| l.split_once(':').map(|(k, _)| k.trim_matches(['"', '\''])))
        .collect();
    let has = |k: &str| keys.contains(&k);
    if has("catalog") || has("crosswalk") {
        None
    } else if has("urn") && has("objects") {
        Some(Foreign::CisoAssistant)
    } else if has("matrices") && has("id") {
        Some(Foreign::Atlas)
    } else {
        None
    }
}

fn collect_yaml(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), CatalogError> {
    let rd = std::fs::read_dir(dir).map_err(|source| CatalogError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    for entry in rd {
        let entry = entry.map_err(|source| CatalogError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let p = entry.path();
        let ft = entry.file_type().map_err(|source| CatalogError::Io {
            path: p.clone(),
            source,
        })?;
        if ft.is_dir() {
            collect_yaml(&p, out)?;
        } else if matches!(
            p.extension().and_then(|e| e.to_str()),
            Some("yaml") | Some("yml")
        ) {
            out.push(p);
        }
    }
    Ok(())
}
