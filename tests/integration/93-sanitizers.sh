#!/bin/bash
# 93-sanitizers: the userspace code and its tests under AddressSanitizer + UndefinedBehaviorSanitizer:
#  - the unit tests (build/asan/test_xdp) in a namespace sfz-* of their own;
#  - the synfence binary (build/asan/synfence) on the command lines a user gets wrong, as root and
#    as nobody: one-line error, exit 1/2, no sanitizer report;
#  - the port-list parser, the config file loader and the command line under libFuzzer
#    (fuzz_ports, fuzz_conf, fuzz_cli as nobody).
# The runs as nobody are skipped, saying why, where no unprivileged user can run a program at all
# (tests/lib.sh: sf_nobody_blocked).
# SF_SAN_FUZZ_SECONDS (default 10) per fuzzer.
. "$(dirname "$0")/../fuzz/ci-lib.sh"
ci_require_root
secs=${SF_SAN_FUZZ_SECONDS:-10}
export ASAN_OPTIONS=abort_on_error=0:detect_leaks=1:exitcode=99
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:exitcode=98
log=$(mktemp)
trap 'rm -f "$log"' EXIT
sanitizer_clean() { ! grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$1"; }
# why the runs as nobody cannot be made here (empty when they can): see tests/lib.sh
# shellcheck source=/dev/null
nobody_blocked=$(. tests/lib.sh && sf_nobody_blocked)

if ci_make "$ASAN_B/test_xdp"; then
	tests/fuzz/run-in-netns.sh "$ASAN_B/test_xdp" >"$log" 2>&1
	rc=$?
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -1)
	good=0
	[ $rc = 0 ] && [[ $line =~ ^[1-9][0-9]*\ passed,\ 0\ failed ]] && good=1
	check "unit tests under ASan/UBSan: ${line:-no result line}, exit $rc" [ $good = 1 ]
	check "unit tests: no sanitizer report" sanitizer_clean "$log"
	[ $rc = 0 ] || grep -E 'FAIL|ERROR|runtime error' "$log" | head -20 | sed 's/^/    | /'
fi

if ci_make "$ASAN_B/synfence"; then
	S=$ASAN_B/synfence
	# cmdline | expected exit codes | who
	cases=(
		"help|0|root" "help run|0|root" "help stats|0|root" "--version|0|root" "-j --version|0|root"
		"|2|root" "bogus|2|root" "run|2|root" "run lo|2|root" "run lo --ports 0|2|root"
		"run lo --ports 65536|2|root" "run lo --ports 80-70|2|root" "run lo --ports ,|2|root"
		"run lo --ports 80 --rotate 0|2|root" "run lo --ports 80 --mode bogus|2|root"
		"run lo lo --ports 80|2|root" "-j run --bogus|2|root" "stats --pin-dir /nonexistent|1|root"
		"-j stats --pin-dir /nonexistent|1|root" "stats --bogus|2|root"
		"run lo --ports 80|1|nobody" "stats|1|nobody"
	)
	for c in "${cases[@]}"; do
		IFS='|' read -r args want who <<<"$c"
		if [ "$who" = nobody ] && [ -n "$nobody_blocked" ]; then
			skip "synfence $args (as nobody): $nobody_blocked"
			continue
		fi
		# shellcheck disable=SC2086
		if [ "$who" = nobody ]; then
			tests/fuzz/run-in-netns.sh setpriv --reuid=nobody --regid=nogroup --clear-groups \
				--inh-caps=-all "$S" $args >"$log.out" 2>"$log"
		else
			tests/fuzz/run-in-netns.sh "$S" $args >"$log.out" 2>"$log"
		fi
		rc=$?
		errl=$(grep -cv '^$' "$log")
		if [[ $args == *-j* ]] && [ "$want" != 0 ]; then
			ok_out=$(jq -e '.error | type == "string"' "$log.out" >/dev/null 2>&1 && echo 1)
		else
			ok_out=1
		fi
		if [ "$rc" = "$want" ] && sanitizer_clean "$log" && { [ "$want" = 0 ] || [ "$errl" -le 1 ]; } &&
			[ "${ok_out:-}" = 1 ]; then
			ok "synfence $args (as $who): exit $rc${errl:+, $errl stderr line(s)}, no sanitizer report"
		else
			fail "synfence $args (as $who): exit $rc (want $want), stderr:"
			head -20 "$log" | sed 's/^/    | /'
		fi
	done
	rm -f "$log.out"
fi

if ci_make "$FUZZ_B/fuzz_ports" "$FUZZ_B/fuzz_conf" "$FUZZ_B/fuzz_cli"; then
	BUILD=$BUILD SF_FUZZ_ONLY=fuzz_ports tests/fuzz/fuzz.sh "$secs" >"$log" 2>&1
	rc=$?
	sed 's/^/    /' "$log" | grep -E 'stat::number|exit|FAIL|finding' | head -20
	check "fuzz_ports (libFuzzer, ASan/UBSan, round-trip properties) for $secs s: no finding" [ $rc = 0 ]
	[ $rc = 0 ] || tail -40 "$log" | sed 's/^/    | /'
	BUILD=$BUILD SF_FUZZ_ONLY=fuzz_conf tests/fuzz/fuzz.sh "$secs" >"$log" 2>&1
	rc=$?
	sed 's/^/    /' "$log" | grep -E 'stat::number|exit|FAIL|finding' | head -20
	check "fuzz_conf (libFuzzer, ASan/UBSan, config file loader: one-line errors, round trip) for $secs s: no finding" [ $rc = 0 ]
	[ $rc = 0 ] || tail -40 "$log" | sed 's/^/    | /'
	if [ -n "$nobody_blocked" ]; then
		skip "fuzz_cli (libFuzzer, as nobody): $nobody_blocked"
	else
		BUILD=$BUILD SF_FUZZ_ONLY=fuzz_cli tests/fuzz/fuzz.sh "$secs" >"$log" 2>&1
		rc=$?
		sed 's/^/    /' "$log" | grep -E 'stat::number|exit|FAIL|finding' | head -20
		check "fuzz_cli (libFuzzer, ASan/UBSan, synthetic argv, as nobody) for $secs s: no finding" [ $rc = 0 ]
		[ $rc = 0 ] || tail -40 "$log" | sed 's/^/    | /'
	fi
fi
ci_finish
