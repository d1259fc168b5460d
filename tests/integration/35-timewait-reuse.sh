#!/bin/bash
# A client that reuses its port while the server still holds the old connection in TIME_WAIT
# (HTTP/1.0: the server closes first) connects again, as it does without synfence: the SYN for a
# tuple the kernel still has a socket for goes to the kernel (syn_pass_existing), not to a cookie
# handshake that would end on the TIME_WAIT socket. Counter-proof: the first connection of each
# port is a cookie handshake.
. "$(dirname "$0")/../lib.sh"

sf_init twreuse
sf_require_synfence
sf_topo_up
sf_nginx_start 80
sf_synfence_start 80

for fam in 4 6; do
	if [ "$fam" = 4 ]; then url="http://$SRV4/"; else url="http://[$SRV6]/"; fi
	# Who closes first is a race between nginx's FIN and curl's close after the body; try a few
	# client ports until the server is the one left in TIME_WAIT.
	tw=0
	for try in 1 2 3 4 5 6 7 8; do
		port=$((41000 + fam * 10 + try))
		sf_snap "$TMPD/a$fam"
		body=$(sf_curl --http1.0 --local-port "$port" "$url")
		sleep 0.2
		tw=$(srv ss -Htan state time-wait "( sport = :80 and dport = :$port )" | wc -l)
		[ "$tw" = 1 ] && break
	done
	check_eq "$body" "$NGINX_BODY" "IPv$fam: first HTTP/1.0 request from port $port"
	check_eq "$tw" 1 "IPv$fam: the server holds the first connection in TIME_WAIT (try $try)"
	sf_snap "$TMPD/b$fam"
	check_eq "$(sf_delta "$TMPD/a$fam" "$TMPD/b$fam" handoff_ok)" 1 \
		"IPv$fam: the first connection was a cookie handshake (handoff_ok +1)"
	for i in 1 2; do
		check_eq "$(sf_curl --http1.0 --local-port "$port" "$url")" "$NGINX_BODY" \
			"IPv$fam: request $((i + 1)) from the same port while the server is in TIME_WAIT"
		sleep 0.2
	done
	sf_snap "$TMPD/c$fam"
	check_eq "$(sf_delta "$TMPD/b$fam" "$TMPD/c$fam" syn_pass_existing)" 2 \
		"IPv$fam: both SYNs on the TIME_WAIT tuple went to the kernel (syn_pass_existing +2)"
	check_eq "$(sf_delta "$TMPD/b$fam" "$TMPD/c$fam" ack_cookie_bad)" 0 "IPv$fam: no ACK was dropped"
done

sf_synfence_stop
sf_finish
