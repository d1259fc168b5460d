#!/bin/bash
# The daemon's modes and stop signals, as the man page documents them:
#  1. --keep-attached: SIGTERM leaves protection in place (as SIGUSR2): pins stay, XDP answers
#     SYNs with no daemon, status says NOT RUNNING with the interface protected; the next run
#     takes over (same links, counters go on, no connection fails); a plain SIGTERM then detaches.
#  2. SIGINT detaches like SIGTERM (exit 0, no XDP, no pins), here after a run in --mode generic:
#     status -j says generic, the kernel has it in generic mode, handshakes go through XDP.
#  3. auto mode (the default) on a device without native XDP (a bridge) falls back to generic
#     with a warning; --mode native there fails (exit 1, nothing attached); with -q only
#     warnings and errors are printed.
#  4. --no-reattach: an interface deleted and re-created under the daemon is not attached again.
#  5. a take-over of pins whose counter map has an older layout (one counter fewer): the map is
#     replaced and its counts carried over.
#  6. the kernel features run probed, in status (text and -j daemon.features) and its log; and a
#     kernel without tcx (SF_FAULT_NO_TCX=1 in the fault-injection build hides it): TC is attached
#     as a clsact filter, status finds it there, real connections are handed off, SIGTERM removes
#     the filter.
SF_PREFIX=${SF_TAG:-}sfm
. "$(dirname "$0")/../lib.sh"

sf_init modes
sf_require_synfence
sf_topo_up
sf_nginx_start 80
BR=sfbr0 # a bridge: no native XDP (no ndo_bpf)
RUN=(--ports 80 --pin-dir "$PIN")

# via_xdp WHAT: a curl to nginx works, its SYN answered by XDP and handed over by TC
via_xdp() {
	sf_snap "$TMPD/v0"
	local body
	body=$(sf_curl "http://$SRV4/")
	sf_snap "$TMPD/v1"
	check_eq "$body" "$NGINX_BODY" "$1: curl gets the page"
	check_ge "$(sf_delta "$TMPD/v0" "$TMPD/v1" synack_sent)" 1 "$1: XDP answered the SYN (synack_sent grows)"
	check_ge "$(sf_delta "$TMPD/v0" "$TMPD/v1" handoff_ok)" 1 "$1: TC handed it over (handoff_ok grows)"
}
# kernel_xdp_mode [IF]: the XDP attach mode as `ip -d link` shows it (xdp, xdpgeneric, none)
kernel_xdp_mode() {
	ip -n "$SRV_NS" -d link show "${1:-$SRV_IF}" | grep -oE '\b(xdp|xdpgeneric|xdpdrv|xdpoffload)\b' | head -n 1 |
		grep . || echo none
}
# le_bytes N VALUE: VALUE as N little-endian bytes, for bpftool
le_bytes() {
	local i v=$2
	for ((i = 0; i < $1; i++)); do
		printf '%d ' $((v & 255))
		v=$((v >> 8))
	done
}
no_xdp() { ! sf_xdp_attached "$@"; }
br_up() {
	ip -n "$SRV_NS" link add "$BR" type bridge && ip -n "$SRV_NS" link set "$BR" up
}

log "1. --keep-attached"
STOP=$TMPD/stop
sf_newconn_loop "$STOP" "$TMPD/newconn.log"
sf_synfence_start -l "$TMPD/keep.log" -w 1 80 --keep-attached --rotate 60
xdp_link=$(sf_pinned_link_id xdp "$SRV_IF")
tc_link=$(sf_pinned_link_id tc "$SRV_IF")
via_xdp "with --keep-attached"
sf_synfence_stop -q
check_eq "$SF_RC" 0 "SIGTERM with --keep-attached: exit 0"
check_true "it says protection stays" grep -q "got SIGTERM, stopping (keep_attached: protection stays)" "$SF_LOG"
check_true "... and is left in place" grep -q "protection left in place" "$SF_LOG"
check_true "the pins stay (link_xdp_$SRV_IF, link_tc_$SRV_IF)" test -e "$PIN/link_xdp_$SRV_IF" -a -e "$PIN/link_tc_$SRV_IF"
check_true "XDP stays attached" sf_xdp_attached
check_eq "$(sf_pinned_link_id xdp "$SRV_IF")/$(sf_pinned_link_id tc "$SRV_IF")" "$xdp_link/$tc_link" "the same links stay pinned"
via_xdp "no daemon after --keep-attached"
sf_snap "$TMPD/k1"
out=$(sf_status_json)
check_eq "$?" 0 "status -j without a daemon, protection in place: exit 0"
check_eq "$(jq -r '[.daemon.running, .daemon.pid, .interfaces[0].name, .interfaces[0].attached.xdp, .interfaces[0].attached.tc] | join(",")' <<<"$out")" \
	"false,0,$SRV_IF,true,true" "status -j: not running (pid 0), $SRV_IF with XDP and TC attached"
