#!/bin/bash
# A client that reuses its port while the server still holds the old connection in TIME_WAIT
# (HTTP/1.0: the server closes first) connects again, as it does without synfence: the SYN for a
# tuple the kernel still has a socket for goes to the kernel (syn_pass_existing), not to a cookie
# handshake that would end on the TIME_WAIT socket. Counter-proof: the first connection of each
# port is a cookie handshake. Also when the tuple's flow-cache slot was taken by another flow. Then the same across a restart of synfence: the TIME_WAIT predates
# the new run, whose flow cache is seeded with the kernel's connections at start.
. "$(dirname "$0")/../lib.sh"

sf_init twreuse
sf_require_synfence
sf_topo_up
sf_nginx_start 80
sf_synfence_start 80

# get10 FAMILY ADDR PORT: an HTTP/1.0 GET from client port PORT that reads until the server's FIN
# before closing, so that the server closes first and holds the TIME_WAIT, never the client (curl
# may close as soon as it has the body: then both ends raced to TIME_WAIT, and a client in TIME_WAIT
# cannot bind its port again). Prints the body.
get10() {
	cli python3 - "$@" <<'PY'
import socket, sys
fam = socket.AF_INET if sys.argv[1] == "4" else socket.AF_INET6
s = socket.socket(fam, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.settimeout(10)
try:
    s.bind(("", int(sys.argv[3])))
    s.connect((sys.argv[2], 80))
    s.sendall(b"GET / HTTP/1.0\r\n\r\n")
    buf = b""
    while True:
        d = s.recv(65536)
        if not d:
            break
        buf += d
except OSError as e:
    sys.exit("get10: %s" % e)
s.close()
sys.stdout.write(buf.partition(b"\r\n\r\n")[2].decode(errors="replace"))
PY
}

# flow_cache_clear: empty every slot's tag byte in the flow cache of the XDP program on the
# server's interface: what a colliding flow does to one slot.
flow_cache_clear() {
	local map
	map=$(bpftool prog show id "$(sf_xdp_prog_id)" -j | jq -r '.map_ids[]' | while read -r id; do
		bpftool map show id "$id" -j | jq -r 'select(.name == "sf_flow_tags") | .id'
	done)
	[ -n "$map" ] || die "no sf_flow_tags map on the XDP program"
	# shellcheck disable=SC2046 # one argument per byte of the value
	bpftool map update id "$map" key 0 0 0 0 value $(printf '0 %.0s' $(seq 65536)) ||
		die "cannot clear the flow cache tags (map id $map)"
}

for fam in 4 6; do
	if [ "$fam" = 4 ]; then addr=$SRV4; else addr=$SRV6; fi
	# The server closes first (get10), so it is the one left in TIME_WAIT; a few client ports
	# are tried in case a FIN was slow.
	tw=0
	for try in 1 2 3 4 5 6 7 8; do
		port=$((41000 + fam * 10 + try))
		sf_snap "$TMPD/a$fam"
		body=$(get10 "$fam" "$addr" "$port")
		sleep 0.2
		tw=$(srv ss -Htan state time-wait "( sport = :80 and dport = :$port )" | wc -l)
		[ "$tw" = 1 ] && break
	done
	check_eq "$body" "$NGINX_BODY" "IPv$fam: first HTTP/1.0 request from port $port"
	check_eq "$tw" 1 "IPv$fam: the server holds the first connection in TIME_WAIT (try $try)"
	sf_snap "$TMPD/b$fam"
	check_eq "$(sf_delta "$TMPD/a$fam" "$TMPD/b$fam" handoff_ok)" 1 \
		"IPv$fam: the first connection was a cookie handshake (handoff_ok +1)"
	for i in 1 2; do
		check_eq "$(get10 "$fam" "$addr" "$port")" "$NGINX_BODY" \
			"IPv$fam: request $((i + 1)) from the same port while the server is in TIME_WAIT"
		sleep 0.2
	done
	sf_snap "$TMPD/c$fam"
	check_eq "$(sf_delta "$TMPD/b$fam" "$TMPD/c$fam" syn_pass_existing)" 2 \
		"IPv$fam: both SYNs on the TIME_WAIT tuple went to the kernel (syn_pass_existing +2)"
	check_eq "$(sf_delta "$TMPD/b$fam" "$TMPD/c$fam" ack_cookie_bad)" 0 "IPv$fam: no ACK was dropped"

	# The tuple's flow-cache slot taken by a colliding flow (on a busy server): the SYN is not
	# recognised from the cache, and the kernel is asked anyway (within the per-CPU budget).
	check_eq "$(srv ss -Htan state time-wait "( sport = :80 and dport = :$port )" | wc -l)" 1 \
		"IPv$fam: the server holds the tuple in TIME_WAIT again"
	flow_cache_clear
	check_eq "$(get10 "$fam" "$addr" "$port")" "$NGINX_BODY" \
		"IPv$fam: a request from that port after its flow was evicted from the cache"
	sf_snap "$TMPD/d$fam"
	check_eq "$(sf_delta "$TMPD/c$fam" "$TMPD/d$fam" syn_pass_existing)" 1 \
		"IPv$fam: its SYN went to the kernel (syn_pass_existing +1) without a cached flow"
	check_eq "$(sf_delta "$TMPD/c$fam" "$TMPD/d$fam" ack_cookie_bad)" 0 \
		"IPv$fam: no ACK was dropped after the eviction"
	sleep 0.2
done

# A TIME_WAIT from before this run: synfence restarted (a fresh start, no takeover) seeds its flow
# cache with the kernel's connections, so the SYN reusing the tuple still goes to the kernel.
sf_synfence_stop
check_eq "$(srv ss -Htan state time-wait "( sport = :80 and dport = :$port )" | wc -l)" 1 \
	"IPv6: the server still holds the tuple in TIME_WAIT after synfence stopped"
sf_synfence_start 80
sf_snap "$TMPD/d"
check_eq "$(get10 6 "$SRV6" "$port")" "$NGINX_BODY" \
	"IPv6: a request from that port after synfence restarted (TIME_WAIT older than this run)"
sf_snap "$TMPD/e"
check_eq "$(sf_delta "$TMPD/d" "$TMPD/e" syn_pass_existing)" 1 \
	"IPv6: its SYN went to the kernel (syn_pass_existing +1: the flow cache was seeded at start)"
check_eq "$(sf_delta "$TMPD/d" "$TMPD/e" ack_cookie_bad)" 0 "IPv6: no ACK was dropped after the restart"
sf_synfence_stop
sf_finish
