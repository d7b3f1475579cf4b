# The libFuzzer targets (docs/reliability.md), one mtia_add_fuzzer() each
# (cmake/fuzz.cmake). Included at the end of the top-level directory of the
# MTIA_FUZZ build only, so every library target exists.
set(FUZZ_DIR ${CMAKE_SOURCE_DIR}/tests/fuzz)

# libmtia's model reader (in the normal build it is inside the shared
# libmtia, whose version script hides it): the loader, the bad-id message,
# the Error type.
add_library(mtia_fuzz_model_reader STATIC runtime/model_loader.cc runtime/bad_ids.cc runtime/status.cc)
target_include_directories(mtia_fuzz_model_reader PUBLIC runtime)
target_link_libraries(mtia_fuzz_model_reader PUBLIC mtia_model_schema PkgConfig::LIBDRM)

mtia_add_fuzzer(model_loader SOURCES ${FUZZ_DIR}/model_loader_fuzz.cc
  LIBS mtia_fuzz_model_reader mtia_device_core)
mtia_add_fuzzer(compute_validate SOURCES ${FUZZ_DIR}/compute_validate_fuzz.cc LIBS mtia_device_core)
mtia_add_fuzzer(bootrom SOURCES ${FUZZ_DIR}/bootrom_fuzz.cc LIBS mtia_device_core)
mtia_add_fuzzer(npy SOURCES ${FUZZ_DIR}/npy_fuzz.cc LIBS mtia_npy)
mtia_add_fuzzer(driver_cmd SOURCES ${FUZZ_DIR}/driver_cmd_fuzz.cc LIBS mtia_driver_cmd INCLUDES tests/unit)
# The compiler library's API (compile_api.cc, in the normal build the
# shared libmtia-compiler) over the compiler core.
mtia_add_fuzzer(onnx_import SOURCES ${FUZZ_DIR}/onnx_import_fuzz.cc ${MTIA_COMPILE_DIR}/compile_api.cc
  LIBS mtia_compiler_lib mtia_fuzz_model_reader mtia_device_core)

# Derived seeds (programs of compiled models, the command corpus) for
# run-fuzz.sh: build/fuzz/bin/fuzz-seeds.
add_executable(fuzz-seeds ${FUZZ_DIR}/make_seeds.cc)
target_include_directories(fuzz-seeds PRIVATE tests/unit include)
target_link_libraries(fuzz-seeds PRIVATE mtia_fuzz_model_reader)
add_dependencies(fuzz fuzz-seeds)

# The firmware's admin-mailbox and queue-command handling, built for the
# host over its device mock (cmake/firmware-host.cmake, FW_HOST).
mtia_add_fuzzer(fw_mailbox SOURCES ${FUZZ_DIR}/fw_mailbox_fuzz.c LIBS mtia_fw_host)
mtia_add_fuzzer(fw_command SOURCES ${FUZZ_DIR}/fw_command_fuzz.c LIBS mtia_fw_host)
