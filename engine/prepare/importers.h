#pragma once
// Importers for the common recommendation data formats: LightGCN/KGAT split files, user-item
// pair lists, MovieLens 100K/1M/20M/25M/32M, generic TSV, delimited files with a header (CSV)
// and RecBole atomic files, with an optional KG and item/entity texts. Timestamps are kept
// where the source has them; without a test file the interactions are split at random or in
// time order (docs/format.md, "Import formats").
// Bad input throws InputError naming file and line; bad option combinations ConfigError.

#include <cstdint>
#include <string>

#include "engine/graph/dataset.h"
#include "engine/graph/dataset_builder.h"

namespace kgrec {

enum class InputFormat { kLightGcn, kPairs, kMovieLens, kTsv, kCsv, kRecBole };

// "lightgcn" | "pairs" | "movielens" | "tsv" | "csv" | "recbole"; ConfigError otherwise.
InputFormat parseInputFormat(const std::string& name);
const char* inputFormatName(InputFormat format);

// How interactions are split when no test file is given.
//  kRandom: each user's distinct items at random, seeded.
//  kTemporalUser: each user's last items (by first interaction time) to test, the ones
//    before them to valid.
//  kTemporalGlobal: one time cut for everyone: the latest interactions to test, the ones
//    before them to valid.
enum class SplitMethod { kRandom, kTemporalUser, kTemporalGlobal };

// "random" | "temporal-user" | "temporal-global"; ConfigError otherwise.
SplitMethod parseSplitMethod(const std::string& name);
const char* splitMethodName(SplitMethod method);

struct ImportOptions {
  InputFormat format = InputFormat::kLightGcn;
  std::string train, test, valid;  // interaction files (valid optional)
  std::string kg;                  // KG triples file, optional
  std::string text;                // item text TSV "item_id<TAB>text", optional
  std::string entity_text;         // entity text TSV "entity_id<TAB>text", optional
  std::string movielens_dir;       // kMovieLens: folder with u.data+u.item (100k), ratings.dat+movies.dat (1m) or ratings.csv+movies.csv (20m, 25m, 32m)
  bool movielens_kg = true;        // kMovieLens: derive the genre / year / decade KG; kRecBole: read .kg and .link
  std::string recbole_dir;         // kRecBole: folder with NAME.inter [NAME.item NAME.kg NAME.link]
  std::string recbole_name;        // kRecBole: NAME; default the folder's name
  std::string columns;             // kCsv, kRecBole: "user,item[,rating][,timestamp]" header names; empty = found by name
  std::string delimiter;           // kCsv: "comma", "tab", "semicolon", "pipe" or one character; empty = detected
  double min_rating = 0.0;         // formats with ratings: keep interactions with rating >= this
  SplitMethod split = SplitMethod::kRandom;  // when no test file
  double test_fraction = 0.2;      // when no test file: share of each user's items (temporal-global: of all) to test
  double valid_fraction = 0.0;     // when no test file: share to valid
  std::uint64_t seed = 1;
  std::int64_t kg_items = -1;      // KG ids below this are items; -1 = number of items seen in interactions
  std::string name;                // dataset name; default derived from the files
};

// Id conventions:
//  - kLightGcn, kPairs: numeric user/item ids are kept as local indices, so results line up
//    with the reference code. KG id e is item e when e < kg_items, else entity e - kg_items
//    (whose original id stays e); relation k is named "r<k>".
//    A numeric id far beyond the number of ids read (more than 1024 + 8 x their count) is
//    refused: it would create that many nodes.
//  - kMovieLens, kTsv, kCsv, kRecBole: string ids are interned in order of appearance. A KG
//    head/tail that is a known item id is that item (RecBole: the item its .link names),
//    otherwise an entity.
//  - Text files name items/entities by their original ids (for numeric KGs: the KG id).
// Without a test file (kMovieLens, kTsv, kCsv, kRecBole) the interactions are split by
// `split`: per user, round(test_fraction * n) of its n distinct items (at least 1, at most
// n - 1) go to test and round(valid_fraction * n) (at least 1 when valid_fraction > 0, and
// leaving at least one in train) to valid; temporal-global cuts all pairs by time instead.
Dataset importDataset(const ImportOptions& options, BuildReport* report = nullptr);

}  // namespace kgrec
