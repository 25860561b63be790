//! Ledger entries and their canonical byte encoding (the Merkle leaf data).
//!
//! Encoding, version 1 (all integers big-endian; see docs/ledger.md):
//!
//! ```text
//! u8      version            = 0x01
//! u64     index              position of the entry in the log, from 0
//! u64     timestamp_ms       milliseconds since 1970-01-01T00:00:00Z
//! u8      kind length K      1..=64
//! K       kind               ASCII [a-z0-9_.:-], first byte a-z
//! u16     actor length A     1..=1024
//! A       actor              UTF-8, no control characters
//! u16     subject length S   0..=1024
//! S       subject            UTF-8, no control characters
//! 32      payload_sha256     SHA-256 of the payload
//! ```
//!
//! The payload itself is not part of the leaf, so it can be erased without breaking any
//! proof. Decoding is strict: exactly one byte string encodes a given entry.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{LedgerError, Result};
use crate::hash::{from_hex, leaf_hash, sha256, to_hex, Hash};

/// Version byte of the current entry encoding.
pub const ENTRY_VERSION: u8 = 0x01;
/// Longest kind, in bytes.
pub const MAX_KIND_LEN: usize = 64;
/// Longest actor or subject, in bytes.
pub const MAX_TEXT_LEN: usize = 1024;
/// Fixed-size part of an encoded entry (everything but the three strings).
const FIXED_LEN: usize = 1 + 8 + 8 + 1 + 2 + 2 + 32;
/// Longest possible encoded entry.
pub const MAX_ENTRY_LEN: usize = FIXED_LEN + MAX_KIND_LEN + 2 * MAX_TEXT_LEN;

/// What an entry records. Unknown kinds are carried as [`EntryKind::Other`].
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum EntryKind {
    /// A change to the risk register.
    RegisterChange,
    /// A piece of evidence was added.
    Evidence,
    /// An approval or sign-off.
    Approval,
    /// A runtime guardrail decision.
    GuardDecision,
    /// A red-team run result.
    RedteamResult,
    /// A monitoring reading.
    MonitorReading,
    /// Any other kind; constructed only through [`EntryKind::parse`], which maps the
    /// well-known names to their variants.
    Other(String),
}

impl EntryKind {
    /// Parses and validates a kind name.
    pub fn parse(s: &str) -> Result<Self> {
        Ok(match s {
            "register_change" => EntryKind::RegisterChange,
            "evidence" => EntryKind::Evidence,
            "approval" => EntryKind::Approval,
            "guard_decision" => EntryKind::GuardDecision,
            "redteam_result" => EntryKind::RedteamResult,
            "monitor_reading" => EntryKind::MonitorReading,
            other => {
                validate_kind(other)?;
                EntryKind::Other(other.to_owned())
            }
        })
    }

    /// The kind's name as encoded.
    pub fn as_str(&self) -> &str {
        match self {
            EntryKind::RegisterChange => "register_change",
            EntryKind::Evidence => "evidence",
            EntryKind::Approval => "approval",
            EntryKind::GuardDecision => "guard_decision",
            EntryKind::RedteamResult => "redteam_result",
            EntryKind::MonitorReading => "monitor_reading",
            EntryKind::Other(s) => s,
        }
    }
}

impl fmt::Display for EntryKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for EntryKind {
    type Err = LedgerError;
    fn from_str(s: &str) -> Result<Self> {
        Self::parse(s)
    }
}

fn validate_kind(s: &str) -> Result<()> {
    let b = s.as_bytes();
    if b.is_empty() || b.len() > MAX_KIND_LEN {
        return Err(LedgerError::Entry(format!(
            "kind must be 1 to {MAX_KIND_LEN} bytes, got {}",
            b.len()
        )));
    }
    if !b[0].is_ascii_lowercase() {
        return Err(LedgerError::Entry(format!(
            "kind {s:?} must start with a-z"
        )));
    }
    if let Some(c) = b
        .iter()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || b"_.:-".contains(c)))
    {
        return Err(LedgerError::Entry(format!(
            "kind {s:?} contains byte 0x{c:02x}; allowed are a-z 0-9 _ . : -"
        )));
    }
    Ok(())
}

fn validate_text(field: &str, s: &str, min: usize) -> Result<()> {
    if s.len() < min || s.len() > MAX_TEXT_LEN {
        return Err(LedgerError::Entry(format!(
            "{field} must be {min} to {MAX_TEXT_LEN} bytes, got {}",
            s.len()
        )));
    }
    if let Some(c) = s.chars().find(|c| c.is_control()) {
        return Err(LedgerError::Entry(format!(
            "{field} contains control character U+{:04X}",
            c as u32
        )));
    }
    Ok(())
}

