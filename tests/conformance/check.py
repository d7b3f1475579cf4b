#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""ONNX backend conformance, host step 3 of 3 (tests/conformance/run.sh).

Compares what the VM's mtia-run wrote with each data set's expected outputs
(ONNX's backend-test tolerance: rtol 1e-3, atol 1e-7) and sorts every case
within the claimed op set into:
  pass            every data set ran and matched
  wrong           a data set ran and gave a different answer (never allowed)
  refused         mtia-compile said no with a clear error (exit 3 or 4)
  compiler-error  mtia-compile failed any other way (a compiler bug)
  run-error       mtia-run failed on a model the compiler accepted
Prints one line per case that did not pass, the counts and the pass rate,
writes OUT/report.json, and exits 1 on any wrong answer, compiler or run
error, or a pass rate below --min-pass-rate.
"""
import argparse
import collections
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from prepare import read_tensor  # noqa: E402

RTOL, ATOL = 1e-3, 1e-7


def judge_run(run):
    """Verdict and reason of one data set's run."""
    rc_path = os.path.join(run["dir"], "rc")
    if not os.path.exists(rc_path):
        return "run-error", "did not run"
    rc = int(open(rc_path).read().strip() or -1)
    if rc != 0:
        log = open(os.path.join(run["dir"], "run.log")).read().strip().splitlines()
        return "run-error", f"mtia-run exit {rc}: {log[-1] if log else ''}"
    for i, (want_path, got_path) in enumerate(zip(run["expected"], run["got"])):
        want, got = read_tensor(want_path), np.load(got_path)
        if want.shape != got.shape:
            return "wrong", f"output {i}: shape {got.shape}, expected {want.shape}"
        if want.dtype != got.dtype and not (want.dtype.kind == got.dtype.kind == "f"):
            return "wrong", f"output {i}: dtype {got.dtype}, expected {want.dtype}"
        if not np.allclose(got, want, rtol=RTOL, atol=ATOL, equal_nan=True):
            err = np.max(np.abs(got.astype(np.float64) - want.astype(np.float64)))
            return "wrong", f"output {i}: max abs error {err:.3g}"
    return "pass", ""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--min-pass-rate", type=float, default=0.9)
    args = ap.parse_args()
    cases = json.load(open(os.path.join(args.out, "cases.json")))["cases"]
    for c in cases:
        if "runs" not in c:
            continue
        c["verdict"], c["why"] = "pass", ""
        for run in c["runs"]:
            v, why = judge_run(run)
            if v != "pass":
                c["verdict"], c["why"] = v, f"{run['set']}: {why}"
                break
    counted = [c for c in cases if c["verdict"] != "skipped"]
    n = collections.Counter(c["verdict"] for c in counted)
    for c in counted:
        if c["verdict"] != "pass":
            print(f"  {c['verdict']:<15} {c['id']}: {c['why']}")
    rate = n["pass"] / len(counted) if counted else 0.0
    skipped = len(cases) - len(counted)
    print(f"  {len(counted)} cases within the claimed ops and input types ({skipped} outside them): "
          + ", ".join(f"{n[k]} {k}" for k in ("pass", "wrong", "refused", "compiler-error", "run-error")))
    print(f"  pass rate {100 * rate:.1f}% (required {100 * args.min_pass_rate:.0f}%)")
    with open(os.path.join(args.out, "report.json"), "w") as f:
        json.dump({"counts": n, "pass_rate": rate, "cases": cases}, f, indent=1)
    bad = n["wrong"] + n["compiler-error"] + n["run-error"]
    ok = bad == 0 and rate >= args.min_pass_rate
    print(f"{1 if ok else 0} passed, {0 if ok else 1} failed")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
