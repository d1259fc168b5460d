#!/bin/bash
# Fault injection (seeded; SF_SEED=N repeats the kill delays, SF_FAULT_KILLS=N kills per phase):
#  1. kill -9 at random moments of start-up (fresh and takeover), during rotation (--rotate 1) and
#     right after SIGHUP reloads, while a client loop makes handshakes. After each kill the state
#     is classified: "protected" (XDP and TC attached, links and maps pinned, a new handshake is
#     cookie-made: handoff_ok moves), "clean" (no XDP, no TC, no pins, connections work through the
#     kernel) or "inert" (left by a kill inside the microseconds of the final pin calls: no XDP, a TC
#     link and/or map pins that pass everything; the next run takes them over). Anything else is
#     half-attached: a failure. Each time the next run must take over or start fresh and work.
#     Rotation and reload kills must leave protection in place with no failed connection.
#  2. the bpffs of the pin dir unmounted (umount -l) under a running daemon: it keeps protecting,
#     logs it, pins everything again when a bpffs is back (then survives kill -9), and SIGTERM
#     leaves the interface clean also without it;
#  3. the interface taken down and up: still protected, daemon alive;
#  4. map-update failures (build/synfence-faults, user/lib/mapio.h): each start-up update made to fail in
#     turn ends in one clear error line, exit 1 and a clean interface; failures during rotation,
#     reload and state publishing are logged and the previous state keeps working. The release
#     binary has no hook.
# Prints "faults: injected N, survived N" (and per class).
SF_PREFIX=${SF_TAG:-}sff
. "$(dirname "$0")/../lib.sh"

sf_init faults
sf_require_synfence
FAULTS=$(sf_abspath "${SYNFENCE_FAULTS:-$BUILD/synfence-faults}")
[ -x "$FAULTS" ] || die "fault-injection build not found at $FAULTS (run make)"
T0=$(date +%s)
SEED=${SF_SEED:-$(($(date +%s%N) / 1000 % 100000))}
RANDOM=$SEED
KILLS=${SF_FAULT_KILLS:-8}
log "seed $SEED (SF_SEED=$SEED repeats the kill delays), $KILLS kills per phase"
sf_topo_up
sf_nginx_start 80 8080
sf_mount_pin_root
CONF=$TMPD/synfence.conf

declare -A INJ SURV
INJ_ALL=0
SURV_ALL=0
# tally CLASS OK(0|1)
tally() {
	INJ[$1]=$((${INJ[$1]:-0} + 1))
	INJ_ALL=$((INJ_ALL + 1))
	if [ "$2" = 1 ]; then SURV[$1]=$((${SURV[$1]:-0} + 1)); SURV_ALL=$((SURV_ALL + 1)); fi
}

# launch [VAR=VALUE...] BIN LOG ARGS...: synfence run in the server namespace, in the background,
# with VAR=VALUE in its environment (the fault-injection settings); PID=its pid
launch() {
	local envs=() bin lg
	while [[ $1 == *=* ]]; do
		envs+=("$1")
		shift
	done
	bin=$1 lg=$2
	shift 2
	: >"$lg"
	ip netns exec "$SRV_NS" env "${envs[@]}" "$bin" run "$@" >>"$lg" 2>&1 &
	PID=$!
	sf_track_pid "$PID"
}
# wait_up LOG: the run in LOG protects its interface (10 s)
wait_up() { sf_wait_log "$1" "protecting $SRV_IF" 10; }
kill9() { kill -KILL "$PID" 2>/dev/null; wait "$PID" 2>/dev/null; PID=; }
# term: SIGTERM (SIGKILL after 10 s), exit status in SF_RC
term() { sf_synfence_stop -q -p "$PID"; PID=; }

