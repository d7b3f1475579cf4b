#!/usr/bin/env bash
# Installs everything mtia-open needs on a Debian 12 host, then fetches the
# QEMU source and the guest kernel into build/deps. Idempotent: re-running it
# only does what is missing.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)

packages=(
  # host toolchain and user-space build
  build-essential cmake ninja-build meson pkg-config git xz-utils cpio kmod
  # runtime, tools and tests
  libdrm-dev libpci-dev pciutils libgtest-dev libgmock-dev googletest
  libbenchmark-dev libcli11-dev nlohmann-json3-dev libfmt-dev
  # QEMU 7.2 build
  dpkg-dev libglib2.0-dev libpixman-1-dev zlib1g-dev flex bison python3
  libcap-ng-dev libfdt-dev   # virtfs (9p) needs libcap-ng; x86 needs libfdt
  # QEMU firmware (BIOS / option ROMs) used at run time
  seabios ipxe-qemu qemu-system-data
  # guest VM: static busybox for the initramfs
  busybox-static
  # control-core firmware and its simulator's test programs
  gcc-riscv64-unknown-elf
  # firmware signatures: the signing tool and the boot ROM's check (Ed25519)
  libsodium-dev
  # kernel module build
  bc libelf-dev
  # inference: compute engine (oneDNN), model schema, ONNX compiler
  libdnnl-dev libflatbuffers-dev flatbuffers-compiler libonnx-dev libprotobuf-dev protobuf-compiler
  # reference models and their PyTorch baselines (tests, make bench)
  python3-torch python3-torchvision python3-onnx python3-numpy
  # PyTorch's anchor at its best: libblas.so.3 resolves to OpenBLAS, not the
  # reference BLAS (an order of magnitude slower for Linear/MatMul)
  libopenblas0-pthread
  # ONNX's own backend conformance tests (tests/conformance/)
  libonnx-testdata
  # telemetry: `sensors` reads the driver's hwmon
  lm-sensors
  # SDK (docs/install.md): DKMS builds of the driver (pahole for module BTF),
  # udevd applying the installed rule in the VM (and the render group)
  dkms dwarves udev
  # man pages generated from --help and mtia.h, checked with man -l; the
  # API reference (make docs)
  help2man man-db doxygen
  # Debian packages (make deb), lintian, and a clean root to install them in
  debhelper dh-dkms lintian debootstrap
  # Python bindings (python/), their type stubs (mypy's stubgen) and tests
  pybind11-dev python3-dev mypy python3-pytest
  # one C++ style (.clang-format, tests/format-check.sh): a pinned version
  clang-format-14
  # the firmware's unit tests on the host (tests/firmware/, CMocka)
  libcmocka-dev
  # libFuzzer targets (tests/fuzz/) and QEMU's generic-fuzz build
  # (qemu-device/build-qemu-fuzz.sh): clang with its fuzzer/sanitizer
  # runtimes and OpenMP (the device core's kernels)
  clang-14 libclang-rt-14-dev libomp-14-dev
  # Kubernetes device plugin (tools/mtia-device-plugin): gRPC C++ and the
  # protoc plugins; its tests' kubelet stand-in speaks gRPC from Python
  libgrpc++-dev protobuf-compiler-grpc python3-grpcio python3-protobuf
  # mtia-smi -q -x validated against its DTD (tests: xmllint --dtdvalid)
  libxml2-utils
  # the Prometheus exporter (tools/mtia-exporter): an HTTP server library,
  # and promtool (in prometheus) to check its exposition in the tests
  libcpp-httplib-dev prometheus
  # mtia-serve: HTTP (cpp-httplib, above); its tests' REST client
  curl
)

sudo_if_needed() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

# Debian source packages (for `apt-get source qemu`) need deb-src lines.
src_list=/etc/apt/sources.list.d/mtia-open-src.sources
if [ ! -f "$src_list" ]; then
  sudo_if_needed tee "$src_list" >/dev/null <<'SRC'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
  need_update=1
fi

if [ "${#missing[@]}" -gt 0 ] || [ -n "${need_update:-}" ] || ! ls /var/lib/apt/lists/*Sources >/dev/null 2>&1; then
  sudo_if_needed apt-get update
fi
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
fi

"$top/scripts/fetch-qemu.sh"
"$top/scripts/fetch-guest-kernel.sh"
"$top/scripts/fetch-checkpatch.sh"
"$top/scripts/fetch-debian-root.sh"
echo "setup: done"
