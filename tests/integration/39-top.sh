#!/bin/bash
# synfence top: the top SYN sources estimated from XDP's packet samples.
#  1. top --watch --rate 200 started before the floods re-picks its 1 in N (1 while idle, then
#     >= 32) from each interval's rate.
#     Three spoofed SYN floods at once from 198.18.101.0/24, .102.0/24 and .103.0/24 at 60/30/10 %
#     of the packets (sf_flood -r, bounded in packets and seconds), plus a real client (curl in a
#     loop), while `top -j --interval 2 --by src4` runs: the three prefixes rank 1-2-3 and each
#     estimated share is within 10 points of the share sf_flood reports it sent (printed: the
#     measured accuracy).
#     With --rate 200 (and no --every) top chooses its 1 in N from the rate so that the cap rarely
#     thins the samples: the same ranking and shares within 10 points (every > 1, every_auto true).
#     With --every 1 --rate 200 the cap thins the samples: the scale (taken + capped) / taken brings
#     the total back to within 30 % of the rate sent (its shares are logged, not checked: the cap
#     keeps the first sample after a gap, see the README).
#  2. The text output says "estimate" and suggests `synfence deny add 198.18.101.0/24` (the deny
#     list exists); `--by dport -i veth-srv` ranks the flooded port first.
#     A denied prefix is still shown but not suggested again.
#  3. After each top, sampling is off again (sf_sample_ctl.on = 0); a second top while one holds
#     sampling exits 1 naming the holder; Ctrl-C ends `top --watch` with status 0 and sampling off;
#     in a terminal (tmux) `top --watch` redraws in place like `stats --watch` and q restores it.
#  4. Bad flags: exit 2 and one line (JSON under -j); an interface synfence does not protect: exit 1.
. "$(dirname "$0")/../lib.sh"

sf_init top
SF_GEN=$(sf_abspath "${SF_GEN:-$BUILD/sf_flood}")
FLOOD_S=${SF_TOP_FLOOD_S:-14}   # each flood lasts this long; top runs inside it
PPS=(6000 3000 1000)           # 60/30/10 %
NETS=(198.18.101 198.18.102 198.18.103)
sf_require_synfence
[ -x "$SF_GEN" ] || die "flood generator not found at $SF_GEN (run make)"
sf_topo_up -4 -r 198.18.101.0/24 -r 198.18.102.0/24 -r 198.18.103.0/24
sf_nginx_start 80
sf_synfence_start 80

# sampling_on: whether sampling is on (status -j: daemon.sampling.on), true or false
sampling_on() { sf_status_json | jq -r '.daemon.sampling.on'; }
top() { srv "$SYNFENCE" top --pin-dir "$PIN" "$@"; }

log "1. three floods (${PPS[*]} pps for ${FLOOD_S}s) and a real client; top -j --interval 2 --by src4"
stop=$TMPD/client.stop
cli bash -c 'ok=0; while [ ! -e "$0" ]; do curl -s --max-time 2 "http://$1/" >/dev/null && ok=$((ok + 1)); sleep 0.1; done; echo $ok' \
	"$stop" "$SRV4" >"$TMPD/client.out" 2>&1 &
CLIENT=$!
sf_track_pid $CLIENT
# top --watch started before the floods: 1 in 1 from the idle probe, then a bigger one re-picked
# from the flooded intervals (ip netns exec directly, so that $! is top itself)
ip netns exec "$SRV_NS" "$SYNFENCE" top --pin-dir "$PIN" -j --watch --interval 0.5 --rate 200 \
	>"$TMPD/repick.json" 2>&1 &
REPICK=$!
sf_track_pid $REPICK
sleep 0.4
for i in 0 1 2; do
	cli "$SF_GEN" -i "$CLI_IF" -M "$(sf_srv_mac)" -D "$SRV4" -p 80 -m syn -E packet -j \
		-s "${NETS[$i]}.0/24" -r "${PPS[$i]}" -n $((PPS[i] * FLOOD_S)) -T $((FLOOD_S + 5)) \
		>"$TMPD/flood$i.json" 2>"$TMPD/flood$i.err" &
	FLOODS[$i]=$!
	sf_track_pid "${FLOODS[$i]}"
