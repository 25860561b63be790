//! The acceptance threshold (M6): accepting a risk above the threshold needs a
//! justification and a named approver; the status rules that tie risks to treatments; and
//! the due report's list of risks above the threshold without an approved treatment.

mod common;

use airisk_model::{
    Level, ObjectKind, Register, RiskStatus, Treatment, TreatmentOption, TreatmentStatus,
};
use common::*;
use proptest::prelude::*;

/// Every cell of the 5×5 grid as (likelihood, consequence).
fn cells() -> impl Strategy<Value = (u8, u8)> {
    (1u8..=5, 1u8..=5)
}

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

/// Makes a treatment of any status valid on its own (a done one needs a completion date).
fn with_status(mut t: Treatment, status: TreatmentStatus) -> Treatment {
    t.status = status;
    t.completed_on = (status == TreatmentStatus::Done).then(|| date(2026, 5, 1));
    if status == TreatmentStatus::Done {
        t.evidence = vec!["doc-1".into()];
    }
    t
}

/// A register whose 5×5 criteria use `threshold`, with risk R-1 at (inherent, residual)
/// and an accept treatment T-1 of it.
fn accept_register(
    threshold: Level,
    inherent: (u8, u8),
    residual: Option<(u8, u8)>,
    accept: Treatment,
) -> Register {
    let mut reg = base_register();
    reg.criteria
        .get_mut(CRITERIA_ID)
        .unwrap()
        .acceptance_threshold = threshold;
    add_risk(&mut reg, scored_risk("R-1", inherent, residual));
    add_treatment(&mut reg, accept);
    reg
}

fn bare_accept() -> Treatment {
    treatment("T-1", "R-1", TreatmentOption::Accept)
}

fn approved_accept() -> Treatment {
    Treatment {
        justification: Some("the board accepts the exposure until Q3".into()),
        approved_by: Some(APPROVER.into()),
        approved_on: Some(date(2026, 6, 1)),
        ..bare_accept()
    }
}

#[test]
fn accept_within_threshold_needs_no_approval() {
    // (3,2) is medium; threshold medium.
    let reg = accept_register(Level::Medium, (5, 5), Some((3, 2)), bare_accept());
    assert_valid(&reg);
}

#[test]
fn accept_above_threshold_needs_justification_and_approver() {
    // (4,4) is high; threshold medium.
    let reg = accept_register(Level::Medium, (5, 5), Some((4, 4)), bare_accept());
    let issues = reg.validate();
    assert_eq!(
        fields_of(&issues, ObjectKind::Treatment, "T-1"),
        vec!["justification", "approved_by"]
    );
    let message = &issue_at(&issues, ObjectKind::Treatment, "T-1", "approved_by").message;
    assert!(message.contains("R-1"), "{message}");
    assert!(message.contains("high"), "{message}");
    assert!(message.contains("medium"), "{message}");
}

#[test]
fn accept_above_threshold_with_justification_and_approver_is_valid() {
    let reg = accept_register(Level::Medium, (5, 5), Some((5, 5)), approved_accept());
    assert_valid(&reg);
}

#[test]
fn blank_justification_counts_as_missing() {
    let t = Treatment {
        justification: Some("   ".into()),
        ..approved_accept()
    };
    let reg = accept_register(Level::Low, (5, 5), None, t);
    assert_eq!(
        fields_of(&reg.validate(), ObjectKind::Treatment, "T-1"),
        vec!["justification"]
    );
}

#[test]
fn approver_without_justification_is_still_reported() {
    let t = Treatment {
        justification: None,
        ..approved_accept()
    };
    let reg = accept_register(Level::Low, (3, 3), None, t);
    assert_eq!(
        fields_of(&reg.validate(), ObjectKind::Treatment, "T-1"),
        vec!["justification"]
    );
}

#[test]
fn justification_without_approver_is_still_reported() {
    let t = Treatment {
        approved_by: None,
        approved_on: None,
        ..approved_accept()
    };
    let reg = accept_register(Level::Medium, (5, 5), Some((4, 4)), t);
    assert_eq!(
        fields_of(&reg.validate(), ObjectKind::Treatment, "T-1"),
        vec!["approved_by"]
    );
}

