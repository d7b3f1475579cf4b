#!/usr/bin/env bash
# Usage: tests/bench/compare-trees.sh OTHER_TREE [ROUNDS]
# "No worse than before" for the job path: NOP job round trip and emulated
# NVMe reads (tests/bench/vm-bench.sh) measured in VMs of this tree and of
# OTHER_TREE (a built checkout of another commit), alternating A, B, A, B...
# so that both see the same machine state; prints each run and the medians.
# Short copies keep a round to ~15 s. Both trees must be built (make all).
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
other=$(cd "${1:?usage: compare-trees.sh OTHER_TREE [ROUNDS]}" && pwd)
rounds=${2:-8}
out=$(mktemp)
img=$(mktemp /dev/shm/mtia-compare.XXXXXX)
trap 'rm -f "$out" "$img"' EXIT

run_one() {  # TREE: prints "nop_p50 nvme_p50"
  truncate -s 0 "$img" && truncate -s 64M "$img"
  (cd "$1" && tools/mtia-vm run --devices 1 --device-opts devmem-size=1G \
    --qemu-arg=-drive --qemu-arg="file=$img,if=none,id=nvm,format=raw,cache=writeback" \
    --qemu-arg=-device --qemu-arg=nvme,serial=mtiabench,drive=nvm \
    --env MTIA_BENCH_COPY_SIZE=16M -- tests/bench/vm-bench.sh) |
    sed -nE 's/.*NOP job submit->complete.*p50 ([0-9.]+) us.*/nop \1/p; s/.*emulated NVMe.*p50 ([0-9.]+) us.*/nvme \1/p' |
    awk '{v[$1]=$2} END {print v["nop"], v["nvme"]}'
}

for r in $(seq "$rounds"); do
  for t in "$here" "$other"; do
    read -r nop nvme < <(run_one "$t")
    echo "$t $nop $nvme" >>"$out"
    printf '  round %d  %-28s NOP p50 %7.1f us  NVMe p50 %7.1f us\n' "$r" "$(cd "$t" && git log -1 --format=%h)" "$nop" "$nvme"
  done
done
/usr/bin/python3 - "$out" "$here" "$other" <<'EOF'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
for tree in sys.argv[2:]:
    nop = [float(r[1]) for r in rows if r[0] == tree]
    nvme = [float(r[2]) for r in rows if r[0] == tree]
    print(f"  {tree}: NOP p50 median {statistics.median(nop):.1f} us, NVMe p50 median "
          f"{statistics.median(nvme):.1f} us over {len(nop)} VMs")
EOF
