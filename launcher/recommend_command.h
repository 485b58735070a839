#pragma once
// `kgrec recommend CKPT (--users FILE | --all) -k 20 -o recs.tsv`: the top-K items of each user
// from a trained checkpoint, by original ids, training items left out. Under mpirun the users
// are split across the ranks (every rank holds the vectors) and rank 0 writes one file.

#include <cstdint>
#include <iosfwd>
#include <string>

#include <CLI/CLI.hpp>

namespace kgrec {

struct RecommendArgs {
  std::string checkpoint;
  std::string users_file;
  bool all_users = false;
  std::int64_t k = 20;
  std::string candidates_file;
  bool include_train = false;
  std::string output;
  std::int64_t batch_users = 512;
};

// Adds the subcommand, its flags bound to `args`.
CLI::App* addRecommendCommand(CLI::App& app, RecommendArgs& args);

// Runs it (starting MPI when launched on several ranks); returns the exit code.
int runRecommend(int& argc, char**& argv, const RecommendArgs& args);

// The demo's last step: the top `k` items of the first user with a test item, with their texts,
// printed to `out`.
void printTopItemsOfOneTestUser(const std::string& checkpoint_dir, std::int64_t k, std::ostream& out);

}  // namespace kgrec
