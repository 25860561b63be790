//! The JSON shapes of the derived views (`airisk risk list --json`, `airisk due --json`)
//! are part of the stable output: these tests pin their keys and value formats.

mod common;

use airisk_model::{RiskStatus, TreatmentOption};
use common::*;
use serde_json::{json, Value};

fn keys(v: &Value) -> Vec<&str> {
    v.as_object().unwrap().keys().map(String::as_str).collect()
}

#[test]
fn risk_view_json_shape() {
    let mut reg = base_register();
    let mut r = scored_risk("R-1", (4, 4), Some((2, 2)));
    r.status = RiskStatus::Treated;
    r.last_reviewed = Some(date(2026, 1, 10));
    add_risk(&mut reg, r);
    add_treatment(&mut reg, treatment("T-1", "R-1", TreatmentOption::Mitigate));
    let v = serde_json::to_value(reg.risk_view(&reg.risks["R-1"], today())).unwrap();
    assert_eq!(
        keys(&v),
        vec![
            "id",
            "title",
            "category",
            "systems",
            "owner",
            "status",
            "inherent",
            "residual",
            "level",
            "above_threshold",
            "review_cycle_months",
            "last_reviewed",
            "next_review",
            "review_overdue"
        ]
    );
    assert_eq!(v["category"], json!("security"));
    assert_eq!(v["status"], json!("treated"));
    assert_eq!(
        v["inherent"],
        json!({"likelihood": 4, "consequence": 4, "level": "high"})
    );
    assert_eq!(
        v["residual"],
        json!({"likelihood": 2, "consequence": 2, "level": "low"})
    );
    assert_eq!(v["level"], json!("low"));
    assert_eq!(v["above_threshold"], json!(false));
    assert_eq!(v["review_cycle_months"], json!(12));
    assert_eq!(v["last_reviewed"], json!("2026-01-10"));
    assert_eq!(v["next_review"], json!("2027-01-10"));
    assert_eq!(v["review_overdue"], json!(false));
}

#[test]
fn unscored_risk_view_uses_nulls() {
    let mut reg = base_register();
    add_risk(&mut reg, risk("R-1"));
    let v = serde_json::to_value(reg.risk_view(&reg.risks["R-1"], today())).unwrap();
    assert_eq!(v["inherent"], Value::Null);
    assert_eq!(v["residual"], Value::Null);
    assert_eq!(v["level"], Value::Null);
    assert_eq!(v["review_cycle_months"], Value::Null);
    assert_eq!(v["next_review"], Value::Null);
}

#[test]
fn due_report_json_shape() {
    let mut reg = base_register();
    let mut r = scored_risk("R-1", (5, 5), None);
    r.identified_on = Some(date(2026, 1, 1));
    add_risk(&mut reg, r);
    let mut t = treatment("T-1", "R-1", TreatmentOption::Mitigate);
    t.target_date = Some(date(2026, 6, 1));
    add_treatment(&mut reg, t);
    let due = reg.due(today());
    assert_eq!(due.item_count(), 5, "{due:#?}");
    let v = serde_json::to_value(&due).unwrap();
    assert_eq!(
        keys(&v),
        vec![
            "today",
            "overdue_risk_reviews",
            "overdue_system_reviews",
            "overdue_treatments",
            "nonconformities",
            "above_threshold_without_approved_treatment",
            "unassessed_risks",
            "unclassified_systems"
        ]
    );
    assert_eq!(v["today"], json!("2026-06-15"));
    assert_eq!(
        v["overdue_risk_reviews"][0],
        json!({
            "id": "R-1",
            "title": "Risk R-1",
            "level": "critical",
            "owner": RISK_OWNER,
            "last_reviewed": null,
            "next_review": "2026-04-01",
            "days_overdue": 75
        })
    );
    assert_eq!(
        v["nonconformities"][0],
        json!({
            "id": "T-1",
            "risk": "R-1",
            "option": "mitigate",
            "owner": RISK_OWNER,
            "status": "planned",
            "target_date": "2026-06-01",
            "days_overdue": 14,
            "evidence": 0
        })
    );
    assert_eq!(v["overdue_treatments"], v["nonconformities"]);
    assert_eq!(
        v["above_threshold_without_approved_treatment"][0],
        json!({"id": "R-1", "title": "Risk R-1", "level": "critical", "owner": RISK_OWNER})
    );
    assert_eq!(
        v["unclassified_systems"][0],
        json!({"id": SYSTEM_ID, "name": "System SYS-1", "owner": BUSINESS_OWNER})
    );
}

#[test]
fn screening_row_json_shape() {
    let mut reg = base_register();
    add_risk(&mut reg, risk("R-1"));
    let rows = reg.screening_matrix();
    let v = serde_json::to_value(&rows[0]).unwrap();
    assert_eq!(keys(&v), vec!["system", "name", "cells"]);
    assert_eq!(
        v["cells"][0],
        json!({"category": "bias_fairness", "state": "gap"})
    );
    assert_eq!(
        v["cells"][2],
        json!({"category": "security", "state": "risks", "risks": ["R-1"]})
    );
}
