//! Applied controls and SoA decisions (M8): the field rules, the cross-object rules, and
//! control effectiveness computed from dated pass/fail evidence.

mod common;

use airisk_model::{
    assess_effectiveness, Control, ControlStatus, EffectivenessRating, EvidenceOutcome, ObjectKind,
    Observation, SoaDecision,
};
use chrono::{Days, NaiveDate};
use common::*;
use proptest::prelude::*;

fn control(id: &str) -> Control {
    Control {
        id: id.to_string(),
        title: "Guardrails at the gateway".into(),
        description: "All LLM traffic passes the gateway policy".into(),
        owner: Some(TECH_OWNER.into()),
        status: ControlStatus::Operating,
        implements: vec!["iso42001-2023:A.6.2.6".into()],
        systems: vec![SYSTEM_ID.into()],
        risks: vec!["R-1".into()],
        evidence: vec![],
        evidence_valid_days: None,
    }
}

fn decision(item: &str, applicable: bool, reason: Option<&str>) -> SoaDecision {
    SoaDecision {
        item: item.into(),
        applicable,
        reason: reason.map(str::to_string),
        decided_by: None,
        decided_on: None,
    }
}

fn register_with(control: Control) -> airisk_model::Register {
    let mut reg = base_register();
    add_risk(&mut reg, risk("R-1"));
    reg.controls.insert(control.id.clone(), control);
    reg
}

#[test]
fn a_well_formed_control_is_valid() {
    assert_valid(&register_with(control("CTL-1")));
}

#[test]
fn a_custom_control_needs_no_framework_item() {
    let mut c = control("CTL-1");
    c.implements.clear();
    assert!(c.is_custom());
    assert_valid(&register_with(c));
}

#[test]
fn control_fields_are_checked() {
    type Breaker = fn(&mut Control);
    let cases: Vec<(Breaker, &str)> = vec![
        (|c| c.title = " ".into(), "title"),
        (|c| c.description = String::new(), "description"),
        (|c| c.implements = vec!["A.6.2.6".into()], "implements[0]"),
        (
            |c| c.implements = vec!["iso42001-2023:".into()],
            "implements[0]",
        ),
        (
            |c| c.implements.push("iso42001-2023:A.6.2.6".into()),
            "implements[1]",
        ),
        (|c| c.owner = Some("nobody".into()), "owner"),
        (|c| c.systems = vec!["SYS-404".into()], "systems[0]"),
        (|c| c.risks = vec!["R-1".into(), "R-404".into()], "risks[1]"),
        (|c| c.evidence = vec!["evidence:abc".into()], "evidence[0]"),
        (|c| c.evidence = vec!["ledger:-1".into()], "evidence[0]"),
        (|c| c.evidence = vec!["  ".into()], "evidence[0]"),
        (|c| c.evidence_valid_days = Some(0), "evidence_valid_days"),
    ];
    for (break_it, field) in cases {
        let mut c = control("CTL-1");
        break_it(&mut c);
        let issues = register_with(c).validate();
        assert!(
            has_issue(&issues, ObjectKind::Control, "CTL-1", field),
            "expected an issue on {field}: {issues:?}"
        );
    }
}

#[test]
fn evidence_references_may_be_ids_ledger_entries_or_urls() {
    let mut c = control("CTL-1");
    c.evidence = vec![
        "evidence:12".into(),
        "ledger:7".into(),
        "https://intranet.example/report.pdf".into(),
    ];
    assert_valid(&register_with(c));
}

