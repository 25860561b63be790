//! Full-log verification: each kind of tampering yields the right diagnosis and the
//! first bad index.

use airisk_ledger::*;

const ORIGIN: &str = "airisk.test/ledger";

struct Log {
    leaves: Vec<Vec<u8>>,
    hashes: Vec<Hash>,
    checkpoints: Vec<String>,
    key: SignerKey,
}

fn entry(i: u64) -> Entry {
    Entry::for_payload(
        i,
        1_700_000_000_000 + i,
        if i % 3 == 0 {
            EntryKind::RegisterChange
        } else {
            EntryKind::Evidence
        },
        "alice",
        format!("risk:R-{i}"),
        format!("payload {i}").as_bytes(),
    )
    .unwrap()
}

/// A log of `n` entries with checkpoints signed at each size in `at`.
fn log(n: u64, at: &[u64]) -> Log {
    let key = SignerKey::from_seed(ORIGIN, [42; 32]).unwrap();
    let mut f = Frontier::new();
    let mut leaves = Vec::new();
    let mut hashes = Vec::new();
    let mut checkpoints = Vec::new();
    for i in 0..n {
        let b = entry(i).encode().unwrap();
        let h = leaf_hash(&b);
        f.append(h);
        leaves.push(b);
        hashes.push(h);
        if at.contains(&(i + 1)) {
            checkpoints.push(Checkpoint::new(ORIGIN, i + 1, f.root()).sign(&key).unwrap());
        }
    }
    Log {
        leaves,
        hashes,
        checkpoints,
        key,
    }
}

fn verifier(l: &Log) -> LogVerifier {
    LogVerifier::new(l.key.verifier()).origin(ORIGIN).threads(2)
}

fn fail(r: Result<LogReport>) -> LogFailure {
    match r {
        Err(LedgerError::LogVerification(f)) => *f,
        other => panic!("expected a verification failure, got {other:?}"),
    }
}

#[test]
fn intact_log_verifies() {
    let l = log(100, &[10, 50, 64, 90]);
    let r = verifier(&l)
        .verify(&l.leaves, Some(&l.hashes), &l.checkpoints)
        .unwrap();
    assert_eq!(r.entries, 100);
    assert_eq!(r.checkpoints_verified, 4);
    assert_eq!(r.latest_checkpoint.unwrap().size, 90);
    assert_eq!(r.unsigned_tail, 10);
    assert_eq!(r.root, root(&l.hashes));
    // Checkpoints may come in any order; the empty log verifies too.
    let mut rev = l.checkpoints.clone();
    rev.reverse();
    verifier(&l).verify(&l.leaves, None, &rev).unwrap();
    let none: &[Vec<u8>] = &[];
    let r = verifier(&l).verify(none, None, &[] as &[String]).unwrap();
    assert_eq!(r.root, empty_root());
}

#[test]
fn modified_payload_hash_with_stored_hashes_is_pinpointed() {
    let mut l = log(100, &[50, 100]);
    let n = l.leaves[37].len();
    l.leaves[37][n - 5] ^= 1; // one byte of the payload hash
    let f = fail(verifier(&l).verify(&l.leaves, Some(&l.hashes), &l.checkpoints));
    assert_eq!(f.first.index, 37);
    assert_eq!(f.first.diagnosis, Diagnosis::Modified);
}

#[test]
fn modified_entry_without_stored_hashes_is_bounded_by_checkpoints() {
    let mut l = log(100, &[20, 40, 60, 80, 100]);
    let n = l.leaves[45].len();
    l.leaves[45][n - 1] ^= 0x80;
    let f = fail(verifier(&l).verify(&l.leaves, None, &l.checkpoints));
    assert_eq!(f.first.diagnosis, Diagnosis::Modified);
    // The first checkpoint that no longer matches is the one at 60; 40 still matches.
    assert_eq!(f.first.index, 40);
    assert!(f.first.detail.contains("40..60"), "{}", f.first.detail);
}

#[test]
fn undecodable_entry_is_modified() {
    let mut l = log(30, &[30]);
    l.leaves[12].truncate(5);
    let f = fail(verifier(&l).verify(&l.leaves, None, &l.checkpoints));
    assert_eq!(
        (f.first.index, f.first.diagnosis),
        (12, Diagnosis::Modified)
    );
}

#[test]
fn deleted_row_is_missing() {
    let mut l = log(100, &[50, 100]);
    l.leaves.remove(20);
    l.hashes.remove(20);
    let f = fail(verifier(&l).verify(&l.leaves, Some(&l.hashes), &l.checkpoints));
    assert_eq!((f.first.index, f.first.diagnosis), (20, Diagnosis::Missing));
}

#[test]
fn swapped_rows_are_reordered() {
    let mut l = log(100, &[50, 100]);
    l.leaves.swap(30, 31);
    l.hashes.swap(30, 31);
    let f = fail(verifier(&l).verify(&l.leaves, Some(&l.hashes), &l.checkpoints));
    assert_eq!(
        (f.first.index, f.first.diagnosis),
        (30, Diagnosis::Reordered)
    );
}

