#!/bin/bash
# Monitor mode (--monitor, config key monitor): synfence is attached and counts what it would do,
# but every packet passes to the kernel untouched, and TC hands nothing off.
#  1. run --monitor: real curl connections (IPv4, IPv6) succeed and are the kernel's: no handoff,
#     the SYN-ACKs the client captures carry the kernel's window (XDP's say 65535), synack_sent
#     and monitor_pass count one would-be SYN-ACK per SYN, and the final ACKs of the kernel's
#     handshakes meet its request sockets and count as would-be accepted (ack_cookie_ok), not as
#     would-be drops (ack_cookie_bad stays 0);
#     a bounded spoofed SYN flood passes to the kernel (its SYN-RECV sockets) with exact counters;
#     forged ACKs pass (the kernel answers each with a RST) and are counted as would-be drops;
#     status says MONITOR (text, -j daemon.monitor, the synfence_monitor gauge).
#  2. config file monitor = yes, then SIGHUP monitor = no, then yes again, while new connections
#     run in a loop and must all succeed: with monitor off XDP answers SYNs again (SYN-ACK window
#     65535, handoff_ok grows, monitor_pass does not); a handshake whose SYN-ACK XDP sent before the
#     switch to monitor mode completes after it (TC still hands off its cookie), one whose SYN-ACK
#     the kernel sent before the switch back completes after that.
. "$(dirname "$0")/../lib.sh"

sf_init monitor
CONF=$TMPD/synfence.conf
METRICS=127.0.0.1:9469
N=${SF_MONITOR_N:-8}
FLOOD=${SF_MONITOR_FLOOD:-200}
sf_require_synfence
sf_topo_up
sf_nginx_start 80
sf_build_tools

# spoofed MODE COUNT: spoofed segments from 198.18.1.0/24 (routed back to the client) to port 80
spoofed() { cli "$SFI_FLOOD" -i "$CLI_IF" -M "$(sf_srv_mac)" -D "$SRV4" -p 80 -n "$2" -m "$1" -r 2000 -T 60 >/dev/null; }
synrecv() { srv ss -Htn state syn-recv "( sport = :80 )" | grep -c "$1"; }
write_conf() { printf 'interfaces = %s\nports = 80\nmonitor = %s\n' "$SRV_IF" "$1" >"$CONF"; }
# switch_during_handshake SRC SPORT MONITOR JSON WHAT: a hand-made handshake from SRC:SPORT whose
# final ACK (and a GET) follows 2 s after the SYN-ACK; meanwhile the config gets monitor = MONITOR
# and SIGHUP (status -j daemon.monitor must be JSON). The handshake must complete and get its page
# (without a connection, the server's kernel would answer the final ACK with a RST).
# It waits up to 10 s for the reply: on a loaded machine nginx once answered after more than the
# tool's default 3 s (the server's socket had sent the page; the check had failed all the same).
switch_during_handshake() {
	local src=$1 port=$2 mon=$3 json=$4 what=$5 hs sc
	sf_snap "$TMPD/hs-$port.0"
	sc=$(sf_nstat "$SRV_NS" TcpExtSyncookiesSent)
	sf_handshake "$src" "$SRV4" 80 -P "$port" -d 2000 -w 10000 -G >"$TMPD/hs-$port.log" 2>&1 &
	hs=$!
	sleep 0.5
	write_conf "$mon"
	check_true "SIGHUP: reloaded with monitor=$mon" sf_hup "reloaded $CONF: monitor=$mon"
	check_eq "$(sf_status_json | jq -r '.daemon.monitor')" "$json" "status -j: daemon.monitor is $json after the reload"
	wait $hs
	check_eq "$?" 0 "$what completes after the switch: $(tr '\n' ' ' <"$TMPD/hs-$port.log")"
	check_match "$(cat "$TMPD/hs-$port.log")" "reply HTTP/1.1 200 OK" "... and gets its reply (the server accepted it)"
	sf_snap "$TMPD/hs-$port.1"
	log "deltas during the handshake (new connections running too): $(sf_show_delta "$TMPD/hs-$port.0" "$TMPD/hs-$port.1");" \
		"kernel SYN cookies sent: $(($(sf_nstat "$SRV_NS" TcpExtSyncookiesSent) - sc))"
}

