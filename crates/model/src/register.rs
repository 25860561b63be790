//! The register: every object, the rules that span objects, and the views derived from them.

use crate::control::{Control, SoaDecision};
use crate::criteria::CriteriaSet;
use crate::issue::{Issue, IssueSink};
use crate::level::Level;
use crate::object::{natural_cmp, ObjectKind};
use crate::objects::Object;
use crate::person::Person;
use crate::review;
use crate::risk::{Category, Risk, RiskStatus, Score};
use crate::screening::{ScreeningCell, ScreeningDecision};
use crate::settings::{ReviewCycles, Settings, SETTINGS_ID};
use crate::system::AiSystem;
use crate::treatment::{Treatment, TreatmentOption, TreatmentStatus};
use chrono::NaiveDate;
use serde::Serialize;
use std::collections::BTreeMap;

/// All objects of a register, keyed by id.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Register {
    pub settings: Option<Settings>,
    pub people: BTreeMap<String, Person>,
    pub criteria: BTreeMap<String, CriteriaSet>,
    pub systems: BTreeMap<String, AiSystem>,
    pub risks: BTreeMap<String, Risk>,
    pub treatments: BTreeMap<String, Treatment>,
    pub screening: BTreeMap<String, ScreeningDecision>,
    pub controls: BTreeMap<String, Control>,
    /// Statement of Applicability decisions, keyed by framework item reference.
    pub soa: BTreeMap<String, SoaDecision>,
}

