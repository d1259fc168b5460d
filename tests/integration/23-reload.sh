#!/bin/bash
# SIGHUP reloads the config file live, while new connections to the port that stays (80) run in a
# loop and must all succeed:
#  - port 8080 and interface veth-srv2 added: SYNs to 8080 are answered by XDP (synack_sent grows,
#    the capture shows SYN-ACKs from XDP), veth-srv2 is protected, veth-srv is not touched (same
#    links, same program);
#  - both removed again: 8080 passes to the kernel (pass_unprotected), veth-srv2 is detached;
#  - a config with an error is refused as a whole (logged, and kept as the last error that
#    `status -j` shows), the running one stays;
#  - the rotation period changes (status/state), flags keep overriding the file;
#  - 30 more reloads leave the daemon's memory flat.
SF_PREFIX=${SF_TAG:-}sfr
. "$(dirname "$0")/../lib.sh"

sf_init reload
sf_require_synfence
sf_topo_up
sf_topo_add_link
NGINX_ADDRS=("$SRV4" "[$SRV6]" "$SRV2_4")
sf_nginx_start 80 8080
CONF=$TMPD/synfence.conf

# write_conf IFACES PORTS ROTATE [LINE]: the config file, with an extra LINE if given
write_conf() {
	printf '# test config\ninterfaces = %s\nports = %s\nrotate = %s\n%s\n' "$1" "$2" "$3" "${4:-}" >"$CONF.tmp"
	mv "$CONF.tmp" "$CONF"
}
write_conf "$SRV_IF" 80 60
sf_synfence_start -l "$TMPD/run.log" -a --config "$CONF" --pin-dir "$PIN" --sysctl-interval 1
xdp_link=$(sf_pinned_link_id xdp "$SRV_IF")
tc_link=$(sf_pinned_link_id tc "$SRV_IF")
prog=$(sf_xdp_prog_id)

STOP=$TMPD/stop
sf_newconn_loop "$STOP" "$TMPD/newconn.log"
NC=$SF_NEWCONN_PID
sleep 1

log "8080 and $SRV2_IF added"
sf_snap "$TMPD/a0"
write_conf "$SRV_IF $SRV2_IF" 80,8080 30
check_true "SIGHUP: reloaded with the changes" sf_hup "reloaded $CONF: \+$SRV2_IF ports=80,8080 rotate=30s"
check_true "$SRV2_IF is protected after the reload" sf_xdp_attached "$SRV2_IF"
check_ne "$(sf_pinned_link_id xdp "$SRV2_IF")" none "$SRV2_IF's XDP link is pinned"
sf_pcap_start syn8080 "$CLI_NS" "$CLI_IF" 'tcp port 8080 and tcp[tcpflags] & tcp-syn != 0'
for i in 1 2 3; do
	check_eq "$(sf_curl "http://$SRV4:8080/")" "$NGINX_BODY" "curl to the added port 8080 ($i)"
done
check_eq "$(cli2 curl -sS --max-time 5 "http://$SRV2_4/")" "$NGINX_BODY" "curl through the added $SRV2_IF"
sf_handshake 198.18.1.80 "$SRV4" 8080 -P 42080 -a 0x800 >"$TMPD/hs1.log"
sleep 0.3
sf_pcap_stop syn8080
sf_snap "$TMPD/a1"
synacks=$(tcpdump -nn -r "$TMPD/syn8080.pcap" 'tcp[tcpflags] & 0x12 == 0x12' 2>/dev/null | wc -l)
check_eq "$synacks" 4 "four SYN-ACKs from port 8080 seen by the client"
check_eq "$(sf_delta "$TMPD/a0" "$TMPD/a1" pass_unprotected)" 0 "no segment to 8080 passed as unprotected"
check_eq "$(sf_delta "$TMPD/a0" "$TMPD/a1" ack_bad_hash)" 1 "XDP made the SYN-ACK on 8080 and checks its cookie (a forged ACK is dropped)"
ifh=$(jq -r --arg n "$SRV2_IF" '[.interfaces[] | select(.name == $n) | .counters.handoff_ok] | .[0] // "missing"' "$TMPD/a1")
check_eq "$ifh" 1 "stats counts the connection on $SRV2_IF"
check_eq "$(sf_pinned_link_id xdp "$SRV_IF")/$(sf_pinned_link_id tc "$SRV_IF")/$(sf_xdp_prog_id)" \
	"$xdp_link/$tc_link/$prog" "$SRV_IF kept its links and program across the reload"
check_eq "$(bpftool map dump pinned "$PIN/sf_state" -j | jq -r '.[0].value | .[32:36] | reverse | map(ltrimstr("0x")) | join("")' | xargs -I{} printf '%d' 0x{})" 30 \
	"the published state has the new rotation period (rotate_s = 30)"

log "8080 and $SRV2_IF removed"
write_conf "$SRV_IF" 80 30 "sysctl_interval = 30" # --sysctl-interval 1 overrides it
check_true "SIGHUP: reloaded, sysctl_interval from the flag, not the file" \
	sf_hup "reloaded $CONF: ports=80 -$SRV2_IF\$"
