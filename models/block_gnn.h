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
//   kgat      KGAT (Wang et al. 2019): each edge h <- t of relation r gets the attention score
//             (W_r x_t) . tanh(W_r x_h + e_r), normalised over h's sampled neighbours (a
//             softmax per destination segment of the block's CSR); the attended sum e_N meets
//             x_h in the bi-interaction LeakyReLU(W1 (x_h + e_N)) + LeakyReLU(W2 (x_h * e_N));
//             the output concatenates layer 0 with the L2-normalised later layers. W_r and e_r
//             also define the TransR distance of the KG loss (transrDistance), the only loss
//             they learn from: as in KGAT, the attention carries no gradient.
// A node's layer-0 representation is its learnable ID embedding, or for items and entities
// with frozen LM features, the features through a trainable linear adapter, or both summed
// (NodeInput). The ID embeddings are not part of the module: they are sharded over the ranks
// and handed in as rows (engine/train/sharded_embedding.h).

#include <cstdint>
#include <functional>
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
  CsrTensors csr_t;         // its transpose (num_src rows): the backward of aggregate()
  torch::Tensor edge_dst;   // [E] int64: destination row of each edge (autograd path)
  torch::Tensor edge_src;   // [E] int64
  torch::Tensor edge_relation;  // [E] int64: the dataset's relation id
  // Edges per relation id (0 .. the largest present), counted on the host where the block is
  // built, so that grouping by relation reads nothing back from a device.
  std::vector<std::int64_t> relation_counts;
  std::int64_t num_dst = 0;
  std::int64_t num_src = 0;
  static BlockTensors from(const Block& block, torch::Device device);
  // Every tensor above, for moving them together (engine/train/device_copy_stream.h).
  std::vector<torch::Tensor*> tensors();
};

// Per destination, the weighted sum of its sources' rows of `h_src` [num_src, d]: the
// row-parallel spmm, whose backward is the spmm of the transposed block (no per-edge tensor).
// The block must outlive the backward.
torch::Tensor aggregate(const BlockTensors& block, const torch::Tensor& h_src);

// Per destination, the sum of its edges' rows of `messages` [E, d] (autograd).
torch::Tensor sumIntoDestinations(const BlockTensors& block, const torch::Tensor& messages);

// Softmax of `scores` [E] within each segment: entries with the same `segment` [E] (int64 in
// [0, num_segments)) sum to 1. With autograd; an empty segment simply has no entries.
torch::Tensor segmentSoftmax(const torch::Tensor& scores, const torch::Tensor& segment,
                             std::int64_t num_segments);

struct BlockGnnOptions {
  std::string model = "lightgcn";  // lightgcn | sage | rgcn | kgat
  std::int64_t dim = 64;
  std::int64_t layers = 3;
  NodeInput item_input = NodeInput::kId;  // for items and entities
  std::int64_t feature_dim = 0;           // LM feature width; needed unless item_input is kId
  std::int64_t num_relations = 0;         // rgcn, kgat: relation ids are 0 .. num_relations - 1
  std::int64_t num_bases = 8;             // rgcn: basis matrices per layer (<= num_relations)
};

// Called on the output of every layer l (0-based) before it goes on (to the next layer and to
// combine()); returns the rows to use instead. SimGCL's noise is one (engine/train/simgcl.h).
using LayerHook = std::function<torch::Tensor(std::int64_t layer, const torch::Tensor& h)>;

class BlockGnnImpl : public torch::nn::Module {
 public:
  explicit BlockGnnImpl(const BlockGnnOptions& options);

  const BlockGnnOptions& options() const { return options_; }
  bool usesIds(bool user) const { return user || options_.item_input != NodeInput::kLm; }
  bool usesFeatures(bool user) const { return !user && options_.item_input != NodeInput::kId; }

