# mtia-exporter (tools/mtia-exporter, docs/telemetry.md "mtia-exporter"): a
# Prometheus exporter over libmtia's management API, served with Debian's
# cpp-httplib; its renderer's unit tests (the output checked by promtool,
# Debian's prometheus package); its man page, and a systemd unit.
pkg_check_modules(HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib)

add_library(mtia_exporter_lib STATIC tools/mtia-exporter/metrics_text.cc)
target_include_directories(mtia_exporter_lib PUBLIC tools/mtia-exporter)
target_link_libraries(mtia_exporter_lib PUBLIC mtia)

add_executable(mtia-exporter tools/mtia-exporter/main.cc)
target_link_libraries(mtia-exporter PRIVATE mtia_exporter_lib PkgConfig::HTTPLIB CLI11::CLI11 Threads::Threads)
target_compile_definitions(mtia-exporter PRIVATE MTIA_EXPORTER_VERSION="${PROJECT_VERSION}")

add_executable(exporter_tests tests/unit/exporter_test.cc)
target_link_libraries(exporter_tests PRIVATE mtia_exporter_lib GTest::gtest_main)
gtest_discover_tests(exporter_tests DISCOVERY_MODE PRE_TEST)

mtia_man_help2man(mtia-exporter "Prometheus exporter of mtia accelerators' telemetry"
  $<TARGET_FILE:mtia-exporter> --help mtia-exporter)
add_custom_target(exporter_man ALL DEPENDS ${MTIA_MAN_DIR}/mtia-exporter.1)
install(FILES ${MTIA_MAN_DIR}/mtia-exporter.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1 COMPONENT tools)
install(TARGETS mtia-exporter RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT tools)
install(FILES deploy/systemd/mtia-exporter.service DESTINATION lib/systemd/system COMPONENT tools)