out=$(srv "$SYNFENCE" status -i 0 --pin-dir "$PIN" 2>&1)
check_match "$out" "NOT RUNNING: no daemon, run stopped without detaching \(SIGUSR2 or keep_attached\); protection left attached" \
	"status: daemon NOT RUNNING, protection left attached"
check_match "$out" "interface $SRV_IF \(ifindex [0-9]+\): xdp native attached, tc attached" "status: $SRV_IF protected"
sleep 0.5
sf_synfence_start -l "$TMPD/takeover.log" -w 1 80 --rotate 60
check_true "the next run takes over" grep -q "took over the pinned state" "$SF_LOG"
check_eq "$(sf_pinned_link_id xdp "$SRV_IF")/$(sf_pinned_link_id tc "$SRV_IF")" "$xdp_link/$tc_link" "... the same links"
sf_snap "$TMPD/k2"
check_ge "$(sf_cnt "$TMPD/k2" synack_sent)" "$(sf_cnt "$TMPD/k1" synack_sent)" "counters go on (synack_sent)"
check_ge "$(sf_cnt "$TMPD/k2" handoff_ok)" "$(sf_cnt "$TMPD/k1" handoff_ok)" "counters go on (handoff_ok)"
via_xdp "after the take-over"
: >"$STOP"
wait "$SF_NEWCONN_PID"
res=$(tail -n 1 "$TMPD/newconn.log")
grep FAILED "$TMPD/newconn.log" | head -5 | sed 's/^/    /'
check_match "$res" "^ok=[1-9][0-9]* bad=0$" "no new connection failed across the stop and the take-over ($res)"
log "plain SIGTERM after the take-over"
sf_synfence_stop
check_true "the pin dir is gone" test ! -e "$PIN"
check_eq "$(kernel_xdp_mode)" none "ip -d link: no XDP on $SRV_IF"
check_true "its XDP and TC links are gone" \
	bash -c "! bpftool link show id $xdp_link >/dev/null 2>&1 && ! bpftool link show id $tc_link >/dev/null 2>&1"

log "2. --mode generic, stopped with SIGINT"
sf_synfence_start -l "$TMPD/generic.log" -w 1 80 --mode generic
check_true "it logs generic mode" grep -q "protecting $SRV_IF (generic) ports 80" "$SF_LOG"
check_eq "$(sf_status_json | jq -r '.interfaces[0].xdp_mode')" generic "status -j: xdp_mode generic"
check_eq "$(kernel_xdp_mode)" xdpgeneric "ip -d link: xdpgeneric"
via_xdp "generic mode"
sf_synfence_stop -s INT
check_true "it says it detaches on SIGINT" grep -q "got SIGINT, detaching" "$SF_LOG"
check_true "SIGINT: the pin dir is gone" test ! -e "$PIN"
check_eq "$(kernel_xdp_mode)" none "SIGINT: ip -d link shows no XDP"

log "3. auto mode on a device without native XDP ($BR, a bridge)"
br_up || die "cannot create bridge $BR"
sf_mount_pin_root
out=$(srv "$SYNFENCE" run "$BR" "${RUN[@]}" --mode native 2>&1)
check_eq "$?" 1 "--mode native on $BR: exit 1"
check_match "$out" "cannot attach XDP to $BR: Operation not supported" "... naming the failure"
check_eq "$(kernel_xdp_mode "$BR")/$(test -e "$PIN" && echo pinned)" none/ "... and nothing is attached or pinned"
SRV_IFS=("$BR")
sf_synfence_start 80
check_true "auto: the fallback is warned about" \
	grep -qx "synfence: warning: native XDP failed on $BR: attached in generic mode" "$SF_LOG"
check_true "... and logged as generic" grep -q "protecting $BR (generic) ports 80" "$SF_LOG"
check_eq "$(sf_status_json | jq -r '.interfaces[0].xdp_mode')" generic "status -j: xdp_mode generic"
check_eq "$(kernel_xdp_mode "$BR")" xdpgeneric "ip -d link: xdpgeneric on $BR"
sf_synfence_stop
log "-q: only warnings and errors"
sf_synfence_start 80 -q
check_eq "$(grep -c 'warning: native XDP failed' "$SF_LOG")" 1 "-q: the warning is still printed"
check_eq "$(grep -cv '^synfence: \(warning\|error\): ' "$SF_LOG")" 0 "-q: no info line at start: $(head -c 300 "$SF_LOG")"
sf_synfence_stop
check_eq "$(grep -cv '^synfence: \(warning\|error\): ' "$SF_LOG")" 0 "-q: no info line at the stop either"
SRV_IFS=("$SRV_IF")

log "4. --no-reattach"
sf_synfence_start -l "$TMPD/noreattach.log" -w 2 -a "$SRV_IF" "$BR" "${RUN[@]}" --no-reattach --sysctl-interval 1
ip -n "$SRV_NS" link del "$BR"
check_true "the disappearance is logged, without a promise to re-attach" \
	sf_wait_log "$SF_LOG" "^synfence: warning: interface $BR \(ifindex [0-9]+\) disappeared: no longer protected$" 3
