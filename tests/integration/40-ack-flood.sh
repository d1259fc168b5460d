#!/bin/bash
# A bounded burst of forged ACKs (random spoofed sources, random seq/ack, no cookie) to the protected
# port is dropped in XDP and counted as bad cookies, and draws no RST from the server.
# Counter-proof: without synfence the same burst draws one RST per ACK, so the RST check can fail.
. "$(dirname "$0")/../lib.sh"

N4=${SF_ACK_N4:-10000}
N6=${SF_ACK_N6:-5000}
N=$((N4 + N6))
sf_init ackflood
sf_require_synfence
sf_build_flood
sf_topo_up
sf_nginx_start 80
sf_synfence_start 80

check_eq "$(sf_curl "http://$SRV4/")" "$NGINX_BODY" "a legitimate connection works before the burst"

sf_snap "$TMPD/s0"
rst0=$(sf_nstat "$SRV_NS" TcpOutRsts)
read -r _ rxd0 _ _ <<<"$(sf_ifstat "$SRV_NS" "$SRV_IF")"
log "burst: $N4 forged IPv4 ACKs and $N6 forged IPv6 ACKs to port 80"
out4=$(sf_flood ack "$SRV4" 80 "$N4")
check_eq "$?/$out4" "0/sent $N4" "sender sent all IPv4 ACKs"
out6=$(sf_flood ack "$SRV6" 80 "$N6")
check_eq "$?/$out6" "0/sent $N6" "sender sent all IPv6 ACKs"
sleep 1
check_eq "$(sf_curl "http://[$SRV6]/")" "$NGINX_BODY" "a legitimate connection works after the burst"
sf_snap "$TMPD/s1"
read -r _ rxd1 _ _ <<<"$(sf_ifstat "$SRV_NS" "$SRV_IF")"
log "counter deltas: $(sf_show_delta "$TMPD/s0" "$TMPD/s1")"
check_eq "$((rxd1 - rxd0))" 0 "no frame of the burst was lost on the veth before XDP (rx_dropped delta)"

bad=$(sf_delta "$TMPD/s0" "$TMPD/s1" ack_cookie_bad)
okd=$(sf_delta "$TMPD/s0" "$TMPD/s1" ack_cookie_ok)
# The legitimate curl after the burst adds exactly one good cookie ACK. A random ACK also passes a
# 21-bit cookie check with a probability of about 2^-22 (~0.4% per 15000 ACKs); such a lucky ACK is
# correct behaviour and is reported, not hidden: it then counts in ack_cookie_ok instead.
lucky=0
_isint "$okd" && [ "$okd" -gt 1 ] && lucky=$((okd - 1))
if [ "$lucky" -gt 0 ]; then
	log "note: $lucky random ACK(s) passed the cookie check by chance (2^-21 odds each)"
	check_le "$lucky" 2 "at most 2 random ACKs pass the cookie check by chance"
	check_eq "$((bad + lucky))" "$N" "every forged ACK was counted as bad (or, $lucky by chance, good)"
else
	check_eq "$bad" "$N" "ack_cookie_bad counts every forged ACK"
	check_eq "$okd" 1 "ack_cookie_ok grew only by the one legitimate connection"
fi
hb=$(sf_delta "$TMPD/s0" "$TMPD/s1" ack_bad_hash)
eb=$(sf_delta "$TMPD/s0" "$TMPD/s1" ack_bad_epoch)
check_eq "$((hb + eb))" "$bad" "ack_bad_hash + ack_bad_epoch = ack_cookie_bad"
check_eq "$(sf_delta "$TMPD/s0" "$TMPD/s1" handoff_ok)" "$((1 + lucky))" "only the legitimate connection was handed to the kernel (handoff_ok delta)"
check_eq "$(sf_delta "$TMPD/s0" "$TMPD/s1" ack_no_listener)" 0 "forged ACKs were not passed as 'no listener'"
rsts=$(($(sf_nstat "$SRV_NS" TcpOutRsts) - rst0))
check_eq "$rsts" 0 "the server sent no RST in answer to the burst (TcpOutRsts delta)"
synrecv=$(srv ss -Htan state syn-recv | wc -l)
check_eq "$synrecv" 0 "no half-open connection on the server"

log "SIGTERM synfence, then the same burst without it (counter-proof)"
sf_synfence_stop
rst0=$(sf_nstat "$SRV_NS" TcpOutRsts)
sf_flood ack "$SRV4" 80 "$N4" >/dev/null
sf_flood ack "$SRV6" 80 "$N6" >/dev/null
sleep 1
rsts=$(($(sf_nstat "$SRV_NS" TcpOutRsts) - rst0))
check_ge "$rsts" "$((N * 9 / 10))" "without synfence the server answers the forged ACKs with RSTs (TcpOutRsts delta)"
sf_finish