# handoff_ok through the pinned maps (stats), "none" when they cannot be read
pinned_handoffs() { sf_stats_json 2>/dev/null | jq -r '.total.handoff_ok // "none"' 2>/dev/null || echo none; }
# handoff_ok read through the maps of the XDP program attached now (no pins needed)
prog_handoffs() {
	local m id
	id=$(sf_xdp_prog_id)
	[ "$id" != none ] || { echo none; return; }
	for m in $(bpftool prog show id "$id" -j | jq '.map_ids[]'); do
		[ "$(bpftool map show id "$m" -j | jq -r .name)" = sf_counters ] || continue
		# handoff_ok is counter 6: bytes 48..50 (little endian) of each per-CPU value
		bpftool map dump id "$m" -j | jq '
			def h: ltrimstr("0x") | ascii_downcase | explode | map(if . >= 97 then . - 87 else . - 48 end)
				| .[0] * 16 + .[1];
			[.[].values[].value | (.[48] | h) + 256 * (.[49] | h) + 65536 * (.[50] | h)] | add'
		return
	done
	echo none
}
curl_ok() { [ "$(sf_curl --max-time 3 "http://$SRV4/" 2>/dev/null)" = "$NGINX_BODY" ]; }
# cookie_made READER: a new connection is made and READER's handoff_ok moves (two tries: a curl
# can time out on a loaded machine); COOKIE_WHY says what went wrong
cookie_made() {
	local a b t c
	COOKIE_WHY=
	for t in 1 2; do
		a=$($1)
		if curl_ok; then c=ok; else c=failed; fi
		b=$($1)
		_isint "$a" && _isint "$b" && [ $c = ok ] && [ "$b" -gt "$a" ] && return 0
		COOKIE_WHY+="try $t: curl $c, handoff_ok $a -> $b; "
	done
	return 1
}

# state: "protected", "clean", "inert (...)" or "half (...)", from what is attached and pinned
state() {
	local xdp=0 tc=0 cls maps=0 links=0 m l xl
	sf_xdp_attached && xdp=1
	bpftool link show pinned "$PIN/link_tc_$SRV_IF" >/dev/null 2>&1 && tc=1
	cls=$(sf_clsact_filters)
	for m in sf_config sf_secrets sf_ports sf_if_slot sf_ifaces sf_counters sf_state; do
		[ -e "$PIN/$m" ] && maps=$((maps + 1))
	done
	for l in "$PIN"/link_*; do [ -e "$l" ] && links=$((links + 1)); done
	local what="xdp=$xdp tc_link=$tc clsact=$cls maps=$maps/7 link_pins=$links"
	if [ $xdp = 1 ]; then
		xl=$(bpftool link show pinned "$PIN/link_xdp_$SRV_IF" -j 2>/dev/null | jq -r '.prog_id // "none"')
		if [ $tc = 1 ] && [ $maps = 7 ] && [ $links = 2 ] && [ "$xl" = "$(sf_xdp_prog_id)" ]; then
			if cookie_made pinned_handoffs; then echo protected; else echo "half ($what, but no cookie handshake: $COOKIE_WHY)"; fi
		else
			echo "half ($what, pinned xdp prog $xl)"
		fi
	elif [ "$cls" != 0 ]; then
		echo "half ($what)"
	elif ! curl_ok; then
		echo "half ($what, connections fail)"
	elif [ $tc = 0 ] && [ $maps = 0 ] && [ $links = 0 ]; then
		echo clean
	else
		echo "inert ($what)"
	fi
}

# ---- 1. kill -9 ---------------------------------------------------------------------------------

STOP=$TMPD/stop
sf_newconn_loop "$STOP" "$TMPD/newconn1.log"
NC=$SF_NEWCONN_PID

# how long a fresh start takes here, to place the kills
launch "$SYNFENCE" "$TMPD/cal.log" "$SRV_IF" --ports 80 --pin-dir "$PIN"
t=$EPOCHREALTIME
until [ -e "$PIN/link_xdp_$SRV_IF" ]; do
	kill -0 "$PID" 2>/dev/null || die "calibration run exited: $(cat "$TMPD/cal.log")"
	sleep 0.002
done
TSTART=$(((${EPOCHREALTIME/./} - ${t/./}) / 1000))
wait_up "$TMPD/cal.log" || die "calibration run did not come up"
term
log "a fresh start takes ~$TSTART ms to its last pin"

# delay_ms: half over the whole start-up, half over its last 40 ms (attach and pins)
delay_ms() {
	if [ $((RANDOM % 2)) = 0 ]; then echo $((RANDOM % (TSTART + 20)))
	else echo $((TSTART - 40 + RANDOM % 50)); fi
}
msleep() { sleep "$(printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)))"; }

declare -A SEEN
log "1a. kill -9 during start-up ($KILLS fresh starts, each followed by a killed takeover start)"
for i in $(seq "$KILLS"); do
	s=$(state)
	[ "$s" = clean ] || _fail "before start-up kill $i the interface is clean (got: $s)"
	# the two ends once (surely before the first pin, just after the last one), then at random
	case $i in 1) dl=20 ;; 2) dl=up ;; *) dl=$(delay_ms) ;; esac
	launch "$SYNFENCE" "$TMPD/k$i.log" "$SRV_IF" --ports 80 --pin-dir "$PIN"
	if [ "$dl" = up ]; then wait_up "$TMPD/k$i.log"; else msleep "$dl"; fi
	kill9
	s=$(state)
	SEEN[${s%% *}]=$((${SEEN[${s%% *}]:-0} + 1))
	if [ "$dl" = up ]; then dl="its 'protecting' line"; else dl="$dl ms"; fi
	log "   fresh start killed after $dl: $s"
	ok=1
	[[ $s == half* ]] && { _fail "kill $i during start-up ($dl): not half-attached: $s"; ok=0; }
	# the next run takes over or starts fresh, and works; a takeover start killed again at random
	launch "$SYNFENCE" "$TMPD/k$i.b.log" "$SRV_IF" --ports 80 --pin-dir "$PIN"
	wait_up "$TMPD/k$i.b.log" || { _fail "run after kill $i comes up: $(tail -n 2 "$TMPD/k$i.b.log")"; ok=0; }
	cookie_made pinned_handoffs || { _fail "run after kill $i: handshakes cookie-made ($COOKIE_WHY)"; ok=0; }
	tally startup $ok
	if [ $((i % 2)) = 0 ]; then
		dl=$(delay_ms)
		kill9
		launch "$SYNFENCE" "$TMPD/k$i.c.log" "$SRV_IF" --ports 80 --pin-dir "$PIN"
		msleep "$dl"
		kill9
		s=$(state)
		log "   takeover start killed after $dl ms: $s"
		ok=1
		[ "$s" = protected ] || { _fail "kill $i during a takeover start ($dl ms): still protected (got: $s)"; ok=0; }
		launch "$SYNFENCE" "$TMPD/k$i.d.log" "$SRV_IF" --ports 80 --pin-dir "$PIN"
		{ wait_up "$TMPD/k$i.d.log" && grep -q "took over" "$TMPD/k$i.d.log"; } ||
			{ _fail "run after takeover kill $i takes over: $(tail -n 2 "$TMPD/k$i.d.log")"; ok=0; }
		tally startup $ok
	fi
	term
	[ "$SF_RC" = 0 ] || _fail "SIGTERM after kill $i: exit 0 (got $SF_RC)"
