# SPDX-License-Identifier: MIT
"""Streams and events of mtia.torch, shaped like torch.cuda's: Stream wraps
an mtia.Stream (in-order queue), Event an mtia.Event (made on its first
record, on that stream's device). Each thread has a current stream per
device, the device's default stream until stream() changes it."""
import threading

import mtia

from . import _device

_local = threading.local()
_defaults = {}  # device index -> Stream over Device.default_stream()
_defaults_lock = threading.Lock()


def _priority(p):
    # torch: lower numbers are higher priorities, 0 the default.
    return mtia.Priority.NORMAL if p == 0 else (mtia.Priority.HIGH if p < 0 else mtia.Priority.LOW)


class Stream:
    """An in-order queue on a device (None: the current one). priority < 0
    runs first, > 0 last (torch's convention). .native is the mtia.Stream."""

    def __init__(self, device=None, priority=0, *, _native=None):
        self.device_index = _device._index(device)
        self.priority = priority
        self.native = _native if _native is not None else \
            mtia.Stream(_device.get_device(self.device_index), _priority(priority))

    @property
    def device(self):
        return "mtia:%d" % self.device_index

    def query(self):
        """True if all work queued on the stream is done; never blocks."""
        return self.native.query()

    def synchronize(self):
        """Waits for all of the stream's work."""
        self.native.synchronize()

    def record_event(self, event=None):
        """Records event (a new one if None) on the stream and returns it."""
        event = Event() if event is None else event
        event.record(self)
        return event

    def wait_event(self, event):
        """Later work of this stream waits for event."""
        event.wait(self)

    def wait_stream(self, stream):
        """Later work of this stream waits for the work queued on stream so far."""
        self.wait_event(stream.record_event())

    def __eq__(self, other):
        return isinstance(other, Stream) and self.device_index == other.device_index and \
            self.native.queue_id == other.native.queue_id

    def __hash__(self):
        return hash((self.device_index, self.native.queue_id))

    def __repr__(self):
        return "<mtia.torch.Stream device=%s queue=%d>" % (self.device, self.native.queue_id)


class Event:
    """A point in a stream's work. elapsed_time() needs enable_timing=True on
    both events, as in torch.cuda. blocking is accepted (waits always block
    the caller); interprocess events are not supported."""

    def __init__(self, enable_timing=False, blocking=False, interprocess=False):
        if interprocess:
            raise NotImplementedError("mtia.torch.Event: interprocess events are not supported")
        self.enable_timing = enable_timing
        self.blocking = blocking
        self.native = None       # mtia.Event, made on the first record
        self.device_index = None

    def record(self, stream=None):
        """Records the event after the work queued so far on stream (None: current)."""
        stream = current_stream() if stream is None else stream
        if self.native is None:
            self.native = mtia.Event(_device.get_device(stream.device_index))
            self.device_index = stream.device_index
        elif stream.device_index != self.device_index:
            raise ValueError("event of device %d recorded on a stream of device %d" %
                             (self.device_index, stream.device_index))
        stream.native.record(self.native)

    def wait(self, stream=None):
        """Makes later work of stream (None: current) wait for this event."""
        stream = current_stream() if stream is None else stream
        if self.native is not None:
            stream.native.wait_event(self.native)

    def query(self):
        """True if the recorded work is done (or nothing was recorded)."""
        return self.native is None or self.native.query()

    def synchronize(self):
        """Waits for the recorded work."""
        if self.native is not None:
            self.native.synchronize()

    def elapsed_time(self, end_event):
        """Device time in ms from this event to end_event (waits for both)."""
        if not (self.enable_timing and end_event.enable_timing):
            raise RuntimeError("Both events must be created with enable_timing=True to compute elapsed time")
        if self.native is None or end_event.native is None:
            raise RuntimeError("Both events must be recorded before calculating elapsed time")
        return self.native.elapsed_ms(end_event.native)


def default_stream(device=None):
    """The device's default stream (one per device, shared by the process)."""
    i = _device._index(device)
    with _defaults_lock:
        s = _defaults.get(i)
        d = _device.get_device(i)
        if s is None or s.native_device is not d:
            s = Stream(i, _native=d.default_stream())
            s.native_device = d
            _defaults[i] = s
        return s


def current_stream(device=None):
    """The calling thread's current stream on the device (None: current)."""
    i = _device._index(device)
    cur = getattr(_local, "streams", {}).get(i)
    return cur if cur is not None else default_stream(i)


def _set_current(stream):
    if not hasattr(_local, "streams"):
        _local.streams = {}
    _local.streams[stream.device_index] = stream


class StreamContext:
    """Makes stream (and its device) current for the block; None does nothing."""

    def __init__(self, stream):
        self.stream = stream
        self.prev_stream = None
        self.prev_device = None

    def __enter__(self):
        if self.stream is None:
            return None
        self.prev_device = _device.current_device()
        self.prev_stream = getattr(_local, "streams", {}).get(self.stream.device_index)
        _device.set_device(self.stream.device_index)
        _set_current(self.stream)
        return self.stream

    def __exit__(self, *exc):
        if self.stream is not None:
            if self.prev_stream is None:
                _local.streams.pop(self.stream.device_index, None)
            else:
                _set_current(self.prev_stream)
            _device._local.index = self.prev_device
        return False


def stream(stream):
    """Context manager: with stream(s): work goes to s (torch.cuda.stream)."""
    return StreamContext(stream)
