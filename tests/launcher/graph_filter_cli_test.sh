#!/usr/bin/env bash
# `kgrec train --model graph-filter` end to end on a small synthetic graph: the filter beats
# the popularity baseline printed beside it, its metrics lines follow docs/metrics_lines.md,
# `kgrec eval` of its checkpoint gives the same metrics, 2 ranks on a partition folder give
# those of one process, recommend / similar / export read its checkpoint (recommend on 2
# ranks as on one), and misuse is refused with a message.
# Usage: graph_filter_cli_test.sh KGREC_BINARY NPY_CHECK MPIRUN
set -uo pipefail
# shellcheck source=../checks.sh
source "$(cd "$(dirname "$0")/.." && pwd)/checks.sh"
KGREC=$1
NPY_CHECK=$2
MPIRUN=$3
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
# metrics FILE: the evaluation line's recall and ndcg at 20, rounded past float noise
metrics() {
  python3 -c 'import json, sys
line = [json.loads(l) for l in open(sys.argv[1]) if "recall@20" in l][-1]
print("%.9f %.9f %.9f" % (line["recall@20"], line["ndcg@20"], line["coverage@20"]))' "$1"
}
run "$KGREC" partition synth.h5 --parts 2 -o parts
check "partition succeeds" test "$rc" -eq 0
run "$MPIRUN" --oversubscribe --bind-to none -np 2 "$KGREC" --threads 1 train parts \
    --model graph-filter --filter bspm --metrics-out ranks.jsonl --ckpt ckpt-ranks
check "2 ranks on the parts exit 0" test "$rc" -eq 0
check "the metrics line says 2 ranks" contains ranks.jsonl '"ranks":2'
check "2 ranks give the metrics of one process: $(metrics ranks.jsonl)" \
  test "$(metrics ranks.jsonl)" = "$(metrics bspm.jsonl)"

# Using the checkpoint: eval's exposure table, recommend (1 and 2 ranks), similar, export.
run "$KGREC" --threads 1 eval ckpt-bspm --exposure-out exposure.tsv
check "eval --exposure-out of a graph filter succeeds" test "$rc" -eq 0
check "exposure table: header and one line per item" test "$(wc -l < exposure.tsv)" -eq 201
run "$KGREC" --threads 1 recommend ckpt-bspm --all -k 5 --batch-users 64 -o one.tsv
check "recommend from a graph filter succeeds" test "$rc" -eq 0
check "recommend: 5 items for each of 400 users" test "$(tail -n +2 one.tsv | wc -l)" -eq 2000
run "$MPIRUN" --oversubscribe --bind-to none -np 2 "$KGREC" --threads 1 recommend ckpt-bspm --all \
    -k 5 --batch-users 64 -o two.tsv
check "2-rank recommend from a graph filter equals one process's" cmp -s one.tsv two.tsv
printf '3\n7\n' > items.txt
run "$KGREC" --threads 1 similar ckpt-bspm --items items.txt -k 4 -o similar.tsv
check "similar from a graph filter succeeds" test "$rc" -eq 0
check "similar names the filter's weight" test "$(head -1 similar.tsv | cut -f4)" = filter_weight
check "similar: 4 neighbours of 2 items, never the item itself" \
  test "$(tail -n +2 similar.tsv | awk -F'\t' '$1 != $2' | wc -l)" -eq 8
run "$KGREC" --threads 1 export ckpt-bspm -o exported
check "export of a graph filter succeeds" test "$rc" -eq 0
check "export says what the vectors are" contains err.txt "spectral factors of rank"
for type in users items entities; do
  check "$type.npy equals /$type/vectors" "$NPY_CHECK" "exported/$type.npy" exported/vectors.h5 "/$type/vectors"
done
check "a graph filter exports no entity ids" test -e exported/entities.txt -a ! -s exported/entities.txt
# At full rank (min(users, items) = 200) the factors' top items are recommend's.
run "$KGREC" --threads 1 recommend ckpt-bspm --all -k 5 --include-train -o with-train.tsv
# factor_top FIRST_USERS: each of the first users' top 5 item ids by the exported inner products
# (numpy-free: .npy is a header and little-endian float32 rows), in recommend's layout.
factor_top() {
  python3 - "$1" <<'PY'
import array, ast, sys
def load(path):
    raw = open(path, "rb").read()
    header_len = int.from_bytes(raw[8:10], "little")
    shape = ast.literal_eval(raw[10:10 + header_len].decode())["shape"]
    values = array.array("f", raw[10 + header_len:])
    return [values[r * shape[1]:(r + 1) * shape[1]] for r in range(shape[0])]
users, items = load("exported/users.npy"), load("exported/items.npy")
ids = open("exported/items.txt").read().split()
for u in range(int(sys.argv[1])):
    scores = [sum(a * b for a, b in zip(users[u], item)) for item in items]
    best = sorted(range(len(items)), key=lambda i: (-scores[i], i))[:5]
    print("\n".join("%d\t%s" % (u, ids[i]) for i in best))
PY
}
top_by_factors=$(factor_top 20)
check "the exported factors rank the first 20 users' items as the filter does" \
  test "$(echo "$top_by_factors" | wc -l)" -eq 100 -a \
       "$top_by_factors" = "$(tail -n +2 with-train.tsv | head -100 | cut -f1,2)"

echo "$passes passed, $failures failed"
test "$failures" -eq 0
