#!/bin/bash
# Connections opened before synfence starts survive its attach and its detach:
#  - two HTTP/1.1 keep-alive connections (IPv4 and IPv6) to the protected port 80, each a loop of
#    requests over one socket, every response checked;
#  - one iperf3 stream to the protected port 5201 (bulk data, 1 s intervals must all carry data).
# While synfence is attached, their packets must be passed as existing connections (est_pass), never
# counted as cookie ACKs; no new handshakes happen, the server sends no RST, and after the test
# new connections still work.
. "$(dirname "$0")/../lib.sh"

sf_init survive
sf_require_synfence
sf_topo_up
sf_nginx_start 80
ip netns exec "$SRV_NS" iperf3 -s -p 5201 -1 >"$TMPD/iperf3-s.log" 2>&1 &
sf_track_pid $!
sf_wait_listen 5201

# keepalive_loop HOST DIR: requests over one connection until DIR/stop exists (sf_keepalive; the
# outcome in DIR/keepalive.log, the count of good responses in DIR/count).
keepalive_loop() { sf_keepalive "$1" "$2/stop" "$2" 0.05; }
count() { cat "$1/count" 2>/dev/null || echo 0; }
# wait_more DIR N: wait (max 15 s) until N more responses than now have come back on DIR's loop
wait_more() {
	local dir=$1 target=$(($(count "$1") + $2)) i
	for i in $(seq 150); do
		[ "$(count "$dir")" -ge "$target" ] && return 0
		sleep 0.1
	done
	return 1
}

mkdir -p "$TMPD/v4" "$TMPD/v6"
keepalive_loop "$SRV4" "$TMPD/v4"
PID4=$SF_KEEPALIVE_PID
keepalive_loop "$SRV6" "$TMPD/v6"
PID6=$SF_KEEPALIVE_PID
check_true "IPv4 keep-alive loop running before attach" wait_more "$TMPD/v4" 5
check_true "IPv6 keep-alive loop running before attach" wait_more "$TMPD/v6" 5

# iperf3: 20 s at 200 Mbit/s, 1 s reports
ip netns exec "$CLI_NS" timeout 60 iperf3 -c "$SRV4" -p 5201 -t 20 -b 200M -i 1 -J >"$TMPD/iperf3.json" 2>"$TMPD/iperf3.err" &
IPERF=$!
sf_track_pid $IPERF
sleep 2
kill -0 $IPERF 2>/dev/null || die "iperf3 client ended early: $(cat "$TMPD/iperf3.err")"

rst0=$(sf_nstat "$SRV_NS" TcpOutRsts)
opens0=$(sf_nstat "$SRV_NS" TcpPassiveOpens)
srv_socks0=$(sf_ss_srv "( sport = :80 or sport = :5201 )" | awk '{ print $3 "-" $4 }' | sort | tr "\n" " ")
log "established before attach: $srv_socks0"

log "attach synfence (ports 80,5201) under the running connections"
sf_synfence_start 80,5201
sf_snap "$TMPD/a0"
check_true "IPv4 keep-alive connection works after attach" wait_more "$TMPD/v4" 20
check_true "IPv6 keep-alive connection works after attach" wait_more "$TMPD/v6" 20
sleep 2
sf_snap "$TMPD/a1"
log "counter deltas while attached: $(sf_show_delta "$TMPD/a0" "$TMPD/a1")"
check_ge "$(sf_delta "$TMPD/a0" "$TMPD/a1" est_pass)" 40 "est_pass counts packets of the pre-existing connections"
check_eq "$(sf_delta "$TMPD/a0" "$TMPD/a1" ack_cookie_bad)" 0 "no packet of an existing connection was taken for a bad cookie ACK"
check_eq "$(sf_delta "$TMPD/a0" "$TMPD/a1" ack_cookie_ok)" 0 "no packet of an existing connection was taken for a cookie ACK"
check_eq "$(sf_delta "$TMPD/a0" "$TMPD/a1" syn_recv)" 0 "no SYN while only old connections run"
check_eq "$(sf_cnt "$TMPD/a1" drop_malformed)" 0 "drop_malformed stays 0"

log "detach synfence (SIGTERM)"
sf_synfence_stop
check_true "IPv4 keep-alive connection works after detach" wait_more "$TMPD/v4" 20
check_true "IPv6 keep-alive connection works after detach" wait_more "$TMPD/v6" 20
kill -0 $IPERF 2>/dev/null
check_eq $? 0 "iperf3 still running after attach and detach (else the test's timing is wrong)"
srv_socks1=$(sf_ss_srv "( sport = :80 or sport = :5201 )" | awk '{ print $3 "-" $4 }' | sort | tr "\n" " ")
check_eq "$srv_socks1" "$srv_socks0" "the server's established sockets are the same ones as before attach"
check_eq "$(($(sf_nstat "$SRV_NS" TcpOutRsts) - rst0))" 0 "server sent no RST during attach/detach (TcpOutRsts delta)"
check_eq "$(($(sf_nstat "$SRV_NS" TcpPassiveOpens) - opens0))" 0 "no new connection was opened (TcpPassiveOpens delta)"

: >"$TMPD/v4/stop"
: >"$TMPD/v6/stop"
wait $PID4
check_eq $? 0 "IPv4 keep-alive loop ended cleanly: $(cat "$TMPD/v4/keepalive.log") "
wait $PID6
check_eq $? 0 "IPv6 keep-alive loop ended cleanly: $(cat "$TMPD/v6/keepalive.log") "

log "waiting for iperf3 to finish"
wait $IPERF
rc=$?
check_eq $rc 0 "iperf3 client exit status"
if [ -s "$TMPD/iperf3.json" ] && jq -e .intervals "$TMPD/iperf3.json" >/dev/null 2>&1; then
	ivals=$(jq '[.intervals[].sum.bytes] | length' "$TMPD/iperf3.json")
	empty=$(jq '[.intervals[].sum.bytes | select(. == 0)] | length' "$TMPD/iperf3.json")
	mbps=$(jq -r '[.intervals[].sum.bits_per_second / 1e6 | floor] | map(tostring) | join(" ")' "$TMPD/iperf3.json")
	log "iperf3 Mbit/s per second: $mbps"
	check_ge "$ivals" 19 "iperf3 reported its intervals"
	check_eq "$empty" 0 "no iperf3 interval without data across attach and detach"
	check_eq "$(jq -r '.end.sum_received.bytes > 0' "$TMPD/iperf3.json")" true "iperf3 server received data"
else
	_fail "iperf3 produced a JSON report: $(head -c 300 "$TMPD/iperf3.json") $(cat "$TMPD/iperf3.err")"
fi

check_eq "$(sf_curl "http://$SRV4/")" "$NGINX_BODY" "a new IPv4 connection works afterwards"
check_eq "$(sf_curl "http://[$SRV6]/")" "$NGINX_BODY" "a new IPv6 connection works afterwards"
sf_finish