done
sleep 2
kill -INT $REPICK
sf_wait_pid $REPICK 5
check_eq "$SF_RC" 0 "top --watch --rate 200 (started before the floods) exits 0 on SIGINT"
log "top --watch --rate 200: every per interval: $(jq -r .every "$TMPD/repick.json" | tr '\n' ' ')"
check_eq "$(head -n 1 "$TMPD/repick.json" | jq -c '[.every, .every_auto]')" "[1,true]" \
	"--watch: the first interval samples 1 in 1 (chosen from the idle probe)"
check_true "--watch: a later interval's 1 in N was re-picked from the flood's rate (>= 32)" \
	jq -se 'all(.every_auto) and (map(.every) | max >= 32)' "$TMPD/repick.json"
top -j --interval 2 --by src4 >"$TMPD/top.json" 2>"$TMPD/top.err"
rc=$?
check_eq "$rc/$(cat "$TMPD/top.err")" "0/" "top -j exits 0, nothing on stderr"
check_eq "$(sampling_on)" false "sampling is off after top exits"
top --interval 1 >"$TMPD/top.txt" 2>&1
check_eq "$?" 0 "top (text) exits 0"
top -j --interval 1 --by dport -i "$SRV_IF" >"$TMPD/dport.json" 2>&1
check_eq "$?" 0 "top -j --by dport -i $SRV_IF exits 0"
top -j --interval 3 --rate 200 >"$TMPD/auto.json" 2>&1
check_eq "$?" 0 "top -j --rate 200 (1 in N chosen from the rate) exits 0"
top -j --interval 1 --every 1 --rate 200 >"$TMPD/capped.json" 2>&1
check_eq "$?" 0 "top -j --every 1 --rate 200 (the per-CPU cap thins the samples) exits 0"
for i in 0 1 2; do wait "${FLOODS[$i]}"; done
touch "$stop"
wait $CLIENT
check_true "top -j is one JSON document (jq)" jq -e . "$TMPD/top.json" >/dev/null
log "top -j: $(jq -c '{interval_s, every, samples, samples_missed, scale, total, rows: [.rows[] | {key, per_s, share}], suggest}' "$TMPD/top.json")"
sed 's/^/    top| /' "$TMPD/top.txt"
check_eq "$(jq -r '.estimate' "$TMPD/top.json")" true "JSON says estimate: true"

total=0
for i in 0 1 2; do
	sent[$i]=$(jq -r '.sent' "$TMPD/flood$i.json")
	_isint "${sent[$i]}" || die "flood $i: no sent count ($(cat "$TMPD/flood$i.json" "$TMPD/flood$i.err"))"
	total=$((total + sent[i]))
done
check_ge "$(cat "$TMPD/client.out")" 10 "the real client connected during the floods"
# check_shares FILE LABEL: the three prefixes rank 1-2-3, each share within 10 points of the sent one
check_shares() {
	local f=$1 what=$2 i want got diff
	check_eq "$(jq -r '[.rows[0:3][].key] | join(" ")' "$f")" \
		"${NETS[0]}.0/24 ${NETS[1]}.0/24 ${NETS[2]}.0/24" "$what: the three prefixes rank 1-2-3 by their share"
	for i in 0 1 2; do
		want=$(awk -v s="${sent[$i]}" -v t="$total" 'BEGIN { printf "%.1f", 100 * s / t }')
		got=$(jq -r --arg k "${NETS[$i]}.0/24" '.rows[] | select(.key == $k) | .share' "$f")
		diff=$(awk -v a="${got:-0}" -v b="$want" 'BEGIN { d = a - b; printf "%.1f", d < 0 ? -d : d }')
		log "$what: share ${NETS[$i]}.0/24: measured ${got:-none}% vs sent $want% (${sent[$i]} of $total SYNs): off by $diff points"
		check_true "$what: ${NETS[$i]}.0/24: estimated share ${got:-none}% within 10 points of the $want% sent" \
			awk -v d="$diff" -v g="${got:-x}" 'BEGIN { exit !(g != "x" && d <= 10) }'
	done
}
check_shares "$TMPD/top.json" "top -j"
check_eq "$(jq -r .every_auto "$TMPD/top.json")" true "top -j: the 1 in N was chosen from the rate (every_auto)"

