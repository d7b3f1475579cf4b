#!/usr/bin/env bash
# The C++ and qemu-device/core's C against .clang-format (clang-format-14):
# one check per file; a file that differs fails and its diff is shown.
#   tests/format-check.sh          check (make test)
#   tests/format-check.sh --fix    rewrite the files in place (make format)
set -u
cd "$(dirname "$0")/.." || exit 2
cf=clang-format-14
command -v "$cf" >/dev/null || { echo "no $cf (scripts/setup.sh)"; echo "0 passed, 1 failed"; exit 1; }

mapfile -t files < <(git ls-files '*.cc' '*.cpp' '*.hpp' 'runtime/*.h' 'tools/*.h' 'qemu-device/core/*.h' 'tests/*.h' |
  grep -v '^build/')
if [ "${1:-}" = --fix ]; then
  exec "$cf" -i "${files[@]}"
fi
pass=0 fail=0
for f in "${files[@]}"; do
  if "$cf" --dry-run --Werror "$f" 2>/dev/null; then
    pass=$((pass + 1))
  else
    fail=$((fail + 1))
    echo "FAIL: $f differs from .clang-format:"
    "$cf" "$f" | diff -u "$f" - | head -20
  fi
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
