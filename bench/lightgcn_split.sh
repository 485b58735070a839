# Sourced by the benchmarks on a LightGCN-format split (gowalla): with DATA (a folder with
# train.txt and test.txt) and KGREC set, prints a skip line and exits 0 where DATA has no
# train.txt; else makes WORK, a temporary folder removed on exit, and prepares the split into
# $WORK/data.h5 (its log in $WORK/prepare.log).
if [ ! -f "$DATA/train.txt" ]; then
  echo "{\"skipped\": \"no $DATA/train.txt\"}"
  exit 0
fi
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
"$KGREC" prepare --format lightgcn --train "$DATA/train.txt" --test "$DATA/test.txt" \
  -o "$WORK/data.h5" 2> "$WORK/prepare.log"
