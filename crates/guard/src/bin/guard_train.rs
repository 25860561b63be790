//! `guard-train`: trains the injection classifier reproducibly and reports on a dev set.
//!
//! ```text
//! cargo run -p airisk-guard --release --bin guard-train -- \
//!   --train ../shared/data/guard/injection_train.jsonl \
//!   --train crates/guard/data/goal_hijacking.jsonl \
//!   --dev ../shared/data/guard/injection_dev.jsonl \
//!   --out crates/guard/model/injection.bin --report crates/guard/model/REPORT.md
//! ```
//!
//! Benign rows are also split into sentences that are added as extra benign rows (see
//! `augment`). The threshold is chosen on a held-out 20 % of the training rows (split by a hash of the id)
//! as the lowest score with a false-positive rate at most `--target-fpr` there; the final model
//! is then trained on all training rows. The dev file is only scored, never used for fitting.

use std::process::ExitCode;

use airisk_guard::detectors::classifier::{
    train, Model, ModelConfig, TrainConfig, MAX_GRAM, MIN_GRAM,
};
use airisk_guard::eval::{injection_reports, parse_jsonl, InjectionRow};
use airisk_guard::normalize::{prepare, NormalizeOptions};

struct Args {
    train: Vec<String>,
    dev: Option<String>,
    out: String,
    report: Option<String>,
    epochs: usize,
    bits: u32,
    /// Character n-gram orders, e.g. `3..=5`.
    min_gram: usize,
    max_gram: usize,
    target_fpr: f64,
    dump: Option<String>,
    window: usize,
    stride: usize,
    lr: f32,
    l2: f32,
    augment: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        train: Vec::new(),
        dev: None,
        out: "crates/guard/model/injection.bin".into(),
        report: None,
        epochs: 8,
        bits: 20,
        min_gram: ModelConfig::default().min_gram,
        max_gram: ModelConfig::default().max_gram,
        target_fpr: 0.015,
        dump: None,
        window: 256,
        stride: 128,
        lr: 0.5,
        l2: 3e-4,
        augment: true,
    };
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        let mut v = || it.next().ok_or(format!("{k} needs a value"));
        match k.as_str() {
            "--train" => a.train.push(v()?),
            "--dev" => a.dev = Some(v()?),
            "--out" => a.out = v()?,
            "--report" => a.report = Some(v()?),
            "--dump" => a.dump = Some(v()?),
            "--no-augment" => a.augment = false,
            "--window" => a.window = v()?.parse().map_err(|e| format!("--window: {e}"))?,
            "--stride" => a.stride = v()?.parse().map_err(|e| format!("--stride: {e}"))?,
            "--lr" => a.lr = v()?.parse().map_err(|e| format!("--lr: {e}"))?,
            "--l2" => a.l2 = v()?.parse().map_err(|e| format!("--l2: {e}"))?,
            "--epochs" => a.epochs = v()?.parse().map_err(|e| format!("--epochs: {e}"))?,
            "--bits" => a.bits = v()?.parse().map_err(|e| format!("--bits: {e}"))?,
            "--grams" => {
                let spec = v()?;
                let bad =
                    || format!("--grams: expected MIN-MAX with 2 <= MIN <= MAX <= 8, got {spec:?}");
                let (lo, hi) = spec.split_once('-').ok_or_else(bad)?;
                a.min_gram = lo.parse().map_err(|_| bad())?;
                a.max_gram = hi.parse().map_err(|_| bad())?;
                if !(MIN_GRAM <= a.min_gram && a.min_gram <= a.max_gram && a.max_gram <= MAX_GRAM) {
                    return Err(bad());
                }
            }
            "--target-fpr" => {
                a.target_fpr = v()?.parse().map_err(|e| format!("--target-fpr: {e}"))?
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    if a.train.is_empty() {
        return Err("at least one --train FILE is required".into());
    }
    Ok(a)
}

fn load(path: &str) -> Result<Vec<InjectionRow>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    parse_jsonl(&text).map_err(|e| format!("{path}: {e}"))
}

fn norm(text: &str) -> String {
    prepare(
        text,
        &NormalizeOptions {
            max_decode_depth: 0,
            ..Default::default()
        },
    )
    .segments
    .swap_remove(0)
    .text
}

/// Rows built from the same document (BIPIA: one clean context and its attacked copies) share
/// a group, so the held-out part never sees a document the fitted part was trained on.
fn holdout(id: &str) -> bool {
    let group: String = if id.starts_with("bipia:") {
        id.split(':').take(4).collect::<Vec<_>>().join(":")
    } else {
        id.to_string()
    };
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in group.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h % 5 == 0
}

/// Benign sentence augmentation: every sentence (15 to 300 bytes) of a benign row is added as
/// an extra benign row. Without it, short questions look like attacks to the model, because
/// most short rows in the training data are prompt-extraction attacks.
fn augment(mut rows: Vec<(String, bool)>, on: bool) -> Vec<(String, bool)> {
    if !on {
        return rows;
    }
    let mut extra = Vec::new();
    for (t, y) in &rows {
        if *y {
            continue;
        }
        let mut start = 0;
        for (i, c) in t.char_indices() {
            if matches!(c, '.' | '?' | '!' | '\n' | '。' | '？') {
                let end = i + c.len_utf8();
                let piece = t[start..end].trim();
                if (15..=300).contains(&piece.len()) && piece.len() + 10 < t.len() {
                    extra.push((piece.to_string(), false));
                }
                start = end;
            }
        }
    }
    eprintln!("sentence augmentation: {} extra benign rows", extra.len());
    rows.extend(extra);
    rows
}

