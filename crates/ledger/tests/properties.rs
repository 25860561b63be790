//! Property tests: every honest proof verifies; every altered hash, index or size fails
//! (except alterations that describe a literally identical computation, which no proof
//! can detect: the signed checkpoint binds size to root); parsers never panic.

use airisk_ledger::*;
use proptest::prelude::*;

fn leaves_for(n: usize, seed: u64) -> Vec<Hash> {
    (0..n as u64)
        .map(|i| leaf_hash(&[seed.to_be_bytes(), i.to_be_bytes()].concat()))
        .collect()
}

/// Literal RFC 9162 §2.1 recursion, as an oracle independent of the crate's planner.
fn mth(d: &[Hash]) -> Hash {
    match d.len() {
        0 => empty_root(),
        1 => d[0],
        n => {
            let k = k_of(n);
            node_hash(&mth(&d[..k]), &mth(&d[k..]))
        }
    }
}

fn k_of(n: usize) -> usize {
    let mut k = 1;
    while k * 2 < n {
        k *= 2;
    }
    k
}

fn path(m: usize, d: &[Hash]) -> Vec<Hash> {
    if d.len() <= 1 {
        return vec![];
    }
    let k = k_of(d.len());
    if m < k {
        let mut p = path(m, &d[..k]);
        p.push(mth(&d[k..]));
        p
    } else {
        let mut p = path(m - k, &d[k..]);
        p.push(mth(&d[..k]));
        p
    }
}

fn subproof(m: usize, d: &[Hash], b: bool) -> Vec<Hash> {
    let n = d.len();
    if m == n {
        return if b { vec![] } else { vec![mth(d)] };
    }
    let k = k_of(n);
    if m <= k {
        let mut p = subproof(m, &d[..k], b);
        p.push(mth(&d[k..]));
        p
    } else {
        let mut p = subproof(m - k, &d[k..], false);
        p.push(mth(&d[..k]));
        p
    }
}

/// Symbolic run of the RFC 9162 §2.1.3.2 inclusion verification: the expression it
/// would hash, or None if it fails structurally. Equal expressions = indistinguishable.
fn sym_inclusion(index: u64, size: u64, len: usize) -> Option<String> {
    if index >= size {
        return None;
    }
    let (mut f, mut s) = (index, size - 1);
    let mut r = "L".to_string();
    for i in 0..len {
        if s == 0 {
            return None;
        }
        if f & 1 == 1 || f == s {
            r = format!("(p{i},{r})");
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            r = format!("({r},p{i})");
        }
        f >>= 1;
        s >>= 1;
    }
    (s == 0).then_some(r)
}

