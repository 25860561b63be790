//! `airisk ledger …` and `airisk evidence …` end to end.

mod common;

use common::*;
use predicates::prelude::*;
use serde_json::Value;

/// A database with the fixture register applied and a ledger key.
fn ledger_db(db: &Db) {
    db.airisk(&["init"]).assert().success();
    db.airisk(&["apply", "-f", fixture("minimal").to_str().unwrap()])
        .assert()
        .success();
}

fn pubkey(db: &Db) -> String {
    stdout_of(db.airisk(&["ledger", "pubkey"]))
        .trim()
        .to_string()
}

#[test]
fn init_creates_a_private_key_and_records_the_verifier_key() {
    on_each_backend(|db| {
        db.airisk(&["init"])
            .assert()
            .success()
            .stdout(predicate::str::contains("(created, readable by you only)"))
            .stdout(predicate::str::contains(
                "Verifier key:       airisk.local/ledger/",
            ));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(db.key_path())
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "[{}]", db.backend);
        }
        db.airisk(&["init"])
            .assert()
            .success()
            .stdout(predicate::str::contains("(existing)"));
        let key = pubkey(db);
        assert!(key.starts_with("airisk.local/ledger/"), "{key}");
        airisk_ledger::VerifierKey::parse(&key).expect("a C2SP verifier key");
    });
}

#[test]
fn a_key_readable_by_others_is_refused() {
    let db = sqlite_db();
    db.airisk(&["init"]).assert().success();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(db.key_path(), std::fs::Permissions::from_mode(0o644)).unwrap();
        db.airisk(&["ledger", "checkpoint"])
            .assert()
            .code(1)
            .stderr(predicate::str::contains("can be read by others (mode 644)"));
    }
}

#[test]
fn register_writes_are_in_the_ledger_and_verify() {
    on_each_backend(|db| {
        ledger_db(db);
        db.airisk(&["ledger", "verify"])
            .assert()
            .success()
            .stdout(predicate::str::contains(
                "Ledger verified: 9 entries, 1 checkpoints",
            ));
        let tail = json_of(db.airisk(&["ledger", "tail", "--json", "-n", "2"]));
        assert_eq!(tail["tree_size"], 9);
        assert_eq!(tail["entries"][1]["kind"], "register_change");
        assert_eq!(tail["entries"][1]["actor"], "tester");
        let history = json_of(db.airisk(&["risk", "history", "R-1", "--json"]));
        let index = history["history"][0]["ledger_index"].as_u64().unwrap();
        let proof = json_of(db.airisk(&["ledger", "proof", &index.to_string()]));
        let hashes: Vec<[u8; 32]> = proof["proof"]["hashes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| {
                hex::decode(h.as_str().unwrap())
                    .unwrap()
                    .try_into()
                    .unwrap()
            })
            .collect();
        let leaf: [u8; 32] = hex::decode(proof["leaf_hash"].as_str().unwrap())
            .unwrap()
            .try_into()
            .unwrap();
        let root: [u8; 32] = hex::decode(proof["root"].as_str().unwrap())
            .unwrap()
            .try_into()
            .unwrap();
        let inclusion = airisk_ledger::InclusionProof {
            leaf_index: index,
            tree_size: proof["tree_size"].as_u64().unwrap(),
            hashes,
        };
        inclusion.verify(&leaf, &root).unwrap();
        assert!(proof["checkpoint"]
            .as_str()
            .unwrap()
            .contains("\n— airisk.local/ledger/"));
    });
}

