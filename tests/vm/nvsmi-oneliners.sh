# shellcheck shell=bash
# nvidia-smi one-liners as operators' scripts run them, with only the
# program name changed to mtia-smi, their output parsed the way those
# scripts parse it (shell read loops, Python csv and xml.etree, awk on
# dmon's columns). Sourced by tests/vm/test-mgmt.sh (which provides
# pass/fail, $ndev, $devs, $tmp and mtia-smi on PATH); each original is in
# the comment above its copy.

# --- GPU inventory into a shell loop
# nvidia-smi --query-gpu=index,name,uuid,temperature.gpu,utilization.gpu,memory.used,memory.total --format=csv,noheader,nounits | while IFS=, read -r idx name uuid temp util used total; do ...; done
n=0 bad=
shopt -s lastpipe # the loop runs in this shell, as in an interactive one, so n and bad survive it
mtia-smi --query-gpu=index,name,uuid,temperature.gpu,utilization.gpu,memory.used,memory.total --format=csv,noheader,nounits | while IFS=, read -r idx name uuid temp util used total; do
  n=$((n + 1))
  # nvidia-smi's ", " separators leave a leading space the scripts trim.
  uuid=${uuid# } temp=${temp# } util=${util# } used=${used# } total=${total# }
  [[ $idx =~ ^[0-9]+$ && $uuid == MTIA-* && $temp =~ ^[0-9]+$ && $util =~ ^[0-9]+$ && $used =~ ^[0-9]+$ &&
    $total =~ ^[0-9]+$ ]] && [ "$used" -le "$total" ] || bad="$bad [$idx,$name,$uuid,$temp,$util,$used,$total]"
done
shopt -u lastpipe
[ "$n" -eq "$ndev" ] && [ -z "$bad" ] && pass "inventory one-liner in a while-read loop: $n devices" ||
  fail "inventory one-liner: $n lines, bad:$bad"

# --- the same with Python's csv module, header and units included
# nvidia-smi --query-gpu=index,name,temperature.gpu,memory.used,memory.total,power.draw --format=csv
mtia-smi --query-gpu=index,name,temperature.gpu,memory.used,memory.total,power.draw --format=csv >"$tmp/inv.csv"
if /usr/bin/python3 - "$tmp/inv.csv" "$ndev" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1]), skipinitialspace=True))
assert len(rows) == int(sys.argv[2]), rows
for r in rows:
    assert set(r) == {"index", "name", "temperature.gpu", "memory.used [MiB]", "memory.total [MiB]", "power.draw [W]"}, r
    assert r["memory.used [MiB]"].endswith(" MiB") and r["power.draw [W]"].endswith(" W"), r
    assert int(r["memory.used [MiB]"].split()[0]) <= int(r["memory.total [MiB]"].split()[0]), r
    assert 0 < float(r["power.draw [W]"].split()[0]) < 100 and 0 < int(r["temperature.gpu"]) < 110, r
PY
then pass "inventory CSV read by Python csv.DictReader"; else fail "Python csv: $(cat "$tmp/inv.csv")"; fi

# --- XML read by xml.etree
# nvidia-smi -q -x | python3 -c 'import sys, xml.etree.ElementTree as ET; r = ET.parse(sys.stdin).getroot(); [print(g.find("uuid").text, g.find("fb_memory_usage/used").text) for g in r.findall("gpu")]'
out=$(mtia-smi -q -x | /usr/bin/python3 -c 'import sys, xml.etree.ElementTree as ET; r = ET.parse(sys.stdin).getroot(); [print(g.find("uuid").text, g.find("fb_memory_usage/used").text) for g in r.findall("gpu")]')
[ "$(grep -cE '^MTIA-[0-9a-f-]{36} [0-9]+ MiB$' <<<"$out")" -eq "$ndev" ] &&
  pass "-q -x parsed by xml.etree: uuid and fb_memory_usage/used per device" || fail "xml.etree: $out"
# nvidia-smi -q -x | python3 -c '...r.find("driver_version").text, r.find("attached_gpus").text...'
out=$(mtia-smi -q -x | /usr/bin/python3 -c 'import sys, xml.etree.ElementTree as ET; r = ET.parse(sys.stdin).getroot(); print(r.find("driver_version").text, r.find("attached_gpus").text, r.find("gpu/temperature/gpu_temp").text, r.find("gpu/power_readings/power_draw").text)')
[[ $out =~ ^[0-9.]+\ $ndev\ [0-9]+\ C\ [0-9.]+\ W$ ]] && pass "-q -x: driver_version, attached_gpus, gpu_temp, power_draw: $out" ||
  fail "-q -x top-level fields: $out"

# --- processes holding device memory
# nvidia-smi --query-compute-apps=pid,process_name,used_memory --format=csv
has_holder() {
  out=$(mtia-smi --query-compute-apps=pid,process_name,used_memory --format=csv)
  grep -qE "^$holder, python3, 16 MiB$" <<<"$out"
}
wait_for 100 has_holder && [ "$(head -n1 <<<"$out")" = "pid, process_name, used_gpu_memory [MiB]" ] &&
  pass "compute apps: header and the holder ($holder) with its memory" || fail "compute apps: $out"
# nvidia-smi --query-compute-apps=pid,used_memory,gpu_uuid --format=csv,noheader,nounits | awk -F', ' '{ s += $2 } END { print s }'
sum=$(mtia-smi --query-compute-apps=pid,used_memory,gpu_uuid --format=csv,noheader,nounits | awk -F', ' '{ s += $2 } END { print s }')
[ "${sum:-0}" -ge 16 ] && pass "compute apps summed by awk: $sum MiB" || fail "compute apps sum: $sum"

# --- dmon columns
# nvidia-smi dmon -c 3 | awk '!/^#/ { print $1, $2, $3 }'
out=$(timeout 60 mtia-smi dmon -c 3)
hdr=$(head -n1 <<<"$out")
rows=$(awk '!/^#/ { print $1, $2, $3 }' <<<"$out")
[[ $hdr == "# gpu   pwr gtemp mtemp    sm   mem   enc   dec  mclk  pclk" ]] &&
  [ "$(grep -cE '^[0-9]+ [0-9]+ [0-9]+$' <<<"$rows")" -eq $((3 * ndev)) ] &&
  pass "dmon -c 3: nvidia-smi's header, 3 samples per device read by awk" || fail "dmon: $out"

# --- power sampled in a loop, bounded by a count
# nvidia-smi --query-gpu=power.draw,power.limit --format=csv -lms 200
out=$(timeout 60 mtia-smi --query-gpu=power.draw,power.limit --format=csv -lms 200 --count 4 -i 0)
[ "$(head -n1 <<<"$out")" = "power.draw [W], power.limit [W]" ] &&
  [ "$(grep -cE '^[0-9]+\.[0-9]{2} W, [0-9]+\.[0-9]{2} W$' <<<"$out")" -eq 4 ] &&
  pass "-lms 200: one header, 4 samples" || fail "-lms 200: $out"

# --- the UUID round trip scripts use to pin a device
# nvidia-smi -i "$(nvidia-smi --query-gpu=uuid --format=csv,noheader | head -n1)" --query-gpu=index --format=csv,noheader
out=$(mtia-smi -i "$(mtia-smi --query-gpu=uuid --format=csv,noheader | head -n1)" --query-gpu=index --format=csv,noheader)
[ "$out" = 0 ] && pass "-i UUID from --query-gpu=uuid selects device 0" || fail "-i UUID: $out"
