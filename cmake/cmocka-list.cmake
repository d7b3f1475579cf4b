# cmake -D BIN=<program> -D NAME=<prefix> -D OUT=<file> -P cmocka-list.cmake:
# writes OUT, one add_test(<prefix>.<test> BIN <test>) per line of
# `BIN --list` (see cmake/cmocka.cmake).
execute_process(COMMAND ${BIN} --list OUTPUT_VARIABLE out RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${BIN} --list failed (${rc})")
endif()
string(REPLACE "\n" ";" names "${out}")
set(content "")
foreach(t IN LISTS names)
  if(NOT t STREQUAL "")
    string(APPEND content "add_test([=[${NAME}.${t}]=] [=[${BIN}]=] [=[${t}]=])\n")
    string(APPEND content "set_tests_properties([=[${NAME}.${t}]=] PROPERTIES LABELS cmocka)\n")
  endif()
endforeach()
file(WRITE ${OUT} "${content}")
