//! Review dates (M15): next review = last review (or identification) + the cycle, the
//! cycle from the risk's override or from the settings by its current level; overdue
//! lists for risks and for systems by tier.

mod common;

use airisk_model::review::{days_overdue, is_overdue, next_review};
use airisk_model::system::Lifecycle;
use airisk_model::{
    EuAiActClass, EuAiActClassification, Level, ObjectKind, Register, ReviewCycles, RiskStatus,
};
use chrono::{Datelike, Days, NaiveDate};
use common::*;
use proptest::prelude::*;

/// Month arithmetic written out independently: add the months, then clamp the day to the
/// length of the target month.
fn add_months(d: NaiveDate, months: u32) -> NaiveDate {
    let total = d.year() as i64 * 12 + d.month0() as i64 + months as i64;
    let (y, m) = ((total / 12) as i32, (total % 12) as u32 + 1);
    let mut day = d.day();
    loop {
        if let Some(out) = NaiveDate::from_ymd_opt(y, m, day) {
            return out;
        }
        day -= 1;
    }
}

fn any_date() -> impl Strategy<Value = NaiveDate> {
    (1990i32..2100, 1u32..=12, 1u32..=31).prop_map(|(y, m, d)| {
        (0..4)
            .find_map(|back| NaiveDate::from_ymd_opt(y, m, d - back))
            .unwrap()
    })
}

fn any_cycles() -> impl Strategy<Value = ReviewCycles> {
    (1u32..=24, 1u32..=24, 1u32..=24, 1u32..=24).prop_map(|(critical, high, medium, low)| {
        ReviewCycles {
            critical,
            high,
            medium,
            low,
        }
    })
}

fn any_risk_status() -> impl Strategy<Value = RiskStatus> {
    prop::sample::select(vec![
        RiskStatus::Identified,
        RiskStatus::Assessed,
        RiskStatus::Treated,
        RiskStatus::Accepted,
        RiskStatus::Closed,
    ])
}

#[test]
fn default_cycles_are_quarterly_six_monthly_yearly() {
    let cycles = ReviewCycles::default();
    assert_eq!(cycles.months(Level::Critical), 3);
    assert_eq!(cycles.months(Level::High), 3);
    assert_eq!(cycles.months(Level::Medium), 6);
    assert_eq!(cycles.months(Level::Low), 12);
    // A register without settings uses them too.
    let reg = Register::default();
    assert_eq!(reg.review_cycles(), cycles);
    assert_eq!(reg.tier_review_cycles(), cycles);
}

#[test]
fn next_review_clamps_to_month_end() {
    assert_eq!(next_review(date(2026, 1, 31), 1), Some(date(2026, 2, 28)));
    assert_eq!(next_review(date(2028, 1, 31), 1), Some(date(2028, 2, 29)));
    assert_eq!(next_review(date(2026, 8, 31), 3), Some(date(2026, 11, 30)));
    assert_eq!(next_review(date(2026, 11, 30), 3), Some(date(2027, 2, 28)));
    assert_eq!(next_review(date(2028, 2, 29), 12), Some(date(2029, 2, 28)));
    assert_eq!(next_review(date(2026, 3, 15), 6), Some(date(2026, 9, 15)));
    assert_eq!(next_review(date(2026, 3, 15), 0), Some(date(2026, 3, 15)));
}

#[test]
fn overdue_starts_the_day_after_due() {
    let due = date(2026, 6, 15);
    assert!(!is_overdue(due, date(2026, 6, 14)));
    assert!(!is_overdue(due, due));
    assert!(is_overdue(due, date(2026, 6, 16)));
    assert_eq!(days_overdue(due, date(2026, 6, 10)), 0);
    assert_eq!(days_overdue(due, due), 0);
    assert_eq!(days_overdue(due, date(2026, 7, 15)), 30);
}

