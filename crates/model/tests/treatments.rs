//! Treatments (M6): nonconformities (past target date, no evidence), overdue treatments,
//! their place in the due report, and the treatment field rules.

mod common;

use airisk_model::{ObjectKind, Treatment, TreatmentOption, TreatmentStatus};
use chrono::Days;
use common::*;
use proptest::prelude::*;

fn any_status() -> impl Strategy<Value = TreatmentStatus> {
    prop::sample::select(vec![
        TreatmentStatus::Planned,
        TreatmentStatus::InProgress,
        TreatmentStatus::Done,
        TreatmentStatus::Cancelled,
    ])
}

fn any_option() -> impl Strategy<Value = TreatmentOption> {
    prop::sample::select(vec![
        TreatmentOption::Avoid,
        TreatmentOption::Mitigate,
        TreatmentOption::Transfer,
        TreatmentOption::Accept,
    ])
}

/// A target date relative to `today` (negative = in the past).
fn offset(days: i64) -> chrono::NaiveDate {
    if days >= 0 {
        today() + Days::new(days as u64)
    } else {
        today() - Days::new((-days) as u64)
    }
}

fn arbitrary_treatment() -> impl Strategy<Value = Treatment> {
    (
        any_option(),
        any_status(),
        prop::option::of(-400i64..400),
        0usize..3,
    )
        .prop_map(|(option, status, target, evidence)| {
            let mut t = treatment("T-1", "R-1", option);
            t.status = status;
            t.completed_on = (status == TreatmentStatus::Done).then(|| date(2026, 1, 1));
            t.target_date = target.map(offset);
            t.evidence = (0..evidence).map(|i| format!("evidence-{i}")).collect();
            t
        })
}

#[test]
fn status_openness() {
    assert!(TreatmentStatus::Planned.is_open());
    assert!(TreatmentStatus::InProgress.is_open());
    assert!(!TreatmentStatus::Done.is_open());
    assert!(!TreatmentStatus::Cancelled.is_open());
}

#[test]
fn nonconformity_boundaries() {
    let mut t = treatment("T-1", "R-1", TreatmentOption::Mitigate);
    t.target_date = Some(today());
    assert!(!t.is_nonconformity(today()), "due today is not yet late");
    assert!(!t.is_overdue(today()));
    t.target_date = Some(offset(-1));
    assert!(t.is_nonconformity(today()), "a day late with no evidence");
    assert!(t.is_overdue(today()));
    t.evidence = vec!["https://tickets/42".into()];
    assert!(!t.is_nonconformity(today()), "evidence clears it");
    assert!(t.is_overdue(today()), "but it is still open and late");
}

#[test]
fn done_without_evidence_is_still_a_nonconformity() {
    let mut t = treatment("T-1", "R-1", TreatmentOption::Mitigate);
    t.status = TreatmentStatus::Done;
    t.completed_on = Some(offset(-10));
    t.target_date = Some(offset(-30));
    assert!(t.is_nonconformity(today()));
    assert!(!t.is_overdue(today()));
}

#[test]
fn cancelled_and_undated_treatments_are_never_late() {
    let mut t = treatment("T-1", "R-1", TreatmentOption::Mitigate);
    t.status = TreatmentStatus::Cancelled;
    t.target_date = Some(offset(-100));
    assert!(!t.is_nonconformity(today()));
    assert!(!t.is_overdue(today()));
    let accept = treatment("T-2", "R-1", TreatmentOption::Accept);
    assert_eq!(accept.target_date, None);
    assert!(!accept.is_nonconformity(date(2100, 1, 1)));
    assert!(!accept.is_overdue(date(2100, 1, 1)));
}

