#!/bin/bash
# tests/bench/bench.sh - `make bench`: synfence against the kernel's own SYN-flood defences, side by
# side, in one run, on a veth pair between two network namespaces (sfb-srv-bench, sfb-cli-bench).
#
# Configurations of the receiver (server namespace), measured interleaved A B C D, A B C D ... for
# 1 warm-up round (excluded) + SF_BENCH_ROUNDS rounds (default 5):
#   kernel     the kernel's TCP stack with SYN cookies (tcp_syncookies=1) and nginx listening
#   synproxy   nft SYNPROXY (conntrack, tcp_loose=0) in front of the same nginx
#   floor      a minimal XDP program: SYN -> SYN-ACK without cookie (sf_synack_floor) for the SYN
#              flood, and a port filter that drops the ACKs (sf_drop_floor) for the ACK flood
#   lfloor     (ACK flood only) a port filter that looks the ACK's 4-tuple up with bpf_skc_lookup_tcp
#              like synfence, and drops it when there is no connection (sf_lookup_floor)
#   synfence   `synfence run` on the server veth, nginx behind it
# (kernel and synproxy get a trivial XDP_PASS program on the server veth, so that every
# configuration receives the generator's frames through the same veth XDP path.)
#
# For each configuration and round: a SYN flood and then a forged-ACK flood from sf_flood (flat out,
# on CPU 0; engine SF_FLOOD_ENGINE, default auto: XDP live frames where the kernel allows them, else
# its loop engine, whose XDP frames reach the receiver as live ones do; see README "Flood generator
# engines") for SF_BENCH_FLOOD_S seconds (default 2); against synfence also a
# forged-ACK flood whose ack numbers carry the cookie's current epoch bits ("ack-epoch": each ACK
# then costs synfence the full hash check, as from an attacker who has seen one of its SYN-ACKs;
# random ACKs fail the cheap epoch test 3 times in 4). The server veth's threaded
# NAPI kthread is pinned to CPU 1; everything else (generator, client-side NAPI, nginx, synfence's
# daemon, the clients) to CPU 0. Measured from the NAPI kthread's /proc/PID/schedstat runtime:
#   SYN flood: receiver CPU ns per answered SYN (answers = the veth's tx packets + tx drops)
#   ACK flood: receiver CPU ns per ACK processed (frames that entered the receiver: rx packets)
# During each flood against kernel, synproxy and synfence, SF_BENCH_CLIENTS (default 50) real
# connections (sf_connect: the client kernel's TCP, HTTP GET to nginx, one every 20 ms, 8 s
# deadline) measure legitimate service; the flood goes on until the last of them is done.
# After each measured round, `test_xdp --bench` (BPF_PROG_TEST_RUN micro-benchmarks of synfence's
# paths beside a trivial XDP_PASS program, 7 interleaved rounds of its own) runs on CPU 1 in a
# namespace of its own.
# Peacetime, after the floods: nginx's new-connection rate without a flood, synfence against a
# trivial XDP_PASS program on the server veth, interleaved for SF_BENCH_PEACE_ROUNDS rounds (default
# 5): `ab` (one connection per request, SF_BENCH_PEACE_CONC concurrent, default 128;
# SF_BENCH_PEACE_CONNS connections, default 40000) from CPU 0 against nginx and the server NAPI on
# CPU 1, twice: with the server keeping no TIME_WAIT sockets (tcp_max_tw_buckets=0, so that every
# SYN takes synfence's cookie path) and with them (4096 client ports, so that clients reuse the
# tuples of connections in TIME_WAIT and synfence passes their SYNs to the kernel).
# SF_BENCH_ENGINES="live loop reflect afxdp packet" (a subset) adds a comparison of sf_flood's engines
# after the rounds: for each, a SYN flood against the XDP SYN-ACK floor and synfence and an ACK
# flood against the XDP drop floor (reflect: SYN floods only), SF_BENCH_ENGINE_ROUNDS rounds
# (default 3) interleaved; per engine the offered rate, the generator CPU per frame and the share of
# frames the receiver got as XDP frames (not skbs).
#
# Output: a table (medians, [min-max] over the rounds, ratios and targets) on stdout; raw results
# in $BUILD/bench/results.json; chart $BUILD/bench/bench.png (gnuplot). Bounded: about 7-10 minutes
# (each flood <= SF_BENCH_FLOOD_S + 10 s; a watchdog stops the whole bench after 15 minutes).
# Touches no sysctl outside its own namespaces; removes its namespaces, pins and processes on exit.
#
# Environment: BUILD (default build), SF_BENCH_ROUNDS, SF_BENCH_FLOOD_S, SF_BENCH_CLIENTS,
# SF_BENCH_OUT (default $BUILD/bench), SF_BENCH_PROFILE=1 (after the rounds, perf profiles of the
# receiver CPU for synfence and the floors: $OUT/profile-*.txt; needs linux-perf; =keep also keeps
# the perf.data files, for perf annotate),
# SF_BENCH_REPORT_ONLY=1 (rebuild results.json, table and chart from the raw files in $OUT),
# SF_BENCH_FOREIGN_MAX (default 15) and SF_BENCH_RETRIES (default 12): a flood during which other
# work used more than that % of the receiver CPU is measured again (at most 3 attempts each, at most
# SF_BENCH_RETRIES repeats in all; the least disturbed attempt is kept),
# SF_BENCH_CONFIGS (a subset of "kernel synproxy floor lfloor synfence", for quick looks; the
# ratios need all; empty: no floods), SF_BENCH_PEACE_ROUNDS=0 (no peacetime measurement),
# SF_FLOOD_ENGINE (auto, live, loop, afxdp or packet), SF_KEEP=1 (keep the temp dir with the nginx
# and synfence logs).
set -u
cd "$(dirname "$0")/../.." || exit 1
# tests/lib.sh, quiet: its log and die on stderr (stdout is the table), no progress lines of its
# helpers; namespaces sfb-*-bench, pins under /run/sfb
SF_QUIET=1 SF_PREFIX=sfb SF_MAKE=bench
SF_TOOLS=(ip jq nft gnuplot nginx ethtool taskset bpftool awk ab)
. tests/lib.sh

OUT=${SF_BENCH_OUT:-$BUILD/bench}
ROUNDS=${SF_BENCH_ROUNDS:-5}
FLOOD_S=${SF_BENCH_FLOOD_S:-2}
CLIENTS=${SF_BENCH_CLIENTS:-50}
CLIENT_INTERVAL_MS=20
CLIENT_TIMEOUT_S=8
WATCHDOG_S=900

SRV_IF=sfb-srv
CLI_IF=sfb-cli
SRV_IFS=("$SRV_IF")
SPOOF4=198.19.0.0/16 # sf_flood's default IPv4 source prefix; sf_sink drops the answers to it
PORT=80
GEN_CPU=0
RCV_CPU=1
ENGINE=${SF_FLOOD_ENGINE:-auto}
PEACE_ROUNDS=${SF_BENCH_PEACE_ROUNDS:-5}
PEACE_CONNS=${SF_BENCH_PEACE_CONNS:-40000}
PEACE_CONC=${SF_BENCH_PEACE_CONC:-128}

SF_FLOOD=$BUILD/sf_flood
SF_CONNECT=$BUILD/sf_connect
TEST_XDP=$BUILD/test_xdp
SYNACK_FLOOR=$BUILD/sf_synack_floor.bpf.o
DROP_FLOOR=$BUILD/sf_drop_floor.bpf.o
LOOKUP_FLOOR=$BUILD/sf_lookup_floor.bpf.o
SINK=$BUILD/sf_sink.bpf.o

# SF_BENCH_REPORT_ONLY=1: only rebuild results.json, the table and the chart from the raw files of
# an earlier run in $OUT (runs.jsonl, micro.jsonl).
if [ "${SF_BENCH_REPORT_ONLY:-0}" != 1 ]; then
# ---- prerequisites ------------------------------------------------------------------------------
sf_require_root
case $ENGINE in
auto | live | loop | afxdp | packet) ;;
*) die "SF_FLOOD_ENGINE=$ENGINE: auto, live, loop, afxdp or packet (reflect sends no forged ACKs)" ;;
esac
for f in "$SYNFENCE" "$SF_FLOOD" "$SF_CONNECT" "$TEST_XDP" "$XDP_PASS" "$SYNACK_FLOOR" "$DROP_FLOOR" "$LOOKUP_FLOOR" "$SINK"; do
	[ -e "$f" ] || die "missing $f (run: make BUILD=$BUILD all)"
