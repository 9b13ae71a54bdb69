#!/usr/bin/env bash
# relayd's limits and SIGHUP (issue #4): with two port pairs, an INVITE
# needing three gets 503 with Retry-After and leaves nothing allocated, a
# second call beyond the pool gets 503, never a crash. SIGHUP applies
# proxies, session_timeout and log_level without dropping the session; a
# new port range is refused with a log line and the old config kept; the
# shortened session_timeout then frees the silent session.
source "$(dirname "$0")/lib.sh"

CLIENT="python3 $SRC_DIR/tests/integration/relayd_client.py"
# Two proxies told apart by address (any port: the client binds a free one).
P=127.0.0.1; Q=127.0.0.3; Y=$(free_port)
write_conf() { # write_conf PROXY_IP TIMEOUT LOG_LEVEL PORT_MAX
    cat >"$WORK/relayd.conf" <<CONF
listen = "127.0.0.1:$Y";
media_address = "127.0.0.1";
port_min = 24400; port_max = $4;
proxies = [ "$1" ];
session_timeout = $2;
log_level = "$3";
CONF
}
write_conf "$P" 60 info 24403 # two RTP/RTCP pairs
start_daemon relayd "$WORK/relayd.conf"
RPID=$LAST_PID

# sessions_are SRC N: an OPTIONS from SRC reports X-Relay-Sessions: N.
sessions_are() {
    local got
    got=$($CLIENT sessions "$Y" "$1" 2>&1 || true)
    [ "$got" = "$2" ] || { log "X-Relay-Sessions: got '$got', want $2"; return 1; }
}

out=$($CLIENT invite "$Y" "$P:0" big --media audio,video,video --expect 503 || true)
check "three streams from two pairs → 503" grep -q '^status=503 ' <<<"$out"
check "the 503 carries Retry-After" grep -q 'retry_after=30$' <<<"$out"
check "nothing stayed allocated" sessions_are "$P:0" 0
out=$($CLIENT invite "$Y" "$P:0" call-a --media audio,video)
check "two streams fit → 302" grep -q '^status=302 ' <<<"$out"
PORTS=$(sed -n 's/.*ports=\([0-9,]*\).*/\1/p' <<<"$out")
out=$($CLIENT invite "$Y" "$P:0" call-b --media audio --expect 503 || true)
check "a call beyond the pool → 503" grep -q '^status=503 ' <<<"$out"
check "relayd logged the exhaustion" wait_log relayd "no relay port pair" 1

# SIGHUP: P out, Q in, session_timeout 5 s, debug logging
write_conf "$Q" 5 debug 24403
kill -HUP "$RPID"
check "the reload is applied" wait_log relayd "configuration reloaded" 5
out=$($CLIENT invite "$Y" "$P:0" call-a --media audio,video --expect 403 || true)
check "the dropped proxy now gets 403" grep -q '^status=403 ' <<<"$out"
out=$($CLIENT invite "$Y" "$Q:0" call-a --media audio,video)
check "the session survived the reload (same ports for the new proxy)" \
    grep -q "^status=302 ports=$PORTS " <<<"$out"
check "log_level debug applies" wait_log relayd "INVITE again" 2

# a new port range cannot apply to live sockets: refused, old config kept
write_conf "$Q" 5 debug 24499
kill -HUP "$RPID"
check "a new port range is refused" wait_log relayd "reload refused" 5
check "the refusal names the range" wait_log relayd "port range cannot change" 1
check "the session is still there" sessions_are "$Q:0" 1
write_conf "$Q" 5 debug 24403

freed=no
for _ in $(seq 1 40); do
    sleep 0.25
    if sessions_are "$Q:0" 0 >/dev/null; then freed=yes; break; fi
done
check "the reloaded session_timeout (5 s) frees the silent session" test $freed = yes
out=$($CLIENT invite "$Y" "$Q:0" call-b --media audio)
check "its ports serve the next call" grep -q '^status=302 ' <<<"$out"

check "relayd is still running" kill -0 "$RPID"
stop_daemon "$RPID" relayd || true
finish
