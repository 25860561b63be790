//! Framework catalogs and crosswalks for airisk, as validated data.
//!
//! **What it is.** The catalog layer of airisk: ISO/IEC 42001:2023 (clauses and Annex A, IDs and
//! our own paraphrases only), NIST AI RMF 1.0 and NIST AI 600-1, the EU AI Act (tiers, Article 5
//! practices, Annex III areas, dated obligations and the 2026 amendment's dates), the OWASP Top
//! 10 for LLM Applications (2025, 2026) and for Agentic Applications, MITRE ATLAS tactics, the MIT
//! AI Risk Repository taxonomies and airisk's own risk taxonomy; plus crosswalks between them.
//! Every catalog and crosswalk is a YAML file under `catalogs/` in the repository, compiled into
//! the binary with `include_str!` ([`Library::embedded`]); more can be loaded from a directory
//! ([`Library::load_dir`]). Importers read the official MITRE ATLAS data file
//! ([`import::import_atlas`]) and CISO Assistant framework libraries
//! ([`import::import_ciso_library`]); [`oscal::to_oscal`] exports a catalog as an OSCAL catalog.
//!
//! ```
//! use airisk_catalog::Library;
//!
//! let lib = Library::embedded()?;
//! let iso = lib.find_catalog("iso42001")?; // family name or catalog id
//! assert_eq!(iso.count_kind("control"), 38);
//! let control = lib.item("iso42001-2023", "A.6.2.4").expect("shipped");
//! println!("{} {}", control.id, control.title);
//! // NIST AI RMF -> ISO 42001, and the same rows read the other way round.
//! for m in lib.mappings_for("nist-ai-rmf-1.0", "MAP-1.5", "iso42001-2023") {
//!     println!("{} {} {}: {}", m.from_item, m.relationship, m.to_item, m.rationale);
//! }
//! assert!(!lib.crosswalk("iso42001-2023", "nist-ai-rmf-1.0").is_empty());
//! # Ok::<(), airisk_catalog::CatalogError>(())
//! ```
//!
//! **What it is not.** It holds no organisation state: applied controls, the Statement of
//! Applicability, coverage and evidence belong to the risk register (`airisk-model`,
//! `airisk-store`), which refers to catalog items by `catalog-id:item-id`. No CLI, no database,
//! no network.
//!
//! **Invariants.**
//! - A [`Library`] only ever holds data that passed every rule in [`validate`]: unique catalog,
//!   crosswalk and item ids; parents that exist and form no cycle; references and crosswalk
//!   endpoints that resolve; relationship values from a closed set; licence, source, version and
//!   text-note metadata on every file. A failed load leaves the library unchanged.
//! - Bad input never panics; every problem is reported as an [`Issue`] naming the file, the item
//!   (or mapping) and the field.
//! - IO happens only in the `load_*` functions; everything else is pure.
//! - Crosswalk rows read "source *relationship* target"; reading a crosswalk the other way
//!   inverts `subset` and `superset` ([`Library::crosswalk`]).

pub mod error;
pub mod import;
pub mod library;
pub mod model;
pub mod oscal;
pub mod parse;
pub mod validate;

pub use error::{CatalogError, Issue};
pub use library::{Library, EMBEDDED_FILES};
pub use model::{
    Catalog, CatalogMeta, Crosswalk, CrosswalkMeta, Item, Mapping, OrientedMapping, Relationship,
};
pub use parse::{parse_catalog, parse_crosswalk, parse_document, Document};
