//! Referential integrity and per-object rules of `Register::validate`, the id format, and
//! reading objects from JSON with field paths.

mod common;

use airisk_model::system::{ModelComponent, Owners};
use airisk_model::{
    Issue, Level, Object, ObjectKind, Register, RiskStatus, ScoreBands, SETTINGS_ID,
};
use common::*;
use proptest::prelude::*;
use serde_json::json;

/// A register with one of everything, valid.
fn full_register() -> Register {
    let mut reg = base_register();
    let mut r = scored_risk("R-1", (4, 4), Some((2, 2)));
    r.status = RiskStatus::Treated;
    r.consequence_categories = vec!["financial".into()];
    r.identified_on = Some(date(2026, 1, 1));
    add_risk(&mut reg, r);
    add_treatment(
        &mut reg,
        treatment("T-1", "R-1", airisk_model::TreatmentOption::Mitigate),
    );
    let d = airisk_model::ScreeningDecision {
        system: SYSTEM_ID.into(),
        category: airisk_model::Category::Safety,
        not_applicable_because: "no physical effect".into(),
    };
    reg.screening.insert(d.id(), d);
    reg
}

#[test]
fn builders_make_a_valid_register() {
    assert_valid(&base_register());
    assert_valid(&full_register());
    assert_valid(&Register::default());
}

#[test]
fn issue_display_names_kind_id_and_field() {
    let issue = Issue::new(ObjectKind::Risk, "R-1", "owner", "unknown person `x`");
    assert_eq!(
        issue.to_string(),
        "risk R-1, field owner: unknown person `x`"
    );
    let whole = Issue::new(ObjectKind::System, "S", "", "bad");
    assert_eq!(whole.to_string(), "system S: bad");
}

#[test]
fn unknown_system_in_risk_is_reported_at_its_index() {
    let mut reg = base_register();
    let mut r = risk("R-1");
    r.systems = vec![SYSTEM_ID.into(), "SYS-404".into()];
    add_risk(&mut reg, r);
    let issues = reg.validate();
    let issue = issue_at(&issues, ObjectKind::Risk, "R-1", "systems[1]");
    assert!(
        issue.message.contains("unknown system `SYS-404`"),
        "{}",
        issue.message
    );
    assert!(issue.message.contains("known: SYS-1"), "{}", issue.message);
    assert_eq!(issues.len(), 1, "{issues:#?}");
}

#[test]
fn risk_without_systems_is_reported() {
    let mut reg = base_register();
    let mut r = risk("R-1");
    r.systems.clear();
    add_risk(&mut reg, r);
    assert_eq!(
        fields_of(&reg.validate(), ObjectKind::Risk, "R-1"),
        vec!["systems"]
    );
}

#[test]
fn unknown_people_are_reported_at_the_role() {
    let mut reg = base_register();
    let mut s = system("SYS-2");
    s.owners = Owners {
        business: "nobody".into(),
        technical: TECH_OWNER.into(),
        data: Some("ghost".into()),
        policy: Some(RISK_OWNER.into()),
        incident: Some("phantom".into()),
    };
    add_system(&mut reg, s);
    let mut r = risk("R-1");
    r.owner = "ghost".into();
    add_risk(&mut reg, r);
    let issues = reg.validate();
    assert_eq!(
        fields_of(&issues, ObjectKind::System, "SYS-2"),
        vec!["owners.business", "owners.data", "owners.incident"]
    );
    assert_eq!(fields_of(&issues, ObjectKind::Risk, "R-1"), vec!["owner"]);
    let issue = issue_at(&issues, ObjectKind::Risk, "R-1", "owner");
    assert!(
        issue.message.contains("unknown person `ghost`"),
        "{}",
        issue.message
    );
    assert!(
        issue.message.contains(APPROVER),
        "lists the known people: {}",
        issue.message
    );
}

#[test]
fn known_list_is_truncated_after_eight() {
    let mut reg = base_register();
    for i in 0..12 {
        add_system(&mut reg, system(&format!("SYS-{}", i + 2)));
    }
    let mut r = risk("R-1");
    r.systems = vec!["nope".into()];
    add_risk(&mut reg, r);
    let issues = reg.validate();
    let issue = issue_at(&issues, ObjectKind::Risk, "R-1", "systems[0]");
    // 13 systems, natural order, eight shown.
    assert!(
        issue
            .message
            .contains("(known: SYS-1, SYS-2, SYS-3, SYS-4, SYS-5, SYS-6, SYS-7, SYS-8, … 5 more)"),
        "{}",
        issue.message
    );
}

