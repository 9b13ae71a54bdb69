#!/usr/bin/env bash
# Timer C (issue #16, RFC 3261 16.6 step 11): phone 14 rings for ever.
# With timer_c = 2 on both proxies, the caller gets 408 after about 2 s
# (not silence, not a call ringing for ever), and 14 is CANCELled (its 487
# ACKed by proxy 13). Before issue #16 nothing was ever CANCELled.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/calls_lib.sh"

CALLS_PROXYD_EXTRA="timer_c = 2;" calls_net 61310 61319
out=$(timeout 60 python3 "$SRC_DIR/tests/integration/everyday_phones.py" ring "$P11" "$PH16" \
    "$P13" "$PH14" "$(phone_password 16)" "$(phone_password 14)")
log "$out"
val() { sed -n "s/.*\b$1=\([0-9.]*\).*/\1/p" <<<"$out"; }
check "the caller got 408 Request Timeout" test "$(val ring_final)" = 408
check "after Timer C, 2 s (+ 2 s slack), not at once: $(val after_s) s" \
    python3 -c "import sys; sys.exit(0 if 1.8 <= float('$(val after_s)') <= 4.5 else 1)"
check "the ringing phone was CANCELled" test "$(val cancel_at_14)" -ge 1
check "its 487 was ACKed" test "$(val ack_of_487_at_14)" -ge 1
relay_idle
calls_stop
finish
