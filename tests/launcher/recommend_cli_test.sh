#!/usr/bin/env bash
# `kgrec recommend`, `similar` and `export` end to end on a tiny trained checkpoint: original
# ids, training items left out, candidates, a held-out item recommended, errors naming file
# and line with nothing written, the exported .npy equal to its HDF5 copy, and 2 MPI ranks
# writing the same file as one process.
# Usage: recommend_cli_test.sh KGREC_BINARY NPY_CHECK_BINARY MPIRUN
set -uo pipefail
# shellcheck source=../checks.sh
source "$(cd "$(dirname "$0")/.." && pwd)/checks.sh"
KGREC=$1
NPY_CHECK=$2
MPIRUN=$3
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"

# 40 users u0..u39 and 30 items i0..i29 with string ids: user u trained on the six items
# (7u + 5j) mod 30, tested on (7u + 1) mod 30 and on i_new, an item with a text that no one
# trained on (held out of training: it must still be recommendable).
awk 'BEGIN { for (u = 0; u < 40; u++) for (j = 0; j < 6; j++) printf "u%d\ti%d\n", u, (7 * u + 5 * j) % 30 }' > train.tsv
awk 'BEGIN { for (u = 0; u < 40; u++) printf "u%d\ti%d\nu%d\ti_new\n", u, (7 * u + 1) % 30, u }' > test.tsv
awk 'BEGIN { for (i = 0; i < 30; i++) printf "i%d\tthe item number %d\n", i, i; printf "i_new\ta new item\n" }' > texts.tsv
run "$KGREC" prepare --format tsv --train train.tsv --test test.tsv --text texts.tsv -o data.h5
check "prepare succeeds" test "$rc" -eq 0
run "$KGREC" --threads 1 train data.h5 --epochs 3 --dim 16 --layers 1 --ckpt ckpt
check "train succeeds" test "$rc" -eq 0

# same_lists A B: the same users, items and ranks, scores within 1e-7 (they are ~1e-2 here).
# A product of another shape (a batch of other users) may round a score's last bits
# differently: BLAS picks its kernel by shape.
same_lists() {
  [ -s "$1" ] && [ "$(wc -l < "$1")" -eq "$(wc -l < "$2")" ] &&
    paste "$1" "$2" | awk -F'\t' '$1 == "user" { next }
      $1 != $5 || $2 != $6 || $3 != $7 { bad++ }
      { d = $4 - $8; if (d > 1e-7 || d < -1e-7) bad++ }
      END { exit bad > 0 }'
}

run "$KGREC" --threads 1 recommend ckpt --all --k 5 -o all.tsv
check "recommend --all succeeds" test "$rc" -eq 0
check "header line" test "$(head -1 all.tsv)" = "$(printf 'user\titem\trank\tscore')"
check "5 lines for each of the 40 users" test "$(tail -n +2 all.tsv | wc -l)" -eq 200
check "original user ids" test "$(tail -n +2 all.tsv | cut -f1 | sort -u | grep -c '^u[0-9]*$')" -eq 40
check "original item ids" test -s all.tsv -a "$(tail -n +2 all.tsv | cut -f2 | grep -vc '^i[0-9_a-z]*$')" -eq 0
check "ranks 1..5 per user" test -s all.tsv -a "$(tail -n +2 all.tsv | awk '$3 != (NR - 1) % 5 + 1' | wc -l)" -eq 0
check "scores do not increase within a user" \
  test -s all.tsv -a "$(tail -n +2 all.tsv | awk '$1 == u && $4 > s { bad++ } { u = $1; s = $4 } END { print bad + 0 }')" -eq 0
trained_pairs() {  # trained_pairs FILE: how many (user, item) lines of FILE are training pairs
  tail -n +2 "$1" | awk -F'\t' 'NR == FNR { train[$1 FS $2] = 1; next } ($1 FS $2) in train' train.tsv - | wc -l
}
check "no training item is recommended" test -s all.tsv -a "$(trained_pairs all.tsv)" -eq 0
run "$KGREC" --threads 1 recommend ckpt --all --k 5 --include-train -o with-train.tsv
check "--include-train recommends training items" test "$(trained_pairs with-train.tsv)" -gt 0