log "1. synfence run --monitor"
sf_synfence_start 80 --monitor --metrics "$METRICS"
check_true "run logs MONITOR mode" grep -q "MONITOR mode: counting only" "$SF_LOG"
opens0=$(sf_nstat "$SRV_NS" TcpPassiveOpens)
cookies0=$(sf_nstat "$SRV_NS" TcpExtSyncookiesSent)
sf_curls_captured m1 "$N" "$TMPD/s0" "$TMPD/s1" "monitor mode"
C=$SF_CURLS
for c in syn_recv synack_sent monitor_pass; do
	check_eq "$(sf_delta "$TMPD/s0" "$TMPD/s1" $c)" "$C" "$c counts one per connection's SYN ($C)"
done
check_eq "$(sf_delta "$TMPD/s0" "$TMPD/s1" ack_cookie_ok)" "$C" \
	"the final ACKs of the kernel's handshakes meet its request sockets: ack_cookie_ok (would-be accepted) = $C"
check_ge "$(sf_delta "$TMPD/s0" "$TMPD/s1" est_pass)" "$C" "the packets after the handshakes pass as existing connections"
for c in ack_cookie_bad handoff_ok handoff_err handoff_dup handoff_cookie_bad \
	handoff_no_listener drop_malformed drop_no_room; do
	check_eq "$(sf_delta "$TMPD/s0" "$TMPD/s1" $c)" 0 "monitor mode, real clients: $c stays 0"
done
check_ge "$(($(sf_nstat "$SRV_NS" TcpPassiveOpens) - opens0))" "$C" "the kernel made the $C connections (TcpPassiveOpens)"
check_eq "$(($(sf_nstat "$SRV_NS" TcpExtSyncookiesSent) - cookies0))" 0 "... with its own handshake, not its SYN cookies"
wins=$(sf_synack_wins "$TMPD/m1.pcap")
check_eq "$(wc -w <<<"$wins")" "$C" "the client captured $C SYN-ACKs"
check_eq "$(grep -cx 65535 <<<"$wins")" 0 "none is XDP's (window 65535): the kernel answered (windows: $(sort -u <<<"$wins" | tr '\n' ' '))"

log "spoofed SYN flood ($FLOOD) and forged ACKs ($FLOOD) in monitor mode"
sf_snap "$TMPD/f0"
spoofed syn "$FLOOD"
sleep 0.5
sf_snap "$TMPD/f1"
log "SYN flood deltas: $(sf_show_delta "$TMPD/f0" "$TMPD/f1")"
for c in syn_recv synack_sent monitor_pass; do
	check_eq "$(sf_delta "$TMPD/f0" "$TMPD/f1" $c)" "$FLOOD" "SYN flood: $c = the $FLOOD SYNs sent"
done
check_ge "$(synrecv 198.18.1.)" "$FLOOD" "SYN flood: the kernel holds a SYN-RECV socket per spoofed SYN (it got them)"
rst0=$(sf_nstat "$SRV_NS" TcpOutRsts)
spoofed ack "$FLOOD"
sleep 0.5
sf_snap "$TMPD/f2"
log "forged ACK deltas: $(sf_show_delta "$TMPD/f1" "$TMPD/f2")"
check_eq "$(sf_delta "$TMPD/f1" "$TMPD/f2" ack_cookie_bad)" "$FLOOD" "forged ACKs: ack_cookie_bad counts the $FLOOD would-be drops"
check_eq "$(sf_delta "$TMPD/f1" "$TMPD/f2" monitor_pass)" "$FLOOD" "forged ACKs: monitor_pass counts them as passed"
check_eq "$(($(sf_delta "$TMPD/f1" "$TMPD/f2" ack_bad_hash) + $(sf_delta "$TMPD/f1" "$TMPD/f2" ack_bad_epoch)))" "$FLOOD" \
	"forged ACKs: ack_bad_hash + ack_bad_epoch = $FLOOD"