#[test]
fn risk_review_from_level_and_dates() {
    let mut reg = base_register();
    // High inherent (4,4), low residual (1,1): the residual level sets the cycle (12).
    let mut r = scored_risk("R-1", (4, 4), Some((1, 1)));
    r.status = RiskStatus::Treated;
    r.identified_on = Some(date(2025, 1, 10));
    r.last_reviewed = Some(date(2025, 6, 1));
    add_risk(&mut reg, r);
    add_treatment(
        &mut reg,
        treatment("T-1", "R-1", airisk_model::TreatmentOption::Mitigate),
    );
    // Inherent only, critical: quarterly from identification.
    let mut r = scored_risk("R-2", (5, 5), None);
    r.identified_on = Some(date(2026, 1, 31));
    add_risk(&mut reg, r);
    // Override beats the level.
    let mut r = scored_risk("R-3", (5, 5), None);
    r.review_cycle_months = Some(1);
    r.last_reviewed = Some(date(2026, 5, 31));
    add_risk(&mut reg, r);
    // No date: no next review.
    add_risk(&mut reg, scored_risk("R-4", (5, 5), None));
    assert_valid(&reg);

    let views = reg.risk_views(today());
    let by_id = |id: &str| views.iter().find(|v| v.id == id).unwrap().clone();
    let v1 = by_id("R-1");
    assert_eq!(v1.level, Some(Level::Low));
    assert_eq!(v1.review_cycle_months, Some(12));
    assert_eq!(v1.next_review, Some(date(2026, 6, 1)));
    assert!(v1.review_overdue);
    let v2 = by_id("R-2");
    assert_eq!(v2.review_cycle_months, Some(3));
    assert_eq!(v2.next_review, Some(date(2026, 4, 30)));
    assert!(v2.review_overdue);
    let v3 = by_id("R-3");
    assert_eq!(v3.review_cycle_months, Some(1));
    assert_eq!(v3.next_review, Some(date(2026, 6, 30)));
    assert!(!v3.review_overdue);
    let v4 = by_id("R-4");
    assert_eq!(v4.review_cycle_months, Some(3));
    assert_eq!(v4.next_review, None);
    assert!(!v4.review_overdue);

    let due = reg.due(today());
    let listed: Vec<(&str, i64)> = due
        .overdue_risk_reviews
        .iter()
        .map(|d| (d.id.as_str(), d.days_overdue))
        .collect();
    assert_eq!(listed, vec![("R-1", 14), ("R-2", 46)]);
    assert_eq!(due.overdue_risk_reviews[0].level, Some(Level::Low));
    assert_eq!(
        due.overdue_risk_reviews[0].last_reviewed,
        Some(date(2025, 6, 1))
    );
    assert_eq!(due.overdue_risk_reviews[1].last_reviewed, None);
}

#[test]
fn configured_cycles_replace_the_defaults() {
    let mut reg = base_register();
    reg.settings.as_mut().unwrap().review_cycles = ReviewCycles {
        critical: 1,
        high: 2,
        medium: 4,
        low: 24,
    };
    let mut r = scored_risk("R-1", (3, 3), None); // medium
    r.last_reviewed = Some(date(2026, 1, 15));
    add_risk(&mut reg, r);
    let view = reg.risk_view(&reg.risks["R-1"], today());
    assert_eq!(view.level, Some(Level::Medium));
    assert_eq!(view.review_cycle_months, Some(4));
    assert_eq!(view.next_review, Some(date(2026, 5, 15)));
    assert!(view.review_overdue);
}

#[test]
fn unscored_risk_without_override_has_no_cycle() {
    let mut reg = base_register();
    let mut r = risk("R-1");
    r.identified_on = Some(date(2020, 1, 1));
    add_risk(&mut reg, r);
    let view = reg.risk_view(&reg.risks["R-1"], today());
    assert_eq!(view.review_cycle_months, None);
    assert_eq!(view.next_review, None);
    let due = reg.due(today());
    assert!(due.overdue_risk_reviews.is_empty());
    assert_eq!(due.unassessed_risks.len(), 1);
    assert_eq!(due.unassessed_risks[0].id, "R-1");
}

#[test]
fn closed_risks_are_never_due() {
    let mut reg = base_register();
    let mut r = scored_risk("R-1", (5, 5), None);
    r.status = RiskStatus::Closed;
    r.last_reviewed = Some(date(2000, 1, 1));
    add_risk(&mut reg, r);
    let mut unscored_closed = risk("R-2");
    unscored_closed.status = RiskStatus::Closed;
    unscored_closed.inherent = Some(score(9, 9)); // out of scale: no level
    add_risk(&mut reg, unscored_closed);
    let view = reg.risk_view(&reg.risks["R-1"], today());
    assert_eq!(view.next_review, None, "a closed risk has no next review");
    assert!(!view.review_overdue);
    let mut due = reg.due(today());
    // The base system is unclassified; everything else would be about the risks.
    assert_eq!(due.unclassified_systems.len(), 1);
    due.unclassified_systems.clear();
    assert_eq!(due.item_count(), 0, "{due:#?}");
}

