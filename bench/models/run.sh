#!/usr/bin/env bash
# Training speed per model (issue #9): each model of the distributed trainer on the synthetic
# graph, at each rank count, through bench/scaling/run.sh (strong mode: one fixed graph), then
# bench/models/report.py prints sampled edges and trained examples per second per rank and the
# share of a step in sampling, exchange, forward/backward and all-reduce. docs/benchmarks.md.
#
# Usage: bench/models/run.sh [--models LIST] [--ranks LIST] [--out DIR] [-- SCALING_ARGS...]
#   --models LIST  default lightgcn,sage,rgcn,kgat
#   --ranks LIST   default 1,2
#   --out DIR      default bench/models/results (results.jsonl, summary.csv, models.txt)
#   anything after -- goes to bench/scaling/run.sh (e.g. --epochs 3 --users 8000 --dim 64).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
MODELS=lightgcn,sage,rgcn,kgat
RANKS=1,2
OUT="$ROOT/bench/models/results"
while [ $# -gt 0 ]; do
  case "$1" in
    -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    --models) MODELS=$2; shift 2 ;;
    --ranks) RANKS=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --) shift; break ;;
    *) echo "bench/models/run.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
mkdir -p "$OUT"
rm -f "$OUT/results.jsonl"
for model in ${MODELS//,/ }; do
  "$ROOT/bench/scaling/run.sh" --mode strong --ranks "$RANKS" --model "$model" --name "$model" \
    --out "$OUT" --append --no-link-bench "$@"
done
python3 "$ROOT/bench/models/report.py" "$OUT" | tee "$OUT/models.txt"
