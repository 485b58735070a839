#include "engine/train/spectral_init.h"

#include <algorithm>
#include <cmath>

#include "engine/common/error.h"
#include "models/normalized_interactions.h"
#include "models/randomized_svd.h"

namespace kgrec {

SpectralRows spectralRows(const std::vector<Interaction>& train, const NodeSpace& nodes,
                          std::int64_t dim, double init_std, std::uint64_t seed) {
  torch::NoGradGuard no_grad;
  const NormalizedInteractions r =
      normalizedInteractions(userItemCsr(train, nodes.num_users), nodes.num_items);
  SpectralRows rows;
  rows.users = torch::zeros({nodes.num_users, dim});
  rows.items = torch::zeros({nodes.num_items, dim});
  const std::int64_t rank = std::min({dim, nodes.num_users, nodes.num_items});
  if (rank < 1 || train.empty()) return rows;
  RandomizedSvdOptions so;
  so.rank = rank;
  so.seed = seed;
  const TruncatedSvd svd = randomizedSvd(asOperator(r.user_items, r.item_users), so);
  const torch::Tensor s = svd.singular_values;
  // U = R~ V S^-1; the rows take S^1/2 on either side.
  const torch::Tensor root = s.sqrt().unsqueeze(0);
  const torch::Tensor u =
      spmm(r.user_items, svd.right_vectors) / s.clamp_min(1e-12).unsqueeze(0) * root;
  const torch::Tensor v = svd.right_vectors * root;
  const double count = static_cast<double>((nodes.num_users + nodes.num_items) * dim);
  const double rms = std::sqrt((u.pow(2).sum() + v.pow(2).sum()).item<double>() / count);
  KGREC_CHECK(rms > 0.0, "spectral initialisation: the interaction matrix has no singular value");
  rows.users.narrow(1, 0, rank).copy_(u * (init_std / rms));
  rows.items.narrow(1, 0, rank).copy_(v * (init_std / rms));
  return rows;
}

void applySpectralRows(const SpectralRows& rows, const NodeSpace& nodes,
                       const std::vector<std::int64_t>& global_ids, torch::Tensor& table) {
  torch::NoGradGuard no_grad;
  KGREC_CHECK(static_cast<std::int64_t>(global_ids.size()) == table.size(0),
              "{} node ids for {} rows", global_ids.size(), table.size(0));
  for (const NodeType type : {NodeType::kUser, NodeType::kItem}) {
    std::vector<std::int64_t> at, local;
    for (std::size_t row = 0; row < global_ids.size(); ++row) {
      if (nodes.typeOf(global_ids[row]) != type) continue;
      at.push_back(static_cast<std::int64_t>(row));
      local.push_back(nodes.localIndex(global_ids[row]));
    }
    const torch::Tensor& from = type == NodeType::kUser ? rows.users : rows.items;
    table.index_copy_(0, torch::tensor(at, torch::kInt64).to(table.device()),
                      from.index_select(0, torch::tensor(local, torch::kInt64)).to(table.device()));
  }
}

}  // namespace kgrec
