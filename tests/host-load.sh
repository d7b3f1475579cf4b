#!/usr/bin/env bash
# Runs a command on a deliberately loaded or slowed host, to show that tests
# do not depend on the host's speed (make test-loaded, make test-slowed):
#   tests/host-load.sh loaded CMD...  one busy loop per CPU, at the same
#                                     priority, for the whole of CMD
#   tests/host-load.sh slowed CMD...  CMD and everything it starts get half
#                                     the machine's CPU time (a cgroup CPU
#                                     quota; v2 or v1), or, without cgroups,
#                                     half its CPUs (taskset)
# Exits with CMD's status. Needs root for the cgroup.
set -u
mode=${1:-}
shift || true
[ $# -gt 0 ] && { [ "$mode" = loaded ] || [ "$mode" = slowed ]; } ||
  { echo "usage: $0 loaded|slowed CMD..." >&2; exit 2; }
ncpu=$(nproc)

if [ "$mode" = loaded ]; then
  hogs=()
  for _ in $(seq "$ncpu"); do
    ( trap 'exit 0' TERM; while :; do :; done ) &
    hogs+=($!)
  done
  echo "host-load: $ncpu busy loop(s) running beside: $*" >&2
  "$@"
  rc=$?
  kill "${hogs[@]}" 2>/dev/null
  wait "${hogs[@]}" 2>/dev/null
  exit "$rc"
fi

# slowed: a quota of ncpu/2 CPUs (at least half of one) per 100 ms period.
period=100000
quota=$((ncpu * period / 2))
[ "$quota" -ge $((period / 2)) ] || quota=$((period / 2))
cg=
if [ -f /sys/fs/cgroup/cgroup.controllers ] && grep -qw cpu /sys/fs/cgroup/cgroup.controllers; then
  cg=/sys/fs/cgroup/mtia-slowed.$$
  grep -qw cpu /sys/fs/cgroup/cgroup.subtree_control || echo +cpu >/sys/fs/cgroup/cgroup.subtree_control
  mkdir "$cg" && echo "$quota $period" >"$cg/cpu.max" || cg=
elif [ -w /sys/fs/cgroup/cpu ]; then
  cg=/sys/fs/cgroup/cpu/mtia-slowed.$$
  mkdir "$cg" && echo "$period" >"$cg/cpu.cfs_period_us" && echo "$quota" >"$cg/cpu.cfs_quota_us" || cg=
fi
if [ -n "$cg" ]; then
  echo "host-load: CPU quota $((quota / 1000)) ms per $((period / 1000)) ms ($ncpu CPUs) for: $*" >&2
  ( echo "$BASHPID" >"$cg/cgroup.procs" && exec "$@" )
  rc=$?
  # Processes the command left behind keep the group busy: move them out.
  while read -r p; do echo "$p" >"$(dirname "$cg")/cgroup.procs" 2>/dev/null; done <"$cg/cgroup.procs"
  rmdir "$cg" 2>/dev/null
  exit "$rc"
fi
half=$(( (ncpu + 1) / 2 ))
echo "host-load: no writable cgroup; CPUs 0-$((half - 1)) of $ncpu for: $*" >&2
exec taskset -c "0-$((half - 1))" "$@"
