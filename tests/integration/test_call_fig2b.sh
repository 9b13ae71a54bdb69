#!/usr/bin/env bash
# Patent figure 2b on loopback: public client 14 (registered at P13) calls
# NATed client 16 (registered at P11). P13 asks redirectd (signals 2-3) and
# forwards to P11 without a relay (14 is public); P11 asks redirectd (5-6),
# finds 16 in its NAT client table and takes a relay resource (7-8, step
# 152a/153) and sends the INVITE to 16's NAT channel (9). 16's 200 (10)
# carries its private Contact and SDP: P11 rewrites the SDP to the relay
# and the Contact to 16's NAT address (11, design.md decision 7); P13
# passes it on (12). ACK and BYE reach 16 through its NAT address; RTP
# flows both ways through the relay. Checked message by message in a
# capture of lo (calls_check.py fig2b, figures 5d-5f and 6d-6e).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/calls_lib.sh"

calls_net 61100 61199
capture_start
register reg16 "$P11" "$PH16" 16 nat
register reg14 "$P13" "$PH14" 14 pub

uas_start uas16 call_uas.xml "$PH16" 16 nat "$RTP16"
uac_run uac14 call_uac.xml "$P13" "$PH14" 16 14 pub "$RTP14"
uas_wait uas16
rtp_check uac14 uas16
capture_stop

pcap_check fig2b
relay_idle
calls_stop
finish
