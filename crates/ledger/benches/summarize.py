#!/usr/bin/env python3
"""Prints median and spread of each criterion benchmark of this crate from its raw
samples (target/criterion/<group>/<bench>/new/sample.json).
Usage: python3 summarize.py [TARGET_DIR]   (default: $CARGO_TARGET_DIR or ../../target)"""
import json, os, statistics, sys, glob

root = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("CARGO_TARGET_DIR", "../../target")
print(f"{'benchmark':55} {'median':>10} {'min':>10} {'max':>10} {'IQR':>10}  per-element median")
for path in sorted(glob.glob(os.path.join(root, "criterion", "*", "*", "new", "sample.json"))):
    name = "/".join(path.split(os.sep)[-4:-2])
    d = json.load(open(path))
    per_iter = sorted(t / i for t, i in zip(d["times"], d["iters"]))  # ns per iteration
    q = statistics.quantiles(per_iter, n=4)
    bj = json.load(open(path.replace("sample.json", "benchmark.json")))
    tp = bj.get("throughput") or {}
    elems = tp.get("Elements")
    med = statistics.median(per_iter)
    fmt = lambda ns: f"{ns / 1e6:.1f} ms" if ns >= 1e6 else f"{ns / 1e3:.1f} us"
    extra = f"{med / elems:.0f} ns/elem, {elems / (med / 1e9):,.0f} elem/s" if elems else ""
    print(f"{name:55} {fmt(med):>10} {fmt(per_iter[0]):>10} {fmt(per_iter[-1]):>10} {fmt(q[2] - q[0]):>10}  {extra}")
