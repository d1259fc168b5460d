#!/bin/bash
# IPv4 and IPv6 HTTP connections through synfence (nginx + curl) succeed, and the counters show that
# XDP answered their SYNs with cookies and the TC program handed them to the kernel.
# An unprotected port on the same server is left alone; a protected port without a listener refuses
# connections quickly. After SIGTERM synfence exits 0, detaches,
# and connections still work.
. "$(dirname "$0")/../lib.sh"

N=${SF_CONNECT_N:-20}
sf_init connect
sf_require_synfence
sf_topo_up
sf_nginx_start 80 8080
sf_synfence_start 80,81 # nothing listens on 81

sf_snap "$TMPD/s0"
opens0=$(sf_nstat "$SRV_NS" TcpPassiveOpens)
cookies0=$(sf_nstat "$SRV_NS" TcpExtSyncookiesSent)
# handshake packets only (SYN, FIN, RST), so that the bounded capture is not filled by the downloads
sf_pcap_start conn "$CLI_NS" "$CLI_IF" \
	'(ip and tcp port 80 and tcp[tcpflags] & (tcp-syn|tcp-fin|tcp-rst) != 0) or' \
	'(ip6 and ip6[6] == 6 and tcp port 80 and ip6[53] & 0x07 != 0)'

for fam in 4 6; do
	if [ $fam = 4 ]; then host=$SRV4; else host="[$SRV6]"; fi
	log "IPv$fam: $N x curl http://$host/ (protected port 80)"
	good=0
	first_err=
	for i in $(seq "$N"); do
		if body=$(sf_curl "http://$host/" 2>"$TMPD/curl.err") && [ "$body" = "$NGINX_BODY" ]; then
			good=$((good + 1))
		elif [ -z "$first_err" ]; then
			first_err="connection $i: $(tr '\n' ' ' <"$TMPD/curl.err") body='$body'"
		fi
	done
	check_eq "$good" "$N" "IPv$fam: curl through synfence got the page"
	[ -z "$first_err" ] || echo "    first failure: $first_err"
	# a 4 MiB download: data flows on a cookie-made connection
	size=$(sf_curl -o /dev/null -w '%{http_code} %{size_download}' "http://$host/big.bin" 2>&1)
	check_eq "$size" "200 4194304" "IPv$fam: 4 MiB download through synfence (status and size)"
done
sf_pcap_stop conn
C=$((2 * N + 2))

sf_snap "$TMPD/s1"
log "counter deltas: $(sf_show_delta "$TMPD/s0" "$TMPD/s1")"
for c in syn_recv synack_sent ack_cookie_ok handoff_ok; do
	check_ge "$(sf_delta "$TMPD/s0" "$TMPD/s1" $c)" "$C" "counter $c counts the $C connections"
done
# each connection sends its request, ACKs and FIN after the handshake, as an existing connection
check_ge "$(sf_delta "$TMPD/s0" "$TMPD/s1" est_pass)" "$((2 * C))" "est_pass counts packets that followed the handshakes"
for c in handoff_err handoff_no_listener ack_cookie_bad pass_no_secret drop_malformed drop_no_room; do
	check_eq "$(sf_delta "$TMPD/s0" "$TMPD/s1" $c)" 0 "counter $c stays 0 for legitimate connections"
done
check_eq "$(($(sf_nstat "$SRV_NS" TcpExtSyncookiesSent) - cookies0))" 0 \
	"the server kernel sent no SYN cookies of its own (TcpExtSyncookiesSent delta)"
check_ge "$(($(sf_nstat "$SRV_NS" TcpPassiveOpens) - opens0))" "$C" \
	"the server kernel counts the connections as passive opens (TcpPassiveOpens delta)"
# per-interface counters
ifname=$(jq -r '.interfaces[0].name' "$TMPD/s1")
check_eq "$ifname" "$SRV_IF" "stats -j lists the interface by name"
check_eq "$(jq -r '.interfaces[0].ifindex' "$TMPD/s1")" \
	"$(ip -n "$SRV_NS" -j link show "$SRV_IF" | jq -r '.[0].ifindex')" "stats -j gives the interface's ifindex"
check_ge "$(jq -r --arg n "$SRV_IF" '.interfaces[] | select(.name == $n) | .counters.handoff_ok' "$TMPD/s1")" \
	"$C" "per-interface handoff_ok of $SRV_IF"
# the SYN-ACKs the client saw came from XDP: their count equals synack_sent's growth
synacks=$(tcpdump -nn -r "$TMPD/conn.pcap" 'ip and tcp[tcpflags] & 0x12 == 0x12' 2>/dev/null | wc -l)
ip6synacks=$(tcpdump -nn -r "$TMPD/conn.pcap" 'ip6 and ip6[6] == 6 and ip6[53] & 0x12 == 0x12' 2>/dev/null | wc -l)
check_eq "$((synacks + ip6synacks))" "$(sf_delta "$TMPD/s0" "$TMPD/s1" synack_sent)" \
	"SYN-ACKs captured on the client (v4 $synacks + v6 $ip6synacks) = synack_sent delta"

# the unprotected port is not touched
log "4 x curl on the unprotected port 8080"
sf_snap "$TMPD/s2"
good=0
for host in "$SRV4" "[$SRV6]" "$SRV4" "[$SRV6]"; do
	[ "$(sf_curl "http://$host:8080/")" = "$NGINX_BODY" ] && good=$((good + 1))
done
check_eq "$good" 4 "curl on unprotected port 8080 works"
sf_snap "$TMPD/s3"
for c in syn_recv synack_sent ack_cookie_ok handoff_ok; do
	check_eq "$(sf_delta "$TMPD/s2" "$TMPD/s3" $c)" 0 "counter $c unchanged by port 8080 connections"
done

# a protected port where nothing listens: the client must get a quick refusal, not a hang
sf_snap "$TMPD/s4"
for host in "$SRV4" "[$SRV6]"; do
	sf_curl "http://$host:81/" >/dev/null 2>"$TMPD/curl81.err"
	rc=$?
	check_eq "$rc" 7 "curl to protected port 81 without listener ($host) fails with 'could not connect' (not a timeout): $(cat "$TMPD/curl81.err")"
done
sf_snap "$TMPD/s5"
log "port 81 counter deltas: $(sf_show_delta "$TMPD/s4" "$TMPD/s5")"
check_eq "$(sf_delta "$TMPD/s4" "$TMPD/s5" handoff_ok)" 0 "no handoff without a listener"
check_eq "$(sf_delta "$TMPD/s4" "$TMPD/s5" handoff_err)" 0 "no handoff error without a listener"

# text stats work too
out=$(sf_stats_text 2>&1)
rc=$?
check_eq "$rc" 0 "synfence stats (text) exit status"
check_match "$out" "$SRV_IF" "synfence stats (text) names the interface"
check_match "$out" "handoff_ok" "synfence stats (text) shows counter names"

if [ "$SF_FAILS" -gt 0 ]; then sf_pcap_show conn 40; fi

log "SIGTERM synfence"
sf_synfence_stop
good=0
for host in "$SRV4" "[$SRV6]"; do
	[ "$(sf_curl "http://$host/")" = "$NGINX_BODY" ] && good=$((good + 1))
done
check_eq "$good" 2 "after synfence exit, port 80 works (v4, v6) with the kernel's own handshake"

sf_finish
