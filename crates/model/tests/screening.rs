//! Screening (M4): every system against every category — risks, an explicit "not
//! applicable because …", a conflict between the two, or a gap.

mod common;

use airisk_model::{Category, ObjectKind, ScreeningCell, ScreeningDecision};
use common::*;
use proptest::prelude::*;
use std::collections::BTreeSet;

fn decision(system: &str, category: Category, reason: &str) -> ScreeningDecision {
    ScreeningDecision {
        system: system.into(),
        category,
        not_applicable_because: reason.into(),
    }
}

#[test]
fn category_names_round_trip() {
    assert_eq!(Category::ALL.len(), 8);
    for c in Category::ALL {
        assert_eq!(Category::parse(c.as_str()), Some(c));
        assert_eq!(
            serde_json::to_value(c).unwrap(),
            serde_json::Value::String(c.as_str().into())
        );
    }
    assert_eq!(Category::parse("nope"), None);
}

#[test]
fn decision_key_is_system_slash_category() {
    let d = decision("SYS-1", Category::SupplyChain, "in-house only");
    assert_eq!(d.id(), "SYS-1/supply_chain");
    assert_eq!(
        ScreeningDecision::key("SYS-1", Category::SupplyChain),
        d.id()
    );
}

#[test]
fn matrix_cells() {
    let mut reg = base_register();
    add_system(&mut reg, system("SYS-10"));
    add_system(&mut reg, system("SYS-2"));
    // security on SYS-1, secondary privacy; also affects SYS-2.
    let mut r1 = risk("R-1");
    r1.secondary_categories = vec![Category::Privacy];
    r1.systems = vec!["SYS-1".into(), "SYS-2".into()];
    add_risk(&mut reg, r1);
    let mut r10 = risk("R-10");
    r10.category = Category::Security;
    add_risk(&mut reg, r10);
    let mut r2 = risk("R-2");
    r2.category = Category::Security;
    add_risk(&mut reg, r2);
    // A decision that conflicts with R-1 on SYS-2, and one that stands on SYS-1.
    for d in [
        decision("SYS-2", Category::Privacy, "no personal data"),
        decision("SYS-1", Category::Safety, "no physical effect"),
    ] {
        reg.screening.insert(d.id(), d);
    }
    assert_valid(&reg);

    let matrix = reg.screening_matrix();
    let order: Vec<&str> = matrix.iter().map(|r| r.system.as_str()).collect();
    assert_eq!(order, vec!["SYS-1", "SYS-2", "SYS-10"]);
    for row in &matrix {
        let cats: Vec<Category> = row.cells.iter().map(|e| e.category).collect();
        assert_eq!(cats, Category::ALL.to_vec());
    }
    let cell = |system: &str, category: Category| -> ScreeningCell {
        matrix
            .iter()
            .find(|r| r.system == system)
            .unwrap()
            .cells
            .iter()
            .find(|e| e.category == category)
            .unwrap()
            .cell
            .clone()
    };
    assert_eq!(
        cell("SYS-1", Category::Security),
        ScreeningCell::Risks {
            risks: vec!["R-1".into(), "R-2".into(), "R-10".into()]
        }
    );
    assert_eq!(
        cell("SYS-1", Category::Privacy),
        ScreeningCell::Risks {
            risks: vec!["R-1".into()]
        }
    );
    assert_eq!(
        cell("SYS-1", Category::Safety),
        ScreeningCell::NotApplicable {
            reason: "no physical effect".into()
        }
    );
    assert_eq!(cell("SYS-1", Category::Societal), ScreeningCell::Gap);
    assert_eq!(
        cell("SYS-2", Category::Privacy),
        ScreeningCell::Conflict {
            risks: vec!["R-1".into()],
            reason: "no personal data".into()
        }
    );
    assert!(cell("SYS-2", Category::Privacy).is_gap());
    assert!(cell("SYS-1", Category::Societal).is_gap());
    assert!(!cell("SYS-1", Category::Safety).is_gap());
    assert!(!cell("SYS-1", Category::Security).is_gap());
    let sys10_gaps = matrix
        .iter()
        .find(|r| r.system == "SYS-10")
        .unwrap()
        .cells
        .iter()
        .filter(|e| e.cell.is_gap())
        .count();
    assert_eq!(sys10_gaps, 8);
}

