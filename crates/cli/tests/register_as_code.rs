//! `airisk apply` and `airisk export` end to end, on SQLite and PostgreSQL.

mod common;

use common::*;
use predicates::prelude::*;

fn read_dir_files(dir: &std::path::Path) -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read_to_string(&p).unwrap(),
            )
        })
        .collect();
    files.sort();
    files
}

#[test]
fn apply_export_apply_is_a_fixed_point() {
    on_each_backend(|db| {
        let example = example_register();
        db.airisk(&["apply", "-f", example.to_str().unwrap()])
            .assert()
            .success()
            .stdout(predicate::str::contains("Applied:"));
        db.airisk(&["apply", "-f", example.to_str().unwrap()])
            .assert()
            .success()
            .stdout(predicate::str::contains("No changes"));

        let first = tempfile::tempdir().unwrap();
        db.airisk(&["export", "-o", first.path().to_str().unwrap()])
            .assert()
            .success();
        // Applying the export to the database it came from changes nothing …
        let before = db.snapshot();
        db.airisk(&["apply", "-f", first.path().to_str().unwrap()])
            .assert()
            .success()
            .stdout(predicate::str::contains("No changes"));
        assert_eq!(
            db.snapshot(),
            before,
            "[{}] a no-op apply must not write",
            db.backend
        );

        // … and into a fresh database it yields the same register and the same export.
        let fresh = sqlite_db();
        fresh
            .airisk(&["apply", "-f", first.path().to_str().unwrap()])
            .assert()
            .success();
        assert_eq!(
            fresh.snapshot().0,
            before.0,
            "[{}] same register after the round trip",
            db.backend
        );
        let second = tempfile::tempdir().unwrap();
        fresh
            .airisk(&["export", "-o", second.path().to_str().unwrap()])
            .assert()
            .success();
        assert_eq!(read_dir_files(first.path()), read_dir_files(second.path()));
    });
}

#[test]
fn dry_run_shows_field_diffs_and_writes_nothing() {
    on_each_backend(|db| {
        let dir = copy_dir(&fixture("minimal"));
        db.airisk(&["apply", "-f", dir.path().to_str().unwrap()])
            .assert()
            .success();
        let before = db.snapshot();
        edit(
            &dir.path().join("risks.yaml"),
            "title: Prompt injection",
            "title: Prompt injection via chat",
        );
        edit(
            &dir.path().join("risks.yaml"),
            "      likelihood: 2\n      consequence: 2",
            "      likelihood: 1\n      consequence: 2",
        );
        db.airisk(&["apply", "--dry-run", "-f", dir.path().to_str().unwrap()])
            .assert()
            .success()
            .stdout(predicate::str::contains("update risk R-1"))
            .stdout(predicate::str::contains(
                "title: \"Prompt injection\" → \"Prompt injection via chat\"",
            ))
            .stdout(predicate::str::contains("residual.likelihood: 2 → 1"))
            .stdout(predicate::str::contains(
                "Dry run: would create 0, update 1",
            ));
        assert_eq!(
            db.snapshot(),
            before,
            "[{}] dry run wrote something",
            db.backend
        );

        let plan = json_of(db.airisk(&[
            "apply",
            "--dry-run",
            "--json",
            "-f",
            dir.path().to_str().unwrap(),
        ]));
        assert_eq!(plan["updated"], 1);
        assert_eq!(plan["changeset"], serde_json::Value::Null);
        let update = plan["changes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["action"] == "update")
            .unwrap();
        assert_eq!(update["id"], "R-1");
        assert_eq!(update["fields"].as_array().unwrap().len(), 2);
    });
}

#[test]
fn every_change_keeps_field_level_history_with_the_actor() {
    on_each_backend(|db| {
        let dir = copy_dir(&fixture("minimal"));
        db.airisk(&["apply", "-f", dir.path().to_str().unwrap()])
            .assert()
            .success();
        edit(
            &dir.path().join("risks.yaml"),
            "    owner: ana\n    status: treated",
            "    owner: ben\n    status: treated",
        );
        db.airisk(&["--as", "carol", "apply", "-f", dir.path().to_str().unwrap()])
            .assert()
            .success()
            .stdout(predicate::str::contains("1 updated"));
        let history = json_of(db.airisk(&["risk", "history", "R-1", "--json"]));
        let entries = history["history"].as_array().unwrap();
        assert_eq!(entries.len(), 2, "[{}] create + update", db.backend);
        assert_eq!(entries[0]["action"], "create");
        assert_eq!(entries[0]["actor"], "tester");
        assert_eq!(entries[1]["action"], "update");
        assert_eq!(entries[1]["actor"], "carol");
        assert_eq!(entries[1]["changes"][0]["path"], "owner");
        assert_eq!(entries[1]["changes"][0]["before"], "ana");
        assert_eq!(entries[1]["changes"][0]["after"], "ben");
        db.airisk(&["risk", "history", "R-1"])
            .assert()
            .success()
            .stdout(predicate::str::contains("carol update risk R-1"))
            .stdout(predicate::str::contains("owner: \"ana\" → \"ben\""));
        let all = json_of(db.airisk(&["history", "--json"]));
        assert_eq!(all["history"].as_array().unwrap().len(), 10);
        let people = json_of(db.airisk(&["history", "person", "--json"]));
        assert_eq!(people["history"].as_array().unwrap().len(), 2);
    });
}
