#!/bin/bash
# tests/soak/soak.sh - `make soak`: synfence under a long, mixed load (not part of `make test`).
#
# Two namespaces (prefix sfs) joined by a veth pair; `synfence run` protects nginx on port 80 with a
# short rotation period, so the secret is replaced many times while traffic flows. For
# SOAK_SECONDS:
#  - legitimate load: two build/sf_connect clients (the client kernel's own TCP), one over IPv4 and
#    one over IPv6, each opening a new connection every SOAK_CONNECT_MS and fetching the page (10 s
#    deadline each);
#  - spoofed floods from build/sf_flood (XDP live frames; answers to the spoofed sources dropped by
#    sf_sink on the client veth), in a repeating schedule: SYN flood (IPv4), pause, forged-ACK flood,
#    pause, SYN flood (IPv6) overlapped with forged ACKs that carry the current epoch bits (each one
#    costs the full hash check), pause. Every flood is bounded in frames and seconds, paced to
#    SOAK_PPS frames/s per generator in chunks of SOAK_CHUNK frames per test-run call. Each call
#    waits for an RCU grace period (~25 ms here), so with chunks that fit the veth's 256-frame ring
#    (no ring loss, so no legitimate SYN lost there) a generator tops out near 9k frames/s: bursts
#    of 256 frames at line rate ~35 times a second. The achieved rates are in the results;
#  - every SOAK_SAMPLE seconds: the daemon's VmRSS and fd count, `synfence stats -j`.
# At the end: build/soak/results.json and build/soak/summary.txt (under BUILD). Exit 1 when a
# legitimate connection failed, the daemon died or did not stop cleanly, its RSS grew by more than
# SOAK_RSS_GROWTH_KB between the first and the last sample, or its fd count stayed above the first
# sample's (min of the last 3 samples, so a transient fd does not count).
#
# Environment (defaults): BUILD (build), SOAK_SECONDS (300), SOAK_ROTATE (10), SOAK_SAMPLE (5),
# SOAK_CONNECT_MS (250: 4 connections/s per family), SOAK_PPS (10000), SOAK_CHUNK (256),
# SOAK_RSS_GROWTH_KB (1024), SYNFENCE (the daemon binary: e.g. $BUILD/asan/synfence for leak checks).
# shellcheck disable=SC2034 # read by lib.sh: namespaces sfs-*, pins under /run/sfs
SF_PREFIX=${SF_TAG:-}sfs
. "$(dirname "$0")/../lib.sh"

SOAK_SECONDS=${SOAK_SECONDS:-300}
SOAK_ROTATE=${SOAK_ROTATE:-10}
SOAK_SAMPLE=${SOAK_SAMPLE:-5}
SOAK_CONNECT_MS=${SOAK_CONNECT_MS:-250}
SOAK_PPS=${SOAK_PPS:-10000}
SOAK_CHUNK=${SOAK_CHUNK:-256}
SOAK_RSS_GROWTH_KB=${SOAK_RSS_GROWTH_KB:-1024}
CONNECT_TIMEOUT_S=10
PORT=80
SF_GEN=$BUILD/sf_flood
SF_CONNECT=$BUILD/sf_connect
SINK=$BUILD/sf_sink.bpf.o
OUT=$BUILD/soak
# sf_flood's default source prefixes: sf_sink drops the answers to them
SPOOF4=198.19.0.0/16
SPOOF6=fd00:19::/64

for v in SOAK_SECONDS SOAK_ROTATE SOAK_SAMPLE SOAK_CONNECT_MS SOAK_PPS SOAK_CHUNK SOAK_RSS_GROWTH_KB; do
	[[ ${!v} =~ ^[1-9][0-9]*$ ]] || { echo "soak: $v must be a positive integer, not '${!v}'" >&2; exit 2; }
done
[ "$SOAK_CHUNK" -le 100000 ] || { echo "soak: SOAK_CHUNK at most 100000" >&2; exit 2; }

sf_init soak
sf_require_synfence
for f in "$SF_GEN" "$SF_CONNECT" "$SINK"; do
	[ -e "$f" ] || die "$f not found (run: make BUILD=$BUILD all)"
done
mkdir -p "$OUT" || die "cannot create $OUT"
rm -f "$OUT/results.json" "$OUT/summary.txt" "$OUT/samples.jsonl" "$OUT/floods.jsonl"

# the client veth: sf_sink instead of xdp_pass (still an XDP program, so XDP_TX towards it delivers)
sf_topo_up -x "$SINK" -r "$SPOOF4" -r "$SPOOF6"
sf_nginx_start "$PORT"
sf_synfence_start "$PORT" --rotate "$SOAK_ROTATE"
SRV_MAC=$(sf_srv_mac)
DAEMON=$SF_PID

