#!/usr/bin/env bash
# ONNX's own backend conformance tests (Debian's libonnx-testdata) on the
# device: every case whose ops mtia-compile claims is compiled on the host
# (prepare.py), run in one VM with mtia-run, and checked against ONNX's
# expected outputs on the host (check.py). Fails on any wrong answer, any
# compiler or run error, or fewer than 90% of the claimed cases passing.
# Results: build/conformance/report.json. Arguments go to prepare.py:
# `--every 2` (make test) runs every 2nd case within the claimed set.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=build/conformance
rm -rf "$out"
/usr/bin/python3 tests/conformance/prepare.py --out "$out" --compiler build/bin/mtia-compile \
  --run "$PWD/build/bin/mtia-run" "$@"
tools/mtia-vm run --timeout 1200 --devices 1 --device-opts devmem-size=256M -- sh "$PWD/$out/run-cases.sh"
/usr/bin/python3 tests/conformance/check.py --out "$out"
