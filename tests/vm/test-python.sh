#!/usr/bin/env bash
# In-VM Python suites (pytest over tests/python, module from build/python):
# the bindings against the driver. Last line: "N passed, M failed".
set -u
# shellcheck source=tests/vm/lib.sh
. "$(dirname "$0")/lib.sh"
dmesg_mark=$(dmesg | wc -l)
xml=$(mktemp)
on_finish() { rm -f "$xml"; }

PYTHONPATH=build/python $PY -m pytest -q -p no:cacheprovider --junitxml="$xml" tests/python
# pytest's own counts (tests, failures, errors) become ours.
counts=$($PY -c '
import sys, xml.etree.ElementTree as ET
r = ET.parse(sys.argv[1]).getroot()
s = r if r.tag == "testsuite" else r.find("testsuite")
t, bad = int(s.get("tests")), int(s.get("failures")) + int(s.get("errors"))
print(t - bad - int(s.get("skipped")), bad)' "$xml" 2>/dev/null) || counts="0 1"
passed=$((passed + ${counts% *})) failed=$((failed + ${counts#* }))

bad=$(dmesg | tail -n +$((dmesg_mark + 1)) |
  grep -E 'WARNING:|BUG:|Oops|Call Trace:|general protection|refcount_t' || true)
check "dmesg has no warning or oops" test -z "$bad"
finish
