#!/usr/bin/env bash
# Reduced precision end to end: resnet18 compiled with mtia-compile --dtype
# bf16 and --dtype fp16 (float32 inputs/outputs) run through mtia-run and
# libmtia (Python), each output within 1e-2 x max(1, max|ref|) of the
# float32 model's on the same input; --bench reports the precision; the
# hand-built F16/BF16-input models (tests/models/half_models.h) run from a
# float16 .npy, from float32 with --convert and refuse it without; libmtia's
# HalfIo gtests; the hand-built quantized model (tests/models/
# quant_models.h) from float32 with --convert (quantized), refused without,
# its int8 output written raw and summarised dequantized, --bench's int8
# precision (these runs need the device's int8 kernels); a clean dmesg.
#
# On the HOST first (after tests/vm/test-models.sh --prepare, which makes
# build/models/resnet18.onnx; tests/run-all.sh does both):
#   tests/vm/test-precision.sh --prepare
# then INSIDE an mtia-vm guest:
#   tools/mtia-vm run --devices 2 -- tests/vm/test-precision.sh
# Last line: "N passed, M failed"; exit 1 if any failed.
set -u
cd "$(dirname "$0")/../.." || exit 2
MODELS=${MTIA_MODEL_DIR:-build/models}
DIR=$MODELS/precision
PY=/usr/bin/python3

if [ "${1:-}" = --prepare ]; then
  set -e
  mkdir -p "$DIR"
  for d in bf16 fp16; do
    if [ ! -f "$DIR/resnet18_$d.mtia" ] || [ "$MODELS/resnet18.onnx" -nt "$DIR/resnet18_$d.mtia" ] ||
      [ build/bin/mtia-compile -nt "$DIR/resnet18_$d.mtia" ]; then
      echo "mtia-compile --dtype $d: resnet18"
      build/bin/mtia-compile -q --dtype "$d" "$MODELS/resnet18.onnx" -o "$DIR/resnet18_$d.mtia"
    fi
  done
  build/bin/make_half_models "$DIR" >/dev/null
  # Inputs of the half models (2x5): values that round differently in f16
  # and bf16, negatives for the Relu; and int32 data no --convert takes.
  $PY - "$DIR" <<'PYEOF'
import sys
import numpy as np
d = sys.argv[1]
x = np.array([[1.0, -2.5, 0.1, 3.14159, -0.001], [100.0, 0.0, -7.0, 1.0 + 2**-9, 65000.0]], np.float32)
np.save(d + "/x_f32.npy", x)
np.save(d + "/x_f16.npy", x.astype(np.float16))
np.save(d + "/x_i32.npy", np.arange(10, dtype=np.int32).reshape(2, 5))
PYEOF
  exit 0
fi

# shellcheck source=tests/vm/lib.sh
. tests/vm/lib.sh
RUN=build/bin/mtia-run
dev=${MTIA_TEST_DEVICE:-0}
tmp=$(mktemp -d)
on_finish() { rm -rf "$tmp"; }
dmesg_mark=$(dmesg | wc -l)

need_device
need_prepared tests/vm/test-precision.sh "$DIR/resnet18_bf16.mtia" "$DIR/half_f16.mtia"

# ---- resnet18 in bf16 and fp16 against the float32 model ---------------------
in0=$MODELS/resnet18.input0.npy
if ! out=$("$RUN" -i "$dev" "$MODELS/resnet18.mtia" --input "$in0" --output "$tmp/ref.npy" 2>&1); then
  fail "resnet18 (f32): mtia-run failed: $out"
fi
# close REF GOT WHAT: max abs error <= 1e-2 x max(1, max|ref|).
close() {
  $PY -c 'import sys
import numpy as np
ref, got = np.load(sys.argv[1]), np.load(sys.argv[2])
ok = ref.shape == got.shape and got.dtype == np.float32
err = float(np.abs(got.astype(np.float64) - ref).max()) if ok else float("inf")
tol = 1e-2 * max(1.0, float(np.abs(ref).max()))
print("  %s: max abs error %.4g (tolerance %.4g)" % (sys.argv[3], err, tol))
sys.exit(0 if err <= tol else 1)' "$@"
}
for d in bf16 fp16; do
  m=$DIR/resnet18_$d.mtia
  if out=$("$RUN" -i "$dev" "$m" --input "$in0" --output "$tmp/$d.npy" 2>&1); then
    check "resnet18 --dtype $d (mtia-run) within 1e-2 of f32" close "$tmp/ref.npy" "$tmp/$d.npy" "mtia-run $d"
  else
    fail "resnet18 --dtype $d: mtia-run failed: $out"
  fi
  check "resnet18 --dtype $d (libmtia, Python) within 1e-2 of f32" env PYTHONPATH=build/python $PY -c 'import sys
