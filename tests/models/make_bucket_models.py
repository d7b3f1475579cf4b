#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Builds the batch-bucket test models: make_models.py's DLRM and transformer
encoder exported with a dynamic batch axis (dim 0 of every input and output),
with reference inputs and PyTorch's outputs at several batch sizes, for
mtia-compile --batch-buckets and the runtime's bucket choice and padding
(tests/vm/test-buckets.sh).

  make_bucket_models.py --out DIR [--batches 1,3,4,7,16,17]

writes DIR/NAME.onnx, DIR/NAME.b<N>.input<i>.npy, DIR/NAME.b<N>.output0.npy
and DIR/manifest.json: [{name, onnx, batches, inputs, tolerance}]
(tolerance: 1e-4 * max(1, max |ref|) over the batches). Nothing is downloaded.
"""
import argparse
import json
import os
import sys
import warnings

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_models as mm  # noqa: E402

warnings.filterwarnings("ignore")
torch.set_num_threads(2)

# name: (constructor, per-sample input makers (batch -> tensor))
MODELS = {
    "dlrm": (mm.Dlrm, [lambda b, g: torch.randn(b, 13, generator=g)] +
             [lambda b, g, r=r: torch.randint(0, r, (b, 4), generator=g) for r in mm.Dlrm.ROWS]),
    "encoder": (mm.Encoder, [lambda b, g: torch.randn(b, 16, 64, generator=g)]),
}


def build(name, out_dir, batches):
    ctor, makers = MODELS[name]
    torch.manual_seed(0)
    model = ctor().eval()
    gen = torch.Generator().manual_seed(2)
    in_names = [f"input{i}" for i in range(len(makers))]
    example = tuple(m(2, gen) for m in makers)
    torch.onnx.export(model, example, os.path.join(out_dir, name + ".onnx"), opset_version=13,
                      input_names=in_names, output_names=["output0"], do_constant_folding=True,
                      dynamic_axes={n: {0: "batch"} for n in in_names + ["output0"]})
    peak = 1.0
    for b in batches:
        ins = tuple(m(b, gen) for m in makers)
        with torch.no_grad():
            out = model(*ins)
        peak = max(peak, float(out.abs().max()))
        for i, t in enumerate(ins):
            a = t.numpy()
            np.save(os.path.join(out_dir, f"{name}.b{b}.input{i}.npy"), a if a.dtype == np.int64 else a.astype(np.float32))
        np.save(os.path.join(out_dir, f"{name}.b{b}.output0.npy"), out.numpy().astype(np.float32))
    return {"name": name, "onnx": name + ".onnx", "batches": batches, "inputs": len(makers), "tolerance": 1e-4 * peak}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--batches", default="1,3,4,7,16,17")
    args = ap.parse_args()
    batches = [int(b) for b in args.batches.split(",")]
    os.makedirs(args.out, exist_ok=True)
    manifest = [build(n, args.out, batches) for n in MODELS]
    with open(os.path.join(args.out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
