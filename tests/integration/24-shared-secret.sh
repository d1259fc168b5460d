#!/bin/bash
# Secret rotation with a shared secret file (keys derived from it per epoch, epochs from the wall
# clock, --rotate 2), and two servers behind one address (anycast/ECMP) with the same file:
#  - a handshake that straddles a rotation (SYN 0.4 s before a period boundary, ACK 0.8 s later)
#    completes (and did straddle it: the epoch bits of its cookie);
#  - an ACK whose cookie is two periods old is dropped (ack_bad_epoch);
#  - SYN-ACK from server A, final ACK to server B (and the other way round): B accepts A's cookie
#    and the connection is made on B;
#  - control: with a random secret on B, the same cross handshake is dropped;
#  - a start that sets the keys before a period boundary and arms its rotation timer after it
#    (forced with strace) is in the wall clock's epoch at once, and accepts A's cookies;
#  - the secret appears in no log.
SF_PREFIX=${SF_TAG:-}sfr
. "$(dirname "$0")/../lib.sh"

R=2
sf_init secret
sf_require_synfence
sf_build_tools
command -v strace >/dev/null || die "strace not found (make deps installs it)"
sf_topo_up
sf_nginx_start 80

# server B: same address 198.18.0.1 as A (anycast), its own veth to the client namespace
B_NS=$SF_PREFIX-sr2-$SF_NAME
B_IF=veth-srvb
CB_IF=veth-clib
sf_ns_add "$B_NS"
ip -n "$B_NS" link add "$B_IF" type veth peer name "$CB_IF" netns "$CLI_NS" || die "veth for B failed"
ip -n "$B_NS" addr add "$SRV4/24" dev "$B_IF"
ip -n "$B_NS" link set "$B_IF" up
ip -n "$CLI_NS" link set "$CB_IF" up
ip -n "$B_NS" route add 198.18.1.0/24 dev "$B_IF"
ip -n "$CLI_NS" link set dev "$CB_IF" xdp obj "$XDP_PASS" sec xdp || die "xdp_pass on $CB_IF failed"
ip netns exec "$B_NS" sysctl -qw net.ipv4.tcp_syncookies=1
ip netns exec "$B_NS" iperf3 -s -p 80 >"$TMPD/iperf3-b.log" 2>&1 &
sf_track_pid $!
for i in $(seq 50); do [ -n "$(ip netns exec "$B_NS" ss -Hltn 'sport = :80')" ] && break; sleep 0.1; done
B_MAC=$(ip -n "$B_NS" -j link show "$B_IF" | jq -r '.[0].address')
A_MAC=$(sf_srv_mac)
PIN_B=$SF_PIN_ROOT/$SF_NAME-b

SECRET=$TMPD/keys/secret
mkdir -m 700 "$TMPD/keys"
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$SECRET"
chmod 600 "$SECRET"

sf_synfence_start -l "$TMPD/a.log" -w 1 80 --rotate $R --secret-file "$SECRET" -v
A_PID=$SF_PID A_TCX=$SF_TCX
# start_b LOG ARGS...: synfence run ARGS in B's namespace (B_PID); SF_PID, SF_LOG and SF_TCX stay A's
start_b() {
	SRV_NS=$B_NS sf_synfence_start -l "$1" -a "${@:2}"
	B_PID=$SF_PID SF_PID=$A_PID SF_LOG=$TMPD/a.log SF_TCX=$A_TCX
}
start_b "$TMPD/b.log" "$B_IF" --ports 80 --pin-dir "$PIN_B" --rotate $R --secret-file "$SECRET" -v
snap_b() { SRV_NS=$B_NS PIN=$PIN_B sf_snap "$1"; }

# at_phase MS: wait until the wall clock is MS milliseconds into a rotation period
at_phase() {
	local want=$1 now
	for _ in $(seq 400); do
		now=$(($(date +%s%3N) % (R * 1000)))
		[ "$now" -ge "$want" ] && [ "$now" -lt $((want + 60)) ] && return 0
		sleep 0.01
	done
	die "the wall clock was never $want-$((want + 60)) ms into a $R s period"
}
wall_epoch() { echo $(($(date +%s) / R)); }
epoch_of() { jq -r '.daemon.secret.epoch' "$1"; }

