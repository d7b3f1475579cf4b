# SPDX-License-Identifier: MIT
# Quantized (int8/uint8) tensors from Python: mtia.quantize/dequantize
# (include/mtia/mtia_quant.h's rule: half to even, saturating, NaN to the
# zero point), which need no device; and the hand-built quantized model of
# tests/models/quant_models.h (written by build/bin/make_half_models: x
# uint8 (scale 0.5, zero point 128), y = per-channel int8 Gemm(x) in
# float32, z = Relu(x) as int8 (scale 0.25, zero point -10)): its tensor
# info, raw and convert=True inputs (float16 ones too), and the refusals.
# The model tests need a device (tests/vm/test-python.sh);
# test_quantized_model_runs needs the device's int8 kernels too.
import math
import subprocess

import numpy as np
import pytest

import mtia
from conftest import TOP

X = np.array([[0.0, 1.25, -3.0, 63.5, -64.0], [0.75, -0.25, 100.0, -100.0, 2.5]], np.float32)
W = [[1, -2, 3], [4, -5, 6], [7, 8, -9], [10, 11, 12], [-13, 14, 15]]
W_SCALES = [0.5, 0.25, 0.125]
BIAS = [1.0, -1.0, 0.0]


def f32(v):
    """v rounded to float32, as a Python float."""
    return float(np.float32(v))


def test_quantize_rounds_half_to_even_and_saturates():
    q = mtia.quantize(np.array([0.5, 1.5, 2.5, -0.5, -1.5, 1e9, -1e9, np.inf, -np.inf, np.nan], np.float32), 1.0, 0)
    assert q.dtype == np.int8
    assert q.tolist() == [0, 2, 2, 0, -2, 127, -128, 127, -128, 0]
    u = mtia.quantize(X, 0.5, 128, np.uint8)
    assert u.dtype == np.uint8 and u.shape == X.shape
    assert u.tolist() == [[128, 130, 122, 255, 0], [130, 128, 255, 0, 133]]
    assert mtia.quantize(np.array([np.nan], np.float32), 0.1, 77, "uint8").tolist() == [77]
    # float16 and float64 values are taken as float32.
    assert mtia.quantize(np.array([1.0, -2.0], np.float16), 0.25, 10, np.uint8).tolist() == [14, 2]


def test_dequantize_is_one_multiply():
    q = np.array([-128, 0, 127, 3], np.int8)
    x = mtia.dequantize(q, 0.5, 3)
    assert x.dtype == np.float32 and x.tolist() == [-65.5, -1.5, 62.0, 0.0]
    u = np.arange(256, dtype=np.uint8).reshape(16, 16)
    r = mtia.dequantize(u, 0.0173, 77)
    assert r.shape == (16, 16)
    assert [f32(v) for v in r.ravel().tolist()] == [f32((i - 77) * f32(0.0173)) for i in range(256)]
    assert np.array_equal(mtia.quantize(r, 0.0173, 77, np.uint8), u)  # round trip


def test_quantize_refusals():
    with pytest.raises(ValueError, match=r"quantize: dtype float32 \(int8 or uint8\)"):
        mtia.quantize(X, 1.0, 0, np.float32)
    with pytest.raises(ValueError, match=r"dequantize: dtype int32 \(int8 or uint8\)"):
        mtia.dequantize(np.zeros(3, np.int32), 1.0, 0)
    with pytest.raises(mtia.Error, match=r"scale 0, zero point 0 \(a i8 tensor needs a finite scale > 0"):
        mtia.quantize(X, 0.0, 0)
    with pytest.raises(mtia.Error, match=r"zero point in \[0, 255\]"):
        mtia.dequantize(np.zeros(3, np.uint8), 1.0, 256)
    with pytest.raises(mtia.Error, match="scale nan"):
        mtia.quantize(X, math.nan, 0)


@pytest.fixture(scope="module")
def quant_model_path(tmp_path_factory):
    d = tmp_path_factory.mktemp("quant")
    subprocess.run([TOP + "/build/bin/make_half_models", str(d)], check=True, capture_output=True)
    return str(d / "quant.mtia")


def test_quantized_tensor_info(dev, quant_model_path):
    m = mtia.Model(dev, quant_model_path)
    x = m.inputs[0]
    assert x["dtype"] == np.uint8 and x["model_dtype"] == "u8" and x["bytes"] == 10
    assert x["scale"] == 0.5 and x["zero_point"] == 128
    y, z = m.outputs
    assert y["dtype"] == np.float32 and y["scale"] == 0.0 and y["zero_point"] == 0
    assert z["dtype"] == np.int8 and z["model_dtype"] == "i8" and z["scale"] == 0.25 and z["zero_point"] == -10
    assert m.compute_dtypes == ["f32", "i8", "u8"]


def test_quantized_input_refusals(dev, quant_model_path):
    m = mtia.Model(dev, quant_model_path)
    with pytest.raises(ValueError, match=r"input 0 \('x'\): dtype float32, the model takes uint8, scale 0.5, zero "
                                         r"point 128 \(convert=True quantizes a float array with them\)"):
        m.run([X])
    with pytest.raises(ValueError, match=r"dtype int8, the model takes uint8"):
        m.run([X.astype(np.int8)], convert=True)  # integers never convert


def test_convert_rounds_float_arrays_to_float16_inputs(dev, quant_model_path):
    """convert=True for a float input: float32 -> float16 rounded as NumPy does (no int8 kernel needed)."""
    m = mtia.Model(dev, quant_model_path.replace("quant.mtia", "half_f16.mtia"))
    v = np.array([[1.0, 1.0 + 2**-11, 1.0 + 3 * 2**-11, -2.5, 70000.0]] * 2, np.float32)  # ties, overflow
    y, z = m.run([v], convert=True)
    y16, z16 = m.run([v.astype(np.float16)])
    assert np.array_equal(y, y16) and z.tobytes() == z16.tobytes()
    with pytest.raises(ValueError, match=r"dtype float32, the model takes float16 \(convert=True converts"):
        m.run([v])


def test_quantized_model_runs(dev, quant_model_path):
    """Needs the device's int8 kernels (GEMM's per-channel path, ACT on I8/U8)."""
    m = mtia.Model(dev, quant_model_path)
    xq = mtia.quantize(X, 0.5, 128, np.uint8)
    y, z = m.run([xq])
    y2, z2 = m.run([X], convert=True)  # quantized on the host, the same bytes
    assert np.array_equal(y, y2) and np.array_equal(z, z2)
    # z = Relu(x) requantized: real values of x, max 0, quantized with z's parameters.
    real = [f32((q - 128) * 0.5) for q in xq.ravel().tolist()]
    want_z = mtia.quantize(np.array([max(v, 0.0) for v in real], np.float32), 0.25, -10).reshape(2, 5)
    assert z.dtype == np.int8 and z.tolist() == want_z.tolist()
    # y = acc * (x.scale * w_scale[n]) + bias[n], acc exact in int32.
    want_y = []
    for r in range(2):
        row = [int(q) - 128 for q in xq[r].tolist()]
        for n in range(3):
            acc = sum(row[k] * W[k][n] for k in range(5))
            want_y.append(f32(f32(acc * f32(0.5 * W_SCALES[n])) + BIAS[n]))
    assert y.dtype == np.float32 and [f32(v) for v in y.ravel().tolist()] == want_y
