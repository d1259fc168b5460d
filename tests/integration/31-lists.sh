#!/bin/bash
# Allow and deny lists (allow_file/deny_file, `synfence allow|deny add|del|list`):
#  1. run with --allow-file/--deny-file: list shows their entries (origin file); a client in
#     neither list is challenged (synack_sent).
#  2. allow add CLIENT (IPv4 /32, IPv6 /64): its SYNs go to the kernel (synack_sent does not move,
#     pass_allowed does, and the connection works); allow del: challenged again.
#  3. deny add of the spoofed range: N SYNs and N bare ACKs from it are all dropped (drop_denied =
#     2N exactly, no SYN-ACK, no SYN-RECV socket); IPv6 too.
#  4. deny add CLIENT --ttl 2 blocks the real client, then lets it through again by itself; list -j
#     shows origin and ttl; the daemon sweeps the expired entry.
#  5. SIGHUP with new files: file entries replaced, live entries kept; a bad file line fails the
#     reload (FILE:LINE, lists unchanged); run --check-config with a bad file exits 2 with FILE:LINE;
#     100,000 prefixes load within 1 s of SIGHUP, and a SIGHUP that swaps them for 100,000 others
#     fails none of a loop of new connections.
#  6. bad input: a bad CIDR, a prefix length out of range (exit 2), add without a daemon (exit 1).
#  7. SIGUSR2 take-over: live entries survive the hot restart.
. "$(dirname "$0")/../lib.sh"

sf_init lists
sf_require_synfence
sf_topo_up
sf_nginx_start 80
sf_build_tools
N=${SF_LISTS_N:-50}
ALLOW=$TMPD/allow.txt DENY=$TMPD/deny.txt
printf '# allowed partners\n203.0.113.0/24\n2001:db8:1::/48   # v6 partner\n\n' >"$ALLOW"
printf '192.0.2.0/24\n' >"$DENY"

lst() { srv "$SYNFENCE" "$@" --pin-dir "$PIN"; }
# get URL: the page (or nothing), curl quick
get() { cli curl -sS -g --max-time "${2:-3}" "$1" 2>/dev/null; }
spoofed() { cli "$SFI_FLOOD" -i "$CLI_IF" -M "$(sf_srv_mac)" -D "$1" -p 80 -n "$3" -m "$2" -r 2000 -T 60 >/dev/null; }
synrecv() { srv ss -Htn state syn-recv "( sport = :80 )" | wc -l; }

log "1. run with list files"
sf_synfence_start 80 --allow-file "$ALLOW" --deny-file "$DENY"
check_true "run logs the allow file" grep -q "allow list: 2 prefixes from $ALLOW" "$SF_LOG"
check_eq "$(lst allow list -j | jq -c '[.entries[] | [.prefix, .origin, .ttl]]')" \
	'[["203.0.113.0/24","file",null],["2001:db8:1::/48","file",null]]' "allow list -j: the file's entries, origin file, no ttl"
check_eq "$(lst deny list | awk '{ print $1, $2 }')" "192.0.2.0/24 file" "deny list (text): the file's entry"
sf_snap "$TMPD/s0"
check_eq "$(get "http://$SRV4/")" "$NGINX_BODY" "a client in neither list gets the page"
sf_snap "$TMPD/s1"
check_eq "$(sf_delta "$TMPD/s0" "$TMPD/s1" synack_sent)" 1 "... challenged: synack_sent +1"
check_eq "$(sf_delta "$TMPD/s0" "$TMPD/s1" pass_allowed)" 0 "... pass_allowed +0"