#[test]
fn unknown_reference_with_nothing_defined() {
    let mut reg = base_register();
    reg.systems.clear();
    add_risk(&mut reg, risk("R-1"));
    let issues = reg.validate();
    let issue = issue_at(&issues, ObjectKind::Risk, "R-1", "systems[0]");
    assert!(
        issue.message.contains("none are defined"),
        "{}",
        issue.message
    );
}

#[test]
fn settings_naming_an_unknown_criteria_set() {
    let mut reg = full_register();
    reg.settings.as_mut().unwrap().criteria = "other".into();
    assert_eq!(reg.active_criteria(), None);
    let issues = reg.validate();
    let issue = issue_at(&issues, ObjectKind::Settings, SETTINGS_ID, "criteria");
    assert!(
        issue.message.contains("unknown criteria set `other`"),
        "{}",
        issue.message
    );
    assert!(issue.message.contains("default"), "{}", issue.message);
    // Without a criteria set, scores are not checked against a scale and levels are unknown.
    let view = reg.risk_view(&reg.risks["R-1"], today());
    assert_eq!(view.level, None);
    assert!(!view.above_threshold);
}

#[test]
fn several_criteria_sets_need_settings_to_choose() {
    let mut reg = full_register();
    reg.settings = None;
    assert!(
        reg.active_criteria().is_some(),
        "one set is chosen by default"
    );
    assert!(!has_issue(
        &reg.validate(),
        ObjectKind::Settings,
        SETTINGS_ID,
        "criteria"
    ));
    let mut other = criteria_5x5();
    other.id = "strict".into();
    other.acceptance_threshold = Level::Low;
    reg.criteria.insert(other.id.clone(), other);
    assert_eq!(reg.active_criteria(), None);
    assert!(has_issue(
        &reg.validate(),
        ObjectKind::Settings,
        SETTINGS_ID,
        "criteria"
    ));
    reg.settings = Some(settings("strict"));
    assert_eq!(reg.active_criteria().unwrap().id, "strict");
    assert!(!has_issue(
        &reg.validate(),
        ObjectKind::Settings,
        SETTINGS_ID,
        "criteria"
    ));
}

#[test]
fn scored_risks_need_a_criteria_set() {
    let mut reg = full_register();
    reg.criteria.clear();
    reg.settings = None;
    assert!(has_issue(
        &reg.validate(),
        ObjectKind::Settings,
        SETTINGS_ID,
        "criteria"
    ));
    // Unscored risks do not.
    reg.risks.clear();
    reg.treatments.clear();
    add_risk(&mut reg, risk("R-1"));
    assert!(!has_issue(
        &reg.validate(),
        ObjectKind::Settings,
        SETTINGS_ID,
        "criteria"
    ));
}

#[test]
fn consequence_categories_of_a_risk_come_from_the_criteria() {
    let mut reg = base_register();
    let mut r = scored_risk("R-1", (2, 2), None);
    r.consequence_categories = vec!["financial".into(), "astrological".into()];
    add_risk(&mut reg, r);
    let issues = reg.validate();
    let issue = issue_at(
        &issues,
        ObjectKind::Risk,
        "R-1",
        "consequence_categories[1]",
    );
    assert!(issue.message.contains("astrological"), "{}", issue.message);
    assert_eq!(fields_of(&issues, ObjectKind::Risk, "R-1").len(), 1);
}

#[test]
fn required_text_fields() {
    let mut reg = base_register();
    let mut r = risk("R-1");
    r.title = " ".into();
    r.event = String::new();
    r.cause = "\t".into();
    r.consequence = String::new();
    add_risk(&mut reg, r);
    let mut s = system("SYS-2");
    s.name = String::new();
    s.purpose = " ".into();
    s.environment = String::new();
    s.components = vec![ModelComponent {
        name: "llm".into(),
        provider: " ".into(),
        version: String::new(),
        role: String::new(),
    }];
    add_system(&mut reg, s);
    let mut p = person("p.blank");
    p.name = "  ".into();
    reg.people.insert(p.id.clone(), p);
    let issues = reg.validate();
    assert_eq!(
        fields_of(&issues, ObjectKind::Risk, "R-1"),
        vec!["title", "event", "cause", "consequence"]
    );
    assert_eq!(
        fields_of(&issues, ObjectKind::System, "SYS-2"),
        vec![
            "name",
            "purpose",
            "environment",
            "components[0].provider",
            "components[0].version"
        ]
    );
    assert_eq!(
        fields_of(&issues, ObjectKind::Person, "p.blank"),
        vec!["name"]
    );
}

