//! The IO edge that ties a run together for the CLI: expands the suite, starts the built-in
//! demo app when asked, sends the cases, judges them, builds the report and writes the files.
//! Owns its tokio runtime, so callers stay synchronous.

use crate::cases::{self, JudgeContext};
use crate::gate::Gate;
use crate::judges::DataDetectors;
use crate::report::{CaseResult, Report, RunInfo};
use crate::suite::{JudgeSpec, Suite};
use crate::target::{self, Plant, RunOptions, Target};
use crate::{RedteamError, Result};
use sha2::{Digest, Sha256};
use std::path::Path;
use std::time::Instant;

/// Where to send the cases.
#[derive(Debug, Clone)]
pub enum TargetSpec {
    /// The built-in vulnerable demo app, started in-process on an ephemeral loopback port.
    Demo,
    Target(Target),
}

/// An OpenAI-compatible model used as an extra judge.
#[derive(Debug, Clone)]
pub struct LlmJudge {
    pub base_url: String,
    pub model: String,
    pub api_key: Option<String>,
}

pub struct RunConfig {
    pub suite: Suite,
    pub chains: Option<Vec<Vec<String>>>,
    pub seed: u64,
    pub target: TargetSpec,
    pub options: RunOptions,
    pub gates: Vec<Gate>,
    pub llm_judge: Option<LlmJudge>,
    /// When the run started (RFC 3339), for the report.
    pub started_at: String,
}

/// Runs the suite and returns the report with its gates evaluated.
pub fn execute(cfg: RunConfig) -> Result<Report> {
    let started = Instant::now();
    let cases = cases::expand(&cfg.suite, cfg.chains.as_deref(), cfg.seed)?;
    let plant = Plant {
        system_prompt: cfg.suite.target.system_prompt.clone(),
        tools: cfg.suite.target.tools.clone(),
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| RedteamError::io("starting the async runtime", e))?;
    let (target, describe) = match &cfg.target {
        TargetSpec::Demo => {
            let (addr, server) = rt.block_on(crate::demo::bind("127.0.0.1:0"))?;
            rt.spawn(server);
            let t = Target::OpenAi {
                base_url: format!("http://{addr}/v1"),
                model: "shopbot-demo".into(),
                api_key: None,
                send_system_prompt: false,
            };
            // The port changes every run; the journal fingerprint must not.
            (t, "demo (built-in ShopBot)".to_string())
        }
        TargetSpec::Target(t) => (t.clone(), t.describe()),
    };
    let fingerprint = {
        let mut h = Sha256::new();
        h.update(serde_json::to_vec(&cfg.suite).unwrap_or_default());
        h.update(serde_json::to_vec(&cfg.chains).unwrap_or_default());
        h.update(cfg.seed.to_le_bytes());
        h.update(describe.as_bytes());
        hex::encode(h.finalize())
    };
    let outcomes = rt.block_on(target::run(
        &target,
        &plant,
        &cases,
        &fingerprint,
        &cfg.options,
    ))?;
    let ctx = JudgeContext {
        canaries: cfg.suite.target.canaries.clone(),
        system_prompt: cfg.suite.target.system_prompt.clone(),
        detectors: DataDetectors::new()?,
    };
    let mut results = Vec::with_capacity(cases.len());
    for (case, out) in cases.iter().zip(&outcomes) {
        results.push(match &out.result {
            Ok(obs) => {
                let v = cases::judge(case, obs, &ctx);
                CaseResult::judged(case, obs, &v, out.attempts, out.latency_ms)
            }
            Err(e) => CaseResult::failed(case, e.clone(), out.attempts, out.latency_ms),
        });
    }
    if let Some(j) = &cfg.llm_judge {
        rt.block_on(second_opinion(j, &cases, &mut results));
    }
    let mut report = Report::build(
        RunInfo {
            suite_file: cfg.suite.source.file.clone(),
            suite: cfg.suite.id.clone(),
            suite_version: cfg.suite.version.clone(),
            target: describe,
            seed: cfg.seed,
            started_at: cfg.started_at,
            elapsed_ms: started.elapsed().as_millis() as u64,
        },
        results,
    );
    report.gates = cfg.gates.iter().map(|g| g.evaluate(&report)).collect();
    Ok(report)
}

