#!/usr/bin/env bash
# In-VM: N admin PINGs through debugfs fw_ping (each read is one round trip
# host driver -> mailbox -> firmware on the simulated control core -> MSI-X
# -> driver); prints the driver-measured round trip percentiles, and the
# cost of getppid() in this guest for scale.
set -euo pipefail
n=${1:-2000}
ping=$(ls /sys/kernel/debug/accel/*/fw_ping | head -n1)
getppid_ns=$(build/bin/getppid_anchor)
for _ in $(seq "$n"); do cat "$ping"; done | /usr/bin/python3 -c '
import re, sys
rtts = sorted(int(m.group(1)) for m in re.finditer(r"rtt_ns=(\d+)", sys.stdin.read()))
if not rtts:
    sys.exit("no pong lines read")
pct = lambda p: rtts[min(len(rtts) - 1, int(p / 100 * len(rtts)))] / 1000
getppid_ns = float(sys.argv[1])
print(f"  pings: {len(rtts)}  p50 {pct(50):.1f} us  p99 {pct(99):.1f} us  max {rtts[-1] / 1000:.1f} us")
print(f"  guest getppid() system call: {getppid_ns / 1000:.2f} us")
print(f"  ping p50 / getppid: {pct(50) * 1000 / getppid_ns:.1f}x")
' "$getppid_ns"
