#!/usr/bin/env bash
# Compiled models on the device: every test model's outputs against
# PyTorch's (mtia-run, .npy in and out), libmtia's model API
# (build/bin/model_vm_tests), two processes at once, corrupt files and bad
# inputs refused with clear errors, the benchmark mode, a clean dmesg.
#
# On the HOST first (needs torch; models go to build/models, which the
# compiler's unit tests read too; tests/run-all.sh does this):
#   tests/vm/test-models.sh --prepare
# then INSIDE an mtia-vm guest:
#   tools/mtia-vm run --device-opts devmem-size=512M -- tests/vm/test-models.sh
# Last line: "N passed, M failed"; exit 1 if any failed.
set -u
cd "$(dirname "$0")/../.." || exit 2
DIR=${MTIA_MODEL_DIR:-build/models}
MODELS="convbnrelu depthwise branches shufflesplit mlp seqlinear twoinout dlrm dlrm_bag dlrm_int8_tables
dlrm_bag_int8_tables dlrm_fp16_tables seghead lngelu encoder encoder_seqfirst encoder_mask selfattn bert bert_mask resnet18 resnet18_b8"
PY=/usr/bin/python3

if [ "${1:-}" = --prepare ]; then
  # ONNX + reference data from PyTorch (tests/models/make_models.py), then
  # mtia-compile; each step only when its inputs are newer than its output.
  # Also the malformed inputs the VM part feeds mtia-run (bad/).
  set -e
  mkdir -p "$DIR/bad"
  # Every model of the script (the compiler's unit tests use them all),
  # compiled here only those this suite runs.
  todo=()
  for m in $(/usr/bin/python3 tests/models/make_models.py --list); do
    if [ ! -f "$DIR/$m.onnx" ] || [ tests/models/make_models.py -nt "$DIR/$m.onnx" ] ||
      ! grep -q "\"$m\"" "$DIR/manifest.json" 2>/dev/null; then
      todo+=("$m")
    fi
  done
  if [ ${#todo[@]} -gt 0 ]; then
    echo "make_models.py: ${todo[*]}"
    $PY tests/models/make_models.py --out "$DIR" --only "${todo[@]}"
  fi
  for m in $MODELS; do
    if [ ! -f "$DIR/$m.mtia" ] || [ "$DIR/$m.onnx" -nt "$DIR/$m.mtia" ] ||
      [ build/bin/mtia-compile -nt "$DIR/$m.mtia" ]; then
      echo "mtia-compile: $m"
      build/bin/mtia-compile -q "$DIR/$m.onnx" -o "$DIR/$m.mtia"
    fi
  done
  $PY - "$DIR" <<'PYEOF'
import random, sys
import numpy as np
d = sys.argv[1]
np.save(d + "/bad/shape.npy", np.zeros((1, 3, 16, 16), np.float32))
np.save(d + "/bad/fortran.npy", np.asfortranarray(np.zeros((2, 3, 16, 16), np.float32)))
np.save(d + "/bad/f64.npy", np.zeros((2, 3, 16, 16), np.float64))
# dlrm's first ids input (table of 1000 rows): one id past the table, and int32 ids.
ids = np.load(d + "/dlrm.input1.npy")
oob = ids.copy()
oob[3, 2] = 1000
np.save(d + "/bad/ids_oob.npy", oob)
np.save(d + "/bad/ids_i32.npy", ids.astype(np.int32))
# dlrm_bag's mean table (3000 rows, 1-D ids with offsets): one id past it.
ids = np.load(d + "/dlrm_bag.input3.npy")
ids[5] = 3000
np.save(d + "/bad/bag_ids_oob.npy", ids)
b = bytearray(open(d + "/convbnrelu.mtia", "rb").read())
random.seed(5)
for i in random.sample(range(8, len(b)), 64):
    b[i] ^= 0xff
open(d + "/bad/flip.mtia", "wb").write(b)
PYEOF
  exit 0
fi

# shellcheck source=tests/vm/lib.sh
. tests/vm/lib.sh
RUN=build/bin/mtia-run
dev=${MTIA_TEST_DEVICE:-0}
tmp=$(mktemp -d)
on_finish() { rm -rf "$tmp"; }

need_device
need_prepared tests/vm/test-models.sh "$DIR/manifest.json" "$DIR/bad/flip.mtia"
dmesg_mark=$(dmesg | wc -l)

# Each model's reference input files and output count, from the manifest
# (here-strings: the guest has no /dev/fd for process substitution).
declare -A inputs noutputs
while read -r m n files; do
  inputs[$m]=$files
  noutputs[$m]=$n
done <<<"$($PY -c 'import json, sys
for e in json.load(open(sys.argv[1])):
    print(e["name"], len(e["outputs"]), " ".join(i["file"] for i in e["inputs"]))' "$DIR/manifest.json")"

# run_model NAME OUTPREFIX [mtia-run args]: runs NAME on its reference
# input, writing OUTPREFIX.out<i>.npy.
run_model() {
  local m=$1 pre=$2 args=() f i
  shift 2
  for f in ${inputs[$m]}; do args+=(--input "$DIR/$f"); done
  for ((i = 0; i < ${noutputs[$m]}; i++)); do args+=(--output "$pre.out$i.npy"); done
  "$RUN" "$DIR/$m.mtia" -i "$dev" "${args[@]}" "$@"
}
# compare "WHAT NAME OUTPREFIX"...: one check per argument: the outputs
# against PyTorch's, within the manifest's tolerance (max abs error); for a
# model whose tables are shipped in int8 or float16, also against PyTorch's
# on the tables' shipped values, within shipped_tolerance.
compare() {
  local ok what line
  while IFS='|' read -r ok what line; do
    echo "$line"
    if [ "$ok" = ok ]; then pass "$what"; else fail "$what"; fi
  done <<<"$($PY -c 'import json, sys
import numpy as np
d = sys.argv[1]
man = {x["name"]: x for x in json.load(open(d + "/manifest.json"))}
for arg in sys.argv[2:]:
    what, m, pre = arg.rsplit(" ", 2)
    e, ok, msg = man[m], True, []
    refs = [("outputs", "", e["tolerance"])]
    if "shipped_outputs" in e:
        refs.append(("shipped_outputs", " on its shipped tables", e["shipped_tolerance"]))
    for key, label, tol in refs:
        for i, o in enumerate(e[key]):
            want = np.load(d + "/" + o["file"])
            try:
                got = np.load("%s.out%d.npy" % (pre, i))
                err = float(np.abs(got.astype(np.float64) - want).max()) if got.shape == want.shape else float("inf")
            except OSError:
                err = float("inf")
            msg.append("output %d%s: max abs error %.3g (tolerance %g)" % (i, label, err, tol))
            ok = ok and err <= tol
    print("%s|%s matches PyTorch|  %s: %s" % ("ok" if ok else "bad", what, m, ", ".join(msg)))' "$DIR" "$@")"
}

run_gtest build/bin/model_vm_tests

cmp=()
for m in $MODELS; do
  if run_model "$m" "$tmp/$m" >"$tmp/$m.log" 2>&1; then
    cmp+=("$m: mtia-run $m $tmp/$m")
  else
    cat "$tmp/$m.log"
    fail "$m: mtia-run failed"
  fi
done

# Two processes running models at once.
run_model resnet18 "$tmp/p1" >"$tmp/p1.log" 2>&1 &
p1=$!
for _ in 1 2 3 4 5; do run_model branches "$tmp/p2" >"$tmp/p2.log" 2>&1 || break; done
p2=$?
wait "$p1"
p1=$?
for r in "resnet18 p1 $p1" "branches p2 $p2"; do
  # shellcheck disable=SC2086  # split "name prefix status"
  set -- $r
  if [ "$3" -eq 0 ]; then
    cmp+=("two processes at once: $1 $1 $tmp/$2")
  else
    cat "$tmp/$2.log"
    fail "two processes at once: $1: mtia-run failed"
  fi
done

# The benchmark mode: numbers, and its outputs still right.
if run_model convbnrelu "$tmp/bench" --bench 5 --batch-requests 2 --json >"$tmp/bench.json" 2>"$tmp/bench.err"; then
  check "mtia-run --bench --json gives positive numbers" $PY -c 'import json, sys
j = json.load(open(sys.argv[1]))
print("  p50 %.3f ms, %.1f inferences/s, device %.3f ms" % (j["latency_ms"]["p50"], j["throughput_ips"], j["device_ms_per_inference"]))
sys.exit(0 if j["latency_ms"]["p50"] > 0 and j["throughput_ips"] > 0 and j["device_ms_per_inference"] > 0 else 1)' "$tmp/bench.json"
  cmp+=("mtia-run --bench output convbnrelu $tmp/bench")
else
  cat "$tmp/bench.err"
  fail "mtia-run --bench failed"
fi
compare "${cmp[@]}"

# Refused with a clear error (exit 1, the reason on stderr).
refused() { # description expected-stderr-text mtia-run-args...
  local what=$1 want=$2 out rc
  shift 2
  out=$("$RUN" -i "$dev" "$@" 2>&1 >/dev/null)
  rc=$?
  if [ "$rc" -eq 1 ] && grep -qF -- "$want" <<<"$out"; then
    pass "$what: $(head -n1 <<<"$out" | cut -c1-150)"
  else
    fail "$what: exit $rc, stderr: $out"
  fi
}
in0="$DIR/${inputs[convbnrelu]}"
head -c 4000 "$DIR/resnet18.mtia" >"$tmp/trunc.mtia"
refused "truncated model" "MTIA_ERROR_INVALID_MODEL: invalid model: the file is corrupt or truncated" \
  "$tmp/trunc.mtia" --input "$DIR/${inputs[resnet18]}"
cp "$DIR/convbnrelu.mtia" "$tmp/ident.mtia"
printf 'ONNX' | dd of="$tmp/ident.mtia" bs=1 seek=4 conv=notrunc status=none
refused "wrong file identifier" "not an mtia model: file identifier 'ONNX'" "$tmp/ident.mtia" --input "$in0"
refused "64 flipped bytes" "MTIA_ERROR_INVALID_MODEL" "$DIR/bad/flip.mtia" --input "$in0"
refused "missing model file" "cannot read model" "$tmp/none.mtia" --input "$in0"
refused "input of the wrong shape" "shape 1x3x16x16, but model input 0 'input0' is 2x3x16x16" \
  "$DIR/convbnrelu.mtia" --input "$DIR/bad/shape.npy"
refused "Fortran-order input" "Fortran-order arrays are not supported" "$DIR/convbnrelu.mtia" \
  --input "$DIR/bad/fortran.npy"
refused "float64 input" "dtype '<f8' is not supported" "$DIR/convbnrelu.mtia" --input "$DIR/bad/f64.npy"
refused "too few inputs" "the model takes 2 input(s), 1 --input given" "$DIR/twoinout.mtia" --input "$in0"
refused "wrong output count" "the model has 1 output(s), 2 --output given" "$DIR/convbnrelu.mtia" --input "$in0" \
  --output "$tmp/a.npy" --output "$tmp/b.npy"
refused "bad --bench" "give a number of inferences" "$DIR/convbnrelu.mtia" --bench x
dlrm_in() { # the dlrm inputs, with input 1 replaced by $1
  echo --input "$DIR/dlrm.input0.npy" --input "$1" --input "$DIR/dlrm.input2.npy" --input "$DIR/dlrm.input3.npy"
}
# shellcheck disable=SC2046  # word-split the --input list
refused "an id outside its table" \
  "input 1 'input1' holds 1000, outside [0, 1000) (table 0)" \
  "$DIR/dlrm.mtia" $(dlrm_in "$DIR/bad/ids_oob.npy")
# shellcheck disable=SC2046
refused "an id outside its int8 (8-bit rowwise) table" \
  "input 1 'input1' holds 1000, outside [0, 1000) (table 0)" \
  "$DIR/dlrm_int8_tables.mtia" $(dlrm_in "$DIR/bad/ids_oob.npy")
bag_in() { # the dlrm_bag inputs, with input 3 replaced by $1
  for i in 0 1 2; do echo --input "$DIR/dlrm_bag.input$i.npy"; done
  echo --input "$1"
  for i in 4 5 6 7 8; do echo --input "$DIR/dlrm_bag.input$i.npy"; done
}
# shellcheck disable=SC2046
refused "an id outside its nn.EmbeddingBag table" \
  "input 3 'input3' holds 3000, outside [0, 3000) (table 0)" \
  "$DIR/dlrm_bag.mtia" $(bag_in "$DIR/bad/bag_ids_oob.npy")
# shellcheck disable=SC2046
refused "int32 ids for an int64 input" "dtype int32, but model input 1 'input1' is int64" \
  "$DIR/dlrm.mtia" $(dlrm_in "$DIR/bad/ids_i32.npy")

bad=$(dmesg | tail -n +$((dmesg_mark + 1)) |
  grep -E 'WARNING:|BUG:|Oops|Call Trace:|general protection|refcount_t' || true)
check "dmesg has no warning or oops" [ -z "$bad" ]
[ -n "$bad" ] && echo "$bad"

finish
