#!/bin/bash
# The documentation says what the binary does: the man page (rendered from doc/synfence.8.scd at
# build time) has every command, every option of every command's --help, every counter, the exit
# codes and the files; the README's counter table has every counter; `synfence help CMD` equals
# `synfence CMD --help` for every command; the bash completion offers every command and every long
# option. The counter list comes from include/synfence.h, the option lists from the getopt_long
# tables in user/*.c and run's from the key table of user/conf/settings.c (an option the code accepts
# but no document names fails) and from each --help.
# `run --check-config` accepts every config key, `metrics` included; synfence.conf(5) (made from the
# man page's CONFIGURATION section) and contrib/synfence.conf show every key of user/conf/settings.c's table.
# No namespaces, no root needed.
SF_PREFIX=${SF_TAG:-}sfo
. "$(dirname "$0")/../lib.sh"
SF_NAME=docs

MAN=$BUILD/synfence.8
COMPLETION=$SF_SRC/contrib/bash-completion/synfence
[ -x "$SYNFENCE" ] || die "synfence binary not found at $SYNFENCE (run make)"
[ -r "$MAN" ] || die "man page not found at $MAN (run make; it needs scdoc)"
command -v man >/dev/null || die "man is missing (make deps installs man-db)"

page=$(MANWIDTH=200 man -l "$MAN" 2>"/tmp/$SF_PREFIX-docs-man.err" | col -b)
check_eq "$(cat "/tmp/$SF_PREFIX-docs-man.err")" "" "man -l renders the page without warnings"
rm -f "/tmp/$SF_PREFIX-docs-man.err"
for sec in NAME SYNOPSIS DESCRIPTION COMMANDS VERDICT COUNTERS JSON METRICS CONFIGURATION "EXIT STATUS" FILES; do
	check_match "$page" $'\n'"$sec"$'\n' "man page has a $sec section"
done

counters=$(sf_counter_names)
n=$(wc -w <<<"$counters")
check_ge "$n" 23 "counters found in include/synfence.h"
miss_man="" miss_readme="" miss_help=""
stats_help=$("$SYNFENCE" help stats)
for c in $counters; do
	grep -qE "(^|[^a-z_])$c([^a-z_]|$)" <<<"$page" || miss_man+="$c "
	grep -q "^| \`$c\` |" "$SF_SRC/README.md" || miss_readme+="$c "
	grep -qE "^ +$c " <<<"$stats_help" || miss_help+="$c "
done
check_eq "${miss_man:-none}" none "man page names all $n counters"
check_eq "${miss_readme:-none}" none "README counter table has all $n counters"
check_eq "${miss_help:-none}" none "synfence help stats lists all $n counters"
check_eq "$(grep -c '^| `[a-z_0-9]*` |' "$SF_SRC/README.md")" "$n" "README counter table has exactly $n rows (one table)"

cmds=$("$SYNFENCE" help | awk '/^Commands:/ { on = 1; next } on && /^$/ { on = 0 } on { print $1 }')
check_match " $(echo $cmds) " " run .*status .*stats .*help " "synfence help lists the commands ($(echo $cmds))"
. "$COMPLETION"
comp() { COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); COMPREPLY=(); _synfence; echo "${COMPREPLY[*]}"; }
for cmd in $cmds; do
	h=$("$SYNFENCE" help "$cmd")
	check_eq "$?" 0 "synfence help $cmd exits 0"
	check_eq "$("$SYNFENCE" "$cmd" --help)" "$h" "synfence $cmd --help = synfence help $cmd"
	check_match "$page" $'\n'"   $cmd"$'\n' "man page has a subsection for $cmd"
	check_match " $(comp synfence "")" " $cmd( |$)" "completion offers the command $cmd"
	opts=$(grep -oE -- '--[a-z][a-z0-9-]+' <<<"$h" | sort -u | grep -vE -- '^--(json|pretty|verbose|help|version)$')
	miss_man="" miss_comp=""
	for o in $opts; do
		grep -q -- "$o" <<<"$page" || miss_man+="$o "
		[[ " $(comp synfence "$cmd" --) " == *" $o "* ]] || miss_comp+="$o "
	done
	check_eq "${miss_man:-none}" none "man page has every option of $cmd ($(echo $opts))"
	[ "$cmd" = help ] || check_eq "${miss_comp:-none}" none "completion offers every option of $cmd"
