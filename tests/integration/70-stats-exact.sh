#!/bin/bash
# Exact counting, seen the way an operator sees it: N spoofed SYNs, M real handshakes (curl, IPv4
# and IPv6), K forged ACKs (random ones, and hand-made ones with a wrong cookie hash or a wrong
# epoch), a hand-made handshake whose final ACK comes twice (then a request that gets its reply),
# one IPv4 fragment, a handshake the kernel refuses to take over (net.ipv4.tcp_timestamps switched
# off between SYN-ACK and ACK), P connections to an unprotected port. Each phase moves every counter
# of include/synfence.h by exactly what was sent (`stats -j` parsed by jq), with the kernel's own
# TCP counters as the independent witness for the segments synfence passes on. Over the whole run, the deltas in the text table (`stats -e -a`),
# in `stats -j` and in the Prometheus output (fetched with curl, parsed by the Python
# prometheus_client parser) are the same for every counter; the invariants between counters hold.
SF_PREFIX=${SF_TAG:-}sfo
. "$(dirname "$0")/../lib.sh"

N=${SF_EXACT_N:-12345}   # spoofed SYNs (> 9999: the human-readable form is 12.3k)
M4=3 M6=3                # curl handshakes to the protected port
K1=${SF_EXACT_K1:-1000}  # random forged ACKs
K2=3                     # forged ACKs with a wrong cookie hash
K3=3                     # forged ACKs with a wrong epoch
P=3                      # curls to an unprotected port
M=$((M4 + M6))
PY=/usr/bin/python3      # Debian's python: its prometheus_client (python3-prometheus-client)
METRICS=127.0.0.1:9464

sf_init exact
sf_require_synfence
$PY -c 'import prometheus_client.parser' 2>/dev/null ||
	die "python3-prometheus-client is missing (make deps installs it)"
sf_build_tools
sf_topo_up
sf_nginx_start 80 8080
sf_synfence_start 80 --metrics "$METRICS"

# snap NAME: the counters in all three forms, and the kernel's TCP counters
snap() {
	sf_snap "$TMPD/$1.json"
	srv "$SYNFENCE" stats -e -a -i 0 --pin-dir "$PIN" >"$TMPD/$1.txt" || die "stats (text) failed"
	srv curl -sS --max-time 5 "http://$METRICS/metrics" >"$TMPD/$1.prom" || die "metrics scrape failed"
	echo "$(sf_nstat "$SRV_NS" TcpInSegs) $(sf_nstat "$CLI_NS" TcpOutRsts) $(sf_nstat "$CLI_NS" TcpExtTCPSynRetrans)" >"$TMPD/$1.k"
}
# json_snap NAME: counters only (between phases)
json_snap() {
	sf_snap "$TMPD/$1.json"
	echo "$(sf_nstat "$SRV_NS" TcpInSegs) $(sf_nstat "$CLI_NS" TcpOutRsts) $(sf_nstat "$CLI_NS" TcpExtTCPSynRetrans)" >"$TMPD/$1.k"
}
kdelta() { # kdelta A B FIELD(1 insegs, 2 client rsts, 3 client syn retrans)
	local a b
	a=$(cut -d' ' -f"$3" "$TMPD/$1.k")
	b=$(cut -d' ' -f"$3" "$TMPD/$2.k")
	echo $((b - a))
}
# expect A B "name=value ..." : every counter named has exactly this delta, every other one 0
expect() {
	local a=$1 b=$2 spec=" $3 " c want got bad=""
	for c in $COUNTERS; do
		want=0
		[[ $spec =~ \ $c=([0-9]+)\  ]] && want=${BASH_REMATCH[1]}
		got=$(sf_delta "$TMPD/$a.json" "$TMPD/$b.json" "$c")
		[ "$got" = "$want" ] || bad+="$c:+$got(want +$want) "
	done
	check_eq "${bad:-none}" none "$4: every counter moved by exactly what was sent ($3)"
}

COUNTERS=$(sf_counter_names) # the source of truth: every one must be in every output
NC=$(wc -w <<<"$COUNTERS")
snap s0
check_eq "$(jq -r '.total | keys_unsorted | join(" ")' "$TMPD/s0.json")" "${COUNTERS//$'\n'/ }" \
	"stats -j has exactly the $NC counters of include/synfence.h, in their order"
check_eq "$(jq -r '.total | [.[] | numbers] | length' "$TMPD/s0.json")" "$(jq -r '.total | length' "$TMPD/s0.json")" \
	"stats -j: every total counter is an integer"

log "phase A: $N spoofed SYNs to port 80"
out=$(sf_flood syn "$SRV4" 80 "$N" 20000)
check_eq "$?/$out" "0/sent $N" "sender sent all SYNs"
sleep 0.5
json_snap a
expect s0 a "syn_recv=$N synack_sent=$N" "phase A (SYNs)"
check_eq "$(kdelta s0 a 1)" 0 "no segment of phase A reached the server's TCP stack (TcpInSegs)"

