#!/usr/bin/env bash
# relayd on 127.0.0.1, end to end (issue #4): SIPp as proxy server 11 sends
# the relay invite message (patent fig. 8a) and checks the 302's SDP
# (fig. 8b); two UDP endpoints then talk through the relay port both ways,
# on RTP and RTCP, and a third one is refused without disturbing them
# (fig. 11, design.md decision 6); a re-INVITE gets the same ports
# (decision 4); OPTIONS counts the session; BYE frees the ports (they can
# be bound again) and a second BYE gets 481; a non-proxy gets 403; a
# silent session is freed after session_timeout; relayd exits cleanly.
source "$(dirname "$0")/lib.sh"

CLIENT="python3 $SRC_DIR/tests/integration/relayd_client.py"
SCEN=$SRC_DIR/tests/integration/scenarios
# Proxies: any port on 127.0.0.1 (SIPp and the python client bind free
# ports, never a port another process may have taken meanwhile); the
# outsider sends from 127.0.0.2.
Q=127.0.0.1:0       # the python client, a listed proxy
X=127.0.0.2:0       # an address not in proxies
Y=$(free_port)      # relayd's control port
PORT_MIN=24000   # below the ephemeral range the endpoints bind in (latch self-guard)
PORT_MAX=24099
cat >"$WORK/relayd.conf" <<CONF
listen = "127.0.0.1:$Y";
media_address = "127.0.0.1";
port_min = $PORT_MIN; port_max = $PORT_MAX;
proxies = [ "127.0.0.1" ];
session_timeout = 5;
relatch_after = 5;
log_level = "info";
CONF
start_daemon relayd "$WORK/relayd.conf"
RPID=$LAST_PID

# sessions_are N: an OPTIONS from a proxy reports X-Relay-Sessions: N.
sessions_are() {
    local got
    got=$($CLIENT sessions "$Y" "$Q" 2>&1 || true)
    [ "$got" = "$1" ] || { log "X-Relay-Sessions: got '$got', want $1"; return 1; }
}

sed -e 's/@MEDIA_RE@/127\\.0\\.0\\.1/' "$SCEN/relayd_invite.xml" >"$WORK/relayd_invite.xml"

# invite_sipp NAME: the fig. 8a INVITE for Call-ID relay-it-1; prints the
# "audio=A rtcp=R video=V" line SIPp logged from the 302.
invite_sipp() {
    sipp_run "$1" "127.0.0.1:$Y" -sf "$WORK/relayd_invite.xml" -i 127.0.0.1 -m 1 \
        -cid_str relay-it-1 -trace_logs -log_file "$WORK/$1.log" || return 1
    grep -o 'audio=[0-9]* rtcp=[0-9]* video=[0-9]*' "$WORK/$1.log"
}

ports1=$(invite_sipp invite1) || { fail "SIPp INVITE → 302 with the relay SDP"; cat "$WORK"/invite1.*; }
[ -n "${ports1:-}" ] && pass "SIPp INVITE → 302 with the relay SDP ($ports1)"
read -r AUDIO RTCP VIDEO < <(sed 's/[a-z]*=//g' <<<"${ports1:-audio=0 rtcp=0 video=0}")
check "RTP port in range and even" test "$AUDIO" -ge $PORT_MIN -a "$AUDIO" -le $PORT_MAX -a $((AUDIO % 2)) -eq 0
check "a=rtcp is RTP port + 1" test "$RTCP" -eq $((AUDIO + 1))
check "video got its own port" test "$VIDEO" -ne "$AUDIO" -a "$VIDEO" -ge $PORT_MIN

check "RTP and RTCP relayed both ways, a third source refused" $CLIENT media "$AUDIO"
check "video stream relayed too" $CLIENT media "$VIDEO"

ports2=$(invite_sipp invite2) || true
check "re-INVITE with the same Call-ID gets the same ports" test "${ports2:-x}" = "${ports1:-y}"
check "OPTIONS counts one session" sessions_are 1
out=$($CLIENT request "$Y" "$Q" OPTIONS probe-1 || true)
check "OPTIONS reports free port pairs" grep -q '^X-Relay-Pairs-Free: 48$' <<<"$out"

# design.md decision 11: others get 403 and change nothing
out=$($CLIENT invite "$Y" "$X" relay-it-1 --expect 403 || true)
check "INVITE from outside proxies → 403" grep -q '^status=403 ' <<<"$out"
out=$($CLIENT request "$Y" "$X" BYE relay-it-1 || true)
check "BYE from outside proxies → 403" grep -q '^status=403$' <<<"$out"
check "the session survived the outsider" sessions_are 1

check "SIPp BYE → 200, second BYE → 481" \
    sipp_run bye "127.0.0.1:$Y" -sf "$SCEN/relayd_bye.xml" -i 127.0.0.1 -m 1 -cid_str relay-it-1
check "BYE freed the ports (bindable again)" \
    $CLIENT bindable "$AUDIO" "$RTCP" "$VIDEO" $((VIDEO + 1))
check "OPTIONS counts no session" sessions_are 0

# session_timeout (5 s): a session with some media, then silence
out=$($CLIENT invite "$Y" "$Q" quiet-1 --media audio)
check "INVITE for the silent call → 302" grep -q '^status=302 ' <<<"$out"
QPORT=$(sed -n 's/.*ports=\([0-9]*\).*/\1/p' <<<"$out")
check "media flows before the silence" $CLIENT media "$QPORT"
check "the silent session is still there at once" sessions_are 1
freed=no
for _ in $(seq 1 40); do
    sleep 0.25
    if sessions_are 0 >/dev/null; then freed=yes; break; fi
done
check "the silent session is freed after session_timeout" test $freed = yes
check "its ports can be bound again" $CLIENT bindable "$QPORT" $((QPORT + 1))
check "relayd logged the timeout" wait_log relayd "silent for session_timeout" 1

check "relayd is still running" kill -0 "$RPID"
stop_daemon "$RPID" relayd || true
finish
