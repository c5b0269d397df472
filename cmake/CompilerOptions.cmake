# Warnings for every C++ target of the project, -Werror when VMQ_WERROR is on
# (CI turns it on), and an ASan+UBSan build when VMQ_SANITIZE is on.

add_library(vmq_compile_options INTERFACE)
target_compile_options(vmq_compile_options INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wno-sign-conversion
  -Wnon-virtual-dtor -Wold-style-cast -Wcast-align
  $<$<BOOL:${VMQ_WERROR}>:-Werror>
  # GCC 12 at -O3 (Release, deploy/bench.sh) reports -Wrestrict inside
  # libstdc++ for a string literal + std::string (GCC bug 105329): a false
  # positive that -Werror would make fatal.
  $<$<AND:$<CXX_COMPILER_ID:GNU>,$<VERSION_LESS:$<CXX_COMPILER_VERSION>,13>>:-Wno-restrict>)

if(VMQ_SANITIZE)
  target_compile_options(vmq_compile_options INTERFACE
    -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
  target_link_options(vmq_compile_options INTERFACE -fsanitize=address,undefined)
endif()

# VMQ_FUZZ: libFuzzer targets (tests/fuzz), built by deploy/fuzz.sh with
# clang 19 from Debian 12's archive: Debian's GCC has no libFuzzer and
# clang 14's C++23 support stops short of std::expected.
if(VMQ_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang" OR CMAKE_CXX_COMPILER_VERSION VERSION_LESS 19)
    message(FATAL_ERROR "VMQ_FUZZ needs clang 19 or newer as the C++ compiler (apt-get install clang-19 "
                        "libclang-rt-19-dev; CXX=clang++-19); this is ${CMAKE_CXX_COMPILER_ID} ${CMAKE_CXX_COMPILER_VERSION}")
  endif()
  target_compile_options(vmq_compile_options INTERFACE
    -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
  target_link_options(vmq_compile_options INTERFACE -fsanitize=address,undefined)
  # Boost 1.74's Asio looks for clang's pre-standard coroutines only.
  target_compile_definitions(vmq_compile_options INTERFACE BOOST_ASIO_HAS_CO_AWAIT=1 BOOST_ASIO_HAS_STD_COROUTINE=1)
endif()
