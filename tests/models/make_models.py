#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Builds the compiler's test models: small CNNs, MLPs and transformer
encoder layers that cover the supported ONNX ops, a small DLRM (int64 ids;
nn.Embedding + sum and nn.EmbeddingBag exports), a BERT-like stack with masks,
a segmentation head (Resize: bilinear and nearest upsampling),
and torchvision classifiers with random (seeded) weights.
Each is exported to ONNX with static shapes, with a reference input and the
output PyTorch computes for it.

  make_models.py --out DIR [--only NAME...] [--extra] [--list]

writes DIR/NAME.onnx, DIR/NAME.input<i>.npy, DIR/NAME.output<i>.npy and
DIR/manifest.json: [{name, onnx, inputs: [{name, file, shape}], outputs:
[{name, file, shape}], tolerance}]; the models whose tables are shipped in
int8 or float16 (POST_EXPORT) also NAME.shipped_output<i>.npy, listed as
shipped_outputs with shipped_tolerance. Nothing is downloaded.
"""
import argparse
import json
import os
import sys
import time
import warnings

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

warnings.filterwarnings("ignore")
torch.set_num_threads(2)


class ConvBnRelu(nn.Module):
    """conv/bn/relu/maxpool/avgpool/fc with a softmax head."""

    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(3, 8, 3, padding=1)
        self.b1 = nn.BatchNorm2d(8)
        self.c2 = nn.Conv2d(8, 16, 3, stride=2, padding=1, bias=False)
        self.b2 = nn.BatchNorm2d(16)
        self.fc = nn.Linear(16 * 2 * 2, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.b1(self.c1(x))), 2)
        x = F.avg_pool2d(F.relu(self.b2(self.c2(x))), 2)
        return F.softmax(self.fc(torch.flatten(x, 1)), dim=1)


class Depthwise(nn.Module):
    """depthwise + grouped + dilated convs, ReLU6 (Clip), hardswish,
    leaky relu, ceil-mode max pool, global average pool."""

    def __init__(self):
        super().__init__()
        self.dw = nn.Conv2d(8, 8, 3, padding=1, groups=8)
        self.pw = nn.Conv2d(8, 16, 1)
        self.gc = nn.Conv2d(16, 16, 3, padding=2, dilation=2, groups=4)
        self.stem = nn.Conv2d(3, 8, 3, stride=2, padding=1)
        self.fc = nn.Linear(16, 5)

    def forward(self, x):
        x = F.relu6(self.stem(x))
        x = F.hardswish(self.pw(self.dw(x)))
        x = F.max_pool2d(x, 3, stride=2, ceil_mode=True)
        x = F.leaky_relu(self.gc(x), 0.1)
        x = F.adaptive_avg_pool2d(x, 1).flatten(1)
        return torch.tanh(self.fc(x))


class Branches(nn.Module):
    """inception-style concat of branches, residual add, sigmoid gate
    (squeeze-excitation, x * sigmoid(x)), standalone batch norm."""

    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(4, 6, 1)
        self.b = nn.Conv2d(4, 6, 3, padding=1)
        self.c = nn.Conv2d(4, 4, 5, padding=2)
        self.bn = nn.BatchNorm2d(16)
        self.se1 = nn.Conv2d(16, 4, 1)
        self.se2 = nn.Conv2d(4, 16, 1)
        self.proj = nn.Conv2d(4, 16, 1)

    def forward(self, x):
        y = torch.cat([self.a(x), self.b(x), self.c(x)], 1)
        y = self.bn(torch.relu(y))
        s = torch.sigmoid(self.se2(F.silu(self.se1(F.adaptive_avg_pool2d(y, 1)))))
        y = y * s + self.proj(x)
        return F.avg_pool2d(y, 3, stride=2, padding=1)


class ShuffleSplit(nn.Module):
    """channel split (Split/Slice), channel shuffle (Reshape/Transpose),
    reduce mean, MatMul, 1-D conv and pooling."""

    def __init__(self):
        super().__init__()
        self.c = nn.Conv2d(4, 8, 3, padding=1)
        self.r = nn.Conv2d(4, 4, 1)
        self.conv1d = nn.Conv1d(8, 6, 3, padding=1)
        self.w = nn.Parameter(torch.randn(6, 7) * 0.3)

    def forward(self, x):
        x = self.c(x)
        a, b = x.chunk(2, dim=1)
        x = torch.cat([a, torch.relu(self.r(b))], 1)
        n, c, h, w = x.shape
        x = x.view(n, 2, c // 2, h, w).transpose(1, 2).reshape(n, c, h, w)
        x = x[:, :, 1:7, :]
        x = x.mean(dim=2)                     # (n, 8, w)
        x = F.max_pool1d(torch.relu(self.conv1d(x)), 2)  # (n, 6, w/2)
        return torch.matmul(x.transpose(1, 2), self.w)  # (n, w/2, 7)


class Mlp(nn.Module):
    def __init__(self):
        super().__init__()
        self.l1 = nn.Linear(32, 64)
        self.l2 = nn.Linear(64, 64)
        self.l3 = nn.Linear(64, 10)

    def forward(self, x):
        x = torch.relu(self.l1(x))
        x = torch.sigmoid(self.l2(x)) - 0.5
        return F.softmax(self.l3(x) / 2.0, 1)


class SeqLinear(nn.Module):
    """Linear over (batch, seq, features): MatMul + Add, batched matmul."""

    def __init__(self):
        super().__init__()
        self.q = nn.Linear(16, 16)
        self.k = nn.Linear(16, 16)

    def forward(self, x):
        q, k = self.q(x), self.k(x)
        att = torch.softmax(torch.matmul(q, k.transpose(1, 2)) * 0.25, dim=-1)
        return torch.matmul(att, x) + x


class TwoInOut(nn.Module):
    """two inputs, two outputs (one of them also used inside)."""

    def __init__(self):
        super().__init__()
        self.c = nn.Conv2d(3, 3, 3, padding=1)

    def forward(self, x, y):
        a = torch.relu(self.c(x))
        return a, a * y - x / 2.0


class LayerNormGeluMlp(nn.Module):
    """LayerNorm + Linear + GELU (erf) + Linear + GELU (tanh) + LayerNorm:
    opset 13 exports LayerNorm and GELU decomposed; the compiler fuses them."""

    def __init__(self):
        super().__init__()
        self.ln1 = nn.LayerNorm(64)
        self.fc1 = nn.Linear(64, 128)
        self.fc2 = nn.Linear(128, 64)
        self.ln2 = nn.LayerNorm(64, elementwise_affine=False)

    def forward(self, x):
        h = F.gelu(self.fc1(self.ln1(x)))
        return self.ln2(F.gelu(self.fc2(h), approximate="tanh") + x)


class Encoder(nn.Module):
    """nn.TransformerEncoderLayer (d_model 64, 4 heads, FFN 128); batch_first
    or (seq, batch, d); with a float additive attention mask as a second
    input, or a constant key padding mask (folded by the compiler)."""

    def __init__(self, batch_first=True, mask_input=False, padding=False, d_model=64, heads=4, ffn=128):
        super().__init__()
        self.layer = nn.TransformerEncoderLayer(d_model, heads, ffn, dropout=0.1, batch_first=batch_first)
        self.mask_input = mask_input
        pad = torch.zeros(2, 16, dtype=torch.bool)
        pad[1, 11:] = True  # the second sequence is 11 tokens long
        self.register_buffer("pad", pad if padding else None)

    def forward(self, x, mask=None):
        if self.mask_input:
            return self.layer(x, src_mask=mask)
        return self.layer(x, src_key_padding_mask=self.pad)


class SelfAttention(nn.Module):
    """nn.MultiheadAttention (d 32, 4 heads, (seq, batch, d)) returning the
    output and the head-averaged attention weights (a ReduceMean)."""

    def __init__(self):
        super().__init__()
        self.attn = nn.MultiheadAttention(32, 4)

    def forward(self, x):
        return self.attn(x, x, x, need_weights=True)


def mlp(sizes):
    """Linear + ReLU layers through sizes[0] -> sizes[1] -> ... -> sizes[-1]."""
    layers = []
    for a, b in zip(sizes, sizes[1:]):
        layers += [nn.Linear(a, b), nn.ReLU()]
    return nn.Sequential(*layers)


class Bert(nn.Module):
    """A small BERT-like stack fed int64 token ids and an HF-style int64 0/1
    attention mask: token + learned position + token-type embeddings,
    LayerNorm, 2 nn.TransformerEncoderLayer (batch_first, GELU) and the
    pooler (first token -> Linear -> Tanh). padding_mask=False turns the
    mask into an additive one inside the model ((1 - mask) * -1e4, as HF
    BERT does) given as a float key padding mask; True passes mask == 0
    as a bool src_key_padding_mask (Equal, bool Reshape/Expand, Where)."""

    VOCAB, SEQ = 1000, 16

    def __init__(self, padding_mask=False):
        super().__init__()
        d = 64
        self.tok = nn.Embedding(self.VOCAB, d)
        self.pos = nn.Embedding(32, d)
        self.typ = nn.Embedding(2, d)
        self.ln = nn.LayerNorm(d, eps=1e-12)
        layer = nn.TransformerEncoderLayer(d, 4, 128, dropout=0.1, activation="gelu", batch_first=True)
        self.enc = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
        self.pool = nn.Linear(d, d)
        self.padding_mask = padding_mask

    def forward(self, ids, mask):
        pos = torch.arange(ids.shape[1]).unsqueeze(0)
        x = self.ln(self.tok(ids) + self.pos(pos) + self.typ(torch.zeros_like(ids)))
        if self.padding_mask:
            x = self.enc(x, src_key_padding_mask=mask == 0)
        else:
            x = self.enc(x, src_key_padding_mask=(1.0 - mask.to(torch.float32)) * -1e4)
        return torch.tanh(self.pool(x[:, 0]))

    @classmethod
    def attention_mask(cls, lengths):
        """int64 (B, SEQ): 1 for the first lengths[b] tokens, 0 for padding."""
        return (torch.arange(cls.SEQ).unsqueeze(0) < torch.tensor(lengths).unsqueeze(1)).to(torch.int64)


def causal_mask(n):
    """float additive mask: -1e9 above the diagonal (position i sees j <= i)."""
    return torch.triu(torch.full((n, n), -1e9), 1)


class Dlrm(nn.Module):
    """DLRM (Naumov et al. 2019), small: a bottom MLP on 13 dense features,
    three embedding tables of different sizes looked up by bags of 4 int64
    ids (nn.Embedding + sum over the bag: Gather + ReduceSum), the pairwise
    dot-product interaction (torch.bmm of the feature vectors, then
    index_select of the lower triangle: a Gather of constant indices) and a
    top MLP with a sigmoid."""

    ROWS = (1000, 3000, 500)
    DIM = 16

    def __init__(self, rows=ROWS, dim=DIM, bottom=(32,), top=(32,)):
        super().__init__()
        self.bot = mlp((13,) + bottom + (dim,))
        self.emb = nn.ModuleList(nn.Embedding(r, dim) for r in rows)
        f = len(rows) + 1
        self.register_buffer("li", torch.tensor([i * f + j for i in range(f) for j in range(i)]))
        self.top = nn.Sequential(*mlp((dim + len(self.li),) + top), nn.Linear(top[-1], 1), nn.Sigmoid())

    def forward(self, dense, *ids):
        x = self.bot(dense)
        t = torch.stack([x] + [e(i).sum(1) for e, i in zip(self.emb, ids)], dim=1)  # (B, F, D)
        z = torch.bmm(t, t.transpose(1, 2)).flatten(1).index_select(1, self.li)
        return self.top(torch.cat([x, z], dim=1))


class SegHead(nn.Module):
    """A segmentation head (FCN/DeepLab style) on a strided conv backbone:
    class scores upsampled x2 by nn.Upsample (bilinear, align_corners
    False: Resize linear half_pixel) and merged with a skip branch, resized
    to the input's size (F.interpolate size=, bilinear, align_corners True:
    Resize sizes, align_corners), plus the scores upsampled x4 by nearest
    (Resize nearest, asymmetric, floor)."""

    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(3, 8, 3, stride=2, padding=1)
        self.c2 = nn.Conv2d(8, 16, 3, stride=2, padding=1)
        self.cls = nn.Conv2d(16, 5, 1)
        self.skip = nn.Conv2d(8, 5, 1)
        self.up = nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False)

    def forward(self, x):
        f1 = F.relu(self.c1(x))
        c = self.cls(F.relu(self.c2(f1)))
        y = self.up(c) + self.skip(f1)
        z = F.interpolate(y, size=x.shape[2:], mode="bilinear", align_corners=True)
        return z + F.interpolate(c, scale_factor=4, mode="nearest")


class DlrmBag(Dlrm):
    """The DLRM above with its tables as nn.EmbeddingBag, exported by torch
    as an ONNX Loop over the bags (the compiler's EMBEDDING_BAG): bags of
    varied sizes (one empty) given by int64 offsets; a sum table, a mean
    table with include_last_offset, a sum table with per_sample_weights and
    a max table of 2-D ids (fixed bags of 3)."""

    LENGTHS = (2, 0, 3, 1, 4, 2, 1, 3)  # 8 samples' bag sizes, 16 ids

    def __init__(self):
        super().__init__()
        d, r = self.DIM, self.ROWS
        self.emb = nn.ModuleList([nn.EmbeddingBag(r[0], d, mode="sum"),
                                  nn.EmbeddingBag(r[1], d, mode="mean", include_last_offset=True),
                                  nn.EmbeddingBag(r[2], d, mode="sum"),
                                  nn.EmbeddingBag(200, d, mode="max")])
        f = len(self.emb) + 1
        self.register_buffer("li", torch.tensor([i * f + j for i in range(f) for j in range(i)]))
        self.top = nn.Sequential(nn.Linear(d + len(self.li), 32), nn.ReLU(), nn.Linear(32, 1), nn.Sigmoid())

    @classmethod
    def offsets(cls, last=False):
        o = np.concatenate([[0], np.cumsum(cls.LENGTHS)])
        return torch.tensor(o if last else o[:-1], dtype=torch.int64)

    @classmethod
    def inputs(cls):
        n = sum(cls.LENGTHS)
        return [(8, 13), ids((n,), cls.ROWS[0]), cls.offsets(), ids((n,), cls.ROWS[1]), cls.offsets(True),
                ids((n,), cls.ROWS[2]), cls.offsets(), (n,), ids((8, 3), 200)]

    def forward(self, dense, ids0, off0, ids1, off1, ids2, off2, w2, ids3):
        x = self.bot(dense)
        e = self.emb
        pooled = [e[0](ids0, off0), e[1](ids1, off1), e[2](ids2, off2, per_sample_weights=w2), e[3](ids3)]
        t = torch.stack([x] + pooled, dim=1)  # (B, F, D)
        z = torch.bmm(t, t.transpose(1, 2)).flatten(1).index_select(1, self.li)
        return self.top(torch.cat([x, z], dim=1))


def ids(shape, high):
    """An int64 ids input of `shape`, values in [0, high)."""
    return ("ids", shape, high)


def embedding_tables(graph):
    """Names of the float initializers an exported model looks rows up in:
    the data of a Gather, in the graph or in a Loop body (nn.EmbeddingBag's
    export reads its table from the outer scope), 2-D."""
    inits = {t.name: t for t in graph.initializer}
    names = []

    def visit(g):
        for n in g.node:
            if n.op_type == "Gather" and n.input[0] in inits and len(inits[n.input[0]].dims) == 2 and \
                    n.input[0] not in names:
                names.append(n.input[0])
            for a in n.attribute:
                if a.g.node:
                    visit(a.g)
    visit(graph)
    return names


def ship_tables(path, form):
    """Rewrites the exported ONNX at `path` so its embedding tables are
    stored as recommendation models ship them, read through the op that
    turns them back into float32 (what the compiler keeps on the device):
    form "uint8": each table quantized per row, asymmetric, as a quantizer
    does it (the row's min..max, widened to hold 0, onto 0..255: scale =
    (max - min) / 255, zero point = round(-min / scale)), an initializer of
    uint8 with per-row scale and zero point read by DequantizeLinear(axis=0)
    (opset 13); form "float16": the table in float16, read by Cast(to
    float). Returns each table's values as the rewritten model reads them
    (dequantized; widened from float16), by initializer name."""
    import onnx
    from onnx import helper, numpy_helper
    m = onnx.load(path)
    g = m.graph
    inits = {t.name: t for t in g.initializer}
    nodes, shipped = [], {}
    for name in embedding_tables(g):
        w = numpy_helper.to_array(inits[name]).astype(np.float32)
        g.initializer.remove(inits[name])
        if form == "float16":
            g.initializer.append(numpy_helper.from_array(w.astype(np.float16), name + "_f16"))
            nodes.append(helper.make_node("Cast", [name + "_f16"], [name], name=name + "_cast",
                                          to=onnx.TensorProto.FLOAT))
            shipped[name] = w.astype(np.float16).astype(np.float32)
            continue
        lo = np.minimum(w.min(axis=1), 0.0)
        hi = np.maximum(w.max(axis=1), 0.0)
        scale = np.where(hi > lo, (hi - lo) / 255.0, 1.0).astype(np.float32)
        zp = np.clip(np.round(-lo / scale), 0, 255).astype(np.uint8)
        q = np.clip(np.round(w / scale[:, None]) + zp[:, None], 0, 255).astype(np.uint8)
        g.initializer.extend([numpy_helper.from_array(q, name + "_q"), numpy_helper.from_array(scale, name + "_scale"),
                              numpy_helper.from_array(zp, name + "_zp")])
        nodes.append(helper.make_node("DequantizeLinear", [name + "_q", name + "_scale", name + "_zp"], [name],
                                      name=name + "_dq", axis=0))
        shipped[name] = (q.astype(np.float32) - zp[:, None].astype(np.float32)) * scale[:, None]  # ONNX's rule
    assert nodes, "no embedding tables found"
    rest = list(g.node)
    del g.node[:]
    g.node.extend(nodes + rest)
    onnx.checker.check_model(m)
    onnx.save(m, path)
    return shipped


def torchvision_model(name, **kw):
    import torchvision
    return lambda: getattr(torchvision.models, name)(weights=None, **kw)


def fake_quant_fx(model, example, calibration):
    """model (a float nn.Module in eval mode) statically quantized by
    PyTorch's own tooling: FX prepare_fx (which fuses conv/bn/relu) with
    fake-quant modules, which export as QuantizeLinear/DequantizeLinear
    pairs (a QDQ model, as onnxruntime's quantizer also writes them): uint8
    activations per tensor (moving-average min/max observers), int8 weights
    per output channel, symmetric in [-127, 127]. The observers see every
    batch of `calibration` (an iterable of input tensors), then are frozen;
    `example` is an input for tracing."""
    from torch.ao.quantization import (QConfig, QConfigMapping, FakeQuantize, MovingAverageMinMaxObserver,
                                       MovingAveragePerChannelMinMaxObserver, disable_observer)
    from torch.ao.quantization.quantize_fx import prepare_fx
    act = FakeQuantize.with_args(observer=MovingAverageMinMaxObserver, quant_min=0, quant_max=255,
                                 dtype=torch.quint8, qscheme=torch.per_tensor_affine)
    weight = FakeQuantize.with_args(observer=MovingAveragePerChannelMinMaxObserver, quant_min=-127,
                                    quant_max=127, dtype=torch.qint8, qscheme=torch.per_channel_symmetric,
                                    ch_axis=0)
    mapping = QConfigMapping().set_global(QConfig(activation=act, weight=weight))
    q = prepare_fx(model, mapping, example_inputs=(example,))
    with torch.no_grad():
        for x in calibration:
            q(x)
    q.apply(disable_observer)
    return q.eval()


def qdq(ctor, calib_shape):
    """ctor's model (random weights, randomized batch norms) quantized by
    fake_quant_fx, calibrated on 8 random inputs. The reference outputs are
    the fake-quant model's."""
    def make():
        gen = torch.Generator().manual_seed(2)
        model = ctor().eval()
        with torch.no_grad():
            randomize_bn(model, gen)
        example = torch.randn(*calib_shape, generator=gen)
        return fake_quant_fx(model, example, (torch.randn(*calib_shape, generator=gen) for _ in range(8)))
    return make


# The DLRMs' outputs (sigmoids in (0, 1)) with tables in 8 or 16 bits
# against the float32 model. Measured (PyTorch with the shipped tables
# against the float32 model; the device is within 1.2e-7 of the former):
# uint8 per row, 0.00126 (dlrm) and 0.00228 (dlrm_bag) on the reference
# inputs, at most 0.0063 over 300 random batches of each; float16, 8.8e-5,
# at most 3.5e-4.
TOL_INT8_TABLES = 0.01
TOL_FP16_TABLES = 1e-3

# name: (constructor, input shapes, tolerance)
MODELS = {
    "convbnrelu": (ConvBnRelu, [(2, 3, 16, 16)], 1e-4),
    "depthwise": (Depthwise, [(1, 3, 32, 32)], 1e-4),
    "branches": (Branches, [(1, 4, 12, 12)], 1e-4),
    "shufflesplit": (ShuffleSplit, [(1, 4, 8, 8)], 1e-4),
    "mlp": (Mlp, [(4, 32)], 1e-4),
    "seqlinear": (SeqLinear, [(2, 5, 16)], 1e-4),
    "twoinout": (TwoInOut, [(1, 3, 8, 8), (1, 3, 8, 8)], 1e-4),
    "lngelu": (LayerNormGeluMlp, [(2, 16, 64)], 1e-4),
    "encoder": (Encoder, [(2, 16, 64)], 1e-4),
    "encoder_seqfirst": (lambda: Encoder(batch_first=False, padding=True), [(16, 2, 64)], 1e-4),
    "encoder_mask": (lambda: Encoder(mask_input=True), [(2, 16, 64), causal_mask(16)], 1e-4),
    "selfattn": (SelfAttention, [(8, 2, 32)], 1e-4),
    "bert": (Bert, [ids((2, Bert.SEQ), Bert.VOCAB), Bert.attention_mask([16, 11])], 1e-4),
    "bert_mask": (lambda: Bert(padding_mask=True), [ids((3, Bert.SEQ), Bert.VOCAB), Bert.attention_mask([16, 9, 4])],
                  1e-4),
    "dlrm": (Dlrm, [(8, 13)] + [ids((8, 4), r) for r in Dlrm.ROWS], 1e-4),
    "dlrm_bag": (DlrmBag, DlrmBag.inputs(), 1e-4),
    # The DLRMs with their tables shipped as uint8 per row (DequantizeLinear,
    # axis 0) or float16 (Cast), against the float32 model's output: the
    # tolerance covers the tables' quantization (TOL_INT8_TABLES; also
    # docs/mtia-compile.md, "Embedding tables in int8 or float16").
    "dlrm_int8_tables": (Dlrm, [(8, 13)] + [ids((8, 4), r) for r in Dlrm.ROWS], TOL_INT8_TABLES),
    "dlrm_bag_int8_tables": (DlrmBag, DlrmBag.inputs(), TOL_INT8_TABLES),
    "dlrm_fp16_tables": (Dlrm, [(8, 13)] + [ids((8, 4), r) for r in Dlrm.ROWS], TOL_FP16_TABLES),
    "seghead": (SegHead, [(2, 3, 32, 40)], 1e-4),
    "qdq_convbnrelu": (qdq(ConvBnRelu, (2, 3, 16, 16)), [(2, 3, 16, 16)], 0.005),
    "resnet18": (torchvision_model("resnet18"), [(1, 3, 224, 224)], 1e-3),
    "resnet18_b8": (torchvision_model("resnet18"), [(8, 3, 224, 224)], 1e-3),
    "mobilenet_v2": (torchvision_model("mobilenet_v2"), [(1, 3, 224, 224)], 1e-3),
    "squeezenet1_0": (torchvision_model("squeezenet1_0"), [(1, 3, 224, 224)], 1e-3),
    "shufflenet_v2_x0_5": (torchvision_model("shufflenet_v2_x0_5"), [(1, 3, 224, 224)], 1e-3),
    "mobilenet_v3_small": (torchvision_model("mobilenet_v3_small"), [(1, 3, 224, 224)], 1e-3),
    "efficientnet_b0": (torchvision_model("efficientnet_b0"), [(1, 3, 224, 224)], 1e-3),
    "googlenet": (torchvision_model("googlenet", aux_logits=False, init_weights=True), [(1, 3, 224, 224)], 1e-3),
    "densenet121": (torchvision_model("densenet121"), [(1, 3, 224, 224)], 1e-3),
}

# Larger or slower ones, built only on request (--extra or --only NAME): the
# model tests check every model of the manifest, these included.
EXTRA = {
    "alexnet": (torchvision_model("alexnet"), [(1, 3, 224, 224)], 1e-3),
    "vgg11": (torchvision_model("vgg11"), [(1, 3, 224, 224)], 1e-3),
    "resnet50": (torchvision_model("resnet50"), [(1, 3, 224, 224)], 1e-3),
    "resnext50_32x4d": (torchvision_model("resnext50_32x4d"), [(1, 3, 224, 224)], 1e-3),
    "mnasnet0_5": (torchvision_model("mnasnet0_5"), [(1, 3, 224, 224)], 1e-3),
    "regnet_x_400mf": (torchvision_model("regnet_x_400mf"), [(1, 3, 224, 224)], 1e-3),
    "mobilenet_v3_large": (torchvision_model("mobilenet_v3_large"), [(1, 3, 224, 224)], 1e-3),
    "inception_v3": (torchvision_model("inception_v3", aux_logits=False, init_weights=True), [(1, 3, 299, 299)], 1e-3),
}
# `make bench`'s workloads (tests/bench/run-bench.sh; built into their own
# directory, as the compiler's tests check every model of a manifest): a
# DLRM of 8 tables x 100k rows x 64 looked up by bags of 20 ids, with
# bottom MLP 13-512-256-64 and top MLP 512-256-1 (DLRM's Criteo Kaggle
# shape), at batch 128 and 512; a transformer encoder layer of d_model 256,
# 4 heads, FFN 1024, sequence 128, batch 8.
DLRM_BENCH = dict(rows=(100000,) * 8, dim=64, bottom=(512, 256), top=(512, 256))
BENCH = {
    "dlrm_bench_b128": (lambda: Dlrm(**DLRM_BENCH), [(128, 13)] + [ids((128, 20), 100000)] * 8, 1e-4),
    "dlrm_bench_b512": (lambda: Dlrm(**DLRM_BENCH), [(512, 13)] + [ids((512, 20), 100000)] * 8, 1e-4),
    "encoder_bench": (lambda: Encoder(d_model=256, heads=4, ffn=1024), [(8, 128, 256)], 1e-4),
    "resnet18_int8": (qdq(torchvision_model("resnet18"), (1, 3, 224, 224)), [(1, 3, 224, 224)], 0.05),
    "resnet18_int8_b8": (qdq(torchvision_model("resnet18"), (1, 3, 224, 224)), [(8, 3, 224, 224)], 0.05),
}
ALL = {**MODELS, **EXTRA, **BENCH}
SHIPPED_TOL = 1e-4
# Models whose exported ONNX is rewritten before use: name -> function of
# the .onnx path, returning the values the rewritten model reads for some
# parameters. Their reference outputs stay the float32 PyTorch model's
# (checked within the entry's tolerance: the rewrite's own error), and
# "shipped_outputs" are the PyTorch model's with those values (checked
# within SHIPPED_TOL: the device's error alone).
POST_EXPORT = {"dlrm_int8_tables": lambda p: ship_tables(p, "uint8"),
               "dlrm_bag_int8_tables": lambda p: ship_tables(p, "uint8"),
               "dlrm_fp16_tables": lambda p: ship_tables(p, "float16")}
# Tolerance relative to the output's size: tol * max(1, max |ref|).
RELATIVE_TOL = {"lngelu", "encoder", "encoder_seqfirst", "encoder_mask", "selfattn", "seghead", "encoder_bench",
                "bert", "bert_mask"}


def randomize_bn(model, gen):
    """Non-trivial batch-norm statistics, so folding them is tested."""
    for m in model.modules():
        if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            c = m.num_features
            m.running_mean.copy_(torch.randn(c, generator=gen) * 0.1)
            m.running_var.copy_(torch.rand(c, generator=gen) * 0.5 + 0.75)
            m.weight.data.copy_(torch.rand(c, generator=gen) * 0.5 + 0.75)
            m.bias.data.copy_(torch.randn(c, generator=gen) * 0.1)


def build(name, out_dir, opset):
    ctor, shapes, tol = ALL[name]
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(1)
    model = ctor().eval()
    with torch.no_grad():
        randomize_bn(model, gen)
        # A shape is a random input; ids(...) random int64 ids; a tensor is
        # that input (masks).
        inputs = tuple(s if isinstance(s, torch.Tensor) else
                       torch.randint(0, s[2], s[1], generator=gen) if s[0] == "ids" else
                       torch.randn(*s, generator=gen) for s in shapes)
        outputs = model(*inputs)
    if isinstance(outputs, torch.Tensor):
        outputs = (outputs,)
    if name in RELATIVE_TOL:
        tol *= max([1.0] + [float(o.abs().max()) for o in outputs])
    in_names = [f"input{i}" for i in range(len(inputs))]
    out_names = [f"output{i}" for i in range(len(outputs))]
    path = os.path.join(out_dir, name + ".onnx")
    torch.onnx.export(model, inputs, path, opset_version=opset, input_names=in_names,
                      output_names=out_names, do_constant_folding=True)
    entry = {"name": name, "onnx": name + ".onnx", "tolerance": tol, "inputs": [], "outputs": []}
    shipped_outputs = ()
    if name in POST_EXPORT:
        shipped = POST_EXPORT[name](path)
        state = model.state_dict()
        for k, v in shipped.items():
            assert k in state, f"{name}: ONNX initializer {k} is no parameter of the model"
            state[k] = torch.from_numpy(v)
        model.load_state_dict(state)
        with torch.no_grad():
            shipped_outputs = model(*inputs)
        if isinstance(shipped_outputs, torch.Tensor):
            shipped_outputs = (shipped_outputs,)
        entry["shipped_outputs"], entry["shipped_tolerance"] = [], SHIPPED_TOL
    for kind, names, tensors in (("input", in_names, inputs), ("output", out_names, outputs),
                                 ("shipped_output", out_names, shipped_outputs)):
        for i, (n, t) in enumerate(zip(names, tensors)):
            f = f"{name}.{kind}{i}.npy"
            a = t.detach().numpy()
            np.save(os.path.join(out_dir, f), a if a.dtype == np.int64 else a.astype(np.float32))
            entry[kind + "s"].append({"name": n, "file": f, "shape": list(t.shape)})
    return entry


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", help="output directory (required unless --list)")
    ap.add_argument("--only", nargs="*", default=None, help="build these (default, EXTRA and BENCH names)")
    ap.add_argument("--opset", type=int, default=13)
    ap.add_argument("--extra", action="store_true", help="also build the larger EXTRA models")
    ap.add_argument("--list", action="store_true", help="print the default set's names")
    args = ap.parse_args()
    if args.list:
        print("\n".join(MODELS))
        return 0
    if not args.out:
        ap.error("--out is required")
    names = args.only or list(MODELS) + (list(EXTRA) if args.extra else [])
    for n in names:
        if n not in ALL:
            print(f"unknown model {n}; known: {' '.join(ALL)}", file=sys.stderr)
            return 2
    os.makedirs(args.out, exist_ok=True)
    manifest_path = os.path.join(args.out, "manifest.json")
    manifest = {}
    if os.path.exists(manifest_path) and args.only:
        with open(manifest_path) as f:
            manifest = {e["name"]: e for e in json.load(f)}
    for n in names:
        t = time.time()
        manifest[n] = build(n, args.out, args.opset)
        print(f"  {n:20s} {time.time() - t:5.1f} s", flush=True)
    with open(manifest_path, "w") as f:
        json.dump([manifest[k] for k in ALL if k in manifest], f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
