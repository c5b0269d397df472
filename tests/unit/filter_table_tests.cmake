# Unit tests of the classifier's filter table writer (agent/core/filter_table.h):
# placement, displacement, refusals and a concurrent reader. No root needed.
# Included from tests/unit/CMakeLists.txt: include(filter_table_tests.cmake)

vmq_test(unit_filter_table_test LABEL unit
  SOURCES "${CMAKE_CURRENT_LIST_DIR}/filter_table_test.cpp")
