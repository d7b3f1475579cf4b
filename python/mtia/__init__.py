# SPDX-License-Identifier: MIT
"""mtia: Python API of mtia-open accelerators (libmtia's C++ API).

    import mtia, numpy as np
    dev = mtia.Device(0)
    model = mtia.Model(dev, "resnet18.mtia")
    (y,) = model.run([np.zeros(model.inputs[0]["shape"], np.float32)])

Objects: Device, Buffer (NumPy views through the buffer protocol), Stream,
Event, Model; errors raise mtia.Error with .status and .status_name.
See docs/python.md.
"""
from ._error import CompileError, Error
from ._mtia import (Buffer, Device, DeviceInfo, Event, MemoryInfo, Model, Placement, Priority, Stream,
                    compile_onnx, compiler_version, dequantize, device_count, device_nodes, quantize,
                    runtime_version, status_name, status_string, visible_device_nodes)

__all__ = ["Buffer", "CompileError", "Device", "DeviceInfo", "Error", "Event", "MemoryInfo", "Model", "Placement",
           "Priority", "Stream", "compile_onnx", "compiler_version", "dequantize", "device_count", "device_nodes",
           "quantize", "runtime_version", "status_name", "status_string", "visible_device_nodes"]
__version__ = "%d.%d.%d" % runtime_version
