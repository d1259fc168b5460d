#!/bin/bash
# Attack mode (--engage auto, config key engage): while an interface is calm its SYNs pass to the
# kernel, which answers them itself; once SYNs to its protected ports exceed --engage-rate per
# second synfence engages (within about a second) and answers them with cookies; once the rate has
# stayed below 3/4 of it for --engage-hold seconds it disengages.
#  1. run --engage auto: real curl connections (IPv4, IPv6) are the kernel's: its SYN-ACKs (not
#     XDP's window 65535), syn_pass_calm counts their SYNs, synack_sent and handoff_ok stay 0;
#     status -j daemon.engaged is false.
#  2. a bounded spoofed SYN flood above the engage rate, new connections in a loop all along:
#     synfence engages within ~1 s (status -j daemon.engaged true, a log line with the rate), XDP
#     answers the SYNs (synack_sent grows); a handshake the kernel answered while calm completes
#     after the engage (its request socket); a handshake XDP answered while engaged completes after
#     the disengage (TC still hands its cookie off); after the flood it disengages (hold 2 s),
#     logged with the rate; no connection of the loop fails; metrics have synfence_engaged and
#     synfence_engage_switches_total. The engage and disengage times are logged.
#  3. config file engage = always, SIGHUP to auto (the interface stays engaged until calm for the
#     hold, then the kernel answers), SIGHUP back to always (XDP answers at once), new connections
#     in a loop all along.
. "$(dirname "$0")/../lib.sh"

sf_init engage
METRICS=127.0.0.1:9471
N=${SF_ENGAGE_N:-6}
RATE=300
HOLD=2
FLOOD_PPS=${SF_ENGAGE_FLOOD_PPS:-3000}
FLOOD_S=${SF_ENGAGE_FLOOD_S:-3}
sf_require_synfence
sf_topo_up
sf_nginx_start 80
sf_build_tools

engaged() { sf_status_json | jq -r '.daemon.engaged'; }
now_ms() { date +%s%3N; }
# wait_engaged WANT TIMEOUT_S: poll status -j every 50 ms until daemon.engaged is WANT; prints the
# milliseconds it took (or "timeout")
wait_engaged() {
	local t0 i
	t0=$(now_ms)
	for i in $(seq $(($2 * 20))); do
		[ "$(engaged)" = "$1" ] && { echo $(($(now_ms) - t0)); return 0; }
		sleep 0.05
	done
	echo timeout
	return 1
}

log "1. synfence run --engage auto --engage-rate $RATE --engage-hold $HOLD: calm"
sf_synfence_start 80 --engage auto --engage-rate "$RATE" --engage-hold "$HOLD" --metrics "$METRICS"
check_eq "$(sf_status_json | jq -r '.daemon.engage + "/" + (.daemon.engaged | tostring)')" auto/false \
	"status -j: daemon.engage auto, daemon.engaged false at start"
sf_curls_captured calm "$N" "$TMPD/s0" "$TMPD/s1" calm
C=$SF_CURLS
check_eq "$(sf_delta "$TMPD/s0" "$TMPD/s1" syn_pass_calm)" "$C" "calm: syn_pass_calm counts the $C SYNs"
check_eq "$(sf_delta "$TMPD/s0" "$TMPD/s1" syn_recv)" "$C" "calm: syn_recv counts them too (the rate is measured)"
for c in synack_sent handoff_ok ack_cookie_bad; do
	check_eq "$(sf_delta "$TMPD/s0" "$TMPD/s1" $c)" 0 "calm: $c stays 0"
done
wins=$(sf_synack_wins "$TMPD/calm.pcap")
check_eq "$(wc -w <<<"$wins")" "$C" "calm: the client captured $C SYN-ACKs"
check_eq "$(grep -cx 65535 <<<"$wins")" 0 "calm: the kernel answered, not XDP (windows: $(sort -u <<<"$wins" | tr '\n' ' '))"
out=$(srv "$SYNFENCE" status -i 0 --pin-dir "$PIN" 2>&1)
check_match "$out" $'\nengaged +no since .*engage auto' "status: engaged no (engage auto)"

