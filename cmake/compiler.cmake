# mtia-compile: ONNX -> .mtia compiled model (docs/mtia-compile.md).
# The compiler core is a static library so unit tests and the runtime's
# tests can compile models in-process.
find_package(ONNX REQUIRED CONFIG PATHS /usr/lib/x86_64-linux-gnu/cmake/ONNX)
find_package(Protobuf REQUIRED)

set(MTIA_COMPILE_DIR ${CMAKE_SOURCE_DIR}/tools/mtia-compile)
add_library(mtia_compiler_lib STATIC
  ${MTIA_COMPILE_DIR}/const_tensor.cc
  ${MTIA_COMPILE_DIR}/node_util.cc
  ${MTIA_COMPILE_DIR}/fold_eval.cc
  ${MTIA_COMPILE_DIR}/quant_linear.cc
  ${MTIA_COMPILE_DIR}/quant_fuse.cc
  ${MTIA_COMPILE_DIR}/passes_qlinear.cc
  ${MTIA_COMPILE_DIR}/onnx_loader.cc
  ${MTIA_COMPILE_DIR}/constant_inputs.cc
  ${MTIA_COMPILE_DIR}/const_fold.cc
  ${MTIA_COMPILE_DIR}/graph.cc
  ${MTIA_COMPILE_DIR}/passes_simplify.cc
  ${MTIA_COMPILE_DIR}/passes_batchnorm.cc
  ${MTIA_COMPILE_DIR}/passes_decompose.cc
  ${MTIA_COMPILE_DIR}/passes_decompose_onnx.cc
  ${MTIA_COMPILE_DIR}/passes_transformer.cc
  ${MTIA_COMPILE_DIR}/dev_graph.cc
  ${MTIA_COMPILE_DIR}/precision.cc
  ${MTIA_COMPILE_DIR}/lower.cc
  ${MTIA_COMPILE_DIR}/lower_compute.cc
  ${MTIA_COMPILE_DIR}/lower_elementwise.cc
  ${MTIA_COMPILE_DIR}/layout_plan.cc
  ${MTIA_COMPILE_DIR}/lower_layout.cc
  ${MTIA_COMPILE_DIR}/lower_norm.cc
  ${MTIA_COMPILE_DIR}/lower_embed.cc
  ${MTIA_COMPILE_DIR}/lower_quant.cc
  ${MTIA_COMPILE_DIR}/loop_embedding_bag.cc
  ${MTIA_COMPILE_DIR}/lower_mask.cc
  ${MTIA_COMPILE_DIR}/lower_vision.cc
  ${MTIA_COMPILE_DIR}/lower_resize.cc
  ${MTIA_COMPILE_DIR}/lower_integer.cc
  ${MTIA_COMPILE_DIR}/fuse.cc
  ${MTIA_COMPILE_DIR}/device_rules.cc
  ${MTIA_COMPILE_DIR}/memory_plan.cc
  ${MTIA_COMPILE_DIR}/model_writer.cc
  ${MTIA_COMPILE_DIR}/summary.cc
  ${MTIA_COMPILE_DIR}/buckets.cc
  ${MTIA_COMPILE_DIR}/host_exec.cc
  ${MTIA_COMPILE_DIR}/calib_data.cc
  ${MTIA_COMPILE_DIR}/calib_stats.cc
  ${MTIA_COMPILE_DIR}/ptq.cc
  ${MTIA_COMPILE_DIR}/compiler.cc)
target_include_directories(mtia_compiler_lib PUBLIC ${MTIA_COMPILE_DIR} ${CMAKE_SOURCE_DIR}/include)
target_compile_definitions(mtia_compiler_lib PRIVATE MTIA_COMPILE_VERSION="${PROJECT_VERSION}")
# Post-training quantization runs the float program on the device's own
# compute engine (ptq.h, host_exec.h).
target_link_libraries(mtia_compiler_lib PUBLIC onnx onnx_proto protobuf::libprotobuf mtia_model_schema
  nlohmann_json::nlohmann_json mtia_npy mtia_device_core)
set_target_properties(mtia_compiler_lib PROPERTIES POSITION_INDEPENDENT_CODE ON)

