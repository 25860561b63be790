//! Builders for valid register objects, shared by the integration tests.
//!
//! Every builder returns an object that `Register::validate` accepts inside
//! `base_register()`; tests change one thing and check the rule that change touches.
#![allow(dead_code)]

use airisk_model::system::{Lifecycle, ModelType, Owners};
use airisk_model::{
    AiSystem, Category, Classification, CriteriaSet, Exposure, Issue, Level, ObjectKind, Person,
    Register, ReviewCycles, Risk, RiskStatus, ScaleStep, Score, ScoreBands, Settings, Treatment,
    TreatmentOption, TreatmentStatus,
};
use chrono::NaiveDate;
use proptest::prelude::*;

pub const CRITERIA_ID: &str = "default";
pub const SYSTEM_ID: &str = "SYS-1";
pub const RISK_OWNER: &str = "risk.lead";
pub const BUSINESS_OWNER: &str = "owner.biz";
pub const TECH_OWNER: &str = "owner.tech";
pub const APPROVER: &str = "ciso";

pub fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
}

/// A fixed "today" for tests that do not vary it.
pub fn today() -> NaiveDate {
    date(2026, 6, 15)
}

pub fn person(id: &str) -> Person {
    Person {
        id: id.to_string(),
        name: format!("Person {id}"),
        email: None,
        title: None,
    }
}

pub fn steps(n: usize, prefix: &str) -> Vec<ScaleStep> {
    (1..=n)
        .map(|i| ScaleStep {
            label: format!("{prefix} {i}"),
            description: String::new(),
        })
        .collect()
}

/// A monotone 5×5 grid (rows = likelihood 1..5, columns = consequence 1..5).
pub fn grid_5x5() -> Vec<Vec<Level>> {
    use Level::{Critical as C, High as H, Low as L, Medium as M};
    vec![
        vec![L, L, L, M, M],
        vec![L, L, M, M, H],
        vec![L, M, M, H, H],
        vec![M, M, H, H, C],
        vec![M, H, H, C, C],
    ]
}

/// A criteria set defined by an explicit grid; the scales follow the grid's shape.
pub fn criteria_grid(id: &str, grid: Vec<Vec<Level>>, threshold: Level) -> CriteriaSet {
    let rows = grid.len();
    let cols = grid.first().map_or(0, Vec::len);
    CriteriaSet {
        id: id.to_string(),
        name: format!("Criteria {id}"),
        description: String::new(),
        likelihood: steps(rows, "likelihood"),
        consequence: steps(cols, "consequence"),
        grid: Some(grid),
        bands: None,
        acceptance_threshold: threshold,
        consequence_categories: vec!["financial".into(), "regulatory".into(), "safety".into()],
    }
}

/// A criteria set defined by score bands.
pub fn criteria_bands(
    id: &str,
    likelihood: usize,
    consequence: usize,
    bands: ScoreBands,
    threshold: Level,
) -> CriteriaSet {
    CriteriaSet {
        id: id.to_string(),
        name: format!("Criteria {id}"),
        description: String::new(),
        likelihood: steps(likelihood, "likelihood"),
        consequence: steps(consequence, "consequence"),
        grid: None,
        bands: Some(bands),
        acceptance_threshold: threshold,
        consequence_categories: vec!["financial".into()],
    }
}

/// The 5×5 grid set with threshold `medium`.
pub fn criteria_5x5() -> CriteriaSet {
    criteria_grid(CRITERIA_ID, grid_5x5(), Level::Medium)
}

pub fn settings(criteria: &str) -> Settings {
    Settings {
        name: "Example Ltd".to_string(),
        criteria: criteria.to_string(),
        review_cycles: ReviewCycles::default(),
        tier_review_cycles: ReviewCycles::default(),
    }
}

