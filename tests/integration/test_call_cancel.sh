#!/usr/bin/env bash
# CANCEL before the answer (RFC 3261 §9, §16.10; figure 2a topology):
# 14 rings, 16 cancels. Each proxy answers the CANCEL 200 itself and sends
# its own CANCEL on the pending branch (same Request-URI, same branch as the
# INVITE it forwarded, one Via); 14 answers 200 and 487; the 487 is ACKed
# hop by hop and reaches 16; P11 releases its relay resource.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/calls_lib.sh"

calls_net 61400 61499
capture_start
register reg16 "$P11" "$PH16" 16 nat
register reg14 "$P13" "$PH14" 14 pub

uas_start uas14 call_uas_cancel.xml "$PH14" 14 pub "$RTP14"
uac_run uac16 call_uac_cancel.xml "$P11" "$PH16" 14 16 nat "$RTP16"
uas_wait uas14
capture_stop

pcap_check cancel
relay_idle
calls_stop
finish
