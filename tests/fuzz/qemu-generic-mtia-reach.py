#!/usr/bin/env python3
"""How far generic-fuzz inputs reach into the mtia device, from a replay log.

    tests/fuzz/qemu-generic-mtia-reach.py seeds LOG    the firmware seeds: each must
                                                     boot and complete its commands
    tests/fuzz/qemu-generic-mtia-reach.py corpus LOG   how many corpus inputs ran commands

LOG is the output of qemu-fuzz-x86_64 replaying inputs (-runs=1 FILE...) with
the device's trace events mtia_mmio_read, mtia_sqe_fetch and mtia_cqe_posted
enabled (run-qemu-fuzz.sh does it): libFuzzer prints "Running: FILE" before
each input and "Executed FILE" after it, and the events of that input (from
its forked child, which finishes before the parent goes on) come between.

seeds: what each firmware seed must show is in qemu-generic-mtia-seeds.py
(fw_seeds()): every boot it does reads CAPS, FW_BOOT_STATUS and FW_STATUS
in a row, which must read the device it meant (CAP_MMU set on mtia0, clear
on mtia1), RUNNING and READY; every queue it uses must post its CQEs with the
expected status. Prints
    reach qemu-generic-mtia: firmware booted in B of N seeds, commands completed in C of M queue seeds (...)
and exits 1, naming each seed and what it missed, unless all did.
corpus: prints
    reach qemu-generic-mtia: N of M corpus inputs ran commands (...)
where running commands means firmware fetched at least one SQE: only booted
firmware fetches.
"""
import collections
import importlib.util
import os
import re
import sys

NAME = "qemu-generic-mtia"
HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location("seeds", os.path.join(HERE, "qemu-generic-mtia-seeds.py"))
seeds = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(seeds)

RUNNING = re.compile(r"^Running: (.*)$")
EXECUTED = re.compile(r"^Executed (.*) in \d+ ms$")
MMIO_READ = re.compile(r"\bmtia_mmio_read offset (0x[0-9a-f]+) size \d+ val (0x[0-9a-f]+)")
FETCH = re.compile(r"\bmtia_sqe_fetch queue (\d+) SQ\[\d+\] cid \d+ (\S+)")
CQE = re.compile(r"\bmtia_cqe_posted queue (\d+) CQ\[\d+\] cid \d+ (\S+)")


class Input:
    def __init__(self):
        self.reads = []                            # (offset, value) of guest register reads
        self.fetched = collections.Counter()       # opcode name -> SQEs fetched
        self.cqes = collections.defaultdict(list)  # queue -> CQE status names
        self.done = False                          # "Executed" seen

    def boots(self):
        """(device, booted, what it read) of each CAPS, FW_BOOT_STATUS, FW_STATUS run."""
        out = []
        r = self.reads
        for i in range(len(r) - 2):
            if (r[i][0], r[i + 1][0], r[i + 2][0]) == (seeds.CAPS, seeds.FW_BOOT_STATUS, seeds.FW_STATUS):
                dev = "mtia0" if r[i][1] & seeds.CAP_MMU else "mtia1"
                ok = r[i + 1][1] == seeds.BOOT_RUNNING and r[i + 2][1] == seeds.FW_STATUS_READY
                out.append((dev, ok, "CAPS 0x%x FW_BOOT_STATUS 0x%x FW_STATUS 0x%x" %
                            (r[i][1], r[i + 1][1], r[i + 2][1])))
        return out


def parse(path):
    """{input's file name: Input}, in replay order."""
    inputs, cur = {}, None
    with open(path, errors="replace") as f:
        for line in f:
            line = line.rstrip("\n")
            m = RUNNING.match(line)
            if m:
                cur = inputs.setdefault(os.path.basename(m.group(1)), Input())
                continue
            if cur is None:
                continue
            m = EXECUTED.match(line)
            if m:
                cur.done = True
                cur = None
                continue
            m = MMIO_READ.search(line)
            if m:
                cur.reads.append((int(m.group(1), 16), int(m.group(2), 16)))
                continue
            m = FETCH.search(line)
            if m:
                cur.fetched[m.group(2)] += 1
                continue
            m = CQE.search(line)
            if m:
                cur.cqes[int(m.group(1))].append(m.group(2))
    return inputs


def check_seeds(log):
    inputs = parse(log)
    expect = seeds.fw_seeds(0)[1]
    problems = []
    booted = boot_seeds = completed = queue_seeds = 0
    per_dev = collections.Counter()      # (device, completed?) of queue seeds
    for name, want in sorted(expect.items()):
        got = inputs.get(name)
        if got is None or not got.done:
            problems.append("%s: not replayed to its end" % name)
            got = Input()
        boots = got.boots()
        boot_seeds += 1
        if [d for d, _, _ in boots] == want["boot"] and all(ok for _, ok, _ in boots):
            booted += 1
        else:
            problems.append("%s: wanted %s booted, read %s" % (
                name, " then ".join(want["boot"]), "; ".join("%s: %s" % (d, w) for d, _, w in boots) or
                "no CAPS, FW_BOOT_STATUS, FW_STATUS reads"))
        if "cqe" not in want:
            continue
        queue_seeds += 1
        ok_all = True
        for queue, (dev, count, status) in sorted(want["cqe"].items()):
            cqes = got.cqes.get(queue, [])
            ok = len(cqes) == count and all(s == status for s in cqes)
            per_dev[(dev, "all")] += 1
            per_dev[(dev, "ok")] += ok
            if not ok:
                ok_all = False
                problems.append("%s: %s queue %d posted %s, wanted %d x %s" % (
                    name, dev, queue, ", ".join(cqes) or "no CQE", count, status))
        completed += ok_all
    print("reach %s: firmware booted in %d of %d seeds, commands completed in %d of %d queue seeds "
          "(queues on mtia0, MMU: %d of %d; on mtia1, no MMU: %d of %d)" % (
              NAME, booted, boot_seeds, completed, queue_seeds, per_dev[("mtia0", "ok")],
              per_dev[("mtia0", "all")], per_dev[("mtia1", "ok")], per_dev[("mtia1", "all")]))
    for p in problems:
        print("reach %s: FAILED %s" % (NAME, p), file=sys.stderr)
    return 1 if problems else 0


def check_corpus(log):
    inputs = parse(log)
    ran = sum(1 for i in inputs.values() if i.fetched)
    posted = sum(1 for i in inputs.values() if i.cqes)
    ops = collections.Counter()
    statuses = collections.Counter()
    for i in inputs.values():
        ops.update(i.fetched)
        for s in i.cqes.values():
            statuses.update(s)
    unfinished = sum(1 for i in inputs.values() if not i.done)
    print("reach %s: %d of %d corpus inputs ran commands (%d posted CQEs; SQEs fetched: %s; CQEs: %s)" % (
        NAME, ran, len(inputs), posted,
        ", ".join("%s %d" % kv for kv in ops.most_common()) or "none",
        ", ".join("%s %d" % kv for kv in statuses.most_common()) or "none"))
    if unfinished:
        print("reach %s: %d inputs did not finish their replay" % (NAME, unfinished), file=sys.stderr)
        return 1
    return 0


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("seeds", "corpus"):
        sys.exit(__doc__.strip().split("\n\n")[0])
    sys.exit(check_seeds(sys.argv[2]) if sys.argv[1] == "seeds" else check_corpus(sys.argv[2]))


if __name__ == "__main__":
    main()
