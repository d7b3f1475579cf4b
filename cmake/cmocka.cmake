# CMocka test programs with each test registered with ctest on its own
# (the firmware's host tests, tests/firmware/): mtia_add_cmocka_test(<name>
# SOURCES ... [LIBS ...]) builds <name>; after each build the program's
# `--list` is turned into one ctest case <name>.<test> per CMocka test,
# run as `<name> <test>` (tests/firmware/fw_test.c), so the suite's count
# is the number of CMocka tests.
find_library(CMOCKA_LIBRARY cmocka REQUIRED)
find_path(CMOCKA_INCLUDE_DIR cmocka.h REQUIRED)

function(mtia_add_cmocka_test name)
  cmake_parse_arguments(A "" "" "SOURCES;LIBS" ${ARGN})
  add_executable(${name} ${A_SOURCES})
  target_include_directories(${name} PRIVATE ${CMOCKA_INCLUDE_DIR})
  target_link_libraries(${name} PRIVATE ${A_LIBS} ${CMOCKA_LIBRARY})
  set(list ${CMAKE_CURRENT_BINARY_DIR}/${name}_tests.cmake)
  add_custom_command(TARGET ${name} POST_BUILD
    COMMAND ${CMAKE_COMMAND} -D BIN=$<TARGET_FILE:${name}> -D NAME=${name} -D OUT=${list}
            -P ${CMAKE_SOURCE_DIR}/cmake/cmocka-list.cmake
    VERBATIM)
  # ctest reads this at test time: the list, or one failing case if the
  # program was never built.
  set(inc ${CMAKE_CURRENT_BINARY_DIR}/${name}_include.cmake)
  file(WRITE ${inc}
    "if(EXISTS \"${list}\")\n  include(\"${list}\")\n"
    "else()\n  add_test(${name}.NOT_BUILT ${name}_was_not_built)\nendif()\n")
  set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES ${inc})
endfunction()
