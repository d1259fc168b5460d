#!/bin/bash
# `synfence capture` (XDP's packet sampling written as a pcap):
#  1. a forged-ACK flood captured with --verdict drop -c 50: tcpdump -r reads exactly 50 packets,
#     each one byte for byte (up to the snap length, 128) a forged ACK the client sent (its own
#     tcpdump on the client veth is the reference); the summary counts them as drops.
#  2. -w - | tcpdump -nr -: tcpdump prints the packets, both exit 0 (--reason ack_cookie_bad: its
#     ack_bad_* reasons; another --reason: none of them); a reader that stops early (tcpdump -c)
#     ends capture with exit 0 (EPIPE), sampling off; -j: the summary as JSON.
#  3. --rate N holds under a flood: at most N x CPUs x (seconds + 2) samples, sample_capped moves.
#  4. Ctrl-C (SIGINT) ends a capture with exit 0 and leaves sampling off; a second capture while
#     one runs is refused (exit 1, naming the holder).
#  5. bad input: exit 2 with one line (unknown reason, bad verdict, no -w, bad numbers, -j -w -);
#     no such interface and no daemon: exit 1.
#  6. SIGTERM ends a capture like Ctrl-C; `synfence run` stopping ends one with exit 1 and a message.
. "$(dirname "$0")/../lib.sh"

sf_init capture
sf_require_synfence
sf_build_tools
command -v python3 >/dev/null || die "python3 is missing"
sf_topo_up
sf_nginx_start 80 # a listener: forged ACKs to it are checked as cookies (and dropped)
sf_synfence_start 80
NCPU=$(nproc)

cap() { srv "$SYNFENCE" capture --pin-dir "$PIN" "$@"; }
# cap_bg ERRFILE ARGS...: capture in the background, $! (CAP_PID) being synfence itself (ip netns
# exec execs it), so that a signal reaches it
cap_bg() {
	local err=$1
	shift
	ip netns exec "$SRV_NS" "$SYNFENCE" capture --pin-dir "$PIN" "$@" 2>"$err" &
	CAP_PID=$!
	sf_track_pid "$CAP_PID"
}
# flood N [PPS]: forged IPv4 ACKs to port 80 from the client namespace, in the background (SF_FLOOD)
flood() {
	cli "$SFI_FLOOD" -i "$CLI_IF" -M "$(sf_srv_mac)" -D "$SRV4" -p 80 -n "$1" -m ack -r "${2:-20000}" \
		-T 20 >"$TMPD/flood.out" 2>&1 &
	SF_FLOOD=$!
	sf_track_pid "$SF_FLOOD"
}
flood_stop() { kill "$SF_FLOOD" 2>/dev/null; wait "$SF_FLOOD" 2>/dev/null; }
# wait_line FILE REGEX: until FILE has the line (5 s)
wait_line() { sf_wait_log "$1" "$2" 5 || log "warning: no '$2' in $1: $(cat "$1")"; }
# sampling_on: whether the pinned switch is on (status -j: daemon.sampling.on)
sampling_on() { sf_status_json 2>/dev/null | jq -r '.daemon.sampling.on'; }
# summary FILE FIELD: a number from the summary line of capture's stderr
summary() {
	sed -nE 's/^captured ([0-9]+) packets? \(tx ([0-9]+), drop ([0-9]+), pass ([0-9]+)\); ([0-9]+) lost, ([0-9]+) over the rate cap$/\1 \2 \3 \4 \5 \6/p' "$1" |
		awk -v f="$2" '{ print $f }'
}

log "1. forged ACKs: capture -i veth-srv --verdict drop -c 50, compared with what the client sent"
sf_pcap_start sent "$CLI_NS" "$CLI_IF" tcp dst port 80
cap_bg "$TMPD/c1.err" -i "$SRV_IF" --verdict drop -c 50 -w "$TMPD/drop.pcap"
C1=$CAP_PID
wait_line "$TMPD/c1.err" '^capturing '
flood 400 2000
sf_wait_pid "$C1" 15 || kill -INT "$C1"
check_eq "$SF_RC" 0 "capture -c 50 ends by itself with exit 0"
flood_stop
sf_pcap_stop sent
n=$(tcpdump -nr "$TMPD/drop.pcap" 2>/dev/null | wc -l)
check_eq "$n" 50 "tcpdump -r reads exactly 50 packets"
check_match "$(tcpdump -nr "$TMPD/drop.pcap" 2>/dev/null | head -1)" "^[0-9:.]+ IP 198\.18\.1\.[0-9]+\.[0-9]+ > $SRV4\.80: Flags \[\.\]" "the first is a forged ACK to port 80"
check_eq "$(summary "$TMPD/c1.err" 1)/$(summary "$TMPD/c1.err" 3)" 50/50 "summary line: 50 packets, all drops ($(tail -1 "$TMPD/c1.err"))"
check_eq "$(python3 - "$TMPD/drop.pcap" "$TMPD/sent.pcap" <<'EOF'
import struct, sys, time
times = []
def packets(path):
    with open(path, 'rb') as f:
        data = f.read()
    magic, _, _, _, _, snap, link = struct.unpack('<IHHiIII', data[:24])
    assert magic == 0xa1b2c3d4 and link == 1, (hex(magic), link)
    off, out = 24, []
    while off + 16 <= len(data):
        sec, usec, caplen, length = struct.unpack('<IIII', data[off:off + 16])
        out.append((data[off + 16:off + 16 + caplen], length))
        times.append(sec + usec / 1e6)
        off += 16 + caplen
    return snap, out