done
s=$(state)
check_eq "$s" clean "after the start-up kills and a SIGTERM, the interface is clean"
: >"$STOP"
wait "$NC"
log "   new connections during 1a: $(tail -n 1 "$TMPD/newconn1.log") (a handshake answered by a run killed or stopped before its ACK arrives is reset: expected)"
log "   states after a fresh-start kill: $(for k in "${!SEEN[@]}"; do printf '%s=%s ' "$k" "${SEEN[$k]}"; done)"
check_ge "${SEEN[protected]:-0}" 1 "start-up kills after the last pin leave protection (at least the one after 'protecting')"
check_ge "${SEEN[clean]:-0}" 1 "start-up kills before the first pin leave a clean interface (at least the one at 20 ms)"

# kill_takeover CLASS LOG WHEN: kill -9 the running daemon; protection must stay fully in place and
# a new run (its log: LOG) must take it over. Counted under CLASS.
kill_takeover() {
	local class=$1 lg=$2 when=$3 s ok=1

	kill9
	s=$(state)
	log "   killed $when: $s"
	[ "$s" = protected ] || { _fail "kill $when: still protected (got: $s)"; ok=0; }
	launch "$SYNFENCE" "$lg" --config "$CONF" --pin-dir "$PIN"
	{ wait_up "$lg" && grep -q "took over" "$lg"; } ||
		{ _fail "the run after kill $when takes over: $(tail -n 2 "$lg")"; ok=0; }
	tally "$class" $ok
}

