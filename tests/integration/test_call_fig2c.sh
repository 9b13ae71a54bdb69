#!/usr/bin/env bash
# Patent figure 2c on loopback: NATed client 16 (registered at P11) calls
# NATed client 18 (registered at P13). Signals 1-8 as in figure 2a (P11
# takes the relay resource, asks redirectd, forwards to P13; P13 asks
# redirectd); P13 finds 18 in its NAT client table but the relay already in
# the SDP (step 152b) and takes none; the INVITE reaches 18 through its NAT
# channel (9, fig. 5g). 18's 200 (10, fig. 6f) gets its Contact rewritten
# to 18's NAT address by P13 (decision 7) and its SDP to the relay by P11
# (11-12). RTP flows 16 <-> relay <-> 18. Checked message by message in a
# capture of lo (calls_check.py fig2c).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/calls_lib.sh"

calls_net 61200 61299
capture_start
register reg16 "$P11" "$PH16" 16 nat
register reg18 "$P13" "$PH18" 18 nat

uas_start uas18 call_uas.xml "$PH18" 18 nat "$RTP18"
uac_run uac16 call_uac.xml "$P11" "$PH16" 18 16 nat "$RTP16"
uas_wait uas18
rtp_check uac16 uas18
capture_stop

pcap_check fig2c
relay_idle
calls_stop
finish
