# The compiled-model schema (include/mtia/mtia_model.fbs) -> C++ header,
# shared by mtia-compile and libmtia through the mtia_model_schema target.
find_program(FLATC flatc REQUIRED)
set(MTIA_MODEL_GEN_DIR ${CMAKE_BINARY_DIR}/gen)
add_custom_command(
  OUTPUT ${MTIA_MODEL_GEN_DIR}/mtia/mtia_model_generated.h
  COMMAND ${FLATC} --cpp --scoped-enums -o ${MTIA_MODEL_GEN_DIR}/mtia
          ${CMAKE_SOURCE_DIR}/include/mtia/mtia_model.fbs
  DEPENDS ${CMAKE_SOURCE_DIR}/include/mtia/mtia_model.fbs
  COMMENT "flatc: mtia_model.fbs")
add_custom_target(mtia_model_schema_gen DEPENDS ${MTIA_MODEL_GEN_DIR}/mtia/mtia_model_generated.h)
add_library(mtia_model_schema INTERFACE)
add_dependencies(mtia_model_schema mtia_model_schema_gen)
target_include_directories(mtia_model_schema INTERFACE ${MTIA_MODEL_GEN_DIR} ${CMAKE_SOURCE_DIR}/include)
# Model.weights is force_align: 64 (docs/model-format.md); FlatBuffers
# asserts alignments up to FLATBUFFERS_MAX_ALIGNMENT, 32 unless raised
# (the assert fires only with assertions on: the fuzz build found it).
target_compile_definitions(mtia_model_schema INTERFACE FLATBUFFERS_MAX_ALIGNMENT=64)

# NumPy .npy and .npz files: mtia-run's inputs and outputs, mtia-compile's
# constant inputs and calibration sets (tools/mtia-run/npy.h, npz.h).
find_package(ZLIB REQUIRED)
add_library(mtia_npy STATIC ${CMAKE_SOURCE_DIR}/tools/mtia-run/npy.cc ${CMAKE_SOURCE_DIR}/tools/mtia-run/npz.cc)
target_include_directories(mtia_npy PUBLIC ${CMAKE_SOURCE_DIR}/tools/mtia-run)
target_link_libraries(mtia_npy PRIVATE ZLIB::ZLIB)
set_target_properties(mtia_npy PROPERTIES POSITION_INDEPENDENT_CODE ON)
