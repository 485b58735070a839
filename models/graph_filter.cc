#include "models/graph_filter.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <numeric>
#include <sstream>

#include <ATen/Parallel.h>
#include <fmt/ranges.h>

#include "engine/common/error.h"
#include "models/normalized_interactions.h"

namespace kgrec {
namespace {

// Dense BLAS does several times more useful arithmetic per second than the irregular sparse
// products: "auto" takes dense P while it costs at most this many times their operations.
constexpr std::int64_t kDenseArithmeticAdvantage = 8;

// Taylor polynomial of exp(-t x) to `order`: BSPM's sharpening dx/dt = -x P integrated over
// [0, t] by one Runge-Kutta step of that order.
std::vector<double> reverseHeatTaylor(double t, int order) {
  std::vector<double> c{1.0};
  for (int k = 1; k <= order; ++k) c.push_back(-c.back() * t / k);
  return c;
}

// MemAvailable of /proc/meminfo in bytes (free pages where it is missing).
std::int64_t availableMemoryBytes() {
  std::ifstream meminfo("/proc/meminfo");
  std::string line;
  while (std::getline(meminfo, line)) {
    if (line.rfind("MemAvailable:", 0) == 0) {
      std::istringstream fields(line.substr(13));
      std::int64_t kib = 0;
      if (fields >> kib) return kib * 1024;
    }
  }
  return static_cast<std::int64_t>(::sysconf(_SC_AVPHYS_PAGES)) * ::sysconf(_SC_PAGESIZE);
}

double gib(std::int64_t bytes) { return static_cast<double>(bytes) / (1 << 30); }

// y = sum c_k P^k x by Horner's rule (deg c matrix products).
template <typename ApplyP>
torch::Tensor powerSeries(const std::vector<double>& c, const torch::Tensor& x, ApplyP applyP) {
  torch::Tensor y = x * c.back();
  for (auto k = static_cast<std::int64_t>(c.size()) - 2; k >= 0; --k) {
    y = applyP(y).add_(x, c[k]);
  }
  return y;
}

}  // namespace

const std::vector<std::string>& graphFilterPresetNames() {
  static const std::vector<std::string> names{"gf-cf", "turbo-cf", "bspm", "chebycf"};
  return names;
}

GraphFilterOptions graphFilterPreset(const std::string& name) {
  GraphFilterOptions o;
  if (name == "gf-cf") {  // GF-CF: P r + 0.3 ideal, rank 256 (Shen et al. 2021)
    o.ideal_weight = 0.3;
  } else if (name == "turbo-cf") {  // Turbo-CF's quadratic filter 2P - P^2, no SVD
    o.coefficients = {0.0, 2.0, -1.0};
  } else if (name == "bspm") {  // blurring P r + ideal, then sharpening exp(-T P) (RK4 step)
    o.ideal_weight = 0.2;
    o.sharpen = reverseHeatTaylor(1.0, 4);
  } else if (name == "chebycf") {  // Chebyshev-interpolated ideal low-pass + ideal part
    o.basis = "chebyshev";
    o.coefficients = chebyshevLowPass(8, 0.1);
    o.ideal_weight = 0.1;
  } else {
    throw ConfigError(fmt::format("--filter {}: no such preset; the presets are {}", name,
                                  fmt::join(graphFilterPresetNames(), ", ")));
  }
  o.svd.rank = o.rank;
  return o;
}

std::vector<double> chebyshevLowPass(std::int64_t order, double cutoff) {
  KGREC_CHECK(order >= 0, "Chebyshev order must be >= 0, got {}", order);
  const double n = static_cast<double>(order + 1);
  std::vector<double> c(order + 1, 0.0);
  for (std::int64_t j = 0; j <= order; ++j) {
    const double theta = M_PI * (static_cast<double>(j) + 0.5) / n;
    const double lambda = (std::cos(theta) + 1.0) / 2.0;  // the node in P's [0, 1]
    if (lambda < cutoff) continue;
    for (std::int64_t k = 0; k <= order; ++k) c[k] += std::cos(static_cast<double>(k) * theta);
  }
  for (std::int64_t k = 0; k <= order; ++k) c[k] *= (k == 0 ? 1.0 : 2.0) / n;
  return c;
}

std::int64_t denseItemMatrixBytes(std::int64_t num_items) {
  return num_items * num_items * static_cast<std::int64_t>(sizeof(float));
}

GraphFilter::GraphFilter(const Csr& user_items, std::int64_t num_items, GraphFilterOptions options)
    : GraphFilter(user_items, num_items, std::move(options), TruncatedSvd()) {}

GraphFilter::GraphFilter(const Csr& user_items, std::int64_t num_items, GraphFilterOptions options,
                         TruncatedSvd svd)
    : options_(std::move(options)), num_users_(user_items.numRows()), num_items_(num_items) {
  build(user_items, std::move(svd));
}

void GraphFilter::build(const Csr& user_items, TruncatedSvd svd) {
  const GraphFilterOptions& o = options_;
  if (o.basis != "power" && o.basis != "chebyshev") {
    throw ConfigError(fmt::format("graph filter basis {}: expected power or chebyshev", o.basis));
  }
  if (o.coefficients.empty() || o.sharpen.empty()) {
    throw ConfigError("--filter-coefficients and the sharpening polynomial need at least one value");
  }
  if (o.ideal_weight < 0.0) throw ConfigError("--filter-ideal-weight must be >= 0");
  if (o.block_users < 1) throw ConfigError("graph filter: block_users must be positive");
  if (o.item_matrix != "auto" && o.item_matrix != "dense" && o.item_matrix != "factored") {
    throw ConfigError(fmt::format("--filter-item-matrix {}: expected auto, dense or factored",
                                  o.item_matrix));
  }
  if (o.higher_powers != "auto" && o.higher_powers != "exact" && o.higher_powers != "low-rank") {
    throw ConfigError(fmt::format("--filter-higher-powers {}: expected auto, exact or low-rank",
                                  o.higher_powers));
  }
  torch::NoGradGuard no_grad;
  // R~ and its transpose, with D_u^-1/2 and D_i^-1/2 folded into the values.
  const std::int64_t nnz = user_items.numEdges();
  NormalizedInteractions normalized = normalizedInteractions(user_items, num_items_);
  item_degree_ = std::move(normalized.item_degree);
  user_items_ = std::move(normalized.user_items);
  item_users_ = std::move(normalized.item_users);

  const std::int64_t dense_bytes = denseItemMatrixBytes(num_items_);
  const std::int64_t limit = o.dense_limit_bytes > 0 ? o.dense_limit_bytes : availableMemoryBytes() / 2;
  const bool fits = dense_bytes <= limit;
  if (o.item_matrix == "dense" && !fits) {
    throw ConfigError(fmt::format(
        "--filter-item-matrix dense: the item-item matrix of {} items takes {:.2f} GiB, more than "
        "the {:.2f} GiB allowed ({}); use --filter-item-matrix factored (P applied as R~^T R~, "
        "memory growing with the interactions, not with items^2)",
        num_items_, gib(dense_bytes), gib(limit),
        o.dense_limit_bytes > 0 ? "the limit given" : "half of the memory available now"));
  }
  const bool dense = o.item_matrix == "dense" ||
                     (o.item_matrix == "auto" && fits &&
                      num_items_ * num_items_ <= kDenseArithmeticAdvantage * 2 * nnz);
  if (dense) {
    // P's columns in blocks: P E = R~^T (R~ E) for blocks E of the identity.
    torch::Tensor p = torch::empty({num_items_, num_items_});
    for (std::int64_t first = 0; first < num_items_; first += o.block_users) {
      const std::int64_t count = std::min(o.block_users, num_items_ - first);
      torch::Tensor identity = torch::zeros({num_items_, count});
      identity.narrow(0, first, count).fill_diagonal_(1.0);
      p.narrow(1, first, count).copy_(applyItemMatrix(identity));
    }
    dense_p_ = std::move(p);  // from here on applyItemMatrix uses it
  }

  const std::int64_t h_degree = static_cast<std::int64_t>(o.coefficients.size() + o.sharpen.size()) - 2;
  // auto: low-rank for power-basis filters only. A Chebyshev interpolant of a step has large
  // alternating power coefficients, so the dropped remainder is not small (chebycf fell to
  // recall@20 0.04 on gowalla with it).
  low_rank_ = o.higher_powers == "low-rank" ||
              (o.higher_powers == "auto" && !dense && h_degree >= 2 && o.basis == "power");
  if (!low_rank_ && o.ideal_weight == 0.0) return;
  const std::int64_t smaller = std::min(num_users_, num_items_);
  if (o.rank < 1 || o.rank > smaller) {
    throw ConfigError(fmt::format(
        "--filter-rank {}: the ideal low-pass part and low-rank higher powers need a rank in "
        "[1, {}] (the smaller of users and items); ask for less, or --filter-ideal-weight 0 "
        "--filter-higher-powers exact for none", o.rank, smaller));
  }
  if (!svd.right_vectors.defined()) {
    RandomizedSvdOptions so = o.svd;
    so.rank = o.rank;
    svd = randomizedSvd(asOperator(user_items_, item_users_), so);
  }
  KGREC_CHECK(svd.right_vectors.dim() == 2 && svd.right_vectors.size(0) == num_items_ &&
                  svd.right_vectors.size(1) == o.rank && svd.singular_values.numel() == o.rank,
              "graph filter: SVD {} for {} items and rank {}", c10::str(svd.right_vectors.sizes()),
              num_items_, o.rank);
  svd_ = svd;
  const torch::Tensor v = svd.right_vectors.to(torch::kFloat32).contiguous();
  std::vector<torch::Tensor> gather, scale, expand;
  if (low_rank_) {
    const std::vector<double>& f = o.coefficients;
    const std::vector<double>& g = o.sharpen;
    const bool chebyshev = o.basis == "chebyshev";
    // f(0) and f'(0): T_k(-1) = (-1)^k, d/dl T_k(2l - 1) at 0 = 2 (-1)^(k+1) k^2.
    double f0 = 0.0, f1 = 0.0;
    for (std::size_t k = 0; k < f.size(); ++k) {
      const double sign = k % 2 == 0 ? 1.0 : -1.0;
      f0 += chebyshev ? f[k] * sign : (k == 0 ? f[k] : 0.0);
      f1 += chebyshev ? -2.0 * sign * f[k] * static_cast<double>(k * k) : (k == 1 ? f[k] : 0.0);
    }
    const double g0 = g[0], g1 = g.size() > 1 ? g[1] : 0.0;
    h0_ = f0 * g0;
    h1_ = f1 * g0 + f0 * g1;
    const torch::Tensor lambda = svd.singular_values.to(torch::kFloat64).square();
    std::vector<double> tail(o.rank);
    for (std::int64_t k = 0; k < o.rank; ++k) {
      const double l = lambda[k].item<double>();
      tail[k] = response(l) - h0_ - h1_ * l;
    }
    gather.push_back(v);
    scale.push_back(torch::tensor(tail, torch::kFloat64).to(torch::kFloat32));
    expand.push_back(v);
  }
  if (o.ideal_weight > 0.0) {
    const IdealPart ideal = idealPart(v);
    gather.push_back(ideal.gather);
    scale.push_back(torch::full({o.rank}, o.ideal_weight, torch::kFloat32));
    expand.push_back(ideal.expand);
  }
  gather_ = torch::cat(gather, 1).contiguous();
  scale_ = torch::cat(scale).contiguous();
  expand_ = torch::cat(expand, 1).contiguous();
}

double GraphFilter::response(double l) const {
  const std::vector<double>& f = options_.coefficients;
  const std::vector<double>& g = options_.sharpen;
  double fl = 0.0;
  if (options_.basis == "chebyshev") {  // T_0 = 1, T_1 = x, T_j+1 = 2 x T_j - T_j-1 at x = 2l - 1
    double previous = 1.0, current = 2.0 * l - 1.0;
    fl = f[0] + (f.size() > 1 ? f[1] * current : 0.0);
    for (std::size_t j = 2; j < f.size(); ++j) {
      const double next = 2.0 * (2.0 * l - 1.0) * current - previous;
      fl += f[j] * next;
      previous = current;
      current = next;
    }
  } else {
    for (auto j = static_cast<std::int64_t>(f.size()) - 1; j >= 0; --j) fl = fl * l + f[j];
  }
  double gl = 0.0;
  for (auto j = static_cast<std::int64_t>(g.size()) - 1; j >= 0; --j) gl = gl * l + g[j];
  return fl * gl;
}

GraphFilter::IdealPart GraphFilter::idealPart(const torch::Tensor& v) const {
  std::vector<float> scale_in(num_items_), scale_out(num_items_);
  for (std::int64_t i = 0; i < num_items_; ++i) {
    scale_in[i] = inverseSqrtDegree(item_degree_[i]);
    scale_out[i] = std::sqrt(static_cast<float>(item_degree_[i]));
  }
  return {v * torch::tensor(scale_in).unsqueeze(1),
          sharpen(v * torch::tensor(scale_out).unsqueeze(1))};  // W = g(P) D^1/2 V
}

torch::Tensor GraphFilter::sumRowsAt(const ItemSets& sets, const torch::Tensor& table) const {
  const std::int64_t width = table.size(1);
  torch::Tensor sums = torch::zeros({sets.count, width});
  const float* in = table.data_ptr<float>();
  float* out_rows = sums.data_ptr<float>();
  at::parallel_for(0, sets.count, 16, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t j = begin; j < end; ++j) {
      float* out = out_rows + j * width;
      const std::int64_t r = sets.rows[j];
      for (std::int64_t e = sets.indptr[r]; e < sets.indptr[r + 1]; ++e) {
        const float* in_row = in + static_cast<std::int64_t>(sets.indices[e]) * width;
        for (std::int64_t k = 0; k < width; ++k) out[k] += in_row[k];
      }
    }
  });
  return sums;
}

