# tests/lib.sh - shared helpers for the synfence integration tests and the demo. Source it (bash).
#
# Environment:
#   BUILD      build directory (default: build, relative to the repo root)
#   SYNFENCE   the synfence binary (default: $BUILD/synfence)
#   XDP_PASS   the XDP_PASS object attached to the client veth (default: $BUILD/xdp_pass.bpf.o)
#   SFI_FLOOD  the spoofed packet sender (default: $BUILD/sfi_flood, built from
#              tests/tools/sfi_flood.c when missing or older than its source)
#   SFI_HANDSHAKE  the hand-made handshake tool (default: $BUILD/sfi_handshake, likewise)
#   SF_PREFIX  namespace/pin prefix (default: ${SF_TAG}sfi; the demo uses ${SF_TAG}sfd)
#   SF_TAG     put before each test's own prefix (default: none), so two checkouts can run side by side
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
SFI_HANDSHAKE=$(sf_abspath "${SFI_HANDSHAKE:-$BUILD/sfi_handshake}")
SF_PREFIX=${SF_PREFIX:-${SF_TAG:-}sfi}
SF_PIN_ROOT=/run/$SF_PREFIX

SRV_IF=veth-srv
SRV_IFS=("$SRV_IF") # the interfaces sf_synfence_start protects
CLI_IF=veth-cli
SRV4=198.18.0.1
CLI4=198.18.0.2
SRV6=fd00::1
CLI6=fd00::2

SF_FAILS=0
SF_CHECKS=0
SF_PIDS=()
SF_EXTRA_NS=()
SF_NAME=
SRV_NS=
CLI_NS=
TMPD=
PIN=
SF_PID=

# ---- output and assertions --------------------------------------------------------------------

# SF_QUIET=1 (the bench, whose stdout is its table): log, die and the evidence go to stderr, and the
# helpers here say nothing of their own progress (_sf_note).
_sf_fd() { if [ "${SF_QUIET:-0}" = 1 ]; then echo 2; else echo 1; fi; }
log() { printf '[%s] %s\n' "$(date +%T)" "$*" >&"$(_sf_fd)"; }
_sf_note() { [ "${SF_QUIET:-0}" = 1 ] || log "$@"; }
die() {
	log "FATAL: $*"
	sf_evidence >&"$(_sf_fd)"
	exit 1
}
# _sf_show_log FILE: a synfence log, indented, where log writes
_sf_show_log() { sed 's/^/    synfence| /' "$1" >&"$(_sf_fd)"; }

_ok() {
	SF_CHECKS=$((SF_CHECKS + 1))
	printf '  ok    %s\n' "$*"
}
_fail() {
	SF_CHECKS=$((SF_CHECKS + 1))
	SF_FAILS=$((SF_FAILS + 1))
	printf '  FAIL  %s\n' "$*"
}

# _skip MESSAGE: a check that cannot be made here, MESSAGE saying which and why (tests/run.sh shows
# it under the test's PASS line and counts it as skipped)
_skip() { printf '  skip  %s\n' "$*"; }

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
		sf_evidence
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
		echo "make ${SF_MAKE:-test} must run as root (it creates network namespaces and attaches BPF programs)." >&2
		echo "Run: sudo make ${SF_MAKE:-test}" >&2
		exit 1
	fi
}

