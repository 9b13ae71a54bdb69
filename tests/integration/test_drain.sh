#!/usr/bin/env bash
# SIGTERM during traffic (issue #8): REGISTERs stream through proxyd when
# it is told to stop. Every REGISTER sent before the signal is answered,
# every one answered 200 really is bound at redirectd (nothing answered is
# lost), those arriving while proxyd drains get 503 (with Retry-After, so
# the phone tries elsewhere) or nothing once it is gone, and proxyd exits 0
# well within its drain bound.
source "$(dirname "$0")/lib.sh"

P=$(free_port); R=$(free_port); Y=$(free_port)
S=$(python3 -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$WORK/redirectd.conf" <<CONF
store = "sqlite:$WORK/redirectd.db";
listen = "127.0.0.1:$R";
proxies = [ "127.0.0.1:$P" ];
stats = "127.0.0.1:$S";
CONF
cat >"$WORK/relayd.conf" <<CONF
listen = "127.0.0.1:$Y";
media_address = "127.0.0.1";
port_min = 45000; port_max = 45099;
proxies = [ "127.0.0.1:$P" ];
CONF
cat >"$WORK/proxyd.conf" <<CONF
listen = "127.0.0.1:$P";
redirect = "127.0.0.1:$R";
relays = [ "127.0.0.1:$Y" ];
CONF
start_daemon redirectd "$WORK/redirectd.conf"; RD=$LAST_PID
start_daemon relayd "$WORK/relayd.conf"; RY=$LAST_PID
start_daemon proxyd "$WORK/proxyd.conf"; PX=$LAST_PID

python3 "$SRC_DIR/tests/integration/drain_client.py" "$P" "$PX" 300 150 >"$WORK/drain.txt"
rc=0
for _ in $(seq 200); do kill -0 "$PX" 2>/dev/null || break; sleep 0.05; done
check "proxyd exited after SIGTERM" bash -c "! kill -0 $PX 2>/dev/null"
wait "$PX" || rc=$?
check "proxyd exited 0" test "$rc" -eq 0
check "proxyd logged the signal" grep -q "signal 15" "$WORK/proxyd.log"
check "no sanitizer report from proxyd" \
    bash -c "! grep -qE 'Sanitizer|runtime error' '$WORK/proxyd.log'"

before=$(grep -c ' before ' "$WORK/drain.txt")
ok_before=$(grep -c ' before 200$' "$WORK/drain.txt" || true)
check "REGISTERs were sent before the signal ($before)" test "$before" -ge 100
check "every REGISTER sent before the signal got 200 ($ok_before of $before)" \
    test "$ok_before" -eq "$before"
bad_after=$(grep ' after ' "$WORK/drain.txt" | grep -vcE ' (200|503|none)$' || true)
check "after the signal: 200 (already in), 503 (draining) or nothing (gone)" test "$bad_after" -eq 0

python3 "$SRC_DIR/tests/integration/metrics_client.py" scrape "$S" "bindings?limit=10000" \
    >"$WORK/bindings.json"
lost=0
while read -r aor; do
    grep -q "^\[\"$aor\"," "$WORK/bindings.json" || { lost=$((lost + 1)); log "lost: $aor"; }
done < <(awk '$3 == 200 { print $1 }' "$WORK/drain.txt")
check "every REGISTER answered 200 is bound at redirectd (lost: $lost)" test "$lost" -eq 0
stop_daemon "$RY" relayd || true
stop_daemon "$RD" redirectd || true
finish
