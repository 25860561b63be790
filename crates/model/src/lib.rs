//! The airisk domain model and its rules.
//!
//! What it is: the types of the AI system inventory and the AI risk register — people,
//! criteria sets, systems, risks, treatments, screening decisions, applied controls,
//! Statement of Applicability decisions and register settings —
//! and the pure rules over them: scoring against a criteria grid, use-case tiering,
//! acceptance above the threshold, nonconformities, review dates, the screening matrix,
//! the due report, control effectiveness from evidence, and the field-level plan of applying desired objects to a register.
//!
//! What it is not: storage, file formats, presentation. It does no IO, has no async and
//! never depends on a database crate; `today` is always a parameter so every rule is
//! deterministic and testable.
//!
//! Invariants:
//! - An object's canonical form is `Object::to_value`; equality of canonical forms is
//!   what "unchanged" means everywhere (apply, export, history).
//! - `Register::validate` returns every violated rule; a register with no issues is one
//!   that storage may hold.

pub mod control;
pub mod criteria;
pub mod issue;
pub mod level;
pub mod object;
pub mod objects;
pub mod person;
pub mod plan;
pub mod register;
pub mod review;
pub mod risk;
pub mod screening;
pub mod settings;
pub mod system;
pub mod treatment;

pub use control::{
    assess_effectiveness, is_item_reference, Control, ControlStatus, Effectiveness,
    EffectivenessRating, EvidenceOutcome, Observation, SoaDecision, DEFAULT_EVIDENCE_VALID_DAYS,
};
pub use criteria::{CriteriaSet, ScaleStep, ScoreBands};
pub use issue::Issue;
pub use level::Level;
pub use object::{natural_cmp, ObjectKind};
pub use objects::{FieldError, Object};
pub use person::Person;
pub use plan::{diff, plan, Action, FieldChange, Plan, PlannedChange};
pub use register::{current_level, DueReport, Register, RiskView, ScoreView, ScreeningRow};
pub use risk::{Category, Risk, RiskSource, RiskStatus, Score};
pub use screening::{ScreeningCell, ScreeningDecision};
pub use settings::{ReviewCycles, Settings, SETTINGS_ID};
pub use system::{AiSystem, Classification, EuAiActClass, EuAiActClassification, Exposure};
pub use treatment::{Treatment, TreatmentOption, TreatmentStatus};