log "2. a spoofed SYN flood of $FLOOD_PPS/s for ${FLOOD_S}s, new connections all along"
STOP=$TMPD/stop
sf_newconn_loop "$STOP" "$TMPD/newconn.log"
sleep 1
sf_snap "$TMPD/f0"
# the kernel answers this one (calm); its final ACK comes 2 s later, after the engage
# (no -G: during the flood the tool's packet socket, which reads nothing while it waits, overflows
# with SYN-ACKs to the spoofed sources and can miss the reply; the server's socket is checked)
sf_handshake 198.18.1.93 "$SRV4" 80 -P 45093 -d 2000 >"$TMPD/hs-calm.log" 2>&1 &
hs_calm=$!
sleep 0.3
cli "$SFI_FLOOD" -i "$CLI_IF" -M "$(sf_srv_mac)" -D "$SRV4" -p 80 -n $((FLOOD_PPS * FLOOD_S)) -m syn \
	-r "$FLOOD_PPS" -T 60 >/dev/null &
flood=$!
t_engage=$(wait_engaged true 5)
check_match "$t_engage" '^[0-9]+$' "the flood engages synfence (status -j daemon.engaged true) after ${t_engage} ms"
check_le "${t_engage//timeout/99999}" 1500 "... within ~1 s (status polled every 50 ms; the daemon samples every 200 ms)"
check_true "the engage is logged with the rate" sf_wait_log "$SF_LOG" "engaged on $SRV_IF: [0-9]+ SYNs/s to protected ports, above engage_rate $RATE" 2
log "$(grep -E 'engaged on' "$SF_LOG" | tail -n 1)"
sf_syn_capture engaged
check_eq "$(sf_curls 2)" 4 "engaged: 4 curls get the page"
sf_pcap_stop engaged
wins=$(sf_synack_wins "$TMPD/engaged.pcap")
check_ge "$(grep -cx 65535 <<<"$wins")" 4 "engaged: XDP answers the SYNs (SYN-ACK window 65535)"
out=$(srv "$SYNFENCE" status -i 0 --pin-dir "$PIN" 2>&1)
check_match "$out" $'\nengaged +yes since ' "status: engaged yes since ..."
check_true "metrics: synfence_engaged{interface=\"$SRV_IF\"} 1" grep -qxF "synfence_engaged{interface=\"$SRV_IF\"} 1" \
	<<<"$(srv curl -sS --max-time 5 "http://$METRICS/metrics")"
wait $hs_calm
check_eq "$?" 0 "a handshake the kernel answered while calm sends its final ACK after the engage: $(tr '\n' ' ' <"$TMPD/hs-calm.log")"
sleep 0.2
check_eq "$(srv ss -Htn state established "( dport = :45093 )" | grep -c 198.18.1.93)" 1 \
	"... and the server's kernel made the connection (its request socket; no RST)"
wait $flood
t_end=$(now_ms)
# XDP answers this one (engaged); its final ACK comes after the disengage
sf_handshake 198.18.1.94 "$SRV4" 80 -P 45094 -d $((HOLD * 1000 + 1500)) -G >"$TMPD/hs-eng.log" 2>&1 &
hs_eng=$!
sf_snap "$TMPD/f1"
log "flood deltas: $(sf_show_delta "$TMPD/f0" "$TMPD/f1")"
check_ge "$(sf_delta "$TMPD/f0" "$TMPD/f1" synack_sent)" $((FLOOD_PPS * FLOOD_S / 2)) "engaged: XDP answered the flood (synack_sent)"
check_le "$(sf_delta "$TMPD/f0" "$TMPD/f1" syn_pass_calm)" $((FLOOD_PPS * 3 / 2)) \
	"calm: at most ~0.5 s of the flood reached the kernel (syn_pass_calm)"
