//! The evidence ledger in the database: appends, checkpoints, proofs, erasure, tampering
//! and concurrent appenders, on SQLite and PostgreSQL.

use airisk_ledger::{verify_bundle, EntryKind, SignerKey};
use airisk_model::{plan, Object, ObjectKind, Register};
use airisk_store::ledger::{CheckpointPolicy, NewEntry};
use airisk_store::{testing, Location, Store};
use chrono::{Duration, TimeZone, Utc};
use serde_json::json;
use std::time::Duration as StdDuration;

fn on_each_backend(test: impl Fn(&Location)) {
    let dir = tempfile::tempdir().unwrap();
    test(&Location::Sqlite(dir.path().join("airisk.db")));
    if let Some(pg) = testing::fresh_postgres() {
        test(&pg);
    }
}

fn t0() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, 9, 0, 0).unwrap()
}

fn signer() -> SignerKey {
    SignerKey::from_seed("airisk.test/ledger", [7; 32]).unwrap()
}

/// A store with a signing identity that checkpoints every `every` entries.
fn signed_store(location: &Location, every: u64) -> Store {
    let mut store = Store::open(location).unwrap();
    let key = signer();
    store.init_ledger(&key).unwrap();
    store.set_signer(Some(key));
    store.set_checkpoint_policy(CheckpointPolicy {
        every_entries: every,
        every: StdDuration::from_secs(3600),
    });
    store
}

fn entries(n: usize, tag: &str) -> Vec<NewEntry> {
    (0..n)
        .map(|i| NewEntry {
            kind: EntryKind::GuardDecision,
            actor: "gateway".into(),
            subject: format!("system:{tag}"),
            payload: format!("{{\"n\":{i},\"tag\":\"{tag}\"}}").into_bytes(),
        })
        .collect()
}

#[test]
fn register_changes_are_ledger_entries_in_the_same_transaction() {
    on_each_backend(|location| {
        let mut store = signed_store(location, 1000);
        let person = |name: &str| {
            Object::from_value(ObjectKind::Person, json!({"id": "p1", "name": name})).unwrap()
        };
        let first = plan(&Register::default(), vec![person("One")]);
        store
            .commit(&first.changes, "alice", t0(), "apply")
            .unwrap();
        let second = plan(&store.load_register().unwrap(), vec![person("Uno")]);
        store.commit(&second.changes, "bob", t0(), "apply").unwrap();

        assert_eq!(store.ledger_size().unwrap(), 2);
        let history = store.history(None, None).unwrap();
        assert_eq!(history[0].ledger_index, Some(0));
        assert_eq!(history[1].ledger_index, Some(1));
        let entry = store.ledger_entry(1).unwrap();
        assert_eq!(entry.kind, "register_change");
        assert_eq!(entry.actor, "bob");
        assert_eq!(entry.subject, "person:p1");
        let payload: serde_json::Value =
            serde_json::from_str(&airisk_store::payload_text(&entry).unwrap()).unwrap();
        assert_eq!(payload["changes"][0]["path"], "name");
        assert_eq!(payload["body"]["name"], "Uno");
        assert_eq!(payload["revision"], 2);

        // A failed commit appends nothing.
        let stale = plan(&Register::default(), vec![person("Stale")]);
        assert!(store
            .commit(&stale.changes, "carol", t0(), "apply")
            .is_err());
        assert_eq!(store.ledger_size().unwrap(), 2);
    });
}

