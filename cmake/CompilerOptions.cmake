# Warnings for every C++ target of the project, -Werror when VMQ_WERROR is on
# (CI turns it on), and an ASan+UBSan build when VMQ_SANITIZE is on.

add_library(vmq_compile_options INTERFACE)
target_compile_options(vmq_compile_options INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wno-sign-conversion
  -Wnon-virtual-dtor -Wold-style-cast -Wcast-align
  $<$<BOOL:${VMQ_WERROR}>:-Werror>)

if(VMQ_SANITIZE)
  target_compile_options(vmq_compile_options INTERFACE
    -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
  target_link_options(vmq_compile_options INTERFACE -fsanitize=address,undefined)
endif()
