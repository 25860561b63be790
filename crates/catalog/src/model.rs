//! The catalog and crosswalk data model (plain data; no IO).

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::str::FromStr;

/// File-level metadata every catalog must carry.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CatalogMeta {
    /// Unique catalog id, one per framework version, e.g. `iso42001-2023`.
    pub id: String,
    /// Framework family shared by all versions, e.g. `iso42001`, `owasp-llm-top10`.
    pub framework: String,
    /// Human-readable name.
    pub name: String,
    /// Version of the framework this file describes, e.g. `2023`, `1.0`, `2025`.
    pub version: String,
    /// Publisher of the framework, e.g. `ISO/IEC`, `NIST`.
    pub publisher: String,
    /// Licence of the source material and of this file's text.
    pub licence: String,
    /// Where the facts come from (URL or document reference).
    pub source: String,
    /// How the text in this file was written (own paraphrase, verbatim public text, imported...).
    pub text_note: String,
    /// Publication date of the framework version (`YYYY-MM-DD`), if known.
    pub published: Option<String>,
    /// Date this file was last revised (`YYYY-MM-DD`); used as OSCAL `last-modified`.
    pub updated: Option<String>,
    /// Free-form notes: gaps, unverified facts, editions left out.
    pub notes: Vec<String>,
}

/// One entry of a catalog: a clause, control, function, category, risk, tactic, article...
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Item {
    /// Identifier, unique within the catalog (`A.6.2.4`, `GOVERN-1.1`, `LLM01`, `art9`).
    pub id: String,
    /// What the item is within its framework (`clause`, `control`, `subcategory`, `tactic`...).
    pub kind: String,
    /// Short title.
    pub title: String,
    /// Short description (our own words unless the catalog's `text_note` says otherwise).
    pub description: String,
    /// The id of the parent / grouping item, if any.
    pub parent: Option<String>,
    /// Date from which the item applies (`YYYY-MM-DD`), for dated obligations.
    pub applies_from: Option<String>,
    /// A source specific to this item, overriding the catalog source (e.g. an amending act).
    pub source: Option<String>,
    /// Caveat for this item, e.g. that a fact is unverified.
    pub note: Option<String>,
    /// References to other items: `item-id` (same catalog) or `catalog-id:item-id`.
    pub references: Vec<String>,
    /// Extra string attributes (e.g. `role: provider`); exported as OSCAL props.
    pub attributes: BTreeMap<String, String>,
}

/// A loaded framework catalog: metadata plus items in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Catalog {
    /// File-level metadata.
    pub meta: CatalogMeta,
    /// Where the catalog came from (file path or `embedded:<name>`).
    pub origin: String,
    items: Vec<Item>,
    index: HashMap<String, usize>,
}

impl Catalog {
    /// Builds a catalog. Duplicate ids are kept in `items` (validation reports them) and the
    /// index points at the first occurrence.
    pub fn new(meta: CatalogMeta, origin: impl Into<String>, items: Vec<Item>) -> Self {
        let mut index = HashMap::with_capacity(items.len());
        for (i, it) in items.iter().enumerate() {
            index.entry(it.id.clone()).or_insert(i);
        }
        Catalog {
            meta,
            origin: origin.into(),
            items,
            index,
        }
    }

    /// The catalog id (shorthand for `meta.id`).
    pub fn id(&self) -> &str {
        &self.meta.id
    }

    /// All items in file order.
    pub fn items(&self) -> &[Item] {
        &self.items
    }

    /// The item with this id.
    pub fn item(&self, id: &str) -> Option<&Item> {
        self.index.get(id).map(|&i| &self.items[i])
    }

