# shellcheck shell=bash
# The three call flows of the patent's figures 2a-2c in the lab, under one
# NAT behaviour (sourced by test_e2e_calls_*.sh after e2e_lib.sh):
#
#   2a  16 (behind NAT 28, at proxy 11) calls 14 (public, at proxy 13)
#   2b  14 calls 16
#   2c  16 calls 18 (behind NAT 30, at proxy 13; same private address as 16)
#   late  16 calls 18 again with an INVITE without SDP (late offer, issue
#         #16): the relay comes from 18's 200 and 16's ACK
#   fork  18 registers a second phone (a softphone on the same LAN, port
#         5062, its own NAT mapping); 16 calls 18: proxy 13 forks to both
#         through NAT 30, the desk phone answers, the softphone is CANCELled
#         ("Call completed elsewhere"), media flows with the desk phone
#
# Each call: INVITE/100/180/200/ACK, RTP both ways through relayd and
# through each NAT for CALL_MS (each phone's rtp_peer counts what it got
# from the relay; >= 95% of what the other sent), BYE/200, then relayd
# holds no session (OPTIONS X-Relay-Sessions = 0). During call 2c an
# outsider (x66, on network 12) sends RTP to the call's relay port and
# RTCP port: it must get nothing back and the call's media must not
# suffer. During call 2a an outsider sprays every relay port from before
# the INVITE until the call is over (issue #15: first at a port, it used
# to take a channel): the same must hold. Finally every signal of the three calls is held against the
# patent in the capture of network 12 (e2e_check.py fig2a/fig2b/fig2c).

# outsider_during NAME: in the background, waits for phone NAME's "answer
# sdp RELAY:PORT" (its 200) and for media to flow through relayd (both
# phones latched), then attacks that port.
outsider_during() {
    local name=$1
    (
        local i target=""
        for ((i = 0; i < 200; i++)); do
            target=$(sed -n 's/.*answer sdp \([0-9.]*:[0-9]*\).*/\1/p' "$WORK/$name.log" 2>/dev/null)
            [ -n "$target" ] && break
            sleep 0.05
        done
        [ -n "$target" ] || { echo "no relay port seen" >"$WORK/outsider.out"; exit 0; }
        # Attack once media flows (both channels latched): relayd's relayed
        # counter moves only then.
        local base now
        base=$(relay_metric pinhole_relayd_packets_relayed_total)
        for ((i = 0; i < 60; i++)); do
            now=$(relay_metric pinhole_relayd_packets_relayed_total)
            [[ "$base$now" =~ ^[0-9]+$ ]] && [ "$now" -ge $((base + 10)) ] && break
            sleep 0.05
        done
        local before after
        before=$(relay_metric pinhole_relayd_packets_dropped_total reason=unknown_source)
        ip netns exec "pinhole-$$-x66" python3 "$TOOLS" outsider "$target" \
            "${target%:*}:$((${target##*:} + 1))" --from "$X66:40000" --count 60 --interval 20 \
            >"$WORK/outsider.out" 2>&1
        after=$(relay_metric pinhole_relayd_packets_dropped_total reason=unknown_source)
        if [[ "$before$after" =~ ^[0-9]+$ ]]; then
            echo "refused=$((after - before))" >>"$WORK/outsider.out"
        fi
        echo "target=$target" >>"$WORK/outsider.out"
    ) &
    OUTSIDER_PID=$!
    BG_PIDS+=("$!")
}

# outsider_spray: in the background, from before the call starts, the
# outsider sends RTP round robin to every port of relayd's range for ~4 s,
# so it is first at the call's ports, whichever relayd picks.
RELAY_PORT_MIN=40000 RELAY_PORT_MAX=40099 # lab.sh's relay range
outsider_spray() {
    local ports=() p
    for ((p = RELAY_PORT_MIN; p <= RELAY_PORT_MAX; p++)); do ports+=("$Y22:$p"); done
    (
        ip netns exec "pinhole-$$-x66" python3 "$TOOLS" outsider "${ports[@]}" \
            --from "$X66:40002" --count 4000 --interval 1 >"$WORK/spray.out" 2>&1
        echo "done" >>"$WORK/spray.out"
    ) &
    SPRAY_PID=$!
    BG_PIDS+=("$!")
}

# attacker_wait FILE LINE PID: up to 10 s for the attacker's LINE in FILE.
attacker_wait() {
    local i
    for ((i = 0; i < 200; i++)); do
        grep -q "^$2" "$1" 2>/dev/null && break
        sleep 0.05
    done
    wait "$3" 2>/dev/null
}

