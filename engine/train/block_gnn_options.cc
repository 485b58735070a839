#include "engine/train/block_gnn_options.h"

#include <algorithm>

namespace kgrec {

BlockGnnOptions blockGnnOptions(const ModelOptions& o, std::int64_t feature_dim,
                                std::int64_t num_relations) {
  BlockGnnOptions mo;
  mo.model = o.name;
  mo.dim = o.dim;
  mo.layers = o.layers;
  mo.item_input = parseNodeInput(o.features);
  mo.feature_dim = feature_dim;
  mo.num_relations = num_relations;
  mo.num_bases = o.bases > 0 ? o.bases : std::min<std::int64_t>(8, num_relations);
  return mo;
}

}  // namespace kgrec
