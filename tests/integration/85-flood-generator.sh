#!/bin/bash
# Smoke test of the benchmark's flood generator (tests/tools/sf_flood.c, tests/bpf/sf_gen.bpf.c),
# with each of its engines: auto (live frames where the kernel allows them, else loop), auto as on a
# kernel that refuses live frames (SF_FLOOD_REFUSE_LIVE=1: it must pick loop), and loop, reflect,
# afxdp and packet forced. Each sends exactly the number of frames asked for, says which engine
# sent them, and the receiver counts exactly that many: synfence's syn_recv/synack_sent for spoofed
# SYNs (IPv4 and IPv6), ack_cookie_bad for forged ACKs (reflect: SYN floods only). Then, with
# synfence stopped, the server kernel itself accepts each engine's frames (checksums right:
# TcpInCsumErrors stays 0, and it answers every SYN). Small, paced bursts (128 frames per chunk,
# below the veth's 256-frame ring): a few seconds per engine.
. "$(dirname "$0")/../lib.sh"

SF_GEN=$(sf_abspath "${SF_GEN:-$BUILD/sf_flood}")
N4=${SF_GEN_N4:-2000}
N6=${SF_GEN_N6:-1000}
NACK=${SF_GEN_NACK:-2000}
ENGINES=(auto auto-nolive loop reflect afxdp packet)
sf_init floodgen
sf_require_synfence
[ -x "$SF_GEN" ] || die "flood generator not found at $SF_GEN (run: make BUILD=... all)"
sf_topo_up
sf_nginx_start 80
sf_synfence_start 80

# gen MODE DST PREFIX COUNT: exactly COUNT frames from engine $ENGINE, paced, bounded to 20 s.
# ENGINE auto-nolive: auto on a kernel that refuses live frames.
ENGINE=auto
gen() {
	local e=$ENGINE refuse=
	[ "$e" = auto-nolive ] && e=auto refuse=1
	cli env ${refuse:+SF_FLOOD_REFUSE_LIVE=1} "$SF_GEN" -E "$e" -i "$CLI_IF" -M "$(sf_srv_mac)" -D "$2" \
		-p 80 -m "$1" -s "$3" -n "$4" -r 20000 -C 128 -T 20
}
# the engine that sent, from sf_flood's last report in FILE ("... on IF, engine NAME")
sent_by() { sed -n 's/^sf_flood: .* engine \([a-z]*\)$/\1/p' "$1" | tail -n 1; }
# the engine ENGINE must report
want_engine() {
	case $ENGINE in auto) echo "$AUTO_WANT" ;; auto-nolive) echo loop ;; *) echo "$ENGINE" ;; esac
}

# Which engine auto must pick: live exactly when the kernel allows live frames. Forced live either
# sends its frame or stops with one line naming the refusal (stricter kernels: EPERM).
out=$(ENGINE=live gen syn "$SRV4" 198.18.1.0/24 1 2>"$TMPD/live.err")
rc=$?
if [ "$rc" = 0 ]; then
	AUTO_WANT=live
	check_eq "$out" "sent 1" "engine live runs here: auto must pick it"
else
	AUTO_WANT=loop
	log "engine live: $(cat "$TMPD/live.err")"
	check_eq "$rc/$(wc -l <"$TMPD/live.err")" "1/1" "engine live refused here: exit 1, one line; auto must pick loop"
	check_match "$(cat "$TMPD/live.err")" "engine live.*(not permitted|Invalid argument)" "the refusal names live frames and the kernel's error"
fi

