#include "launcher/recommend_command.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <numeric>
#include <ostream>

#include "comm/local_process_group.h"
#include "comm/mpi/mpi_process_group.h"
#include "comm/mpi/mpi_runtime.h"
#include "engine/common/atomic_output.h"
#include "engine/common/error.h"
#include "engine/recommend/id_index.h"
#include "engine/recommend/top_k_items.h"
#include "launcher/checkpoint_scorers.h"
#include "launcher/checkpoint_vectors.h"
#include "launcher/top_k_tsv.h"

namespace kgrec {
namespace {

constexpr const char* kHeader = "user\titem\trank\tscore\n";

// This rank's share of `users`: whole batches, consecutive, so that every user is scored in
// the same batch whatever the rank count (and the output does not depend on it).
std::vector<std::int32_t> shareOf(const std::vector<std::int32_t>& users, std::int64_t batch,
                                  const ProcessGroup& group) {
  const auto n = static_cast<std::int64_t>(users.size());
  const std::int64_t batches = (n + batch - 1) / batch;
  const std::int64_t first = batches * group.rank() / group.size() * batch;
  const std::int64_t last = std::min(n, batches * (group.rank() + 1) / group.size() * batch);
  return std::vector<std::int32_t>(users.begin() + first, users.begin() + last);
}

// Every rank's text, in rank order, on rank 0 (empty elsewhere). Collective.
std::string gatherOnRankZero(const std::string& text, ProcessGroup& group) {
  if (group.size() == 1) return text;
  const torch::Tensor bytes = torch::from_blob(const_cast<char*>(text.data()),
                                               {static_cast<std::int64_t>(text.size())}, torch::kUInt8);
  const RankRows all = group.allGatherV(bytes)->result();
  if (group.rank() != 0) return {};
  return std::string(reinterpret_cast<const char*>(all.tensor.data_ptr<std::uint8_t>()),
                     static_cast<std::size_t>(all.tensor.numel()));
}

void recommendOnGroup(const RecommendArgs& a, ProcessGroup& group) {
  const auto start = std::chrono::steady_clock::now();
  const CheckpointScorers scorers = loadCheckpointScorers(a.checkpoint, group);
  const Dataset& d = scorers.dataset;
  std::vector<std::int32_t> users;
  if (a.all_users) {
    users.resize(d.nodes.num_users);
    std::iota(users.begin(), users.end(), 0);
  } else {
    users = readIdList(a.users_file, IdIndex(d.user_ids, "user id"));
  }
  TopKOptions options;
  options.k = a.k;
  options.batch = a.batch_users;
  if (!a.candidates_file.empty()) {
    options.candidates = readIdList(a.candidates_file, IdIndex(d.item_ids, "item id"));
    std::sort(options.candidates.begin(), options.candidates.end());
    options.candidates.erase(std::unique(options.candidates.begin(), options.candidates.end()),
                             options.candidates.end());
  }
  const Csr train_items = userItemCsr(d.train, d.nodes.num_users);
  if (!a.include_train) options.excluded = &train_items;
  const double load_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  const std::vector<std::int32_t> mine = shareOf(users, a.batch_users, group);
  const TopKLists lists = topKItems(scorers.users, mine, d.nodes.num_items, options);
  std::string lines;
  appendTopKLines(lists, mine, d.user_ids, d.item_ids, &lines);
  const std::string all_lines = gatherOnRankZero(lines, group);
  if (group.rank() == 0) {
    writeFileAtomically(a.output, kHeader + all_lines);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    spdlog::info("recommend: top {} of {} items for {} users on {} rank{} in {:.2f}s ({:.2f}s "
                 "loading the model); wrote {}",
                 a.k, options.candidates.empty() ? d.nodes.num_items
                                                 : static_cast<std::int64_t>(options.candidates.size()),
                 users.size(), group.size(), group.size() == 1 ? "" : "s", seconds, load_seconds,
                 a.output);
  }
}

}  // namespace

CLI::App* addRecommendCommand(CLI::App& app, RecommendArgs& a) {
  CLI::App* cmd = addCheckpointCommand(
      app, "recommend",
      "Top-K items per user from a trained checkpoint, by original ids (training items left out)",
      a.checkpoint);
  cmd->footer(
      "Output: a header line, then one line per item, user<TAB>item<TAB>rank<TAB>score, best "
      "first (equal scores: the item first in the dataset). Cold items (held out of training) "
      "can be recommended. Under mpirun (mpirun -np P kgrec recommend ...) the users are split "
      "across the ranks and rank 0 writes the one file, the same as one process writes.");
  auto* who = cmd->add_option_group("users", "Whom to recommend to (one of)")->require_option(1);
  who->add_option("--users", a.users_file,
                  "File of original user ids, one a line ('#' lines and blank lines skipped); "
                  "output in file order");
  who->add_flag("--all", a.all_users, "Every user of the dataset, in dataset order");
  cmd->add_option("-k,--k", a.k, "Items per user")->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--candidates", a.candidates_file,
                  "File of original item ids, one a line: recommend only among these");
  cmd->add_flag("--include-train", a.include_train,
                "Also recommend a user's training items (left out by default)");
  cmd->add_option("-o,--output", a.output, "Output file (.tsv), written atomically")->required();
  cmd->add_option("--batch-users", a.batch_users,
                  "Users scored per matrix product (its scores take this many x the item count floats)")
      ->check(CLI::PositiveNumber)->capture_default_str();
  return cmd;
}

