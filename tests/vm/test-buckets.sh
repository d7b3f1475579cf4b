#!/usr/bin/env bash
# Batch buckets: the DLRM and the transformer encoder compiled ONCE with
# mtia-compile --batch-buckets 1,4,16 and run at batch 1, 3, 4, 7 and 16
# through mtia-run (outputs against PyTorch's, the bucket each batch
# picked) and libmtia (build/bin/model_vm_tests' Buckets tests); batch 17,
# over the largest bucket, refused with a clear error.
#
# On the HOST first (needs torch; tests/run-all.sh does this):
#   tests/vm/test-buckets.sh --prepare
# then INSIDE an mtia-vm guest:
#   tools/mtia-vm run --devices 2 -- tests/vm/test-buckets.sh
# Last line: "N passed, M failed"; exit 1 if any failed.
set -u
cd "$(dirname "$0")/../.." || exit 2
DIR=${MTIA_BUCKET_DIR:-build/models/buckets}
MODELS="dlrm encoder"
BUCKETS=1,4,16
PY=/usr/bin/python3

if [ "${1:-}" = --prepare ]; then
  set -e
  if [ ! -f "$DIR/manifest.json" ] || [ tests/models/make_bucket_models.py -nt "$DIR/manifest.json" ] ||
    [ tests/models/make_models.py -nt "$DIR/manifest.json" ]; then
    $PY tests/models/make_bucket_models.py --out "$DIR"
  fi
  for m in $MODELS; do
    if [ ! -f "$DIR/$m.mtia" ] || [ "$DIR/$m.onnx" -nt "$DIR/$m.mtia" ] ||
      [ build/bin/mtia-compile -nt "$DIR/$m.mtia" ]; then
      build/bin/mtia-compile -q "$DIR/$m.onnx" --batch-buckets "$BUCKETS" -o "$DIR/$m.mtia"
    fi
  done
  exit 0
fi

# shellcheck source=tests/vm/lib.sh
. tests/vm/lib.sh
RUN=build/bin/mtia-run
dev=${MTIA_TEST_DEVICE:-0}
tmp=$(mktemp -d)
on_finish() { rm -rf "$tmp"; }

need_device
need_prepared tests/vm/test-buckets.sh "$DIR/manifest.json" "$DIR/dlrm.mtia"

# The bucket run for batch n: the smallest of 1,4,16 >= n.
want_bucket() { for b in ${BUCKETS//,/ }; do [ "$1" -le "$b" ] && { echo "$b"; return; }; done; }

for m in $MODELS; do
  n_in=$($PY -c 'import json, sys
print([e for e in json.load(open(sys.argv[1])) if e["name"] == sys.argv[2]][0]["inputs"])' "$DIR/manifest.json" "$m")
  out=$("$RUN" -i "$dev" "$DIR/$m.mtia" --bench 1 --warmup 0 2>&1)
  if grep -qF "batch buckets $BUCKETS" <<<"$out"; then
    pass "$m: mtia-run lists the buckets ($(grep -F 'batch buckets' <<<"$out" | sed 's/^ *//'))"
  else
    fail "$m: mtia-run does not list the buckets: $out"
  fi
  for n in 1 3 4 7 16; do
    args=()
    for ((i = 0; i < n_in; i++)); do args+=(--input "$DIR/$m.b$n.input$i.npy"); done
    if ! out=$("$RUN" -i "$dev" "$DIR/$m.mtia" "${args[@]}" --output "$tmp/$m.b$n.npy" 2>&1); then
      fail "$m batch $n: mtia-run failed: $out"
      continue
    fi
    b=$(want_bucket "$n")
    if grep -qF "ran bucket $b for a batch of $n" <<<"$out"; then
      pass "$m batch $n ran bucket $b"
    else
      fail "$m batch $n: expected bucket $b: $out"
    fi
    check "$m batch $n matches PyTorch" $PY -c 'import json, sys
import numpy as np
d, m, n, got = sys.argv[1:5]
tol = [e for e in json.load(open(d + "/manifest.json")) if e["name"] == m][0]["tolerance"]
want = np.load("%s/%s.b%s.output0.npy" % (d, m, n))
g = np.load(got)
err = float(np.abs(g.astype(np.float64) - want).max()) if g.shape == want.shape else float("inf")
print("  %s batch %s: output %s, max abs error %.3g (tolerance %.3g)" % (m, n, "x".join(map(str, g.shape)), err, tol))
sys.exit(0 if err <= tol else 1)' "$DIR" "$m" "$n" "$tmp/$m.b$n.npy"
  done
  # Over the largest bucket: refused, naming the input and the buckets.
  args=()
  for ((i = 0; i < n_in; i++)); do args+=(--input "$DIR/$m.b17.input$i.npy"); done
  out=$("$RUN" -i "$dev" "$DIR/$m.mtia" "${args[@]}" 2>&1 >/dev/null)
  rc=$?
  if [ "$rc" -eq 1 ] && grep -qF "input 0 'input0' has a batch of 17, more than the largest of the model's batch buckets ($BUCKETS): split the request" <<<"$out"; then
    pass "$m batch 17 refused: $(head -n1 <<<"$out" | cut -c1-160)"
  else
    fail "$m batch 17: exit $rc: $out"
  fi
done

# A benchmark at a batch between buckets: run() pads, run_async is skipped.
if out=$("$RUN" -i "$dev" "$DIR/dlrm.mtia" --input "$DIR/dlrm.b7.input0.npy" --input "$DIR/dlrm.b7.input1.npy" \
  --input "$DIR/dlrm.b7.input2.npy" --input "$DIR/dlrm.b7.input3.npy" --bench 3 --warmup 1 --json 2>&1); then
  check "mtia-run --bench --json at batch 7 reports bucket 16" $PY -c 'import json, sys
j = json.loads(sys.argv[1])
sys.exit(0 if j["bucket"] == 16 and j["batch"] == 7 and j["latency_ms"]["p50"] > 0 else 1)' "$out"
else
  fail "mtia-run --bench at batch 7: $out"
fi

# libmtia (C++ and C API): the Buckets tests of the model gtests.
MTIA_BUCKET_DIR=$DIR run_gtest build/bin/model_vm_tests --gtest_filter='Buckets*'
finish