if sf_xdp_attached "$SRV2_IF"; then _fail "$SRV2_IF detached after the reload"; else _ok "$SRV2_IF detached after the reload"; fi
check_eq "$(sf_pinned_link_id xdp "$SRV2_IF")" none "$SRV2_IF's link pin is gone"
sf_snap "$TMPD/b0"
check_eq "$(sf_curl "http://$SRV4:8080/")" "$NGINX_BODY" "curl to 8080 works, through the kernel"
check_eq "$(cli2 curl -sS --max-time 5 "http://$SRV2_4/")" "$NGINX_BODY" "curl through $SRV2_IF works without synfence"
sf_snap "$TMPD/b1"
check_ge "$(sf_delta "$TMPD/b0" "$TMPD/b1" pass_unprotected)" 3 "segments to 8080 pass untouched (pass_unprotected)"
check_eq "$(jq -r '.interfaces | length' "$TMPD/b1")" 1 "stats lists one interface again"
check_eq "$(sf_xdp_prog_id)" "$prog" "$SRV_IF still runs the same program"

log "a config with an error is refused as a whole"
printf 'interfaces = %s %s\nports = 80,8080\nrotate = never\n' "$SRV_IF" "$SRV2_IF" >"$CONF"
check_true "SIGHUP: reload refused" sf_hup "reload failed: $CONF:3: rotate: bad rotation period"
out=$(sf_status_json)
check_eq "$?" 0 "status after the refused reload: exit 0 (protection goes on)"
check_match "$(jq -r .daemon.last_error <<<"$out")" "^reload failed: $CONF:3: rotate: bad rotation period \"never\"" \
	"status -j: the last error names the bad line"
check_le "$(jq -r '.daemon.last_error_age_s | floor' <<<"$out")" 2 "status -j: ... with its age"
check_match "$(srv "$SYNFENCE" status -i 0 --pin-dir "$PIN")" $'\nerror     [0-9]+s ago: reload failed: '"$CONF:3: rotate" \
	"status (text): the last error"
if sf_xdp_attached "$SRV2_IF"; then _fail "nothing of the bad config applied ($SRV2_IF not attached)"; else _ok "nothing of the bad config applied ($SRV2_IF not attached)"; fi
check_true "the daemon still runs" kill -0 "$SF_PID"
printf 'interfaces = %s nosuch0\nports = 80,8080\n' "$SRV_IF" >"$CONF"
check_true "SIGHUP: a missing interface refuses the reload" sf_hup "reload failed: no such interface: nosuch0"
check_match "$(sf_status_json | jq -r .daemon.last_error)" '^reload failed: no such interface: nosuch0' \
	"status -j: the last error is the latest one"
sf_snap "$TMPD/c0"
sf_curl "http://$SRV4:8080/" >/dev/null
sf_snap "$TMPD/c1"
check_ge "$(sf_delta "$TMPD/c0" "$TMPD/c1" pass_unprotected)" 3 "port 8080 of the refused config is not protected"
check_eq "$(tail -n1 "$SF_LOG" | grep -c 'error: reload failed')" 1 "the refusal is logged as an error"

printf 'interfaces = %s\nports = 80\nsecret_file = %s\n' "$SRV_IF" "$TMPD/nosecret" >"$CONF"
check_true "SIGHUP: a missing secret file refuses the reload, naming the config line" \
	sf_hup "reload failed: $CONF:3: secret_file: secret file $TMPD/nosecret: No such file"
check_match "$(sf_status_json | jq -r .daemon.last_error)" "^reload failed: $CONF:3: secret_file: " \
	"status -j: the last error names it"

log "30 reloads: memory stays flat"
write_conf "$SRV_IF" 80 30
sf_hup "reloaded" >/dev/null
rss0=$(awk '/^VmRSS/ { print $2 }' /proc/"$SF_PID"/status)
fds0=$(ls /proc/"$SF_PID"/fd | wc -l)
for i in $(seq 30); do
	if [ $((i % 2)) = 0 ]; then write_conf "$SRV_IF" 80 30; else write_conf "$SRV_IF $SRV2_IF" 80,8080 20; fi
	sf_hup "reloaded" || { _fail "reload $i"; break; }
done
rss1=$(awk '/^VmRSS/ { print $2 }' /proc/"$SF_PID"/status)
write_conf "$SRV_IF" 80 30
sf_hup "reloaded" >/dev/null
check_eq "$(ls /proc/"$SF_PID"/fd | wc -l)" "$fds0" "no file descriptor leaked over 30 reloads"
check_le "$((rss1 - rss0))" 512 "RSS grew by at most 512 KiB over 30 reloads ($rss0 -> $rss1 KiB)"
sleep 1

: >"$STOP"
wait $NC
res=$(tail -n 1 "$TMPD/newconn.log")
grep FAILED "$TMPD/newconn.log" | head -5 | sed 's/^/    /'
check_match "$res" "bad=0$" "no connection to port 80 failed across the reloads ($res)"
check_match "$res" "ok=[0-9]{2,}" "the connection loop ran ($res)"
SF_TCX=
sf_synfence_stop
sf_finish