# ---- the flood schedule (a background loop; every flood bounded by -n and -T) ------------------

# gen NAME MODE DST SECONDS [EXTRA...]: one paced flood; appends its JSON report to floods.jsonl
gen() {
	local name=$1 mode=$2 dst=$3 secs=$4 out
	shift 4
	out=$(cli "$SF_GEN" -i "$CLI_IF" -M "$SRV_MAC" -D "$dst" -p "$PORT" -m "$mode" \
		-n $((SOAK_PPS * secs)) -T "$secs" -r "$SOAK_PPS" -C "$SOAK_CHUNK" -j "$@" \
		2>>"$TMPD/gen.err")
	jq -c --arg name "$name" --argjson t "$(($(date +%s) - T0))" '. + {phase: $name, t_end: $t}' \
		<<<"$out" >>"$OUT/floods.jsonl" 2>/dev/null ||
		echo "{\"phase\":\"$name\",\"error\":true}" >>"$OUT/floods.jsonl"
}

# -K for forged ACKs with the cookie epoch bits of the current secret (ack - 1, bits 9-10)
epoch_mask() {
	local ep
	ep=$(sf_stats_json 2>/dev/null | jq -r '.daemon.secret.epoch // 0')
	echo "$(((ep & 3) << 9))/0x600"
}

# phases: NAME SECONDS (pause: no flood)
PHASES=("syn4 8" "pause 2" "ack4 6" "pause 2" "syn6+ack4-epoch 8" "pause 4")
flood_loop() {
	local end=$1 ph name secs left
	while :; do
		for ph in "${PHASES[@]}"; do
			read -r name secs <<<"$ph"
			left=$((end - $(date +%s)))
			[ "$left" -gt 0 ] || return 0
			[ "$secs" -le "$left" ] || secs=$left
			case $name in
			pause) sleep "$secs" ;;
			syn4) gen syn4 syn "$SRV4" "$secs" ;;
			ack4) gen ack4 ack "$SRV4" "$secs" ;;
			syn6+ack4-epoch)
				gen syn6 syn "$SRV6" "$secs" &
				gen ack4-epoch ack "$SRV4" "$secs" -K "$(epoch_mask)"
				wait
				;;
			esac
		done
	done
}

# ---- samples ------------------------------------------------------------------------------------

