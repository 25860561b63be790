//! Benchmarks of the ledger's hot paths over a 1,000,000-entry log.
//!
//! Run: `cargo bench -p airisk-ledger --bench ledger`
//! (set `LEDGER_BENCH_N` to change the log size).

use std::hint::black_box;
use std::time::Duration;

use airisk_ledger::*;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};

const ORIGIN: &str = "airisk.bench/ledger";

fn n() -> u64 {
    std::env::var("LEDGER_BENCH_N")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000)
}

fn entries(n: u64) -> Vec<Vec<u8>> {
    (0..n)
        .map(|i| {
            let mut payload = [0u8; 32];
            payload[..8].copy_from_slice(&i.to_be_bytes());
            Entry {
                index: i,
                timestamp_ms: 1_700_000_000_000 + i,
                kind: EntryKind::RegisterChange,
                actor: "user:alice@example.com".into(),
                subject: format!("risk:R-{}", i % 5000),
                payload_sha256: sha256(&payload),
            }
            .encode()
            .expect("valid entry")
        })
        .collect()
}

/// Simple deterministic index sequence (xorshift) for proof benchmarks.
fn indices(count: usize, below: u64) -> Vec<u64> {
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    (0..count)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % below
        })
        .collect()
}

fn benches(c: &mut Criterion) {
    let n = n();
    let leaves = entries(n);
    let leaf_hashes: Vec<Hash> = leaves.iter().map(|l| leaf_hash(l)).collect();
    let key = SignerKey::from_seed(ORIGIN, [1; 32]).expect("key");
    let tree = MemoryTree::from_leaf_hashes(leaf_hashes.clone(), 2);
    let checkpoints: Vec<String> = [n / 4, n / 2, n - 1000, n]
        .iter()
        .map(|&s| {
            Checkpoint::new(ORIGIN, s, tree.root_at(s).expect("root"))
                .sign(&key)
                .expect("sign")
        })
        .collect();

    let mut g = c.benchmark_group("full");
    g.sample_size(10)
        .measurement_time(Duration::from_secs(20))
        .throughput(Throughput::Elements(n));
    g.bench_function(format!("verify_log_{n}_2threads"), |b| {
        let v = LogVerifier::new(key.verifier()).origin(ORIGIN).threads(2);
        b.iter(|| {
            let r = v.verify(&leaves, None, &checkpoints).expect("verifies");
            black_box(r.root)
        })
    });
    g.bench_function(format!("verify_log_{n}_1thread"), |b| {
        let v = LogVerifier::new(key.verifier()).origin(ORIGIN).threads(1);
        b.iter(|| {
            black_box(
                v.verify(&leaves, None, &checkpoints)
                    .expect("verifies")
                    .root,
            )
        })
    });
    g.bench_function(format!("root_frontier_{n}_leaf_hashes"), |b| {
        b.iter(|| {
            let mut f = Frontier::new();
            for h in &leaf_hashes {
                f.append(*h);
            }
            black_box(f.root())
        })
    });
    g.bench_function(format!("memory_tree_build_{n}_2threads"), |b| {
        b.iter_batched(
            || leaf_hashes.clone(),
            |v| black_box(MemoryTree::from_leaf_hashes(v, 2).root()),
            BatchSize::LargeInput,
        )
    });
    g.finish();

    let mut g = c.benchmark_group("proofs");
    let idx = indices(10_000, n);
    g.throughput(Throughput::Elements(idx.len() as u64));
    g.bench_function(format!("inclusion_proof_x10000_in_{n}"), |b| {
        b.iter(|| {
            for &i in &idx {
                black_box(tree.inclusion_proof(i, n).expect("proof"));
            }
        })
    });
    g.bench_function(format!("inclusion_proof_verify_x10000_in_{n}"), |b| {
        let proofs: Vec<Vec<Hash>> = idx
            .iter()
            .map(|&i| tree.inclusion_proof(i, n).expect("proof"))
            .collect();
        let root = tree.root();
        b.iter(|| {
            for (p, &i) in proofs.iter().zip(&idx) {
                verify_inclusion(&leaf_hashes[i as usize], i, n, p, &root).expect("ok");
            }
        })
    });
    g.bench_function(format!("consistency_proof_x10000_in_{n}"), |b| {
        let pairs: Vec<(u64, u64)> = idx
            .iter()
            .zip(indices(10_000, n).iter().rev())
            .map(|(&a, &b)| (a.min(b).max(1), a.max(b).max(1)))
            .collect();
        b.iter(|| {
            for &(o, m) in &pairs {
                black_box(tree.consistency_proof(o, m).expect("proof"));
            }
        })
    });
    g.finish();
}

criterion_group!(ledger, benches);
criterion_main!(ledger);
