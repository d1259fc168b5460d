#!/bin/bash
# When things are not right, stats/status/run say so in one line and exit non-zero:
# - no daemon: stats and status exit 1 with "synfence is not running" (JSON error with -j);
# - bad --metrics values: exit 2 before anything is attached; a metrics port in use: exit 1;
# - a daemon that died (SIGKILL: its maps and its XDP and TC links stay pinned, the links attached;
#   here TC was detached behind its back before): stats shows what its programs still count under
#   "NOT RUNNING: no daemon" (exit 0), status says NOT RUNNING and "tc NOT attached" (exit 1);
#   with nothing attached any more, stats refuses the left-over maps (exit 1, JSON error with -j).
# (tests/integration/22-restart.sh checks stats and status with everything left attached.)
SF_PREFIX=${SF_TAG:-}sfo
. "$(dirname "$0")/../lib.sh"

sf_init errors
sf_require_synfence
sf_topo_up

log "no daemon"
sf_mount_pin_root
for cmd in stats status; do
	out=$(srv "$SYNFENCE" $cmd --pin-dir "$PIN" 2>"$TMPD/err")
	rc=$?
	check_eq "$rc" 1 "$cmd with no daemon: exit status"
	check_eq "$out" "" "$cmd with no daemon: nothing on stdout"
	check_eq "$(wc -l <"$TMPD/err")" 1 "$cmd with no daemon: one line on stderr"
	check_match "$(cat "$TMPD/err")" "^synfence: synfence is not running: no synfence maps in $PIN" \
		"$cmd with no daemon: says synfence is not running"
	out=$(srv "$SYNFENCE" $cmd -j --pin-dir "$PIN" 2>"$TMPD/err")
	check_eq "$?" 1 "$cmd -j with no daemon: exit status"
	check_match "$(jq -r .error <<<"$out")" '^synfence is not running' "$cmd -j with no daemon: a JSON error on stdout"
	check_eq "$(cat "$TMPD/err")" "" "$cmd -j with no daemon: nothing on stderr"
done
# the default pin dir in a fresh `ip netns exec` (no bpffs at /sys/fs/bpf there)
srv "$SYNFENCE" stats >/dev/null 2>"$TMPD/err"
check_eq "$?" 1 "stats (default pin dir) with no daemon: exit status"
check_match "$(cat "$TMPD/err")" 'not running' "stats (default pin dir) with no daemon: says not running"

log "bad --metrics values"
for bad in localhost:9464 127.0.0.1 127.0.0.1:0 127.0.0.1:70000 '[::1]9464' '[nope]:80' 1.2.3:80 ''; do
	srv "$SYNFENCE" run "$SRV_IF" --ports 80 --pin-dir "$PIN" --metrics "$bad" >/dev/null 2>"$TMPD/err"
	rc=$?
	check_eq "$rc/$(wc -l <"$TMPD/err")" "2/1" "run --metrics '$bad': exit 2 with one line ($(head -c 120 "$TMPD/err"))"
done
if sf_xdp_attached; then _fail "nothing attached after the bad --metrics values"; else _ok "nothing attached after the bad --metrics values"; fi

log "a metrics port in use"
sf_nginx_start 80
# --sysctl-interval 3600: no link check while TC is detached below (run would re-attach it at its
# next check: 26-iface-gone covers that)
sf_synfence_start 80 --metrics 127.0.0.1:9464 --sysctl-interval 3600
srv "$SYNFENCE" run "$SRV_IF" --ports 80 --pin-dir "$PIN-2" --metrics 127.0.0.1:9464 >/dev/null 2>"$TMPD/err"
check_eq "$?" 1 "a second run on the same metrics port: exit status 1"
check_match "$(cat "$TMPD/err")" 'cannot listen on 127.0.0.1:9464: Address already in use' "it says the address is in use"
check_eq "$(srv curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:9464/metrics)" 200 "the first run still serves its metrics"
check_eq "$(srv curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:9464/nothing)" 404 "other paths: 404"
check_eq "$(srv curl -s -o /dev/null -w '%{http_code}' -X POST http://127.0.0.1:9464/metrics)" 405 "POST: 405"
check_eq "$(srv curl -sI http://127.0.0.1:9464/metrics | tr -d '\r' | awk -F': ' 'tolower($1) == "content-type" { print $2 }')" \
	"text/plain; version=0.0.4; charset=utf-8" "Content-Type of the Prometheus text format"

