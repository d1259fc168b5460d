#!/bin/bash
# 91-forgery: >= 10 million forged final ACKs per main class through the real XDP program (a real
# listener on lo in a namespace sfz-*), accepted ones counted against 2^-21 / 2^-53 and matched
# one by one with libsodium; then through the TC program: what XDP accepted is handed off, and a
# sample of each class run through TC directly is handed off exactly when libsodium accepts it
# (tests/fuzz/forge.c). SF_FORGE_SCALE scales the counts (default 1).
. "$(dirname "$0")/../fuzz/ci-lib.sh"
ci_require_root
ci_make "$FUZZ_B/sf_forge" || ci_finish
log=$(mktemp)
trap 'rm -f "$log"' EXIT
tests/fuzz/run-in-netns.sh "$FUZZ_B/sf_forge" --scale "${SF_FORGE_SCALE:-1}" --seed "${SF_FUZZ_SEED:-1}" >"$log" 2>&1
rc=$?
grep -v -E '^  (ok|FAIL) ' "$log" | sed 's/^/    /'
grep -E '^  (ok|FAIL) ' "$log"
CI_CHECKS=$(grep -c '^  ok ' "$log")
CI_FAILS=$(grep -c '^  FAIL ' "$log")
check "sf_forge exits 0" [ $rc = 0 ]
ci_finish
