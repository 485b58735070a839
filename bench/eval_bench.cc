// Cost of the beyond-accuracy metrics (docs/metrics.md): the full-ranking evaluation of
// gowalla's 29,858 test users over 40,981 items, for a 64-dimensional inner-product scorer
// (random embeddings: the cost does not depend on the values) and the popularity baseline,
// with recall/ndcg/precision only, with the beyond-accuracy metrics, and with them plus
// diversity over random 384-dimensional item features (MiniLM's width; gowalla has no texts).
// The settings alternate within each round, so that machine load hits them alike; prints
// the median wall and CPU seconds (this process's, all threads: steadier than wall time on a
// shared machine) of each and the overheads against accuracy only.
//
//   eval_bench [--rounds N] [--threads T] [--topk K ...]   (defaults 3 rounds, 2 threads, K 20)

#include <ATen/Parallel.h>

#include <time.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "engine/eval/ranking_evaluator.h"
#include "engine/prepare/importers.h"

namespace kgrec {
namespace {

double processCpuSeconds() {
  timespec t{};
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

int run(int argc, char** argv) {
  int rounds = 3, threads = 2;
  std::vector<std::int64_t> ks;
  for (int a = 1; a < argc; ++a) {
    if (!std::strcmp(argv[a], "--rounds") && a + 1 < argc) {
      rounds = std::atoi(argv[++a]);
    } else if (!std::strcmp(argv[a], "--threads") && a + 1 < argc) {
      threads = std::atoi(argv[++a]);
    } else if (!std::strcmp(argv[a], "--topk") && a + 1 < argc) {
      ks.push_back(std::atoll(argv[++a]));
    } else {
      std::fprintf(stderr, "usage: %s [--rounds N] [--threads T] [--topk K ...]\n", argv[0]);
      return 2;
    }
  }
  if (ks.empty()) ks = {20};
  at::set_num_threads(threads);
  const std::string shared = KGREC_SHARED_DIR "/datasets/gowalla";
  if (!std::filesystem::exists(shared + "/train.txt")) {
    std::fprintf(stderr, "eval_bench: %s not found; nothing to measure\n", shared.c_str());
    return 0;
  }
  ImportOptions import;
  import.train = shared + "/train.txt";
  import.test = shared + "/test.txt";
  const Dataset d = importDataset(import);
  const std::int64_t users = d.nodes.num_users, items = d.nodes.num_items;
  const Csr train = userItemCsr(d.train, users), test = userItemCsr(d.test, users);

  torch::manual_seed(1);
  const UserScorer model =
      innerProductScorer(torch::randn({users, 64}) * 0.1, torch::randn({items, 64}) * 0.1);
  const UserScorer popularity = popularityScorer(d.train, items);
  const std::int64_t dim = 384;
  std::vector<float> features(static_cast<std::size_t>(items * dim));
  std::mt19937 rng(2);
  std::normal_distribution<float> normal;
  for (float& f : features) f = normal(rng);

  struct Setting {
    const char* name;
    RankingEvalOptions options;
  };
  std::vector<Setting> settings(3);
  settings[0].name = "accuracy only";
  settings[0].options.beyond_accuracy = false;
  settings[1].name = "+ beyond accuracy";
  settings[2].name = "+ beyond accuracy + diversity (384-d)";
  settings[2].options.item_features = features;
  settings[2].options.item_feature_dim = dim;
  for (Setting& s : settings) s.options.ks = ks;
  std::vector<RankingEvaluator> evaluators;
  for (const Setting& s : settings) evaluators.emplace_back(train, test, items, s.options);

  std::printf("eval_bench: gowalla, %zu test users x %lld items, K =",
              evaluators[0].testUsers().size(), static_cast<long long>(items));
  for (std::int64_t k : ks) std::printf(" %lld", static_cast<long long>(k));
  std::printf(", %d compute threads, %d rounds (median)\n", threads, rounds);
  for (const auto& [scorer_name, scorer] :
       {std::pair<const char*, const UserScorer*>{"model (inner product, 64-d)", &model},
        {"popularity baseline", &popularity}}) {
    std::vector<std::vector<double>> wall(settings.size()), cpu(settings.size());
    for (int r = 0; r < rounds; ++r) {
      for (std::size_t s = 0; s < settings.size(); ++s) {
        const double cpu_start = processCpuSeconds();
        wall[s].push_back(evaluators[s].evaluate(*scorer).seconds);
        cpu[s].push_back(processCpuSeconds() - cpu_start);
      }
    }
    const double wall_base = median(wall[0]), cpu_base = median(cpu[0]);
    for (std::size_t s = 0; s < settings.size(); ++s) {
      const double w = median(wall[s]), c = median(cpu[s]);
      std::printf("  %-28s %-38s wall %7.3f s %+6.1f%%   cpu %7.3f s %+6.1f%%\n", scorer_name,
                  settings[s].name, w, 100.0 * (w - wall_base) / wall_base, c,
                  100.0 * (c - cpu_base) / cpu_base);
    }
    std::fflush(stdout);
  }
  return 0;
}

}  // namespace
}  // namespace kgrec

int main(int argc, char** argv) { return kgrec::run(argc, argv); }
