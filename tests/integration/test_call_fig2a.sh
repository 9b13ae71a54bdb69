#!/usr/bin/env bash
# Patent figure 2a on loopback: NATed client 16 (registered at P11) calls
# public client 14 (registered at P13). INVITE/100/180/200/ACK, 2.5 s of
# RTP both ways through relayd, BYE/200. Every message of signals 1-12 and
# of the relay (fig. 8a/8b) and redirect (fig. 7a/7b) sub-transactions is
# checked in a capture of lo against figures 5a-5c and 6a (calls_check.py
# fig2a): Request-URI, Via stack with received/rport, Record-Route P13 then
# P11, Contact = 16's NAT address, SDP c=/m= = the relay's allocation.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/calls_lib.sh"

calls_net 61000 61099
capture_start
register reg16 "$P11" "$PH16" 16 nat
register reg14 "$P13" "$PH14" 14 pub

uas_start uas14 call_uas.xml "$PH14" 14 pub "$RTP14"
uac_run uac16 call_uac.xml "$P11" "$PH16" 14 16 nat "$RTP16"
uas_wait uas14
rtp_check uac16 uas14
capture_stop

pcap_check fig2a
relay_idle
# issue #16: one line per call, with what each phone sent through the relay
check "P11 logged the call: 200, set-up, duration, relay, packets each way" \
    grep -qE "call [^ ]+: 16 -> 14, 200, set-up [0-9]+ ms, [1-9][0-9]*\.[0-9] s, relay 127\.0\.0\.1:[0-9]+, packets from 16 [1-9][0-9]+, from 14 [1-9][0-9]+$" \
    "$WORK/proxyd-11.log"
calls_stop
finish
