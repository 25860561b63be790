#!/usr/bin/env python3
"""Independent RFC 9162 §2.1 reference (hashlib only) for the vectors in tests/vectors.rs.

Computes roots, inclusion paths and consistency proofs straight from the recursive
definitions of RFC 9162 §2.1.1, §2.1.3.1 and §2.1.4.1 over the widely used CT test
leaves (certificate-transparency C++ merkle_tree_test.cc, google/trillian testonly,
transparency-dev/merkle testonly). Run: python3 rfc9162_reference.py
"""
import hashlib

LEAVES = [bytes.fromhex(h) for h in [
    "", "00", "10", "2021", "3031", "40414243", "5051525354555657",
    "606162636465666768696a6b6c6d6e6f"]]

def H(b): return hashlib.sha256(b).digest()

def k_of(n):
    k = 1
    while k * 2 < n: k *= 2
    return k

def mth(d):
    if len(d) == 0: return H(b"")
    if len(d) == 1: return H(b"\x00" + d[0])
    k = k_of(len(d))
    return H(b"\x01" + mth(d[:k]) + mth(d[k:]))

def path(m, d):
    if len(d) <= 1: return []
    k = k_of(len(d))
    if m < k: return path(m, d[:k]) + [mth(d[k:])]
    return path(m - k, d[k:]) + [mth(d[:k])]

def subproof(m, d, b):
    n = len(d)
    if m == n: return [] if b else [mth(d)]
    k = k_of(n)
    if m <= k: return subproof(m, d[:k], b) + [mth(d[k:])]
    return subproof(m - k, d[k:], False) + [mth(d[:k])]

def proof(m, d):
    if m == 0 or m == len(d): return []
    return subproof(m, d, True)

if __name__ == "__main__":
    print("# roots")
    for n in range(0, 9):
        print(n, mth(LEAVES[:n]).hex())
    print("# inclusion (index, size, path)")
    for n in range(1, 9):
        for m in range(n):
            print(m, n, ",".join(h.hex() for h in path(m, LEAVES[:n])))
    print("# consistency (old, new, proof)")
    for n in range(1, 9):
        for m in range(1, n + 1):
            print(m, n, ",".join(h.hex() for h in proof(m, LEAVES[:n])))