/// Symbolic run of the RFC 9162 §2.1.4.2 consistency verification (0 < old < new).
fn sym_consistency(old: u64, new: u64, len: usize) -> Option<(String, String)> {
    if old == 0 || old >= new || len == 0 {
        return None;
    }
    let mut toks: Vec<String> = (0..len).map(|i| format!("p{i}")).collect();
    if old.is_power_of_two() {
        toks.insert(0, "O".into());
    }
    let (mut f, mut s) = (old - 1, new - 1);
    while f & 1 == 1 {
        f >>= 1;
        s >>= 1;
    }
    let (mut fr, mut sr) = (toks[0].clone(), toks[0].clone());
    for c in &toks[1..] {
        if s == 0 {
            return None;
        }
        if f & 1 == 1 || f == s {
            fr = format!("({c},{fr})");
            sr = format!("({c},{sr})");
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            sr = format!("({sr},{c})");
        }
        f >>= 1;
        s >>= 1;
    }
    (s == 0).then_some((fr, sr))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn roots_agree(n in 0usize..300, seed in any::<u64>()) {
        let leaves = leaves_for(n, seed);
        let want = mth(&leaves);
        prop_assert_eq!(root(&leaves), want);
        let mut f = Frontier::new();
        let mut completed = Vec::new();
        for l in &leaves {
            f.append_with(*l, |id, h| completed.push((id, *h)));
        }
        prop_assert_eq!(f.root(), want);
        let mem = MemoryTree::from_leaf_hashes(leaves.clone(), 2);
        prop_assert_eq!(mem.root(), want);
        // Every node the frontier reported is the true hash of that subtree.
        for (id, h) in completed {
            prop_assert_eq!(mem.subtree_hash(id).unwrap(), h);
        }
        // The frontier can be reloaded from stored subtree hashes.
        let g = Frontier::from_source(&mem, n as u64).unwrap();
        prop_assert_eq!(g, f);
    }

    #[test]
    fn inclusion_proofs(n in 1usize..200, seed in any::<u64>(), pick in any::<u64>(),
                        flip in any::<(usize, usize, u8)>(), other in any::<u64>()) {
        let leaves = leaves_for(n, seed);
        let size = n as u64;
        let m = pick % size;
        let r = root(&leaves);
        let mem = MemoryTree::from_leaf_hashes(leaves.clone(), 1);
        let p = mem.inclusion_proof(m, size).unwrap();
        prop_assert_eq!(&p, &path(m as usize, &leaves));
        prop_assert_eq!(&p, &inclusion_proof_from_leaves(&leaves, m).unwrap());
        verify_inclusion(&leaves[m as usize], m, size, &p, &r).unwrap();

        // Altered hash in the proof.
        if !p.is_empty() {
            let mut q = p.clone();
            let (i, b, x) = flip;
            let len = q.len();
            q[i % len][b % 32] ^= x | 1;
            prop_assert!(verify_inclusion(&leaves[m as usize], m, size, &q, &r).is_err());
        }
        // Altered leaf, altered root.
        let mut bad_leaf = leaves[m as usize];
        bad_leaf[(flip.1) % 32] ^= flip.2 | 1;
        prop_assert!(verify_inclusion(&bad_leaf, m, size, &p, &r).is_err());
        let mut bad_root = r;
        bad_root[(flip.0) % 32] ^= flip.2 | 1;
        prop_assert!(verify_inclusion(&leaves[m as usize], m, size, &p, &bad_root).is_err());
        // Altered index or size: fails unless the verification is literally the same.
        let honest = sym_inclusion(m, size, p.len());
        prop_assert!(honest.is_some());
        let m2 = other % (size + 2);
        if m2 != m {
            let ok = verify_inclusion(&leaves[m as usize], m2, size, &p, &r).is_ok();
            prop_assert_eq!(ok, sym_inclusion(m2, size, p.len()) == honest, "index {} -> {}", m, m2);
        }
        let s2 = other % (2 * size + 2);
        if s2 != size {
            let ok = verify_inclusion(&leaves[m as usize], m, s2, &p, &r).is_ok();
            prop_assert_eq!(ok, sym_inclusion(m, s2, p.len()) == honest, "size {} -> {}", size, s2);
        }
        // Truncated or extended proof.
        if !p.is_empty() {
            prop_assert!(verify_inclusion(&leaves[m as usize], m, size, &p[..p.len() - 1], &r).is_err());
        }
        let mut longer = p.clone();
        longer.push(r);
        prop_assert!(verify_inclusion(&leaves[m as usize], m, size, &longer, &r).is_err());
    }

    #[test]
    fn consistency_proofs(n in 1usize..200, seed in any::<u64>(), pick in any::<u64>(),
                          flip in any::<(usize, usize, u8)>(), other in any::<u64>()) {
        let leaves = leaves_for(n, seed);
        let new = n as u64;
        let old = pick % (new + 1);
        let (r1, r2) = (root(&leaves[..old as usize]), root(&leaves));
        let mem = MemoryTree::from_leaf_hashes(leaves.clone(), 1);
        let p = mem.consistency_proof(old, new).unwrap();
        let want = if old == 0 || old == new { vec![] } else { subproof(old as usize, &leaves, true) };
        prop_assert_eq!(&p, &want);
        prop_assert_eq!(&p, &consistency_proof_from_leaves(&leaves, old).unwrap());
        verify_consistency(old, new, &r1, &r2, &p).unwrap();

        let (i, b, x) = flip;
        if !p.is_empty() {
            let mut q = p.clone();
            let len = q.len();
            q[i % len][b % 32] ^= x | 1;
            prop_assert!(verify_consistency(old, new, &r1, &r2, &q).is_err());
            prop_assert!(verify_consistency(old, new, &r1, &r2, &p[..p.len() - 1]).is_err());
        }
        let mut bad = r1;
        bad[b % 32] ^= x | 1;
        prop_assert!(verify_consistency(old, new, &bad, &r2, &p).is_err());
        let mut bad2 = r2;
        bad2[b % 32] ^= x | 1;
        if old > 0 {
            prop_assert!(verify_consistency(old, new, &r1, &bad2, &p).is_err());
        }
        // Altered sizes fail unless the verification is literally the same.
        if old > 0 && old < new {
            let honest = sym_consistency(old, new, p.len());
            prop_assert!(honest.is_some());
            let o2 = other % (new + 1);
            if o2 != old {
                let ok = verify_consistency(o2, new, &r1, &r2, &p).is_ok();
                prop_assert_eq!(ok, sym_consistency(o2, new, p.len()) == honest, "old {} -> {}", old, o2);
            }
            let n2 = other % (2 * new + 2);
            if n2 != new {
                let ok = verify_consistency(old, n2, &r1, &r2, &p).is_ok();
                prop_assert_eq!(ok, sym_consistency(old, n2, p.len()) == honest, "new {} -> {}", new, n2);
            }
        }
    }

    #[test]
    fn entry_round_trip(index in any::<u64>(), ts in any::<u64>(), kind in "[a-z][a-z0-9_.:-]{0,63}",
                        actor in "[^\\p{Cc}]{1,40}", subject in "[^\\p{Cc}]{0,40}", payload in any::<Vec<u8>>()) {
        let e = Entry::for_payload(index, ts, EntryKind::parse(&kind).unwrap(), actor, subject, &payload).unwrap();
        let b = e.encode().unwrap();
        prop_assert_eq!(Entry::decode(&b).unwrap(), e.clone());
        // Any single-byte change either fails to decode or decodes to a different entry.
        for i in 0..b.len() {
            let mut c = b.clone();
            c[i] ^= 0x01;
            if let Ok(d) = Entry::decode(&c) {
                prop_assert_ne!(d, e.clone());
            }
        }
    }

    #[test]
    fn parsers_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let _ = Entry::decode(&bytes);
        let _ = Bundle::parse(&bytes);
        let key = SignerKey::from_seed("k", [5; 32]).unwrap().verifier();
        let _ = verify_bundle(&bytes, &key);
        if let Ok(s) = std::str::from_utf8(&bytes) {
            let _ = Note::parse(s);
            let _ = Checkpoint::parse(s);
            let _ = VerifierKey::parse(s);
            let _ = SignerKey::parse(s);
            let _ = key.open(s);
        }
    }

    #[test]
    fn text_parsers_never_panic(s in "(\\PC|\n|\u{2014} |\\+|=|[A-Za-z0-9/]){0,300}") {
        let key = SignerKey::from_seed("k", [5; 32]).unwrap().verifier();
        let _ = Note::parse(&s);
        let _ = Checkpoint::parse(&s);
        let _ = VerifierKey::parse(&s);
        let _ = SignerKey::parse(&s);
        let _ = key.open(&s);
        let _ = Checkpoint::open(&s, &key);
    }

    #[test]
    fn key_strings_round_trip(seed in any::<[u8; 32]>(), name in "[a-z0-9./_-]{1,30}") {
        let k = SignerKey::from_seed(&name, seed).unwrap();
        let k2 = SignerKey::parse(&k.to_key_string()).unwrap();
        prop_assert_eq!(k2.to_key_string(), k.to_key_string());
        let v = VerifierKey::parse(&k.verifier().to_string()).unwrap();
        prop_assert_eq!(v, k.verifier());
    }

    #[test]
    fn signed_checkpoint_mutations_fail(size in any::<u64>(), root_bytes in any::<[u8; 32]>(),
                                        seed in any::<[u8; 32]>(), pos in any::<usize>(), x in 1u8..=255) {
        let k = SignerKey::from_seed("log.example/ledger", seed).unwrap();
        let c = Checkpoint::new("log.example/ledger", size, root_bytes);
        let note = c.sign(&k).unwrap();
        let sc = Checkpoint::open(&note, &k.verifier()).unwrap();
        prop_assert_eq!(sc.checkpoint, c);
        let mut b = note.clone().into_bytes();
        let i = pos % b.len();
        b[i] ^= x;
        if let Ok(s) = String::from_utf8(b) {
            prop_assert!(Checkpoint::open(&s, &k.verifier()).is_err(), "mutation at {} accepted", i);
        }
    }
}

