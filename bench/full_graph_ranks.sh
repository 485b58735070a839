#!/usr/bin/env bash
# Full-graph LightGCN on 2 ranks against one process, and METIS against random parts, on gowalla
# (or any LightGCN-format folder): one epoch each at the paper's settings (64 dims, 3 layers,
# batch 2048), one thread per rank; then sampled propagation at P = 1 (fanouts 10,10,10) for the
# same epoch. Prints one JSON line per run: epoch seconds, halo bytes per rank per layer, the
# partition's edge cut, and the per-rank seconds split (compute / exchange / allreduce).
# Usage: bench/full_graph_ranks.sh [DATA_DIR=../shared/datasets/gowalla]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DATA=${1:-$ROOT/../shared/datasets/gowalla}
KGREC=${KGREC:-$ROOT/build/launcher/kgrec}
MPIRUN=${MPIRUN:-mpirun}
. "$ROOT/bench/lightgcn_split.sh"
LAYERS=3
TRAIN=(--epochs 1 --dim 64 --layers "$LAYERS" --batch-size 2048 --lr 0.001 --eval-every 0)
report() {  # report NAME RANKS EDGE_CUT: the run's epoch line as one JSON line
  python3 - "$1" "$2" "$3" "$WORK/$1.jsonl" "$LAYERS" <<'PY'
import json, sys
name, ranks, cut, path, layers = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5])
line = [json.loads(l) for l in open(path) if '"epoch"' in l][-1]
b, s = line["bytes_per_rank"], line["seconds_per_rank"]
print(json.dumps({"bench": "full_graph_ranks", "run": name, "ranks": ranks,
                  "edge_cut": None if cut == "-" else int(cut),
                  "epoch_seconds": round(line["epoch_seconds"], 1), "loss": line["loss"],
                  "halo_MB_per_rank_per_layer": round(b["halo_exchange"] / layers / 1e6, 1),
                  "embedding_MB_per_rank": round(b["embedding_exchange"] / 1e6, 1),
                  "seconds_per_rank": {k: round(v, 1) for k, v in s.items()}}))
PY
}
"$KGREC" --threads 2 train "$WORK/data.h5" "${TRAIN[@]}" --propagation full \
  --metrics-out "$WORK/full-1.jsonl" > /dev/null 2> "$WORK/full-1.log"
report full-1 1 -
for method in metis random; do
  "$KGREC" partition "$WORK/data.h5" --parts 2 --method "$method" -o "$WORK/$method" \
    > "$WORK/$method.json" 2> "$WORK/$method.log"
  cut=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['edge_cut'])" "$WORK/$method.json")
  "$MPIRUN" -np 2 --oversubscribe --bind-to none "$KGREC" --threads 1 train "$WORK/$method" \
    "${TRAIN[@]}" --propagation full --metrics-out "$WORK/full-2-$method.jsonl" \
    > /dev/null 2> "$WORK/full-2-$method.log"
  report "full-2-$method" 2 "$cut"
done
"$KGREC" --threads 2 train "$WORK/data.h5" "${TRAIN[@]}" --propagation sampled --fanouts 10 10 10 \
  --metrics-out "$WORK/sampled-1.jsonl" > /dev/null 2> "$WORK/sampled-1.log"
report sampled-1 1 -
