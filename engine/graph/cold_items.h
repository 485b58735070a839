#pragma once
// Cold-start split: a seeded share of the items is taken out of training entirely, so that a
// model must recommend them without having seen one interaction (only their text, KG links).

#include <cstdint>

#include "engine/graph/dataset.h"

namespace kgrec {

// Picks round(fraction * items with training interactions) of those items, moves all their
// train and valid interactions into test, records them in cold_items and rebuilds the graph
// without their interaction edges (their KG edges stay). Throws ConfigError unless
// 0 < fraction < 1. The same dataset, fraction and seed give the same split.
Dataset holdOutColdItems(const Dataset& dataset, double fraction, std::uint64_t seed);

}  // namespace kgrec
