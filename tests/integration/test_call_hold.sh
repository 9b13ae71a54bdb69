#!/usr/bin/env bash
# Hold and resume (design.md decision 8; figure 2a topology): after the
# call is up, 16 sends a re-INVITE with c=0.0.0.0 and a=sendonly, then one
# with its own address and a=sendrecv. Both follow the route set (Route:
# P11, P13) to 14's Contact; P11 asks relayd again for the same Call-ID and
# gets the same port; the hold attributes reach 14 unchanged (c=0.0.0.0,
# a=sendonly) with the relay port in m=; the answers reach 16 pointing at
# the same relay port; after the resume RTP flows both ways; BYE releases.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/calls_lib.sh"

calls_net 61500 61599
capture_start
register reg16 "$P11" "$PH16" 16 nat
register reg14 "$P13" "$PH14" 14 pub

uas_start uas14 call_uas_hold.xml "$PH14" 14 pub "$RTP14"
uac_run uac16 call_uac_hold.xml "$P11" "$PH16" 14 16 nat "$RTP16"
uas_wait uas14
rtp_check uac16 uas14
capture_stop

pcap_check hold
relay_idle
calls_stop
finish
