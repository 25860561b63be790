//! C2SP signed-note with Ed25519: keys, signing, strict parsing and verification.
//!
//! A note is UTF-8 text ending in a newline, a blank line, then one or more signature
//! lines `— <key name> <base64(key ID ‖ signature)>`. The Ed25519 signature covers the
//! text (including its final newline). Key ID = first 4 bytes (big-endian u32) of
//! `SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key)`.

use std::fmt;
use std::str::FromStr;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

use crate::error::{LedgerError, Result};

/// Signature type byte of Ed25519 in signed-note keys and key IDs.
pub const ALG_ED25519: u8 = 0x01;
/// Largest note accepted by the parser, in bytes.
pub const MAX_NOTE_LEN: usize = 1 << 20;
/// Most signature lines accepted on one note.
pub const MAX_SIGNATURES: usize = 100;
/// The signature-line prefix: EM DASH (U+2014) and a space.
pub const SIG_PREFIX: &str = "\u{2014} ";

/// Key ID of an Ed25519 key: `SHA-256(name ‖ 0x0A ‖ 0x01 ‖ pubkey)[0..4]`, big-endian.
pub fn key_id(name: &str, public_key: &[u8; 32]) -> u32 {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update([b'\n', ALG_ED25519]);
    h.update(public_key);
    let d = h.finalize();
    u32::from_be_bytes([d[0], d[1], d[2], d[3]])
}

/// Checks a key name: non-empty UTF-8 without whitespace, `+` or control characters.
pub fn validate_key_name(name: &str) -> Result<()> {
    if name.is_empty() {
        return Err(LedgerError::Key("key name is empty".into()));
    }
    if let Some(c) = name
        .chars()
        .find(|c| c.is_whitespace() || c.is_control() || *c == '+')
    {
        return Err(LedgerError::Key(format!(
            "key name {name:?} contains forbidden character U+{:04X}",
            c as u32
        )));
    }
    Ok(())
}

fn parse_key_id(s: &str) -> Result<u32> {
    if s.len() != 8
        || !s
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return Err(LedgerError::Key(format!(
            "key ID {s:?} must be 8 lower-case hex digits"
        )));
    }
    u32::from_str_radix(s, 16).map_err(|_| LedgerError::Key(format!("bad key ID {s:?}")))
}

fn decode_typed_key(s: &str, what: &str) -> Result<[u8; 32]> {
    let raw = B64
        .decode(s)
        .map_err(|e| LedgerError::Key(format!("{what} is not valid base64: {e}")))?;
    match raw.split_first() {
        Some((&ALG_ED25519, rest)) if rest.len() == 32 => {
            let mut k = [0u8; 32];
            k.copy_from_slice(rest);
            Ok(k)
        }
        Some((&ALG_ED25519, rest)) => Err(LedgerError::Key(format!(
            "{what} has {} key bytes, Ed25519 needs 32",
            rest.len()
        ))),
        Some((t, _)) => Err(LedgerError::Key(format!(
            "{what} has signature type 0x{t:02x}; only Ed25519 (0x01) is supported"
        ))),
        None => Err(LedgerError::Key(format!("{what} is empty"))),
    }
}

/// A private signing key with its name: `PRIVATE+KEY+<name>+<hex key ID>+<base64(0x01 ‖ seed)>`.
///
/// `Debug` never prints the seed.
#[derive(Clone)]
pub struct SignerKey {
    name: String,
    key_id: u32,
    key: SigningKey,
}

impl fmt::Debug for SignerKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SignerKey({}+{:08x}, <secret>)", self.name, self.key_id)
    }
}

impl SignerKey {
    /// Generates a new key from the operating system's random number generator.
    pub fn generate(name: &str) -> Result<Self> {
        let mut seed = [0u8; 32];
        getrandom::getrandom(&mut seed).map_err(|e| LedgerError::Rng(e.to_string()))?;
        Self::from_seed(name, seed)
    }

