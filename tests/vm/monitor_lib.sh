# QEMU-monitor and state-file helpers of the in-VM fault tests
# (test-faults.sh, soak.sh), sourced after lib.sh. Faults are injected from
# inside the guest through the monitor port mtia-vm gives it (the one
# tools/mtia-monitor talks to), straight from bash: a python start per
# injection costs seconds in a busy TCG guest.
# shellcheck shell=bash disable=SC2034  # variables are for the sourcing tests

# fault_test_start: the common start of a fault test (test-faults.sh,
# soak.sh): two devices, the mlp model and $WORKER are there; $tmp and
# pids with an on_finish that stops everything; the driver reloaded with a
# short job timeout (hangs are found quickly) and runtime PM off ("ready"
# is the state these tests wait for).
fault_test_start() {
  need_device
  [ "$ndev" -ge 2 ] || { fail "needs two devices (--devices 2)"; finish; }
  need_prepared tests/vm/test-models.sh "$MODEL.mtia" "$MODEL.input0.npy"
  [ -x "$WORKER" ] || { fail "no $WORKER (ninja -C build/cmake ${WORKER##*/})"; finish; }
  tmp=$(mktemp -d)
  pids=()
  if ! { rmmod mtia && insmod "$MTIA_VM_DRIVER" job_timeout_ms=1500; }; then
    fail "reloading the driver with job_timeout_ms=1500"
    finish
  fi
  keep_awake
}
on_finish() {
  touch "$tmp/stop"
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  wait 2>/dev/null
  rm -rf "$tmp"
}

# monitor_devices N: qom[i] (QOM path) and bdf[i] (guest PCI address) of
# the first N devices. mtia-vm names them mtia0, mtia1..., each alone behind
# its root port mtia-rp0, mtia-rp1...: the port's address on bus 0, then
# the one function below it. Then opens the monitor port as fd $mon.
# Fails (status 1, with a message) if either is missing.
monitor_devices() {
  local i devfn port below p
  qom=() bdf=()
  for ((i = 0; i < $1; i++)); do
    devfn=$($MON qom-get "/machine/peripheral/mtia-rp$i" addr) || { echo "qom-get mtia-rp$i addr failed"; return 1; }
    qom+=("/machine/peripheral/mtia$i")
    port=$(printf '0000:00:%02x.%x' $((devfn >> 3)) $((devfn & 7)))
    below=(/sys/bus/pci/devices/"$port"/0000:[0-9a-f][0-9a-f]:[0-9a-f][0-9a-f].[0-7])
    bdf+=("${below[0]##*/}")
  done
  port=
  for p in /sys/class/virtio-ports/*; do
    [ "$(cat "$p/name" 2>/dev/null)" = "${MTIA_VM_MONITOR_PORT:-org.mtia.monitor}" ] && port=/dev/${p##*/}
  done
  [ -n "$port" ] && exec {mon}<>"$port" || { echo "no monitor port (mtia-vm's org.mtia.monitor)"; return 1; }
}

# qom_set QOM-PATH PROPERTY JSON-VALUE: 0 if QEMU took it. One JSON command
# per line out, one reply per line back.
qom_set() {
  local reply
  printf '{"execute": "qom-set", "arguments": {"path": "%s", "property": "%s", "value": %s}}\n' "$1" "$2" "$3" >&"$mon"
  read -r -t 30 -u "$mon" reply && [[ $reply == *'"return"'* ]]
}

# qom_get QOM-PATH PROPERTY: prints a scalar property's value (QMP's
# {"return": VALUE}); fails if QEMU refused.
qom_get() {
  local reply
  printf '{"execute": "qom-get", "arguments": {"path": "%s", "property": "%s"}}\n' "$1" "$2" >&"$mon"
  read -r -t 30 -u "$mon" reply && [[ $reply =~ \"return\":\ *\"?([^\"}]*)\"?\ *\} ]] || return 1
  echo "${BASH_REMATCH[1]}"
}

# Reset uevents, one line each, appended to FILE by a background listener on
# the kernel's uevent netlink socket; its pid is added to pids.
listen_reset_uevents() { # FILE
  touch "$1"
  $PY -c 'import socket, sys
s = socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, 15)
s.bind((0, 1))
out = open(sys.argv[1], "a", buffering=1)
while True:
    f = s.recv(65536).split(b"\0")
    if b"MTIA_EVENT=reset" in f:
        out.write(" ".join(x.decode() for x in f if x.startswith((b"MTIA_", b"DEVPATH="))) + "\n")
' "$1" &
  pids+=($!)
}

# State files of job workers hold one line of "name value" pairs.
# getf FILE NAME: sets REPLY to that counter (0 if absent). Bash builtins
# only: a process per check is slow in a busy TCG guest.
getf() {
  local -a a
  local i
  REPLY=0
  read -r -a a 2>/dev/null <"$1" || return 0
  for ((i = 0; i + 1 < ${#a[@]}; i += 2)); do
    [ "${a[i]}" = "$2" ] && { REPLY=${a[i + 1]}; return 0; }
  done
}
field() { getf "$@"; echo "$REPLY"; }
# sum_field NAME FILE...: the sum of NAME over the files.
sum_field() {
  local name=$1 s=0 f
  shift
  for f in "$@"; do
    getf "$f" "$name"
    s=$((s + REPLY))
  done
  echo "$s"
}

# model_loop STATE REF OUT INDEX MODEL: runs MODEL (.mtia, with its
# .input0.npy) on device INDEX over and over until $tmp/stop exists; each
# run's output must equal the first (REF). STATE gets
# "jobs N ok N eio N canceled 0 badsum N" after each run.
model_loop() {
  local state=$1 ref=$2 out=$3 index=$4 model=$5 runs=0 ok=0 failed=0 bad=0
  "$RUN" "$model.mtia" -i "$index" --input "$model.input0.npy" --output "$ref" >/dev/null 2>&1 ||
    { echo "jobs 0 ok 0 eio 0 canceled 0 badsum 0 err 1" >"$state"; return; }
  while [ ! -e "$tmp/stop" ]; do
    runs=$((runs + 1))
    if "$RUN" "$model.mtia" -i "$index" --input "$model.input0.npy" --output "$out" >"$out.log" 2>&1; then
      ok=$((ok + 1))
      cmp -s "$ref" "$out" || bad=$((bad + 1))
    else
      failed=$((failed + 1))
      grep -qs "ENODEV\|No such device" "$out.log" && break
    fi
    echo "jobs $runs ok $ok eio $failed canceled 0 badsum $bad" >"$state.tmp"
    mv "$state.tmp" "$state"
  done
}
