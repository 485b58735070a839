#include "models/normalized_interactions.h"

#include <cmath>

#include "engine/common/error.h"

namespace kgrec {
namespace {

CsrTensors csrTensors(const std::vector<std::int64_t>& indptr,
                      const std::vector<std::int32_t>& indices, const std::vector<float>& values,
                      std::int64_t rows, std::int64_t cols) {
  CsrTensors t;
  t.indptr = torch::tensor(indptr, torch::kInt64);
  t.indices = torch::tensor(indices, torch::kInt32);
  t.values = torch::tensor(values, torch::kFloat32);
  t.num_rows = rows;
  t.num_cols = cols;
  return t;
}

}  // namespace

float inverseSqrtDegree(std::int64_t d) {
  return d > 0 ? 1.0f / std::sqrt(static_cast<float>(d)) : 0.0f;
}

NormalizedInteractions normalizedInteractions(const Csr& user_items, std::int64_t num_items) {
  NormalizedInteractions r;
  const std::int64_t num_users = user_items.numRows();
  const std::int64_t nnz = user_items.numEdges();
  r.item_degree.assign(num_items, 0);
  for (std::int32_t i : user_items.indices) {
    KGREC_CHECK(i >= 0 && i < num_items, "interaction matrix: item {} out of [0, {})", i, num_items);
    ++r.item_degree[i];
  }
  // R~'s values in R's order, and R~^T by a counting sort over the items.
  std::vector<float> values(nnz);
  std::vector<std::int64_t> t_indptr(num_items + 1, 0);
  for (std::int64_t i = 0; i < num_items; ++i) t_indptr[i + 1] = t_indptr[i] + r.item_degree[i];
  std::vector<std::int32_t> t_indices(nnz);
  std::vector<float> t_values(nnz);
  std::vector<std::int64_t> fill(t_indptr.begin(), t_indptr.end() - 1);
  for (std::int64_t u = 0; u < num_users; ++u) {
    const float du = inverseSqrtDegree(user_items.degree(u));
    for (std::int64_t e = user_items.indptr[u]; e < user_items.indptr[u + 1]; ++e) {
      const std::int32_t i = user_items.indices[e];
      values[e] = du * inverseSqrtDegree(r.item_degree[i]);
      const std::int64_t slot = fill[i]++;
      t_indices[slot] = static_cast<std::int32_t>(u);
      t_values[slot] = values[e];
    }
  }
  r.user_items = csrTensors(user_items.indptr, user_items.indices, values, num_users, num_items);
  r.item_users = csrTensors(t_indptr, t_indices, t_values, num_items, num_users);
  return r;
}

LinearOperator asOperator(const CsrTensors& user_items, const CsrTensors& item_users) {
  return {user_items.num_rows, user_items.num_cols,
          [&user_items](const torch::Tensor& x) { return spmm(user_items, x); },
          [&item_users](const torch::Tensor& y) { return spmm(item_users, y); }};
}

}  // namespace kgrec
