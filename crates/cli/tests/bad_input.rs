//! Bad register files are rejected with a message naming the file, line, object and
//! field, a non-zero exit, and nothing written — on SQLite and PostgreSQL.

mod common;

use common::*;
use std::path::Path;

/// The 1-based line of the first line containing `needle`.
fn line_of(file: &Path, needle: &str) -> usize {
    let text = std::fs::read_to_string(file).unwrap();
    text.lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("`{needle}` not in {}", file.display()))
        + 1
}

/// Applies the fixture, breaks it with `break_it`, applies again and checks the failure.
fn rejects(break_it: impl Fn(&Path) -> Vec<String>) {
    on_each_backend(|db| {
        let dir = copy_dir(&fixture("minimal"));
        db.airisk(&["apply", "-f", dir.path().to_str().unwrap()])
            .assert()
            .success();
        let before = db.snapshot();
        let expected = break_it(dir.path());
        let output = db
            .airisk(&["apply", "-f", dir.path().to_str().unwrap()])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(
            output.status.code(),
            Some(1),
            "[{}] exit status; stderr:\n{stderr}",
            db.backend
        );
        for part in &expected {
            assert!(
                stderr.contains(part.as_str()),
                "[{}] expected `{part}` in:\n{stderr}",
                db.backend
            );
        }
        assert!(stderr.contains("nothing was written"), "{stderr}");
        assert!(
            output.stdout.is_empty(),
            "no plan is printed for invalid input"
        );
        assert_eq!(
            db.snapshot(),
            before,
            "[{}] the database changed",
            db.backend
        );
    });
}

#[test]
fn malformed_yaml() {
    rejects(|dir| {
        let file = dir.join("risks.yaml");
        edit(
            &file,
            "    title: Prompt injection\n",
            "    title: [Prompt injection\n",
        );
        vec![
            format!("risks.yaml:{}", line_of(&file, "[Prompt injection") + 1),
            "invalid YAML".into(),
        ]
    });
}

#[test]
fn unknown_system_reference() {
    rejects(|dir| {
        let file = dir.join("risks.yaml");
        edit(
            &file,
            "category: operational\n    systems: [chatbot]",
            "category: operational\n    systems: [chatbot, billing]",
        );
        vec![format!(
            "risks.yaml:{}: risk R-2, field systems[1]: unknown system `billing` (known: chatbot)",
            line_of(&file, "billing")
        )]
    });
}

#[test]
fn unknown_owner_reference() {
    rejects(|dir| {
        let file = dir.join("risks.yaml");
        edit(
            &file,
            "    owner: ben\n    status: accepted",
            "    owner: zed\n    status: accepted",
        );
        vec![format!(
            "risks.yaml:{}: risk R-2, field owner: unknown person `zed` (known: ana, ben)",
            line_of(&file, "owner: zed")
        )]
    });
}

#[test]
fn unknown_criteria_set() {
    rejects(|dir| {
        let file = dir.join("register.yaml");
        edit(
            &file,
            "  criteria: three-by-three",
            "  criteria: five-by-five",
        );
        vec![format!(
            "register.yaml:{}: settings register, field criteria: unknown criteria set `five-by-five` (known: three-by-three)",
            line_of(&file, "five-by-five")
        )]
    });
}

#[test]
fn level_outside_its_scale() {
    rejects(|dir| {
        let file = dir.join("risks.yaml");
        edit(
            &file,
            "      likelihood: 3\n      consequence: 2\n      rationale: Public endpoint",
            "      likelihood: 7\n      consequence: 2\n      rationale: Public endpoint",
        );
        vec![format!(
            "risks.yaml:{}: risk R-1, field inherent.likelihood: 7 is outside the likelihood scale of criteria set three-by-three (1..3)",
            line_of(&file, "likelihood: 7")
        )]
    });
}

#[test]
fn duplicate_ids_across_files() {
    rejects(|dir| {
        let original = std::fs::read_to_string(dir.join("risks.yaml")).unwrap();
        std::fs::write(dir.join("zz-more-risks.yaml"), &original).unwrap();
        vec![
            format!("zz-more-risks.yaml:{}: risk R-1, field id: duplicate id: R-1 is already defined at", line_of(&dir.join("risks.yaml"), "id: R-1")),
            format!("risks.yaml:{}", line_of(&dir.join("risks.yaml"), "id: R-1")),
            "risk R-2, field id: duplicate id: R-2".into(),
        ]
    });
}

#[test]
fn acceptance_above_the_threshold_without_an_approver() {
    rejects(|dir| {
        let file = dir.join("treatments.yaml");
        let object_line = line_of(&file, "id: T-2");
        edit(&file, "    approved_by: ana\n", "");
        vec![format!(
            "treatments.yaml:{object_line}: treatment T-2, field approved_by: accepting risk R-2 at level high is above the acceptance threshold medium of criteria set three-by-three: name the approver (approved_by)"
        )]
    });
}

#[test]
fn misspelt_field() {
    rejects(|dir| {
        let file = dir.join("treatments.yaml");
        edit(
            &file,
            "    target_date: 2026-12-31",
            "    target_dat: 2026-12-31",
        );
        vec![format!(
            "treatments.yaml:{}: treatment T-1, field target_dat: unknown field `target_dat`",
            line_of(&file, "target_dat")
        )]
    });
}

#[test]
fn wrong_type_and_bad_date() {
    rejects(|dir| {
        let risks = dir.join("risks.yaml");
        edit(
            &risks,
            "      likelihood: 3\n      consequence: 3",
            "      likelihood: high\n      consequence: 3",
        );
        let treatments = dir.join("treatments.yaml");
        edit(
            &treatments,
            "target_date: 2026-12-31",
            "target_date: 2026-13-45",
        );
        vec![
            format!("risks.yaml:{}: risk R-2, field inherent.likelihood: invalid type: string \"high\"", line_of(&risks, "likelihood: high")),
            format!("treatments.yaml:{}: treatment T-1, field target_date: input is out of range: `target_date` must be a real date written YYYY-MM-DD", line_of(&treatments, "2026-13-45")),
        ]
    });
}

#[test]
fn unknown_top_level_key() {
    rejects(|dir| {
        std::fs::write(
            dir.join("extra.yaml"),
            "format: airisk/v1\nrisk:\n  - id: R-9\n",
        )
        .unwrap();
        vec!["extra.yaml:2: unknown top-level key `risk` (expected format, settings, people, criteria, systems, risks, treatments, screening, controls, soa)".into()]
    });
}

#[test]
fn missing_path() {
    let db = sqlite_db();
    db.airisk(&["apply", "-f", "/nonexistent/register"])
        .assert()
        .code(1)
        .stderr(predicates::str::contains(
            "/nonexistent/register: cannot open",
        ));
}
