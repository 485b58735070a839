# Finds every dependency; a missing one stops the configure step naming the Debian package.

macro(kgrec_require found what package)
  if(NOT ${found})
    message(FATAL_ERROR "kgrec: ${what} not found. On Debian 12 install it with:\n"
                        "  apt-get install ${package}\n"
                        "or run scripts/setup.sh, which installs every dependency.")
  endif()
endmacro()

find_package(Threads REQUIRED)

find_package(Torch QUIET)
kgrec_require(Torch_FOUND "LibTorch" "libtorch-dev")
# LibTorch's config finds libtorch/libc10 with find_library, system folders first: a second
# LibTorch (scripts/setup-cuda.sh) beside Debian's must not link half of each.
foreach(lib TORCH_LIBRARY c10_LIBRARY)
  if(${lib} AND NOT ${lib} MATCHES "^${TORCH_INSTALL_PREFIX}/")
    message(FATAL_ERROR "kgrec: LibTorch at ${TORCH_INSTALL_PREFIX}, but ${lib} is ${${lib}}. "
                        "Put ${TORCH_INSTALL_PREFIX} on CMAKE_PREFIX_PATH (scripts/setup-cuda.sh does).")
  endif()
endforeach()

find_package(MPI QUIET COMPONENTS CXX)
kgrec_require(MPI_CXX_FOUND "MPI (Open MPI)" "libopenmpi-dev openmpi-bin")

find_package(HDF5 QUIET COMPONENTS CXX)
kgrec_require(HDF5_FOUND "HDF5 with the C++ API" "libhdf5-dev")
add_library(kgrec_hdf5 INTERFACE)
target_include_directories(kgrec_hdf5 SYSTEM INTERFACE ${HDF5_INCLUDE_DIRS})
target_link_libraries(kgrec_hdf5 INTERFACE ${HDF5_LIBRARIES})
target_compile_definitions(kgrec_hdf5 INTERFACE ${HDF5_DEFINITIONS})

find_path(METIS_INCLUDE_DIR metis.h PATH_SUFFIXES metis)
find_library(METIS_LIBRARY metis)
if(METIS_INCLUDE_DIR AND METIS_LIBRARY)
  set(METIS_FOUND TRUE)
endif()
kgrec_require(METIS_FOUND "METIS" "libmetis-dev")
add_library(kgrec_metis INTERFACE)
target_include_directories(kgrec_metis SYSTEM INTERFACE ${METIS_INCLUDE_DIR})
target_link_libraries(kgrec_metis INTERFACE ${METIS_LIBRARY})

# Boost.Graph is used header-only.
find_package(Boost 1.74 QUIET)
kgrec_require(Boost_FOUND "Boost (Boost.Graph headers)" "libboost-graph-dev")
if(NOT EXISTS "${Boost_INCLUDE_DIRS}/boost/graph/adjacency_list.hpp")
  message(FATAL_ERROR "kgrec: Boost.Graph headers not found. Install: apt-get install libboost-graph-dev")
endif()

find_package(CLI11 QUIET CONFIG)
if(NOT CLI11_FOUND)
  find_path(CLI11_INCLUDE_DIR CLI/CLI.hpp)
  kgrec_require(CLI11_INCLUDE_DIR "CLI11" "libcli11-dev")
  add_library(CLI11::CLI11 INTERFACE IMPORTED)
  target_include_directories(CLI11::CLI11 INTERFACE ${CLI11_INCLUDE_DIR})
endif()

find_package(nlohmann_json 3 QUIET)
kgrec_require(nlohmann_json_FOUND "nlohmann-json" "nlohmann-json3-dev")

find_package(spdlog QUIET)
kgrec_require(spdlog_FOUND "spdlog" "libspdlog-dev")

# ICU: Unicode case mapping, normalisation and categories for the BERT tokenizer (models/text).
find_package(ICU QUIET COMPONENTS uc)
kgrec_require(ICU_FOUND "ICU (International Components for Unicode)" "libicu-dev")

if(KGREC_BUILD_TESTS)
  find_package(GTest QUIET)
  kgrec_require(GTest_FOUND "GoogleTest" "libgtest-dev")
  find_program(KGREC_MPIEXEC NAMES mpirun mpiexec)
  kgrec_require(KGREC_MPIEXEC "mpirun" "openmpi-bin")
endif()
if(KGREC_BUILD_BENCH)
  find_package(benchmark QUIET)
  kgrec_require(benchmark_FOUND "Google Benchmark" "libbenchmark-dev")
endif()

