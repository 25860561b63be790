#!/usr/bin/env python3
"""Independent reference for the entry encoding and the C2SP signed-note / checkpoint
formats (Python hashlib + the `cryptography` package's Ed25519), used to cross-check
docs/ledger.md and tests/formats.rs. Run: python3 formats_reference.py
"""
import base64, hashlib, struct
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives import serialization

# --- entry encoding (docs/ledger.md §2) ---
def encode_entry(index, ts_ms, kind, actor, subject, payload_sha256):
    k, a, s = kind.encode(), actor.encode(), subject.encode()
    return (b"\x01" + struct.pack(">QQ", index, ts_ms) + bytes([len(k)]) + k
            + struct.pack(">H", len(a)) + a + struct.pack(">H", len(s)) + s + payload_sha256)

payload = b"risk assessment v3.pdf contents"
leaf = encode_entry(12, 1767225600000, "evidence", "user:alice", "risk:R-12",
                    hashlib.sha256(payload).digest())
print("entry_payload_sha256", hashlib.sha256(payload).hexdigest())
print("entry_hex", leaf.hex())
print("entry_leaf_hash", hashlib.sha256(b"\x00" + leaf).hexdigest())

# --- keys (docs/ledger.md §5) ---
name = "airisk.example/ledger"
seed = bytes(range(32))
sk = Ed25519PrivateKey.from_private_bytes(seed)
pk = sk.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
key_id = hashlib.sha256(name.encode() + b"\n" + b"\x01" + pk).digest()[:4]
vk = base64.b64encode(b"\x01" + pk).decode()
sk_b64 = base64.b64encode(b"\x01" + seed).decode()
print("verifier_key", name + "+" + key_id.hex() + "+" + vk)
print("signer_key", "PRIVATE+KEY+" + name + "+" + key_id.hex() + "+" + sk_b64)

# --- checkpoint over the 8-leaf CT test tree, signed (docs/ledger.md §4, §5) ---
root = bytes.fromhex("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328")
text = f"{name}\n8\n{base64.b64encode(root).decode()}\n"
sig = sk.sign(text.encode())
note = text + "\n" + "\u2014 " + name + " " + base64.b64encode(key_id + sig).decode() + "\n"
print("note_b64", base64.b64encode(note.encode()).decode())
