#!/bin/bash
# `synfence stats --watch` in a real terminal (tmux, 100x30): it takes over the screen (alternate
# screen), redraws in place as traffic flows (the counters on the screen change, the table is not
# scrolled or repeated), and quits on `q`, on Ctrl-C and on Ctrl-\ (SIGQUIT) with exit status 0,
# giving the terminal back as it was (primary screen, the same stty settings). Also: without a terminal, --watch -j writes one
# JSON document per period.
SF_PREFIX=${SF_TAG:-}sfo
. "$(dirname "$0")/../lib.sh"

sf_init watch
sf_require_synfence
command -v tmux >/dev/null || die "tmux is missing (make deps installs it)"
sf_topo_up
sf_nginx_start 80
sf_synfence_start 80

SOCK=
tm() { tmux -S "$SOCK" "$@"; }
cleanup_tmux() { [ -n "$SOCK" ] && tm kill-server 2>/dev/null; }
screen() { tm capture-pane -p -t w; }
# wait_screen REGEX [TRIES]: until the visible screen matches
wait_screen() {
	local i
	for i in $(seq "${2:-50}"); do
		screen | grep -qE "$1" && return 0
		sleep 0.1
	done
	return 1
}
wait_file() {
	local i
	for i in $(seq 50); do [ -s "$1" ] && return 0; sleep 0.1; done
	return 1
}
# row NAME: the count column of a counter on the screen
row() { screen | awk -v c="$1" '$1 == c { print $2 }'; }

# start_watch TAG: synfence stats --watch 1 in a fresh tmux session "w"
start_watch() {
	local tag=$1
	rm -f "$TMPD/$tag".*
	cleanup_tmux
	SOCK=$TMPD/tmux-$tag.sock # a server of its own per session
	tm -f /dev/null new-session -d -s w -x 100 -y 30 \
		"stty -a >$TMPD/$tag.stty0; ip netns exec $SRV_NS $SYNFENCE stats --watch 1 -e --pin-dir $PIN; echo \$? >$TMPD/$tag.rc; stty -a >$TMPD/$tag.stty1; sleep 60" ||
		die "tmux new-session failed"
	wait_screen '^counter' 50 || { screen; die "stats --watch drew no table within 5 s"; }
}

trap 'rc=$?; cleanup_tmux; (exit $rc); sf_cleanup' EXIT

log "--watch in tmux, quit with q"
start_watch q
check_eq "$(tm display -p -t w '#{alternate_on}')" 1 "--watch uses the alternate screen"
check_match "$(screen | head -1)" '^synfence +pid [0-9]+, up ' "the first screen line is the header"
check_match "$(screen | tail -1)" 'q or Ctrl-C quits' "the last screen line says how to quit"
s0=$(row syn_recv)
s0=${s0:-0}
for i in 1 2 3 4 5; do sf_curl -o /dev/null "http://$SRV4/"; done
wait_screen "^syn_recv +$((s0 + 5)) " 40
check_eq "$(row syn_recv)" "$((s0 + 5))" "the screen was redrawn: syn_recv went from $s0 to $((s0 + 5))"
check_eq "$(screen | grep -c '^counter')" 1 "the table is drawn in place (one header on the screen, not scrolled copies)"
check_match "$(screen | grep '^syn_recv')" 'syn_recv +[0-9]+ +[0-9.]+/s' "rows carry a rate column (/s)"
tm send-keys -t w q
wait_file "$TMPD/q.rc" || _fail "stats --watch exits within 5 s of q"
check_eq "$(cat "$TMPD/q.rc" 2>/dev/null)" 0 "exit status after q"
check_eq "$(tm display -p -t w '#{alternate_on}')" 0 "after q the terminal is back on the primary screen"
check_eq "$(screen | grep -c '^counter')" 0 "after q the table is gone from the screen"
check_eq "$(diff "$TMPD/q.stty0" "$TMPD/q.stty1" >/dev/null && echo same)" same \
	"after q the terminal settings (stty -a: echo, icanon) are as before"
check_eq "$(tm display -p -t w '#{cursor_flag}')" 1 "after q the cursor is visible again"

# quit_with TAG KEY NAME: a fresh --watch, then KEY (tmux send-keys); exit 0, the terminal as before
quit_with() {
	start_watch "$1"
	tm send-keys -t w "$2"
	wait_file "$TMPD/$1.rc" || _fail "stats --watch exits within 5 s of $3"
	check_eq "$(cat "$TMPD/$1.rc" 2>/dev/null)" 0 "exit status after $3"
	check_eq "$(tm display -p -t w '#{alternate_on}')" 0 "after $3 the terminal is back on the primary screen"
	check_eq "$(diff "$TMPD/$1.stty0" "$TMPD/$1.stty1" >/dev/null && echo same)" same \
		"after $3 the terminal settings are as before"
}
log "--watch in tmux, quit with Ctrl-C"
quit_with c C-c Ctrl-C
log "--watch in tmux, quit with Ctrl-\\ (SIGQUIT)"
quit_with b "C-\\" "Ctrl-\\"
cleanup_tmux

log "--watch without a terminal: JSON lines"
srv timeout --preserve-status -s INT 2.6 "$SYNFENCE" stats --watch 1 -j --pin-dir "$PIN" >"$TMPD/lines.json"
check_eq "$?" 0 "stats --watch -j exits 0 on SIGINT"
n=$(wc -l <"$TMPD/lines.json")
check_ge "$n" 2 "one JSON document per period ($n lines in 2.6 s)"
check_eq "$(jq -s 'length' "$TMPD/lines.json")" "$n" "each line is one JSON document (jq)"
check_eq "$(jq -s '[.[1:][] | .interval_s > 0.9 and .interval_s < 1.5] | all' "$TMPD/lines.json")" true \
	"from the second document on, rates over ~1 s (interval_s)"
check_eq "$(jq -r -s '.[0].interval_s' "$TMPD/lines.json")" null "the first document has no rates yet (interval_s null)"

sf_synfence_stop
sf_finish
