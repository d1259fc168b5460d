#!/bin/bash
# Per-source SYN limits (source_syn_rate, source_syn_burst, source_prefix4/6; bpf/limit.h).
#  1. rate 1/s, burst 20, per /24: a spoofed burst of 300 SYNs from 198.18.1.0/24 (one /24) gets
#     exactly 20 SYN-ACKs, the other 280 SYNs are dropped (drop_rate_limited + 280); the real client
#     in 198.18.0.0/24 (another prefix) then connects untouched (curl, no drop counted).
#  2. the real client over its own limit: fast curls with a 0.3 s connect timeout (below the
#     client's 1 s SYN retransmission): the first 20 connect, each failed curl is exactly one
#     drop_rate_limited.
#  3. SIGHUP source_syn_rate = 0: the limiter is off, the same client connects again at once.
#  4. SIGHUP rate 10/s, burst 40, per /32: a flood of 200k spoofed SYNs from random sources
#     (sf_flood, 198.19.0.0/16) while the real client makes real curl connections (about 4 a
#     second, under its limit): every curl connects and no SYN is limited (drop_rate_limited + 0:
#     no false positive, for the client or the flood's own sources, none of which is over 10/s).
. "$(dirname "$0")/../lib.sh"

sf_init srclimit
CONF=$TMPD/synfence.conf
FLOOD_N=${SF_LIMIT_FLOOD_N:-200000}
FLOOD_PPS=${SF_LIMIT_FLOOD_PPS:-40000}
SF_GEN=$(sf_abspath "${SF_GEN:-$BUILD/sf_flood}")
sf_require_synfence
[ -x "$SF_GEN" ] || die "flood generator not found at $SF_GEN (run make)"
sf_build_tools
sf_topo_up -4 -r 198.19.0.0/16
sf_nginx_start 80