/// A valid internal, proprietary system with no tools, no data sources and no classification.
pub fn system(id: &str) -> AiSystem {
    AiSystem {
        id: id.to_string(),
        name: format!("System {id}"),
        purpose: "Answers questions".to_string(),
        intended_use: String::new(),
        model_type: ModelType::Proprietary,
        components: Vec::new(),
        data_sources: Vec::new(),
        tools: Vec::new(),
        users: Vec::new(),
        affected_parties: Vec::new(),
        environment: "production".to_string(),
        exposure: Exposure::Internal,
        criticality: Level::Medium,
        vendors: Vec::new(),
        lifecycle: Lifecycle::Deployed,
        owners: Owners {
            business: BUSINESS_OWNER.to_string(),
            technical: TECH_OWNER.to_string(),
            data: None,
            policy: None,
            incident: None,
        },
        classification: None,
        eu_ai_act: None,
        last_reviewed: None,
        review_cycle_months: None,
    }
}

pub fn classification_from_bits(bits: u8) -> Classification {
    Classification {
        external_users: bits & 1 != 0,
        personal_or_regulated_data: bits & 2 != 0,
        consequential_decisions: bits & 4 != 0,
        tools_or_actions: bits & 8 != 0,
        regulated_sector_or_children: bits & 16 != 0,
        third_party_models: bits & 32 != 0,
    }
}

pub fn score(likelihood: u8, consequence: u8) -> Score {
    Score {
        likelihood,
        consequence,
        rationale: "assessed in workshop".to_string(),
    }
}

/// A valid identified risk of `SYSTEM_ID` with no scores.
pub fn risk(id: &str) -> Risk {
    Risk {
        id: id.to_string(),
        title: format!("Risk {id}"),
        event: "the model leaks data".to_string(),
        cause: "prompt injection".to_string(),
        consequence: "customers' data is exposed".to_string(),
        category: Category::Security,
        secondary_categories: Vec::new(),
        risk_sources: Vec::new(),
        systems: vec![SYSTEM_ID.to_string()],
        consequence_categories: Vec::new(),
        inherent: None,
        residual: None,
        owner: RISK_OWNER.to_string(),
        status: RiskStatus::Identified,
        review_cycle_months: None,
        identified_on: None,
        last_reviewed: None,
    }
}

/// An assessed risk with an inherent score (and optionally a residual one).
pub fn scored_risk(id: &str, inherent: (u8, u8), residual: Option<(u8, u8)>) -> Risk {
    Risk {
        inherent: Some(score(inherent.0, inherent.1)),
        residual: residual.map(|(l, c)| score(l, c)),
        status: RiskStatus::Assessed,
        ..risk(id)
    }
}

/// A valid planned treatment of `risk`. Non-accept options get a target date; a transfer
/// gets a counterparty.
pub fn treatment(id: &str, risk: &str, option: TreatmentOption) -> Treatment {
    Treatment {
        id: id.to_string(),
        risk: risk.to_string(),
        option,
        description: format!("{} the risk", option.as_str()),
        owner: RISK_OWNER.to_string(),
        target_date: (option != TreatmentOption::Accept).then(|| date(2026, 9, 30)),
        status: TreatmentStatus::Planned,
        completed_on: None,
        evidence: Vec::new(),
        transfer_to: (option == TreatmentOption::Transfer).then(|| "Insurer plc".to_string()),
        justification: None,
        approved_by: None,
        approved_on: None,
    }
}

/// Settings, four people, the 5×5 criteria set and one system: a valid register.
pub fn base_register() -> Register {
    let mut reg = Register {
        settings: Some(settings(CRITERIA_ID)),
        ..Register::default()
    };
    for id in [RISK_OWNER, BUSINESS_OWNER, TECH_OWNER, APPROVER] {
        reg.people.insert(id.to_string(), person(id));
    }
    reg.criteria.insert(CRITERIA_ID.to_string(), criteria_5x5());
    reg.systems.insert(SYSTEM_ID.to_string(), system(SYSTEM_ID));
    reg
}

pub fn add_risk(reg: &mut Register, risk: Risk) {
    reg.risks.insert(risk.id.clone(), risk);
}

