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
dmesg_mark=$(dmesg | wc -l)

need_device
need_prepared tests/vm/test-accuracy.sh "$DIR/reference.json" "$DIR/fp32.mtia"

# One Python process does the work (importing NumPy and mtia takes seconds
# under TCG). It prints PyTorch's side from --prepare:
#   reference SAMPLES CLASSES FLOOR% PYTORCH_FP32_CORRECT FAKEQUANT_CORRECT TRAIN_ACCURACY%
# then, per model given (fp32 first), after running the test set through
# it batch by batch (libmtia's Python bindings):
#   NAME ok CORRECT AGREE_PT AGREE_FQ AGREE_DEV INT8_OPS MATMULS [CALIBRATION]
# the samples it classifies right; how many of its classes are PyTorch
# float32's, its fake-quant net's and the device float32 model's; the
# compile summary's int8 CONV/GEMMs, the float32 model's CONV/GEMMs (fused
# activations or not) and for --quantize the compiler's calibration report;
# or "NAME error MESSAGE". argmax in plain Python: the guest's TCG has
# crashed in NumPy's float32 kernels.
classify() {
  env PYTHONPATH=build/python $PY -c 'import json, sys
import numpy as np
import mtia
d, dev = sys.argv[1], mtia.Device(int(sys.argv[2]))
r = json.load(open(d + "/reference.json"))
print("reference", r["test_samples"], r["classes"], r["min_fp32_accuracy"], r["fp32_correct"], r["fakequant_correct"],
      r["train_accuracy"], flush=True)
labels = np.load(d + "/labels.npy").tolist()
torch32 = np.load(d + "/fp32_predictions.npy").tolist()
fq = np.load(d + "/fakequant_predictions.npy").tolist()
batches = [np.load("%s/test.%03d.npy" % (d, k)) for k in range(r["test_batches"])]
same = lambda a, b: sum(x == y for x, y in zip(a, b))
def matmuls(s):
    return sum(v for k, v in s["device_op_kinds"].items() if k.split("+")[0] in ("Conv", "Gemm"))
f32 = json.load(open(d + "/fp32.summary.json"))
dev32 = None
for name in sys.argv[3:]:
    try:
        m = mtia.Model(dev, "%s/%s.mtia" % (d, name))
        pred = []
        for x in batches:
            (y,) = m.run([x])
            pred += [max(range(len(row)), key=row.__getitem__) for row in y.tolist()]
        if len(pred) != len(labels):
            raise RuntimeError("%d predictions for %d labels" % (len(pred), len(labels)))
        s = json.load(open("%s/%s.summary.json" % (d, name)))
    except Exception as e:
        print(name, "error", str(e).replace("\n", " "), flush=True)
        continue
    if name == "fp32":
        dev32 = pred
    c = s.get("calibration") or {}
    cal = ["%s calibration, %d runs, %d activations; output %s against float32 on them: max abs error %.4g, "
           "top-1 agreement %s" % (c["method"], c["runs"], c["tensors"], o["name"], o["max_abs_error"],
                                   o["top1_agreement"]) for o in c.get("outputs", [])]
    print(name, "ok", same(pred, labels), same(pred, torch32), same(pred, fq), same(pred, dev32) if dev32 else -1,
          s["passes"].get("int8 ops", 0), matmuls(f32), "; ".join(cal), flush=True)' "$DIR" "$dev" "$@"
}

models=()
for m in fp32 bf16 int8_qdq $PTQ_MODELS; do
  if [ -f "$DIR/$m.mtia" ]; then
    models+=("$m")
  elif [[ $m == int8_ptq* ]] && ! has_quantize; then
    fail "$m: mtia-compile has no --quantize"
  elif [ -f "$DIR/$m.error" ]; then
    fail "$m: mtia-compile ${ARGS[$m]} failed: $(cat "$DIR/$m.error")"
  else
    fail "no $DIR/$m.mtia: run tests/vm/test-accuracy.sh --prepare on the host"
  fi
done
out=$(classify "${models[@]}" 2>&1)
read -r what n classes floor pt_fp32 pt_fq train_acc <<<"$(grep '^reference ' <<<"$out")"
if [ "${what:-}" != reference ]; then
  fail "reading the reference or classifying failed: $out"
  finish
fi
# pct CORRECT: as a percentage of the test set.
pct() { awk -v c="$1" -v n="$n" 'BEGIN { printf "%.2f%%", 100 * c / n }'; }
# within POINTS A B: |A - B| correct samples is at most POINTS % of the set.
within() { awk -v p="$1" -v a="$2" -v b="$3" -v n="$n" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d * 100 <= p * n) }'; }
all_of() { [ "$2" -gt 0 ] && [ "$1" -eq "$2" ]; }
echo "  test set: $n samples, $classes classes; PyTorch: float32 $(pct "$pt_fp32"), fake-quant (FX)" \
  "$(pct "$pt_fq"), float32 on its training set $train_acc%"

declare -A correct
for m in "${models[@]}"; do
  line=$(grep "^$m " <<<"$out")
  read -r _ status c agree_pt agree_fq agree_dev k mm cal <<<"$line"
  if [ "$status" != ok ]; then
    fail "$m: classifying the test set failed: ${line:-$out}"
    continue
  fi
  correct[$m]=$c
  line="$m on the device: accuracy $(pct "$c") ($c of $n); of its classes, $(pct "$agree_pt") PyTorch float32's"
  [ "$m" = fp32 ] || line+=", $(pct "$agree_dev") the device float32's"
  [ "$m" != int8_qdq ] || line+=", $(pct "$agree_fq") PyTorch fake-quant's"
  echo "  $line"
  [ -z "$cal" ] || echo "  mtia-compile: $cal"
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
    if [ "$m" = int8_qdq ]; then
      check "$m: every conv and GEMM int8 ($k of $mm)" all_of "$k" "$mm"
    else
      check "$m: int8 convs/GEMMs ($k of $mm)" [ "$k" -gt 0 ]
    fi
    ;;
  esac
  bench=$("$RUN" -i "$dev" "$DIR/$m.mtia" --bench 1 --warmup 0 2>&1)
  check "$m: mtia-run --bench reports precision $want" grep -qF "precision: $want (inputs/outputs f32)" <<<"$bench"
done

bad=$(dmesg | tail -n +$((dmesg_mark + 1)) |
  grep -E 'WARNING:|BUG:|Oops|Call Trace:|general protection|refcount_t' || true)
check "dmesg has no warning or oops" [ -z "$bad" ]
finish
