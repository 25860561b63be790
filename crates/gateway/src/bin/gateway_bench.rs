//! gateway-bench: added latency and throughput of the gateway over going direct.
//!
//! Starts the mock upstream and the gateway as child processes (this same binary, in the
//! `mock` and `gateway` roles), then alternates closed-loop runs against the mock directly
//! and through the gateway, with `--concurrency` keep-alive connections driven from one
//! thread, and reports per run and the median [min–max] over runs: requests/s, p50/p90/p99
//! latency, added latency (gateway minus direct, per run), and the gateway's RSS.
//!
//! ```sh
//! cargo build --release -p airisk-gateway --bin gateway-bench
//! taskset -c 1 target/release/gateway-bench --runs 5 --duration 10 --gateway-cpu 0
//! ```

use airisk_gateway::config::GatewayConfig;
use airisk_gateway::Gateway;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

// The same allocator as the `airisk` binary, so the gateway measured here is the one shipped.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

struct Opts {
    runs: usize,
    duration: f64,
    warmup: f64,
    concurrency: usize,
    prompt_bytes: usize,
    log_content: String,
    ledger: bool,
    gateway_cpu: Option<String>,
    policy: String,
    /// Open loop at this many requests/s (spread over the connections) instead of closed loop.
    rate: Option<f64>,
}

fn usage() -> ! {
    eprintln!(
        "usage: gateway-bench [--runs N] [--duration SECS] [--warmup SECS] [--concurrency N] \
         [--prompt-bytes N] [--log-content none|hashes|full] [--no-ledger] [--gateway-cpu CPU] \
         [--policy FILE|default] [--rate REQ_PER_S]"
    );
    std::process::exit(2)
}

fn parse_opts(args: &[String]) -> Opts {
    let mut o = Opts {
        runs: 5,
        duration: 10.0,
        warmup: 2.0,
        concurrency: 32,
        prompt_bytes: 1024,
        log_content: "hashes".into(),
        ledger: true,
        gateway_cpu: None,
        policy: "default".into(),
        rate: None,
    };
    let mut i = 0;
    while i < args.len() {
        let v = args.get(i + 1).cloned();
        let take = || v.clone().unwrap_or_else(|| usage());
        match args[i].as_str() {
            "--runs" => o.runs = take().parse().unwrap_or_else(|_| usage()),
            "--duration" => o.duration = take().parse().unwrap_or_else(|_| usage()),
            "--warmup" => o.warmup = take().parse().unwrap_or_else(|_| usage()),
            "--concurrency" => o.concurrency = take().parse().unwrap_or_else(|_| usage()),
            "--prompt-bytes" => o.prompt_bytes = take().parse().unwrap_or_else(|_| usage()),
            "--log-content" => o.log_content = take(),
            "--gateway-cpu" => o.gateway_cpu = Some(take()),
            "--policy" => o.policy = take(),
            "--rate" => o.rate = Some(take().parse().unwrap_or_else(|_| usage())),
            "--no-ledger" => {
                o.ledger = false;
                i += 1;
                continue;
            }
            _ => usage(),
        }
        i += 2;
    }
    o
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("mock") => role_mock(),
        Some("gateway") => role_gateway(&args[2..]),
        _ => bench(parse_opts(&args[1..])),
    }
}

/// Child role: the mock upstream on a free loopback port; prints `LISTEN addr`.
fn role_mock() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        println!("LISTEN {}", l.local_addr().expect("addr"));
        let _ = std::io::stdout().flush();
        tokio::spawn(airisk_gateway::mock::serve(l, Default::default()));
        wait_stdin_closed().await;
    });
}

