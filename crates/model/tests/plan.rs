//! Planning an apply: create / update / unchanged per object, with field paths; objects
//! not mentioned are kept.

mod common;

use airisk_model::system::{SideEffect, Tool};
use airisk_model::{
    diff, plan, Action, Object, ObjectKind, Register, RiskStatus, ScoreBands, SETTINGS_ID,
};
use common::*;
use proptest::prelude::*;
use serde_json::json;

fn full_register() -> Register {
    let mut reg = base_register();
    for i in 1..=3 {
        let mut r = scored_risk(&format!("R-{i}"), (4, 4), Some((2, i as u8)));
        r.status = RiskStatus::Treated;
        add_risk(&mut reg, r);
        add_treatment(
            &mut reg,
            treatment(
                &format!("T-{i}"),
                &format!("R-{i}"),
                airisk_model::TreatmentOption::Mitigate,
            ),
        );
    }
    let mut s = system("SYS-2");
    s.tools = vec![Tool {
        name: "search".into(),
        permissions: vec!["kb:read".into()],
        side_effects: vec![SideEffect::ReadsData],
        description: String::new(),
    }];
    s.classification = Some(classification_from_bits(0b001000));
    add_system(&mut reg, s);
    reg
}

fn paths(change: &airisk_model::PlannedChange) -> Vec<&str> {
    change.fields.iter().map(|f| f.path.as_str()).collect()
}

#[test]
fn plan_of_own_objects_is_all_unchanged() {
    let reg = full_register();
    assert_valid(&reg);
    let p = plan(&reg, reg.objects());
    assert_eq!(p.changes.len(), reg.len());
    assert!(p.is_noop());
    assert_eq!(p.count(Action::Unchanged), reg.len());
    assert_eq!(p.count(Action::Create), 0);
    assert_eq!(p.count(Action::Update), 0);
    assert_eq!(p.writes().count(), 0);
    assert!(p.changes.iter().all(|c| c.fields.is_empty()));
    assert_eq!(p.result, reg);
}

#[test]
fn plan_onto_an_empty_register_creates_everything() {
    let reg = full_register();
    let p = plan(&Register::default(), reg.objects());
    assert_eq!(p.count(Action::Create), reg.len());
    assert_eq!(p.result, reg);
    for change in &p.changes {
        assert_eq!(change.before, None);
        assert!(!change.fields.is_empty(), "{} {}", change.kind, change.id);
        assert!(change
            .fields
            .iter()
            .all(|f| f.before.is_none() && f.after.is_some()));
    }
    // Applying the same objects again is a no-op.
    assert!(plan(&p.result, reg.objects()).is_noop());
}

#[test]
fn creating_a_risk_lists_its_fields() {
    let reg = full_register();
    let new = scored_risk("R-9", (3, 3), None);
    let p = plan(&reg, vec![Object::Risk(new.clone())]);
    assert_eq!(p.changes.len(), 1);
    let change = &p.changes[0];
    assert_eq!(
        (change.kind, change.id.as_str(), change.action),
        (ObjectKind::Risk, "R-9", Action::Create)
    );
    let fields = paths(change);
    for expected in [
        "id",
        "title",
        "systems",
        "inherent.likelihood",
        "inherent.consequence",
        "inherent.rationale",
        "owner",
        "status",
    ] {
        assert!(
            fields.contains(&expected),
            "{expected} missing from {fields:?}"
        );
    }
    assert!(
        !fields.contains(&"residual"),
        "absent fields are not listed: {fields:?}"
    );
    assert_eq!(change.after, Object::Risk(new.clone()).to_value());
    assert_eq!(p.result.risks["R-9"], new);
    assert_eq!(p.result.len(), reg.len() + 1);
}

#[test]
fn updating_a_score_reports_the_nested_path() {
    let reg = full_register();
    let mut r = reg.risks["R-1"].clone();
    r.inherent.as_mut().unwrap().likelihood = 5;
    let p = plan(&reg, vec![Object::Risk(r.clone())]);
    let change = &p.changes[0];
    assert_eq!(change.action, Action::Update);
    assert_eq!(paths(change), vec!["inherent.likelihood"]);
    assert_eq!(change.fields[0].before, Some(json!(4)));
    assert_eq!(change.fields[0].after, Some(json!(5)));
    assert_eq!(
        change.before,
        Some(Object::Risk(reg.risks["R-1"].clone()).to_value())
    );
    assert_eq!(p.result.risks["R-1"], r);
}

