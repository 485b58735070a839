#include "engine/eval/exposure_table.h"

#include <fmt/format.h>

#include "engine/common/atomic_output.h"
#include "engine/common/error.h"

namespace kgrec {

void writeExposureTable(const std::string& path, const ItemCatalogue& catalogue,
                        const RankingEvalResult& model, const RankingEvalResult& popularity) {
  KGREC_CHECK(model.ks == popularity.ks && model.lists.size() == model.ks.size() &&
                  popularity.lists.size() == popularity.ks.size(),
              "exposure table: both evaluations need the beyond-accuracy sums at the same K");
  std::string text = "item\ttrain_interactions\ttail";
  for (const char* who : {"model", "popularity"}) {
    for (std::int64_t k : model.ks) text += fmt::format("\t{}_exposure@{}", who, k);
  }
  text += "\n";
  for (std::int64_t item = 0; item < catalogue.numItems(); ++item) {
    text += fmt::format("{}\t{}\t{}", item, catalogue.trainCounts()[item],
                        catalogue.isTail(item) ? 1 : 0);
    for (const RankingEvalResult* result : {&model, &popularity}) {
      for (const ListMetricSums& lists : result->lists) {
        text += fmt::format("\t{}", lists.exposure.empty() ? 0 : lists.exposure[item]);
      }
    }
    text += "\n";
  }
  writeFileAtomically(path, text);
}

}  // namespace kgrec
