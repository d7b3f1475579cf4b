#!/usr/bin/env bash
# Accuracy that means something: a small CNN trained at test time on a
# synthetic 10-class image set (tests/models/make_accuracy_models.py:
# generated there, nothing downloaded) and compiled in float32, with
# --dtype bf16, as PyTorch's FX-quantized QDQ model (int8) and by our own
# post-training quantization (mtia-compile --quantize int8 --calibrate,
# each calibration method). On the device, each classifies the 2000-sample
# test set: float32 within 0.2 point of PyTorch's accuracy and above the
# script's floor (chance is 10%); bf16 and every int8 model within 1 point
# of the device's float32 accuracy, the QDQ model also of PyTorch's own
# fake-quant model's; the int8 models run int8 convolutions and GEMMs
# (the compiler's "int8 ops", mtia-run --bench's precision); a clean dmesg.
#
# On the HOST first (tests/run-all.sh does it):
#   tests/vm/test-accuracy.sh --prepare
# then INSIDE an mtia-vm guest:
#   tools/mtia-vm run --devices 1 -- tests/vm/test-accuracy.sh
# Last line: "N passed, M failed"; exit 1 if any failed.
set -u
cd "$(dirname "$0")/../.." || exit 2
MODELS=${MTIA_MODEL_DIR:-build/models}
DIR=$MODELS/accuracy
PY=/usr/bin/python3
COMPILE=build/bin/mtia-compile
# name: mtia-compile arguments (the ONNX file last).
PTQ_MODELS="int8_ptq int8_ptq_percentile int8_ptq_entropy"
declare -A ARGS=(
  [fp32]="accuracy.onnx"
  [bf16]="--dtype bf16 accuracy.onnx"
  [int8_qdq]="accuracy_qdq.onnx"
  [int8_ptq]="--quantize int8 --calibrate $DIR/calib.npz accuracy.onnx"
  [int8_ptq_percentile]="--quantize int8 --calibrate $DIR/calib.npz --calibration-method percentile accuracy.onnx"
  [int8_ptq_entropy]="--quantize int8 --calibrate $DIR/calib.npz --calibration-method entropy accuracy.onnx"
)
has_quantize() { "$COMPILE" --help 2>/dev/null | grep -q -- --quantize; }

if [ "${1:-}" = --prepare ]; then
  # Train and export (only when the scripts are newer than the result), then
  # compile each model whose ONNX, calibration set or compiler is newer.
  set -e
  mkdir -p "$DIR"
  if [ ! -f "$DIR/reference.json" ] || [ tests/models/make_accuracy_models.py -nt "$DIR/reference.json" ] ||
    [ tests/models/make_models.py -nt "$DIR/reference.json" ]; then
    echo "make_accuracy_models.py: generate the set, train, quantize (FX), export"
    rm -f "$DIR/reference.json"
    $PY tests/models/make_accuracy_models.py --out "$DIR"
  fi
  for m in fp32 bf16 int8_qdq $PTQ_MODELS; do
    read -ra a <<<"${ARGS[$m]}"
    onnx=$DIR/${a[-1]}
    unset 'a[-1]'
    out=$DIR/$m.mtia
    if [[ $m == int8_ptq* ]]; then
      rm -f "$DIR/$m.error"
      if ! has_quantize; then
        rm -f "$out"
        echo "mtia-compile has no --quantize: $m not built (test-accuracy.sh fails on it)"
        continue
      fi
    fi
    if [ ! -f "$out" ] || [ "$onnx" -nt "$out" ] || [ "$COMPILE" -nt "$out" ] ||
      { [[ $m == int8_ptq* ]] && [ "$DIR/calib.npz" -nt "$out" ]; }; then
      echo "mtia-compile ${a[*]}${a[*]:+ }${onnx##*/}: $m"
      if [[ $m == int8_ptq* ]]; then
        # A failing --quantize is the in-VM test's failure, not the prepare's.
        if ! err=$("$COMPILE" -q "${a[@]}" "$onnx" -o "$out" --summary-json "$DIR/$m.summary.json" 2>&1); then
          echo "$err"
          echo "$err" >"$DIR/$m.error"
          rm -f "$out"
        fi
      else
        "$COMPILE" -q "${a[@]}" "$onnx" -o "$out" --summary-json "$DIR/$m.summary.json"
      fi
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
dmesg_mark=$(dmesg | wc -l)

