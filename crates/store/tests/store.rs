//! Storage behaviour, run against SQLite and (when a test server is configured) PostgreSQL.

use airisk_model::{plan, Action, Object, ObjectKind, Register};
use airisk_store::{testing, Location, Store, StoreError};
use chrono::{TimeZone, Utc};
use serde_json::json;

/// Runs `test` on a fresh SQLite file and on a fresh PostgreSQL database.
fn on_each_backend(test: impl Fn(&Location)) {
    let dir = tempfile::tempdir().unwrap();
    test(&Location::Sqlite(dir.path().join("airisk.db")));
    if let Some(pg) = testing::fresh_postgres() {
        test(&pg);
    }
}

fn person(id: &str, name: &str) -> Object {
    Object::from_value(ObjectKind::Person, json!({"id": id, "name": name})).unwrap()
}

fn at(hour: u32) -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, hour, 0, 0).unwrap()
}

#[test]
fn a_new_database_is_migrated_and_empty() {
    on_each_backend(|location| {
        let mut store = Store::open(location).unwrap();
        assert_eq!(store.schema_version(), 4);
        assert!(store.load_register().unwrap().is_empty());
        drop(store);
        // Opening again applies nothing twice.
        let mut again = Store::open(location).unwrap();
        assert_eq!(again.schema_version(), 4);
        assert!(again.history(None, None).unwrap().is_empty());
    });
}

#[test]
fn commits_objects_with_field_level_history() {
    on_each_backend(|location| {
        let mut store = Store::open(location).unwrap();
        let first = plan(&Register::default(), vec![person("a.khan", "Aisha Khan")]);
        let summary = store
            .commit(&first.changes, "alice", at(9), "apply")
            .unwrap();
        assert_eq!((summary.created, summary.updated), (1, 0));

        let current = store.load_register().unwrap();
        assert_eq!(current.people["a.khan"].name, "Aisha Khan");

        let second = plan(&current, vec![person("a.khan", "Aisha Khan-Ortiz")]);
        assert_eq!(second.changes[0].action, Action::Update);
        let summary = store
            .commit(&second.changes, "bob", at(10), "apply")
            .unwrap();
        assert_eq!((summary.created, summary.updated), (0, 1));

        let history = store
            .history(Some(ObjectKind::Person), Some("a.khan"))
            .unwrap();
        assert_eq!(history.len(), 2);
        assert_eq!(history[0].action, "create");
        assert_eq!(history[0].actor, "alice");
        assert_eq!(history[0].at, "2026-11-22T09:00:00.000Z");
        assert_eq!(history[1].action, "update");
        assert_eq!(history[1].actor, "bob");
        assert_eq!(history[1].revision, 2);
        assert_eq!(history[1].changes.len(), 1);
        assert_eq!(history[1].changes[0].path, "name");
        assert_eq!(history[1].changes[0].before, Some(json!("Aisha Khan")));
        assert_eq!(history[1].changes[0].after, Some(json!("Aisha Khan-Ortiz")));
        assert_ne!(history[0].changeset, history[1].changeset);
    });
}

#[test]
fn an_unchanged_plan_writes_nothing() {
    on_each_backend(|location| {
        let mut store = Store::open(location).unwrap();
        let first = plan(&Register::default(), vec![person("p1", "P One")]);
        store
            .commit(&first.changes, "alice", at(9), "apply")
            .unwrap();
        let current = store.load_register().unwrap();
        let again = plan(&current, vec![person("p1", "P One")]);
        assert!(again.is_noop());
        let summary = store
            .commit(&again.changes, "alice", at(10), "apply")
            .unwrap();
        assert_eq!(
            (summary.created, summary.updated, summary.changeset),
            (0, 0, 0)
        );
        assert_eq!(store.history(None, None).unwrap().len(), 1);
    });
}

