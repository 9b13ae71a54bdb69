#!/usr/bin/env bash
# Design decision 12 on the registration path: when redirectd does not
# answer, proxyd retransmits the redirect registration (timer E) and gives
# the phone 408 after 64·T1; the phone's own retransmissions are absorbed
# meanwhile. redirectd is "down": nothing listens on the configured port.
# PINHOLE_T1_MS=50 (a test hook, docs/registration.md) makes 64·T1 3.2 s.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/proxyd_lib.sh"

P=$(free_port); R=$(free_port); Y=$(free_port)
cat >"$WORK/proxyd.conf" <<CONF
listen = "127.0.0.1:$P";
redirect = "127.0.0.1:$R";
relays = [ "127.0.0.1:$Y" ];
CONF
PINHOLE_T1_MS=50 start_daemon proxyd "$WORK/proxyd.conf"; PPID_=$LAST_PID
check "the T1 test hook is on" grep -q "T1 = 50 ms" "$WORK/proxyd.log"

PH=$(free_port)
t0=$(date +%s.%N)
phone down1 "$PH" frank 192.168.1.10:5060 192.168.1.10:5060 3600
t1=$(date +%s.%N)
expect_status down1 408 "no answer from redirectd becomes 408"
check "after 64·T1 = 3.2 s, not at once and not forever ($(echo "$t1 - $t0" | bc) s)" \
    python3 -c "import sys; sys.exit(0 if 3.0 <= $t1 - $t0 <= 6.0 else 1)"
sent=$(grep -c "message sent" "$WORK/down1.msg")
check "the phone retransmitted meanwhile ($sent REGISTERs) and got one answer" \
    test "$sent" -ge 3 -a "$(grep -c "message received" "$WORK/down1.msg")" -eq 1
check "proxyd logged the timeout" grep -q "frank: redirectd did not answer" "$WORK/proxyd.log"

stop_daemon "$PPID_" proxyd || true
finish
