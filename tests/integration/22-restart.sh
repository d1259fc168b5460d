#!/bin/bash
# Hot restart under load: an HTTP keep-alive connection that exchanges a request every 100 ms and a
# loop of new connections (curl, IPv4 and IPv6) keep working without one failure across
#   1. kill -9 of synfence, a second or so without any daemon, and a new `synfence run`;
#   2. an upgrade restart: SIGUSR2 (exit leaving protection in place), then a new `synfence run`;
# and a handshake in flight across the kill -9 (SYN-ACK from the old daemon's program, final ACK
# after the new one took over) completes. The pinned XDP and TC links stay the same links (their
# program is swapped), XDP keeps answering SYNs while no daemon runs, counters and secret carry
# over; `synfence stats` and `status` show it without a daemon (exit 0, "NOT RUNNING: no daemon").
# A final SIGTERM detaches everything and removes the pins.
SF_PREFIX=${SF_TAG:-}sfr
. "$(dirname "$0")/../lib.sh"

sf_init restart
sf_require_synfence
sf_build_tools
sf_topo_up
sf_nginx_start 80

STOP=$TMPD/stop
# keep-alive: one connection, a request every 100 ms until $STOP; exit 0 only if every response came
sf_keepalive "$SRV4" "$STOP" "$TMPD" 0.1
KA=$SF_KEEPALIVE_PID

# new connections: curl in a loop until $STOP, alternating IPv4 and IPv6; one line per failure
sf_newconn_loop "$STOP" "$TMPD/newconn.log"
NC=$SF_NEWCONN_PID

sf_synfence_start -l "$TMPD/run1.log" -w 1 80 --rotate 60
xdp_link=$(sf_pinned_link_id xdp "$SRV_IF")
tc_link=$(sf_pinned_link_id tc "$SRV_IF")
prog1=$(sf_xdp_prog_id)
check_ne "$xdp_link" none "the XDP link is pinned ($xdp_link)"
check_ne "$tc_link" none "the TC link is pinned ($tc_link)"
sleep 2
sf_snap "$TMPD/s1"
check_ge "$(sf_cnt "$TMPD/s1" handoff_ok)" 10 "new connections go through synfence before the restarts"

log "1. kill -9, with a handshake in flight (ACK 2.5 s after its SYN-ACK)"
sf_handshake 198.18.1.50 "$SRV4" 80 -P 41050 -d 2500 >"$TMPD/hs.log" 2>&1 &
HS=$!
sleep 0.5
kill -KILL "$SF_PID"
wait "$SF_PID" 2>/dev/null
sleep 0.2
check_true "XDP stays attached without a daemon" sf_xdp_attached
check_eq "$(sf_xdp_prog_id)" "$prog1" "the same XDP program runs without a daemon"
# stats and status without a daemon, protection left attached: counters shown, exit 0
sf_snap "$TMPD/k0"
sleep 1
sf_snap "$TMPD/k1"
sa0=$(sf_cnt "$TMPD/k0" synack_sent) ho0=$(sf_cnt "$TMPD/k0" handoff_ok)
sa1=$(sf_cnt "$TMPD/k1" synack_sent) ho1=$(sf_cnt "$TMPD/k1" handoff_ok)
check_ge "$((sa1 - sa0))" 5 "XDP answers SYNs while no daemon runs (stats -j: synack_sent $sa0 -> $sa1)"
check_ge "$((ho1 - ho0))" 5 "TC hands connections over while no daemon runs (stats -j: handoff_ok $ho0 -> $ho1)"
check_eq "$(jq -r '[.daemon.running, .daemon.pid, .verdict.working, .interfaces[0].attached.xdp, .interfaces[0].attached.tc] | join(",")' "$TMPD/k1")" \
	"false,$SF_PID,true,true,true" "stats -j after kill -9: not running, its pid, working, XDP and TC attached"
out=$(srv "$SYNFENCE" stats -i 0 --pin-dir "$PIN" 2>&1)
check_eq "$?" 0 "stats after kill -9: exit 0"
check_match "$out" "^synfence NOT RUNNING: no daemon, run \(pid $SF_PID\) is gone; protection left attached;" \
	"stats says no daemon runs but protection is left attached"
