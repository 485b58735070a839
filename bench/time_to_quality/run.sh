#!/usr/bin/env bash
# Time to quality: recall@20 and ndcg@20 against wall seconds, end to end (prepare, fit or
# training, evaluation), for the training-free graph filters (kgrec train --model
# graph-filter --filter PRESET) and for a trained model (LightGCN by default, evaluated every
# few epochs) under each training objective (bpr, softmax, ccl, simgcl, svd: --loss, --ssl,
# --init; docs/objectives.md), side by side on the real datasets of ../shared/datasets.
# Writes OUT/results.tsv (dataset, model, seconds, recall@20, ndcg@20, one row per point),
# prints it, and draws OUT/<dataset>.png with gnuplot (plot.gp). docs/graph_filter.md and
# docs/objectives.md have the figures.
#
# Usage: bench/time_to_quality/run.sh [OPTIONS]
#   --datasets LIST      gowalla, ml-100k, lastfm-kg (default: all three; absent ones skipped)
#   --presets LIST       graph filter presets (default gf-cf,turbo-cf,bspm,chebycf)
#   --epochs N           epochs of the trained model (default 20; 0: no trained run)
#   --eval-every E       its evaluation points every E epochs (default 4)
#   --model M            the trained model: lightgcn (default; interactions only), kgat,
#                        rgcn, sage (these with the dataset's KG where it has one)
#   --objectives LIST    objectives to train it with (default bpr,softmax,ccl,simgcl,svd):
#                        bpr, softmax (--loss softmax), ccl (--loss ccl), simgcl (bpr +
#                        --ssl simgcl), svd (bpr + --init svd)
#   --lightgcn-args "…"  more arguments for every trained run (default "--lr 0.001 --batch-size 2048")
#   --threads T          kgrec --threads (default: the cores)
#   --kgrec PATH         the kgrec binary (default build/launcher/kgrec)
#   --out DIR            results folder (default bench/time_to_quality/results)
#   -h, --help           this text
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HERE="$ROOT/bench/time_to_quality"
usage() { sed -n '/^# Usage:/,/^# *-h, --help/s/^# \{0,1\}//p' "$0"; }

DATASETS=gowalla,ml-100k,lastfm-kg
PRESETS=gf-cf,turbo-cf,bspm,chebycf
EPOCHS=20
EVAL_EVERY=4
MODEL=lightgcn
OBJECTIVES=bpr,softmax,ccl,simgcl,svd
LIGHTGCN_ARGS="--lr 0.001 --batch-size 2048"
THREADS=$(nproc)
KGREC="$ROOT/build/launcher/kgrec"
OUT="$HERE/results"
while [ $# -gt 0 ]; do
  case $1 in
    --datasets) DATASETS=$2; shift 2 ;;
    --presets) PRESETS=$2; shift 2 ;;
    --epochs) EPOCHS=$2; shift 2 ;;
    --eval-every) EVAL_EVERY=$2; shift 2 ;;
    --model) MODEL=$2; shift 2 ;;
    --objectives) OBJECTIVES=$2; shift 2 ;;
    --lightgcn-args) LIGHTGCN_ARGS=$2; shift 2 ;;
    --threads) THREADS=$2; shift 2 ;;
    --kgrec) KGREC=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "unknown option $1 (--help lists them)" >&2; exit 2 ;;
  esac
done
[ -x "$KGREC" ] || { echo "no kgrec binary at $KGREC: build first (scripts/setup.sh)" >&2; exit 2; }
DATA="$ROOT/../shared/datasets"
mkdir -p "$OUT"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
RESULTS="$OUT/results.tsv"
printf 'dataset\tmodel\tseconds\trecall@20\tndcg@20\n' > "$RESULTS"
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }
load() { awk '{ print $1 }' /proc/loadavg; }

# The KG models train on the dataset's KG; LightGCN (and the graph filters) need none.
KG=no
[ "$MODEL" = lightgcn ] || KG=yes
prepare() {  # prepare DATASET OUTPUT.h5
  case $1 in
    gowalla) "$KGREC" prepare --format lightgcn --train "$DATA/gowalla/train.txt" \
               --test "$DATA/gowalla/test.txt" -o "$2" ;;
    ml-100k) "$KGREC" prepare --format movielens --movielens-dir "$DATA/ml-100k" \
               $([ $KG = yes ] || echo --no-kg) -o "$2" ;;
    lastfm-kg) "$KGREC" prepare --format pairs --train "$DATA/lastfm-kg/train_pos.txt" \
                 --test "$DATA/lastfm-kg/test.txt" \
                 $([ $KG = no ] || echo --kg "$DATA/lastfm-kg/kg_final.txt") -o "$2" ;;
    *) echo "unknown dataset $1" >&2; return 2 ;;
  esac
}