GraphFilter::Factors GraphFilter::spectralFactors() const {
  torch::NoGradGuard no_grad;
  TruncatedSvd svd = svd_;
  if (!svd.right_vectors.defined()) {
    RandomizedSvdOptions so = options_.svd;
    so.rank = std::min(options_.rank, std::min(num_users_, num_items_));
    svd = randomizedSvd(asOperator(user_items_, item_users_), so);
  }
  const torch::Tensor v = svd.right_vectors.to(torch::kFloat32).contiguous();
  const torch::Tensor lambda = svd.singular_values.to(torch::kFloat64).square();
  std::vector<double> h(static_cast<std::size_t>(v.size(1)));
  for (std::int64_t k = 0; k < v.size(1); ++k) h[k] = response(lambda[k].item<double>());
  // Users: sums of `gather`'s rows at their items; items: `expand`.
  std::vector<torch::Tensor> gather{v * torch::tensor(h, torch::kFloat64).to(torch::kFloat32)};
  std::vector<torch::Tensor> expand{v};
  if (options_.ideal_weight > 0.0) {
    const IdealPart ideal = idealPart(v);
    gather.push_back(ideal.gather * static_cast<float>(options_.ideal_weight));
    expand.push_back(ideal.expand);
  }
  const torch::Tensor table = torch::cat(gather, 1).contiguous();
  std::vector<std::int64_t> all_users(num_users_);
  std::iota(all_users.begin(), all_users.end(), 0);
  const ItemSets sets{user_items_.indptr.data_ptr<std::int64_t>(),
                      user_items_.indices.data_ptr<std::int32_t>(), all_users.data(), num_users_};
  return {sumRowsAt(sets, table), torch::cat(expand, 1).contiguous(), v.size(1)};
}

