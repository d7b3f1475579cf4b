#!/usr/bin/env bash
# make deb: the Debian packages of the already-built tree (debian/rules) into
# build/deb, then lintian over them. dpkg-buildpackage writes next to the
# source tree (..): the files its .changes lists are moved into build/deb.
# Exit status: dpkg-buildpackage's, else lintian's (errors only fail).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
out=$top/build/deb
rm -rf "$out"
mkdir -p "$out"
ver=$(dpkg-parsechangelog -S Version)
arch=$(dpkg --print-architecture)
dpkg-buildpackage -us -uc -b
changes=../mtia-open_${ver}_${arch}.changes
# The .changes "Files:" section: " md5 size section priority name".
awk '/^Files:/ { f = 1; next } /^[^ ]/ { f = 0 } f { print $5 }' "$changes" | while read -r f; do
  mv "../$f" "$out/"
done
mv "$changes" "$out/"
rm -f ../mtia-open_"${ver}"_"${arch}".buildinfo
# debian/ back to its sources (staging dirs, debhelper logs).
dh_clean
ls -l "$out"
# Errors fail; every warning left is explained in docs/packaging.md.
lintian --fail-on error "$out"/*.changes
