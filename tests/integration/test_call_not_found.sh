#!/usr/bin/env bash
# A NATed caller calls a phone that is not registered: NATed 16 at P11
# calls 99. P11 asks relayd and redirectd at once (design.md decision 12);
# redirectd answers 404, which P11 ACKs and passes to 16 as 404; nothing is
# forwarded; the relay resource P11 took is released (decision 9).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/calls_lib.sh"

calls_net 61600 61699
capture_start
register reg16 "$P11" "$PH16" 16 nat

uac_run uac16 call_uac_fail.xml "$P11" "$PH16" 99 16 nat "$RTP16"
expect_final uac16 404
capture_stop

pcap_check notfound
relay_idle
check "P11 logged the call: 404, no answer, the relay it released" \
    grep -qE "call [^ ]+: 16 -> 99, 404, set-up [0-9]+ ms, 0\.0 s, relay 127\.0\.0\.1:[0-9]+$" \
    "$WORK/proxyd-11.log"
calls_stop
finish
