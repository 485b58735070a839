#include "models/encoder/text_embedder.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <exception>
#include <mutex>
#include <filesystem>
#include <fstream>

#include <ATen/Parallel.h>
#include <torch/csrc/jit/serialization/import.h>

#include "engine/common/atomic_output.h"
#include "engine/common/error.h"
#include "engine/common/progress.h"
#include "engine/store/dataset_io.h"
#include "engine/store/hdf5_file.h"
#include "models/compute_device.h"
#include "models/encoder/seeded_encoder.h"

namespace kgrec {
namespace {

namespace fs = std::filesystem;

constexpr const char* kFeaturePath = "/features/lm";
constexpr const char* kFeatureGroup = "/features";

// Token budget of one forward (texts x padded length). Measured with all-MiniLM-L6-v2 at
// max-len 128 on one core: 32 texts a batch embed 25% more texts per CPU-second than 256.
// With the packed CPU attention 2,048 to 8,192 run alike on one thread; 8,192 leaves too few
// batches to share between two threads (55 against 63 texts/s).
constexpr std::int64_t kMaxBatchTokens = 4096;

// What the encoder must look like, for every error about its interface.
constexpr const char* kExpectedInterface =
    "expected a TorchScript module whose forward(input_ids, attention_mask) takes int64 "
    "[batch, seq] tensors and returns token states [batch, seq, hidden] (a tensor, a tuple "
    "starting with one, or a dict with 'last_hidden_state'); see docs/embedding.md";

// LibTorch's messages carry a C++ backtrace after the first line, and the TorchScript
// interpreter's a script traceback before its final "...Error: what" line; users need that one.
std::string errorSummary(const std::string& message) {
  const std::size_t error = message.rfind("Error: ");
  if (error != std::string::npos) {
    const std::size_t begin = message.rfind('\n', error);
    const std::size_t from = begin == std::string::npos ? 0 : begin + 1;
    return message.substr(from, message.find('\n', error) - from);
  }
  return message.substr(0, message.find('\n'));
}

// FNV-1a 64 of the file's bytes, as hex: identifies an encoder or vocabulary by content, so
// the cache survives renames and copies but not edits.
std::string contentHash(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path, "cannot be read");
  std::uint64_t h = 0xcbf29ce484222325ULL;
  std::vector<char> buffer(1 << 20);
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    for (std::streamsize i = 0; i < in.gcount(); ++i) {
      h = (h ^ static_cast<unsigned char>(buffer[i])) * 0x100000001b3ULL;
    }
  }
  return fmt::format("fnv1a64:{:016x}", h);
}

torch::ScalarType parseDtype(const std::string& dtype, torch::Device device) {
  if (dtype == "fp32") return torch::kFloat32;
  if (dtype == "fp16") {
    // LibTorch's CPU kernels lack half-precision matrix products.
    if (!device.is_cuda()) throw ConfigError("--dtype fp16 needs --device cuda");
    return torch::kFloat16;
  }
  throw ConfigError(fmt::format("--dtype must be fp16 or fp32, got '{}'", dtype));
}

torch::jit::Module loadModule(const std::string& path) {
  if (!fs::is_regular_file(path)) {
    throw InputError(path, "encoder file not found (export one as docs/embedding.md shows)");
  }
  try {
    return torch::jit::load(path);
  } catch (const c10::Error& e) {
    throw InputError(path, fmt::format("not a TorchScript module (torch.jit.save output): {}",
                                       errorSummary(e.what())));
  }
}

// Rows of the token embedding table, when the module names it as BERT does.
std::int64_t embeddingRows(const torch::jit::Module& module) {
  for (const auto& p : module.named_parameters(/*recurse=*/true)) {
    const std::string& name = p.name;
    const std::string suffix = "word_embeddings.weight";
    if (name == "word_embeddings" ||
        (name.size() >= suffix.size() &&
         name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0)) {
      return p.value.size(0);
    }
  }
  return -1;
}