#[test]
fn zero_review_cycles_are_reported() {
    let mut reg = base_register();
    let s = reg.settings.as_mut().unwrap();
    s.review_cycles.low = 0;
    s.tier_review_cycles.critical = 0;
    let mut r = risk("R-1");
    r.review_cycle_months = Some(0);
    add_risk(&mut reg, r);
    let mut sys = system("SYS-2");
    sys.review_cycle_months = Some(0);
    add_system(&mut reg, sys);
    let issues = reg.validate();
    assert_eq!(
        fields_of(&issues, ObjectKind::Settings, "register"),
        vec!["review_cycles.low", "tier_review_cycles.critical"]
    );
    assert_eq!(
        fields_of(&issues, ObjectKind::Risk, "R-1"),
        vec!["review_cycle_months"]
    );
    assert_eq!(
        fields_of(&issues, ObjectKind::System, "SYS-2"),
        vec!["review_cycle_months"]
    );
}

#[test]
fn system_reviews_by_tier() {
    let mut reg = base_register();
    reg.settings.as_mut().unwrap().tier_review_cycles = ReviewCycles {
        critical: 1,
        high: 3,
        medium: 6,
        low: 12,
    };
    // SYS-1: unclassified (base). SYS-2: low tier, reviewed 13 months ago: overdue.
    let mut s2 = system("SYS-2");
    s2.classification = Some(classification_from_bits(0));
    s2.last_reviewed = Some(date(2025, 5, 15));
    add_system(&mut reg, s2);
    // SYS-3: low answers but EU high-risk: tier high, quarterly; reviewed 4 months ago.
    let mut s3 = system("SYS-3");
    s3.classification = Some(classification_from_bits(0));
    s3.eu_ai_act = Some(EuAiActClassification {
        class: EuAiActClass::HighRisk,
        annex_iii_area: Some(airisk_model::system::AnnexIiiArea::EmploymentAndWorkers),
        annex_i_legislation: None,
        reason: "CV screening".into(),
    });
    s3.last_reviewed = Some(date(2026, 2, 14));
    add_system(&mut reg, s3);
    // SYS-4: critical tier but override 24 months; reviewed a year ago: not due.
    let mut s4 = system("SYS-4");
    s4.classification = Some(classification_from_bits(0b011110));
    s4.review_cycle_months = Some(24);
    s4.last_reviewed = Some(date(2025, 6, 1));
    add_system(&mut reg, s4);
    // SYS-5: classified, never reviewed: no date to be overdue from.
    let mut s5 = system("SYS-5");
    s5.classification = Some(classification_from_bits(0b111111));
    add_system(&mut reg, s5);
    // SYS-6: retired and unclassified: not listed anywhere.
    let mut s6 = system("SYS-6");
    s6.lifecycle = Lifecycle::Retired;
    add_system(&mut reg, s6);
    // SYS-10: medium tier, reviewed 6 months ago to the day: due today, not overdue.
    let mut s10 = system("SYS-10");
    s10.classification = Some(classification_from_bits(0b000100));
    s10.last_reviewed = Some(date(2025, 12, 15));
    add_system(&mut reg, s10);
    // Facts the answers must match: all are internal, proprietary, without tools.
    assert_valid(&reg);

    let due = reg.due(today());
    let overdue: Vec<(&str, Option<Level>, NaiveDate, i64)> = due
        .overdue_system_reviews
        .iter()
        .map(|d| (d.id.as_str(), d.level, d.next_review, d.days_overdue))
        .collect();
    assert_eq!(
        overdue,
        vec![
            ("SYS-2", Some(Level::Low), date(2026, 5, 15), 31),
            ("SYS-3", Some(Level::High), date(2026, 5, 14), 32),
        ]
    );
    assert_eq!(due.overdue_system_reviews[0].owner, BUSINESS_OWNER);
    let unclassified: Vec<&str> = due
        .unclassified_systems
        .iter()
        .map(|s| s.id.as_str())
        .collect();
    assert_eq!(unclassified, vec!["SYS-1"]);
}