log "top -j --rate 200: $(jq -c '{every, every_auto, samples, samples_missed, scale, total, top: [.rows[0:3][].key]}' "$TMPD/auto.json")"
check_true "--rate 200: top chose 1 in N > 1 from the rate (every_auto)" \
	jq -e '.every_auto == true and .every > 1' "$TMPD/auto.json"
check_shares "$TMPD/auto.json" "--rate 200"

log "top -j --every 1 --rate 200: $(jq -c '{every, every_auto, samples, samples_missed, scale, total, top: [.rows[0:3][].key]}' "$TMPD/capped.json")"
check_true "--every 1 --rate 200: samples were capped, and scaled for (scale > 1); every_auto false" \
	jq -e '.samples_missed > 0 and .scale > 1 and .every == 1 and .every_auto == false' "$TMPD/capped.json"
pps=$((PPS[0] + PPS[1] + PPS[2]))
check_true "--every 1 --rate 200: the scaled total $(jq -r .total.per_s "$TMPD/capped.json")/s is within 30 % of the $pps/s sent" \
	jq -e --argjson p "$pps" '.total.per_s > 0.7 * $p and .total.per_s < 1.3 * $p' "$TMPD/capped.json"
# not checked: under the cap (a GCRA) a sample is the first packet after a gap, and sf_flood's paced
# bursts (-C 128) make those burst leaders of some floods more than others: shares are less certain
# (the text output says so)
log "--every 1 --rate 200: shares $(jq -r '[.rows[0:3][] | "\(.key) \(.share)%"] | join(", ")' "$TMPD/capped.json") (sent 60/30/10)"

log "2. text output, suggestion, --by dport"
txt=$(cat "$TMPD/top.txt")
check_match "$txt" 'estimates from samples \(1 in [0-9]+, chosen from the rate;' "the text output says they are estimates and the 1 in N chosen"
check_match "$txt" $'\n  synfence deny add 198\\.18\\.101\\.0/24\n' "text suggests 'synfence deny add 198.18.101.0/24'"
check_eq "$(jq -r '.rows[0].key' "$TMPD/dport.json")" 80 "--by dport: the flooded port 80 first"
check_eq "$(jq -r '.interface' "$TMPD/dport.json")" "$SRV_IF" "-i $SRV_IF: the JSON names the interface"

log "2b. a denied prefix is shown (its SYNs are dropped) but not suggested again"
check_eq "$(srv "$SYNFENCE" deny add "${NETS[0]}.0/24" --pin-dir "$PIN" 2>&1; echo $?)" 0 "deny add ${NETS[0]}.0/24"
for i in 0 1; do
	cli "$SF_GEN" -i "$CLI_IF" -M "$(sf_srv_mac)" -D "$SRV4" -p 80 -m syn -E packet \
		-s "${NETS[$i]}.0/24" -r 2000 -n 6000 -T 6 >/dev/null 2>&1 &
	FLOODS[$i]=$!
	sf_track_pid "${FLOODS[$i]}"
done
sleep 0.5
txt=$(top --interval 1.5 2>&1)
for i in 0 1; do wait "${FLOODS[$i]}"; done
check_match "$txt" "${NETS[0]//./\\.}\\.0/24 " "the denied prefix is still shown (its SYNs end in drop_denied)"
check_nomatch "$txt" "deny add ${NETS[0]//./\\.}\\.0/24" "... but not suggested again"
check_match "$txt" "deny add ${NETS[1]//./\\.}\\.0/24" "the other flooding prefix is suggested"
srv "$SYNFENCE" deny del "${NETS[0]}.0/24" --pin-dir "$PIN" >/dev/null 2>&1

