#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite with CTest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cd build
# Multi-rank tests start their own mpirun; as root (CI, containers) Open MPI needs these.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
ctest --output-on-failure -j "$(nproc)" "$@"
# The CUDA configuration, built above by the test cuda.build (skipped without nvcc or with
# KGREC_CUDA_BUILD=off): its GoogleTest suites on the CPU, in one process and under mpirun, where
# the GPU cases skip (scripts/gpu-check.sh runs them on a GPU machine). The e2e scripts drive the
# same sources as in this tree; KGREC_CUDA_TESTS=all runs them there too.
if command -v nvcc >/dev/null 2>&1 && [ "${KGREC_CUDA_BUILD:-on}" != off ] && [ -f ../build-cuda/build.ninja ]; then
  cd ../build-cuda
  labels=(-L 'unit|ranks')
  [ "${KGREC_CUDA_TESTS:-}" = all ] && labels=()
  ctest --output-on-failure -j "$(nproc)" "${labels[@]}" "$@"
fi