spray_check() {
    attacker_wait "$WORK/spray.out" done "$SPRAY_PID"
    log "sprayer: $(tr '\n' ' ' <"$WORK/spray.out" 2>/dev/null)"
    check "the outsider sprayed all $((RELAY_PORT_MAX - RELAY_PORT_MIN + 1)) relay ports through the call set-up" \
        grep -q "^sent=4000 " "$WORK/spray.out"
    check "the sprayer got nothing back: no channel of the call is its" \
        grep -q "^sent=4000 received=0$" "$WORK/spray.out"
}

outsider_check() {
    attacker_wait "$WORK/outsider.out" target= "$OUTSIDER_PID"
    log "outsider: $(tr '\n' ' ' <"$WORK/outsider.out" 2>/dev/null)"
    check "the outsider sent 60 datagrams to the call's relay ports during the call" \
        grep -q "^sent=60 " "$WORK/outsider.out"
    check "the outsider got nothing back (no media, no answer)" \
        grep -q "^sent=60 received=0$" "$WORK/outsider.out"
    # Its 30 datagrams to the RTP port met two latched channels: refused as
    # a third source and counted (design.md decision 6).
    local refused
    refused=$(sed -n 's/^refused=//p' "$WORK/outsider.out")
    check "relayd refused and counted the outsider's RTP datagrams ($refused >= 30)" \
        test "${refused:-0}" -ge 30
}

# one_call FIG CALLER_NODE PROXY CALLEE_NODE CALLEE [outsider|spray|late]
# (late: the INVITE carries no SDP, issue #16's late offer)
one_call() {
    local fig=$1 from=$2 proxy=$3 to=$4 callee=$5 attack=${6:-}
    local uac="$fig-${from}" uas="$fig-${to}" uac_scen=uac.xml uas_scen=uas.xml
    [ "$attack" = late ] && uac_scen=uac_late.xml uas_scen=uas_late.xml
    log "--- figure $fig: client ${from#c} calls client $callee${attack:+ ($attack)}"
    [ "$attack" = spray ] && outsider_spray
    uas_start "$uas" "$to" "$callee" "$uas_scen"
    [ "$attack" = outsider ] && outsider_during "$uac"
    uac_run "$uac" "$from" "$proxy" "$callee" "${from#c}" "$uac_scen"
    uas_wait "$uas"
    rtp_check "$uac" "$uas"
    [ "$attack" = outsider ] && outsider_check
    [ "$attack" = spray ] && spray_check
    relay_idle
}

# fork_call: the "fork" call above.
fork_call() {
    log "--- fork: client 16 calls client 18, who has two phones behind NAT 30"
    register c18 "$P13" 18 5062
    uas_start fork-c18 c18 18
    PHONE_PORT=5062 uas_start fork-c18soft c18 18 uas_cancel.xml
    uac_run fork-c16 c16 "$P11" 18 16
    uas_wait fork-c18
    uas_wait fork-c18soft
    rtp_check fork-c16 fork-c18
    check "fork: the softphone rang and was CANCELled as answered elsewhere" \
        grep -q 'Reason: SIP;cause=200;text="Call completed elsewhere"' "$WORK/fork-c18soft.msg"
    check "fork: the caller heard both phones ring (two 180s with their own tags)" \
        test "$(grep -A8 '^SIP/2.0 180' "$WORK/fork-c16.msg" | grep -o '^To:.*tag=[^; ]*' |
            sort -u | wc -l)" -ge 2
    relay_idle
}

run_calls() {
    local mode=$1
    lab_up --nat "$mode" --capture
    register c16 "$P11" 16
    register c18 "$P13" 18
    register c14 "$P13" 14
    one_call 2a c16 "$P11" c14 14 spray
    one_call 2b c14 "$P13" c16 16
    one_call 2c c16 "$P11" c18 18 outsider
    one_call late c16 "$P11" c18 18 late # both behind NAT, no SDP in the INVITE
    check "late offer: 18 got the ACK's answer pointed at the relay" \
        grep -q "answer in ack sdp $Y22:" "$WORK/late-c18.log"
    fork_call
    "$LAB" capture-stop
    local fig
    for fig in 2a 2b 2c; do wire_check "fig$fig" --nat "$mode" --rtp "$RTP_COUNT"; done
    lab_down
    finish
}
