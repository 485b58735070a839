#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite with CTest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cd build
# Multi-rank tests start their own mpirun; as root (CI, containers) Open MPI needs these.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
ctest --output-on-failure -j "$(nproc)" "$@"
# The CUDA configuration, built above by the test cuda.build (skipped without nvcc): its tests on
# the CPU, where the GPU ones skip (scripts/gpu-check.sh runs them on a GPU machine).
if command -v nvcc >/dev/null 2>&1 && [ "${KGREC_CUDA_BUILD:-off}" = on ] && [ -f ../build-cuda/build.ninja ]; then
  cd ../build-cuda
  ctest --output-on-failure -j "$(nproc)" "$@"
fi
