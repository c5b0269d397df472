# Unit tests of vmqd's Prometheus metrics: the text exposition and its
# rendering, the single source with the JSON views, the metrics_listen key, and
# the HTTP server on 127.0.0.1 (no root needed).
# Included from tests/unit/CMakeLists.txt: include(metrics_tests.cmake OPTIONAL)

vmq_test(unit_metrics_test LABEL unit
  SOURCES "${CMAKE_CURRENT_LIST_DIR}/metrics_exposition_test.cpp"
          "${CMAKE_CURRENT_LIST_DIR}/metrics_render_test.cpp"
          "${CMAKE_CURRENT_LIST_DIR}/metrics_collect_test.cpp"
          "${CMAKE_CURRENT_LIST_DIR}/metrics_config_test.cpp"
  LIBS vmq_service)
target_compile_definitions(unit_metrics_test PRIVATE VMQ_METRICS_DOC="${PROJECT_SOURCE_DIR}/docs/metrics.md")

vmq_test(unit_metrics_server_test LABEL unit
  SOURCES "${CMAKE_CURRENT_LIST_DIR}/metrics_server_test.cpp"
  LIBS vmq_service)
# GCC 12 with the sanitizers sees a maybe-uninitialized boost::optional inside
# Beast's response parser (boost/beast/http/impl/basic_parser.hpp), which
# only this test's client instantiates: a false positive in Boost 1.74's code.
target_compile_options(unit_metrics_server_test PRIVATE -Wno-maybe-uninitialized)
