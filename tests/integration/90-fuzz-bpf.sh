#!/bin/bash
# 90-fuzz-bpf: the XDP and TC programs fuzzed through BPF_PROG_TEST_RUN (tests/fuzz/fuzz_bpf.c):
# the checked-in corpus replayed, then a seeded structure-aware run, then the libFuzzer build
# (ASan/UBSan) from the corpus; invariants on every XDP verdict and every TC handoff decision
# (every frame goes through both). In namespaces sfz-* of their own.
# SF_FUZZ_CI_SECONDS (default 25) bounds the seeded run, a third of it the libFuzzer one.
. "$(dirname "$0")/../fuzz/ci-lib.sh"
ci_require_root
secs=${SF_FUZZ_CI_SECONDS:-25}
log=$(mktemp)
trap 'rm -f "$log"; rm -rf "${lfdir:-}"' EXIT
ci_make "$FUZZ_B/sf_fuzz_bpf" "$FUZZ_B/sf_fuzz_bpf_lf" || ci_finish

tests/fuzz/run-in-netns.sh "$FUZZ_B/sf_fuzz_bpf" --seed "${SF_FUZZ_SEED:-1}" --seconds "$secs" \
	--corpus tests/fuzz/corpus/bpf >"$log" 2>&1
rc=$?
sed -n '/^frames:/,$p' "$log" | sed 's/^/    /'
check "seeded BPF fuzz run exits 0 (no finding)" [ $rc = 0 ]
[ $rc = 0 ] || grep -A3 '^FINDING' "$log" | head -40 | sed 's/^/    | /'
frames=$(awk '/^frames:/ { print $2 }' "$log")
corpus=$(ls tests/fuzz/corpus/bpf | wc -l)
check "frames judged: ${frames:-0} (>= 100000 and more than the $corpus corpus frames)" \
	[ "${frames:-0}" -ge 100000 ]
check "findings: 0" grep -q '^findings: 0$' "$log"
# the same with the per-source SYN limits on (1/s, burst 4): the model allows "limited" only for a
# prefix it has seen send at least 4 counted SYNs (tests/fuzz/model.c expect_limit)
tests/fuzz/run-in-netns.sh "$FUZZ_B/sf_fuzz_bpf" --seed "${SF_FUZZ_SEED:-1}" --seconds "$(((secs + 2) / 3))" \
	--limit 4 --corpus tests/fuzz/corpus/bpf >"$log.limit" 2>&1
rc=$?
check "seeded BPF fuzz run with --limit 4 exits 0 (no finding)" [ $rc = 0 ]
[ $rc = 0 ] || grep -A3 '^FINDING' "$log.limit" | head -20 | sed 's/^/    | /'
check "... and SYNs were limited (path syn/limited)" grep -q 'syn/limited=[1-9]' "$log.limit"
rm -f "$log.limit"
# the generator must keep reaching every path of the reference model, XDP's and TC's
paths=$(grep '^paths:' "$log")
missing=
for p in not-tcp disabled fragment unparsed unprotected other syn/synack syn/flags syn/existing syn/bad-doff \
	syn/bad-options syn/no-secret ack/cached ack/established ack/no-socket ack/bad-doff ack/bad-options \
	ack/no-secret ack/cookie-ok ack/bad-epoch ack/bad-hash syn/allowed syn/denied ack/allowed ack/denied tc/gate tc/cached tc/handoff tc/cookie-bad \
	tc/no-secret tc/no-listener tc/no-socket tc/dup tc/established tc/monitor-valid tc/monitor-other \
	syn/calm ack/calm-bad tc/calm-valid tc/calm-other; do
	[[ " $paths " == *" $p="* ]] || missing+=" $p"
done
check "every path of the reference model reached${missing:+ (missing:$missing)}" [ -z "$missing" ]
handoffs=$(sed -n 's/^tc: .*handoffs verified \([0-9]*\).*/\1/p' "$log")
check "TC handoffs verified against the cookie: ${handoffs:-0} (> 0)" [ "${handoffs:-0}" -gt 0 ]
for inv in "XDP_TX only for a well-formed SYN" "SYN-ACK parses" "TC hands off only a valid cookie ACK" \
	"valid cookie ACK to the listener" "unprotected port" "TC: test run ok" "TC: handoff decision" \
	"monitor mode: every frame passes"; do
	n=$(grep -F "$inv" "$log" | awk '{ print $1 }' | head -1)
	check "invariant checked ${n:-0} times: $inv" [ "${n:-0}" -gt 0 ]
done

lfdir=$(mktemp -d /tmp/sfz-lf.XXXXXX)
tests/fuzz/run-in-netns.sh "$FUZZ_B/sf_fuzz_bpf_lf" -seed="${SF_FUZZ_SEED:-1}" \
	-max_total_time=$((secs / 3 + 1)) -timeout=10 -print_final_stats=1 -artifact_prefix="$lfdir/" \
	"$lfdir" tests/fuzz/corpus/bpf >"$log" 2>&1
rc=$?
runs=$(awk '/^stat::number_of_executed_units/ { print $2 }' "$log")
good=0
[ $rc = 0 ] && [ "${runs:-0}" -gt 1000 ] && good=1
check "libFuzzer BPF fuzz (ASan/UBSan, structure-aware mutator): ${runs:-0} inputs (> 1000), exit $rc" \
	[ $good = 1 ]
[ $rc = 0 ] || grep -v '^#' "$log" | tail -n 40 | sed 's/^/    | /'
ci_finish
