#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Python overhead of mtia.torch.compile, for tests/bench/model-bench.sh (in
the VM): compiles torchvision resnet18 (random weights, batch 1, 224x224)
with mtia.torch.compile, times the compiled callable on torch tensors, then
times the same .mtia image with the C++ run (mtia-run --bench) in this VM
run. Python and C++ alternate, twice each, and the best p50 of each is
compared, so a busy host slows both alike. Prints one JSON line
{python_p50_ms, cxx_p50_ms, ratio, runs}.
    py_overhead.py RUNS"""
import json
import os
import subprocess
import sys
import tempfile
import time

import torch
import torchvision

import mtia.torch as mt


def main():
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 30
    torch.manual_seed(0)
    model = torchvision.models.resnet18(weights=None).eval()
    x = torch.randn(1, 3, 224, 224)
    f = mt.compile(model, x)
    py, cxx = [], []
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "resnet18.mtia")
        with open(path, "wb") as out:
            out.write(f.image)
        for _ in range(2):
            for _ in range(3):  # warm-up, as mtia-run --bench
                f(x)
            times = []
            for _ in range(runs):
                t0 = time.perf_counter()
                f(x)
                times.append((time.perf_counter() - t0) * 1e3)
            py.append(sorted(times)[len(times) // 2])
            j = json.loads(subprocess.run(["build/bin/mtia-run", path, "--bench", str(runs), "--json"], check=True,
                                          capture_output=True, text=True).stdout)
            cxx.append(j["latency_ms"]["p50"])
    py_p50, cxx_p50 = min(py), min(cxx)
    print(json.dumps({"python_p50_ms": py_p50, "cxx_p50_ms": cxx_p50, "ratio": py_p50 / cxx_p50, "runs": runs}))


if __name__ == "__main__":
    main()