t_dis=$(wait_engaged false $((HOLD + 5)))
[ "$t_dis" = timeout ] || t_dis=$(($(now_ms) - t_end))
check_match "$t_dis" '^[0-9]+$' "after the flood synfence disengages, ${t_dis} ms after its end (hold ${HOLD}s)"
check_le "${t_dis//timeout/99999}" $((HOLD * 1000 + 1000)) "... within the hold + 1 s"
check_true "the disengage is logged with the rate" sf_wait_log "$SF_LOG" "disengaged on $SRV_IF: [0-9]+ SYNs/s" 2
log "$(grep -E 'disengaged on' "$SF_LOG" | tail -n 1)"
wait $hs_eng
check_eq "$?" 0 "a handshake XDP answered while engaged completes after the disengage: $(tr '\n' ' ' <"$TMPD/hs-eng.log")"
check_match "$(cat "$TMPD/hs-eng.log")" "reply HTTP/1.1 200 OK" "... and gets its reply (TC handed its cookie off)"
sf_snap "$TMPD/d0"
check_eq "$(sf_curls 2)" 4 "calm again: 4 curls get the page"
sf_snap "$TMPD/d1"
check_ge "$(sf_delta "$TMPD/d0" "$TMPD/d1" syn_pass_calm)" 4 "calm again: the kernel answers (syn_pass_calm; the loop's connections too)"
check_eq "$(sf_delta "$TMPD/d0" "$TMPD/d1" synack_sent)" 0 "calm again: synack_sent stays"
m=$(srv curl -sS --max-time 5 "http://$METRICS/metrics")
check_true "metrics: synfence_engage_switches_total 2" grep -qx "synfence_engage_switches_total 2" <<<"$m"
check_true "metrics: synfence_engaged{interface=\"$SRV_IF\"} 0" grep -qxF "synfence_engaged{interface=\"$SRV_IF\"} 0" <<<"$m"
check_eq "$(engaged)" false "status -j: daemon.engaged false again"
sf_newconn_finish "$STOP" "$TMPD/newconn.log" "across both switches"
log "measured: engage ${t_engage} ms after the flood began (status polled), disengage ${t_dis} ms after it ended (hold ${HOLD}s)"
sf_synfence_stop

log "3. config engage = always, SIGHUP to auto and back to always"
CONF=$TMPD/synfence.conf
write_conf() { printf 'interfaces = %s\nports = 80\nengage = %s\nengage_rate = %s\nengage_hold = %s\n' "$SRV_IF" "$1" "$RATE" "$HOLD" >"$CONF"; }
write_conf always
sf_synfence_start -l "$TMPD/run3.log" -a --config "$CONF" --pin-dir "$PIN"
check_eq "$(sf_status_json | jq -r '.daemon.engage + "/" + (.daemon.engaged | tostring)')" always/true \
	"config engage = always: status -j daemon.engage always, daemon.engaged true"
sf_newconn_loop "$STOP.3" "$TMPD/newconn3.log"
sleep 0.5
# xdp_answers NAME WHAT: 4 curls get the page, XDP answered them (synack_sent), the kernel did not
xdp_answers() {
	sf_curls_captured "$1" 2 "$TMPD/$1.0" "$TMPD/$1.1" "$2"
	check_ge "$(sf_delta "$TMPD/$1.0" "$TMPD/$1.1" synack_sent)" 4 "$2: XDP answers (synack_sent)"
	check_eq "$(sf_delta "$TMPD/$1.0" "$TMPD/$1.1" syn_pass_calm)" 0 "$2: syn_pass_calm stays 0"
}
xdp_answers always "engage always"
write_conf auto
check_true "SIGHUP: reloaded with engage=auto" sf_hup "reloaded $CONF: engage=auto"
check_eq "$(engaged)" true "engage = auto by SIGHUP: still engaged at first"
t=$(wait_engaged false $((HOLD + 5)))
check_match "$t" '^[0-9]+$' "... calm ${t} ms after the reload (hold ${HOLD}s)"
sf_curls_captured auto 2 "$TMPD/u0" "$TMPD/u1" "engage auto, calm"
check_ge "$(sf_delta "$TMPD/u0" "$TMPD/u1" syn_pass_calm)" 4 "engage auto, calm: the kernel answers (syn_pass_calm)"
check_eq "$(sf_delta "$TMPD/u0" "$TMPD/u1" synack_sent)" 0 "engage auto, calm: synack_sent stays"
write_conf always
check_true "SIGHUP: reloaded with engage=always" sf_hup "reloaded $CONF: engage=always"
check_eq "$(engaged)" true "engage = always by SIGHUP: engaged at once"
xdp_answers always2 "engage always again"
sf_newconn_finish "$STOP.3" "$TMPD/newconn3.log" "across both reloads"
sf_synfence_stop
sf_finish
