# SPDX-License-Identifier: MIT
"""mtia.torch.compile: an nn.Module to a callable running on the device.

torch.onnx.export writes the module into memory (io.BytesIO), the compiler
library turns that into a .mtia image (mtia.compile_onnx: no temporary file,
no subprocess) and the image is loaded on the current device. The result
takes and returns torch tensors; its outputs have the module's structure
(tensors, tuples, lists, dicts), rebuilt from a flattened spec of the
eager outputs with the order torch.onnx.export flattens them in.
Compiled images are cached by a hash of the exported graph and the options,
so compiling the same module again skips the compiler.

batch_buckets: the module is exported with a dynamic dim 0 on every input
and output (torch.onnx.export's dynamic_axes) and compiled once per bucket
into one image sharing the weights; a call of any batch up to the largest
bucket runs the smallest bucket that fits (libmtia pads the inputs and
returns the call's batch).

dtype ("fp16", "bf16"): passed to the compiler (mtia.compile_onnx's
dtype=), which computes in that type and casts at the graph's float32
inputs and outputs, so the callable still takes and returns float32."""
import hashlib
import io
import threading

import numpy as np
import torch
from torch.utils import _pytree as pytree

import mtia

from . import _device

_INPUT_DTYPES = (torch.float32, torch.int64, torch.int32, torch.bool)  # what the device takes
_cache = {}  # sha256(graph bytes + options) -> .mtia bytes
_cache_lock = threading.Lock()
_stats = {"hits": 0, "misses": 0}


def cache_info():
    """{"hits", "misses", "size"} of the compiled-model cache."""
    with _cache_lock:
        return dict(_stats, size=len(_cache))


def clear_cache():
    """Empties the compiled-model cache."""
    with _cache_lock:
        _cache.clear()
        _stats.update(hits=0, misses=0)


def _export(module, inputs, n_out, dynamic_batch):
    names = ["input%d" % i for i in range(len(inputs))]
    outs = ["output%d" % i for i in range(n_out)]
    axes = {n: {0: "batch"} for n in names + outs} if dynamic_batch else None
    buf = io.BytesIO()
    # Not under no_grad: there nn.TransformerEncoderLayer (eval) takes its
    # fused fast path (aten::_transformer_encoder_layer_fwd), which has no
    # ONNX export; torch.onnx.export traces without recording gradients anyway.
    torch.onnx.export(module, inputs, buf, input_names=names, output_names=outs, opset_version=13,
                      do_constant_folding=True, dynamic_axes=axes)
    return buf.getvalue()


def _check_buckets(batch_buckets):
    if batch_buckets is None:
        return None
    try:
        buckets = [int(b) for b in batch_buckets]
    except (TypeError, ValueError):
        raise TypeError("batch_buckets must be a list of ints, e.g. [1, 8, 32]") from None
    if any(b != o for b, o in zip(buckets, batch_buckets)):
        raise TypeError("batch_buckets must be a list of ints, e.g. [1, 8, 32]")
    if not buckets or any(b < 1 for b in buckets) or buckets != sorted(set(buckets)):
        raise ValueError("batch_buckets must be ascending sizes >= 1 without repeats, e.g. [1, 8, 32]; got %r"
                         % (batch_buckets,))
    return buckets


def _compile_cached(graph, options):
    key = hashlib.sha256(graph + repr(sorted(options.items())).encode()).hexdigest()
    with _cache_lock:
        blob = _cache.get(key)
        _stats["hits" if blob is not None else "misses"] += 1
    if blob is None:
        blob = mtia.compile_onnx(graph, **options)
        with _cache_lock:
            _cache[key] = blob
    return blob


