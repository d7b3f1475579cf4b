# SPDX-License-Identifier: MIT
# The runtime additions through Python: host copies from and to any
# bytes-like object, Stream.query, Device.synchronize and default_stream,
# memory info, opening by bus id or serial, MTIA_VISIBLE_DEVICES (two
# devices, both orders; in subprocesses, as the variable is read per call
# but set per process), status names. Run in the VM by tests/vm/test-python.sh.
import os
import subprocess
import sys

import numpy as np
import pytest

import mtia


@pytest.mark.parametrize("n,off", [(1, 0), (4097, 3), ((4 << 20) + 13, 1), ((9 << 20) + 7, 4093)])
def test_host_copies_round_trip_at_odd_offsets(dev, n, off):
    s = mtia.Stream(dev)
    d = mtia.Buffer(dev, off + n + 1)
    s.fill(d, 0, off + n + 1, 0x5A)
    data = np.random.default_rng(n).integers(0, 256, n, dtype=np.uint8)
    s.copy_from_host(d, off, data)
    out = np.zeros(n, np.uint8)
    s.copy_to_host(out, d, off)
    assert np.array_equal(out, data)
    edge = np.zeros(1, np.uint8)
    s.copy_to_host(edge, d, off + n)  # the byte after is untouched
    assert edge[0] == 0x5A
    if off:
        s.copy_to_host(edge, d, off - 1)
        assert edge[0] == 0x5A


def test_host_copies_take_bytes_and_typed_arrays(dev):
    s = mtia.Stream(dev)
    d = mtia.Buffer(dev, 64)
    s.copy_from_host(d, 0, b"hello, device")
    out = bytearray(13)
    s.copy_to_host(out, d, 0)
    assert bytes(out) == b"hello, device"
    f = np.arange(16, dtype=np.float32)
    s.copy_from_host(d, 0, f)
    g = np.empty(16, np.float32)
    s.copy_to_host(g, d, 0)
    assert np.array_equal(f, g)


def test_host_copy_errors(dev):
    s = mtia.Stream(dev)
    d = mtia.Buffer(dev, 16)
    with pytest.raises(mtia.Error) as e:
        s.copy_from_host(d, 8, b"x" * 9)
    assert e.value.status_name == "MTIA_ERROR_INVALID_ARGUMENT"
    with pytest.raises(ValueError, match="C-contiguous"):
        s.copy_to_host(np.zeros((4, 4), np.uint8)[:, 1], d, 0)
    with pytest.raises(BufferError):
        s.copy_to_host(b"read only", d, 0)


def test_stream_query_and_device_synchronize(dev):
    a, b = mtia.Stream(dev), mtia.Stream(dev, mtia.Priority.LOW)
    assert a.query()
    ha = mtia.Buffer(dev, 1 << 20, mtia.Placement.HOST)
    hb = mtia.Buffer(dev, 1 << 20, mtia.Placement.HOST)
    a.fill(ha, 0, 1 << 20, 1)
    b.fill(hb, 0, 1 << 20, 2)
    dev.synchronize()
    assert np.asarray(ha)[-1] == 1 and np.asarray(hb)[-1] == 2
    assert a.query() and b.query()


def test_default_stream_is_shared(dev):
    assert dev.default_stream().queue_id == dev.default_stream().queue_id
    assert mtia.Stream(dev).queue_id != dev.default_stream().queue_id


def test_memory_info_follows_buffers(dev):
    m0 = dev.memory_info()
    # mem_total: the device memory buffers can take (the driver keeps a little).
    assert 0 < m0.total_bytes <= dev.info.devmem_bytes and m0.free_bytes <= m0.total_bytes
    b = mtia.Buffer(dev, 1 << 20)
    m1 = dev.memory_info()
    assert m1.allocated_bytes == m0.allocated_bytes + (1 << 20)
    assert m1.allocations == m0.allocations + 1 and m1.peak_bytes >= m1.allocated_bytes
    assert m1.free_bytes <= m0.free_bytes - (1 << 20)
    del b
    m2 = dev.memory_info()
    assert m2.allocated_bytes == m0.allocated_bytes and m2.peak_bytes == m1.peak_bytes
    dev.reset_peak_memory()
    assert dev.memory_info().peak_bytes == m2.allocated_bytes


def test_open_by_bus_id_and_serial(dev):
    info = dev.info
    assert len(info.serial) == 16
    for ident in (info.pci_bus_id, info.pci_bus_id[5:], info.serial.upper(), "0"):
        with mtia.Device(ident) as d:
            assert d.info.node == info.node
    with pytest.raises(mtia.Error) as e:
        mtia.Device("no-such-device")
    assert e.value.status_name == "MTIA_ERROR_NO_DEVICE"


def test_status_names():
    assert mtia.status_name(0) == "MTIA_SUCCESS"
    assert mtia.status_name(-2) == "MTIA_ERROR_NO_DEVICE"
    assert "device" in mtia.status_string(-2)
    assert mtia.status_name(-1000) == "MTIA_ERROR_UNKNOWN"


def _visible(value):
    """The visible nodes and serials a fresh process sees with MTIA_VISIBLE_DEVICES=value."""
    env = dict(os.environ, MTIA_VISIBLE_DEVICES=value)
    code = ("import mtia\n"
            "print(mtia.device_count())\n"
            "for i in range(mtia.device_count()):\n"
            "    print(mtia.Device(i).info.node)\n")
    out = subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True, text=True).stdout
    lines = out.split()
    assert int(lines[0]) == len(lines) - 1
    return lines[1:]


def test_visible_devices_both_orders():
    nodes = mtia.device_nodes()
    if len(nodes) < 2:
        pytest.skip("needs two devices")
    assert _visible("0,1") == nodes[:2]
    assert _visible("1,0") == [nodes[1], nodes[0]]
    with mtia.Device(1) as d1:
        serial1 = d1.info.serial
    assert _visible(serial1 + ",0") == [nodes[1], nodes[0]]
    assert _visible("1") == [nodes[1]]
    assert _visible("0,bogus,1") == [nodes[0]]
    assert _visible("") == []
