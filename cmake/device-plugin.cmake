# The Kubernetes device plugin (tools/mtia-device-plugin, docs/kubernetes.md):
# the kubelet device plugin API v1beta1 compiled with Debian's protoc and
# grpc_cpp_plugin (scripts/setup.sh installs both and grpc++), the plugin,
# its unit tests and its test against a kubelet stand-in (Python grpcio).
include(cmake/grpc-proto.cmake)

set(DP_SRC ${CMAKE_SOURCE_DIR}/tools/mtia-device-plugin)
mtia_grpc_proto(mtia_deviceplugin_proto ${DP_SRC}/deviceplugin_v1beta1.proto "kubelet device plugin API v1beta1")

# Device reading, health rules and allocation answers: no gRPC, unit-tested.
add_library(mtia_device_plugin_lib STATIC ${DP_SRC}/plugin_devices.cc ${DP_SRC}/plugin_health.cc
  ${DP_SRC}/plugin_alloc.cc)
target_include_directories(mtia_device_plugin_lib PUBLIC ${DP_SRC} ${CMAKE_SOURCE_DIR}/include)

add_executable(mtia-device-plugin ${DP_SRC}/main.cc ${DP_SRC}/plugin_service.cc ${DP_SRC}/plugin_registrar.cc)
target_link_libraries(mtia-device-plugin PRIVATE mtia_device_plugin_lib mtia_deviceplugin_proto CLI11::CLI11
  Threads::Threads)

add_executable(device_plugin_tests tests/unit/device_plugin_test.cc)
target_link_libraries(device_plugin_tests PRIVATE mtia_device_plugin_lib GTest::gtest_main)
gtest_discover_tests(device_plugin_tests DISCOVERY_MODE PRE_TEST)

# The plugin against a kubelet stand-in over unix sockets, on a fake sysfs.
add_test(NAME device_plugin_kubelet_standin
  COMMAND /usr/bin/python3 ${CMAKE_SOURCE_DIR}/tests/device-plugin/test_host.py
          --plugin $<TARGET_FILE:mtia-device-plugin>)
set_tests_properties(device_plugin_kubelet_standin PROPERTIES TIMEOUT 120)

# A libmtia program that prints the devices MTIA_VISIBLE_DEVICES leaves it
# (tests/vm/test-device-plugin.sh).
add_executable(visible_devices_probe tests/vm/visible_devices_probe.cc)
target_link_libraries(visible_devices_probe PRIVATE mtia)

target_compile_definitions(mtia-device-plugin PRIVATE MTIA_DEVICE_PLUGIN_VERSION="${PROJECT_VERSION}")

# Its man page, as the other tools' (cmake/man.cmake).
mtia_man_help2man(mtia-device-plugin "Kubernetes device plugin for mtia accelerators"
  $<TARGET_FILE:mtia-device-plugin> --help mtia-device-plugin)
add_custom_target(device_plugin_man ALL DEPENDS ${MTIA_MAN_DIR}/mtia-device-plugin.1)
install(FILES ${MTIA_MAN_DIR}/mtia-device-plugin.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1 COMPONENT tools)
install(TARGETS mtia-device-plugin RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT tools)
install(FILES deploy/kubernetes/mtia-device-plugin.yaml
  DESTINATION ${CMAKE_INSTALL_DATADIR}/mtia/kubernetes COMPONENT tools)