# SF_TOOLS: the programs sf_init requires (the bench sets its own list)
SF_TOOLS=(ip ss nstat jq curl nginx iperf3 tcpdump ethtool bpftool tc gcc timeout)
sf_require_tools() {
	local t missing=()
	for t in "${SF_TOOLS[@]}"; do
		command -v "$t" >/dev/null 2>&1 || missing+=("$t")
	done
	[ ${#missing[@]} -eq 0 ] || die "missing tools: ${missing[*]} (run: make deps)"
}

# sf_nobody_blocked: when an unprivileged user (uid 65534) cannot run any program here, says why and
# returns 0; else returns 1, silent. The control for checks of what synfence tells a user who is not
# root: under a root directory of mode 0700 (the tree ../shared/fresh-debian.sh makes with mktemp
# -d; no installed system has one) the loader cannot reach libc for that user, so no program can
# say anything of its own.
sf_nobody_blocked() {
	setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all true 2>/dev/null && return 1
	echo "uid 65534 cannot run even $(type -P true) here (the root directory has mode $(stat -c %a /))"
}

sf_require_synfence() {
	[ -x "$SYNFENCE" ] || die "synfence binary not found at $SYNFENCE (run make, or set SYNFENCE=)"
	[ -r "$XDP_PASS" ] || die "xdp_pass object not found at $XDP_PASS (run make, or set BUILD=)"
}

# Build the test tools (tests/tools/*.c) when missing or older than their source.
_sf_build_tool() {
	local src=$SF_SRC/tests/tools/$1.c out=$2
	if [ ! -x "$out" ] || [ "$src" -nt "$out" ]; then
		mkdir -p "$(dirname "$out")"
		gcc -O2 -Wall -Wextra -Werror -std=gnu11 -D_GNU_SOURCE -o "$out" "$src" ||
			die "could not build $out from $src"
	fi
}
sf_build_tools() {
	_sf_build_tool sfi_flood "$SFI_FLOOD"
	_sf_build_tool sfi_handshake "$SFI_HANDSHAKE"
}
sf_build_flood() { sf_build_tools; }

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
	_sf_note "test $SF_NAME: server ns $SRV_NS, client ns $CLI_NS, temp dir $TMPD"
}

sf_track_pid() { SF_PIDS+=("$1"); }

_sf_kill_ns_procs() {
	local ns=$1 sig=$2 p
	ip netns list 2>/dev/null | grep -qw "^$ns" || return 0
	for p in $(ip netns pids "$ns" 2>/dev/null); do
		kill "-$sig" "$p" 2>/dev/null
	done
}

# SF_AT_EXIT: functions sf_cleanup calls first (the bench's watchdog)
SF_AT_EXIT=()
sf_cleanup() {
	local rc=$?
	set +e
	trap - EXIT INT TERM
	local p ns i
	for p in "${SF_AT_EXIT[@]}"; do "$p"; done
	for p in "${SF_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
	for ns in "$SRV_NS" "$CLI_NS" "${SF_EXTRA_NS[@]}"; do [ -n "$ns" ] && _sf_kill_ns_procs "$ns" TERM; done
	for i in $(seq 30); do
		local alive=0
		for p in "${SF_PIDS[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
		for ns in "$SRV_NS" "$CLI_NS" "${SF_EXTRA_NS[@]}"; do
			[ -n "$ns" ] && [ -n "$(ip netns pids "$ns" 2>/dev/null)" ] && alive=1
		done
		[ $alive = 0 ] && break
		sleep 0.1
	done
	for p in "${SF_PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done
	for ns in "$SRV_NS" "$CLI_NS" "${SF_EXTRA_NS[@]}"; do [ -n "$ns" ] && _sf_kill_ns_procs "$ns" KILL; done
	for p in "${SF_PIDS[@]}"; do wait "$p" 2>/dev/null; done
	for ns in "$SRV_NS" "$CLI_NS" "${SF_EXTRA_NS[@]}"; do
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
	# `ip link set ... xdp obj` (iproute2) makes its tc/ip/xdp globals directories in the first
	# bpffs it finds, which can be this one
	mountpoint -q "$SF_PIN_ROOT" 2>/dev/null && rm -rf "$SF_PIN_ROOT"/{tc,ip,xdp}
	# a fresh bpffs holds only the kernel's maps.debug and progs.debug
	if mountpoint -q "$SF_PIN_ROOT" 2>/dev/null &&
		[ -z "$(ls -A "$SF_PIN_ROOT" 2>/dev/null | grep -v '\.debug$')" ]; then
		umount "$SF_PIN_ROOT" 2>/dev/null && rmdir "$SF_PIN_ROOT" 2>/dev/null
	fi
	return 0
}

srv() { ip netns exec "$SRV_NS" "$@"; }
cli() { ip netns exec "$CLI_NS" "$@"; }

# sf_ns_add NS: a new network namespace NS (an old one of that name and its processes removed first)
# with lo up; one other than SRV_NS and CLI_NS goes to SF_EXTRA_NS, for sf_cleanup.
sf_ns_add() {
	if ip netns list | grep -qw "^$1"; then
		_sf_kill_ns_procs "$1" KILL
		ip netns del "$1"
	fi
	ip netns add "$1" || die "ip netns add $1 failed"
	ip -n "$1" link set lo up
	[ "$1" = "$SRV_NS" ] || [ "$1" = "$CLI_NS" ] || SF_EXTRA_NS+=("$1")
}

# sf_veth_add NS1 IF1 ADDR4_1 ADDR6_1 NS2 IF2 ADDR4_2 ADDR6_2 OBJ: a veth pair IF1 (in NS1) <-> IF2
# (in NS2), addresses /24 and /64 (an empty ADDR6: none), both up, the XDP program OBJ on IF2;
# waits (5 s) until both are up.
sf_veth_add() {
	local ns1=$1 if1=$2 a4=$3 a6=$4 ns2=$5 if2=$6 b4=$7 b6=$8 obj=$9 i
	ip -n "$ns1" link add "$if1" type veth peer name "$if2" netns "$ns2" || die "veth $if1-$if2 creation failed"
	ip -n "$ns1" addr add "$a4/24" dev "$if1"
	ip -n "$ns2" addr add "$b4/24" dev "$if2"
	if [ -n "$a6" ]; then
		ip -n "$ns1" addr add "$a6/64" dev "$if1" nodad
		ip -n "$ns2" addr add "$b6/64" dev "$if2" nodad
	fi
	ip -n "$ns1" link set "$if1" up
	ip -n "$ns2" link set "$if2" up
	# XDP_TX on a veth only delivers when the peer veth has an XDP program
	ip -n "$ns2" link set dev "$if2" xdp obj "$obj" sec xdp || die "could not attach $obj to $if2"
	for i in $(seq 50); do
		[ "$(ip -n "$ns1" -j link show "$if1" | jq -r '.[0].operstate')" = UP ] &&
			[ "$(ip -n "$ns2" -j link show "$if2" | jq -r '.[0].operstate')" = UP ] && break
		sleep 0.1
	done
}

# sf_topo_up [-4] [-x OBJ] [-r PREFIX]... [-n]: server and client namespaces joined by a veth pair,
# xdp_pass on the client side.
#   -4         IPv4 only (no SRV6, CLI6)
#   -x OBJ     the client veth's XDP program (default $XDP_PASS; the bench and soak: sf_sink)
#   -r PREFIX  one more source prefix whose answers the server routes to the client (sf_flood's)
#   -n         threaded NAPI on both veths (the bench pins the kthreads)
sf_topo_up() {
	local obj=$XDP_PASS v6=1 napi=0 routes=() r o OPTIND=1
	while getopts 4x:r:n o; do
		case $o in
		4) v6=0 ;;
		x) obj=$OPTARG ;;
		r) routes+=("$OPTARG") ;;
		n) napi=1 ;;
		*) die "sf_topo_up: bad option" ;;
		esac
	done
	[ $v6 = 1 ] || SRV6="" CLI6=""
	sf_ns_add "$SRV_NS"
	sf_ns_add "$CLI_NS"
	sf_veth_add "$SRV_NS" "$SRV_IF" "$SRV4" "$SRV6" "$CLI_NS" "$CLI_IF" "$CLI4" "$CLI6" "$obj"
	# answers to spoofed sources go to the client namespace and die there
	ip -n "$SRV_NS" route add 198.18.1.0/24 via "$CLI4"
	[ $v6 = 1 ] && ip -n "$SRV_NS" -6 route add fd00:1::/64 via "$CLI6"
	for r in "${routes[@]}"; do
		if [[ $r == *:* ]]; then ip -n "$SRV_NS" -6 route add "$r" via "$CLI6"; else ip -n "$SRV_NS" route add "$r" via "$CLI4"; fi
	done
	local sc
	sc=$(srv sysctl -n net.ipv4.tcp_syncookies)
	[ "$sc" = 1 ] || srv sysctl -qw net.ipv4.tcp_syncookies=1
	if [ $napi = 1 ]; then
		# threaded NAPI can only be switched on while the veth has its NAPI (an XDP program
		# attached); the setting stays with the device, and every NAPI it gets later is threaded too
		ip -n "$SRV_NS" link set dev "$SRV_IF" xdp obj "$XDP_PASS" sec xdp || die "attach xdp_pass to $SRV_IF"
		srv sh -c "echo 1 > /sys/class/net/$SRV_IF/threaded" || die "threaded NAPI on $SRV_IF"
		ip -n "$SRV_NS" link set dev "$SRV_IF" xdp off
		cli sh -c "echo 1 > /sys/class/net/$CLI_IF/threaded" || die "threaded NAPI on $CLI_IF"
	fi
	_sf_note "topology up: $SRV_NS/$SRV_IF $SRV4 $SRV6 <-> $CLI_NS/$CLI_IF $CLI4 $CLI6 ($(basename "$obj" .bpf.o) on $CLI_IF)"
}