    /// Direct children of `id`, in file order.
    pub fn children<'a>(&'a self, id: &'a str) -> impl Iterator<Item = &'a Item> + 'a {
        self.items
            .iter()
            .filter(move |it| it.parent.as_deref() == Some(id))
    }

    /// Items without a parent, in file order.
    pub fn roots(&self) -> impl Iterator<Item = &Item> {
        self.items.iter().filter(|it| it.parent.is_none())
    }

    /// Items of one kind, in file order.
    pub fn items_of_kind<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = &'a Item> + 'a {
        self.items.iter().filter(move |it| it.kind == kind)
    }

    /// Number of items of one kind.
    pub fn count_kind(&self, kind: &str) -> usize {
        self.items_of_kind(kind).count()
    }

    /// Item kinds with their counts, in first-seen order.
    pub fn kind_counts(&self) -> Vec<(String, usize)> {
        let mut out: Vec<(String, usize)> = Vec::new();
        for it in &self.items {
            match out.iter_mut().find(|(k, _)| *k == it.kind) {
                Some((_, n)) => *n += 1,
                None => out.push((it.kind.clone(), 1)),
            }
        }
        out
    }

    /// Ancestors of `id`, nearest first (stops on a cycle or a missing parent).
    pub fn ancestors(&self, id: &str) -> Vec<&Item> {
        let mut out: Vec<&Item> = Vec::new();
        let mut cur = self.item(id).and_then(|it| it.parent.as_deref());
        while let Some(p) = cur {
            match self.item(p) {
                Some(it) if !out.iter().any(|o| o.id == it.id) => {
                    out.push(it);
                    cur = it.parent.as_deref();
                }
                _ => break,
            }
        }
        out
    }
}

/// How a source item relates to a target item (after NIST OLIR, IR 8278).
///
/// Read a mapping row as "source *relationship* target": `Subset` means everything the source
/// item asks for is within what the target item asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Relationship {
    /// Source and target ask for the same thing.
    Equal,
    /// The source is narrower than, and contained in, the target.
    Subset,
    /// The source is broader than, and contains, the target.
    Superset,
    /// The two overlap; neither contains the other.
    Intersects,
}

impl Relationship {
    /// The relationship read in the other direction (target → source).
    pub fn inverse(self) -> Self {
        match self {
            Relationship::Subset => Relationship::Superset,
            Relationship::Superset => Relationship::Subset,
            other => other,
        }
    }

    /// The snake_case name used in data files.
    pub fn as_str(self) -> &'static str {
        match self {
            Relationship::Equal => "equal",
            Relationship::Subset => "subset",
            Relationship::Superset => "superset",
            Relationship::Intersects => "intersects",
        }
    }

    /// Every value accepted in data files.
    pub const ALL: [Relationship; 4] = [
        Relationship::Equal,
        Relationship::Subset,
        Relationship::Superset,
        Relationship::Intersects,
    ];
}

impl fmt::Display for Relationship {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Relationship {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Relationship::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "`{s}` is not a relationship (expected equal, subset, superset or intersects)"
                )
            })
    }
}

/// File-level metadata every crosswalk must carry.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CrosswalkMeta {
    /// Unique crosswalk id.
    pub id: String,
    /// Human-readable name.
    pub name: String,
    /// Version of this mapping set.
    pub version: String,
    /// Catalog id of the mapping sources.
    pub source_catalog: String,
    /// Catalog id of the mapping targets.
    pub target_catalog: String,
    /// Licence of this file.
    pub licence: String,
    /// What the mapping is based on.
    pub source: String,
    /// How the rows and rationales were written.
    pub text_note: String,
    /// Date this file was last revised.
    pub updated: Option<String>,
    /// Free-form notes.
    pub notes: Vec<String>,
}

/// One mapping row of a crosswalk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapping {
    /// Item id in the source catalog.
    pub source: String,
    /// Item id in the target catalog.
    pub target: String,
    /// Source *relationship* target.
    pub relationship: Relationship,
    /// Why the two are related, in our words.
    pub rationale: String,
    /// Where the row comes from if it is not our own judgement (e.g. a published crosswalk).
    pub provenance: Option<String>,
}

/// A set of mappings from one catalog to another.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Crosswalk {
    /// File-level metadata.
    pub meta: CrosswalkMeta,
    /// Where the crosswalk came from (file path or `embedded:<name>`).
    pub origin: String,
    /// Mapping rows in file order.
    pub mappings: Vec<Mapping>,
}

/// A mapping row read in a chosen direction (from → to), possibly inverted from the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrientedMapping<'a> {
    /// Catalog of `from_item`.
    pub from_catalog: &'a str,
    /// The item on the side asked for first.
    pub from_item: &'a str,
    /// Catalog of `to_item`.
    pub to_catalog: &'a str,
    /// The item on the other side.
    pub to_item: &'a str,
    /// `from_item` *relationship* `to_item` (inverted if the file maps the other way).
    pub relationship: Relationship,
    /// Rationale from the file.
    pub rationale: &'a str,
    /// Provenance from the file, if any.
    pub provenance: Option<&'a str>,
    /// The crosswalk the row comes from.
    pub crosswalk_id: &'a str,
    /// True when the file maps `to` → `from` and the row was inverted.
    pub inverted: bool,
}
