#!/bin/bash
# Every wrong input to `synfence run` (and detach) gets one line on stderr naming the problem and
# exit status 2 (usage: flags, config file, secret file) or 1 (runtime: not root, no such interface,
# pin dir or interface taken, tcp_syncookies off with --no-sysctl-changes, a kernel without BTF or
# without the handoff kfunc). No crash, and nothing
# is left behind: no XDP program, no pins. Also: --check-config, config keys with file:line errors,
# flags overriding the config file, the pin dir's permissions. The not-root case is skipped, saying
# why, where no unprivileged user can run a program at all (tests/lib.sh: sf_nobody_blocked).
SF_PREFIX=${SF_TAG:-}sfr
. "$(dirname "$0")/../lib.sh"

sf_init badinput
sf_require_synfence
sf_topo_up
sf_mount_pin_root
CONF=$TMPD/conf
mkdir -p "$CONF"
chmod 700 "$CONF"

# conf NAME CONTENT: a config file $CONF/NAME
conf() { printf '%s\n' "$2" >"$CONF/$1"; }
conf good "interfaces = $SRV_IF
ports = 80,443
	8000-8100
[synfence]
rotate = 30 ; a comment
pin_dir = $PIN"
: >"$CONF/empty"
conf typo "interfaces = $SRV_IF
prots = 80"
conf badval "interfaces = $SRV_IF
ports = 80
rotate = soon"
conf syntax "interfaces $SRV_IF"
conf twice "ports = 80
interfaces = $SRV_IF
ports = 81"
conf section "[server]
ports = 80"
conf badport "interfaces = $SRV_IF
ports = 80,99999"
conf badbool "interfaces = $SRV_IF
ports = 80
reattach = maybe"
conf relpin "interfaces = $SRV_IF
ports = 80
pin_dir = relative/dir"
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$CONF/secret"
chmod 600 "$CONF/secret"
cp "$CONF/secret" "$CONF/secret-open" && chmod 644 "$CONF/secret-open"
echo "not hex at all, not hex at all, not hex at all" >"$CONF/secret-junk" && chmod 600 "$CONF/secret-junk"
echo "0123abcd" >"$CONF/secret-short" && chmod 600 "$CONF/secret-short"
conf secretopen "interfaces = $SRV_IF
ports = 80
secret_file = $CONF/secret-open"

RUNNING=
WRAP=() # a command that runs synfence (below: in a mount namespace with another kernel BTF)
# bad EXPECTED_RC REGEX LABEL ARGS...: synfence ARGS in the server namespace must exit with
# EXPECTED_RC and print exactly one line on stderr matching REGEX; nothing may be left attached.
bad() {
	local want=$1 re=$2 label=$3 rc out lines
	shift 3
	out=$(srv timeout 20 "${WRAP[@]}" "$SYNFENCE" "$@" 2>&1 >/dev/null)
	rc=$?
	lines=$(printf '%s' "$out" | grep -c '')
	check_eq "$rc" "$want" "[$label] exit status"
	check_eq "$lines" 1 "[$label] one line on stderr"
	check_match "$out" "$re" "[$label] message: $out"
	if [ -z "$RUNNING" ] && sf_xdp_attached; then _fail "[$label] nothing attached afterwards"; else _ok "[$label] nothing attached afterwards"; fi
}