#[test]
fn due_report_entries_carry_days_and_evidence_count() {
    let mut reg = base_register();
    add_risk(&mut reg, scored_risk("R-1", (3, 3), None));
    let mut late = treatment("T-1", "R-1", TreatmentOption::Mitigate);
    late.target_date = Some(offset(-12));
    add_treatment(&mut reg, late);
    let mut late_with_evidence = treatment("T-2", "R-1", TreatmentOption::Avoid);
    late_with_evidence.target_date = Some(offset(-3));
    late_with_evidence.status = TreatmentStatus::InProgress;
    late_with_evidence.evidence = vec!["a".into(), "b".into()];
    add_treatment(&mut reg, late_with_evidence);
    let mut on_time = treatment("T-10", "R-1", TreatmentOption::Mitigate);
    on_time.target_date = Some(offset(5));
    add_treatment(&mut reg, on_time);
    assert_valid(&reg);

    let due = reg.due(today());
    let overdue: Vec<(&str, i64, usize)> = due
        .overdue_treatments
        .iter()
        .map(|t| (t.id.as_str(), t.days_overdue, t.evidence))
        .collect();
    assert_eq!(overdue, vec![("T-1", 12, 0), ("T-2", 3, 2)]);
    let nonconformities: Vec<(&str, i64)> = due
        .nonconformities
        .iter()
        .map(|t| (t.id.as_str(), t.days_overdue))
        .collect();
    assert_eq!(nonconformities, vec![("T-1", 12)]);
    assert_eq!(due.nonconformities[0].risk, "R-1");
    assert_eq!(due.nonconformities[0].status, TreatmentStatus::Planned);
    assert_eq!(due.today, today());
}

#[test]
fn treatment_field_rules() {
    let mut reg = base_register();
    add_risk(&mut reg, scored_risk("R-1", (3, 3), None));
    let mut no_target = treatment("T-1", "R-1", TreatmentOption::Mitigate);
    no_target.target_date = None;
    no_target.description = " ".into();
    add_treatment(&mut reg, no_target);
    let mut done_undated = treatment("T-2", "R-1", TreatmentOption::Avoid);
    done_undated.status = TreatmentStatus::Done;
    add_treatment(&mut reg, done_undated);
    let mut planned_completed = treatment("T-3", "R-1", TreatmentOption::Avoid);
    planned_completed.completed_on = Some(date(2026, 1, 1));
    add_treatment(&mut reg, planned_completed);
    let mut transfer = treatment("T-4", "R-1", TreatmentOption::Transfer);
    transfer.transfer_to = Some("  ".into());
    transfer.evidence = vec!["ok".into(), "".into()];
    add_treatment(&mut reg, transfer);
    let mut unknowns = treatment("T-5", "R-404", TreatmentOption::Mitigate);
    unknowns.owner = "ghost".into();
    add_treatment(&mut reg, unknowns);
    let issues = reg.validate();
    assert_eq!(
        fields_of(&issues, ObjectKind::Treatment, "T-1"),
        vec!["description", "target_date"]
    );
    assert_eq!(
        fields_of(&issues, ObjectKind::Treatment, "T-2"),
        vec!["completed_on"]
    );
    assert_eq!(
        fields_of(&issues, ObjectKind::Treatment, "T-3"),
        vec!["completed_on"]
    );
    assert_eq!(
        fields_of(&issues, ObjectKind::Treatment, "T-4"),
        vec!["transfer_to", "evidence[1]"]
    );
    assert_eq!(
        fields_of(&issues, ObjectKind::Treatment, "T-5"),
        vec!["owner", "risk"]
    );
    let risk_issue = issue_at(&issues, ObjectKind::Treatment, "T-5", "risk");
    assert!(
        risk_issue.message.contains("unknown risk `R-404`"),
        "{}",
        risk_issue.message
    );
    assert!(risk_issue.message.contains("R-1"), "lists the known risks");
}

#[test]
fn transfer_without_counterparty_is_reported() {
    let mut reg = base_register();
    add_risk(&mut reg, scored_risk("R-1", (3, 3), None));
    let mut t = treatment("T-1", "R-1", TreatmentOption::Transfer);
    t.transfer_to = None;
    add_treatment(&mut reg, t);
    assert_eq!(
        fields_of(&reg.validate(), ObjectKind::Treatment, "T-1"),
        vec!["transfer_to"]
    );
}