/// Child role: the gateway; args: UPSTREAM LOG_CONTENT LEDGER(0|1) POLICY.
fn role_gateway(args: &[String]) {
    let upstream = args.first().cloned().unwrap_or_else(|| usage());
    let content = args.get(1).cloned().unwrap_or_else(|| "hashes".into());
    let ledger = args.get(2).map(String::as_str) == Some("1");
    let policy = args.get(3).cloned().unwrap_or_else(|| "default".into());
    let mut config = GatewayConfig::single(
        "127.0.0.1:0".into(),
        format!("http://{upstream}/v1"),
        policy,
        Some("BENCH-1".into()),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    config.spec.log_content =
        airisk_gateway::LogContent::parse(&content).unwrap_or_else(|| usage());
    let dir = tempfile::tempdir().expect("tempdir");
    let store = ledger.then(|| {
        airisk_store::Store::open(&airisk_store::Location::Sqlite(dir.path().join("bench.db")))
            .expect("store")
    });
    let gateway = Gateway::new(&config, store).unwrap_or_else(|e| panic!("{e}"));
    // Served the way `airisk gateway` serves: a worker thread per available core.
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    println!("LISTEN {}", l.local_addr().expect("addr"));
    let _ = std::io::stdout().flush();
    let workers = airisk_gateway::server::available_cores();
    if let Err(e) = gateway.serve(l, workers, wait_stdin_closed()) {
        eprintln!("gateway: {e}");
    }
}

async fn wait_stdin_closed() {
    let _ = tokio::task::spawn_blocking(|| {
        let mut s = String::new();
        while std::io::stdin()
            .read_line(&mut s)
            .map(|n| n > 0)
            .unwrap_or(false)
        {}
    })
    .await;
}

fn spawn_role(role: &[&str], cpu: Option<&str>) -> (Child, String) {
    let exe = std::env::current_exe().expect("current exe");
    let mut cmd = match cpu {
        Some(c) => {
            let mut c2 = Command::new("taskset");
            c2.arg("-c").arg(c).arg(&exe);
            c2
        }
        None => Command::new(&exe),
    };
    let mut child = cmd
        .args(role)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn child");
    let mut line = String::new();
    let out = child.stdout.take().expect("stdout");
    BufReader::new(out)
        .read_line(&mut line)
        .expect("child address");
    let addr = line
        .trim()
        .strip_prefix("LISTEN ")
        .unwrap_or_else(|| panic!("child said {line:?}"))
        .to_string();
    (child, addr)
}

fn prompt(n: usize) -> String {
    let words = "the quarterly planning notes mention budget travel hiring and the new office \
                 schedule for the team so please summarise them briefly for the weekly report ";
    let mut s = String::new();
    while s.len() < n {
        s.push_str(words);
    }
    s.truncate(n);
    s
}

struct RunStats {
    rps: f64,
    p50: f64,
    p90: f64,
    p99: f64,
    errors: u64,
}

fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i] as f64 / 1000.0
}

