#!/usr/bin/env bash
# Late offer (RFC 3264 section 5; issue #16) on loopback: NATed client 16
# (at P11) calls public client 14 (at P13) with an INVITE without SDP, as
# PBXs and gateways do. 14's 200 makes the offer: P11 holds it, takes the
# relay with it (Pinhole-Sources naming 14) and forwards it pointed at the
# relay; 16's ACK carries the answer, pointed at the relay too and
# reported to relayd. RTP then flows both ways through the relay. Before
# issue #16 such a call got no relay: its media went straight to 16's
# private address, one-way through the NAT.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/calls_lib.sh"

calls_net 61320 61339
capture_start
register reg16 "$P11" "$PH16" 16 nat
register reg14 "$P13" "$PH14" 14 pub

uas_start uas14 call_uas_late.xml "$PH14" 14 pub "$RTP14"
uac_run uac16 call_uac_late.xml "$P11" "$PH16" 14 16 nat "$RTP16"
uas_wait uas14
check "16 got the 200's offer pointed at the relay" \
    grep -q "answer sdp 127.0.0.1:613[23][0-9]" "$WORK/uac16.log"
check "14 got the ACK's answer pointed at the relay" \
    grep -q "answer in ack sdp 127.0.0.1:613[23][0-9]" "$WORK/uas14.log"
check "P11 took the relay from the 200 and reported 16's answer" \
    test "$(grep -c 'relay session .*: created' "$WORK/relayd.log")" -eq 1
rtp_check uac16 uas14
capture_stop
pcap_check lateoffer
relay_idle
# issue #16: one line per call, with what each phone sent through the relay
check "P11 logged the call: 200, set-up, duration, relay, packets each way" \
    grep -qE "call [^ ]+: 16 -> 14, 200, set-up [0-9]+ ms, [1-9][0-9]*\.[0-9] s, relay 127\.0\.0\.1:[0-9]+, packets from 16 [1-9][0-9]+, from 14 [1-9][0-9]+$" \
    "$WORK/proxyd-11.log"
calls_stop
finish
