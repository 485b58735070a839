#!/usr/bin/env bash
# bench/plots/ on a tiny run: two short trainings' metrics lines -> loss and recall curves,
# and `kgrec eval --exposure-out` -> the long-tail picture; checks that the PNGs are made,
# that the eval JSON carries the beyond-accuracy keys and the baseline, and that a wrong input
# is refused. Exits 77 (skipped) without gnuplot.
# Usage: plots_test.sh KGREC_BINARY REPOSITORY_ROOT
set -uo pipefail
# shellcheck source=../checks.sh
source "$(cd "$(dirname "$0")/.." && pwd)/checks.sh"
KGREC=$1
ROOT=$2
if ! command -v gnuplot > /dev/null; then
  echo "SKIPPED: gnuplot is not installed (apt-get install gnuplot-nox)"
  exit 77
fi
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
run() {  # run CMD...: captures exit code, stdout and stderr
  "$@" > out.txt 2> err.txt; rc=$?
}
is_png() { [[ -s $1 && $(head -c 8 "$1" | od -An -tx1 | tr -d ' \n') == 89504e470d0a1a0a ]]; }

run "$KGREC" prepare --synthetic --users 300 --items 150 --entities 40 --seed 3 -o synth.h5
check "synthetic prepare" test "$rc" -eq 0
train=(--threads 1 train synth.h5 --epochs 3 --dim 16 --layers 1 --eval-every 1)
run "$KGREC" "${train[@]}" --lr 0.01 --metrics-out lr-0.01.jsonl --ckpt ckpt
check "first run trains" test "$rc" -eq 0
check "the table has the beyond-accuracy block" contains out.txt "beyond accuracy @20"
check "the table says why diversity is absent" contains out.txt "diversity n/a"
check "metrics lines carry coverage" contains lr-0.01.jsonl '"coverage@20"'
no_diversity() { [[ -s $1 ]] && ! grep -q '"diversity@' "$1"; }
check "metrics lines carry no diversity without features" no_diversity lr-0.01.jsonl
run "$KGREC" "${train[@]}" --lr 0.003 --metrics-out lr-0.003.jsonl
check "second run trains" test "$rc" -eq 0

run "$KGREC" eval ckpt --exposure-out exposure.tsv
check "eval with --exposure-out" test "$rc" -eq 0
for key in coverage@20 gini@20 tail_share@20 tail_recall@20 novelty@20 eval_users_tail popularity_baseline; do
  check "eval JSON has $key" contains out.txt "\"$key\""
done
check "exposure table header" test "$(head -n 1 exposure.tsv)" = \
  "$(printf 'item\ttrain_interactions\ttail\tmodel_exposure@20\tpopularity_exposure@20')"
check "exposure table has one row per item" test "$(($(wc -l < exposure.tsv) - 1))" -eq 150

run "$ROOT/bench/plots/curves.sh" -o plots lr-0.01.jsonl lr-0.003.jsonl
check "curves.sh succeeds" test "$rc" -eq 0
check "loss.png is a PNG" is_png plots/loss.png
check "recall.png is a PNG" is_png plots/recall.png
run "$ROOT/bench/plots/long_tail.sh" -o plots/long_tail.png exposure.tsv
check "long_tail.sh succeeds" test "$rc" -eq 0
check "long_tail.png is a PNG" is_png plots/long_tail.png
check "gnuplot said nothing wrong" test -z "$(grep -i 'warning\|error' err.txt)"

run "$ROOT/bench/plots/long_tail.sh" -o bad.png lr-0.01.jsonl
check "a metrics file is not an exposure table" test "$rc" -ne 0
check "the refusal names the file" contains err.txt "lr-0.01.jsonl"
check "nothing drawn for a wrong input" test ! -e bad.png
run "$ROOT/bench/plots/curves.sh" -o plots2 missing.jsonl
check "a missing metrics file is refused" test "$rc" -ne 0

echo "$passes passed, $failures failed"
test "$failures" -eq 0