/// Documents why the size properties above allow "literally the same computation": the
/// proof of leaf 0 in a 4-leaf tree also verifies as leaf 0 of a 3-leaf tree against
/// the same root, because the verifier hashes exactly the same bytes. A verifier must
/// take the size from the signed checkpoint, never from the proof's sender alone.
#[test]
fn size_is_bound_by_the_checkpoint_not_the_proof() {
    let leaves = leaves_for(4, 1);
    let r = root(&leaves);
    let p = inclusion_proof_from_leaves(&leaves, 0).unwrap();
    verify_inclusion(&leaves[0], 0, 4, &p, &r).unwrap();
    assert!(verify_inclusion(&leaves[0], 0, 3, &p, &r).is_ok());
    assert_eq!(sym_inclusion(0, 3, 2), sym_inclusion(0, 4, 2));
    assert!(verify_inclusion(&leaves[0], 0, 5, &p, &r).is_err());
}

/// Exhaustive over small trees: every inclusion and consistency proof equals the
/// literal RFC recursion, verifies, and fails against the neighbouring leaf or root.
#[test]
fn exhaustive_small_trees() {
    for n in 1..=48usize {
        let leaves = leaves_for(n, n as u64);
        let mem = MemoryTree::from_leaf_hashes(leaves.clone(), 1);
        let r = mth(&leaves);
        for m in 0..n {
            let p = mem.inclusion_proof(m as u64, n as u64).unwrap();
            assert_eq!(p, path(m, &leaves), "PATH({m}, {n})");
            verify_inclusion(&leaves[m], m as u64, n as u64, &p, &r).unwrap();
            if n > 1 {
                let other = (m + 1) % n;
                assert!(verify_inclusion(&leaves[other], m as u64, n as u64, &p, &r).is_err());
            }
        }
        for old in 0..=n {
            let p = mem.consistency_proof(old as u64, n as u64).unwrap();
            let r1 = mth(&leaves[..old]);
            verify_consistency(old as u64, n as u64, &r1, &r, &p).unwrap();
            if old > 0 && old < n {
                assert_eq!(p, subproof(old, &leaves, true), "PROOF({old}, {n})");
                let wrong = mth(&leaves[..old - 1]);
                assert!(verify_consistency(old as u64, n as u64, &wrong, &r, &p).is_err());
            }
        }
    }
}