    /// Builds a key from a 32-byte Ed25519 seed.
    pub fn from_seed(name: &str, seed: [u8; 32]) -> Result<Self> {
        validate_key_name(name)?;
        let key = SigningKey::from_bytes(&seed);
        let key_id = key_id(name, key.verifying_key().as_bytes());
        Ok(SignerKey {
            name: name.to_owned(),
            key_id,
            key,
        })
    }

    /// Parses the `PRIVATE+KEY+…` form, checking that the key ID matches.
    pub fn parse(s: &str) -> Result<Self> {
        let s = s.trim_end_matches(['\n', '\r']);
        let rest = s
            .strip_prefix("PRIVATE+KEY+")
            .ok_or_else(|| LedgerError::Key("signer key must start with PRIVATE+KEY+".into()))?;
        // Names never contain '+', but base64 may: split off two fields only.
        let parts: Vec<&str> = rest.splitn(3, '+').collect();
        let [name, id, key] = parts[..] else {
            return Err(LedgerError::Key(
                "signer key must be PRIVATE+KEY+<name>+<hex id>+<base64 key>".into(),
            ));
        };
        validate_key_name(name)?;
        let id = parse_key_id(id)?;
        let seed = decode_typed_key(key, "signer key")?;
        let k = Self::from_seed(name, seed)?;
        if k.key_id != id {
            return Err(LedgerError::Key(format!(
                "signer key ID {id:08x} does not match its key ({:08x})",
                k.key_id
            )));
        }
        Ok(k)
    }

    /// The `PRIVATE+KEY+…` string. Secret: store it readable by its owner only.
    pub fn to_key_string(&self) -> String {
        let mut raw = Vec::with_capacity(33);
        raw.push(ALG_ED25519);
        raw.extend_from_slice(&self.key.to_bytes());
        format!(
            "PRIVATE+KEY+{}+{:08x}+{}",
            self.name,
            self.key_id,
            B64.encode(raw)
        )
    }

    /// Key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Key ID.
    pub fn key_id(&self) -> u32 {
        self.key_id
    }

    /// The matching verifier key.
    pub fn verifier(&self) -> VerifierKey {
        VerifierKey {
            name: self.name.clone(),
            key_id: self.key_id,
            key: self.key.verifying_key(),
        }
    }

    /// The signature line for `text` (without its final newline).
    pub fn signature_line(&self, text: &str) -> String {
        let sig = self.key.sign(text.as_bytes());
        let mut raw = Vec::with_capacity(68);
        raw.extend_from_slice(&self.key_id.to_be_bytes());
        raw.extend_from_slice(&sig.to_bytes());
        format!("{SIG_PREFIX}{} {}", self.name, B64.encode(raw))
    }

    /// Signs note text, returning the complete signed note.
    pub fn sign_note(&self, text: &str) -> Result<String> {
        validate_text(text)?;
        Ok(format!("{text}\n{}\n", self.signature_line(text)))
    }
}

/// A public verifier key: `<name>+<hex key ID>+<base64(0x01 ‖ public key)>`.
#[derive(Clone, PartialEq, Eq)]
pub struct VerifierKey {
    name: String,
    key_id: u32,
    key: VerifyingKey,
}

impl fmt::Debug for VerifierKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "VerifierKey({self})")
    }
}

impl fmt::Display for VerifierKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut raw = Vec::with_capacity(33);
        raw.push(ALG_ED25519);
        raw.extend_from_slice(self.key.as_bytes());
        write!(f, "{}+{:08x}+{}", self.name, self.key_id, B64.encode(raw))
    }
}

impl FromStr for VerifierKey {
    type Err = LedgerError;
    fn from_str(s: &str) -> Result<Self> {
        Self::parse(s)
    }
}

