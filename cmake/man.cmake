# Man pages, generated at build time from one source each so they cannot
# drift: the tools' --help and --version (help2man), libmtia(3) from
# include/mtia/mtia.h (scripts/gen-libmtia-man.py). Output: build/cmake/man.
# mtia-vm(1) is generated and checked but not installed (mtia-vm runs from
# a source tree).
find_program(HELP2MAN help2man REQUIRED)
find_package(Python3 REQUIRED COMPONENTS Interpreter)
set(MTIA_MAN_DIR ${CMAKE_BINARY_DIR}/man)
set(MTIA_MAN_PAGES)

# mtia_man_help2man(PAGE NAME EXE [HELP_OPTION] [DEPENDS...])
function(mtia_man_help2man page name exe help_option)
  add_custom_command(OUTPUT ${MTIA_MAN_DIR}/${page}.1
    COMMAND ${CMAKE_COMMAND} -E make_directory ${MTIA_MAN_DIR}
    COMMAND ${HELP2MAN} --no-info --section 1 --name ${name} --help-option ${help_option}
            --output ${MTIA_MAN_DIR}/${page}.1 ${exe}
    DEPENDS ${ARGN} COMMENT "help2man: ${page}(1)" VERBATIM)
  set(MTIA_MAN_PAGES ${MTIA_MAN_PAGES} ${MTIA_MAN_DIR}/${page}.1 PARENT_SCOPE)
endfunction()

mtia_man_help2man(mtia-smi "monitor and manage mtia accelerators" $<TARGET_FILE:mtia-smi> --help mtia-smi)
mtia_man_help2man(mtia-run "run a compiled model or a benchmark on an mtia accelerator"
  $<TARGET_FILE:mtia-run> --help mtia-run)
if(TARGET mtia-compile)
  mtia_man_help2man(mtia-compile "compile an ONNX model for mtia accelerators"
    $<TARGET_FILE:mtia-compile> --help mtia-compile)
endif()
mtia_man_help2man(mtia-vm "run a command in a QEMU VM with mtia devices" ${CMAKE_SOURCE_DIR}/tools/mtia-vm
  "run --help" ${CMAKE_SOURCE_DIR}/tools/mtia-vm ${CMAKE_SOURCE_DIR}/CMakeLists.txt)

add_custom_command(OUTPUT ${MTIA_MAN_DIR}/libmtia.3
  COMMAND ${CMAKE_COMMAND} -E make_directory ${MTIA_MAN_DIR}
  COMMAND ${Python3_EXECUTABLE} ${CMAKE_SOURCE_DIR}/scripts/gen-libmtia-man.py
          ${CMAKE_SOURCE_DIR}/include/mtia/mtia.h ${PROJECT_VERSION} ${MTIA_MAN_DIR}/libmtia.3
  DEPENDS ${CMAKE_SOURCE_DIR}/include/mtia/mtia.h ${CMAKE_SOURCE_DIR}/scripts/gen-libmtia-man.py
  COMMENT "libmtia(3) from mtia.h" VERBATIM)
list(APPEND MTIA_MAN_PAGES ${MTIA_MAN_DIR}/libmtia.3)
add_custom_target(man_pages ALL DEPENDS ${MTIA_MAN_PAGES})
