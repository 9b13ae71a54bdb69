#!/usr/bin/env bash
# relayd against the 50 RFC 4475 torture messages, sent from a listed
# proxy address: each answer (or its absence) must be one that the
# `accept` column of tests/fixtures/rfc4475/expect.tsv allows, every
# answer must come back to the sender (the messages' Vias name foreign
# hosts), responses are never answered, and relayd still answers OPTIONS
# afterwards and exits cleanly (ASan/LSan: no leak, no error). The
# INVITEs with SDP among them allocate relay sessions like any other.
#
# Messages sharing a transaction key (unkscm/novelsc, escnull/regescrt,
# cparam01/cparam02) are, by RFC 3261 17.2.3, a retransmission of the
# first: before such a message relayd is restarted (after a clean-exit
# check).
source "$(dirname "$0")/lib.sh"

Y=$(free_port)
cat >"$WORK/relayd.conf" <<CONF
listen = "127.0.0.1:$Y";
media_address = "127.0.0.1";
port_min = 24200; port_max = 24399;
# any port on 127.0.0.1: each message goes out from a fresh socket, so a
# retransmitted 302 of one message cannot be taken for the next one's answer
proxies = [ "127.0.0.1" ];
log_level = "notice";
CONF
start_daemon relayd "$WORK/relayd.conf"
RPID=$LAST_PID

first=0
while :; do
    rc=0
    python3 "$SRC_DIR/tests/integration/relayd_client.py" torture "$Y" \
        "$SRC_DIR/tests/fixtures/rfc4475" "$first" "$WORK/next" >>"$WORK/rfc4475.out" 2>&1 || rc=$?
    [ "$rc" -eq 3 ] || break
    first=$(cat "$WORK/next")
    stop_daemon "$RPID" relayd || true
    start_daemon relayd "$WORK/relayd.conf"
    RPID=$LAST_PID
done
cat "$WORK/rfc4475.out"
check "every RFC 4475 message answered as expect.tsv accepts" test "$rc" -eq 0
check "all 50 messages were sent" \
    test "$(grep -cE '^(ok|FAIL) +[a-z0-9]+ +(valid|invalid|semantic)' "$WORK/rfc4475.out")" -eq 50
check "OPTIONS still answered afterwards" grep -q "^ok   OPTIONS after" "$WORK/rfc4475.out"
check "relayd is still running" kill -0 "$RPID"
stop_daemon "$RPID" relayd || true
finish