torch::Tensor GraphFilter::applyItemMatrix(const torch::Tensor& x) const {
  if (dense_p_.defined()) return torch::mm(dense_p_, x);
  return spmm(item_users_, spmm(user_items_, x));
}

torch::Tensor GraphFilter::polynomial(const torch::Tensor& x) const {
  const std::vector<double>& c = options_.coefficients;
  auto applyP = [this](const torch::Tensor& y) { return applyItemMatrix(y); };
  if (options_.basis == "power") return powerSeries(c, x, applyP);
  // T_0 = x, T_1 = (2P - I) x, T_k+1 = 2 (2P - I) T_k - T_k-1.
  torch::Tensor previous = x;
  torch::Tensor y = x * c[0];
  if (c.size() == 1) return y;
  torch::Tensor current = applyP(x).mul_(2.0).sub_(x);
  y.add_(current, c[1]);
  for (std::size_t k = 2; k < c.size(); ++k) {
    torch::Tensor next = applyP(current).mul_(4.0).sub_(current, 2.0).sub_(previous);
    y.add_(next, c[k]);
    previous = std::move(current);
    current = std::move(next);
  }
  return y;
}

torch::Tensor GraphFilter::sharpen(const torch::Tensor& x) const {
  const std::vector<double>& g = options_.sharpen;
  if (g.size() == 1 && g[0] == 1.0) return x;
  return powerSeries(g, x, [this](const torch::Tensor& v) { return applyItemMatrix(v); });
}

