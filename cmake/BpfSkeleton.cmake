# bpf_skeleton(<name> SOURCE <file.bpf.c> [DEPENDS <headers>...])
#
# Compiles a BPF program with clang and generates its libbpf skeleton
# (<name>.skel.h, struct <name>) with bpftool. The INTERFACE library
# <name>_skel puts the skeleton header and the shared ABI headers on the
# include path of whatever links it.
# Every listed header is a dependency, so editing one rebuilds the object.

find_program(BPF_CLANG NAMES clang-14 clang REQUIRED)
find_program(BPFTOOL NAMES bpftool PATHS /usr/sbin /sbin REQUIRED)

# clang -target bpf needs the multiarch directory for <asm/types.h>
# (CMake finds it whichever C compiler builds the rest).
set(BPF_MULTIARCH "${CMAKE_LIBRARY_ARCHITECTURE}")

function(bpf_skeleton name)
  cmake_parse_arguments(ARG "" "SOURCE" "DEPENDS" ${ARGN})
  get_filename_component(source "${ARG_SOURCE}" ABSOLUTE)
  set(out_dir "${CMAKE_CURRENT_BINARY_DIR}/skel")
  set(object "${out_dir}/${name}.bpf.o")
  set(skeleton "${out_dir}/${name}.skel.h")
  set(warn_flags -Wall -Wextra -Wno-unused-parameter)
  if(VMQ_WERROR)
    list(APPEND warn_flags -Werror)
  endif()

  add_custom_command(
    OUTPUT "${object}"
    COMMAND ${CMAKE_COMMAND} -E make_directory "${out_dir}"
    COMMAND ${BPF_CLANG} -target bpf -g -O2 ${warn_flags}
            -I "${PROJECT_SOURCE_DIR}/bpf/include"
            -I "/usr/include/${BPF_MULTIARCH}"
            -c "${source}" -o "${object}"
    DEPENDS "${source}" ${ARG_DEPENDS}
    COMMENT "BPF ${name}.bpf.o"
    VERBATIM)
  add_custom_command(
    OUTPUT "${skeleton}"
    COMMAND ${BPFTOOL} gen skeleton "${object}" name "${name}" > "${skeleton}"
    DEPENDS "${object}"
    COMMENT "BPF skeleton ${name}.skel.h"
    VERBATIM)
  add_custom_target(${name}_gen DEPENDS "${skeleton}")

  add_library(${name}_skel INTERFACE)
  add_dependencies(${name}_skel ${name}_gen)
  # Generated code: its casts are not ours to fix.
  target_include_directories(${name}_skel SYSTEM INTERFACE "${out_dir}")
  target_include_directories(${name}_skel INTERFACE "${PROJECT_SOURCE_DIR}/bpf/include")
  target_link_libraries(${name}_skel INTERFACE PkgConfig::libbpf)
endfunction()
