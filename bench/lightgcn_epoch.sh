#!/usr/bin/env bash
# LightGCN end to end on gowalla (or any LightGCN-format folder) with the paper's settings:
# 64 dims, 3 layers, batch 2048, lr 0.001, L2 1e-4, full evaluation after every epoch.
# Prints one JSON line per epoch: machine, threads, epoch seconds, eval seconds, metrics.
# Usage: bench/lightgcn_epoch.sh [EPOCHS=3] [THREADS=all cores] [DATA_DIR=../shared/datasets/gowalla]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
EPOCHS=${1:-3}
THREADS=${2:-$(nproc)}
DATA=${3:-$ROOT/../shared/datasets/gowalla}
KGREC=${KGREC:-$ROOT/build/launcher/kgrec}
. "$ROOT/bench/lightgcn_split.sh"
"$KGREC" --threads "$THREADS" train "$WORK/data.h5" --epochs "$EPOCHS" --dim 64 --layers 3 \
  --batch-size 2048 --lr 0.001 --l2 1e-4 --eval-every 1 --metrics-out "$WORK/metrics.jsonl" > /dev/null 2> "$WORK/train.log"
CPU=$(grep -m1 "model name" /proc/cpuinfo | cut -d: -f2 | xargs)
grep '"epoch"' "$WORK/metrics.jsonl" | while read -r line; do
  echo "{\"bench\": \"lightgcn_epoch\", \"data\": \"$(basename "$DATA")\", \"cpu\": \"$CPU\", \"cores\": $(nproc), \"threads\": $THREADS, \"run\": $line}"
done
