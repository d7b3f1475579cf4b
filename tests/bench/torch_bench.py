#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""PyTorch CPU inference speed of a torchvision model, for tests/bench/run-bench.sh:
    torch_bench.py MODEL BATCH SECONDS
prints one JSON line {model, batch, threads, runs, ms_per_run, inferences_per_s}.
Eager mode, no_grad, torch.set_num_threads(2) (the machine's and the
emulated device's thread count); 3 warm-up runs (as mtia-run --bench), then
runs for at least SECONDS seconds."""
import json
import sys
import time

import torch
import torchvision

THREADS = 2


def main():
    name, batch, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    torch.set_num_threads(THREADS)
    torch.manual_seed(0)
    model = getattr(torchvision.models, name)(weights=None).eval()
    x = torch.randn(batch, 3, 224, 224)
    with torch.no_grad():
        for _ in range(3):
            model(x)
        runs, t0 = 0, time.perf_counter()
        while True:
            model(x)
            runs += 1
            dt = time.perf_counter() - t0
            if dt >= seconds and runs >= 3:
                break
    print(json.dumps({"model": name, "batch": batch, "threads": torch.get_num_threads(), "runs": runs,
                      "ms_per_run": dt / runs * 1e3, "inferences_per_s": runs * batch / dt}))


if __name__ == "__main__":
    main()