check_ge "$(($(sf_nstat "$SRV_NS" TcpOutRsts) - rst0))" "$FLOOD" "the kernel got every forged ACK (it answered each with a RST)"
check_eq "$(sf_cnt "$TMPD/f2" handoff_ok)/$(sf_cnt "$TMPD/f2" handoff_err)/$(sf_cnt "$TMPD/f2" handoff_cookie_bad)" 0/0/0 \
	"TC handed nothing off and counted nothing in monitor mode"

out=$(srv "$SYNFENCE" status -i 1 --pin-dir "$PIN" 2>&1)
check_eq "$?" 0 "status in monitor mode exits 0"
check_match "$out" "^synfence  running \(pid $SF_PID\), up .*; MONITOR mode: counting only, every packet passes to the kernel" \
	"status: the daemon line says MONITOR"
check_match "$out" $'\nworking +MONITOR: XDP and TC attached, counting only: every packet passes to the kernel' \
	"status: the working verdict says MONITOR"
check_eq "$(sf_status_json | jq -r '.daemon.monitor')" true "status -j: daemon.monitor is true"
check_match "$(srv curl -sS --max-time 5 "http://$METRICS/metrics")" $'\nsynfence_monitor 1($|\n)' "metrics: synfence_monitor 1"
check_match "$(sf_stats_text)" $'\nmonitor_pass +[1-9][0-9]*($|\n)' "stats shows the monitor_pass row"
sf_synfence_stop

log "2. config monitor = yes, SIGHUP to no and back to yes, new connections all along"
write_conf yes
sf_synfence_start -l "$TMPD/run2.log" -a --config "$CONF" --pin-dir "$PIN"
check_eq "$(sf_status_json | jq -r '.daemon.monitor')" true "config monitor = yes: status -j daemon.monitor is true"
STOP=$TMPD/stop
sf_newconn_loop "$STOP" "$TMPD/newconn.log"
sleep 1

# a handshake the kernel answers now (monitor mode), its final ACK 2 s later, after the switch off
switch_during_handshake 198.18.1.91 45091 no false "a handshake the kernel answered in monitor mode"
sleep 0.5
sf_snap "$TMPD/o0"
sf_syn_capture off
check_eq "$(sf_curls 3)" 6 "monitor off: 6 curls get the page"
sf_pcap_stop off
sf_snap "$TMPD/o1"
log "monitor off deltas: $(sf_show_delta "$TMPD/o0" "$TMPD/o1")"
check_eq "$(sf_delta "$TMPD/o0" "$TMPD/o1" monitor_pass)" 0 "monitor off: monitor_pass does not move"
check_ge "$(sf_delta "$TMPD/o0" "$TMPD/o1" handoff_ok)" 6 "monitor off: TC hands the connections over again"
wins=$(sf_synack_wins "$TMPD/off.pcap")
check_ge "$(grep -cx 65535 <<<"$wins")" 6 "monitor off: XDP answers the SYNs (SYN-ACK window 65535)"
check_eq "$(grep -cvx 65535 <<<"$wins")" 0 "monitor off: no SYN-ACK of the kernel's"

# a handshake XDP answers now, its final ACK 2 s later, after the switch to monitor mode (TC hands
# its cookie ACK off: without, the kernel would answer it with a RST)
switch_during_handshake 198.18.1.92 45092 yes true "a handshake XDP answered before the switch to monitor mode"
sleep 0.5
sf_snap "$TMPD/n0"
check_eq "$(sf_curls 3)" 6 "monitor on again: 6 curls get the page"
sleep 0.3
sf_snap "$TMPD/n1"
log "monitor on again deltas: $(sf_show_delta "$TMPD/n0" "$TMPD/n1")"
check_eq "$(sf_delta "$TMPD/n0" "$TMPD/n1" handoff_ok)" 0 "monitor on again: TC hands nothing off"
check_ge "$(sf_delta "$TMPD/n0" "$TMPD/n1" monitor_pass)" 6 "monitor on again: the SYNs pass (monitor_pass)"
check_eq "$(sf_delta "$TMPD/n0" "$TMPD/n1" monitor_pass)" "$(sf_delta "$TMPD/n0" "$TMPD/n1" synack_sent)" \
	"monitor on again: monitor_pass = synack_sent (only real clients)"

sf_newconn_finish "$STOP" "$TMPD/newconn.log" "across both switches"
sf_synfence_stop
sf_finish