log "3. one holder at a time; Ctrl-C ends --watch with sampling off"
# ip netns exec directly, so that $! is top itself
ip netns exec "$SRV_NS" "$SYNFENCE" top --pin-dir "$PIN" -j --watch --interval 0.5 >"$TMPD/watch.json" 2>&1 &
WATCH=$!
sf_track_pid $WATCH
sleep 0.5
check_eq "$(sampling_on)" true "sampling is on while top --watch runs"
out=$(top --interval 0.2 2>&1)
check_match "$?/$out" '^1/synfence: .*in use by pid' "a second top exits 1: sampling is in use ($out)"
sleep 1
kill -INT $WATCH
sf_wait_pid $WATCH 5
check_eq "$SF_RC" 0 "top --watch exits 0 on SIGINT"
check_ge "$(grep -c '^{"estimate":true' "$TMPD/watch.json")" 1 "top -j --watch printed JSON lines"
check_eq "$(sampling_on)" false "sampling is off after top --watch is interrupted"

log "3b. top --watch in a terminal (tmux): drawn in place, q quits and restores the terminal"
if command -v tmux >/dev/null; then
	SOCK=$TMPD/tmux.sock
	tm() { tmux -S "$SOCK" "$@"; }
	trap 'rc=$?; tm kill-server 2>/dev/null; (exit $rc); sf_cleanup' EXIT
	tm -f /dev/null new-session -d -s w -x 110 -y 30 \
		"stty -a >$TMPD/stty0; ip netns exec $SRV_NS $SYNFENCE top --watch --interval 0.5 --pin-dir $PIN; echo \$? >$TMPD/tmux.rc; stty -a >$TMPD/stty1; sleep 60" ||
		die "tmux new-session failed"
	for i in $(seq 50); do tm capture-pane -p -t w | grep -q '^estimates from samples' && break; sleep 0.1; done
	scr=$(tm capture-pane -p -t w)
	check_match "$scr" $'^top SYN and bad-ACK senders by IPv4 source /24 .*\nestimates from samples \\(1 in [0-9]+, chosen from the rate' "the screen shows top's header"
	check_match "$(tail -n 1 <<<"$scr")" 'every 0.5s - q or Ctrl-C quits' "the last line says how to quit (watch.c's footer)"
	check_eq "$(tm display -p -t w '#{alternate_on}')" 1 "top --watch uses the alternate screen"
	tm send-keys -t w q
	for i in $(seq 50); do [ -s "$TMPD/tmux.rc" ] && break; sleep 0.1; done
	check_eq "$(cat "$TMPD/tmux.rc" 2>/dev/null)" 0 "top --watch exits 0 on q"
	check_eq "$(tm display -p -t w '#{alternate_on}')" 0 "after q the terminal is back on the primary screen"
	check_eq "$(diff "$TMPD/stty0" "$TMPD/stty1" >/dev/null && echo same)" same "after q the terminal settings are as before"
	check_eq "$(sampling_on)" false "sampling is off after q"
	tm kill-server 2>/dev/null
else
	_skip "top --watch in a terminal: tmux is missing (make deps installs it)"
fi

log "4. bad command lines"
for bad in "--by src5" "--every 0" "--rate x" "--prefix4 33" "--prefix6 0" "-n 0" "--interval 0" "--bogus" "extra"; do
	out=$(top $bad 2>&1)
	check_eq "$?/$(wc -l <<<"$out")" 2/1 "top $bad: exit 2, one line ($out)"
done
out=$(top -j --by src5 2>/dev/null)
check_eq "$?/$(jq -r 'has("error")' <<<"$out")" 2/true "top -j --by src5: exit 2, a JSON error"
out=$(top -i nosuch0 2>&1)
check_match "$?/$out" '^1/synfence: nosuch0 is not an interface synfence protects' "top -i nosuch0: exit 1"
check_eq "$(sampling_on)" false "sampling is off at the end"

sf_finish
