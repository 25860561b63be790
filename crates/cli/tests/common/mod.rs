//! Helpers for end-to-end tests of the `airisk` binary on both databases.
#![allow(dead_code)]

use airisk_model::Register;
use airisk_store::{testing, HistoryEntry, Location, Store};
use assert_cmd::Command;
use std::path::{Path, PathBuf};

pub const TODAY: &str = "2026-11-22";

/// A fresh database for one test: a SQLite file or a PostgreSQL database.
pub struct Db {
    pub url: String,
    pub backend: &'static str,
    /// Holds the SQLite file (if any) and the ledger key.
    dir: tempfile::TempDir,
}

impl Db {
    pub fn location(&self) -> Location {
        Location::parse(&self.url)
    }

    /// Runs `airisk --db … ARGS` with a fixed date and actor.
    pub fn airisk(&self, args: &[&str]) -> Command {
        let mut cmd = Command::cargo_bin("airisk").expect("binary built");
        cmd.env("AIRISK_TODAY", TODAY)
            .env("AIRISK_USER", "tester")
            .env("AIRISK_LEDGER_KEY", self.key_path())
            .env("NO_COLOR", "1")
            .env_remove("AIRISK_DB")
            .arg("--db")
            .arg(&self.url)
            .args(args);
        cmd
    }

    /// The ledger signing key file this database's commands use.
    pub fn key_path(&self) -> PathBuf {
        self.dir.path().join("ledger.key")
    }

    /// The SQLite file, for tests that tamper with it.
    pub fn sqlite_path(&self) -> Option<PathBuf> {
        match self.location() {
            Location::Sqlite(path) => Some(path),
            Location::Postgres(_) => None,
        }
    }

    /// Everything stored: the register and the full history.
    pub fn snapshot(&self) -> (Register, Vec<HistoryEntry>) {
        let mut store = Store::open(&self.location()).expect("open");
        (
            store.load_register().expect("load"),
            store.history(None, None).expect("history"),
        )
    }
}

/// Runs `test` once on SQLite and once on PostgreSQL (when a test server is configured).
pub fn on_each_backend(test: impl Fn(&Db)) {
    test(&sqlite_db());
    if let Some(Location::Postgres(url)) = testing::fresh_postgres() {
        test(&Db {
            url,
            backend: "postgres",
            dir: tempfile::tempdir().unwrap(),
        });
    }
}

pub fn sqlite_db() -> Db {
    let dir = tempfile::tempdir().unwrap();
    Db {
        url: dir.path().join("airisk.db").display().to_string(),
        backend: "sqlite",
        dir,
    }
}

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub fn example_register() -> PathBuf {
    repo_root().join("examples/register")
}

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// Copies a folder of register files into a temporary folder the test may edit.
pub fn copy_dir(from: &Path) -> tempfile::TempDir {
    let to = tempfile::tempdir().unwrap();
    copy_into(from, to.path());
    to
}

fn copy_into(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_into(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// Replaces exactly one occurrence of `from` in a file (the test fails if it is not there once).
pub fn edit(file: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(file).unwrap();
    assert_eq!(
        text.matches(from).count(),
        1,
        "`{from}` must occur once in {}",
        file.display()
    );
    std::fs::write(file, text.replacen(from, to, 1)).unwrap();
}

pub fn stdout_of(mut cmd: Command) -> String {
    let output = cmd.output().unwrap();
    assert!(
        output.status.success(),
        "command failed: {}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

pub fn json_of(cmd: Command) -> serde_json::Value {
    serde_json::from_str(&stdout_of(cmd)).expect("valid JSON on stdout")
}
