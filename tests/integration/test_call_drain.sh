#!/usr/bin/env bash
# SIGTERM during traffic loses no answered call (issue #8): NATed 16 at P11
# calls public 14 at P13, which rings for 2 s. P11 gets SIGTERM while the
# call rings: it stops taking new work (a new INVITE gets 503), lets the
# call in set-up finish (the 200 reaches 16), then exits 0 on its own well
# before its drain bound.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/calls_lib.sh"

calls_net 62000 62099
register reg16 "$P11" "$PH16" 16 nat
register reg14 "$P13" "$PH14" 14 pub

uas_start uas14 call_uas_slow.xml "$PH14" 14 pub "$RTP14"
uac_run uac16 call_uac.xml "$P11" "$PH16" 14 16 nat "$RTP16" >/dev/null &
UAC=$!
ringing() { grep -q "SIP/2.0 180" "$WORK/uac16.msg" 2>/dev/null; }
for ((i = 0; i < 50; i++)); do ringing && break; sleep 0.1; done
check "the call rings at 16 before the signal" ringing
T0=$(date +%s%N)
kill -TERM "$P11_PID"
check "P11 starts draining with the call in set-up" wait_log proxyd-11 "draining: .* 1 calls in set-up" 5

# A new call during the drain is refused.
check "a new INVITE during the drain gets 503" python3 - "$P11" <<'PY'
import socket, sys
p = int(sys.argv[1])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); s.settimeout(2)
me = s.getsockname()[1]
s.sendto(("INVITE sip:14@127.0.0.1:%d SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bKdrain1\r\n"
          "Max-Forwards: 70\r\nFrom: <sip:99@x>;tag=d\r\nTo: <sip:14@x>\r\nCall-ID: drain-new@x\r\n"
          "CSeq: 1 INVITE\r\nContact: <sip:99@127.0.0.1:%d>\r\nContent-Length: 0\r\n\r\n" % (p, me, me)).encode(),
         ("127.0.0.1", p))
codes = []
try:
    while True:
        codes.append(s.recv(65535).split(b" ", 2)[1].decode())
        if codes[-1] >= "200": break
except socket.timeout:
    pass
open("/dev/stderr", "w").write("new INVITE during drain got %s\n" % codes)
sys.exit(0 if codes and codes[-1] == "503" else 1)
PY

rc=0; wait "$P11_PID" || rc=$?
T1=$(date +%s%N)
check "P11 exits 0 after the drain" test "$rc" -eq 0
check "P11 exits as soon as the call is answered (not at the 32 s bound)" \
    test $(( (T1 - T0) / 1000000 )) -lt 10000
check "P11 logged that it drained" grep -q "drained: no registration or call set-up in flight" "$WORK/proxyd-11.log"
# The caller got its 200 through the draining proxy.
for ((i = 0; i < 40; i++)); do [ "$(received_status uac16)" != none ] && break; sleep 0.1; done
check "the ringing call was answered: 16 got 200 (got $(received_status uac16))" test "$(received_status uac16)" = 200
# 16's ACK and BYE go to the stopped P11 (it record-routed): end the phones.
pkill -f -- "-message_file $WORK/uac16.msg" 2>/dev/null || true
pkill -f -- "-message_file $WORK/uas14.msg" 2>/dev/null || true
wait "$UAC" 2>/dev/null || true
P11_PID=""
stop_daemon "$P13_PID" proxyd-13 || true
stop_daemon "$RY_PID" relayd || true
stop_daemon "$RD_PID" redirectd || true
finish
