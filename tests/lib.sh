# tests/lib.sh - shared helpers for the synfence integration tests and the demo. Source it (bash).
#
# Environment:
#   BUILD      build directory (default: build, relative to the repo root)
#   SYNFENCE   the synfence binary (default: $BUILD/synfence)
#   XDP_PASS   the XDP_PASS object attached to the client veth (default: $BUILD/xdp_pass.bpf.o)
#   SFI_FLOOD  the spoofed packet sender (default: $BUILD/sfi_flood, built from
#              tests/tools/sfi_flood.c when missing or older than its source)
#   SF_PREFIX  namespace/pin prefix (default: sfi; the demo uses sfd)
#   SF_KEEP    set to 1 to keep the temp dir (logs, nginx config) after the test
#
# Topology (sf_topo_up):
#   netns $SRV_NS: veth-srv 198.18.0.1/24 fd00::1/64  (synfence, nginx, iperf3 run here)
#   netns $CLI_NS: veth-cli 198.18.0.2/24 fd00::2/64  (curl, iperf3 -c, sfi_flood; xdp_pass attached)
#   The server routes the spoofed source ranges 198.18.1.0/24 and fd00:1::/64 back to the client
#   namespace, where such packets are dropped (not local, no forwarding).

SF_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# A relative path is taken relative to the current directory when it exists there, else relative
# to the repo root.
sf_abspath() {
	case $1 in
	/*) printf '%s\n' "$1" ;;
	*) if [ -e "$PWD/$1" ]; then printf '%s\n' "$PWD/$1"; else printf '%s\n' "$SF_SRC/$1"; fi ;;
	esac
}

BUILD=$(sf_abspath "${BUILD:-build}")
SYNFENCE=$(sf_abspath "${SYNFENCE:-$BUILD/synfence}")
XDP_PASS=$(sf_abspath "${XDP_PASS:-$BUILD/xdp_pass.bpf.o}")
SFI_FLOOD=$(sf_abspath "${SFI_FLOOD:-$BUILD/sfi_flood}")
SF_PREFIX=${SF_PREFIX:-sfi}
SF_PIN_ROOT=/run/$SF_PREFIX

SRV_IF=veth-srv
CLI_IF=veth-cli
SRV4=198.18.0.1
CLI4=198.18.0.2
SRV6=fd00::1
CLI6=fd00::2

SF_FAILS=0
SF_CHECKS=0
SF_PIDS=()
SF_NAME=
SRV_NS=
CLI_NS=
TMPD=
PIN=
SF_PID=

# ---- output and assertions --------------------------------------------------------------------

log() { printf '[%s] %s\n' "$(date +%T)" "$*"; }
die() {
	printf '[%s] FATAL: %s\n' "$(date +%T)" "$*"
	exit 1
}

_ok() {
	SF_CHECKS=$((SF_CHECKS + 1))
	printf '  ok    %s\n' "$*"
}
_fail() {
	SF_CHECKS=$((SF_CHECKS + 1))
	SF_FAILS=$((SF_FAILS + 1))
	printf '  FAIL  %s\n' "$*"
}

_isint() { [[ $1 =~ ^-?[0-9]+$ ]]; }

# check_eq ACTUAL EXPECTED MESSAGE
check_eq() {
	if [ "$1" == "$2" ]; then _ok "$3 (= $2)"; else _fail "$3: expected $2, got '$1'"; fi
}
# check_ne ACTUAL UNEXPECTED MESSAGE
check_ne() {
	if [ "$1" != "$2" ]; then _ok "$3 ('$1' != '$2')"; else _fail "$3: got '$1', which it must not be"; fi
}
# check_ge ACTUAL MIN MESSAGE (integers)
check_ge() {
	if _isint "$1" && _isint "$2" && [ "$1" -ge "$2" ]; then _ok "$3 ($1 >= $2)"
	else _fail "$3: expected >= $2, got '$1'"; fi
}
# check_le ACTUAL MAX MESSAGE (integers)
check_le() {
	if _isint "$1" && _isint "$2" && [ "$1" -le "$2" ]; then _ok "$3 ($1 <= $2)"
	else _fail "$3: expected <= $2, got '$1'"; fi
}
# check_true MESSAGE COMMAND...: passes when the command exits 0
check_true() {
	local msg=$1
	shift
	if "$@"; then _ok "$msg"; else _fail "$msg (command failed: $*)"; fi
}
# check_match STRING REGEX MESSAGE / check_nomatch
check_match() {
	if [[ $1 =~ $2 ]]; then _ok "$3"; else _fail "$3: '$1' does not match /$2/"; fi
}
check_nomatch() {
	if [[ $1 =~ $2 ]]; then _fail "$3: '$1' matches /$2/"; else _ok "$3"; fi
}

# End of a test: summary line and exit code.
sf_finish() {
	if [ "$SF_FAILS" -gt 0 ]; then
		log "RESULT $SF_NAME: FAIL ($SF_FAILS of $SF_CHECKS checks failed)"
		exit 1
	fi
	if [ "$SF_CHECKS" -eq 0 ]; then
		log "RESULT $SF_NAME: FAIL (no check was made)"
		exit 1
	fi
	log "RESULT $SF_NAME: PASS ($SF_CHECKS checks)"
	exit 0
}

# ---- prerequisites ----------------------------------------------------------------------------

sf_require_root() {
	if [ "$(id -u)" != 0 ]; then
		echo "synfence tests must run as root (they create network namespaces and attach BPF programs)." >&2
		echo "Run: sudo make test" >&2
		exit 1
	fi
}

sf_require_tools() {
	local t missing=()
	for t in ip ss nstat jq curl nginx iperf3 tcpdump gcc timeout "$@"; do
		command -v "$t" >/dev/null 2>&1 || missing+=("$t")
	done
	[ ${#missing[@]} -eq 0 ] || die "missing tools: ${missing[*]} (run: make deps)"
}

sf_require_synfence() {
	[ -x "$SYNFENCE" ] || die "synfence binary not found at $SYNFENCE (run make, or set SYNFENCE=)"
	[ -r "$XDP_PASS" ] || die "xdp_pass object not found at $XDP_PASS (run make, or set BUILD=)"
}

# Build the spoofed packet sender when missing or stale.
sf_build_flood() {
	local src=$SF_SRC/tests/tools/sfi_flood.c
	if [ ! -x "$SFI_FLOOD" ] || [ "$src" -nt "$SFI_FLOOD" ]; then
		mkdir -p "$(dirname "$SFI_FLOOD")"
		gcc -O2 -Wall -Wextra -Werror -std=gnu11 -D_GNU_SOURCE -o "$SFI_FLOOD" "$src" ||
			die "could not build $SFI_FLOOD"
	fi
}

# ---- test setup and cleanup ------------------------------------------------------------------

# sf_init NAME: names for this test's namespaces, temp dir, pin dir; installs the cleanup trap.
sf_init() {
	SF_NAME=$1
	sf_require_root
	sf_require_tools
	SRV_NS=$SF_PREFIX-srv-$SF_NAME
	CLI_NS=$SF_PREFIX-cli-$SF_NAME
	PIN=$SF_PIN_ROOT/$SF_NAME
	TMPD=$(mktemp -d "/tmp/$SF_PREFIX-$SF_NAME.XXXXXX") || die "mktemp failed"
	chmod 755 "$TMPD"
	trap sf_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	log "test $SF_NAME: server ns $SRV_NS, client ns $CLI_NS, temp dir $TMPD"
}

sf_track_pid() { SF_PIDS+=("$1"); }

_sf_kill_ns_procs() {
	local ns=$1 sig=$2 p
	ip netns list 2>/dev/null | grep -qw "^$ns" || return 0
	for p in $(ip netns pids "$ns" 2>/dev/null); do
		kill "-$sig" "$p" 2>/dev/null
	done
}

sf_cleanup() {
	local rc=$?
	set +e
	trap - EXIT INT TERM
	local p ns i
	for p in "${SF_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
	for ns in "$SRV_NS" "$CLI_NS"; do [ -n "$ns" ] && _sf_kill_ns_procs "$ns" TERM; done
	for i in $(seq 30); do
		local alive=0
		for p in "${SF_PIDS[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
		for ns in "$SRV_NS" "$CLI_NS"; do
			[ -n "$ns" ] && [ -n "$(ip netns pids "$ns" 2>/dev/null)" ] && alive=1
		done
		[ $alive = 0 ] && break
		sleep 0.1
	done
	for p in "${SF_PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done
	for ns in "$SRV_NS" "$CLI_NS"; do [ -n "$ns" ] && _sf_kill_ns_procs "$ns" KILL; done
	wait 2>/dev/null
	for ns in "$SRV_NS" "$CLI_NS"; do
		[ -n "$ns" ] && ip netns del "$ns" 2>/dev/null
	done
	if [ -n "$PIN" ] && [ -e "$PIN" ]; then rm -rf "$PIN"; fi
	sf_unmount_pin_root
	if [ -n "$TMPD" ] && [ -d "$TMPD" ]; then
		if [ "${SF_KEEP:-0}" = 1 ]; then log "kept $TMPD"; else rm -rf "$TMPD"; fi
	fi
	exit $rc
}

# Unmount the shared bpffs under /run when nothing is pinned there any more.
sf_unmount_pin_root() {
	if mountpoint -q "$SF_PIN_ROOT" 2>/dev/null && [ -z "$(ls -A "$SF_PIN_ROOT" 2>/dev/null)" ]; then
		umount "$SF_PIN_ROOT" 2>/dev/null && rmdir "$SF_PIN_ROOT" 2>/dev/null
	fi
	return 0
}

srv() { ip netns exec "$SRV_NS" "$@"; }
cli() { ip netns exec "$CLI_NS" "$@"; }

# sf_topo_up: server and client namespaces joined by a veth pair, xdp_pass on the client side.
sf_topo_up() {
	local ns
	for ns in "$SRV_NS" "$CLI_NS"; do
		if ip netns list | grep -qw "^$ns"; then ip netns del "$ns"; fi
		ip netns add "$ns" || die "ip netns add $ns failed"
		ip -n "$ns" link set lo up
	done
	ip -n "$SRV_NS" link add "$SRV_IF" type veth peer name "$CLI_IF" netns "$CLI_NS" ||
		die "veth creation failed"
	ip -n "$SRV_NS" addr add "$SRV4/24" dev "$SRV_IF"
	ip -n "$SRV_NS" addr add "$SRV6/64" dev "$SRV_IF" nodad
	ip -n "$CLI_NS" addr add "$CLI4/24" dev "$CLI_IF"
	ip -n "$CLI_NS" addr add "$CLI6/64" dev "$CLI_IF" nodad
	ip -n "$SRV_NS" link set "$SRV_IF" up
	ip -n "$CLI_NS" link set "$CLI_IF" up
	# answers to spoofed sources go to the client namespace and die there
	ip -n "$SRV_NS" route add 198.18.1.0/24 via "$CLI4"
	ip -n "$SRV_NS" -6 route add fd00:1::/64 via "$CLI6"
	# XDP_TX on a veth only delivers when the peer veth has an XDP program
	ip -n "$CLI_NS" link set dev "$CLI_IF" xdp obj "$XDP_PASS" sec xdp ||
		die "could not attach $XDP_PASS to $CLI_IF"
	local sc
	sc=$(srv sysctl -n net.ipv4.tcp_syncookies)
	[ "$sc" = 1 ] || srv sysctl -qw net.ipv4.tcp_syncookies=1
	# wait for the link to be up and the server reachable (neighbour resolution)
	local i
	for i in $(seq 50); do
		if [ "$(ip -n "$CLI_NS" -j link show "$CLI_IF" | jq -r '.[0].operstate')" = UP ] &&
			[ "$(ip -n "$SRV_NS" -j link show "$SRV_IF" | jq -r '.[0].operstate')" = UP ]; then
			break
		fi
		sleep 0.1
	done
	log "topology up: $SRV_NS/$SRV_IF $SRV4 $SRV6 <-> $CLI_NS/$CLI_IF $CLI4 $CLI6 (xdp_pass on $CLI_IF)"
}

sf_srv_mac() { ip -n "$SRV_NS" -j link show "$SRV_IF" | jq -r '.[0].address'; }

# ---- nginx ------------------------------------------------------------------------------------

# sf_nginx_start [PORT...]: nginx in the server namespace on SRV4 and [SRV6] for each port
# (default 80 8080). Serves $TMPD/www: index.html and big.bin (4 MiB).
NGINX_BODY="synfence test page"
sf_nginx_start() {
	local ports=("$@") p listen=""
	[ ${#ports[@]} -gt 0 ] || ports=(80 8080)
	mkdir -p "$TMPD/nginx/body" "$TMPD/www"
	echo "$NGINX_BODY" >"$TMPD/www/index.html"
	head -c $((4 << 20)) /dev/zero >"$TMPD/www/big.bin"
	for p in "${ports[@]}"; do
		listen+="        listen $SRV4:$p;"$'\n'"        listen [$SRV6]:$p;"$'\n'
	done
	cat >"$TMPD/nginx/nginx.conf" <<EOF
user root;
worker_processes 1;
daemon off;
master_process on;
pid $TMPD/nginx/nginx.pid;
error_log $TMPD/nginx/error.log warn;
events { worker_connections 1024; }
http {
    access_log $TMPD/nginx/access.log;
    client_body_temp_path $TMPD/nginx/body;
    default_type application/octet-stream;
    keepalive_timeout 300s;
    keepalive_requests 1000000;
    server {
$listen
        root $TMPD/www;
    }
}
EOF
	srv nginx -p "$TMPD/nginx" -c "$TMPD/nginx/nginx.conf" -e "$TMPD/nginx/error.log" \
		>"$TMPD/nginx/stdout.log" 2>&1 &
	NGINX_PID=$!
	sf_track_pid "$NGINX_PID"
	local i n want=$((${#ports[@]} * 2))
	for i in $(seq 50); do
		kill -0 "$NGINX_PID" 2>/dev/null || { cat "$TMPD/nginx/"*.log; die "nginx exited"; }
		n=0
		for p in "${ports[@]}"; do
			n=$((n + $(srv ss -Hltn "sport = :$p" | wc -l)))
		done
		[ "$n" -ge "$want" ] && { log "nginx (pid $NGINX_PID) listening on ports ${ports[*]} (v4+v6)"; return 0; }
		sleep 0.1
	done
	cat "$TMPD/nginx/"*.log
	die "nginx did not start listening"
}

# ---- synfence ---------------------------------------------------------------------------------

sf_mount_pin_root() {
	mkdir -p "$SF_PIN_ROOT"
	if ! mountpoint -q "$SF_PIN_ROOT"; then
		mount -t bpf bpf "$SF_PIN_ROOT" || die "cannot mount bpffs at $SF_PIN_ROOT"
	fi
}

sf_xdp_attached() {
	[ "$(ip -n "$SRV_NS" -j link show "$SRV_IF" | jq -r '.[0].xdp != null')" = true ]
}

# Count of TC/tcx ingress programs on the server veth, as bpftool sees them.
sf_tc_progs() {
	srv bpftool -j net show dev "$SRV_IF" 2>/dev/null |
		jq '[.[0].tc[]?, .[0].tcx[]?] | length' 2>/dev/null || echo "?"
}

# sf_synfence_start PORTLIST [EXTRA ARGS...]: start `synfence run` in the server namespace in the
# background and wait until XDP is attached and `stats` answers.
sf_synfence_start() {
	local ports=$1
	shift
	sf_require_synfence
	sf_mount_pin_root
	SF_RUN_N=$((${SF_RUN_N:-0} + 1))
	SF_LOG=$TMPD/synfence.$SF_RUN_N.log
	srv "$SYNFENCE" run "$SRV_IF" --ports "$ports" --pin-dir "$PIN" "$@" >"$SF_LOG" 2>&1 &
	SF_PID=$!
	sf_track_pid "$SF_PID"
	local i
	for i in $(seq 100); do
		if ! kill -0 "$SF_PID" 2>/dev/null; then
			wait "$SF_PID"
			local rc=$?
			sed 's/^/    synfence| /' "$SF_LOG"
			die "synfence run exited early with status $rc"
		fi
		if sf_xdp_attached && sf_stats_json >/dev/null 2>&1; then
			log "synfence (pid $SF_PID) attached to $SRV_IF, ports $ports, pins in $PIN," \
				"tc/tcx ingress programs: $(sf_tc_progs)"
			return 0
		fi
		sleep 0.1
	done
	sed 's/^/    synfence| /' "$SF_LOG"
	die "synfence did not attach within 10 s (xdp attached: $(sf_xdp_attached && echo yes || echo no))"
}

# sf_synfence_stop: SIGTERM, wait (10 s), check exit status 0 and that XDP and TC are detached.
# Records checks; returns non-zero when one failed.
sf_synfence_stop() {
	local i rc fails=$SF_FAILS
	[ -n "$SF_PID" ] || return 0
	kill -TERM "$SF_PID" 2>/dev/null
	for i in $(seq 100); do
		kill -0 "$SF_PID" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$SF_PID" 2>/dev/null; then
		_fail "synfence exits within 10 s of SIGTERM"
		kill -KILL "$SF_PID"
	fi
	wait "$SF_PID"
	rc=$?
	check_eq "$rc" 0 "synfence run exit status after SIGTERM"
	[ "$rc" = 0 ] || sed 's/^/    synfence| /' "$SF_LOG"
	if sf_xdp_attached; then _fail "XDP detached from $SRV_IF after synfence exit"
	else _ok "XDP detached from $SRV_IF after synfence exit"; fi
	check_eq "$(sf_tc_progs)" 0 "no TC/tcx ingress program left on $SRV_IF after synfence exit"
	SF_PID=
	[ "$SF_FAILS" = "$fails" ]
}

sf_stats_json() { srv "$SYNFENCE" stats -j --pin-dir "$PIN"; }
sf_stats_text() { srv "$SYNFENCE" stats --pin-dir "$PIN"; }

# sf_snap FILE: save `synfence stats -j`; dies when stats fails or its JSON has no totals.
sf_snap() {
	sf_stats_json >"$1" 2>"$1.err" || { cat "$1.err"; die "synfence stats -j failed"; }
	jq -e '.total | type == "object"' "$1" >/dev/null || { cat "$1"; die "synfence stats -j: no .total object"; }
}

# sf_cnt FILE NAME: a total counter from a snapshot ("missing" when absent).
sf_cnt() { jq -r --arg n "$2" '.total[$n] // "missing"' "$1"; }

# sf_delta BEFORE AFTER NAME
sf_delta() {
	local a b
	a=$(sf_cnt "$1" "$3")
	b=$(sf_cnt "$2" "$3")
	if _isint "$a" && _isint "$b"; then echo $((b - a)); else echo "missing"; fi
}

# Print the non-zero counters of a snapshot in one line (for logs).
sf_show() { jq -r '.total | to_entries | map(select(.value != 0) | "\(.key)=\(.value)") | join(" ")' "$1"; }
# Print the non-zero deltas between two snapshots.
sf_show_delta() {
	jq -rn --slurpfile a "$1" --slurpfile b "$2" \
		'$b[0].total | to_entries | map(select((.value - ($a[0].total[.key] // 0)) != 0)
		 | "\(.key)+\(.value - ($a[0].total[.key] // 0))") | join(" ")'
}

# ---- kernel counters, sockets -----------------------------------------------------------------

# sf_nstat NS COUNTER: absolute value of a kernel SNMP/netstat counter in a namespace.
sf_nstat() {
	local v
	v=$(ip netns exec "$1" nstat -asz "$2" 2>/dev/null | awk -v c="$2" '$1 == c { print $2 }')
	echo "${v:-0}"
}

# veth statistics: sf_ifstat NS IF  ->  "rx_packets rx_dropped tx_packets tx_dropped"
sf_ifstat() {
	ip -n "$1" -s -j link show "$2" |
		jq -r '.[0].stats64 | "\(.rx.packets) \(.rx.dropped) \(.tx.packets) \(.tx.dropped)"'
}
# ethtool -S counters of a veth, one "name value" per line, non-zero only.
sf_ethtool() { ip netns exec "$1" ethtool -S "$2" 2>/dev/null | awk -F': *' 'NR > 1 && $2 != 0 { gsub(/^ +/, "", $1); print $1 "=" $2 }' | tr '\n' ' '; }

# ---- packet sender ----------------------------------------------------------------------------

# sf_flood MODE DSTADDR DPORT COUNT [PPS]: spoofed SYNs or ACKs from the client namespace.
sf_flood() {
	local mode=$1 dst=$2 port=$3 count=$4 pps=${5:-20000}
	sf_build_flood
	cli "$SFI_FLOOD" -i "$CLI_IF" -M "$(sf_srv_mac)" -D "$dst" -p "$port" -n "$count" -m "$mode" \
		-r "$pps" -T 60
}

# ---- clients ----------------------------------------------------------------------------------

# sf_curl URL [ARGS...]: curl from the client namespace, body on stdout.
sf_curl() { cli curl -sS -g --max-time 10 "$@"; }

# Wait until a listener exists on a port in the server namespace.
sf_wait_listen() {
	local port=$1 i
	for i in $(seq 50); do
		[ -n "$(srv ss -Hltn "sport = :$port")" ] && return 0
		sleep 0.1
	done
	die "nothing listens on port $port in $SRV_NS"
}

# sf_ss_info FILTER: `ss -tin` on the server for established sockets matching an ss filter,
# as "local peer | info" lines.
sf_ss_srv() { srv ss -Htin state established "$@"; }
