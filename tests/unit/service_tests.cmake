# Unit tests of the control protocol and the agent's service layer
# (configuration, saved state, control API, control server). No root needed;
# the control server tests use a Unix socket in a temporary directory.
# Included from tests/unit/CMakeLists.txt: include(service_tests.cmake)

vmq_test(unit_protocol_test LABEL unit
  SOURCES "${CMAKE_CURRENT_LIST_DIR}/protocol_test.cpp"
          "${CMAKE_CURRENT_LIST_DIR}/client_test.cpp"
          "${CMAKE_CURRENT_LIST_DIR}/api_codec_test.cpp"
  LIBS vmq_api)

vmq_test(unit_config_test LABEL unit
  SOURCES "${CMAKE_CURRENT_LIST_DIR}/config_test.cpp"
  LIBS vmq_config)

vmq_test(unit_service_test LABEL unit
  SOURCES "${CMAKE_CURRENT_LIST_DIR}/state_store_test.cpp"
          "${CMAKE_CURRENT_LIST_DIR}/control_api_test.cpp"
          "${CMAKE_CURRENT_LIST_DIR}/control_api_replies_test.cpp"
          "${CMAKE_CURRENT_LIST_DIR}/migration_document_test.cpp"
          "${CMAKE_CURRENT_LIST_DIR}/queue_operations_test.cpp"
          "${CMAKE_CURRENT_LIST_DIR}/rebalancing_test.cpp"
  LIBS vmq_service ZLIB::ZLIB)

vmq_test(unit_control_server_test LABEL unit
  SOURCES "${CMAKE_CURRENT_LIST_DIR}/control_server_test.cpp"
  LIBS vmq_service)