pub fn add_treatment(reg: &mut Register, treatment: Treatment) {
    reg.treatments.insert(treatment.id.clone(), treatment);
}

pub fn add_system(reg: &mut Register, system: AiSystem) {
    reg.systems.insert(system.id.clone(), system);
}

/// The fields of the issues `validate` reports for one object.
pub fn fields_of(issues: &[Issue], kind: ObjectKind, id: &str) -> Vec<String> {
    issues
        .iter()
        .filter(|i| i.kind == kind && i.id == id)
        .map(|i| i.field.clone())
        .collect()
}

pub fn has_issue(issues: &[Issue], kind: ObjectKind, id: &str, field: &str) -> bool {
    issues
        .iter()
        .any(|i| i.kind == kind && i.id == id && i.field == field)
}

/// The one issue at (kind, id, field); panics with every issue listed otherwise.
pub fn issue_at<'a>(issues: &'a [Issue], kind: ObjectKind, id: &str, field: &str) -> &'a Issue {
    let found: Vec<&Issue> = issues
        .iter()
        .filter(|i| i.kind == kind && i.id == id && i.field == field)
        .collect();
    assert!(
        found.len() == 1,
        "expected exactly one issue at {kind} {id} field {field}, got: {issues:#?}"
    );
    found[0]
}

/// Asserts a register has no issues at all, listing them otherwise.
pub fn assert_valid(reg: &Register) {
    let issues = reg.validate();
    assert!(issues.is_empty(), "expected no issues, got: {issues:#?}");
}

pub fn any_level() -> impl Strategy<Value = Level> {
    prop::sample::select(Level::ALL.to_vec())
}

/// A random monotone grid with 3 to 6 rows and 3 to 6 columns: each cell is the
/// maximum of a random level and its upper and left neighbours.
pub fn monotone_grid() -> impl Strategy<Value = Vec<Vec<Level>>> {
    (3usize..=6, 3usize..=6)
        .prop_flat_map(|(n, m)| prop::collection::vec(prop::collection::vec(any_level(), m), n))
        .prop_map(make_monotone)
}

pub fn make_monotone(mut grid: Vec<Vec<Level>>) -> Vec<Vec<Level>> {
    for r in 0..grid.len() {
        for c in 0..grid[r].len() {
            let mut v = grid[r][c];
            if r > 0 {
                v = v.max(grid[r - 1][c]);
            }
            if c > 0 {
                v = v.max(grid[r][c - 1]);
            }
            grid[r][c] = v;
        }
    }
    grid
}

/// Valid score bands for an n×m scale: a non-empty subset of the levels above low with
/// strictly increasing minimum scores of at least 2 and at most the largest product.
pub fn valid_bands() -> impl Strategy<Value = (usize, usize, ScoreBands)> {
    (
        3usize..=6,
        3usize..=6,
        1u8..8,
        prop::collection::vec(1u32..12, 3),
        2u32..10,
    )
        .prop_map(|(n, m, mask, gaps, start)| {
            let mut next = start;
            let mut take = |bit: u8| {
                if mask & bit != 0 {
                    let v = next;
                    next += gaps[bit.trailing_zeros() as usize];
                    Some(v)
                } else {
                    None
                }
            };
            let medium = take(1);
            let high = take(2);
            let critical = take(4);
            (
                n,
                m,
                ScoreBands {
                    medium,
                    high,
                    critical,
                },
            )
        })
        .prop_filter("every minimum is reachable", |(n, m, b)| {
            [b.medium, b.high, b.critical]
                .into_iter()
                .flatten()
                .all(|min| min as usize <= n * m)
        })
}

/// The level the product rule gives: the highest level whose minimum the score reaches.
pub fn product_rule(bands: &ScoreBands, score: u32) -> Level {
    let mut level = Level::Low;
    for (min, l) in [
        (bands.medium, Level::Medium),
        (bands.high, Level::High),
        (bands.critical, Level::Critical),
    ] {
        if min.is_some_and(|m| score >= m) {
            level = l;
        }
    }
    level
}