#[test]
fn cell_json_shape() {
    let v = serde_json::to_value(ScreeningCell::NotApplicable { reason: "x".into() }).unwrap();
    assert_eq!(
        v,
        serde_json::json!({"state": "not_applicable", "reason": "x"})
    );
    let v = serde_json::to_value(ScreeningCell::Gap).unwrap();
    assert_eq!(v, serde_json::json!({"state": "gap"}));
}

#[test]
fn decision_validation() {
    let mut reg = base_register();
    for d in [
        decision("SYS-404", Category::Safety, "n/a"),
        decision("SYS-1", Category::Safety, "  "),
    ] {
        reg.screening.insert(d.id(), d);
    }
    let issues = reg.validate();
    assert_eq!(
        fields_of(&issues, ObjectKind::Screening, "SYS-404/safety"),
        vec!["system"]
    );
    assert_eq!(
        fields_of(&issues, ObjectKind::Screening, "SYS-1/safety"),
        vec!["not_applicable_because"]
    );
}

#[test]
fn secondary_category_repeating_primary_is_reported() {
    let mut reg = base_register();
    let mut r = risk("R-1");
    r.secondary_categories = vec![Category::Privacy, Category::Security];
    add_risk(&mut reg, r);
    assert_eq!(
        fields_of(&reg.validate(), ObjectKind::Risk, "R-1"),
        vec!["secondary_categories"]
    );
}

fn any_category() -> impl Strategy<Value = Category> {
    prop::sample::select(Category::ALL.to_vec())
}

proptest! {
    /// Each cell's state follows from which risks cover (system, category) and whether a
    /// decision exists, for random registers.
    #[test]
    fn matrix_follows_risks_and_decisions(
        n_systems in 1usize..4,
        risks in prop::collection::vec(
            (any_category(), prop::collection::btree_set(any_category(), 0..3), prop::collection::btree_set(0usize..4, 1..3)),
            0..8,
        ),
        decisions in prop::collection::btree_set((0usize..4, any_category()), 0..10),
    ) {
        let mut reg = base_register();
        reg.systems.clear();
        let systems: Vec<String> = (0..n_systems).map(|i| format!("S-{i}")).collect();
        for s in &systems {
            add_system(&mut reg, system(s));
        }
        for (i, (primary, secondary, on)) in risks.iter().enumerate() {
            let mut r = risk(&format!("R-{i}"));
            r.category = *primary;
            r.secondary_categories = secondary.iter().copied().filter(|c| c != primary).collect();
            r.systems = on.iter().map(|s| systems[s % n_systems].clone()).collect::<BTreeSet<_>>().into_iter().collect();
            add_risk(&mut reg, r);
        }
        for (s, c) in &decisions {
            let d = decision(&systems[s % n_systems], *c, "reason");
            reg.screening.insert(d.id(), d);
        }
        let matrix = reg.screening_matrix();
        prop_assert_eq!(matrix.len(), n_systems);
        for row in &matrix {
            prop_assert_eq!(row.cells.len(), 8);
            for entry in &row.cells {
                let covering: BTreeSet<String> = reg
                    .risks
                    .values()
                    .filter(|r| r.systems.contains(&row.system))
                    .filter(|r| r.category == entry.category || r.secondary_categories.contains(&entry.category))
                    .map(|r| r.id.clone())
                    .collect();
                let decided = reg.screening.contains_key(&ScreeningDecision::key(&row.system, entry.category));
                let listed: Option<BTreeSet<String>> = match &entry.cell {
                    ScreeningCell::Risks { risks } | ScreeningCell::Conflict { risks, .. } => {
                        Some(risks.iter().cloned().collect())
                    }
                    _ => None,
                };
                match (&entry.cell, covering.is_empty(), decided) {
                    (ScreeningCell::Risks { .. }, false, false)
                    | (ScreeningCell::Conflict { .. }, false, true)
                    | (ScreeningCell::NotApplicable { .. }, true, true)
                    | (ScreeningCell::Gap, true, false) => {}
                    (cell, _, _) => prop_assert!(false, "{:?} with risks {:?}, decided {}", cell, covering, decided),
                }
                // A gap: neither risks nor a decision, or both (a conflict).
                prop_assert_eq!(entry.cell.is_gap(), covering.is_empty() != decided);
                if let Some(listed) = listed {
                    prop_assert_eq!(listed, covering);
                }
            }
        }
    }
}
