#pragma once
// The demo's and `kgrec train`'s second table: the beyond-accuracy metrics (coverage, Gini,
// tail share, tail recall, novelty, diversity) of the model and the popularity baseline, one
// block per K, beside the recall/ndcg table.

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace kgrec {

// Prints nothing when `model` has no beyond-accuracy keys. `popularity` may be null.
void printBeyondAccuracyTable(std::ostream& out, const std::string& model_name,
                              const nlohmann::json& model, const nlohmann::json& popularity,
                              const std::vector<std::int64_t>& ks);

}  // namespace kgrec