std::optional<PretrainedModelFolder> readFolderOf(const EmbedOptions& options) {
  if (options.model_dir.empty()) return std::nullopt;
  if (!options.encoder_path.empty()) {
    throw ConfigError("--model and --encoder exclude each other: pick one encoder");
  }
  return readPretrainedModelFolder(options.model_dir);
}

// --max-len resolved: the model's own max_seq_length unless given.
std::int64_t resolvedMaxLen(const EmbedOptions& options,
                            const std::optional<PretrainedModelFolder>& folder) {
  if (options.max_len != EmbedOptions::kModelMaxLen) return options.max_len;
  return folder ? folder->max_seq_length : EmbedOptions::kTorchScriptMaxLen;
}

}  // namespace

TextEncoder::TextEncoder(const EmbedOptions& options)
    : options_(options),
      folder_(readFolderOf(options)),
      tokenizer_(WordPieceTokenizer::fromVocabFile(folder_ ? folder_->vocab_path : options.vocab_path)),
      device_(computeDevice(options.device, /*local_rank=*/0)),
      dtype_(parseDtype(options.dtype, device_)),
      max_len_(resolvedMaxLen(options, folder_)) {
  if (max_len_ < 2) {
    throw ConfigError(fmt::format("--max-len must be >= 2 ([CLS] and [SEP]), got {}", max_len_));
  }
  if (options.batch < 1) throw ConfigError(fmt::format("--batch must be >= 1, got {}", options.batch));
  if (!folder_) {
    loadTorchScript();
    return;
  }
  const PretrainedModelFolder& f = *folder_;
  if (f.vocab_size != tokenizer_.vocabSize()) {
    throw ConfigError(fmt::format("{}: field 'vocab_size' is {} but {} has {} tokens: the "
                                  "vocabulary and the model do not belong together",
                                  f.config_path, f.vocab_size, f.vocab_path, tokenizer_.vocabSize()));
  }
  if (max_len_ > f.max_positions) {
    throw ConfigError(fmt::format("--max-len {} exceeds {} field 'max_position_embeddings' ({})",
                                  max_len_, f.config_path, f.max_positions));
  }
  bert_ = loadBertEncoder(f);
  bert_->to(device_, dtype_);
  pooling_ = f.pooling;
  normalize_ = f.normalize;
  dim_ = f.hidden;
  name_ = f.description();
}

void TextEncoder::loadTorchScript() {
  module_ = loadModule(options_.encoder_path);
  const std::string& path = options_.encoder_path;
  seeded_ = module_.hasattr(kSeededEncoderMarker) && module_.attr(kSeededEncoderMarker).isBool() &&
            module_.attr(kSeededEncoderMarker).toBool();
  const std::string file_name = fs::path(path).filename().string();
  name_ = seeded_ ? fmt::format("{} (seeded test encoder, random weights, not pretrained)", file_name)
                  : file_name;
  const std::int64_t rows = embeddingRows(module_);
  if (rows >= 0 && rows != tokenizer_.vocabSize()) {
    throw InputError(path, fmt::format("its token embedding table has {} rows but {} has {} "
                                       "tokens: the encoder and vocabulary do not belong together",
                                       rows, options_.vocab_path, tokenizer_.vocabSize()));
  }
  // Frozen: eval mode (no dropout) and no parameter ever asks for a gradient.
  module_.eval();
  for (torch::Tensor p : module_.parameters()) p.requires_grad_(false);
  module_.to(device_, dtype_);

  // Probe 1, the interface: [CLS] [SEP] and a padded row.
  const torch::Tensor ids =
      torch::tensor({tokenizer_.clsId(), tokenizer_.sepId(), tokenizer_.clsId(), tokenizer_.padId()},
                    torch::kInt64).view({2, 2});
  const torch::Tensor mask = torch::tensor({1, 1, 1, 0}, torch::kInt64).view({2, 2});
  dim_ = forward(ids, mask).size(2);
  // Probe 2, the sizes: the largest vocabulary id at max_len tokens must fit the embedding
  // and position tables (an index error here would otherwise surface mid-run).
  const torch::Tensor last = torch::full({1, max_len_}, tokenizer_.vocabSize() - 1, torch::kInt64);
  try {
    forward(last, torch::ones({1, max_len_}, torch::kInt64));
  } catch (const InputError&) {
    throw InputError(path, fmt::format(
        "fails on token id {} (the last of {}) at {} tokens: its vocabulary or position "
        "table is smaller than the vocabulary file or --max-len",
        tokenizer_.vocabSize() - 1, options_.vocab_path, max_len_));
  }
}

