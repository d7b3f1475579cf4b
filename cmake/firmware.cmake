# Control-core firmware (firmware/Makefile, built with the RISC-V cross
# toolchain that scripts/setup.sh installs) and its simulator test, which
# boots build/firmware/mtia/*.bin on mtia_rv32 with a fake device.
find_program(MTIA_RV32_GCC riscv64-unknown-elf-gcc REQUIRED)
set(MTIA_FW_OUT ${CMAKE_SOURCE_DIR}/build/firmware)
add_custom_target(firmware_images ALL
  COMMAND make -C ${CMAKE_SOURCE_DIR}/firmware O=${MTIA_FW_OUT}
  BYPRODUCTS ${MTIA_FW_OUT}/mtia/mtia-fw.bin ${MTIA_FW_OUT}/mtia/mtia-fw-test-hang.bin
             ${MTIA_FW_OUT}/mtia/mtia-fw-test-trap.bin
  COMMENT "firmware: make -C firmware" VERBATIM)
add_executable(firmware_sim_test tests/unit/firmware_sim_test.cc)
target_link_libraries(firmware_sim_test PRIVATE mtia_rv32 GTest::gtest_main)
target_include_directories(firmware_sim_test PRIVATE include)
target_compile_definitions(firmware_sim_test PRIVATE MTIA_FW_DIR="${MTIA_FW_OUT}")
add_dependencies(firmware_sim_test firmware_images)
gtest_discover_tests(firmware_sim_test DISCOVERY_MODE PRE_TEST)
foreach(img mtia-fw mtia-fw-test-hang mtia-fw-test-trap)
  add_test(NAME firmware_pack_check.${img}
    COMMAND ${CMAKE_SOURCE_DIR}/firmware/pack.py --check ${MTIA_FW_OUT}/mtia/${img}.bin)
endforeach()
