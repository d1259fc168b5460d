#!/bin/bash
# tests/fuzz/fuzz.sh [SECONDS] - run every fuzzer for SECONDS (default 10) each; exit 1 on any
# finding (`make fuzz FUZZ_SECONDS=N`). Findings (crashing inputs) are kept under
# /tmp/sfz-findings.* and named in the output.
#
#   sf_fuzz_bpf     the XDP/TC programs, seeded structure-aware generator, corpus replayed first
#   sf_fuzz_bpf_lf  the same invariants under libFuzzer + ASan/UBSan, structure-aware mutator
#   fuzz_ports      user/conf/ports.c under libFuzzer + ASan/UBSan
#   fuzz_conf       the config file loader (user/conf/settings.c, libinih) under libFuzzer + ASan/UBSan
#   fuzz_cli        main() and every command's parser, synthetic argv; runs as nobody
# The BPF ones and fuzz_cli run in network namespaces of their own (sfz-*), removed afterwards.
# Environment: BUILD (default build), SF_FUZZ_SEED (default 1), SF_FUZZ_ONLY (one fuzzer's name).
set -u
cd "$(dirname "$0")/../.." || exit 2
secs=${1:-10}
B=${BUILD:-build}/fuzz
seed=${SF_FUZZ_SEED:-1}
only=${SF_FUZZ_ONLY:-}
[ "$(id -u)" = 0 ] || { echo "$0: must run as root (BPF test runs, namespaces)" >&2; exit 2; }
work=$(mktemp -d /tmp/sfz-fuzz.XXXXXX) || exit 2
chmod 755 "$work"
findings=$work/findings
mkdir -p "$findings"
chmod 777 "$findings"
export SF_FUZZ_FINDINGS=$findings
trap 'rm -rf "$work"' EXIT
rc=0

# libFuzzer options shared by all: deterministic seed, bounded time, no stray files in the repo
lf_opts=(-seed="$seed" -max_total_time="$secs" -timeout=10 -rss_limit_mb=4096
	 -print_final_stats=1 -artifact_prefix="$findings/")

run() {
	local name=$1 t0 r
	shift
	[ -n "$only" ] && [ "$only" != "$name" ] && return 0
	echo "== $name (${secs} s)"
	t0=$(date +%s%N)
	"$@" >"$work/$name.log" 2>&1
	r=$?
	t0=$((($(date +%s%N) - t0) / 100000000))
	echo "   $((t0 / 10)).$((t0 % 10)) s, exit $r"
	# the summary: the seeded fuzzer's own, or libFuzzer's stats
	grep -E '^(frames|verdicts|tc|invariant checks|findings):' "$work/$name.log" | sed 's/^/   /'
	grep -E '^stat::(number_of_executed_units|new_units_added)|^Done [0-9]+ runs' "$work/$name.log" |
		sed 's/^/   /'
	if [ "$r" != 0 ]; then
		rc=1
		echo "FAIL $name: exit $r; log:"
		grep -v -E '^#[0-9]+' "$work/$name.log" | tail -n 60 | sed 's/^/    | /'
	else
		echo "ok   $name"
	fi
}

run sf_fuzz_bpf tests/fuzz/run-in-netns.sh "$B/sf_fuzz_bpf" --seed "$seed" --seconds "$secs" \
	--corpus tests/fuzz/corpus/bpf
mkdir -p "$work/lf-bpf"
run sf_fuzz_bpf_lf tests/fuzz/run-in-netns.sh "$B/sf_fuzz_bpf_lf" "${lf_opts[@]}" "$work/lf-bpf" \
	tests/fuzz/corpus/bpf
mkdir -p "$work/lf-ports"
run fuzz_ports "$B/fuzz_ports" "${lf_opts[@]}" "$work/lf-ports" tests/fuzz/corpus/ports
# -max_len: a config file longer than libFuzzer's default 4096 bytes (continuation lines)
mkdir -p "$work/lf-conf"
run fuzz_conf "$B/fuzz_conf" "${lf_opts[@]}" -max_len=16384 "$work/lf-conf" tests/fuzz/corpus/conf
# the command line: as nobody, in a namespace of its own, leak checks off (a one-shot CLI's
# allocations at exit are not a defect; the long-running parsers have their own fuzzers)
mkdir -p "$work/lf-cli"
chown nobody "$work/lf-cli"
run fuzz_cli tests/fuzz/run-in-netns.sh setpriv --reuid=nobody --regid=nogroup --clear-groups \
	--inh-caps=-all "$B/fuzz_cli" "${lf_opts[@]}" -detect_leaks=0 "$work/lf-cli" tests/fuzz/corpus/cli

if [ -n "$(ls -A "$findings")" ]; then
	keep=$(mktemp -d /tmp/sfz-findings.XXXXXX)
	cp -a "$findings"/. "$keep"/
	echo "findings kept in $keep:"
	ls -l "$keep" | sed 's/^/    /'
	rc=1
fi
[ $rc = 0 ] && echo "fuzz: no finding" || echo "fuzz: FINDINGS (see above)"
exit $rc
