# SPDX-License-Identifier: MIT
"""mtia.torch: the device API of torch.cuda / torch.mtia, over libmtia.

    import mtia.torch as mt
    mt.set_device(0)
    s = mt.Stream()
    with mt.stream(s):
        ...                       # work queued on mt.current_stream()
    start, end = mt.Event(enable_timing=True), mt.Event(enable_timing=True)
    print(mt.memory_allocated(), mt.mem_get_info())

Names and semantics follow torch.cuda where they apply: devices are indices
(MTIA_VISIBLE_DEVICES applied), streams are in-order queues, events mark
points in them, memory counters are this process's device buffers. Not
shaped like torch.cuda: there is no "mtia" tensor device (torch 1.13 has
none); get_device() gives the mtia.Device for buffers and models, and
Stream.native the mtia.Stream to queue copies and fills on.
compile(module, example_inputs) runs an nn.Module on the device. See
docs/python.md.
"""
from ._compile import CompiledModule, cache_info, clear_cache, compile
from ._device import (current_device, device, device_count, get_device, is_available, set_device, synchronize)
from ._memory import (max_memory_allocated, max_memory_reserved, mem_get_info, memory_allocated, memory_reserved,
                      memory_stats, reset_peak_memory_stats)
from ._streams import Event, Stream, StreamContext, current_stream, default_stream, stream

__all__ = ["CompiledModule", "Event", "cache_info", "clear_cache", "compile", "Stream", "StreamContext", "current_device", "current_stream", "default_stream", "device",
           "device_count", "get_device", "is_available", "max_memory_allocated", "max_memory_reserved",
           "mem_get_info", "memory_allocated", "memory_reserved", "memory_stats", "reset_peak_memory_stats",
           "set_device", "stream", "synchronize"]
