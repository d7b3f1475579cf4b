#!/usr/bin/env bash
# In-VM part of run-bench.sh's inference figures: mtia-run --bench on
# resnet18 (batch 1) and resnet18_b8 (batch 8), compiled on the host by
# tests/vm/test-models.sh --prepare. Prints one JSON line per model, with
# "batch" (images per run) added to mtia-run's --json output.
set -euo pipefail
[ "${MTIA_IN_VM:-0}" = 1 ] || { echo "model-bench.sh: run inside tools/mtia-vm" >&2; exit 2; }
DIR=${MTIA_MODEL_DIR:-build/models}
for spec in "resnet18 1 ${MTIA_BENCH_INFER_B1:-30}" "resnet18_b8 8 ${MTIA_BENCH_INFER_B8:-8}"; do
  read -r m batch n <<<"$spec"
  build/bin/mtia-run "$DIR/$m.mtia" --bench "$n" --json |
    /usr/bin/python3 -c 'import json, sys; j = json.load(sys.stdin); j["batch"] = int(sys.argv[1]); print(json.dumps(j))' "$batch"
done