printf '# two users\nu3\n\nu1\n' > users.txt
run "$KGREC" --threads 1 recommend ckpt --users users.txt --k 3 -o some.tsv
check "recommend --users succeeds" test "$rc" -eq 0
check "users in file order" test "$(tail -n +2 some.tsv | cut -f1 | uniq | tr '\n' ' ')" = "u3 u1 "
grep -P '^u3\t' all.tsv | head -3 > u3-all.tsv
grep -P '^u3\t' some.tsv > u3-some.tsv
check "--users rows equal the --all rows" same_lists u3-all.tsv u3-some.tsv
printf 'u3\nnobody\n' > bad-users.txt
run "$KGREC" --threads 1 recommend ckpt --users bad-users.txt -o bad.tsv
check "unknown user fails" test "$rc" -ne 0
check "unknown user named with file:line" contains err.txt "bad-users.txt:2"
check "nothing written for an unknown user" test -z "$(ls bad.tsv* 2> /dev/null)"
run "$KGREC" --threads 1 recommend ckpt -o neither.tsv
check "--users or --all required" test "$rc" -ne 0

printf 'i_new\ni1\n' > candidates.txt
run "$KGREC" --threads 1 recommend ckpt --all --k 2 --candidates candidates.txt -o cand.tsv
check "recommend --candidates succeeds" test "$rc" -eq 0
check "only candidates recommended" test "$(tail -n +2 cand.tsv | cut -f2 | sort -u | tr '\n' ' ')" = "i1 i_new "
check "the held-out item is recommended to every user" test "$(grep -cP '\ti_new\t' cand.tsv)" -eq 40
check "a candidate a user trained on is left out" test -s cand.tsv -a "$(tail -n +2 cand.tsv | wc -l)" -lt 80

printf 'i3\ni_new\n' > items.txt
run "$KGREC" --threads 1 similar ckpt --items items.txt --k 4
check "similar succeeds" test "$rc" -eq 0
check "similar writes 4 neighbours per item" test "$(tail -n +2 out.txt | wc -l)" -eq 8
check "similar leaves the item itself out" test -s out.txt -a "$(tail -n +2 out.txt | awk '$1 == $2' | wc -l)" -eq 0
check "cosines are at most 1" test -s out.txt -a "$(tail -n +2 out.txt | awk '$4 > 1.00001' | wc -l)" -eq 0
run "$KGREC" --threads 1 similar ckpt --items items.txt --k 4 -o similar.tsv
check "similar -o writes the same" test "$(tail -n +2 similar.tsv | wc -l)" -eq 8
printf 'i3\nnope\n' > bad-items.txt
run "$KGREC" --threads 1 similar ckpt --items bad-items.txt
check "unknown item named with file:line" contains err.txt "bad-items.txt:2"

run "$KGREC" --threads 1 export ckpt -o exported
check "export succeeds" test "$rc" -eq 0
for type in users items entities; do
  check "export writes $type.npy, $type.txt" test -e "exported/$type.npy" -a -e "exported/$type.txt"
  check "$type.npy equals /$type/vectors" "$NPY_CHECK" "exported/$type.npy" exported/vectors.h5 "/$type/vectors"
done
check "one id per user row" test "$(wc -l < exported/users.txt)" -eq 40
check "items.txt holds the original ids" contains exported/items.txt "i_new"
run "$KGREC" --threads 1 export ckpt -o exported
check "export refuses an existing folder" test "$rc" -ne 0
run "$KGREC" --threads 1 export ckpt -o exported --force
check "export --force replaces it" test "$rc" -eq 0
mkdir other && touch other/keep
run "$KGREC" --threads 1 export ckpt -o other --force
check "export --force never replaces a folder it did not write" test "$rc" -ne 0 -a -e other/keep

# Two ranks split the users by whole batches: the file equals one process's with that batch.
run "$KGREC" --threads 1 recommend ckpt --all --k 5 --batch-users 8 -o one.tsv
check "recommend with small batches succeeds" test "$rc" -eq 0
check "the batch size does not change the lists" same_lists one.tsv all.tsv
run "$MPIRUN" --oversubscribe --bind-to none -np 2 "$KGREC" --threads 1 recommend ckpt --all --k 5 --batch-users 8 -o two.tsv
check "2-rank recommend succeeds" test "$rc" -eq 0
check "2-rank output equals the 1-process output" cmp -s one.tsv two.tsv
run "$MPIRUN" --oversubscribe --bind-to none -np 2 "$KGREC" --threads 1 recommend ckpt --users bad-users.txt -o two-bad.tsv
check "2-rank recommend fails on an unknown user" test "$rc" -ne 0
check "2-rank failure names file:line" contains err.txt "bad-users.txt:2"
check "2-rank failure writes nothing" test -z "$(ls two-bad.tsv* 2> /dev/null)"

echo "recommend cli checks: $passes passed, $failures failed"
exit $((failures > 0))
