# SPDX-License-Identifier: MIT
# The compiler as a library from Python (mtia.compile_onnx) and
# mtia.torch.compile: torchvision resnet18, an MLP, a DLRM (int64 ids) and a
# transformer encoder layer matching eager PyTorch,
# output structures (tensors, tuples, lists, dicts), batch buckets (one
# compile, calls of several batch sizes), int8 quantization calibrated on a
# .npz, the unsupported-op
# error naming the node and op, the cache, the input checks. Run in the VM
# by tests/vm/test-python.sh.
import io
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

import mtia
import mtia.torch as mt
from conftest import TOP


def close_to(got, ref):
    """max abs error <= 1e-4 * max(1, |ref|max)"""
    err = (got - ref).abs().max().item()
    return err <= 1e-4 * max(1.0, ref.abs().max().item()), err


class MLP(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.net = torch.nn.Sequential(torch.nn.Linear(32, 64), torch.nn.ReLU(), torch.nn.Linear(64, 10))

    def forward(self, x):
        return self.net(x)


class Structured(torch.nn.Module):
    """Outputs in a dict of a tensor, a tuple and a list."""

    def __init__(self):
        super().__init__()
        self.a, self.b, self.c = (torch.nn.Linear(8, n) for n in (4, 5, 6))

    def forward(self, x, y):
        return {"a": self.a(x), "bc": (torch.relu(self.b(y)), [self.c(x + y)])}


class CumSum(torch.nn.Module):
    def forward(self, x):
        return torch.cumsum(x, dim=1) * 2


def test_mlp_matches_eager():
    torch.manual_seed(0)
    m = MLP().eval()
    x = torch.randn(4, 32)
    f = mt.compile(m, (x,))
    for seed in (1, 2):
        x = torch.randn(4, 32, generator=torch.Generator().manual_seed(seed))
        y = f(x)
        ok, err = close_to(y, m(x).detach())
        assert isinstance(y, torch.Tensor) and y.shape == (4, 10) and ok, err


def test_resnet18_matches_eager():
    torchvision = pytest.importorskip("torchvision")
    torch.manual_seed(0)
    m = torchvision.models.resnet18(weights=None).eval()
    x = torch.randn(1, 3, 64, 64)
    f = mt.compile(m, x)
    y = f(x)
    with torch.no_grad():
        ref = m(x)
    ok, err = close_to(y, ref)
    assert y.shape == (1, 1000) and ok, err


def make_model(name):
    """tests/models/make_models.py's module `name`, seeded as it builds it."""
    sys.path.insert(0, os.path.join(TOP, "tests", "models"))
    import make_models
    torch.manual_seed(0)
    return make_models.ALL[name][0]().eval()


def test_dlrm_with_int64_ids_matches_eager():
    # Embedding bags of int64 ids, the pairwise interaction, two MLPs.
    m = make_model("dlrm")
    g = torch.Generator().manual_seed(3)
    inputs = (torch.randn(8, 13, generator=g),) + tuple(torch.randint(0, r, (8, 4), generator=g) for r in m.ROWS)
    f = mt.compile(m, inputs)
    with torch.no_grad():
        ref = m(*inputs)
    y = f(*inputs)
    ok, err = close_to(y, ref)
    assert y.shape == (8, 1) and ok, err
    with pytest.raises(TypeError, match="int64"):
        f(inputs[0], *(i.int() for i in inputs[1:]))


def test_transformer_encoder_layer_matches_eager():
    torch.manual_seed(0)
    m = torch.nn.TransformerEncoderLayer(64, 4, 128, batch_first=True).eval()
    x = torch.randn(2, 16, 64)
    f = mt.compile(m, x)
    for seed in (1, 2):
        x = torch.randn(2, 16, 64, generator=torch.Generator().manual_seed(seed))
        with torch.no_grad():
            ref = m(x)
        ok, err = close_to(f(x), ref)
        assert ok, err


def test_output_structure_is_the_modules():
    torch.manual_seed(0)
    m = Structured().eval()
    x, y = torch.randn(2, 8), torch.randn(2, 8)
    out = mt.compile(m, (x, y))(x, y)
    with torch.no_grad():
        ref = m(x, y)
    assert isinstance(out, dict) and list(out) == ["a", "bc"]
    assert isinstance(out["bc"], tuple) and isinstance(out["bc"][1], list)
    for got, want in ((out["a"], ref["a"]), (out["bc"][0], ref["bc"][0]), (out["bc"][1][0], ref["bc"][1][0])):
        assert got.shape == want.shape and close_to(got, want)[0]


def test_unsupported_op_names_node_and_op():
    with pytest.raises(mtia.CompileError) as e:
        mt.compile(CumSum(), torch.randn(2, 3))
    assert e.value.kind == "unsupported"
    assert "CumSum" in str(e.value) and "node '" in str(e.value)


def test_compile_onnx_errors_are_the_clis(tmp_path):
    buf = io.BytesIO()
    torch.onnx.export(CumSum(), torch.randn(2, 3), buf, opset_version=13)
    with pytest.raises(mtia.CompileError) as e:
        mtia.compile_onnx(buf.getvalue())
    path = tmp_path / "cumsum.onnx"
    path.write_bytes(buf.getvalue())
    cli = subprocess.run([os.path.join(TOP, "build", "bin", "mtia-compile"), str(path), "-o",
                          str(tmp_path / "x.mtia")], capture_output=True, text=True)
    assert cli.returncode == 4 and str(e.value) in cli.stderr
    with pytest.raises(mtia.CompileError) as e:
        mtia.compile_onnx(b"garbage")
    assert e.value.kind == "bad_input"
    mlp = io.BytesIO()
    torch.onnx.export(MLP(), torch.randn(1, 32), mlp, opset_version=13)
    with pytest.raises(mtia.CompileError) as e:
        mtia.compile_onnx(mlp.getvalue(), input_shapes={"nope": [1]})
    assert e.value.kind == "usage" and "nope" in str(e.value)


def test_compile_onnx_bytes_load_and_run(dev):
    torch.manual_seed(0)
    m = MLP().eval()
    buf = io.BytesIO()
    torch.onnx.export(m, torch.randn(1, 32), buf, opset_version=13, input_names=["x"],
                      dynamic_axes={"x": {0: "batch"}})
    image = mtia.compile_onnx(buf.getvalue(), input_shapes={"x": [3, 32]}, name="mlp")
    model = mtia.Model.from_bytes(dev, image)
    assert model.name == "mlp" and model.inputs[0]["shape"] == (3, 32)
    x = np.random.default_rng(0).standard_normal((3, 32), dtype=np.float32)
    (y,) = model.run([x])
    assert close_to(torch.from_numpy(y), m(torch.from_numpy(x)).detach())[0]
    assert mtia.compiler_version().count(".") == 2


def test_compile_onnx_quantize_int8(dev, tmp_path):
    """quantize='int8' with a calibration .npz: the int8 program runs and
    stays close to PyTorch; the CLI's usage errors."""
    torch.manual_seed(0)
    m = MLP().eval()
    buf = io.BytesIO()
    torch.onnx.export(m, torch.randn(4, 32), buf, opset_version=13, input_names=["x"])
    rng = np.random.default_rng(1)
    calib = tmp_path / "calib.npz"
    np.savez(calib, x=rng.standard_normal((8, 4, 32), dtype=np.float32))
    image = mtia.compile_onnx(buf.getvalue(), quantize="int8", calibration=calib, calibration_method="entropy")
    model = mtia.Model.from_bytes(dev, image)
    assert "i8" in model.compute_dtypes
    x = rng.standard_normal((4, 32), dtype=np.float32)
    (y,) = model.run([x])
    ref = m(torch.from_numpy(x)).detach()
    err = (torch.from_numpy(y) - ref).abs().max().item()
    assert 0 < err <= 0.05 * max(1.0, ref.abs().max().item()), err
    with pytest.raises(mtia.CompileError, match="needs --calibrate") as e:
        mtia.compile_onnx(buf.getvalue(), quantize="int8")
    assert e.value.kind == "usage"


def test_cache_by_graph_and_options():
    mt.clear_cache()
    torch.manual_seed(0)
    m = MLP().eval()
    mt.compile(m, torch.randn(4, 32))
    mt.compile(m, torch.randn(4, 32))
    assert mt.cache_info() == {"hits": 1, "misses": 1, "size": 1}
    mt.compile(m, torch.randn(2, 32))  # another shape: another graph
    with torch.no_grad():
        m.net[0].bias.add_(1.0)        # other weights: another graph
    mt.compile(m, torch.randn(2, 32))
    assert mt.cache_info() == {"hits": 1, "misses": 3, "size": 3}


def test_call_checks_and_options():
    m = MLP().eval()
    f = mt.compile(m, torch.randn(4, 32))
    with pytest.raises(ValueError, match="shape"):
        f(torch.randn(5, 32))
    with pytest.raises(TypeError, match="float32"):
        f(torch.randn(4, 32, dtype=torch.float64))
    with pytest.raises(ValueError):
        f(torch.randn(4, 32), torch.randn(4, 32))
    with pytest.raises(ValueError, match="dtype must be 'fp32', 'fp16', 'bf16'"):
        mt.compile(m, torch.randn(4, 32), dtype=torch.float64)
    with pytest.raises(ValueError, match="got 'int8'"):
        mt.compile(m, torch.randn(4, 32), dtype="int8")
    assert m.training is False and f.device_index == mt.current_device()


def test_compile_batch_buckets():
    """One compile with batch_buckets serves calls of any batch up to the
    largest bucket (padded to the smallest that fits), matching eager."""
    torch.manual_seed(3)
    seq = torch.nn.Sequential(torch.nn.Linear(32, 64), torch.nn.GELU(), torch.nn.Linear(64, 32), torch.nn.LayerNorm(32))
    for module, shape in ((MLP().eval(), (32,)), (seq.eval(), (6, 32))):
        f = mt.compile(module, torch.randn(2, *shape), batch_buckets=[1, 4, 8])
        assert f.model.batch_buckets == [1, 4, 8]
        assert f.model.inputs[0]["shape"][0] == 8 and f.model.inputs[0]["batch_axis"] == 0
        for batch, bucket in ((1, 1), (3, 4), (8, 8)):
            x = torch.randn(batch, *shape)
            with torch.no_grad():
                ref = module(x)
            got = f(x)
            assert got.shape == ref.shape
            ok, err = close_to(got, ref)
            assert ok, "%s batch %d: max abs error %g" % (type(module).__name__, batch, err)
            assert f.model.last_batch == bucket
        with pytest.raises(mtia.Error, match=r"has a batch of 9, more than the largest of the model's batch "
                                             r"buckets \(1,4,8\): split the request"):
            f(torch.randn(9, *shape))


def test_batch_bucket_errors():
    m = MLP().eval()
    for bad in ([], [4, 1], [0, 2], [2, 2]):
        with pytest.raises(ValueError, match="ascending sizes >= 1"):
            mt.compile(m, torch.randn(2, 32), batch_buckets=bad)
    with pytest.raises(TypeError, match="list of ints"):
        mt.compile(m, torch.randn(2, 32), batch_buckets=[1.5, 2])
    buf = io.BytesIO()
    torch.onnx.export(m, torch.randn(2, 32), buf, input_names=["x"], opset_version=13)
    with pytest.raises(mtia.CompileError, match="--batch-buckets: the list is empty") as e:
        mtia.compile_onnx(buf.getvalue(), batch_buckets=[])
    assert e.value.kind == "usage"
    # A fixed-shape export: dim 0 of every input follows the buckets.
    image = mtia.compile_onnx(buf.getvalue(), batch_buckets=[1, 3])
    model = mtia.Model.from_bytes(mtia.Device(mt.current_device()), image)
    assert model.batch_buckets == [1, 3]
