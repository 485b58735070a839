#include "launcher/similar_command.h"

#include <iostream>
#include <numeric>

#include "comm/local_process_group.h"
#include "engine/common/atomic_output.h"
#include "engine/recommend/id_index.h"
#include "engine/recommend/top_k_items.h"
#include "launcher/checkpoint_scorers.h"
#include "launcher/checkpoint_vectors.h"
#include "launcher/top_k_tsv.h"

namespace kgrec {

CLI::App* addSimilarCommand(CLI::App& app, SimilarArgs& a) {
  CLI::App* cmd = addCheckpointCommand(
      app, "similar",
      "Nearest items of given items: by the cosine of their final vectors, or for a graph "
      "filter by its item-item weights",
      a.checkpoint);
  cmd->footer(
      "Output: a header line, then one line per neighbour, item<TAB>similar_item<TAB>rank<TAB>"
      "similarity, nearest first; the last column is named cosine (models with vectors) or "
      "filter_weight (a graph filter: its response at each item to the query item alone). Cold "
      "items are included; an item is never its own neighbour.");
  cmd->add_option("--items", a.items_file,
                  "File of original item ids, one a line ('#' lines and blank lines skipped)")
      ->required();
  cmd->add_option("-k,--k", a.k, "Neighbours per item")->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("-o,--output", a.output, "Output file, written atomically (default: standard output)");
  return cmd;
}

void runSimilar(const SimilarArgs& a) {
  LocalProcessGroup self;
  const CheckpointScorers scorers = loadCheckpointScorers(a.checkpoint, self);
  const Dataset& d = scorers.dataset;
  const std::vector<std::int32_t> queries = readIdList(a.items_file, IdIndex(d.item_ids, "item id"));
  // Row i of `self_items` is item i itself, the one neighbour it never gets.
  Csr self_items;
  self_items.indptr.resize(d.nodes.num_items + 1);
  std::iota(self_items.indptr.begin(), self_items.indptr.end(), 0);
  self_items.indices.resize(d.nodes.num_items);
  std::iota(self_items.indices.begin(), self_items.indices.end(), 0);
  TopKOptions options;
  options.k = a.k;
  options.excluded = &self_items;
  const TopKLists lists = topKItems(scorers.items, queries, d.nodes.num_items, options);
  std::string text = "item\tsimilar_item\trank\t" + scorers.item_similarity + "\n";
  appendTopKLines(lists, queries, d.item_ids, d.item_ids, &text);
  if (a.output.empty()) {
    std::cout << text << std::flush;
  } else {
    writeFileAtomically(a.output, text);
  }
}

}  // namespace kgrec