/// One ledger entry: what the Merkle leaf commits to.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Entry {
    /// Position in the log, from 0; equal to the leaf index.
    pub index: u64,
    /// When the entry was appended, in milliseconds since the Unix epoch (UTC).
    pub timestamp_ms: u64,
    /// What the entry records.
    pub kind: EntryKind,
    /// Who caused it (a user, a service, a key name). 1–1024 bytes, no control chars.
    pub actor: String,
    /// What it is about, e.g. `risk:R-12`. 0–1024 bytes, no control chars.
    pub subject: String,
    /// SHA-256 of the payload, which is stored apart from the leaf.
    pub payload_sha256: Hash,
}

impl Entry {
    /// Builds an entry for a payload, hashing it.
    pub fn for_payload(
        index: u64,
        timestamp_ms: u64,
        kind: EntryKind,
        actor: impl Into<String>,
        subject: impl Into<String>,
        payload: &[u8],
    ) -> Result<Self> {
        let e = Entry {
            index,
            timestamp_ms,
            kind,
            actor: actor.into(),
            subject: subject.into(),
            payload_sha256: sha256(payload),
        };
        e.validate()?;
        Ok(e)
    }

    /// Checks the field constraints of the encoding.
    pub fn validate(&self) -> Result<()> {
        validate_kind(self.kind.as_str())?;
        validate_text("actor", &self.actor, 1)?;
        validate_text("subject", &self.subject, 0)?;
        Ok(())
    }

    /// The canonical encoding: the Merkle leaf data.
    pub fn encode(&self) -> Result<Vec<u8>> {
        self.validate()?;
        let kind = self.kind.as_str().as_bytes();
        let mut out =
            Vec::with_capacity(FIXED_LEN + kind.len() + self.actor.len() + self.subject.len());
        out.push(ENTRY_VERSION);
        out.extend_from_slice(&self.index.to_be_bytes());
        out.extend_from_slice(&self.timestamp_ms.to_be_bytes());
        out.push(kind.len() as u8);
        out.extend_from_slice(kind);
        out.extend_from_slice(&(self.actor.len() as u16).to_be_bytes());
        out.extend_from_slice(self.actor.as_bytes());
        out.extend_from_slice(&(self.subject.len() as u16).to_be_bytes());
        out.extend_from_slice(self.subject.as_bytes());
        out.extend_from_slice(&self.payload_sha256);
        Ok(out)
    }

    /// The leaf hash `SHA-256(0x00 ‖ encode())`.
    pub fn leaf_hash(&self) -> Result<Hash> {
        Ok(leaf_hash(&self.encode()?))
    }

    /// Strictly decodes leaf data; rejects anything [`Entry::encode`] would not produce.
    pub fn decode(data: &[u8]) -> Result<Self> {
        Ok(EntryRef::decode(data)?.to_entry())
    }

    /// Reads only the index of encoded leaf data (cheap; no validation of the rest).
    pub fn peek_index(data: &[u8]) -> Option<u64> {
        if data.first() != Some(&ENTRY_VERSION) {
            return None;
        }
        Some(u64::from_be_bytes(data.get(1..9)?.try_into().ok()?))
    }
}

/// A borrowed, validated view of encoded leaf data (no allocation), for bulk checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EntryRef<'a> {
    /// See [`Entry::index`].
    pub index: u64,
    /// See [`Entry::timestamp_ms`].
    pub timestamp_ms: u64,
    /// The kind's name.
    pub kind: &'a str,
    /// See [`Entry::actor`].
    pub actor: &'a str,
    /// See [`Entry::subject`].
    pub subject: &'a str,
    /// See [`Entry::payload_sha256`].
    pub payload_sha256: &'a Hash,
}

impl<'a> EntryRef<'a> {
    /// Strictly decodes and validates leaf data without copying it.
    pub fn decode(data: &'a [u8]) -> Result<Self> {
        let mut r = Reader { data, pos: 0 };
        let version = r.u8("version")?;
        if version != ENTRY_VERSION {
            return Err(LedgerError::Entry(format!(
                "unknown encoding version 0x{version:02x}"
            )));
        }
        let index = r.u64("index")?;
        let timestamp_ms = r.u64("timestamp")?;
        let klen = r.u8("kind length")? as usize;
        let kind = r.str(klen, "kind")?;
        validate_kind(kind)?;
        let alen = r.u16("actor length")? as usize;
        let actor = r.str(alen, "actor")?;
        validate_text("actor", actor, 1)?;
        let slen = r.u16("subject length")? as usize;
        let subject = r.str(slen, "subject")?;
        validate_text("subject", subject, 0)?;
        let payload_sha256: &Hash = r
            .take(32, "payload hash")?
            .try_into()
            .map_err(|_| LedgerError::Entry("payload hash".into()))?;
        if r.pos != data.len() {
            return Err(LedgerError::Entry(format!(
                "{} trailing bytes after the payload hash",
                data.len() - r.pos
            )));
        }
        Ok(EntryRef {
            index,
            timestamp_ms,
            kind,
            actor,
            subject,
            payload_sha256,
        })
    }