done
[ "$(nproc)" -ge 2 ] || die "the bench needs 2 CPUs (receiver NAPI on one, generator on the other)"
# (the lock before sf_init: its cleanup would remove the namespaces of the bench that holds it)
exec 9>/run/sfb-bench.lock
flock -n 9 || die "another bench is running (/run/sfb-bench.lock)"

# namespaces, temp dir, pin dir; sf_cleanup at the exit
sf_init bench
mkdir -p "$OUT"
RUNS=$OUT/runs.jsonl
: >"$RUNS"
: >"$OUT/micro.jsonl"
: >"$OUT/engines.jsonl"
: >"$OUT/peace.jsonl"

trap 'log "stopped by SIGTERM (the $WATCHDOG_S s watchdog?)"; exit 143' TERM
# watchdog: the whole bench is bounded
# (its own output and the lock closed, so that it never holds a pipe or the lock after the bench)
(sleep "$WATCHDOG_S" || exit 0; kill -TERM $$) >/dev/null 2>&1 9>&- &
WATCHDOG=$!
stop_watchdog() {
	pkill -TERM -P "$WATCHDOG" 2>/dev/null # its sleep
	kill "$WATCHDOG" 2>/dev/null
}
SF_AT_EXIT+=(stop_watchdog)

# ---- topology ---------------------------------------------------------------------------------
# IPv4 only; sf_sink on the client veth; threaded NAPI on both veths; a third namespace for test_xdp
sf_topo_up -4 -x "$SINK" -r "$SPOOF4" -n
UT_NS=$SF_PREFIX-ut-$SF_NAME
sf_ns_add "$UT_NS"
SRV_MAC=$(sf_srv_mac)
sf_mount_pin_root

# nginx in the server namespace, on CPU 0
NGINX_BODY="synfence bench"
sf_nginx_start -t -c "$GEN_CPU" "$PORT"

# ---- receiver configurations ------------------------------------------------------------------
# xdp_on OBJ: the XDP program in OBJ on the server veth
xdp_on() { ip -n "$SRV_NS" link set dev "$SRV_IF" xdp obj "$1" sec xdp || die "attach $(basename "$1") to $SRV_IF"; }
xdp_off() { ip -n "$SRV_NS" link set dev "$SRV_IF" xdp off 2>/dev/null; }

cfg_up() { # CONFIG FLOOD
	case $1 in
	kernel)
		xdp_on "$XDP_PASS"
		;;
	synproxy)
		xdp_on "$XDP_PASS"
		srv nft -f - <<EOF || die "nft synproxy ruleset"
table ip sfb_synproxy {
	chain prerouting {
		type filter hook prerouting priority raw; policy accept;
		tcp dport $PORT tcp flags syn notrack
	}
	chain input {
		type filter hook input priority filter; policy accept;
		tcp dport $PORT ct state invalid,untracked synproxy mss 1460 wscale 7 timestamp sack-perm
		ct state invalid drop
	}
}
EOF
		srv sysctl -qw net.netfilter.nf_conntrack_tcp_loose=0 || die "nf_conntrack_tcp_loose"
		;;
	floor)
		if [ "$2" = syn ]; then
			xdp_on "$SYNACK_FLOOR"
		else
			xdp_on "$DROP_FLOOR"
		fi
		;;
	lfloor)
		xdp_on "$LOOKUP_FLOOR"
		;;
	synfence)
		rm -rf "$PIN"
		sf_synfence_start -u -c "$GEN_CPU" "$PORT"
		;;
	esac
}

cfg_down() { # CONFIG
	case $1 in
	synproxy)
		srv nft delete table ip sfb_synproxy
		xdp_off
		;;
	synfence)
		sf_synfence_stop -q
		xdp_off
		;;
	*) xdp_off ;;
	esac
}

# NAPI kthreads: "napi/<dev>-<id>" (comm is cut at 15 characters); the newest one for the device.
napi_pid() {
	ps -eo pid,comm --sort=start_time | awk -v p="napi/$1-" 'index($2, p) == 1 { pid = $1 } END { print pid }'
}
pin_napi() { # -> sets RCV_PID
	local i
	RCV_PID=
	for i in $(seq 50); do
		RCV_PID=$(napi_pid "$SRV_IF")
		[ -n "$RCV_PID" ] && break
		sleep 0.05
	done
	[ -n "$RCV_PID" ] || die "no NAPI kthread for $SRV_IF (threaded NAPI)"
	taskset -pc "$RCV_CPU" "$RCV_PID" >/dev/null || die "cannot pin $RCV_PID to CPU $RCV_CPU"
	local c
	c=$(napi_pid "$CLI_IF")
	[ -n "$c" ] && taskset -pc "$GEN_CPU" "$c" >/dev/null
}

# cpu_busy CPU: "busy_ns total_ns irq_ns" of a CPU so far, from /proc/stat (irq_ns: hard and soft
# interrupt time, which no process's runtime has when it interrupted the idle task)
cpu_busy() {
	awk -v c="cpu$1" -v hz="$(getconf CLK_TCK)" '$1 == c {
		t = 0; for (i = 2; i <= 9; i++) t += $i
		printf "%.0f %.0f %.0f", (t - $5 - $6) * 1e9 / hz, t * 1e9 / hz, ($7 + $8) * 1e9 / hz }' /proc/stat
}
# runtime PID...: the CPU time (ns) of these processes so far, from /proc/PID/schedstat
runtime() {
	local p t=0 r
	for p in "$@"; do
		r=$(awk '{ print $1 }' "/proc/$p/schedstat" 2>/dev/null)
		t=$((t + ${r:-0}))
	done
	echo "$t"
}
# frames the server veth got as XDP frames (XDP_TX and redirects from the client veth's side, not
# skbs that veth copies into pages for the XDP program)
xdp_frames_in() {
	cli ethtool -S "$CLI_IF" | awk '$1 ~ /^(tx_queue_[0-9]+_xdp_xmit|rx_queue_[0-9]+_xdp_tx):$/ { s += $2 } END { print s + 0 }'
}

# snapshot: "napi_runtime_ns rx_packets rx_dropped tx_packets tx_dropped cpu_busy_ns cpu_total_ns
# gen_cpu_busy_ns xdp_frames_in" (cpu_*: the receiver CPU's busy and total time from /proc/stat;
# gen_cpu_busy_ns: the generator CPU's busy time)
snap() {
	ip -n "$SRV_NS" -s -j link show "$SRV_IF" |
		jq -r --arg rt "$(runtime "$RCV_PID")" --arg b "$(cpu_busy "$RCV_CPU" | cut -d' ' -f1-2)" \
			--arg g "$(cpu_busy "$GEN_CPU" | cut -d' ' -f1)" --arg x "$(xdp_frames_in)" \
			'.[0].stats64 | "\($rt) \(.rx.packets) \(.rx.dropped) \(.tx.packets) \(.tx.dropped) \($b) \($g) \($x)"'
}

# measure ROUND CONFIG FLOOD: measure_once, repeated (up to 2 more times, at most RETRY_BUDGET
# repeats per bench) while other work took more than FOREIGN_MAX % of the receiver CPU: other
# people's jobs on a shared machine disturb the per-packet costs; the least disturbed attempt stays.
# (retried FUNC ARGS...: the same for another function that appends one line with foreign_load_pct
# to $RUNS.)
FOREIGN_MAX=${SF_BENCH_FOREIGN_MAX:-15}
RETRY_BUDGET=${SF_BENCH_RETRIES:-12}
measure() { retried measure_once "$@"; }
retried() {
	local a best="" bestf=101 f line
	for a in 1 2 3; do
		"$@"
		line=$(tail -n 1 "$RUNS")
		sed -i '$d' "$RUNS"
		f=$(jq -r '.foreign_load_pct // 0 | floor' <<<"$line")
		if [ "$f" -lt "$bestf" ]; then best=$(jq -c --argjson a "$a" '. + {attempt: $a}' <<<"$line"); bestf=$f; fi
		[ "$f" -le "$FOREIGN_MAX" ] && break
		[ "$RETRY_BUDGET" -gt 0 ] || break
		[ "$a" -lt 3 ] && { RETRY_BUDGET=$((RETRY_BUDGET - 1)); log "  (other work took $f % of CPU $RCV_CPU: measuring again)"; }
	done
	echo "$best" >>"$RUNS"
}

