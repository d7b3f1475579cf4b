#!/usr/bin/env python3
"""mtia-serve's in-VM test driver (tests/vm/test-serve.sh): builds Open
Inference Protocol requests from the test models' .npy inputs (for curl),
checks responses against PyTorch's outputs, and runs the concurrent parts
with Python's own http.client (threads): the load test, overload (429s),
load/unload while serving and SIGTERM mid-load. Each subcommand prints what
it measured and exits non-zero if a check failed."""
import argparse
import http.client
import json
import os
import signal
import sys
import threading
import time

import numpy as np

DTYPES = {"float32": "FP32", "int64": "INT64", "int32": "INT32", "uint8": "UINT8", "int8": "INT8",
          "bool": "BOOL", "float16": "FP16"}
NP = {v: k for k, v in DTYPES.items()}


def manifest_entry(models_dir, name):
    with open(os.path.join(models_dir, "manifest.json")) as f:
        return [e for e in json.load(f) if e["name"] == name][0]


def model_inputs(models_dir, name, rows=None):
    """[(name, array)] of a manifest model's inputs; rows: slice of dim 0."""
    e = manifest_entry(models_dir, name)
    out = []
    for i in e["inputs"]:
        a = np.load(os.path.join(models_dir, i["file"]))
        out.append((i["name"], a if rows is None else a[rows]))
    return out


def request_body(inputs, binary, timeout_us=None):
    """(body bytes, json length or None) of an infer request."""
    req = {"id": "t", "inputs": []}
    if timeout_us is not None:
        req["parameters"] = {"timeout": timeout_us}
    blobs = []
    for name, a in inputs:
        t = {"name": name, "shape": list(a.shape), "datatype": DTYPES[str(a.dtype)]}
        if binary:
            b = np.ascontiguousarray(a).tobytes()
            t["parameters"] = {"binary_data_size": len(b)}
            blobs.append(b)
        else:
            t["data"] = a.tolist()
        req["inputs"].append(t)
    if binary:
        req["outputs"] = [{"name": "output0", "parameters": {"binary_data": True}}]
    js = json.dumps(req).encode()
    return (js + b"".join(blobs), len(js)) if binary else (js, None)


def parse_response(body, header_len):
    """{name: array} of a response (JSON or binary tensor data)."""
    js = json.loads(body[:header_len] if header_len else body)
    at = header_len or 0
    out = {}
    for o in js["outputs"]:
        dt = np.dtype(NP[o["datatype"]])
        if "parameters" in o and "binary_data_size" in o["parameters"]:
            n = o["parameters"]["binary_data_size"]
            out[o["name"]] = np.frombuffer(body[at:at + n], dtype=dt).reshape(o["shape"])
            at += n
        else:
            out[o["name"]] = np.array(o["data"], dtype=dt).reshape(o["shape"])
    return js, out


def compare(got, want, tol, what):
    if got.shape != want.shape:
        print("  %s: output shape %s, PyTorch's %s" % (what, got.shape, want.shape))
        return False
    err = float(np.abs(got.astype(np.float64) - want).max())
    print("  %s: output %s, max abs error %.3g (tolerance %.3g)" % (what, "x".join(map(str, got.shape)), err, tol))
    return err <= tol


def cmd_mkreq(a):
    rows = slice(a.row, a.row + 1) if a.row is not None else None
    body, hlen = request_body(model_inputs(a.models, a.name, rows), a.binary, a.timeout_us)
    with open(a.out, "wb") as f:
        f.write(body)
    if hlen is not None:
        print(hlen)


def cmd_check(a):
    with open(a.response, "rb") as f:
        body = f.read()
    js, outs = parse_response(body, a.header_len)
    e = manifest_entry(a.models, a.name)
    want = np.load(os.path.join(a.models, e["outputs"][0]["file"]))
    if a.row is not None:
        want = want[a.row:a.row + 1]
    ok = js.get("model_name") == a.model.split("/")[0] and js.get("id") == "t"
    ok = compare(outs["output0"], want, e["tolerance"], a.model + (" (binary)" if a.header_len else "")) and ok
    sys.exit(0 if ok else 1)