if [ "$ndev" -eq 0 ]; then
  fail "no PCI device $VENDOR:$DEVICE in the VM (run with --devices N)"
  finish
fi
if [ ! -f "$DIR/reference.json" ] || [ ! -f "$DIR/fp32.mtia" ]; then
  fail "no accuracy models in $DIR: run tests/vm/test-accuracy.sh --prepare on the host first"
  finish
fi

# ref KEY: a value of reference.json (PyTorch's side, from --prepare).
ref() { $PY -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$DIR/reference.json" "$1"; }
n=$(ref test_samples)
floor=$(ref min_fp32_accuracy)
pt_fp32=$(ref fp32_correct)
pt_fq=$(ref fakequant_correct)
# pct CORRECT: as a percentage of the test set.
pct() { awk -v c="$1" -v n="$n" 'BEGIN { printf "%.2f%%", 100 * c / n }'; }
# within POINTS A B: |A - B| correct samples is at most POINTS % of the set.
within() { awk -v p="$1" -v a="$2" -v b="$3" -v n="$n" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d * 100 <= p * n) }'; }
echo "  test set: $n samples, $(ref classes) classes; PyTorch: float32 $(pct "$pt_fp32"), fake-quant (FX)" \
  "$(pct "$pt_fq"), float32 on its training set $(ref train_accuracy)%"

# classify NAME: runs the test set through NAME.mtia (libmtia's Python
# bindings, batch by batch), writes its top-1 classes to $tmp/NAME.npy and
# prints "CORRECT AGREE_PYTORCH_FP32 AGREE_FAKEQUANT AGREE_DEVICE_FP32" (the
# number of samples it classifies right, and like PyTorch's float32 net,
# its fake-quant net and the device's float32 model; -1 before that one
# ran). argmax in plain Python: the guest's TCG has crashed in NumPy's
# float32 kernels.
classify() {
  env PYTHONPATH=build/python $PY -c 'import os, sys
import numpy as np
import mtia
d, name, dev, tmp = sys.argv[1:5]
m = mtia.Model(mtia.Device(int(dev)), "%s/%s.mtia" % (d, name))
labels = np.load(d + "/labels.npy").tolist()
pred, k = [], 0
while os.path.exists("%s/test.%03d.npy" % (d, k)):
    (y,) = m.run([np.load("%s/test.%03d.npy" % (d, k))])
    pred += [max(range(len(row)), key=row.__getitem__) for row in y.tolist()]
    k += 1
if len(pred) != len(labels):
    sys.exit("%d predictions for %d labels" % (len(pred), len(labels)))
np.save("%s/%s.npy" % (tmp, name), np.array(pred, np.int64))
same = lambda other: sum(a == b for a, b in zip(pred, other))
dev32 = tmp + "/fp32.npy"
print(sum(p == t for p, t in zip(pred, labels)), same(np.load(d + "/fp32_predictions.npy").tolist()),
      same(np.load(d + "/fakequant_predictions.npy").tolist()),
      same(np.load(dev32).tolist()) if os.path.exists(dev32) else -1)' "$DIR" "$1" "$dev" "$tmp"
}
# int8_ops NAME: the int8 CONV/GEMMs of NAME's compile summary, "of" the
# CONV/GEMMs (activations fused or not) of the float32 model's.
int8_ops() {
  $PY -c 'import json, sys
s, f = (json.load(open(p)) for p in sys.argv[1:3])
print(s["passes"]["int8 ops"], sum(v for k, v in f["device_op_kinds"].items() if k.split("+")[0] in ("Conv", "Gemm")))' \
    "$DIR/$1.summary.json" "$DIR/fp32.summary.json"
}

