#pragma once
// GNN layers over message-flow blocks (sampler/neighbor_sampler.h Block), the models kgrec
// trains data-parallel over partition shards:
//   lightgcn  LightGCN on the blocks: each layer is the weighted sum of the sampled
//             neighbours (the edge weights estimate the normalised adjacency without bias),
//             the output the mean of the layers, as in the full-graph model.
//   sage      GraphSAGE/PinSage-style: each layer mixes a node's own representation with the
//             weighted sum of its neighbours through two learned matrices (ReLU between
//             layers); the output is the last layer.
//   rgcn      R-GCN (Schlichtkrull et al. 2018): like sage, but each neighbour's message goes
//             through its relation's matrix W_r = sum_b a_rb V_b (basis decomposition, so that
//             many relations stay cheap).
// A node's layer-0 representation is its learnable ID embedding, or for items and entities
// with frozen LM features, the features through a trainable linear adapter, or both summed
// (NodeInput). The ID embeddings are not part of the module: they are sharded over the ranks
// and handed in as rows (engine/train/sharded_embedding.h).

#include <cstdint>
#include <string>
#include <vector>

#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>

#include "models/graph_tensors.h"
#include "sampler/neighbor_sampler.h"

namespace kgrec {

// Which layer-0 input a node type gets: users always have ID embeddings.
enum class NodeInput { kId, kLm, kBoth };
NodeInput parseNodeInput(const std::string& name);  // "id" | "lm" | "both"; ConfigError
const char* toString(NodeInput input);

// A block as tensors on a device. Rows: destinations [0, num_dst), sources [0, num_src); the
// destinations are the sources' first rows.
struct BlockTensors {
  CsrTensors csr;           // num_dst rows over the sources, values = edge weights
  torch::Tensor edge_dst;   // [E] int64: destination row of each edge (autograd path)
  torch::Tensor edge_src;   // [E] int64
  torch::Tensor edge_relation;  // [E] int64: the dataset's relation id
  std::int64_t num_dst = 0;
  std::int64_t num_src = 0;
  static BlockTensors from(const Block& block, torch::Device device);
};

// Per destination, the weighted sum of its sources' rows of `h_src` [num_src, d]. With
// autograd when grad mode is on; the row-parallel spmm otherwise (inference).
torch::Tensor aggregate(const BlockTensors& block, const torch::Tensor& h_src);

struct BlockGnnOptions {
  std::string model = "lightgcn";  // lightgcn | sage | rgcn
  std::int64_t dim = 64;
  std::int64_t layers = 3;
  NodeInput item_input = NodeInput::kId;  // for items and entities
  std::int64_t feature_dim = 0;           // LM feature width; needed unless item_input is kId
  std::int64_t num_relations = 0;         // rgcn: relation ids are 0 .. num_relations - 1
  std::int64_t num_bases = 8;             // rgcn: basis matrices per layer (<= num_relations)
};

class BlockGnnImpl : public torch::nn::Module {
 public:
  explicit BlockGnnImpl(const BlockGnnOptions& options);

  const BlockGnnOptions& options() const { return options_; }
  bool usesIds(bool user) const { return user || options_.item_input != NodeInput::kLm; }
  bool usesFeatures(bool user) const { return !user && options_.item_input != NodeInput::kId; }

  // Layer-0 rows of `num_nodes` nodes: ID rows [a, dim] added at rows `id_rows_at` [a], and
  // adapted features [b, feature_dim] at rows `feature_rows_at` [b] (int64 row positions).
  torch::Tensor inputs(std::int64_t num_nodes, const torch::Tensor& id_rows_at,
                       const torch::Tensor& id_rows, const torch::Tensor& feature_rows_at,
                       const torch::Tensor& features) const;
  // Layer l (0-based) for a block: [num_dst, dim] from the sources' [num_src, dim].
  torch::Tensor layer(std::int64_t l, const BlockTensors& block, const torch::Tensor& h_src) const;
  // The output rows from the same rows' representations at layers 0..L.
  torch::Tensor combine(const std::vector<torch::Tensor>& per_layer) const;
  // The output embedding of the last block's first `num_out` destinations, from the input
  // rows of the first block's sources; blocks are input layer first.
  torch::Tensor forward(const std::vector<BlockTensors>& blocks, const torch::Tensor& h0,
                        std::int64_t num_out) const;

  // rgcn, layer l: the bases V [num_bases, dim, dim] (a message is h V_b), the coefficients
  // a [num_relations, num_bases], and the self-loop term.
  torch::Tensor& bases(std::int64_t l) { return bases_.at(l); }
  torch::Tensor& coefficients(std::int64_t l) { return coefficients_.at(l); }
  torch::nn::Linear& self(std::int64_t l) { return self_.at(l); }

 private:
  BlockGnnOptions options_;
  torch::nn::Linear adapter_{nullptr};
  std::vector<torch::nn::Linear> self_, neighbor_;  // sage and rgcn (self only), per layer
  std::vector<torch::Tensor> bases_, coefficients_;  // rgcn, per layer
};
TORCH_MODULE(BlockGnn);

}  // namespace kgrec
