#!/usr/bin/env bash
# Runs a command inside a fresh loopback-only network namespace (lo up, no
# other interface) and deletes the namespace afterwards. Needs root.
#   ./netns-run.sh node driver.js loopback-throughput --mib 20
#   ./netns-run.sh sh -c 'node driver.js signal-files answerer ... & node driver.js signal-files offerer ...; wait'
# Everything started by the command (Chromium, the HTTP server, the other
# peer) shares the namespace, so 127.0.0.1 is the only address any of them has.
set -euo pipefail
[ $# -gt 0 ] || { echo "usage: $0 COMMAND [ARG...]" >&2; exit 2; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
ns="rtcwire-browser-$$"
as_root ip netns add "$ns"
trap 'as_root ip netns delete "$ns"' EXIT
as_root ip netns exec "$ns" ip link set lo up
status=0
as_root ip netns exec "$ns" "$@" || status=$?
exit "$status"
