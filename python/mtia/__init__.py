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
from ._error import Error
from ._mtia import (Buffer, Device, DeviceInfo, Event, Model, Placement, Priority, Stream, device_count,
                    runtime_version)

__all__ = ["Buffer", "Device", "DeviceInfo", "Error", "Event", "Model", "Placement", "Priority", "Stream",
           "device_count", "runtime_version"]
__version__ = "%d.%d.%d" % runtime_version
