# Python package mtia (python/, docs/python.md): the pybind11 extension
# mtia._mtia over libmtia plus the pure-Python files, laid out as an
# importable package in build/python (PYTHONPATH=build/python), with type
# stubs generated from the built extension (mypy's stubgen), so editors
# complete the API and the stubs cannot drift.
# Debian's interpreter, the one whose torch, numpy and pytest we use (not
# whatever python3 comes first on PATH).
set(PYTHON_EXECUTABLE /usr/bin/python3 CACHE FILEPATH "Python for the mtia module")
find_package(pybind11 CONFIG REQUIRED)
set(MTIA_PY_DIR ${CMAKE_SOURCE_DIR}/build/python/mtia)
pybind11_add_module(mtia_python python/_mtia.cc)
set_target_properties(mtia_python PROPERTIES OUTPUT_NAME _mtia LIBRARY_OUTPUT_DIRECTORY ${MTIA_PY_DIR})
target_link_libraries(mtia_python PRIVATE mtia mtia_compiler)
file(GLOB_RECURSE MTIA_PY_SOURCES CONFIGURE_DEPENDS RELATIVE ${CMAKE_SOURCE_DIR}/python/mtia
  ${CMAKE_SOURCE_DIR}/python/mtia/*.py)
set(MTIA_PY_COPIES)
foreach(name ${MTIA_PY_SOURCES})
  set(src ${CMAKE_SOURCE_DIR}/python/mtia/${name})
  get_filename_component(subdir ${MTIA_PY_DIR}/${name} DIRECTORY)
  add_custom_command(OUTPUT ${MTIA_PY_DIR}/${name}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${subdir}
    COMMAND ${CMAKE_COMMAND} -E copy_if_different ${src} ${MTIA_PY_DIR}/${name}
    DEPENDS ${src} VERBATIM)
  list(APPEND MTIA_PY_COPIES ${MTIA_PY_DIR}/${name})
endforeach()
add_custom_target(mtia_python_files ALL DEPENDS ${MTIA_PY_COPIES})
add_dependencies(mtia_python mtia_python_files)

find_program(STUBGEN stubgen REQUIRED)
add_custom_command(OUTPUT ${MTIA_PY_DIR}/_mtia.pyi ${MTIA_PY_DIR}/py.typed
  COMMAND ${CMAKE_COMMAND} -E env PYTHONPATH=${CMAKE_SOURCE_DIR}/build/python
          ${PYTHON_EXECUTABLE} ${STUBGEN} -q -m mtia._mtia -o ${CMAKE_BINARY_DIR}/python-stubs
  COMMAND ${CMAKE_COMMAND} -E copy ${CMAKE_BINARY_DIR}/python-stubs/mtia/_mtia.pyi ${MTIA_PY_DIR}/_mtia.pyi
  COMMAND ${CMAKE_COMMAND} -E touch ${MTIA_PY_DIR}/py.typed
  DEPENDS mtia_python mtia_python_files COMMENT "stubgen: mtia/_mtia.pyi" VERBATIM)
add_custom_target(mtia_python_stubs ALL DEPENDS ${MTIA_PY_DIR}/_mtia.pyi)

# Installed where Debian's python3 looks: /usr/lib/python3/dist-packages for
# the system prefix (the python3-mtia package), else
# PREFIX/lib/python3.X/dist-packages. Decided at install time, since
# `cmake --install --prefix` may differ from the configured prefix. The
# extension's build-tree RPATH is removed, as install(TARGETS) would.
execute_process(COMMAND ${PYTHON_EXECUTABLE} -c "import sys; print('%d.%d' % sys.version_info[:2])"
  OUTPUT_VARIABLE MTIA_PY_VERSION OUTPUT_STRIP_TRAILING_WHITESPACE)
install(CODE "
  if(CMAKE_INSTALL_PREFIX STREQUAL \"/usr\")
    set(mtia_py_dest \"\${CMAKE_INSTALL_PREFIX}/lib/python3/dist-packages\")
  else()
    set(mtia_py_dest \"\${CMAKE_INSTALL_PREFIX}/lib/python${MTIA_PY_VERSION}/dist-packages\")
  endif()
  file(INSTALL DESTINATION \"\${mtia_py_dest}\" TYPE DIRECTORY FILES \"${MTIA_PY_DIR}\"
       PATTERN __pycache__ EXCLUDE)
  file(GLOB mtia_py_ext \"\$ENV{DESTDIR}\${mtia_py_dest}/mtia/_mtia*.so\")
  foreach(f \${mtia_py_ext})
    file(RPATH_REMOVE FILE \"\${f}\")
  endforeach()
" COMPONENT python)
