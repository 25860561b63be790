//! Applied controls measured against frameworks (M8).
//!
//! What it is: the pure computations that join the register's applied controls and
//! Statement of Applicability decisions with the framework catalogs and with the evidence
//! stored in the ledger — control effectiveness, the Statement of Applicability (SoA) and
//! its problems, framework coverage (directly or through crosswalks), reference checks for
//! `airisk apply`, and the SoA reports (Markdown, CSV, HTML, OSCAL component definition).
//!
//! What it is not: storage or IO. Evidence arrives as [`EvidenceFact`]s that the caller read
//! from the store; `today` is a parameter; renderers return strings.
//!
//! Invariants:
//! - Only controls that are in place (implemented or operating) make an item covered; a
//!   planned or retired control is listed but never counts.
//! - A framework item's rows are the catalog's own ids, in catalog order, so two reports of
//!   the same register and catalog are identical.

pub mod assess;
pub mod coverage;
pub mod evidence;
pub mod items;
pub mod oscal;
pub mod references;
pub mod render;
pub mod soa;

pub use assess::{assess_control, ControlAssessment};
pub use coverage::{coverage, Coverage, CoverageRow, CoverageState, CoveringControl, Via};
pub use evidence::{EvidenceFact, EvidenceIndex, EvidenceRef};
pub use items::{assessable_items, soa_items};
pub use references::check_references;
pub use soa::{build_soa, Applicability, ItemStatus, Soa, SoaProblem, SoaRow};
