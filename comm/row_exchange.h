#pragma once
// Row-sparse exchange for tables too big to replicate (learnable ID embeddings, LM features):
// the rows are sharded over the ranks, and each step a rank fetches the rows its batch needs
// from their owners, then pushes those rows' gradients back to be summed at the owners. Both
// directions are all-to-all-v collectives over a ProcessGroup.

#include <cstdint>
#include <memory>
#include <vector>

#include <torch/types.h>

#include "comm/process_group.h"

namespace kgrec {

// Who owns a global row and where it lies in the owner's shard. The partition book (issue #4)
// implements this; until then BlockOwnership does. Every rank must hold the same mapping.
class RowOwnership {
 public:
  virtual ~RowOwnership() = default;
  virtual int owner(std::int64_t global) const = 0;
  virtual std::int64_t localRow(std::int64_t global) const = 0;
};

// Contiguous blocks: rank r owns rows [r * block, (r + 1) * block), block = ceil(rows / parts),
// so the last ranks may own fewer rows, or none.
class BlockOwnership final : public RowOwnership {
 public:
  BlockOwnership(std::int64_t num_rows, int parts);
  int owner(std::int64_t global) const override;
  std::int64_t localRow(std::int64_t global) const override;
  // Number of rows rank `part` owns.
  std::int64_t localRows(int part) const;

 private:
  std::int64_t num_rows_;
  std::int64_t block_;
};

// One batch's requests, planned once and used for both directions. Each distinct id is sent
// once, however often the batch repeats it.
struct RowRequest {
  // In a group of one, every row is this rank's: `served_rows` then holds the local row of
  // each requested id, in the order of the ids (repeats kept), and nothing is planned or sent.
  bool local = false;
  // [n] int64: for each requested id, its position among the distinct ids in send order.
  torch::Tensor inverse;
  // Distinct ids sent to each owner; the ids are grouped by owner in rank order.
  std::vector<std::int64_t> send_counts;
  // [m] int64: local rows this rank serves to the others, grouped by requesting rank.
  torch::Tensor served_rows;
  std::vector<std::int64_t> serve_counts;

  // What crosses ranks (a rank's rows for itself are a local copy): rows this rank serves to
  // the others, and distinct ids it asks of the others (= gradient rows it pushes to them).
  std::int64_t rowsServedToOthers(int rank) const { return othersOf(serve_counts, rank); }
  std::int64_t rowsAskedOfOthers(int rank) const { return othersOf(send_counts, rank); }

 private:
  static std::int64_t othersOf(const std::vector<std::int64_t>& counts, int rank) {
    std::int64_t total = 0;
    for (std::size_t r = 0; r < counts.size(); ++r) {
      if (static_cast<int>(r) != rank) total += counts[r];
    }
    return total;
  }
};

class RowExchange {
 public:
  RowExchange(std::shared_ptr<ProcessGroup> group, std::shared_ptr<const RowOwnership> ownership);
  int rank() const { return group_->rank(); }

  // Collective: tells the owners which of their rows this rank needs. `ids` is a 1-d int64
  // tensor of global row ids (any length, 0 included; repeats allowed).
  RowRequest plan(const torch::Tensor& ids) const;

  // Collective: the rows [n, *] of the planned ids, in the order of `ids`. `local_table` is
  // this rank's shard [owned rows, *], indexed by localRow (same row shape and dtype on every
  // rank).
  torch::Tensor fetch(const RowRequest& request, const torch::Tensor& local_table) const;

  // Collective: adds `row_grads` [n, *] (one row per planned id, in the order of `ids`) to the
  // owners' `local_grad` [owned rows, *]; repeats and ranks asking for the same row sum up.
  void pushGradients(const RowRequest& request, const torch::Tensor& row_grads,
                     torch::Tensor& local_grad) const;

  // Collective, differentiable: fetch(), whose backward pushes the rows' gradients to their
  // owners (pushGradients into zeros shaped like `local_table`). The backward is a collective
  // too: every rank must differentiate the same sequence of fetches, which autograd does when
  // every rank builds the same graph. The exchange must outlive the backward.
  torch::Tensor fetchWithGradient(const RowRequest& request, const torch::Tensor& local_table) const;

 private:
  std::shared_ptr<ProcessGroup> group_;
  std::shared_ptr<const RowOwnership> ownership_;
};

}  // namespace kgrec
