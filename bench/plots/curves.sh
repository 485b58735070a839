#!/usr/bin/env bash
# Training curves of one or more runs, from their metrics lines (kgrec train --metrics-out
# FILE; docs/metrics_lines.md): OUT/loss.png (BPR loss by epoch) and OUT/recall.png
# (recall@K by evaluated epoch, with the first run's popularity baseline dashed). One line per
# run, named after its file.
#
#   bench/plots/curves.sh -o OUT [-k K] RUN.jsonl [RUN.jsonl ...]
#
# K defaults to the first recall@K of the first run's lines. Needs bash, awk and gnuplot.
set -euo pipefail

# shellcheck source=plot_options.sh
source "$(dirname "$0")/plot_options.sh"
parse_plot_options "$0 -o OUT_DIR [-k K] RUN.jsonl [RUN.jsonl ...]" "$@"
set -- "${inputs[@]}"
for run in "$@"; do
  [[ -s $run ]] || { echo "$0: $run: no such metrics file, or empty" >&2; exit 1; }
done
if [[ -z $k ]]; then
  k=$(grep -o '"recall@[0-9]*"' "$1" | head -n 1 | tr -dc '0-9' || true)
  [[ -n $k ]] || { echo "$0: $1 has no recall@K; evaluate during training (--eval-every)" >&2; exit 1; }
fi
mkdir -p "$out"
data=$(mktemp -d)
trap 'rm -rf "$data"' EXIT

# One table per run: epoch, loss, recall@K (NaN when the epoch was not evaluated); and the
# baseline's recall@K. Metrics lines are one JSON object a line with plain numbers, so awk
# reads the keys it needs.
extract='
function value(line, key,   at) {
  if (!match(line, "\"" key "\":[-+0-9.eE]+")) return "NaN"
  at = substr(line, RSTART, RLENGTH)
  return substr(at, length(key) + 4)
}
/"baseline"/ { print value($0, "recall@" k) > baseline; next }
/"epoch"/ { print value($0, "epoch"), value($0, "loss"), value($0, "recall@" k) }'
plots_loss="" plots_recall="" i=0
for run in "$@"; do
  i=$((i + 1))
  name=$(basename "$run" .jsonl)
  awk -v k="$k" -v baseline="$data/baseline-$i" "$extract" "$run" > "$data/run-$i.dat"
  [[ -s $data/run-$i.dat ]] || { echo "$0: $run has no epoch lines" >&2; exit 1; }
  plots_loss+="${plots_loss:+, }'$data/run-$i.dat' using 1:2 with linespoints pt 7 ps 0.6 title '${name//\'/}'"
  plots_recall+="${plots_recall:+, }'$data/run-$i.dat' using 1:3 with linespoints pt 7 ps 0.6 title '${name//\'/}'"
done
if [[ -s $data/baseline-1 ]]; then
  plots_recall+=", $(head -n 1 "$data/baseline-1") with lines dashtype 2 lc rgb '#777777' title 'popularity baseline ($(basename "$1" .jsonl))'"
fi

gnuplot <<GP
set terminal $terminal size 800,480 font "DejaVuSans,10" noenhanced
set key below
set grid
set xlabel "epoch"
set datafile missing "NaN"
set output "$data/loss.png"
set title "BPR loss by epoch"
set ylabel "loss"
plot $plots_loss
set output "$data/recall.png"
set title "recall@$k by evaluated epoch (full ranking, training items masked)"
set ylabel "recall@$k"
set yrange [0:*]
plot $plots_recall
GP
# Drawn aside and moved when both are complete: a failed run leaves no half-drawn picture.
mv "$data/loss.png" "$data/recall.png" "$out/"
echo "wrote $out/loss.png $out/recall.png"
