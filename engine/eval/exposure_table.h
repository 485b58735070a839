#pragma once
// The per-item exposure table of `kgrec eval --exposure-out FILE` (docs/metrics.md): one TSV
// row per item with its training interactions, whether it is in the tail, and how many
// top-K lists of the model and of the popularity baseline hold it, for each K. Input of
// bench/plots/long_tail.sh.

#include <string>

#include "engine/eval/ranking_evaluator.h"

namespace kgrec {

// Writes the table atomically. `model` and `popularity` are sums over every test user (with
// the beyond-accuracy metrics), at the same cut-offs.
void writeExposureTable(const std::string& path, const ItemCatalogue& catalogue,
                        const RankingEvalResult& model, const RankingEvalResult& popularity);

}  // namespace kgrec