#[test]
fn approver_must_be_a_known_person() {
    let t = Treatment {
        approved_by: Some("nobody".into()),
        ..approved_accept()
    };
    let reg = accept_register(Level::Low, (5, 5), None, t);
    let issues = reg.validate();
    let issue = issue_at(&issues, ObjectKind::Treatment, "T-1", "approved_by");
    assert!(
        issue.message.contains("unknown person `nobody`"),
        "{}",
        issue.message
    );
}

#[test]
fn approval_date_needs_an_approver() {
    let t = Treatment {
        approved_on: Some(date(2026, 1, 1)),
        ..treatment("T-1", "R-1", TreatmentOption::Mitigate)
    };
    let reg = accept_register(Level::Critical, (2, 2), None, t);
    assert_eq!(
        fields_of(&reg.validate(), ObjectKind::Treatment, "T-1"),
        vec!["approved_by"]
    );
}

#[test]
fn unscored_risk_can_be_accepted_without_threshold_check() {
    let mut reg = base_register();
    add_risk(&mut reg, risk("R-1"));
    add_treatment(&mut reg, bare_accept());
    assert!(fields_of(&reg.validate(), ObjectKind::Treatment, "T-1").is_empty());
}

#[test]
fn status_accepted_needs_a_live_accept_treatment() {
    let mut reg = base_register();
    let mut r = scored_risk("R-1", (3, 3), Some((2, 2)));
    r.status = RiskStatus::Accepted;
    add_risk(&mut reg, r);
    // No treatment at all.
    assert_eq!(
        fields_of(&reg.validate(), ObjectKind::Risk, "R-1"),
        vec!["status"]
    );
    // A mitigation does not record an acceptance.
    add_treatment(&mut reg, treatment("T-1", "R-1", TreatmentOption::Mitigate));
    assert_eq!(
        fields_of(&reg.validate(), ObjectKind::Risk, "R-1"),
        vec!["status"]
    );
    // A cancelled acceptance does not either.
    add_treatment(
        &mut reg,
        with_status(
            treatment("T-2", "R-1", TreatmentOption::Accept),
            TreatmentStatus::Cancelled,
        ),
    );
    assert_eq!(
        fields_of(&reg.validate(), ObjectKind::Risk, "R-1"),
        vec!["status"]
    );
    // A live acceptance does.
    add_treatment(&mut reg, treatment("T-3", "R-1", TreatmentOption::Accept));
    assert_valid(&reg);
}

#[test]
fn accept_treatment_of_another_risk_does_not_count() {
    let mut reg = base_register();
    let mut r = scored_risk("R-1", (3, 3), Some((2, 2)));
    r.status = RiskStatus::Accepted;
    add_risk(&mut reg, r);
    add_risk(&mut reg, scored_risk("R-2", (2, 2), None));
    add_treatment(&mut reg, treatment("T-1", "R-2", TreatmentOption::Accept));
    assert_eq!(
        fields_of(&reg.validate(), ObjectKind::Risk, "R-1"),
        vec!["status"]
    );
}

#[test]
fn status_rules_for_scores() {
    let mut reg = base_register();
    let mut assessed = risk("R-1");
    assessed.status = RiskStatus::Assessed;
    add_risk(&mut reg, assessed);
    let mut treated = scored_risk("R-2", (3, 3), None);
    treated.status = RiskStatus::Treated;
    add_risk(&mut reg, treated);
    add_treatment(&mut reg, treatment("T-2", "R-2", TreatmentOption::Mitigate));
    let mut residual_only = risk("R-3");
    residual_only.residual = Some(score(1, 1));
    add_risk(&mut reg, residual_only);
    let issues = reg.validate();
    assert_eq!(
        fields_of(&issues, ObjectKind::Risk, "R-1"),
        vec!["inherent"]
    );
    assert_eq!(
        fields_of(&issues, ObjectKind::Risk, "R-2"),
        vec!["residual"]
    );
    assert_eq!(
        fields_of(&issues, ObjectKind::Risk, "R-3"),
        vec!["residual"]
    );
}