#[test]
fn checkpoints_are_cut_automatically_and_proofs_verify() {
    on_each_backend(|location| {
        let mut store = signed_store(location, 10);
        for batch in 0..5 {
            store
                .append(&entries(7, &format!("b{batch}")), t0())
                .unwrap();
        }
        // The first batch is signed at once (no checkpoint existed), then a checkpoint
        // whenever 10 or more entries were unsigned: 7, 21, 35.
        let sizes: Vec<u64> = store.checkpoints().unwrap().iter().map(|c| c.0).collect();
        assert_eq!(sizes, vec![7, 21, 35]);
        assert_eq!(store.checkpoint(t0()).unwrap(), None, "nothing new to sign");
        store.append(&entries(2, "more"), t0()).unwrap();
        assert_eq!(store.checkpoint(t0()).unwrap(), Some(37), "cut on demand");

        let key = signer().verifier();
        let report = store.verify_ledger(&key).unwrap();
        assert!(report.is_ok(), "{:?}", report.problems);
        assert_eq!(
            (
                report.entries,
                report.checkpoints_verified,
                report.unsigned_tail
            ),
            (37, 4, 0)
        );

        for index in [0, 13, 14, 34] {
            let proof = store.inclusion_proof(index, 35).unwrap();
            let entry = store.ledger_entry(index).unwrap();
            let leaf: [u8; 32] = hex::decode(&entry.leaf_hash).unwrap().try_into().unwrap();
            proof.verify(&leaf, &store.root(35).unwrap()).unwrap();
        }
        let consistency = store.consistency_proof(14, 35).unwrap();
        consistency
            .verify(&store.root(14).unwrap(), &store.root(35).unwrap())
            .unwrap();

        let bundle = store.bundle(20, true).unwrap().to_json().unwrap();
        let verified = verify_bundle(&bundle, &key).unwrap();
        assert_eq!(verified.entry.index, 20);
        assert_eq!(
            verified.checkpoint.checkpoint.size, 21,
            "the smallest covering checkpoint"
        );
    });
}

#[test]
fn checkpoints_are_cut_when_the_last_one_is_old() {
    on_each_backend(|location| {
        let mut store = signed_store(location, 1_000_000);
        store.set_checkpoint_policy(CheckpointPolicy {
            every_entries: 1_000_000,
            every: StdDuration::from_secs(60),
        });
        store.append(&entries(3, "a"), t0()).unwrap(); // first checkpoint: none existed
        store
            .append(&entries(3, "b"), t0() + Duration::seconds(30))
            .unwrap();
        store
            .append(&entries(3, "c"), t0() + Duration::seconds(61))
            .unwrap();
        let sizes: Vec<u64> = store.checkpoints().unwrap().iter().map(|c| c.0).collect();
        assert_eq!(sizes, vec![3, 9]);
    });
}

#[test]
fn erased_payloads_keep_every_proof() {
    on_each_backend(|location| {
        let mut store = signed_store(location, 5);
        store.append(&entries(10, "x"), t0()).unwrap();
        store
            .erase_payload(3, "dpo", "GDPR erasure request 2026-117", t0())
            .unwrap();
        assert!(
            store.erase_payload(4, "dpo", " ", t0()).is_err(),
            "a reason is required"
        );
        let report = store.verify_ledger(&signer().verifier()).unwrap();
        assert!(report.is_ok(), "{:?}", report.problems);
        assert_eq!(report.erased_payloads, 1);
        let entry = store.ledger_entry(3).unwrap();
        assert!(
            matches!(entry.payload, airisk_store::ledger::PayloadState::Erased { ref reason, .. } if reason.contains("GDPR"))
        );
        let bundle = store.bundle(3, true).unwrap();
        assert!(bundle.payload.is_none(), "an erased payload is not bundled");
        verify_bundle(&bundle.to_json().unwrap(), &signer().verifier()).unwrap();
    });
}

#[test]
fn a_different_key_cannot_take_over_a_ledger() {
    on_each_backend(|location| {
        let mut store = signed_store(location, 5);
        let other = SignerKey::from_seed("airisk.test/other", [9; 32]).unwrap();
        let err = store.init_ledger(&other).unwrap_err().to_string();
        assert!(err.contains("not by the given key file"), "{err}");
        store.set_signer(Some(other));
        store.append(&entries(1, "a"), t0()).unwrap_err();
    });
}

