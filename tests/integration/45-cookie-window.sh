#!/bin/bash
# Hand-made handshakes (tests/tools/sfi_handshake: SYN from a spoofed address, SYN-ACK read off the
# wire, final ACK after a chosen delay) against synfence running with --rotate 2:
#  - the SYN-ACK offers what the server kernel would (MSS, SACK, timestamps, window scale);
#  - a correct ACK is accepted and becomes a server socket, with timestamps and without;
#  - an ACK 1 s late (less than one rotation) is accepted;
#  - an ACK 5 s late (more than two rotations: the secret expired) is dropped as ack_bad_epoch;
#  - an ACK with one cookie bit flipped, or with a wrong timestamp echo, is dropped as ack_bad_hash;
#  - none of the dropped ACKs draws a RST, and none leaves a socket.
. "$(dirname "$0")/../lib.sh"

R=2
sf_init cookiewin
sf_require_synfence
sf_build_tools
sf_topo_up
sf_nginx_start 80
sf_synfence_start 80 --rotate $R
rst0=$(sf_nstat "$SRV_NS" TcpOutRsts)

# hs LABEL SRC DST SPORT EXPECT [sfi_handshake options]: one handshake; EXPECT is ok, bad_epoch or
# bad_hash. Checks the counters and whether the server holds a socket for SRC:SPORT.
hs() {
	local label=$1 src=$2 dst=$3 sport=$4 expect=$5 out rc
	shift 5
	sf_snap "$TMPD/h0"
	out=$(sf_handshake "$src" "$dst" 80 -P "$sport" "$@")
	rc=$?
	sleep 0.3
	sf_snap "$TMPD/h1"
	echo "    [$label] $(echo "$out" | tr '\n' ' ')| counters: $(sf_show_delta "$TMPD/h0" "$TMPD/h1")"
	check_eq "$rc" 0 "[$label] got a SYN-ACK and sent the ACK"
	HS_OUT=$out
	local sock
	sock=$(sf_ss_srv "( dport = :$sport )" | grep -c "$src")
	case $expect in
	ok)
		check_eq "$(sf_delta "$TMPD/h0" "$TMPD/h1" ack_cookie_ok)" 1 "[$label] ACK accepted (ack_cookie_ok +1)"
		check_eq "$(sf_delta "$TMPD/h0" "$TMPD/h1" handoff_ok)" 1 "[$label] connection handed to the kernel (handoff_ok +1)"
		check_eq "$sock" 1 "[$label] the server holds an established socket for $src port $sport"
		;;
	bad_epoch | bad_hash)
		check_eq "$(sf_delta "$TMPD/h0" "$TMPD/h1" ack_cookie_ok)" 0 "[$label] ACK not accepted (ack_cookie_ok +0)"
		check_eq "$(sf_delta "$TMPD/h0" "$TMPD/h1" ack_cookie_bad)" 1 "[$label] ACK dropped (ack_cookie_bad +1)"
		check_eq "$(sf_delta "$TMPD/h0" "$TMPD/h1" "ack_$expect")" 1 "[$label] reason: ack_$expect +1"
		check_eq "$sock" 0 "[$label] the server holds no socket for $src port $sport"
		;;
	esac
}
field() { grep -o "$1=[^ ]*" <<<"$HS_OUT" | head -1 | cut -d= -f2; }

srv_ws=$(srv sysctl -n net.ipv4.tcp_window_scaling)
log "IPv4"
hs "v4 immediate" 198.18.1.10 "$SRV4" 40001 ok
check_eq "$(field ack_ok)" yes "SYN-ACK acknowledges the SYN's sequence number"
check_eq "$(field ts)" yes "SYN-ACK carries timestamps (client offered them)"
check_eq "$(field sack)" yes "SYN-ACK offers SACK"
check_eq "$(field mss)" 1460 "SYN-ACK MSS is the interface MTU minus 40"
if [ "$srv_ws" = 1 ]; then
	check_ge "$(field wscale)" 0 "SYN-ACK carries a window scale"
	check_le "$(field wscale)" 14 "SYN-ACK window scale is at most 14"
fi
hs "v4 no timestamps" 198.18.1.11 "$SRV4" 40002 ok -T
check_eq "$(field ts)" no "SYN-ACK carries no timestamps when the SYN had none"
check_eq "$(field sack)" yes "SYN-ACK still offers SACK without timestamps"
[ "$srv_ws" = 1 ] && check_ge "$(field wscale)" 0 "SYN-ACK still carries a window scale without timestamps"
hs "v4 ACK 1 s late" 198.18.1.12 "$SRV4" 40003 ok -d 1000
hs "v4 ACK 5 s late" 198.18.1.13 "$SRV4" 40004 bad_epoch -d 5000
hs "v4 cookie bit flipped" 198.18.1.14 "$SRV4" 40005 bad_hash -a 0x800
hs "v4 wrong timestamp echo" 198.18.1.15 "$SRV4" 40006 bad_hash -x 0x1
hs "v4 no timestamps, cookie bit flipped" 198.18.1.16 "$SRV4" 40007 bad_hash -T -a 0x100000

log "IPv6"
hs "v6 immediate" fd00:1::10 "$SRV6" 40011 ok
check_eq "$(field mss)" 1440 "IPv6 SYN-ACK MSS is the interface MTU minus 60"
hs "v6 no timestamps" fd00:1::11 "$SRV6" 40012 ok -T
hs "v6 ACK 5 s late" fd00:1::13 "$SRV6" 40014 bad_epoch -d 5000
hs "v6 wrong timestamp echo" fd00:1::15 "$SRV6" 40016 bad_hash -x 0x80000000

check_eq "$(($(sf_nstat "$SRV_NS" TcpOutRsts) - rst0))" 0 "the server sent no RST for any of the dropped ACKs"
check_eq "$(srv ss -Htan state syn-recv | wc -l)" 0 "no SYN_RECV socket on the server"
sf_synfence_stop
sf_finish