/// One closed-loop run: `conc` connections, each sends the next request when the last
/// answer is complete. Latencies in µs.
async fn load(addr: &str, body: Bytes, conc: usize, secs: f64, rate: Option<f64>) -> RunStats {
    let deadline = Instant::now() + Duration::from_secs_f64(secs);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for conn_no in 0..conc {
        // Open loop: connection i sends at started + (k·conc + i)/rate and latency is measured
        // from that scheduled time, so a slow answer cannot hide the queueing it causes.
        let interval = rate.map(|r| Duration::from_secs_f64(conc as f64 / r));
        let offset = rate.map(|r| Duration::from_secs_f64(conn_no as f64 / r));
        let addr = addr.to_string();
        let body = body.clone();
        tasks.push(tokio::spawn(async move {
            let mut lat: Vec<u32> = Vec::with_capacity(100_000);
            let mut errors = 0u64;
            let mut next = offset.map(|o| started + o);
            'outer: while Instant::now() < deadline {
                let Ok(stream) = tokio::net::TcpStream::connect(&addr).await else {
                    errors += 1;
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                };
                let _ = stream.set_nodelay(true);
                let Ok((mut sender, conn)) =
                    hyper::client::conn::http1::handshake::<_, Full<Bytes>>(TokioIo::new(stream))
                        .await
                else {
                    errors += 1;
                    continue;
                };
                tokio::spawn(conn);
                while Instant::now() < deadline {
                    let req = hyper::Request::post("/v1/chat/completions")
                        .header("host", "bench")
                        .header("content-type", "application/json")
                        .header("authorization", "Bearer sk-bench-0000000000000000")
                        .body(Full::new(body.clone()))
                        .expect("request");
                    let mut t = Instant::now();
                    if let (Some(n), Some(iv)) = (next, interval) {
                        if n > t {
                            tokio::time::sleep_until(n.into()).await;
                        }
                        // The timer wakes up to ~1 ms late; only lateness beyond that is
                        // queueing and is charged to the request.
                        let now = Instant::now();
                        t = if now.duration_since(n) > Duration::from_millis(2) {
                            n
                        } else {
                            now
                        };
                        next = Some(n + iv);
                        if n >= deadline {
                            break 'outer;
                        }
                    }
                    let Ok(resp) = sender.send_request(req).await else {
                        errors += 1;
                        continue 'outer;
                    };
                    let ok = resp.status() == 200;
                    let Ok(_) = resp.into_body().collect().await else {
                        errors += 1;
                        continue 'outer;
                    };
                    if ok {
                        lat.push(t.elapsed().as_micros().min(u32::MAX as u128) as u32);
                    } else {
                        errors += 1;
                    }
                }
            }
            (lat, errors)
        }));
    }
    let mut all = Vec::new();
    let mut errors = 0;
    for t in tasks {
        if let Ok((l, e)) = t.await {
            all.extend(l);
            errors += e;
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    all.sort_unstable();
    RunStats {
        rps: all.len() as f64 / elapsed,
        p50: percentile(&all, 0.50),
        p90: percentile(&all, 0.90),
        p99: percentile(&all, 0.99),
        errors,
    }
}

fn rss_kb(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// User + system CPU seconds of a process so far.
fn cpu_seconds(pid: u32) -> f64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0.0;
    };
    // Fields after the parenthesised command name; utime and stime are the 12th and 13th.
    let rest = stat.rsplit_once(')').map(|r| r.1).unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

fn gateway_pid(child: &Child, via_taskset: bool) -> u32 {
    // taskset execs the program, so the pid is the gateway's either way.
    let _ = via_taskset;
    child.id()
}

fn med_range(v: &[f64]) -> String {
    let mut s = v.to_vec();
    s.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    let med = if s.is_empty() {
        f64::NAN
    } else if s.len() % 2 == 1 {
        s[s.len() / 2]
    } else {
        (s[s.len() / 2 - 1] + s[s.len() / 2]) / 2.0
    };
    format!(
        "{:.3} [{:.3}–{:.3}]",
        med,
        s.first().copied().unwrap_or(f64::NAN),
        s.last().copied().unwrap_or(f64::NAN)
    )
}

fn bench(o: Opts) {
    let text = prompt(o.prompt_bytes);
    let guard = airisk_guard::Guard::default_policy().expect("default policy");
    let d = guard.check(airisk_guard::Input::Prompt {
        text: &text,
        system: false,
    });
    let body = Bytes::from(
        serde_json::json!({"model": "mock-gpt", "messages": [{"role": "user", "content": text}],
                           "max_tokens": 16})
        .to_string(),
    );
    println!(
        "gateway-bench: {}{} runs × {} s (+{} s warm-up each), concurrency {}, prompt {} B (body {} B), \
         policy {}, ledger {}, log_content {}; default policy on the prompt: {}",
        match o.rate {
            Some(r) => format!("open loop at {r} req/s, "),
            None => "closed loop, ".into(),
        },
        o.runs,
        o.duration,
        o.warmup,
        o.concurrency,
        text.len(),
        body.len(),
        o.policy,
        if o.ledger { "SQLite" } else { "off" },
        o.log_content,
        d.action.as_str()
    );
    let (mut mock, mock_addr) = spawn_role(&["mock"], None);
    let (mut gw, gw_addr) = spawn_role(
        &[
            "gateway",
            &mock_addr,
            &o.log_content,
            if o.ledger { "1" } else { "0" },
            &o.policy,
        ],
        o.gateway_cpu.as_deref(),
    );
    let gw_pid = gateway_pid(&gw, o.gateway_cpu.is_some());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    println!(
        "\n| run | direct req/s | direct p50 ms | direct p99 ms | gateway req/s | gateway p50 ms | gateway p90 ms | gateway p99 ms | added p50 ms | added p99 ms | gateway CPU µs/req | gateway RSS MiB | errors |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    let mut cols: Vec<Vec<f64>> = vec![Vec::new(); 10];
    for r in 1..=o.runs {
        let (dir, gwr, cpu_us) = rt.block_on(async {
            let _ = load(&mock_addr, body.clone(), o.concurrency, o.warmup, o.rate).await;
            let dir = load(&mock_addr, body.clone(), o.concurrency, o.duration, o.rate).await;
            let _ = load(&gw_addr, body.clone(), o.concurrency, o.warmup, o.rate).await;
            let cpu0 = cpu_seconds(gw_pid);
            let gwr = load(&gw_addr, body.clone(), o.concurrency, o.duration, o.rate).await;
            let cpu = cpu_seconds(gw_pid) - cpu0;
            let cpu_us = cpu * 1e6 / (gwr.rps * o.duration).max(1.0);
            (dir, gwr, cpu_us)
        });
        let rss = rss_kb(gw_pid, "VmRSS:") as f64 / 1024.0;
        let (a50, a99) = (gwr.p50 - dir.p50, gwr.p99 - dir.p99);
        println!(
            "| {r} | {:.0} | {:.3} | {:.3} | {:.0} | {:.3} | {:.3} | {:.3} | {:.3} | {:.3} | {:.0} | {:.1} | {} |",
            dir.rps, dir.p50, dir.p99, gwr.rps, gwr.p50, gwr.p90, gwr.p99, a50, a99, cpu_us, rss,
            dir.errors + gwr.errors
        );
        for (c, v) in cols.iter_mut().zip([
            dir.rps, dir.p50, dir.p99, gwr.rps, gwr.p50, gwr.p99, a50, a99, cpu_us, rss,
        ]) {
            c.push(v);
        }
    }
    let names = [
        "direct req/s",
        "direct p50 ms",
        "direct p99 ms",
        "gateway req/s",
        "gateway p50 ms",
        "gateway p99 ms",
        "added p50 ms",
        "added p99 ms",
        "gateway CPU µs/req",
        "gateway RSS MiB",
    ];
    println!("\n| measure | median [min–max] over {} runs |", o.runs);
    println!("|---|---|");
    for (n, c) in names.iter().zip(&cols) {
        println!("| {n} | {} |", med_range(c));
    }
    println!(
        "| gateway peak RSS (VmHWM) MiB | {:.1} |",
        rss_kb(gw_pid, "VmHWM:") as f64 / 1024.0
    );
    // What the gateway says about itself.
    let metrics = rt.block_on(async {
        let Ok(stream) = tokio::net::TcpStream::connect(&gw_addr).await else {
            return String::new();
        };
        let Ok((mut s, conn)) =
            hyper::client::conn::http1::handshake::<_, Full<Bytes>>(TokioIo::new(stream)).await
        else {
            return String::new();
        };
        tokio::spawn(conn);
        let req = hyper::Request::get("/metrics")
            .header("host", "bench")
            .body(Full::new(Bytes::new()))
            .expect("request");
        match s.send_request(req).await {
            Ok(r) => r
                .into_body()
                .collect()
                .await
                .map(|b| String::from_utf8_lossy(&b.to_bytes()).into_owned())
                .unwrap_or_default(),
            Err(_) => String::new(),
        }
    });
    // The gateway's own view of where a request's time goes (sums and counts over all runs).
    for line in metrics.lines() {
        if line.starts_with("airisk_gateway_ledger_records_total")
            || line.starts_with("airisk_gateway_guard_seconds_sum")
            || line.starts_with("airisk_gateway_guard_seconds_count")
            || line.starts_with("airisk_gateway_upstream_seconds_sum")
            || line.starts_with("airisk_gateway_request_seconds_sum")
            || line.starts_with("airisk_gateway_request_seconds_count")
            || line.starts_with("airisk_gateway_errors_total")
        {
            println!("  {line}");
        }
    }
    drop(gw.stdin.take());
    drop(mock.stdin.take());
    let _ = gw.wait();
    let _ = mock.wait();
}
