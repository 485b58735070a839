#include "models/block_gnn.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include <torch/autograd.h>
#include <torch/nn/functional/activation.h>
#include <torch/nn/functional/normalization.h>

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
  for (const std::int32_t r : block.relations) {
    KGREC_CHECK(r >= 0, "an edge has the negative relation id {}", r);
    if (static_cast<std::size_t>(r) >= t.relation_counts.size()) t.relation_counts.resize(r + 1, 0);
    ++t.relation_counts[r];
  }
  t.edge_dst = torch::repeat_interleave(torch::arange(t.num_dst, torch::kInt64),
                                        t.csr.indptr.diff());
  // The transpose by a counting sort over the sources: edges keep their destination order
  // within each source row.
  t.csr_t.num_rows = t.num_src;
  t.csr_t.num_cols = t.num_dst;
  std::vector<std::int64_t> t_indptr(t.num_src + 1, 0);
  for (std::int32_t src : block.indices) ++t_indptr[src + 1];
  for (std::int64_t v = 0; v < t.num_src; ++v) t_indptr[v + 1] += t_indptr[v];
  std::vector<std::int32_t> t_indices(edges);
  std::vector<float> t_values(edges);
  std::vector<std::int64_t> next(t_indptr.begin(), t_indptr.end() - 1);
  for (std::int64_t dst = 0; dst < t.num_dst; ++dst) {
    for (std::int64_t e = block.indptr[dst]; e < block.indptr[dst + 1]; ++e) {
      const std::int64_t at = next[block.indices[e]]++;
      t_indices[at] = static_cast<std::int32_t>(dst);
      t_values[at] = block.edge_weight[e];
    }
  }
  t.csr_t.indptr = torch::tensor(t_indptr, torch::kInt64);
  t.csr_t.indices = torch::tensor(t_indices, torch::kInt32);
  t.csr_t.values = torch::tensor(t_values, torch::kFloat32);
  if (device != torch::kCPU) {
    for (torch::Tensor* tensor : t.tensors()) *tensor = tensor->to(device);
  }
  return t;
}

std::vector<torch::Tensor*> BlockTensors::tensors() {
  return {&csr.indptr,   &csr.indices, &csr.values, &csr_t.indptr,    &csr_t.indices,
          &csr_t.values, &edge_dst,    &edge_src,   &edge_relation};
}

namespace {

// y = A x with dL/dx = A^T dL/dy, both by the row-parallel spmm.
class BlockProduct : public torch::autograd::Function<BlockProduct> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, torch::Tensor h_src,
                               const BlockTensors* block) {
    ctx->saved_data["block"] = reinterpret_cast<std::int64_t>(block);
    return spmm(block->csr, h_src.contiguous());
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const auto* block = reinterpret_cast<const BlockTensors*>(ctx->saved_data["block"].toInt());
    return {spmm(block->csr_t, grads[0].contiguous()), torch::Tensor()};
  }
};

}  // namespace

torch::Tensor aggregate(const BlockTensors& block, const torch::Tensor& h_src) {
  KGREC_CHECK(h_src.size(0) == block.num_src, "block has {} sources, representation {} rows",
              block.num_src, h_src.size(0));
  // The sparse sum runs in fp32, as autocast runs sums: under --precision bf16/fp16 the rows
  // come from a half-precision product (a no-op cast otherwise).
  return BlockProduct::apply(h_src.to(torch::kFloat32), &block);
}

torch::Tensor sumIntoDestinations(const BlockTensors& block, const torch::Tensor& messages) {
  return torch::zeros({block.num_dst, messages.size(1)}, messages.options())
      .index_add(0, block.edge_dst, messages);
}

torch::Tensor segmentSoftmax(const torch::Tensor& scores, const torch::Tensor& segment,
                             std::int64_t num_segments) {
  // Shifting by each segment's maximum keeps exp() finite; the shift cancels in the ratio, so
  // it carries no gradient. Taken on the scores' device (no round trip to the host); an empty
  // segment keeps -inf, which no entry reads.
  const torch::Tensor max =
      torch::full({num_segments}, -std::numeric_limits<float>::infinity(), scores.options())
          .scatter_reduce(0, segment, scores.detach(), "amax", /*include_self=*/true);
  const torch::Tensor e = torch::exp(scores - max.index_select(0, segment));
  const torch::Tensor sum = torch::zeros({num_segments}, scores.options()).index_add(0, segment, e);
  return e / sum.index_select(0, segment);
}

namespace {
// Glorot-uniform for a [.., fan_in, fan_out] parameter.
torch::Tensor glorotUniform(at::IntArrayRef shape, std::int64_t fan_in, std::int64_t fan_out) {
  const double bound = std::sqrt(6.0 / static_cast<double>(fan_in + fan_out));
  return torch::empty(shape).uniform_(-bound, bound);
}
constexpr double kKgatLeakySlope = 0.2;  // KGAT's LeakyReLU
}  // namespace

