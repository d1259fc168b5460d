#!/bin/bash
# Bulk throughput of a cookie-made connection (iperf3 to protected port 5201) is at least 90% of a
# kernel-made one (iperf3 to unprotected port 5202), synfence attached in both cases (XDP on a veth
# costs throughput by itself). 4 rounds, each one run per port back to back (P U, U P, ...), after
# one unmeasured warm-up run (the first run on a cold box is slow, and it must not always be the
# same side); the bar applies to the median of the rounds' ratios (of an even count, the lower
# middle one). Both runs of a round meet the same load, while a single run on this 2-CPU VM varies
# by +-15% and more when other work shares it: a best-of over all runs let one lucky reference run
# decide (85% failed with round ratios 67-127%, median 92%). When the median is below the bar, up to
# 4 more rounds are added: a real deficit fails all of them, noise does not. The protected runs must
# really be cookie-made (handoff_ok grows), the unprotected ones must not touch synfence's
# handshake path.
. "$(dirname "$0")/../lib.sh"

RUNS=${SF_TP_RUNS:-4}
EXTRA=${SF_TP_EXTRA_RUNS:-4}
SECS=${SF_TP_SECS:-6}
MIN_PCT=${SF_TP_MIN_PCT:-90}
sf_init throughput
sf_require_synfence
sf_topo_up
# Both servers on one CPU, the client on another (when there are two): left to the scheduler, the
# two iperf3 servers (two processes) can settle on different CPUs for a whole run, one beside the
# client's softirq work and one not, and the two ports then differ by 10-15% for reasons that have
# nothing to do with synfence (CI failed on it: every round 86-88%, all-round medians of other
# runs 98-101%).
SRV_PIN=() CLI_PIN=()
if [ "$(nproc)" -ge 2 ]; then
	SRV_PIN=(taskset -c 0) CLI_PIN=(taskset -c 1)
fi
for p in 5201 5202; do
	ip netns exec "$SRV_NS" "${SRV_PIN[@]}" iperf3 -s -p $p >"$TMPD/iperf3-s-$p.log" 2>&1 &
	sf_track_pid $!
	sf_wait_listen $p
done
sf_synfence_start 5201

# run PORT: one iperf3 run, sets RUN_BPS to the received bits/s (integer); checks its counters
run() {
	local port=$1 bps rc
	sf_snap "$TMPD/r0"
	ip netns exec "$CLI_NS" "${CLI_PIN[@]}" timeout $((SECS + 22)) iperf3 -c "$SRV4" -p "$port" -t "$SECS" -O 2 -J \
		>"$TMPD/iperf3-$port.json" 2>&1
	rc=$?
	sf_snap "$TMPD/r1"
	if [ $rc != 0 ]; then
		_fail "iperf3 to port $port exit status $rc: $(jq -r '.error // empty' "$TMPD/iperf3-$port.json" 2>/dev/null || head -c 300 "$TMPD/iperf3-$port.json")"
		RUN_BPS=0
		return
	fi
	bps=$(jq -r '.end.sum_received.bits_per_second | floor' "$TMPD/iperf3-$port.json")
	local retr
	retr=$(jq -r '.end.sum_sent.retransmits // "?"' "$TMPD/iperf3-$port.json")
	local ho
	ho=$(sf_delta "$TMPD/r0" "$TMPD/r1" handoff_ok)
	if [ "$port" = 5201 ]; then
		# iperf3 opens a control and a data connection
		check_ge "$ho" 2 "port $port run: control and data connections were cookie-made (handoff_ok delta)"
	else
		check_eq "$(sf_delta "$TMPD/r0" "$TMPD/r1" syn_recv)" 0 "port $port run: synfence saw no SYN (kernel-made)"
	fi
	printf '    port %s: %s Mbit/s, %s retransmits\n' "$port" "$((bps / 1000000))" "$retr"
	RUN_BPS=$bps
}

# round I: both ports once, alternating which one goes first (P U, U P, ...); adds the round's
# protected/unprotected ratio in % to RATIOS
RATIOS=()
round() {
	local i=$1 order port p u
	log "round $i"
	if [ $((i % 2)) = 1 ]; then order="5201 5202"; else order="5202 5201"; fi
	for port in $order; do
		run $port
		if [ $port = 5201 ]; then p=$RUN_BPS; else u=$RUN_BPS; fi
	done
	check_ge "$u" 1 "round $i: the kernel-made reference moved data"
	RATIOS+=($((u > 0 ? p * 100 / u : 0)))
	log "round $i: cookie-made at ${RATIOS[-1]}% of kernel-made"
}
median() { printf '%s\n' "${RATIOS[@]}" | sort -n | sed -n "$(((${#RATIOS[@]} + 1) / 2))p"; }

log "warm-up run (not counted)"
ip netns exec "$CLI_NS" "${CLI_PIN[@]}" timeout $((SECS + 22)) iperf3 -c "$SRV4" -p 5202 -t 3 >/dev/null 2>&1
for i in $(seq "$RUNS"); do round "$i"; done
i=$RUNS
while [ "$(median)" -lt "$MIN_PCT" ] && [ $i -lt $((RUNS + EXTRA)) ]; do
	i=$((i + 1))
	log "median ratio $(median)% is below $MIN_PCT%: one more round"
	round "$i"
done
check_ge "$(median)" "$MIN_PCT" "cookie-made throughput in % of kernel-made (median of $i rounds: ${RATIOS[*]})"
sf_snap "$TMPD/end"
check_eq "$(sf_cnt "$TMPD/end" handoff_err)" 0 "handoff_err stays 0"
check_eq "$(sf_cnt "$TMPD/end" ack_cookie_bad)" 0 "ack_cookie_bad stays 0 (no packet of a bulk flow was taken for a forged ACK)"
sf_synfence_stop
sf_finish