#[test]
fn evidence_is_content_addressed_and_recorded() {
    on_each_backend(|location| {
        let mut store = signed_store(location, 100);
        let add = |store: &mut Store, target: &str| {
            store
                .add_evidence(
                    airisk_store::evidence::NewEvidence {
                        content: b"pen-test report v1".to_vec(),
                        target: target.into(),
                        file_name: "report.pdf".into(),
                        note: "external test".into(),
                        outcome: Some(airisk_store::evidence::EvidenceOutcome::Pass),
                    },
                    "alice",
                    t0(),
                )
                .unwrap()
                .0
        };
        let first = add(&mut store, "risk:R-1");
        let second = add(&mut store, "treatment:T-1");
        assert_eq!(first.sha256, second.sha256, "same content, same hash");
        assert_ne!(first.ledger_index, second.ledger_index);
        assert_eq!(
            store.evidence(Some("risk:R-1")).unwrap(),
            vec![first.clone()]
        );
        assert_eq!(store.evidence(None).unwrap().len(), 2);
        assert_eq!(
            store.evidence_content(&first.sha256).unwrap().unwrap(),
            b"pen-test report v1"
        );
        let entry = store.ledger_entry(first.ledger_index).unwrap();
        assert_eq!(
            (entry.kind.as_str(), entry.subject.as_str()),
            ("evidence", "risk:R-1")
        );
    });
}

#[test]
fn concurrent_appenders_share_one_consistent_log() {
    let Some(Location::Postgres(url)) = testing::fresh_postgres() else {
        return;
    };
    let location = Location::Postgres(url);
    signed_store(&location, 50); // records the identity
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let location = location.clone();
            std::thread::spawn(move || {
                let mut store = Store::open(&location).unwrap();
                store.set_signer(Some(signer()));
                store.set_checkpoint_policy(CheckpointPolicy {
                    every_entries: 50,
                    every: StdDuration::from_secs(3600),
                });
                let mut firsts = Vec::new();
                for batch in 0..25 {
                    let outcome = store
                        .append(&entries(10, &format!("t{t}b{batch}")), Utc::now())
                        .unwrap();
                    firsts.push(outcome.first_index);
                }
                firsts
            })
        })
        .collect();
    let mut firsts: Vec<u64> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    firsts.sort();
    assert_eq!(
        firsts,
        (0..100).map(|i| i * 10).collect::<Vec<_>>(),
        "batches never interleave or collide"
    );
    let mut store = Store::open(&location).unwrap();
    assert_eq!(store.ledger_size().unwrap(), 1000);
    let report = store.verify_ledger(&signer().verifier()).unwrap();
    assert!(report.is_ok(), "{:?}", report.problems);
    assert!(report.checkpoints_verified >= 10);
}

mod tampering {
    //! Edits the SQLite file behind the store's back; `verify_ledger` must name the
    //! first bad index and what is wrong.
    use super::*;
    use rusqlite::{params, Connection};

    fn tampered(edit: impl Fn(&Connection)) -> airisk_store::LedgerVerification {
        let dir = tempfile::tempdir().unwrap();
        let location = Location::Sqlite(dir.path().join("airisk.db"));
        let mut store = signed_store(&location, 8);
        for batch in 0..5 {
            store
                .append(&entries(4, &format!("b{batch}")), t0())
                .unwrap();
        }
        let sizes: Vec<u64> = store.checkpoints().unwrap().iter().map(|c| c.0).collect();
        assert_eq!(sizes, vec![4, 12, 20]);
        assert!(store.verify_ledger(&signer().verifier()).unwrap().is_ok());
        drop(store);
        let Location::Sqlite(path) = &location else {
            unreachable!()
        };
        edit(&Connection::open(path).unwrap());
        Store::open(&location)
            .unwrap()
            .verify_ledger(&signer().verifier())
            .unwrap()
    }

    fn first(report: &airisk_store::LedgerVerification) -> (u64, &str) {
        let p = report.problems.first().expect("verification must fail");
        (p.index, p.diagnosis.as_str())
    }