#[test]
fn bundles_verify_offline_and_fail_clearly() {
    on_each_backend(|db| {
        ledger_db(db);
        let dir = tempfile::tempdir().unwrap();
        let bundle = dir.path().join("b.json");
        db.airisk(&["ledger", "bundle", "2", "-o", bundle.to_str().unwrap()])
            .assert()
            .success();
        let key = pubkey(db);
        // No database needed: point --db at a file that does not exist.
        let offline = |args: &[&str]| {
            let mut cmd = assert_cmd::Command::cargo_bin("airisk").unwrap();
            cmd.args(["--db", "/nonexistent/none.db"]).args(args);
            cmd
        };
        offline(&[
            "ledger",
            "verify-bundle",
            bundle.to_str().unwrap(),
            "--key",
            &key,
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains("Bundle verified: entry 2"));

        let stranger = sqlite_db();
        stranger.airisk(&["init"]).assert().success();
        let other = pubkey(&stranger);
        offline(&[
            "ledger",
            "verify-bundle",
            bundle.to_str().unwrap(),
            "--key",
            &other,
        ])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("does not verify"));

        let text = std::fs::read_to_string(&bundle).unwrap();
        let truncated = dir.path().join("truncated.json");
        std::fs::write(&truncated, &text[..text.len() / 2]).unwrap();
        offline(&[
            "ledger",
            "verify-bundle",
            truncated.to_str().unwrap(),
            "--key",
            &key,
        ])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("truncated"));

        let mut json: Value = serde_json::from_str(&text).unwrap();
        let first = json["inclusion_proof"]["hashes"][0]
            .as_str()
            .unwrap()
            .to_string();
        let flipped = format!(
            "{}{}",
            if first.starts_with('0') { "1" } else { "0" },
            &first[1..]
        );
        json["inclusion_proof"]["hashes"][0] = Value::String(flipped);
        let wrong_proof = dir.path().join("wrong-proof.json");
        std::fs::write(&wrong_proof, serde_json::to_vec(&json).unwrap()).unwrap();
        offline(&[
            "ledger",
            "verify-bundle",
            wrong_proof.to_str().unwrap(),
            "--key",
            &key,
        ])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("does not verify"));
    });
}

#[test]
fn a_tampered_sqlite_file_fails_verification_with_the_index() {
    let db = sqlite_db();
    ledger_db(&db);
    let conn = rusqlite::Connection::open(db.sqlite_path().unwrap()).unwrap();
    conn.execute("DELETE FROM ledger_entries WHERE idx = 4", [])
        .unwrap();
    drop(conn);
    db.airisk(&["ledger", "verify"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "ledger verification failed at index 4: missing",
        ));
}

#[test]
fn erasing_a_payload_keeps_the_log_verifiable() {
    on_each_backend(|db| {
        ledger_db(db);
        db.airisk(&["ledger", "erase", "3", "--reason", "retention limit"])
            .assert()
            .success();
        let report = json_of(db.airisk(&["ledger", "verify", "--json"]));
        assert_eq!(report["problems"].as_array().unwrap().len(), 0);
        assert_eq!(report["erased_payloads"], 1);
        db.airisk(&["ledger", "tail"])
            .assert()
            .success()
            .stdout(predicate::str::contains("erased (retention limit)"));
    });
}

#[test]
fn evidence_add_list_show() {
    on_each_backend(|db| {
        ledger_db(db);
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pentest.txt");
        std::fs::write(&file, "findings: none critical\n").unwrap();
        let added = json_of(db.airisk(&[
            "evidence",
            "add",
            file.to_str().unwrap(),
            "--for",
            "risk:R-1",
            "--note",
            "Q3 test",
            "--json",
        ]));
        assert_eq!(added["target"], "risk:R-1");
        assert_eq!(added["file_name"], "pentest.txt");
        assert_eq!(added["ledger_index"], 9);
        let listed = json_of(db.airisk(&["evidence", "list", "--for", "risk:R-1", "--json"]));
        assert_eq!(listed["evidence"].as_array().unwrap().len(), 1);
        let out = dir.path().join("copy.txt");
        db.airisk(&["evidence", "show", "1", "-o", out.to_str().unwrap()])
            .assert()
            .success()
            .stdout(predicate::str::contains("ledger:  entry 9"));
        assert_eq!(std::fs::read(&out).unwrap(), std::fs::read(&file).unwrap());

        db.airisk(&[
            "evidence",
            "add",
            file.to_str().unwrap(),
            "--for",
            "risk:R-404",
        ])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("no risk with id `R-404`"));
        db.airisk(&[
            "evidence",
            "add",
            file.to_str().unwrap(),
            "--for",
            "control:iso42001-2023:A.99",
        ])
        .assert()
        .code(1);
        db.airisk(&[
            "evidence",
            "add",
            file.to_str().unwrap(),
            "--for",
            "control:iso42001-2023:A.6.2.6",
        ])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("not to a framework item"));
        db.airisk(&["evidence", "add", file.to_str().unwrap(), "--for", "R-1"])
            .assert()
            .code(1)
            .stderr(predicate::str::contains("expected KIND:ID"));
        db.airisk(&["ledger", "verify"]).assert().success();
    });
}

