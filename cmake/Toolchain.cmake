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