write_conf() {
	printf 'interfaces = %s\nports = 80\nsource_syn_rate = %s\nsource_syn_burst = %s\nsource_prefix4 = %s\n' \
		"$SRV_IF" "$1" "$2" "$3" >"$CONF"
}
curl_ok() { [ "$(sf_curl --connect-timeout "${1:-10}" "http://$SRV4/" 2>/dev/null)" = "$NGINX_BODY" ]; }
# deltas FROM TO WHAT COUNTER=N...: each counter moved by exactly N between the snapshots
deltas() {
	local a=$1 b=$2 what=$3 kv
	shift 3
	for kv in "$@"; do
		check_eq "$(sf_delta "$TMPD/$a" "$TMPD/$b" "${kv%%=*}")" "${kv#*=}" "$what: ${kv%%=*} + ${kv#*=}"
	done
}
# curls N [TIMEOUT]: N curls one after the other; prints how many got the page
curls() {
	local good=0
	for _ in $(seq "$1"); do curl_ok "${2:-10}" && good=$((good + 1)); done
	echo $good
}

log "1. rate 1/s burst 20 per /24: a spoofed /24 over its limit, the client's /24 untouched"
write_conf 1 20 24
sf_synfence_start -l "$TMPD/run.log" -a --config "$CONF" --pin-dir "$PIN"
check_match "$(srv "$SYNFENCE" run --config "$CONF" --check-config 2>&1)" 'source SYN limit 1/s burst 20 per /24 \(IPv4\), /64 \(IPv6\)$' "--check-config shows the limit"
check_eq "$(sf_status_json | jq -c '.daemon.source_syn_limit')" '{"rate":1,"burst":20,"prefix4":24,"prefix6":64}' "status -j: daemon.source_syn_limit"
check_match "$(srv "$SYNFENCE" status -i 0 --pin-dir "$PIN")" $'\nlimit +1 SYNs/s burst 20 per source /24 \\(IPv4\\), /64 \\(IPv6\\)\n' "status shows the limit"
sf_snap "$TMPD/s0"
check_eq "$(cli "$SFI_FLOOD" -i "$CLI_IF" -M "$(sf_srv_mac)" -D "$SRV4" -p 80 -n 300 -m syn -r 2000 -T 60)" "sent 300" "300 spoofed SYNs from 198.18.1.0/24 sent"
sleep 0.5
sf_snap "$TMPD/s1"
log "counter deltas: $(sf_show_delta "$TMPD/s0" "$TMPD/s1")"
deltas s0 s1 "the /24's 300 SYNs: its burst of 20 answered, the rest limited" syn_recv=300 synack_sent=20 drop_rate_limited=280
check_eq "$(curls 5)" 5 "the real client (198.18.0.2, another /24) connects 5 times"
sf_snap "$TMPD/s2"
deltas s1 s2 "the real client, untouched" drop_rate_limited=0 handoff_ok=5

log "2. the real client over its own limit (it used 5 of its burst of 20)"
synretr0=$(sf_nstat "$CLI_NS" TcpExtTCPSynRetrans)
ok=0 bad=0 t0=$(date +%s%N)
for i in $(seq 25); do
	if curl_ok 0.3; then ok=$((ok + 1)); else bad=$((bad + 1)); fi
done
el_s=$((($(date +%s%N) - t0) / 1000000000)) # the rate (1/s) adds a SYN each second the loop ran
sleep 0.3
sf_snap "$TMPD/s3"
log "25 fast curls: $ok connected, $bad failed; deltas: $(sf_show_delta "$TMPD/s2" "$TMPD/s3")"
check_ge "$ok" 15 "the rest of the burst (15) connects"
check_le "$ok" $((15 + el_s + 1)) "... and not many more: 1/s over the loop's ${el_s} s (the failed ones wait 0.3 s each)"
check_eq "$(($(sf_nstat "$CLI_NS" TcpExtTCPSynRetrans) - synretr0))" 0 "no SYN retransmitted by the client (0.3 s connect timeout)"
deltas s2 s3 "$bad failed curls, $ok connected" drop_rate_limited="$bad" synack_sent="$ok"

log "3. SIGHUP source_syn_rate = 0: off"
write_conf 0 20 24
check_true "SIGHUP: reloaded with the limit off" sf_hup "reloaded $CONF: source_syn_limit=off"
check_eq "$(sf_status_json | jq -c '.daemon.source_syn_limit')" '{"rate":0}' "status -j: the limit is off after the reload"
check_eq "$(curls 10 0.3)" 10 "the client connects 10 times at once again"
sf_snap "$TMPD/s4"
deltas s3 s4 "off: nothing limited" drop_rate_limited=0

log "4. SIGHUP 10/s burst 40 per /32, then $FLOOD_N spoofed SYNs from random sources (198.19.0.0/16) with real curls"
write_conf 10 40 32
check_true "SIGHUP: reloaded with 10/s" sf_hup "reloaded $CONF: source_syn_limit=10/s burst 40 per /32"
sf_snap "$TMPD/s5"
synretr0=$(sf_nstat "$CLI_NS" TcpExtTCPSynRetrans)
(
	cli "$SF_GEN" -i "$CLI_IF" -M "$(sf_srv_mac)" -D "$SRV4" -p 80 -m syn -n "$FLOOD_N" -r "$FLOOD_PPS" \
		-C 1000 -s 198.19.0.0/16 -T 60 >"$TMPD/flood.out" 2>"$TMPD/flood.err"
	echo $? >"$TMPD/flood.rc"
) &
FLOOD=$!
sf_track_pid $FLOOD
good=0 tried=0
while kill -0 $FLOOD 2>/dev/null; do
	tried=$((tried + 1))
	curl_ok && good=$((good + 1))
	sleep 0.2
done
wait $FLOOD
sleep 0.5
sf_snap "$TMPD/s6"
log "flood: $(cat "$TMPD/flood.out") ($(tail -n 1 "$TMPD/flood.err")); deltas: $(sf_show_delta "$TMPD/s5" "$TMPD/s6")"
check_eq "$(cat "$TMPD/flood.rc")/$(cat "$TMPD/flood.out")" "0/sent $FLOOD_N" "sf_flood sent $FLOOD_N SYNs"
synretr=$(($(sf_nstat "$CLI_NS" TcpExtTCPSynRetrans) - synretr0))
check_ge "$tried" 10 "curls made during the flood"
check_eq "$good" "$tried" "every real curl during the flood connected"
limited=$(sf_delta "$TMPD/s5" "$TMPD/s6" drop_rate_limited)
check_eq "$limited" 0 "drop_rate_limited + 0: no false positive (the client's $tried SYNs + $synretr retransmitted, the flood's)"
check_ge "$(sf_delta "$TMPD/s5" "$TMPD/s6" synack_sent)" $((FLOOD_N / 2)) "the flood reached XDP and was answered (synack_sent)"
log "false positives: $limited of $((tried + synretr)) client SYNs; of all $(sf_delta "$TMPD/s5" "$TMPD/s6" syn_recv) SYNs: $limited"

sf_finish