log "a handshake that straddles a rotation completes"
sf_snap "$TMPD/a0"
at_phase $((R * 1000 - 400))
out=$(sf_handshake 198.18.1.21 "$SRV4" 80 -P 43021 -d 800)
sleep 0.3
sf_snap "$TMPD/a1"
echo "    $(tr '\n' ' ' <<<"$out")| $(sf_show_delta "$TMPD/a0" "$TMPD/a1")"
# the precondition: the SYN-ACK's cookie (its epoch's low two bits, ISN bits 9-10) is of the epoch
# before the one the ACK met
seq=$(sed -n 's/^synack seq=\([0-9]*\) .*/\1/p' <<<"$out")
check_eq "$(((${seq:-0} >> 9) & 3))" "$((($(epoch_of "$TMPD/a1") - 1) & 3))" \
	"the SYN-ACK was made in the epoch before the ACK's (its cookie's epoch bits)"
check_eq "$(sf_delta "$TMPD/a0" "$TMPD/a1" ack_cookie_ok)" 1 "ACK 0.8 s after a SYN 0.4 s before a rotation: accepted"
check_eq "$(sf_delta "$TMPD/a0" "$TMPD/a1" handoff_ok)" 1 "... and handed to the kernel"

log "an ACK whose cookie is two periods old is dropped"
# SYN 0.1 s into epoch e, ACK ~5 s later: epoch e+2, a second after its boundary (slack for a busy
# machine; e+3 would be refused the same way)
at_phase 100
out=$(sf_handshake 198.18.1.22 "$SRV4" 80 -P 43022 -d $((2 * R * 1000 + 900)))
sleep 0.3
sf_snap "$TMPD/a2"
echo "    $(tr '\n' ' ' <<<"$out")| $(sf_show_delta "$TMPD/a1" "$TMPD/a2")"
check_eq "$(sf_delta "$TMPD/a1" "$TMPD/a2" ack_bad_epoch)" 1 "ACK two periods after its SYN-ACK: dropped as ack_bad_epoch"
check_eq "$(sf_delta "$TMPD/a1" "$TMPD/a2" ack_cookie_ok)" 0 "... not accepted"

log "two servers with the same secret file accept each other's cookies"
at_phase 200
snap_b "$TMPD/b0"
out=$(sf_handshake 198.18.1.23 "$SRV4" 80 -P 43023 -d 300 -I "$CB_IF" -N "$B_MAC")
check_eq "$?" 0 "SYN-ACK from A, ACK sent to B: $(tr '\n' ' ' <<<"$out")"
sleep 0.3
snap_b "$TMPD/b1"
check_eq "$(sf_delta "$TMPD/b0" "$TMPD/b1" ack_cookie_ok)" 1 "B accepts the cookie A made"
check_eq "$(sf_delta "$TMPD/b0" "$TMPD/b1" handoff_ok)" 1 "B hands the connection to its kernel"
check_eq "$(ip netns exec "$B_NS" ss -Htn state established '( dport = :43023 )' | grep -c 198.18.1.23)" 1 \
	"B holds the connection begun on A"
sf_snap "$TMPD/a3"
out=$(cli "$SFI_HANDSHAKE" -i "$CB_IF" -M "$B_MAC" -s 198.18.1.24 -D "$SRV4" -p 80 -P 43024 -d 300 -I "$CLI_IF" -N "$A_MAC")
check_eq "$?" 0 "SYN-ACK from B, ACK sent to A: $(tr '\n' ' ' <<<"$out")"
sleep 0.3
sf_snap "$TMPD/a4"
check_eq "$(sf_delta "$TMPD/a3" "$TMPD/a4" ack_cookie_ok)" 1 "A accepts the cookie B made"
check_eq "$(sf_ss_srv "( dport = :43024 )" | grep -c 198.18.1.24)" 1 "A holds the connection begun on B"

