#!/usr/bin/env bash
# In-VM part of run-bench.sh's inference figures: mtia-run --bench on
# resnet18 (batch 1) and resnet18_b8 (batch 8), compiled on the host by
# tests/vm/test-models.sh --prepare, and on the DLRM and transformer
# workloads run-bench.sh compiles. Prints one JSON line per model, with
# "batch" (images per run) added to mtia-run's --json output. resnet18 runs
# with profiling off and on (mtia-run --profile, "profiled": true),
# alternately, twice each, for the cost of profiling. Last, the Python
# overhead of mtia.torch.compile (tests/bench/py_overhead.py).
set -euo pipefail
[ "${MTIA_IN_VM:-0}" = 1 ] || { echo "model-bench.sh: run inside tools/mtia-vm" >&2; exit 2; }
DIR=${MTIA_MODEL_DIR:-build/models}
prof=$(mktemp /tmp/mtia-bench-profile.XXXXXX.json)
trap 'rm -f "$prof"' EXIT
b1=${MTIA_BENCH_INFER_B1:-30}
for spec in "resnet18 1 $b1" "resnet18 1 $b1 profile" "resnet18 1 $b1" "resnet18 1 $b1 profile" \
  "resnet18_b8 8 ${MTIA_BENCH_INFER_B8:-20}"; do
  read -r m batch n p <<<"$spec"
  build/bin/mtia-run "$DIR/$m.mtia" --bench "$n" --json ${p:+--profile "$prof"} |
    /usr/bin/python3 -c 'import json, sys; j = json.load(sys.stdin); j["batch"] = int(sys.argv[1]); print(json.dumps(j))' "$batch"
done
# Residual adds fused (the default) or not (mtia-compile --no-fuse-residual,
# run-bench.sh compiles it into $BENCH_DIR): resnet18 at batch 1 and 8,
# alternately, twice each; "fusion_model" tags them.
BENCH_DIR=${MTIA_BENCH_MODEL_DIR:-build/bench-models}
for spec in "resnet18 1 $b1" "resnet18_b8 8 ${MTIA_BENCH_INFER_B8:-20}"; do
  read -r m batch n <<<"$spec"
  [ -f "$BENCH_DIR/${m}_nofuse.mtia" ] || continue
  for round in 1 2; do
    for f in "$DIR/$m.mtia" "$BENCH_DIR/${m}_nofuse.mtia"; do
      build/bin/mtia-run "$f" --bench "$n" --json |
        /usr/bin/python3 -c 'import json, sys; j = json.load(sys.stdin); j["batch"] = int(sys.argv[1]); j["fusion_model"] = sys.argv[2]; print(json.dumps(j))' "$batch" "$(basename "$f" .mtia)"
    done
  done
done
# Meta's workloads (run-bench.sh builds them into $BENCH_DIR with
# make_models.py): DLRM at batch 128 and 512, a transformer encoder layer,
# and mobilenet_v2 at batch 1, on make_models.py's reference inputs (random
# ids over whole tables).
for spec in "dlrm_bench_b128 ${MTIA_BENCH_DLRM:-20}" "dlrm_bench_b512 ${MTIA_BENCH_DLRM:-20}" \
  "encoder_bench ${MTIA_BENCH_ENCODER:-20}" "mobilenet_v2 ${MTIA_BENCH_MOBILENET:-30}"; do
  read -r m n <<<"$spec"
  [ -f "$BENCH_DIR/$m.mtia" ] || continue
  # (a here-string, not <(...): the guest has no /dev/fd)
  mapfile -t args <<<"$(/usr/bin/python3 -c '
import json, sys
e = next(e for e in json.load(open(sys.argv[1] + "/manifest.json")) if e["name"] == sys.argv[2])
print(e["inputs"][0]["shape"][0])
for i in e["inputs"]:
    print("--input"); print(sys.argv[1] + "/" + i["file"])' "$BENCH_DIR" "$m")"
  build/bin/mtia-run "$BENCH_DIR/$m.mtia" "${args[@]:1}" --bench "$n" --json |
    /usr/bin/python3 -c 'import json, sys; j = json.load(sys.stdin); j["batch"] = int(sys.argv[1]); j["bench_model"] = sys.argv[2]; print(json.dumps(j))' "${args[0]}" "$m"
done
# resnet18 by precision (run-bench.sh compiles them into $BENCH_DIR): bf16
# (mtia-compile --dtype bf16) and int8 (the QDQ model PyTorch's quantizer
# made, make_models.py qdq()), batch 1 and 8; "precision_model" tags them.
for spec in "resnet18_bf16 1 $b1" "resnet18_bf16_b8 8 ${MTIA_BENCH_INFER_B8:-20}" "resnet18_int8 1 $b1" \
  "resnet18_int8_b8 8 ${MTIA_BENCH_INFER_B8:-20}"; do
  read -r m batch n <<<"$spec"
  [ -f "$BENCH_DIR/$m.mtia" ] || continue
  build/bin/mtia-run "$BENCH_DIR/$m.mtia" --bench "$n" --json |
    /usr/bin/python3 -c 'import json, sys; j = json.load(sys.stdin); j["batch"] = int(sys.argv[1]); j["precision_model"] = sys.argv[2]; print(json.dumps(j))' "$batch" "$m"
done
# The Python overhead of mtia.torch.compile'd resnet18 against the C++ run of
# the same image in this VM run ({"python_p50_ms", "cxx_p50_ms", "ratio"}).
PYTHONPATH=build/python /usr/bin/python3 tests/bench/py_overhead.py "$b1" 2>/dev/null | grep '^{'