std::vector<torch::Tensor> TextEncoder::parameters() const {
  if (bert_) return bert_->parameters();
  std::vector<torch::Tensor> out;
  for (const torch::Tensor& p : module_.parameters()) out.push_back(p);
  return out;
}

torch::Tensor TextEncoder::forward(const torch::Tensor& ids, const torch::Tensor& mask) const {
  const std::string& path = options_.encoder_path;
  torch::NoGradGuard no_grad;
  if (bert_) return bert_->forward(ids.to(device_), mask.to(device_)).to(torch::kFloat32);
  c10::IValue out;
  try {
    out = module_.forward({ids.to(device_), mask.to(device_)});
  } catch (const std::exception& e) {  // c10::Error, or the interpreter's runtime_error
    throw InputError(path, fmt::format("forward failed: {}; {}", errorSummary(e.what()),
                                       kExpectedInterface));
  }
  torch::Tensor states;
  if (out.isTensor()) {
    states = out.toTensor();
  } else if (out.isTuple() && !out.toTupleRef().elements().empty() &&
             out.toTupleRef().elements()[0].isTensor()) {
    states = out.toTupleRef().elements()[0].toTensor();
  } else if (out.isGenericDict() && out.toGenericDict().contains("last_hidden_state")) {
    states = out.toGenericDict().at("last_hidden_state").toTensor();
  } else {
    throw InputError(path, fmt::format("forward returned {}; {}", out.tagKind(), kExpectedInterface));
  }
  if (states.dim() != 3 || states.size(0) != ids.size(0) || states.size(1) != ids.size(1) ||
      !states.is_floating_point()) {
    throw InputError(path, fmt::format("forward returned a {} tensor of shape {} for input "
                                       "{}; {}", std::string(states.dtype().name()),
                                       c10::str(states.sizes()), c10::str(ids.sizes()),
                                       kExpectedInterface));
  }
  return states.to(torch::kFloat32);
}

