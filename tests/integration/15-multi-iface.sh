#!/bin/bash
# One synfence on two interfaces (`synfence run veth-srv veth-srv2 --ports 80`), each leading to its
# own client namespace: connections through both are cookie-made, `stats -j` lists both interfaces
# by name and ifindex with their own counters, the totals are the per-interface sums, and SIGTERM
# detaches from both.
. "$(dirname "$0")/../lib.sh"

N1=${SF_MULTI_N1:-6}
N2=${SF_MULTI_N2:-9}
sf_init multi
sf_require_synfence
sf_topo_up
sf_topo_add_link
NGINX_ADDRS=("$SRV4" "[$SRV6]" "$SRV2_4" "[$SRV2_6]")
sf_nginx_start 80
sf_synfence_start 80

sf_snap "$TMPD/s0"
good1=0 good2=0
for i in $(seq "$N1"); do
	if [ $((i % 2)) = 0 ]; then u="http://$SRV4/"; else u="http://[$SRV6]/"; fi
	[ "$(cli curl -sS -g --max-time 10 "$u")" = "$NGINX_BODY" ] && good1=$((good1 + 1))
done
for i in $(seq "$N2"); do
	if [ $((i % 2)) = 0 ]; then u="http://$SRV2_4/"; else u="http://[$SRV2_6]/"; fi
	[ "$(cli2 curl -sS -g --max-time 10 "$u")" = "$NGINX_BODY" ] && good2=$((good2 + 1))
done
check_eq "$good1" "$N1" "curl through $SRV_IF (first client namespace)"
check_eq "$good2" "$N2" "curl through $SRV2_IF (second client namespace)"
sf_snap "$TMPD/s1"
log "stats -j interfaces: $(jq -c '[.interfaces[] | {name, ifindex, handoff_ok: .counters.handoff_ok}]' "$TMPD/s1")"

check_eq "$(jq -r '.interfaces | length' "$TMPD/s1")" 2 "stats -j lists two interfaces"
# ifcnt FILE IF COUNTER
ifcnt() { jq -r --arg n "$2" --arg c "$3" '[.interfaces[] | select(.name == $n) | .counters[$c]] | if length == 1 then .[0] else "missing" end' "$1"; }
for dev in "$SRV_IF" "$SRV2_IF"; do
	check_eq "$(jq -r --arg n "$dev" '.interfaces[] | select(.name == $n) | .ifindex' "$TMPD/s1")" \
		"$(sf_ifindex "$dev")" "stats -j gives $dev with its ifindex"
done
d1=$(($(ifcnt "$TMPD/s1" "$SRV_IF" handoff_ok) - $(ifcnt "$TMPD/s0" "$SRV_IF" handoff_ok)))
d2=$(($(ifcnt "$TMPD/s1" "$SRV2_IF" handoff_ok) - $(ifcnt "$TMPD/s0" "$SRV2_IF" handoff_ok)))
check_eq "$d1" "$N1" "handoff_ok of $SRV_IF counts its $N1 connections"
check_eq "$d2" "$N2" "handoff_ok of $SRV2_IF counts its $N2 connections"
for c in syn_recv synack_sent ack_cookie_ok; do
	a=$(($(ifcnt "$TMPD/s1" "$SRV_IF" $c) - $(ifcnt "$TMPD/s0" "$SRV_IF" $c)))
	b=$(($(ifcnt "$TMPD/s1" "$SRV2_IF" $c) - $(ifcnt "$TMPD/s0" "$SRV2_IF" $c)))
	check_eq "$a/$b" "$N1/$N2" "$c per interface ($SRV_IF/$SRV2_IF)"
done
# totals are the sums over the interfaces, for every counter
bad=$(jq -r '.total as $t | [$t | keys[] | . as $k | select(([$ARGS.named.f.interfaces[].counters[$k]] | add) != $t[$k]) | $k] | join(" ")' \
	--argjson f "$(cat "$TMPD/s1")" "$TMPD/s1")
check_eq "${bad:-none}" none "every total counter equals the sum over the interfaces"
check_eq "$(sf_cnt "$TMPD/s1" handoff_err)" 0 "handoff_err stays 0"

sf_synfence_stop
check_eq "$(cli2 curl -sS -g --max-time 10 "http://$SRV2_4/")" "$NGINX_BODY" "after synfence exit, $SRV2_IF still serves"
sf_finish