torch::Tensor GraphFilter::filterBlock(const ItemSets& sets) const {
  const std::int64_t count = sets.count;
  const std::int64_t* indptr = sets.indptr;
  const std::int32_t* indices = sets.indices;
  const std::int64_t* row = sets.rows;
  // The sets' indicators as columns of a dense [items, count] block.
  torch::Tensor x = torch::zeros({num_items_, count});
  float* xp = x.data_ptr<float>();
  for (std::int64_t j = 0; j < count; ++j) {
    for (std::int64_t e = indptr[row[j]]; e < indptr[row[j] + 1]; ++e) {
      xp[static_cast<std::int64_t>(indices[e]) * count + j] = 1.0f;
    }
  }
  torch::Tensor y;
  if (low_rank_) {
    y = x * h0_;
    if (h1_ != 0.0) y.add_(applyItemMatrix(x), h1_);
  } else {
    y = sharpen(polynomial(x));
  }
  if (gather_.defined()) {
    // The low-rank coordinates of each set: sums of `gather_`'s rows at its items.
    y.addmm_(expand_, sumRowsAt(sets, gather_).mul_(scale_).t());
  }
  return y;
}

template <typename SetsOf>
torch::Tensor GraphFilter::filterInBlocks(const torch::Tensor& queries_in, SetsOf setsOf) const {
  torch::NoGradGuard no_grad;
  const torch::Tensor queries = queries_in.to(torch::kCPU, torch::kInt64).contiguous();
  const std::int64_t count = queries.size(0);
  torch::Tensor out = torch::empty({count, num_items_});
  for (std::int64_t first = 0; first < count; first += options_.block_users) {
    const std::int64_t n = std::min(options_.block_users, count - first);
    out.narrow(0, first, n).copy_(filterBlock(setsOf(queries.narrow(0, first, n))).t());
  }
  return out;
}