#[test]
fn system_review_cycle_and_next_review() {
    let mut reg = base_register();
    reg.settings.as_mut().unwrap().tier_review_cycles = ReviewCycles {
        critical: 1,
        high: 2,
        medium: 5,
        low: 7,
    };
    let mut s = system("SYS-2");
    assert_eq!(
        reg.system_review_cycle(&s),
        None,
        "unclassified, no override"
    );
    s.last_reviewed = Some(date(2026, 1, 31));
    assert_eq!(reg.system_next_review(&s), None);
    s.classification = Some(classification_from_bits(0b000100)); // medium
    assert_eq!(reg.system_review_cycle(&s), Some(5));
    assert_eq!(reg.system_next_review(&s), Some(date(2026, 6, 30)));
    s.review_cycle_months = Some(1);
    assert_eq!(reg.system_review_cycle(&s), Some(1));
    assert_eq!(reg.system_next_review(&s), Some(date(2026, 2, 28)));
    s.last_reviewed = None;
    assert_eq!(reg.system_next_review(&s), None, "never reviewed");
}

/// `system_next_review` documents `None` for an unclassified system, and the due report
/// never lists an unclassified system's review as overdue; but an unclassified system with
/// a `review_cycle_months` override gets a next review date, so `system show` and
/// `airisk due` disagree about it.
#[test]
fn unclassified_system_with_override_has_no_next_review() {
    let reg = base_register();
    let mut s = system("SYS-2");
    s.review_cycle_months = Some(6);
    s.last_reviewed = Some(date(2025, 1, 1));
    assert_eq!(reg.system_review_cycle(&s), None);
    assert_eq!(reg.system_next_review(&s), None);
}

