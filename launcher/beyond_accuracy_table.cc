#include "launcher/beyond_accuracy_table.h"

#include <spdlog/fmt/fmt.h>

namespace kgrec {

void printBeyondAccuracyTable(std::ostream& out, const std::string& model_name,
                              const nlohmann::json& model, const nlohmann::json& popularity,
                              const std::vector<std::int64_t>& ks) {
  struct Column {
    const char* key;
    const char* title;
  };
  static const Column kColumns[] = {{"coverage", "coverage"},   {"gini", "gini"},
                                    {"tail_share", "tail share"}, {"tail_recall", "tail recall"},
                                    {"novelty", "novelty"},     {"diversity", "diversity"}};
  bool diversity_absent = false;
  for (std::int64_t k : ks) {
    const std::string at = "@" + std::to_string(k);
    if (!model.contains("coverage" + at)) continue;
    out << fmt::format("{:<22}", "beyond accuracy " + at);
    for (const Column& c : kColumns) out << fmt::format("{:>12}", c.title);
    out << "\n";
    auto row = [&](const std::string& name, const nlohmann::json& m) {
      out << fmt::format("{:<22}", name);
      for (const Column& c : kColumns) {
        const std::string key = c.key + at;
        if (m.contains(key)) {
          out << fmt::format("{:>12.4f}", m.at(key).get<double>());
        } else {
          out << fmt::format("{:>12}", "n/a");
          diversity_absent = true;
        }
      }
      out << "\n";
    };
    row(model_name, model);
    if (!popularity.is_null()) row("popularity baseline", popularity);
  }
  if (diversity_absent) {
    out << "diversity n/a: the dataset has no LM features (/features/lm; `kgrec embed` adds "
           "them)\n";
  }
  out << "tail: items outside the 20% most-interacted in training; novelty in bits "
         "(docs/metrics.md)\n";
}

}  // namespace kgrec