  // Layer-0 rows of `num_nodes` nodes: ID rows [a, dim] added at rows `id_rows_at` [a], and
  // adapted features [b, feature_dim] at rows `feature_rows_at` [b] (int64 row positions,
  // each list ascending without repeats).
  torch::Tensor inputs(std::int64_t num_nodes, const torch::Tensor& id_rows_at,
                       const torch::Tensor& id_rows, const torch::Tensor& feature_rows_at,
                       const torch::Tensor& features) const;
  // Layer l (0-based) for a block: [num_dst, dim] from the sources' [num_src, dim].
  torch::Tensor layer(std::int64_t l, const BlockTensors& block, const torch::Tensor& h_src) const;
  // Width of an output row: dim, or dim * (layers + 1) for kgat's concatenation.
  std::int64_t outputDim() const;
  // The output rows from the same rows' representations at layers 0..L.
  torch::Tensor combine(const std::vector<torch::Tensor>& per_layer) const;
  // The output embedding of the last block's first `num_out` destinations, from the input
  // rows of the first block's sources; blocks are input layer first. `hook`, when set, is
  // applied to every layer's output rows (block l's destinations).
  torch::Tensor forward(const std::vector<BlockTensors>& blocks, const torch::Tensor& h0,
                        std::int64_t num_out, const LayerHook& hook = {}) const;

  // rgcn, layer l: the bases V [num_bases, dim, dim] (a message is h V_b), the coefficients
  // a [num_relations, num_bases], and the self-loop term.
  torch::Tensor& bases(std::int64_t l) { return bases_.at(l); }
  torch::Tensor& coefficients(std::int64_t l) { return coefficients_.at(l); }
  torch::nn::Linear& self(std::int64_t l) { return self_.at(l); }

  // kgat: rows [n, dim] projected by their relations' W_r (relations [n] int64; `counts`: rows
  // per relation id, as BlockTensors::relation_counts, or empty to count them on the device).
  torch::Tensor projectByRelation(const torch::Tensor& rows, const torch::Tensor& relations,
                                  std::vector<std::int64_t> counts = {}) const;
  // kgat: the attention score of every edge of a block [E] from the rows `h_src`.
  torch::Tensor attentionScores(const BlockTensors& block, const torch::Tensor& h_src) const;
  // kgat: the TransR distance |W_r h + e_r - W_r t|^2 of triples given as layer-0 rows
  // heads [n, dim], tails [n, dim] and relation ids [n].
  torch::Tensor transrDistance(const torch::Tensor& heads, const torch::Tensor& relations,
                               const torch::Tensor& tails) const;
  // kgat: e_r [num_relations, dim], W_r [num_relations, dim, dim] (a projection is x W_r),
  // and layer l's bi-interaction matrices W1 (sum) and W2 (product).
  torch::Tensor& relationEmbedding() { return relation_embedding_; }
  torch::Tensor& relationProjection() { return relation_projection_; }
  torch::nn::Linear& biSum(std::int64_t l) { return bi_sum_.at(l); }
  torch::nn::Linear& biProduct(std::int64_t l) { return bi_product_.at(l); }
  // The parameters the KG loss trains: e_r, W_r and the feature adapter's weight.
  std::vector<torch::Tensor> kgParameters() const;

 private:
  BlockGnnOptions options_;
  torch::nn::Linear adapter_{nullptr};
  std::vector<torch::nn::Linear> self_, neighbor_;  // sage and rgcn (self only), per layer
  std::vector<torch::Tensor> bases_, coefficients_;  // rgcn, per layer
  torch::Tensor relation_embedding_, relation_projection_;  // kgat
  std::vector<torch::nn::Linear> bi_sum_, bi_product_;      // kgat, per layer
};
TORCH_MODULE(BlockGnn);

// Which rows of a node list take an ID row and which a feature row, for BlockGnn::inputs:
// positions in the list and the nodes there (global ids). It depends on the node type only.
struct InputRows {
  std::vector<std::int64_t> id_at, id_nodes, feature_at, feature_nodes;
};
InputRows inputRows(const BlockGnn& model, const NodeSpace& space,
                    const std::vector<std::int64_t>& nodes);

}  // namespace kgrec