#[test]
fn soa_decisions_are_checked() {
    let mut reg = base_register();
    for d in [
        decision("iso42001-2023:A.10.4", false, Some("no customers")),
        decision("A.2.2", true, None),
        SoaDecision {
            decided_on: Some(date(2026, 1, 1)),
            ..decision("iso42001-2023:A.2.3", true, None)
        },
        SoaDecision {
            decided_by: Some("nobody".into()),
            ..decision("iso42001-2023:A.2.4", true, None)
        },
    ] {
        reg.soa.insert(d.item.clone(), d);
    }
    let issues = reg.validate();
    assert!(fields_of(&issues, ObjectKind::Soa, "iso42001-2023:A.10.4").is_empty());
    assert!(has_issue(&issues, ObjectKind::Soa, "A.2.2", "item"));
    assert!(has_issue(
        &issues,
        ObjectKind::Soa,
        "iso42001-2023:A.2.3",
        "decided_by"
    ));
    assert!(has_issue(
        &issues,
        ObjectKind::Soa,
        "iso42001-2023:A.2.4",
        "decided_by"
    ));
}

#[test]
fn an_exclusion_without_a_reason_is_flagged_by_the_decision() {
    assert!(decision("x:y", false, None).lacks_exclusion_reason());
    assert!(decision("x:y", false, Some("  ")).lacks_exclusion_reason());
    assert!(!decision("x:y", false, Some("not offered")).lacks_exclusion_reason());
    assert!(!decision("x:y", true, None).lacks_exclusion_reason());
}

fn obs(on: NaiveDate, outcome: Option<EvidenceOutcome>) -> Observation {
    Observation {
        on,
        seq: None,
        outcome,
    }
}

/// Stored evidence: recorded as ledger entry `seq`.
fn recorded(on: NaiveDate, seq: u64, outcome: Option<EvidenceOutcome>) -> Observation {
    Observation {
        on,
        seq: Some(seq),
        outcome,
    }
}

const PASS: Option<EvidenceOutcome> = Some(EvidenceOutcome::Pass);
const FAIL: Option<EvidenceOutcome> = Some(EvidenceOutcome::Fail);

#[test]
fn effectiveness_examples() {
    let t = today();
    let ago = |days: u64| t - Days::new(days);
    let rate = |o: &[Observation]| assess_effectiveness(o, t, 90).rating;
    assert_eq!(rate(&[]), EffectivenessRating::NotAssessed);
    assert_eq!(
        rate(&[obs(ago(1), None)]),
        EffectivenessRating::NotAssessed,
        "documents alone do not show a control works"
    );
    assert_eq!(rate(&[obs(ago(200), PASS)]), EffectivenessRating::Stale);
    assert_eq!(
        rate(&[obs(ago(10), PASS), obs(ago(5), PASS)]),
        EffectivenessRating::Effective
    );
    assert_eq!(
        rate(&[obs(ago(10), FAIL), obs(ago(5), PASS)]),
        EffectivenessRating::PartiallyEffective
    );
    assert_eq!(
        rate(&[obs(ago(10), PASS), obs(ago(5), FAIL)]),
        EffectivenessRating::Ineffective
    );
    assert_eq!(
        rate(&[obs(ago(200), FAIL), obs(ago(5), PASS)]),
        EffectivenessRating::Effective,
        "a failure outside the window no longer counts"
    );
    assert_eq!(
        rate(&[obs(ago(3), PASS), obs(ago(3), FAIL)]),
        EffectivenessRating::Ineffective,
        "on the same day a failure is never hidden by a pass"
    );
    assert_eq!(
        rate(&[recorded(ago(3), 7, FAIL), recorded(ago(3), 9, PASS)]),
        EffectivenessRating::PartiallyEffective,
        "a re-test recorded after the failure on the same day counts as the latest"
    );
    assert_eq!(
        rate(&[recorded(ago(3), 9, FAIL), recorded(ago(3), 7, PASS)]),
        EffectivenessRating::Ineffective,
        "a failure recorded after the pass is the latest"
    );
    assert_eq!(
        rate(&[recorded(ago(3), 7, FAIL), obs(ago(3), PASS)]),
        EffectivenessRating::Ineffective,
        "a pass without a recording order never hides a recorded failure of its day"
    );
    assert_eq!(
        rate(&[recorded(ago(3), 9, PASS), obs(ago(3), FAIL)]),
        EffectivenessRating::Ineffective,
        "a failure without a recording order counts as the last of its day"
    );
    assert_eq!(
        rate(&[recorded(ago(4), 9, FAIL), recorded(ago(3), 2, PASS)]),
        EffectivenessRating::PartiallyEffective,
        "dates decide before recording order"
    );
    let e = assess_effectiveness(
        &[obs(ago(10), FAIL), obs(ago(5), PASS), obs(ago(4), PASS)],
        t,
        90,
    );
    assert_eq!((e.passed, e.failed), (2, 1));
    assert_eq!(e.pass_rate, Some(2.0 / 3.0));
    assert_eq!(e.latest_test, Some(ago(4)));
}