#[test]
fn adding_and_removing_optional_fields() {
    let reg = full_register();
    let mut r = reg.risks["R-2"].clone();
    r.residual = None;
    r.status = RiskStatus::Assessed;
    r.review_cycle_months = Some(2);
    let p = plan(&reg, vec![Object::Risk(r)]);
    let change = &p.changes[0];
    assert_eq!(change.action, Action::Update);
    let mut fields = paths(change);
    fields.sort();
    assert_eq!(fields, vec!["residual", "review_cycle_months", "status"]);
    let residual = change.fields.iter().find(|f| f.path == "residual").unwrap();
    assert!(residual.before.is_some());
    assert_eq!(residual.after, None);
    let cycle = change
        .fields
        .iter()
        .find(|f| f.path == "review_cycle_months")
        .unwrap();
    assert_eq!(cycle.before, None);
    assert_eq!(cycle.after, Some(json!(2)));
}

#[test]
fn lists_of_values_and_of_objects() {
    let reg = full_register();
    let mut r = reg.risks["R-3"].clone();
    r.systems.push("SYS-2".into());
    let p = plan(&reg, vec![Object::Risk(r)]);
    assert_eq!(paths(&p.changes[0]), vec!["systems"]);
    assert_eq!(
        p.changes[0].fields[0].after,
        Some(json!(["SYS-1", "SYS-2"]))
    );

    let mut s = reg.systems["SYS-2"].clone();
    s.tools[0].side_effects.push(SideEffect::WritesData);
    s.tools.push(Tool {
        name: "ticket".into(),
        permissions: vec![],
        side_effects: vec![SideEffect::WritesData],
        description: String::new(),
    });
    let p = plan(&reg, vec![Object::System(s)]);
    assert_eq!(
        paths(&p.changes[0]),
        vec![
            "tools[0].side_effects",
            "tools[1].name",
            "tools[1].side_effects"
        ]
    );
}

#[test]
fn settings_are_planned_under_their_fixed_id() {
    let reg = full_register();
    let mut s = reg.settings.clone().unwrap();
    s.review_cycles.low = 24;
    let p = plan(&reg, vec![Object::Settings(s)]);
    assert_eq!(p.changes[0].id, SETTINGS_ID);
    assert_eq!(paths(&p.changes[0]), vec!["review_cycles.low"]);
    assert_eq!(p.result.settings.unwrap().review_cycles.low, 24);
}

#[test]
fn the_same_object_twice_is_created_then_unchanged() {
    let reg = full_register();
    let new = Object::Person(person("new.person"));
    let p = plan(&reg, vec![new.clone(), new]);
    let actions: Vec<Action> = p.changes.iter().map(|c| c.action).collect();
    assert_eq!(actions, vec![Action::Create, Action::Unchanged]);
}

#[test]
fn changes_follow_the_order_given() {
    let reg = full_register();
    let desired = vec![
        Object::Risk(reg.risks["R-3"].clone()),
        Object::Person(person("zed")),
        Object::Criteria(reg.criteria[CRITERIA_ID].clone()),
    ];
    let p = plan(&reg, desired);
    let order: Vec<(ObjectKind, &str)> =
        p.changes.iter().map(|c| (c.kind, c.id.as_str())).collect();
    assert_eq!(
        order,
        vec![
            (ObjectKind::Risk, "R-3"),
            (ObjectKind::Person, "zed"),
            (ObjectKind::Criteria, CRITERIA_ID)
        ]
    );
}

#[test]
fn action_names_and_json() {
    assert_eq!(
        serde_json::to_value(Action::Unchanged).unwrap(),
        json!("unchanged")
    );
    assert_eq!(
        serde_json::to_value(Action::Create).unwrap(),
        json!("create")
    );
    assert_eq!(
        serde_json::to_value(Action::Update).unwrap(),
        json!("update")
    );
}

#[test]
fn diff_of_whole_objects() {
    let a = json!({"x": 1});
    assert!(diff(Some(&a), Some(&a)).is_empty());
    let removed = diff(Some(&a), None);
    assert_eq!(removed.len(), 1);
    assert_eq!(removed[0].path, "");
    assert_eq!(removed[0].after, None);
    let created = diff(None, Some(&a));
    assert_eq!(created.len(), 1);
    assert_eq!(created[0].path, "x");
}

/// A field that appears holding an empty object is a change and must be listed. Score
/// bands with no level set serialise to `{}`; adding them to a criteria set gives an
/// Update whose field list is empty.
#[test]

fn update_that_adds_an_empty_object_lists_the_field() {
    let reg = full_register();
    let mut set = reg.criteria[CRITERIA_ID].clone();
    set.bands = Some(ScoreBands {
        medium: None,
        high: None,
        critical: None,
    });
    let p = plan(&reg, vec![Object::Criteria(set)]);
    let change = &p.changes[0];
    assert_eq!(change.action, Action::Update);
    assert_eq!(
        paths(change),
        vec!["bands"],
        "an Update must say which field changed"
    );
}

