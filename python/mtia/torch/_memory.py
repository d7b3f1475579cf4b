# SPDX-License-Identifier: MIT
"""Memory counters of mtia.torch, as torch.cuda names them. libmtia counts
this process's device buffers (page-rounded) per device; there is no caching
allocator, so "reserved" equals "allocated"."""
import collections

from ._device import get_device


def memory_allocated(device=None):
    """Bytes in this process's live device buffers on the device."""
    return get_device(device).memory_info().allocated_bytes


def max_memory_allocated(device=None):
    """Peak of memory_allocated() since start or reset_peak_memory_stats()."""
    return get_device(device).memory_info().peak_bytes


def memory_reserved(device=None):
    """memory_allocated(): buffers are not cached."""
    return memory_allocated(device)


def max_memory_reserved(device=None):
    """max_memory_allocated(): buffers are not cached."""
    return max_memory_allocated(device)


def reset_peak_memory_stats(device=None):
    """Starts the peaks afresh at what is allocated now."""
    get_device(device).reset_peak_memory()


def mem_get_info(device=None):
    """(free, total) device memory in bytes, like torch.cuda.mem_get_info."""
    m = get_device(device).memory_info()
    return m.free_bytes, m.total_bytes


def memory_stats(device=None):
    """An OrderedDict with torch.cuda.memory_stats's keys that apply."""
    m = get_device(device).memory_info()
    s = collections.OrderedDict()
    for pool in ("all", "large_pool", "small_pool"):
        big = pool != "small_pool"
        s["allocated_bytes.%s.current" % pool] = m.allocated_bytes if big else 0
        s["allocated_bytes.%s.peak" % pool] = m.peak_bytes if big else 0
        s["reserved_bytes.%s.current" % pool] = m.allocated_bytes if big else 0
        s["reserved_bytes.%s.peak" % pool] = m.peak_bytes if big else 0
        s["allocation.%s.current" % pool] = m.allocations if big else 0
    s["device_bytes.total"] = m.total_bytes
    s["device_bytes.free"] = m.free_bytes
    return s
