#!/usr/bin/env bash
# The Debian packages as a user gets them: built from the already-built tree
# (scripts/build-deb.sh: dpkg-buildpackage -us -uc -b, lintian with no
# error), installed with `apt install ./*.deb` into a fresh clean Debian 12
# root (build/deps/debian-root.tar, scripts/fetch-debian-root.sh), where the
# tools run, an example builds against the installed SDK with pkg-config,
# and DKMS builds the mtia-dkms source for the guest kernel. That module is
# what tests/vm/test-sdk.sh loads in the VM (build/deb/mtia.ko).
# Last line: "N passed, M failed"; exit 1 if any failed.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 2
# shellcheck source=tests/checks.sh
. tests/checks.sh

out=$top/build/deb
root=$top/build/deb-root
guest=$top/build/deps/guest/root
kver=$(cat build/deps/guest/kver)
log=$top/build/deb-install.log
: >"$log"
mounts=()
on_finish() {
  local m
  for ((m = ${#mounts[@]} - 1; m >= 0; m--)); do umount "${mounts[m]}" 2>/dev/null; done
}
trap on_finish EXIT
quiet() { "$@" >>"$log" 2>&1 || { tail -n 25 "$log"; return 1; }; }
in_root() { chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
  DEBIAN_FRONTEND=noninteractive "$@"; }

check "make deb: packages build and lintian reports no error" quiet scripts/build-deb.sh
packages=(libmtia0 libmtia-compiler0 libmtia-dev mtia-tools python3-mtia mtia-firmware mtia-dkms)
ver=$(dpkg-parsechangelog -S Version)
debs=()
for p in "${packages[@]}"; do
  f=$(ls "$out/${p}"_*.deb 2>/dev/null | head -n1)
  check "package $p built" test -n "$f"
  [ -n "$f" ] && debs+=("$f")
done
[ "${#debs[@]}" -eq "${#packages[@]}" ] || finish

# A fresh clean root; the packages and the guest kernel's headers visible in it.
# (Mounts an interrupted run left there go first, deepest first.)
awk -v r="$root/" 'index($2, r) == 1 { print $2 }' /proc/mounts | sort -r | while read -r m; do umount "$m"; done
rm -rf "$root"
check "a clean Debian 12 root" quiet bash -c "scripts/fetch-debian-root.sh && mkdir -p '$root' && tar -C '$root' -xf build/deps/debian-root.tar"
mkdir -p "$root/proc" "$root/tmp/deb" "$root$guest"
cp "${debs[@]}" "$root/tmp/deb/"
cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null
mount -t proc proc "$root/proc" && mounts+=("$root/proc")
# The headers' Makefile includes their -common part by this absolute path.
mount --bind -o ro "$guest" "$root$guest" && mounts+=("$root$guest")
# Downloaded .debs kept across runs (apt still verifies them).
mkdir -p build/deps/deb-apt-archives/partial
mount --bind build/deps/deb-apt-archives "$root/var/cache/apt/archives" && mounts+=("$root/var/cache/apt/archives")

check "apt install ./*.deb (dependencies from Debian; plus pkg-config, libc6-dev, dwarves)" quiet in_root bash -c \
  "apt-get update -q && apt-get install -y -q --no-install-recommends /tmp/deb/*.deb pkg-config libc6-dev dwarves"
for p in "${packages[@]}"; do
  check "$p is installed" bash -c "[ \"\$(chroot '$root' dpkg-query -W -f='\${Status}' $p)\" = 'install ok installed' ]"
done
for t in mtia-smi mtia-run mtia-compile; do
  check "$t --version runs from /usr/bin" bash -c "chroot '$root' /usr/bin/$t --version | grep -q '^$t '"
done
check "python3 -c 'import mtia' with the system's python3" bash -c \
  "[ \"\$(chroot '$root' python3 -c 'import mtia; print(mtia.__version__)')\" = $ver ]"
check "pkg-config --modversion mtia" bash -c "[ \"\$(chroot '$root' pkg-config --modversion mtia)\" = $ver ]"
cp examples/list_devices.c "$root/tmp/"
check "an example builds against the installed SDK (pkg-config)" quiet in_root bash -c \
  'cc -Wall -Werror /tmp/list_devices.c $(pkg-config --cflags --libs mtia) -o /tmp/list_devices'
check "the firmware is where request_firmware() looks" test -f "$root/lib/firmware/mtia/mtia-fw.bin"
check "the udev rule is installed" test -f "$root/lib/udev/rules.d/70-mtia.rules"
check "mtia-dkms registered the driver with DKMS" bash -c "chroot '$root' dkms status | grep -q '^mtia/$ver'"
check "dkms build mtia-dkms against the guest kernel's headers" quiet in_root \
  dkms build -m mtia -v "$ver" -k "$kver" --kernelsourcedir "$guest/usr/src/linux-headers-$kver"
ko=$root/var/lib/dkms/mtia/$ver/$kver/x86_64/module/mtia.ko
check "the module is built for $kver" bash -c "modinfo -F vermagic '$ko' | grep -q '^$kver '"
cp "$ko" "$out/mtia.ko" 2>/dev/null
finish