log "1b. kill -9 during rotation (--rotate 1, $KILLS kills)"
rm -f "$STOP"
sf_newconn_loop "$STOP" "$TMPD/newconn2.log"
NC=$SF_NEWCONN_PID
printf 'interfaces = %s\nports = 80\nrotate = 1\n' "$SRV_IF" >"$CONF"
launch "$SYNFENCE" "$TMPD/r0.log" --config "$CONF" --pin-dir "$PIN"
wait_up "$TMPD/r0.log" || die "rotation run did not come up: $(cat "$TMPD/r0.log")"
for i in $(seq "$KILLS"); do
	dl=$((300 + RANDOM % 1500))
	msleep "$dl"
	kill_takeover rotation "$TMPD/r$i.log" "$i, $dl ms into a run rotating every second"
done

log "1c. kill -9 right after SIGHUP reloads ($KILLS kills; ports 80 <-> 80,8080)"
for i in $(seq "$KILLS"); do
	if [ $((i % 2)) = 1 ]; then p=80,8080; else p=80; fi
	printf 'interfaces = %s\nports = %s\nrotate = %s\n' "$SRV_IF" "$p" $((1 + i % 2)) >"$CONF"
	sleep 0.3
	kill -HUP "$PID"
	dl=$((RANDOM % 20))
	msleep "$dl"
	kill_takeover reload "$TMPD/h$i.log" "$i, $dl ms after SIGHUP (ports $p)"
done
: >"$STOP"
wait "$NC"
res=$(tail -n 1 "$TMPD/newconn2.log")
grep FAILED "$TMPD/newconn2.log" | head -5 | sed 's/^/    /'
check_match "$res" "bad=0$" "no new connection failed across the rotation and reload kills ($res)"
check_match "$res" "ok=[0-9]{2,}" "the new-connection loop ran ($res)"
sf_snap "$TMPD/r.json"
check_eq "$(sf_cnt "$TMPD/r.json" handoff_err)" 0 "handoff_err stays 0 across the kills"
term
check_eq "$SF_RC" 0 "SIGTERM after the kills: exit 0"
check_eq "$(state)" clean "... and the interface is clean"

# ---- 2. bpffs unmounted under a running daemon --------------------------------------------------

# The bpffs of these runs is mounted only in one mount namespace (held by a sleep, entered with
# nsenter), so that an umount there is what an umount on a host is: nothing else holds the bpffs.
ip netns exec "$SRV_NS" sleep 300 &
HOLDER=$!
sf_track_pid $HOLDER
sleep 0.2
in_ns() { nsenter --mount=/proc/$HOLDER/ns/mnt --net=/run/netns/"$SRV_NS" "$@"; }
BFS=$TMPD/bpffs
BPIN=$BFS/faults
mkdir -p "$BFS"
bstats() { in_ns "$SYNFENCE" stats -j -i 0 --pin-dir "$BPIN" 2>/dev/null | jq -r '.total.handoff_ok // "none"' 2>/dev/null || echo none; }
# blaunch LOG: synfence run on $BPIN in that namespace
blaunch() {
	: >"$1"
	# nsenter itself (not through a function), so that $! is synfence
	nsenter --mount=/proc/$HOLDER/ns/mnt --net=/run/netns/"$SRV_NS" \
		"$SYNFENCE" run "$SRV_IF" --ports 80 --pin-dir "$BPIN" --sysctl-interval 1 >>"$1" 2>&1 &
	PID=$!
	sf_track_pid $PID
}

log "2a. umount -l of the pin dir's bpffs under the daemon, then SIGTERM"
in_ns mount -t bpf bpf "$BFS" || die "cannot mount a bpffs on $BFS"
blaunch "$TMPD/b1.log"
wait_up "$TMPD/b1.log" || die "run did not come up: $(cat "$TMPD/b1.log")"
tcx=$(sf_tcx_links "$PID")
in_ns umount -l "$BFS" || die "umount -l $BFS failed"
ok=1
sf_wait_log "$TMPD/b1.log" "error: pin dir $BPIN: gone \(its bpffs unmounted\?\): protection goes on, but a restart could not take it over" 4 ||
	{ _fail "the daemon logs that the pin dir is gone"; ok=0; }
