#!/bin/bash
# tests/demo.sh - `make demo`: synfence in front of a real nginx, in two network namespaces.
# Real connections (curl, IPv4 and IPv6), then a burst of spoofed SYNs and forged ACKs, then the
# counters, explained. Everything it creates (namespaces sfd-*, processes, pins) is removed at exit.
export SF_PREFIX=${SF_TAG:-}sfd
. "$(dirname "$0")/lib.sh"

SYNS=${SF_DEMO_SYNS:-5000}
ACKS=${SF_DEMO_ACKS:-5000}

sf_init demo
sf_require_synfence
sf_build_flood
if [ -t 1 ]; then
	title() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
else
	title() { printf '\n== %s\n' "$*"; }
fi

title "1. Topology"
sf_topo_up
echo "   server namespace $SRV_NS: $SRV_IF $SRV4 $SRV6   (nginx + synfence)"
echo "   client namespace $CLI_NS: $CLI_IF $CLI4 $CLI6   (curl + a spoofed-packet sender)"
sf_nginx_start 80

title "2. Start synfence on $SRV_IF, protecting port 80"
echo "   \$ ip netns exec $SRV_NS synfence run $SRV_IF --ports 80 --pin-dir $PIN"
sf_synfence_start 80
ip -n "$SRV_NS" link show "$SRV_IF" | grep -o 'prog/xdp.*' | sed 's/^/   /'

title "3. Real connections through synfence"
for url in "http://$SRV4/" "http://[$SRV6]/"; do
	echo "   \$ curl -i $url"
	out=$(sf_curl -i "$url") || die "curl $url failed"
	printf '%s\n' "$out" | tr -d '\r' | sed 's/^/     /'
done
sf_snap "$TMPD/after-curl"
echo "   Counters now: $(sf_show "$TMPD/after-curl")"

title "4. Attack: $SYNS spoofed SYNs and $ACKS forged ACKs from random addresses"
cookies0=$(sf_nstat "$SRV_NS" TcpExtSyncookiesSent)
rst0=$(sf_nstat "$SRV_NS" TcpOutRsts)
echo "   SYNs from random 198.18.1.x sources ... $(sf_flood syn "$SRV4" 80 "$SYNS")"
echo "   ACKs with random seq/ack (no valid cookie) ... $(sf_flood ack "$SRV4" 80 "$ACKS")"
sleep 1
echo "   And a real client in between:"
sf_curl -sS -o /dev/null -w "     curl http://$SRV4/ -> HTTP %{http_code}, connect %{time_connect}s\n" "http://$SRV4/"
sf_snap "$TMPD/after-attack"
cookies=$(($(sf_nstat "$SRV_NS" TcpExtSyncookiesSent) - cookies0))
rsts=$(($(sf_nstat "$SRV_NS" TcpOutRsts) - rst0))
synrecv=$(srv ss -Htan state syn-recv | wc -l)

title "5. synfence stats"
echo "   \$ synfence stats --pin-dir $PIN"
sf_stats_text | sed 's/^/   /'

title "6. What happened"
d() { sf_delta "$TMPD/after-curl" "$TMPD/after-attack" "$1"; }
unexpected=0
say() { printf '   - %s\n' "$1"; shift; for l in "$@"; do printf '     %s\n' "$l"; done; }
odd() { unexpected=1; printf '   ! UNEXPECTED: %s\n' "$*"; }
if [ "$(d synack_sent)" -ge "$SYNS" ] 2>/dev/null; then
	say "Every SYN to port 80 was answered by the XDP program on $SRV_IF before the kernel saw it:" \
		"the SYN-ACK carries a keyed cookie in its sequence number; nothing was stored." \
		"During the attack: syn_recv +$(d syn_recv), synack_sent +$(d synack_sent)."
else
	odd "only $(d synack_sent) SYN-ACKs from XDP for $SYNS spoofed SYNs"
fi
if [ "$cookies" = 0 ] && [ "$synrecv" = 0 ]; then
	say "The server kernel never saw the SYN flood: it sent no SYN cookies of its own and holds" \
		"no half-open (SYN_RECV) connection."
else
	odd "the server kernel saw the flood: it sent $cookies SYN cookies itself and holds $synrecv SYN_RECV sockets"
fi
if [ "$(d ack_cookie_bad)" -ge "$ACKS" ] 2>/dev/null && [ "$rsts" = 0 ]; then
	say "The forged ACKs carried no valid cookie and were dropped in XDP (ack_cookie_bad +$(d ack_cookie_bad))." \
		"The server sent no RST: without synfence it answers each forged ACK with one."
else
	odd "forged ACKs: ack_cookie_bad +$(d ack_cookie_bad) for $ACKS sent, and the server sent $rsts RSTs"
fi
if [ "$(sf_cnt "$TMPD/after-attack" handoff_ok)" -ge 3 ] 2>/dev/null; then
	say "Real clients echo a valid cookie in their ACK; the TC program hands each such connection to" \
		"the kernel (handoff_ok: $(sf_cnt "$TMPD/after-attack" handoff_ok)), and nginx accept()s an ordinary socket."
else
	odd "handoff_ok is $(sf_cnt "$TMPD/after-attack" handoff_ok) after 3 real connections"
fi

title "7. Stop synfence (SIGTERM) and clean up"
if sf_synfence_stop; then
	echo "   synfence exited cleanly and detached from $SRV_IF."
else
	echo "   synfence did not stop cleanly (see above)."
	exit 1
fi
[ "$SF_FAILS" = 0 ] && [ "$unexpected" = 0 ] || exit 1
exit 0
