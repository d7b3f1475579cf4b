# SPDX-License-Identifier: MIT
# Reduced precision from Python: models with float16 and bfloat16 inputs and
# outputs (tests/models/half_models.h, written by build/bin/make_half_models:
# y = Cast(x) to float32, z = Relu(x) in x's type) through Model.run, with
# bfloat16 as float32 arrays on the Python side; and mtia.torch.compile's
# dtype= ("bf16", "fp16", torch.bfloat16, torch.float16), float32 tensors in
# and out, against eager PyTorch. Run in the VM by tests/vm/test-python.sh.
import subprocess

import numpy as np
import pytest
import torch

import mtia
import mtia.torch as mt
from conftest import TOP

X = np.array([[1.0, -2.5, 0.1, 3.14159, -0.001], [100.0, 0.0, -7.0, 1.0 + 2**-9, 65000.0]], np.float32)


def relu(a):
    """max(a, 0) as float32 values, in plain Python: numpy.maximum on float32
    crashes under the guest's TCG."""
    return [v if v > 0 else 0.0 for v in a.astype(np.float32).ravel().tolist()]


def bf16_round(x):
    """float32 -> the float32 value of its bfloat16 (round to nearest even)."""
    u = x.astype(np.float32).view(np.uint32).astype(np.uint64)
    return (((u + 0x7FFF + ((u >> 16) & 1)) >> 16) << 16).astype(np.uint32).view(np.float32)


@pytest.fixture(scope="module")
def half_models(tmp_path_factory):
    d = tmp_path_factory.mktemp("half")
    subprocess.run([TOP + "/build/bin/make_half_models", str(d)], check=True, capture_output=True)
    return d


def test_float16_tensors(dev, half_models):
    m = mtia.Model(dev, str(half_models / "half_f16.mtia"))
    assert m.inputs[0]["dtype"] == np.float16 and m.inputs[0]["model_dtype"] == "f16"
    assert m.outputs[1]["dtype"] == np.float16 and m.compute_dtypes == ["f32", "f16"]
    x = X.astype(np.float16)
    y, z = m.run([x])
    assert y.dtype == np.float32 and np.array_equal(y, x.astype(np.float32))
    assert z.dtype == np.float16 and z.astype(np.float32).ravel().tolist() == relu(x)
    with pytest.raises(ValueError, match=r"input 0 \('x'\): dtype float32, the model takes float16"):
        m.run([X])


def test_bfloat16_tensors_are_float32_arrays(dev, half_models):
    m = mtia.Model(dev, str(half_models / "half_bf16.mtia"))
    assert m.inputs[0]["dtype"] == np.float32 and m.inputs[0]["model_dtype"] == "bf16"
    assert m.outputs[1]["model_dtype"] == "bf16" and m.compute_dtypes == ["f32", "bf16"]
    y, z = m.run([X])  # rounded to bfloat16 on the way in, widened on the way out
    h = bf16_round(X)
    assert not np.array_equal(h, X)  # the input does round
    assert y.dtype == np.float32 and np.array_equal(y, h)
    assert z.dtype == np.float32 and z.ravel().tolist() == relu(h)
    with pytest.raises(ValueError, match=r"input 0 \('x'\): dtype float16, the model takes bfloat16, given as float32"):
        m.run([X.astype(np.float16)])
    with pytest.raises(ValueError, match="shape"):
        m.run([X[:1]])


class MLP(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.net = torch.nn.Sequential(torch.nn.Linear(32, 64), torch.nn.ReLU(), torch.nn.Linear(64, 10))

    def forward(self, x):
        return self.net(x)


@pytest.mark.parametrize("dtype,name", [("bf16", "bf16"), (torch.bfloat16, "bf16"), ("fp16", "f16"),
                                        (torch.float16, "f16")])
def test_torch_compile_reduced_precision(dtype, name):
    torch.manual_seed(0)
    m = MLP().eval()
    x = torch.randn(4, 32)
    f = mt.compile(m, x, dtype=dtype)
    assert name in f.model.compute_dtypes
    assert [t["dtype"] for t in f.model.inputs + f.model.outputs] == [np.float32, np.float32]
    y = f(x)
    with torch.no_grad():
        ref = m(x)
    err = (y - ref).abs().max().item()
    assert y.dtype == torch.float32 and y.shape == (4, 10)
    assert err <= 1e-2 * max(1.0, ref.abs().max().item()), err
    # Another precision of the same graph is another image.
    f32 = mt.compile(m, x)
    assert f32.model.compute_dtypes == ["f32"] and f32.image != f.image
