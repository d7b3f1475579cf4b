#!/usr/bin/env bash
# Builds QEMU's libFuzzer binary with the mtia device:
# build/qemu-fuzz/qemu-fuzz-x86_64 (docs/reliability.md, "QEMU's generic-fuzz
# over the device"; run it with tests/fuzz/run-qemu-fuzz.sh).
#
# The same steps as build-qemu.sh (it does the work, with MTIA_QEMU_FUZZ=1):
# its own working copy build/qemu-fuzz-src and build directory
# build/qemu-fuzz, configured with clang, --enable-fuzzing and
# --enable-sanitizers (ASan + UBSan), x86_64-softmmu only, no TCG (the fuzzer
# uses the qtest accelerator); only the qemu-fuzz-x86_64 target is built.
# build/qemu and build/qemu-src are never touched. Idempotent and incremental.
# Environment: JOBS (default nproc), MTIA_QEMU_CONFIGURE_EXTRA (extra args).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
command -v clang >/dev/null && command -v clang++ >/dev/null ||
    { echo "build-qemu-fuzz: error: clang/clang++ not found (scripts/setup.sh installs clang)" >&2; exit 1; }
MTIA_QEMU_FUZZ=1 exec "$here/build-qemu.sh" "$@"
