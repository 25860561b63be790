//! Runs workload 1 of `shared/peers` (gen_prompts.py, seed 1337) through a policy, one prompt at
//! a time, and prints latency, throughput and detections per category, for the side-by-side
//! comparison with llm-guard, presidio and detect-secrets in `shared/peers/README.md`.
//!
//! `python3 ../shared/peers/gen_prompts.py /tmp/peers-data/prompts.json 2000`
//! `PASSES=2` times a second pass over warm caches (default: one cold pass).
//! `taskset -c 1 cargo run -p airisk-guard --release --example peer_workload -- /tmp/peers-data/prompts.json [POLICY.yaml] [--no-classifier]`
use std::collections::BTreeMap;
use std::time::Instant;

use airisk_guard::{Decision, Guard, Input, DEFAULT_POLICY};

#[derive(serde::Deserialize)]
struct Prompt {
    category: String,
    subtype: String,
    text: String,
}

fn expected(p: &Prompt, d: &Decision) -> bool {
    let any = |f: &dyn Fn(&airisk_guard::Finding) -> bool| d.findings.iter().any(f);
    match (p.category.as_str(), p.subtype.as_str()) {
        ("pii", t) => any(&|f| {
            f.detector == "pii" && (f.category == t || (t == "email" && f.category == "email"))
        }),
        ("secret", "aws_key") => any(&|f| f.rule_id.starts_with("secret.aws")),
        ("secret", "github_token") => any(&|f| f.rule_id == "secret.github.token"),
        ("secret", "private_key") => any(&|f| f.rule_id == "secret.private_key"),
        ("secret", "jwt") => any(&|f| f.rule_id == "secret.jwt"),
        ("invisible", _) => any(&|f| f.category == "ascii_smuggling"),
        ("injection", _) => any(&|f| f.detector.starts_with("injection")),
        _ => false,
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let data = args
        .first()
        .ok_or("usage: peer_workload PROMPTS.json [POLICY.yaml] [--no-classifier]")?;
    let mut policy = match args.get(1).filter(|a| !a.starts_with("--")) {
        Some(p) => std::fs::read_to_string(p)?,
        None => DEFAULT_POLICY.to_string(),
    };
    if args.iter().any(|a| a == "--no-classifier") {
        policy = policy.replace(
            "- detector: injection_classifier\n        action: block",
            "- detector: injection_classifier\n        enabled: false\n        action: block",
        );
    }
    let prompts: Vec<Prompt> = serde_json::from_str(&std::fs::read_to_string(data)?)?;
    let t0 = Instant::now();
    let guard = Guard::from_yaml(&policy)?;
    for p in prompts.iter().take(20) {
        guard.check(Input::Prompt {
            text: &p.text,
            system: false,
        });
    }
    let init = t0.elapsed();
    let passes: usize = std::env::var("PASSES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    for _ in 1..passes {
        // Earlier passes warm the lazy-DFA caches; only the last pass is timed.
        for p in &prompts {
            guard.check(Input::Prompt {
                text: &p.text,
                system: false,
            });
        }
    }
    let mut times = Vec::with_capacity(prompts.len());
    let mut flagged: BTreeMap<String, (usize, usize, usize)> = BTreeMap::new();
    let mut bytes = 0usize;
    for p in &prompts {
        let s = Instant::now();
        let d = guard.check(Input::Prompt {
            text: &p.text,
            system: false,
        });
        times.push(s.elapsed().as_secs_f64());
        bytes += p.text.len();
        let key = if p.subtype.is_empty() || p.category == "injection" || p.category == "invisible"
        {
            p.category.clone()
        } else {
            format!("{}/{}", p.category, p.subtype)
        };
        let e = flagged.entry(key).or_default();
        e.0 += 1;
        e.1 += usize::from(!d.findings.is_empty());
        e.2 += usize::from(expected(p, &d));
    }
    let total: f64 = times.iter().sum();
    let mut sorted = times.clone();
    sorted.sort_by(f64::total_cmp);
    let q = |x: f64| sorted[((sorted.len() - 1) as f64 * x) as usize] * 1e3;
    println!("init+20 warm-up calls: {:.1} ms", init.as_secs_f64() * 1e3);
    println!(
        "prompts {}  bytes {}  median {:.4} ms  p99 {:.4} ms  max {:.3} ms  {:.1} MB/s  {:.0} prompts/s",
        prompts.len(),
        bytes,
        q(0.5),
        q(0.99),
        q(1.0),
        bytes as f64 / 1e6 / total,
        prompts.len() as f64 / total
    );
    println!("| category (n) | any finding | expected finding |");
    println!("|---|---:|---:|");
    for (k, (n, any, exp)) in flagged {
        println!("| {k} ({n}) | {any} | {exp} |");
    }
    Ok(())
}