done
# the options the code accepts (getopt_long tables; run's key options from user/conf/settings.c's
# key table), per command: each documented everywhere
globals=$(sf_long_opts "$SF_SRC/user/cmd/cmd.h")
check_match " $(echo $globals) " " --help .*--json " "global options found in user/cmd/cmd.h ($(echo $globals))"
main_help=$("$SYNFENCE" help)
miss=""
for o in $globals; do
	grep -q -- "$o" <<<"$page" || miss+="man:$o "
	grep -q -- "$o" <<<"$main_help" || miss+="help:$o "
	[[ " $(comp synfence --) " == *" $o "* ]] || miss+="completion:$o "
done
check_eq "${miss:-none}" none "every global option (user/cmd/cmd.h) is in the man page, synfence help and the completion"
# (--pin-dir and --config of stats, detach and capture: SF_DIR_LONGOPTS in cmd/pindir.h)
for src in run:cmd/run.c+conf/settings.c stats:cmd/stats.c+cmd/pindir.h detach:cmd/detach.c+cmd/pindir.h \
	capture:cmd/capture.c+cmd/pindir.h; do
	cmd=${src%%:*}
	files=${src#*:}
	opts=$(sf_long_opts $(sed "s|[^+]*|$SF_SRC/user/&|g; s/+/ /g" <<<"$files") | grep -vxF -f <(echo "$globals"))
	check_ge "$(wc -w <<<"$opts")" 2 "long options of $cmd found in user/$files"
	h=$("$SYNFENCE" help "$cmd")
	miss=""
	for o in $opts; do
		grep -qE -- "$o([^a-z-]|$)" <<<"$page" || miss+="man:$o "
		grep -qE -- "$o([^a-z-]|$)" <<<"$h" || miss+="help:$o "
		[[ " $(comp synfence "$cmd" --) " == *" $o "* ]] || miss+="completion:$o "
	done
	check_eq "${miss:-none}" none "every option user/$files accepts is in the man page, $cmd --help and the completion ($(echo $opts))"
done
check_match "$("$SYNFENCE" help run)" $'\n    -q, --quiet\n' "run --help documents -q, --quiet"
check_nomatch "$("$SYNFENCE" help run)" '-v, -q, -j' "run --help no longer lists -q among the options of every command"
"$SYNFENCE" stats -q --pin-dir /nonexistent >/dev/null 2>&1
check_eq "$?" 2 "-q is a usage error outside run (as run --help says)"

conf=$(mktemp /tmp/$SF_PREFIX-docs-conf.XXXXXX)
printf 'interfaces = lo\nports = 80\nmetrics = 127.0.0.1:9464\n' >"$conf"
out=$("$SYNFENCE" run --config "$conf" --check-config 2>&1)
check_eq "$?/$out" "0/config OK ($conf): 1 interface, ports 80, mode auto, rotate 60s, random secret, pin dir /sys/fs/bpf/synfence, metrics 127.0.0.1:9464, monitor no, engage always, source SYN limit off" \
	"config key metrics is accepted (run --check-config)"
out=$("$SYNFENCE" run --config "$conf" --check-config --metrics '[::1]:9465' 2>&1)
check_match "$out" 'metrics \[::1\]:9465, monitor no, engage always, ' "--metrics overrides the config key"
printf 'interfaces = lo\nports = 80\nmonitor = yes\n' >"$conf"
out=$("$SYNFENCE" run --config "$conf" --check-config 2>&1)
check_match "$?/$out" '^0/config OK .*, monitor yes \(counting only, every packet passes\), engage always, source SYN limit off$' "config key monitor is accepted and shown by run --check-config"
out=$("$SYNFENCE" run --config "$conf" --check-config --no-monitor 2>&1)
check_match "$out" ', monitor no, engage always, ' "--no-monitor overrides the config key"
printf 'interfaces = lo\nports = 80\nsource_syn_rate = 50\nsource_syn_burst = 30\nsource_prefix4 = 24\nsource_prefix6 = 48\n' >"$conf"
out=$("$SYNFENCE" run --config "$conf" --check-config 2>&1)
check_match "$?/$out" '^0/config OK .*, source SYN limit 50/s burst 30 per /24 \(IPv4\), /48 \(IPv6\)$' "the source_* keys are accepted and shown by run --check-config"
out=$("$SYNFENCE" run --config "$conf" --check-config --source-syn-rate 0 2>&1)
check_match "$out" ', source SYN limit off$' "--source-syn-rate 0 overrides the config key (off)"
for bad in "--source-syn-rate fast" "--source-syn-rate -1" "--source-syn-burst 0" "--source-prefix4 33" "--source-prefix6 0" "--source-prefix6 129"; do
	out=$("$SYNFENCE" run lo --ports 80 $bad --check-config 2>&1)
	check_eq "$?/$(wc -l <<<"$out")" 2/1 "$bad: exit 2, one line ($out)"
done
printf 'interfaces = lo\nports = 80\nengage = auto\nengage_rate = 500\nengage_hold = 7\n' >"$conf"
out=$("$SYNFENCE" run --config "$conf" --check-config 2>&1)
check_match "$?/$out" '^0/config OK .*, engage auto \(above 500 SYNs/s, hold 7s\), ' "config keys engage, engage_rate, engage_hold are accepted and shown by run --check-config"
out=$("$SYNFENCE" run --config "$conf" --check-config --engage always 2>&1)
check_match "$out" ', engage always, ' "--engage overrides the config key"
out=$("$SYNFENCE" run --config "$conf" --check-config --engage-rate 2000 --engage-hold 3 2>&1)
check_match "$out" ', engage auto \(above 2000 SYNs/s, hold 3s\), ' "--engage-rate and --engage-hold override the config keys"
out=$("$SYNFENCE" run --config "$conf" --check-config --engage sometimes 2>&1)
check_match "$?/$out" '^2/.*bad engage "sometimes": expected always or auto' "a bad --engage: exit 2, the values named"
out=$("$SYNFENCE" run --config "$conf" --check-config --engage-rate 0 2>&1)
check_match "$?/$out" '^2/.*bad engage rate "0": expected SYNs per second, 1-100000000' "a bad --engage-rate: exit 2, the range named"
check_eq "$(comp synfence run --engage "")" "always auto" "completion of --engage values"
printf 'interfaces = lo\nports = 80\nmetrics = localhost:9464\n' >"$conf"
out=$("$SYNFENCE" run --config "$conf" --check-config 2>&1)
check_eq "$?/$(wc -l <<<"$out")" 2/1 "a bad metrics key: exit 2, one line"
check_match "$out" "^synfence: $conf:3: metrics: bad address \"localhost:9464\": not an IPv4 address" "... naming the file, line, key and problem ($out)"
rm -f "$conf"
check_true "contrib/synfence.conf shows the metrics key" grep -qx '#metrics = 127.0.0.1:9464' "$SF_SRC/contrib/synfence.conf"

# every config key: the names in user/conf/settings.c's key table ([SF_KEY_X] = { .name = "name", ... })
CONF_MAN=$BUILD/synfence.conf.5
[ -r "$CONF_MAN" ] || die "man page not found at $CONF_MAN (run make)"
cpage=$(MANWIDTH=200 man -l "$CONF_MAN" 2>"/tmp/$SF_PREFIX-docs-man.err" | col -b)
check_eq "$(cat "/tmp/$SF_PREFIX-docs-man.err")" "" "man -l renders synfence.conf(5) without warnings"
rm -f "/tmp/$SF_PREFIX-docs-man.err"
keys=$(sed -nE 's/^[[:space:]]*\[SF_KEY_[A-Z_]*\][[:space:]]*= \{ (\.name = )?"([a-z_0-9]*)".*/\2/p' "$SF_SRC/user/conf/settings.c")
check_ge "$(wc -w <<<"$keys")" 12 "config keys found in user/conf/settings.c"
miss=""
for k in $keys; do
	grep -qE "^ +$k = " <<<"$cpage" || miss+="man:$k "
	grep -qE "^#?$k = " "$SF_SRC/contrib/synfence.conf" || miss+="example:$k "
done
check_eq "${miss:-none}" none "synfence.conf(5) and contrib/synfence.conf show every config key ($(echo $keys))"
check_match "$cpage" $'\nNAME\n +synfence.conf - ' "synfence.conf(5) has a NAME line"
check_match "$page" 'synfence.conf\(5\)' "synfence(8) points to synfence.conf(5)"

check_eq "$(comp synfence sta)" "status stats" "completion expands a prefix"
check_eq "$(comp synfence stats --w)" "--watch" "completion of a stats option"
check_eq "$(comp synfence run --mode "")" "native generic auto" "completion of --mode values"
check_match "$(comp synfence run "")" '(^| )lo( |$)' "completion offers interfaces to run"
for code in 0 1 2; do
	check_match "$page" $'\n'"       $code"$'\n' "man page explains exit status $code"
done
check_match "$page" '/sys/fs/bpf/synfence' "man page names the default pin directory"
check_match "$page" 'sf_state' "man page names the published state map"
check_match "$page" 'net.ipv4.tcp_syncookies' "man page names the sysctls it reads"
sf_finish
