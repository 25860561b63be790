//! Cross-checks against `vectors/formats_reference.txt`, produced independently by
//! `vectors/formats_reference.py` (Python hashlib and `cryptography`'s Ed25519): entry
//! encoding, leaf hash, key strings, key ID, and a signed checkpoint byte for byte.
//! The same values appear as worked examples in docs/ledger.md.

use std::collections::HashMap;

use airisk_ledger::*;
use base64::Engine as _;

fn reference() -> HashMap<&'static str, &'static str> {
    include_str!("vectors/formats_reference.txt")
        .lines()
        .filter_map(|l| l.split_once(' '))
        .collect()
}

#[test]
fn entry_encoding_matches_reference() {
    let r = reference();
    let payload = b"risk assessment v3.pdf contents";
    let e = Entry::for_payload(
        12,
        1_767_225_600_000,
        EntryKind::Evidence,
        "user:alice",
        "risk:R-12",
        payload,
    )
    .unwrap();
    assert_eq!(hex::encode(e.payload_sha256), r["entry_payload_sha256"]);
    assert_eq!(hex::encode(e.encode().unwrap()), r["entry_hex"]);
    assert_eq!(hex::encode(e.leaf_hash().unwrap()), r["entry_leaf_hash"]);
}

#[test]
fn keys_and_signed_checkpoint_match_reference() {
    let r = reference();
    let seed: [u8; 32] = std::array::from_fn(|i| i as u8);
    let k = SignerKey::from_seed("airisk.example/ledger", seed).unwrap();
    assert_eq!(k.to_key_string(), r["signer_key"]);
    assert_eq!(k.verifier().to_string(), r["verifier_key"]);
    let root: Hash = {
        let mut h = [0u8; 32];
        hex::decode_to_slice(
            "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
            &mut h,
        )
        .unwrap();
        h
    };
    let note = Checkpoint::new("airisk.example/ledger", 8, root)
        .sign(&k)
        .unwrap();
    let want = base64::engine::general_purpose::STANDARD
        .decode(r["note_b64"])
        .unwrap();
    assert_eq!(note.as_bytes(), want.as_slice());
    // And the reference note opens with the reference verifier key.
    let v = VerifierKey::parse(r["verifier_key"]).unwrap();
    let sc = Checkpoint::open(std::str::from_utf8(&want).unwrap(), &v).unwrap();
    assert_eq!(sc.checkpoint.size, 8);
    assert_eq!(sc.checkpoint.root, root);
}