/// Dated observations, some with a recording order (distinct, as ledger indexes are).
fn any_observations() -> impl Strategy<Value = Vec<Observation>> {
    prop::collection::vec(
        (
            0u64..400,
            prop::sample::select(vec![None, PASS, FAIL]),
            prop::bool::ANY,
        ),
        0..20,
    )
    .prop_map(|v| {
        v.into_iter()
            .enumerate()
            .map(|(i, (days, outcome, ordered))| Observation {
                on: today() - Days::new(days),
                seq: ordered.then_some(1000 - i as u64 * 7),
                outcome,
            })
            .collect()
    })
}

/// `o` with every observation recorded (orders below 1001), then a test today with `outcome`,
/// recorded last.
fn then_recorded(o: Vec<Observation>, outcome: Option<EvidenceOutcome>) -> Vec<Observation> {
    let mut all: Vec<Observation> = o
        .into_iter()
        .map(|x| Observation {
            seq: Some(x.seq.unwrap_or(0)),
            ..x
        })
        .collect();
    all.push(recorded(today(), 5000, outcome));
    all
}

proptest! {
    #[test]
    fn effectiveness_does_not_depend_on_order(mut o in any_observations(), valid in 1u32..400) {
        let before = assess_effectiveness(&o, today(), valid);
        o.reverse();
        prop_assert_eq!(assess_effectiveness(&o, today(), valid), before);
    }

    #[test]
    fn effectiveness_counts_match_the_window(o in any_observations(), valid in 1u32..400) {
        let e = assess_effectiveness(&o, today(), valid);
        let start = today() - Days::new(u64::from(valid));
        let in_window = |outcome| o.iter().filter(|x| x.outcome == outcome && x.on >= start).count() as u32;
        prop_assert_eq!(e.passed, in_window(PASS));
        prop_assert_eq!(e.failed, in_window(FAIL));
        if let Some(rate) = e.pass_rate {
            prop_assert!((0.0..=1.0).contains(&rate));
        }
        let rating = e.rating;
        prop_assert_eq!(rating == EffectivenessRating::Effective, e.passed > 0 && e.failed == 0);
        prop_assert_eq!(
            rating == EffectivenessRating::NotAssessed,
            o.iter().all(|x| x.outcome.is_none())
        );
    }

    #[test]
    fn a_newer_pass_makes_a_control_effective_or_partially_so(o in any_observations()) {
        // Everything before today; then a passing test today.
        let mut past: Vec<Observation> = o
            .into_iter()
            .map(|x| obs(x.on.min(today() - Days::new(1)), x.outcome))
            .collect();
        past.push(obs(today(), PASS));
        let after = assess_effectiveness(&past, today(), 90).rating;
        prop_assert!(matches!(
            after,
            EffectivenessRating::Effective | EffectivenessRating::PartiallyEffective
        ));
    }

    #[test]
    fn a_pass_recorded_after_everything_makes_a_control_effective_or_partially_so(
        o in any_observations(),
    ) {
        let after = assess_effectiveness(&then_recorded(o, PASS), today(), 90).rating;
        prop_assert!(matches!(
            after,
            EffectivenessRating::Effective | EffectivenessRating::PartiallyEffective
        ));
    }

    #[test]
    fn a_failure_recorded_after_everything_makes_a_control_ineffective(
        o in any_observations(),
    ) {
        prop_assert_eq!(
            assess_effectiveness(&then_recorded(o, FAIL), today(), 90).rating,
            EffectivenessRating::Ineffective
        );
    }
}
