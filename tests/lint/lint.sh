#!/bin/bash
# tests/lint/lint.sh - static analysis of the userspace code (`make lint`): cppcheck and clang-tidy
# on user/*.c user/*/*.c with the checked-in configuration (.clang-tidy, tests/lint/cppcheck.supp). Prints
# every finding and "lint: N findings"; exit 1 when there is any. Environment: BUILD (default
# build; the BPF skeleton header is generated there if missing), LINT_FILES (default user/*.c user/*/*.c).
set -u
cd "$(dirname "$0")/../.." || exit 2
B=${BUILD:-build}
files=(${LINT_FILES:-user/*.c user/*/*.c})
for t in cppcheck clang-tidy; do
	command -v "$t" >/dev/null || { echo "lint: $t not found (run: make deps)" >&2; exit 2; }
done
make --no-print-directory BUILD="$B" "$B/synfence.skel.h" "$B/version.h" >/dev/null ||
	{ echo "lint: cannot generate $B/synfence.skel.h and $B/version.h" >&2; exit 2; }
incs=(-Iinclude -Iuser -I"$B")
n=0
out=$(mktemp)
trap 'rm -f "$out"' EXIT

echo "== cppcheck $(cppcheck --version | awk '{print $2}') on ${#files[@]} files"
# not -I$B: the generated skeleton header embeds the whole BPF object and costs cppcheck minutes;
# libbpf's option macros are given, as cppcheck does not read system headers
cppcheck --quiet --enable=warning,style,performance,portability --std=c11 --inline-suppr \
	--suppressions-list=tests/lint/cppcheck.supp --error-exitcode=0 -D_GNU_SOURCE -D__x86_64__ \
	'-DLIBBPF_OPTS(TYPE, NAME, ...)=struct TYPE NAME = { __VA_ARGS__ }' \
	'-DDECLARE_LIBBPF_OPTS(TYPE, NAME, ...)=struct TYPE NAME = { __VA_ARGS__ }' \
	-j "$(nproc)" --template='{file}:{line}: {severity} ({id}): {message}' -Iinclude -Iuser \
	"${files[@]}" 2>"$out"
c=$(grep -c ': ' "$out")
sed 's/^/   /' "$out"
echo "   cppcheck: $c findings"
n=$((n + c))

echo "== clang-tidy $(clang-tidy --version | awk '/version/ {print $NF}') on ${#files[@]} files"
# one file per process, all CPUs; only findings in our own files count (not in the generated
# skeleton header or the system headers an analyzer path ends in)
printf '%s\n' "${files[@]}" | xargs -P "$(nproc)" -I{} \
	clang-tidy --quiet {} -- -std=gnu11 -D_GNU_SOURCE "${incs[@]}" >"$out" 2>/dev/null
pat='^([^ ]*/)?(user|include|tests)/[^ ]*:[0-9]+:[0-9]+: (error|warning):'
c=$(grep -cE "$pat" "$out")
grep -E "$pat" "$out" | sort -u | sed 's/^/   /'
echo "   clang-tidy: $c findings"
n=$((n + c))

echo "lint: $n findings"
[ "$n" = 0 ]
