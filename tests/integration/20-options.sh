#!/bin/bash
# TCP option fidelity of cookie-made connections. For each client (and server) sysctl setting, one
# connection is held open to the protected port 80 and one to the unprotected port 8080 (made by the
# kernel's own handshake, the reference), IPv4 and IPv6. On the server, `ss -tino` of the accepted
# socket must show exactly the options the two sides agreed on (ts, sack, wscale), the window scales
# must match the client's view of the same connection, MSS and ECN must equal the kernel-made
# reference, and an HTTP request over the held connection must get its answer.
. "$(dirname "$0")/../lib.sh"

sf_init options
sf_require_synfence
sf_topo_up
sf_nginx_start 80 8080
sf_synfence_start 80

# probe FAMILY PORT: hold a connection, read both sides' ss lines, then do a request over it.
# Sets P_SRV (server ss line), P_CLI (client ss line), P_RESP (ok|error text).
probe() {
	local fam=$1 port=$2 host dir pid i cport
	dir=$(mktemp -d "$TMPD/probe.XXXXXX")
	if [ "$fam" = 4 ]; then host=$SRV4; else host=$SRV6; fi
	P_SRV='' P_CLI='' P_RESP=''
	timeout 20 ip netns exec "$CLI_NS" bash -c '
		exec 3<>"/dev/tcp/$0/$1" || exit 3
		: >"$2/connected"
		for i in $(seq 200); do [ -e "$2/go" ] && break; sleep 0.05; done
		printf "GET / HTTP/1.0\r\nHost: t\r\n\r\n" >&3
		cat <&3 >"$2/response"' "$host" "$port" "$dir" 2>"$dir/err" &
	pid=$!
	for i in $(seq 100); do
		[ -e "$dir/connected" ] && break
		kill -0 $pid 2>/dev/null || break
		sleep 0.05
	done
	if [ -e "$dir/connected" ]; then
		P_CLI=$(sf_ss_cli "dport = :$port")
		cport=$(awk '{ print $3 }' <<<"$P_CLI" | sed 's/.*://')
		for i in $(seq 40); do
			P_SRV=$(sf_ss_srv "sport = :$port and dport = :$cport")
			[ -n "$P_SRV" ] && break
			sleep 0.05
		done
	fi
	: >"$dir/go"
	wait $pid
	local rc=$?
	if [ $rc = 0 ] && grep -q '^HTTP/1.1 200' "$dir/response" && grep -qx "$NGINX_BODY" "$dir/response"; then
		P_RESP=ok
	else
		P_RESP="client exit $rc, response: $(head -c 200 "$dir/response" 2>/dev/null | tr '\r\n' '  ') $(cat "$dir/err")"
	fi
}

get() { # get KEY "OPTS" -> value
	local kv
	for kv in $2; do [ "${kv%%=*}" = "$1" ] && { echo "${kv#*=}"; return; }; done
}

