# Control-core RV32IMC instruction-set simulator: library, tests, benchmark.
# Included from the top-level CMakeLists.txt.

add_library(mtia_rv32 STATIC
  qemu-device/core/rv32/rv32_cpu.cc
  qemu-device/core/rv32/rv32_csr.cc
  qemu-device/core/rv32/rv32_decode.cc
  qemu-device/core/rv32/rv32_exec.cc
  qemu-device/core/rv32/rv32_icache.cc)
target_include_directories(mtia_rv32 PUBLIC qemu-device/core/rv32)
set_target_properties(mtia_rv32 PROPERTIES POSITION_INDEPENDENT_CODE ON)
target_link_libraries(mtia_device_core PUBLIC mtia_rv32)

# Test programs are real RV32 code built by the GNU cross toolchain
# (Debian: gcc-riscv64-unknown-elf). Without it only the library is built.
find_program(RV32_GCC riscv64-unknown-elf-gcc)
find_program(RV32_AS riscv64-unknown-elf-as)
find_program(RV32_LD riscv64-unknown-elf-ld)
find_program(RV32_OBJCOPY riscv64-unknown-elf-objcopy)
if(NOT RV32_GCC OR NOT RV32_AS OR NOT RV32_LD OR NOT RV32_OBJCOPY)
  message(WARNING "riscv64-unknown-elf toolchain not found: skipping rv32_tests and rv32_bench")
  return()
endif()

set(RV32_PROG_SRC ${CMAKE_SOURCE_DIR}/tests/unit/rv32/programs)
set(RV32_PROG_OUT ${CMAKE_BINARY_DIR}/rv32-programs)
set(RV32_ARCH -march=rv32imc_zicsr_zifencei -mabi=ilp32)
file(MAKE_DIRECTORY ${RV32_PROG_OUT})

# rv32_program(<name> <sources...>): link the sources at the test RAM base
# (programs/link.ld) and flatten to ${RV32_PROG_OUT}/<name>.bin.
set(RV32_PROGRAM_BINS)
function(rv32_program name)
  set(objs)
  foreach(src ${ARGN})
    get_filename_component(base ${src} NAME)
    set(obj ${RV32_PROG_OUT}/${name}.${base}.o)
    if(src MATCHES "\\.S$")
      add_custom_command(OUTPUT ${obj}
        COMMAND ${RV32_AS} ${RV32_ARCH} -I ${RV32_PROG_SRC} -o ${obj} ${RV32_PROG_SRC}/${src}
        DEPENDS ${RV32_PROG_SRC}/${src} ${RV32_PROG_SRC}/common.inc
        COMMENT "rv32 as ${src}" VERBATIM)
    else()
      add_custom_command(OUTPUT ${obj}
        COMMAND ${RV32_GCC} ${RV32_ARCH} -O2 -ffreestanding -fno-builtin -Wall -Wextra -Werror
                -c -o ${obj} ${RV32_PROG_SRC}/${src}
        DEPENDS ${RV32_PROG_SRC}/${src}
        COMMENT "rv32 gcc ${src}" VERBATIM)
    endif()
    list(APPEND objs ${obj})
  endforeach()
  set(elf ${RV32_PROG_OUT}/${name}.elf)
  set(bin ${RV32_PROG_OUT}/${name}.bin)
  add_custom_command(OUTPUT ${bin}
    COMMAND ${RV32_LD} -m elf32lriscv --no-warn-rwx-segments -T ${RV32_PROG_SRC}/link.ld -o ${elf} ${objs}
    COMMAND ${RV32_OBJCOPY} -O binary ${elf} ${bin}
    DEPENDS ${objs} ${RV32_PROG_SRC}/link.ld
    COMMENT "rv32 link ${name}.bin" VERBATIM)
  set(RV32_PROGRAM_BINS ${RV32_PROGRAM_BINS} ${bin} PARENT_SCOPE)
endfunction()

file(GLOB RV32_ASM_TESTS RELATIVE ${RV32_PROG_SRC} CONFIGURE_DEPENDS ${RV32_PROG_SRC}/t_*.S)
foreach(src ${RV32_ASM_TESTS})
  get_filename_component(name ${src} NAME_WE)
  rv32_program(${name} ${src})
endforeach()
rv32_program(c_workload crt0.S workload.c)
rv32_program(bench_loop bench_loop.S)
add_custom_target(rv32_programs DEPENDS ${RV32_PROGRAM_BINS})

add_library(rv32_test_support STATIC tests/unit/rv32/test_machine.cc)
target_include_directories(rv32_test_support PUBLIC tests/unit/rv32)
target_link_libraries(rv32_test_support PUBLIC mtia_rv32)
target_compile_definitions(rv32_test_support PUBLIC RV32_PROGRAM_DIR="${RV32_PROG_OUT}")
add_dependencies(rv32_test_support rv32_programs)

file(GLOB RV32_TEST_SOURCES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/unit/rv32/*_test.cc)
add_executable(rv32_tests ${RV32_TEST_SOURCES})
target_link_libraries(rv32_tests PRIVATE rv32_test_support GTest::gtest_main)
include(GoogleTest)
gtest_discover_tests(rv32_tests DISCOVERY_MODE PRE_TEST)

find_package(benchmark QUIET)
if(benchmark_FOUND)
  add_executable(rv32_bench bench/rv32_bench.cc)
  target_link_libraries(rv32_bench PRIVATE rv32_test_support benchmark::benchmark)
else()
  message(WARNING "Google Benchmark not found: skipping rv32_bench")
endif()
