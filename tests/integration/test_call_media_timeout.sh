#!/usr/bin/env bash
# Media timeout (issue #16): NATed 16 at P11 calls 14 at P13, 14 answers,
# and neither phone sends a packet (a phone that crashed, a network gone).
# relayd (session_timeout = 5) frees the silent session and tells P11,
# which sends BYE to both phones with Reason: SIP;cause=408;text="media
# timeout" (RFC 3326): to 16 directly, to 14 along the route set through
# P13. Before issue #16 the call stayed up on both phones.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/calls_lib.sh"

CALLS_SESSION_TIMEOUT=5 calls_net 61340 61349
out=$(timeout 60 python3 "$SRC_DIR/tests/integration/everyday_phones.py" silent "$P11" "$PH16" \
    "$P13" "$PH14" "$(phone_password 16)" "$(phone_password 14)" 12)
log "$(tr '\n' ' ' <<<"$out")"
check "the call was answered" grep -qx "answered=200" <<<"$out"
# bye_ok WHO: WHO got the BYE with that Reason, 4.5 to 8.5 s after the ACK
bye_ok() {
    local re="bye_at_$1=1 after_s=([0-9.]+) reason=SIP;cause=408;text=\"media_timeout\""
    [[ "$out" =~ $re ]] && python3 -c "import sys; sys.exit(0 if 4.5 <= ${BASH_REMATCH[1]} <= 8.5 else 1)"
}
for who in 16 14; do
    check "$who got a BYE with Reason media timeout, 5 to 8 s after the call went silent" bye_ok "$who"
done
check "relayd logged the silent session" grep -q "silent for session_timeout: freed" "$WORK/relayd.log"
check "P11 logged why it hung up" grep -q "relayd found its media silent: BYE to 14 (sent) and 16 (sent)" \
    "$WORK/proxyd-11.log"
check "P11's call line says 200 and no packets from either phone" \
    grep -qE "call silent-[^ ]+: 16 -> 14, 200, .*relay 127\.0\.0\.1:[0-9]+$" "$WORK/proxyd-11.log"
relay_idle
calls_stop
finish
