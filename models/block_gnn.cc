#include "models/block_gnn.h"

#include <cmath>

#include <torch/nn/functional/activation.h>

#include "engine/common/error.h"

namespace kgrec {

NodeInput parseNodeInput(const std::string& name) {
  if (name == "id") return NodeInput::kId;
  if (name == "lm") return NodeInput::kLm;
  if (name == "both") return NodeInput::kBoth;
  throw ConfigError(fmt::format("--features {}: expected id, lm or both", name));
}

const char* toString(NodeInput input) {
  switch (input) {
    case NodeInput::kId: return "id";
    case NodeInput::kLm: return "lm";
    case NodeInput::kBoth: return "both";
  }
  return "?";
}

BlockTensors BlockTensors::from(const Block& block, torch::Device device) {
  BlockTensors t;
  t.num_dst = static_cast<std::int64_t>(block.dst_nodes.size());
  t.num_src = static_cast<std::int64_t>(block.src_nodes.size());
  const std::int64_t edges = block.numEdges();
  t.csr.num_rows = t.num_dst;
  t.csr.num_cols = t.num_src;
  t.csr.indptr = torch::tensor(block.indptr, torch::kInt64);
  t.csr.indices = torch::from_blob(const_cast<std::int32_t*>(block.indices.data()), {edges},
                                   torch::kInt32).clone();
  t.csr.values = torch::from_blob(const_cast<float*>(block.edge_weight.data()), {edges},
                                  torch::kFloat32).clone();
  t.edge_src = t.csr.indices.to(torch::kInt64);
  t.edge_relation = torch::tensor(block.relations, torch::kInt64);
  t.edge_dst = torch::repeat_interleave(torch::arange(t.num_dst, torch::kInt64),
                                        t.csr.indptr.diff());
  if (device != torch::kCPU) {
    t.csr.indptr = t.csr.indptr.to(device);
    t.csr.indices = t.csr.indices.to(device);
    t.csr.values = t.csr.values.to(device);
    t.edge_src = t.edge_src.to(device);
    t.edge_dst = t.edge_dst.to(device);
    t.edge_relation = t.edge_relation.to(device);
  }
  return t;
}

torch::Tensor aggregate(const BlockTensors& block, const torch::Tensor& h_src) {
  KGREC_CHECK(h_src.size(0) == block.num_src, "block has {} sources, representation {} rows",
              block.num_src, h_src.size(0));
  if (!torch::GradMode::is_enabled() || !h_src.requires_grad()) {
    return spmm(block.csr, h_src.contiguous());
  }
  const torch::Tensor messages =
      h_src.index_select(0, block.edge_src) * block.csr.values.unsqueeze(1);
  return torch::zeros({block.num_dst, h_src.size(1)}, h_src.options())
      .index_add(0, block.edge_dst, messages);
}

BlockGnnImpl::BlockGnnImpl(const BlockGnnOptions& options) : options_(options) {
  if (options_.model != "lightgcn" && options_.model != "sage" && options_.model != "rgcn") {
    throw ConfigError(fmt::format("--model {}: unknown model; the distributed trainer trains "
                                  "lightgcn, sage and rgcn", options_.model));
  }
  if (options_.dim <= 0) throw ConfigError(fmt::format("--dim must be positive, got {}", options_.dim));
  if (options_.layers < 0) {
    throw ConfigError(fmt::format("--layers must be >= 0, got {}", options_.layers));
  }
  if (options_.item_input != NodeInput::kId) {
    if (options_.feature_dim <= 0) {
      throw ConfigError(fmt::format(
          "--features {} needs LM features, and the partitions have none: run kgrec embed on "
          "the dataset, then kgrec partition again (or use --features id)",
          toString(options_.item_input)));
    }
    adapter_ = register_module("adapter", torch::nn::Linear(options_.feature_dim, options_.dim));
  }
  if (options_.model == "rgcn") {
    if (options_.num_relations <= 0) {
      throw ConfigError("rgcn needs the graph's relation count");
    }
    if (options_.num_bases < 1 || options_.num_bases > options_.num_relations) {
      throw ConfigError(fmt::format("--bases {}: between 1 and the {} relations",
                                    options_.num_bases, options_.num_relations));
    }
  }
  if (options_.model != "lightgcn") {
    for (std::int64_t l = 0; l < options_.layers; ++l) {
      self_.push_back(register_module(fmt::format("self{}", l),
                                      torch::nn::Linear(options_.dim, options_.dim)));
      if (options_.model == "sage") {
        neighbor_.push_back(register_module(
            fmt::format("neighbor{}", l),
            torch::nn::Linear(torch::nn::LinearOptions(options_.dim, options_.dim).bias(false))));
      } else {
        // Glorot-uniform bases, coefficients uniform in [-1, 1] / sqrt(bases): a relation's
        // matrix then starts at about a single basis' scale.
        const double bound = std::sqrt(6.0 / static_cast<double>(2 * options_.dim));
        bases_.push_back(register_parameter(
            fmt::format("bases{}", l),
            torch::empty({options_.num_bases, options_.dim, options_.dim}).uniform_(-bound, bound)));
        const double c = 1.0 / std::sqrt(static_cast<double>(options_.num_bases));
        coefficients_.push_back(register_parameter(
            fmt::format("coefficients{}", l),
            torch::empty({options_.num_relations, options_.num_bases}).uniform_(-c, c)));
      }
    }
  }
}

torch::Tensor BlockGnnImpl::inputs(std::int64_t num_nodes, const torch::Tensor& id_rows_at,
                                   const torch::Tensor& id_rows,
                                   const torch::Tensor& feature_rows_at,
                                   const torch::Tensor& features) const {
  torch::Tensor h = torch::zeros({num_nodes, options_.dim}, id_rows.options().requires_grad(false));
  if (id_rows_at.numel() > 0) h = h.index_add(0, id_rows_at, id_rows);
  if (adapter_ && feature_rows_at.numel() > 0) {
    h = h.index_add(0, feature_rows_at, adapter_.ptr()->forward(features));
  }
  return h;
}

torch::Tensor BlockGnnImpl::layer(std::int64_t l, const BlockTensors& block,
                                  const torch::Tensor& h_src) const {
  torch::Tensor out = self_.empty() ? torch::Tensor()
                                    : self_[l].ptr()->forward(h_src.narrow(0, 0, block.num_dst));
  if (options_.model == "rgcn") {
    // sum_e w_e W_{r_e} h_src = sum_b (sum_e w_e a_{r_e b} h_src) V_b: one weighted
    // aggregation per basis, then one matrix product per basis.
    KGREC_CHECK(block.edge_relation.numel() == 0 ||
                    block.edge_relation.max().item<std::int64_t>() < options_.num_relations,
                "an edge has relation id {} but the model knows {} relations",
                block.edge_relation.max().item<std::int64_t>(), options_.num_relations);
    const torch::Tensor coef =
        coefficients_[l].index_select(0, block.edge_relation) * block.csr.values.unsqueeze(1);
    const torch::Tensor messages = h_src.index_select(0, block.edge_src);
    for (std::int64_t b = 0; b < options_.num_bases; ++b) {
      const torch::Tensor aggregated =
          torch::zeros({block.num_dst, h_src.size(1)}, h_src.options())
              .index_add(0, block.edge_dst, messages * coef.narrow(1, b, 1));
      out = out + torch::matmul(aggregated, bases_[l][b]);
    }
  } else {
    torch::Tensor neighbours = aggregate(block, h_src);
    if (options_.model == "lightgcn") return neighbours;
    out = out + neighbor_[l].ptr()->forward(neighbours);
  }
  return l + 1 < options_.layers ? torch::relu(out) : out;
}

torch::Tensor BlockGnnImpl::combine(const std::vector<torch::Tensor>& per_layer) const {
  KGREC_CHECK(!per_layer.empty(), "no layer representations to combine");
  if (options_.model == "lightgcn") return torch::stack(per_layer).mean(0);
  return per_layer.back();
}

torch::Tensor BlockGnnImpl::forward(const std::vector<BlockTensors>& blocks,
                                    const torch::Tensor& h0, std::int64_t num_out) const {
  KGREC_CHECK(static_cast<std::int64_t>(blocks.size()) == options_.layers,
              "{} blocks for {} layers", blocks.size(), options_.layers);
  std::vector<torch::Tensor> per_layer{h0.narrow(0, 0, num_out)};
  torch::Tensor h = h0;
  for (std::int64_t l = 0; l < options_.layers; ++l) {
    h = layer(l, blocks[l], h);
    per_layer.push_back(h.narrow(0, 0, num_out));
  }
  return combine(per_layer);
}

}  // namespace kgrec
