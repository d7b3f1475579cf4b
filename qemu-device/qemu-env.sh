# shellcheck shell=bash
# mtia-open: where the QEMU built by qemu-device/build-qemu.sh is, and the
# firmware search directories a q35 VM needs with it.
#
#   source qemu-device/qemu-env.sh     sets QEMU_BIN, QEMU_L_ARGS (string) and
#                                      QEMU_L_ARGV (bash array)
#   qemu-device/qemu-env.sh            prints those as shell assignments
#
# Use:   "$QEMU_BIN" "${QEMU_L_ARGV[@]}" -machine q35 -device mtia ...
#
# The firmware comes from Debian packages (not from the QEMU source tree):
#   seabios           /usr/share/seabios    bios-256k.bin, vgabios-*.bin
#   ipxe-qemu         /usr/lib/ipxe/qemu    efi-*.rom NIC option ROMs
#   qemu-system-data  /usr/share/qemu       kvmvapic.bin, linuxboot_dma.bin (-kernel),
#                                           multiboot*.bin, pvh.bin, keymaps
# build-qemu.sh also bakes these into the binary (--firmwarepath), so the -L
# arguments are belt and braces; `$QEMU_BIN -L help` lists the search path.

_mtia_qemu_top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
QEMU_BIN="${QEMU_BIN:-$_mtia_qemu_top/build/qemu/qemu-system-x86_64}"
QEMU_L_ARGV=(-L /usr/share/seabios -L /usr/lib/ipxe/qemu -L /usr/share/qemu)
QEMU_L_ARGS="${QEMU_L_ARGV[*]}"
unset _mtia_qemu_top

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    # Executed, not sourced: print, and say if something is missing.
    printf 'QEMU_BIN=%q\n' "$QEMU_BIN"
    printf 'QEMU_L_ARGS=%q\n' "$QEMU_L_ARGS"
    [ -x "$QEMU_BIN" ] || echo "# warning: $QEMU_BIN not built yet (make qemu)" >&2
    for f in /usr/share/seabios/bios-256k.bin /usr/share/qemu/kvmvapic.bin \
             /usr/share/qemu/linuxboot_dma.bin /usr/lib/ipxe/qemu/efi-e1000e.rom; do
        [ -r "$f" ] || echo "# warning: missing $f (scripts/setup.sh installs it)" >&2
    done
else
    export QEMU_BIN QEMU_L_ARGS
fi
