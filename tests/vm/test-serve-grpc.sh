#!/usr/bin/env bash
# mtia-serve's gRPC endpoint (docs/serving.md "gRPC") inside the VM, driven
# by Python's grpcio with stubs generated from our grpc_predict_v2.proto:
# tests/vm/test_serve_grpc.py says what it checks. It uses the models
# tests/vm/test-serve.sh --prepare compiles on the HOST, then INSIDE an
# mtia-vm guest:
#   tools/mtia-vm run --devices 1 -- tests/vm/test-serve-grpc.sh
# Last line: "N passed, M failed"; exit 1 if any failed.
set -u
cd "$(dirname "$0")/../.." || exit 2

# shellcheck source=tests/vm/lib.sh
. tests/vm/lib.sh
need_device
need_prepared tests/vm/test-serve.sh build/models/serve/resnet18.mtia build/models/serve/dlrm.mtia build/bin/mtia-serve
ip link set lo up 2>/dev/null
exec "$PY" tests/vm/test_serve_grpc.py --serve build/bin/mtia-serve --models build/models