torch::Tensor TextEncoder::embed(const std::vector<std::string>& texts, Progress* progress) const {
  const auto n = static_cast<std::int64_t>(texts.size());
  torch::Tensor out = torch::zeros({n, dim_}, torch::kFloat32);
  std::vector<Encoding> encodings(texts.size());
  std::vector<std::int64_t> order;
  for (std::int64_t i = 0; i < n; ++i) {
    if (texts[i].empty()) continue;  // no text: the zero row stays
    encodings[i] = tokenizer_.encode(texts[i], max_len_, Padding::kNone);
    order.push_back(i);
  }
  // Similar lengths share a batch, so little compute goes to padding.
  std::stable_sort(order.begin(), order.end(), [&](std::int64_t a, std::int64_t b) {
    return encodings[a].ids.size() < encodings[b].ids.size();
  });
  // Batches: up to --batch texts, and no more tokens than kMaxBatchTokens (at least one text):
  // the padded attention's scores grow with batch x seq^2, and past a few MB they no longer
  // stay in cache.
  struct Batch {
    std::size_t begin, end;
    std::int64_t tokens;  // rows x padded length: the batch's cost, roughly
  };
  std::vector<Batch> batches;
  for (std::size_t begin = 0, end = 0; begin < order.size(); begin = end) {
    end = begin + 1;
    while (end < order.size() && static_cast<std::int64_t>(end - begin) < options_.batch &&
           static_cast<std::int64_t>(end + 1 - begin) *
                   static_cast<std::int64_t>(encodings[order[end]].ids.size()) <= kMaxBatchTokens) {
      ++end;
    }
    batches.push_back({begin, end, static_cast<std::int64_t>(end - begin) *
                                       static_cast<std::int64_t>(encodings[order[end - 1]].ids.size())});
  }
  // Encodes, pools and normalises one batch into its rows of `out`.
  const auto run = [&](const Batch& batch) {
    const std::size_t begin = batch.begin;
    const std::size_t end = batch.end;
    const auto rows = static_cast<std::int64_t>(end - begin);
    const auto seq = static_cast<std::int64_t>(encodings[order[end - 1]].ids.size());
    torch::Tensor ids = torch::full({rows, seq}, tokenizer_.padId(), torch::kInt64);
    torch::Tensor mask = torch::zeros({rows, seq}, torch::kInt64);
    auto ids_a = ids.accessor<std::int64_t, 2>();
    auto mask_a = mask.accessor<std::int64_t, 2>();
    for (std::int64_t r = 0; r < rows; ++r) {
      const Encoding& e = encodings[order[begin + r]];
      for (std::size_t t = 0; t < e.ids.size(); ++t) {
        ids_a[r][t] = e.ids[t];
        mask_a[r][t] = 1;
      }
    }
    const torch::Tensor states = forward(ids, mask);
    torch::Tensor pooled;
    if (pooling_ == Pooling::kCls) {
      pooled = states.select(1, 0);
    } else {
      const torch::Tensor m = mask.to(states.device(), torch::kFloat32).unsqueeze(-1);
      pooled = (states * m).sum(1) / m.sum(1).clamp_min(1.0);
    }
    if (normalize_) pooled = pooled / pooled.norm(2, {1}, /*keepdim=*/true).clamp_min(1e-12);
    const torch::Tensor index =
        torch::tensor(std::vector<std::int64_t>(order.begin() + begin, order.begin() + end));
    out.index_copy_(0, index, pooled.cpu());
    return rows;
  };
  // With several CPU threads, whole batches run side by side, one thread each (their matrix
  // products single-threaded too: OpenBLAS and LibTorch run serially inside an OpenMP parallel
  // region), rather than every operation split across the threads: the products then scale
  // with the threads, which the many small operations of a forward do not. The batches and
  // each one's computation are the same as with one thread, and so are the vectors. The
  // costliest batches go first, so the threads finish close together. The native encoder
  // only; a TorchScript module keeps LibTorch's intra-op threads.
  const int threads = at::get_num_threads();
  if (bert_ && device_.is_cpu() && threads > 1 &&
      batches.size() >= 2 * static_cast<std::size_t>(threads)) {
    std::vector<std::size_t> by_cost(batches.size());
    for (std::size_t b = 0; b < by_cost.size(); ++b) by_cost[b] = b;
    std::stable_sort(by_cost.begin(), by_cost.end(), [&](std::size_t a, std::size_t b) {
      return batches[a].tokens > batches[b].tokens;
    });
    std::atomic<std::size_t> next{0};
    std::mutex mutex;  // guards done, progress and error
    std::int64_t done = 0;
    std::exception_ptr error;
#pragma omp parallel num_threads(threads)
    {
      for (std::size_t b = next++; b < by_cost.size(); b = next++) {
        try {
          const std::int64_t rows = run(batches[by_cost[b]]);
          const std::lock_guard<std::mutex> lock(mutex);
          done += rows;
          if (progress != nullptr) progress->update(static_cast<std::uint64_t>(done));
        } catch (...) {
          const std::lock_guard<std::mutex> lock(mutex);
          if (!error) error = std::current_exception();
          next = by_cost.size();
        }
      }
    }
    if (error) std::rethrow_exception(error);
    return out;
  }
  std::int64_t done = 0;
  for (const Batch& batch : batches) {
    done += run(batch);
    if (progress != nullptr) progress->update(static_cast<std::uint64_t>(done));
  }
  return out;
}