#[test]
fn id_format_examples() {
    let valid = ["R-1", "a.khan", "SYS_2", "0", "x".repeat(64).leak() as &str];
    let invalid = [
        "",
        "-R",
        ".hidden",
        "_x",
        "R 1",
        "R/1",
        "é",
        "x".repeat(65).leak() as &str,
    ];
    for id in valid {
        let mut reg = base_register();
        reg.people.insert(id.to_string(), person(id));
        assert!(
            !has_issue(&reg.validate(), ObjectKind::Person, id, "id"),
            "{id:?}"
        );
    }
    for id in invalid {
        let mut reg = base_register();
        reg.people.insert(id.to_string(), person(id));
        assert!(
            has_issue(&reg.validate(), ObjectKind::Person, id, "id"),
            "{id:?}"
        );
    }
}

#[test]
fn objects_round_trip_through_their_canonical_form() {
    let reg = full_register();
    for object in reg.objects() {
        let value = object.to_value();
        let back = Object::from_value(object.kind(), value.clone()).unwrap();
        assert_eq!(back, object);
        assert_eq!(back.to_value(), value);
    }
    assert_eq!(Register::from_objects(reg.objects()), reg);
    assert_eq!(reg.len(), reg.objects().len());
    assert_eq!(reg.len(), 1 + 4 + 1 + 1 + 1 + 1 + 1);
}

#[test]
fn objects_come_out_in_kind_then_natural_id_order() {
    let mut reg = base_register();
    for id in ["R-10", "R-2", "R-1"] {
        add_risk(&mut reg, risk(id));
    }
    let ids: Vec<(ObjectKind, String)> = reg.objects().iter().map(|o| (o.kind(), o.id())).collect();
    let kinds: Vec<ObjectKind> = ids.iter().map(|(k, _)| *k).collect();
    let mut sorted = kinds.clone();
    sorted.sort();
    assert_eq!(kinds, sorted);
    let risks: Vec<&str> = ids
        .iter()
        .filter(|(k, _)| *k == ObjectKind::Risk)
        .map(|(_, id)| id.as_str())
        .collect();
    assert_eq!(risks, vec!["R-1", "R-2", "R-10"]);
    assert_eq!(ids[0], (ObjectKind::Settings, SETTINGS_ID.to_string()));
}

#[test]
fn reading_reports_the_bad_field_path() {
    let mut value = Object::Risk(scored_risk("R-1", (2, 2), None)).to_value();
    value["inherent"]["likelihood"] = json!("very");
    let err = Object::from_value(ObjectKind::Risk, value).unwrap_err();
    assert_eq!(err.path, "inherent.likelihood");

    let mut value = Object::Risk(risk("R-1")).to_value();
    value["systems"] = json!(["SYS-1", 7]);
    let err = Object::from_value(ObjectKind::Risk, value).unwrap_err();
    assert_eq!(err.path, "systems[1]");

    let mut value = Object::Risk(risk("R-1")).to_value();
    value["category"] = json!("vibes");
    let err = Object::from_value(ObjectKind::Risk, value).unwrap_err();
    assert_eq!(err.path, "category");

    let mut value = Object::Risk(risk("R-1")).to_value();
    value["colour"] = json!("red");
    let err = Object::from_value(ObjectKind::Risk, value).unwrap_err();
    assert!(
        err.message.contains("unknown field `colour`"),
        "{}",
        err.message
    );

    let mut value = Object::Risk(risk("R-1")).to_value();
    value.as_object_mut().unwrap().remove("owner");
    let err = Object::from_value(ObjectKind::Risk, value).unwrap_err();
    assert!(err.message.contains("owner"), "{}", err.message);
    assert_eq!(err.path, "");
}

