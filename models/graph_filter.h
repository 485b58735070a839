#pragma once
// Training-free graph filters for collaborative filtering (GF-CF, Turbo-CF, BSPM, ChebyCF
// style): closed-form low-pass filters of the normalised user-item graph
//   R~ = D_u^-1/2 R D_i^-1/2,   P = R~^T R~  (item x item, eigenvalues in [0, 1]).
// A user's scores are the filtered signal of the user's training row r (binary):
//   s = g(P) [ f(P) r  +  alpha * D_i^1/2 V V^T D_i^-1/2 r ]
//     = h(P) r  +  alpha * W V^T D_i^-1/2 r,      h = f g,  W = g(P) D_i^1/2 V
// where f is a polynomial in P (power or Chebyshev basis), V the top `rank` right singular
// vectors of R~ (eigenvectors of P, from a randomized SVD) that make the ideal low-pass part,
// and g a polynomial in P applied last (BSPM's sharpening). W is computed once when fitting.
// h(P) r is computed exactly (every power of P applied to r) or, with `higher_powers`
// "low-rank", its terms of degree >= 2 through the rank-k eigenpairs of P:
//   h(P) r ~ h_0 r + h_1 P r + V diag(h(l) - h_0 - h_1 l) V^T r,   l = P's top eigenvalues,
// whose error is bounded by sum_{j>=2} |h_j| l_{k+1}^j: one product with P per user whatever
// the degree. docs/graph_filter.md has the presets and the figures.
//
// P is applied either as a dense [items, items] matrix (memory items^2 * 4 bytes) or
// factored, as R~^T (R~ x) with two sparse products (memory O(interactions + items * rank),
// cost O(interactions) per user and power of P).

#include <cstdint>
#include <string>
#include <vector>

#include <torch/types.h>

#include "engine/graph/dataset.h"
#include "models/graph_tensors.h"
#include "models/randomized_svd.h"

namespace kgrec {

struct GraphFilterOptions {
  // f's basis: "power" (sum c_k P^k) or "chebyshev" (sum c_k T_k(2P - I), the eigenvalues
  // [0, 1] mapped onto Chebyshev's [-1, 1]).
  std::string basis = "power";
  std::vector<double> coefficients = {0.0, 1.0};  // f's, lowest degree first
  double ideal_weight = 0.0;                      // alpha; 0: no low-rank part, no SVD
  std::int64_t rank = 256;                        // of the ideal low-pass part
  RandomizedSvdOptions svd;                       // its rank is `rank`
  std::vector<double> sharpen = {1.0};            // g's power-basis coefficients
  // "exact", "low-rank" (see above; needs rank <= min(users, items)), or "auto": exact with a
  // dense P, a Chebyshev basis or when h has degree <= 1, low-rank otherwise.
  std::string higher_powers = "auto";
  // "dense", "factored", or "auto": dense when it fits and costs at most a few times the
  // factored products' arithmetic (dense BLAS runs several times faster per operation).
  std::string item_matrix = "auto";
  // Largest dense P allowed, in bytes; 0: half of the memory available when fitting.
  std::int64_t dense_limit_bytes = 0;
  std::int64_t block_users = 512;  // users filtered together inside scores()
};

// The named presets: "gf-cf", "turbo-cf", "bspm", "chebycf" (graphFilterPresetNames()).
// ConfigError naming them for any other name.
GraphFilterOptions graphFilterPreset(const std::string& name);
const std::vector<std::string>& graphFilterPresetNames();

// Chebyshev interpolation (order+1 Chebyshev nodes) of the ideal low-pass filter of P that
// keeps the eigenvalues >= cutoff: coefficients of T_0 .. T_order in 2P - I.
std::vector<double> chebyshevLowPass(std::int64_t order, double cutoff);

// Bytes of a dense float [items, items] matrix.
std::int64_t denseItemMatrixBytes(std::int64_t num_items);

class GraphFilter {
 public:
  // Fits the filter: R~ from each user's training items (`user_items`, userItemCsr of the
  // training split), the randomized SVD when ideal_weight > 0, dense P when chosen.
  // ConfigError for bad options, or for a dense P larger than the limit (saying what to use).
  GraphFilter(const Csr& user_items, std::int64_t num_items, GraphFilterOptions options);
  // A filter whose SVD was computed before (a checkpoint's).
  GraphFilter(const Csr& user_items, std::int64_t num_items, GraphFilterOptions options,
              TruncatedSvd svd);

