#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Builds the accuracy test's models (tests/vm/test-accuracy.sh): a synthetic
10-class image set generated here (nothing downloaded), a small CNN trained
on it with PyTorch, its test-set accuracy in float32, and the same net
quantized by PyTorch's FX tooling (make_models.fake_quant_fx) as a QDQ model.

  make_accuracy_models.py --out DIR

The set: 1x16x16 images of a Gabor-like patch (a grating under a Gaussian
envelope). A class is an orientation (5, 36 degrees apart) and a frequency
band (2: about 2 and 4 cycles over the image); every sample draws its
orientation, frequency, phase, position, size and contrast around its
class's, and Gaussian noise over all of it, so neighbouring classes overlap
a little: learnable, not trivially (the float32 net gets a high but not a
perfect score, so a quantized net's errors show in its accuracy).

Writes, in DIR:
  accuracy.onnx        the trained net in float32 (opset 13, batch BATCH,
                       input 'input0' BATCHx1x16x16, output 'output0'
                       BATCHx10: logits)
  accuracy_qdq.onnx    the same net through fake_quant_fx, calibrated on the
                       calibration samples (QuantizeLinear/DequantizeLinear)
  test.NNN.npy         the test set, NTEST/BATCH float32 batches of BATCH
  labels.npy           the test set's labels, int64 (NTEST,)
  fp32_predictions.npy, fakequant_predictions.npy
                       PyTorch's top-1 classes of the test set (float32
                       net, fake-quant net), int64 (NTEST,)
  calib.npz            the calibration samples for mtia-compile --quantize
                       int8 --calibrate: 'input0' (NCALIB, 1, 16, 16)
                       float32, NCALIB a multiple of BATCH (NCALIB/BATCH
                       runs), drawn from the training set
  reference.json       PyTorch's test-set results of the float32 net and
                       of the fake-quant net (correct samples, accuracy in
                       %), the float32 net's training accuracy, the least
                       float32 accuracy accepted, the sizes above
Deterministic: fixed seeds, one thread.
"""
import argparse
import json
import math
import os
import sys
import time
import warnings

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_models import fake_quant_fx  # noqa: E402

warnings.filterwarnings("ignore")
torch.set_num_threads(1)

CLASSES, SIZE, BATCH = 10, 16, 100
NTRAIN, NTEST, NCALIB = 6000, 2000, 400
EPOCHS = 6
NOISE = 0.8  # standard deviation of the pixel noise; the patch's contrast is about 1
MIN_FP32_ACCURACY = 80.0  # %, chance is 10


def make_set(n, gen):
    """n images (n, 1, SIZE, SIZE) float32 and their labels (n,) int64."""
    labels = torch.randint(0, CLASSES, (n,), generator=gen)
    u = lambda lo, hi: lo + (hi - lo) * torch.rand(n, generator=gen)  # noqa: E731
    theta = (labels % 5).float() * (math.pi / 5) + u(-0.2, 0.2)
    cycles = torch.where(labels < 5, torch.tensor(2.0), torch.tensor(4.0)) * u(0.8, 1.2)
    phase = u(0, 2 * math.pi)
    cx, cy = u(5.5, 9.5), u(5.5, 9.5)
    sigma = u(3.0, 4.5)
    contrast = u(0.7, 1.3)
    r = torch.arange(SIZE, dtype=torch.float32)
    yy, xx = r.view(1, SIZE, 1), r.view(1, 1, SIZE)
    col = lambda t: t.view(n, 1, 1)  # noqa: E731
    dx, dy = xx - col(cx), yy - col(cy)
    along = dx * col(torch.cos(theta)) + dy * col(torch.sin(theta))
    envelope = torch.exp(-(dx * dx + dy * dy) / (2 * col(sigma) ** 2))
    img = col(contrast) * envelope * torch.cos(2 * math.pi * col(cycles) / SIZE * along + col(phase))
    img = img + NOISE * torch.randn(n, SIZE, SIZE, generator=gen)
    return img.unsqueeze(1).contiguous(), labels


class SmallCnn(nn.Module):
    """conv-bn-relu x3 (8, 16, 32 channels; max pool after the first two),
    global average pool, a Linear head."""

    def __init__(self):
        super().__init__()
        self.c1, self.b1 = nn.Conv2d(1, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8)
        self.c2, self.b2 = nn.Conv2d(8, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16)
        self.c3, self.b3 = nn.Conv2d(16, 32, 3, padding=1, bias=False), nn.BatchNorm2d(32)
        self.fc = nn.Linear(32, CLASSES)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.b1(self.c1(x))), 2)
        x = F.max_pool2d(F.relu(self.b2(self.c2(x))), 2)
        x = F.relu(self.b3(self.c3(x)))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


def predict(model, x):
    """model's top-1 classes of x (run in batches of BATCH), int64."""
    with torch.no_grad():
        return torch.cat([model(x[i:i + BATCH]).argmax(1) for i in range(0, len(x), BATCH)])