sf_srv_mac() { ip -n "$SRV_NS" -j link show "$SRV_IF" | jq -r '.[0].address'; }

# sf_topo_add_link: a second client namespace $CLI2_NS joined by veth-srv2 (198.18.2.1/24,
# fd00:2::1/64) <-> veth-cli2 (198.18.2.2/24, fd00:2::2/64), xdp_pass on veth-cli2; adds veth-srv2
# to SRV_IFS.
SRV2_IF=veth-srv2
CLI2_IF=veth-cli2
SRV2_4=198.18.2.1
CLI2_4=198.18.2.2
SRV2_6=fd00:2::1
CLI2_6=fd00:2::2
sf_topo_add_link() {
	CLI2_NS=$SF_PREFIX-cl2-$SF_NAME
	sf_ns_add "$CLI2_NS"
	sf_veth_add "$SRV_NS" "$SRV2_IF" "$SRV2_4" "$SRV2_6" "$CLI2_NS" "$CLI2_IF" "$CLI2_4" "$CLI2_6" "$XDP_PASS"
	SRV_IFS+=("$SRV2_IF")
	_sf_note "second link up: $SRV_NS/$SRV2_IF $SRV2_4 $SRV2_6 <-> $CLI2_NS/$CLI2_IF $CLI2_4 $CLI2_6"
}
cli2() { ip netns exec "$CLI2_NS" "$@"; }

# ---- nginx ------------------------------------------------------------------------------------