#[test]
fn due_lists_risks_above_threshold_without_approved_treatment() {
    let mut reg = base_register();
    // threshold medium. R-1 high, nothing; R-2 critical, approved mitigation;
    // R-3 critical, approved but cancelled; R-4 low; R-5 high but closed;
    // R-6 high with an unapproved mitigation.
    add_risk(&mut reg, scored_risk("R-1", (4, 4), None));
    add_risk(&mut reg, scored_risk("R-2", (5, 5), None));
    add_treatment(
        &mut reg,
        Treatment {
            approved_by: Some(APPROVER.into()),
            ..treatment("T-2", "R-2", TreatmentOption::Mitigate)
        },
    );
    add_risk(&mut reg, scored_risk("R-3", (5, 5), None));
    add_treatment(
        &mut reg,
        with_status(
            Treatment {
                approved_by: Some(APPROVER.into()),
                ..treatment("T-3", "R-3", TreatmentOption::Mitigate)
            },
            TreatmentStatus::Cancelled,
        ),
    );
    add_risk(&mut reg, scored_risk("R-4", (1, 1), None));
    let mut closed = scored_risk("R-5", (4, 4), None);
    closed.status = RiskStatus::Closed;
    add_risk(&mut reg, closed);
    add_risk(&mut reg, scored_risk("R-6", (4, 4), None));
    add_treatment(&mut reg, treatment("T-6", "R-6", TreatmentOption::Mitigate));
    assert_valid(&reg);
    let due = reg.due(today());
    let ids: Vec<&str> = due
        .above_threshold_without_approved_treatment
        .iter()
        .map(|r| r.id.as_str())
        .collect();
    assert_eq!(ids, vec!["R-1", "R-3", "R-6"]);
    assert_eq!(
        due.above_threshold_without_approved_treatment[0].level,
        Some(Level::High)
    );
}

