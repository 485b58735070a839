#pragma once
// A seeded synthetic user-item-KG dataset, so that every command and test runs with nothing
// downloaded. The graph has what partitioning and recommendation need to find: communities
// (users mostly interact with items of their community), power-law degrees, a KG whose
// entities are shared within communities, and item/entity texts.

#include <cstdint>
#include <string>
#include <vector>

#include "engine/graph/dataset.h"

namespace kgrec {

struct SyntheticOptions {
  std::int64_t users = 2000;
  std::int64_t items = 1000;
  std::int64_t entities = 400;
  std::int32_t communities = 8;
  // Mean of the power law of users' degrees; the realized mean is lower where heavy users
  // exhaust their community's items.
  double interactions_per_user = 24.0;
  // Chance that an interaction (or an item's KG triple) stays in its community.
  double community_affinity = 0.85;
  std::int32_t kg_relations = 4;
  double triples_per_item = 3.0;            // mean
  double entity_triples_per_entity = 0.25;  // mean entity -> entity triples per entity
  double test_fraction = 0.2;               // of each user's interactions (users with >= 2)
  double valid_fraction = 0.0;
  std::uint64_t seed = 1;
};

// Same options, same dataset, on every machine (a fixed-algorithm generator, not std::
// distributions, whose output differs between standard libraries). Throws ConfigError on
// invalid options. `communities`, when given, receives the planted community of every node
// (by global id), the ground truth a partitioner or a model can be checked against.
Dataset generateSynthetic(const SyntheticOptions& options,
                          std::vector<std::int32_t>* communities = nullptr);

// A WordPiece vocabulary (BERT's special tokens first) that covers every synthetic text: the
// generator's syllables as word starts and "##" continuations, digits, relation names. It lets
// the demo run the text-encoder path on a machine with no downloaded vocabulary.
std::vector<std::string> syntheticWordPieceVocabulary();

}  // namespace kgrec