  // Scores [users.size(0), num_items] for a batch of user indices (int64).
  torch::Tensor scores(const torch::Tensor& users) const;
  // The filter's response [items.size(0), num_items] to each of `items` (int64) alone: the
  // scores of a user whose only item it is, i.e. its row of the filter's item-item matrix.
  torch::Tensor itemScores(const torch::Tensor& items) const;

  // A rank-k factorisation of the filter for vector-based serving: user vectors U
  // [users, k or 2k] and item vectors I [items, k or 2k] with U I^T = the filter's scores
  // with P replaced by its top-k eigenpairs V diag(l) V^T (exact for the ideal part; an
  // approximation of the rest, which loses P's spectrum below the k-th eigenvalue). Uses the
  // filter's SVD, or computes one of the configured rank when it has none.
  struct Factors {
    torch::Tensor users, items;
    std::int64_t rank = 0;  // k
  };
  Factors spectralFactors() const;

  const GraphFilterOptions& options() const { return options_; }
  // The SVD of R~ (V [items, rank], singular values); undefined tensors without one.
  const TruncatedSvd& svd() const { return svd_; }
  bool denseItemMatrix() const { return dense_p_.defined(); }
  bool lowRankHigherPowers() const { return low_rank_; }

 private:
  void build(const Csr& user_items, TruncatedSvd svd);
  // P x for a [items, b] block.
  torch::Tensor applyItemMatrix(const torch::Tensor& x) const;
  // f(P) x in options_.basis.
  torch::Tensor polynomial(const torch::Tensor& x) const;
  // g(P) x.
  torch::Tensor sharpen(const torch::Tensor& x) const;
  // The item sets filtered together: set j holds indices[indptr[rows[j]] .. indptr[rows[j]+1]).
  struct ItemSets {
    const std::int64_t* indptr;
    const std::int32_t* indices;
    const std::int64_t* rows;
    std::int64_t count;
  };
  // [items, sets.count] filtered indicator signals of the sets.
  torch::Tensor filterBlock(const ItemSets& sets) const;
  // [sets.count, table columns]: each set's sum of `table`'s rows at its items.
  torch::Tensor sumRowsAt(const ItemSets& sets, const torch::Tensor& table) const;
  // h(l) = f(l) g(l) at an eigenvalue l of P.
  double response(double l) const;
  // The ideal part's D_i^-1/2 V (gathered) and W = g(P) D_i^1/2 V (expanded).
  struct IdealPart {
    torch::Tensor gather, expand;
  };
  IdealPart idealPart(const torch::Tensor& v) const;
  // [queries.size(0), num_items]: filterBlock of `setsOf`(block of queries) a block at a time.
  template <typename SetsOf>
  torch::Tensor filterInBlocks(const torch::Tensor& queries, SetsOf setsOf) const;

  GraphFilterOptions options_;
  std::int64_t num_users_ = 0, num_items_ = 0;
  CsrTensors user_items_;  // R~ [users, items]
  CsrTensors item_users_;  // R~^T [items, users]
  torch::Tensor dense_p_;  // [items, items] when dense
  TruncatedSvd svd_;
  std::vector<std::int64_t> item_degree_;  // training interactions of each item
  // The low-rank terms in one product: V^T r and V^T D_i^-1/2 r are sums of rows of
  // `gather_` = [V | D_i^-1/2 V] (the halves in use), scaled column-wise by `scale_`
  // (h(l) - h_0 - h_1 l, and alpha) and multiplied by `expand_` = [V | W]. Undefined: none.
  torch::Tensor gather_, scale_, expand_;
  bool low_rank_ = false;
  double h0_ = 0.0, h1_ = 0.0;  // h's two lowest power-basis coefficients (low-rank mode)
};

}  // namespace kgrec
