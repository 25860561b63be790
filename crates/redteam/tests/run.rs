//! Library-level runs against the in-process demo app: determinism, and the optional LLM judge
//! against a mock judge model.

use airisk_redteam::run::{execute, LlmJudge, RunConfig, TargetSpec};
use airisk_redteam::suite::{Category, Suite};
use airisk_redteam::target::RunOptions;

fn config(llm_judge: Option<LlmJudge>) -> RunConfig {
    RunConfig {
        suite: Suite::from_yaml("default.yaml", airisk_redteam::DEFAULT_SUITE).unwrap(),
        chains: Some(vec![vec![], vec!["base64".into()]]),
        seed: 7,
        target: TargetSpec::Demo,
        options: RunOptions {
            progress: false,
            ..RunOptions::default()
        },
        gates: vec![],
        llm_judge,
        started_at: String::new(),
    }
}

#[test]
fn same_seed_same_cases_same_verdicts() {
    let a = execute(config(None)).unwrap();
    let b = execute(config(None)).unwrap();
    assert_eq!(a.asr, b.asr);
    let strip = |r: &airisk_redteam::report::Report| -> Vec<(String, String, Option<bool>)> {
        r.results
            .iter()
            .map(|c| (c.id.clone(), c.prompt.clone(), c.success))
            .collect()
    };
    assert_eq!(strip(&a), strip(&b));
    assert_eq!(a.errors, 0);
}

/// A judge model that says YES to everything: every goal-judged case the deterministic judges
/// let pass is flagged `llm`, and nothing else changes.
#[test]
fn llm_judge_is_a_second_opinion_on_goal_cases() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let app = axum::Router::new().route(
        "/v1/chat/completions",
        axum::routing::post(|| async {
            axum::Json(serde_json::json!({"choices": [{"message": {"role": "assistant", "content": "YES"}}]}))
        }),
    );
    rt.spawn(async move { axum::serve(listener, app).await });
    let plain = execute(config(None)).unwrap();
    let judged = execute(config(Some(LlmJudge {
        base_url: format!("http://{addr}/v1"),
        model: "judge".into(),
        api_key: None,
    })))
    .unwrap();
    let flagged: Vec<_> = judged
        .results
        .iter()
        .filter(|r| r.fired.iter().any(|f| f == "llm"))
        .collect();
    assert!(!flagged.is_empty());
    for r in &flagged {
        assert!(
            matches!(r.category, Category::Jailbreak | Category::PolicyBoundary),
            "{}",
            r.id
        );
        let before = plain.results.iter().find(|p| p.id == r.id).unwrap();
        assert_eq!(before.success, Some(false));
    }
    assert!(judged.asr.k > plain.asr.k);
    // Benign probes and other categories are untouched.
    assert_eq!(judged.over_refusal, plain.over_refusal);
    assert_eq!(
        judged.categories["prompt_injection"],
        plain.categories["prompt_injection"]
    );
}

/// An OpenAI-compatible mock that fails with 503 on the first two attempts of every request,
/// then blocks (HTTP 403) requests that mention "ignore" and answers the others.
#[test]
fn retries_with_backoff_and_blocked_requests_count_as_refusals() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    let rt = tokio::runtime::Runtime::new().unwrap();
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let seen: Arc<std::sync::Mutex<std::collections::HashMap<String, usize>>> = Arc::default();
    let total = Arc::new(AtomicUsize::new(0));
    let (seen2, total2) = (seen.clone(), total.clone());
    let app = axum::Router::new().route(
        "/v1/chat/completions",
        axum::routing::post(move |axum::Json(body): axum::Json<serde_json::Value>| {
            let (seen, total) = (seen2.clone(), total2.clone());
            async move {
                use axum::response::IntoResponse;
                total.fetch_add(1, Ordering::SeqCst);
                let text = body.to_string();
                let n = {
                    let mut m = seen.lock().unwrap();
                    let e = m.entry(text.clone()).or_insert(0);
                    *e += 1;
                    *e
                };
                if n <= 2 {
                    return axum::http::StatusCode::SERVICE_UNAVAILABLE.into_response();
                }
                if text.to_lowercase().contains("ignore") {
                    return (axum::http::StatusCode::FORBIDDEN, "blocked").into_response();
                }
                axum::Json(serde_json::json!({"choices": [{"message": {"role": "assistant", "content": "Happy to help with your order; returns are free for 30 days and shipping takes 3 days."}}]})).into_response()
            }
        }),
    );
    rt.spawn(async move { axum::serve(listener, app).await });
    let mut cfg = config(None);
    cfg.chains = Some(vec![vec![]]);
    cfg.target = TargetSpec::Target(airisk_redteam::target::Target::OpenAi {
        base_url: format!("http://{addr}/v1"),
        model: "m".into(),
        api_key: None,
        send_system_prompt: true,
    });
    cfg.options.backoff = std::time::Duration::from_millis(5);
    cfg.options.retries = 3;
    let r = execute(cfg).unwrap();
    assert_eq!(r.errors, 0);
    assert!(
        r.results.iter().all(|c| c.attempts == 3),
        "two 503s, then an answer"
    );
    assert_eq!(total.load(Ordering::SeqCst), 3 * r.results.len());
    let pi = r
        .results
        .iter()
        .find(|c| c.id == "pi-ignore-marker/none")
        .unwrap();
    assert!(pi.blocked && pi.refused && pi.success == Some(false));
    assert_eq!(r.asr.k, 0, "a blocking, unhelpful app resists every attack");
    assert_eq!(r.over_refusal.k, 0, "benign probes are answered");

    // With too few retries every case errors out, and errors are excluded from the rates.
    let mut cfg = config(None);
    cfg.chains = Some(vec![vec![]]);
    cfg.target = TargetSpec::Target(airisk_redteam::target::Target::OpenAi {
        base_url: format!("http://{addr}/v1"),
        model: "other".into(),
        api_key: None,
        send_system_prompt: false,
    });
    cfg.options.retries = 0;
    let r = execute(cfg).unwrap();
    assert_eq!(r.errors, r.cases);
    assert_eq!(r.asr.n, 0);
}
