#!/usr/bin/env bash
# Writes docs/mtia-smi-samples.md: every mtia-smi view as the tool prints
# it, in a VM with the demo's two devices and a copy workload on device 0
# (so the process table and the utilisation have something to show):
#
#   tools/mtia-vm run --devices 1 --device-opts devmem-size=2G \
#     --qemu-arg=-device --qemu-arg=mtia,devmem-size=512M,pe-rows=4,pe-cols=16 \
#     -- tests/vm/gen-smi-samples.sh
set -eu
# shellcheck source=tests/vm/lib.sh
. "$(dirname "$0")/lib.sh"
SMI=${MTIA_SMI:-build/bin/mtia-smi}  # (or other binaries to show)
RUN=${MTIA_RUN:-build/bin/mtia-run}
OUT=docs/mtia-smi-samples.md
tmp=$(mktemp -d)
# One long copy run (it outlives the samples; stopped at exit).
"$RUN" --bench copy --device 0 --size 64M --iters 1000 --nop-iters 10 >/dev/null &
load=$!
trap 'kill "$load" 2>/dev/null; wait; rm -rf "$tmp"' EXIT
# Until the workload shows: busy data engine and its process with memory.
busy() {
  [ "$("$SMI" -i 0 --query=utilization.dma --format=csv,noheader,nounits)" -gt 20 ] &&
    "$SMI" -i 0 | grep -qE '\| mtia-run +\| 128 MiB'
}
for _ in $(seq 60); do busy && break; sleep 1; done

sample() { # title command... (shown as typed, without build/bin/)
  echo "## $1"
  echo
  echo '```'
  echo "\$ ${*:2}" | sed "s#$SMI#mtia-smi#"
  "${@:2}"
  echo '```'
  echo
}
processes() { "$SMI" --json | $PY -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["processes"], indent=2))'; }
{
  echo "# mtia-smi samples"
  echo
  echo "Produced by \`tests/vm/gen-smi-samples.sh\` in a VM with the demo's two"
  echo "devices (2 GiB, and 512 MiB with a 4x16 PE grid) while \`mtia-run --bench"
  echo "copy\` runs on device 0; regenerate with the command at the top of that"
  echo "script. The fields and exit codes are in [telemetry.md](telemetry.md)."
  echo
  sample "Default view (devices and processes)" "$SMI"
  sample "Detail (-q), one device" "$SMI" -q -i 0
  sample "Fields as CSV" "$SMI" --query=index,pci.bus_id,temperature.die,power.draw,power.limit,utilization.dma,memory.used,memory.total,clocks.current --format=csv
  sample "Fields as CSV without header and units" "$SMI" --query=index,temperature.die,power.draw,utilization.dma --format=csv,noheader,nounits
  sample "Fields as JSON" "$SMI" --query=index,serial,temperature.die,power.draw.average,utilization.dma,clocks.current,clocks_throttle_reasons.active --format=json
  sample "nvidia-smi's field names (--query-gpu)" "$SMI" --query-gpu=index,name,uuid,temperature.gpu,utilization.gpu,utilization.memory,memory.used,memory.total,power.draw,power.limit,clocks.current.sm,clocks_throttle_reasons.active,pstate --format=csv
  sample "Processes (--query-compute-apps)" "$SMI" --query-compute-apps=pid,process_name,used_memory,gpu_uuid,gpu_bus_id --format=csv
  sample "XML (-q -x), one device" "$SMI" -q -x -i 0
  sample "dmon" "$SMI" dmon -c 3
  sample "pmon" "$SMI" pmon -c 2
  sample "Device list (-L)" "$SMI" -L
  echo "## Processes in --json"
  echo
  echo '```'
  echo "\$ mtia-smi --json   # its \"processes\" array:"
  processes
  echo '```'
  echo
  sample "lm-sensors" sensors
  sample "Field list" "$SMI" --list-fields
} >"$tmp/out.md"
mv "$tmp/out.md" "$OUT"
echo "wrote $OUT"
