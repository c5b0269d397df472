# Unit tests of the libvirt hook's pure pieces (cli/libvirt_hook): domain XML,
# configuration, interface selection, queue names and requests. No root, no
# vmqd. The recorded domain documents are the integration test's, in
# tests/integration/libvirt/.
# Included from tests/unit/CMakeLists.txt: include(libvirt_hook_tests.cmake OPTIONAL)

vmq_test(unit_libvirt_hook_test LABEL unit
  SOURCES "${CMAKE_CURRENT_LIST_DIR}/libvirt_hook/domain_xml_test.cpp"
          "${CMAKE_CURRENT_LIST_DIR}/libvirt_hook/hook_config_test.cpp"
          "${CMAKE_CURRENT_LIST_DIR}/libvirt_hook/queue_name_test.cpp"
          "${CMAKE_CURRENT_LIST_DIR}/libvirt_hook/queue_plan_test.cpp"
          "${CMAKE_CURRENT_LIST_DIR}/libvirt_hook/vmqd_queues_test.cpp"
  LIBS vmq_libvirt_hook)
target_compile_definitions(unit_libvirt_hook_test PRIVATE
  VMQ_LIBVIRT_XML_DIR="${PROJECT_SOURCE_DIR}/tests/integration/libvirt")
