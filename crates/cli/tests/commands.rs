//! Every read command of the CLI, on the example register.

mod common;

use common::*;
use predicates::prelude::*;
use serde_json::Value;

fn example_db() -> Db {
    let db = sqlite_db();
    db.airisk(&["apply", "-f", example_register().to_str().unwrap()])
        .assert()
        .success();
    db
}

fn risk_count_in_files() -> usize {
    let dir = example_register();
    let loaded = airisk_regfile::load_path(&dir).expect("the example register loads");
    loaded
        .objects
        .iter()
        .filter(|o| o.kind() == airisk_model::ObjectKind::Risk)
        .count()
}

#[test]
fn init_creates_the_database_then_reports_it_up_to_date() {
    let db = sqlite_db();
    db.airisk(&["init"]).assert().success().stdout(
        predicate::str::contains("Created SQLite database")
            .and(predicate::str::contains("schema version 4")),
    );
    db.airisk(&["init"])
        .assert()
        .success()
        .stdout(predicate::str::contains("up to date"));
}

#[test]
fn demo_loads_the_example_and_prints_an_overview() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("demo.db");
    let db = sqlite_db();
    db.airisk(&["demo", "--no-serve", "--keep", path.to_str().unwrap()])
        .assert()
        .success()
        .stdout(
            predicate::str::contains("Applied:")
                .and(predicate::str::contains("AI systems"))
                .and(predicate::str::contains("Heat map of open risks"))
                .and(predicate::str::contains("Due as of 2026-11-22")),
        );
    assert!(path.exists());
    // A second demo refuses to reuse a database.
    db.airisk(&["demo", "--no-serve", "--keep", path.to_str().unwrap()])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("already exists"));
}

#[test]
fn risk_list_json_shows_every_risk_with_inherent_and_residual_levels() {
    let db = example_db();
    let list = json_of(db.airisk(&["risk", "list", "--json"]));
    let risks = list["risks"].as_array().unwrap();
    assert_eq!(risks.len(), risk_count_in_files());
    assert!(risks.len() >= 25, "the example has at least 25 risks");
    let categories: std::collections::BTreeSet<&str> = risks
        .iter()
        .map(|r| r["category"].as_str().unwrap())
        .collect();
    assert_eq!(
        categories.len(),
        8,
        "all eight categories are used: {categories:?}"
    );
    for risk in risks {
        for score in ["inherent", "residual"] {
            if risk[score].is_object() {
                assert!(
                    risk[score]["level"].is_string(),
                    "{} has a {score} level",
                    risk["id"]
                );
            }
        }
        assert!(
            risk["inherent"]["level"].is_string(),
            "{} is assessed",
            risk["id"]
        );
        assert!(risk["level"].is_string());
        assert!(risk["above_threshold"].is_boolean());
    }
    assert!(risks
        .iter()
        .any(|r| r["residual"]["level"] != r["inherent"]["level"]));
}

#[test]
fn risk_list_filters() {
    let db = example_db();
    let all = json_of(db.airisk(&["risk", "list", "--json"]))["risks"]
        .as_array()
        .unwrap()
        .len();
    let ids = |args: &[&str]| -> Vec<Value> {
        let mut full = vec!["risk", "list", "--json"];
        full.extend_from_slice(args);
        json_of(db.airisk(&full))["risks"]
            .as_array()
            .unwrap()
            .clone()
    };
    let security = ids(&["--category", "security"]);
    assert!(!security.is_empty() && security.len() < all);
    let high = ids(&["--level", "high"]);
    assert!(high.iter().all(|r| r["level"] == "high") && !high.is_empty());
    let closed = ids(&["--status", "closed"]);
    assert!(closed.iter().all(|r| r["status"] == "closed"));
    let credit = ids(&["--system", "credit-scoring"]);
    assert!(!credit.is_empty());
    assert!(credit.iter().all(|r| r["systems"]
        .as_array()
        .unwrap()
        .contains(&Value::from("credit-scoring"))));
    let owner = credit[0]["owner"].as_str().unwrap().to_string();
    assert!(ids(&["--owner", &owner])
        .iter()
        .all(|r| r["owner"] == owner.as_str()));
    let above = ids(&["--above-threshold"]);
    assert!(above.iter().all(|r| r["above_threshold"] == true) && !above.is_empty());

    db.airisk(&["risk", "list", "--level", "severe"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "--level: unknown value `severe` (expected one of: low, medium, high, critical)",
        ));
    db.airisk(&["risk", "list", "--system", "nope"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "--system: no system with id `nope`",
        ));
    db.airisk(&["risk", "list"])
        .assert()
        .success()
        .stdout(predicate::str::contains("Risks ("));
}