# gen_mode FLOOD: the generator's -m (GEN_MODE) and extra options (GEN_EXTRA) for a flood name
gen_mode() {
	GEN_MODE=$1
	GEN_EXTRA=()
	if [ "$1" = ack-epoch ]; then
		local ep
		ep=$(bpftool -j map dump pinned "$PIN/sf_secrets" 2>/dev/null | jq -r '.[0].formatted.value.epoch // empty')
		[ -n "$ep" ] || die "cannot read synfence's epoch from $PIN/sf_secrets"
		GEN_MODE=ack
		GEN_EXTRA=(-K "$(((ep & 3) << 9))/0x600")
	fi
}

# measure_once ROUND CONFIG FLOOD: one flood against the current configuration; appends a JSON line.
# FLOOD: syn, ack, or ack-epoch (forged ACKs whose cookie epoch bits are right: synfence only).
measure_once() {
	local round=$1 cfg=$2 flood=$3 clients=0
	gen_mode "$flood"
	case $cfg in kernel | synproxy | synfence) [ "$CLIENTS" -gt 0 ] && clients=1 ;; esac
	pin_napi
	local rst0 ck0
	rst0=$(sf_nstat "$SRV_NS" TcpOutRsts)
	ck0=$(sf_nstat "$SRV_NS" TcpExtSyncookiesSent)
	local sf0='{}' sf1='{}' ks0 ks1
	ks0=$(srv nstat -asz -j 2>/dev/null | jq -c '.kernel // {}')
	[ "$cfg" = synfence ] && sf0=$(srv "$SYNFENCE" stats -j --pin-dir "$PIN" 2>/dev/null | jq -c '.total // {}')
	read -r rt0 rx0 rxd0 tx0 txd0 cb0 ct0 gb0 xf0 <<<"$(snap)"
	local t0 gen_pid cpid=""
	t0=$(date +%s.%N)
	# ip netns exec and taskset exec: $! is sf_flood itself
	ip netns exec "$CLI_NS" taskset -c "$GEN_CPU" "$SF_FLOOD" -E "$ENGINE" -i "$CLI_IF" -M "$SRV_MAC" -D "$SRV4" \
		-p "$PORT" -m "$GEN_MODE" "${GEN_EXTRA[@]}" -n 4000000000 -T $((FLOOD_S + CLIENT_TIMEOUT_S + 3)) \
		-c "$GEN_CPU" -j >"$TMPD/gen.json" 2>"$TMPD/gen.err" &
	gen_pid=$!
	sf_track_pid "$gen_pid"
	if [ $clients = 1 ]; then
		sleep 0.2 # the flood is on
		cli taskset -c "$GEN_CPU" "$SF_CONNECT" -D "$SRV4" -p "$PORT" -n "$CLIENTS" \
			-i "$CLIENT_INTERVAL_MS" -t "$CLIENT_TIMEOUT_S" -j >"$TMPD/clients.json" 2>&1
	fi
	# the flood lasts FLOOD_S seconds, or until the last client is done
	local left
	left=$(awk -v a="$t0" -v b="$(date +%s.%N)" -v f="$FLOOD_S" 'BEGIN { d = f - (b - a); print (d > 0 ? d : 0) }')
	sleep "$left"
	kill -INT "$gen_pid" 2>/dev/null
	wait "$gen_pid"
	sleep 0.3 # let the receiver drain its ring
	read -r rt1 rx1 rxd1 tx1 txd1 cb1 ct1 gb1 xf1 <<<"$(snap)"
	local rst1 ck1
	rst1=$(sf_nstat "$SRV_NS" TcpOutRsts)
	ck1=$(sf_nstat "$SRV_NS" TcpExtSyncookiesSent)
	ks1=$(srv nstat -asz -j 2>/dev/null | jq -c '.kernel // {}')
	jq -e . >/dev/null 2>&1 <<<"$ks0" || ks0='{}'
	jq -e . >/dev/null 2>&1 <<<"$ks1" || ks1='{}'
	[ "$cfg" = synfence ] && sf1=$(srv "$SYNFENCE" stats -j --pin-dir "$PIN" 2>/dev/null | jq -c '.total // {}')
	jq -e . >/dev/null 2>&1 <<<"$sf0" || sf0='{}'
	jq -e . >/dev/null 2>&1 <<<"$sf1" || sf1='{}'
	local gen cl=null
	gen=$(cat "$TMPD/gen.json" 2>/dev/null)
	jq -e . >/dev/null 2>&1 <<<"$gen" || die "sf_flood failed: $(cat "$TMPD/gen.err")"
	if [ $clients = 1 ]; then
		cl=$(jq -c 'del(.connect_ms_all) + {connect_ms_all: .connect_ms_all}' "$TMPD/clients.json" 2>/dev/null) ||
			die "sf_connect failed: $(cat "$TMPD/clients.json")"
	fi
	jq -nc --argjson round "$round" --arg cfg "$cfg" --arg flood "$flood" --argjson gen "$gen" \
		--argjson cl "$cl" --argjson rt "$((rt1 - rt0))" --argjson rx "$((rx1 - rx0))" \
		--argjson rxd "$((rxd1 - rxd0))" --argjson tx "$((tx1 - tx0))" --argjson txd "$((txd1 - txd0))" \
		--argjson rst "$((rst1 - rst0))" --argjson ck "$((ck1 - ck0))" \
		--argjson sf0 "$sf0" --argjson sf1 "$sf1" --argjson ks0 "$ks0" --argjson ks1 "$ks1" \
		--argjson cbusy "$((cb1 - cb0))" --argjson ctot "$((ct1 - ct0))" \
		--argjson gbusy "$((gb1 - gb0))" --argjson xf "$((xf1 - xf0))" \
		'{round: $round, warmup: ($round == 0), config: $cfg, flood: $flood,
		  napi_runtime_ns: $rt, rx_packets: $rx, rx_ring_dropped: $rxd, tx_packets: $tx,
		  tx_dropped: $txd, answered: ($tx + $txd), kernel_rsts: $rst, kernel_syncookies: $ck,
		  generator: $gen,
		  generator_cpu_ns_per_frame: (if $gen.sent > 0 then $gbusy / $gen.sent else null end),
		  xdp_frames_pct: (if $rx > 0 then ([$xf * 100 / $rx, 100] | min) else null end),
		  receiver_cpu_busy_pct: (if $ctot > 0 then $cbusy * 100 / $ctot else null end),
		  foreign_load_pct: (if $ctot > 0 then ([($cbusy - $rt) * 100 / $ctot, 0] | max) else null end),
		  ns_per_answered: (if $tx + $txd > 0 then $rt / ($tx + $txd) else null end),
		  ns_per_packet: (if $rx > 0 then $rt / $rx else null end),
		  receiver_mpps: (if $gen.seconds > 0 then $rx / $gen.seconds / 1e6 else null end),
		  clients: $cl,
		  server_kernel_counters: ($ks1 | with_entries(select(.key | test("^(Tcp|TcpExt)"))
			| .value -= ($ks0[.key] // 0) | select(.value != 0))),
		  synfence_counters: (if $sf1 == {} then null else
			($sf1 | with_entries(select(.value | type == "number") | .value -= ($sf0[.key] // 0)
			| select(.value != 0))) end)}' >>"$RUNS"
	tail -n 1 "$RUNS" | jq -r '"  \(.config) \(.flood): \(.generator.pps / 1e6 | . * 100 | round / 100) Mpps offered, receiver \(.rx_packets) frames (\(.rx_ring_dropped) lost at its ring), \(.answered) answers, \(if .flood == "syn" then .ns_per_answered else .ns_per_packet end | if . == null then "-" else (. | round | tostring) end) ns/\(if .flood == "syn" then "answered SYN" else "ACK" end), other load on CPU 1 \(.foreign_load_pct // 0 | round)%\(if .clients then ", clients \(.clients.ok)/\(.clients.n) ok, p50 \(.clients.connect_ms.p50) ms, p99 \(.clients.connect_ms.p99) ms" else "" end)"' >&2
}

micro() { # ROUND
	local out=$TMPD/micro.$1.txt
	ip netns exec "$UT_NS" taskset -c "$RCV_CPU" "$TEST_XDP" --bench >"$out" 2>&1 ||
		{ log "test_xdp --bench failed: $(tail -3 "$out")"; return 0; }
	# table rows: path (16 columns), method (14 columns), ns/pkt, XDP_PASS ns/pkt, net, ratio, wall
	awk -v r="$1" '
		/^path +method/ { on = 1; next }
		on && NF == 0 { exit }
		on {
			path = substr($0, 1, 16); sub(/ +$/, "", path)
			method = substr($0, 18, 14); sub(/ +$/, "", method)
			n = split(substr($0, 32), f, " ")
			printf "{\"round\":%d,\"path\":\"%s\",\"method\":\"%s\",\"ns\":%s,\"pass_ns\":%s,\"net_ns\":%s,\"ratio\":%s}\n", r, path, method, f[1], f[2], f[3], f[4]
		}' "$out" >>"$OUT/micro.jsonl"
	log "  micro-benchmarks: $(grep -c "\"round\":$1," "$OUT/micro.jsonl") rows"
}

# profile CONFIG FLOOD: perf (cpu-clock sampling of the receiver CPU) during one flood; the report
# (symbols above 0.5 %) goes to $OUT/profile-CONFIG-FLOOD.txt
profile() {
	local cfg=$1 flood=$2 f=$OUT/profile-$1-$2 gen_pid
	cfg_up "$cfg" "${flood%-epoch}"
	pin_napi
	gen_mode "$flood"
	ip netns exec "$CLI_NS" taskset -c "$GEN_CPU" "$SF_FLOOD" -E "$ENGINE" -i "$CLI_IF" -M "$SRV_MAC" -D "$SRV4" \
		-p "$PORT" -m "$GEN_MODE" "${GEN_EXTRA[@]}" -n 4000000000 -T $((FLOOD_S + 2)) -c "$GEN_CPU" -j >"$f.gen.json" 2>/dev/null 9>&- &
	gen_pid=$!
	sf_track_pid "$gen_pid"
	sleep 0.3
	# only the receiver's NAPI kthread (other work on its CPU is not the receiver's)
	perf record -q -e cpu-clock -F 4999 -t "$RCV_PID" -g -o "$f.data" -- sleep "$FLOOD_S" >/dev/null 2>&1 9>&-
	kill -INT "$gen_pid" 2>/dev/null
	wait "$gen_pid"
	{
		echo "# perf record -e cpu-clock -t <the receiver's NAPI kthread> during a $flood flood against $cfg ($FLOOD_S s)"
		echo "# generator: $(cat "$f.gen.json")"
		if [ "$cfg" = synfence ]; then
			echo "# synfence's programs (bpftool prog show: xlated/jited bytes):"
			local id
			for id in $(awk '$1 == "prog_id:" { print $2 }' /proc/"$SF_PID"/fdinfo/* 2>/dev/null | sort -un); do
				bpftool -j prog show id "$id" 2>/dev/null |
					jq -r '"#   \(.name) id \(.id): xlated \(.bytes_xlated) B, jited \(.bytes_jited) B"'
			done
		fi
		perf report -i "$f.data" --stdio --no-children --sort sym --percent-limit 0.5 -g none 2>/dev/null |
			grep -v '^$' | grep -v '^# *$'
	} >"$f.txt"
	[ "${SF_BENCH_PROFILE:-0}" = keep ] || rm -f "$f.data"
	rm -f "$f.data.old" "$f.gen.json"
	cfg_down "$cfg"
	log "  profile: $f.txt"
}

# engines: sf_flood's engines side by side (SF_BENCH_ENGINES), each flooding the XDP floors and
# synfence (with its legitimate clients); lines in $OUT/engines.jsonl
engines() {
	local round e
	read -r -a ENGINES <<<"$SF_BENCH_ENGINES"
	log "sf_flood's engines: ${ENGINES[*]}, $ENGINE_ROUNDS rounds"
	for round in $(seq 1 "$ENGINE_ROUNDS"); do
		for e in "${ENGINES[@]}"; do
			ENGINE=$e RUNS=$OUT/engines.jsonl
			cfg_up floor syn
			measure "$round" floor syn
			cfg_down floor
			if [ "$e" != reflect ]; then # reflect needs answers: SYN floods only
				cfg_up floor ack
				measure "$round" floor ack
				cfg_down floor
			fi
			cfg_up synfence syn
			measure "$round" synfence syn
			cfg_down synfence
		done
	done
	ENGINE=${SF_FLOOD_ENGINE:-auto} RUNS=$OUT/runs.jsonl
}

# ---- peacetime ---------------------------------------------------------------------------------
# peace_once ROUND VARIANT CONFIG: PEACE_CONNS connections from ab (one request each, PEACE_CONC at
# a time, on CPU 0) to nginx (its worker on CPU 1, with the server NAPI) behind CONFIG (pass: a
# trivial XDP_PASS program; synfence); appends a JSON line to $RUNS. VARIANT: notw (the server keeps
# no TIME_WAIT sockets) or tw (it does, and 4096 client ports make clients reuse their tuples).
peace_once() {
	local round=$1 variant=$2 cfg=$3 sf0='{}' sf1='{}' w
	if [ "$variant" = notw ]; then
		srv sysctl -qw net.ipv4.tcp_max_tw_buckets=0
		cli sysctl -qw net.ipv4.ip_local_port_range="32768 60999"
	else
		srv sysctl -qw net.ipv4.tcp_max_tw_buckets="$tw_kept"
		cli sysctl -qw net.ipv4.ip_local_port_range="40000 44095"
	fi
	if [ "$cfg" = pass ]; then
		xdp_on "$XDP_PASS"
	else
		cfg_up synfence syn
		sf0=$(srv "$SYNFENCE" stats -j --pin-dir "$PIN" 2>/dev/null | jq -c '.total // {}')
	fi
	pin_napi
	w=$(pgrep -P "$NGINX_PID" nginx | tr '\n' ' ') # its workers
	local rt0 rt1 cb0 ct0 ci0 cb1 ct1 ci1 ao0 ao1 sr0 sr1 lp0 lp1 po0 po1
	ao0=$(sf_nstat "$CLI_NS" TcpActiveOpens)
	sr0=$(sf_nstat "$CLI_NS" TcpExtTCPSynRetrans)
	lp0=$(sf_nstat "$CLI_NS" TcpExtTCPLossProbes)
	po0=$(sf_nstat "$SRV_NS" TcpPassiveOpens)
	read -r cb0 ct0 ci0 <<<"$(cpu_busy "$RCV_CPU")"
	# shellcheck disable=SC2086
	rt0=$(runtime "$RCV_PID" $w)
	timeout 120 ip netns exec "$CLI_NS" taskset -c "$GEN_CPU" ab -q -r -s 10 -c "$PEACE_CONC" \
		-n "$PEACE_CONNS" "http://$SRV4:$PORT/" >"$TMPD/ab.out" 2>&1 9>&-
	# shellcheck disable=SC2086
	rt1=$(runtime "$RCV_PID" $w)
	read -r cb1 ct1 ci1 <<<"$(cpu_busy "$RCV_CPU")"
	ao1=$(sf_nstat "$CLI_NS" TcpActiveOpens)
	sr1=$(sf_nstat "$CLI_NS" TcpExtTCPSynRetrans)
	lp1=$(sf_nstat "$CLI_NS" TcpExtTCPLossProbes)
	po1=$(sf_nstat "$SRV_NS" TcpPassiveOpens)
	if [ "$cfg" = synfence ]; then
		sf1=$(srv "$SYNFENCE" stats -j --pin-dir "$PIN" 2>/dev/null | jq -c '.total // {}')
		cfg_down synfence
	else
		xdp_off
	fi
	local done failed secs aborted=
	done=$(awk '/^Complete requests:/ { print $3 }' "$TMPD/ab.out")
	failed=$(awk '/^Failed requests:/ { print $3 }' "$TMPD/ab.out")
	secs=$(awk '/^Time taken for tests:/ { print $5 }' "$TMPD/ab.out")
	if [ -z "$done" ] || [ -z "$secs" ]; then
		# ab gives up when one connection has had no progress for 10 s (-s): a result too
		aborted=$(grep -m 1 -E '^(apr_|Test aborted)' "$TMPD/ab.out")
		done=$(sed -n 's/^Total of \([0-9]*\) requests completed.*/\1/p' "$TMPD/ab.out")
		[ -n "$done" ] || die "ab failed: $(tail -3 "$TMPD/ab.out")"
		log "  ab gave up after $done connections: $aborted"
		failed=$((PEACE_CONNS - done)) secs=null
	fi
	jq -nc --argjson round "$round" --arg variant "$variant" --arg cfg "$cfg" --argjson done "$done" \
		--argjson failed "$failed" --argjson secs "$secs" --arg aborted "$aborted" --argjson rt "$((rt1 - rt0))" \
		--argjson cbusy "$((cb1 - cb0 - (ci1 - ci0)))" --argjson ctot "$((ct1 - ct0))" \
		--argjson ao "$((ao1 - ao0))" --argjson sr "$((sr1 - sr0))" --argjson lp "$((lp1 - lp0))" \
		--argjson po "$((po1 - po0))" \
		--argjson sf0 "$sf0" --argjson sf1 "$sf1" \
		'{round: $round, variant: $variant, config: $cfg, connections: $done, failed: $failed,
		  ab_gave_up: (if $aborted == "" then null else $aborted end),
		  seconds: $secs, rate: (if $secs then $done / $secs else null end), server_ns_per_conn: (if $done > 0 then $rt / $done else null end),
		  foreign_load_pct: (if $ctot > 0 then ([($cbusy - $rt) * 100 / $ctot, 0] | max) else null end),
		  client_active_opens: $ao, client_syn_retrans: $sr, client_loss_probes: $lp,
		  server_passive_opens: $po,
		  synfence_counters: (if $sf1 == {} then null else
			($sf1 | with_entries(select(.value | type == "number") | .value -= ($sf0[.key] // 0)
			| select(.value != 0))) end)}' >>"$RUNS"
	tail -n 1 "$RUNS" | jq -r '"  \(.variant) \(.config): \(.rate // 0 | round) connections/s (\(.connections) in \(.seconds) s, \(.failed) failed), server \(.server_ns_per_conn | round) ns/connection, \(.client_syn_retrans) SYN retransmissions, \(.client_loss_probes) loss probes\(if .synfence_counters then ", handoff_ok \(.synfence_counters.handoff_ok // 0), syn_pass_existing \(.synfence_counters.syn_pass_existing // 0)" else "" end)"' >&2
}

peacetime() {
	local round variant cfg
	local p tw_kept
	log "peacetime: ab -c $PEACE_CONC, $PEACE_CONNS connections, XDP_PASS vs synfence, $PEACE_ROUNDS rounds"
	tw_kept=$(srv sysctl -n net.ipv4.tcp_max_tw_buckets)
	# nginx beside the server NAPI, on CPU 1: the server's CPU is the one measured
	for p in "$NGINX_PID" $(pgrep -P "$NGINX_PID"); do taskset -apc "$RCV_CPU" "$p" >/dev/null; done
	for round in $(seq 1 "$PEACE_ROUNDS"); do
		for variant in notw tw; do
			for cfg in pass synfence; do
				RUNS=$OUT/peace.jsonl retried peace_once "$round" "$variant" "$cfg"
			done
		done
	done
	for p in "$NGINX_PID" $(pgrep -P "$NGINX_PID"); do taskset -apc "$GEN_CPU" "$p" >/dev/null; done
	srv sysctl -qw net.ipv4.tcp_max_tw_buckets="$tw_kept"
	cli sysctl -qw net.ipv4.ip_local_port_range="32768 60999"
}

# ---- the run ----------------------------------------------------------------------------------
ENGINE_ROUNDS=${SF_BENCH_ENGINE_ROUNDS:-3}
read -r -a CONFIGS <<<"${SF_BENCH_CONFIGS-kernel synproxy floor lfloor synfence}"
log "bench: ${#CONFIGS[@]} configurations x (SYN flood, ACK flood), 1 warm-up + $ROUNDS rounds, floods of ${FLOOD_S} s,"
log "       $CLIENTS clients per flood; receiver NAPI on CPU $RCV_CPU, generator on CPU $GEN_CPU; results in $OUT"
T_START=$(date +%s)
for round in $(seq 0 "$ROUNDS"); do
	log "round $round$([ "$round" = 0 ] && echo ' (warm-up, excluded)')"
	for cfg in "${CONFIGS[@]}"; do
		if [ "$cfg" = floor ]; then # two programs: SYN-ACK floor, then drop floor
			for flood in syn ack; do
				cfg_up "$cfg" "$flood"
				measure "$round" "$cfg" "$flood"
				cfg_down "$cfg"
			done
		elif [ "$cfg" = lfloor ]; then # ACK floods only
			cfg_up "$cfg" ack
			measure "$round" "$cfg" ack
			cfg_down "$cfg"
		else
			cfg_up "$cfg" syn
			measure "$round" "$cfg" syn
			measure "$round" "$cfg" ack
			[ "$cfg" = synfence ] && measure "$round" "$cfg" ack-epoch
			cfg_down "$cfg"
		fi
	done
	[ "$round" -gt 0 ] && micro "$round"
done
[ "$PEACE_ROUNDS" -gt 0 ] && peacetime
[ -n "${SF_BENCH_ENGINES:-}" ] && engines
T_END=$(date +%s)
# optional: where the receiver's cycles go (needs perf; about 15 s)
if [ "${SF_BENCH_PROFILE:-0}" = 1 ] || [ "${SF_BENCH_PROFILE:-0}" = keep ]; then
	if command -v perf >/dev/null && perf record -q -e cpu-clock -o /dev/null -- true >/dev/null 2>&1; then
		log "profiles (perf, cpu-clock samples of the receiver's NAPI kthread)"
		for p in "synfence syn" "floor syn" "synfence ack" "synfence ack-epoch" "floor ack" "lfloor ack"; do
			# shellcheck disable=SC2086
			profile $p
		done
	else
		log "SF_BENCH_PROFILE=1: perf is not available (Debian: linux-perf), no profiles"
	fi
fi
jq -n --argjson r "$ROUNDS" --argjson f "$FLOOD_S" --argjson c "$CLIENTS" --argjson s "$((T_END - T_START))" \
	'{rounds: $r, flood_s: $f, clients: $c, seconds: $s}' >"$OUT/meta.json"

else
	TMPD=$(mktemp -d /tmp/sfb-bench.XXXXXX) || exit 1
	trap 'rm -rf "$TMPD"' EXIT
	RUNS=$OUT/runs.jsonl
	[ -r "$OUT/meta.json" ] || { echo "no $OUT/meta.json: nothing to report" >&2; exit 1; }
	ROUNDS=$(jq .rounds "$OUT/meta.json")
	FLOOD_S=$(jq .flood_s "$OUT/meta.json")
	CLIENTS=$(jq .clients "$OUT/meta.json")
	T_START=0
	T_END=$(jq .seconds "$OUT/meta.json")
fi

# ---- results ------------------------------------------------------------------------------------
MACHINE=$(jq -n --arg k "$(uname -r)" --arg cpu "$(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)" \
	--argjson n "$(nproc)" --arg mem "$(awk '/MemTotal/ { print $2 " kB" }' /proc/meminfo)" \
	--arg virt "$(systemd-detect-virt 2>/dev/null || echo unknown)" \
	'{kernel: $k, cpu: $cpu, cpus: $n, memory: $mem, virtualization: $virt}')
for f in engines peace; do [ -e "$OUT/$f.jsonl" ] || : >"$OUT/$f.jsonl"; done
jq -n --slurpfile runs "$RUNS" --slurpfile micro "$OUT/micro.jsonl" --argjson machine "$MACHINE" \
	--slurpfile engines "$OUT/engines.jsonl" --slurpfile peace "$OUT/peace.jsonl" \
	--argjson rounds "$ROUNDS" --argjson flood_s "$FLOOD_S" --argjson clients "$CLIENTS" \
	--argjson secs "$((T_END - T_START))" --arg date "$(date -u +%FT%TZ)" \
	--arg commit "$(git -C "$SF_SRC" describe --always --dirty 2>/dev/null || echo unknown)" -f /dev/stdin \
	>"$OUT/results.json" <<'JQ' || die "building results.json"
def med: sort | if length == 0 then null elif length % 2 == 1 then .[length / 2 | floor]
	 else (.[length / 2 - 1] + .[length / 2]) / 2 end;
def stat: {median: med, min: min, max: max, n: length};
def pctl(p): sort | if length == 0 then null else .[((p / 100 * length) | ceil) - 1] end;
def engine_what: {live: "XDP live frames (BPF_PROG_TEST_RUN) returning XDP_TX",
	loop: "XDP frames circulating on a veth pair of its own, 8 copies per pass to the client veth",
	reflect: "the receiver's answers turned into new SYNs by an XDP program on the client veth",
	afxdp: "AF_XDP socket, copy mode (the receiver gets skbs)",
	packet: "AF_PACKET sendmmsg, qdisc bypass (the receiver gets skbs)"}[.] // "?";
def sumf(f): map(f // 0) | add // 0;
($runs | map(select(.warmup | not))) as $m
| def metric($cfg; $flood; f): [$m[] | select(.config == $cfg and .flood == $flood) | f] | map(select(. != null)) | stat;
  def paired($a; $b; $flood; f): [range(1; $rounds + 1) as $r
      | ([$m[] | select(.round == $r and .config == $a and .flood == $flood) | f][0]) as $x
      | ([$m[] | select(.round == $r and .config == $b and .flood == $flood) | f][0]) as $y
      | if $x != null and $y != null and $y != 0 then $x / $y else empty end] | stat;
  def clients($cfg; $flood): [$m[] | select(.config == $cfg and .flood == $flood and .clients != null) | .clients] as $c
      | if ($c | length) == 0 then null else
        ([$c[] | .connect_ms_all[]]) as $all
        | ([$c[] | .n] | add) as $n | ([$c[] | .ok] | add) as $ok
        | {n: $n, ok: $ok, success_pct: ($ok * 100 / $n),
           connect_ms_p50: ([$all[] | select(. >= 0)] | pctl(50)),
           connect_ms_p99: ([$all[] | select(. >= 0)] | pctl(99)),
           connect_ms_max: ([$all[] | select(. >= 0)] | max),
           never_connected: ([$all[] | select(. < 0)] | length)} end;
{
  date: $date, commit: $commit, machine: $machine, seconds: $secs,
  method: {rounds: $rounds, warmup_rounds: 1, flood_seconds: $flood_s, clients_per_flood: $clients,
           order: "per round: kernel, synproxy, floor, lfloor (ACK only), synfence; each a SYN flood then an ACK flood",
           receiver_cpu: "threaded NAPI kthread of the server veth, /proc/PID/schedstat runtime, pinned to CPU 1",
           generator: (([$runs[] | .generator.engine // "live"] | unique
             | map("sf_flood engine \(.): \(engine_what)") | join("; ")) + ", flat out on CPU 0"),
           generator_engines: ([$runs[] | .generator.engine // "live"] | unique),
           answered: "server veth tx packets + tx drops (SYN-ACKs produced, also when the client ring was full)"},
  foreign_load_pct: ([$m[] | .foreign_load_pct | select(. != null)] | stat),
  syn: ([ "kernel", "synproxy", "floor", "synfence" ] | map({key: ., value: {
          ns_per_answered_syn: metric(.; "syn"; .ns_per_answered),
          receiver_mpps: metric(.; "syn"; .receiver_mpps),
          offered_mpps: metric(.; "syn"; .generator.pps / 1e6),
          ring_loss_pct: metric(.; "syn"; if .rx_packets + .rx_ring_dropped > 0 then .rx_ring_dropped * 100 / (.rx_packets + .rx_ring_dropped) else null end),
          clients: clients(.; "syn")}}) | from_entries),
  ack: ([ "kernel", "synproxy", "floor", "lfloor", "synfence" ] | map({key: ., value: {
          ns_per_ack: metric(.; "ack"; .ns_per_packet),
          receiver_mpps: metric(.; "ack"; .receiver_mpps),
          offered_mpps: metric(.; "ack"; .generator.pps / 1e6),
          ring_loss_pct: metric(.; "ack"; if .rx_packets + .rx_ring_dropped > 0 then .rx_ring_dropped * 100 / (.rx_packets + .rx_ring_dropped) else null end),
          rsts_per_ack: metric(.; "ack"; if .rx_packets > 0 then .kernel_rsts / .rx_packets else null end),
          clients: clients(.; "ack")}}) | from_entries),
  ack_epoch: {synfence: {
          ns_per_ack: metric("synfence"; "ack-epoch"; .ns_per_packet),
          receiver_mpps: metric("synfence"; "ack-epoch"; .receiver_mpps),
          offered_mpps: metric("synfence"; "ack-epoch"; .generator.pps / 1e6),
          ring_loss_pct: metric("synfence"; "ack-epoch"; if .rx_packets + .rx_ring_dropped > 0 then .rx_ring_dropped * 100 / (.rx_packets + .rx_ring_dropped) else null end),
          clients: clients("synfence"; "ack-epoch")}},
  ratios: {
    syn_synfence_over_floor: paired("synfence"; "floor"; "syn"; .ns_per_answered),
    syn_kernel_over_synfence: paired("kernel"; "synfence"; "syn"; .ns_per_answered),
    syn_synproxy_over_synfence: paired("synproxy"; "synfence"; "syn"; .ns_per_answered),
    ack_synfence_over_floor: paired("synfence"; "floor"; "ack"; .ns_per_packet),
    ack_synfence_over_lookup_floor: paired("synfence"; "lfloor"; "ack"; .ns_per_packet),
    ack_lookup_floor_over_floor: paired("lfloor"; "floor"; "ack"; .ns_per_packet),
    ack_epoch_synfence_over_floor: ([range(1; $rounds + 1) as $r
      | ([$m[] | select(.round == $r and .config == "synfence" and .flood == "ack-epoch") | .ns_per_packet][0]) as $x
      | ([$m[] | select(.round == $r and .config == "floor" and .flood == "ack") | .ns_per_packet][0]) as $y
      | if $x != null and $y != null and $y != 0 then $x / $y else empty end] | stat),
    ack_epoch_synfence_over_lookup_floor: ([range(1; $rounds + 1) as $r
      | ([$m[] | select(.round == $r and .config == "synfence" and .flood == "ack-epoch") | .ns_per_packet][0]) as $x
      | ([$m[] | select(.round == $r and .config == "lfloor" and .flood == "ack") | .ns_per_packet][0]) as $y
      | if $x != null and $y != null and $y != 0 then $x / $y else empty end] | stat),
    ack_kernel_over_synfence: paired("kernel"; "synfence"; "ack"; .ns_per_packet),
    ack_synproxy_over_synfence: paired("synproxy"; "synfence"; "ack"; .ns_per_packet)
  },
  engines: ($engines | group_by(.generator.engine) | map(.[0].generator.engine as $e | {key: $e, value: {
          what: ($e | engine_what),
          floods: (group_by(.config + " " + .flood) | map({key: (.[0].config + " " + .[0].flood), value: {
            offered_mpps: ([.[].generator.pps / 1e6] | stat),
            receiver_mpps: ([.[].receiver_mpps | select(. != null)] | stat),
            ring_loss_pct: ([.[] | select(.rx_packets + .rx_ring_dropped > 0) | .rx_ring_dropped * 100 / (.rx_packets + .rx_ring_dropped)] | stat),
            xdp_frames_pct: ([.[].xdp_frames_pct | select(. != null)] | stat),
            generator_cpu_ns_per_frame: ([.[].generator_cpu_ns_per_frame | select(. != null)] | stat),
            receiver_ns: ([.[] | if .flood == "syn" then .ns_per_answered else .ns_per_packet end | select(. != null)] | stat),
            clients: ([.[] | .clients | select(. != null)] | if length == 0 then null
                      else {n: sumf(.n), ok: sumf(.ok), connect_ms_p99: ([.[].connect_ms_all[] | select(. >= 0)] | pctl(99))} end)}})
            | from_entries)}}) | from_entries),
  peacetime: (["notw", "tw"] | map(. as $v | [$peace[] | select(.variant == $v)] as $p
      | select($p | length > 0) | {key: $v, value: {
          server_time_wait: (if $v == "notw" then "none (tcp_max_tw_buckets=0): every SYN takes the cookie path"
                             else "kept, clients reuse their tuples (4096 ports): SYNs for them are passed to the kernel" end),
          pass: {rate: ([$p[] | select(.config == "pass") | .rate | select(. != null)] | stat),
                 server_ns_per_conn: ([$p[] | select(.config == "pass") | .server_ns_per_conn] | stat),
                 client_syn_retrans: ([$p[] | select(.config == "pass")] | sumf(.client_syn_retrans)),
                 client_loss_probes: ([$p[] | select(.config == "pass")] | sumf(.client_loss_probes))},
          synfence: {rate: ([$p[] | select(.config == "synfence") | .rate | select(. != null)] | stat),
                 server_ns_per_conn: ([$p[] | select(.config == "synfence") | .server_ns_per_conn] | stat),
                 client_syn_retrans: ([$p[] | select(.config == "synfence")] | sumf(.client_syn_retrans)),
                 client_loss_probes: ([$p[] | select(.config == "synfence")] | sumf(.client_loss_probes))},
          rate_ratio: ([$p[] | select(.config == "synfence") | . as $s
              | ([$p[] | select(.config == "pass" and .round == $s.round) | .rate][0]) as $b
              | if $b and $s.rate then $s.rate / $b else empty end] | stat),
          server_cpu_ratio: ([$p[] | select(.config == "synfence") | . as $s
              | ([$p[] | select(.config == "pass" and .round == $s.round) | .server_ns_per_conn][0]) as $b
              | if $b then $s.server_ns_per_conn / $b else empty end] | stat),
          ab_gave_up: {pass: [$p[] | select(.config == "pass" and .ab_gave_up != null)] | length,
                       synfence: [$p[] | select(.config == "synfence" and .ab_gave_up != null)] | length},
          handoffs: ([$p[] | select(.config == "synfence")] | {connections: sumf(.connections), failed: sumf(.failed),
              handoff_ok: sumf(.synfence_counters.handoff_ok), syn_pass_existing: sumf(.synfence_counters.syn_pass_existing),
              handoff_err: sumf(.synfence_counters.handoff_err), handoff_dup: sumf(.synfence_counters.handoff_dup),
              server_passive_opens: sumf(.server_passive_opens)})}}) | from_entries),
  micro: ($micro | group_by(.path + "|" + .method) | map({path: .[0].path, method: .[0].method,
          ns: ([.[].ns] | stat), pass_ns: ([.[].pass_ns] | stat), net_ns: ([.[].net_ns] | stat),
          ratio: ([.[].ratio] | stat)})),
  runs: $runs, engine_runs: $engines, peace_runs: $peace
}
JQ

# ---- table --------------------------------------------------------------------------------------
R=$OUT/results.json
jq -r -f /dev/stdin "$R" <<'JQ' | tee "$OUT/table.txt"
def f0: if . == null then "-" else (. | round | tostring) end;
def f2: if . == null then "-" else ((. * 100 | round) / 100 | tostring) end;
def rng(f): "\(.median | f) [\(.min | f)-\(.max | f)]";
def pad($n): tostring | if length >= $n then . else . + (" " * ($n - length)) end;
def lpad($n): tostring | if length >= $n then . else (" " * ($n - length)) + . end;
def cl: if . == null then "n/a" else "\(.ok)/\(.n) ok, p50 \(.connect_ms_p50 | f2) ms, p99 \(.connect_ms_p99 | f2) ms, max \(.connect_ms_max | f2) ms" end;
def lbl: {kernel: "kernel SYN cookies", synproxy: "nft SYNPROXY", floor: "XDP floor", lfloor: "XDP lookup+drop", synfence: "synfence"}[.];
"synfence bench: \(.machine.cpu), \(.machine.cpus) CPUs (\(.machine.virtualization)), Linux \(.machine.kernel); \(.method.rounds) rounds + 1 warm-up, \(.method.flood_seconds) s floods, \(.seconds) s total",
"median [min-max] over the rounds; receiver CPU = the server veth's NAPI kthread (schedstat)",
"generator: \(.method.generator)",
"CPU time of other work on the receiver CPU during the floods: \(.foreign_load_pct | rng(f0)) % of it\(if .foreign_load_pct.median > 10 then "  -- a busy machine: expect noisy numbers" else "" end)",
"",
"SYN flood           receiver ns/answered SYN   receiver Mpps        offered Mpps   ring loss %    legitimate clients during the flood",
(.syn | to_entries[] | "\(.key | lbl | pad(19)) \(.value.ns_per_answered_syn | rng(f0) | pad(26)) \(.value.receiver_mpps | rng(f2) | pad(20)) \(.value.offered_mpps.median | f2 | pad(14)) \(.value.ring_loss_pct.median | f0 | pad(14)) \(.value.clients | cl)"),
"",
"ACK flood           receiver ns/ACK            receiver Mpps        offered Mpps   ring loss %    legitimate clients during the flood",
(.ack | to_entries[] | "\((if .key == "floor" then "XDP drop floor" else (.key | lbl) end) | pad(19)) \(.value.ns_per_ack | rng(f0) | pad(26)) \(.value.receiver_mpps | rng(f2) | pad(20)) \(.value.offered_mpps.median | f2 | pad(14)) \(.value.ring_loss_pct.median | f0 | pad(14)) \(.value.clients | cl)"),
(.ack_epoch.synfence | select(.ns_per_ack.n > 0) | "\("synfence, epoch ok" | pad(19)) \(.ns_per_ack | rng(f0) | pad(26)) \(.receiver_mpps | rng(f2) | pad(20)) \(.offered_mpps.median | f2 | pad(14)) \(.ring_loss_pct.median | f0 | pad(14)) \(.clients | cl)",
 "(synfence, epoch ok: forged ACKs with the cookie's epoch bits right, so that each costs the full hash check)"),
"",
(.peacetime | select(length > 0) |
 "peacetime, no flood: nginx behind XDP_PASS or synfence, new connections/s (ab, one request per connection; nginx and the server NAPI on CPU 1)",
 "server TIME_WAIT   XDP_PASS conn/s         synfence conn/s         ratio                server ns/conn pass -> synfence   connections and handoffs (synfence)",
 (to_entries[] | .value as $x | "\((if .key == "notw" then "none (cookies)" else "kept (reuse)" end) | pad(18)) \($x.pass.rate | rng(f0) | pad(23)) \($x.synfence.rate | rng(f0) | pad(23)) \($x.rate_ratio | rng(f2) | pad(20)) \("\($x.pass.server_ns_per_conn.median | f0) -> \($x.synfence.server_ns_per_conn.median | f0)" | pad(33)) \($x.handoffs | "\(.connections), handoff_ok \(.handoff_ok), syn_pass_existing \(.syn_pass_existing), handoff_err \(.handoff_err)")"),
 (to_entries[] | .value as $x | "  TIME_WAIT \(if .key == "notw" then "none" else "kept" end), the clients' stalls in all rounds, XDP_PASS / synfence: SYN retransmissions (1 s) \($x.pass.client_syn_retrans) / \($x.synfence.client_syn_retrans), loss probes (a lost segment resent, ~200 ms) \($x.pass.client_loss_probes // "-") / \($x.synfence.client_loss_probes // "-"), runs in which ab gave up on a connection after 10 s \($x.ab_gave_up.pass // 0) / \($x.ab_gave_up.synfence // 0)"),
 ""),
(.engines | select(length > 0) |
 "sf_flood engines side by side (SF_BENCH_ENGINES; medians; receiver ns: per answered SYN, per ACK; XDP %: frames the receiver got as XDP frames, not skbs)",
 "engine   flood against   offered Mpps  receiver Mpps  receiver ns  generator ns/frame  XDP %   legitimate clients",
 (to_entries[] | .key as $e | .value.floods | to_entries[] | "\($e | pad(8)) \(.key | pad(15)) \(.value.offered_mpps.median | f2 | pad(13)) \(.value.receiver_mpps.median | f2 | pad(14)) \(.value.receiver_ns.median | f0 | pad(12)) \(.value.generator_cpu_ns_per_frame.median | f0 | pad(19)) \(.value.xdp_frames_pct.median | f0 | pad(7)) \(.value.clients | if . then "\(.ok)/\(.n) ok, p99 \(.connect_ms_p99 | f0) ms" else "" end)"),
 ""),
"test-run micro-benchmarks (test_xdp --bench, median of its 7 rounds, then median [min-max] over the bench rounds)",
"path              method          ns/pkt              XDP_PASS ns/pkt     net ns              ratio to XDP_PASS",
(.micro[] | "\(.path | pad(17)) \(.method | pad(15)) \(.ns | rng(f2) | pad(19)) \(.pass_ns | rng(f2) | pad(19)) \(.net_ns | rng(f2) | pad(19)) \(.ratio | rng(f2))"),
"",
"ratios (per round, paired; median [min-max])                     target",
"  SYN: synfence / XDP SYN-ACK floor       \(.ratios.syn_synfence_over_floor | rng(f2) | pad(24)) <= 1.25   \(if .ratios.syn_synfence_over_floor.median <= 1.25 then "met" else "MISSED" end)",
"  SYN: kernel SYN cookies / synfence      \(.ratios.syn_kernel_over_synfence | rng(f2) | pad(24)) >= 10     \(if .ratios.syn_kernel_over_synfence.median >= 10 then "met" else "MISSED" end)",
"  SYN: nft SYNPROXY / synfence            \(.ratios.syn_synproxy_over_synfence | rng(f2) | pad(24)) >= 10     \(if .ratios.syn_synproxy_over_synfence.median >= 10 then "met" else "MISSED" end)",
"  ACK: synfence / XDP drop floor          \(.ratios.ack_synfence_over_floor | rng(f2) | pad(24)) <= 1.25   \(if .ratios.ack_synfence_over_floor.median <= 1.25 then "met" else "MISSED" end)",
"  ACK: synfence / XDP lookup+drop floor  \(.ratios.ack_synfence_over_lookup_floor | rng(f2) | pad(24)) (reference: lookup+drop / drop floor \(.ratios.ack_lookup_floor_over_floor.median | f2))",
"  ACK, epoch ok: synfence / drop floor    \(.ratios.ack_epoch_synfence_over_floor | rng(f2) | pad(24)) (/ lookup+drop floor: \(.ratios.ack_epoch_synfence_over_lookup_floor.median | f2))",
"  ACK: kernel (RST) / synfence            \(.ratios.ack_kernel_over_synfence | rng(f2) | pad(24))",
"  ACK: nft SYNPROXY / synfence            \(.ratios.ack_synproxy_over_synfence | rng(f2) | pad(24))",
(([.micro[] | select(.path == "SYN -> SYN-ACK" and .method == "repeat=1 loop")][0]) as $s
 | if $s then "  test-run: SYN path / XDP_PASS           \($s.ratio | rng(f2) | pad(24)) <= 4      \(if $s.ratio.median <= 4 then "met" else "MISSED" end)" else empty end),
(([.micro[] | select(.path == "SYN -> SYN-ACK" and .method == "replay 1M")][0]) as $s
 | ([.micro[] | select(.path == "SYN-ACK floor" and .method == "replay 1M")][0]) as $f
 | if $s and $f then "  test-run: SYN path / SYN-ACK floor       \($s.ns.median / $f.ns.median | f2 | pad(24)) (replay 1M; the programs alone: \($s.net_ns.median | f2) vs \($f.net_ns.median | f2) ns)" else empty end),
(.micro[] | select(.path == "established") | "  test-run: established (\(.method)) / XDP_PASS \(.ratio | rng(f2) | pad(17)) <= 1.5    \(if .ratio.median <= 1.5 then "met" else "MISSED" end)"),
(.peacetime | to_entries[] | .value as $x
 | "  peacetime, TIME_WAIT \(if .key == "notw" then "none" else "kept" end): synfence / XDP_PASS conn/s \($x.rate_ratio | rng(f2) | pad(17)) >= 0.95   \(if $x.rate_ratio.median >= 0.95 then "met" else "MISSED" end) (server CPU per connection: \($x.server_cpu_ratio.median | f2)x)",
   (if .key == "notw" then $x.handoffs | "  peacetime: every connection handed off   handoff_ok \(.handoff_ok) for \(.connections) connections, handoff_err \(.handoff_err)   \(if .handoff_ok >= .connections and .handoff_err == 0 and .failed == 0 then "met" else "MISSED" end)\(if .handoff_ok > .connections then " (\(.handoff_ok - .connections) more handoffs than connections)" else "" end)"
    else $x.handoffs | "  peacetime, TIME_WAIT kept: every connection handed off or passed   handoff_ok + syn_pass_existing \(.handoff_ok + .syn_pass_existing) for \(.connections), handoff_err \(.handoff_err)   \(if .handoff_ok + .syn_pass_existing >= .connections and .handoff_err == 0 and .failed == 0 then "met" else "MISSED" end)" end)),
(.syn.synfence.clients as $c | .ack.synfence.clients as $d | (.ack_epoch.synfence.clients // $d) as $e
 | "  legitimate clients under synfence: SYN flood \($c.success_pct | f2)%, ACK floods \($d.success_pct | f2)% and \($e.success_pct | f2)% (target 100%)   \(if $c.success_pct == 100 and $d.success_pct == 100 and $e.success_pct == 100 then "met" else "MISSED" end)")
JQ

# ---- chart --------------------------------------------------------------------------------------
jq -r '.syn | to_entries[] | "\(.key) \(.value.ns_per_answered_syn.median) \(.value.ns_per_answered_syn.min) \(.value.ns_per_answered_syn.max)"' "$R" >"$TMPD/syn.dat"
jq -r '(.ack | to_entries[] | "\(if .key == "floor" then "drop-floor" elif .key == "lfloor" then "lookup+drop" else .key end) \(.value.ns_per_ack.median) \(.value.ns_per_ack.min) \(.value.ns_per_ack.max)"),
	(.ack_epoch.synfence.ns_per_ack | select(.n > 0) | "synfence/epoch-ok \(.median) \(.min) \(.max)")' "$R" >"$TMPD/ack.dat"
jq -r '[.syn, .ack] as [$s, $a] | ["kernel", "synproxy", "synfence"][] as $k
	| "\($k) \($s[$k].clients.connect_ms_p99 // 0) \($a[$k].clients.connect_ms_p99 // 0) \($s[$k].clients.success_pct // 0) \($a[$k].clients.success_pct // 0)"' "$R" >"$TMPD/clients.dat"
jq -r '.micro[] | select(.method == "repeat=1 loop") | "\"\(.path)\" \(.ratio.median) \(.ratio.min) \(.ratio.max)"' "$R" >"$TMPD/micro.dat"
TITLE=$(jq -r '"synfence bench: \(.machine.cpus) vCPU \(.machine.cpu), Linux \(.machine.kernel), \(.method.rounds) rounds (median, min-max), generator engine \(.method.generator_engines | join("+"))"' "$R")
gnuplot <<EOF || log "gnuplot failed (chart not drawn)"
set terminal pngcairo size 1400,900 font "DejaVu Sans,10" noenhanced
set output "$OUT/bench.png"
set multiplot layout 2,2 title "$TITLE"
set style fill solid 0.6 border -1
set boxwidth 0.6
set grid ytics
set logscale y
set yrange [10:*]
set title "SYN flood: receiver CPU ns per answered SYN (log)"
plot "$TMPD/syn.dat" using 0:2:xtic(1) with boxes lc rgb "#4477aa" notitle, \
     "" using 0:2:3:4 with yerrorbars lc rgb "black" pt 0 notitle, \
     "" using 0:2:(sprintf("%.0f", \$2)) with labels offset 0,1 notitle
set title "forged-ACK flood: receiver CPU ns per ACK (log)"
plot "$TMPD/ack.dat" using 0:2:xtic(1) with boxes lc rgb "#cc6677" notitle, \
     "" using 0:2:3:4 with yerrorbars lc rgb "black" pt 0 notitle, \
     "" using 0:2:(sprintf("%.0f", \$2)) with labels offset 0,1 notitle
set title "legitimate clients during the floods: p99 connect time, ms (log; label: success %)"
set yrange [0.01:*]
set style data histogram
set style histogram clustered gap 1
plot "$TMPD/clients.dat" using 2:xtic(1) title "SYN flood" lc rgb "#4477aa", \
     "" using 3 title "ACK flood" lc rgb "#cc6677", \
     "" using (\$0-0.15):2:(sprintf("%.0f%%", \$4)) with labels offset 0,1 notitle, \
     "" using (\$0+0.15):3:(sprintf("%.0f%%", \$5)) with labels offset 0,1 notitle
unset logscale y
set yrange [0:*]
set style data boxes
set title "test-run micro-benchmarks: cost relative to a trivial XDP_PASS program"
plot "$TMPD/micro.dat" using 0:2:xtic(1) with boxes lc rgb "#228833" notitle, \
     "" using 0:2:3:4 with yerrorbars lc rgb "black" pt 0 notitle, \
     "" using 0:2:(sprintf("%.2f", \$2)) with labels offset 0,1 notitle
unset multiplot
EOF
log "results: $R, table: $OUT/table.txt, chart: $OUT/bench.png ($((T_END - T_START)) s of measurements)"