class Client:
    """One connection; infer() -> (status, seconds, body)."""

    def __init__(self, port, keep_alive=True):
        self.port, self.keep_alive, self.conn = port, keep_alive, None

    def infer(self, model, body, hlen):
        headers = {"Content-Type": "application/octet-stream" if hlen else "application/json"}
        if hlen:
            headers["Inference-Header-Content-Length"] = str(hlen)
        if not self.keep_alive:
            headers["Connection"] = "close"
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        t0 = time.monotonic()
        try:
            self.conn.request("POST", "/v2/models/%s/infer" % model, body=body, headers=headers)
            r = self.conn.getresponse()
            data = r.read()
            status = r.status
            self.header_len = int(r.getheader("Inference-Header-Content-Length") or 0)
        finally:
            if not self.keep_alive:
                self.conn.close()
                self.conn = None
        return status, time.monotonic() - t0, data


def run_load(port, model, body, hlen, clients, count, keep_alive=True, stop=None, bodies=None):
    """count requests over `clients` threads; returns (statuses, latencies, seconds, errors).
    bodies, if a dict, gets the first body of each non-200 status."""
    lock = threading.Lock()
    state = {"left": count}
    statuses, lat, errors = [], [], []

    def worker():
        c = Client(port, keep_alive)
        while True:
            with lock:
                if state["left"] == 0 or (stop and stop.is_set()):
                    return
                state["left"] -= 1
            try:
                s, dt, data = c.infer(model, body, hlen)
            except (OSError, http.client.HTTPException) as e:
                with lock:
                    errors.append(type(e).__name__)
                c.conn = None
                if stop:
                    stop.wait(0.001)
                continue
            with lock:
                statuses.append(s)
                lat.append(dt)
                if s != 200 and bodies is not None:
                    bodies.setdefault(s, data[:200])

    t0 = time.monotonic()
    ts = [threading.Thread(target=worker) for _ in range(clients)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return statuses, lat, time.monotonic() - t0, errors


def pct(xs, p):
    return sorted(xs)[min(len(xs) - 1, int(p / 100.0 * len(xs)))] * 1000 if xs else float("nan")


def cmd_load(a):
    """Fixed request count, a.clients concurrent clients, every answer checked against PyTorch."""
    e = manifest_entry(a.models, a.name)
    body, hlen = request_body(model_inputs(a.models, a.name), True)
    want = np.load(os.path.join(a.models, e["outputs"][0]["file"]))
    # One answer checked in full, then the load.
    c = Client(a.port)
    s, _, data = c.infer(a.model, body, hlen)
    ok = s == 200 and compare(parse_response(data, c.header_len)[1]["output0"], want, e["tolerance"], a.model)
    bodies = {}
    statuses, lat, secs, errors = run_load(a.port, a.model, body, hlen, a.clients, a.count, bodies=bodies)
    n200 = statuses.count(200)
    print("load %s: %d clients, %d requests: %d ok, %d other, %d connection errors; %.1f req/s, "
          "p50 %.1f ms, p99 %.1f ms" % (a.model, a.clients, a.count, n200, len(statuses) - n200, len(errors),
                                          n200 / secs, pct(lat, 50), pct(lat, 99)))
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"model": a.model, "ok": n200, "rps": n200 / secs, "p50_ms": pct(lat, 50),
                       "p99_ms": pct(lat, 99)}, f)
    if errors:
        print("  connection errors: %s" % sorted(set(errors)))
    for status, data in sorted(bodies.items()):
        print("  %d (%d of them): %s" % (status, statuses.count(status), data.decode(errors="replace")))
    ok = ok and n200 == a.count and not errors
    sys.exit(0 if ok else 1)


def cmd_overload(a):
    """A tiny queue: above capacity the answers are 429 (at once), never timeouts or errors."""
    body, hlen = request_body(model_inputs(a.models, a.name), True)
    statuses, lat, secs, errors = run_load(a.port, a.model, body, hlen, a.clients, a.count)
    n200, n429 = statuses.count(200), statuses.count(429)
    other = len(statuses) - n200 - n429
    lat429 = [t for s, t in zip(statuses, lat) if s == 429]
    print("overload %s: %d clients, %d requests: %d ok, %d 429, %d other, %d connection errors "
          "(429 p99 %.1f ms)" % (a.model, a.clients, a.count, n200, n429, other, len(errors), pct(lat429, 99)))
    if errors:
        print("  connection errors: %s" % sorted(set(errors)))
    sys.exit(0 if n200 > 0 and n429 > 0 and other == 0 and not errors else 1)


