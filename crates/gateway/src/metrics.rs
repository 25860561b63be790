//! Counters, gauges and histograms rendered in the Prometheus text format (version 0.0.4).
//! No IO; the server serves [`Metrics::render`] at `/metrics`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Mutex;

/// Upper bounds (seconds) of the latency histograms: 10 µs to 10 s.
pub const LATENCY_BUCKETS: [f64; 16] = [
    0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
    0.1, 0.5, 1.0, 10.0,
];

/// Every metric family: name, type, help. Rendering follows this order.
pub const FAMILIES: &[(&str, &str, &str)] = &[
    ("airisk_gateway_requests_total", "counter", "Requests answered, by route, endpoint and HTTP status."),
    ("airisk_gateway_decisions_total", "counter", "Guard decisions, by system, stage and action."),
    ("airisk_gateway_findings_total", "counter", "Guard findings, by system, detector and action."),
    ("airisk_gateway_guard_seconds", "histogram", "Time in the guard per request and stage."),
    ("airisk_gateway_upstream_seconds", "histogram", "Upstream latency (to the end of the body), by route."),
    ("airisk_gateway_request_seconds", "histogram", "Total time per request, by route."),
    ("airisk_gateway_errors_total", "counter", "Errors, by route and kind (bad_request, too_large, upstream_unreachable, upstream_timeout, upstream_invalid, guard_failure, ledger_full, rate_limited, unauthorized, no_route)."),
    ("airisk_gateway_tokens_total", "counter", "Tokens the upstream reported, by route and kind (prompt, completion)."),
    ("airisk_gateway_ledger_records_total", "counter", "Ledger records, by outcome (queued, written, dropped, failed)."),
    ("airisk_gateway_ledger_queue_depth", "gauge", "Records waiting for the ledger writer."),
    ("airisk_gateway_in_flight", "gauge", "Requests being served."),
];

#[derive(Debug, Clone)]
struct Histogram {
    counts: [u64; LATENCY_BUCKETS.len()],
    count: u64,
    sum: f64,
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram {
            counts: [0; LATENCY_BUCKETS.len()],
            count: 0,
            sum: 0.0,
        }
    }
}

/// The registry. Cheap to share; each update takes one short lock.
#[derive(Debug, Default)]
pub struct Metrics {
    counters: Mutex<BTreeMap<(&'static str, String), u64>>,
    histograms: Mutex<BTreeMap<(&'static str, String), Histogram>>,
    pub in_flight: AtomicI64,
    pub ledger_queue_depth: AtomicI64,
}

/// Formats label pairs, escaping values as the text format requires.
pub fn labels(pairs: &[(&str, &str)]) -> String {
    let mut s = String::new();
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        s.push_str(k);
        s.push_str("=\"");
        for ch in v.chars() {
            match ch {
                '\\' => s.push_str("\\\\"),
                '"' => s.push_str("\\\""),
                '\n' => s.push_str("\\n"),
                c => s.push(c),
            }
        }
        s.push('"');
    }
    s
}

impl Metrics {
    pub fn inc(&self, name: &'static str, pairs: &[(&str, &str)], by: u64) {
        if let Ok(mut m) = self.counters.lock() {
            *m.entry((name, labels(pairs))).or_default() += by;
        }
    }

    pub fn observe(&self, name: &'static str, pairs: &[(&str, &str)], seconds: f64) {
        if let Ok(mut m) = self.histograms.lock() {
            let h = m.entry((name, labels(pairs))).or_default();
            if let Some(i) = LATENCY_BUCKETS.iter().position(|b| seconds <= *b) {
                h.counts[i] += 1;
            }
            h.count += 1;
            h.sum += seconds;
        }
    }

    /// A counter's current value (tests and readiness).
    pub fn counter(&self, name: &'static str, pairs: &[(&str, &str)]) -> u64 {
        self.counters
            .lock()
            .ok()
            .and_then(|m| m.get(&(name, labels(pairs))).copied())
            .unwrap_or(0)
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let counters = self.counters.lock().map(|m| m.clone()).unwrap_or_default();
        let hists = self
            .histograms
            .lock()
            .map(|m| m.clone())
            .unwrap_or_default();
        let mut out = String::new();
        for (name, kind, help) in FAMILIES {
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} {kind}");
            match *kind {
                "counter" => {
                    for ((n, l), v) in counters.range((*name, String::new())..) {
                        if n != name {
                            break;
                        }
                        let _ = writeln!(out, "{name}{{{l}}} {v}");
                    }
                }
                "gauge" => {
                    let v = match *name {
                        "airisk_gateway_in_flight" => self.in_flight.load(Ordering::Relaxed),
                        _ => self.ledger_queue_depth.load(Ordering::Relaxed),
                    };
                    let _ = writeln!(out, "{name} {v}");
                }
                _ => {
                    for ((n, l), h) in hists.range((*name, String::new())..) {
                        if n != name {
                            break;
                        }
                        let sep = if l.is_empty() { "" } else { "," };
                        let mut cum = 0;
                        for (b, c) in LATENCY_BUCKETS.iter().zip(h.counts) {
                            cum += c;
                            let _ = writeln!(out, "{name}_bucket{{{l}{sep}le=\"{b}\"}} {cum}");
                        }
                        let _ = writeln!(out, "{name}_bucket{{{l}{sep}le=\"+Inf\"}} {}", h.count);
                        let _ = writeln!(out, "{name}_sum{{{l}}} {}", h.sum);
                        let _ = writeln!(out, "{name}_count{{{l}}} {}", h.count);
                    }
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_text_format() {
        let m = Metrics::default();
        m.inc(
            "airisk_gateway_requests_total",
            &[("route", "a"), ("code", "200")],
            2,
        );
        m.inc(
            "airisk_gateway_findings_total",
            &[("detector", "say \"hi\"\n")],
            1,
        );
        m.observe(
            "airisk_gateway_guard_seconds",
            &[("stage", "input")],
            0.00003,
        );
        m.observe("airisk_gateway_guard_seconds", &[("stage", "input")], 20.0);
        let t = m.render();
        assert!(
            t.contains("airisk_gateway_requests_total{route=\"a\",code=\"200\"} 2\n"),
            "{t}"
        );
        assert!(t.contains("detector=\"say \\\"hi\\\"\\n\""), "{t}");
        assert!(
            t.contains("airisk_gateway_guard_seconds_bucket{stage=\"input\",le=\"0.00005\"} 1\n"),
            "{t}"
        );
        assert!(
            t.contains("airisk_gateway_guard_seconds_bucket{stage=\"input\",le=\"+Inf\"} 2\n"),
            "{t}"
        );
        assert!(
            t.contains("airisk_gateway_guard_seconds_count{stage=\"input\"} 2\n"),
            "{t}"
        );
        assert!(
            t.contains("# TYPE airisk_gateway_in_flight gauge\nairisk_gateway_in_flight 0\n"),
            "{t}"
        );
        assert_eq!(
            m.counter(
                "airisk_gateway_requests_total",
                &[("route", "a"), ("code", "200")]
            ),
            2
        );
    }
}
