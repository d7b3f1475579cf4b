# Python package mtia (python/, docs/python.md): the pybind11 extension
# mtia._mtia over libmtia plus the pure-Python files, laid out as an
# importable package in build/python (PYTHONPATH=build/python).
# Debian's interpreter, the one whose torch, numpy and pytest we use (not
# whatever python3 comes first on PATH).
set(PYTHON_EXECUTABLE /usr/bin/python3 CACHE FILEPATH "Python for the mtia module")
find_package(pybind11 CONFIG REQUIRED)
set(MTIA_PY_DIR ${CMAKE_SOURCE_DIR}/build/python/mtia)
pybind11_add_module(mtia_python python/_mtia.cc)
set_target_properties(mtia_python PROPERTIES OUTPUT_NAME _mtia LIBRARY_OUTPUT_DIRECTORY ${MTIA_PY_DIR})
target_link_libraries(mtia_python PRIVATE mtia)
file(GLOB MTIA_PY_SOURCES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/python/mtia/*.py)
set(MTIA_PY_COPIES)
foreach(src ${MTIA_PY_SOURCES})
  get_filename_component(name ${src} NAME)
  add_custom_command(OUTPUT ${MTIA_PY_DIR}/${name}
    COMMAND ${CMAKE_COMMAND} -E copy_if_different ${src} ${MTIA_PY_DIR}/${name}
    DEPENDS ${src} VERBATIM)
  list(APPEND MTIA_PY_COPIES ${MTIA_PY_DIR}/${name})
endforeach()
add_custom_target(mtia_python_files ALL DEPENDS ${MTIA_PY_COPIES})
add_dependencies(mtia_python mtia_python_files)
