#!/usr/bin/env bash
# Max-Forwards (RFC 3261 §16.3 step 3, §16.6 step 3; issue #6): NATed 16
# at P11 calls 14 at P13 with Max-Forwards: 1. P11 decrements it to 0 and
# forwards; P13 must not forward a request with Max-Forwards 0 and answers
# 483 Too Many Hops, which reaches 16 through P11; P11 releases its relay
# resource.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/calls_lib.sh"

calls_net 61700 61799
capture_start
register reg16 "$P11" "$PH16" 16 nat
register reg14 "$P13" "$PH14" 14 pub

MAXFWD=1 uac_run uac16 call_uac_fail.xml "$P11" "$PH16" 14 16 nat "$RTP16"
expect_final uac16 483
capture_stop

pcap_check maxfwd
relay_idle
calls_stop
finish