proptest! {
    /// The central rule: an accept treatment without justification or approver is valid
    /// exactly when the risk's current level is at or below the threshold.
    #[test]
    fn accept_without_approval_is_valid_iff_within_threshold(
        threshold in any_level(),
        inherent in cells(),
        residual in prop::option::of(cells()),
        status in any_status(),
    ) {
        let set = criteria_5x5();
        let current = residual.unwrap_or(inherent);
        let level = set.level(current.0, current.1).unwrap();
        let reg = accept_register(threshold, inherent, residual, with_status(bare_accept(), status));
        let fields = fields_of(&reg.validate(), ObjectKind::Treatment, "T-1");
        let needs_approval = status != TreatmentStatus::Cancelled && level > threshold;
        prop_assert_eq!(fields.contains(&"justification".to_string()), needs_approval, "{:?}", fields);
        prop_assert_eq!(fields.contains(&"approved_by".to_string()), needs_approval, "{:?}", fields);
        prop_assert_eq!(fields.len(), if needs_approval { 2 } else { 0 }, "{:?}", fields);
        // The risk view agrees on which side of the threshold the risk is.
        let view = reg.risk_view(&reg.risks["R-1"], today());
        prop_assert_eq!(view.level, Some(level));
        prop_assert_eq!(view.above_threshold, level > threshold);
    }

    /// With a justification and an approver, any level may be accepted.
    #[test]
    fn approved_accept_is_always_valid(
        threshold in any_level(),
        inherent in cells(),
        residual in prop::option::of(cells()),
    ) {
        let reg = accept_register(threshold, inherent, residual, approved_accept());
        let fields = fields_of(&reg.validate(), ObjectKind::Treatment, "T-1");
        prop_assert!(fields.is_empty(), "{:?}", fields);
    }

    /// Only accept treatments are held to the threshold.
    #[test]
    fn other_options_are_not_held_to_the_threshold(
        threshold in any_level(),
        inherent in cells(),
        option in any_option(),
        status in any_status(),
    ) {
        prop_assume!(option != TreatmentOption::Accept);
        let t = with_status(treatment("T-1", "R-1", option), status);
        let reg = accept_register(threshold, inherent, None, t);
        let fields = fields_of(&reg.validate(), ObjectKind::Treatment, "T-1");
        prop_assert!(fields.is_empty(), "{:?}", fields);
    }

    /// Bands-based criteria follow the same rule.
    #[test]
    fn threshold_rule_with_bands((n, m, bands) in valid_bands(), threshold in any_level(), l in 1u8..=6, c in 1u8..=6) {
        let (l, c) = ((l - 1) % n as u8 + 1, (c - 1) % m as u8 + 1);
        let mut reg = base_register();
        reg.criteria.clear();
        reg.criteria.insert("b".into(), criteria_bands("b", n, m, bands.clone(), threshold));
        reg.settings.as_mut().unwrap().criteria = "b".into();
        add_risk(&mut reg, scored_risk("R-1", (l, c), None));
        add_treatment(&mut reg, bare_accept());
        let level = product_rule(&bands, l as u32 * c as u32);
        let fields = fields_of(&reg.validate(), ObjectKind::Treatment, "T-1");
        prop_assert_eq!(!fields.is_empty(), level > threshold, "{:?}", fields);
    }

    /// Status treated needs at least one treatment that is not cancelled.
    #[test]
    fn treated_needs_a_live_treatment(
        treatments in prop::collection::vec((any_option(), any_status()), 0..4),
    ) {
        let mut reg = base_register();
        let mut r = scored_risk("R-1", (3, 3), Some((2, 2)));
        r.status = RiskStatus::Treated;
        add_risk(&mut reg, r);
        // An approved acceptance so acceptances never trip the threshold rule.
        for (i, (option, status)) in treatments.iter().enumerate() {
            let t = Treatment {
                justification: Some("ok".into()),
                approved_by: Some(APPROVER.into()),
                ..treatment(&format!("T-{i}"), "R-1", *option)
            };
            add_treatment(&mut reg, with_status(t, *status));
        }
        let live = treatments.iter().any(|(_, s)| *s != TreatmentStatus::Cancelled);
        let issues = reg.validate();
        prop_assert_eq!(has_issue(&issues, ObjectKind::Risk, "R-1", "status"), !live, "{:?}", issues);
        if live {
            prop_assert!(issues.is_empty(), "{:?}", issues);
        }
    }

    /// Status accepted needs a live accept treatment.
    #[test]
    fn accepted_needs_a_live_accept_treatment(
        treatments in prop::collection::vec((any_option(), any_status()), 0..4),
    ) {
        let mut reg = base_register();
        let mut r = scored_risk("R-1", (3, 3), Some((2, 2)));
        r.status = RiskStatus::Accepted;
        add_risk(&mut reg, r);
        for (i, (option, status)) in treatments.iter().enumerate() {
            add_treatment(&mut reg, with_status(treatment(&format!("T-{i}"), "R-1", *option), *status));
        }
        let ok = treatments
            .iter()
            .any(|(o, s)| *o == TreatmentOption::Accept && *s != TreatmentStatus::Cancelled);
        let issues = reg.validate();
        prop_assert_eq!(has_issue(&issues, ObjectKind::Risk, "R-1", "status"), !ok, "{:?}", issues);
    }

    /// The due report's above-threshold list: open risks whose current level is above the
    /// threshold and that have no approved, non-cancelled treatment.
    #[test]
    fn due_above_threshold_list(
        threshold in any_level(),
        risks in prop::collection::vec(
            (cells(), prop::option::of(cells()), any::<bool>(), prop::option::of((any::<bool>(), any_status()))),
            1..6,
        ),
    ) {
        let mut reg = base_register();
        reg.criteria.get_mut(CRITERIA_ID).unwrap().acceptance_threshold = threshold;
        let set = criteria_grid("x", grid_5x5(), threshold);
        let mut expected = Vec::new();
        for (i, (inherent, residual, closed, t)) in risks.iter().enumerate() {
            let id = format!("R-{i}");
            let mut r = scored_risk(&id, *inherent, *residual);
            if *closed {
                r.status = RiskStatus::Closed;
            }
            add_risk(&mut reg, r);
            let mut approved_live = false;
            if let Some((approved, status)) = t {
                let mut tr = with_status(treatment(&format!("T-{i}"), &id, TreatmentOption::Mitigate), *status);
                if *approved {
                    tr.approved_by = Some(APPROVER.into());
                }
                approved_live = *approved && *status != TreatmentStatus::Cancelled;
                add_treatment(&mut reg, tr);
            }
            let cur = residual.unwrap_or(*inherent);
            let level = set.level(cur.0, cur.1).unwrap();
            if !*closed && level > threshold && !approved_live {
                expected.push(id);
            }
        }
        let got: Vec<String> = reg
            .due(today())
            .above_threshold_without_approved_treatment
            .into_iter()
            .map(|r| r.id)
            .collect();
        prop_assert_eq!(got, expected);
    }
}