sleep 1.2 # a few more ticks without the pin dir
kill -0 "$PID" 2>/dev/null || { _fail "the daemon survives the unmount"; ok=0; }
sf_xdp_attached || { _fail "XDP stays attached"; ok=0; }
cookie_made prog_handoffs || { _fail "handshakes are still cookie-made (handoff_ok via the program's maps)"; ok=0; }
term
[ "$SF_RC" = 0 ] || { _fail "SIGTERM without the pin dir: exit 0 (got $SF_RC)"; ok=0; }
sf_xdp_attached && { _fail "XDP detached after SIGTERM"; ok=0; }
for l in $tcx; do sf_link_exists "${l%%:*}" && { _fail "its tcx link ${l%%:*} is gone"; ok=0; }; done
[ "$(sf_clsact_filters)" = 0 ] || { _fail "no clsact filter"; ok=0; }
curl_ok || { _fail "connections work after SIGTERM"; ok=0; }
[ $ok = 1 ] && _ok "bpffs gone: logged, protection kept, SIGTERM leaves the interface clean (tcx link ${tcx% } gone)"
tally bpffs $ok

log "2b. umount -l, then a new bpffs there: pinned again; kill -9 leaves protection; a takeover"
in_ns mount -t bpf bpf "$BFS"
blaunch "$TMPD/b2.log"
wait_up "$TMPD/b2.log" || die "run did not come up"
in_ns umount -l "$BFS"
ok=1
sf_wait_log "$TMPD/b2.log" "pin dir $BPIN: gone" 4 || ok=0
in_ns mount -t bpf bpf "$BFS"
sf_wait_log "$TMPD/b2.log" "pin dir $BPIN: maps and links pinned again" 4 ||
	{ _fail "the daemon pins again on the new bpffs"; ok=0; }
cookie_made bstats || { _fail "stats reads the new pins, handshakes cookie-made"; ok=0; }
kill9
sf_xdp_attached && in_ns test -e "$BPIN/link_tc_$SRV_IF" && cookie_made bstats ||
	{ _fail "after the re-pin, a kill -9 leaves protection in place"; ok=0; }
blaunch "$TMPD/b3.log"
{ wait_up "$TMPD/b3.log" && grep -q "took over" "$TMPD/b3.log"; } || { _fail "the next run takes over: $(cat "$TMPD/b3.log")"; ok=0; }
term
[ "$SF_RC" = 0 ] && ! sf_xdp_attached && ! in_ns test -e "$BPIN" || { _fail "SIGTERM: exit 0, clean"; ok=0; }
[ $ok = 1 ] && _ok "bpffs back: re-pinned; kill -9 leaves protection; the next run takes over; SIGTERM cleans"
tally bpffs $ok
in_ns umount "$BFS"
kill "$HOLDER"

# ---- 3. interface down and up -------------------------------------------------------------------

log "3. $SRV_IF down and up (3 times) under a running daemon"
launch "$SYNFENCE" "$TMPD/i.log" "$SRV_IF" --ports 80 --pin-dir "$PIN" --sysctl-interval 1
wait_up "$TMPD/i.log" || die "run did not come up"
for i in 1 2 3; do
	ip -n "$SRV_NS" link set "$SRV_IF" down
	msleep $((100 + RANDOM % 400))
	ip -n "$SRV_NS" link set "$SRV_IF" up
	ok=0
	for j in $(seq 30); do
		[ "$(ip -n "$SRV_NS" -j link show "$SRV_IF" | jq -r '.[0].operstate')" = UP ] && break
		sleep 0.1
	done
	for j in 1 2 3; do cookie_made pinned_handoffs && { ok=1; break; }; sleep 0.3; done
	kill -0 "$PID" 2>/dev/null || ok=0
	[ "$(state)" = protected ] || ok=0
	tally ifupdown $ok
	[ $ok = 1 ] && _ok "down/up $i: daemon alive, protected, handshakes cookie-made" ||
		_fail "down/up $i: daemon alive, protected, handshakes cookie-made (state: $(state))"
done
term
check_eq "$SF_RC/$(state)" 0/clean "SIGTERM after the down/ups: exit 0, clean"

# ---- 4. map-update failures -----------------------------------------------------------------------

log "4a. every kind of start-up map update made to fail"
strings "$SYNFENCE" | grep -q SF_FAULT && _fail "the release binary has no fault-injection hook" ||
	_ok "the release binary has no fault-injection hook"