    #[test]
    fn one_byte_of_a_payload_hash() {
        let report = tampered(|db| {
            let leaf: Vec<u8> = db
                .query_row("SELECT leaf FROM ledger_entries WHERE idx = 5", [], |r| {
                    r.get(0)
                })
                .unwrap();
            let mut leaf = leaf;
            let last = leaf.len() - 1; // the payload hash ends the encoding
            leaf[last] ^= 1;
            db.execute(
                "UPDATE ledger_entries SET leaf = ?1 WHERE idx = 5",
                params![leaf],
            )
            .unwrap();
        });
        assert_eq!(first(&report), (5, "modified"));
    }

    #[test]
    fn a_payload() {
        let report = tampered(|db| {
            db.execute(
                "UPDATE ledger_payloads SET payload = X'00' WHERE idx = 7",
                [],
            )
            .unwrap();
        });
        assert_eq!(first(&report), (7, "payload modified"));
    }

    #[test]
    fn a_deleted_row() {
        let report = tampered(|db| {
            db.execute("DELETE FROM ledger_entries WHERE idx = 9", [])
                .unwrap();
        });
        assert_eq!(first(&report), (9, "missing"));
    }

    #[test]
    fn two_swapped_rows() {
        let report = tampered(|db| {
            db.execute_batch(
                "UPDATE ledger_entries SET idx = -1 WHERE idx = 11;
                 UPDATE ledger_entries SET idx = 11 WHERE idx = 12;
                 UPDATE ledger_entries SET idx = 12 WHERE idx = -1;",
            )
            .unwrap();
        });
        assert_eq!(first(&report), (11, "reordered"));
    }

    #[test]
    fn a_truncated_tail() {
        let report = tampered(|db| {
            db.execute("DELETE FROM ledger_entries WHERE idx >= 17", [])
                .unwrap();
        });
        assert_eq!(first(&report), (17, "truncated"));
    }

    #[test]
    fn a_checkpoint_signature() {
        let report = tampered(|db| {
            let note: String = db
                .query_row(
                    "SELECT note FROM ledger_checkpoints WHERE size = 12",
                    [],
                    |r| r.get(0),
                )
                .unwrap();
            // Flip one base64 character of the signature line.
            let at = note.rfind(' ').unwrap() + 5;
            let mut bytes = note.into_bytes();
            bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
            db.execute(
                "UPDATE ledger_checkpoints SET note = ?1 WHERE size = 12",
                params![String::from_utf8(bytes).unwrap()],
            )
            .unwrap();
        });
        assert_eq!(first(&report), (12, "bad signature"));
    }
}

#[test]
fn group_commit_coalesces_concurrent_single_appends() {
    on_each_backend(|location| {
        let committer =
            airisk_store::group::GroupCommitter::start(signed_store(location, 100), 512);
        let threads: Vec<_> = (0..8)
            .map(|t| {
                let appender = committer.appender();
                std::thread::spawn(move || {
                    (0..250)
                        .map(|i| {
                            appender
                                .append(entries(1, &format!("t{t}-{i}")).remove(0))
                                .unwrap()
                        })
                        .collect::<Vec<u64>>()
                })
            })
            .collect();
        let mut indices: Vec<u64> = threads
            .into_iter()
            .flat_map(|t| t.join().unwrap())
            .collect();
        let stats = committer.finish();
        indices.sort();
        assert_eq!(
            indices,
            (0..2000).collect::<Vec<_>>(),
            "every append acknowledged once"
        );
        assert_eq!(stats.entries, 2000);
        assert!(stats.batches < 2000, "appends were grouped: {stats:?}");
        let mut store = Store::open(location).unwrap();
        let report = store.verify_ledger(&signer().verifier()).unwrap();
        assert!(report.is_ok(), "{:?}", report.problems);
        assert_eq!(report.entries, 2000);
    });
}
