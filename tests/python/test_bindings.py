# SPDX-License-Identifier: MIT
# The mtia Python module against the driver: devices, buffers as NumPy views
# (no copy), streams and events, models on NumPy arrays, and the errors a
# misuse gets. Run in the VM by tests/vm/test-python.sh.
import os

import numpy as np
import pytest

import mtia
from conftest import MODELS, model_path


def test_devices(dev):
    assert mtia.device_count() >= 1
    info = dev.info
    assert info.index == 0 and info.node.startswith("/dev/accel/accel")
    assert info.pe_rows > 0 and info.pe_cols > 0 and info.devmem_bytes > 0
    assert "MTIA" in info.name
    assert mtia.__version__.count(".") == 2


def test_no_such_device_is_an_error():
    with pytest.raises(mtia.Error) as e:
        mtia.Device(mtia.device_count() + 5)
    assert e.value.status_name == "MTIA_ERROR_NO_DEVICE" and e.value.status < 0


def test_host_buffer_is_a_numpy_view(dev):
    b = mtia.Buffer(dev, 4096, mtia.Placement.HOST)
    a = np.asarray(b)
    assert a.dtype == np.uint8 and a.shape == (4096,) and len(b) == 4096
    a[:] = 7
    # A second view sees the first one's writes: the same memory, no copy.
    assert np.shares_memory(a, np.asarray(b)) and np.asarray(b)[4095] == 7
    v = np.asarray(b).view(np.float32)
    assert v.shape == (1024,)


def test_view_keeps_buffer_alive(dev):
    a = np.asarray(mtia.Buffer(dev, 4096, mtia.Placement.HOST))
    a[:] = 3  # the Buffer object is gone from Python; the view holds it
    assert int(a.sum()) == 3 * 4096


def test_stream_copy_round_trip_and_events(dev):
    n = 1 << 20
    src = mtia.Buffer(dev, n, mtia.Placement.HOST)
    dst = mtia.Buffer(dev, n, mtia.Placement.HOST)
    mid = mtia.Buffer(dev, n, mtia.Placement.DEVICE)
    data = np.random.default_rng(1).integers(0, 256, n, dtype=np.uint8)
    np.asarray(src)[:] = data
    np.asarray(dst)[:] = 0
    s = mtia.Stream(dev)
    start, end = mtia.Event(dev), mtia.Event(dev)
    s.record(start)
    s.copy(mid, 0, src, 0, n)
    s.copy(dst, 0, mid, 0, n)
    s.record(end)
    assert end.wait(60000)
    assert end.query() and end.recorded
    assert start.elapsed_ms(end) > 0
    assert np.array_equal(np.asarray(dst), data)


def test_stream_fill_and_synchronize(dev):
    b = mtia.Buffer(dev, 8192, mtia.Placement.HOST)
    s = mtia.Stream(dev, mtia.Priority.HIGH)
    s.fill(b, 0, 8192, 0x5A)
    s.synchronize()
    assert np.all(np.asarray(b) == 0x5A)
    assert s.priority == mtia.Priority.HIGH


def test_out_of_range_copy_is_an_error(dev):
    b = mtia.Buffer(dev, 4096, mtia.Placement.HOST)
    s = mtia.Stream(dev)
    with pytest.raises(mtia.Error) as e:
        s.copy(b, 1, b, 0, 4096)
    assert e.value.status_name == "MTIA_ERROR_INVALID_ARGUMENT"
    assert "outside the buffer" in str(e.value)


def run_reference(dev, manifest, name):
    m = mtia.Model(dev, model_path(name))
    ref = manifest[name]
    x = [np.load(os.path.join(MODELS, i["file"])) for i in ref["inputs"]]
    want = [np.load(os.path.join(MODELS, o["file"])) for o in ref["outputs"]]
    return m, x, want, ref["tolerance"]


def test_model_runs_on_numpy(dev, manifest):
    m, x, want, tol = run_reference(dev, manifest, "mlp")
    assert m.name and m.num_ops > 0 and m.flops > 0
    assert [tuple(i["shape"]) for i in m.inputs] == [a.shape for a in x]
    assert m.inputs[0]["dtype"] == np.float32
    out = m.run(x)
    assert len(out) == len(want)
    for got, exp in zip(out, want):
        assert got.shape == exp.shape and got.dtype == np.float32
        assert float(np.max(np.abs(got - exp))) <= tol
    assert m.device_estimate_ns() > 0


def test_model_input_checks(dev, manifest):
    m, x, _, _ = run_reference(dev, manifest, "mlp")
    with pytest.raises(ValueError, match="dtype"):
        m.run([x[0].astype(np.float64)])
    with pytest.raises(ValueError, match="shape"):
        m.run([x[0].reshape(-1)])
    with pytest.raises(ValueError, match="takes 1 input"):
        m.run([x[0], x[0]])
    wide = np.zeros(x[0].shape[:-1] + (x[0].shape[-1] * 2,), np.float32)
    with pytest.raises(ValueError, match="C-contiguous"):
        m.run([wide[..., ::2]])


def test_model_run_async_on_buffers(dev, manifest):
    m, x, want, tol = run_reference(dev, manifest, "mlp")
    bin_ = mtia.Buffer(dev, x[0].nbytes, mtia.Placement.HOST)
    bout = mtia.Buffer(dev, want[0].nbytes, mtia.Placement.HOST)
    np.asarray(bin_).view(np.float32)[:] = x[0].reshape(-1)
    s, e = mtia.Stream(dev), mtia.Event(dev)
    m.run_async(s, [bin_], [bout])
    s.record(e)
    assert e.wait(60000)
    got = np.asarray(bout).view(np.float32).reshape(want[0].shape)
    assert float(np.max(np.abs(got - want[0]))) <= tol


def test_corrupt_model_is_an_error(dev):
    with pytest.raises(mtia.Error) as e:
        mtia.Model.from_bytes(dev, b"MTIM" + b"\0" * 60)
    assert e.value.status_name == "MTIA_ERROR_INVALID_MODEL"
    with pytest.raises(mtia.Error) as e:
        mtia.Model(dev, "/nonexistent.mtia")
    assert "nonexistent" in str(e.value)


def test_closed_device_objects_raise(dev):
    d = mtia.Device(dev.info.index)
    b = mtia.Buffer(d, 4096, mtia.Placement.HOST)
    s = mtia.Stream(d)
    d.close()
    assert not d.is_open
    with pytest.raises(mtia.Error) as e:
        s.fill(b, 0, 16, 1)
    assert e.value.status_name == "MTIA_ERROR_INVALID_HANDLE" and "closed" in str(e.value)
