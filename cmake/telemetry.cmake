# Telemetry (docs/telemetry.md): the device core's board model and its
# tests; mtia-smi's monitoring library (fields, fdinfo, processes) and tests.
target_sources(mtia_device_core PRIVATE ${CMAKE_SOURCE_DIR}/qemu-device/core/mtia_telemetry.cc)
target_sources(unit_tests PRIVATE ${CMAKE_SOURCE_DIR}/tests/unit/telemetry_test.cc)
target_sources(mtia_smi_lib PRIVATE
  ${CMAKE_SOURCE_DIR}/tools/mtia-smi/smi_sysfs.cc
  ${CMAKE_SOURCE_DIR}/tools/mtia-smi/smi_proc.cc
  ${CMAKE_SOURCE_DIR}/tools/mtia-smi/smi_fields.cc)
target_sources(unit_tests PRIVATE
  ${CMAKE_SOURCE_DIR}/tests/unit/smi_fields_test.cc
  ${CMAKE_SOURCE_DIR}/tests/unit/smi_proc_test.cc
  ${CMAKE_SOURCE_DIR}/tests/unit/smi_sysfs_test.cc)
# Throttle pacing: the engines slow down with the governor's clock.
target_sources(mtia_device_core PRIVATE ${CMAKE_SOURCE_DIR}/qemu-device/core/mtia_pacer.cc)
target_sources(unit_tests PRIVATE ${CMAKE_SOURCE_DIR}/tests/unit/pacer_test.cc)
