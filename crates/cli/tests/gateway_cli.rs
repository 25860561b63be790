//! End-to-end tests of `airisk gateway`: config checking, and a real run whose exchange lands
//! in the database's signed ledger.

use assert_cmd::Command;
use predicates::prelude::*;
use std::io::{Read, Write};
use std::time::{Duration, Instant};

fn airisk() -> Command {
    let mut cmd = Command::cargo_bin("airisk").expect("binary built");
    cmd.env_remove("AIRISK_DB").env("NO_COLOR", "1");
    cmd
}

fn example() -> String {
    format!("{}/../../examples/gateway.yaml", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn check_accepts_the_example_and_names_bad_fields() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("a.db");
    airisk()
        .args([
            "--db",
            db.to_str().unwrap(),
            "gateway",
            "--check",
            "--config",
            &example(),
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains("3 route(s), policies compile"));
    let bad = dir.path().join("bad.yaml");
    std::fs::write(
        &bad,
        "routes:\n  - name: a\n    upstream: http://127.0.0.1:1/v1\n    policy: default\n    fail: { upstream: sometimes }\n",
    )
    .unwrap();
    airisk()
        .args([
            "--db",
            db.to_str().unwrap(),
            "gateway",
            "--check",
            "--config",
            bad.to_str().unwrap(),
        ])
        .assert()
        .failure()
        .stderr(
            predicate::str::contains("bad.yaml")
                .and(predicate::str::contains("routes[0].fail.upstream")),
        );
    airisk()
        .args(["--db", db.to_str().unwrap(), "gateway", "--check"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("--upstream"));
    airisk()
        .args([
            "--db",
            db.to_str().unwrap(),
            "gateway",
            "--check",
            "--workers",
            "0",
        ])
        .args(["--config", &example()])
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "--workers must be between 1 and 1024",
        ));
}

/// Sends one HTTP/1.1 request and returns the status line and body.
fn http(addr: &str, body: &str) -> std::io::Result<(String, String)> {
    let mut s = std::net::TcpStream::connect(addr)?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(
        s,
        "POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )?;
    let mut out = String::new();
    s.read_to_string(&mut out)?;
    let status = out.lines().next().unwrap_or("").to_string();
    let body = out.split("\r\n\r\n").nth(1).unwrap_or("").to_string();
    Ok((status, body))
}

#[cfg(unix)]
#[test]
fn a_run_logs_to_the_signed_ledger_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("g.db");
    let db = db.to_str().unwrap();
    airisk().args(["--db", db, "init"]).assert().success();
    // A port nobody listens on: the upstream is down, so the answer is a 502.
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let exe = env!("CARGO_BIN_EXE_airisk");
    let mut child = std::process::Command::new(exe)
        .args([
            "--db",
            db,
            "gateway",
            "--listen",
            &port.to_string(),
            "--system",
            "SYS-9",
            "--workers",
            "3",
        ])
        .args([
            "--upstream",
            &format!("http://{dead}/v1"),
            "--policy",
            "default",
        ])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let (status, body) = loop {
        match http(
            &port.to_string(),
            r#"{"model":"m","messages":[{"role":"user","content":"hi"}]}"#,
        ) {
            Ok(r) => break r,
            Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(50)),
            Err(e) => {
                let _ = child.kill();
                panic!("gateway did not start: {e}");
            }
        }
    };
    assert!(status.contains("502"), "{status} {body}");
    assert!(body.contains("upstream_unavailable"), "{body}");
    // SAFETY: sending SIGTERM to the child we started.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGTERM);
    }
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("3 workers"), "{stderr}");
    assert!(stderr.contains("shutting down"), "{stderr}");
    let tail = airisk()
        .args(["--db", db, "ledger", "tail", "--json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&tail).unwrap();
    let entries = v["entries"].as_array().unwrap();
    assert!(
        entries
            .iter()
            .any(|e| e["kind"] == "guard_decision" && e["subject"] == "system:SYS-9"),
        "{v}"
    );
    airisk()
        .args(["--db", db, "ledger", "verify"])
        .assert()
        .success();
}
