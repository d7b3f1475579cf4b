#!/usr/bin/env bash
# A clean Debian 12 root (debootstrap --variant=minbase bookworm) as
# build/deps/debian-root.tar: tests/deb-install.sh unpacks a fresh copy for
# each run and installs the packages there the way a user would (apt install
# ./*.deb). Idempotent: does nothing once the tarball is there. Needs root
# (debootstrap) and Debian's mirror.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
tar=$top/build/deps/debian-root.tar
[ -f "$tar" ] && exit 0
mirror=${MTIA_DEBIAN_MIRROR:-http://deb.debian.org/debian}
tmp=$top/build/deps/.debian-root
rm -rf "$tmp"
trap 'rm -rf "$tmp"' EXIT
echo "fetch-debian-root: debootstrap --variant=minbase bookworm ($mirror)"
debootstrap --variant=minbase bookworm "$tmp" "$mirror" >"$top/build/deps/debian-root.log" 2>&1 || {
  tail -n 20 "$top/build/deps/debian-root.log" >&2; exit 1; }
tar -C "$tmp" -cf "$tar.part" .
mv "$tar.part" "$tar"
echo "fetch-debian-root: $tar"