snap, got = packets(sys.argv[1])
late = sum(abs(t - time.time()) > 60 for t in times)
_, sent = packets(sys.argv[2])
sent = {(p[:128], l) for p, l in sent}
bad = [i for i, pl in enumerate(got) if pl not in sent]
print(f"snap {snap}, {len(got)} captured, {len(bad)} not sent, {late} not stamped within 60 s of now")
EOF
)" "snap 128, 50 captured, 0 not sent, 0 not stamped within 60 s of now" \
	"every captured packet is a forged ACK the client sent, byte for byte; wall-clock record times"
check_eq "$(sampling_on)" false "sampling is off after capture -c"

log "2. -w - | tcpdump -nr -"
flood 10000 2000
# the README's example session
srv timeout 15 bash -c '{ "$0" capture --pin-dir "$1" -i veth-srv --verdict drop --reason ack_cookie_bad -c 5 -w - | tcpdump -nr -; echo "rc ${PIPESTATUS[*]}"; } 2>&1' \
	"$SYNFENCE" "$PIN" >"$TMPD/c2.out"
log "session: synfence capture -i veth-srv --verdict drop --reason ack_cookie_bad -c 5 -w - | tcpdump -nr -"
sed 's/^/    /' "$TMPD/c2.out"
check_eq "$(tail -1 "$TMPD/c2.out")" "rc 0 0" "capture -c 5 -w - | tcpdump -nr -: both exit 0"
check_eq "$(grep -c " > $SRV4\.80: Flags \[\.\]" "$TMPD/c2.out")" 5 "tcpdump prints 5 forged ACKs (--reason ack_cookie_bad: the ack_bad_* reasons)"
check_true "the summary is on stderr" grep -q '^captured 5 packets (tx 0, drop 5, pass 0); ' "$TMPD/c2.out"
srv timeout --preserve-status -s INT 1 "$SYNFENCE" capture --pin-dir "$PIN" --reason synack_sent,drop_syn_flags \
	-w "$TMPD/none.pcap" 2>"$TMPD/none.err"
check_eq "$?/$(tcpdump -nr "$TMPD/none.pcap" 2>/dev/null | wc -l)" 0/0 "--reason synack_sent,drop_syn_flags: none of the forged ACKs"
out=$(cap -j --verdict drop -c 3 -w "$TMPD/j.pcap" 2>&1)
check_eq "$?/$(jq -c '[.packets, .tx, .drop, .pass]' <<<"$out")" "0/[3,0,3,0]" "-j: the summary as JSON on stdout ($out)"
srv timeout 15 bash -c '"$0" capture --pin-dir "$1" --verdict drop -w - 2>"$2" | tcpdump -c 5 -nr - >"$3" 2>/dev/null; echo "${PIPESTATUS[*]}"' \
	"$SYNFENCE" "$PIN" "$TMPD/c3.err" "$TMPD/c3.out" >"$TMPD/c3.rc"
check_eq "$(cat "$TMPD/c3.rc")" "0 0" "capture -w - | tcpdump -c 5: capture ends when its reader is gone, exit 0"
check_eq "$(wc -l <"$TMPD/c3.out")" 5 "tcpdump -c 5 printed 5 packets"
check_eq "$(sampling_on)" false "sampling is off after the reader went away"
flood_stop