br_up || die "cannot re-create $BR"
sleep 2.5 # the netlink event and two interface checks (--sysctl-interval 1)
check_true "the daemon survives" kill -0 "$SF_PID"
check_eq "$(kernel_xdp_mode "$BR")" none "no XDP on the re-created $BR"
check_eq "$(sf_pinned_link_id xdp "$BR")/$(sf_pinned_link_id tc "$BR")" none/none "no link pinned for $BR"
check_eq "$(grep -c "is back" "$SF_LOG")" 0 "no 'is back' line"
check_eq "$(sf_status_json | jq -r --arg n "$BR" '.interfaces[] | select(.name == $n) | .attached.xdp')" false \
	"status -j: $BR not attached"
via_xdp "$SRV_IF still protected"
sf_synfence_stop
log "5. take-over of pins whose counter map has an older layout (one counter fewer)"
sf_synfence_start -l "$TMPD/older.log" -w 1 80
sf_synfence_stop -q -s KILL
vs=$(bpftool map show pinned "$PIN/sf_counters" -j | jq .bytes_value)
entries=$(bpftool map show pinned "$PIN/sf_counters" -j | jq .max_entries)
slot=$(bpftool map lookup pinned "$PIN/sf_if_slot" key $(le_bytes 4 "$(sf_ifindex)") -j | jq -r '.formatted.value // .value')
check_ge "$slot" 1 "$SRV_IF's counter slot ($slot)"
# The older version's map: value one counter shorter, handoff_ok = 1000 on every CPU of the slot
# (bpftool writes the value to each CPU).
idx=$(sf_counter_names | grep -nx handoff_ok | cut -d: -f1)
value=()
for ((w = 0; w < vs / 8 - 1; w++)); do
	if [ "$w" = $((idx - 1)) ]; then value+=($(le_bytes 8 1000)); else value+=($(le_bytes 8 0)); fi
done
rm "$PIN/sf_counters"
bpftool map create "$PIN/sf_counters" type percpu_array key 4 value $((vs - 8)) entries "$entries" name sf_counters ||
	die "bpftool map create failed"
bpftool map update pinned "$PIN/sf_counters" key $(le_bytes 4 "$slot") value "${value[@]}" ||
	die "bpftool map update failed"
ncpu=$(( $(sed 's/.*-//' /sys/devices/system/cpu/possible) + 1 ))
sf_synfence_start -l "$TMPD/newer.log" -w 1 80
check_true "the next run takes over" grep -q "took over the pinned state" "$SF_LOG"
check_true "... and says the counter map had another layout" \
	grep -q "pinned map sf_counters has another layout (another synfence version): its contents move to a new map" "$SF_LOG"
check_eq "$(bpftool map show pinned "$PIN/sf_counters" -j | jq .bytes_value)" "$vs" "the pinned counter map has the new layout again"
sf_snap "$TMPD/o1"
check_eq "$(sf_cnt "$TMPD/o1" handoff_ok)" $((1000 * ncpu)) "the older map's counts were carried over (handoff_ok 1000 x $ncpu CPUs)"
via_xdp "after taking over the older layout"
out=$(sf_status_json)
check_eq "$(jq -c .daemon.features <<<"$out")" \
	'{"handoff_path":"tc","uses_xdp_metadata":false,"handoff_kfunc":true,"tcx":true}' \
	"status -j daemon.features: handoff in TC without XDP metadata, the kfunc and tcx found"
check_true "the log names the probed features in one line" \
	grep -q "kernel: handoff in TC ingress .* by bpf_sk_assign_tcp_reqsk; TC attached as tcx links" "$SF_LOG"
sf_synfence_stop
log "6. a kernel without tcx: TC as a clsact filter"
FAULTS=$(sf_abspath "${SYNFENCE_FAULTS:-$BUILD/synfence-faults}")
SYNFENCE=$FAULTS SF_FAULT_NO_TCX=1 sf_synfence_start -l "$TMPD/clsact.log" -w 1 80
check_eq "$(sf_clsact_filters)" 1 "one clsact ingress filter on $SRV_IF"
check_eq "$(sf_tcx_links "$SF_PID")" "" "no tcx link"
check_true "the log says TC is a clsact filter" grep -q "TC attached as clsact filters" "$SF_LOG"
out=$(sf_status_json)
check_eq "$(jq -r '[.daemon.features.tcx, .interfaces[0].attached.xdp, .interfaces[0].attached.tc] | join(",")' <<<"$out")" \
	"false,true,true" "status -j: no tcx; XDP and TC (the clsact filter) attached"
out=$(srv "$SYNFENCE" status -i 0 --pin-dir "$PIN" 2>&1)
check_match "$out" "features +handoff in TC ingress .* TC attached as clsact filters" "status: the features line names clsact"
check_match "$out" "interface $SRV_IF \(ifindex [0-9]+\): xdp native attached, tc attached" "status: the clsact filter is found"
via_xdp "TC as a clsact filter"
sf_synfence_stop
check_eq "$(sf_clsact_filters)" 0 "SIGTERM removed the clsact filter"
sf_finish
