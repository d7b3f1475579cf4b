# mtia-serve (tools/mtia-serve, docs/serving.md): an Open Inference Protocol
# (KServe v2) server with dynamic batching: HTTP/REST on Debian's
# cpp-httplib, gRPC on its grpc++ (the protocol's grpc_predict_v2.proto).
pkg_check_modules(HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib)
include(cmake/grpc-proto.cmake)

set(SERVE_SRC ${CMAKE_SOURCE_DIR}/tools/mtia-serve)
# Tensors, config, queue/batcher: no device, no HTTP; unit-tested.
add_library(mtia_serve_core STATIC ${SERVE_SRC}/serve_tensor.cc ${SERVE_SRC}/serve_config.cc
  ${SERVE_SRC}/serve_batcher.cc ${SERVE_SRC}/serve_metrics.cc)
target_include_directories(mtia_serve_core PUBLIC ${SERVE_SRC} ${CMAKE_SOURCE_DIR}/include)
target_link_libraries(mtia_serve_core PUBLIC mtia nlohmann_json::nlohmann_json Threads::Threads)

# The repository and the request path both front ends share, and the gRPC
# front end (unit-tested on a repository without devices).
mtia_grpc_proto(mtia_serve_proto ${SERVE_SRC}/grpc_predict_v2.proto "Open Inference Protocol v2")
add_library(mtia_serve_server STATIC ${SERVE_SRC}/serve_repository.cc ${SERVE_SRC}/serve_runner.cc
  ${SERVE_SRC}/serve_infer.cc ${SERVE_SRC}/serve_stats.cc ${SERVE_SRC}/serve_grpc_codec.cc ${SERVE_SRC}/serve_grpc.cc)
target_link_libraries(mtia_serve_server PUBLIC mtia_serve_core mtia_serve_proto)
target_compile_definitions(mtia_serve_server PUBLIC MTIA_SERVE_VERSION="${PROJECT_VERSION}")

add_executable(mtia-serve ${SERVE_SRC}/main.cc ${SERVE_SRC}/serve_http.cc ${SERVE_SRC}/serve_metrics_http.cc)
target_link_libraries(mtia-serve PRIVATE mtia_serve_server PkgConfig::HTTPLIB CLI11::CLI11)
install(TARGETS mtia-serve RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT tools)

add_executable(serve_tests tests/unit/serve_test.cc)
target_link_libraries(serve_tests PRIVATE mtia_serve_core GTest::gtest_main)
gtest_discover_tests(serve_tests DISCOVERY_MODE PRE_TEST)

add_executable(serve_stats_tests tests/unit/serve_stats_test.cc)
target_link_libraries(serve_stats_tests PRIVATE mtia_serve_core GTest::gtest_main)
gtest_discover_tests(serve_stats_tests DISCOVERY_MODE PRE_TEST)

add_executable(serve_grpc_tests tests/unit/serve_grpc_test.cc)
target_link_libraries(serve_grpc_tests PRIVATE mtia_serve_server GTest::gtest_main)
gtest_discover_tests(serve_grpc_tests DISCOVERY_MODE PRE_TEST)

# Its man page, as the other tools' (cmake/man.cmake).
mtia_man_help2man(mtia-serve "Open Inference Protocol (KServe v2) server for mtia accelerators"
  $<TARGET_FILE:mtia-serve> --help mtia-serve)
add_custom_target(serve_man ALL DEPENDS ${MTIA_MAN_DIR}/mtia-serve.1)
install(FILES ${MTIA_MAN_DIR}/mtia-serve.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1 COMPONENT tools)
# The proto, for clients to generate their stubs from (docs/serving.md "gRPC").
install(FILES ${SERVE_SRC}/grpc_predict_v2.proto DESTINATION ${CMAKE_INSTALL_DATADIR}/mtia COMPONENT tools)
