#!/bin/bash
# synfence run as a system daemon:
#  - sd_notify: READY=1 once attached, WATCHDOG=1 at half of WATCHDOG_USEC, RELOADING=1 then
#    READY=1 around a SIGHUP, STOPPING=1 on SIGTERM (a stand-in notification socket);
#  - under journald (JOURNAL_STREAM names stderr) every line carries its syslog priority;
#  - the shipped unit file (contrib/synfence.service) passes systemd-analyze verify, is Type=notify
#    and bounds the capabilities to CAP_BPF CAP_PERFMON CAP_NET_ADMIN CAP_SYS_ADMIN, and synfence
#    runs, takes over and stops cleanly with exactly that bounding set;
#  - the example config (contrib/synfence.conf) passes --check-config.
SF_PREFIX=${SF_TAG:-}sfr
. "$(dirname "$0")/../lib.sh"

sf_init lifecycle
sf_require_synfence
sf_topo_up
sf_nginx_start 80
NOTIFY=$(sf_abspath "${SFI_NOTIFY:-$BUILD/sfi_notify}")
_sf_build_tool sfi_notify "$NOTIFY"

log "sd_notify"
"$NOTIFY" "$TMPD/notify.sock" 20000 >"$TMPD/notify.log" 2>&1 &
NP=$!
sf_track_pid $NP
for i in $(seq 50); do [ -S "$TMPD/notify.sock" ] && break; sleep 0.1; done
SF_LOG=$TMPD/run1.log
: >"$SF_LOG"
ip netns exec "$SRV_NS" env NOTIFY_SOCKET="$TMPD/notify.sock" WATCHDOG_USEC=1000000 \
	"$SYNFENCE" run "$SRV_IF" --ports 80 --pin-dir "$PIN" >>"$SF_LOG" 2>&1 &
SF_PID=$!
sf_track_pid $SF_PID
check_true "READY=1 once attached" sf_wait_log "$TMPD/notify.log" "READY=1 STATUS=protecting 1 interface" 10
check_true "XDP is attached by then" sf_xdp_attached
sleep 1.6
check_ge "$(grep -c 'WATCHDOG=1' "$TMPD/notify.log")" 2 "WATCHDOG=1 every half WATCHDOG_USEC"
kill -HUP "$SF_PID"
check_true "RELOADING=1 on SIGHUP" sf_wait_log "$TMPD/notify.log" "RELOADING=1 MONOTONIC_USEC=[0-9]+" 5
sleep 0.3
check_eq "$(grep -E 'RELOADING=1|READY=1' "$TMPD/notify.log" | tail -n 1 | grep -c 'READY=1')" 1 "READY=1 after the reload"
SF_TCX=
sf_synfence_stop
check_true "STOPPING=1 on SIGTERM" sf_wait_log "$TMPD/notify.log" "STOPPING=1" 3
wait $NP

log "journald: priorities"
SF_LOG=$TMPD/run2.log
: >"$SF_LOG"
js=$(stat -c '%d:%i' "$SF_LOG")
ip netns exec "$SRV_NS" env JOURNAL_STREAM="$js" "$SYNFENCE" run "$SRV_IF" --ports 80 --pin-dir "$PIN" 2>>"$SF_LOG" &
SF_PID=$!
sf_track_pid $SF_PID
check_true "info lines carry <6>" sf_wait_log "$SF_LOG" "^<6>protecting $SRV_IF" 10
sf_synfence_stop
check_eq "$(grep -vc '^<[0-7]>' "$SF_LOG")" 0 "every line has a priority prefix"

log "the unit file"
UNIT=$SF_SRC/contrib/synfence.service
sed -e "s|^ExecStart=/usr/local/sbin/synfence|ExecStart=$SYNFENCE|" -e '/^Documentation=/d' "$UNIT" >"$TMPD/synfence.service"
out=$(systemd-analyze verify "$TMPD/synfence.service" 2>&1)
check_eq "$?:$out" "0:" "systemd-analyze verify passes"
check_eq "$(grep -c '^Type=notify$' "$UNIT")" 1 "Type=notify"
caps=$(sed -n 's/^CapabilityBoundingSet=//p' "$UNIT")
check_eq "$caps" "CAP_BPF CAP_PERFMON CAP_NET_ADMIN CAP_SYS_ADMIN" "CapabilityBoundingSet"
for d in NoNewPrivileges=yes ProtectSystem=strict ProtectHome=yes PrivateTmp=yes MemoryDenyWriteExecute=yes \
	"ExecReload=/bin/sh -c 'kill -HUP \$\$MAINPID'" WatchdogSec=30s After=network.target RestartPreventExitStatus=2; do
	check_eq "$(grep -cxF "$d" "$UNIT")" 1 "unit has $d"
done
bset=$(tr ' ' '\n' <<<"$caps" | sed 's/^CAP_//' | tr 'A-Z' 'a-z' | sed 's/^/+/' | paste -sd,)
sf_synfence_start -l "$TMPD/run3.log" -w 1 80
sf_synfence_stop -q -s KILL
SF_LOG=$TMPD/run4.log
: >"$SF_LOG"
ip netns exec "$SRV_NS" setpriv --bounding-set=-all,"$bset" --inh-caps=-all \
	"$SYNFENCE" run "$SRV_IF" --ports 80 --pin-dir "$PIN" >>"$SF_LOG" 2>&1 &
SF_PID=$!
sf_track_pid $SF_PID
check_true "with only $caps: takes over after kill -9" sf_wait_log "$SF_LOG" "took over the pinned state" 10
check_eq "$(awk '/^CapBnd/ { print $2 }' /proc/$SF_PID/status)" 000000c000201000 "its bounding set is CAP_BPF CAP_PERFMON CAP_NET_ADMIN CAP_SYS_ADMIN"
check_eq "$(sf_curl "http://$SRV4/")" "$NGINX_BODY" "connections through it work"
sf_synfence_stop
check_true "... and it removed its pins on SIGTERM" test ! -e "$PIN"

log "the example config"
out=$(srv "$SYNFENCE" run --config "$SF_SRC/contrib/synfence.conf" --check-config 2>/dev/null)
check_eq "$?" 0 "contrib/synfence.conf passes --check-config: $out"
sf_finish