SF_RC=
launch SF_FAULT_TRACE=1 "$FAULTS" "$TMPD/trace.log" "$SRV_IF" --ports 80 --pin-dir "$PIN"
wait_up "$TMPD/trace.log" || die "traced run did not come up: $(tail "$TMPD/trace.log")"
term
# the updates before "protecting": N and map; pick the first and last of each run of one map
sed -n "1,/protecting $SRV_IF/p" "$TMPD/trace.log" | sed -n 's/.*map update #\([0-9]*\): \(.*\)/\1 \2/p' >"$TMPD/updates"
NUPD=$(wc -l <"$TMPD/updates")
picks=$(awk '{ if ($2 != m) { if (l) print l; print $1; m = $2 } l = $1 } END { print l }' "$TMPD/updates" | sort -nu)
log "   start-up makes $NUPD map updates ($(awk '{print $2}' "$TMPD/updates" | uniq -c | awk '{printf "%s x%s ", $2, $1}')); failing #$(echo $picks | sed 's/ /, #/g')"
for n in $picks; do
	what=$(awk -v n="$n" '$1 == n { print $2 }' "$TMPD/updates")
	lg=$TMPD/f$n.log
	launch SF_FAULT_MAP_UPDATE="$n" "$FAULTS" "$lg" "$SRV_IF" --ports 80 --pin-dir "$PIN"
	case $what in sf_flows | sf_flow_tags)
		# the flow cache's seed (existing connections) is an aid, not protection: a warning
		# naming the map, protection as usual, a clean stop
		ok=1
		wait_up "$lg" || ok=0
		grep -q "fault injection: map update #$n (map $what) fails" "$lg" || ok=0
		grep -q "^synfence: warning: cannot write the flow cache.*(map $what): Cannot allocate memory" "$lg" || ok=0
		[ "$(state)" = protected ] || ok=0
		term
		[ "$SF_RC/$(state)" = 0/clean ] || ok=0
		tally mapupdate $ok
		if [ $ok = 1 ]; then _ok "update #$n ($what) fails: a warning naming it, protection goes on, clean stop"
		else _fail "update #$n ($what) fails: a warning naming it, protection goes on, clean stop: $(tr '\n' '|' <"$lg")"; fi
		continue
	esac
	sf_wait_pid "$PID" 10 || term
	last=$(tail -n 1 "$lg")
	s=$(state)
	ok=1
	grep -q "fault injection: map update #$n (map $what) fails" "$lg" || ok=0
	[ "$SF_RC" = 1 ] || ok=0
	[[ $last =~ ^synfence:\ cannot\ .*:\ Cannot\ allocate\ memory$ ]] || ok=0
	[ "$(grep -vc -e 'fault injection' -e '^synfence: warning' "$lg")" = 1 ] || ok=0
	[ "$s" = clean ] || ok=0
	tally mapupdate $ok
	if [ $ok = 1 ]; then _ok "update #$n ($what) fails: exit 1, '$last', interface clean"
	else _fail "update #$n ($what) fails: exit 1 (got $SF_RC), one error line (got: $(tr '\n' '|' <"$lg")), clean (got: $s)"; fi
	[ "$s" = clean ] || srv "$SYNFENCE" detach "$SRV_IF" --pin-dir "$PIN" >/dev/null 2>&1
done

# runtime: N counted on one map only; start-up counts from the trace
nstart() { awk -v m="$1" '$2 == m' "$TMPD/updates" | wc -l; }
# survived OK MESSAGE [DETAIL]: the run (PID, log $lg) is still alive, and SIGTERM stops it with
# exit 0 and nothing left behind; one map-update fault counted; passes with MESSAGE, or fails with
# MESSAGE, DETAIL and the log.
survived() {
	local ok=$1
	kill -0 "$PID" 2>/dev/null || ok=0
	term
	[ "$SF_RC/$(state)" = 0/clean ] || ok=0
	tally mapupdate "$ok"
	if [ "$ok" = 1 ]; then _ok "$2"; else _fail "$2${3:-}: $(tr '\n' '|' <"$lg")"; fi
}