impl VerifierKey {
    /// Parses the verifier key string, checking that the key ID matches the key.
    pub fn parse(s: &str) -> Result<Self> {
        let s = s.trim_end_matches(['\n', '\r']);
        if s.starts_with("PRIVATE+KEY+") {
            return Err(LedgerError::Key(
                "this is a private signer key, not a verifier key".into(),
            ));
        }
        // Names never contain '+', but base64 may: split off two fields only.
        let parts: Vec<&str> = s.splitn(3, '+').collect();
        let [name, id, key] = parts[..] else {
            return Err(LedgerError::Key(
                "verifier key must be <name>+<hex id>+<base64 key>".into(),
            ));
        };
        validate_key_name(name)?;
        let id = parse_key_id(id)?;
        let pk = decode_typed_key(key, "verifier key")?;
        let key = VerifyingKey::from_bytes(&pk)
            .map_err(|_| LedgerError::Key("verifier key is not a valid Ed25519 point".into()))?;
        let computed = key_id(name, &pk);
        if computed != id {
            return Err(LedgerError::Key(format!(
                "verifier key ID {id:08x} does not match its key ({computed:08x})"
            )));
        }
        Ok(VerifierKey {
            name: name.to_owned(),
            key_id: id,
            key,
        })
    }

    /// Key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Key ID.
    pub fn key_id(&self) -> u32 {
        self.key_id
    }

    /// The raw 32-byte Ed25519 public key.
    pub fn public_key(&self) -> [u8; 32] {
        self.key.to_bytes()
    }

    /// Parses `note` strictly and verifies it carries a valid signature by this key.
    /// Signatures by other keys are kept but not checked (witnesses, rotation).
    pub fn open(&self, note: &str) -> Result<Note> {
        let parsed = Note::parse(note)?;
        let mut found = false;
        for sig in &parsed.signatures {
            if sig.name != self.name || sig.key_id != self.key_id {
                continue;
            }
            let bad = || LedgerError::BadSignature {
                name: self.name.clone(),
                key_id: self.key_id,
            };
            let bytes: [u8; 64] = sig.signature.as_slice().try_into().map_err(|_| bad())?;
            let signature = Signature::from_bytes(&bytes);
            self.key
                .verify_strict(parsed.text.as_bytes(), &signature)
                .map_err(|_| bad())?;
            found = true;
        }
        if !found {
            return Err(LedgerError::NoSignatureByKey {
                name: self.name.clone(),
                key_id: self.key_id,
            });
        }
        Ok(parsed)
    }
}

/// One signature line of a note.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoteSignature {
    /// Key name.
    pub name: String,
    /// Key ID from the first 4 bytes of the decoded signature field.
    pub key_id: u32,
    /// The signature bytes after the key ID (64 for Ed25519).
    pub signature: Vec<u8>,
}

/// A structurally valid signed note (signatures not yet verified unless obtained
/// through [`VerifierKey::open`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Note {
    /// The signed text, ending in a newline.
    pub text: String,
    /// Signature lines in order.
    pub signatures: Vec<NoteSignature>,
}

fn validate_text(text: &str) -> Result<()> {
    if text.is_empty() || !text.ends_with('\n') {
        return Err(LedgerError::Note(
            "text must be non-empty and end with a newline".into(),
        ));
    }
    if let Some(c) = text.chars().find(|c| c.is_control() && *c != '\n') {
        return Err(LedgerError::Note(format!(
            "text contains control character U+{:04X}",
            c as u32
        )));
    }
    Ok(())
}