log "phase B: $M curl handshakes to port 80 ($M4 IPv4, $M6 IPv6)"
good=0
for i in $(seq $M4); do [ "$(sf_curl "http://$SRV4/")" = "$NGINX_BODY" ] && good=$((good + 1)); done
for i in $(seq $M6); do [ "$(sf_curl "http://[$SRV6]/")" = "$NGINX_BODY" ] && good=$((good + 1)); done
check_eq "$good" "$M" "every curl to the protected port got the page"
sleep 0.5 # the FIN exchanges are over
json_snap b
retr=$(kdelta a b 3)
rsts=$(kdelta a b 2)
syns=$((M + retr))
# what reached the server kernel: the M cookie ACKs, the established segments, client RSTs
est=$(($(kdelta a b 1) - M - rsts))
log "phase B: server TcpInSegs +$(kdelta a b 1), client SYN retransmissions +$retr, client RSTs +$rsts"
expect a b "syn_recv=$syns synack_sent=$syns ack_cookie_ok=$M handoff_ok=$M est_pass=$est pass_other=$rsts" \
	"phase B (handshakes; est_pass = server TcpInSegs - $M cookie ACKs - client RSTs)"
check_ge "$est" "$((3 * M))" "phase B: each connection sent at least 3 established segments (request, ACK, FIN)"

log "phase C: $K1 random forged ACKs, $K2 with a wrong cookie hash, $K3 with a wrong epoch"
out=$(sf_flood ack "$SRV4" 80 "$K1" 20000)
check_eq "$?/$out" "0/sent $K1" "sender sent all random ACKs"
sleep 0.5
json_snap c1
# a random ACK passes a 21-bit cookie check with odds of 2^-21: reported, not hidden
lucky=$(sf_delta "$TMPD/b.json" "$TMPD/c1.json" ack_cookie_ok)
if [ "$lucky" = 0 ]; then
	hb=$(sf_delta "$TMPD/b.json" "$TMPD/c1.json" ack_bad_hash)
	expect b c1 "ack_cookie_bad=$K1 ack_bad_hash=$hb ack_bad_epoch=$((K1 - hb))" "phase C1 (random ACKs)"
	check_ge "$hb" 1 "random ACKs: some fail the hash check"
	check_ge "$((K1 - hb))" 1 "random ACKs: some carry an epoch that is neither current nor previous"
else
	log "note: $lucky random ACK(s) passed the cookie check by chance"
	check_le "$lucky" 2 "at most 2 random ACKs pass by chance"
fi
check_eq "$(kdelta b c1 1)" 0 "no forged ACK reached the server's TCP stack (TcpInSegs)"
for i in $(seq $K2); do
	sf_handshake "198.18.1.$((10 + i))" "$SRV4" 80 -P $((30000 + i)) -a $((1 << 20)) >>"$TMPD/hs.log" 2>&1 ||
		_fail "hand-made handshake $i (wrong hash) got no SYN-ACK"
done
for i in $(seq $K3); do
	sf_handshake "198.18.1.$((20 + i))" "$SRV4" 80 -P $((31000 + i)) -a $((1 << 10)) >>"$TMPD/hs.log" 2>&1 ||
		_fail "hand-made handshake $i (wrong epoch) got no SYN-ACK"
done
sleep 0.3
json_snap c2
K=$((K2 + K3))
expect c1 c2 "syn_recv=$K synack_sent=$K ack_cookie_bad=$K ack_bad_hash=$K2 ack_bad_epoch=$K3" \
	"phase C2 (hand-made forged ACKs)"

log "phase E: a hand-made handshake whose final ACK comes twice (100 ms apart), then a request"
out=$(sf_handshake 198.18.1.40 "$SRV4" 80 -P 32040 -n 2 -G)
check_eq "$?" 0 "handshake with a duplicated final ACK: sent (${out//$'\n'/ })"
check_match "$out" 'reply HTTP/1\.[01] 200 ' "after the duplicate ACK the connection works: the request got nginx's 200"
sleep 0.3
json_snap e
# the first copy is handed over; the second meets the connection it made (XDP's socket lookup:
# est_pass, not handoff_dup, which needs both copies through XDP before TC saw the first); the
# request is est_pass too
expect c2 e "syn_recv=1 synack_sent=1 ack_cookie_ok=1 handoff_ok=1 est_pass=2" "phase E (duplicate final ACK)"
check_eq "$(kdelta c2 e 1)" 3 "phase E: the server's TCP got both ACK copies and the request (TcpInSegs)"

log "phase F: one IPv4 fragment (the first of a SYN datagram) to port 80"
out=$(sf_flood frag "$SRV4" 80 1)
check_eq "$?/$out" "0/sent 1" "sender sent the fragment"
sleep 0.3
json_snap f
expect e f "pass_fragment=1" "phase F (fragment: passed to the kernel, never answered)"
check_eq "$(kdelta e f 1)" 0 "phase F: the fragment alone reached no TCP (TcpInSegs)"

log "phase G: tcp_timestamps switched off between our SYN-ACK (with timestamps) and the final ACK"
rst0=$(sf_nstat "$SRV_NS" TcpOutRsts)
sf_handshake 198.18.1.41 "$SRV4" 80 -P 32041 -d 1000 >"$TMPD/hs-g.out" 2>&1 &
HS=$!
sf_track_pid $HS
for i in $(seq 40); do grep -q '^synack ' "$TMPD/hs-g.out" && break; sleep 0.05; done
srv sysctl -qw net.ipv4.tcp_timestamps=0
wait $HS
check_eq "$?" 0 "handshake sent its final ACK ($(tr '\n' ' ' <"$TMPD/hs-g.out"))"
check_match "$(cat "$TMPD/hs-g.out")" 'ts=yes' "the SYN-ACK offered timestamps (before the switch)"
sleep 0.3
srv sysctl -qw net.ipv4.tcp_timestamps=1
json_snap g
# the cookie is valid, but the kernel refuses timestamps it no longer allows: -EINVAL from
# bpf_sk_assign_tcp_reqsk; the ACK then goes to the listener as without synfence (a RST)
expect f g "syn_recv=1 synack_sent=1 ack_cookie_ok=1 handoff_err=1 handoff_err_einval=1" \
	"phase G (handoff refused: EINVAL)"
check_eq "$(($(sf_nstat "$SRV_NS" TcpOutRsts) - rst0))" 1 "phase G: the kernel answered the refused ACK with a RST (TcpOutRsts)"

log "phase D: $P curls to the unprotected port 8080"
good=0
for i in $(seq $P); do [ "$(sf_curl "http://$SRV4:8080/")" = "$NGINX_BODY" ] && good=$((good + 1)); done
check_eq "$good" "$P" "every curl to the unprotected port got the page"
sleep 0.5
json_snap d0 # (before the metrics scrape of snap: that is TCP too, over lo)
expect g d0 "pass_unprotected=$(kdelta g d0 1)" "phase D (unprotected; = server TcpInSegs)"
snap d

# ---- the three outputs agree, counter by counter ----
txt_delta() { # txt_delta NAME: from the text tables (-e: exact numbers; column 2 = the interface)
	local a b
	a=$(awk -v c="$1" '$1 == c { print $2 }' "$TMPD/s0.txt")
	b=$(awk -v c="$1" '$1 == c { print $2 }' "$TMPD/d.txt")
	_isint "$a" && _isint "$b" && echo $((b - a)) || echo "missing"
}
$PY - "$TMPD/s0.prom" "$TMPD/d.prom" >"$TMPD/prom.delta" 2>"$TMPD/prom.err" <<'EOF'
import sys
from prometheus_client.parser import text_string_to_metric_families

def load(path):
    vals, types = {}, {}
    for fam in text_string_to_metric_families(open(path).read()):
        types[fam.name] = fam.type
        for s in fam.samples:
            if s.name.endswith("_total") and s.labels.get("interface") == "veth-srv":
                name = s.name[len("synfence_"):-len("_total")]
                # the sample_* counters: synfence_samples_taken_total{class}, _lost, _capped
                if name == "samples_taken":
                    name = "sample_" + s.labels["class"]
                elif name.startswith("samples_"):
                    name = "sample_" + name[len("samples_"):]
                vals[name] = s.value
    return vals, types

a, _ = load(sys.argv[1])
b, types = load(sys.argv[2])
for name in sorted(b):
    print(name, int(b[name] - a.get(name, 0)))
print("#types", " ".join(sorted(set(types.values()))))
EOF
check_eq "$?" 0 "the Prometheus output parses with prometheus_client ($(head -c 300 "$TMPD/prom.err"))"
bad_txt="" bad_prom="" n=0
for c in $COUNTERS; do
	n=$((n + 1))
	j=$(sf_delta "$TMPD/s0.json" "$TMPD/d.json" "$c")
	t=$(txt_delta "$c")
	p=$(awk -v c="$c" '$1 == c { print $2 }' "$TMPD/prom.delta")
	[ "$t" = "$j" ] || bad_txt+="$c:text=$t,json=$j "
	[ "$p" = "$j" ] || bad_prom+="$c:prom=${p:-missing},json=$j "
done
check_eq "$n/$(jq -r '.total | length' "$TMPD/d.json")/$(wc -l <"$TMPD/prom.delta")" "$NC/$NC/$((NC + 1))" \
	"all $NC counters of include/synfence.h compared (as many in stats -j, and in the Prometheus output)"
check_eq "${bad_txt:-none}" none "text table deltas = JSON deltas, for all $n counters"
check_eq "${bad_prom:-none}" none "Prometheus deltas (synfence_<counter>_total{interface=\"veth-srv\"}; sample_*: synfence_samples_*_total) = JSON deltas"
check_match "$(grep '^#types' "$TMPD/prom.delta")" "counter.*gauge" "Prometheus families are typed counter and gauge"
check_eq "$(grep -c '^synfence_attached{interface="veth-srv",hook="\(xdp\|tc\)"} 1$' "$TMPD/d.prom")" 2 \
	"synfence_attached is 1 for xdp and tc"
check_match "$(grep '^synfence_secret_age_seconds ' "$TMPD/d.prom")" '^synfence_secret_age_seconds [0-9.]+$' "secret age gauge"
check_eq "$(grep -c '^# HELP synfence_' "$TMPD/d.prom")" "$(grep -c '^# TYPE synfence_' "$TMPD/d.prom")" "a HELP line for every TYPE line"

# ---- invariants between counters, and the human-readable form ----
j=$TMPD/d.json
check_eq "$(jq '.total | .ack_bad_hash + .ack_bad_epoch + .ack_bad_malformed' "$j")" "$(sf_cnt "$j" ack_cookie_bad)" \
	"ack_cookie_bad = ack_bad_hash + ack_bad_epoch + ack_bad_malformed"
check_eq "$(jq '.total | .handoff_err_einval + .handoff_err_enomem + .handoff_err_other' "$j")" "$(sf_cnt "$j" handoff_err)" \
	"handoff_err = the sum of its reasons"
check_eq "$(jq '.total | .synack_sent + .drop_syn_flags + .drop_malformed + .drop_no_room + .pass_no_secret + .syn_pass_existing' "$j")" \
	"$(sf_cnt "$j" syn_recv)" "syn_recv = the sum of what became of the SYNs"
human=$(srv "$SYNFENCE" stats -i 0 --pin-dir "$PIN" | awk '$1 == "syn_recv" { print $2 }')
check_eq "$human" "$(awk -v v="$(sf_cnt "$j" syn_recv)" 'BEGIN { printf "%.1fk", v / 1000 }')" \
	"stats (no -e) shows syn_recv human-readable"

# ---- rates over a real interval, and how long stats takes ----
t0=$(date +%s%N)
srv "$SYNFENCE" stats -j --pin-dir "$PIN" >"$TMPD/rates.json"
rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
check_eq "$rc" 0 "stats -j (with rates) exits 0"
check_le "$ms" 1500 "stats with its default 1 s rate interval answers within 1.5 s (ms)"
check_match "$(jq -r '.interval_s' "$TMPD/rates.json")" '^(0\.9[0-9]*|1(\.[0-9]+)?)$' "stats -j says the rates are over ~1 s (interval_s)"
check_eq "$(jq -r '.total_rates.syn_recv' "$TMPD/rates.json")" 0 "a quiet second: syn_recv rate 0"
check_eq "$(jq -r '.verdict.attack' "$TMPD/rates.json")" false "a quiet second: no attack"
check_eq "$(jq -r '.verdict.working' "$TMPD/rates.json")" true "working: attached and a secret"

log "a SYN flood during stats: the verdict says attack"
(sf_flood syn "$SRV4" 80 6000 4000 >/dev/null 2>&1) &
FL=$!
sf_track_pid $FL
sleep 0.3
srv "$SYNFENCE" stats -j -i 0.5 --pin-dir "$PIN" >"$TMPD/attack.json"
srv "$SYNFENCE" stats -i 0.5 --pin-dir "$PIN" >"$TMPD/attack.txt"
wait $FL
check_eq "$(jq -r '.verdict.attack' "$TMPD/attack.json")/$(jq -r '.verdict.syn_flood' "$TMPD/attack.json")" \
	true/true "stats -j during 4000 SYN/s: verdict.attack and syn_flood"
check_ge "$(jq -r '.total_rates.syn_recv | floor' "$TMPD/attack.json")" 2000 "syn_recv rate during the flood (/s)"
check_match "$(grep '^attack' "$TMPD/attack.txt")" 'YES, SYN flood on veth-srv' "the text says: attack YES, SYN flood on veth-srv"
check_match "$(awk '$1 == "syn_recv" { print $3 }' "$TMPD/attack.txt")" '^[0-9]{4}/s$|^[0-9.]+k/s$' "syn_recv rate in the text table (/s)"

sf_synfence_stop
sf_finish
