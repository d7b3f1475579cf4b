#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""PyTorch CPU inference speed, the anchor of tests/bench/run-bench.sh:
    torch_bench.py DIR MODEL SECONDS [fp32|bf16|int8-onednn|int8-qnnpack]
runs tests/models/make_models.py's MODEL (the same module, seed and random
weights the device's .mtia was compiled from) on the reference inputs in
DIR (make_models.py --out DIR: DIR/manifest.json) and prints one JSON line
{model, batch, threads, blas, modes: {eager, frozen}, best, ms_per_run,
inferences_per_s} (the last two of the best mode; batch = the first
input's dim 0).

PyTorch at its best, as a user wanting CPU speed runs it: no_grad, 2
threads (the machine's and the emulated device's), and both eager mode and
the frozen, inference-optimised TorchScript module
(torch.jit.optimize_for_inference(torch.jit.freeze(torch.jit.trace(m, x))):
oneDNN blocked layouts, prepacked weights); the faster one counts. Linear
and MatMul run on the BLAS libblas.so.3 resolves to (OpenBLAS, installed by
scripts/setup.sh); "blas" names the library and OpenBLAS's kernel. The
frozen module's outputs must match eager mode's, else the run fails.
With bf16 the module and inputs are cast to bfloat16; with int8-ENGINE it
is PyTorch's own static int8 quantization on that quantized engine
(quantized()).
Each mode: 3 warm-up runs (as mtia-run --bench), then runs for at least
SECONDS seconds."""
import ctypes
import json
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "models"))
import make_models  # noqa: E402

THREADS = 2


def build(out_dir, name):
    """(module, reference inputs) of make_models.py's model `name`, as
    make_models.build() made it (seed 0), with the inputs it saved."""
    entry = next((e for e in json.load(open(os.path.join(out_dir, "manifest.json"))) if e["name"] == name), None)
    if entry is None:
        sys.exit(f"torch_bench.py: no {name} in {out_dir}/manifest.json (make_models.py --out {out_dir} --only {name})")
    torch.manual_seed(0)
    model = make_models.ALL[name][0]().eval()
    with torch.no_grad():
        make_models.randomize_bn(model, torch.Generator().manual_seed(1))
    inputs = tuple(torch.from_numpy(np.load(os.path.join(out_dir, i["file"]))) for i in entry["inputs"])
    return model, inputs


def blas_in_use():
    """The BLAS libraries mapped into this process and, for OpenBLAS, its kernel."""
    libs = sorted({line.split()[-1] for line in open("/proc/self/maps") if "blas" in line.split()[-1].split("/")[-1]})
    name = ", ".join(libs) or "none mapped"
    core = next((lib for lib in libs if "libopenblas" in lib), None)
    if core:
        f = ctypes.CDLL(core).openblas_get_corename
        f.restype = ctypes.c_char_p
        name += f" (OpenBLAS kernel {f().decode()})"
    return name


def timed(fn, inputs, seconds):
    for _ in range(3):
        fn(*inputs)
    runs, t0 = 0, time.perf_counter()
    while True:
        fn(*inputs)
        runs += 1
        dt = time.perf_counter() - t0
        if dt >= seconds and runs >= 3:
            return dt / runs


def flat(out):
    if isinstance(out, torch.Tensor):
        return [out]
    if isinstance(out, dict):
        return [t for v in out.values() for t in flat(v)]
    return [t for v in out for t in flat(v)]


def quantized(model, inputs, engine):
    """PyTorch's own int8 of `model`: static post-training quantization with
    FX for quantized `engine` (Debian's torch has onednn and qnnpack, no
    fbgemm/"x86"), calibrated on the reference inputs and a few random ones
    of their shape."""
    import copy
    from torch.ao.quantization import get_default_qconfig_mapping
    from torch.ao.quantization.quantize_fx import convert_fx, prepare_fx
    torch.backends.quantized.engine = engine
    prepared = prepare_fx(copy.deepcopy(model), get_default_qconfig_mapping(engine), example_inputs=inputs)
    gen = torch.Generator().manual_seed(3)
    for x in [inputs] + [tuple(torch.randn(t.shape, generator=gen) for t in inputs) for _ in range(3)]:
        prepared(*x)
    return convert_fx(prepared)


def main():
    out_dir, name, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
    precision = sys.argv[4] if len(sys.argv) > 4 else "fp32"
    torch.set_num_threads(THREADS)
    model, inputs = build(out_dir, name)
    batch = inputs[0].shape[0]
    with torch.no_grad():
        if precision.startswith("int8-"):  # int8-onednn, int8-qnnpack
            model = quantized(model, inputs, precision[5:])
        elif precision == "bf16":
            model, inputs = model.to(torch.bfloat16), tuple(t.to(torch.bfloat16) for t in inputs)
        elif precision != "fp32":
            sys.exit(f"torch_bench.py: precision {precision}: want fp32, bf16, int8-onednn or int8-qnnpack")
        frozen = torch.jit.freeze(torch.jit.trace(model, inputs))
        if precision == "fp32":  # (its oneDNN rewrites are for float32)
            frozen = torch.jit.optimize_for_inference(frozen)
        want, got = flat(model(*inputs)), flat(frozen(*inputs))
        tol = 1e-4 if precision == "fp32" else 2e-2
        for w, g in zip(want, got):
            w, g = w.float(), g.float()
            if not torch.allclose(w, g, rtol=1e-3, atol=tol * max(1.0, w.abs().max().item())):
                sys.exit(f"torch_bench.py: {name}: the frozen module's output differs from eager mode's")
        modes = {"eager": timed(model, inputs, seconds), "frozen": timed(frozen, inputs, seconds)}
    best = min(modes, key=modes.get)
    print(json.dumps({"model": name, "precision": precision, "batch": batch, "threads": torch.get_num_threads(),
                      "blas": blas_in_use(),
                      "modes": {k: {"ms_per_run": v * 1e3, "inferences_per_s": batch / v} for k, v in modes.items()},
                      "best": best, "ms_per_run": modes[best] * 1e3, "inferences_per_s": batch / modes[best]}))


if __name__ == "__main__":
    main()