    /// An owned copy.
    pub fn to_entry(&self) -> Entry {
        Entry {
            index: self.index,
            timestamp_ms: self.timestamp_ms,
            // Validated by decode, so parse cannot fail; keep the name either way.
            kind: EntryKind::parse(self.kind)
                .unwrap_or_else(|_| EntryKind::Other(self.kind.into())),
            actor: self.actor.to_owned(),
            subject: self.subject.to_owned(),
            payload_sha256: *self.payload_sha256,
        }
    }
}

struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8]> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.data.len());
        let Some(end) = end else {
            return Err(LedgerError::Entry(format!(
                "truncated: {what} needs {n} bytes at offset {}, only {} left",
                self.pos,
                self.data.len() - self.pos
            )));
        };
        let s = &self.data[self.pos..end];
        self.pos = end;
        Ok(s)
    }
    fn u8(&mut self, what: &str) -> Result<u8> {
        Ok(self.take(1, what)?[0])
    }
    fn u16(&mut self, what: &str) -> Result<u16> {
        let b = self.take(2, what)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }
    fn u64(&mut self, what: &str) -> Result<u64> {
        let b = self.take(8, what)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_be_bytes(a))
    }
    fn str(&mut self, n: usize, what: &str) -> Result<&'a str> {
        let b = self.take(n, what)?;
        std::str::from_utf8(b).map_err(|_| LedgerError::Entry(format!("{what} is not UTF-8")))
    }
}

/// JSON form of an entry (used in bundles and CLI output).
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct EntryJson {
    index: u64,
    timestamp_ms: u64,
    kind: String,
    actor: String,
    subject: String,
    payload_sha256: String,
}

impl Serialize for Entry {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        EntryJson {
            index: self.index,
            timestamp_ms: self.timestamp_ms,
            kind: self.kind.as_str().to_owned(),
            actor: self.actor.clone(),
            subject: self.subject.clone(),
            payload_sha256: to_hex(&self.payload_sha256),
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for Entry {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        use serde::de::Error;
        let j = EntryJson::deserialize(d)?;
        let payload_sha256 = parse_hex_hash(&j.payload_sha256).map_err(D::Error::custom)?;
        let e = Entry {
            index: j.index,
            timestamp_ms: j.timestamp_ms,
            kind: EntryKind::parse(&j.kind).map_err(D::Error::custom)?,
            actor: j.actor,
            subject: j.subject,
            payload_sha256,
        };
        e.validate().map_err(D::Error::custom)?;
        Ok(e)
    }
}

/// Parses a lower-case 64-digit hex hash as used in the JSON formats.
pub(crate) fn parse_hex_hash(s: &str) -> Result<Hash> {
    if s.bytes().any(|b| b.is_ascii_uppercase()) {
        return Err(LedgerError::Entry(format!(
            "hash {s:?} must be lower-case hexadecimal"
        )));
    }
    from_hex(s).ok_or_else(|| LedgerError::Entry(format!("{s:?} is not a 64-digit hex SHA-256")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Entry {
        Entry::for_payload(
            7,
            1_700_000_000_000,
            EntryKind::Evidence,
            "alice",
            "risk:R-12",
            b"hello",
        )
        .unwrap()
    }

    #[test]
    fn round_trip() {
        let e = sample();
        let b = e.encode().unwrap();
        assert_eq!(Entry::decode(&b).unwrap(), e);
        assert_eq!(Entry::peek_index(&b), Some(7));
    }

    #[test]
    fn exact_layout() {
        let e = sample();
        let b = e.encode().unwrap();
        let mut want = vec![1u8];
        want.extend_from_slice(&7u64.to_be_bytes());
        want.extend_from_slice(&1_700_000_000_000u64.to_be_bytes());
        want.push(8);
        want.extend_from_slice(b"evidence");
        want.extend_from_slice(&[0, 5]);
        want.extend_from_slice(b"alice");
        want.extend_from_slice(&[0, 9]);
        want.extend_from_slice(b"risk:R-12");
        want.extend_from_slice(&sha256(b"hello"));
        assert_eq!(b, want);
    }

    #[test]
    fn strictness() {
        let b = sample().encode().unwrap();
        let mut t = b.clone();
        t.push(0);
        assert!(Entry::decode(&t).is_err());
        assert!(Entry::decode(&b[..b.len() - 1]).is_err());
        let mut v = b.clone();
        v[0] = 2;
        assert!(Entry::decode(&v).is_err());
        assert!(EntryKind::parse("Bad").is_err());
        assert!(EntryKind::parse("").is_err());
        assert_eq!(EntryKind::parse("approval").unwrap(), EntryKind::Approval);
        assert_eq!(
            EntryKind::parse("policy_change").unwrap(),
            EntryKind::Other("policy_change".into())
        );
        let mut e = sample();
        e.actor = "a\nb".into();
        assert!(e.encode().is_err());
        e.actor.clear();
        assert!(e.encode().is_err());
    }

    #[test]
    fn json_round_trip() {
        let e = sample();
        let j = serde_json::to_string(&e).unwrap();
        assert!(j.contains("\"kind\":\"evidence\""));
        let back: Entry = serde_json::from_str(&j).unwrap();
        assert_eq!(back, e);
    }
}