# CUDA/NCCL: optional, on when LibTorch itself was built with CUDA.
set(KGREC_HAVE_CUDA OFF)
if(NOT KGREC_CUDA STREQUAL "OFF")
  if(TARGET torch_cuda OR TORCH_CUDA_LIBRARIES)
    # A CUDA LibTorch has found the toolkit (CUDAToolkit_*); NCCL often sits beside it in the
    # toolkit's lib/ while the CUDA libraries are in lib64/ (/usr/local/cuda-13.0 here). Found
    # from the toolkit's root, not from PATH: CMake only looks in <dir>/../lib for PATH's
    # directories, and CI's PATH reaches nvcc through /usr/local/bin.
    find_path(NCCL_INCLUDE_DIR nccl.h HINTS ${CUDAToolkit_INCLUDE_DIRS})
    find_library(NCCL_LIBRARY nccl
                 HINTS ${CUDAToolkit_LIBRARY_DIR} ${CUDAToolkit_LIBRARY_ROOT} ${CUDAToolkit_TARGET_DIR}
                 PATH_SUFFIXES lib lib64)
    if(NCCL_INCLUDE_DIR AND NCCL_LIBRARY)
      set(KGREC_HAVE_CUDA ON)
    endif()
  endif()
  if(KGREC_CUDA STREQUAL "ON" AND NOT KGREC_HAVE_CUDA)
    message(FATAL_ERROR "kgrec: -DKGREC_CUDA=ON but no CUDA-enabled LibTorch with NCCL was found "
                        "(needs LibTorch built with CUDA, nccl.h and libnccl).")
  endif()
endif()
message(STATUS "kgrec: CUDA/NCCL path: ${KGREC_HAVE_CUDA}")

# LibTorch's exported flags include -D_GLIBCXX_USE_CXX11_ABI; only targets that link torch get them.
# at::parallel_for is an inline `#pragma omp parallel` in LibTorch's headers when its backend is
# OpenMP (Debian's is): code that calls it must itself be compiled with OpenMP, or it runs serial.
find_package(OpenMP QUIET COMPONENTS CXX)
kgrec_require(OpenMP_CXX_FOUND "OpenMP for C++" "libgomp1 (comes with g++)")
add_library(kgrec_torch INTERFACE)
# A LibTorch from outside the system (PyPI's wheel, scripts/setup-cuda.sh) is built with an older
# GCC that links parts of its libstdc++ into libtorch_cpu.so, std::filesystem among them. Linked
# ahead of the system's libstdc++, those copies win symbol lookup and crash this GCC's callers
# (std::filesystem::remove_all segfaulted in the CUDA tree's tests). The system's libstdc++
# named first wins it back.
if(NOT TORCH_INSTALL_PREFIX MATCHES "^/usr/")
  target_link_libraries(kgrec_torch INTERFACE stdc++)
endif()
target_link_libraries(kgrec_torch INTERFACE ${TORCH_LIBRARIES} OpenMP::OpenMP_CXX)
target_include_directories(kgrec_torch SYSTEM INTERFACE ${TORCH_INCLUDE_DIRS})
# LibTorch 2.x ships fmt 12's headers in its include folder, which comes before the system's
# on the include path; spdlog and libfmt here are the system's fmt (9 on Debian 12). A folder
# holding only a link to the system's fmt headers goes first, so every TU sees one fmt.
# (Debian's LibTorch has its headers in /usr/include, beside the system's fmt: nothing to do.)
list(GET TORCH_INCLUDE_DIRS 0 kgrec_torch_include)
set(kgrec_fmt_include "${kgrec_torch_include}")
if(TARGET fmt::fmt)
  get_target_property(kgrec_fmt_include fmt::fmt INTERFACE_INCLUDE_DIRECTORIES)
endif()
if(EXISTS "${kgrec_torch_include}/fmt" AND NOT kgrec_torch_include STREQUAL kgrec_fmt_include)
  file(MAKE_DIRECTORY ${CMAKE_BINARY_DIR}/system-fmt)
  file(CREATE_LINK ${kgrec_fmt_include}/fmt ${CMAKE_BINARY_DIR}/system-fmt/fmt SYMBOLIC)
  target_include_directories(kgrec_torch SYSTEM BEFORE INTERFACE ${CMAKE_BINARY_DIR}/system-fmt)
endif()
if(KGREC_HAVE_CUDA)
  target_compile_definitions(kgrec_torch INTERFACE KGREC_HAVE_CUDA=1)
  target_include_directories(kgrec_torch SYSTEM INTERFACE ${NCCL_INCLUDE_DIR})
  target_link_libraries(kgrec_torch INTERFACE ${NCCL_LIBRARY})
endif()