log "command-line errors (exit 2)"
bad 2 "unknown option '--bogus'" "unknown flag" run "$SRV_IF" --ports 80 --bogus
bad 2 "99999" "port out of range" run "$SRV_IF" --ports 80,99999 --pin-dir "$PIN"
bad 2 "90-80" "reversed range" run "$SRV_IF" --ports 90-80 --pin-dir "$PIN"
bad 2 "no port to protect" "no ports" run "$SRV_IF" --pin-dir "$PIN" --config "$CONF/empty"
bad 2 "no interface given" "no interface" run --ports 80 --pin-dir "$PIN"
bad 2 "bad mode \"turbo\"" "bad mode" run "$SRV_IF" --ports 80 --mode turbo
bad 2 "bad rotation period \"0\"" "rotate 0" run "$SRV_IF" --ports 80 --rotate 0
bad 2 "not an absolute path" "relative pin dir" run "$SRV_IF" --ports 80 --pin-dir relative/dir
bad 2 "bad interface name" "bad interface name" run "a/b" --ports 80
bad 2 "interface $SRV_IF given twice" "interface twice" run "$SRV_IF" "$SRV_IF" --ports 80
bad 2 "contradict" "-q and -v" run "$SRV_IF" --ports 80 -q -v
bad 2 "^synfence: run: -qq and --log-level debug contradict each other" "-qq and --log-level debug" run "$SRV_IF" --ports 80 -qq --log-level debug
bad 2 "^synfence: run: -q and --log-level debug contradict each other" "--log-level debug and -q" run "$SRV_IF" --ports 80 --log-level debug -q
bad 2 "^synfence: run: -v and --log-level error contradict each other" "-v and --log-level error" run "$SRV_IF" --ports 80 -v --log-level error
bad 2 "bad log level" "bad log level" run "$SRV_IF" --ports 80 --log-level loud
bad 2 "sysctl-interval: bad interval" "bad sysctl interval" run "$SRV_IF" --ports 80 --sysctl-interval 0

log "config file errors (exit 2, file:line: key)"
bad 2 "config file /nonexistent.conf: No such file" "missing config" run --config /nonexistent.conf
bad 2 "$CONF/typo:2: unknown key 'prots' \(did you mean 'ports'\?\)" "key typo" run --config "$CONF/typo"
bad 2 "$CONF/badval:3: rotate: bad rotation period \"soon\"" "bad value" run --config "$CONF/badval"
bad 2 "$CONF/syntax:1: syntax error" "syntax error" run --config "$CONF/syntax"
bad 2 "$CONF/twice:3: key 'ports' given twice \(first on line 1\)" "repeated key" run --config "$CONF/twice"
bad 2 "$CONF/section:1: unknown section \[server\]" "unknown section" run --config "$CONF/section"
bad 2 "$CONF/badport:2: ports: .*99999" "bad port in file" run --config "$CONF/badport"
bad 2 "$CONF/badbool:3: reattach: bad value \"maybe\"" "bad boolean" run --config "$CONF/badbool"
bad 2 "$CONF/relpin:3: pin_dir: .*not an absolute path" "relative pin_dir" run --config "$CONF/relpin"
bad 2 "$CONF/typo:2: unknown key" "check-config of a bad file" run --config "$CONF/typo" --check-config

log "secret file errors (exit 2)"
bad 2 "mode 0644 gives group or others access" "secret file 0644" run "$SRV_IF" --ports 80 --pin-dir "$PIN" --secret-file "$CONF/secret-open"
bad 2 "not a hex string" "secret file not hex" run "$SRV_IF" --ports 80 --pin-dir "$PIN" --secret-file "$CONF/secret-junk"
bad 2 "expected 32 to 128 hex digits" "secret file too short" run "$SRV_IF" --ports 80 --pin-dir "$PIN" --secret-file "$CONF/secret-short"
bad 2 "secret file $CONF/none: No such file" "secret file missing" run "$SRV_IF" --ports 80 --pin-dir "$PIN" --secret-file "$CONF/none"
bad 2 "^synfence: $CONF/secretopen:3: secret_file: secret file $CONF/secret-open: mode 0644" "secret_file of the config file" run --config "$CONF/secretopen" --pin-dir "$PIN"
bad 2 "^synfence: $CONF/secretopen:3: secret_file: secret file $CONF/secret-open: mode 0644" "secret_file of the config file, --check-config" run --config "$CONF/secretopen" --check-config

log "runtime errors (exit 1)"
if why=$(sf_nobody_blocked); then
	_skip "[not root] exit status and message: $why"
else
	out=$(srv setpriv --reuid=65534 --regid=65534 --clear-groups "$SYNFENCE" run "$SRV_IF" --ports 80 --pin-dir "$PIN" 2>&1 >/dev/null)
	rc=$?
	check_eq "$rc" 1 "[not root] exit status"
	check_match "$out" "must be run as root" "[not root] message: $out"
