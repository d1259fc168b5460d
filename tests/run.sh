#!/bin/bash
# tests/run.sh - synfence test runner (`make test`): the unit test binary, then every
# tests/integration/*.sh. Prints PASS/FAIL per test (with the log of failures) and ends with
# "N passed, N failed[, N skipped]". Exit 1 when anything failed.
#
# Environment: BUILD (default build), SYNFENCE (default $BUILD/synfence), SF_TEST_TIMEOUT (seconds
# per integration test, default 300), SF_ONLY (a pattern: run only integration tests whose file
# name contains it; the unit tests are skipped then), SF_NO_UNIT=1 (skip the unit tests),
# SF_KEEP_LOGS=1 (keep the per-test logs also when everything passed).
# An integration test that exits 77 is counted as skipped, and so is each check a test skipped (a
# line "  skip  WHICH: WHY" in its output, shown under its PASS line).

set -u
cd "$(dirname "$0")/.." || exit 1

if [ "$(id -u)" != 0 ]; then
	echo "tests/run.sh: the synfence tests must run as root: they create network namespaces, attach" >&2
	echo "XDP/TC programs and mount bpffs. Run: sudo make test" >&2
	exit 1
fi

export BUILD=${BUILD:-build}
# SF_TAG (a few letters, default none) goes before every namespace and pin prefix, so that two
# checkouts can run their tests side by side.
export SF_TAG=${SF_TAG:-}
export SF_PREFIX=${SF_TAG}sfi
. tests/lib.sh # for SYNFENCE and the leftover cleanup below; sets nothing up by itself
export SYNFENCE XDP_PASS SFI_FLOOD SFI_HANDSHAKE
TIMEOUT=${SF_TEST_TIMEOUT:-300}
ONLY=${SF_ONLY:-}

passed=0 failed=0 skipped=0
failures=()
t_start=$(date +%s)

# Leftovers of an earlier, interrupted run: sfi-* (and sfo-*: the observability tests, 70-79;
# sfr-*: the daemon lifecycle tests, 21-27; sfm-*: the daemon modes test, 28; sff-*: the
# fault-injection test, 94) namespaces and their processes, pins.
for ns in $(ip netns list | awk '{ print $1 }' | grep -E "^${SF_TAG}(sf[iorm]|sff)-"); do
	echo "removing leftover namespace $ns"
	for p in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
	ip netns del "$ns"
done
for d in /run/"$SF_TAG"{sfi,sfo,sfr,sfm,sff}; do
	if mountpoint -q $d 2>/dev/null; then
		find $d -mindepth 1 -maxdepth 1 ! -name '*.debug' -exec rm -rf {} + 2>/dev/null
		umount $d 2>/dev/null && rmdir $d 2>/dev/null
	fi
done
sf_unmount_pin_root

logdir=$(mktemp -d "/tmp/${SF_PREFIX}-run.XXXXXX")

# ---- unit tests ----
if [ -z "$ONLY" ] && [ "${SF_NO_UNIT:-0}" != 1 ]; then
	unit=$BUILD/test_xdp
	echo "== unit tests: $unit"
	if [ -x "$unit" ]; then
		t0=$(date +%s)
		"$unit" >"$logdir/unit.log" 2>&1
		rc=$?
		line=$(grep -E '^([A-Za-z]+: )?[0-9]+ passed, [0-9]+ failed' "$logdir/unit.log" | tail -n 1)
		if [[ $line =~ ([0-9]+)\ passed,\ ([0-9]+)\ failed(,\ ([0-9]+)\ skipped)? ]]; then
			up=${BASH_REMATCH[1]} uf=${BASH_REMATCH[2]} us=${BASH_REMATCH[4]:-0}
			passed=$((passed + up)) failed=$((failed + uf)) skipped=$((skipped + us))
			if [ "$rc" != 0 ] && [ "$uf" = 0 ]; then
				# crashed or exited non-zero despite its own count
				failed=$((failed + 1))
				uf=1
			fi
		else
			up=0 uf=1
			failed=$((failed + 1))
			line="no 'N passed, N failed' line, exit status $rc"
		fi
		if [ "$uf" != 0 ]; then
			echo "FAIL unit tests ($line, exit $rc, $(($(date +%s) - t0)) s)"
			sed 's/^/    | /' "$logdir/unit.log"
			failures+=("unit tests")
		else
			echo "PASS unit tests ($line, $(($(date +%s) - t0)) s)"
		fi
	else
		echo "FAIL unit tests: $unit not found (run make)"
		failed=$((failed + 1))
		failures+=("unit tests (binary missing)")
	fi
fi

# ---- integration tests ----
for t in tests/integration/*.sh; do
	[ -e "$t" ] || continue
	name=$(basename "$t" .sh)
	[ -n "$ONLY" ] && [[ $name != *"$ONLY"* ]] && continue
	echo "== $name"
	t0=$(date +%s)
	timeout -k 15 "$TIMEOUT" bash "$t" >"$logdir/$name.log" 2>&1 </dev/null
	rc=$?
	dt=$(($(date +%s) - t0))
	skipped=$((skipped + $(grep -c '^  skip ' "$logdir/$name.log")))
	if [ $rc = 0 ]; then
		passed=$((passed + 1))
		echo "PASS $name (${dt} s, $(grep -c '^  ok ' "$logdir/$name.log") checks)"
		sed -n 's/^  skip  /    skipped: /p' "$logdir/$name.log"
	elif [ $rc = 77 ]; then
		skipped=$((skipped + 1))
		echo "SKIP $name: $(tail -n 1 "$logdir/$name.log")"
	else
		failed=$((failed + 1))
		failures+=("$name")
		[ $rc = 124 ] || [ $rc = 137 ] && echo "    (timed out after $TIMEOUT s)"
		echo "FAIL $name (exit $rc, ${dt} s) - log:"
		sed 's/^/    | /' "$logdir/$name.log"
	fi
	# a test must leave nothing behind
	left=$(ip netns list | awk '{ print $1 }' | grep -E "^${SF_TAG}(sf[iorm]|sff)-" | tr '\n' ' ')
	if [ -n "$left" ]; then
		echo "    warning: $name left namespaces behind: $left (removing)"
		for ns in $left; do
			for p in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
			ip netns del "$ns"
		done
	fi
done
sf_unmount_pin_root

echo
if [ "$failed" -eq 0 ] && [ "${SF_KEEP_LOGS:-0}" != 1 ]; then
	rm -rf "$logdir"
	echo "total time $(($(date +%s) - t_start)) s"
else
	echo "logs: $logdir; total time $(($(date +%s) - t_start)) s"
fi
[ ${#failures[@]} -eq 0 ] || echo "failed: ${failures[*]}"
if [ "$skipped" -gt 0 ]; then
	echo "$passed passed, $failed failed, $skipped skipped"
else
	echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
