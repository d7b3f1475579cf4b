# Telemetry (docs/telemetry.md): the device core's board model and its
# tests; libmtia's management API (include/mtia/mtia_mgmt.h: sysfs, fdinfo,
# controls) and its tests; mtia-smi's fields and views over it, and tests.
target_sources(mtia_device_core PRIVATE ${CMAKE_SOURCE_DIR}/qemu-device/core/mtia_telemetry.cc
  ${CMAKE_SOURCE_DIR}/qemu-device/core/mtia_telemetry_regs.cc
  ${CMAKE_SOURCE_DIR}/qemu-device/core/mtia_inforom.cc)
target_sources(unit_tests PRIVATE ${CMAKE_SOURCE_DIR}/tests/unit/telemetry_test.cc
  ${CMAKE_SOURCE_DIR}/tests/unit/inforom_test.cc)
target_sources(mtia PRIVATE
  ${CMAKE_SOURCE_DIR}/runtime/mgmt_sysfs.cc
  ${CMAKE_SOURCE_DIR}/runtime/mgmt_proc.cc
  ${CMAKE_SOURCE_DIR}/runtime/mgmt_device.cc
  ${CMAKE_SOURCE_DIR}/runtime/mgmt_c_api.cc)
target_sources(mtia_smi_lib PRIVATE
  ${CMAKE_SOURCE_DIR}/tools/mtia-smi/smi_read.cc
  ${CMAKE_SOURCE_DIR}/tools/mtia-smi/smi_fields.cc
  ${CMAKE_SOURCE_DIR}/tools/mtia-smi/smi_xml.cc
  ${CMAKE_SOURCE_DIR}/tools/mtia-smi/smi_mon.cc)
target_compile_definitions(unit_tests PRIVATE
  MTIA_SMI_DTD_PATH="${CMAKE_SOURCE_DIR}/tools/mtia-smi/mtia_smi_log.dtd")
target_sources(unit_tests PRIVATE
  ${CMAKE_SOURCE_DIR}/tests/unit/smi_fields_test.cc
  ${CMAKE_SOURCE_DIR}/tests/unit/mgmt_proc_test.cc
  ${CMAKE_SOURCE_DIR}/tests/unit/mgmt_sysfs_test.cc
  ${CMAKE_SOURCE_DIR}/tests/unit/mgmt_api_test.cc
  ${CMAKE_SOURCE_DIR}/tests/unit/mgmt_model_test.cc
  ${CMAKE_SOURCE_DIR}/tests/unit/smi_xml_test.cc
  ${CMAKE_SOURCE_DIR}/tests/unit/smi_mon_test.cc)
# In-VM test of every management call on the real device, as root and as
# nobody (tests/vm/test-mgmt.sh).
add_executable(mgmt_vm_tests ${CMAKE_SOURCE_DIR}/tests/vm/mgmt_api_vm_test.cc)
target_link_libraries(mgmt_vm_tests PRIVATE mtia GTest::gtest_main)
# Throttle pacing: the engines slow down with the governor's clock.
target_sources(mtia_device_core PRIVATE ${CMAKE_SOURCE_DIR}/qemu-device/core/mtia_pacer.cc)
target_sources(unit_tests PRIVATE ${CMAKE_SOURCE_DIR}/tests/unit/pacer_test.cc)
