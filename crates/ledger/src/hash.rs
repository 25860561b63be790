//! RFC 9162 §2.1 hashing primitives (SHA-256 with domain separation).

use sha2::{Digest, Sha256};

/// A SHA-256 digest: a leaf hash, a node hash, a root or a payload hash.
pub type Hash = [u8; 32];

/// Length in bytes of a [`Hash`](type@Hash).
pub const HASH_LEN: usize = 32;

/// Domain-separation prefix of a leaf hash (RFC 9162 §2.1.1).
pub const LEAF_PREFIX: u8 = 0x00;
/// Domain-separation prefix of an interior node hash (RFC 9162 §2.1.1).
pub const NODE_PREFIX: u8 = 0x01;

/// `SHA-256(0x00 ‖ data)`: the hash of one leaf.
pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([LEAF_PREFIX]);
    h.update(data);
    h.finalize().into()
}

/// SHA-256 initial state (FIPS 180-4 §5.3.3).
const SHA256_IV: [u32; 8] = [
    0x6a09_e667,
    0xbb67_ae85,
    0x3c6e_f372,
    0xa54f_f53a,
    0x510e_527f,
    0x9b05_688c,
    0x1f83_d9ab,
    0x5be0_cd19,
];

/// `SHA-256(0x01 ‖ left ‖ right)`: the hash of an interior node.
///
/// The 65-byte message always pads to exactly two blocks, so they are laid out here
/// and handed to the compression function in one call (the hot path of verification).
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    use sha2::digest::generic_array::GenericArray;
    let mut blocks = [GenericArray::<u8, sha2::digest::consts::U64>::default(); 2];
    blocks[0][0] = NODE_PREFIX;
    blocks[0][1..33].copy_from_slice(left);
    blocks[0][33..64].copy_from_slice(&right[..31]);
    blocks[1][0] = right[31];
    blocks[1][1] = 0x80;
    // Message length in bits, big-endian, in the last 8 bytes: 65 * 8 = 520.
    blocks[1][56..64].copy_from_slice(&(65u64 * 8).to_be_bytes());
    let mut state = SHA256_IV;
    sha2::compress256(&mut state, &blocks);
    let mut out = [0u8; HASH_LEN];
    for (o, w) in out.chunks_exact_mut(4).zip(state) {
        o.copy_from_slice(&w.to_be_bytes());
    }
    out
}

/// `SHA-256()` of nothing: the root of the empty tree (RFC 9162 §2.1.1).
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

/// Plain `SHA-256(data)`, used for payload hashes.
pub fn sha256(data: &[u8]) -> Hash {
    Sha256::digest(data).into()
}

/// Lower-case hexadecimal form of a hash.
pub fn to_hex(hash: &Hash) -> String {
    hex::encode(hash)
}

/// Parses exactly 64 lower- or upper-case hexadecimal digits into a hash.
pub fn from_hex(s: &str) -> Option<Hash> {
    if s.len() != 2 * HASH_LEN {
        return None;
    }
    let mut out = [0u8; HASH_LEN];
    hex::decode_to_slice(s, &mut out).ok()?;
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_hash_matches_plain_sha256() {
        let (l, r) = ([0xabu8; 32], [0x5cu8; 32]);
        let mut m = vec![NODE_PREFIX];
        m.extend_from_slice(&l);
        m.extend_from_slice(&r);
        assert_eq!(node_hash(&l, &r), sha256(&m));
    }
}