BlockGnnImpl::BlockGnnImpl(const BlockGnnOptions& options) : options_(options) {
  if (options_.model != "lightgcn" && options_.model != "sage" && options_.model != "rgcn" &&
      options_.model != "kgat") {
    throw ConfigError(fmt::format("--model {}: unknown model; the distributed trainer trains "
                                  "lightgcn, sage, rgcn and kgat", options_.model));
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
  if ((options_.model == "rgcn" || options_.model == "kgat") && options_.num_relations <= 0) {
    throw ConfigError(fmt::format("{} needs the graph's relation count", options_.model));
  }
  if (options_.model == "rgcn") {
    if (options_.num_bases < 1 || options_.num_bases > options_.num_relations) {
      throw ConfigError(fmt::format("--bases {}: between 1 and the {} relations",
                                    options_.num_bases, options_.num_relations));
    }
  }
  if (options_.model == "kgat") {
    const std::int64_t d = options_.dim, r = options_.num_relations;
    relation_embedding_ = register_parameter("relation_embedding", glorotUniform({r, d}, r, d));
    relation_projection_ = register_parameter("relation_projection", glorotUniform({r, d, d}, d, d));
    for (std::int64_t l = 0; l < options_.layers; ++l) {
      bi_sum_.push_back(register_module(fmt::format("bi_sum{}", l), torch::nn::Linear(d, d)));
      bi_product_.push_back(
          register_module(fmt::format("bi_product{}", l), torch::nn::Linear(d, d)));
    }
  }
  if (options_.model == "sage" || options_.model == "rgcn") {
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
        bases_.push_back(register_parameter(
            fmt::format("bases{}", l),
            glorotUniform({options_.num_bases, options_.dim, options_.dim}, options_.dim,
                          options_.dim)));
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
  const bool no_features = !adapter_ || feature_rows_at.numel() == 0;
  // Positions ascend, so ID rows at every position are the rows themselves (a full graph of
  // ID inputs): no scatter of the whole table.
  if (no_features && id_rows_at.numel() == num_nodes) return id_rows;
  torch::Tensor h = torch::zeros({num_nodes, options_.dim}, id_rows.options().requires_grad(false));
  if (id_rows_at.numel() > 0) h = h.index_add(0, id_rows_at, id_rows);
  if (adapter_ && feature_rows_at.numel() > 0) {
    h = h.index_add(0, feature_rows_at, adapter_.ptr()->forward(features));
  }
  return h;
}

namespace {
// `counts`: edges (or rows) per relation id, 0 .. the largest present.
void checkRelations(const std::vector<std::int64_t>& counts, std::int64_t num_relations) {
  const auto largest = static_cast<std::int64_t>(counts.size()) - 1;
  KGREC_CHECK(largest < num_relations, "an edge has relation id {} but the model knows {} relations",
              largest, num_relations);
}
}  // namespace

torch::Tensor BlockGnnImpl::projectByRelation(const torch::Tensor& rows,
                                              const torch::Tensor& relations,
                                              std::vector<std::int64_t> counts) const {
  // Grouped by relation, one matrix product per relation present, then put back in row
  // order: no [n, dim, dim] gather of the matrices.
  const torch::Tensor order = relations.argsort();
  if (counts.empty() && relations.numel() > 0) {
    const torch::Tensor counted =
        torch::bincount(relations, {}, options_.num_relations).to(torch::kCPU);
    counts.assign(counted.data_ptr<std::int64_t>(),
                  counted.data_ptr<std::int64_t>() + counted.numel());
  }
  checkRelations(counts, options_.num_relations);
  std::vector<torch::Tensor> projected;
  std::int64_t begin = 0;
  for (std::size_t r = 0; r < counts.size(); ++r) {
    if (counts[r] == 0) continue;
    projected.push_back(torch::matmul(rows.index_select(0, order.narrow(0, begin, counts[r])),
                                      relation_projection_[static_cast<std::int64_t>(r)]));
    begin += counts[r];
  }
  if (projected.empty()) return torch::zeros({0, options_.dim}, rows.options());
  const torch::Tensor inverse =
      torch::empty_like(order).index_copy_(0, order, torch::arange(order.numel(), order.options()));
  return torch::cat(projected).index_select(0, inverse);
}

torch::Tensor BlockGnnImpl::attentionScores(const BlockTensors& block,
                                            const torch::Tensor& h_src) const {
  // projectByRelation checks the relation ids against the model's.
  const std::int64_t edges = block.edge_src.numel();
  // Tails and heads in one grouped projection.
  std::vector<std::int64_t> counts = block.relation_counts;  // tails, then heads: each twice
  for (std::int64_t& c : counts) c *= 2;
  const torch::Tensor projected = projectByRelation(
      torch::cat({h_src.index_select(0, block.edge_src), h_src.index_select(0, block.edge_dst)}),
      block.edge_relation.repeat({2}), std::move(counts));
  return (projected.narrow(0, 0, edges) *
          torch::tanh(projected.narrow(0, edges, edges) +
                      relation_embedding_.index_select(0, block.edge_relation)))
      .sum(1);
}

torch::Tensor BlockGnnImpl::transrDistance(const torch::Tensor& heads,
                                           const torch::Tensor& relations,
                                           const torch::Tensor& tails) const {
  KGREC_CHECK(options_.model == "kgat", "the TransR distance belongs to kgat");
  // W_r h + e_r - W_r t = W_r (h - t) + e_r: one projection per triple.
  return (projectByRelation(heads - tails, relations) +
          relation_embedding_.index_select(0, relations))
      .pow(2)
      .sum(1);
}

std::vector<torch::Tensor> BlockGnnImpl::kgParameters() const {
  std::vector<torch::Tensor> params{relation_embedding_, relation_projection_};
  // Not the adapter's bias: it cancels out of every distance (W_r (x + b) - W_r (y + b)), so
  // its KG gradient is rounding noise, which Adam would scale up to full-size steps.
  if (adapter_) params.push_back(adapter_->weight);
  return params;
}

std::int64_t BlockGnnImpl::outputDim() const {
  return options_.model == "kgat" ? options_.dim * (options_.layers + 1) : options_.dim;
}

torch::Tensor BlockGnnImpl::layer(std::int64_t l, const BlockTensors& block,
                                  const torch::Tensor& h_src) const {
  if (options_.model == "kgat") {
    torch::Tensor alpha;
    {
      // As in KGAT, the attention carries no gradient: W_r and e_r learn from the KG loss
      // alone (the paper recomputes the attention between epochs). It also spares backward
      // the per-edge projections, the bulk of a step.
      torch::NoGradGuard no_grad;
      alpha = segmentSoftmax(attentionScores(block, h_src), block.edge_dst, block.num_dst);
    }
    const torch::Tensor neighbours =
        sumIntoDestinations(block, h_src.index_select(0, block.edge_src) * alpha.unsqueeze(1));
    const torch::Tensor self = h_src.narrow(0, 0, block.num_dst);
    return torch::leaky_relu(bi_sum_[l].ptr()->forward(self + neighbours), kKgatLeakySlope) +
           torch::leaky_relu(bi_product_[l].ptr()->forward(self * neighbours), kKgatLeakySlope);
  }
  torch::Tensor out = self_.empty() ? torch::Tensor()
                                    : self_[l].ptr()->forward(h_src.narrow(0, 0, block.num_dst));
  if (options_.model == "rgcn") {
    // sum_e w_e W_{r_e} h_src = sum_b (sum_e w_e a_{r_e b} h_src) V_b: one weighted
    // aggregation per basis, then one matrix product per basis.
    checkRelations(block.relation_counts, options_.num_relations);
    const torch::Tensor coef =
        coefficients_[l].index_select(0, block.edge_relation) * block.csr.values.unsqueeze(1);
    const torch::Tensor messages = h_src.index_select(0, block.edge_src);
    for (std::int64_t b = 0; b < options_.num_bases; ++b) {
      out = out + torch::matmul(sumIntoDestinations(block, messages * coef.narrow(1, b, 1)),
                                bases_[l][b]);
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
  if (options_.model == "kgat") {
    std::vector<torch::Tensor> parts{per_layer.front()};
    for (std::size_t l = 1; l < per_layer.size(); ++l) {
      parts.push_back(torch::nn::functional::normalize(
          per_layer[l], torch::nn::functional::NormalizeFuncOptions().p(2).dim(1)));
    }
    return torch::cat(parts, 1);
  }
  return per_layer.back();
}

torch::Tensor BlockGnnImpl::forward(const std::vector<BlockTensors>& blocks,
                                    const torch::Tensor& h0, std::int64_t num_out,
                                    const LayerHook& hook) const {
  KGREC_CHECK(static_cast<std::int64_t>(blocks.size()) == options_.layers,
              "{} blocks for {} layers", blocks.size(), options_.layers);
  std::vector<torch::Tensor> per_layer{h0.narrow(0, 0, num_out)};
  torch::Tensor h = h0;
  for (std::int64_t l = 0; l < options_.layers; ++l) {
    h = layer(l, blocks[l], h);
    if (hook) h = hook(l, h);
    per_layer.push_back(h.narrow(0, 0, num_out));
  }
  return combine(per_layer);
}

InputRows inputRows(const BlockGnn& model, const NodeSpace& space,
                    const std::vector<std::int64_t>& nodes) {
  InputRows r;
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    const bool user = space.typeOf(nodes[i]) == NodeType::kUser;
    if (model->usesIds(user)) {
      r.id_at.push_back(static_cast<std::int64_t>(i));
      r.id_nodes.push_back(nodes[i]);
    }
    if (model->usesFeatures(user)) {
      r.feature_at.push_back(static_cast<std::int64_t>(i));
      r.feature_nodes.push_back(nodes[i]);
    }
  }
  return r;
}

}  // namespace kgrec
