# Check counting shared by the shell tests, host and in-VM (sourced, not
# run): check() and pass()/fail() count, finish() prints the
# "N passed, N failed" line every suite ends with and exits.
# shellcheck shell=bash
passed=0
failed=0
# MTIA_TEST_TIMES=1 prefixes each result with the uptime (in the VM: the guest's).
stamp() { [ -n "${MTIA_TEST_TIMES:-}" ] && printf '[%s] ' "$(cut -d' ' -f1 /proc/uptime)"; }
pass() { passed=$((passed + 1)); echo "$(stamp)PASS: $*"; }
fail() { failed=$((failed + 1)); echo "$(stamp)FAIL: $*"; }
check() { # description command...
  local what=$1; shift
  if "$@"; then pass "$what"; else fail "$what"; fi
}
# A test may define on_finish() for its own clean-up.
finish() {
  if declare -F on_finish >/dev/null; then on_finish; fi
  echo "$passed passed, $failed failed"
  [ "$failed" -eq 0 ]
  exit
}