#[test]
fn a_stale_plan_conflicts_and_leaves_the_database_as_it_was() {
    on_each_backend(|location| {
        let mut store = Store::open(location).unwrap();
        let base = plan(
            &Register::default(),
            vec![person("p1", "One"), person("p2", "Two")],
        );
        store
            .commit(&base.changes, "alice", at(9), "apply")
            .unwrap();
        let read_by_bob = store.load_register().unwrap();

        // Alice changes p2 after Bob read the register.
        let alice = plan(&read_by_bob, vec![person("p2", "Two (Alice)")]);
        store
            .commit(&alice.changes, "alice", at(10), "apply")
            .unwrap();

        // Bob's plan creates p3, updates p1, and updates p2 from a stale read.
        let bob = plan(
            &read_by_bob,
            vec![
                person("p3", "Three"),
                person("p1", "One (Bob)"),
                person("p2", "Two (Bob)"),
            ],
        );
        let before = store.load_register().unwrap();
        let history_before = store.history(None, None).unwrap();
        let err = store
            .commit(&bob.changes, "bob", at(11), "apply")
            .unwrap_err();
        assert!(
            matches!(&err, StoreError::Conflict { id, .. } if id == "p2"),
            "{err}"
        );
        assert_eq!(
            store.load_register().unwrap(),
            before,
            "nothing of Bob's batch was written"
        );
        assert_eq!(store.history(None, None).unwrap(), history_before);

        // Creating an object someone else created meanwhile is a conflict too.
        let carol = plan(&read_by_bob, vec![person("p3", "Three (Carol)")]);
        let dave = plan(&read_by_bob, vec![person("p3", "Three (Dave)")]);
        store
            .commit(&carol.changes, "carol", at(12), "apply")
            .unwrap();
        let err = store
            .commit(&dave.changes, "dave", at(12), "apply")
            .unwrap_err();
        assert!(matches!(err, StoreError::Conflict { .. }));
        assert_eq!(
            store.load_register().unwrap().people["p3"].name,
            "Three (Carol)"
        );
    });
}

#[test]
fn sqlite_refuses_a_missing_folder_with_a_clear_error() {
    let err = Store::open(&Location::Sqlite("/nonexistent/dir/airisk.db".into()))
        .err()
        .expect("must fail");
    let text = err.to_string();
    assert!(text.contains("/nonexistent/dir"), "{text}");
    assert!(text.contains("does not exist"), "{text}");
}

#[test]
fn postgres_connection_errors_hide_the_password() {
    let err = Store::open(&Location::Postgres(
        "postgres://user:topsecret@127.0.0.1:1/db?connect_timeout=2".into(),
    ))
    .err()
    .expect("nothing listens on port 1");
    let text = err.to_string();
    assert!(!text.contains("topsecret"), "{text}");
    assert!(text.contains("user:***@127.0.0.1:1"), "{text}");
}

#[test]
fn accounts_and_credentials_are_stored_on_both_backends() {
    use airisk_store::accounts::{Account, Credential, CredentialKind};
    on_each_backend(|location| {
        let mut store = Store::open(location).unwrap();
        assert_eq!(store.revision().unwrap(), 0);
        let mut ana = Account {
            username: "ana".into(),
            display_name: "Ana".into(),
            role: "risk_manager".into(),
            person_id: Some("a.khan".into()),
            password_hash: Some("$argon2id$v=19$...".into()),
            disabled: false,
            created_at: "2026-11-22T10:00:00Z".into(),
        };
        store.put_account(&ana).unwrap();
        assert_eq!(store.account("ana").unwrap(), Some(ana.clone()));
        ana.role = "auditor".into();
        ana.disabled = true;
        store.put_account(&ana).unwrap();
        assert_eq!(store.account("ana").unwrap().unwrap().role, "auditor");
        assert!(store.account("ana").unwrap().unwrap().disabled);
        assert_eq!(store.accounts().unwrap().len(), 1);
        assert_eq!(store.account("nobody").unwrap(), None);

        let session = Credential {
            secret_sha256: "ab".repeat(32),
            kind: CredentialKind::Session,
            username: "ana".into(),
            name: String::new(),
            csrf: "csrf-token".into(),
            created_at: "2026-11-22T10:00:00Z".into(),
            expires_at: Some("2026-11-22T18:00:00Z".into()),
        };
        let token = Credential {
            secret_sha256: "cd".repeat(32),
            kind: CredentialKind::Token,
            name: "ci".into(),
            expires_at: None,
            csrf: String::new(),
            ..session.clone()
        };
        store.put_credential(&session).unwrap();
        store.put_credential(&token).unwrap();
        assert_eq!(
            store.credential(&"ab".repeat(32)).unwrap(),
            Some(session.clone())
        );
        assert_eq!(store.credentials_of("ana").unwrap().len(), 2);
        assert!(store.delete_credential(&"ab".repeat(32)).unwrap());
        assert!(!store.delete_credential(&"ab".repeat(32)).unwrap());
        assert_eq!(store.credential(&"ab".repeat(32)).unwrap(), None);
        assert_eq!(
            store.credential(&"cd".repeat(32)).unwrap().unwrap().kind,
            CredentialKind::Token
        );

        // The revision moves with every register change.
        let first = plan(&Register::default(), vec![person("a.khan", "Aisha Khan")]);
        store.commit(&first.changes, "ana", at(9), "apply").unwrap();
        let after = store.revision().unwrap();
        assert!(after > 0);
    });
}