/// Where the register's criteria set comes from, or why there is none.
enum CriteriaChoice<'a> {
    Chosen(&'a CriteriaSet),
    NoneDefined,
    Ambiguous,
    Unknown(&'a str),
}

impl Register {
    pub fn from_objects(objects: impl IntoIterator<Item = Object>) -> Register {
        let mut register = Register::default();
        for object in objects {
            register.insert(object);
        }
        register
    }

    /// Inserts or replaces an object; returns the one it replaced.
    pub fn insert(&mut self, object: Object) -> Option<Object> {
        match object {
            Object::Settings(o) => self.settings.replace(o).map(Object::Settings),
            Object::Person(o) => self.people.insert(o.id.clone(), o).map(Object::Person),
            Object::Criteria(o) => self.criteria.insert(o.id.clone(), o).map(Object::Criteria),
            Object::System(o) => self.systems.insert(o.id.clone(), o).map(Object::System),
            Object::Risk(o) => self.risks.insert(o.id.clone(), o).map(Object::Risk),
            Object::Treatment(o) => self
                .treatments
                .insert(o.id.clone(), o)
                .map(Object::Treatment),
            Object::Screening(o) => self.screening.insert(o.id(), o).map(Object::Screening),
            Object::Control(o) => self.controls.insert(o.id.clone(), o).map(Object::Control),
            Object::Soa(o) => self.soa.insert(o.item.clone(), o).map(Object::Soa),
        }
    }

    pub fn get(&self, kind: ObjectKind, id: &str) -> Option<Object> {
        match kind {
            ObjectKind::Settings => self
                .settings
                .clone()
                .filter(|_| id == SETTINGS_ID)
                .map(Object::Settings),
            ObjectKind::Person => self.people.get(id).cloned().map(Object::Person),
            ObjectKind::Criteria => self.criteria.get(id).cloned().map(Object::Criteria),
            ObjectKind::System => self.systems.get(id).cloned().map(Object::System),
            ObjectKind::Risk => self.risks.get(id).cloned().map(Object::Risk),
            ObjectKind::Treatment => self.treatments.get(id).cloned().map(Object::Treatment),
            ObjectKind::Screening => self.screening.get(id).cloned().map(Object::Screening),
            ObjectKind::Control => self.controls.get(id).cloned().map(Object::Control),
            ObjectKind::Soa => self.soa.get(id).cloned().map(Object::Soa),
        }
    }

    /// Every object, referenced kinds first, ids in natural order.
    pub fn objects(&self) -> Vec<Object> {
        fn sorted<T: Clone>(map: &BTreeMap<String, T>, wrap: fn(T) -> Object) -> Vec<Object> {
            let mut items: Vec<(&String, &T)> = map.iter().collect();
            items.sort_by(|a, b| natural_cmp(a.0, b.0));
            items.into_iter().map(|(_, v)| wrap(v.clone())).collect()
        }
        let mut out: Vec<Object> = self
            .settings
            .clone()
            .map(Object::Settings)
            .into_iter()
            .collect();
        out.extend(sorted(&self.people, Object::Person));
        out.extend(sorted(&self.criteria, Object::Criteria));
        out.extend(sorted(&self.systems, Object::System));
        out.extend(sorted(&self.risks, Object::Risk));
        out.extend(sorted(&self.treatments, Object::Treatment));
        out.extend(sorted(&self.screening, Object::Screening));
        out.extend(sorted(&self.controls, Object::Control));
        out.extend(sorted(&self.soa, Object::Soa));
        out
    }

    pub fn len(&self) -> usize {
        usize::from(self.settings.is_some())
            + self.people.len()
            + self.criteria.len()
            + self.systems.len()
            + self.risks.len()
            + self.treatments.len()
            + self.screening.len()
            + self.controls.len()
            + self.soa.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn criteria_choice(&self) -> CriteriaChoice<'_> {
        match &self.settings {
            Some(settings) => match self.criteria.get(&settings.criteria) {
                Some(set) => CriteriaChoice::Chosen(set),
                None => CriteriaChoice::Unknown(&settings.criteria),
            },
            None => match self.criteria.len() {
                0 => CriteriaChoice::NoneDefined,
                1 => CriteriaChoice::Chosen(self.criteria.values().next().expect("one set")),
                _ => CriteriaChoice::Ambiguous,
            },
        }
    }

    /// The criteria set that scores this register: the one the settings name, or the
    /// only one defined.
    pub fn active_criteria(&self) -> Option<&CriteriaSet> {
        match self.criteria_choice() {
            CriteriaChoice::Chosen(set) => Some(set),
            _ => None,
        }
    }

    pub fn review_cycles(&self) -> ReviewCycles {
        self.settings
            .as_ref()
            .map(|s| s.review_cycles)
            .unwrap_or_default()
    }

    pub fn tier_review_cycles(&self) -> ReviewCycles {
        self.settings
            .as_ref()
            .map(|s| s.tier_review_cycles)
            .unwrap_or_default()
    }

    pub fn treatments_for<'a>(
        &'a self,
        risk_id: &'a str,
    ) -> impl Iterator<Item = &'a Treatment> + 'a {
        self.treatments.values().filter(move |t| t.risk == risk_id)
    }

    pub fn risks_for<'a>(&'a self, system_id: &'a str) -> impl Iterator<Item = &'a Risk> + 'a {
        self.risks
            .values()
            .filter(move |r| r.systems.iter().any(|s| s == system_id))
    }

    /// Checks every rule that spans objects. An empty list means the register is valid.
    pub fn validate(&self) -> Vec<Issue> {
        let mut issues = Vec::new();
        for object in self.objects() {
            check_id(&object, &mut issues);
        }
        self.validate_settings(&mut issues);
        for person in self.people.values() {
            if person.name.trim().is_empty() {
                issues.push(Issue::new(
                    ObjectKind::Person,
                    &person.id,
                    "name",
                    "must not be empty",
                ));
            }
        }
        for set in self.criteria.values() {
            set.validate(&mut sink(ObjectKind::Criteria, &set.id, &mut issues));
        }
        for system in self.systems.values() {
            let mut s = sink(ObjectKind::System, &system.id, &mut issues);
            system.validate(&mut s);
            for (role, who) in system.owners.roles() {
                self.check_person(&mut s, &format!("owners.{role}"), who);
            }
        }
        let criteria = self.active_criteria();
        for risk in self.risks.values() {
            self.validate_risk(risk, criteria, &mut issues);
        }
        for treatment in self.treatments.values() {
            self.validate_treatment(treatment, criteria, &mut issues);
        }
        for decision in self.screening.values() {
            let id = decision.id();
            let mut s = sink(ObjectKind::Screening, &id, &mut issues);
            if !self.systems.contains_key(&decision.system) {
                s.push("system", format!("unknown system `{}`", decision.system));
            }
            if decision.not_applicable_because.trim().is_empty() {
                s.push(
                    "not_applicable_because",
                    "say why the category does not apply to this system",
                );
            }
        }
        for control in self.controls.values() {
            let mut s = sink(ObjectKind::Control, &control.id, &mut issues);
            control.validate(&mut s);
            if let Some(owner) = &control.owner {
                self.check_person(&mut s, "owner", owner);
            }
            for (i, system) in control.systems.iter().enumerate() {
                if !self.systems.contains_key(system) {
                    s.push(
                        format!("systems[{i}]"),
                        format!(
                            "unknown system `{system}`{}",
                            known_list(self.systems.keys())
                        ),
                    );
                }
            }
            for (i, risk) in control.risks.iter().enumerate() {
                if !self.risks.contains_key(risk) {
                    s.push(
                        format!("risks[{i}]"),
                        format!("unknown risk `{risk}`{}", known_list(self.risks.keys())),
                    );
                }
            }
        }
        for decision in self.soa.values() {
            let mut s = sink(ObjectKind::Soa, &decision.item, &mut issues);
            decision.validate(&mut s);
            if let Some(who) = &decision.decided_by {
                self.check_person(&mut s, "decided_by", who);
            }
        }
        issues
    }

    /// Applied controls that treat this risk (retired ones included; callers filter).
    pub fn controls_for_risk<'a>(
        &'a self,
        risk_id: &'a str,
    ) -> impl Iterator<Item = &'a Control> + 'a {
        self.controls
            .values()
            .filter(move |c| c.risks.iter().any(|r| r == risk_id))
    }

    /// Applied controls that satisfy this framework item directly.
    pub fn controls_implementing<'a>(
        &'a self,
        item_ref: &'a str,
    ) -> impl Iterator<Item = &'a Control> + 'a {
        self.controls
            .values()
            .filter(move |c| c.implements.iter().any(|i| i == item_ref))
    }

    fn validate_settings(&self, issues: &mut Vec<Issue>) {
        match self.criteria_choice() {
            CriteriaChoice::Unknown(name) => issues.push(Issue::new(
                ObjectKind::Settings,
                SETTINGS_ID,
                "criteria",
                format!(
                    "unknown criteria set `{name}`{}",
                    known_list(self.criteria.keys())
                ),
            )),
            CriteriaChoice::Ambiguous => issues.push(Issue::new(
                ObjectKind::Settings,
                SETTINGS_ID,
                "criteria",
                format!(
                    "several criteria sets exist; add settings with `criteria:` naming the one this register uses{}",
                    known_list(self.criteria.keys())
                ),
            )),
            CriteriaChoice::NoneDefined
                if self
                    .risks
                    .values()
                    .any(|r| r.inherent.is_some() || r.residual.is_some()) =>
            {
                issues.push(Issue::new(
                    ObjectKind::Settings,
                    SETTINGS_ID,
                    "criteria",
                    "risks are scored but no criteria set is defined",
                ))
            }
            _ => {}
        }
        if let Some(settings) = &self.settings {
            let mut s = sink(ObjectKind::Settings, SETTINGS_ID, issues);
            for (field, cycles) in [
                ("review_cycles", settings.review_cycles),
                ("tier_review_cycles", settings.tier_review_cycles),
            ] {
                for level in Level::ALL {
                    if cycles.months(level) == 0 {
                        s.push(
                            format!("{field}.{level}"),
                            "a review cycle must be at least 1 month",
                        );
                    }
                }
            }
        }
    }

    fn validate_risk(&self, risk: &Risk, criteria: Option<&CriteriaSet>, issues: &mut Vec<Issue>) {
        let mut s = sink(ObjectKind::Risk, &risk.id, issues);
        risk.validate(criteria, &mut s);
        for (i, system) in risk.systems.iter().enumerate() {
            if !self.systems.contains_key(system) {
                s.push(
                    format!("systems[{i}]"),
                    format!(
                        "unknown system `{system}`{}",
                        known_list(self.systems.keys())
                    ),
                );
            }
        }
        self.check_person(&mut s, "owner", &risk.owner);
        let live: Vec<&Treatment> = self
            .treatments_for(&risk.id)
            .filter(|t| t.status != TreatmentStatus::Cancelled)
            .collect();
        match risk.status {
            RiskStatus::Treated if live.is_empty() => s.push(
                "status",
                "status treated needs at least one treatment that is not cancelled",
            ),
            RiskStatus::Accepted if !live.iter().any(|t| t.option == TreatmentOption::Accept) => s
                .push(
                "status",
                "status accepted needs a treatment with option accept that records the decision",
            ),
            _ => {}
        }
    }

    fn validate_treatment(
        &self,
        treatment: &Treatment,
        criteria: Option<&CriteriaSet>,
        issues: &mut Vec<Issue>,
    ) {
        let mut s = sink(ObjectKind::Treatment, &treatment.id, issues);
        treatment.validate(&mut s);
        self.check_person(&mut s, "owner", &treatment.owner);
        if let Some(approver) = &treatment.approved_by {
            self.check_person(&mut s, "approved_by", approver);
        }
        let Some(risk) = self.risks.get(&treatment.risk) else {
            s.push(
                "risk",
                format!(
                    "unknown risk `{}`{}",
                    treatment.risk,
                    known_list(self.risks.keys())
                ),
            );
            return;
        };
        if treatment.option != TreatmentOption::Accept
            || treatment.status == TreatmentStatus::Cancelled
        {
            return;
        }
        let Some(criteria) = criteria else {
            return;
        };
        let Some(level) = current_level(risk, criteria) else {
            return;
        };
        if criteria.above_threshold(level) {
            let context = format!(
                "accepting risk {} at level {level} is above the acceptance threshold {} of criteria set {}",
                risk.id, criteria.acceptance_threshold, criteria.id
            );
            if treatment
                .justification
                .as_deref()
                .is_none_or(|j| j.trim().is_empty())
            {
                s.push(
                    "justification",
                    format!("{context}: record a justification"),
                );
            }
            if treatment.approved_by.is_none() {
                s.push(
                    "approved_by",
                    format!("{context}: name the approver (approved_by)"),
                );
            }
        }
    }

    fn check_person(&self, sink: &mut IssueSink, field: &str, who: &str) {
        if !self.people.contains_key(who) {
            sink.push(
                field,
                format!("unknown person `{who}`{}", known_list(self.people.keys())),
            );
        }
    }

    /// Scores, levels and review dates of a risk, as the register's criteria compute them.
    pub fn risk_view(&self, risk: &Risk, today: NaiveDate) -> RiskView {
        let criteria = self.active_criteria();
        let scored = |score: &Option<Score>| {
            let score = score.as_ref()?;
            Some(ScoreView {
                likelihood: score.likelihood,
                consequence: score.consequence,
                level: criteria.and_then(|c| c.level(score.likelihood, score.consequence)),
            })
        };
        let inherent = scored(&risk.inherent);
        let residual = scored(&risk.residual);
        let level = residual
            .as_ref()
            .or(inherent.as_ref())
            .and_then(|s| s.level);
        let review_cycle_months = risk
            .review_cycle_months
            .or_else(|| level.map(|l| self.review_cycles().months(l)));
        let open = risk.status != RiskStatus::Closed;
        // A closed risk is no longer reviewed, so it has no next review.
        let next_review = match (
            risk.last_reviewed.or(risk.identified_on),
            review_cycle_months,
        ) {
            (Some(last), Some(cycle)) if open => review::next_review(last, cycle),
            _ => None,
        };
        RiskView {
            id: risk.id.clone(),
            title: risk.title.clone(),
            category: risk.category,
            systems: risk.systems.clone(),
            owner: risk.owner.clone(),
            status: risk.status,
            inherent,
            residual,
            level,
            above_threshold: match (criteria, level) {
                (Some(c), Some(l)) => c.above_threshold(l),
                _ => false,
            },
            review_cycle_months,
            last_reviewed: risk.last_reviewed,
            next_review,
            review_overdue: open && next_review.is_some_and(|d| review::is_overdue(d, today)),
        }
    }

    /// Risk views for every risk, in natural id order.
    pub fn risk_views(&self, today: NaiveDate) -> Vec<RiskView> {
        let mut views: Vec<RiskView> = self
            .risks
            .values()
            .map(|r| self.risk_view(r, today))
            .collect();
        views.sort_by(|a, b| natural_cmp(&a.id, &b.id));
        views
    }

    /// Months between reviews of a system: its override, else the cycle of its tier.
    /// `None` while the system is unclassified.
    pub fn system_review_cycle(&self, system: &AiSystem) -> Option<u32> {
        let tier = system.tier()?;
        Some(
            system
                .review_cycle_months
                .unwrap_or_else(|| self.tier_review_cycles().months(tier)),
        )
    }

    /// When the system's next review falls due (`None` if never reviewed or unclassified).
    pub fn system_next_review(&self, system: &AiSystem) -> Option<NaiveDate> {
        review::next_review(system.last_reviewed?, self.system_review_cycle(system)?)
    }

    /// The screening matrix: for every system, one cell per category.
    pub fn screening_matrix(&self) -> Vec<ScreeningRow> {
        let mut systems: Vec<&AiSystem> = self.systems.values().collect();
        systems.sort_by(|a, b| natural_cmp(&a.id, &b.id));
        systems
            .into_iter()
            .map(|system| {
                let cells = Category::ALL
                    .into_iter()
                    .map(|category| {
                        let mut risks: Vec<String> = self
                            .risks_for(&system.id)
                            .filter(|r| r.categories().any(|c| c == category))
                            .map(|r| r.id.clone())
                            .collect();
                        risks.sort_by(|a, b| natural_cmp(a, b));
                        let decision = self
                            .screening
                            .get(&ScreeningDecision::key(&system.id, category));
                        let cell = match (risks.is_empty(), decision) {
                            (false, None) => ScreeningCell::Risks { risks },
                            (false, Some(d)) => ScreeningCell::Conflict {
                                risks,
                                reason: d.not_applicable_because.clone(),
                            },
                            (true, Some(d)) => ScreeningCell::NotApplicable {
                                reason: d.not_applicable_because.clone(),
                            },
                            (true, None) => ScreeningCell::Gap,
                        };
                        ScreeningEntry { category, cell }
                    })
                    .collect();
                ScreeningRow {
                    system: system.id.clone(),
                    name: system.name.clone(),
                    cells,
                }
            })
            .collect()
    }

    /// Everything that needs attention on `today` (M6, M15).
    pub fn due(&self, today: NaiveDate) -> DueReport {
        let mut report = DueReport {
            today,
            ..DueReport::default()
        };
        for view in self.risk_views(today) {
            if view.status == RiskStatus::Closed {
                continue;
            }
            let risk_ref = RiskRef {
                id: view.id.clone(),
                title: view.title.clone(),
                level: view.level,
                owner: view.owner.clone(),
            };
            if view.level.is_none() {
                report.unassessed_risks.push(risk_ref.clone());
            }
            if let Some(next) = view.next_review.filter(|d| review::is_overdue(*d, today)) {
                report.overdue_risk_reviews.push(ReviewDue {
                    id: view.id.clone(),
                    title: view.title.clone(),
                    level: view.level,
                    owner: view.owner.clone(),
                    last_reviewed: view.last_reviewed,
                    next_review: next,
                    days_overdue: review::days_overdue(next, today),
                });
            }
            let approved = self
                .treatments_for(&view.id)
                .any(|t| t.status != TreatmentStatus::Cancelled && t.is_approved());
            if view.above_threshold && !approved {
                report
                    .above_threshold_without_approved_treatment
                    .push(risk_ref);
            }
        }
        let mut systems: Vec<&AiSystem> = self.systems.values().collect();
        systems.sort_by(|a, b| natural_cmp(&a.id, &b.id));
        for system in systems {
            if system.lifecycle == crate::system::Lifecycle::Retired {
                continue;
            }
            let Some(tier) = system.tier() else {
                report.unclassified_systems.push(SystemRef {
                    id: system.id.clone(),
                    name: system.name.clone(),
                    owner: system.owners.business.clone(),
                });
                continue;
            };
            let next = self.system_next_review(system);
            if let Some(next) = next.filter(|d| review::is_overdue(*d, today)) {
                report.overdue_system_reviews.push(ReviewDue {
                    id: system.id.clone(),
                    title: system.name.clone(),
                    level: Some(tier),
                    owner: system.owners.business.clone(),
                    last_reviewed: system.last_reviewed,
                    next_review: next,
                    days_overdue: review::days_overdue(next, today),
                });
            }
        }
        let mut treatments: Vec<&Treatment> = self.treatments.values().collect();
        treatments.sort_by(|a, b| natural_cmp(&a.id, &b.id));
        for t in treatments {
            let due = TreatmentDue {
                id: t.id.clone(),
                risk: t.risk.clone(),
                option: t.option,
                owner: t.owner.clone(),
                status: t.status,
                target_date: t.target_date,
                days_overdue: t
                    .target_date
                    .map(|d| review::days_overdue(d, today))
                    .unwrap_or(0),
                evidence: t.evidence.len(),
            };
            if t.is_overdue(today) {
                report.overdue_treatments.push(due.clone());
            }
            if t.is_nonconformity(today) {
                report.nonconformities.push(due);
            }
        }
        report
    }
}

