#!/bin/sh
# Stage 2 of an mtia-vm guest, run by tools/vm/init chrooted into the host's
# root file system (so every host binary and library works unchanged).
#   $1 = per-run results directory (shared with the host through the repo)
# Reads  $1/env (exported variables) and $1/cmd (the shell command).
# Writes $1/t-cmd (guest uptime when CMD starts), $1/rc (CMD's exit status,
#        or "driver" when loading the driver failed) and $1/dmesg.
run=$1
. "$run/env"
cd "$MTIA_TOP" || exit 1

finish() { # status
    dmesg > "$run/dmesg" 2>&1
    echo "$1" > "$run/rc"
    exit 0
}

if [ "${MTIA_VM_LOAD_DRIVER:-0}" = 1 ]; then
    # The host resolved the driver's dependencies (modinfo depends + the guest
    # kernel's modules.dep) into decompressed copies under build/vm/modcache.
    for nk in ${MTIA_VM_DEP_KOS:-}; do
        [ -d "/sys/module/${nk%%:*}" ] && continue
        insmod "${nk#*:}" ||
            { echo "mtia-vm(guest): insmod ${nk#*:} failed" >&2; finish driver; }
    done
    if [ -n "${MTIA_VM_DEP_MODPROBE:-}" ]; then
        # shellcheck disable=SC2086
        modprobe -d "$MTIA_GUEST_ROOT" -a $MTIA_VM_DEP_MODPROBE ||
            { echo "mtia-vm(guest): modprobe -d $MTIA_GUEST_ROOT $MTIA_VM_DEP_MODPROBE failed" >&2; finish driver; }
    fi
    # shellcheck disable=SC2086
    insmod "$MTIA_VM_DRIVER" ${MTIA_VM_DRIVER_ARGS:-} ||
        { echo "mtia-vm(guest): insmod $MTIA_VM_DRIVER failed" >&2; finish driver; }
fi

cut -d' ' -f1 /proc/uptime > "$run/t-cmd"
/bin/sh -c "$(cat "$run/cmd")" </dev/null
finish $?