import numpy as np
import mtia
dev = mtia.Device(int(sys.argv[4]))
m = mtia.Model(dev, sys.argv[1])
(y,) = m.run([np.load(sys.argv[2])])
ref = np.load(sys.argv[3])
want = "f16" if sys.argv[5] == "fp16" else "bf16"
err = float(np.abs(y.astype(np.float64) - ref).max())
tol = 1e-2 * max(1.0, float(np.abs(ref).max()))
print("  libmtia %s: compute_dtypes %s, max abs error %.4g (tolerance %.4g)" % (sys.argv[5], m.compute_dtypes, err, tol))
sys.exit(0 if want in m.compute_dtypes and y.dtype == np.float32 and err <= tol else 1)' \
    "$m" "$in0" "$tmp/ref.npy" "$dev" "$d"
  want=$([ "$d" = fp16 ] && echo f16 || echo bf16)
  out=$("$RUN" -i "$dev" "$m" --bench 2 --warmup 0 2>&1)
  if grep -qF "precision: $want (inputs/outputs f32)" <<<"$out"; then
    pass "resnet18 --dtype $d: --bench reports '$(grep -F precision: <<<"$out" | sed 's/^ *//')'"
  else
    fail "resnet18 --dtype $d: no 'precision: $want (inputs/outputs f32)' in: $out"
  fi
  out=$("$RUN" -i "$dev" "$m" --bench 2 --warmup 0 --json 2>&1)
  check "resnet18 --dtype $d: --bench --json precision $want" $PY -c 'import json, sys
j = json.loads(sys.argv[1])
sys.exit(0 if j["precision"] == sys.argv[2] and j["input_dtypes"] == "f32" and j["output_dtypes"] == "f32" else 1)' \
    "$out" "$want"
done
out=$("$RUN" -i "$dev" "$MODELS/resnet18.mtia" --bench 2 --warmup 0 2>&1)
check "resnet18 (f32): --bench reports precision f32" grep -qF "precision: f32 (inputs/outputs f32)" <<<"$out"

# ---- hand-built F16/BF16-input models through mtia-run ----------------------
refused() { # description expected-stderr-text mtia-run-args...
  local what=$1 want=$2 out rc
  shift 2
  out=$("$RUN" -i "$dev" "$@" 2>&1 >/dev/null)
  rc=$?
  if [ "$rc" -eq 1 ] && grep -qF -- "$want" <<<"$out"; then
    pass "$what: $(head -n1 <<<"$out" | cut -c1-170)"
  else
    fail "$what: exit $rc, stderr: $out"
  fi
}
# half_outputs MODEL X.npy HALF: y (float32) is x as the model's 16-bit type
# holds it, z = relu of that, float16 for f16, float32 (widened) for bf16.
half_outputs() {
  $PY -c 'import sys
import numpy as np
x, y, z, half = np.load(sys.argv[1]), np.load(sys.argv[2]), np.load(sys.argv[3]), sys.argv[4]
if half == "f16":
    h = x.astype(np.float16).astype(np.float32)
    zdt = np.float16
else:  # bfloat16: float32 rounded to nearest even in the top 16 bits
    u = x.astype(np.float32).view(np.uint32).astype(np.uint64)
    h = (((u + 0x7FFF + ((u >> 16) & 1)) >> 16) << 16).astype(np.uint32).view(np.float32)
    zdt = np.float32
# Relu in plain Python: numpy.maximum on float32 crashes under the TCG guest.
relu = [v if v > 0 else 0.0 for v in h.ravel().tolist()]
ok = y.dtype == np.float32 and z.dtype == zdt and y.ravel().tolist() == h.ravel().tolist() and \
    z.astype(np.float32).ravel().tolist() == relu
print("  %s: y %s %s, z %s %s" % (half, y.dtype, y.ravel()[:4], z.dtype, z.ravel()[:4]))
sys.exit(0 if ok else 1)' "$@"
}
if out=$("$RUN" -i "$dev" "$DIR/half_f16.mtia" --input "$DIR/x_f16.npy" --output "$tmp/y.npy" --output "$tmp/z.npy" 2>&1); then
  check "half_f16 from a float16 .npy: float16 and float32 outputs exact" \
    half_outputs "$DIR/x_f16.npy" "$tmp/y.npy" "$tmp/z.npy" f16
else
  fail "half_f16 from a float16 .npy: $out"
fi
refused "half_f16: float32 .npy without --convert" \
  "x_f32.npy: dtype float32, but model input 0 'x' is float16 (give --convert to convert float32 to float16" \
  "$DIR/half_f16.mtia" --input "$DIR/x_f32.npy"
if out=$("$RUN" -i "$dev" "$DIR/half_f16.mtia" --input "$DIR/x_f32.npy" --convert --output "$tmp/y.npy" \
  --output "$tmp/z.npy" 2>&1); then
  check "half_f16 from a float32 .npy with --convert (rounded to nearest even)" \
    half_outputs "$DIR/x_f32.npy" "$tmp/y.npy" "$tmp/z.npy" f16