# sample: one JSON line: t, daemon alive, VmRSS (KiB), fds, epoch, secret age, counters
sample() {
	local t rss fds alive=true st
	t=$(($(date +%s) - T0))
	if kill -0 "$DAEMON" 2>/dev/null; then
		rss=$(awk '$1 == "VmRSS:" { print $2 }' "/proc/$DAEMON/status" 2>/dev/null)
		fds=$(find "/proc/$DAEMON/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)
	else
		alive=false
	fi
	st=$(sf_stats_json 2>/dev/null)
	jq -nc --argjson t "$t" --argjson alive "$alive" --argjson rss "${rss:-null}" \
		--argjson fds "${fds:-null}" --argjson st "${st:-null}" \
		'{t: $t, alive: $alive, rss_kb: $rss, fds: $fds, epoch: ($st.daemon.secret.epoch // null),
		  secret_age_s: ($st.daemon.secret.age_s // null), running: ($st.daemon.running // null),
		  total: ($st.total // null)}' >>"$OUT/samples.jsonl" 2>/dev/null ||
		echo "{\"t\":$t,\"alive\":$alive,\"error\":\"stats\"}" >>"$OUT/samples.jsonl"
	echo "$alive"
}

sf_snap "$TMPD/s0"
NCONN=$((SOAK_SECONDS * 1000 / SOAK_CONNECT_MS))
[ "$NCONN" -ge 1 ] || NCONN=1
log "soak: $SOAK_SECONDS s; legitimate load: $NCONN connections per family (IPv4, IPv6), one every" \
	"$SOAK_CONNECT_MS ms each; floods paced to $SOAK_PPS frames/s per generator (chunks of" \
	"$SOAK_CHUNK), schedule: ${PHASES[*]}; secret rotated every $SOAK_ROTATE s; sample every $SOAK_SAMPLE s"
T0=$(date +%s)
END=$((T0 + SOAK_SECONDS))
sample >/dev/null
# ip netns exec execs: $! is sf_connect itself
ip netns exec "$CLI_NS" "$SF_CONNECT" -D "$SRV4" -p "$PORT" -n "$NCONN" -i "$SOAK_CONNECT_MS" \
	-t "$CONNECT_TIMEOUT_S" -j >"$TMPD/legit4.json" 2>"$TMPD/legit4.err" &
L4=$!
sf_track_pid $L4
ip netns exec "$CLI_NS" "$SF_CONNECT" -D "$SRV6" -p "$PORT" -n "$NCONN" -i "$SOAK_CONNECT_MS" \
	-t "$CONNECT_TIMEOUT_S" -j >"$TMPD/legit6.json" 2>"$TMPD/legit6.err" &
L6=$!
sf_track_pid $L6
flood_loop "$END" &
FLOOD=$!
sf_track_pid $FLOOD

# sample until the clients are done (their last connection starts near END; bounded by a deadline)
died=0
while kill -0 $L4 2>/dev/null || kill -0 $L6 2>/dev/null || kill -0 $FLOOD 2>/dev/null; do
	[ "$(date +%s)" -le $((END + CONNECT_TIMEOUT_S + 30)) ] || { log "clients or floods overran: stopping them"; break; }
	sleep "$SOAK_SAMPLE"
	a=$(sample)
	[ "$a" = true ] || { died=1; log "the daemon is gone"; break; }
	n=$(($(wc -l <"$OUT/samples.jsonl")))
	if [ $((n % 12)) = 0 ]; then
		log "t=$(($(date +%s) - T0)) s: $(tail -1 "$OUT/samples.jsonl" | jq -r '"rss \(.rss_kb) KiB, fds \(.fds), epoch \(.epoch), syn_recv \(.total.syn_recv), handoff_ok \(.total.handoff_ok), ack_cookie_bad \(.total.ack_cookie_bad)"')"
	fi
done
kill $L4 $L6 $FLOOD 2>/dev/null
wait $L4 2>/dev/null
wait $L6 2>/dev/null
wait $FLOOD 2>/dev/null
T1=$(date +%s)
sleep 1
[ "$died" = 1 ] || [ "$(sample)" = true ] || died=1
sf_snap "$TMPD/s1"

# ---- results ------------------------------------------------------------------------------------

for f in legit4 legit6; do
	jq -e '.n' "$TMPD/$f.json" >/dev/null 2>&1 || echo '{"n":0,"ok":0,"failed":0,"errors":{},"connect_ms_all":[],"missing":true}' >"$TMPD/$f.json"
done
log "stopping synfence (SIGTERM)"
stop_fails=$SF_FAILS
sf_synfence_stop
stop_ok=$([ "$SF_FAILS" = "$stop_fails" ] && echo true || echo false)
[ "$died" = 0 ] || stop_ok=false

jq -n --slurpfile s "$OUT/samples.jsonl" --slurpfile fl "$OUT/floods.jsonl" \
	--slurpfile a "$TMPD/s0" --slurpfile b "$TMPD/s1" \
	--slurpfile l4 "$TMPD/legit4.json" --slurpfile l6 "$TMPD/legit6.json" \
	--argjson secs "$SOAK_SECONDS" --argjson wall "$((T1 - T0))" --argjson rotate "$SOAK_ROTATE" \
	--argjson sample_s "$SOAK_SAMPLE" --argjson conn_ms "$SOAK_CONNECT_MS" --argjson pps "$SOAK_PPS" \
	--argjson chunk "$SOAK_CHUNK" --argjson rss_max_growth "$SOAK_RSS_GROWTH_KB" \
	--argjson died "$died" --argjson stop_ok "$stop_ok" --arg phases "${PHASES[*]}" --arg synfence "$SYNFENCE" '
	def pct($v; $p): if ($v | length) == 0 then null
		else $v[([((($p / 100) * ($v | length)) | ceil) - 1, 0] | max)] end;
	def r3: . * 1000 | round / 1000;
	($s | map(select(.rss_kb != null))) as $ok
	| ($l4[0].connect_ms_all + $l6[0].connect_ms_all) as $all
	| ($all | map(select(. >= 0)) | sort) as $ct
	| ($l4[0].n + $l6[0].n) as $n | ($l4[0].ok + $l6[0].ok) as $nok
	| ($ok | map(.rss_kb)) as $rss | ($ok | map(.fds)) as $fds
	| ($s | map(.epoch) | map(select(. != null))) as $ep
	| ($b[0].total | with_entries(.value -= ($a[0].total[.key] // 0))) as $d
	| ($fl | map(select(.sent != null))) as $fls
	| {
	  duration_s: $secs, wall_s: $wall, synfence: $synfence,
	  params: {rotate_s: $rotate, sample_s: $sample_s, connect_interval_ms_per_family: $conn_ms,
	           flood_pps_cap_per_generator: $pps, flood_chunk: $chunk, schedule: $phases,
	           rss_growth_limit_kb: $rss_max_growth},
	  legit: {attempted: $n, succeeded: $nok, failed: ($n - $nok),
	          ipv4: ($l4[0] | del(.connect_ms_all)), ipv6: ($l6[0] | del(.connect_ms_all)),
	          connect_ms: {p50: (pct($ct; 50) | r3), p99: (pct($ct; 99) | r3),
	                       max: ($ct | last | if . then r3 else null end),
	                       over_1s: ($ct | map(select(. >= 1000)) | length)}},
	  rss_kb: {first: $rss[0], last: $rss[-1], max: ($rss | max), min: ($rss | min),
	           growth: ($rss[-1] - $rss[0])},
	  fds: {first: $fds[0], last: $fds[-1], max: ($fds | max), min: ($fds | min),
	        last3_min: ($fds[-3:] | min)},
	  rotations: {epoch_first: $ep[0], epoch_last: $ep[-1], count: ($ep[-1] - $ep[0]),
	              expected: ($wall / $rotate | floor)},
	  counters: $d,
	  floods: {runs: ($fl | length), failed_runs: ($fl | map(select(.error)) | length),
	           by_phase: ($fls | group_by(.phase) | map({key: .[0].phase, value: {
	               runs: length, frames: (map(.sent) | add), seconds: (map(.seconds) | add | r3),
	               pps: ((map(.sent) | add) / (map(.seconds) | add) | round)}}) | from_entries),
	           frames: ($fls | map(.sent) | add // 0), seconds: ($fls | map(.seconds) | add // 0 | r3)},
	  daemon: {died: ($died == 1), clean_stop: $stop_ok},
	  samples: ($s | map(del(.total)))
	}
	| .checks = {
	    legit_all_ok: (.legit.failed == 0 and .legit.attempted > 0),
	    rss_growth_ok: (.rss_kb.growth != null and .rss_kb.growth <= $rss_max_growth),
	    fds_ok: (.fds.last3_min != null and .fds.last3_min <= .fds.first),
	    daemon_ok: ($died == 0 and $stop_ok),
	    rotated: (.rotations.count >= 1)}
	| .pass = (.checks | all)' >"$OUT/results.json" || die "could not write $OUT/results.json"

R=$OUT/results.json
{
	jq -r '"synfence soak: \(.duration_s) s (wall \(.wall_s) s), secret rotated every \(.params.rotate_s) s, sampled every \(.params.sample_s) s",
	"legitimate connections: \(.legit.attempted) attempted, \(.legit.succeeded) succeeded, \(.legit.failed) failed (IPv4 \(.legit.ipv4.ok)/\(.legit.ipv4.n), IPv6 \(.legit.ipv6.ok)/\(.legit.ipv6.n); one every \(.params.connect_interval_ms_per_family) ms per family)",
	"  failures by kind: IPv4 \(.legit.ipv4.errors | tostring), IPv6 \(.legit.ipv6.errors | tostring)",
	"  connect time: p50 \(.legit.connect_ms.p50) ms, p99 \(.legit.connect_ms.p99) ms, max \(.legit.connect_ms.max) ms, \(.legit.connect_ms.over_1s) >= 1 s",
	"daemon RSS (KiB): first \(.rss_kb.first), last \(.rss_kb.last), min \(.rss_kb.min), max \(.rss_kb.max), growth \(.rss_kb.growth) (limit \(.params.rss_growth_limit_kb))",
	"daemon fds: first \(.fds.first), last \(.fds.last), min \(.fds.min), max \(.fds.max)",
	"rotations: \(.rotations.count) (epoch \(.rotations.epoch_first) -> \(.rotations.epoch_last); \(.rotations.expected) periods elapsed)",
	"floods: \(.floods.runs) generator runs (\(.floods.failed_runs) failed), \(.floods.frames) frames in \(.floods.seconds) generator-seconds, paced to \(.params.flood_pps_cap_per_generator)/s per generator in chunks of \(.params.flood_chunk)",
	(.floods.by_phase | to_entries[] | "  \(.key): \(.value.runs) runs, \(.value.frames) frames, \(.value.seconds) s, \(.value.pps) frames/s achieved"),
	"counters (totals over the soak):",
	"  " + (.counters | to_entries | map(select(.value != 0) | "\(.key)=\(.value)") | join(" ")),
	"checks: " + (.checks | to_entries | map("\(.key)=\(.value)") | join(" ")),
	"RESULT: " + (if .pass then "PASS" else "FAIL" end)' "$R"
} >"$OUT/summary.txt"
sed 's/^/  /' "$OUT/summary.txt"
log "results: $R, $OUT/summary.txt, samples: $OUT/samples.jsonl, floods: $OUT/floods.jsonl"
if [ "$(jq -r .pass "$R")" = true ]; then
	_ok "soak passed: every legitimate connection succeeded, RSS and fds flat, daemon healthy"
else
	_fail "soak: $(jq -r '.checks | to_entries | map(select(.value | not) | .key) | join(", ")' "$R")"
fi
sf_finish
