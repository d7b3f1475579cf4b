# mtia-serve (tools/mtia-serve, docs/serving.md): an Open Inference Protocol
# (KServe v2) HTTP server with dynamic batching, on Debian's cpp-httplib.
pkg_check_modules(HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib)

set(SERVE_SRC ${CMAKE_SOURCE_DIR}/tools/mtia-serve)
# Tensors, config, queue/batcher: no device, no HTTP; unit-tested.
add_library(mtia_serve_core STATIC ${SERVE_SRC}/serve_tensor.cc ${SERVE_SRC}/serve_config.cc
  ${SERVE_SRC}/serve_batcher.cc ${SERVE_SRC}/serve_metrics.cc)
target_include_directories(mtia_serve_core PUBLIC ${SERVE_SRC} ${CMAKE_SOURCE_DIR}/include)
target_link_libraries(mtia_serve_core PUBLIC mtia nlohmann_json::nlohmann_json Threads::Threads)

add_executable(mtia-serve ${SERVE_SRC}/main.cc ${SERVE_SRC}/serve_http.cc ${SERVE_SRC}/serve_infer.cc ${SERVE_SRC}/serve_repository.cc
  ${SERVE_SRC}/serve_runner.cc)
target_link_libraries(mtia-serve PRIVATE mtia_serve_core PkgConfig::HTTPLIB CLI11::CLI11)
target_compile_definitions(mtia-serve PRIVATE MTIA_SERVE_VERSION="${PROJECT_VERSION}")
install(TARGETS mtia-serve RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT tools)

add_executable(serve_tests tests/unit/serve_test.cc)
target_link_libraries(serve_tests PRIVATE mtia_serve_core GTest::gtest_main)
gtest_discover_tests(serve_tests DISCOVERY_MODE PRE_TEST)

# Its man page, as the other tools' (cmake/man.cmake).
mtia_man_help2man(mtia-serve "Open Inference Protocol (KServe v2) server for mtia accelerators"
  $<TARGET_FILE:mtia-serve> --help mtia-serve)
add_custom_target(serve_man ALL DEPENDS ${MTIA_MAN_DIR}/mtia-serve.1)
install(FILES ${MTIA_MAN_DIR}/mtia-serve.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1 COMPONENT tools)
