#!/usr/bin/env python3
"""Cosine and largest absolute difference between two raw float32 [texts, dim] files
(kgrec's and sentence-transformers' vectors of the same texts). Exit 1 if any cosine is
below --min-cosine."""
import argparse
import sys

import numpy as np

p = argparse.ArgumentParser()
p.add_argument("kgrec")
p.add_argument("reference")
p.add_argument("--dim", type=int, default=384)
p.add_argument("--min-cosine", type=float, default=0.9999)
a = p.parse_args()
x = np.fromfile(a.kgrec, dtype=np.float32).reshape(-1, a.dim).astype(np.float64)
y = np.fromfile(a.reference, dtype=np.float32).reshape(-1, a.dim).astype(np.float64)
if x.shape != y.shape:
    sys.exit(f"shapes differ: {x.shape} vs {y.shape}")
cos = (x * y).sum(1) / (np.linalg.norm(x, axis=1) * np.linalg.norm(y, axis=1))
worst = int(cos.argmin())
print(f"{len(cos)} texts: min cosine {cos.min():.9f} (text {worst}), mean {cos.mean():.9f}, "
      f"largest |difference| {np.abs(x - y).max():.3e}")
sys.exit(0 if cos.min() >= a.min_cosine else 1)
