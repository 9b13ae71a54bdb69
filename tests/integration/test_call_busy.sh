#!/usr/bin/env bash
# A busy callee (figure 2a topology: NATed 16 at P11 calls public 14 at
# P13, 14 answers 486 Busy Here). The 486 travels back 14 -> P13 -> P11 ->
# 16 with one Via less at each hop and is ACKed hop by hop (the ACK carries
# the branch of the INVITE it ends); P11 releases the relay resource it
# took (BYE to relayd, design.md decision 9) and relayd holds no session.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/calls_lib.sh"

calls_net 61300 61399
capture_start
register reg16 "$P11" "$PH16" 16 nat
register reg14 "$P13" "$PH14" 14 pub

uas_start uas14 call_uas_busy.xml "$PH14" 14 pub "$RTP14"
uac_run uac16 call_uac_fail.xml "$P11" "$PH16" 14 16 nat "$RTP16"
expect_final uac16 486
uas_wait uas14
capture_stop

pcap_check busy
relay_idle
calls_stop
finish