/// The level a risk sits at now: residual once assessed after treatment, else inherent.
pub fn current_level(risk: &Risk, criteria: &CriteriaSet) -> Option<Level> {
    let score = risk.residual.as_ref().or(risk.inherent.as_ref())?;
    criteria.level(score.likelihood, score.consequence)
}

fn sink<'a>(kind: ObjectKind, id: &'a str, issues: &'a mut Vec<Issue>) -> IssueSink<'a> {
    IssueSink { kind, id, issues }
}

fn known_list<'a>(ids: impl Iterator<Item = &'a String>) -> String {
    let mut ids: Vec<&String> = ids.collect();
    if ids.is_empty() {
        return " (none are defined)".to_string();
    }
    ids.sort_by(|a, b| natural_cmp(a, b));
    const SHOWN: usize = 8;
    let mut text = ids
        .iter()
        .take(SHOWN)
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    if ids.len() > SHOWN {
        text.push_str(&format!(", … {} more", ids.len() - SHOWN));
    }
    format!(" (known: {text})")
}

/// Ids appear in file names, URLs and screening keys, so they stay plain.
fn check_id(object: &Object, issues: &mut Vec<Issue>) {
    // These ids are derived from references, which their own rules check.
    if matches!(
        object,
        Object::Settings(_) | Object::Screening(_) | Object::Soa(_)
    ) {
        return;
    }
    let id = object.id();
    let valid = id.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && id.len() <= 64;
    if !valid {
        issues.push(Issue::new(
            object.kind(),
            &id,
            "id",
            "an id is 1–64 characters of letters, digits, `-`, `_` and `.`, starting with a letter or digit",
        ));
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScoreView {
    pub likelihood: u8,
    pub consequence: u8,
    /// `null` when the register has no valid criteria set.
    pub level: Option<Level>,
}

/// A risk with everything the criteria compute for it. Part of the stable JSON output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RiskView {
    pub id: String,
    pub title: String,
    pub category: Category,
    pub systems: Vec<String>,
    pub owner: String,
    pub status: RiskStatus,
    pub inherent: Option<ScoreView>,
    pub residual: Option<ScoreView>,
    /// The current level: residual when assessed, else inherent.
    pub level: Option<Level>,
    pub above_threshold: bool,
    pub review_cycle_months: Option<u32>,
    pub last_reviewed: Option<NaiveDate>,
    pub next_review: Option<NaiveDate>,
    pub review_overdue: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScreeningEntry {
    pub category: Category,
    #[serde(flatten)]
    pub cell: ScreeningCell,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScreeningRow {
    pub system: String,
    pub name: String,
    pub cells: Vec<ScreeningEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RiskRef {
    pub id: String,
    pub title: String,
    pub level: Option<Level>,
    pub owner: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SystemRef {
    pub id: String,
    pub name: String,
    pub owner: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReviewDue {
    pub id: String,
    pub title: String,
    /// The risk's level, or the system's tier.
    pub level: Option<Level>,
    pub owner: String,
    pub last_reviewed: Option<NaiveDate>,
    pub next_review: NaiveDate,
    pub days_overdue: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TreatmentDue {
    pub id: String,
    pub risk: String,
    pub option: TreatmentOption,
    pub owner: String,
    pub status: TreatmentStatus,
    pub target_date: Option<NaiveDate>,
    pub days_overdue: i64,
    /// Number of evidence references.
    pub evidence: usize,
}

/// What needs attention. Part of the stable JSON output of `airisk due --json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DueReport {
    pub today: NaiveDate,
    pub overdue_risk_reviews: Vec<ReviewDue>,
    pub overdue_system_reviews: Vec<ReviewDue>,
    pub overdue_treatments: Vec<TreatmentDue>,
    pub nonconformities: Vec<TreatmentDue>,
    pub above_threshold_without_approved_treatment: Vec<RiskRef>,
    pub unassessed_risks: Vec<RiskRef>,
    pub unclassified_systems: Vec<SystemRef>,
}

impl Default for DueReport {
    fn default() -> Self {
        DueReport {
            today: NaiveDate::MIN,
            overdue_risk_reviews: Vec::new(),
            overdue_system_reviews: Vec::new(),
            overdue_treatments: Vec::new(),
            nonconformities: Vec::new(),
            above_threshold_without_approved_treatment: Vec::new(),
            unassessed_risks: Vec::new(),
            unclassified_systems: Vec::new(),
        }
    }
}

impl DueReport {
    pub fn item_count(&self) -> usize {
        self.overdue_risk_reviews.len()
            + self.overdue_system_reviews.len()
            + self.overdue_treatments.len()
            + self.nonconformities.len()
            + self.above_threshold_without_approved_treatment.len()
            + self.unassessed_risks.len()
            + self.unclassified_systems.len()
    }
}
