# Shared by the integration tests: start daemons on 127.0.0.1 with
# generated configs, wait for them, stop them, and fail on sanitizer
# reports. Every test sources this and calls `finish` at the end.
set -euo pipefail

BUILD_DIR=${BUILD_DIR:?set by ctest}
SRC_DIR=${SRC_DIR:?set by ctest}
TEST_NAME=$(basename "$0" .sh)
WORK=$(mktemp -d "/tmp/pinhole-${TEST_NAME}.XXXXXX")
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:exitcode=99}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:exitcode=98}
PIDS=()
FAILS=0
PASSES=0

cleanup() {
    for p in "${PIDS[@]:-}"; do
        [ -n "$p" ] && kill -KILL "$p" 2>/dev/null || true
    done
    if [ "$FAILS" -eq 0 ] && [ -z "${KEEP_WORK:-}" ]; then rm -rf "$WORK"; fi
}
trap cleanup EXIT

log() { echo "[$TEST_NAME] $*"; }
pass() { PASSES=$((PASSES + 1)); log "ok: $*"; }
fail() { FAILS=$((FAILS + 1)); log "FAIL: $*"; }
check() { # check "description" command...
    local what=$1; shift
    if "$@"; then pass "$what"; else fail "$what"; fi
}

# A free UDP port on 127.0.0.1 (even, so it can also serve as an RTP base).
# Port plan, so tests running in parallel never collide: SIP ports come
# from 10000-19999; relay port ranges of unit and integration tests are
# fixed, distinct ranges in 20000-29999 or above 61000; the kernel's
# ephemeral ports (32768-60999) are left to unbound client sockets.
free_port() {
    python3 -c 'import socket,random
while True:
    p = random.randrange(10000, 20000, 2)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.bind(("127.0.0.1", p)); s.close(); print(p); break
    except OSError:
        s.close()'
}

# write_confs P R Y PORT_MIN PORT_MAX: the smallest working configs of the
# three daemons in $WORK/{proxyd,redirectd,relayd}.conf: proxyd on P,
# redirectd on R, relayd on Y allocating relay ports PORT_MIN..PORT_MAX.
write_confs() {
    local p=$1 r=$2 y=$3
    cat >"$WORK/redirectd.conf" <<CONF
store = "sqlite:$WORK/redirectd.db";
listen = "127.0.0.1:$r";
proxies = [ "127.0.0.1:$p" ];
CONF
    cat >"$WORK/relayd.conf" <<CONF
listen = "127.0.0.1:$y";
media_address = "127.0.0.1";
port_min = $4; port_max = $5;
proxies = [ "127.0.0.1:$p" ];
CONF
    cat >"$WORK/proxyd.conf" <<CONF
listen = "127.0.0.1:$p";
redirect = "127.0.0.1:$r";
relays = [ "127.0.0.1:$y" ];
CONF
}

# start_daemon NAME CONF [extra args]: runs it in the foreground, logs to
# $WORK/NAME.log; sets LAST_PID.
start_daemon() {
    local name=$1 conf=$2; shift 2
    "$BUILD_DIR/${name%%-*}" -f -c "$conf" "$@" >"$WORK/$name.log" 2>&1 &
    LAST_PID=$!
    PIDS+=("$LAST_PID")
    wait_log "$name" "started" 5 || { cat "$WORK/$name.log"; return 1; }
}

# wait_log NAME PATTERN SECONDS: waits until the daemon's log has PATTERN.
wait_log() {
    local name=$1 pat=$2 secs=$3 i
    for ((i = 0; i < secs * 20; i++)); do
        grep -q -- "$pat" "$WORK/$name.log" 2>/dev/null && return 0
        sleep 0.05
    done
    return 1
}

# stop_daemon PID NAME: SIGTERM, expect exit 0 within 10 s and a clean
# sanitizer report.
stop_daemon() {
    local pid=$1 name=$2 rc=0 i
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 200; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    if kill -0 "$pid" 2>/dev/null; then
        fail "$name did not stop within 10 s of SIGTERM"
        kill -KILL "$pid"
        return 1
    fi
    wait "$pid" || rc=$?
    if grep -qE "ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:" "$WORK/$name.log"; then
        fail "$name: sanitizer report"; grep -B2 -A25 -E "Sanitizer|runtime error" "$WORK/$name.log" | head -60
        return 1
    fi
    if [ "$rc" -ne 0 ]; then fail "$name exited $rc"; tail -20 "$WORK/$name.log"; return 1; fi
    pass "$name stopped cleanly on SIGTERM"
}

# sipp_run NAME ARGS...: runs SIPp bounded in time; its logs go to $WORK.
sipp_run() {
    local name=$1; shift
    (cd "$WORK" && timeout 60 sipp "$@" -nostdin -trace_err -error_file "$WORK/$name.err" \
        >"$WORK/$name.out" 2>&1)
}

finish() {
    log "$PASSES passed, $FAILS failed"
    [ "$FAILS" -eq 0 ]
}