log "3. --rate 50 under a flood of 20000/s for 2 s"
RATE=50 SECS=2
flood 60000 20000
sleep 0.3
srv timeout --preserve-status -s INT "$SECS" "$SYNFENCE" capture --pin-dir "$PIN" --rate "$RATE" -w "$TMPD/rate.pcap" 2>"$TMPD/c4.err"
check_eq "$?" 0 "capture stopped by SIGINT (timeout) exits 0"
flood_stop
n=$(tcpdump -nr "$TMPD/rate.pcap" 2>/dev/null | wc -l)
# the cap counts per CPU in whole seconds of the clock: sampling on for a little over SECS seconds
# (the switch goes off after the signal) touches at most SECS + 2 of them on each CPU
max=$((RATE * NCPU * (SECS + 2)))
check_le "$n" "$max" "--rate $RATE: at most $RATE x $NCPU CPUs x ($SECS + 2) clock seconds samples (the flood: 20000/s)"
check_ge "$n" "$RATE" "--rate $RATE: samples were taken"
check_eq "$(summary "$TMPD/c4.err" 1)" "$n" "the summary counts the packets in the file ($(tail -1 "$TMPD/c4.err"))"
check_ge "$(summary "$TMPD/c4.err" 6)" 1 "the summary reports samples over the rate cap (sample_capped)"
check_eq "$(sampling_on)" false "sampling is off after SIGINT"

log "4. Ctrl-C, and a second capture while one runs"
cap_bg "$TMPD/c5.err" -w "$TMPD/idle.pcap"
C5=$CAP_PID
wait_line "$TMPD/c5.err" '^capturing '
check_eq "$(sampling_on)" true "sampling is on while capture runs"
out=$(cap -w "$TMPD/second.pcap" 2>&1)
rc=$?
check_eq "$rc/$(wc -l <<<"$out")" 1/1 "a second capture is refused: exit 1, one line"
check_match "$out" "sampling is in use by pid $C5" "... naming the holder ($out)"
check_true "the refused capture did not create its file" test ! -e "$TMPD/second.pcap"
kill -INT "$C5"
sf_wait_pid "$C5" 5 || kill -KILL "$C5"
check_eq "$SF_RC" 0 "Ctrl-C (SIGINT): capture exits 0"
check_eq "$(sampling_on)" false "Ctrl-C leaves sampling off"
check_match "$(tail -1 "$TMPD/c5.err")" '^captured [0-9]+ packets? \(' "Ctrl-C: the summary line is printed"
check_eq "$(tcpdump -nr "$TMPD/idle.pcap" 2>&1 >/dev/null | grep -c 'reading from file')" 1 "the file of an interrupted capture is a pcap tcpdump reads"

log "5. bad input"
for bad in "--reason nosuch" "--reason ack_cookie_bad,x" "--verdict maybe" "--rate 0" "--every x" "-c 0" "--reason ''" "-j -w -"; do
	eval "set -- $bad"
	w=(-w "$TMPD/x.pcap")
	[ "$bad" = "-j -w -" ] && w=()
	out=$(cap "$@" "${w[@]}" 2>&1)
	check_eq "$?/$(wc -l <<<"$out")" 2/1 "$bad: exit 2, one line ($out)"
done
out=$(cap 2>&1)
check_match "$?/$out" '^2/synfence: capture: -w FILE is required' "no -w: exit 2"
out=$(script -qec "ip netns exec $SRV_NS $SYNFENCE capture --pin-dir $PIN -w -" /dev/null </dev/null | tr -d '\r')
check_match "$out" '^synfence: capture: -w -: standard output is a terminal' "-w - on a terminal: refused ($out)"
out=$(cap -i nosuch0 -w "$TMPD/x.pcap" 2>&1)
check_eq "$?/$out" "1/synfence: no such interface: nosuch0" "-i of an unknown interface: exit 1"
out=$(srv "$SYNFENCE" capture --pin-dir "$PIN-none" -w "$TMPD/x.pcap" 2>&1)
check_match "$?/$out" '^1/synfence: synfence is not running' "no daemon: exit 1 ($out)"
out=$(srv "$SYNFENCE" capture -j --pin-dir "$PIN-none" -w "$TMPD/x.pcap" 2>/dev/null)
check_match "$?/$(jq -r .error <<<"$out")" '^1/synfence is not running' "-j: the error as JSON"
check_eq "$(sampling_on)" false "sampling is still off"

log "6. SIGTERM; run stopping ends a capture"
cap_bg "$TMPD/c6.err" -w "$TMPD/term.pcap"
wait_line "$TMPD/c6.err" '^capturing '
kill -TERM "$CAP_PID"
sf_wait_pid "$CAP_PID" 5 || kill -KILL "$CAP_PID"
check_eq "$SF_RC/$(sampling_on)" 0/false "SIGTERM: capture exits 0, sampling off"
cap_bg "$TMPD/c7.err" -w "$TMPD/stop.pcap"
wait_line "$TMPD/c7.err" '^capturing '
sf_synfence_stop
sf_wait_pid "$CAP_PID" 5 || kill -KILL "$CAP_PID"
check_eq "$SF_RC" 1 "a capture ends by itself (exit 1) when synfence run stops"
check_match "$(tail -1 "$TMPD/c7.err")" '^synfence: synfence run stopped \(nothing pinned in .*\): capture ends$' "... saying so ($(tail -1 "$TMPD/c7.err"))"
sf_finish
