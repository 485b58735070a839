#!/usr/bin/env python3
"""Texts for run.sh from ml-100k's u.item (Latin-1): titles.txt, the 1,682 titles as they are,
and long.txt, 400 texts of 12 consecutive titles each (so that every text is cut at max-len
128; fewer texts, as each costs ~10x a title)."""
import sys

item_file, out_dir = sys.argv[1], sys.argv[2]
with open(item_file, encoding="latin-1") as f:
    titles = [line.split("|")[1] for line in f if line.strip()]
with open(f"{out_dir}/titles.txt", "w", encoding="utf-8") as f:
    f.write("\n".join(titles) + "\n")
with open(f"{out_dir}/long.txt", "w", encoding="utf-8") as f:
    n = len(titles)
    f.write("\n".join(". ".join(titles[(i + j) % n] for j in range(12)) for i in range(400)) + "\n")