# run_case LABEL "CLIENT SYSCTLS" "SERVER SYSCTLS": sysctls as name=value, space separated, set
# for this case only. Server sysctls need a synfence restart (it mirrors them).
run_case() {
	local label=$1 csys=$2 ssys=$3 kv fam
	log "case: $label (client: ${csys:-defaults}; server: ${ssys:-defaults})"
	if [ -n "$ssys" ]; then
		sf_synfence_stop || true
		for kv in $ssys; do srv sysctl -qw "net.ipv4.$kv"; done
		sf_synfence_start 80
	fi
	for kv in $csys; do cli sysctl -qw "net.ipv4.$kv"; done

	local c_ts c_sack c_ws s_ts s_sack s_ws
	c_ts=$(cli sysctl -n net.ipv4.tcp_timestamps) c_sack=$(cli sysctl -n net.ipv4.tcp_sack)
	c_ws=$(cli sysctl -n net.ipv4.tcp_window_scaling)
	s_ts=$(srv sysctl -n net.ipv4.tcp_timestamps) s_sack=$(srv sysctl -n net.ipv4.tcp_sack)
	s_ws=$(srv sysctl -n net.ipv4.tcp_window_scaling)
	local e_ts=0 e_sack=0 e_ws=0
	[ "$c_ts" != 0 ] && [ "$s_ts" != 0 ] && e_ts=1
	[ "$c_sack" != 0 ] && [ "$s_sack" != 0 ] && e_sack=1
	[ "$c_ws" != 0 ] && [ "$s_ws" != 0 ] && e_ws=1

	for fam in 4 6; do
		local t="[$label, IPv$fam]"
		# reference: the kernel's own handshake on the unprotected port
		probe $fam 8080
		local ref_srv ref
		ref_srv=$P_SRV
		ref=$(sf_ss_opts "$P_SRV")
		if [ -z "$ref_srv" ] || [ "$P_RESP" != ok ]; then
			_fail "$t reference connection to port 8080 (no synfence involved) failed: $P_RESP"
			continue
		fi
		# the reference itself must show the expected options, else the test setup is wrong
		if [ "$(get ts "$ref")" != $e_ts ] || [ "$(get sack "$ref")" != $e_sack ] ||
			{ [ $e_ws = 1 ] && [ "$(get wscale "$ref")" = none ]; } ||
			{ [ $e_ws = 0 ] && [ "$(get wscale "$ref")" != none ]; }; then
			_fail "$t the kernel-made reference does not show the expected options (ts=$e_ts sack=$e_sack ws=$e_ws): $ref"
		fi

		sf_snap "$TMPD/o0"
		probe $fam 80
		sf_snap "$TMPD/o1"
		check_eq "$(sf_delta "$TMPD/o0" "$TMPD/o1" handoff_ok)" 1 "$t the port 80 connection was cookie-made (handoff_ok +1)"
		if [ -z "$P_SRV" ]; then
			_fail "$t server has an established socket for the port 80 connection (client side: ${P_CLI:-none}; counters: $(sf_show_delta "$TMPD/o0" "$TMPD/o1"))"
			check_eq "$P_RESP" ok "$t HTTP request over the held connection"
			continue
		fi
		local so co
		so=$(sf_ss_opts "$P_SRV")
		co=$(sf_ss_opts "$P_CLI")
		echo "    server: $so | client: $co | kernel-made reference: $ref"
		check_eq "$(get ts "$so")" $e_ts "$t server socket: ts"
		check_eq "$(get sack "$so")" $e_sack "$t server socket: sack"
		check_eq "$(get ts "$co")" $e_ts "$t client socket: ts"
		check_eq "$(get sack "$co")" $e_sack "$t client socket: sack"
		local sws cws
		sws=$(get wscale "$so") cws=$(get wscale "$co")
		if [ $e_ws = 1 ]; then
			check_ne "$sws" none "$t server socket: wscale negotiated"
			# server snd_wscale = client rcv_wscale, server rcv_wscale = client snd_wscale
			check_eq "${sws%,*},${sws#*,}" "${cws#*,},${cws%,*}" "$t window scales agree (server wscale:snd,rcv vs client's rcv,snd)"
			check_eq "${sws%,*}" "$(get wscale "$ref" | cut -d, -f1)" "$t server snd_wscale (client's shift) equals the kernel-made reference"
		else
			check_eq "$sws" none "$t server socket: no wscale"
			check_eq "$cws" none "$t client socket: no wscale"
		fi
		check_eq "$(get mss "$so")" "$(get mss "$ref")" "$t server mss equals the kernel-made reference"
		check_eq "$(get ecn "$so")" "$(get ecn "$ref")" "$t server ecn equals the kernel-made reference"
		check_eq "$P_RESP" ok "$t HTTP request over the held connection"
	done

	# restore defaults
	for kv in $csys; do cli sysctl -qw "net.ipv4.${kv%%=*}=$(sysctl_default "${kv%%=*}")"; done
	if [ -n "$ssys" ]; then
		sf_synfence_stop || true
		for kv in $ssys; do srv sysctl -qw "net.ipv4.${kv%%=*}=$(sysctl_default "${kv%%=*}")"; done
		sf_synfence_start 80
	fi
}

# defaults of a fresh namespace, read from a scratch one at start
declare -A DEF
sysctl_default() { echo "${DEF[$1]}"; }
for k in tcp_timestamps tcp_sack tcp_window_scaling tcp_ecn; do DEF[$k]=$(cli sysctl -n net.ipv4.$k); done
log "namespace defaults: $(for k in "${!DEF[@]}"; do printf '%s=%s ' "$k" "${DEF[$k]}"; done)"

run_case "defaults" "" ""
run_case "client timestamps off" "tcp_timestamps=0" ""
run_case "client sack off" "tcp_sack=0" ""
run_case "client window scaling off" "tcp_window_scaling=0" ""
run_case "client all three off" "tcp_timestamps=0 tcp_sack=0 tcp_window_scaling=0" ""
run_case "client requests ECN" "tcp_ecn=1" ""
run_case "server timestamps off" "" "tcp_timestamps=0"
run_case "server sack off" "" "tcp_sack=0"
run_case "server window scaling off" "" "tcp_window_scaling=0"

sf_snap "$TMPD/end"
check_eq "$(sf_cnt "$TMPD/end" handoff_err)" 0 "handoff_err stays 0 over all cases"
sf_synfence_stop
sf_finish