proptest! {
    #[test]
    fn nonconformity_rule(t in arbitrary_treatment(), today_shift in -3i64..3) {
        let day = offset(today_shift);
        let expected = t.status != TreatmentStatus::Cancelled
            && t.evidence.is_empty()
            && t.target_date.is_some_and(|d| d < day);
        prop_assert_eq!(t.is_nonconformity(day), expected);
    }

    #[test]
    fn overdue_rule(t in arbitrary_treatment(), today_shift in -3i64..3) {
        let day = offset(today_shift);
        let open = matches!(t.status, TreatmentStatus::Planned | TreatmentStatus::InProgress);
        let expected = open && t.target_date.is_some_and(|d| d < day);
        prop_assert_eq!(t.is_overdue(day), expected);
    }

    /// Moving today later never clears a nonconformity or an overdue treatment.
    #[test]
    fn lateness_only_grows_with_time(t in arbitrary_treatment(), a in -500i64..500, b in 0u64..500) {
        let early = offset(a);
        let late = early + Days::new(b);
        if t.is_nonconformity(early) {
            prop_assert!(t.is_nonconformity(late));
        }
        if t.is_overdue(early) {
            prop_assert!(t.is_overdue(late));
        }
    }

    /// The due report lists exactly the overdue treatments and exactly the
    /// nonconformities, in natural id order, with the days past the target date.
    #[test]
    fn due_report_lists_exactly_the_late_treatments(
        ts in prop::collection::vec(arbitrary_treatment(), 0..8),
        today_shift in -3i64..3,
    ) {
        let day = offset(today_shift);
        let mut reg = base_register();
        add_risk(&mut reg, scored_risk("R-1", (3, 3), None));
        // Ids T-1..T-n inserted in reverse so map order and natural order differ (T-10 < T-2 as strings).
        let ts: Vec<Treatment> = ts
            .into_iter()
            .enumerate()
            .map(|(i, t)| Treatment { id: format!("T-{}", i * 3 + 1), ..t })
            .collect();
        for t in ts.iter().rev() {
            add_treatment(&mut reg, t.clone());
        }
        let due = reg.due(day);
        let overdue: Vec<String> = due.overdue_treatments.iter().map(|t| t.id.clone()).collect();
        let nonconf: Vec<String> = due.nonconformities.iter().map(|t| t.id.clone()).collect();
        let expected_overdue: Vec<String> =
            ts.iter().filter(|t| t.is_overdue(day)).map(|t| t.id.clone()).collect();
        let expected_nonconf: Vec<String> =
            ts.iter().filter(|t| t.is_nonconformity(day)).map(|t| t.id.clone()).collect();
        prop_assert_eq!(overdue, expected_overdue);
        prop_assert_eq!(nonconf, expected_nonconf);
        for entry in due.overdue_treatments.iter().chain(&due.nonconformities) {
            let t = ts.iter().find(|t| t.id == entry.id).unwrap();
            let target = t.target_date.unwrap();
            prop_assert_eq!(entry.days_overdue, (day - target).num_days());
            prop_assert!(entry.days_overdue > 0);
            prop_assert_eq!(entry.evidence, t.evidence.len());
            prop_assert_eq!(entry.target_date, t.target_date);
            prop_assert_eq!(entry.option, t.option);
        }
    }

    /// A target date is required for every option except accept.
    #[test]
    fn target_date_rule(option in any_option(), has_date in any::<bool>()) {
        let mut reg = base_register();
        add_risk(&mut reg, scored_risk("R-1", (2, 2), None));
        let mut t = treatment("T-1", "R-1", option);
        t.target_date = has_date.then(today);
        add_treatment(&mut reg, t);
        let fields = fields_of(&reg.validate(), ObjectKind::Treatment, "T-1");
        prop_assert_eq!(
            fields.contains(&"target_date".to_string()),
            option != TreatmentOption::Accept && !has_date
        );
    }

    /// A completion date belongs to done treatments and only to them.
    #[test]
    fn completion_date_rule(status in any_status(), completed in any::<bool>()) {
        let mut reg = base_register();
        add_risk(&mut reg, scored_risk("R-1", (2, 2), None));
        let mut t = treatment("T-1", "R-1", TreatmentOption::Mitigate);
        t.status = status;
        t.completed_on = completed.then(today);
        add_treatment(&mut reg, t);
        let fields = fields_of(&reg.validate(), ObjectKind::Treatment, "T-1");
        prop_assert_eq!(
            fields.contains(&"completed_on".to_string()),
            (status == TreatmentStatus::Done) != completed
        );
    }
}