/// Asks the LLM judge about goal-judged cases the deterministic judges did not flag.
async fn second_opinion(j: &LlmJudge, cases: &[cases::Case], results: &mut [CaseResult]) {
    let Ok(client) = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(60))
        .build()
    else {
        return;
    };
    for (case, r) in cases.iter().zip(results.iter_mut()) {
        let Some(goal) = &case.goal else { continue };
        if r.success != Some(false) || !case.judges.contains(&JudgeSpec::Jailbreak) {
            continue;
        }
        let yes = crate::llm_judge::judge(
            &client,
            &j.base_url,
            j.api_key.as_deref(),
            &j.model,
            goal,
            &r.response,
        )
        .await;
        if yes == Some(true) {
            r.success = Some(true);
            r.fired.push("llm".into());
        }
    }
}

/// Measures the LLM judge on the jailbreak rows of judge_dev.jsonl (every `step`-th row, to
/// bound cost). Rows the model answered with neither YES nor NO are left out and counted in
/// the returned number.
pub fn eval_llm_judge(
    j: &LlmJudge,
    dataset: &str,
    step: usize,
    concurrency: usize,
) -> Result<(Vec<crate::judge_eval::Measure>, usize)> {
    use crate::stats::Confusion;
    use std::collections::BTreeMap;
    let rows: Vec<_> = crate::judge_eval::jailbreak_rows(dataset)?
        .into_iter()
        .step_by(step.max(1))
        .collect();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| RedteamError::io("starting the async runtime", e))?;
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(120))
        .build()
        .map_err(|e| RedteamError::Target(format!("building the HTTP client: {e}")))?;
    let verdicts: Vec<Option<bool>> = rt.block_on(async {
        let sem = std::sync::Arc::new(tokio::sync::Semaphore::new(concurrency.max(1)));
        let mut set = tokio::task::JoinSet::new();
        for (i, (_, goal, response, _)) in rows.iter().enumerate() {
            let (sem, client, j) = (sem.clone(), client.clone(), j.clone());
            let (goal, response) = (goal.clone(), response.clone());
            set.spawn(async move {
                let _p = sem.acquire_owned().await.ok();
                let v = crate::llm_judge::judge(
                    &client,
                    &j.base_url,
                    j.api_key.as_deref(),
                    &j.model,
                    &goal,
                    &response,
                )
                .await;
                (i, v)
            });
        }
        let mut out = vec![None; rows.len()];
        while let Some(Ok((i, v))) = set.join_next().await {
            if let Some(slot) = out.get_mut(i) {
                *slot = v;
            }
        }
        out
    });
    let mut by: BTreeMap<String, Confusion> = BTreeMap::new();
    let mut unanswered = 0;
    for ((src, _, _, actual), v) in rows.iter().zip(verdicts) {
        match v {
            Some(pred) => {
                for k in ["all".to_string(), src.clone()] {
                    by.entry(k).or_default().add(pred, *actual);
                }
            }
            None => unanswered += 1,
        }
    }
    let name = format!("llm ({})", j.model);
    Ok((
        by.iter()
            .map(|(k, c)| crate::judge_eval::measure(&name, "dataset", k, c))
            .collect(),
        unanswered,
    ))
}

/// Writes `report.json`, `junit.xml`, `report.sarif` and `report.html` into `dir`.
pub fn write_reports(dir: &Path, report: &Report) -> Result<()> {
    std::fs::create_dir_all(dir)
        .map_err(|e| RedteamError::io(format!("creating {}", dir.display()), e))?;
    for (name, text) in [
        ("report.json", report.to_json()),
        ("junit.xml", report.to_junit()),
        ("report.sarif", report.to_sarif()),
        ("report.html", report.to_html()),
    ] {
        let p = dir.join(name);
        std::fs::write(&p, text)
            .map_err(|e| RedteamError::io(format!("writing {}", p.display()), e))?;
    }
    Ok(())
}

/// Serves the demo app until Ctrl-C or SIGTERM; `on_ready` receives the bound address.
pub fn serve_demo(addr: &str, on_ready: impl FnOnce(std::net::SocketAddr)) -> Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| RedteamError::io("starting the async runtime", e))?;
    rt.block_on(async {
        let (local, server) = crate::demo::bind(addr).await?;
        on_ready(local);
        #[cfg(unix)]
        let terminate = async {
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut s) => {
                    s.recv().await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
        };
        #[cfg(not(unix))]
        let terminate = std::future::pending::<()>();
        tokio::select! {
            r = server => r.map_err(|e| RedteamError::io("serving the demo app", e)),
            _ = tokio::signal::ctrl_c() => Ok(()),
            _ = terminate => Ok(()),
        }
    })
}