def admin(port, method, path, body=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    c.request(method, path, body=body)
    r = c.getresponse()
    return r.status, r.read()


def cmd_reload(a):
    """Clients infer a.model nonstop while it is reloaded (load) a.times times and
    a.other is unloaded and loaded: every request of theirs succeeds."""
    body, hlen = request_body(model_inputs(a.models, a.name), True)
    stop = threading.Event()
    res = {}

    def serve():
        res["r"] = run_load(a.port, a.model, body, hlen, 4, 10 ** 9, stop=stop)

    t = threading.Thread(target=serve)
    t.start()
    ok = True
    for i in range(a.times):
        for path in ("/v2/repository/models/%s/load" % a.model, "/v2/repository/models/%s/unload" % a.other,
                     "/v2/repository/models/%s/load" % a.other):
            s, b = admin(a.port, "POST", path)
            if s != 200:
                print("  %s -> %d %s" % (path, s, b))
                ok = False
    # The other model answers again after its reload.
    s, _, _ = Client(a.port).infer(a.model, body, hlen)
    ok = ok and s == 200
    stop.set()
    t.join()
    statuses, lat, secs, errors = res["r"]
    bad = [x for x in statuses if x != 200]
    print("reload: %d reloads of %s and unload/load of %s while %d requests ran: %d not 200 (%s), "
          "%d connection errors" % (a.times, a.model, a.other, len(statuses), len(bad), sorted(set(bad)), len(errors)))
    sys.exit(0 if ok and statuses and not bad and not errors else 1)


def cmd_sigterm(a):
    """Clients (a connection per request) load the server; SIGTERM once a.after
    requests succeeded. Every request the server accepted is answered 200; the
    rest are refused with 503 or at connect; the server exits 0."""
    body, hlen = request_body(model_inputs(a.models, a.name), True)
    stop = threading.Event()
    res = {}
    lock = threading.Lock()
    outcome = {"200": 0, "503": 0, "other": [], "refused": 0, "lost": []}

    def worker():
        c = Client(a.port, keep_alive=False)
        while not stop.is_set():
            try:
                s, _, _ = c.infer(a.model, body, hlen)
            except ConnectionRefusedError:
                with lock:
                    outcome["refused"] += 1
                return  # the server has closed its socket: it is exiting
            except (OSError, http.client.HTTPException) as e:
                with lock:
                    outcome["lost"].append(type(e).__name__)
                return
            with lock:
                if s == 200:
                    outcome["200"] += 1
                elif s == 503:
                    outcome["503"] += 1
                else:
                    outcome["other"].append(s)
            if s == 503:
                return  # draining: a client stops on its first refusal

    ts = [threading.Thread(target=worker) for _ in range(a.clients)]
    for t in ts:
        t.start()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with lock:
            if outcome["200"] >= a.after:
                break
        time.sleep(0.005)
    os.kill(a.pid, signal.SIGTERM)
    for t in ts:
        t.join(120)
    stop.set()
    print("sigterm: %d answered 200, %d refused 503 while draining, %d refused at connect, "
          "other statuses %s, lost %s" % (outcome["200"], outcome["503"], outcome["refused"],
                                          outcome["other"], outcome["lost"]))
    with open(a.out, "w") as f:
        json.dump(outcome, f)
    sys.exit(0 if not outcome["other"] and outcome["200"] >= a.after else 1)


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--models", required=True, help="directory with manifest.json")
    sub = p.add_subparsers(dest="cmd", required=True)
    for name in ("mkreq", "check", "load", "overload", "reload", "sigterm"):
        s = sub.add_parser(name)
        s.add_argument("--name", required=True, help="the manifest's model name")
        s.add_argument("--row", type=int, help="one sample (dim 0 row) of the manifest's inputs")
        if name == "mkreq":
            s.add_argument("--binary", action="store_true")
            s.add_argument("--timeout-us", type=int, help="the request's timeout parameter")
            s.add_argument("--out", required=True)
        elif name == "check":
            s.add_argument("--response", required=True)
            s.add_argument("--header-len", type=int, default=0)
            s.add_argument("--model", required=True)
        else:
            s.add_argument("--port", type=int, required=True)
            s.add_argument("--model", required=True)
            s.add_argument("--clients", type=int, default=32)
            s.add_argument("--count", type=int, default=256)
            s.add_argument("--json")
            s.add_argument("--other")
            s.add_argument("--times", type=int, default=3)
            s.add_argument("--pid", type=int)
            s.add_argument("--after", type=int, default=20)
            s.add_argument("--out")
    a = p.parse_args()
    globals()["cmd_" + a.cmd](a)


if __name__ == "__main__":
    main()
