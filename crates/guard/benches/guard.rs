//! Latency of `Guard::check` with the default policy, with and without the classifier, and of a
//! policy that runs the injection classifier alone (`classifier/…`).
//!
//! Run on one core: `taskset -c 0 cargo bench -p airisk-guard --bench guard`.
//! Criterion reports the mean/median per call; before it, a percentile pass prints p50/p90/p99
//! over 20,000 individually timed calls per case (the targets are p50 and p99);
//! `GUARD_BENCH_PERCENTILES=0` skips that pass.

use std::hint::black_box;
use std::time::Instant;

use airisk_guard::{Guard, Input, DEFAULT_POLICY};
use criterion::{criterion_group, Criterion};

const SENTENCES: &[&str] = &[
    "Could you help me draft a reply to the customer who wrote about a delayed delivery? ",
    "The parcel was shipped on Monday from our warehouse in Rotterdam and should arrive soon. ",
    "Please keep the tone friendly, apologise once, and offer a discount code for the next order. ",
    "Our refund policy allows returns within thirty days when the item is unused. ",
    "Her contact is maria.lopez@example.org and she prefers e-mail over phone calls. ",
    "Summarise the main points in three bullet points and suggest a subject line. ",
    "We also need a short note for the logistics team explaining what went wrong. ",
    "The order number is 55120 and the invoice total was 89.90 euros including VAT. ",
];

/// Deterministic English-like text of about `n` bytes.
fn text(n: usize) -> String {
    let mut s = String::new();
    let mut i = 0;
    while s.len() < n {
        s.push_str(SENTENCES[i % SENTENCES.len()]);
        i += 1;
    }
    let mut cut = n;
    while !s.is_char_boundary(cut) {
        cut -= 1;
    }
    s.truncate(cut);
    s
}

fn guards() -> (Guard, Guard) {
    let with = Guard::from_yaml(DEFAULT_POLICY).expect("default policy");
    let without_yaml = DEFAULT_POLICY.replace(
        "- detector: injection_classifier\n        action: block",
        "- detector: injection_classifier\n        enabled: false\n        action: block",
    );
    assert_ne!(
        without_yaml, DEFAULT_POLICY,
        "classifier entries not found in default policy"
    );
    let without = Guard::from_yaml(&without_yaml).expect("policy without classifier");
    (with, without)
}

/// A policy whose only detector is the injection classifier, so its cost is measured without the
/// other detectors (input preparation is still included, as in every check: `prepare/…` times
/// that alone, with a policy that has no detectors).
const CLASSIFIER_ONLY: &str = "id: clf\nversion: '1'\nstages:\n  input:\n    detectors:\n      - detector: injection_classifier\n        action: block\n";
const NO_DETECTORS: &str = "id: none\nversion: '1'\nstages: {}\n";

fn percentiles() {
    let (with, without) = guards();
    let cases: Vec<(&str, &Guard, String)> = vec![
        ("input 1KB, no classifier", &without, text(1024)),
        ("input 8KB, no classifier", &without, text(8192)),
        ("input 1KB, with classifier", &with, text(1024)),
        ("input 8KB, with classifier", &with, text(8192)),
        ("context 8KB, with classifier", &with, text(8192)),
    ];
    println!("percentiles over 20000 timed calls each (after 2000 warm-up calls):");
    for (name, g, t) in cases {
        let ctx = name.starts_with("context");
        let call = || {
            if ctx {
                g.check(Input::Context { text: &t })
            } else {
                g.check(Input::Prompt {
                    text: &t,
                    system: false,
                })
            }
        };
        for _ in 0..2000 {
            black_box(call());
        }
        let mut ns: Vec<u128> = (0..20000)
            .map(|_| {
                let s = Instant::now();
                black_box(call());
                s.elapsed().as_nanos()
            })
            .collect();
        ns.sort_unstable();
        let p = |q: f64| ns[((ns.len() as f64 - 1.0) * q) as usize] as f64 / 1000.0;
        println!(
            "  {name:32} p50 {:8.1} µs  p90 {:8.1} µs  p99 {:8.1} µs  max {:8.1} µs",
            p(0.5),
            p(0.9),
            p(0.99),
            p(1.0)
        );
    }
}

fn bench(c: &mut Criterion) {
    let (with, without) = guards();
    let t1 = text(1024);
    let t8 = text(8192);
    let args = serde_json::json!({"order_id": "ORD-1234", "amount": 40});
    c.bench_function("check/input_1KB/no_classifier", |b| {
        b.iter(|| {
            without.check(Input::Prompt {
                text: black_box(&t1),
                system: false,
            })
        })
    });
    c.bench_function("check/input_8KB/no_classifier", |b| {
        b.iter(|| {
            without.check(Input::Prompt {
                text: black_box(&t8),
                system: false,
            })
        })
    });
    c.bench_function("check/input_1KB/with_classifier", |b| {
        b.iter(|| {
            with.check(Input::Prompt {
                text: black_box(&t1),
                system: false,
            })
        })
    });
    c.bench_function("check/input_8KB/with_classifier", |b| {
        b.iter(|| {
            with.check(Input::Prompt {
                text: black_box(&t8),
                system: false,
            })
        })
    });
    let classifier = Guard::from_yaml(CLASSIFIER_ONLY).expect("classifier-only policy");
    let nothing = Guard::from_yaml(NO_DETECTORS).expect("empty policy");
    let t4 = text(4096);
    for (name, g, t) in [
        ("classifier/input_1KB", &classifier, &t1),
        ("classifier/input_4KB", &classifier, &t4),
        ("prepare/input_1KB", &nothing, &t1),
        ("prepare/input_4KB", &nothing, &t4),
    ] {
        c.bench_function(name, |b| {
            b.iter(|| {
                g.check(Input::Prompt {
                    text: black_box(t),
                    system: false,
                })
            })
        });
    }
    // What a gateway pays per request to use the request's system prompt as the leakage
    // reference (built once per exchange).
    c.bench_function("leak_reference/system_prompt_1KB", |b| {
        b.iter(|| airisk_guard::LeakReference::from_texts([black_box(t1.as_str())]))
    });
    c.bench_function("check/tool_call", |b| {
        b.iter(|| {
            with.check(Input::ToolCall {
                name: "refund",
                args: black_box(&args),
            })
        })
    });
}

criterion_group!(benches, bench);

fn main() {
    // `GUARD_BENCH_PERCENTILES=0` skips the percentile pass (about a minute), e.g. when old and
    // new binaries are run alternately on one case.
    if std::env::var("GUARD_BENCH_PERCENTILES").as_deref() != Ok("0") {
        percentiles();
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