proptest! {
    #[test]
    fn next_review_is_month_arithmetic_clamped(d in any_date(), months in 0u32..=120) {
        let next = next_review(d, months).unwrap();
        prop_assert_eq!(next, add_months(d, months));
        prop_assert!(next >= d);
        // Never lands past the same day-of-month, and never more than 3 days short of it.
        prop_assert!(next.day() <= d.day());
        prop_assert!(d.day() - next.day() <= 3);
    }

    #[test]
    fn next_review_does_not_panic_on_huge_cycles(d in any_date(), months in any::<u32>()) {
        let _ = next_review(d, months);
    }

    #[test]
    fn overdue_and_days_agree(due in any_date(), shift in -1000i64..1000) {
        let today = if shift >= 0 { due + Days::new(shift as u64) } else { due - Days::new((-shift) as u64) };
        prop_assert_eq!(is_overdue(due, today), shift > 0);
        prop_assert_eq!(days_overdue(due, today), shift.max(0));
    }

    /// The whole risk review rule, against an independent computation.
    #[test]
    fn risk_review_rule(
        cycles in any_cycles(),
        inherent in (1u8..=5, 1u8..=5),
        residual in prop::option::of((1u8..=5, 1u8..=5)),
        scored in any::<bool>(),
        override_months in prop::option::of(1u32..=24),
        identified_on in prop::option::of(any_date()),
        last_reviewed in prop::option::of(any_date()),
        status in any_risk_status(),
        today in any_date(),
    ) {
        let mut reg = base_register();
        reg.settings.as_mut().unwrap().review_cycles = cycles;
        let mut r = if scored { scored_risk("R-1", inherent, residual) } else { risk("R-1") };
        r.status = status;
        r.review_cycle_months = override_months;
        r.identified_on = identified_on;
        r.last_reviewed = last_reviewed;
        add_risk(&mut reg, r);

        let set = criteria_5x5();
        let level = scored.then(|| {
            let cur = residual.unwrap_or(inherent);
            set.level(cur.0, cur.1).unwrap()
        });
        let cycle = override_months.or(level.map(|l| cycles.months(l)));
        let start = last_reviewed.or(identified_on);
        // A closed risk is no longer reviewed: it has no next review.
        let next = match (start, cycle) {
            (Some(s), Some(c)) if status != RiskStatus::Closed => Some(add_months(s, c)),
            _ => None,
        };
        let overdue = next.is_some_and(|n| n < today);

        let view = reg.risk_view(&reg.risks["R-1"], today);
        prop_assert_eq!(view.level, level);
        prop_assert_eq!(view.review_cycle_months, cycle);
        prop_assert_eq!(view.next_review, next);
        prop_assert_eq!(view.review_overdue, overdue);

        let due = reg.due(today);
        prop_assert_eq!(due.overdue_risk_reviews.len(), usize::from(overdue));
        if let Some(entry) = due.overdue_risk_reviews.first() {
            prop_assert_eq!(Some(entry.next_review), next);
            prop_assert_eq!(entry.days_overdue, (today - entry.next_review).num_days());
            prop_assert_eq!(entry.level, level);
        }
        let closed = status == RiskStatus::Closed;
        prop_assert_eq!(due.unassessed_risks.len(), usize::from(!closed && level.is_none()));
    }

    /// Closed risks never appear anywhere in the due report.
    #[test]
    fn closed_risks_never_appear_in_due(
        inherent in (1u8..=6, 1u8..=6),
        last_reviewed in prop::option::of(any_date()),
        today in any_date(),
        threshold in any_level(),
    ) {
        let mut reg = base_register();
        reg.criteria.get_mut(CRITERIA_ID).unwrap().acceptance_threshold = threshold;
        let mut r = scored_risk("R-1", inherent, None);
        r.status = RiskStatus::Closed;
        r.last_reviewed = last_reviewed;
        add_risk(&mut reg, r);
        let due = reg.due(today);
        prop_assert!(due.overdue_risk_reviews.is_empty());
        prop_assert!(due.unassessed_risks.is_empty());
        prop_assert!(due.above_threshold_without_approved_treatment.is_empty());
    }

    /// System reviews: the cycle from the override or the tier; overdue after the due date;
    /// unclassified live systems listed; retired systems ignored.
    #[test]
    fn system_review_rule(
        tier_cycles in any_cycles(),
        bits in prop::option::of(0u8..64),
        eu in prop::option::of(prop::sample::select(vec![
            EuAiActClass::Prohibited, EuAiActClass::HighRisk, EuAiActClass::Transparency, EuAiActClass::Minimal,
        ])),
        override_months in prop::option::of(1u32..=24),
        last_reviewed in prop::option::of(any_date()),
        retired in any::<bool>(),
        today in any_date(),
    ) {
        let mut reg = base_register();
        reg.systems.clear();
        reg.settings.as_mut().unwrap().tier_review_cycles = tier_cycles;
        let mut s = system("SYS-1");
        s.classification = bits.map(classification_from_bits);
        s.eu_ai_act = eu.map(|class| EuAiActClassification {
            class,
            annex_iii_area: None,
            annex_i_legislation: None,
            reason: "r".into(),
        });
        s.review_cycle_months = override_months;
        s.last_reviewed = last_reviewed;
        if retired {
            s.lifecycle = Lifecycle::Retired;
        }
        let tier = s.tier();
        add_system(&mut reg, s);
        let due = reg.due(today);
        prop_assert_eq!(tier.is_some(), bits.is_some());
        if retired {
            prop_assert!(due.overdue_system_reviews.is_empty());
            prop_assert!(due.unclassified_systems.is_empty());
            return Ok(());
        }
        let Some(tier) = tier else {
            prop_assert_eq!(due.unclassified_systems.len(), 1);
            prop_assert!(due.overdue_system_reviews.is_empty());
            return Ok(());
        };
        prop_assert!(due.unclassified_systems.is_empty());
        let cycle = override_months.unwrap_or(tier_cycles.months(tier));
        let next = last_reviewed.map(|d| add_months(d, cycle));
        let system = &reg.systems["SYS-1"];
        prop_assert_eq!(reg.system_review_cycle(system), Some(cycle));
        prop_assert_eq!(reg.system_next_review(system), next);
        let overdue = next.is_some_and(|n| n < today);
        prop_assert_eq!(due.overdue_system_reviews.len(), usize::from(overdue));
        if let Some(entry) = due.overdue_system_reviews.first() {
            prop_assert_eq!(Some(entry.next_review), next);
            prop_assert_eq!(entry.level, Some(tier));
            prop_assert_eq!(entry.days_overdue, (today - entry.next_review).num_days());
        }
    }
}