int runRecommend(int& argc, char**& argv, const RecommendArgs& args) {
  if (launchedRanks() == 1) {
    LocalProcessGroup self;
    recommendOnGroup(args, self);
    return 0;
  }
  MpiRuntime mpi(&argc, &argv);
  MpiProcessGroup group;
  // An error on one rank must end them all: the others would wait in a collective.
  try {
    recommendOnGroup(args, group);
  } catch (const std::exception& e) {
    abortJob(e.what());
  }
  return 0;
}

void printTopItemsOfOneTestUser(const std::string& checkpoint_dir, std::int64_t k,
                                std::ostream& out) {
  LocalProcessGroup self;
  const CheckpointScorers scorers = loadCheckpointScorers(checkpoint_dir, self);
  const Dataset& d = scorers.dataset;
  const Csr train_items = userItemCsr(d.train, d.nodes.num_users);
  const Csr test_items = userItemCsr(d.test, d.nodes.num_users);
  std::int32_t user = 0;
  while (user < d.nodes.num_users && test_items.degree(user) == 0) ++user;
  if (user == d.nodes.num_users) {
    out << "(no user has a test item)\n";
    return;
  }
  TopKOptions options;
  options.k = k;
  options.excluded = &train_items;
  const TopKLists lists = topKItems(scorers.users, {user}, d.nodes.num_items, options);
  const auto* test_begin = test_items.indices.data() + test_items.indptr[user];
  const auto* test_end = test_items.indices.data() + test_items.indptr[user + 1];
  out << fmt::format("top {} items for test user {} ({} training items left out; * marks one of "
                     "its {} test items):\n",
                     k, d.user_ids[user], train_items.degree(user), test_items.degree(user));
  for (std::int32_t j = 0; j < lists.counts[0]; ++j) {
    const std::int32_t item = lists.items[j];
    const bool hit = std::binary_search(test_begin, test_end, item);
    const std::string& text = d.item_texts.empty() ? std::string() : d.item_texts[item];
    out << fmt::format("  {}{:>2}. item {:<8} score {:>8.4f}  {}\n", hit ? '*' : ' ', j + 1,
                       d.item_ids[item], lists.scores[j], text.empty() ? "(no text)" : text);
  }
  out.flush();
}

}  // namespace kgrec