EmbedReport embedDataset(const std::string& dataset_path, const EmbedOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  const auto elapsed = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  // Refuses a missing, foreign or other-version file before anything else.
  const DatasetSummary summary = readDatasetSummary(dataset_path);
  std::vector<std::string> texts;
  {
    const Hdf5File f = Hdf5File::openRead(dataset_path);
    for (const char* object : {"/text/items", "/text/entities"}) {
      if (!f.has(object)) continue;
      std::vector<std::string> part = f.readStrings(object);
      texts.insert(texts.end(), part.begin(), part.end());
    }
  }
  const std::int64_t rows = summary.num_items + summary.num_entities;
  if (static_cast<std::int64_t>(texts.size()) != rows) {
    throw FormatError(fmt::format("{}: /text holds {} texts, expected {} (items and entities)",
                                  dataset_path, texts.size(), rows));
  }
  EmbedReport report;
  report.texts = rows;
  report.empty_texts = std::count(texts.begin(), texts.end(), std::string());
  if (report.empty_texts == rows) {
    throw FormatError(fmt::format("{}: no item or entity has a text; nothing to embed",
                                  dataset_path));
  }
  // The cache key: the contents of every file that shapes the vectors, and the resolved max_len.
  const std::optional<PretrainedModelFolder> folder = readFolderOf(options);
  std::string encoder_hash;
  if (folder) {
    encoder_hash = contentHash(folder->weights_path);
    for (const std::string& path : folder->settings_paths) encoder_hash += "+" + contentHash(path);
  } else {
    if (!fs::is_regular_file(options.encoder_path)) {
      throw InputError(options.encoder_path,
                       "encoder file not found (export one as docs/embedding.md shows)");
    }
    encoder_hash = contentHash(options.encoder_path);
  }
  const std::string vocab_hash = contentHash(folder ? folder->vocab_path : options.vocab_path);
  const std::int64_t max_len = resolvedMaxLen(options, folder);

  if (!options.force) {
    const Hdf5File f = Hdf5File::openRead(dataset_path);
    const auto attr = [&](const char* name) {
      return f.hasAttribute(kFeatureGroup, name) ? f.readStringAttribute(kFeatureGroup, name)
                                                 : std::string();
    };
    if (f.has(kFeaturePath) && attr("lm_encoder_hash") == encoder_hash &&
        attr("lm_vocab_hash") == vocab_hash && f.hasAttribute(kFeatureGroup, "lm_max_len") &&
        f.readIntAttribute(kFeatureGroup, "lm_max_len") == max_len &&
        f.shape(kFeaturePath).at(0) == rows) {
      report.dim = f.shape(kFeaturePath).at(1);
      report.cached = true;
      report.encoder_name = attr("lm_encoder_name");
      report.seconds = elapsed();
      return report;
    }
  }

  const TextEncoder encoder(options);
  report.dim = encoder.dim();
  report.encoder_name = encoder.name();
  Progress progress("embed texts", static_cast<std::uint64_t>(rows - report.empty_texts));
  const torch::Tensor features = encoder.embed(texts, &progress).contiguous();
  progress.finish();

  // Written into a copy that replaces the dataset only when complete.
  AtomicOutput out(dataset_path);
  fs::copy_file(dataset_path, out.tempPath(), fs::copy_options::overwrite_existing);
  Hdf5File f = Hdf5File::openWrite(out.tempPath());
  f.remove(kFeaturePath);
  f.writeMatrix(kFeaturePath, features.data_ptr<float>(), rows, report.dim);
  f.setAttribute(kFeatureGroup, "lm_rows", "items then entities");
  f.setAttribute(kFeatureGroup, "lm_encoder_name", report.encoder_name);
  f.setAttribute(kFeatureGroup, "lm_encoder_hash", encoder_hash);
  f.setAttribute(kFeatureGroup, "lm_vocab_hash", vocab_hash);
  f.setAttribute(kFeatureGroup, "lm_max_len", max_len);
  f.setAttribute(kFeatureGroup, "lm_dim", report.dim);
  f.setAttribute(kFeatureGroup, "lm_seeded_test_encoder",
                 static_cast<std::int64_t>(encoder.isSeededTestEncoder()));
  f.setAttribute(kFeatureGroup, "lm_empty_texts", report.empty_texts);
  f.setAttribute("/metadata", "features.lm.encoder", report.encoder_name);
  f.close();
  out.commit();
  report.seconds = elapsed();
  return report;
}

}  // namespace kgrec
