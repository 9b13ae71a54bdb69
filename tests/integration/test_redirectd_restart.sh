#!/usr/bin/env bash
# Registrations that survive a crash (issue #17, design.md "Registrations
# that survive restarts"): 1,000 REGISTERs answered 200 by redirectd with
# the shipped default store (SQLite), then kill -9 at once, then a restart:
# every one of the 1,000 is answered 302 with its own Contact, ten
# unregistered before the crash are 404, and the same run with
# store = "memory" shows what it was before (every one 404).
source "$(dirname "$0")/lib.sh"

CLIENT="$SRC_DIR/tests/integration/store_client.py"
R=$(free_port)
PA=$(free_port)
S=$(free_port)

conf() { # conf STORE
    cat >"$WORK/redirectd.conf" <<CONF
store = "$1";
listen = "127.0.0.1:$R";
proxies = [ "127.0.0.1:$PA" ];
stats = "127.0.0.1:$S";
log_level = "notice";
CONF
}

crash_and_count() { # crash_and_count LABEL: register, unregister 10, kill -9, restart, invite
    local label=$1 out pid
    start_daemon redirectd "$WORK/redirectd.conf" || { fail "$label: redirectd did not start"; return; }
    pid=$LAST_PID
    out=$(timeout 60 python3 "$CLIENT" register "$R" "$PA" 1000 200000)
    check "$label: 1,000 REGISTERs answered 200 ($out)" test "$out" = "ok=1000 other=0 silent=0"
    out=$(timeout 30 python3 "$CLIENT" unregister "$R" "$PA" 10 200000)
    check "$label: 10 of them unregistered ($out)" test "$out" = "ok=10 other=0 silent=0"
    kill -KILL "$pid"
    wait "$pid" 2>/dev/null || true
    start_daemon redirectd "$WORK/redirectd.conf" || { fail "$label: no restart"; return; }
    RPID=$LAST_PID
    AFTER=$(timeout 60 python3 "$CLIENT" invite "$R" "$PA" 1000 200000)
    log "$label after kill -9 and restart: $AFTER"
}

conf "memory"
crash_and_count "before (memory)"
check "memory keeps nothing: every ID 404 after the crash" \
    test "$AFTER" = "moved=0 right_contact=0 not_found=1000 other=0 silent=0"
stop_daemon "$RPID" redirectd

conf "sqlite:$WORK/redirectd.db"
crash_and_count "sqlite"
check "sqlite: the 990 still registered answered 302 with their own Contact, the 10 gone 404" \
    test "$AFTER" = "moved=990 right_contact=990 not_found=10 other=0 silent=0"
check "the restart said how many bindings it loaded" \
    grep -q "990 bindings loaded" "$WORK/redirectd.log"
check "the database is in WAL mode (its -wal file exists)" test -e "$WORK/redirectd.db-wal"
metrics=$(python3 "$SRC_DIR/tests/integration/metrics_client.py" scrape "$S" metrics)
check "metrics: 990 bindings loaded, none queued, no failed commit" \
    bash -c "grep -qx 'pinhole_redirectd_store_loaded 990' <<<'$metrics' &&
             grep -qx 'pinhole_redirectd_store_queued 0' <<<'$metrics' &&
             grep -qx 'pinhole_redirectd_store_failures_total 0' <<<'$metrics'"
stop_daemon "$RPID" redirectd
finish
