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
