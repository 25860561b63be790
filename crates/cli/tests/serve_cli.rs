//! `airisk serve`: it serves the web application and JSON API on the database, on both
//! backends, refuses bad options, and stops cleanly on SIGTERM.

mod common;

use common::{on_each_backend, Db};
use predicates::prelude::*;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// `airisk serve` on `db`, and the URL it announced.
fn start(db: &Db, extra: &[&str]) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_airisk"))
        .env("AIRISK_TODAY", common::TODAY)
        .env("AIRISK_USER", "tester")
        .env("AIRISK_LEDGER_KEY", db.key_path())
        .env_remove("AIRISK_DB")
        .args(["--db", &db.url, "serve", "--listen", "127.0.0.1:0"])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("airisk starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("piped"))
        .read_line(&mut line)
        .expect("an announcement");
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no URL in {line:?}"))
        .trim_end_matches('/')
        .to_string();
    (child, url)
}

/// Status line and body of `GET path`.
fn get(url: &str, path: &str) -> (String, String) {
    let host = url.trim_start_matches("http://");
    let mut s = TcpStream::connect(host).expect("connects");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    s.read_to_string(&mut response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    (
        head.lines().next().unwrap_or("").to_string(),
        body.to_string(),
    )
}

fn stop(mut child: Child) -> std::process::ExitStatus {
    // SAFETY: sending a signal to our own child process.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("airisk serve did not stop within 20 s of SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn serve_answers_and_stops_on_sigterm() {
    on_each_backend(|db| {
        db.airisk(&["init"]).assert().success();
        let (child, url) = start(db, &["--store-connections", "2"]);
        let (status, body) = get(&url, "/api/healthz");
        assert!(status.contains("200"), "{status} {body}");
        // Pages need an account; without a session the server sends the browser to sign in.
        let (status, _) = get(&url, "/risks");
        assert!(status.contains("303") || status.contains("302"), "{status}");
        let exit = stop(child);
        assert!(exit.success(), "{exit:?} ({})", db.backend);
    });
}

#[test]
fn serve_refuses_bad_options() {
    let db = common::sqlite_db();
    for bad in ["0", "65", "many"] {
        db.airisk(&["serve", "--store-connections", bad])
            .assert()
            .code(2)
            .stderr(predicate::str::contains("--store-connections"));
    }
    db.airisk(&["serve", "--listen", "nowhere"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--listen"));
}