#[test]
fn criteria_defaults_fill_in_when_read() {
    let value = json!({
        "id": "c",
        "name": "C",
        "likelihood": [{"label": "a"}, {"label": "b"}, {"label": "c"}],
        "consequence": [{"label": "a"}, {"label": "b"}, {"label": "c"}],
        "bands": {"high": 4},
        "acceptance_threshold": "medium"
    });
    let Object::Criteria(set) = Object::from_value(ObjectKind::Criteria, value).unwrap() else {
        panic!("not a criteria set");
    };
    assert_eq!(set.consequence_categories.len(), 6);
    assert!(set
        .consequence_categories
        .contains(&"regulatory".to_string()));
    assert_eq!(
        set.bands,
        Some(ScoreBands {
            medium: None,
            high: Some(4),
            critical: None
        })
    );
    assert_eq!(set.level(2, 2), Some(Level::High));
    assert_eq!(set.level(1, 3), Some(Level::Low));
}

#[test]
fn names_parse_back() {
    for level in Level::ALL {
        assert_eq!(Level::parse(level.as_str()), Some(level));
        assert_eq!(level.to_string(), level.as_str());
    }
    for kind in ObjectKind::ALL {
        assert_eq!(ObjectKind::parse(kind.as_str()), Some(kind));
    }
    for status in [
        RiskStatus::Identified,
        RiskStatus::Assessed,
        RiskStatus::Treated,
        RiskStatus::Accepted,
        RiskStatus::Closed,
    ] {
        assert_eq!(RiskStatus::parse(status.as_str()), Some(status));
    }
    assert!(
        Level::Low < Level::Medium && Level::Medium < Level::High && Level::High < Level::Critical
    );
}

/// The id rule written out: 1–64 of [A-Za-z0-9._-], starting with a letter or digit.
fn id_is_valid(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id.chars().next().unwrap().is_ascii_alphanumeric()
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
}

fn any_id() -> impl Strategy<Value = String> {
    prop_oneof![
        "[A-Za-z0-9][A-Za-z0-9._-]{0,70}",
        "[A-Za-z0-9._ /:é-]{0,10}",
        ".{0,8}",
    ]
}

proptest! {
    #[test]
    fn id_rule_for_every_kind(id in any_id(), kind in prop::sample::select(vec![
        ObjectKind::Person, ObjectKind::Criteria, ObjectKind::System, ObjectKind::Risk, ObjectKind::Treatment,
    ])) {
        let mut reg = base_register();
        match kind {
            ObjectKind::Person => { reg.people.insert(id.clone(), person(&id)); }
            ObjectKind::Criteria => {
                let mut set = criteria_5x5();
                set.id = id.clone();
                reg.criteria.insert(id.clone(), set);
            }
            ObjectKind::System => add_system(&mut reg, system(&id)),
            ObjectKind::Risk => add_risk(&mut reg, risk(&id)),
            ObjectKind::Treatment => {
                add_risk(&mut reg, risk("R-1"));
                add_treatment(&mut reg, treatment(&id, "R-1", airisk_model::TreatmentOption::Mitigate));
            }
            _ => unreachable!(),
        }
        let issues = reg.validate();
        prop_assert_eq!(has_issue(&issues, kind, &id, "id"), !id_is_valid(&id), "{:?}", issues);
        prop_assert!(!issues.iter().any(|i| i.field == "id" && i.id != id));
    }

    /// Every reference to a missing object is reported at its own field path, and no
    /// reference to an existing one is.
    #[test]
    fn references_are_checked(
        systems in prop::collection::vec(any::<bool>(), 1..5),
        owner_known in any::<bool>(),
        treatment_owner_known in any::<bool>(),
        risk_known in any::<bool>(),
        approver in prop::option::of(any::<bool>()),
        screening_system_known in any::<bool>(),
    ) {
        let mut reg = base_register();
        let pick = |known: bool, good: &str, bad: &str| if known { good.to_string() } else { bad.to_string() };
        let mut r = risk("R-1");
        r.systems = systems.iter().enumerate().map(|(i, k)| pick(*k, SYSTEM_ID, &format!("X-{i}"))).collect();
        r.owner = pick(owner_known, RISK_OWNER, "nobody");
        add_risk(&mut reg, r);
        let mut t = treatment("T-1", &pick(risk_known, "R-1", "R-404"), airisk_model::TreatmentOption::Mitigate);
        t.owner = pick(treatment_owner_known, RISK_OWNER, "nobody");
        t.approved_by = approver.map(|k| pick(k, APPROVER, "nobody"));
        add_treatment(&mut reg, t);
        let d = airisk_model::ScreeningDecision {
            system: pick(screening_system_known, SYSTEM_ID, "X-9"),
            category: airisk_model::Category::Societal,
            not_applicable_because: "internal tool".into(),
        };
        let key = d.id();
        reg.screening.insert(key.clone(), d);

        let issues = reg.validate();
        let mut expected_risk: Vec<String> = systems
            .iter()
            .enumerate()
            .filter(|(_, k)| !**k)
            .map(|(i, _)| format!("systems[{i}]"))
            .collect();
        if !owner_known { expected_risk.push("owner".into()); }
        prop_assert_eq!(fields_of(&issues, ObjectKind::Risk, "R-1"), expected_risk);
        let mut expected_t = Vec::new();
        if !treatment_owner_known { expected_t.push("owner".to_string()); }
        if approver == Some(false) { expected_t.push("approved_by".to_string()); }
        if !risk_known { expected_t.push("risk".to_string()); }
        prop_assert_eq!(fields_of(&issues, ObjectKind::Treatment, "T-1"), expected_t);
        let expected_s: Vec<String> = if screening_system_known { vec![] } else { vec!["system".into()] };
        prop_assert_eq!(fields_of(&issues, ObjectKind::Screening, &key), expected_s);
    }

    /// Validation is deterministic and does not depend on insertion order.
    #[test]
    fn validation_is_order_independent(seed in any::<u64>()) {
        let mut reg = full_register();
        let mut r = risk("R-2");
        r.systems = vec!["X".into()];
        r.owner = "nobody".into();
        add_risk(&mut reg, r);
        let mut objects = reg.objects();
        // A cheap deterministic shuffle.
        let n = objects.len();
        let mut s = seed;
        for i in (1..n).rev() {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            objects.swap(i, (s >> 33) as usize % (i + 1));
        }
        let shuffled = Register::from_objects(objects);
        prop_assert_eq!(&shuffled, &reg);
        prop_assert_eq!(shuffled.validate(), reg.validate());
    }
}