log "2. allow add"
check_eq "$(lst allow add "$CLI4" "$CLI6/64"; echo $?)" 0 "allow add $CLI4 $CLI6/64 exits 0"
sleep 0.1
check_eq "$(get "http://$SRV4/")$(get "http://[$SRV6]/")" "$NGINX_BODY$NGINX_BODY" "allowed client: IPv4 and IPv6 get the page"
sf_snap "$TMPD/s2"
check_eq "$(sf_delta "$TMPD/s1" "$TMPD/s2" synack_sent)" 0 "allowed: synack_sent +0 (the kernel answered)"
check_eq "$(sf_delta "$TMPD/s1" "$TMPD/s2" pass_allowed)" 2 "allowed: pass_allowed +2 (one SYN each)"
check_eq "$(sf_delta "$TMPD/s1" "$TMPD/s2" handoff_ok)" 0 "allowed: no handoff"
check_eq "$(lst allow list -j | jq -c "[.entries[] | select(.origin == \"live\") | .prefix]")" \
	"[\"$CLI4/32\",\"fd00::/64\"]" "allow list -j: the live entries (IPv4 first)"
check_eq "$(lst allow del "$CLI4" "$CLI6/64"; echo $?)" 0 "allow del exits 0"
check_eq "$(get "http://$SRV4/")" "$NGINX_BODY" "after allow del: the page"
sf_snap "$TMPD/s3"
check_eq "$(sf_delta "$TMPD/s2" "$TMPD/s3" synack_sent)" 1 "after allow del: challenged again (synack_sent +1)"
check_eq "$(sf_delta "$TMPD/s2" "$TMPD/s3" pass_allowed)" 0 "after allow del: pass_allowed +0"
check_eq "$(lst allow del "$CLI4" 2>&1; echo "rc=$?")" "$(printf 'synfence: allow del: %s/32 is not in the allow list\nrc=1' "$CLI4")" \
	"allow del of an absent prefix: one line, exit 1"
check_ne "$(lst allow del 203.0.113.0/24 >/dev/null 2>&1; echo $?)" 0 "allow del of a file-only entry fails"

log "3. deny: spoofed SYNs and ACKs dropped, exact"
lst deny add 198.18.1.0/24 fd00:1::/64
sleep 0.1
sf_snap "$TMPD/s4"
spoofed "$SRV4" syn "$N"
spoofed "$SRV4" ack "$N"
spoofed "$SRV6" syn "$N"
sleep 0.3
sf_snap "$TMPD/s5"
check_eq "$(sf_delta "$TMPD/s4" "$TMPD/s5" drop_denied)" $((3 * N)) "denied: $N SYNs + $N ACKs (IPv4) + $N SYNs (IPv6): drop_denied +$((3 * N))"
check_eq "$(sf_delta "$TMPD/s4" "$TMPD/s5" synack_sent)" 0 "denied: no SYN-ACK"
check_eq "$(sf_delta "$TMPD/s4" "$TMPD/s5" ack_cookie_bad)" 0 "denied: ACKs dropped as denied, not as bad cookies"
check_eq "$(synrecv)" 0 "denied: no SYN-RECV socket on the server"
lst deny del 198.18.1.0/24 fd00:1::/64

log "4. deny add --ttl 2"
check_eq "$(lst deny add "$CLI4" --ttl 2; echo $?)" 0 "deny add $CLI4 --ttl 2"
sf_snap "$TMPD/s6"
check_eq "$(get "http://$SRV4/" 1)" "" "denied client: no page within 1 s"
sf_snap "$TMPD/s7"
check_ge "$(sf_delta "$TMPD/s6" "$TMPD/s7" drop_denied)" 1 "denied client's SYN: drop_denied moves"
ttl=$(lst deny list -j | jq -r ".entries[] | select(.prefix == \"$CLI4/32\") | \"\(.origin) \(.ttl)\"")
check_match "$ttl" "^live [12]$" "deny list -j: origin live, ttl 1-2 s ($ttl)"
sleep 2.2
check_eq "$(get "http://$SRV4/")" "$NGINX_BODY" "after the ttl: the client gets the page again"
check_eq "$(lst deny list -j | jq -r ".entries[] | select(.prefix == \"$CLI4/32\") | .prefix")" "" "the expired entry is no longer listed"
check_true "the daemon sweeps the expired entry" sf_wait_log "$SF_LOG" "deny list: 1 live entry expired" 8

log "5. SIGHUP replaces the file entries, keeps the live ones"
lst allow add 100.64.0.0/10 --ttl 600
printf '203.0.113.0/25\n' >"$ALLOW"
: >"$DENY"
check_true "SIGHUP: reloaded" sf_hup "allow list: 1 prefixes from"
check_eq "$(lst allow list -j | jq -c '[.entries[] | [.prefix, .origin]]')" \
	'[["100.64.0.0/10","live"],["203.0.113.0/25","file"]]' "after SIGHUP: the new file entry, the live one kept"
check_eq "$(lst deny list)" "" "after SIGHUP: the emptied deny file leaves an empty deny list"
printf '10.0.0.0/8\n10.1.2.3/33\n' >"$ALLOW"
check_true "SIGHUP with a bad line: the reload fails with FILE:LINE" sf_hup "reload failed: $ALLOW:2: bad prefix"
check_eq "$(lst allow list -j | jq -c '[.entries[] | .prefix]')" '["100.64.0.0/10","203.0.113.0/25"]' "... and the lists stay as they were"
out=$(srv "$SYNFENCE" run "$SRV_IF" --ports 80 --allow-file "$ALLOW" --check-config 2>&1)
check_eq "$?" 2 "run --check-config with a bad allow file exits 2"
check_match "$out" "$ALLOW:2: bad prefix \"10.1.2.3/33\": prefix length must be 0-32" "... naming FILE:LINE ($out)"
printf '10.0.0.0/8\n' >"$ALLOW"
check_match "$(srv "$SYNFENCE" run "$SRV_IF" --ports 80 --allow-file "$ALLOW" --deny-file "$DENY" --check-config)" "allow file $ALLOW \\(1 prefix" "--check-config shows the list files"

log "5b. 100,000 prefixes in the deny file: loaded on SIGHUP in under 1 s"
awk 'BEGIN { for (i = 1; i <= 100000; i++) printf "10.%d.%d.%d\n", int(i / 65536), int(i / 256) % 256, i % 256 }' >"$DENY"
t0=$(date +%s%N)
check_true "SIGHUP: 100000 deny prefixes loaded" sf_hup "deny list: 100000 prefixes from"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
load=$(grep -o "deny list: 100000 prefixes .* in [0-9]* ms" "$SF_LOG" | grep -o "[0-9]* ms$")
log "   100000 prefixes: SIGHUP to log line $ms ms, the daemon's load $load"
check_le "$ms" 1000 "100000 prefixes loaded within 1 s of SIGHUP ($ms ms; daemon: $load)"
check_eq "$(lst deny list -j | jq '.entries | length')" 100000 "deny list -j: 100000 entries"
check_eq "$(get "http://$SRV4/")" "$NGINX_BODY" "with 100000 deny prefixes the client (in none) gets the page"

log "5c. a SIGHUP that swaps the 100,000 deny prefixes for 100,000 others, under a loop of new connections"
STOP=$TMPD/stop-swap
sf_newconn_loop "$STOP" "$TMPD/newconn-swap.log"
sleep 1
awk 'BEGIN { for (i = 1; i <= 100000; i++) printf "11.%d.%d.%d\n", int(i / 65536), int(i / 256) % 256, i % 256 }' >"$DENY"
check_true "SIGHUP: the deny file swapped for 100000 other prefixes" sf_hup "deny list: 100000 prefixes from"
sleep 1
check_eq "$(lst deny list -j | jq -r '"\(.entries | length)/\([.entries[] | select(.prefix | startswith("11."))] | length)"')" \
	100000/100000 "deny list -j: the 100000 new prefixes, none of the old"
sf_newconn_finish "$STOP" "$TMPD/newconn-swap.log" "across the swap of 100,000-prefix files"
: >"$DENY"
check_true "SIGHUP: the emptied deny file" sf_hup "deny list: 0 prefixes from"

log "6. bad input"
for bad in 10.0.0.0/33 10.0.0.1/ 300.1.2.3 fd00::/129 nonsense 10.0.0.0/-1; do
	out=$(lst deny add "$bad" 2>&1)
	check_eq "$?/$(wc -l <<<"$out")" 2/1 "deny add $bad: exit 2, one line ($out)"
done
out=$(srv "$SYNFENCE" allow add 10.0.0.0/8 --pin-dir "$TMPD/nopins" 2>&1)
check_eq "$?/$(wc -l <<<"$out")" 1/1 "allow add with no daemon: exit 1, one line ($out)"

log "7. SIGUSR2 take-over keeps the live entries"
kill -USR2 "$SF_PID"
sf_wait_pid "$SF_PID" 10
# (-w 1: up when it logs "protecting": the maps and links of the earlier run answer at once)
sf_synfence_start -w 1 80 --allow-file "$ALLOW"
check_eq "$(lst allow list -j | jq -c '[.entries[] | [.prefix, .origin]]')" \
	'[["10.0.0.0/8","file"],["100.64.0.0/10","live"]]' "after a hot restart: the live entry is still there"
lst allow add "$CLI4"
sf_snap "$TMPD/s8"
check_eq "$(get "http://$SRV4/")" "$NGINX_BODY" "allowed client after the restart: the page"
sf_snap "$TMPD/s9"
check_eq "$(sf_delta "$TMPD/s8" "$TMPD/s9" pass_allowed)" 1 "... pass_allowed +1"
sf_finish