fn threshold_for(scores: &[(f32, bool)], target_fpr: f64) -> f32 {
    let mut neg: Vec<f32> = scores.iter().filter(|s| !s.1).map(|s| s.0).collect();
    neg.sort_by(|a, b| b.total_cmp(a));
    let allowed = (neg.len() as f64 * target_fpr).floor() as usize;
    // Lowest threshold with at most `allowed` negatives at or above it.
    let t = neg.get(allowed).copied().unwrap_or(0.0);
    (t + 1e-4).min(0.999)
}

fn run() -> Result<(), String> {
    // `guard-train --score MODEL TEXT...`: print window scores (diagnostics).
    let argv: Vec<String> = std::env::args().collect();
    if argv.get(1).map(String::as_str) == Some("--score") {
        let path = argv.get(2).ok_or("--score MODEL TEXT...")?;
        let bytes = std::fs::read(path).map_err(|e| format!("{path}: {e}"))?;
        let m = Model::from_bytes(&bytes).map_err(|e| e.to_string())?;
        for t in &argv[3..] {
            println!("{:.4}\t{t}", m.score(&norm(t)).0);
        }
        return Ok(());
    }
    let args = parse_args()?;
    let mut rows = Vec::new();
    for p in &args.train {
        rows.extend(load(p)?);
    }
    let data: Vec<(String, bool, bool)> = rows
        .iter()
        .map(|r| (norm(&r.text), r.label == 1, holdout(&r.id)))
        .collect();
    let cfg = TrainConfig {
        model: ModelConfig {
            bits: args.bits,
            window: args.window,
            stride: args.stride,
            min_gram: args.min_gram,
            max_gram: args.max_gram,
        },
        epochs: args.epochs,
        learning_rate: args.lr,
        l2: args.l2,
        ..TrainConfig::default()
    };

    let fit: Vec<(String, bool)> = augment(
        data.iter()
            .filter(|d| !d.2)
            .map(|d| (d.0.clone(), d.1))
            .collect(),
        args.augment,
    );
    eprintln!(
        "fitting on {} rows (holdout {})",
        fit.len(),
        data.len() - fit.len()
    );
    // Round-trip through the stored (quantised) form, so scores match what ships.
    let m0 = Model::from_bytes(&train(&fit, &cfg).to_bytes()).map_err(|e| e.to_string())?;
    let held: Vec<(f32, bool)> = data
        .iter()
        .filter(|d| d.2)
        .map(|d| (m0.score(&d.0).0, d.1))
        .collect();
    let threshold = threshold_for(&held, args.target_fpr);
    let mut dump = String::new();
    for (r, d) in rows.iter().zip(&data).filter(|(_, d)| d.2) {
        dump.push_str(&format!(
            "holdout\t{}\t{}\t{}\t{:.5}\n",
            r.id,
            r.label,
            r.category,
            m0.score(&d.0).0
        ));
    }
    let tp = held.iter().filter(|s| s.1 && s.0 >= threshold).count();
    let pos = held.iter().filter(|s| s.1).count().max(1);
    let fp = held.iter().filter(|s| !s.1 && s.0 >= threshold).count();
    let neg = held.iter().filter(|s| !s.1).count().max(1);
    let mut report = format!(
        "# Injection classifier training report\n\nTraining files: {}\n\nConfig: bits={} grams={}-{} window={} stride={} epochs={} lr={} l2={} seed={}\n\nHeld-out 20% of training rows: threshold {:.4} (target FPR {}), recall {:.3}, FPR {:.4}\n\n",
        args.train.join(", "), cfg.model.bits, cfg.model.min_gram, cfg.model.max_gram, cfg.model.window, cfg.model.stride, cfg.epochs, cfg.learning_rate, cfg.l2, cfg.seed,
        threshold, args.target_fpr, tp as f64 / pos as f64, fp as f64 / neg as f64
    );
    eprintln!("{report}");

    let all: Vec<(String, bool)> = augment(
        data.iter().map(|d| (d.0.clone(), d.1)).collect(),
        args.augment,
    );
    let mut model: Model = train(&all, &cfg);
    model.threshold = threshold;
    let model = Model::from_bytes(&model.to_bytes()).map_err(|e| e.to_string())?;
    std::fs::write(&args.out, model.to_bytes()).map_err(|e| format!("{}: {e}", args.out))?;
    eprintln!("wrote {}", args.out);

    if let Some(dev) = &args.dev {
        let dev_rows = load(dev)?;
        let scores: Vec<f32> = dev_rows
            .iter()
            .map(|r| model.score(&norm(&r.text)).0)
            .collect();
        let preds: Vec<bool> = scores.iter().map(|s| *s >= threshold).collect();
        for (r, s) in dev_rows.iter().zip(&scores) {
            dump.push_str(&format!(
                "dev\t{}\t{}\t{}\t{:.5}\n",
                r.id, r.label, r.category, s
            ));
        }
        report.push_str(&format!(
            "## Classifier alone on {dev} (threshold {threshold:.4})\n\n"
        ));
        for r in injection_reports(&dev_rows, &preds, "classifier only") {
            report.push_str(&r.to_markdown());
            report.push('\n');
        }
    }
    if let Some(p) = &args.dump {
        std::fs::write(p, &dump).map_err(|e| format!("{p}: {e}"))?;
    }
    println!("{report}");
    if let Some(p) = &args.report {
        std::fs::write(p, &report).map_err(|e| format!("{p}: {e}"))?;
    }
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("guard-train: {e}");
            ExitCode::FAILURE
        }
    }
}
