//! C2SP tlog-checkpoint: the signed statement of a tree size and root.
//!
//! ```text
//! <origin>\n
//! <tree size, decimal, no leading zeros>\n
//! <base64 root hash>\n
//! [<extension line>\n]...
//! ```

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;

use crate::error::{LedgerError, Result};
use crate::hash::Hash;
use crate::note::{Note, SignerKey, VerifierKey};
use crate::tree::verify_consistency;

/// A checkpoint body: origin, tree size, root hash and optional extension lines.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    /// The log's identity, e.g. `airisk.example/ledger`.
    pub origin: String,
    /// Number of leaves committed to.
    pub size: u64,
    /// RFC 9162 root of the first `size` leaves.
    pub root: Hash,
    /// Extension lines (discouraged by C2SP; preserved and signed if present).
    pub extensions: Vec<String>,
}

fn bad(why: impl Into<String>) -> LedgerError {
    LedgerError::Checkpoint(why.into())
}

fn check_line(what: &str, s: &str) -> Result<()> {
    if s.is_empty() {
        return Err(bad(format!("{what} is empty")));
    }
    if let Some(c) = s.chars().find(|c| c.is_control()) {
        return Err(bad(format!(
            "{what} contains control character U+{:04X}",
            c as u32
        )));
    }
    Ok(())
}

impl Checkpoint {
    /// A checkpoint without extension lines.
    pub fn new(origin: impl Into<String>, size: u64, root: Hash) -> Self {
        Checkpoint {
            origin: origin.into(),
            size,
            root,
            extensions: Vec::new(),
        }
    }

    /// The checkpoint's note text (the signed body), ending in a newline.
    pub fn to_text(&self) -> Result<String> {
        check_line("origin", &self.origin)?;
        for e in &self.extensions {
            check_line("extension line", e)?;
        }
        let mut s = format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            B64.encode(self.root)
        );
        for e in &self.extensions {
            s.push_str(e);
            s.push('\n');
        }
        Ok(s)
    }

    /// Parses a checkpoint body strictly.
    pub fn parse(text: &str) -> Result<Self> {
        let body = text
            .strip_suffix('\n')
            .ok_or_else(|| bad("text must end with a newline"))?;
        let mut lines = body.split('\n');
        let origin = lines.next().unwrap_or_default();
        check_line("origin", origin)?;
        let size_s = lines.next().ok_or_else(|| bad("missing tree size line"))?;
        if size_s.is_empty()
            || !size_s.bytes().all(|b| b.is_ascii_digit())
            || (size_s.len() > 1 && size_s.starts_with('0'))
        {
            return Err(bad(format!(
                "tree size {size_s:?} must be a decimal number without leading zeros"
            )));
        }
        let size: u64 = size_s
            .parse()
            .map_err(|_| bad(format!("tree size {size_s:?} does not fit in 64 bits")))?;
        let root_s = lines.next().ok_or_else(|| bad("missing root hash line"))?;
        let raw = B64
            .decode(root_s)
            .map_err(|e| bad(format!("root hash is not valid base64: {e}")))?;
        let root: Hash = raw
            .as_slice()
            .try_into()
            .map_err(|_| bad(format!("root hash is {} bytes, expected 32", raw.len())))?;
        let mut extensions = Vec::new();
        for l in lines {
            check_line("extension line", l)?;
            extensions.push(l.to_owned());
        }
        Ok(Checkpoint {
            origin: origin.to_owned(),
            size,
            root,
            extensions,
        })
    }

    /// Checks that `self` extends `older`: same origin, size not smaller, and `proof` (an
    /// RFC 9162 consistency proof from `older.size` to `self.size`) links the roots.
    /// A log calls this before signing a new checkpoint, so it never signs a fork.
    pub fn check_extends(&self, older: &Checkpoint, proof: &[Hash]) -> Result<()> {
        if self.origin != older.origin {
            return Err(bad(format!(
                "origin {:?} differs from the older checkpoint's {:?}",
                self.origin, older.origin
            )));
        }
        verify_consistency(older.size, self.size, &older.root, &self.root, proof)
    }

    /// Signs the checkpoint, returning the complete signed note.
    pub fn sign(&self, key: &SignerKey) -> Result<String> {
        key.sign_note(&self.to_text()?)
    }

    /// Parses a signed checkpoint note and verifies its signature by `key`.
    pub fn open(note: &str, key: &VerifierKey) -> Result<SignedCheckpoint> {
        let n = key.open(note)?;
        let checkpoint = Checkpoint::parse(&n.text)?;
        Ok(SignedCheckpoint {
            checkpoint,
            note: n,
        })
    }
}

/// A checkpoint whose signature by the expected key has been verified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedCheckpoint {
    /// The parsed body.
    pub checkpoint: Checkpoint,
    /// The note it came from, with all its signature lines.
    pub note: Note,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::empty_root;

    #[test]
    fn round_trip_and_strictness() {
        let c = Checkpoint::new("example.com/log", 42, empty_root());
        let t = c.to_text().unwrap();
        assert_eq!(
            t,
            "example.com/log\n42\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n"
        );
        assert_eq!(Checkpoint::parse(&t).unwrap(), c);
        for bad in [
            "example.com/log\n042\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n",
            "example.com/log\n+42\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n",
            "example.com/log\n42\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuF=\n",
            "example.com/log\n42\n",
            "\n42\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n",
            "example.com/log\n42\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n\n",
            "example.com/log\n42\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",
            "example.com/log\n18446744073709551616\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n",
        ] {
            assert!(Checkpoint::parse(bad).is_err(), "{bad:?}");
        }
        let mut e = c.clone();
        e.extensions.push("ext".into());
        assert_eq!(Checkpoint::parse(&e.to_text().unwrap()).unwrap(), e);
    }

    #[test]
    fn extends() {
        use crate::compact::MemoryTree;
        use crate::hash::leaf_hash;
        let t = MemoryTree::from_leaf_hashes((0..9u8).map(|i| leaf_hash(&[i])).collect(), 1);
        let old = Checkpoint::new("o", 5, t.root_at(5).unwrap());
        let new = Checkpoint::new("o", 9, t.root());
        let p = t.consistency_proof(5, 9).unwrap();
        new.check_extends(&old, &p).unwrap();
        assert!(old.check_extends(&new, &p).is_err());
        let forked = Checkpoint::new("o", 9, [1; 32]);
        assert!(forked.check_extends(&old, &p).is_err());
        let other = Checkpoint::new("p", 9, t.root());
        assert!(other.check_extends(&old, &p).is_err());
    }

    #[test]
    fn sign_and_open() {
        let k = SignerKey::from_seed("example.com/log", [3u8; 32]).unwrap();
        let c = Checkpoint::new("example.com/log", 5, [9u8; 32]);
        let note = c.sign(&k).unwrap();
        let sc = Checkpoint::open(&note, &k.verifier()).unwrap();
        assert_eq!(sc.checkpoint, c);
    }
}
