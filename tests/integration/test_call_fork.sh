#!/usr/bin/env bash
# Two phones of one user (issue #16, RFC 3261 10.3 and 16.7): 14 registers
# a desk phone and a softphone at P13, each from its own port with its own
# Call-ID; redirectd keeps both bindings and lists both in its 200. 16
# (NATed, at P11) calls 14: P11 is sent to P13 once; P13 forks to both
# phones; both ring (180 reaches 16 from each), the desk phone answers after
# 2 s, the softphone is CANCELled with "Call completed elsewhere" and its
# 487 is ACKed and goes no further; media flows through the relay; the
# softphone's branch never frees the answered call's relay. Before issue
# #16 the softphone's REGISTER replaced the desk phone's binding and only
# the softphone rang.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/calls_lib.sh"

CALLS_EXTRA_PORTS="PH14B RTP14B" calls_net 61520 61539
capture_start
register reg16 "$P11" "$PH16" 16 nat
register reg14 "$P13" "$PH14" 14 pub
register reg14b "$P13" "$PH14B" 14 pub
check "redirectd's 200 to the second phone lists both bindings" \
    python3 -c "import re,sys; t=open('$WORK/reg14b.msg').read().split('SIP/2.0 200')[-1]
sys.exit(0 if {'127.0.0.1:$PH14', '127.0.0.1:$PH14B'} <= set(re.findall(r'sip:14@([0-9.:]+)', t)) else 1)"

uas_start uas14 call_uas_slow.xml "$PH14" 14 pub "$RTP14"
uas_start uas14b call_uas_cancel.xml "$PH14B" 14 pub "$RTP14B"
uac_run uac16 call_uac.xml "$P11" "$PH16" 14 16 nat "$RTP16"
uas_wait uas14
uas_wait uas14b
rtp_check uac16 uas14
capture_stop

pcap_check fork
relay_idle
check "P11 logged the call as answered" \
    grep -qE "call [^ ]+: 16 -> 14, 200, set-up [0-9]+ ms" "$WORK/proxyd-11.log"
calls_stop
finish