for ENGINE in "${ENGINES[@]}"; do
	log "engine $ENGINE: synfence counts every frame"
	sf_snap "$TMPD/s0"
	read -r rx0 rxd0 _ _ <<<"$(sf_ifstat "$SRV_NS" "$SRV_IF")"
	out=$(gen syn "$SRV4" 198.18.1.0/24 "$N4" 2>"$TMPD/gen.err")
	check_eq "$?/$out/$(sent_by "$TMPD/gen.err")" "0/sent $N4/$(want_engine)" "$ENGINE: exactly $N4 IPv4 SYNs, exit 0, engine named"
	out=$(gen syn "$SRV6" fd00:1::/64 "$N6" 2>>"$TMPD/gen.err")
	check_eq "$?/$out/$(sent_by "$TMPD/gen.err")" "0/sent $N6/$(want_engine)" "$ENGINE: exactly $N6 IPv6 SYNs, exit 0, engine named"
	sleep 0.5
	sf_snap "$TMPD/s1"
	read -r rx1 rxd1 _ _ <<<"$(sf_ifstat "$SRV_NS" "$SRV_IF")"
	log "generator: $(tr '\n' ' ' <"$TMPD/gen.err")"
	log "counter deltas: $(sf_show_delta "$TMPD/s0" "$TMPD/s1")"
	check_eq "$((rxd1 - rxd0))" 0 "$ENGINE: no frame lost at the server veth's ring (rx_dropped delta)"
	# (plus the odd neighbour discovery or router solicitation frame of the namespaces themselves)
	check_ge "$((rx1 - rx0))" "$((N4 + N6))" "$ENGINE: the server veth received every frame sent (rx_packets delta)"
	check_eq "$(sf_delta "$TMPD/s0" "$TMPD/s1" syn_recv)" "$((N4 + N6))" "$ENGINE: synfence counted every SYN (syn_recv)"
	check_eq "$(sf_delta "$TMPD/s0" "$TMPD/s1" synack_sent)" "$((N4 + N6))" "$ENGINE: synfence answered every SYN (synack_sent)"
	check_eq "$(sf_delta "$TMPD/s0" "$TMPD/s1" drop_malformed)" 0 "$ENGINE: the generator's TCP options parse (drop_malformed stays 0)"
	if [ "$ENGINE" = reflect ]; then
		check_eq "$(ip -n "$CLI_NS" -j link show "$CLI_IF" | jq -r '.[0].xdp.prog.name')" xdp_pass \
			"reflect: the client veth has its own XDP program back"
		out=$(gen ack "$SRV4" 198.18.1.0/24 10 2>"$TMPD/gen.err")
		check_eq "$?/$out" "2/" "reflect: forged ACKs refused (exit 2: no answers to reflect): $(cat "$TMPD/gen.err")"
		continue
	fi

	out=$(gen ack "$SRV4" 198.18.1.0/24 "$NACK" 2>"$TMPD/gen.err")
	check_eq "$?/$out/$(sent_by "$TMPD/gen.err")" "0/sent $NACK/$(want_engine)" "$ENGINE: exactly $NACK forged IPv4 ACKs, exit 0, engine named"
	sleep 0.5
	sf_snap "$TMPD/s2"
	log "counter deltas: $(sf_show_delta "$TMPD/s1" "$TMPD/s2")"
	bad=$(sf_delta "$TMPD/s1" "$TMPD/s2" ack_cookie_bad)
	okd=$(sf_delta "$TMPD/s1" "$TMPD/s2" ack_cookie_ok)
	# a random ACK passes a cookie check by chance with odds of 2^-21 at most: tolerate one
	check_eq "$((bad + okd))" "$NACK" "$ENGINE: synfence checked every forged ACK (ack_cookie_bad + ack_cookie_ok)"
	check_le "$okd" 1 "$ENGINE: forged ACKs do not pass the cookie check (ack_cookie_ok, at most one by chance)"
done
check_eq "$(cli ip -o link show type veth | grep -c "sfl[0-9]*[ab]@")" 0 "the loop engine's own veth pairs are gone"

log "SIGTERM synfence: the server kernel answers the generator's SYNs itself"
sf_synfence_stop
# XDP frames sent to a veth are only delivered while it has an XDP program: a pass-through one
ip -n "$SRV_NS" link set dev "$SRV_IF" xdp obj "$XDP_PASS" sec xdp || die "attach xdp_pass to $SRV_IF"
for ENGINE in "${ENGINES[@]}"; do
	csum0=$(sf_nstat "$SRV_NS" TcpInCsumErrors)
	out0=$(sf_nstat "$SRV_NS" TcpOutSegs)
	ck0=$(sf_nstat "$SRV_NS" TcpExtSyncookiesSent)
	out=$(gen syn "$SRV4" 198.18.1.0/24 500 2>/dev/null)
	check_eq "$?/$out" "0/sent 500" "$ENGINE: 500 IPv4 SYNs to the kernel"
	out=$(gen syn "$SRV6" fd00:1::/64 500 2>/dev/null)
	check_eq "$?/$out" "0/sent 500" "$ENGINE: 500 IPv6 SYNs to the kernel"
	sleep 0.5
	check_eq "$(($(sf_nstat "$SRV_NS" TcpInCsumErrors) - csum0))" 0 "$ENGINE: no TCP checksum error in the kernel (TcpInCsumErrors delta)"
	answered=$(($(sf_nstat "$SRV_NS" TcpOutSegs) - out0))
	log "kernel: TcpOutSegs +$answered, TcpExtSyncookiesSent +$(($(sf_nstat "$SRV_NS" TcpExtSyncookiesSent) - ck0))"
	check_ge "$answered" 1000 "$ENGINE: the kernel answered every SYN (TcpOutSegs delta)"
done
sf_finish
