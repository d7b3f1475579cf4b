# make install (docs/install.md): libmtia shared (API symbols only, see
# runtime/libmtia.map) and static, the public headers, the tools, the
# firmware image, the udev rule, the driver's DKMS source tree, a
# pkg-config file and a CMake package.
#   cmake --install build/cmake [--prefix P]   (DESTDIR honoured)
# Both mtia.pc and the CMake package locate the prefix relative to their
# own path, so a tree installed into a DESTDIR or moved elsewhere works.
# Libraries in the multiarch directory (lib/x86_64-linux-gnu) whatever the
# prefix: Debian's ld.so, pkg-config and CMake search it under /usr/local as
# under /usr, and the packages need it (debian/). Set once per build tree
# (also over an older tree's cached "lib"); -DCMAKE_INSTALL_LIBDIR= later wins.
if(CMAKE_LIBRARY_ARCHITECTURE AND NOT MTIA_LIBDIR_MULTIARCH)
  set(CMAKE_INSTALL_LIBDIR lib/${CMAKE_LIBRARY_ARCHITECTURE} CACHE PATH "object code libraries" FORCE)
  set(MTIA_LIBDIR_MULTIARCH ON CACHE INTERNAL "CMAKE_INSTALL_LIBDIR was set to the multiarch directory")
endif()
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

# The firmware and udev directories are the system's, whatever the prefix:
# request_firmware() and udevd look only there (DESTDIR still applies).
set(MTIA_FIRMWARE_DIR /lib/firmware CACHE PATH "firmware directory (mtia/mtia-fw.bin goes under it)")
set(MTIA_UDEV_RULES_DIR /lib/udev/rules.d CACHE PATH "udev rules directory")
set(MTIA_DKMS_SOURCE_DIR /usr/src CACHE PATH "DKMS source directory (mtia-<version>/ goes under it)")

# libmtia.a: libmtia.so's own object files (position-independent, which a
# static library does not mind), archived rather than compiled again.
add_library(mtia_static STATIC $<TARGET_OBJECTS:mtia>)
set_target_properties(mtia_static PROPERTIES OUTPUT_NAME mtia ARCHIVE_OUTPUT_DIRECTORY ${CMAKE_SOURCE_DIR}/build/lib)
target_include_directories(mtia_static PUBLIC $<BUILD_INTERFACE:${CMAKE_SOURCE_DIR}/include>)
target_link_libraries(mtia_static PUBLIC PkgConfig::LIBDRM Threads::Threads)
foreach(t mtia mtia_static)
  target_include_directories(${t} INTERFACE $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
endforeach()
# The shared library links libdrm privately; its model schema is headers only.
target_link_libraries(mtia PRIVATE $<BUILD_INTERFACE:mtia_model_schema>)

install(TARGETS mtia mtia_static EXPORT mtiaTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT libmtia NAMELINK_COMPONENT dev
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT dev)
install(FILES include/mtia/mtia.h include/mtia/mtia.hpp include/mtia/mtia_spec.h include/mtia/mtia_cmd_rules.h
              include/mtia/mtia_fp16.h
              include/mtia/mtia_model.h include/mtia/mtia_model.fbs
              include/mtia/mtia_mgmt.h include/mtia/mtia_mgmt.hpp
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/mtia COMPONENT dev)
install(FILES include/uapi/drm/mtia_accel.h DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/mtia/drm COMPONENT dev)
# The compiler as a library (cmake/compiler.cmake): mtia::compiler.
if(TARGET mtia_compiler)
  target_include_directories(mtia_compiler INTERFACE $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
  install(TARGETS mtia_compiler EXPORT mtiaTargets
    LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT libmtia-compiler NAMELINK_COMPONENT dev)
  install(FILES include/mtia/compiler.hpp DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/mtia COMPONENT dev)
endif()

set(MTIA_TOOLS mtia-smi mtia-run)
if(TARGET mtia-compile)
  list(APPEND MTIA_TOOLS mtia-compile)
endif()
install(TARGETS ${MTIA_TOOLS} RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT tools)
# mtia-smi -x's document type (docs/telemetry.md), for validating its XML.
install(FILES tools/mtia-smi/mtia_smi_log.dtd DESTINATION ${CMAKE_INSTALL_DATADIR}/mtia COMPONENT tools)
install(FILES ${CMAKE_SOURCE_DIR}/build/firmware/mtia/mtia-fw.bin
  DESTINATION ${MTIA_FIRMWARE_DIR}/mtia COMPONENT firmware)
install(FILES udev/70-mtia.rules DESTINATION ${MTIA_UDEV_RULES_DIR} COMPONENT tools)
foreach(page ${MTIA_MAN_PAGES})
  get_filename_component(name ${page} NAME)
  string(REGEX REPLACE ".*\\.([0-9])$" "\\1" section ${name})
  set(component tools)
  if(section STREQUAL "3")
    set(component dev)
  endif()
  if(NOT name STREQUAL "mtia-vm.1")
    install(FILES ${page} DESTINATION ${CMAKE_INSTALL_MANDIR}/man${section} COMPONENT ${component})
  endif()
endforeach()

# The driver's DKMS source tree (driver/dkms.conf): Kbuild, sources and the
# headers it shares with user space, as the driver's Kbuild expects them.
set(MTIA_DKMS_TREE ${MTIA_DKMS_SOURCE_DIR}/mtia-${PROJECT_VERSION})
install(DIRECTORY driver/ DESTINATION ${MTIA_DKMS_TREE} COMPONENT dkms
  FILES_MATCHING PATTERN "*.c" PATTERN "*.h" PATTERN "Kbuild" PATTERN "dkms.conf")
install(FILES include/mtia/mtia_spec.h include/mtia/mtia_cmd_rules.h include/mtia/mtia_boot_status.h
  DESTINATION ${MTIA_DKMS_TREE}/include/mtia COMPONENT dkms)
install(FILES include/uapi/drm/mtia_accel.h DESTINATION ${MTIA_DKMS_TREE}/include/uapi/drm COMPONENT dkms)

# pkg-config: prefix relative to the .pc file (${pcfiledir}).
set(MTIA_PC_DIR ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
file(RELATIVE_PATH MTIA_PC_TO_PREFIX /root/${MTIA_PC_DIR} /root)
configure_file(cmake/mtia.pc.in ${CMAKE_BINARY_DIR}/mtia.pc @ONLY)
install(FILES ${CMAKE_BINARY_DIR}/mtia.pc DESTINATION ${MTIA_PC_DIR} COMPONENT dev)

# CMake: find_package(mtia CONFIG) gives mtia::mtia (shared),
# mtia::mtia_static and mtia::compiler (libmtia-compiler).
set(MTIA_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/mtia)
install(EXPORT mtiaTargets NAMESPACE mtia:: DESTINATION ${MTIA_CMAKE_DIR} COMPONENT dev)
configure_package_config_file(cmake/mtiaConfig.cmake.in ${CMAKE_BINARY_DIR}/mtiaConfig.cmake
  INSTALL_DESTINATION ${MTIA_CMAKE_DIR})
write_basic_package_version_file(${CMAKE_BINARY_DIR}/mtiaConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMajorVersion)
install(FILES ${CMAKE_BINARY_DIR}/mtiaConfig.cmake ${CMAKE_BINARY_DIR}/mtiaConfigVersion.cmake
  DESTINATION ${MTIA_CMAKE_DIR} COMPONENT dev)
