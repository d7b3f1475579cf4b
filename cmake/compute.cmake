# The PE-grid compute engine (docs/compute.md) in the device core, its unit
# tests, benchmark and in-VM suite. Included from the top-level CMakeLists.txt.

# oneDNN (libdnnl-dev 2.6, OpenMP build) does the arithmetic. Found by hand:
# Debian's dnnl-config.cmake requires the OpenCL development files (its GPU
# runtime) even for CPU-only users like us.
find_library(DNNL_LIBRARY dnnl REQUIRED)
find_path(DNNL_INCLUDE_DIR oneapi/dnnl/dnnl.hpp REQUIRED)
target_sources(mtia_device_core PRIVATE
  qemu-device/core/mtia_compute.cc
  qemu-device/core/mtia_compute_validate.cc
  qemu-device/core/mtia_compute_timing.cc
  qemu-device/core/mtia_compute_dnnl.cc
  qemu-device/core/mtia_compute_conv.cc
  qemu-device/core/mtia_compute_gemm.cc
  qemu-device/core/mtia_compute_eltwise.cc
  qemu-device/core/mtia_compute_pool.cc
  qemu-device/core/mtia_compute_move.cc
  qemu-device/core/mtia_compute_select.cc
  qemu-device/core/mtia_compute_int.cc
  qemu-device/core/mtia_compute_imatmul.cc
  qemu-device/core/mtia_compute_reduce.cc
  qemu-device/core/mtia_compute_norm.cc
  qemu-device/core/mtia_compute_embed.cc
  qemu-device/core/mtia_compute_cast.cc
  qemu-device/core/mtia_compute_pad.cc
  qemu-device/core/mtia_compute_deconv.cc
  qemu-device/core/mtia_compute_resize.cc
  qemu-device/core/mtia_compute_reuse.cc
  qemu-device/core/mtia_write_track.cc
  qemu-device/core/mtia_compute_widen.cc
  qemu-device/core/mtia_compute_qconv.cc
  qemu-device/core/mtia_compute_qdot.cc)
# The int8 epilogue's F32 arithmetic is the spec's, multiply then add, on
# every host (never an FMA, whatever -march a build adds); so is its test's.
# Its im2col and epilogue loops need GCC's full vectoriser (-O2 only
# vectorises loops without a remainder; selects of floats need
# -fno-trapping-math, which changes no value; clang, for the fuzz build,
# has no -fvect-cost-model).
set_source_files_properties(qemu-device/core/mtia_compute_qconv.cc
  PROPERTIES COMPILE_OPTIONS "-ffp-contract=off;$<$<CXX_COMPILER_ID:GNU>:-fvect-cost-model=dynamic>;-fno-trapping-math")
set_source_files_properties(tests/unit/compute_quant_test.cc PROPERTIES COMPILE_OPTIONS -ffp-contract=off)
# So is the dequantization of 8-bit rowwise embedding rows (q * s, then + b).
set_source_files_properties(qemu-device/core/mtia_compute_embed.cc tests/unit/compute_embed_test.cc
  PROPERTIES COMPILE_OPTIONS -ffp-contract=off)
target_include_directories(mtia_device_core PRIVATE ${DNNL_INCLUDE_DIR})
target_link_libraries(mtia_device_core PUBLIC ${DNNL_LIBRARY})
# Our own memory-bound kernels (embedding bags) share oneDNN's OpenMP team.
find_package(OpenMP REQUIRED)
target_link_libraries(mtia_device_core PRIVATE OpenMP::OpenMP_CXX)

# Host unit tests: every op against a naive reference, validation, layout,
# timing model.
add_executable(compute_tests
  tests/unit/compute_ops_test.cc
  tests/unit/compute_tfm_ops_test.cc
  tests/unit/compute_int_test.cc
  tests/unit/compute_imatmul_test.cc
  tests/unit/compute_validate_test.cc
  tests/unit/compute_embed_test.cc
  tests/unit/compute_half_test.cc
  tests/unit/compute_resize_test.cc
  tests/unit/compute_pause_test.cc
  tests/unit/compute_throttle_profile_test.cc
  tests/unit/compute_quant_test.cc
  tests/unit/compute_nhwc_test.cc
  tests/unit/compute_accum_test.cc
  tests/unit/compute_winograd_test.cc
  tests/unit/compute_blocked_test.cc
  tests/unit/compute_tracked_test.cc)
target_link_libraries(compute_tests PRIVATE mtia_device_core GTest::gtest_main)
gtest_discover_tests(compute_tests DISCOVERY_MODE PRE_TEST)
# The layouts' tests again as on a host without AVX-512 (oneDNN capped at
# AVX2): nChw16c then has only oneDNN's reference kernels, so the engine
# takes its fallbacks (its own layouts, no Winograd), with the same results.
add_test(NAME compute_tests.avx2_host COMMAND compute_tests
  --gtest_filter=Blocked.*:Winograd.*:ComputeNhwc.*:ComputeTracked.*)
set_tests_properties(compute_tests.avx2_host PROPERTIES ENVIRONMENT ONEDNN_MAX_CPU_ISA=AVX2)

# In-VM COMPUTE jobs through the driver (tests/vm/test-compute.sh).
add_executable(compute_vm_tests tests/vm/compute_test.cc)
target_include_directories(compute_vm_tests PRIVATE include tests/unit)
target_link_libraries(compute_vm_tests PRIVATE mtia PkgConfig::LIBDRM GTest::gtest_main)

# ResNet-18 and conv-layer throughput (docs/compute.md, "Speed"); not a test.
find_package(benchmark QUIET)
if(benchmark_FOUND)
  add_executable(compute_bench tests/bench/compute_bench.cc)
  target_link_libraries(compute_bench PRIVATE mtia_device_core benchmark::benchmark)
endif()
