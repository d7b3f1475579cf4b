#!/usr/bin/python3
"""Load for the PCIe tests (tests/vm/test-pcie.sh), run inside the VM.

  pcie_load.py DEVICE MODEL STOPFILE OUT.json

Until STOPFILE exists or the device fails: copy 1 MiB of random bytes host ->
device -> host and compare (a "copy" job), and run MODEL on a fixed input,
comparing with its first result (a "model" job). Each job's outcome is
counted: ok, corrupted (completed but the data differ) or failed (an error
from libmtia, e.g. a job cancelled by a reset or a device that is gone).
With --until-error the loop ends at the first failure (hot-unplug); without
it a failure is counted and the loop goes on (recovery must lose no job:
the test expects 0 failed). OUT.json gets the counts and the first error.
"""
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "../../build/python"))
import mtia  # noqa: E402


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    until_error = "--until-error" in sys.argv
    dev_arg, model_path, stop, out = args
    counts = {"ok": 0, "corrupted": 0, "failed": 0, "first_error": None}
    rng = np.random.default_rng(os.getpid())
    try:
        dev = mtia.Device(int(dev_arg))
        model = mtia.Model(dev, model_path)
        x = [rng.standard_normal(i["shape"]).astype(np.float32) for i in model.inputs]
        ref = [np.array(y) for y in model.run(x)]
        host = mtia.Buffer(dev, 1 << 20, mtia.Placement.HOST)
        back = mtia.Buffer(dev, 1 << 20, mtia.Placement.HOST)
        mid = mtia.Buffer(dev, 1 << 20)
        s = mtia.Stream(dev)
    except Exception as e:  # the device went away before the loop
        counts["failed"] += 1
        counts["first_error"] = str(e)
        json.dump(counts, open(out, "w"))
        return
    open(out + ".ready", "w").close()
    while not os.path.exists(stop):
        for job in ("copy", "model"):
            try:
                if job == "copy":
                    data = rng.integers(0, 256, 1 << 20, dtype=np.uint8)
                    np.asarray(host)[:] = data
                    s.copy(mid, 0, host, 0, 1 << 20)
                    s.copy(back, 0, mid, 0, 1 << 20)
                    s.synchronize()
                    good = np.array_equal(np.asarray(back), data)
                else:
                    y = model.run(x)
                    good = all(np.array_equal(np.array(a), b) for a, b in zip(y, ref))
                counts["ok" if good else "corrupted"] += 1
            except Exception as e:
                counts["failed"] += 1
                counts["first_error"] = counts["first_error"] or "%s: %s" % (job, e)
                if until_error:
                    json.dump(counts, open(out, "w"))
                    return
    json.dump(counts, open(out, "w"))


if __name__ == "__main__":
    main()
