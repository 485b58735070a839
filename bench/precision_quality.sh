#!/usr/bin/env bash
# Mixed precision against fp32 on gowalla (issue #19: recall@20 within 1% relative of fp32
# after the same epochs): the same run (model, seed, settings) once per precision, then one
# JSON line per run (epoch seconds, loss, recall@20, ndcg@20 after the last epoch) and a verdict
# line with each precision's recall@20 relative to fp32's.
#
#   bench/precision_quality.sh [DEVICE=cpu] [PRECISIONS="fp32 bf16"] [EPOCHS=2] [THREADS=all]
#                              [DATA_DIR=../shared/datasets/gowalla] [-- extra kgrec train flags]
#
# The default run is sage sampled (2 layers, fanouts 10,10, lr 0.005), whose dense products
# autocast reaches; LightGCN's arithmetic is sparse sums that --precision leaves in fp32. fp16
# needs a GPU (DEVICE=cuda PRECISIONS="fp32 bf16 fp16"). On a CPU without bf16 units (this
# project's 2-core VM) bf16 is several times slower than fp32.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DEVICE=${1:-cpu}
PRECISIONS=${2:-fp32 bf16}
EPOCHS=${3:-2}
THREADS=${4:-$(nproc)}
DATA=${5:-$ROOT/../shared/datasets/gowalla}
shift $(( $# < 5 ? $# : 5 ))
[ "${1:-}" = -- ] && shift
KGREC=${KGREC:-$ROOT/build/launcher/kgrec}
. "$ROOT/bench/lightgcn_split.sh"
for precision in $PRECISIONS; do
  "$KGREC" --threads "$THREADS" train "$WORK/data.h5" --device "$DEVICE" --precision "$precision" \
    --model sage --layers 2 --fanouts 10,10 --propagation sampled --epochs "$EPOCHS" --lr 0.005 \
    --eval-every 0 --metrics-out "$WORK/$precision.jsonl" "$@" > /dev/null 2> "$WORK/$precision.log" || {
    echo "{\"bench\": \"precision_quality\", \"precision\": \"$precision\", \"error\": \"$(tail -n1 "$WORK/$precision.log" | tr '"' "'")\"}"
    continue
  }
done
python3 - "$WORK" "$DEVICE" "$THREADS" $PRECISIONS <<'PY'
import json, os, sys
work, device, threads, precisions = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4:]
runs = {}
for p in precisions:
    path = os.path.join(work, p + ".jsonl")
    if not os.path.exists(path):
        continue
    epochs = [json.loads(l) for l in open(path) if '"epoch"' in l]
    if not epochs:
        continue
    last = epochs[-1]
    runs[p] = last
    print(json.dumps({"bench": "precision_quality", "device": device, "threads": threads,
                      "precision": p, "epochs": last["epoch"],
                      "epoch_seconds": [round(e["epoch_seconds"], 1) for e in epochs],
                      "loss": last["loss"], "recall@20": last.get("recall@20"),
                      "ndcg@20": last.get("ndcg@20")}))
if "fp32" in runs:
    base = runs["fp32"]["recall@20"]
    for p, r in runs.items():
        if p != "fp32":
            rel = (r["recall@20"] - base) / base
            # The issue's target read as a floor (at least 99% of fp32's recall) and as a band.
            print(json.dumps({"bench": "precision_quality", "verdict": p, "recall_relative_to_fp32": round(rel, 5),
                              "at_least_99_percent_of_fp32": rel >= -0.01,
                              "within_1_percent": abs(rel) <= 0.01}))
PY
