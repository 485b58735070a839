// Top-20 items for every gowalla user (issue #17's target: at most 10 s on the 2-core dev
// machine): the user x item score products and the partial top-K of `kgrec recommend`, with
// gowalla's training items left out, on seeded random 64-d vectors of gowalla's shape (the
// work does not depend on the values). Prints the seconds of the products alone and of the
// whole top-K, per batch size.
//
//   recommend_bench [--k 20] [--dim 64] [--threads N (default: one per hardware thread)]   needs ../shared/datasets/gowalla
// (`kgrec recommend` adds loading the checkpoint and one propagation over the graph.)

#include <ATen/Parallel.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <numeric>
#include <string>
#include <thread>

#include "engine/common/process.h"
#include "engine/prepare/importers.h"
#include "engine/recommend/top_k_items.h"

namespace kgrec {
namespace {

using Clock = std::chrono::steady_clock;

double secondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// CPU seconds (user + system, all threads) of this process so far: on a shared machine the
// wall time says how busy the others were, this says what the work cost.
double cpuSeconds() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& t) { return t.tv_sec + t.tv_usec * 1e-6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

int run(int argc, char** argv) {
  std::int64_t k = 20, dim = 64;
  int threads = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--k")) k = std::atoll(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--dim")) dim = std::atoll(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--threads")) threads = std::atoi(argv[i + 1]);
  }
  // As kgrec: one compute thread per hardware thread unless told (LibTorch's default is 1).
  at::set_num_threads(threads > 0 ? threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
  const std::string dir = std::string(KGREC_SHARED_DIR) + "/datasets/gowalla";
  if (!std::filesystem::exists(dir + "/train.txt")) {
    std::printf("SKIP: %s not found\n", dir.c_str());
    return 0;
  }
  ImportOptions import;
  import.format = InputFormat::kLightGcn;
  import.train = dir + "/train.txt";
  import.test = dir + "/test.txt";
  const Dataset d = importDataset(import);
  const Csr train_items = userItemCsr(d.train, d.nodes.num_users);
  torch::manual_seed(17);
  const torch::Tensor users = torch::randn({d.nodes.num_users, dim}) * 0.1;
  const torch::Tensor items = torch::randn({d.nodes.num_items, dim}) * 0.1;
  std::vector<std::int32_t> all(d.nodes.num_users);
  std::iota(all.begin(), all.end(), 0);
  std::printf("gowalla: %lld users x %lld items, dim %lld, top %lld, %lld training items left "
              "out, %d compute threads\n",
              static_cast<long long>(d.nodes.num_users), static_cast<long long>(d.nodes.num_items),
              static_cast<long long>(dim), static_cast<long long>(k),
              static_cast<long long>(d.train.size()), at::get_num_threads());
  const UserScorer scorer = innerProductScorer(users, items);
  for (std::int64_t batch : {512, 1024}) {
    auto start = Clock::now();
    double cpu_start = cpuSeconds();
    for (std::size_t first = 0; first < all.size(); first += batch) {
      const std::int64_t count = std::min<std::int64_t>(batch, all.size() - first);
      scorer(torch::arange(static_cast<std::int64_t>(first), static_cast<std::int64_t>(first) + count));
    }
    const double products = secondsSince(start), products_cpu = cpuSeconds() - cpu_start;
    TopKOptions options;
    options.k = k;
    options.batch = batch;
    options.excluded = &train_items;
    start = Clock::now();
    cpu_start = cpuSeconds();
    const TopKLists lists = topKItems(scorer, all, d.nodes.num_items, options);
    const double total = secondsSince(start), total_cpu = cpuSeconds() - cpu_start;
    std::printf("batch %5lld: score products %.2f s wall (%.2f s CPU), top-%lld of every user "
                "%.2f s wall (%.2f s CPU; %.0f users/s)\n",
                static_cast<long long>(batch), products, products_cpu, static_cast<long long>(k),
                total, total_cpu, lists.counts.size() / total);
  }
  return 0;
}

}  // namespace
}  // namespace kgrec

int main(int argc, char** argv) {
  kgrec::keepFreedMemoryForReuse();  // as kgrec does: the score blocks are reused, not re-faulted
  return kgrec::run(argc, argv);
}
