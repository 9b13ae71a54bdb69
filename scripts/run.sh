#!/usr/bin/env bash
# `make run`: redirectd, relayd and proxyd in the foreground on 127.0.0.1
# with conf/*.conf, their logs interleaved on this terminal. Ctrl-C (or any
# daemon exiting) stops all three.
set -u
BUILD=${1:-build}
cd "$(dirname "$0")/.."

pids=()
stop_all() {
    trap - INT TERM EXIT
    for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
    wait 2>/dev/null
    echo "pinhole: all daemons stopped"
}
trap stop_all INT TERM EXIT

# conf/redirectd.conf keeps its bindings and conf/proxyd.conf its NAT clients
# in /var/lib/pinhole (the systemd units' StateDirectory).
mkdir -p /var/lib/pinhole 2>/dev/null ||
    echo "pinhole: cannot create /var/lib/pinhole: set store/state = \"memory\" in conf/*.conf" >&2

for d in redirectd relayd proxyd; do
    # Process substitution keeps $! the daemon's own pid (not sed's).
    "$BUILD/$d" -f -c "conf/$d.conf" > >(sed -u "s/^/[$d] /") 2>&1 &
    pids+=($!)
done
echo "pinhole: running (proxyd 127.0.0.1:5060, redirectd :5070, relayd :5080). Ctrl-C stops."
wait -n
