#!/bin/bash
# The documentation says what the binary does: the man page (rendered from doc/synfence.8.scd at
# build time) has every command, every option of every command's --help, every counter, the exit
# codes and the files; the README's counter table has every counter; `synfence help CMD` equals
# `synfence CMD --help` for every command; the bash completion offers every command and every long
# option. The counter list comes from include/synfence.h, the option lists from the binary itself.
# No namespaces, no root needed.
SF_PREFIX=sfo
. "$(dirname "$0")/../lib.sh"
SF_NAME=docs

MAN=$BUILD/synfence.8
COMPLETION=$SF_SRC/contrib/bash-completion/synfence
[ -x "$SYNFENCE" ] || die "synfence binary not found at $SYNFENCE (run make)"
[ -r "$MAN" ] || die "man page not found at $MAN (run make; it needs scdoc)"
command -v man >/dev/null || die "man is missing (make deps installs man-db)"

page=$(MANWIDTH=200 man -l "$MAN" 2>/tmp/sfo-docs-man.err | col -b)
check_eq "$(cat /tmp/sfo-docs-man.err)" "" "man -l renders the page without warnings"
rm -f /tmp/sfo-docs-man.err
for sec in NAME SYNOPSIS DESCRIPTION COMMANDS VERDICT COUNTERS JSON METRICS CONFIGURATION "EXIT STATUS" FILES; do
	check_match "$page" $'\n'"$sec"$'\n' "man page has a $sec section"
done

counters=$(sed -n 's/^[[:space:]]*X(\([a-z][a-z_0-9]*\),.*/\1/p' "$SF_SRC/include/synfence.h")
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
	opts=$(grep -oE -- '--[a-z][a-z-]+' <<<"$h" | sort -u | grep -vE -- '^--(json|pretty|verbose|help|version)$')
	miss_man="" miss_comp=""
	for o in $opts; do
		grep -q -- "$o" <<<"$page" || miss_man+="$o "
		[[ " $(comp synfence "$cmd" --) " == *" $o "* ]] || miss_comp+="$o "
	done
	check_eq "${miss_man:-none}" none "man page has every option of $cmd ($(echo $opts))"
	[ "$cmd" = help ] || check_eq "${miss_comp:-none}" none "completion offers every option of $cmd"
done
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
