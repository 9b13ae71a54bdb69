#!/usr/bin/env bash
# Type=notify (the units in conf/systemd): each daemon, given a
# NOTIFY_SOCKET as systemd would, sends READY=1 once its sockets are bound,
# RELOADING=1 then READY=1 around a SIGHUP reload (a refused reload too:
# the daemon keeps serving), and STOPPING=1 on SIGTERM before exiting 0.
# A python3 listener stands in for systemd; one daemon uses an abstract
# socket name ("@..."), as systemd may.
source "$(dirname "$0")/lib.sh"

LISTEN="$SRC_DIR/tests/integration/notify_listen.py"
P=$(free_port); R=$(free_port); Y=$(free_port)
declare -A SIP=([proxyd]=$P [redirectd]=$R [relayd]=$Y)
write_confs "$P" "$R" "$Y" 42000 42099

# notes D: what daemon D told the notify socket so far, one per line.
notes() { cat "$WORK/$1.notes" 2>/dev/null || true; }
# wait_notes D N PATTERN: waits up to 5 s for N lines matching PATTERN.
wait_notes() {
    local i
    for ((i = 0; i < 100; i++)); do
        [ "$(notes "$1" | grep -cx -- "$3")" -ge "$2" ] && return 0
        sleep 0.05
    done
    return 1
}
# udp_bound PORT: true when 127.0.0.1:PORT/udp is taken.
udp_bound() {
    python3 -c 'import socket,sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(0)
sys.exit(1)' "$1"
}

for d in redirectd relayd proxyd; do
    if [ "$d" = relayd ]; then sock="@pinhole-notify-$$-$d"; else sock="$WORK/$d.sock"; fi
    python3 "$LISTEN" "$sock" "$WORK/$d.notes" 60 &
    PIDS+=("$!")
    for ((i = 0; i < 100; i++)); do [ -e "$WORK/$d.notes.ready" ] && break; sleep 0.05; done

    # no readiness before the daemon has bound: its SIP port is taken by then
    export NOTIFY_SOCKET=$sock
    "$BUILD_DIR/$d" -f -c "$WORK/$d.conf" >"$WORK/$d.log" 2>&1 &
    pid=$!
    PIDS+=("$pid")
    unset NOTIFY_SOCKET
    check "$d: READY=1 after start ($sock)" wait_notes "$d" 1 "READY=1"
    check "$d: its SIP port is bound when it says READY" udp_bound "${SIP[$d]}"
    check "$d: nothing but READY=1 before the first signal" \
        test "$(notes "$d")" = "READY=1"

    kill -HUP "$pid"
    check "$d: RELOADING=1 on SIGHUP" wait_notes "$d" 1 "RELOADING=1"
    check "$d: READY=1 again after the reload" wait_notes "$d" 2 "READY=1"
    check "$d: the reload was applied" wait_log "$d" "configuration reloaded" 5

    cp "$WORK/$d.conf" "$WORK/$d.good"
    echo 'listen = ' >>"$WORK/$d.conf"
    kill -HUP "$pid"
    check "$d: RELOADING=1 on a SIGHUP with a broken file" wait_notes "$d" 2 "RELOADING=1"
    check "$d: READY=1 after the refused reload" wait_notes "$d" 3 "READY=1"
    check "$d: the broken file was refused" wait_log "$d" "reload refused" 5
    check "$d: still running after the refused reload" kill -0 "$pid"
    cp "$WORK/$d.good" "$WORK/$d.conf"
    check "$d: states in order (READY, RELOADING, READY, RELOADING, READY)" \
        test "$(notes "$d" | tr '\n' ' ')" = "READY=1 RELOADING=1 READY=1 RELOADING=1 READY=1 "

    stop_daemon "$pid" "$d" || true
    check "$d: STOPPING=1 on SIGTERM" wait_notes "$d" 1 "STOPPING=1"
    check "$d: STOPPING=1 is the last word" test "$(notes "$d" | tail -1)" = "STOPPING=1"
done
finish