def correct(pred, y):
    return int((pred == y).sum())


def train(model, x, y, gen):
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=1e-2, total_steps=EPOCHS * (len(x) // 50))
    for _ in range(EPOCHS):
        model.train()
        perm = torch.randperm(len(x), generator=gen)
        for i in range(0, len(x) - 49, 50):
            idx = perm[i:i + 50]
            loss = F.cross_entropy(model(x[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
    return model.eval()


def export(model, path):
    torch.onnx.export(model, (torch.zeros(BATCH, 1, SIZE, SIZE),), path, opset_version=13,
                      input_names=["input0"], output_names=["output0"], do_constant_folding=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True, help="output directory")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    t0 = time.time()
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(13)
    xtr, ytr = make_set(NTRAIN, gen)
    xte, yte = make_set(NTEST, gen)
    model = train(SmallCnn(), xtr, ytr, gen)
    pred = predict(model, xte)
    fp32 = 100.0 * correct(pred, yte) / NTEST
    train_acc = 100.0 * correct(predict(model, xtr), ytr) / NTRAIN
    print(f"  trained in {time.time() - t0:.1f} s: accuracy {fp32:.2f}% (test), {train_acc:.2f}% (train)")
    if fp32 < MIN_FP32_ACCURACY:
        print(f"make_accuracy_models.py: the float32 net's test accuracy {fp32:.2f}% is under "
              f"{MIN_FP32_ACCURACY}% (chance {100 / CLASSES:.0f}%)", file=sys.stderr)
        return 1

    calib = xtr[:NCALIB]
    qmodel = fake_quant_fx(model, calib[:BATCH], calib.split(BATCH))
    qpred = predict(qmodel, xte)
    fq = 100.0 * correct(qpred, yte) / NTEST
    print(f"  PyTorch's fake-quant (FX) net: accuracy {fq:.2f}%")

    export(model, os.path.join(args.out, "accuracy.onnx"))
    export(qmodel, os.path.join(args.out, "accuracy_qdq.onnx"))
    for k in range(NTEST // BATCH):
        np.save(os.path.join(args.out, f"test.{k:03d}.npy"), xte[k * BATCH:(k + 1) * BATCH].numpy())
    np.save(os.path.join(args.out, "labels.npy"), yte.numpy())
    np.save(os.path.join(args.out, "fp32_predictions.npy"), pred.numpy())
    np.save(os.path.join(args.out, "fakequant_predictions.npy"), qpred.numpy())
    np.savez(os.path.join(args.out, "calib.npz"), input0=calib.numpy())
    ref = {"fp32_correct": correct(pred, yte), "fakequant_correct": correct(qpred, yte), "fp32_accuracy": fp32,
           "fakequant_accuracy": fq, "train_accuracy": train_acc, "min_fp32_accuracy": MIN_FP32_ACCURACY,
           "classes": CLASSES, "batch": BATCH, "test_samples": NTEST, "test_batches": NTEST // BATCH,
           "calibration_samples": NCALIB}
    # Written last: the test's --prepare redoes everything while it is missing.
    with open(os.path.join(args.out, "reference.json"), "w") as f:
        json.dump(ref, f, indent=1)
    print(f"  {time.time() - t0:.1f} s in all")
    return 0


if __name__ == "__main__":
    sys.exit(main())
