#!/usr/bin/env bash
# `kgrec train --model graph-filter` end to end on a small synthetic graph: the filter beats
# the popularity baseline printed beside it, its metrics lines follow docs/metrics_lines.md,
# `kgrec eval` of its checkpoint gives the same metrics, and misuse is refused with a message.
# Usage: graph_filter_cli_test.sh KGREC_BINARY
set -uo pipefail
# shellcheck source=../checks.sh
source "$(cd "$(dirname "$0")/.." && pwd)/checks.sh"
KGREC=$1
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK" || exit 1
# metric FILE ROW COLUMN: a number of the printed table (row "graph-filter" or "popularity")
metric() { awk -v row="$2" -v col="$3" '$1 == row { print $col; exit }' "$1"; }
above() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a > b) }'; }

run "$KGREC" prepare --synthetic --users 400 --items 200 --entities 20 --seed 4 -o synth.h5
check "synthetic prepare succeeds" test "$rc" -eq 0

for preset in gf-cf turbo-cf bspm chebycf; do
  run "$KGREC" --threads 1 train synth.h5 --model graph-filter --filter "$preset" \
      --metrics-out "$preset.jsonl" --ckpt "ckpt-$preset"
  check "$preset: train exits 0" test "$rc" -eq 0
  cp out.txt "$preset.out"
  model=$(metric "$preset.out" graph-filter 2)
  popularity=$(metric "$preset.out" popularity 3)
  check "$preset: recall@20 printed for the filter and the baseline" test -n "$model" -a -n "$popularity"
  check "$preset: recall@20 $model beats popularity $popularity" above "$model" "$popularity"
  check "$preset: baseline line first" contains "$preset.jsonl" '"baseline":"popularity"'
  check "$preset: one epoch line with the evaluation" \
    test "$(grep -c '"epoch":1,.*"recall@20"\|"recall@20".*"epoch":1' "$preset.jsonl")" -eq 1
  run "$KGREC" eval "ckpt-$preset"
  recall=$(python3 -c 'import json,sys; print("%.4f" % json.load(open(sys.argv[1]))["recall@20"])' out.txt)
  check "$preset: eval of the checkpoint gives recall@20 $recall = $model" test "$recall" = "$model"
done

run "$KGREC" train synth.h5 --model graph-filter --filter nonsense
check "unknown preset refused" test "$rc" -ne 0
check "refusal names the presets" contains err.txt "chebycf"
run "$KGREC" train synth.h5 --model graph-filter --resume ckpt-bspm
check "resume refused" test "$rc" -ne 0
check "refusal says why" contains err.txt "nothing to resume"
run "$KGREC" train synth.h5 --model graph-filter --filter gf-cf --filter-rank 5000
check "rank above the matrix refused" test "$rc" -ne 0
check "refusal names --filter-rank" contains err.txt "filter-rank"
run "$KGREC" partition synth.h5 --parts 2 -o parts
run "$KGREC" train parts --model graph-filter
check "partition folder refused" test "$rc" -ne 0
check "refusal says to give the dataset file" contains err.txt "dataset file"

echo "$passes passed, $failures failed"
test "$failures" -eq 0
