#!/usr/bin/env python3
"""The reference side of run.sh: sentence-transformers on the same model folder, texts and
thread count as pretrained_encoder_bench; prints texts per second and writes the vectors as
raw float32 [texts, dim]. A comparison tool only: kgrec itself never runs Python.

  sentence_transformers_bench.py --model DIR --texts FILE --max-len N [--threads T]
                                 [--batch B] [--repeat R] [--vectors OUT.f32]
"""
import argparse
import os
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model", required=True)
    p.add_argument("--texts", required=True)
    p.add_argument("--max-len", type=int, required=True)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--vectors")
    a = p.parse_args()
    import torch
    from sentence_transformers import SentenceTransformer
    torch.set_num_threads(a.threads)
    model = SentenceTransformer(a.model, device="cpu")
    model.max_seq_length = a.max_len
    with open(a.texts, encoding="utf-8") as f:
        texts = f.read().split("\n")
    if texts and texts[-1] == "":
        texts.pop()
    vectors = model.encode(texts, batch_size=a.batch, convert_to_numpy=True)  # warm-up
    best_wall = best_cpu = 1e30
    for _ in range(a.repeat):
        start, cpu_start = time.perf_counter(), time.process_time()
        vectors = model.encode(texts, batch_size=a.batch, convert_to_numpy=True)
        best_cpu = min(best_cpu, time.process_time() - cpu_start)
        best_wall = min(best_wall, time.perf_counter() - start)
    print(f"sentence-transformers {len(texts)} texts, max-len {a.max_len}, batch {a.batch}, "
          f"{a.threads} thread(s): {len(texts) / best_wall:.1f} texts/s wall, "
          f"{len(texts) / best_cpu:.1f} texts per CPU-second (best of {a.repeat}; "
          f"torch {torch.__version__})")
    if a.vectors:
        vectors.astype("float32").tofile(a.vectors)


if __name__ == "__main__":
    main()
