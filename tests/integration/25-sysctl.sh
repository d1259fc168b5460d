#!/bin/bash
# The sysctl mirror follows the server namespace while synfence runs (--sysctl-interval 1):
#  - net.ipv4.tcp_timestamps switched off: picked up (logged), SYN-ACKs stop offering timestamps and
#    connections keep succeeding, handed over without timestamps; switched on again: picked up;
#  - net.ipv4.tcp_syncookies set to 0: synfence sets it back to 1 and logs it;
#  - with --no-sysctl-changes, tcp_syncookies=0 while running suspends protection (everything
#    passes to the kernel, logged as an error) until it is 1 again;
#  - `status` shows the mirror (-j: daemon.sysctl, daemon.synack), the last error, and while
#    suspended says so (daemon.suspended, working NO) and exits 1;
#  - a start that set tcp_syncookies to 1 and then failed puts the old value back.
SF_PREFIX=${SF_TAG:-}sfr
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

sf_synfence_start -l "$TMPD/run1.log" -w 1 80 --sysctl-interval 1
out=$(sf_handshake 198.18.1.31 "$SRV4" 80 -P 44031)
check_eq "$(field ts "$out")" yes "with tcp_timestamps=1 the SYN-ACK offers timestamps"

log "tcp_timestamps=0 while running"
srv sysctl -qw net.ipv4.tcp_timestamps=0
check_true "the change is picked up within 3 s" sf_wait_log "$SF_LOG" "SYN-ACKs no longer offer timestamps" 3
check_eq "$(sf_status_json | jq -c '[.daemon.sysctl.tcp_timestamps, .daemon.synack.timestamps, .daemon.suspended]')" \
	'[0,false,false]' "status -j: the sysctl mirror has tcp_timestamps 0, the SYN-ACKs no timestamps"
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
check_eq "$(sf_status_json | jq -c '[.daemon.sysctl.tcp_timestamps, .daemon.synack.timestamps]')" '[1,true]' \
	"status -j: tcp_timestamps 1 again, the SYN-ACKs offer timestamps"
check_match "$(srv "$SYNFENCE" status -i 0 --pin-dir "$PIN")" $'\nsysctl    tcp_syncookies=1 tcp_timestamps=1 tcp_sack=[0-9] tcp_window_scaling=[0-9] tcp_ecn=[0-9] \\(read [0-9]+s ago\\)\n' \
	"status shows the sysctl mirror"
out=$(sf_handshake 198.18.1.33 "$SRV4" 80 -P 44033)
check_eq "$(field ts "$out")" yes "the SYN-ACK offers timestamps again"
check_eq "$(curls 4)" 4 "connections succeed"

log "tcp_syncookies=0 while running: set back to 1"
srv sysctl -qw net.ipv4.tcp_syncookies=0
check_true "synfence logs that it set tcp_syncookies back" sf_wait_log "$SF_LOG" "tcp_syncookies was 0: set it to 1" 3
check_eq "$(srv sysctl -n net.ipv4.tcp_syncookies)" 1 "tcp_syncookies is 1 again"
check_match "$(sf_status_json | jq -r '"\(.daemon.last_error_age_s < 5) \(.daemon.last_error)"')" \
	'^true net.ipv4.tcp_syncookies was 0: set it to 1' "status -j: the last error says so, with its age"
SF_TCX=
sf_synfence_stop

log "--no-sysctl-changes: tcp_syncookies=0 while running suspends protection"
sf_synfence_start -l "$TMPD/run2.log" -w 1 80 --sysctl-interval 1 --no-sysctl-changes \
	--metrics 127.0.0.1:9464
suspended_gauge() { srv curl -sS --max-time 5 http://127.0.0.1:9464/metrics | awk '$1 == "synfence_suspended" { print $2 }'; }
# gauge_is V: synfence_suspended is V within 3 s (the state is published just after the log line)
gauge_is() {
	local i
	for i in $(seq 30); do
		[ "$(suspended_gauge)" = "$1" ] && return 0
		sleep 0.1
	done
	return 1
}
check_true "metrics: synfence_suspended 0 while protecting" gauge_is 0
srv sysctl -qw net.ipv4.tcp_syncookies=0
check_true "the refusal is logged" sf_wait_log "$SF_LOG" "error: net.ipv4.tcp_syncookies is 0 and sysctl changes are off: protection suspended" 3
check_eq "$(srv sysctl -n net.ipv4.tcp_syncookies)" 0 "tcp_syncookies was left at 0"
out=$(sf_status_json)
check_eq "$?" 1 "status while suspended: exit 1"
check_eq "$(jq -c '[.daemon.suspended, .daemon.sysctl.tcp_syncookies, .verdict.working, .daemon.synack.enabled]' <<<"$out")" \
	'[true,0,false,false]' "status -j: suspended, tcp_syncookies 0, not working, SYN-ACKs disabled"
check_match "$(jq -r .verdict.working_text <<<"$out")" '^NO: protection suspended: net.ipv4.tcp_syncookies is 0 and sysctl changes are off' \
	"status -j: working_text says it is suspended, and why"
check_match "$(jq -r .daemon.last_error <<<"$out")" 'tcp_syncookies is 0 and sysctl changes are off: protection suspended' \
	"status -j: the last error names it"
check_true "metrics: synfence_suspended 1" gauge_is 1
out=$(srv "$SYNFENCE" status -i 0 --pin-dir "$PIN")
check_match "$out" $'\nworking +NO: protection suspended' "status (text): working NO: protection suspended"
check_nomatch "$out" 'yes: XDP and TC attached' "status (text) does not say protection works"
sf_snap "$TMPD/n0"
check_eq "$(curls 4)" 4 "connections succeed through the kernel while suspended"
sf_snap "$TMPD/n1"
check_eq "$(sf_delta "$TMPD/n0" "$TMPD/n1" synack_sent)" 0 "XDP answers no SYN while suspended"
srv sysctl -qw net.ipv4.tcp_syncookies=1
check_true "protection resumes when it is 1 again" sf_wait_log "$SF_LOG" "protection resumed" 3
check_true "metrics: synfence_suspended 0 again" gauge_is 0
out=$(sf_status_json)
check_eq "$?/$(jq -c '[.daemon.suspended, .verdict.working]' <<<"$out")" '0/[false,true]' "status after resuming: exit 0, not suspended, working"
sf_snap "$TMPD/n2"
check_eq "$(curls 4)" 4 "connections succeed"
sf_snap "$TMPD/n3"
check_eq "$(sf_delta "$TMPD/n2" "$TMPD/n3" handoff_ok)" 4 "... through synfence again"
sf_synfence_stop

log "a start that fails after setting tcp_syncookies to 1 puts it back"
ip -n "$SRV_NS" link set dev "$SRV_IF" xdp obj "$XDP_PASS" sec xdp || die "xdp_pass on $SRV_IF failed"
srv sysctl -qw net.ipv4.tcp_syncookies=0
out=$(srv "$SYNFENCE" run "$SRV_IF" --ports 80 --pin-dir "$PIN" 2>&1)
check_eq "$?" 1 "synfence run on an interface with another XDP program: exit 1"
check_match "$out" 'tcp_syncookies was 0: set it to 1' "... after it had set tcp_syncookies to 1"
check_match "$out" 'net.ipv4.tcp_syncookies put back to 0' "... which it says it put back"
check_eq "$(srv sysctl -n net.ipv4.tcp_syncookies)" 0 "tcp_syncookies is 0 again after the failed start"
ip -n "$SRV_NS" link set dev "$SRV_IF" xdp off
srv sysctl -qw net.ipv4.tcp_syncookies=1
sf_finish
