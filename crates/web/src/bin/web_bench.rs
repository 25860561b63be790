//! Load benchmark of the web application on a generated register.
//!
//! Generates a register (default 1,000 systems and 10,000 risks) into a fresh SQLite
//! database, serves it on loopback, and measures each endpoint at a fixed concurrency with
//! a keep-alive HTTP/1.1 client: latency percentiles and throughput per run, then the
//! median and spread over runs. Targets (issue 7): dashboard p99 ≤ 100 ms, API lists p99
//! ≤ 30 ms at concurrency 16. `--check` exits 3 when a target is missed.
//!
//! Run: cargo run --release -p airisk-web --bin web-bench -- [--systems N] [--risks N]
//!      [--concurrency C] [--seconds S] [--runs R] [--check]

use airisk_catalog::Library;
use airisk_model::{Object, ObjectKind};
use airisk_store::accounts::Account;
use airisk_store::{Location, Store};
use airisk_web::{AppState, Config};
use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};

struct Args {
    systems: usize,
    risks: usize,
    concurrency: usize,
    seconds: u64,
    runs: usize,
    check: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        systems: 1000,
        risks: 10_000,
        concurrency: 16,
        seconds: 5,
        runs: 3,
        check: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut num = |name: &str| -> Result<usize, String> {
            it.next()
                .and_then(|v| v.parse().ok())
                .ok_or_else(|| format!("{name} needs a whole number"))
        };
        match flag.as_str() {
            "--systems" => a.systems = num("--systems")?,
            "--risks" => a.risks = num("--risks")?,
            "--concurrency" => a.concurrency = num("--concurrency")?.max(1),
            "--seconds" => a.seconds = num("--seconds")? as u64,
            "--runs" => a.runs = num("--runs")?.max(1),
            "--check" => a.check = true,
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    Ok(a)
}

/// A deterministic pseudo-random sequence (xorshift), so every run builds the same register.
struct Rng(u64);
impl Rng {
    fn next(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

fn generate(systems: usize, risks: usize) -> Vec<Object> {
    let obj = |kind, v| Object::from_value(kind, v).expect("generated object is well-formed");
    let mut out = vec![
        obj(
            ObjectKind::Settings,
            json!({"name": "Bench Ltd", "criteria": "c5"}),
        ),
        obj(
            ObjectKind::Criteria,
            json!({
                "id": "c5", "name": "5x5",
                "likelihood": (1..=5).map(|i| json!({"label": format!("L{i}")})).collect::<Vec<_>>(),
                "consequence": (1..=5).map(|i| json!({"label": format!("C{i}")})).collect::<Vec<_>>(),
                "bands": {"medium": 5, "high": 10, "critical": 17},
                "acceptance_threshold": "medium"
            }),
        ),
    ];
    for p in 0..50 {
        out.push(obj(
            ObjectKind::Person,
            json!({"id": format!("p{p}"), "name": format!("Person {p}")}),
        ));
    }
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let exposures = ["internal", "external", "public"];
    for s in 0..systems {
        out.push(obj(
            ObjectKind::System,
            json!({
                "id": format!("sys-{s:04}"), "name": format!("System {s}"), "purpose": "Generated for the benchmark",
                "model_type": "proprietary", "environment": "production",
                "exposure": exposures[rng.next(3) as usize], "criticality": "medium", "lifecycle": "deployed",
                "owners": {"business": format!("p{}", rng.next(50)), "technical": format!("p{}", rng.next(50))},
            }),
        ));
    }
    let categories = [
        "security",
        "privacy",
        "safety",
        "operational",
        "bias_fairness",
        "societal",
        "supply_chain",
        "explainability_transparency",
    ];
    for r in 0..risks {
        let (il, ic) = (1 + rng.next(5), 1 + rng.next(5));
        let (rl, rc) = (1 + rng.next(il), 1 + rng.next(ic));
        out.push(obj(
            ObjectKind::Risk,
            json!({
                "id": format!("R-{r:05}"), "title": format!("Generated risk {r}"),
                "event": "something happens", "cause": "a cause", "consequence": "a consequence",
                "category": categories[rng.next(8) as usize],
                "systems": [format!("sys-{:04}", rng.next(systems as u64))],
                "inherent": {"likelihood": il, "consequence": ic, "rationale": "generated"},
                "residual": {"likelihood": rl, "consequence": rc, "rationale": "generated"},
                "owner": format!("p{}", rng.next(50)), "status": "assessed",
                "last_reviewed": "2026-06-01",
            }),
        ));
    }
    out
}

#[derive(Clone, Copy)]
struct RunResult {
    p50: f64,
    p99: f64,
    max: f64,
    rps: f64,
    errors: usize,
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

async fn run_load(url: &str, token: &str, concurrency: usize, seconds: u64) -> RunResult {
    let client: Client<_, Empty<Bytes>> = Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(concurrency)
        .build_http();
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let client = client.clone();
        let url: hyper::Uri = url.parse().expect("valid URL");
        let auth = format!("Bearer {token}");
        tasks.push(tokio::spawn(async move {
            let mut samples = Vec::new();
            let mut errors = 0usize;
            while Instant::now() < deadline {
                let request = hyper::Request::get(url.clone())
                    .header("authorization", &auth)
                    .body(Empty::<Bytes>::new())
                    .expect("request");
                let t = Instant::now();
                match client.request(request).await {
                    Ok(response) => {
                        let ok = response.status().is_success();
                        let _ = response.into_body().collect().await;
                        if ok {
                            samples.push(t.elapsed().as_secs_f64() * 1000.0);
                        } else {
                            errors += 1;
                        }
                    }
                    Err(_) => errors += 1,
                }
            }
            (samples, errors)
        }));
    }
    let mut all = Vec::new();
    let mut errors = 0;
    for t in tasks {
        if let Ok((s, e)) = t.await {
            all.extend(s);
            errors += e;
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    all.sort_by(|a, b| a.total_cmp(b));
    RunResult {
        p50: percentile(&all, 50.0),
        p99: percentile(&all, 99.0),
        max: all.last().copied().unwrap_or(f64::NAN),
        rps: all.len() as f64 / elapsed,
        errors,
    }
}

fn median_and_range(values: &mut [f64]) -> (f64, f64, f64) {
    values.sort_by(|a, b| a.total_cmp(b));
    (
        values[values.len() / 2],
        values[0],
        values[values.len() - 1],
    )
}

fn main() {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(2);
        }
    };
    let dir = tempfile_dir();
    let location = Location::Sqlite(dir.join("bench.db"));
    let mut store = Store::open(&location).expect("open database");
    let key = airisk_ledger::SignerKey::generate("airisk.bench/web").expect("key");
    store.init_ledger(&key).expect("ledger");
    store.set_signer(Some(key));
    let t = Instant::now();
    let objects = generate(args.systems, args.risks);
    let planned = airisk_model::plan(&store.load_register().expect("load"), objects);
    let issues = planned.result.validate();
    assert!(
        issues.is_empty(),
        "generated register is invalid: {:?}",
        &issues[..issues.len().min(3)]
    );
    store
        .commit(planned.writes(), "bench", chrono::Utc::now(), "bench")
        .expect("commit");
    println!(
        "Generated {} systems and {} risks into {} in {:.1} s",
        args.systems,
        args.risks,
        dir.display(),
        t.elapsed().as_secs_f64()
    );
    let hash = airisk_web::auth::hash_password("bench-password-123").expect("hash");
    store
        .put_account(&Account {
            username: "bench".into(),
            display_name: "Bench".into(),
            role: "auditor".into(),
            person_id: None,
            password_hash: Some(hash),
            disabled: false,
            created_at: chrono::Utc::now().to_rfc3339(),
        })
        .expect("account");
    let (token, credential) = airisk_web::auth::new_token("bench", "bench");
    store.put_credential(&credential).expect("token");
    let state = Arc::new(AppState::new(
        store,
        Library::embedded().expect("catalogs"),
        Config {
            today: Some(chrono::NaiveDate::from_ymd_opt(2026, 11, 22).expect("date")),
            ..Config::default()
        },
    ));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(airisk_web::serve(state, listener));
        let base = format!("http://{addr}");
        let endpoints: [(&str, &str, f64); 6] = [
            ("dashboard (HTML)", "/", 100.0),
            ("API risk list (page of 100)", "/api/risks", 30.0),
            ("API risk list, filtered", "/api/risks?category=security&above_threshold=true", 30.0),
            ("API system list", "/api/systems", 30.0),
            ("API control list", "/api/controls", 30.0),
            ("risk register (HTML, 200 rows)", "/risks", 100.0),
        ];
        // Cold requests: the first builds the snapshot and the dashboard.
        for (name, path, _) in &endpoints {
            let t = Instant::now();
            let cold = single(&format!("{base}{path}"), &token).await;
            println!("cold {name:<34} {:>8.1} ms (status {cold})", t.elapsed().as_secs_f64() * 1000.0);
        }
        println!(
            "\nconcurrency {}, {} s per run, {} runs; latency in ms: median over runs [min–max]",
            args.concurrency, args.seconds, args.runs
        );
        println!("{:<34} {:>22} {:>22} {:>18} {:>7} {:>8}", "endpoint", "p50", "p99", "req/s", "errors", "target");
        let mut missed = false;
        for (name, path, target) in &endpoints {
            let mut runs = Vec::new();
            for _ in 0..args.runs {
                runs.push(run_load(&format!("{base}{path}"), &token, args.concurrency, args.seconds).await);
            }
            let (p50, p50lo, p50hi) = median_and_range(&mut runs.iter().map(|r| r.p50).collect::<Vec<_>>());
            let (p99, p99lo, p99hi) = median_and_range(&mut runs.iter().map(|r| r.p99).collect::<Vec<_>>());
            let (rps, rpslo, rpshi) = median_and_range(&mut runs.iter().map(|r| r.rps).collect::<Vec<_>>());
            let errors: usize = runs.iter().map(|r| r.errors).sum();
            let max = runs.iter().map(|r| r.max).fold(0.0, f64::max);
            let ok = p99 <= *target && errors == 0;
            missed |= !ok;
            println!(
                "{name:<34} {p50:>7.2} [{p50lo:.2}–{p50hi:.2}] {p99:>7.2} [{p99lo:.2}–{p99hi:.2}] {rps:>7.0} [{rpslo:.0}–{rpshi:.0}] {errors:>7} p99≤{target} {} (max {max:.1})",
                if ok { "ok" } else { "MISSED" }
            );
        }
        if args.check && missed {
            std::process::exit(3);
        }
    });
}

async fn single(url: &str, token: &str) -> u16 {
    let client: Client<_, Empty<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
    let request = hyper::Request::get(url)
        .header("authorization", format!("Bearer {token}"))
        .body(Empty::<Bytes>::new())
        .expect("request");
    match client.request(request).await {
        Ok(r) => {
            let status = r.status().as_u16();
            let _ = r.into_body().collect().await;
            status
        }
        Err(_) => 0,
    }
}

fn tempfile_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("airisk-web-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}