#[test]
fn risk_show_and_history() {
    let db = example_db();
    let first = json_of(db.airisk(&["risk", "list", "--json"]))["risks"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let detail = json_of(db.airisk(&["risk", "show", &first, "--json"]));
    assert_eq!(detail["risk"]["id"], first.as_str());
    assert!(detail["computed"]["level"].is_string());
    assert!(detail["treatments"].is_array());
    db.airisk(&["risk", "show", &first])
        .assert()
        .success()
        .stdout(predicate::str::contains("inherent:").and(predicate::str::contains("likelihood")));
    db.airisk(&["risk", "history", &first])
        .assert()
        .success()
        .stdout(predicate::str::contains(format!(
            "tester create risk {first}"
        )));
    db.airisk(&["risk", "show", "R-NOPE"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("no risk with id `R-NOPE`"));
}

#[test]
fn system_list_and_show() {
    let db = example_db();
    let list = json_of(db.airisk(&["system", "list", "--json"]));
    let systems = list["systems"].as_array().unwrap();
    assert!(systems.len() >= 5);
    for s in systems {
        assert!(s["tier"].is_string(), "{} is classified", s["id"]);
        assert!(s["open_risks"].as_u64().unwrap() > 0);
    }
    let id = systems[0]["id"].as_str().unwrap();
    let detail = json_of(db.airisk(&["system", "show", id, "--json"]));
    assert_eq!(detail["system"]["id"], id);
    assert_eq!(detail["screening"]["cells"].as_array().unwrap().len(), 8);
    assert!(!detail["risks"].as_array().unwrap().is_empty());
    db.airisk(&["system", "show", id])
        .assert()
        .success()
        .stdout(predicate::str::contains("tier:"));
    db.airisk(&["system", "list"])
        .assert()
        .success()
        .stdout(predicate::str::contains("AI systems"));
    db.airisk(&["system", "show", "nope"]).assert().code(1);
}

#[test]
fn matrix_counts_every_open_scored_risk() {
    let db = example_db();
    let matrix = json_of(db.airisk(&["matrix", "--json"]));
    let open = json_of(db.airisk(&["risk", "list", "--json"]))["risks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["status"] != "closed")
        .count();
    let cells: Vec<&Value> = matrix["cells"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|row| row.as_array().unwrap())
        .collect();
    assert_eq!(cells.len(), 25, "5x5 criteria");
    let inherent: usize = cells
        .iter()
        .map(|c| c["inherent"].as_array().unwrap().len())
        .sum();
    assert_eq!(inherent, open);
    assert!(cells.iter().all(|c| c["level"].is_string()));
    db.airisk(&["matrix"])
        .assert()
        .success()
        .stdout(predicate::str::contains("Inherent").and(predicate::str::contains("Residual")));
}

#[test]
fn screening_lists_gaps() {
    let db = example_db();
    let report = json_of(db.airisk(&["screening", "--json"]));
    let systems = report["systems"].as_array().unwrap();
    assert!(systems
        .iter()
        .all(|s| s["cells"].as_array().unwrap().len() == 8));
    let gaps = report["gaps"].as_array().unwrap();
    assert!(!gaps.is_empty(), "the example leaves deliberate gaps");
    for gap in gaps {
        assert!(gap["state"] == "gap" || gap["state"] == "conflict");
    }
    db.airisk(&["screening", "--gaps"])
        .assert()
        .success()
        .stdout(predicate::str::contains("Screening gaps"));
}

#[test]
fn due_lists_what_the_example_makes_overdue() {
    let db = example_db();
    let due = json_of(db.airisk(&["due", "--json"]));
    assert_eq!(due["today"], TODAY);
    for section in [
        "overdue_risk_reviews",
        "overdue_system_reviews",
        "overdue_treatments",
        "nonconformities",
        "above_threshold_without_approved_treatment",
    ] {
        assert!(
            !due[section].as_array().unwrap().is_empty(),
            "{section} is empty"
        );
    }
    for item in due["overdue_risk_reviews"].as_array().unwrap() {
        assert!(item["next_review"].as_str().unwrap() < TODAY);
        assert!(item["days_overdue"].as_i64().unwrap() > 0);
    }
    for item in due["nonconformities"].as_array().unwrap() {
        assert_eq!(item["evidence"], 0);
    }
    db.airisk(&["due"])
        .assert()
        .success()
        .stdout(predicate::str::contains("Nonconformities"));
    db.airisk(&["due", "--check"]).assert().code(3);
}

#[test]
fn due_check_passes_when_nothing_is_due() {
    let db = sqlite_db();
    db.airisk(&["apply", "-f", fixture("minimal").to_str().unwrap()])
        .assert()
        .success();
    db.airisk(&["--today", "2026-10-05", "due", "--check"])
        .assert()
        .success();
    db.airisk(&["--today", "2027-06-01", "due", "--check"])
        .assert()
        .code(3);
}

#[test]
fn both_databases_give_the_same_answers() {
    let answers = std::cell::RefCell::new(Vec::new());
    on_each_backend(|db| {
        db.airisk(&["apply", "-f", example_register().to_str().unwrap()])
            .assert()
            .success();
        answers.borrow_mut().push((
            db.backend,
            json_of(db.airisk(&["risk", "list", "--json"])),
            json_of(db.airisk(&["due", "--json"])),
            json_of(db.airisk(&["screening", "--json"])),
            json_of(db.airisk(&["matrix", "--json"])),
        ));
    });
    let answers = answers.into_inner();
    for pair in answers.windows(2) {
        assert_eq!(
            pair[0].1, pair[1].1,
            "risk list: {} vs {}",
            pair[0].0, pair[1].0
        );
        assert_eq!(pair[0].2, pair[1].2, "due");
        assert_eq!(pair[0].3, pair[1].3, "screening");
        assert_eq!(pair[0].4, pair[1].4, "matrix");
    }
}

#[test]
fn schema_is_published_and_current() {
    let db = sqlite_db();
    let printed = stdout_of(db.airisk(&["schema"]));
    let schema: Value = serde_json::from_str(&printed).unwrap();
    assert_eq!(schema["title"], "airisk register file");
    assert!(schema["properties"]["risks"].is_object());
    let committed = std::fs::read_to_string(repo_root().join("schema/register.schema.json"))
        .expect("schema/register.schema.json is committed");
    assert_eq!(
        committed, printed,
        "run `airisk schema > schema/register.schema.json`"
    );
}

#[test]
fn a_bad_date_option_is_rejected() {
    let db = sqlite_db();
    db.airisk(&["--today", "22/11/2026", "due"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "`22/11/2026` is not a date in the form YYYY-MM-DD",
        ));
}

#[test]
fn a_closed_pipe_ends_the_command_quietly() {
    let db = example_db();
    let binary = assert_cmd::cargo::cargo_bin("airisk");
    let output = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "'{}' --db '{}' risk list | head -n 1",
            binary.display(),
            db.url
        ))
        .env("AIRISK_TODAY", TODAY)
        .output()
        .unwrap();
    assert!(output.status.success());
    assert_eq!(String::from_utf8_lossy(&output.stdout).lines().count(), 1);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(stderr.is_empty(), "{stderr}");
}