fn short_id() -> impl Strategy<Value = String> {
    "[a0-9/:-]{0,5}"
}

proptest! {
    /// `natural_cmp` is a total preorder (so sorting with it is well defined), agrees with
    /// numeric order on the number part, and with plain order on text without digits.
    #[test]
    fn natural_cmp_is_a_total_preorder(a in short_id(), b in short_id(), c in short_id()) {
        use airisk_model::natural_cmp;
        use std::cmp::Ordering;
        prop_assert_eq!(natural_cmp(&a, &b), natural_cmp(&b, &a).reverse());
        prop_assert_eq!(natural_cmp(&a, &a), Ordering::Equal);
        if natural_cmp(&a, &b) != Ordering::Greater && natural_cmp(&b, &c) != Ordering::Greater {
            prop_assert_ne!(natural_cmp(&a, &c), Ordering::Greater, "{:?} <= {:?} <= {:?}", a, b, c);
        }
    }

    #[test]
    fn natural_cmp_orders_numbers_numerically(x in 0u64..100_000, y in 0u64..100_000, prefix in "[A-Z]{1,3}-") {
        use airisk_model::natural_cmp;
        prop_assert_eq!(natural_cmp(&format!("{prefix}{x}"), &format!("{prefix}{y}")), x.cmp(&y));
        let no_digits = |s: &str| s.chars().filter(|c| !c.is_ascii_digit()).collect::<String>();
        let (p, q) = (no_digits(&prefix), no_digits(&format!("{prefix}z")));
        prop_assert_eq!(natural_cmp(&p, &q), p.cmp(&q));
    }

    /// Risk views and due lists come out in natural id order whatever the ids.
    #[test]
    fn risk_views_are_in_natural_order(ids in prop::collection::btree_set(1u32..200, 1..8)) {
        let mut reg = base_register();
        for i in &ids {
            let mut r = scored_risk(&format!("R-{i}"), (3, 3), None);
            r.last_reviewed = Some(date(2000, 1, 1));
            add_risk(&mut reg, r);
        }
        let expected: Vec<String> = ids.iter().map(|i| format!("R-{i}")).collect();
        let views: Vec<String> = reg.risk_views(today()).into_iter().map(|v| v.id).collect();
        prop_assert_eq!(&views, &expected);
        let due: Vec<String> = reg.due(today()).overdue_risk_reviews.into_iter().map(|v| v.id).collect();
        prop_assert_eq!(&due, &expected);
    }
}
