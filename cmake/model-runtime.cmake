# libmtia's models (runtime/model*.cc), mtia-run's inference mode and their
# tests (docs/models.md). The FlatBuffers schema stays private to libmtia.
target_sources(mtia PRIVATE runtime/model_loader.cc runtime/bad_ids.cc runtime/model.cc runtime/profile.cc)
target_link_libraries(mtia PRIVATE mtia_model_schema nlohmann_json::nlohmann_json)

target_sources(mtia-run PRIVATE tools/mtia-run/npy_convert.cc tools/mtia-run/precision_line.cc
  tools/mtia-run/run_model.cc)
target_link_libraries(mtia-run PRIVATE mtia_npy)

# Host tests: the loader (models built with the FlatBuffers API), npy files.
target_sources(unit_tests PRIVATE
  tests/unit/model_loader_test.cc
  tests/unit/model_npy_test.cc
  tests/unit/model_bad_ids_test.cc
  tests/unit/model_c_api_test.cc
  tests/unit/model_half_io_test.cc
  tests/unit/model_npy_half_test.cc
  tests/unit/model_npy_quant_test.cc
  tests/unit/model_quant_io_test.cc
  tests/unit/profile_trace_test.cc
  tools/mtia-run/npy_convert.cc
  tools/mtia-run/precision_line.cc)
target_include_directories(unit_tests PRIVATE tools/mtia-run)
target_link_libraries(unit_tests PRIVATE mtia_model_schema mtia_npy nlohmann_json::nlohmann_json)
# ... and against real compiler output (an ONNX graph compiled in-process).
if(TARGET mtia_compiler_lib)
  target_sources(unit_tests PRIVATE tests/unit/model_compiled_test.cc)
  target_link_libraries(unit_tests PRIVATE mtia_compiler_lib)
endif()

# In-VM model tests (tests/vm/test-models.sh).
add_executable(model_vm_tests tests/vm/model_test.cc tests/vm/model_bucket_test.cc tests/vm/model_half_io_test.cc
  tests/vm/model_quant_io_test.cc)
target_include_directories(model_vm_tests PRIVATE tools/mtia-run)
target_link_libraries(model_vm_tests PRIVATE mtia mtia_model_schema mtia_npy nlohmann_json::nlohmann_json
  GTest::gtest_main Threads::Threads)

# The hand-built F16/BF16-input models (tests/models/half_models.h) as files,
# for the in-VM precision tests (tests/vm/test-precision.sh).
add_executable(make_half_models tests/models/make_half_models.cc)
target_link_libraries(make_half_models PRIVATE mtia_model_schema)

# make bench's stack-overhead anchor: a compiled model's program run on the
# host without the VM (tests/bench/host_model_bench.cc).
add_executable(host_model_bench tests/bench/host_model_bench.cc)
target_include_directories(host_model_bench PRIVATE runtime qemu-device/core tools/mtia-run)
target_link_libraries(host_model_bench PRIVATE mtia mtia_device_core mtia_npy)
