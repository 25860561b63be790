//! `airisk soa`, `airisk coverage`, `airisk control` and the control side of `apply`,
//! `export` and `evidence`, end to end on the example register.

mod common;

use common::*;
use predicates::prelude::*;

fn example_db(db: &Db) {
    db.airisk(&["init"]).assert().success();
    db.airisk(&["apply", "-f", example_register().to_str().unwrap()])
        .assert()
        .success();
}

#[test]
fn the_example_register_yields_a_complete_soa() {
    on_each_backend(|db| {
        example_db(db);
        let soa = json_of(db.airisk(&["soa", "--format", "json"]));
        assert_eq!(soa["catalog"], "iso42001-2023");
        assert_eq!(soa["rows"].as_array().unwrap().len(), 38);
        assert_eq!(soa["summary"]["undecided"], 0, "{}", soa["summary"]);
        assert_eq!(soa["summary"]["excluded"], 1);
        assert_eq!(soa["problems"], serde_json::json!([]), "[{}]", db.backend);
        let excluded = soa["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["applicability"] == "excluded")
            .unwrap();
        assert_eq!(excluded["item"], "A.10.4");
        assert!(excluded["reason"]
            .as_str()
            .unwrap()
            .contains("no AI system"));
        db.airisk(&["soa", "--check"]).assert().success();
    });
}

#[test]
fn soa_writes_every_format() {
    let db = sqlite_db();
    example_db(&db);
    let dir = tempfile::tempdir().unwrap();
    for (format, check) in [
        (
            "md",
            "| A.6.2.4 | Verification and validation | applicable |",
        ),
        ("csv", "A.10.4,iso42001-2023:A.10.4,Customers,"),
        ("html", "<th scope=\"row\">A.2.2</th>"),
        ("oscal", "\"component-definition\""),
        ("text", "Problems (0)"),
    ] {
        let path = dir.path().join(format!("soa.{format}"));
        db.airisk(&["soa", "--format", format, "-o", path.to_str().unwrap()])
            .assert()
            .success()
            .stdout("");
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains(check), "{format}: no `{check}` in\n{text}");
    }
    let oscal: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("soa.oscal")).unwrap())
            .unwrap();
    let reqs = &oscal["component-definition"]["components"][0]["control-implementations"][0]
        ["implemented-requirements"];
    assert_eq!(reqs.as_array().unwrap().len(), 38);
    // Other frameworks list their requirement items.
    let nist = json_of(db.airisk(&["soa", "--framework", "nist-ai-rmf", "--format", "json"]));
    assert_eq!(nist["rows"].as_array().unwrap().len(), 72);
    db.airisk(&["soa", "--framework", "iso99999"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("--framework iso99999"));
    db.airisk(&["soa", "--format", "pdf"]).assert().code(2);
}