log "4b. rotation: each of the two writes of a rotation made to fail"
for j in 1 2; do
	lg=$TMPD/fr$j.log
	launch SF_FAULT_MAP=sf_secrets SF_FAULT_MAP_UPDATE=$(($(nstart sf_secrets) + j)) \
		"$FAULTS" "$lg" "$SRV_IF" --ports 80 --pin-dir "$PIN" --rotate 1
	ok=1
	wait_up "$lg" || ok=0
	sf_wait_log "$lg" "error: cannot rotate the cookie secret: Cannot allocate memory \(will retry\)" 4 || ok=0
	e1=$(sf_stats_json | jq -r '.daemon.secret.epoch')
	sleep 2.2
	e2=$(sf_stats_json | jq -r '.daemon.secret.epoch')
	_isint "$e1" && _isint "$e2" && [ "$e2" -gt "$e1" ] || ok=0
	cookie_made pinned_handoffs || ok=0
	survived $ok "rotation write $j fails: logged, rotation goes on (epoch $e1 -> $e2), cookies work, clean stop"
done

log "4c. reload: a port-set write and the shared-secret write made to fail"
(umask 077 && head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$TMPD/secret")
ctr8080() { sf_stats_json | jq -r '.total.synack_sent'; }
for what in ports secret; do
	printf 'interfaces = %s\nports = 80\n' "$SRV_IF" >"$CONF"
	lg=$TMPD/fh-$what.log
	if [ $what = ports ]; then fm=sf_ports; else fm=sf_secrets; fi
	launch SF_FAULT_MAP=$fm SF_FAULT_MAP_UPDATE=$(($(nstart $fm) + 1)) "$FAULTS" "$lg" --config "$CONF" --pin-dir "$PIN"
	ok=1
	wait_up "$lg" || ok=0
	if [ $what = ports ]; then
		printf 'interfaces = %s\nports = 80,8080\n' "$SRV_IF" >"$CONF"
		re="error: reload failed: cannot write the port set \(map sf_ports, word 126\): Cannot allocate memory; keeping the running config"
	else
		printf 'interfaces = %s\nports = 80\nsecret_file = %s\n' "$SRV_IF" "$TMPD/secret" >"$CONF"
		re="error: reload failed: cannot set the cookie secret: Cannot allocate memory; keeping the running config"
	fi
	kill -HUP "$PID"
	sf_wait_log "$lg" "$re" 4 || ok=0
	a=$(ctr8080)
	[ "$(sf_curl "http://$SRV4:8080/")" = "$NGINX_BODY" ] || ok=0
	b=$(ctr8080)
	[ "$a" = "$b" ] || ok=0 # 8080 stays unprotected: no SYN-ACK from XDP
	cookie_made pinned_handoffs || ok=0
	# random keys count epochs from 1, shared ones from the Unix epoch (time / rotate)
	[ "$(sf_stats_json | jq -r '.daemon.secret.epoch < 1000000')" = true ] || ok=0
	# the same reload again (no fault now) applies
	kill -HUP "$PID"
	sf_wait_log "$lg" "reloaded $CONF: " 4 || ok=0
	cookie_made pinned_handoffs || ok=0
	survived $ok "reload $what write fails: logged, the running config stays and works, the next reload applies" \
		" (8080 synack_sent $a -> $b)"
done

log "4d. the state map's write at a tick made to fail"
lg=$TMPD/fs.log
launch SF_FAULT_MAP=sf_state SF_FAULT_MAP_UPDATE=$(($(nstart sf_state) + 1)) \
	"$FAULTS" "$lg" "$SRV_IF" --ports 80 --pin-dir "$PIN" --sysctl-interval 1
ok=1
wait_up "$lg" || ok=0
sf_wait_log "$lg" "error: cannot write the daemon state \(map sf_state\): Cannot allocate memory" 4 || ok=0
sleep 1.2
cookie_made pinned_handoffs || ok=0
survived $ok "state write fails: logged once, daemon goes on"

# ---- summary ------------------------------------------------------------------------------------

sum=""
for c in startup rotation reload bpffs ifupdown mapupdate; do sum+="$c ${SURV[$c]:-0}/${INJ[$c]:-0}, "; done
log "faults: injected $INJ_ALL, survived $SURV_ALL (${sum%, }; seed $SEED, $(($(date +%s) - T0)) s)"
log "fresh start-ups killed left: $(for k in clean protected inert half; do printf '%s %s, ' "$k" "${SEEN[$k]:-0}"; done | sed 's/, $//')"
check_eq "$SURV_ALL" "$INJ_ALL" "every injected fault survived"
sf_finish
