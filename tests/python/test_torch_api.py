# SPDX-License-Identifier: MIT
# mtia.torch's torch.cuda-shaped device API: devices, streams (ordering, the
# stream() context, current/default streams), events (record, wait, query,
# elapsed_time) and memory counters moving as buffers come and go. Run in
# the VM by tests/vm/test-python.sh.
import threading

import numpy as np
import pytest

import mtia
import mtia.torch as mt


def test_devices():
    assert mt.is_available() and mt.device_count() == mtia.device_count()
    assert mt.current_device() == 0
    assert mt.get_device() is mt.get_device(0) is mt.get_device("mtia:0")
    last = mt.device_count() - 1
    mt.set_device(last)
    try:
        assert mt.current_device() == last
        seen = []
        t = threading.Thread(target=lambda: seen.append(mt.current_device()))
        t.start()
        t.join()
        assert seen == [0]  # per thread, as in torch.cuda
        with mt.device(0):
            assert mt.current_device() == 0
        assert mt.current_device() == last
    finally:
        mt.set_device(0)
    with pytest.raises(ValueError):
        mt.set_device(mt.device_count())
    with pytest.raises(ValueError):
        mt.get_device("cuda:0")
    mt.synchronize()


def test_default_and_current_streams():
    d = mt.default_stream()
    assert mt.current_stream() == d and mt.default_stream(0) == d
    s = mt.Stream()
    assert s != d and s.device == "mtia:0"
    with mt.stream(s) as entered:
        assert entered is s and mt.current_stream() == s
        with mt.stream(None):
            assert mt.current_stream() == s
    assert mt.current_stream() == d
    assert mt.Stream(priority=-1).native.priority == mtia.Priority.HIGH
    assert mt.Stream(priority=1).native.priority == mtia.Priority.LOW


def test_stream_ordering_with_events():
    dev = mt.get_device()
    n = 16 << 20
    d = mtia.Buffer(dev, n)
    h = mtia.Buffer(dev, n, mtia.Placement.HOST)
    np.asarray(h)[:] = 0
    s1, s2 = mt.Stream(), mt.Stream()
    s1.native.fill(d, 0, n, 1)
    s1.native.fill(d, 0, n, 2)
    e = s1.record_event()
    s2.wait_event(e)
    s2.native.copy(h, 0, d, 0, n)  # runs after s1's fills
    s2.synchronize()
    a = np.asarray(h)
    assert a[0] == 2 and a[-1] == 2 and e.query() and s1.query()
    # wait_stream: the same through an implicit event, with stream() contexts.
    with mt.stream(s1):
        mt.current_stream().native.fill(d, 0, n, 3)
    s2.wait_stream(s1)
    s2.native.copy(h, 0, d, 0, n)
    s2.synchronize()
    assert np.asarray(h)[-1] == 3


def test_event_timing():
    dev = mt.get_device()
    d = mtia.Buffer(dev, 8 << 20)
    s = mt.Stream()
    a, b, c = (mt.Event(enable_timing=True) for _ in range(3))
    assert a.query()  # never recorded
    with pytest.raises(RuntimeError):
        a.elapsed_time(b)
    a.record(s)
    s.native.fill(d, 0, 8 << 20, 1)
    b.record(s)
    s.native.fill(d, 0, 8 << 20, 2)
    c.record(s)
    c.synchronize()
    assert c.query()
    ab, ac = a.elapsed_time(b), a.elapsed_time(c)
    assert 0 < ab <= ac
    with pytest.raises(RuntimeError, match="enable_timing"):
        mt.Event().elapsed_time(c)
    with pytest.raises(NotImplementedError):
        mt.Event(interprocess=True)
    # An event recorded on the current (default) stream.
    e = mt.Event()
    e.record()
    e.wait()
    e.synchronize()
    assert e.query()


def test_memory_counters_follow_buffers():
    dev = mt.get_device()
    base = mt.memory_allocated()
    mt.reset_peak_memory_stats()
    assert mt.max_memory_allocated() == base
    free0, total = mt.mem_get_info()
    assert 0 < total <= dev.info.devmem_bytes and 0 < free0 <= total
    bufs = [mtia.Buffer(dev, 1 << 20) for _ in range(3)]
    assert mt.memory_allocated() == base + (3 << 20)
    assert mt.mem_get_info()[0] <= free0 - (3 << 20)
    st = mt.memory_stats()
    assert st["allocated_bytes.all.current"] == base + (3 << 20)
    assert st["allocation.all.current"] >= 3
    del bufs[1:]
    assert mt.memory_allocated() == base + (1 << 20)
    assert mt.max_memory_allocated() == base + (3 << 20)
    assert mt.memory_reserved() == mt.memory_allocated()
    del bufs
    assert mt.memory_allocated() == base and mt.mem_get_info()[0] == free0
    mt.reset_peak_memory_stats()
    assert mt.max_memory_allocated() == base