#[test]
fn test_evidence_drives_effectiveness_and_soa_problems() {
    on_each_backend(|db| {
        example_db(db);
        let dir = tempfile::tempdir().unwrap();
        let report = dir.path().join("drift.json");
        std::fs::write(&report, r#"{"psi": 0.4}"#).unwrap();
        let add = |outcome: &str| {
            db.airisk(&[
                "evidence",
                "add",
                report.to_str().unwrap(),
                "--for",
                "control:CTL-DRIFT-MONITORING",
                "--outcome",
                outcome,
                "--json",
            ])
        };
        let added = json_of(add("pass"));
        assert_eq!(added["outcome"], "pass");
        let shown = json_of(db.airisk(&["control", "show", "CTL-DRIFT-MONITORING", "--json"]));
        assert_eq!(shown["control"]["effectiveness"]["rating"], "effective");
        add("fail").assert().success();
        let shown = json_of(db.airisk(&["control", "show", "CTL-DRIFT-MONITORING", "--json"]));
        assert_eq!(shown["control"]["effectiveness"]["rating"], "ineffective");
        assert_eq!(shown["control"]["effectiveness"]["passed"], 1);
        assert_eq!(shown["control"]["effectiveness"]["failed"], 1);
        db.airisk(&["soa", "--check"])
            .assert()
            .code(3)
            .stdout(predicate::str::contains("ineffective_control"));
        add("maybe")
            .assert()
            .code(2)
            .stderr(predicate::str::contains("expected pass or fail"));
        db.airisk(&["ledger", "verify"]).assert().success();
    });
}

#[test]
fn coverage_reports_percentages_per_framework() {
    let db = sqlite_db();
    example_db(&db);
    let c = json_of(db.airisk(&["coverage", "--framework", "nist-ai-rmf", "--json"]));
    assert_eq!(c["items"], 72);
    let covered = c["covered"].as_u64().unwrap() + c["evidenced"].as_u64().unwrap();
    assert!(covered > 0);
    let percent = c["percent_covered"].as_f64().unwrap();
    assert!(
        (percent - (covered as f64 * 100.0 / 72.0)).abs() < 0.06,
        "{percent}"
    );
    let iso = json_of(db.airisk(&["coverage", "--framework", "iso42001-2023", "--json"]));
    assert_eq!(iso["excluded"], 1);
    db.airisk(&["coverage", "--framework", "nist-ai-rmf", "--md"])
        .assert()
        .success()
        .stdout(predicate::str::contains("| MEASURE-2.7 |"));
    db.airisk(&["coverage", "--framework", "owasp-llm-top10"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("owasp-llm-top10"));
}

#[test]
fn control_list_filters_and_show_explains() {
    let db = sqlite_db();
    example_db(&db);
    let all = json_of(db.airisk(&["control", "list", "--json"]));
    assert_eq!(all["controls"].as_array().unwrap().len(), 17);
    let code = json_of(db.airisk(&["control", "list", "--system", "code-copilot", "--json"]));
    let ids: Vec<&str> = code["controls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        vec![
            "CTL-ACCEPTABLE-USE",
            "CTL-RACI",
            "CTL-REDTEAM",
            "CTL-RESOURCE-REGISTER"
        ]
    );
    db.airisk(&["control", "show", "CTL-CHANNEL-FALLBACK"])
        .assert()
        .success()
        .stdout(predicate::str::contains("(custom control)"));
    db.airisk(&["control", "show", "CTL-404"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("no control with id `CTL-404`"));
}

#[test]
fn apply_refuses_unknown_framework_items_with_file_and_line() {
    on_each_backend(|db| {
        let dir = copy_dir(&example_register());
        edit(
            &dir.path().join("controls.yaml"),
            "      - iso42001-2023:A.6.2.8\n",
            "      - iso42001-2023:A.6.2.99\n",
        );
        edit(
            &dir.path().join("soa.yaml"),
            "  - item: iso42001-2023:A.6.2.4\n",
            "  - item: iso42001-2023:6.1\n",
        );
        let before = db.snapshot();
        db.airisk(&["apply", "-f", dir.path().to_str().unwrap()])
            .assert()
            .code(1)
            .stderr(
                predicate::str::contains("controls.yaml:")
                    .and(predicate::str::contains(
                        "catalog iso42001-2023 has no item `A.6.2.99`",
                    ))
                    .and(predicate::str::contains("soa.yaml:"))
                    .and(predicate::str::contains(
                        "not in the Statement of Applicability",
                    ))
                    .and(predicate::str::contains("nothing was written")),
            );
        assert_eq!(db.snapshot(), before);
    });
}

#[test]
fn an_exclusion_without_a_reason_fails_the_soa_check() {
    let db = sqlite_db();
    let dir = copy_dir(&example_register());
    let soa = dir.path().join("soa.yaml");
    let text = std::fs::read_to_string(&soa).unwrap();
    let start = text.find("    reason: >-\n      Vellora provides").unwrap();
    let end = text[start..].find("    decided_by").unwrap() + start;
    std::fs::write(&soa, format!("{}{}", &text[..start], &text[end..])).unwrap();
    db.airisk(&["apply", "-f", dir.path().to_str().unwrap()])
        .assert()
        .success();
    db.airisk(&["soa", "--check"])
        .assert()
        .code(3)
        .stdout(predicate::str::contains("excluded_without_reason"));
}

#[test]
fn controls_and_soa_decisions_round_trip_through_export() {
    on_each_backend(|db| {
        example_db(db);
        let out = tempfile::tempdir().unwrap();
        db.airisk(&["export", "-o", out.path().to_str().unwrap()])
            .assert()
            .success();
        assert!(out.path().join("controls.yaml").exists());
        assert!(out.path().join("soa.yaml").exists());
        let plan = json_of(db.airisk(&["apply", "-f", out.path().to_str().unwrap(), "--json"]));
        assert_eq!(plan["created"], 0);
        assert_eq!(plan["updated"], 0);
        assert_eq!(plan["unchanged"], 123);
        // An edit to a control is a field-level change in the history.
        edit(
            &out.path().join("controls.yaml"),
            "status: planned",
            "status: implemented",
        );
        db.airisk(&["apply", "-f", out.path().to_str().unwrap()])
            .assert()
            .success()
            .stdout(predicate::str::contains(
                "status: \"planned\" → \"implemented\"",
            ));
        db.airisk(&["history", "control", "CTL-CHANNEL-FALLBACK"])
            .assert()
            .success()
            .stdout(predicate::str::contains("implemented"));
    });
}

#[test]
fn oscal_exports_validate_with_compliance_trestle() {
    let Some(python) = airisk_testkit::python("compliance-trestle") else {
        return;
    };
    let db = sqlite_db();
    example_db(&db);
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    let soa = dir.path().join("soa-iso42001.json");
    db.airisk(&["soa", "--format", "oscal", "-o", soa.to_str().unwrap()])
        .assert()
        .success();
    files.push(soa);
    let nist = dir.path().join("soa-nist.json");
    db.airisk(&[
        "soa",
        "--framework",
        "nist-ai-rmf",
        "--format",
        "oscal",
        "-o",
        nist.to_str().unwrap(),
    ])
    .assert()
    .success();
    files.push(nist);
    let list = json_of(db.airisk(&["catalog", "list", "--json"]));
    for catalog in list["catalogs"].as_array().unwrap() {
        let id = catalog["id"].as_str().unwrap();
        let path = dir.path().join(format!("{id}.json"));
        std::fs::write(
            &path,
            stdout_of(db.airisk(&["catalog", "show", id, "--oscal"])),
        )
        .unwrap();
        files.push(path);
    }
    let output = std::process::Command::new(python)
        .arg(repo_root().join("crates/catalog/scripts/validate_oscal.py"))
        .args(&files)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "trestle rejected an export:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains(&format!("{n}/{n} valid", n = files.len())),
        "{stdout}"
    );
}

#[test]
fn a_ciso_assistant_library_can_be_used_with_with() {
    let db = sqlite_db();
    example_db(&db);
    let library = fixture("ciso-library");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("controls.yaml"),
        "format: airisk/v1\ncontrols:\n  - id: CTL-TF\n    title: Policy\n    description: The policy\n    owner: a.khan\n    status: operating\n    implements: [ciso-tf-1:GOV-1.1]\n",
    )
    .unwrap();
    db.airisk(&["apply", "-f", dir.path().to_str().unwrap()])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("unknown catalog `ciso-tf-1`"));
    db.airisk(&[
        "apply",
        "-f",
        dir.path().to_str().unwrap(),
        "--with",
        library.to_str().unwrap(),
    ])
    .assert()
    .success();
    let c = json_of(db.airisk(&[
        "coverage",
        "--framework",
        "ciso-tf-1",
        "--with",
        library.to_str().unwrap(),
        "--json",
    ]));
    let row = c["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["item"] == "GOV-1.1")
        .unwrap();
    assert_eq!(row["state"], "covered");
}
