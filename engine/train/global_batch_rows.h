#pragma once
// The rows of a whole global batch on every rank: each rank contributes its share's rows and
// receives every rank's, in rank order. Differentiable: the gradient that each rank's loss
// gives to any gathered row is summed over the ranks (one all-reduce in backward) and each
// rank keeps its own rows' part, so that in-batch losses (softmax over the batch's positives,
// contrastive views) follow the same trajectory for any number of ranks.

#include <cstdint>
#include <vector>

#include <torch/types.h>

#include "comm/process_group.h"

namespace kgrec {

// Collective, and so is its backward: every rank must differentiate through it (a rank whose
// share is empty too; its rows then still take part, as a leaf of their own when they carry
// no gradient). `rows` [n_r, dim] float; the result is [sum n_r, dim].
torch::Tensor allGatherRows(ProcessGroup& group, const torch::Tensor& rows);

// Collective: every rank's ids in rank order (no gradient), matching allGatherRows's rows.
torch::Tensor allGatherIds(ProcessGroup& group, const std::vector<std::int64_t>& ids);

}  // namespace kgrec
