#pragma once
// Importers for the common recommendation data formats: LightGCN/KGAT split files, user-item
// pair lists, MovieLens 100K/1M and generic TSV, with an optional KG and item/entity texts.
// Bad input throws InputError naming file and line; bad option combinations ConfigError.

#include <cstdint>
#include <string>

#include "engine/graph/dataset.h"
#include "engine/graph/dataset_builder.h"

namespace kgrec {

enum class InputFormat { kLightGcn, kPairs, kMovieLens, kTsv };

// "lightgcn" | "pairs" | "movielens" | "tsv"; ConfigError otherwise.
InputFormat parseInputFormat(const std::string& name);
const char* inputFormatName(InputFormat format);

struct ImportOptions {
  InputFormat format = InputFormat::kLightGcn;
  std::string train, test, valid;  // interaction files (valid optional)
  std::string kg;                  // KG triples file, optional
  std::string text;                // item text TSV "item_id<TAB>text", optional
  std::string entity_text;         // entity text TSV "entity_id<TAB>text", optional
  std::string movielens_dir;       // kMovieLens: folder with u.data+u.item (100k) or ratings.dat+movies.dat (1m)
  bool movielens_kg = true;        // kMovieLens: derive the genre / year / decade KG
  double min_rating = 0.0;         // kMovieLens / kTsv with ratings: keep interactions with rating >= this
  double test_fraction = 0.2;      // when no test file: per-user seeded random split
  std::uint64_t seed = 1;
  std::int64_t kg_items = -1;      // KG ids below this are items; -1 = number of items seen in interactions
  std::string name;                // dataset name; default derived from the files
};

// Id conventions:
//  - kLightGcn, kPairs: numeric user/item ids are kept as local indices, so results line up
//    with the reference code. KG id e is item e when e < kg_items, else entity e - kg_items
//    (whose original id stays e); relation k is named "r<k>".
//  - kMovieLens, kTsv: string ids are interned in order of appearance. A KG head/tail that is
//    a known item id is that item, otherwise an entity.
//  - Text files name items/entities by their original ids (for numeric KGs: the KG id).
// Without a test file (kMovieLens, kTsv) each user's distinct items are split at random,
// seeded: round(test_fraction * n) of them (at least 1, at most n - 1) go to test.
Dataset importDataset(const ImportOptions& options, BuildReport* report = nullptr);

}  // namespace kgrec
