#!/usr/bin/env bash
# End-to-end checks of the kgrec command line: exit codes, error messages that name the
# file and line, and that a failed command leaves no output behind.
# Usage: cli_test.sh KGREC_BINARY
set -uo pipefail
# shellcheck source=../checks.sh
source "$(cd "$(dirname "$0")/.." && pwd)/checks.sh"
KGREC=$1
FIXTURES="$(cd "$(dirname "$0")/../prepare/fixtures" && pwd)"
# The demo checks below read its seeded-encoder path: no installed pretrained model here.
unset KGREC_MINILM_DIR
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"

run "$KGREC" --help
check "help exits 0" test "$rc" -eq 0
check "help lists subcommands" contains out.txt "prepare"

run "$KGREC" prepare --format lightgcn --train missing.txt --test missing.txt -o data.h5
check "missing input fails" fails_cleanly "$rc"
check "missing input is named" contains err.txt "missing.txt"
check "nothing written on failure" test ! -e data.h5

printf '0 1 2\n1 x\n' > train.txt
printf '0 3\n1 1\n' > test.txt
run "$KGREC" prepare --format lightgcn --train train.txt --test test.txt -o data.h5
check "malformed line fails" fails_cleanly "$rc"
check "malformed line named with file:line" contains err.txt "train.txt:2"
check "no partial file" test -z "$(ls data.h5* 2>/dev/null)"

run "$KGREC" prepare --format nonsense --train train.txt -o data.h5
check "unknown format fails" fails_cleanly "$rc"

printf 'user,item,timestamp\na,x,10\na,y,20\nb,x,"30\n' > bad.csv
run "$KGREC" prepare --format csv --train bad.csv -o csv.h5
check "csv quote left open named with file:line" contains err.txt "bad.csv:4"
check "no csv output on failure" test ! -e csv.h5
printf 'user;item;timestamp\na;x;10\na;y;20\nb;x;30\nb;y;40\n' > all.csv
run "$KGREC" prepare --format csv --train all.csv --split temporal-user --test-fraction 0.5 -o csv.h5
check "csv with a temporal split succeeds" test "$rc" -eq 0
run "$KGREC" prepare --format recbole --recbole-dir "$FIXTURES/recbole/tiny" -o recbole.h5
check "recbole fixture imports" test "$rc" -eq 0

run "$KGREC" prepare --synthetic --users 300 --items 150 --entities 40 --seed 3 -o synth.h5
check "synthetic prepare succeeds" test "$rc" -eq 0
check "synthetic dataset written" test -s synth.h5
run "$KGREC" prepare --synthetic --users 300 --items 150 --entities 40 -o synth.h5
check "existing output refused without --force" fails_cleanly "$rc"
check "refusal says --force" contains err.txt "force"
run "$KGREC" prepare --synthetic --users 300 --items 150 --entities 40 -o synth.h5 --force
check "--force overwrites" test "$rc" -eq 0

run "$KGREC" partition synth.h5 --parts 2 -o parts
check "partition succeeds" test "$rc" -eq 0
check "partition writes the manifest" test -s parts/manifest.json -a -s parts/part-0.h5 -a -s parts/part-1.h5
check "partition prints the edge cut" contains out.txt "edge_cut_fraction"
run "$KGREC" partition synth.h5 --parts 2 -o parts
check "existing partition refused without --force" fails_cleanly "$rc"
run "$KGREC" partition synth.h5 --parts 0 -o parts0
check "zero parts refused" fails_cleanly "$rc"
check "nothing written for zero parts" test ! -e parts0
run "$KGREC" partition synth.h5 --parts 100000 -o parts-big
check "more parts than nodes refused" fails_cleanly "$rc"
run "$KGREC" partition synth.h5 --parts 2 --method random -o parts-random
check "random partition succeeds" test "$rc" -eq 0