log "control: B with a random secret refuses A's cookies"
sf_synfence_stop -q -p "$B_PID"
check_eq "$SF_RC" 0 "B stopped"
start_b "$TMPD/b2.log" "$B_IF" --ports 80 --pin-dir "$PIN_B" --rotate $R
snap_b "$TMPD/b2"
sf_handshake 198.18.1.25 "$SRV4" 80 -P 43025 -d 300 -I "$CB_IF" -N "$B_MAC" >/dev/null
sleep 0.3
snap_b "$TMPD/b3"
check_eq "$(sf_delta "$TMPD/b2" "$TMPD/b3" ack_cookie_bad)" 1 "B with its own random secret drops A's cookie (ack_cookie_bad)"
check_eq "$(sf_delta "$TMPD/b2" "$TMPD/b3" ack_cookie_ok)" 0 "... and accepts none"

log "a start that arms its rotation timer a period after setting its keys still follows the clock"
# strace holds the daemon's fourth timerfd_create (the rotation timer's; the tick, watchdog and
# engage-sampler timers come first) for a period: a period boundary passes for sure between the keys (set for the wall
# clock's epoch) and the timer, as it can during a slow start. The timer must then fire at once, not
# at the next boundary with a whole period of the old epoch left.
STRACE="strace -f --seccomp-bpf -e trace=timerfd_create"
if ! why=$($STRACE -o /dev/null true 2>&1); then
	_skip "a start whose rotation timer is armed a period late: strace cannot trace here: ${why%%$'\n'*}"
	B_TERM=$B_PID
else
	sf_synfence_stop -q -p "$B_PID"
	cat >"$TMPD/slow-arm" <<EOF
#!/bin/sh
exec $STRACE -o "$TMPD/strace.log" -e inject=timerfd_create:delay_enter=$((R * 1000000)):when=4 \
	"$SYNFENCE" "\$@"
EOF
	chmod +x "$TMPD/slow-arm"
	at_phase 0
	SYNFENCE=$TMPD/slow-arm start_b "$TMPD/b3.log" "$B_IF" --ports 80 --pin-dir "$PIN_B" --rotate $R \
		--secret-file "$SECRET"
	B_TERM=$(pgrep -P "$B_PID") # synfence, strace's child
	sf_wait_log "$TMPD/strace.log" 'DELAYED' $((R + 5)) ||
		die "strace held no timerfd_create: $(cat "$TMPD/strace.log")"
	check_eq "$(grep -cE '^([0-9]+ +)?timerfd_create\(CLOCK_REALTIME, .*\(DELAYED\)' "$TMPD/strace.log")" 1 \
		"the call held was the rotation timer's (CLOCK_REALTIME)"
	sleep 0.2
	snap_b "$TMPD/b4"
	sf_snap "$TMPD/a5"
	check_eq "$(epoch_of "$TMPD/b4")/$(epoch_of "$TMPD/a5")" "$(wall_epoch)/$(wall_epoch)" \
		"B's epoch and A's are the wall clock's ($(($(date +%s%3N) % (R * 1000))) ms into the period)"
	out=$(sf_handshake 198.18.1.26 "$SRV4" 80 -P 43026 -d 300 -I "$CB_IF" -N "$B_MAC")
	sleep 0.3
	snap_b "$TMPD/b5"
	check_eq "$(sf_delta "$TMPD/b4" "$TMPD/b5" ack_cookie_ok)" 1 "B accepts a cookie A made: $(tr '\n' ' ' <<<"$out")"
fi

secret=$(cat "$SECRET")
check_eq "$(cat "$TMPD"/a.log "$TMPD"/b*.log | grep -ci "$secret")" 0 "the secret is in no log"
kill -TERM "$B_TERM"
sf_wait_pid "$B_PID"
check_eq "$SF_RC" 0 "B stopped cleanly"
sf_synfence_stop
sf_finish