class CompiledModule:
    """A module compiled for an mtia device: call it with tensors shaped and
    typed like the example inputs; it returns CPU tensors in the module's
    output structure. .model is the mtia.Model, .device_index its device,
    .image the .mtia bytes."""

    def __init__(self, model, device_index, out_spec, n_out, image):
        self.model = model
        self.image = image
        self.device_index = device_index
        # The torch dtype of each model input (float32; int64/int32 ids, bool masks).
        self._in_dtypes = [torch.from_numpy(np.empty(0, t["dtype"])).dtype for t in model.inputs]
        self._out_spec = out_spec
        self._single = out_spec == pytree.tree_flatten(torch.zeros(()))[1]  # the module returns one tensor
        if len(model.outputs) != n_out:
            raise mtia.CompileError("the compiled model has %d outputs, the module returned %d tensors"
                                    % (len(model.outputs), n_out), "internal")

    def __call__(self, *args):
        # Per-call work is kept small: it is the Python overhead over the
        # C++ run() (make bench measures it).
        flat = args if all(type(a) is torch.Tensor for a in args) else pytree.tree_flatten(args)[0]
        arrays = []
        for i, t in enumerate(flat):
            if not isinstance(t, torch.Tensor):
                raise TypeError("input %d is a %s, expected a torch.Tensor" % (i, type(t).__name__))
            if i < len(self._in_dtypes) and t.dtype != self._in_dtypes[i]:
                raise TypeError("input %d has dtype %s; the compiled model takes %s" % (i, t.dtype, self._in_dtypes[i]))
            arrays.append(np.ascontiguousarray(t.detach().cpu().numpy()))
        outs = self.model.run(arrays)  # checks count and shapes (ValueError naming the input)
        if self._single:
            return torch.from_numpy(outs[0])
        return pytree.tree_unflatten([torch.from_numpy(o) for o in outs], self._out_spec)


def _check_dtype(dtype):
    """The compiler's name of a compute dtype ("fp32", "fp16", "bf16")."""
    names = {None: "fp32", torch.float32: "fp32", torch.float16: "fp16", torch.bfloat16: "bf16",
             "fp32": "fp32", "fp16": "fp16", "bf16": "bf16"}
    try:
        return names[dtype]
    except (KeyError, TypeError):
        raise ValueError("mtia.torch.compile: dtype must be 'fp32', 'fp16', 'bf16' or torch.float32, "
                         "torch.float16, torch.bfloat16; got %r" % (dtype,)) from None


def compile(module, example_inputs, dtype=None, batch_buckets=None):
    """Compiles module for the current device (the example inputs' shapes
    and dtypes: float32, or int64/int32 ids and bool masks).
    example_inputs: a tensor or a tuple of tensors. dtype: the compute
    precision, "fp32" (None, torch.float32: the default), "fp16"
    (torch.float16) or "bf16" (torch.bfloat16): weights and activations in
    that type (mtia-compile --dtype), inputs and outputs still float32
    tensors. batch_buckets: ascending batch sizes (e.g. [1, 8, 32]): one
    program each, sharing the weights; the result then takes any batch (dim
    0 of every input) up to the largest, and a larger one raises mtia.Error
    (INVALID_ARGUMENT: split the call). Unsupported ops raise
    mtia.CompileError naming the node and the op; a bad dtype ValueError."""
    precision = _check_dtype(dtype)
    buckets = _check_buckets(batch_buckets)
    inputs = tuple(example_inputs) if isinstance(example_inputs, (tuple, list)) else (example_inputs,)
    for i, t in enumerate(inputs):
        if not isinstance(t, torch.Tensor) or t.dtype not in _INPUT_DTYPES:
            raise TypeError("example input %d must be a tensor of torch.float32, int64, int32 or bool (ids, masks)"
                            % i)
    was_training = module.training
    module.eval()
    try:
        with torch.no_grad():
            eager = module(*inputs)
        flat_out, out_spec = pytree.tree_flatten(eager)
        if not all(isinstance(t, torch.Tensor) for t in flat_out):
            raise TypeError("the module's outputs must be tensors in tuples, lists or dicts")
        graph = _export(module, inputs, len(flat_out), buckets is not None)
    finally:
        module.train(was_training)
    options = {"name": type(module).__name__}
    if buckets is not None:
        options["batch_buckets"] = buckets
    if precision != "fp32":
        options["dtype"] = precision
    blob = _compile_cached(graph, options)
    index = _device.current_device()
    model = mtia.Model.from_bytes(_device.get_device(index), blob)
    return CompiledModule(model, index, out_spec, len(flat_out), blob)
