#!/bin/bash
# An interface deleted under a running synfence (two interfaces): the daemon survives, logs it,
# keeps protecting the other interface, removes the dead link pins, and attaches again when the
# interface comes back; status -j names it as the last error. A TC link detached behind its back
# (bpftool link detach): noticed within a tick, logged, both links attached again (never XDP
# alone), the other interface untouched. Then `synfence detach`: after a stop that left
# protection in place (SIGUSR2), detach removes it interface by interface, XDP before TC, and the
# pinned state with the last one.
SF_PREFIX=${SF_TAG:-}sfr
. "$(dirname "$0")/../lib.sh"

sf_init ifgone
sf_require_synfence
sf_topo_up
sf_topo_add_link
NGINX_ADDRS=("$SRV4" "[$SRV6]" "$SRV2_4")
sf_nginx_start 80

ifcnt() { jq -r --arg n "$2" --arg c "$3" '[.interfaces[] | select(.name == $n) | .counters[$c]] | .[0] // "missing"' "$1"; }

sf_synfence_start -l "$TMPD/run.log" -w 2 80 --sysctl-interval 1
check_eq "$(cli2 curl -sS --max-time 5 "http://$SRV2_4/")" "$NGINX_BODY" "curl through $SRV2_IF"

log "delete $SRV2_IF under the running daemon"
ip -n "$SRV_NS" link del "$SRV2_IF"
check_true "the daemon logs the disappearance" sf_wait_log "$SF_LOG" "interface $SRV2_IF \(ifindex [0-9]+\) disappeared" 3
sleep 1.5
check_true "the daemon survives" kill -0 "$SF_PID"
check_eq "$(sf_pinned_link_id xdp "$SRV2_IF")/$(sf_pinned_link_id tc "$SRV2_IF")" none/none "the dead interface's link pins are gone"
sf_snap "$TMPD/g0"
check_eq "$(sf_curl "http://$SRV4/")/$(sf_curl "http://[$SRV6]/")" "$NGINX_BODY/$NGINX_BODY" "$SRV_IF still serves"
sf_snap "$TMPD/g1"
check_eq "$(($(ifcnt "$TMPD/g1" "$SRV_IF" handoff_ok) - $(ifcnt "$TMPD/g0" "$SRV_IF" handoff_ok)))" 2 \
	"... and is still protected (handoff_ok +2 on $SRV_IF)"
st=$(sf_state_strings | grep disappeared)
check_match "$st" "interface $SRV2_IF .* disappeared" "the published state's last error reports it"
check_match "$(sf_status_json | jq -r .daemon.last_error)" "^interface $SRV2_IF \(ifindex [0-9]+\) disappeared" \
	"status -j: the last error names the vanished interface"

log "$SRV2_IF comes back"
# (re)create veth-srv2 <-> veth-cli2 as sf_topo_add_link does, IPv4 only
sf_veth_add "$SRV_NS" "$SRV2_IF" "$SRV2_4" "" "$CLI2_NS" "$CLI2_IF" "$CLI2_4" "" "$XDP_PASS"
check_true "the daemon attaches again" sf_wait_log "$SF_LOG" "interface $SRV2_IF is back \(ifindex [0-9]+\): protected again" 3
check_true "XDP is on the new $SRV2_IF" sf_xdp_attached "$SRV2_IF"
check_ne "$(sf_pinned_link_id tc "$SRV2_IF")" none "its TC link is pinned again"
sf_snap "$TMPD/g2"
check_eq "$(cli2 curl -sS --max-time 5 "http://$SRV2_4/")" "$NGINX_BODY" "curl through the new $SRV2_IF"
sf_snap "$TMPD/g3"
check_eq "$(ifcnt "$TMPD/g3" "$SRV2_IF" handoff_ok)" 1 "the new $SRV2_IF counts from zero, through synfence"
check_eq "$(jq -r --arg n "$SRV2_IF" '.interfaces[] | select(.name == $n) | .ifindex' "$TMPD/g3")" \
	"$(sf_ifindex "$SRV2_IF")" "stats has its new ifindex"

