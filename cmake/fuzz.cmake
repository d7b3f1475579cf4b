# The libFuzzer build (docs/reliability.md): configured with clang into its
# own directory, build/fuzz, with -DMTIA_FUZZ=ON; tests/fuzz/run-fuzz.sh
# does both and builds only the target `fuzz` (every fuzzer and what it
# links). Included from the top-level CMakeLists.txt before any target, so
# every library a fuzzer links is instrumented too: coverage guidance
# (-fsanitize=fuzzer-no-link) and ASan + UBSan, any UBSan report fatal.
# The fuzzers themselves (tests/fuzz/fuzzers.cmake, one mtia_add_fuzzer()
# line each) are defined at the end of the top-level directory, once the
# libraries exist.
if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang" OR NOT CMAKE_C_COMPILER_ID STREQUAL "Clang")
  message(FATAL_ERROR "MTIA_FUZZ needs clang (CC=clang-14 CXX=clang++-14; tests/fuzz/run-fuzz.sh sets them)")
endif()

set(MTIA_FUZZ_SANITIZE address,undefined)
add_compile_options(-fsanitize=fuzzer-no-link,${MTIA_FUZZ_SANITIZE} -fno-sanitize-recover=all
  -fno-omit-frame-pointer)
add_link_options(-fsanitize=${MTIA_FUZZ_SANITIZE})
# The GCC build holds the code to -Werror; clang's extra warnings (and its
# "unsupported GCC optimisation flag" notes) must not stop a fuzz build.
add_compile_options(-Wno-error)
# libFuzzer's advice, -O1 with line tables only: a third less compile time
# than -O2 -g (make test builds this tree), and full ASan reports. assert()
# stays on (a failed one is a finding): no -DNDEBUG.
foreach(lang C CXX)
  foreach(cfg RELEASE RELWITHDEBINFO MINSIZEREL)
    set(CMAKE_${lang}_FLAGS_${cfg} "-O1 -gline-tables-only")
  endforeach()
endforeach()
# Nothing of this build lands in build/bin or build/lib, the normal build's.
set(CMAKE_RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bin)
set(CMAKE_LIBRARY_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/lib)

add_custom_target(fuzz)
set_property(GLOBAL PROPERTY MTIA_FUZZERS "")

# mtia_add_fuzzer(<name> SOURCES <files...> [LIBS <targets...>]
#                 [INCLUDES <dirs...>] [DEFINES <defs...>])
# Target fuzz_<name> -> build/fuzz/bin/fuzz_<name>, a libFuzzer program
# (the sources define LLVMFuzzerTestOneInput), part of target `fuzz` and of
# build/fuzz/fuzzers.txt, the list run-fuzz.sh runs. Seeds:
# tests/fuzz/corpus/<name>/; reproducers of fixed bugs: tests/fuzz/regress/<name>/;
# libFuzzer flags: tests/fuzz/<name>.options (optional, one line).
function(mtia_add_fuzzer name)
  cmake_parse_arguments(F "" "" "SOURCES;LIBS;INCLUDES;DEFINES" ${ARGN})
  if(NOT F_SOURCES)
    message(FATAL_ERROR "mtia_add_fuzzer(${name}): no SOURCES")
  endif()
  add_executable(fuzz_${name} ${F_SOURCES})
  target_include_directories(fuzz_${name} PRIVATE ${CMAKE_SOURCE_DIR}/include ${F_INCLUDES})
  target_compile_definitions(fuzz_${name} PRIVATE ${F_DEFINES})
  target_link_libraries(fuzz_${name} PRIVATE ${F_LIBS})
  target_link_options(fuzz_${name} PRIVATE -fsanitize=fuzzer)
  add_dependencies(fuzz fuzz_${name})
  set_property(GLOBAL APPEND PROPERTY MTIA_FUZZERS ${name})
endfunction()

function(mtia_fuzz_finish)
  include(${CMAKE_SOURCE_DIR}/tests/fuzz/fuzzers.cmake)
  get_property(names GLOBAL PROPERTY MTIA_FUZZERS)
  list(JOIN names "\n" text)
  file(WRITE ${CMAKE_BINARY_DIR}/fuzzers.txt "${text}\n")
endfunction()
cmake_language(DEFER DIRECTORY ${CMAKE_SOURCE_DIR} CALL mtia_fuzz_finish)