impl Note {
    /// Parses a signed note strictly: text, blank line, 1 to [`MAX_SIGNATURES`]
    /// well-formed signature lines, each ending in a newline; nothing else.
    pub fn parse(note: &str) -> Result<Self> {
        if note.len() > MAX_NOTE_LEN {
            return Err(LedgerError::Note(format!(
                "note is {} bytes, more than the {MAX_NOTE_LEN} accepted",
                note.len()
            )));
        }
        let split = note
            .rfind("\n\n")
            .ok_or_else(|| LedgerError::Note("no blank line before the signatures".into()))?;
        let text = &note[..split + 1];
        let sigs = &note[split + 2..];
        validate_text(text)?;
        if sigs.is_empty() {
            return Err(LedgerError::Note("no signature lines".into()));
        }
        if !sigs.ends_with('\n') {
            return Err(LedgerError::Note(
                "signature block does not end with a newline (truncated?)".into(),
            ));
        }
        let mut signatures = Vec::new();
        for (i, line) in sigs[..sigs.len() - 1].split('\n').enumerate() {
            if signatures.len() == MAX_SIGNATURES {
                return Err(LedgerError::Note(format!(
                    "more than {MAX_SIGNATURES} signatures"
                )));
            }
            let bad = |why: &str| LedgerError::Note(format!("signature line {}: {why}", i + 1));
            let rest = line
                .strip_prefix(SIG_PREFIX)
                .ok_or_else(|| bad("must start with an em dash (U+2014) and a space"))?;
            let (name, b64) = rest
                .split_once(' ')
                .ok_or_else(|| bad("must be \"— <name> <base64>\""))?;
            validate_key_name(name).map_err(|e| bad(&e.to_string()))?;
            let raw = B64
                .decode(b64)
                .map_err(|e| bad(&format!("signature is not valid base64: {e}")))?;
            if raw.len() < 5 {
                return Err(bad("signature is shorter than a key ID and one byte"));
            }
            signatures.push(NoteSignature {
                name: name.to_owned(),
                key_id: u32::from_be_bytes([raw[0], raw[1], raw[2], raw[3]]),
                signature: raw[4..].to_vec(),
            });
        }
        Ok(Note {
            text: text.to_owned(),
            signatures,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_round_trip_and_sign() {
        let k = SignerKey::from_seed("example.com/log", [7u8; 32]).unwrap();
        let s = k.to_key_string();
        assert!(s.starts_with("PRIVATE+KEY+example.com/log+"));
        let k2 = SignerKey::parse(&s).unwrap();
        assert_eq!(k2.to_key_string(), s);
        let v = k.verifier();
        let v2 = VerifierKey::parse(&v.to_string()).unwrap();
        assert_eq!(v, v2);
        let note = k.sign_note("hello\nworld\n").unwrap();
        assert!(note.starts_with("hello\nworld\n\n\u{2014} example.com/log "));
        let n = v.open(&note).unwrap();
        assert_eq!(n.text, "hello\nworld\n");
        // a different key with the same name fails as "no signature by key"
        let other = SignerKey::from_seed("example.com/log", [8u8; 32]).unwrap();
        assert!(matches!(
            other.verifier().open(&note),
            Err(LedgerError::NoSignatureByKey { .. })
        ));
        // a tampered text fails as a bad signature
        let tampered = note.replacen("hello", "jello", 1);
        assert!(matches!(
            v.open(&tampered),
            Err(LedgerError::BadSignature { .. })
        ));
    }

    #[test]
    fn rejects_malformed() {
        let k = SignerKey::from_seed("n", [1u8; 32]).unwrap();
        let note = k.sign_note("a\n").unwrap();
        assert!(Note::parse(&note[..note.len() - 1]).is_err());
        assert!(Note::parse(&note.replace('\u{2014}', "-")).is_err());
        assert!(Note::parse("a\n\n").is_err());
        assert!(Note::parse("a\u{7}\n\n\u{2014} n AAAAAAA=\n").is_err());
        assert!(VerifierKey::parse("n+zzzzzzzz+AAAA").is_err());
        assert!(VerifierKey::parse(&k.to_key_string()).is_err());
        assert!(SignerKey::parse("PRIVATE+KEY+a b+00000000+AA==").is_err());
        assert!(k.sign_note("no newline").is_err());
    }
}
