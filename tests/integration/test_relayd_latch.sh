#!/usr/bin/env bash
# Media theft (issue #15, design.md "No open relay"): an outsider sprays
# every relay port before the phones have sent anything, and again during
# the call, and tries to take a silent phone's channel; relayd with the
# default latch_from = "signalling-ip" gives it nothing while the call's
# RTP and RTCP flow both ways, sends A's first audio to B's SDP port before
# B has sent a packet (RFC 7362 section 5), and lets B back after a NAT
# rebinding only after 4 packets in a row (probation). The same replay
# against latch_from = "any" (the patent's figure 11 as it is) shows the
# attack working: the "before" figure, measured in the same run.
source "$(dirname "$0")/lib.sh"

Y=$(free_port); YA=$(free_port); S=$(free_port)
conf() { # FILE PORT MIN MAX LATCH_FROM [extra]
    cat >"$1" <<CONF
listen = "127.0.0.1:$2";
media_address = "127.0.0.1";
port_min = $3; port_max = $4;
proxies = [ "127.0.0.1" ];
relatch_after = 1;
latch_from = "$5";
${6:-}
CONF
}
conf "$WORK/relayd.conf" "$Y" 25600 25639 signalling-ip "stats = \"127.0.0.1:$S\";"
conf "$WORK/relayd-any.conf" "$YA" 25640 25679 any
start_daemon relayd "$WORK/relayd.conf"; PY=$LAST_PID
start_daemon relayd-any "$WORK/relayd-any.conf"; PA=$LAST_PID
CLIENT="python3 $SRC_DIR/tests/integration/latch_client.py"

out=$(timeout 60 $CLIENT spray "$Y" 25600 25639 1)
any=$(timeout 60 $CLIENT spray "$YA" 25640 25679 1)
log "signalling-ip: $(tr '\n' ' ' <<<"$out")"
log "any (before):  $(tr '\n' ' ' <<<"$any")"
val() { sed -n "s/^$1=//p" <<<"$2"; }

check "the outsider got nothing, sprayed first and during the call ($(val outsider_got "$out"))" \
    test "$(val outsider_got "$out")" -eq 0
check "A's first audio reached B's SDP port before B sent anything ($(val early_to_b "$out")/20)" \
    test "$(val early_to_b "$out")" -ge 18
check "B got A's RTP ($(val b_got "$out")/20)" test "$(val b_got "$out")" -ge 18
check "A got B's RTP ($(val a_got "$out")/20)" test "$(val a_got "$out")" -ge 18
check "RTCP flows to A ($(val rtcp_a_got "$out")/10)" test "$(val rtcp_a_got "$out")" -ge 9
check "RTCP flows to B ($(val rtcp_b_got "$out")/20)" test "$(val rtcp_b_got "$out")" -ge 18
check "the media survives a spray during the call ($(val b_got_after_spray "$out")/10)" \
    test "$(val b_got_after_spray "$out")" -ge 9
check "a silent B's channel is not taken by the outsider ($(val b_got_while_silent "$out")/5)" \
    test "$(val b_got_while_silent "$out")" -ge 4
check "B's new NAT port is held for probation (3 packets)" \
    test "$(val probation_held "$out")" -eq 3
check "then B has its channel back" test "$(val a_got_after_probation "$out")" -eq 1
check "and A's audio follows B's new port ($(val b_new_got "$out")/5)" \
    test "$(val b_new_got "$out")" -ge 4
check "nothing goes to B's old port any more" test "$(val b_old_got "$out")" -eq 0

python3 "$SRC_DIR/tests/integration/metrics_client.py" scrape "$S" metrics >"$WORK/y.prom"
refused=$(awk '$1 == "pinhole_relayd_packets_dropped_total{reason=\"unknown_source\"}" {print $2}' \
    "$WORK/y.prom")
early=$(awk '$1 == "pinhole_relayd_packets_early_total" {print $2}' "$WORK/y.prom")
# on the call's two ports: 4 + 4 sprayed before, 8 during, 4 x 20 at the
# silent channel, 3 on probation (the other ports of the range are closed)
check "the refused packets are counted ($refused >= 99)" test "${refused:-0}" -ge 99
check "the early ones too ($early >= 18)" test "${early:-0}" -ge 18

# before: with latch_from = "any" the outsider's spray takes the channels
check "latch_from = any: the outsider receives the call's media ($(val outsider_got "$any"))" \
    test "$(val outsider_got "$any")" -gt 0
check "latch_from = any: the phones are shut out (B got $(val b_got "$any")/20)" \
    test "$(val b_got "$any")" -eq 0

stop_daemon "$PY" relayd
stop_daemon "$PA" relayd-any
finish
