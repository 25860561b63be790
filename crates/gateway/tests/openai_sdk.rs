//! The official OpenAI Python SDK against the gateway (plain chat, streaming, tool calls,
//! errors). Needs a Python with `openai` installed, named by `AIRISK_TEST_PYTHON`; skipped
//! with a notice when it is unset, unless `AIRISK_REQUIRE_PYTHON=1` (as in scripts/test).

mod common;

use common::{Harness, BASIC};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openai_python_sdk_works_unchanged() {
    let Some(python) = airisk_testkit::python("`openai`") else {
        return;
    };
    let h = Harness::start(BASIC).await;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/openai_sdk/test_sdk.py");
    let base = h.url("/v1");
    let py = python.clone();
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(&py)
            .arg(script)
            .arg(&base)
            .output()
    })
    .await
    .unwrap()
    .unwrap_or_else(|e| panic!("running {python}: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    eprintln!("{stdout}{stderr}");
    assert!(
        out.status.success(),
        "the SDK script failed:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("ok:"), "{stdout}");
    let entries = h.stop().await;
    // Every chat and embeddings call was logged (models listings are not).
    let n = entries
        .iter()
        .filter(|(e, _)| e.kind == "guard_decision")
        .count();
    assert_eq!(n, 7, "{entries:?}");
}
