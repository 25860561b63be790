//! Framework coverage: for each requirement of a framework, the applied controls that
//! satisfy it, directly or through a crosswalk, and whether evidence backs them.

use crate::assess::{assess_control, ControlAssessment};
use crate::evidence::EvidenceIndex;
use crate::items::assessable_items;
use airisk_catalog::{Catalog, Library, Relationship};
use airisk_model::{ControlStatus, Register};
use chrono::NaiveDate;
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CoverageState {
    /// Excluded in the Statement of Applicability; left out of the percentages.
    Excluded,
    /// No live control.
    Uncovered,
    /// Only controls that are planned, or that reach it through a partial mapping
    /// (`subset`/`intersects`), or that are not yet in place.
    Partial,
    /// An in-place control satisfies it fully (directly, or via `equal`/`superset`).
    Covered,
    /// Covered, and the covering control has evidence.
    Evidenced,
}

impl CoverageState {
    pub fn as_str(self) -> &'static str {
        match self {
            CoverageState::Excluded => "excluded",
            CoverageState::Uncovered => "uncovered",
            CoverageState::Partial => "partial",
            CoverageState::Covered => "covered",
            CoverageState::Evidenced => "covered with evidence",
        }
    }
}

/// How a control reaches an item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Via {
    /// The control lists the item in `implements`.
    Direct,
    /// The control implements `from`, which the crosswalk relates to the item.
    Crosswalk {
        from: String,
        /// `from` *relationship* item: `equal`, `subset`, `superset` or `intersects`.
        relationship: String,
        crosswalk: String,
    },
}

impl Via {
    /// Whether satisfying the control's item satisfies this one in full.
    pub fn is_full(&self) -> bool {
        match self {
            Via::Direct => true,
            Via::Crosswalk { relationship, .. } => {
                relationship == Relationship::Equal.as_str()
                    || relationship == Relationship::Superset.as_str()
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CoveringControl {
    pub control: String,
    pub title: String,
    pub status: ControlStatus,
    pub via: Via,
    pub evidence: usize,
    pub effectiveness: airisk_model::EffectivenessRating,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CoverageRow {
    pub item: String,
    pub reference: String,
    pub kind: String,
    pub title: String,
    pub state: CoverageState,
    pub controls: Vec<CoveringControl>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Coverage {
    pub catalog: String,
    pub framework: String,
    pub as_of: NaiveDate,
    /// Items counted (excluded ones are not).
    pub items: usize,
    pub excluded: usize,
    pub uncovered: usize,
    pub partial: usize,
    pub covered: usize,
    pub evidenced: usize,
    /// Share of counted items covered in full (with or without evidence), in percent.
    pub percent_covered: f64,
    /// Share of counted items covered in full with evidence, in percent.
    pub percent_with_evidence: f64,
    pub rows: Vec<CoverageRow>,
}

pub fn coverage(
    register: &Register,
    library: &Library,
    catalog: &Catalog,
    evidence: &EvidenceIndex,
    today: NaiveDate,
) -> Coverage {
    let assessed: BTreeMap<&str, ControlAssessment> = register
        .controls
        .values()
        .filter(|c| c.status != ControlStatus::Retired)
        .map(|c| (c.id.as_str(), assess_control(c, evidence, today)))
        .collect();
    // item id → the controls that reach it, each by its best route.
    let mut reach: BTreeMap<String, Vec<CoveringControl>> = BTreeMap::new();
    for (id, control) in &assessed {
        for implemented in &control.implements {
            let Some((from_catalog, from_item)) = implemented.split_once(':') else {
                continue;
            };
            let mut routes: Vec<(String, Via)> = Vec::new();
            if from_catalog == catalog.id() {
                routes.push((from_item.to_string(), Via::Direct));
            } else {
                for m in library.mappings_for(from_catalog, from_item, catalog.id()) {
                    routes.push((
                        m.to_item.to_string(),
                        Via::Crosswalk {
                            from: implemented.clone(),
                            relationship: m.relationship.as_str().to_string(),
                            crosswalk: m.crosswalk_id.to_string(),
                        },
                    ));
                }
            }
            for (item, via) in routes {
                let list = reach.entry(item).or_default();
                let candidate = CoveringControl {
                    control: id.to_string(),
                    title: control.title.clone(),
                    status: control.status,
                    via,
                    evidence: control.evidence.len(),
                    effectiveness: control.effectiveness.rating,
                };
                match list.iter_mut().find(|c| c.control == candidate.control) {
                    // Keep the strongest route: direct or full beats partial.
                    Some(existing) if !existing.via.is_full() && candidate.via.is_full() => {
                        *existing = candidate
                    }
                    Some(_) => {}
                    None => list.push(candidate),
                }
            }
        }
    }
    let mut rows = Vec::new();
    for item in assessable_items(catalog) {
        let reference = format!("{}:{}", catalog.id(), item.id);
        let controls = reach.remove(&item.id).unwrap_or_default();
        let excluded = register.soa.get(&reference).is_some_and(|d| !d.applicable);
        let full_in_place: Vec<&CoveringControl> = controls
            .iter()
            .filter(|c| c.via.is_full() && c.status.is_in_place())
            .collect();
        let state = if excluded {
            CoverageState::Excluded
        } else if full_in_place.iter().any(|c| c.evidence > 0) {
            CoverageState::Evidenced
        } else if !full_in_place.is_empty() {
            CoverageState::Covered
        } else if !controls.is_empty() {
            CoverageState::Partial
        } else {
            CoverageState::Uncovered
        };
        rows.push(CoverageRow {
            item: item.id.clone(),
            reference,
            kind: item.kind.clone(),
            title: item.title.clone(),
            state,
            controls,
        });
    }
    let count = |state| rows.iter().filter(|r| r.state == state).count();
    let excluded = count(CoverageState::Excluded);
    let evidenced = count(CoverageState::Evidenced);
    let covered = count(CoverageState::Covered);
    let items = rows.len() - excluded;
    let percent = |n: usize| {
        if items == 0 {
            0.0
        } else {
            (n as f64 * 1000.0 / items as f64).round() / 10.0
        }
    };
    Coverage {
        catalog: catalog.id().to_string(),
        framework: catalog.meta.name.clone(),
        as_of: today,
        items,
        excluded,
        uncovered: count(CoverageState::Uncovered),
        partial: count(CoverageState::Partial),
        covered,
        evidenced,
        percent_covered: percent(covered + evidenced),
        percent_with_evidence: percent(evidenced),
        rows,
    }
}