run "$KGREC" prepare --synthetic --users 300 --items 150 --entities 40 --cold-items 0.2 -o cold.h5
check "cold-start prepare succeeds" test "$rc" -eq 0
run "$KGREC" --threads 1 train cold.h5 --epochs 1 --dim 16 --layers 1
check "cold-start training reports cold items apart" contains out.txt "cold test items"
run "$KGREC" prepare --synthetic --users 300 --items 150 --cold-items 1.5 -o cold-bad.h5
check "bad cold fraction refused" fails_cleanly "$rc"

run "$KGREC" train synth.h5 --epochs 0
check "zero epochs refused" fails_cleanly "$rc"
run "$KGREC" train synth.h5 --model nosuchmodel
check "unknown model refused" fails_cleanly "$rc"
run "$KGREC" train train.txt --epochs 1
check "non-HDF5 dataset refused" fails_cleanly "$rc"
# Hidden from CUDA, any build (and a GPU machine) must refuse --device cuda with exit code 1.
CUDA_VISIBLE_DEVICES= run "$KGREC" train synth.h5 --epochs 1 --device cuda
check "--device cuda without a visible GPU refused" test "$rc" -eq 1
check "the refusal says no CUDA device is visible" contains err.txt "no CUDA device is visible"

run "$KGREC" --threads 1 train synth.h5 --epochs 2 --dim 16 --layers 1 --eval-every 1 --metrics-out m.jsonl --ckpt ckpt
check "train succeeds" test "$rc" -eq 0
check "metrics lines written" test "$(wc -l < m.jsonl)" -eq 3
check "table printed" contains out.txt "popularity baseline"
run "$KGREC" eval ckpt
check "eval succeeds" test "$rc" -eq 0
check "eval prints recall@20" contains out.txt "recall@20"
run "$KGREC" eval nonexistent-dir
check "eval of a missing checkpoint fails" fails_cleanly "$rc"

printf '[PAD]\n[UNK]\n[CLS]\n[SEP]\nhello\nworld\n##s\n,\n' > vocab.txt
printf 'Hello, worlds\nunknownword\n' | "$KGREC" tokenize --vocab vocab.txt > out.txt 2> err.txt; rc=$?
check "tokenize succeeds" test "$rc" -eq 0
check "tokenize ids" test "$(sed -n 1p out.txt)" = "2 4 7 5 6 3"
check "tokenize unknown word" test "$(sed -n 2p out.txt)" = "2 1 3"
run "$KGREC" tokenize --vocab missing-vocab.txt
check "tokenize without a vocabulary fails" fails_cleanly "$rc"

run "$KGREC" embed synth.h5 --encoder missing-encoder.pt --vocab vocab.txt
check "embed with a missing encoder fails" fails_cleanly "$rc"
check "embed names the missing encoder" contains err.txt "missing-encoder.pt"
mkdir not-a-model
run "$KGREC" embed synth.h5 --model not-a-model
check "embed with a folder without weights fails" fails_cleanly "$rc"
check "embed names the missing weights file" contains err.txt "not-a-model/model.safetensors"

run "$KGREC" demo --out demo --users 300 --items 150 --epochs 2
check "demo succeeds" test "$rc" -eq 0
check "demo prints the result table" contains out.txt "lightgcn"
check "demo shows the top 5 items of a test user" contains out.txt "top 5 items for test user"
check "demo shows the items' texts" test "$(grep -A5 'top 5 items for test user' out.txt | grep -c 'score')" -eq 5
check "demo leaves its outputs" test -s demo/metrics.jsonl -a -s demo/checkpoint/checkpoint.json
check "demo names the seeded test encoder" contains err.txt "seeded test encoder"
run "$KGREC" embed demo/synthetic.h5 --encoder demo/seeded-test-encoder.pt --vocab demo/synthetic-vocab.txt --max-len 32
check "embed re-run on the demo's dataset succeeds" test "$rc" -eq 0
check "embed re-run uses the cache" contains err.txt "cached"

echo "cli checks: $passes passed, $failures failed"
exit $((failures > 0))