log "status of a healthy run"
out=$(srv "$SYNFENCE" status -i 0 --pin-dir "$PIN")
check_eq "$?" 0 "status: exit 0"
check_match "$out" "synfence  running \(pid $SF_PID\)" "status: running, with run's pid"
check_match "$out" 'interface veth-srv \(ifindex [0-9]+\): xdp native attached, tc attached' "status: both programs attached, XDP in native mode (veth)"
check_match "$out" 'metrics   http://127.0.0.1:9464/metrics' "status: the metrics address"
check_nomatch "$out" '[0-9a-f]{32}' "status shows nothing that looks like key material"
check_eq "$(sf_status_json | jq -r '[.daemon.running, .daemon.pid, .interfaces[0].attached.xdp, .interfaces[0].attached.tc, .interfaces[0].xdp_mode] | join(",")')" \
	"true,$SF_PID,true,true,native" "status -j: running, pid, attached, xdp_mode native"

log "TC detached behind run's back (bpftool link detach)"
tcx=${SF_TCX%%:*}
check_true "bpftool link detach id $tcx" bpftool link detach id "$tcx"
out=$(srv "$SYNFENCE" status -i 0 --pin-dir "$PIN")
check_eq "$?" 1 "status with TC detached: exit 1"
check_match "$out" 'xdp native attached, tc NOT attached' "status: tc NOT attached"
out=$(srv "$SYNFENCE" stats -i 0 --pin-dir "$PIN")
check_eq "$?" 0 "stats with TC detached: exit 0 (it shows the counters)"
check_match "$out" $'\nworking +NO: TC not attached to veth-srv' "stats: working NO: TC not attached to veth-srv"
check_match "$(srv curl -s http://127.0.0.1:9464/metrics)" 'synfence_attached\{interface="veth-srv",hook="tc"\} 0' \
	"metrics: synfence_attached{hook=tc} 0"
SF_TCX=

log "a run that died (SIGKILL)"
kill -KILL "$SF_PID"
wait "$SF_PID" 2>/dev/null
out=$(srv "$SYNFENCE" stats -i 0 --pin-dir "$PIN" 2>"$TMPD/err")
check_eq "$?" 0 "stats after run died, its XDP link still attached: exit 0 (it shows the counters)"
check_eq "$(cat "$TMPD/err")" "" "stats after run died: nothing on stderr"
check_match "$out" "^synfence NOT RUNNING: no daemon, run \(pid $SF_PID\) is gone; protection partly left attached" \
	"stats says no daemon runs and what is left attached"
check_match "$out" $'\nworking +NO: TC not attached to veth-srv' "stats: working NO (TC was detached)"
check_match "$out" $'\ncounter +veth-srv' "stats shows the counter table"
check_eq "$(sf_stats_json | jq -r '[.daemon.running, .daemon.pid, .interfaces[0].attached.xdp, .interfaces[0].attached.tc, (.total | length > 20)] | join(",")')" \
	"false,$SF_PID,true,false,true" "stats -j: not running, its pid, XDP still attached, TC not, counters"
out=$(srv "$SYNFENCE" status -i 0 --pin-dir "$PIN" 2>&1)
check_eq "$?" 1 "status after run died with TC detached: exit status 1"
check_match "$out" "^synfence  NOT RUNNING: no daemon, run \(pid $SF_PID\) is gone; protection partly left attached" "status says NOT RUNNING"
check_match "$out" 'xdp native attached, tc NOT attached' "status: XDP still attached, TC not"
check_match "$out" 'working +NO' "status: working NO"

log "the run that died, with nothing attached any more"
xdp_link=$(sf_pinned_link_id xdp "$SRV_IF")
check_true "bpftool link detach id $xdp_link (XDP)" bpftool link detach id "$xdp_link"
out=$(srv "$SYNFENCE" stats -i 0 --pin-dir "$PIN" 2>"$TMPD/err")
check_eq "$?" 1 "stats with nothing attached: exit status 1"
check_eq "$out" "" "stats with nothing attached: nothing on stdout"
check_match "$(cat "$TMPD/err")" "^synfence: synfence is not running: run \(pid $SF_PID\) is gone and nothing is attached; the maps in $PIN are left over" \
	"stats says synfence is not running, and why"
out=$(sf_stats_json 2>/dev/null)
check_eq "$?" 1 "stats -j with nothing attached: exit status 1"
check_match "$(jq -r .error <<<"$out")" '^synfence is not running' "stats -j with nothing attached: a JSON error"
out=$(srv "$SYNFENCE" status -i 0 --pin-dir "$PIN" 2>&1)
check_eq "$?" 1 "status with nothing attached: exit status 1"
check_match "$out" 'NOT RUNNING: no daemon, .*; nothing attached \(the maps are left over\)' "status says nothing is attached"
check_match "$out" 'xdp native NOT attached, tc NOT attached' "status: neither program attached"
SF_PID=
sf_finish
