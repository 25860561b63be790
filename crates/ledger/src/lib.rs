//! # airisk-ledger: the pure core of the airisk evidence ledger
//!
//! A tamper-evident, append-only log of register changes and evidence, built on the
//! RFC 9162 (Certificate Transparency 2.0) Merkle tree and the C2SP `tlog-checkpoint`
//! and `signed-note` formats. This crate holds everything that can be computed without a
//! database:
//!
//! * [`hash`], [`tree`]: RFC 9162 §2.1 hashing, roots, inclusion and consistency proofs
//!   and their verification, generated from any [`HashSource`] of stored subtree hashes;
//! * [`Frontier`] (O(log n) append and root) and [`MemoryTree`];
//! * [`Entry`]: the ledger entry and its canonical byte encoding (the leaf data);
//! * [`Checkpoint`], [`SignerKey`], [`VerifierKey`], [`Note`]: checkpoints and Ed25519
//!   signed notes;
//! * [`LogVerifier`]: full verification of a stored log with a diagnosis of the first bad
//!   index;
//! * [`Bundle`], [`verify_bundle`]: offline evidence bundles.
//!
//! The formats are specified in `docs/ledger.md`.
//!
//! ## What it is not
//! No storage, no IO, no async, no clock: the store (`airisk-store`) persists entries,
//! node hashes, checkpoints and keys, implements [`HashSource`], and decides when to cut
//! checkpoints. Payloads never enter the tree, only their SHA-256, so a payload can be
//! erased without breaking any proof.
//!
//! ## Invariants
//! * Leaf hash = `SHA-256(0x00 ‖ Entry::encode())`, node hash = `SHA-256(0x01 ‖ l ‖ r)`.
//! * Entry encoding is canonical: [`Entry::decode`] accepts exactly the bytes
//!   [`Entry::encode`] produces.
//! * Every parser of untrusted input (entries, notes, keys, checkpoints, proofs,
//!   bundles) returns [`LedgerError`] and never panics.
//! * Proof generation reads stored hashes only; it never rehashes the whole tree.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod bundle;
pub mod checkpoint;
pub mod compact;
pub mod entry;
pub mod error;
pub mod hash;
pub mod note;
pub mod proof;
pub mod tree;
pub mod verify;

pub use bundle::{verify_bundle, Bundle, PayloadStatus, VerifiedBundle, BUNDLE_FORMAT};
pub use checkpoint::{Checkpoint, SignedCheckpoint};
pub use compact::{Frontier, MemoryTree};
pub use entry::{Entry, EntryKind, EntryRef};
pub use error::{LedgerError, Result};
pub use hash::{empty_root, leaf_hash, node_hash, sha256, Hash};
pub use note::{key_id, Note, NoteSignature, SignerKey, VerifierKey};
pub use proof::{ConsistencyProof, InclusionProof};
pub use tree::{
    consistency_proof, consistency_proof_from_leaves, inclusion_proof, inclusion_proof_from_leaves,
    root, root_from_inclusion_proof, root_from_source, verify_consistency, verify_inclusion,
    HashSource, LeafSlice, NodeId,
};
pub use verify::{Diagnosis, Finding, LogFailure, LogReport, LogVerifier};
