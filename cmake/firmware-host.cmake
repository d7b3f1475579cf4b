# The firmware's modules built for the host (FW_HOST, firmware/fw.h) over
# a device mock, and their CMocka unit tests (tests/firmware/,
# docs/firmware.md "Host build and unit tests").
include(cmake/cmocka.cmake)

# The firmware's version, as firmware/Makefile sets it.
file(STRINGS ${CMAKE_SOURCE_DIR}/firmware/Makefile fw_version_lines
  REGEX "^FW_VERSION_(MAJOR|MINOR|PATCH) :=")
set(fw_version_defs "")
foreach(l IN LISTS fw_version_lines)
  string(REGEX REPLACE "^(FW_VERSION_[A-Z]+) := *([0-9]+).*" "\\1=\\2" d "${l}")
  list(APPEND fw_version_defs ${d})
endforeach()

add_library(mtia_fw_host STATIC tests/firmware/fw_host.c tests/firmware/fw_mock.c
  tests/firmware/fw_queue_model.c)
target_include_directories(mtia_fw_host PUBLIC ${CMAKE_SOURCE_DIR} firmware tests/firmware include)
target_compile_definitions(mtia_fw_host PUBLIC FW_HOST ${fw_version_defs})
# The firmware's own warnings (firmware/Makefile) and dialect.
target_compile_options(mtia_fw_host PUBLIC -Wshadow -Wstrict-prototypes -Wmissing-prototypes)
set_target_properties(mtia_fw_host PROPERTIES C_STANDARD 11 C_EXTENSIONS ON)

foreach(t mbox dispatch_check dispatch log main)
  mtia_add_cmocka_test(fw_${t}_test SOURCES tests/firmware/${t}_test.c tests/firmware/fw_test.c
    LIBS mtia_fw_host)
  set_target_properties(fw_${t}_test PROPERTIES C_STANDARD 11 C_EXTENSIONS ON)
endforeach()