torch::Tensor GraphFilter::scores(const torch::Tensor& users) const {
  const auto* indptr = user_items_.indptr.data_ptr<std::int64_t>();
  const auto* indices = user_items_.indices.data_ptr<std::int32_t>();
  return filterInBlocks(users, [&](const torch::Tensor& block) {
    const auto* user = block.data_ptr<std::int64_t>();
    for (std::int64_t j = 0; j < block.size(0); ++j) {
      KGREC_CHECK(user[j] >= 0 && user[j] < num_users_, "graph filter: user {} out of [0, {})",
                  user[j], num_users_);
    }
    return ItemSets{indptr, indices, user, block.size(0)};
  });
}

torch::Tensor GraphFilter::itemScores(const torch::Tensor& items) const {
  // Set j is {items[j]}: indptr 0, 1, 2, ... over the block's own item indices.
  std::vector<std::int64_t> indptr, rows;
  std::vector<std::int32_t> indices;
  return filterInBlocks(items, [&](const torch::Tensor& block) {
    const auto* item = block.data_ptr<std::int64_t>();
    const std::int64_t n = block.size(0);
    indptr.resize(n + 1);
    rows.resize(n);
    indices.resize(n);
    for (std::int64_t j = 0; j < n; ++j) {
      KGREC_CHECK(item[j] >= 0 && item[j] < num_items_, "graph filter: item {} out of [0, {})",
                  item[j], num_items_);
      indptr[j] = j;
      rows[j] = j;
      indices[j] = static_cast<std::int32_t>(item[j]);
    }
    indptr[n] = n;
    return ItemSets{indptr.data(), indices.data(), rows.data(), n};
  });
}

}  // namespace kgrec
