#!/bin/bash
# tests/fuzz/run-in-netns.sh CMD [ARGS...] - run CMD in a fresh network namespace sfz-<pid> (lo up),
# removed afterwards whatever happens. The fuzzers and the forgery test open listeners on lo and
# must never share a namespace with anything else.
set -u
[ $# -ge 1 ] || { echo "usage: $0 CMD [ARGS...]" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "$0: must run as root (network namespaces, BPF)" >&2; exit 2; }
ns=sfz-$$-$RANDOM
cleanup() { ip netns pids "$ns" 2>/dev/null | xargs -r kill -KILL 2>/dev/null; ip netns del "$ns" 2>/dev/null; }
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
ip netns add "$ns" || { echo "$0: ip netns add $ns failed" >&2; exit 2; }
ip -n "$ns" link set lo up || exit 2
ip netns exec "$ns" "$@"
