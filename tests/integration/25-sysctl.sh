#!/bin/bash
# The sysctl mirror follows the server namespace while synfence runs (--sysctl-interval 1):
#  - net.ipv4.tcp_timestamps switched off: picked up (logged), SYN-ACKs stop offering timestamps and
#    connections keep succeeding, handed over without timestamps; switched on again: picked up;
#  - net.ipv4.tcp_syncookies set to 0: synfence sets it back to 1 and logs it;
#  - with --no-sysctl-changes, tcp_syncookies=0 while running suspends protection (everything
#    passes to the kernel, logged as an error) until it is 1 again.
SF_PREFIX=sfr
. "$(dirname "$0")/../lib.sh"

sf_init sysctl
sf_require_synfence
sf_build_tools
sf_topo_up
sf_nginx_start 80
srv sysctl -qw net.ipv4.tcp_timestamps=1

# curls N: N connections to port 80 (v4/v6 alternating); prints how many got the page
curls() {
	local good=0 i u
	for i in $(seq "$1"); do
		if [ $((i % 2)) = 0 ]; then u="http://$SRV4/"; else u="http://[$SRV6]/"; fi
		[ "$(sf_curl "$u" 2>/dev/null)" = "$NGINX_BODY" ] && good=$((good + 1))
	done
	echo "$good"
}
field() { grep -o "$1=[^ ]*" <<<"$2" | head -1 | cut -d= -f2; }

SF_LOG=$TMPD/run1.log
sf_daemon_start "$SF_LOG" "$SRV_IF" --ports 80 --pin-dir "$PIN" --sysctl-interval 1
out=$(sf_handshake 198.18.1.31 "$SRV4" 80 -P 44031)
check_eq "$(field ts "$out")" yes "with tcp_timestamps=1 the SYN-ACK offers timestamps"

log "tcp_timestamps=0 while running"
srv sysctl -qw net.ipv4.tcp_timestamps=0
check_true "the change is picked up within 3 s" sf_wait_log "$SF_LOG" "SYN-ACKs no longer offer timestamps" 3
sf_snap "$TMPD/t0"
check_eq "$(curls 10)" 10 "10 connections succeed with timestamps off"
sf_snap "$TMPD/t1"
log "counters: $(sf_show_delta "$TMPD/t0" "$TMPD/t1")"
check_eq "$(sf_delta "$TMPD/t0" "$TMPD/t1" handoff_ok)" 10 "... all 10 handed over by synfence"
check_eq "$(sf_delta "$TMPD/t0" "$TMPD/t1" handoff_err)" 0 "... none refused by the kernel"
out=$(sf_handshake 198.18.1.32 "$SRV4" 80 -P 44032)
check_eq "$(field ts "$out")" no "the SYN-ACK offers no timestamps although the client did"
sleep 0.3
sock=$(sf_ss_srv "( dport = :44032 )")
check_match "$sock" "198.18.1.32" "that handshake became a server socket"
check_eq "$(sf_ss_opts "$sock" | grep -o 'ts=[01]')" ts=0 "... without timestamps"

log "tcp_timestamps=1 again"
srv sysctl -qw net.ipv4.tcp_timestamps=1
check_true "the change is picked up within 3 s" sf_wait_log "$SF_LOG" "SYN-ACKs now offer timestamps" 3
out=$(sf_handshake 198.18.1.33 "$SRV4" 80 -P 44033)
check_eq "$(field ts "$out")" yes "the SYN-ACK offers timestamps again"
check_eq "$(curls 4)" 4 "connections succeed"

log "tcp_syncookies=0 while running: set back to 1"
srv sysctl -qw net.ipv4.tcp_syncookies=0
check_true "synfence logs that it set tcp_syncookies back" sf_wait_log "$SF_LOG" "tcp_syncookies was 0: set it to 1" 3
check_eq "$(srv sysctl -n net.ipv4.tcp_syncookies)" 1 "tcp_syncookies is 1 again"
SF_TCX=
sf_synfence_stop

log "--no-sysctl-changes: tcp_syncookies=0 while running suspends protection"
SF_LOG=$TMPD/run2.log
sf_daemon_start "$SF_LOG" "$SRV_IF" --ports 80 --pin-dir "$PIN" --sysctl-interval 1 --no-sysctl-changes
srv sysctl -qw net.ipv4.tcp_syncookies=0
check_true "the refusal is logged" sf_wait_log "$SF_LOG" "error: net.ipv4.tcp_syncookies is 0 and sysctl changes are off: protection suspended" 3
check_eq "$(srv sysctl -n net.ipv4.tcp_syncookies)" 0 "tcp_syncookies was left at 0"
sf_snap "$TMPD/n0"
check_eq "$(curls 4)" 4 "connections succeed through the kernel while suspended"
sf_snap "$TMPD/n1"
check_eq "$(sf_delta "$TMPD/n0" "$TMPD/n1" synack_sent)" 0 "XDP answers no SYN while suspended"
srv sysctl -qw net.ipv4.tcp_syncookies=1
check_true "protection resumes when it is 1 again" sf_wait_log "$SF_LOG" "protection resumed" 3
sf_snap "$TMPD/n2"
check_eq "$(curls 4)" 4 "connections succeed"
sf_snap "$TMPD/n3"
check_eq "$(sf_delta "$TMPD/n2" "$TMPD/n3" handoff_ok)" 4 "... through synfence again"
sf_synfence_stop
sf_finish
