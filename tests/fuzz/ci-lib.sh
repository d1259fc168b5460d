# tests/fuzz/ci-lib.sh - helpers for the hardening scripts in tests/integration/9x-*.sh (source it).
# Checks print "  ok    ..." / "  FAIL  ..." (tests/run.sh counts the ok lines); ci_finish exits.
SF_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$SF_SRC" || exit 1
BUILD=${BUILD:-build}
FUZZ_B=$BUILD/fuzz
ASAN_B=$BUILD/asan
CI_FAILS=0
CI_CHECKS=0
ok() { CI_CHECKS=$((CI_CHECKS + 1)); printf '  ok    %s\n' "$*"; }
fail() { CI_CHECKS=$((CI_CHECKS + 1)); CI_FAILS=$((CI_FAILS + 1)); printf '  FAIL  %s\n' "$*"; }
# skip MESSAGE: a check that cannot be made here (which, and why); tests/run.sh shows and counts it
skip() { printf '  skip  %s\n' "$*"; }
check() { local msg=$1; shift; if "$@"; then ok "$msg"; else fail "$msg"; fi; }
ci_require_root() { [ "$(id -u)" = 0 ] || { echo "must run as root" >&2; exit 1; }; }
# ci_make TARGET...: build with the project's Makefile (the log is shown on failure)
ci_make() {
	local log
	log=$(mktemp)
	if make --no-print-directory BUILD="$BUILD" "$@" >"$log" 2>&1; then
		ok "built $*"
		rm -f "$log"
		return 0
	fi
	fail "build of $* failed:"
	tail -n 30 "$log" | sed 's/^/    | /'
	rm -f "$log"
	return 1
}
ci_finish() {
	if [ "$CI_CHECKS" = 0 ]; then echo "RESULT: FAIL (no check was made)"; exit 1; fi
	if [ "$CI_FAILS" != 0 ]; then echo "RESULT: FAIL ($CI_FAILS of $CI_CHECKS checks)"; exit 1; fi
	echo "RESULT: PASS ($CI_CHECKS checks)"
	exit 0
}