#[test]
fn consistency_proofs_link_checkpoints() {
    let db = sqlite_db();
    ledger_db(&db);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("e.txt");
    std::fs::write(&file, "x").unwrap();
    db.airisk(&[
        "evidence",
        "add",
        file.to_str().unwrap(),
        "--for",
        "system:chatbot",
    ])
    .assert()
    .success();
    db.airisk(&["ledger", "checkpoint"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "Signed a checkpoint of 10 entries",
        ));
    db.airisk(&["ledger", "checkpoint"])
        .assert()
        .success()
        .stdout(predicate::str::contains("Nothing new to sign"));
    let proof = json_of(db.airisk(&["ledger", "consistency", "9", "10"]));
    let to_hash = |v: &Value| -> [u8; 32] {
        hex::decode(v.as_str().unwrap())
            .unwrap()
            .try_into()
            .unwrap()
    };
    let consistency = airisk_ledger::ConsistencyProof {
        old_size: 9,
        new_size: 10,
        hashes: proof["proof"]["hashes"]
            .as_array()
            .unwrap()
            .iter()
            .map(to_hash)
            .collect(),
    };
    consistency
        .verify(&to_hash(&proof["old_root"]), &to_hash(&proof["new_root"]))
        .unwrap();
    db.airisk(&["ledger", "consistency", "9", "99"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("no tree of size 99"));
}

#[test]
fn a_process_killed_mid_append_loses_no_acknowledged_entry() {
    use std::io::{BufRead, BufReader};
    let db = sqlite_db();
    let binary = assert_cmd::cargo::cargo_bin("airisk");
    let mut child = std::process::Command::new(binary)
        .args([
            "ledger",
            "bench",
            "--on",
            &db.url,
            "--entries",
            "100000000",
            "--batch",
            "200",
            "--print-acks",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut acknowledged = 0u64;
    for _ in 0..25 {
        let line = lines.next().expect("an ack line").unwrap();
        acknowledged = line.strip_prefix("ack ").unwrap().parse().unwrap();
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let tail = json_of(db.airisk(&["ledger", "tail", "--json", "-n", "1"]));
    let stored = tail["tree_size"].as_u64().unwrap();
    assert!(
        stored >= acknowledged,
        "{stored} stored < {acknowledged} acknowledged"
    );
    assert_eq!(stored % 200, 0, "whole batches or nothing");
    db.airisk(&["ledger", "verify"]).assert().success();
}

#[test]
fn the_checkpoint_policy_can_be_tuned() {
    let db = sqlite_db();
    db.airisk(&["init"]).assert().success();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("e.txt");
    std::fs::write(&file, "x").unwrap();
    db.airisk(&["apply", "-f", fixture("minimal").to_str().unwrap()])
        .assert()
        .success();
    for _ in 0..3 {
        db.airisk(&[
            "evidence",
            "add",
            file.to_str().unwrap(),
            "--for",
            "system:chatbot",
        ])
        .env("AIRISK_CHECKPOINT_ENTRIES", "2")
        .assert()
        .success();
    }
    // 9 entries signed on apply (the first checkpoint), then one more at 11.
    let report = json_of(db.airisk(&["ledger", "verify", "--json"]));
    assert_eq!(report["checkpoints_verified"], 2);
    assert_eq!(report["latest_checkpoint_size"], 11);
    db.airisk(&["ledger", "tail"])
        .env("AIRISK_CHECKPOINT_SECONDS", "soon")
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "AIRISK_CHECKPOINT_SECONDS: `soon` is not a whole number above 0",
        ));
}

#[test]
fn init_with_a_key_of_another_ledger_fails_and_leaves_no_key_behind() {
    let db = sqlite_db();
    db.airisk(&["init"]).assert().success();
    let elsewhere = tempfile::tempdir().unwrap();
    let stray = elsewhere.path().join("new.key");
    db.airisk(&["init"])
        .env("AIRISK_LEDGER_KEY", &stray)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("not by the given key file"));
    assert!(
        !stray.exists(),
        "the key created for the failed init was removed"
    );
    db.airisk(&["ledger", "verify"]).assert().success();
}