fi
bad 1 "no such interface: nope0" "no such interface" run nope0 --ports 80 --pin-dir "$PIN"
check_true "[no such interface] no pins left behind" test ! -e "$PIN"
srv sysctl -qw net.ipv4.tcp_syncookies=0
bad 1 "tcp_syncookies is 0 and sysctl changes are off" "syncookies off, no sysctl changes" run "$SRV_IF" --ports 80 --pin-dir "$PIN" --no-sysctl-changes
check_eq "$(srv sysctl -n net.ipv4.tcp_syncookies)" 0 "[syncookies] left as it was"
srv sysctl -qw net.ipv4.tcp_syncookies=1
log "a kernel without BTF or without the handoff kfunc (exit 1): /sys/kernel/btf/vmlinux hidden, or"
log "replaced by a BTF without the kfunc (xdp_pass.bpf.o's), in a private mount namespace"
WRAP=(unshare -m sh -c 'mount -t tmpfs none /sys/kernel/btf && exec "$@"' sh)
bad 1 "no kernel BTF at /sys/kernel/btf/vmlinux .*CONFIG_DEBUG_INFO_BTF" "no kernel BTF" \
	run "$SRV_IF" --ports 80 --pin-dir "$PIN"
llvm-objcopy --dump-section .BTF="$TMPD/nokfunc.btf" "$XDP_PASS" "$TMPD/xdp_pass.o" ||
	die "cannot extract the BTF of $XDP_PASS"
WRAP=(unshare -m sh -c 'mount --bind "$0" /sys/kernel/btf/vmlinux && exec "$@"' "$TMPD/nokfunc.btf")
bad 1 "kernel lacks the kfunc bpf_sk_assign_tcp_reqsk: synfence needs Linux >= 6.9" "no handoff kfunc" \
	run "$SRV_IF" --ports 80 --pin-dir "$PIN"
WRAP=()
check_true "[kernel checks] no pins left behind" test ! -e "$PIN/sf_config"
bad 1 "no such interface: nope0" "detach: unknown interface" detach nope0 --pin-dir "$PIN"
bad 2 "no interface given" "detach: no interface" detach --pin-dir "$PIN"

log "--check-config, and flags over the config file"
out=$(srv "$SYNFENCE" run --config "$CONF/good" --check-config 2>&1)
check_eq "$?" 0 "--check-config of a good file exits 0"
check_match "$out" "config OK \($CONF/good\): 1 interface, ports 80,443,8000-8100, mode auto, rotate 30s, random secret, pin dir $PIN" "--check-config summary: $out"
out=$(srv "$SYNFENCE" run --config "$CONF/good" --check-config --rotate 7 --ports 22 --secret-file "$CONF/secret" 2>&1)
check_match "$out" "ports 22, mode auto, rotate 7s, shared secret" "flags override the file: $out"

log "a second run: same pin dir, or another pin dir on the same interface (exit 1, naming the first)"
sf_synfence_start -l "$TMPD/first.log" -a --config "$CONF/good" -v --secret-file "$CONF/secret"
first=$SF_PID
RUNNING=1
check_eq "$(stat -c %a "$PIN")" 700 "pin dir is mode 0700"
modes=$(stat -c '%n %a' "$PIN"/* | grep -v '\.debug ' | awk '$2 != "600" { print }')
check_eq "${modes:-none}" none "every pin is mode 0600"
check_match "$(cat "$TMPD/first.log")" "secret from the secret file" "the daemon runs with the secret file, at debug level (-v)"
check_eq "$(grep -ciE "$(cat "$CONF/secret")|key\[" "$TMPD/first.log")" 0 "no key material in the log"
bad 1 "pin dir $PIN is in use by synfence pid $first" "same pin dir" run --config "$CONF/good"
bad 1 "$SRV_IF is already protected by synfence pid $first" "other pin dir, same interface" run "$SRV_IF" --ports 80 --pin-dir "$SF_PIN_ROOT/other"
check_true "[other pin dir] its pin dir was removed again" test ! -e "$SF_PIN_ROOT/other"
bad 1 "protected by the running synfence \(pid $first" "detach of a running daemon's interface" detach "$SRV_IF" --pin-dir "$PIN"
check_true "the first synfence survived all of it" kill -0 "$first"
sf_synfence_stop
check_true "clean stop removed the pin dir" test ! -e "$PIN"
sf_finish
