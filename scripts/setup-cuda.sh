#!/usr/bin/env bash
# The CUDA configuration: installs a CUDA LibTorch 2.x into .venv/ (git-ignored), then configures
# (-DKGREC_CUDA=ON) and builds every target against it and NCCL in build-cuda/ (scripts/setup.sh
# with another build folder). Safe to re-run. Needs nvcc (the CUDA 13 toolkit with its libraries
# and NCCL); without it, it says what is missing and exits 77, which CTest's cuda.build reports
# as skipped, as it does with KGREC_CUDA_BUILD=off. KGREC_JOBS sets the compile jobs (default:
# one per core).
set -euo pipefail
cd "$(dirname "$0")/.."

# PyPI's torch 2.11.0 is built against CUDA 13.0: the toolkit here and on the GPU machine
# (docs/architecture.md, "The CUDA configuration").
TORCH_WHEEL=torch==2.11.0
# --no-deps: the toolkit provides cudart, cuBLAS, cuDNN, cuFFT, cuRAND, cuSPARSE, NVRTC and
# NCCL; these are the only libraries libtorch_cuda.so needs that the toolkit lacks (pinned to
# the versions torch 2.11.0 asks for). The full dependency set would add ~2.5 GB of nvidia-*.
EXTRA_WHEELS=(nvidia-cufile==1.15.1.6 nvidia-cusparselt-cu13==0.8.0 nvidia-nvshmem-cu13==3.4.5)
CUDA_MAJOR=13

# KGREC_CUDA_BUILD=off skips it (a quick local run of scripts/test.sh).
if [ "${KGREC_CUDA_BUILD:-on}" = off ]; then
  echo "kgrec setup-cuda: SKIPPED: KGREC_CUDA_BUILD=off; the CUDA configuration was not built"
  exit 77
fi
if ! command -v nvcc >/dev/null 2>&1; then
  echo "kgrec setup-cuda: SKIPPED: no nvcc on PATH (the CUDA $CUDA_MAJOR toolkit with NCCL is missing); the CUDA configuration was not built"
  exit 77
fi
major=$(nvcc --version | sed -n 's/.*release \([0-9]*\)\..*/\1/p')
if [ "$major" != "$CUDA_MAJOR" ]; then
  echo "kgrec setup-cuda: SKIPPED: nvcc is CUDA $major, but $TORCH_WHEEL is built for CUDA $CUDA_MAJOR; the CUDA configuration was not built"
  exit 77
fi

[ -x .venv/bin/python ] || python3 -m venv .venv
# Installed packages are skipped; pip's cache keeps the wheels (~760 MB) for later clones.
.venv/bin/pip install --quiet --disable-pip-version-check --no-deps "$TORCH_WHEEL" "${EXTRA_WHEELS[@]}"
# The torch package folder, located without importing torch (its Python dependencies are not
# installed). Its share/cmake holds LibTorch's CMake package; the folder itself is on the prefix
# path too, because LibTorch's config looks up libtorch.so and libc10.so with find_library, which
# would otherwise take Debian's 1.13 ones from /usr/lib first.
torch_root=$(.venv/bin/python -c 'import importlib.util, os
print(os.path.dirname(importlib.util.find_spec("torch").origin))')

# TORCH_CUDA_ARCH_LIST spares LibTorch's CMake its GPU probe (kgrec has no kernels of its own);
# 9.0 is the H100/H200 of the GPU machine.
KGREC_BUILD_DIR=build-cuda exec scripts/setup.sh -DKGREC_CUDA=ON \
  -DCMAKE_PREFIX_PATH="$torch_root/share/cmake;$torch_root" -DTORCH_CUDA_ARCH_LIST="${TORCH_CUDA_ARCH_LIST:-9.0}"
