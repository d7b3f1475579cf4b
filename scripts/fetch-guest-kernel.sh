#!/usr/bin/env bash
# Fetches Debian 12's newest 6.12 guest kernel (image + headers + kbuild) with
# `apt-get download` and unpacks it into build/deps/guest/root with dpkg -x:
# nothing is installed system-wide. Writes build/deps/guest/kver.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
g="$top/build/deps/guest"
[ -f "$g/.fetched" ] && exit 0

# Newest linux-image-6.12.N+deb12-amd64 (the versions drift; -cloud lacks DRM).
kver=$(apt-cache search --names-only '^linux-image-6\.12\.[0-9]+\+deb12-amd64$' \
        | awk '{print $1}' | sed 's/^linux-image-//' | sort -V | tail -n1)
[ -n "$kver" ] || { echo "fetch-guest-kernel: no linux-image-6.12.*+deb12-amd64 in apt" >&2; exit 1; }
base=${kver%-amd64}                      # e.g. 6.12.117+deb12
kbuild=$(apt-cache show "linux-headers-$kver" | sed -n 's/^Depends:.*\(linux-kbuild-[^ ,]*\).*/\1/p' | head -n1)
[ -n "$kbuild" ] || kbuild="linux-kbuild-$base"

rm -rf "$g" && mkdir -p "$g/debs" "$g/root"
cd "$g/debs"
apt-get download "linux-image-$kver" "linux-headers-$kver" "linux-headers-$base-common" "$kbuild" >/dev/null
for d in *.deb; do dpkg -x "$d" "$g/root"; done

# The headers refer to their siblings by absolute /usr/... paths; point them
# into our unpacked tree instead.
hdr="$g/root/usr/src/linux-headers-$kver"
grep -rlZ "/usr/src/linux-headers-$base-common" "$hdr/Makefile" 2>/dev/null \
  | xargs -0 -r sed -i "s|/usr/src/linux-headers-$base-common|$g/root/usr/src/linux-headers-$base-common|g"
for l in $(find "$g/root/usr/src" -maxdepth 3 -type l); do
  t=$(readlink "$l")
  case "$t" in /*) ln -sfn "$g/root$t" "$l" ;; esac
done
# modules.dep for the guest's modprobe (depmod runs here, as any user).
depmod -b "$g/root" "$kver"
echo "$kver" > "$g/kver"
rm -rf "$g/debs"
touch "$g/.fetched"
echo "fetch-guest-kernel: $kver"
