#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Writes the committed seed inputs of the fuzz targets (tests/fuzz/corpus/).

  tests/fuzz/make_corpus.py [--mtia-compile build/bin/mtia-compile]

Small files only; seeds derived from build outputs (compiled test models,
the firmware image, the command corpus) are added by run-fuzz.sh at run
time. Written here:
  onnx_import/   tiny ONNX graphs (onnx.helper), one or a few ops each
  model_loader/  those graphs compiled by mtia-compile (when it is built)
  npy/           .npy of every dtype mtia-run reads, version 2.0, a 0-d
                 array, an empty one, and .npz archives (stored, deflated)
  bootrom/       minimal boot images: a 4-byte payload, an extended header
"""
import argparse
import hashlib
import io
import os
import struct
import subprocess
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, 'corpus')
TOP = os.path.abspath(os.path.join(HERE, '..', '..'))


def write(sub, name, data):
    d = os.path.join(CORPUS, sub)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), 'wb') as f:
        f.write(data)


def vi(name, shape, dtype=TensorProto.FLOAT):
    return helper.make_tensor_value_info(name, dtype, shape)


def init(name, arr):
    return numpy_helper.from_array(np.asarray(arr), name)


def model(nodes, inputs, outputs, inits=(), opset=13):
    g = helper.make_graph(nodes, 'seed', inputs, outputs, list(inits))
    m = helper.make_model(g, opset_imports=[helper.make_opsetid('', opset)], producer_name='make_corpus')
    m.ir_version = 8
    onnx.checker.check_model(m)
    return m.SerializeToString()


def onnx_seeds():
    rng = np.random.default_rng(15)
    w = lambda *s: rng.standard_normal(s).astype(np.float32)
    N = helper.make_node
    return {
        'add_relu': model([N('Add', ['x', 'y'], ['s']), N('Relu', ['s'], ['z'])],
                          [vi('x', [2, 3]), vi('y', [2, 3])], [vi('z', [2, 3])]),
        'gemm': model([N('Gemm', ['x', 'w', 'b'], ['z'], transB=1)], [vi('x', [1, 4])], [vi('z', [1, 3])],
                      [init('w', w(3, 4)), init('b', w(3))]),
        'matmul_add': model([N('MatMul', ['x', 'w'], ['m']), N('Add', ['m', 'b'], ['z'])], [vi('x', [2, 4])],
                            [vi('z', [2, 3])], [init('w', w(4, 3)), init('b', w(3))]),
        'conv_relu': model([N('Conv', ['x', 'w', 'b'], ['c'], pads=[1, 1, 1, 1]), N('Relu', ['c'], ['z'])],
                           [vi('x', [1, 2, 4, 4])], [vi('z', [1, 3, 4, 4])], [init('w', w(3, 2, 3, 3)),
                                                                            init('b', w(3))]),
        'pool_flatten': model([N('MaxPool', ['x'], ['p'], kernel_shape=[2, 2], strides=[2, 2]),
                               N('Flatten', ['p'], ['z'])], [vi('x', [1, 2, 4, 4])], [vi('z', [1, 8])]),
        'softmax': model([N('Softmax', ['x'], ['z'], axis=-1)], [vi('x', [2, 5])], [vi('z', [2, 5])]),
        'reshape_transpose': model([N('Reshape', ['x', 'shape'], ['r']), N('Transpose', ['r'], ['z'], perm=[1, 0])],
                                   [vi('x', [2, 6])], [vi('z', [4, 3])],
                                   [init('shape', np.array([3, 4], dtype=np.int64))]),
        'concat_sigmoid': model([N('Concat', ['x', 'y'], ['c'], axis=1), N('Sigmoid', ['c'], ['z'])],
                                [vi('x', [1, 2]), vi('y', [1, 3])], [vi('z', [1, 5])]),
        'gather': model([N('Gather', ['table', 'ids'], ['z'], axis=0)], [vi('ids', [3], TensorProto.INT64)],
                        [vi('z', [3, 4])], [init('table', w(10, 4))]),
        'reduce_mean': model([N('ReduceMean', ['x'], ['z'], axes=[1], keepdims=0)], [vi('x', [2, 3])],
                             [vi('z', [2])]),
        'layernorm_ops': model([N('ReduceMean', ['x'], ['m'], axes=[-1]), N('Sub', ['x', 'm'], ['d']),
                                N('Mul', ['d', 'd'], ['q']), N('ReduceMean', ['q'], ['v'], axes=[-1]),
                                N('Add', ['v', 'eps'], ['ve']), N('Sqrt', ['ve'], ['s']),
                                N('Div', ['d', 's'], ['z'])], [vi('x', [2, 8])], [vi('z', [2, 8])],
                               [init('eps', np.array(1e-5, dtype=np.float32))]),
        'where_cast': model([N('Greater', ['x', 'y'], ['g']), N('Where', ['g', 'x', 'y'], ['z'])],
                            [vi('x', [4]), vi('y', [4])], [vi('z', [4])]),
        'opset7_add': model([N('Add', ['x', 'y'], ['z'])], [vi('x', [3]), vi('y', [3])], [vi('z', [3])], opset=7),
    }


def npy_bytes(arr, version=None):
    f = io.BytesIO()
    if version is None:
        np.save(f, arr)
    else:
        np.lib.format.write_array(f, np.asarray(arr), version=version)
    return f.getvalue()


def npz_bytes(compressed, **arrays):
    f = io.BytesIO()
    (np.savez_compressed if compressed else np.savez)(f, **arrays)
    return f.getvalue()


def npy_seeds():
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    return {
        'f32_2x3.npy': npy_bytes(a),
        'f16.npy': npy_bytes(a.astype(np.float16)),
        'i32.npy': npy_bytes(np.array([1, -2, 3], dtype=np.int32)),
        'i64.npy': npy_bytes(np.array([[5], [7]], dtype=np.int64)),
        'bool.npy': npy_bytes(np.array([True, False, True])),
        'i8.npy': npy_bytes(np.array([-128, 0, 127], dtype=np.int8)),
        'u8.npy': npy_bytes(np.array([0, 255], dtype=np.uint8)),
        'scalar.npy': npy_bytes(np.float32(2.5)),
        'empty.npy': npy_bytes(np.zeros((0, 3), dtype=np.float32)),
        'v2.npy': npy_bytes(a, version=(2, 0)),
        'stored.npz': npz_bytes(False, x=a, ids=np.array([1, 2], dtype=np.int64)),
        'deflated.npz': npz_bytes(True, x=a, arr_1=np.array([True])),
    }


def boot_image(payload, header_ext=b'', flags=0, load=0x10000000):
    hdr_size = 80 + len(header_ext)
    fmt = '<IHHIIIII5I32s'
    hdr = struct.pack(fmt, 0x5746544d, 1, hdr_size, load, load, len(payload), 0x00010000, flags, 0, 0, 0, 0, 0,
                      b'\0' * 32)
    digest = hashlib.sha256(hdr + header_ext + payload).digest()
    return hdr[:48] + digest + header_ext + payload


def bootrom_seeds():
    loop = struct.pack('<I', 0x0000006f)  # rv32 "j ." : spins
    return {
        'min.bin': boot_image(loop),
        'ext_header.bin': boot_image(loop * 4, header_ext=b'\x01\x02\x03\x04' * 4),
        'flags.bin': boot_image(loop, flags=1),
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--mtia-compile', default=os.path.join(TOP, 'build', 'bin', 'mtia-compile'))
    args = ap.parse_args()
    onnx_models = onnx_seeds()
    for name, data in onnx_models.items():
        write('onnx_import', name + '.onnx', data)
    for name, data in npy_seeds().items():
        write('npy', name, data)
    for name, data in bootrom_seeds().items():
        write('bootrom', name, data)
    if not os.access(args.mtia_compile, os.X_OK):
        print(f'make_corpus: no {args.mtia_compile}: model_loader seeds not written', file=sys.stderr)
        return 0
    out = os.path.join(CORPUS, 'model_loader')
    os.makedirs(out, exist_ok=True)
    for name in onnx_models:
        src = os.path.join(CORPUS, 'onnx_import', name + '.onnx')
        r = subprocess.run([args.mtia_compile, src, '-o', os.path.join(out, name + '.mtia')], capture_output=True,
                           text=True)
        if r.returncode:
            print(f'make_corpus: {name}: {r.stderr.strip()}', file=sys.stderr)
    return 0


if __name__ == '__main__':
    sys.exit(main())