else
  fail "half_f16 --convert: $out"
fi
refused "half_bf16: float32 .npy without --convert" \
  "dtype float32, but model input 0 'x' is bfloat16 (NumPy has no bfloat16: give a float32 .npy with --convert" \
  "$DIR/half_bf16.mtia" --input "$DIR/x_f32.npy"
if out=$("$RUN" -i "$dev" "$DIR/half_bf16.mtia" --input "$DIR/x_f32.npy" --convert --output "$tmp/y.npy" \
  --output "$tmp/z.npy" 2>&1); then
  check "half_bf16 from a float32 .npy with --convert; bf16 output written as float32" \
    half_outputs "$DIR/x_f32.npy" "$tmp/y.npy" "$tmp/z.npy" bf16
else
  fail "half_bf16 --convert: $out"
fi
refused "half_f16: int32 .npy with --convert (never int <-> float)" \
  "dtype int32, but model input 0 'x' is float16 (--convert converts only float arrays" \
  "$DIR/half_f16.mtia" --input "$DIR/x_i32.npy" --convert
out=$("$RUN" -i "$dev" "$DIR/half_f16.mtia" --bench 2 --warmup 0 2>&1)
check "half_f16 --bench (random float16 inputs) reports its precision" \
  grep -qF "precision: f16 (inputs f16, outputs f32,f16)" <<<"$out"

# ---- the hand-built quantized model through mtia-run -------------------------
# x uint8 (scale 0.5, zero point 128), y = per-channel int8 Gemm(x) in f32,
# z = Relu(x) as int8 (scale 0.25, zero point -10).
refused "quant: float32 .npy without --convert" \
  "is uint8, scale 0.5, zero point 128 (give --convert to quantize float32 with its scale and zero point)" \
  "$DIR/quant.mtia" --input "$DIR/x_f32.npy"
refused "quant: int32 .npy with --convert (never int <-> float)" "--convert converts only float arrays" \
  "$DIR/quant.mtia" --input "$DIR/x_i32.npy" --convert
# quant_outputs X.npy Y.npy Z.npy: the outputs of x quantized, against the
# int8 rule computed here in plain Python (mtia.quantize for the rounding).
quant_outputs() {
  env PYTHONPATH=build/python $PY -c 'import sys
import numpy as np
import mtia
x, y, z = np.load(sys.argv[1]), np.load(sys.argv[2]), np.load(sys.argv[3])
xq = mtia.quantize(x, 0.5, 128, np.uint8)
real = [float(np.float32((q - 128) * 0.5)) for q in xq.ravel().tolist()]
want_z = mtia.quantize(np.array([max(v, 0.0) for v in real], np.float32), 0.25, -10).tolist()
W = [[1, -2, 3], [4, -5, 6], [7, 8, -9], [10, 11, 12], [-13, 14, 15]]
f32 = lambda v: float(np.float32(v))
want_y = [f32(f32(sum((int(xq[r][k]) - 128) * W[k][n] for k in range(5)) * f32(0.5 * s)) + b)
          for r in range(2) for n, (s, b) in enumerate(zip([0.5, 0.25, 0.125], [1.0, -1.0, 0.0]))]
ok = z.dtype == np.int8 and z.ravel().tolist() == want_z and y.dtype == np.float32
ok = ok and [f32(v) for v in y.ravel().tolist()] == want_y
print("  quant: y %s, z %s" % (y.ravel().tolist()[:3], z.ravel().tolist()[:5]))
sys.exit(0 if ok else 1)' "$@"
}
if out=$("$RUN" -i "$dev" "$DIR/quant.mtia" --input "$DIR/x_f32.npy" --convert --output "$tmp/y.npy" \
  --output "$tmp/z.npy" 2>&1); then
  check "quant from a float32 .npy with --convert (quantized); int8 output written raw" \
    quant_outputs "$DIR/x_f32.npy" "$tmp/y.npy" "$tmp/z.npy"
  check "quant: the int8 output's summary is dequantized" \
    grep -qF "output 1 'z' 2x5 (int8, scale 0.25, zero point -10, dequantized): min 0 max 34.25" <<<"$out"
else
  fail "quant --convert: $out"
fi
out=$("$RUN" -i "$dev" "$DIR/quant.mtia" --bench 2 --warmup 0 2>&1)
check "quant --bench (random quantized inputs) reports int8" \
  grep -qF "precision: int8 (inputs u8, outputs f32,i8)" <<<"$out"

# ---- libmtia (C++ and C API) on the half and quantized models ----------------
run_gtest build/bin/model_vm_tests --gtest_filter='HalfIo*:QuantIo*'

bad=$(dmesg | tail -n +$((dmesg_mark + 1)) |
  grep -E 'WARNING:|BUG:|Oops|Call Trace:|general protection|refcount_t' || true)
check "dmesg has no warning or oops" [ -z "$bad" ]
finish