add_executable(mtia-compile ${MTIA_COMPILE_DIR}/main.cc)
target_link_libraries(mtia-compile PRIVATE mtia_compiler_lib CLI11::CLI11)

# Compiler tests: passes, memory plan, errors, and every model of
# tests/models/make_models.py run on the compute engine (host arena).
# The models are generated into build/models (target compiler_test_models,
# or tests/models/make_models.py --out build/models); without them the
# model tests skip.
add_executable(compiler_tests
  tests/unit/compiler_test_util.cc
  tests/unit/compiler_models_test.cc
  tests/unit/compiler_passes_test.cc
  tests/unit/compiler_transformer_test.cc
  tests/unit/compiler_vision_test.cc
  tests/unit/compiler_memory_test.cc
  tests/unit/compiler_errors_test.cc
  tests/unit/compiler_api_test.cc
  tests/unit/compiler_embed_test.cc
  tests/unit/compiler_resize_test.cc
  tests/unit/compiler_onnx_ops_test.cc
  tests/unit/compiler_buckets_test.cc
  tests/unit/compiler_precision_test.cc
  tests/unit/compiler_quant_test.cc
  tests/unit/compiler_integer_test.cc
  tests/unit/compiler_ptq_test.cc
  tests/unit/compiler_residual_test.cc)
# The models run through libmtia's reader (runtime/model_loader.h) on the
# device core's compute engine.
target_include_directories(compiler_tests PRIVATE tests/unit qemu-device/core runtime tools/mtia-run)
target_compile_definitions(compiler_tests PRIVATE MTIA_TEST_MODELS_DIR="${CMAKE_SOURCE_DIR}/build/models"
  MTIA_COMPILE_BIN="$<TARGET_FILE:mtia-compile>")
add_dependencies(compiler_tests mtia-compile)
target_link_libraries(compiler_tests PRIVATE mtia_compiler_lib mtia_compiler mtia_device_core mtia GTest::gtest_main)
gtest_discover_tests(compiler_tests DISCOVERY_MODE PRE_TEST DISCOVERY_TIMEOUT 60)
# One model file on a host without AVX-512 (oneDNN capped at AVX2): resnet18
# and squeezenet1_0 stored nChw16c, mobilenet_v2 channels-last, against
# every tensor NCHW (compute_tests.avx2_host: the kernels).
add_test(NAME compiler_tests.avx2_host COMMAND compiler_tests
  --gtest_filter=Models/ModelSet.ChannelsLastMatchesNchw/resnet18:Models/ModelSet.ChannelsLastMatchesNchw/squeezenet1_0:Models/ModelSet.ChannelsLastMatchesNchw/mobilenet_v2)
set_tests_properties(compiler_tests.avx2_host PROPERTIES ENVIRONMENT ONEDNN_MAX_CPU_ISA=AVX2)
add_custom_target(compiler_test_models
  COMMAND /usr/bin/python3 ${CMAKE_SOURCE_DIR}/tests/models/make_models.py --out ${CMAKE_SOURCE_DIR}/build/models
  COMMENT "generating the compiler's test models (build/models)" VERBATIM)

# libmtia-compiler: the compiler as a library (include/mtia/compiler.hpp,
# mtia::compile_onnx), shared, exporting only that API
# (libmtia_compiler.map); the Python module's mtia.compile_onnx uses it.
add_library(mtia_compiler SHARED ${MTIA_COMPILE_DIR}/compile_api.cc)
set_target_properties(mtia_compiler PROPERTIES OUTPUT_NAME mtia-compiler EXPORT_NAME compiler
  VERSION ${PROJECT_VERSION} SOVERSION 0)
target_include_directories(mtia_compiler PUBLIC $<BUILD_INTERFACE:${CMAKE_SOURCE_DIR}/include>)
target_link_libraries(mtia_compiler PRIVATE mtia_compiler_lib)
target_link_options(mtia_compiler PRIVATE -Wl,--version-script=${MTIA_COMPILE_DIR}/libmtia_compiler.map)
set_property(TARGET mtia_compiler APPEND PROPERTY LINK_DEPENDS ${MTIA_COMPILE_DIR}/libmtia_compiler.map)
