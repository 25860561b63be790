//! Evidence bundles verify offline, and fail with a clear reason when anything is off.

use airisk_ledger::*;

const ORIGIN: &str = "airisk.test/ledger";

fn make(payload_included: bool) -> (Vec<u8>, SignerKey, Vec<u8>) {
    let key = SignerKey::from_seed(ORIGIN, [9; 32]).unwrap();
    let mut tree = MemoryTree::new();
    let mut entries = Vec::new();
    for i in 0..13u64 {
        let payload = format!("evidence file {i}").into_bytes();
        let e = Entry::for_payload(
            i,
            1_700_000_000_000 + i,
            EntryKind::Evidence,
            "bob",
            "risk:R-12",
            &payload,
        )
        .unwrap();
        tree.push(e.leaf_hash().unwrap());
        entries.push((e, payload));
    }
    let size = tree.size();
    let note = Checkpoint::new(ORIGIN, size, tree.root())
        .sign(&key)
        .unwrap();
    let (e, payload) = entries[5].clone();
    let proof = InclusionProof {
        leaf_index: 5,
        tree_size: size,
        hashes: tree.inclusion_proof(5, size).unwrap(),
    };
    let b = Bundle::new(e, payload_included.then(|| payload.clone()), proof, note);
    (b.to_json().unwrap(), key, payload)
}

#[test]
fn good_bundle_verifies() {
    let (json, key, payload) = make(true);
    let v = verify_bundle(&json, &key.verifier()).unwrap();
    assert_eq!(v.entry.index, 5);
    assert_eq!(v.payload, PayloadStatus::Present(payload));
    assert_eq!(v.checkpoint.checkpoint.origin, ORIGIN);
    let (json, key, _) = make(false);
    let v = verify_bundle(&json, &key.verifier()).unwrap();
    assert_eq!(v.payload, PayloadStatus::Absent);
    assert!(!String::from_utf8(json).unwrap().contains("\"payload\""));
}

#[test]
fn wrong_key() {
    let (json, _, _) = make(true);
    let other = SignerKey::from_seed(ORIGIN, [10; 32]).unwrap();
    let e = verify_bundle(&json, &other.verifier()).unwrap_err();
    assert!(matches!(e, LedgerError::NoSignatureByKey { .. }), "{e}");
}

fn edit(json: &[u8], f: impl FnOnce(&mut serde_json::Value)) -> Vec<u8> {
    let mut v: serde_json::Value = serde_json::from_slice(json).unwrap();
    f(&mut v);
    serde_json::to_vec(&v).unwrap()
}

#[test]
fn wrong_proof() {
    let (json, key, _) = make(true);
    let k = key.verifier();
    let bad = edit(&json, |v| {
        let h = v["inclusion_proof"]["hashes"][1]
            .as_str()
            .unwrap()
            .to_string();
        let flipped = if h.starts_with('0') { "1" } else { "0" };
        v["inclusion_proof"]["hashes"][1] = format!("{flipped}{}", &h[1..]).into();
    });
    assert!(matches!(
        verify_bundle(&bad, &k).unwrap_err(),
        LedgerError::InclusionProof(_)
    ));
    let bad = edit(&json, |v| v["inclusion_proof"]["leaf_index"] = 6.into());
    assert!(matches!(
        verify_bundle(&bad, &k).unwrap_err(),
        LedgerError::BundleMismatch(_)
    ));
    let bad = edit(&json, |v| v["inclusion_proof"]["tree_size"] = 12.into());
    assert!(matches!(
        verify_bundle(&bad, &k).unwrap_err(),
        LedgerError::BundleMismatch(_)
    ));
    // Entry edited (index moved together with the proof's index): proof no longer fits.
    let bad = edit(&json, |v| v["entry"]["actor"] = "mallory".into());
    assert!(matches!(
        verify_bundle(&bad, &k).unwrap_err(),
        LedgerError::InclusionProof(_)
    ));
}

#[test]
fn payload_not_matching_hash() {
    let (json, key, _) = make(true);
    let bad = edit(&json, |v| v["payload"] = "aGVsbG8=".into());
    let e = verify_bundle(&bad, &key.verifier()).unwrap_err();
    assert!(matches!(e, LedgerError::PayloadMismatch { .. }), "{e}");
}

#[test]
fn truncated_and_malformed() {
    let (json, key, _) = make(true);
    let k = key.verifier();
    for cut in [0, 1, json.len() / 3, json.len() / 2, json.len() - 3] {
        let e = verify_bundle(&json[..cut], &k).unwrap_err();
        assert!(matches!(e, LedgerError::Bundle(_)), "cut {cut}: {e}");
    }
    let e = verify_bundle(&json[..json.len() / 2], &k).unwrap_err();
    assert!(e.to_string().contains("truncated"), "{e}");
    let bad = edit(&json, |v| v["extra"] = 1.into());
    assert!(matches!(
        verify_bundle(&bad, &k).unwrap_err(),
        LedgerError::Bundle(_)
    ));
    let bad = edit(&json, |v| v["format"] = "other/1".into());
    assert!(matches!(
        verify_bundle(&bad, &k).unwrap_err(),
        LedgerError::Bundle(_)
    ));
    let bad = edit(&json, |v| v["entry"]["payload_sha256"] = "zz".into());
    assert!(matches!(
        verify_bundle(&bad, &k).unwrap_err(),
        LedgerError::Bundle(_)
    ));
    // A checkpoint with its signature lines cut off.
    let bad = edit(&json, |v| {
        let c = v["checkpoint"].as_str().unwrap();
        let cut = c.find("\n\n").unwrap() + 1;
        v["checkpoint"] = c[..cut].into();
    });
    assert!(matches!(
        verify_bundle(&bad, &k).unwrap_err(),
        LedgerError::Note(_)
    ));
}