log "the TC link of $SRV_IF detached behind the daemon's back"
tc0=$(sf_pinned_link_id tc "$SRV_IF") x0=$(sf_pinned_link_id xdp "$SRV2_IF")
sf_snap "$TMPD/l0"
check_true "bpftool link detach id $tc0" bpftool link detach id "$tc0"
check_true "the daemon logs the lost TC link within 3 s" \
	sf_wait_log "$SF_LOG" "interface $SRV_IF \(ifindex [0-9]+\) lost its TC link .*synfence attaches it again" 3
check_true "... and attaches $SRV_IF again" sf_wait_log "$SF_LOG" "interface $SRV_IF re-attached \(ifindex [0-9]+\): protected again" 3
out=$(sf_status_json)
check_eq "$?" 0 "status: exit 0"
check_eq "$(jq -c --arg n "$SRV_IF" '.interfaces[] | select(.name == $n) | .attached' <<<"$out")" '{"xdp":true,"tc":true}' \
	"status -j: XDP and TC attached to $SRV_IF again"
check_match "$(jq -r .daemon.last_error <<<"$out")" "^interface $SRV_IF \(ifindex [0-9]+\) lost its TC link" "status -j: the last error names it"
tc1=$(sf_pinned_link_id tc "$SRV_IF")
check_true "a new TC link is pinned ($tc0 -> $tc1)" test "$tc1" != none -a "$tc1" != "$tc0"
check_eq "$(sf_pinned_link_id xdp "$SRV2_IF")" "$x0" "$SRV2_IF was not touched (same XDP link)"
sf_snap "$TMPD/l1"
check_eq "$(sf_curl "http://$SRV4/")" "$NGINX_BODY" "curl through $SRV_IF after the re-attach"
sf_snap "$TMPD/l2"
check_eq "$(($(ifcnt "$TMPD/l2" "$SRV_IF" synack_sent) - $(ifcnt "$TMPD/l1" "$SRV_IF" synack_sent)))/$(($(ifcnt "$TMPD/l2" "$SRV_IF" handoff_ok) - $(ifcnt "$TMPD/l1" "$SRV_IF" handoff_ok)))" \
	1/1 "a fresh handshake through XDP (synack_sent +1) handed over by TC (handoff_ok +1)"
check_ge "$(ifcnt "$TMPD/l1" "$SRV_IF" handoff_ok)" "$(ifcnt "$TMPD/l0" "$SRV_IF" handoff_ok)" \
	"$SRV_IF kept its counters (same device)"

log "synfence detach, after a stop that left protection in place"
sf_synfence_stop -q -s USR2
check_eq "$SF_RC" 0 "SIGUSR2: exit 0"
x1=$(sf_pinned_link_id xdp "$SRV_IF") t1=$(sf_pinned_link_id tc "$SRV_IF")
out=$(srv "$SYNFENCE" detach "$SRV2_IF" --pin-dir "$PIN")
check_eq "$?" 0 "detach $SRV2_IF exits 0"
check_eq "$out" "$SRV2_IF: detached XDP and TC" "detach says what it did"
if sf_xdp_attached "$SRV2_IF"; then _fail "XDP gone from $SRV2_IF"; else _ok "XDP gone from $SRV2_IF"; fi
check_true "$SRV_IF is still protected" sf_xdp_attached "$SRV_IF"
check_true "the pinned state stays while $SRV_IF uses it" test -e "$PIN/sf_secrets"
out=$(srv "$SYNFENCE" detach "$SRV_IF" --pin-dir "$PIN" -j)
check_eq "$?" 0 "detach $SRV_IF exits 0"
check_eq "$(jq -c . <<<"$out")" "{\"interfaces\":[{\"name\":\"$SRV_IF\",\"xdp\":true,\"tc\":true}],\"state_removed\":true}" "detach -j output"
if sf_xdp_attached "$SRV_IF"; then _fail "XDP gone from $SRV_IF"; else _ok "XDP gone from $SRV_IF"; fi
check_true "its links are gone" bash -c "! bpftool link show id $x1 >/dev/null 2>&1 && ! bpftool link show id $t1 >/dev/null 2>&1"
check_true "the pin dir is gone with the last interface" test ! -e "$PIN"
out=$(srv "$SYNFENCE" detach "$SRV_IF" --pin-dir "$PIN")
check_eq "$?/$out" "0/$SRV_IF: no synfence program was attached" "detach again: nothing to do, exit 0"
check_eq "$(sf_curl "http://$SRV4/")" "$NGINX_BODY" "connections work after the detach"
sf_finish