#[test]

fn create_lists_a_field_holding_an_empty_object() {
    let before = None;
    let after = json!({"id": "c", "bands": {}});
    let fields: Vec<String> = diff(before, Some(&after))
        .into_iter()
        .map(|f| f.path)
        .collect();
    assert_eq!(fields, vec!["id", "bands"]);
}

/// One way to change a risk, chosen by the property below.
fn mutate(r: &mut airisk_model::Risk, how: u8) -> &'static str {
    match how % 6 {
        0 => {
            r.title.push('!');
            "title"
        }
        1 => {
            r.inherent.as_mut().unwrap().consequence = 5;
            "inherent.consequence"
        }
        2 => {
            r.residual.as_mut().unwrap().rationale = "re-assessed".into();
            "residual.rationale"
        }
        3 => {
            r.owner = APPROVER.into();
            "owner"
        }
        4 => {
            r.last_reviewed = Some(date(2026, 2, 2));
            "last_reviewed"
        }
        _ => {
            r.status = RiskStatus::Closed;
            "status"
        }
    }
}

proptest! {
    /// For any selection of the register's risks — some left alone, some changed — and
    /// some new people: each change has the expected action and field path, objects not
    /// mentioned are kept as they were, and planning the result again is a no-op.
    #[test]
    fn plan_upserts_and_keeps_the_rest(
        picks in prop::collection::vec((1usize..=3, prop::option::of(any::<u8>())), 0..6),
        new_people in prop::collection::btree_set("[a-z]{1,6}", 0..3),
    ) {
        let reg = full_register();
        let mut desired = Vec::new();
        let mut expected = Vec::new();
        let mut current = reg.clone();
        for (i, how) in &picks {
            let mut r = current.risks[&format!("R-{i}")].clone();
            let before = r.clone();
            let path = how.map(|h| mutate(&mut r, h));
            let action = if r == before { Action::Unchanged } else { Action::Update };
            expected.push((r.id.clone(), action, if action == Action::Update { path } else { None }));
            current.risks.insert(r.id.clone(), r.clone());
            desired.push(Object::Risk(r));
        }
        for id in &new_people {
            let id = format!("new-{id}");
            expected.push((id.clone(), Action::Create, None));
            current.people.insert(id.clone(), person(&id));
            desired.push(Object::Person(person(&id)));
        }
        let p = plan(&reg, desired.clone());
        prop_assert_eq!(p.changes.len(), expected.len());
        for (change, (id, action, path)) in p.changes.iter().zip(&expected) {
            prop_assert_eq!(&change.id, id);
            prop_assert_eq!(change.action, *action);
            if let Some(path) = path {
                prop_assert_eq!(paths(change), vec![*path]);
            }
            prop_assert_eq!(change.fields.is_empty(), change.action == Action::Unchanged);
        }
        // Nothing is lost; unmentioned objects are untouched.
        prop_assert_eq!(&p.result, &current);
        for object in reg.objects() {
            prop_assert!(p.result.get(object.kind(), &object.id()).is_some(), "{} {} lost", object.kind(), object.id());
        }
        prop_assert_eq!(p.result.len(), reg.len() + new_people.len());
        // Idempotent: the final version of every desired object, planned again, changes nothing.
        let mut last = Vec::new();
        for object in desired.into_iter().rev() {
            if !last.iter().any(|o: &Object| o.kind() == object.kind() && o.id() == object.id()) {
                last.push(object);
            }
        }
        prop_assert!(plan(&p.result, last).is_noop());
    }

    /// The diff between two canonical risks is empty exactly when they are equal, and its
    /// paths cover every top-level key that differs.
    #[test]
    fn diff_is_empty_iff_equal(a in 0u8..6, b in 0u8..6) {
        let reg = full_register();
        let (mut x, mut y) = (reg.risks["R-1"].clone(), reg.risks["R-1"].clone());
        mutate(&mut x, a);
        mutate(&mut y, b);
        let (vx, vy) = (Object::Risk(x.clone()).to_value(), Object::Risk(y.clone()).to_value());
        let d = diff(Some(&vx), Some(&vy));
        prop_assert_eq!(d.is_empty(), x == y);
        for (key, value) in vx.as_object().unwrap() {
            if vy.get(key) != Some(value) {
                let covered = d.iter().any(|f| f.path == *key || f.path.starts_with(&format!("{key}.")) || f.path.starts_with(&format!("{key}[")));
                prop_assert!(covered, "{} differs but is not in {:?}", key, d);
            }
        }
    }
}
