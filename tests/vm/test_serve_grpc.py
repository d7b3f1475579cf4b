#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""mtia-serve's gRPC endpoint (docs/serving.md "gRPC") in the VM, driven by
Python's grpcio with stubs generated at run time from our
grpc_predict_v2.proto (tests/vm/test-serve-grpc.sh runs it). One server
start: health, server and model metadata, readiness; resnet18 and the DLRM
(tests/vm/test-serve.sh --prepare's files) through ModelInfer with typed
contents and with raw contents against PyTorch's outputs; ModelStatistics
(counts grow by the requests made, concurrent requests coalesced count as
fewer executions, NOT_FOUND for an unknown model); NOT_FOUND for an
unknown model or version, INVALID_ARGUMENT for a wrong shape, datatype or
output; DEADLINE_EXCEEDED from the request's timeout parameter and from the
client's gRPC deadline, the server counting it as a timeout that never ran;
the repository RPCs (index, unload, load); 32 clients on a 1-deep queue
(only OK and RESOURCE_EXHAUSTED, never a timeout); then SIGTERM under load
from 32 gRPC and 4 REST clients: every accepted request answered, every OK
and 200 the server sent received, exit 0. Ends with "N passed, M failed"."""

import argparse
import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(TOP, "tests"))
sys.path.insert(0, HERE)
import grpc  # noqa: E402
from pycheck import Checks, grpc_stubs, wait_until  # noqa: E402
from serve_client import DTYPES, NP, compare, manifest_entry, model_inputs, request_body  # noqa: E402

pb, pb_grpc = grpc_stubs(os.path.join(TOP, "tools", "mtia-serve", "grpc_predict_v2.proto"))
Code = grpc.StatusCode
# The typed contents field of each numpy dtype (the protocol's).
FIELD = {"float32": "fp32_contents", "int64": "int64_contents", "int32": "int_contents", "int8": "int_contents",
         "uint8": "uint_contents", "bool": "bool_contents"}
WAIT = 60 * float(os.environ.get("MTIA_WAIT_SCALE", "1"))  # s: generous bound of any one wait


class Served:
    """Every OK ModelInfer answer any client got (the drain check compares
    it with the server's count)."""
    ok = 0
    lock = threading.Lock()


def infer_request(model, inputs, raw, version="", timeout_us=None, outputs=()):
    req = pb.ModelInferRequest(model_name=model, model_version=version, id="t")
    for name, a in inputs:
        t = req.inputs.add(name=name, datatype=DTYPES[str(a.dtype)], shape=list(a.shape))
        if raw:
            req.raw_input_contents.append(np.ascontiguousarray(a).tobytes())
        else:
            getattr(t.contents, FIELD[str(a.dtype)]).extend(a.ravel().tolist())
    for o in outputs:
        req.outputs.add(name=o)
    if timeout_us is not None:
        req.parameters["timeout"].int64_param = timeout_us
    return req


def response_arrays(res):
    """{name: array} of a ModelInferResponse, raw or typed."""
    out = {}
    for i, o in enumerate(res.outputs):
        dt = np.dtype(NP[o.datatype])
        if res.raw_output_contents:
            a = np.frombuffer(res.raw_output_contents[i], dtype=dt)
        else:
            a = np.array(getattr(o.contents, FIELD[str(dt)]), dtype=dt)
        out[o.name] = a.reshape(list(o.shape))
    return out


def call(stub, method, req, timeout=WAIT):
    """(status code, response or None, details) of one RPC."""
    try:
        res = getattr(stub, method)(req, timeout=timeout)
    except grpc.RpcError as e:
        return e.code(), None, e.details()
    if method == "ModelInfer":
        with Served.lock:
            Served.ok += 1
    return Code.OK, res, ""


def hammer(target, req, clients, count=None, stop=None, after_error=False):
    """clients threads, a channel each, send req until count were sent (or
    stop is set, or, with after_error, each thread's first failure);
    returns (threads, status codes, seconds per call) as they fill."""
    lock = threading.Lock()
    left = [count if count is not None else 1 << 30]
    codes, lat = [], []

    def worker():
        stub = pb_grpc.GRPCInferenceServiceStub(grpc.insecure_channel(target))
        while not (stop and stop.is_set()):
            with lock:
                if left[0] == 0:
                    return
                left[0] -= 1
            t0 = time.monotonic()
            code, _, _ = call(stub, "ModelInfer", req)
            with lock:
                codes.append(code)
                lat.append(time.monotonic() - t0)
            if after_error and code != Code.OK:
                return

    ts = [threading.Thread(target=worker) for _ in range(clients)]
    for t in ts:
        t.start()
    return ts, codes, lat


def load(a):
    """serve-bench's gRPC line: a.count raw requests of manifest model
    a.load over 32 clients; prints and exits non-zero unless all are OK."""
    req = infer_request(a.load, model_inputs(a.models, a.load), True)
    t0 = time.monotonic()
    ts, codes, lat = hammer("127.0.0.1:%d" % a.grpc_port, req, 32, count=a.count)
    for t in ts:
        t.join()
    secs = time.monotonic() - t0
    ok = codes.count(Code.OK)
    lat.sort()
    print("serve %s gRPC: mtia-serve (dynamic batching, 32 grpcio clients, raw contents) %.1f req/s "
          "(p50 %.1f ms, p99 %.1f ms), %d of %d OK" % (a.load, ok / secs, 1000 * lat[len(lat) // 2],
                                                       1000 * lat[min(len(lat) - 1, int(0.99 * len(lat)))], ok,
                                                       a.count))
    return 0 if ok == a.count else 1


class Test:
    def __init__(self, a):
        self.a = a
        self.c = Checks()
        self.tmp = tempfile.mkdtemp(prefix="serve-grpc-")
        self.log = os.path.join(self.tmp, "serve.log")
        self.target = "127.0.0.1:%d" % a.grpc_port
        self.stub = pb_grpc.GRPCInferenceServiceStub(grpc.insecure_channel(self.target))
        self.proc = None

    def repo(self):
        """resnet18; dlrm versions 1 and 2; dlrm_tiny (a 1-deep queue);
        dlrm_slow (batches wait 1.5 s for company); dlrm_spare (unloaded and
        loaded); dlrm_stats (batches wait 1 s: concurrent requests coalesce);
        a corrupt model."""
        serve = os.path.join(self.a.models, "serve")
        configs = {"resnet18": {"max_batch": 8, "max_queue_delay_us": 2000},
                   "dlrm": {"versions": "all", "max_batch": 32, "max_queue_delay_us": 2000, "queue_capacity": 128},
                   "dlrm_tiny": {"queue_capacity": 1, "max_batch": 8, "max_queue_delay_us": 0},
                   "dlrm_slow": {"max_batch": 32, "max_queue_delay_us": 1500000},
                   "dlrm_spare": {},
                   "dlrm_stats": {"max_batch": 32, "max_queue_delay_us": 1000000}}
        root = os.path.join(self.tmp, "repo")
        for name, config in configs.items():
            src = os.path.join(serve, ("resnet18" if name == "resnet18" else "dlrm") + ".mtia")
            for v in (["1", "2"] if name == "dlrm" else ["1"]):
                os.makedirs(os.path.join(root, name, v))
                shutil.copy(src, os.path.join(root, name, v, "model.mtia"))
            with open(os.path.join(root, name, "config.json"), "w") as f:
                json.dump(config, f)
        os.makedirs(os.path.join(root, "broken", "1"))
        with open(os.path.join(root, "broken", "1", "model.mtia"), "wb") as f:
            f.write(os.urandom(4096))
        return root

    def start(self):
        with open(self.log, "w") as log:
            self.proc = subprocess.Popen([self.a.serve, "--model-repository", self.repo(), "--http-address",
                                          "127.0.0.1", "--http-port", str(self.a.http_port), "--grpc-address",
                                          "127.0.0.1", "--grpc-port", str(self.a.grpc_port), "--metrics-port",
                                          str(self.a.metrics_port)], stderr=log)

        # Its log says when both ports listen (a channel polled before that
        # would back off between its connection attempts).
        wait_until(lambda: self.proc.poll() is not None or "mtia-serve: serving" in self.log_text(), WAIT, 0.1)
        code, res, _ = call(self.stub, "ServerReady", pb.ServerReadyRequest())
        up = self.proc.poll() is None and code == Code.OK and res.ready
        if not self.c.check("mtia-serve starts and ServerReady says ready", up):
            print(self.log_text())
        return up

    def log_text(self):
        with open(self.log) as f:
            return f.read()

    def metrics(self):
        c = http.client.HTTPConnection("127.0.0.1", self.a.metrics_port, timeout=WAIT)
        c.request("GET", "/metrics")
        return c.getresponse().read().decode()

    def health_and_metadata(self):
        c, s = self.c, self.stub
        code, res, _ = call(s, "ServerLive", pb.ServerLiveRequest())
        c.check("ServerLive: live", code == Code.OK and res.live)
        code, res, _ = call(s, "ServerMetadata", pb.ServerMetadataRequest())
        c.check("ServerMetadata names mtia-serve and the model_repository extension",
                code == Code.OK and res.name == "mtia-serve" and "model_repository" in res.extensions, res)
        code, res, _ = call(s, "ModelMetadata", pb.ModelMetadataRequest(name="resnet18"))
        ok = code == Code.OK and res.platform == "mtia" and res.inputs[0].datatype == "FP32" and \
            list(res.inputs[0].shape) == [-1, 3, 224, 224] and list(res.outputs[0].shape) == [-1, 1000]
        c.check("ModelMetadata resnet18: FP32 [-1,3,224,224] in, [-1,1000] out", ok, res)
        code, res, _ = call(s, "ModelMetadata", pb.ModelMetadataRequest(name="dlrm"))
        c.check("ModelMetadata dlrm lists versions 1 and 2", code == Code.OK and list(res.versions) == ["1", "2"],
                res)
        code, res, _ = call(s, "ModelReady", pb.ModelReadyRequest(name="dlrm", version="1"))
        c.check("ModelReady dlrm version 1: ready", code == Code.OK and res.ready)
        code, _, d = call(s, "ModelReady", pb.ModelReadyRequest(name="nope"))
        c.check("ModelReady of an unknown model is NOT_FOUND", code == Code.NOT_FOUND, code)
        code, _, d = call(s, "ModelMetadata", pb.ModelMetadataRequest(name="dlrm", version="7"))
        c.check("ModelMetadata of an unknown version is NOT_FOUND: " + d, code == Code.NOT_FOUND, code)
        code, res, _ = call(s, "RepositoryIndex", pb.RepositoryIndexRequest())
        states = {(m.name, m.version): m.state for m in res.models} if res else {}
        print("  index:", sorted(states.items()))
        c.check("RepositoryIndex: dlrm 1, 2 and resnet18 READY, the corrupt model UNAVAILABLE",
                states.get(("dlrm", "1")) == states.get(("dlrm", "2")) == states.get(("resnet18", "1")) == "READY"
                and states.get(("broken", "")) == "UNAVAILABLE")

    def infer_matches(self, what, model, name, raw, rows=None, version=""):
        e = manifest_entry(self.a.models, name)
        want = np.load(os.path.join(self.a.models, e["outputs"][0]["file"]))
        if rows is not None:
            want = want[rows]
        req = infer_request(model, model_inputs(self.a.models, name, rows), raw, version)
        code, res, d = call(self.stub, "ModelInfer", req)
        ok = code == Code.OK and res.model_name == model and res.id == "t" and \
            (version == "" or res.model_version == version) and bool(res.raw_output_contents) == raw
        ok = ok and compare(response_arrays(res)["output0"], want, e["tolerance"], what)
        self.c.check(what + " matches PyTorch", ok, "%s %s" % (code, d))

    def inference(self):
        self.infer_matches("resnet18, raw contents", "resnet18", "resnet18", True)
        self.infer_matches("resnet18, typed fp32_contents", "resnet18", "resnet18", False)
        self.infer_matches("resnet18, 8 samples in one raw request (4.8 MB)", "resnet18", "resnet18_b8", True)
        self.infer_matches("resnet18, sample 5 alone", "resnet18", "resnet18_b8", True, slice(5, 6))
        self.infer_matches("dlrm, typed contents (fp32 and int64)", "dlrm", "dlrm", False)
        self.infer_matches("dlrm version 1, raw contents", "dlrm", "dlrm", True, version="1")

    def stats_of(self, name, version=""):
        code, res, d = call(self.stub, "ModelStatistics", pb.ModelStatisticsRequest(name=name, version=version))
        return res.model_stats[0] if code == Code.OK and len(res.model_stats) == 1 else None

    def statistics(self):
        c, s = self.c, self.stub
        code, res, _ = call(s, "ServerMetadata", pb.ServerMetadataRequest())
        c.check("ServerMetadata lists the statistics extension", code == Code.OK and "statistics" in res.extensions)
        # k one-sample requests one after the other: k inferences, k runs.
        k, one = 3, model_inputs(self.a.models, "dlrm", slice(0, 1))
        a = self.stats_of("dlrm_spare", "1")
        for _ in range(k):
            call(s, "ModelInfer", infer_request("dlrm_spare", one, True))
        b = self.stats_of("dlrm_spare")
        ok = a is not None and b is not None and b.name == "dlrm_spare" and b.version == "1"
        if ok:
            da, db = a.inference_stats, b.inference_stats
            print("  dlrm_spare after %d requests: inference_count +%d, execution_count +%d, success +%d, "
                  "compute_infer %.3f ms each" % (k, b.inference_count - a.inference_count,
                                                  b.execution_count - a.execution_count,
                                                  db.success.count - da.success.count,
                                                  (db.compute_infer.ns - da.compute_infer.ns) / k / 1e6))
            ok = b.inference_count - a.inference_count == k and b.execution_count - a.execution_count == k and \
                db.success.count - da.success.count == k and db.fail.count == da.fail.count and \
                db.queue.count - da.queue.count == k and db.compute_infer.ns > da.compute_infer.ns and \
                abs(b.last_inference / 1000 - time.time()) < 60
        c.check("ModelStatistics: %d requests grow inference_count, execution_count and success by %d" % (k, k), ok,
                (a, b))
        # 4 concurrent requests in one 1 s batch window: fewer executions
        # than requests, the batch sizes adding up to the 4 samples.
        threads = [threading.Thread(target=call, args=(s, "ModelInfer", infer_request("dlrm_stats", one, True)))
                   for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        b = self.stats_of("dlrm_stats")
        sizes = {x.batch_size: x.compute_infer.count for x in b.batch_stats} if b else {}
        print("  dlrm_stats: 4 requests, %d executions, batch sizes %s" % (b.execution_count if b else -1, sizes))
        c.check("ModelStatistics: 4 concurrent requests coalesced count as fewer executions than requests",
                b is not None and b.inference_count == 4 and b.inference_stats.success.count == 4 and
                b.execution_count < 4 and b.execution_count == sum(sizes.values()) and
                sum(n * m for n, m in sizes.items()) == 4, b)
        code, res, _ = call(s, "ModelStatistics", pb.ModelStatisticsRequest())
        names = {(m.name, m.version) for m in res.model_stats} if res else set()
        c.check("ModelStatistics of every model lists each loaded version, not the corrupt model",
                code == Code.OK and {("dlrm", "1"), ("dlrm", "2"), ("resnet18", "1")} <= names and
                not any(n == "broken" for n, _ in names), names)
        code, _, d = call(s, "ModelStatistics", pb.ModelStatisticsRequest(name="nope"))
        c.check("ModelStatistics of an unknown model is NOT_FOUND: " + d, code == Code.NOT_FOUND, code)

    def bad_requests(self):
        c, s = self.c, self.stub
        dlrm = model_inputs(self.a.models, "dlrm")
        code, _, d = call(s, "ModelInfer", infer_request("nope", dlrm, True))
        c.check("ModelInfer of an unknown model is NOT_FOUND: " + d, code == Code.NOT_FOUND, code)
        code, _, d = call(s, "ModelInfer", infer_request("dlrm", dlrm, True, version="7"))
        c.check("ModelInfer of an unknown version is NOT_FOUND: " + d, code == Code.NOT_FOUND, code)
        wrong = [(n, a[:, :12] if n == "input0" else a) for n, a in dlrm]
        code, _, d = call(s, "ModelInfer", infer_request("dlrm", wrong, True))
        # The same text as REST's 400 (the request path is shared).
        c.check("a wrong shape is INVALID_ARGUMENT: " + d, code == Code.INVALID_ARGUMENT and "has shape [8,12]" in d)
        wrong = [(n, a.astype(np.float32)) for n, a in dlrm]
        code, _, d = call(s, "ModelInfer", infer_request("dlrm", wrong, False))
        c.check("a wrong datatype is INVALID_ARGUMENT: " + d,
                code == Code.INVALID_ARGUMENT and "has datatype FP32, the model takes INT64" in d)
        code, _, d = call(s, "ModelInfer", infer_request("dlrm", dlrm, True, outputs=["zz"]))
        c.check("an unknown output is INVALID_ARGUMENT: " + d,
                code == Code.INVALID_ARGUMENT and "unexpected inference output 'zz'" in d)
        short = infer_request("dlrm", dlrm, True)
        short.raw_input_contents[1] = short.raw_input_contents[1][:8]
        code, _, d = call(s, "ModelInfer", short)
        c.check("raw contents shorter than the shape is INVALID_ARGUMENT: " + d, code == Code.INVALID_ARGUMENT)

    def deadlines(self):
        c, s = self.c, self.stub
        dlrm = model_inputs(self.a.models, "dlrm")
        t0 = time.monotonic()
        code, _, d = call(s, "ModelInfer", infer_request("dlrm_slow", dlrm, True, timeout_us=200000))
        c.check("a 200 ms timeout parameter on a model whose batches wait 1.5 s: DEADLINE_EXCEEDED from the "
                "server (%s, after %.2f s)" % (d, time.monotonic() - t0),
                code == Code.DEADLINE_EXCEEDED and "timed out in the queue" in d)
        code, _, d = call(s, "ModelInfer", infer_request("dlrm_slow", dlrm, True), timeout=0.5)
        c.check("a 0.5 s gRPC deadline there: DEADLINE_EXCEEDED", code == Code.DEADLINE_EXCEEDED, code)
        # The server took the client's deadline as the request's: both
        # counted as timeouts, neither ever ran (read on --metrics-port).
        pat = re.compile(r'mtia_serve_requests_total\{model="dlrm_slow",version="1",status="timeout"\} 2\b')
        text = wait_until(lambda: (lambda t: t if pat.search(t) else "")(self.metrics()), WAIT, 0.1)
        c.check("the server counts both as timeouts and ran neither",
                bool(text) and 'mtia_serve_batch_size_count{model="dlrm_slow"' not in text)

    def repository(self):
        c, s = self.c, self.stub
        dlrm = model_inputs(self.a.models, "dlrm")
        code, _, d = call(s, "RepositoryModelUnload", pb.RepositoryModelUnloadRequest(model_name="dlrm_spare"))
        c.check("RepositoryModelUnload dlrm_spare: OK", code == Code.OK, d)
        code, _, _ = call(s, "ModelReady", pb.ModelReadyRequest(name="dlrm_spare"))
        code2, _, d = call(s, "ModelInfer", infer_request("dlrm_spare", dlrm, True))
        c.check("then ModelReady and ModelInfer are NOT_FOUND: " + d, code == code2 == Code.NOT_FOUND)
        code, res, _ = call(s, "RepositoryIndex", pb.RepositoryIndexRequest())
        spare = [m for m in res.models if m.name == "dlrm_spare"] if res else []
        c.check("and the index has it UNAVAILABLE (unloaded)",
                len(spare) == 1 and spare[0].state == "UNAVAILABLE" and spare[0].reason == "unloaded", spare)
        code, _, d = call(s, "RepositoryModelLoad", pb.RepositoryModelLoadRequest(model_name="dlrm_spare"))
        c.check("RepositoryModelLoad dlrm_spare: OK", code == Code.OK, d)
        self.infer_matches("dlrm_spare after its load", "dlrm_spare", "dlrm", True)
        code, _, d = call(s, "RepositoryModelLoad", pb.RepositoryModelLoadRequest(model_name="nope"))
        c.check("RepositoryModelLoad of a model not in the repository is NOT_FOUND: " + d, code == Code.NOT_FOUND)

    def overload(self):
        req = infer_request("dlrm_tiny", model_inputs(self.a.models, "dlrm"), True)
        ts, codes, lat = hammer(self.target, req, 32, count=128)
        for t in ts:
            t.join()
        n_ok, n_full = codes.count(Code.OK), codes.count(Code.RESOURCE_EXHAUSTED)
        other = [x for x in codes if x not in (Code.OK, Code.RESOURCE_EXHAUSTED)]
        full_lat = sorted(t for x, t in zip(codes, lat) if x == Code.RESOURCE_EXHAUSTED)
        print("  overload dlrm_tiny: 32 clients, 128 calls: %d OK, %d RESOURCE_EXHAUSTED (p50 %.1f ms), other %s" %
              (n_ok, n_full, 1000 * full_lat[len(full_lat) // 2] if full_lat else float("nan"), sorted(set(other))))
        self.c.check("32 clients on a 1-deep queue: OK and RESOURCE_EXHAUSTED only, never a timeout",
                     n_ok > 0 and n_full > 0 and not other)

    def rest_clients(self, n, stop, out):
        """n REST clients (a connection per request) infer dlrm until their
        first non-200 or connection failure; out counts the outcomes."""
        body, hlen = request_body(model_inputs(self.a.models, "dlrm"), True)
        lock = threading.Lock()

        def worker():
            while not stop.is_set():
                try:
                    conn = http.client.HTTPConnection("127.0.0.1", self.a.http_port, timeout=WAIT)
                    conn.request("POST", "/v2/models/dlrm/infer", body=body, headers={
                        "Inference-Header-Content-Length": str(hlen), "Connection": "close"})
                    r = conn.getresponse()
                    r.read()
                    status = r.status
                    conn.close()
                except (OSError, http.client.HTTPException) as e:
                    with lock:
                        out["lost" if not isinstance(e, ConnectionRefusedError) else "refused"] += 1
                    return
                with lock:
                    out[str(status) if status in (200, 503) else "other"] += 1
                if status != 200:
                    return

        ts = [threading.Thread(target=worker) for _ in range(n)]
        for t in ts:
            t.start()
        return ts

    def sigterm(self):
        c = self.c
        stop = threading.Event()
        rest = {"200": 0, "503": 0, "other": 0, "refused": 0, "lost": 0}
        before = Served.ok
        req = infer_request("dlrm", model_inputs(self.a.models, "dlrm"), True)
        ts, codes, _ = hammer(self.target, req, 32, stop=stop, after_error=True)
        ts += self.rest_clients(4, stop, rest)
        wait_until(lambda: Served.ok - before >= 50 and rest["200"] >= 8, WAIT)
        self.proc.send_signal(signal.SIGTERM)
        for t in ts:
            t.join(WAIT)
        stop.set()
        try:
            rc = self.proc.wait(WAIT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        # A call still arriving while grpc++ shuts down is cancelled before
        # any handler sees it (as a REST connection in the listen backlog is
        # reset): refused, never accepted; the counts below show no answer lost.
        other = sorted(set(str(x) for x in codes if x not in (Code.OK, Code.UNAVAILABLE, Code.CANCELLED)))
        print("  sigterm: gRPC %d OK, %d UNAVAILABLE, %d CANCELLED during shutdown, other %s; REST %s" %
              (codes.count(Code.OK), codes.count(Code.UNAVAILABLE), codes.count(Code.CANCELLED), other, rest))
        c.check("SIGTERM under 32 gRPC and 4 REST clients: gRPC answers OK or UNAVAILABLE (or CANCELLED during "
                "shutdown), REST 200 or 503", not other and rest["other"] == 0 and codes.count(Code.OK) >= 50)
        c.check("mtia-serve exits 0 after draining (exit %s)" % rc, rc == 0)
        log = self.log_text()
        m = re.search(r"drained: HTTP (\d+) requests accepted, (\d+) answered, (\d+) with 200; "
                      r"gRPC (\d+) requests accepted, (\d+) answered, (\d+) OK", log)
        print("  " + (m.group(0) if m else "no drained line in the log:\n" + log))
        # A REST connection still in the listen backlog when the socket
        # closes is reset unread (never accepted): "lost" above.
        c.check("every accepted request was answered; clients got every OK (%d) and 200 (%d) the server sent" %
                (Served.ok, rest["200"]),
                m is not None and m.group(1) == m.group(2) and m.group(4) == m.group(5) and
                int(m.group(3)) == rest["200"] and int(m.group(6)) == Served.ok)

    def run(self):
        try:
            t0 = time.monotonic()
            if self.start():
                for phase in (self.health_and_metadata, self.inference, self.statistics, self.bad_requests,
                              self.deadlines, self.repository, self.overload, self.sigterm):
                    print("  [%.1f s] %s" % (time.monotonic() - t0, phase.__name__), flush=True)
                    phase()
            print("  [%.1f s] done" % (time.monotonic() - t0))
        finally:
            if self.proc and self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
            shutil.rmtree(self.tmp, True)
        return self.c.finish()


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--serve", help="the mtia-serve binary to test")
    p.add_argument("--load", metavar="NAME", help="instead: load a running server with manifest model NAME")
    p.add_argument("--count", type=int, default=256, help="--load's request count")
    p.add_argument("--models", required=True, help="build/models (manifest.json, serve/*.mtia)")
    p.add_argument("--http-port", type=int, default=18020)
    p.add_argument("--grpc-port", type=int, default=18021)
    p.add_argument("--metrics-port", type=int, default=18022)
    a = p.parse_args()
    if not a.load and not a.serve:
        p.error("--serve or --load is needed")
    sys.exit(load(a) if a.load else Test(a).run())


if __name__ == "__main__":
    main()
