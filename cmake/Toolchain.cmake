# Compiler cache, warnings and optimisation flags shared by every target.

find_program(KGREC_CCACHE ccache)
if(KGREC_CCACHE AND NOT CMAKE_CXX_COMPILER_LAUNCHER)
  # pch_defines/time_macros let ccache reuse objects built against a precompiled header.
  set(CMAKE_CXX_COMPILER_LAUNCHER
      ${CMAKE_COMMAND} -E env CCACHE_SLOPPINESS=pch_defines,time_macros,include_file_mtime,include_file_ctime
      ${KGREC_CCACHE})
  set(CMAKE_C_COMPILER_LAUNCHER ${KGREC_CCACHE})
  message(STATUS "kgrec: using ccache (${KGREC_CCACHE})")
endif()

add_library(kgrec_warnings INTERFACE)
target_compile_options(kgrec_warnings INTERFACE -Wall -Wextra -Wno-unused-parameter)
if(KGREC_NATIVE)
  add_compile_options(-march=native)
endif()

# kgrec_torch_pch(target): LibTorch's headers dominate compile time (~45 s for torch/torch.h),
# so the LibTorch-using targets share one precompiled header of the parts kgrec uses. The first
# target of each kind to call this builds it; later ones reuse it. Libraries (-fPIC) and
# executables (-fPIE) need one each: GCC rejects a header precompiled with the other flag.
function(kgrec_torch_pch target)
  get_target_property(kind ${target} TYPE)
  get_property(owner GLOBAL PROPERTY KGREC_TORCH_PCH_OWNER_${kind})
  if(owner)
    target_precompile_headers(${target} REUSE_FROM ${owner})
  else()
    target_precompile_headers(${target} PRIVATE
      <torch/types.h> <torch/nn/module.h> <torch/autograd.h> <torch/optim/adam.h>
      <torch/serialize.h> <ATen/Parallel.h>)
    set_property(GLOBAL PROPERTY KGREC_TORCH_PCH_OWNER_${kind} ${target})
  endif()
endfunction()
