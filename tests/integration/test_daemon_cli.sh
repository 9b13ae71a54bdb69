#!/usr/bin/env bash
# The command-line contract of design.md for all three daemons: -V, -t on a
# good and a bad config (exit 1 naming the line), start on a config, SIGHUP
# with a bad config keeps the old one, SIGTERM exits 0; and every daemon
# survives all 50 RFC 4475 torture messages.
source "$(dirname "$0")/lib.sh"

P=$(free_port); R=$(free_port); Y=$(free_port)
write_confs "$P" "$R" "$Y" 41000 41999

for d in proxyd redirectd relayd; do
    check "$d -V prints its version" bash -c "'$BUILD_DIR/$d' -V | grep -q '^$d (pinhole) '"
    check "$d -t accepts the shipped config" "$BUILD_DIR/$d" -t -c "$SRC_DIR/conf/$d.conf"
    check "$d -t accepts the test config" "$BUILD_DIR/$d" -t -c "$WORK/$d.conf"
    cp "$WORK/$d.conf" "$WORK/$d.bad"; printf '\nlog_level = "loud";\n' >>"$WORK/$d.bad"
    line=$(grep -n log_level "$WORK/$d.bad" | cut -d: -f1)
    set +e; out=$("$BUILD_DIR/$d" -t -c "$WORK/$d.bad" 2>&1); rc=$?; set -e
    check "$d -t refuses a bad config with exit 1" test "$rc" -eq 1
    check "$d -t names the bad line ($line)" grep -q "$d.bad:$line:" <<<"$out"
    set +e; "$BUILD_DIR/$d" -x >/dev/null 2>&1; rc=$?; set -e
    check "$d refuses an unknown option with exit 2" test "$rc" -eq 2
done

declare -A PID PORT=([proxyd]=$P [redirectd]=$R [relayd]=$Y)
for d in redirectd relayd proxyd; do
    start_daemon "$d" "$WORK/$d.conf"; PID[$d]=$LAST_PID
done

# Reload: a broken file is refused and the daemon keeps running.
for d in redirectd relayd proxyd; do
    cp "$WORK/$d.conf" "$WORK/$d.good"; echo 'listen = ' >>"$WORK/$d.conf"
    kill -HUP "${PID[$d]}"
    check "$d refuses a bad reload" wait_log "$d" "reload refused" 5
    cp "$WORK/$d.good" "$WORK/$d.conf"
    kill -HUP "${PID[$d]}"
    check "$d applies a good reload" wait_log "$d" "configuration reloaded" 5
done

# RFC 4475: send every torture message to every daemon from 127.0.0.1.
python3 - "$SRC_DIR/tests/fixtures/rfc4475" "$P" "$R" "$Y" <<'PY'
import os, socket, sys, time
d, ports = sys.argv[1], [int(p) for p in sys.argv[2:]]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for name in sorted(os.listdir(d)):
    if name.endswith(".dat"):
        data = open(os.path.join(d, name), "rb").read()
        for p in ports:
            s.sendto(data, ("127.0.0.1", p))
        time.sleep(0.002)
PY
sleep 1
for d in redirectd relayd proxyd; do
    check "$d survived the RFC 4475 torture messages" kill -0 "${PID[$d]}"
done
for d in proxyd relayd redirectd; do stop_daemon "${PID[$d]}" "$d" || true; done
finish