echo "machine: $(nproc) cores, load before: $(cat /proc/loadavg)"
for dataset in ${DATASETS//,/ }; do
  case $dataset in
    gowalla) src="$DATA/gowalla" ;; ml-100k) src="$DATA/ml-100k" ;; lastfm-kg) src="$DATA/lastfm-kg" ;;
    *) echo "unknown dataset $dataset" >&2; exit 2 ;;
  esac
  if [ ! -d "$src" ]; then echo "skipping $dataset: $src is absent"; continue; fi
  # Every run starts from the raw files: its wall clock includes its own prepare.
  start=$(now)
  prepare "$dataset" "$WORK/$dataset.h5" > "$WORK/prepare.log" 2>&1
  prepare_s=$(elapsed "$start")
  echo "$dataset: prepare ${prepare_s}s"
  for preset in ${PRESETS//,/ }; do
    start=$(now)
    load_before=$(load)
    "$KGREC" --threads "$THREADS" train "$WORK/$dataset.h5" --model graph-filter \
        --filter "$preset" --metrics-out "$WORK/$preset.jsonl" > "$WORK/$preset.log" 2>&1
    seconds=$(awk -v p="$prepare_s" -v t="$(elapsed "$start")" 'BEGIN { printf "%.2f", p + t }')
    python3 - "$WORK/$preset.jsonl" "$dataset" "graph-filter $preset" "$seconds" >> "$RESULTS" <<'PY'
import json, sys
line = [json.loads(l) for l in open(sys.argv[1])][-1]
print(f"{sys.argv[2]}\t{sys.argv[3]}\t{sys.argv[4]}\t{line['recall@20']:.4f}\t{line['ndcg@20']:.4f}")
PY
    echo "$dataset: graph-filter $preset ${seconds}s (load ${load_before} -> $(load)): $(tail -1 "$RESULTS" | cut -f4,5)"
  done
  for objective in ${OBJECTIVES//,/ }; do
    [ "$EPOCHS" -gt 0 ] || break
    case $objective in
      bpr) flags="--loss bpr" ;; softmax) flags="--loss softmax" ;; ccl) flags="--loss ccl" ;;
      simgcl) flags="--ssl simgcl" ;; svd) flags="--init svd" ;;
      *) echo "unknown objective $objective" >&2; exit 2 ;;
    esac
    relations=""
    [ "$MODEL" = lightgcn ] && relations="--relations interactions"
    # The wall clock of each evaluated epoch: the time its progress line was logged.
    start=$(now)
    load_before=$(load)
    # shellcheck disable=SC2086
    "$KGREC" --threads "$THREADS" train "$WORK/$dataset.h5" --model "$MODEL" $relations $flags \
        --epochs "$EPOCHS" --eval-every "$EVAL_EVERY" $LIGHTGCN_ARGS \
        --metrics-out "$WORK/$objective.jsonl" 2>&1 |
      while IFS= read -r text; do
        case $text in *recall@20*) printf '%s\t%s\n' "$(elapsed "$start")" "$text" ;; esac
      done > "$WORK/$objective.times"
    python3 - "$WORK/$objective.jsonl" "$WORK/$objective.times" "$dataset" "$prepare_s" \
        "$MODEL $objective" >> "$RESULTS" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if '"epoch"' in l]
evaluated = [l for l in lines if "recall@20" in l]
times = [float(t.split("\t")[0]) for t in open(sys.argv[2])]
for line, t in zip(evaluated, times):
    print(f"{sys.argv[3]}\t{sys.argv[5]} epoch {line['epoch']}\t{float(sys.argv[4]) + t:.2f}\t"
          f"{line['recall@20']:.4f}\t{line['ndcg@20']:.4f}")
PY
    echo "$dataset: $MODEL $objective, $EPOCHS epochs (load ${load_before} -> $(load)): last $(tail -1 "$RESULTS" | cut -f3-5)"
  done
  machine="$(nproc) cores, load $(load) after the runs"
  gnuplot -e "results='$RESULTS'; dataset='$dataset'; out='$OUT/$dataset.png'; machine='$machine'; model='$MODEL'; objectives='${OBJECTIVES//,/ }'; presets='${PRESETS//,/ }'" \
    "$HERE/plot.gp"
done
echo
column -t -s $'\t' "$RESULTS"
echo "load after: $(cat /proc/loadavg); plots in $OUT/"
