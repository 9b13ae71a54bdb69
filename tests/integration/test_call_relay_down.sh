#!/usr/bin/env bash
# Relay failures (issue #6: "a relay that fails or times out becomes 503;
# try the next relay in relays first"). P11's relays list is [a port where
# nobody answers, relayd]; T1 is 50 ms (PINHOLE_T1_MS) so a relay times
# out after 64·T1 = 3.2 s.
#  1. NATed 16 at P11 calls 14 at P13: P11's relay invite to the first
#     relay is retransmitted, times out, and the second relay (relayd)
#     serves the call; RTP flows; the resource is released at BYE.
#  2. relayd is stopped: the next call finds no relay, 16 gets 503 and
#     nothing is forwarded.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/calls_lib.sh"

export PINHOLE_T1_MS=50
calls_net 61800 61899 deadfirst
capture_start
register reg16 "$P11" "$PH16" 16 nat
register reg14 "$P13" "$PH14" 14 pub

uas_start uas14 call_uas.xml "$PH14" 14 pub "$RTP14"
uac_run uac16 call_uac.xml "$P11" "$PH16" 14 16 nat "$RTP16"
uas_wait uas14
rtp_check uac16 uas14
relay_idle

stop_daemon "$RY_PID" relayd || true
RY_PID=
uac_run uac16b call_uac_fail.xml "$P11" "$PH16" 14 16 nat "$RTP16"
expect_final uac16b 503
capture_stop

pcap_check failover
pcap_check relaydown
calls_stop
finish
