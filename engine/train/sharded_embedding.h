#pragma once
// Learnable ID embeddings sharded by partition: each rank holds the rows of the nodes its part
// owns, with their row-sparse Adam state. A step fetches the rows its batch needs from their
// owners and pushes the rows' gradients back; each owner sums what it receives and updates
// only those rows (SparseAdam's rule), so no rank ever holds the whole table.

#include <cstdint>
#include <memory>

#include <torch/serialize/input-archive.h>
#include <torch/serialize/output-archive.h>
#include <torch/types.h>

#include "comm/row_exchange.h"
#include "partition/partition_book.h"

namespace kgrec {

// Rows owned by partition: owner = part, local row = the node's local id there.
class PartitionBookOwnership final : public RowOwnership {
 public:
  explicit PartitionBookOwnership(const PartitionBook& book) : book_(book) {}
  int owner(std::int64_t global) const override { return book_.partOf(global); }
  std::int64_t localRow(std::int64_t global) const override { return book_.localId(global); }

 private:
  const PartitionBook& book_;
};

// Row g of a seeded N(0, std^2) table, the same whatever rank computes it: with it a run on
// any number of ranks starts from the same embeddings.
void seededNormalRow(std::uint64_t seed, std::int64_t global, double std, float* out,
                     std::int64_t dim);

struct SparseAdamOptions {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
};

class ShardedEmbedding {
 public:
  // Rows of this rank's owned nodes (`book.ownedNodes(part)`, local-id order), initialised
  // with seededNormalRow(seed, global, init_std), and their Adam state, on `device`.
  ShardedEmbedding(std::shared_ptr<ProcessGroup> group, const PartitionBook& book,
                   std::int32_t part, std::int64_t dim, double init_std, std::uint64_t seed,
                   SparseAdamOptions adam, torch::Device device = torch::kCPU);

  struct Rows {
    RowRequest request;
    torch::Tensor rows;  // [n, dim], a leaf that requires grad
    bool all_owned = false;  // ownedRows(): every owned row in local order, no request
  };
  // Collective: the rows of `ids` (1-d int64 global ids; any length, repeats allowed).
  Rows fetch(const torch::Tensor& ids) const;
  // Every owned row, in local-id order, as rows to differentiate (full-graph training, where
  // each step uses them all). Not collective, nor is step() of them: nothing crosses ranks.
  Rows ownedRows() const;
  // Collective: sends rows.rows.grad() (zeros where it has none) to the owners, which add up
  // what they receive and take one Adam step on the rows that were asked for.
  void step(const Rows& rows);

  // This rank's rows and optimizer state, for a checkpoint, written as CPU tensors whatever
  // the device; load() restores them exactly onto this object's device (FormatError when the
  // archive's shapes differ).
  void save(torch::serialize::OutputArchive& archive) const;
  void load(torch::serialize::InputArchive& archive);

  torch::Tensor& table() { return table_; }  // [owned rows, dim]
  const torch::Tensor& table() const { return table_; }
  std::int64_t dim() const { return table_.size(1); }
  const RowExchange& exchange() const { return exchange_; }
  // Bytes this rank sent to other ranks in fetch answers and gradient pushes so far.
  std::int64_t bytesSent() const { return bytes_sent_; }

 private:
  RowExchange exchange_;
  SparseAdamOptions adam_;
  torch::Tensor table_, grad_, exp_avg_, exp_avg_sq_;
  std::int64_t steps_ = 0;
  mutable std::int64_t bytes_sent_ = 0;
};

}  // namespace kgrec