# sf_nginx_start [-t] [-c CPU] [PORT...]: nginx in the server namespace on each address of
# NGINX_ADDRS (default: SRV4 and [SRV6]; without SRV6, SRV4 only) for each port (default 80 8080).
# Serves $TMPD/www: index.html (NGINX_BODY) and big.bin (4 MiB). NGINX_PID: its master process.
#   -t      tuned for load (the bench): no access log, 4096 worker connections, listen backlog 4096
#   -c CPU  pinned to CPU (taskset)
NGINX_BODY="synfence test page"
sf_nginx_start() {
	local tuned=0 pin=() o OPTIND=1
	while getopts tc: o; do
		case $o in
		t) tuned=1 ;;
		c) pin=(taskset -c "$OPTARG") ;;
		*) die "sf_nginx_start: bad option" ;;
		esac
	done
	shift $((OPTIND - 1))
	local ports=("$@") p listen="" conns=1024 access=$TMPD/nginx/access.log backlog=""
	[ $tuned = 0 ] || conns=4096 access=off backlog=" backlog=4096"
	[ ${#ports[@]} -gt 0 ] || ports=(80 8080)
	mkdir -p "$TMPD/nginx/body" "$TMPD/www"
	echo "$NGINX_BODY" >"$TMPD/www/index.html"
	head -c $((4 << 20)) /dev/zero >"$TMPD/www/big.bin"
	local a addrs=("${NGINX_ADDRS[@]}")
	[ ${#addrs[@]} -gt 0 ] || addrs=("$SRV4" ${SRV6:+"[$SRV6]"})
	for p in "${ports[@]}"; do
		for a in "${addrs[@]}"; do listen+="        listen $a:$p$backlog;"$'\n'; done
	done
	cat >"$TMPD/nginx/nginx.conf" <<EOF
user root;
worker_processes 1;
daemon off;
master_process on;
pid $TMPD/nginx/nginx.pid;
error_log $TMPD/nginx/error.log warn;
events { worker_connections $conns; }
http {
    access_log $access;
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
	# `ip netns exec` (and taskset) directly, not through a shell function, so that $! is nginx itself
	ip netns exec "$SRV_NS" "${pin[@]}" nginx -p "$TMPD/nginx" -c "$TMPD/nginx/nginx.conf" -e "$TMPD/nginx/error.log" \
		>"$TMPD/nginx/stdout.log" 2>&1 &
	NGINX_PID=$!
	sf_track_pid "$NGINX_PID"
	local i n want=$((${#ports[@]} * ${#addrs[@]}))
	for i in $(seq 50); do
		kill -0 "$NGINX_PID" 2>/dev/null || { cat "$TMPD/nginx/"*.log >&"$(_sf_fd)"; die "nginx exited"; }
		n=0
		for p in "${ports[@]}"; do
			n=$((n + $(srv ss -Hltn "sport = :$p" | wc -l)))
		done
		[ "$n" -ge "$want" ] && { _sf_note "nginx (pid $NGINX_PID) listening on ports ${ports[*]} (${addrs[*]})"; return 0; }
		sleep 0.1
	done
	cat "$TMPD/nginx/"*.log >&"$(_sf_fd)"
	die "nginx did not start listening"
}

# ---- synfence ---------------------------------------------------------------------------------

sf_mount_pin_root() {
	mkdir -p "$SF_PIN_ROOT"
	if ! mountpoint -q "$SF_PIN_ROOT"; then
		mount -t bpf bpf "$SF_PIN_ROOT" || die "cannot mount bpffs at $SF_PIN_ROOT"
	fi
}

# sf_xdp_attached [IF]: an XDP program is attached to a server interface (default: $SRV_IF)
sf_xdp_attached() {
	[ "$(ip -n "$SRV_NS" -j link show "${1:-$SRV_IF}" | jq -r '.[0].xdp != null')" = true ]
}
sf_ifindex() { ip -n "$SRV_NS" -j link show "${1:-$SRV_IF}" | jq -r '.[0].ifindex'; }

# TC ingress programs of synfence on the server veth. bpftool 7.1 (Debian 12) does not list tcx
# attachments, so tcx links are read from the daemon's own fds (/proc/PID/fdinfo: link_type tcx,
# link_id, ifindex); a clsact fallback shows up in `tc filter show ... ingress`.
# sf_tcx_links PID: "link_id:ifindex" of each tcx link the process holds, space separated
sf_tcx_links() {
	local f out=""
	for f in /proc/"$1"/fdinfo/*; do
		awk '$1 == "link_type:" { t = $2 } $1 == "link_id:" { id = $2 } $1 == "ifindex:" { ix = $2 }
		     END { if (t == "tcx") printf "%s:%s ", id, ix }' "$f" 2>/dev/null
	done
}
sf_clsact_filters() { ip netns exec "$SRV_NS" tc filter show dev "${1:-$SRV_IF}" ingress 2>/dev/null | grep -c ' bpf .*handle '; }
# sf_link_exists ID
sf_link_exists() { bpftool link show id "$1" >/dev/null 2>&1; }

# sf_synfence_start [-l LOG] [-w N] [-c CPU] [-u] [-a] PORTLIST [ARGS...]: `synfence run` in the
# server namespace, in the background (SF_PID, tracked), its output to LOG (SF_LOG; default: a new
# $TMPD/synfence.N.log each start). By default it runs on the interfaces in SRV_IFS with --ports
# PORTLIST --pin-dir $PIN and then ARGS, and is up when XDP is attached to all of them and `stats`
# answers; then each is checked (counted) for a TC ingress program. Dies when it exits early or is
# not up within 10 s.
#   -a      ARGS are all of run's arguments, as given (no PORTLIST; implies -w 1 unless -w is given);
#           the last option
#   -w N    up when LOG has N "protecting" lines instead (a take-over, another namespace or pin dir,
#           a config file); no TC checks
#   -c CPU  pinned to CPU (taskset)
#   -u      no TC checks (the bench: no checks to count)
sf_synfence_start() {
	local lg="" asis=0 want="" pin=() checks=1 o OPTIND=1 args
	while getopts l:aw:c:u o; do
		case $o in
		l) lg=$OPTARG ;;
		a)
			asis=1
			break # the rest is run's
			;;
		w) want=$OPTARG ;;
		c) pin=(taskset -c "$OPTARG") ;;
		u) checks=0 ;;
		*) die "sf_synfence_start: bad option" ;;
		esac
	done
	shift $((OPTIND - 1))
	if [ $asis = 1 ]; then
		args=("$@")
		want=${want:-1}
	else
		args=("${SRV_IFS[@]}" --ports "$1" --pin-dir "$PIN" "${@:2}")
	fi
	[ -z "$want" ] || checks=0
	if [ -z "$lg" ]; then
		SF_RUN_N=$((${SF_RUN_N:-0} + 1))
		lg=$TMPD/synfence.$SF_RUN_N.log
	fi
	SF_LOG=$lg
	sf_require_synfence
	sf_mount_pin_root
	# `ip netns exec` (and taskset) directly, so that $! is synfence itself
	ip netns exec "$SRV_NS" "${pin[@]}" "$SYNFENCE" run "${args[@]}" >"$SF_LOG" 2>&1 &
	SF_PID=$!
	sf_track_pid "$SF_PID"
	local i dev all up=0
	for i in $(seq 100); do
		if ! kill -0 "$SF_PID" 2>/dev/null; then
			wait "$SF_PID"
			local rc=$?
			_sf_show_log "$SF_LOG"
			die "synfence run ${args[*]} exited early with status $rc"
		fi
		if [ -n "$want" ]; then
			[ "$(grep -c 'protecting ' "$SF_LOG")" -ge "$want" ] && up=1
		else
			all=1
			for dev in "${SRV_IFS[@]}"; do sf_xdp_attached "$dev" || all=0; done
			[ $all = 1 ] && sf_stats_json >/dev/null 2>&1 && up=1
		fi
		[ $up = 1 ] && break
		sleep 0.1
	done
	if [ $up = 0 ]; then
		_sf_show_log "$SF_LOG"
		die "synfence run ${args[*]} was not up within 10 s (XDP attached to $SRV_IF: $(sf_xdp_attached && echo yes || echo no))"
	fi
	SF_TCX=$(sf_tcx_links "$SF_PID")
	_sf_note "synfence (pid $SF_PID) running: ${args[*]}; tcx links (id:ifindex): ${SF_TCX:-none};" \
		"clsact filters: $(sf_clsact_filters)"
	[ $checks = 1 ] || return 0
	local ix
	for dev in "${SRV_IFS[@]}"; do
		ix=$(sf_ifindex "$dev")
		if [[ " $SF_TCX" == *":$ix "* ]] || [ "$(sf_clsact_filters "$dev")" -gt 0 ]; then
			_ok "synfence has a TC ingress program on $dev (tcx link or clsact filter)"
		else
			_fail "synfence has a TC ingress program on $dev: no tcx link for ifindex $ix among its fds, no clsact filter"
		fi
	done
}

# sf_wait_pid PID [SECS]: wait (default 10 s) for a child of this shell to exit; SF_RC gets its exit
# status, or "running" (returns 1) when it still runs.
sf_wait_pid() {
	local pid=$1 t=${2:-10} i
	for i in $(seq $((t * 10))); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then SF_RC=running; return 1; fi
	wait "$pid"
	SF_RC=$?
}

# sf_synfence_stop [-s SIG] [-p PID] [-t SECS] [-q]: stop a `synfence run` (default: $SF_PID; none:
# nothing to do): send SIG (default TERM), wait SECS (default 10) for its exit; SF_RC gets its exit
# status, or "running" when it outlived SECS (it is then killed with SIGKILL). Checks (counted) that
# it exited in time with status 0 and left no XDP program, clsact filter or tcx link (SF_TCX) on the
# interfaces in SRV_IFS; returns non-zero when one of them failed.
#   -q      no checks: only SF_RC (returns 1 when it had to be killed); for a stop that leaves
#           protection in place (SIGUSR2, keep_attached, SIGKILL), another namespace's run, a fault
#           injected
sf_synfence_stop() {
	local sig=TERM pid=$SF_PID t=10 checks=1 o OPTIND=1
	while getopts s:p:t:q o; do
		case $o in
		s) sig=$OPTARG ;;
		p) pid=$OPTARG ;;
		t) t=$OPTARG ;;
		q) checks=0 ;;
		*) die "sf_synfence_stop: bad option" ;;
		esac
	done
	shift $((OPTIND - 1))
	[ $# = 0 ] || die "sf_synfence_stop: options only, not '$*'"
	[ -n "$pid" ] || return 0
	local fails=$SF_FAILS rc=0
	kill "-$sig" "$pid" 2>/dev/null
	if ! sf_wait_pid "$pid" "$t"; then
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		rc=1
	fi
	[ "$pid" = "$SF_PID" ] && SF_PID=
	[ $checks = 1 ] || return $rc
	[ "$SF_RC" != running ] || _fail "synfence exits within $t s of SIG$sig"
	check_eq "$SF_RC" 0 "synfence run exit status after SIG$sig"
	[ "$SF_RC" = 0 ] || _sf_show_log "$SF_LOG"
	local dev l left=""
	for dev in "${SRV_IFS[@]}"; do
		if sf_xdp_attached "$dev"; then _fail "XDP detached from $dev after synfence exit"
		else _ok "XDP detached from $dev after synfence exit"; fi
		check_eq "$(sf_clsact_filters "$dev")" 0 "no clsact ingress filter left on $dev after synfence exit"
	done
	for l in $SF_TCX; do sf_link_exists "${l%%:*}" && left+="${l%%:*} "; done
	check_eq "${left:-none}" none "the tcx links synfence held (${SF_TCX:-none}) are gone after its exit"
	[ "$SF_FAILS" = "$fails" ]
}

# sf_counter_names: the counters declared in include/synfence.h (the X-macro list), in order, one a
# line: the source of truth the outputs are checked against.
sf_counter_names() { sed -n 's/^[[:space:]]*X(\([a-z][a-z_0-9]*\),.*/\1/p' "$SF_SRC/include/synfence.h"; }

# sf_long_opts FILE...: the long options declared in the C sources, as --name, sorted, one a line:
# getopt_long tables ({ "name", ..._argument ...) and user/conf/settings.c's key table, from which
# run builds its getopt table (.flag = "name"; a key with .type = SF_T_BOOL on that line also has
# --no-name).
sf_long_opts() {
	{
		grep -ohE '\{ *"[a-z][a-z0-9-]*", *(no|required|optional)_argument' "$@" | sed 's/{ *"\([^"]*\)".*/--\1/'
		sed -nE -e 's/.*\.flag = "([a-z][a-z0-9-]*)".*SF_T_BOOL.*/--\1\n--no-\1/p' -e t \
			-e 's/.*\.flag = "([a-z][a-z0-9-]*)".*/--\1/p' "$@"
	} | sort -u
}

# (-i 0: one reading, no rates: instant)
sf_stats_json() { srv "$SYNFENCE" stats -j -i 0 --pin-dir "$PIN"; }
sf_stats_text() { srv "$SYNFENCE" stats -a -i 0 --pin-dir "$PIN"; }
sf_status_json() { srv "$SYNFENCE" status -j -i 0 --pin-dir "$PIN"; }

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
	sf_build_tools
	cli "$SFI_FLOOD" -i "$CLI_IF" -M "$(sf_srv_mac)" -D "$dst" -p "$port" -n "$count" -m "$mode" \
		-r "$pps" -T 60
}

# sf_handshake SRCADDR DSTADDR DPORT [sfi_handshake options...]: one hand-made handshake from a
# spoofed source (see tests/tools/sfi_handshake.c); prints its report.
sf_handshake() {
	local src=$1 dst=$2 port=$3
	shift 3
	sf_build_tools
	cli "$SFI_HANDSHAKE" -i "$CLI_IF" -M "$(sf_srv_mac)" -s "$src" -D "$dst" -p "$port" "$@"
}

# ---- clients ----------------------------------------------------------------------------------

# sf_curl URL [ARGS...]: curl from the client namespace, body on stdout.
sf_curl() { cli curl -sS -g --max-time 10 "$@"; }

# sf_newconn_loop STOPFILE LOG: in the background (max 120 s), new connections from the client
# namespace until STOPFILE exists: curl to port 80, alternating $SRV4 and [$SRV6]. LOG gets a line
# "FAILED URL: ..." per failure and, at the end, "ok=N bad=M". Sets SF_NEWCONN_PID (tracked).
sf_newconn_loop() {
	ip netns exec "$CLI_NS" timeout 120 bash -c '
		stop=$0 v4=$1 v6=$2 body=$3 ok=0 bad=0 i=0
		while [ ! -e "$stop" ]; do
			i=$((i + 1))
			if [ $((i % 2)) = 0 ]; then u="http://$v4/"; else u="http://[$v6]/"; fi
			got=$(curl -sS -g --max-time 5 "$u" 2>&1)
			if [ "$got" = "$body" ]; then ok=$((ok + 1)); else bad=$((bad + 1)); echo "FAILED $u: $got"; fi
			sleep 0.05
		done
		echo "ok=$ok bad=$bad"' "$1" "$SRV4" "$SRV6" "$NGINX_BODY" >"$2" 2>&1 &
	SF_NEWCONN_PID=$!
	sf_track_pid $SF_NEWCONN_PID
}

# sf_newconn_finish STOPFILE LOG WHAT: stop the loop of sf_newconn_loop and check that it made
# connections (at least 10) and that none failed, WHAT ("across both switches") in the messages.
sf_newconn_finish() {
	local res ok
	touch "$1"
	wait "$SF_NEWCONN_PID"
	res=$(tail -n 1 "$2")
	ok=$(sed -n 's/^ok=\([0-9]*\) bad=.*/\1/p' <<<"$res")
	check_match "$res" '^ok=[0-9]+ bad=0$' "no new connection failed $3 ($res)"
	check_ge "${ok:-0}" 10 "the connection loop made connections $3"
	grep '^FAILED' "$2" | head -5 | sed 's/^/    /'
}

# sf_keepalive HOST STOPFILE DIR INTERVAL: in the background (max 120 s), HTTP/1.1 requests over one
# connection from the client namespace to HOST:80, one every INTERVAL seconds, until STOPFILE
# exists. DIR/count holds the number of good responses so far, DIR/keepalive.log the outcome; exit
# 0 only if every response was good (status 200, a Content-Length, the page). Sets
# SF_KEEPALIVE_PID (tracked).
sf_keepalive() {
	ip netns exec "$CLI_NS" env LC_ALL=C timeout 120 bash -c '
		host=$0 stop=$1 dir=$2 pause=$3 body=$4 n=0
		exec 3<>"/dev/tcp/$host/80" || { echo "connect failed"; exit 3; }
		while [ ! -e "$stop" ]; do
			printf "GET /index.html HTTP/1.1\r\nHost: t\r\n\r\n" >&3 || { echo "write failed after $n"; exit 1; }
			IFS= read -r -t 5 status <&3 || { echo "no response after $n good ones"; exit 1; }
			case $status in "HTTP/1.1 200"*) ;; *) echo "bad status line: $status"; exit 1 ;; esac
			len=
			while IFS= read -r -t 5 line <&3; do
				line=${line%$'"'"'\r'"'"'}
				[ -z "$line" ] && break
				case ${line,,} in content-length:*) len=${line#*: } ;; esac
			done
			[ -n "$len" ] || { echo "no content-length after $n"; exit 1; }
			IFS= read -r -t 5 -N "$len" got <&3 || { echo "short body after $n"; exit 1; }
			[ "$got" = "$body"$'"'"'\n'"'"' ] || { echo "wrong body after $n: $got"; exit 1; }
			n=$((n + 1))
			echo $n >"$dir/count.tmp" && mv "$dir/count.tmp" "$dir/count"
			sleep "$pause"
		done
		echo "done after $n good responses"' "$1" "$2" "$3" "$4" "$NGINX_BODY" >"$3/keepalive.log" 2>&1 &
	SF_KEEPALIVE_PID=$!
	sf_track_pid $SF_KEEPALIVE_PID
}

# Wait until a listener exists on a port in the server namespace.
sf_wait_listen() {
	local port=$1 i
	for i in $(seq 50); do
		[ -n "$(srv ss -Hltn "sport = :$port")" ] && return 0
		sleep 0.1
	done
	die "nothing listens on port $port in $SRV_NS"
}

# `ss -tin` for established sockets matching an ss filter, one line per socket ("socket | info").
# Note: ss from iproute2 6.1 prints the "ts", "sack" and "ecn" flags of the info line only together
# with -o (or -e); `ss -tin` alone omits them. So: ss -tino.
_sf_ss_join() { awk '/^[^ \t]/ { if (l != "") print l; l = $0; next } { l = l " |" $0 } END { if (l != "") print l }'; }
sf_ss_srv() { srv ss -Htino state established "$@" | _sf_ss_join; }
sf_ss_cli() { cli ss -Htino state established "$@" | _sf_ss_join; }

# Options of one `ss -tino` line: "ts=0|1 sack=0|1 ecn=0|1 wscale=S,R|none mss=N"
sf_ss_opts() {
	local l=" $1 " ts=0 sack=0 ecn=0 ws=none mss=none
	[[ $l =~ [[:space:]]ts[[:space:]] ]] && ts=1
	[[ $l =~ [[:space:]]sack[[:space:]] ]] && sack=1
	[[ $l =~ [[:space:]]ecn[[:space:]] ]] && ecn=1
	[[ $l =~ [[:space:]]wscale:([0-9]+,[0-9]+) ]] && ws=${BASH_REMATCH[1]}
	[[ $l =~ [[:space:]]mss:([0-9]+) ]] && mss=${BASH_REMATCH[1]}
	echo "ts=$ts sack=$sack ecn=$ecn wscale=$ws mss=$mss"
}

# ---- packet captures --------------------------------------------------------------------------

# sf_pcap_start NAME NS IFACE [FILTER...]: bounded capture (5000 packets, 300 s) to $TMPD/NAME.pcap
sf_pcap_start() {
	local name=$1 ns=$2 dev=$3 i
	shift 3
	ip netns exec "$ns" timeout 300 tcpdump -i "$dev" -nn -U --immediate-mode -Z root -c 5000 -w "$TMPD/$name.pcap" "$@" \
		>"$TMPD/$name.tcpdump.log" 2>&1 &
	eval "SF_PCAP_$name=$!"
	sf_track_pid "$!"
	for i in $(seq 50); do
		grep -q 'listening on' "$TMPD/$name.tcpdump.log" 2>/dev/null && return 0
		sleep 0.1
	done
	log "warning: tcpdump $name did not report listening"
}
sf_pcap_stop() {
	local name=$1 pid
	eval "pid=\${SF_PCAP_$name:-}"
	[ -n "$pid" ] || return 0
	sleep 0.2
	kill -INT "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	eval "SF_PCAP_$name="
}
# sf_pcap_show NAME [MAXLINES]
sf_pcap_show() {
	[ -r "$TMPD/$1.pcap" ] || return 0
	echo "    tcpdump of $1 (first ${2:-40} packets):"
	tcpdump -nn -tt -r "$TMPD/$1.pcap" 2>/dev/null | head -n "${2:-40}" | sed 's/^/      /'
}

# ---- evidence on failure ------------------------------------------------------------------------

SF_IN_EVIDENCE=0
sf_evidence() {
	[ "$SF_IN_EVIDENCE" = 0 ] || return 0
	SF_IN_EVIDENCE=1
	[ -n "$SRV_NS" ] && ip netns list 2>/dev/null | grep -qw "^$SRV_NS" || return 0
	echo "---- evidence ($SF_NAME) ----"
	if [ -n "$PIN" ] && [ -e "$PIN" ]; then
		echo "  synfence stats:"
		sf_stats_text 2>&1 | sed 's/^/    /'
	fi
	echo "  server: ss -tan (first 20):"
	srv ss -tan 2>&1 | head -20 | sed 's/^/    /'
	echo "  server: kernel counters:"
	srv nstat -asz TcpOutRsts TcpInErrs TcpPassiveOpens TcpExtSyncookiesSent TcpExtSyncookiesRecv \
		TcpExtSyncookiesFailed TcpExtListenDrops TcpExtListenOverflows TcpExtTCPReqQFullDrop \
		TcpExtTCPBacklogDrop 2>&1 | grep -v '^#' | sed 's/^/    /'
	echo "  server $SRV_IF: $(sf_ethtool "$SRV_NS" "$SRV_IF")"
	echo "  client $CLI_IF: $(sf_ethtool "$CLI_NS" "$CLI_IF")"
	echo "  server link: $(ip -n "$SRV_NS" -d link show "$SRV_IF" | grep -o 'xdp.*' | head -2 | tr '\n' ' ')"
	echo "  tc ingress: tcx links held by synfence: ${SF_TCX:-none}; clsact filters: $(sf_clsact_filters)"
	local f
	for f in "$TMPD"/synfence.*.log; do
		[ -s "$f" ] || continue
		echo "  $(basename "$f") (last 20 lines):"
		tail -n 20 "$f" | sed 's/^/    /'
	done
	if [ -s "$TMPD/nginx/error.log" ]; then
		echo "  nginx error.log (last 10 lines):"
		tail -n 10 "$TMPD/nginx/error.log" | sed 's/^/    /'
	fi
	echo "---- end of evidence ----"
}

# ---- the daemon's lifecycle (restart, reload, config) ------------------------------------------

# sf_wait_log FILE REGEX [TIMEOUT_S]: wait (default 10 s) until FILE has a line matching the
# extended REGEX; returns 1 on timeout.
sf_wait_log() {
	local f=$1 re=$2 t=${3:-10} i
	for i in $(seq $((t * 10))); do
		grep -qE -- "$re" "$f" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# sf_synack_wins PCAP: the window of every SYN-ACK in the capture, one a line (XDP's say 65535)
sf_synack_wins() {
	tcpdump -nn -r "$1" '(ip and tcp[tcpflags] & 0x12 == 0x12) or (ip6 and ip6[6] == 6 and ip6[53] & 0x12 == 0x12)' \
		2>/dev/null | grep -o 'win [0-9]*' | awk '{ print $2 }'
}
# sf_syn_capture NAME: capture the SYNs and SYN-ACKs of the client's own connections to port 80 (not
# the kernel's SYN-ACK retransmissions to the spoofed sources of a flood) in $TMPD/NAME.pcap
sf_syn_capture() {
	sf_pcap_start "$1" "$CLI_NS" "$CLI_IF" "(ip and host $CLI4 and tcp port 80 and tcp[tcpflags] & tcp-syn != 0) or" \
		"(ip6 and host $CLI6 and ip6[6] == 6 and tcp port 80 and ip6[53] & 0x02 != 0)"
}
# sf_curls N: N curls to IPv4 and N to IPv6 (port 80); prints how many got the page
sf_curls() {
	local good=0 host
	for _ in $(seq "$1"); do
		for host in "$SRV4" "[$SRV6]"; do
			[ "$(sf_curl "http://$host/" 2>/dev/null)" = "$NGINX_BODY" ] && good=$((good + 1))
		done
	done
	echo $good
}

# sf_curls_captured NAME N SNAP0 SNAP1 WHAT: stats snapshot SNAP0, sf_syn_capture NAME around N
# curls to each family (all must get the page: checked, WHAT in the message), snapshot SNAP1, the
# counter deltas logged. Sets SF_CURLS (2 * N).
sf_curls_captured() {
	SF_CURLS=$((2 * $2))
	sf_snap "$3"
	sf_syn_capture "$1"
	check_eq "$(sf_curls "$2")" "$SF_CURLS" "$5: $SF_CURLS curls (IPv4 and IPv6) get the page"
	sf_pcap_stop "$1"
	sf_snap "$4"
	log "$5: counter deltas: $(sf_show_delta "$3" "$4")"
}

# sf_hup REGEX [TIMEOUT_S]: SIGHUP to $SF_PID, then wait (default 10 s) for a line of $SF_LOG
# matching the extended REGEX after the lines it had before; returns 1 on timeout.
sf_hup() {
	local before i
	before=$(grep -c '' "$SF_LOG")
	kill -HUP "$SF_PID"
	for i in $(seq $((${2:-10} * 10))); do
		tail -n +$((before + 1)) "$SF_LOG" | grep -qE -- "$1" && return 0
		sleep 0.1
	done
	return 1
}

# sf_pinned_link_id KIND IF: id of the link pinned as link_KIND_IF in $PIN ("none" if not pinned)
sf_pinned_link_id() {
	bpftool link show pinned "$PIN/link_$1_$2" -j 2>/dev/null | jq -r '.id // "none"' 2>/dev/null || echo none
}
# sf_xdp_prog_id [IF]: id of the XDP program on a server interface ("none")
sf_xdp_prog_id() { ip -n "$SRV_NS" -j link show "${1:-$SRV_IF}" | jq -r '.[0].xdp.prog.id // "none"'; }

# sf_state_strings: the printable strings (8+ characters) of the pinned sf_state map, one per line
# (e.g. its last_error), read with bpftool: works without a running synfence.
sf_state_strings() {
	bpftool map dump pinned "$PIN/sf_state" -j 2>/dev/null | jq -r '
		def hex: ascii_downcase | explode | map(if . >= 97 then . - 87 else . - 48 end)
			| reduce .[] as $d (0; . * 16 + $d);
		.[0].value | map(ltrimstr("0x") | hex) | map(if . >= 32 and . < 127 then . else 10 end)
		| implode | split("\n") | map(select(length >= 8)) | .[]'
}