#[test]
fn truncated_tail_is_truncated() {
    let mut l = log(100, &[50, 100]);
    l.leaves.truncate(93);
    l.hashes.truncate(93);
    let f = fail(verifier(&l).verify(&l.leaves, Some(&l.hashes), &l.checkpoints));
    assert_eq!(
        (f.first.index, f.first.diagnosis),
        (93, Diagnosis::Truncated)
    );
}

#[test]
fn altered_signature_is_bad_signature() {
    let mut l = log(100, &[50, 100]);
    // Flip one base64 character of the signature of the first checkpoint.
    let c = &mut l.checkpoints[0];
    let pos = c.len() - 10;
    let ch = c.as_bytes()[pos];
    let repl = if ch == b'A' { "B" } else { "A" };
    c.replace_range(pos..pos + 1, repl);
    let f = fail(verifier(&l).verify(&l.leaves, Some(&l.hashes), &l.checkpoints));
    assert_eq!(f.first.diagnosis, Diagnosis::BadSignature);
    assert_eq!(f.first.checkpoint, Some(0));
    assert_eq!(f.first.index, 50);
}

#[test]
fn checkpoint_by_another_key_is_bad_signature() {
    let mut l = log(10, &[10]);
    let other = SignerKey::from_seed(ORIGIN, [7; 32]).unwrap();
    l.checkpoints.push(
        Checkpoint::new(ORIGIN, 5, root(&l.hashes[..5]))
            .sign(&other)
            .unwrap(),
    );
    let f = fail(verifier(&l).verify(&l.leaves, None, &l.checkpoints));
    assert_eq!(f.first.diagnosis, Diagnosis::BadSignature);
}

#[test]
fn forked_checkpoint_is_inconsistent() {
    let mut l = log(100, &[50, 100]);
    // The key signs a size-60 checkpoint over a different history.
    let mut forged = l.hashes[..60].to_vec();
    forged[10] = leaf_hash(b"other");
    l.checkpoints.push(
        Checkpoint::new(ORIGIN, 60, root(&forged))
            .sign(&l.key)
            .unwrap(),
    );
    let f = fail(verifier(&l).verify(&l.leaves, Some(&l.hashes), &l.checkpoints));
    assert_eq!(f.first.diagnosis, Diagnosis::CheckpointInconsistent);
    assert_eq!(f.first.checkpoint, Some(2));
    // Two checkpoints of one size with different roots.
    let mut l = log(20, &[20]);
    l.checkpoints
        .push(Checkpoint::new(ORIGIN, 20, [0; 32]).sign(&l.key).unwrap());
    let f = fail(verifier(&l).verify(&l.leaves, None, &l.checkpoints));
    assert_eq!(f.first.diagnosis, Diagnosis::CheckpointInconsistent);
}

#[test]
fn wrong_origin_and_garbage_checkpoints() {
    let mut l = log(10, &[10]);
    l.checkpoints.push("not a note".into());
    let f = fail(verifier(&l).verify(&l.leaves, None, &l.checkpoints));
    assert_eq!(f.first.diagnosis, Diagnosis::MalformedCheckpoint);
    let l2 = log(10, &[10]);
    let v = LogVerifier::new(l2.key.verifier()).origin("elsewhere");
    let f = fail(v.verify(&l2.leaves, None, &l2.checkpoints));
    assert_eq!(f.first.diagnosis, Diagnosis::MalformedCheckpoint);
}

#[test]
fn first_bad_index_wins() {
    let mut l = log(200, &[100, 200]);
    l.leaves.swap(150, 151);
    let n = l.leaves[70].len();
    l.leaves[70][n - 1] ^= 1;
    let f = fail(verifier(&l).verify(&l.leaves, Some(&l.hashes), &l.checkpoints));
    assert_eq!(
        (f.first.index, f.first.diagnosis),
        (70, Diagnosis::Modified)
    );
    assert!(f.findings.len() >= 2);
    assert!(f.findings.windows(2).all(|w| w[0].index <= w[1].index));
}

#[test]
fn large_log_parallel_matches_serial() {
    let l = log(20_000, &[8192, 20_000]);
    let a = verifier(&l)
        .threads(1)
        .verify(&l.leaves, None, &l.checkpoints)
        .unwrap();
    let b = verifier(&l)
        .threads(4)
        .verify(&l.leaves, None, &l.checkpoints)
        .unwrap();
    assert_eq!(a, b);
}

#[test]
fn parallel_path_reports_positions() {
    let mut l = log(20_000, &[20_000]);
    l.leaves[15_001].truncate(3);
    l.leaves[17_000][0] = 9;
    for threads in [1, 3] {
        let f = fail(
            verifier(&l)
                .threads(threads)
                .verify(&l.leaves, None, &l.checkpoints),
        );
        assert_eq!(
            (f.first.index, f.first.diagnosis),
            (15_001, Diagnosis::Modified)
        );
        assert!(f.findings.iter().any(|x| x.index == 17_000));
    }
}
