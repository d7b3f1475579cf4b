# A .proto compiled with Debian's protoc and grpc_cpp_plugin (scripts/setup.sh
# installs both and grpc++) into a static library of its messages and gRPC
# stubs: the device plugin's kubelet API and mtia-serve's Open Inference
# Protocol.
include_guard(GLOBAL)
find_package(Protobuf REQUIRED)
pkg_check_modules(GRPCPP REQUIRED IMPORTED_TARGET grpc++)
find_program(GRPC_CPP_PLUGIN grpc_cpp_plugin REQUIRED)

# mtia_grpc_proto(TARGET PROTO DESCRIPTION): library TARGET of PROTO's
# generated C++ (in build/TARGET-gen, on TARGET's include path).
function(mtia_grpc_proto target proto description)
  get_filename_component(dir ${proto} DIRECTORY)
  get_filename_component(stem ${proto} NAME_WE)
  set(gen ${CMAKE_BINARY_DIR}/${target}-gen)
  set(out ${gen}/${stem}.pb.cc ${gen}/${stem}.pb.h ${gen}/${stem}.grpc.pb.cc ${gen}/${stem}.grpc.pb.h)
  add_custom_command(OUTPUT ${out}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${gen}
    COMMAND protobuf::protoc --proto_path=${dir} --cpp_out=${gen} --grpc_out=${gen}
            --plugin=protoc-gen-grpc=${GRPC_CPP_PLUGIN} ${proto}
    DEPENDS ${proto}
    COMMENT "protoc: ${description} (C++ and gRPC)" VERBATIM)
  add_library(${target} STATIC ${out})
  target_include_directories(${target} SYSTEM PUBLIC ${gen})
  target_compile_options(${target} PRIVATE -w)  # generated code
  target_link_libraries(${target} PUBLIC protobuf::libprotobuf PkgConfig::GRPCPP)
endfunction()