# calibration NAME: the compiler's own report of --quantize's calibration.
calibration() {
  $PY -c 'import json, sys
c = json.load(open(sys.argv[1])).get("calibration")
for o in (c or {}).get("outputs", []):
    print("  mtia-compile: %s calibration, %d runs, %d activations; output %s against float32 on them: max abs error"
          " %.4g, top-1 agreement %s" % (c["method"], c["runs"], c["tensors"], o["name"], o["max_abs_error"],
                                         o["top1_agreement"]))' "$DIR/$1.summary.json"
}
all_of() { [ "$2" -gt 0 ] && [ "$1" -eq "$2" ]; }

declare -A correct
for m in fp32 bf16 int8_qdq $PTQ_MODELS; do
  if [ ! -f "$DIR/$m.mtia" ]; then
    if [[ $m == int8_ptq* ]] && ! has_quantize; then
      fail "$m: mtia-compile has no --quantize"
    elif [ -f "$DIR/$m.error" ]; then
      fail "$m: mtia-compile ${ARGS[$m]} failed: $(cat "$DIR/$m.error")"
    else
      fail "no $DIR/$m.mtia: run tests/vm/test-accuracy.sh --prepare on the host"
    fi
    continue
  fi
  if ! out=$(classify "$m" 2>&1); then
    fail "$m: classifying the test set failed: $out"
    continue
  fi
  read -r c agree_pt agree_fq agree_dev <<<"$out"
  correct[$m]=$c
  line="$m on the device: accuracy $(pct "$c") ($c of $n); of its classes, $(pct "$agree_pt") PyTorch float32's"
  [ "$m" = fp32 ] || line+=", $(pct "$agree_dev") the device float32's"
  [ "$m" != int8_qdq ] || line+=", $(pct "$agree_fq") PyTorch fake-quant's"
  echo "  $line"
  case $m in
  fp32)
    check "fp32: accuracy $(pct "$c") within 0.2 point of PyTorch's $(pct "$pt_fp32")" within 0.2 "$c" "$pt_fp32"
    check "fp32: accuracy $(pct "$c") clearly above chance (at least $floor%)" \
      awk -v c="$c" -v n="$n" -v f="$floor" 'BEGIN { exit !(100 * c >= f * n) }'
    ;;
  *)
    if [ -n "${correct[fp32]:-}" ]; then
      check "$m: accuracy $(pct "$c") within 1 point of the device's fp32 $(pct "${correct[fp32]}")" \
        within 1 "$c" "${correct[fp32]}"
    else
      fail "$m: no device fp32 accuracy to compare with"
    fi
    ;;
  esac
  [ "$m" != int8_qdq ] ||
    check "int8_qdq: accuracy $(pct "$c") within 1 point of PyTorch's fake-quant model's $(pct "$pt_fq")" \
      within 1 "$c" "$pt_fq"
  # What it computes in: the compiler's count of int8 CONV/GEMMs (all of
  # them for the QDQ model: FX quantizes every conv and linear) and the
  # precision mtia-run --bench reports.
  case $m in
  fp32) want=f32 ;;
  bf16) want=bf16 ;;
  *)
    want=int8
    read -r k mm <<<"$(int8_ops "$m")"
    calibration "$m"
    if [ "$m" = int8_qdq ]; then
      check "$m: every conv and GEMM int8 ($k of $mm)" all_of "$k" "$mm"
    else
      check "$m: int8 convs/GEMMs ($k of $mm)" [ "$k" -gt 0 ]
    fi
    ;;
  esac
  out=$("$RUN" -i "$dev" "$DIR/$m.mtia" --bench 1 --warmup 0 2>&1)
  check "$m: mtia-run --bench reports precision $want" grep -qF "precision: $want (inputs/outputs f32)" <<<"$out"
done

bad=$(dmesg | tail -n +$((dmesg_mark + 1)) |
  grep -E 'WARNING:|BUG:|Oops|Call Trace:|general protection|refcount_t' || true)
check "dmesg has no warning or oops" [ -z "$bad" ]
finish
