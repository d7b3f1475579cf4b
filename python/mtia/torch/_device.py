# SPDX-License-Identifier: MIT
"""Device selection for mtia.torch: one open mtia.Device per index, shared by
the whole process (so its default stream and memory counters are too), and a
per-thread current device, as torch.cuda keeps one."""
import threading

import mtia

_lock = threading.Lock()
_devices = {}             # index -> mtia.Device, opened on first use
_local = threading.local()


def device_count():
    """Number of visible devices (MTIA_VISIBLE_DEVICES applied)."""
    return mtia.device_count()


def is_available():
    """True if at least one device is visible."""
    return device_count() > 0


def _index(dev):
    """A device argument (None: current, int, mtia.Device, "mtia:N") as an index."""
    if dev is None:
        return current_device()
    if isinstance(dev, mtia.Device):
        return dev.info.index
    if isinstance(dev, str):
        kind, _, num = dev.partition(":")
        if kind != "mtia":
            raise ValueError("expected an mtia device, got %r" % dev)
        return int(num) if num else current_device()
    if isinstance(dev, bool) or not isinstance(dev, int):
        raise TypeError("device must be an int, 'mtia:N' or mtia.Device, got %r" % (dev,))
    return dev


def get_device(dev=None):
    """The process-wide mtia.Device of a device (None: the current one)."""
    i = _index(dev)
    n = device_count()
    if not 0 <= i < n:
        raise ValueError("invalid device index %d (%d visible)" % (i, n))
    with _lock:
        d = _devices.get(i)
        if d is None or not d.is_open:
            d = _devices[i] = mtia.Device(i)
        return d


def current_device():
    """Index of the calling thread's current device (0 until set_device)."""
    return getattr(_local, "index", 0)


def set_device(dev):
    """Makes dev the calling thread's current device."""
    i = _index(dev)
    get_device(i)  # checks the index
    _local.index = i


class device:
    """Context manager that makes dev the current device for its block."""

    def __init__(self, dev):
        self.idx = -1 if dev is None else _index(dev)
        self.prev = -1

    def __enter__(self):
        if self.idx >= 0:
            self.prev = current_device()
            set_device(self.idx)

    def __exit__(self, *exc):
        if self.idx >= 0:
            _local.index = self.prev
        return False


def synchronize(dev=None):
    """Waits for all work of this process's streams on the device."""
    get_device(dev).synchronize()
