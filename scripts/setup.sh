#!/usr/bin/env bash
# Installs what kgrec needs from Debian 12's packages (only what is missing), then configures
# and builds it in build/. Used by scripts/demo.sh and scripts/test.sh; safe to re-run.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config
  libtorch-dev                        # LibTorch 1.13 (CPU) with TorchScript
  libopenblas0-openmp                 # BLAS for LibTorch's matrix products (the default netlib BLAS is ~5x slower)
  libopenmpi-dev openmpi-bin          # MPI
  slurm-wlm                           # Slurm: launcher/slurm/ and its test (a private slurmctld + slurmd)
  libmetis-dev                        # graph partitioning
  libhdf5-dev                         # dataset, shards, features (C++ API)
  libboost-graph-dev                  # Boost.Graph, header-only
  libgtest-dev libbenchmark-dev       # tests and benchmarks
  libcli11-dev nlohmann-json3-dev libspdlog-dev libfmt-dev
  libicu-dev                          # Unicode data for the BERT tokenizer
  gnuplot-nox python3                 # bench/scaling/: plots, and the report and cost model scripts
)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "kgrec setup: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

BUILD_DIR=${KGREC_BUILD_DIR:-build}
# One compile job per core, capped by memory: a LibTorch translation unit takes ~1.5 GiB.
JOBS=${KGREC_JOBS:-$(nproc)}
if [ ! -f "$BUILD_DIR/build.ninja" ]; then
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release "$@"
fi
cmake --build "$BUILD_DIR" -j "$JOBS"
# Optional pretrained text encoder (KGREC_SKIP_MODELS=1 skips it): never fatal.
if [ -z "${KGREC_SKIP_MODELS:-}" ]; then
  scripts/install_minilm.sh || echo "kgrec setup: all-MiniLM-L6-v2 not installed (optional; tests that need it skip)"
fi
