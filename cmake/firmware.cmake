# Control-core firmware (firmware/Makefile, built with the RISC-V cross
# toolchain that scripts/setup.sh installs) and its simulator test, which
# boots build/firmware/mtia/*.bin on mtia_rv32 with a fake device.
find_program(MTIA_RV32_GCC riscv64-unknown-elf-gcc REQUIRED)
set(MTIA_FW_OUT ${CMAKE_SOURCE_DIR}/build/firmware)
# Signed with the development key, and the signature check's negative images.
set(MTIA_FW_SIGNED mtia-fw mtia-fw-test-hang mtia-fw-test-trap)
set(MTIA_FW_IMAGES ${MTIA_FW_SIGNED} mtia-fw-test-unsigned mtia-fw-test-tampered mtia-fw-test-otherkey)
list(TRANSFORM MTIA_FW_IMAGES PREPEND ${MTIA_FW_OUT}/mtia/ OUTPUT_VARIABLE MTIA_FW_IMAGE_FILES)
list(TRANSFORM MTIA_FW_IMAGE_FILES APPEND .bin)
add_custom_target(firmware_images ALL
  COMMAND make -C ${CMAKE_SOURCE_DIR}/firmware O=${MTIA_FW_OUT}
  BYPRODUCTS ${MTIA_FW_IMAGE_FILES} ${MTIA_FW_OUT}/host/mtia-fw-sign
  COMMENT "firmware: make -C firmware" VERBATIM)
add_executable(firmware_sim_test tests/unit/firmware_sim_test.cc)
target_link_libraries(firmware_sim_test PRIVATE mtia_rv32 GTest::gtest_main)
target_include_directories(firmware_sim_test PRIVATE include)
target_compile_definitions(firmware_sim_test PRIVATE MTIA_FW_DIR="${MTIA_FW_OUT}")
add_dependencies(firmware_sim_test firmware_images)
gtest_discover_tests(firmware_sim_test DISCOVERY_MODE PRE_TEST)
foreach(img ${MTIA_FW_IMAGES})
  add_test(NAME firmware_pack_check.${img}
    COMMAND ${CMAKE_SOURCE_DIR}/firmware/pack.py --check ${MTIA_FW_OUT}/mtia/${img}.bin)
endforeach()
# The signing tool's own check (the boot ROM's is device_fw_test's
# FwSignedImages): the build's images against the development key.
set(MTIA_FW_VERIFY ${MTIA_FW_OUT}/host/mtia-fw-sign verify -p ${CMAKE_SOURCE_DIR}/firmware/keys/mtia-fw-dev.pub)
foreach(img ${MTIA_FW_SIGNED})
  add_test(NAME firmware_sign_verify.${img} COMMAND ${MTIA_FW_VERIFY} ${MTIA_FW_OUT}/mtia/${img}.bin)
endforeach()
foreach(case "unsigned;not signed" "tampered;bad signature" "otherkey;signed with another key")
  list(GET case 0 img)
  list(GET case 1 why)
  add_test(NAME firmware_sign_verify.mtia-fw-test-${img}
    COMMAND ${MTIA_FW_VERIFY} ${MTIA_FW_OUT}/mtia/mtia-fw-test-${img}.bin)
  # The refusal in words (the exit status is then not looked at).
  set_tests_properties(firmware_sign_verify.mtia-fw-test-${img} PROPERTIES
    PASS_REGULAR_EXPRESSION "mtia-fw-test-${img}.bin: ${why}\n")
endforeach()