out=$(srv "$SYNFENCE" status -i 0 --pin-dir "$PIN" 2>&1)
check_eq "$?" 0 "status after kill -9, everything still attached: exit 0"
check_match "$out" "^synfence  NOT RUNNING: no daemon, run \(pid $SF_PID\) is gone; protection left attached;" "status: daemon NOT RUNNING"
check_match "$out" 'interface veth-srv \(ifindex [0-9]+\): xdp native attached, tc attached' "status shows the interface, both attached"
sf_synfence_start -l "$TMPD/run2.log" -w 1 80 --rotate 60
check_true "the new run says it took over" grep -q "took over the pinned state" "$SF_LOG"
wait $HS
check_eq "$?" 0 "the handshake in flight got its SYN-ACK and sent its ACK: $(tr '\n' ' ' <"$TMPD/hs.log")"
sleep 0.3
check_eq "$(sf_ss_srv "( dport = :41050 )" | grep -c 198.18.1.50)" 1 \
	"the handshake begun before kill -9 was completed by the new daemon (server socket exists)"
sf_snap "$TMPD/s2"
check_ge "$(sf_cnt "$TMPD/s2" handoff_ok)" "$ho1" "counters carried over the restart"
check_eq "$(sf_pinned_link_id xdp "$SRV_IF")" "$xdp_link" "still the same XDP link"
check_eq "$(sf_pinned_link_id tc "$SRV_IF")" "$tc_link" "still the same TC link"
prog2=$(sf_xdp_prog_id)
check_ne "$prog2" "$prog1" "the XDP program was replaced (prog $prog1 -> $prog2)"
sleep 2

log "2. upgrade restart: SIGUSR2, then a new run"
sf_synfence_stop -q -s USR2
check_eq "$SF_RC" 0 "SIGUSR2: synfence exits 0"
check_true "it said it left protection in place" grep -q "protection left in place" "$SF_LOG"
check_true "XDP stays attached after SIGUSR2" sf_xdp_attached
check_true "the pins stay after SIGUSR2" test -e "$PIN/link_xdp_$SRV_IF"
out=$(srv "$SYNFENCE" stats -i 0 --pin-dir "$PIN" 2>&1)
check_eq "$?" 0 "stats after SIGUSR2: exit 0"
check_match "$out" "^synfence NOT RUNNING: no daemon, run stopped without detaching \(SIGUSR2 or keep_attached\); protection left attached;" \
	"stats says no daemon runs but protection is left attached"
out=$(sf_status_json)
check_eq "$?" 0 "status -j after SIGUSR2: exit 0"
check_eq "$(jq -r '[.daemon.running, .daemon.pid, .verdict.working, .interfaces[0].attached.xdp, .interfaces[0].attached.tc] | join(",")' <<<"$out")" \
	"false,0,true,true,true" "status -j after SIGUSR2: not running (pid 0), working, XDP and TC attached"
sleep 1
sf_synfence_start -l "$TMPD/run3.log" -w 1 80 --rotate 60
check_true "the upgraded run took over" grep -q "took over the pinned state" "$SF_LOG"
check_eq "$(sf_pinned_link_id xdp "$SRV_IF")" "$xdp_link" "still the same XDP link after the upgrade"
sleep 2
sf_snap "$TMPD/s3"
check_ge "$(sf_delta "$TMPD/s2" "$TMPD/s3" handoff_ok)" 10 "new connections still go through synfence"

: >"$STOP"
wait $KA
check_eq "$?" 0 "keep-alive connection (a request every 100 ms) never failed: $(cat "$TMPD/keepalive.log")"
wait $NC
res=$(tail -n 1 "$TMPD/newconn.log")
grep FAILED "$TMPD/newconn.log" | head -5 | sed 's/^/    /'
check_match "$res" "bad=0$" "no new connection failed across both restarts ($res)"
check_match "$res" "ok=[0-9]{2,}" "the new-connection loop ran ($res)"
check_eq "$(sf_cnt "$TMPD/s3" handoff_err)" 0 "handoff_err stays 0"
check_eq "$(sf_cnt "$TMPD/s3" ack_cookie_bad)" 0 "no cookie was refused across the restarts"

log "3. SIGTERM: detach and remove the pins"
sf_synfence_stop
check_true "the pin dir is gone" test ! -e "$PIN"
check_true "no link of synfence is left" bash -c "! bpftool link show id $xdp_link >/dev/null 2>&1 && ! bpftool link show id $tc_link >/dev/null 2>&1"
check_eq "$(sf_curl "http://$SRV4/")" "$NGINX_BODY" "connections work after the detach"
sf_finish
