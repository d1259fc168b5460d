#!/bin/bash
# 92-lint: cppcheck and clang-tidy on user/ with the checked-in configuration (`make lint`).
. "$(dirname "$0")/../fuzz/ci-lib.sh"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
BUILD=$BUILD tests/lint/lint.sh >"$log" 2>&1
rc=$?
cat "$log"
check "cppcheck: no finding" grep -q '^   cppcheck: 0 findings' "$log"
check "clang-tidy: no finding" grep -q '^   clang-tidy: 0 findings' "$log"
check "make lint exits 0" [ $rc = 0 ]
ci_finish
