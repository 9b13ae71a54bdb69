#!/usr/bin/env bash
# Figure 2c with two real softphones: baresip as client 16 (behind NAT 28)
# and as client 18 (behind NAT 30), both 192.168.1.10, under both NAT
# behaviours. Each registers by itself (its own Via, Contact and Contact
# user), 18 answers automatically, 16 dials sip:18@proxy-11 and hangs up
# after CALL_S seconds. Each plays a sine tone into the call (ausine: 16 at
# 440 Hz, 18 at 1000 Hz) and records what it decodes (sndfile). Checks:
# both calls established, each phone's media comes from the relay, each
# heard the OTHER's tone for most of the call (frequency from the decoded
# recording), baresip's own RTP counters (received >= 95% of what the other
# sent, no receive errors), BYE ends both, relayd frees the session, and every
# numbered signal on the wire (e2e_check.py fig2c, with the softphone's
# Contact user and media ports).
#
# Needs root, ip netns, nftables and baresip (exit 77 = skipped otherwise:
# apt-get install baresip-core).
# Every phone here authenticates (issue #14), as in every lab test:
# lab.sh writes the users.
source "$(dirname "$0")/e2e_lib.sh"
e2e_require
command -v baresip >/dev/null || { echo "skipped: baresip is not installed"; exit 77; }
E2E_TIMEOUT=120
CALL_S=5
declare -A TONE=([16]=440 [18]=1000)

# baresip_conf ID PROXY_IP: a headless baresip for client ID in $WORK/bID.
baresip_conf() {
    local id=$1 proxy=$2 dir="$WORK/b$1"
    mkdir -p "$dir"
    cat >"$dir/config" <<CONF
poll_method		epoll
sip_listen		$PRIV:5060
sip_transports		udp
call_local_timeout	30
audio_player		aubridge,nil
audio_source		ausine,${TONE[$id]}
audio_alert		aubridge,nil
ausrc_srate		48000
ausrc_channels		2
auplay_srate		48000
auplay_channels		2
rtp_ports		${id}000-${id}099
rtcp_mux		no
rtp_stats		yes
module_path		/usr/lib/baresip/modules
module			g711.so
module			ausine.so
module			aubridge.so
module			sndfile.so
snd_path		$dir
module_tmp		account.so
module_app		menu.so
CONF
    echo "<sip:$id@$proxy>;auth_pass=$("$LAB" password "$id");regint=60;answermode=auto;audio_codecs=PCMU" \
        >"$dir/accounts"
}

# stat_of LOG COLUMN ROW: baresip's end-of-call table ("packets:", "errors:"),
# COLUMN 1 = Transmit, 2 = Receive.
stat_of() {
    awk -v row="$3" -v col="$2" '$1 == row { v = $(1 + col) } END { print v }' "$1"
}

heard() { # ID OTHER: ID's decoded recording carries OTHER's tone
    local id=$1 other=$2 wav out secs hz want=${TONE[$2]}
    wav=$(ls "$WORK/b$id"/dump-*-dec.wav 2>/dev/null | head -1)
    out=$(python3 "$TOOLS" tone "${wav:-/nonexistent}" 2>&1)
    secs=$(sed -n 's/.*seconds=\([0-9.]*\).*/\1/p' <<<"$out")
    hz=$(sed -n 's/.*hz=\([0-9]*\).*/\1/p' <<<"$out")
    check "client $id heard client $other's ${want} Hz tone: ${hz:-?} Hz for ${secs:-?} s of the ${CALL_S} s call" \
        python3 -c "import sys; s, f = float('${secs:-0}'), float('${hz:-0}')
sys.exit(0 if s >= $CALL_S * 0.8 and abs(f - $want) <= $want * 0.02 else 1)"
}

one_mode() {
    local mode=$1 i rc=0 p18
    lab_up --nat "$mode" --capture
    baresip_conf 18 "$P13"
    baresip_conf 16 "$P11"
    (cd "$WORK" && exec ip netns exec "pinhole-$$-c18" baresip -f "$WORK/b18" -t $((CALL_S + 8)) \
        </dev/null >"$WORK/b18.log" 2>&1) &
    p18=$!
    BG_PIDS+=("$p18")
    check "baresip 18 registered at proxy 13 through NAT 30" \
        wait_for 5 grep -q "18@$P13: .* 200 OK" "$WORK/b18.log"
    (cd "$WORK" && timeout $((CALL_S + 10)) ip netns exec "pinhole-$$-c16" baresip -f "$WORK/b16" \
        -t "$CALL_S" -e "/dial sip:18@$P11" </dev/null >"$WORK/b16.log" 2>&1) || rc=$?
    check "baresip 16 ran its call and quit (exit $rc)" test "$rc" -eq 0
    for ((i = 0; i < 200; i++)); do kill -0 "$p18" 2>/dev/null || break; sleep 0.05; done
    wait "$p18" 2>/dev/null
    check "baresip 16 registered at proxy 11 through NAT 28" grep -q "16@$P11: .* 200 OK" "$WORK/b16.log"
    check "16: call established" grep -q "Call established: sip:18@" "$WORK/b16.log"
    check "18: call established (auto answer)" grep -q "Call established: sip:16@" "$WORK/b18.log"
    check "16's media comes from the relay" grep -q "receiving from $Y22:" "$WORK/b16.log"
    check "18's media comes from the relay" grep -q "receiving from $Y22:" "$WORK/b18.log"
    check "the BYE ended 16's call" grep -q "terminated (duration" "$WORK/b16.log"
    check "the BYE ended 18's call" grep -q "terminated (duration" "$WORK/b18.log"
    heard 16 18
    heard 18 16
    local tx16 rx16 tx18 rx18
    tx16=$(stat_of "$WORK/b16.log" 1 packets:) rx16=$(stat_of "$WORK/b16.log" 2 packets:)
    tx18=$(stat_of "$WORK/b18.log" 1 packets:) rx18=$(stat_of "$WORK/b18.log" 2 packets:)
    log "baresip RTP counters: 16 sent ${tx16:-?} got ${rx16:-?}; 18 sent ${tx18:-?} got ${rx18:-?}"
    check "16 got ${rx16:-?} of 18's ${tx18:-?} RTP packets (>= 95%)" \
        test "$((${rx16:-0} * 100))" -ge "$((${tx18:-1} * 95))"
    check "18 got ${rx18:-?} of 16's ${tx16:-?} RTP packets (>= 95%)" \
        test "$((${rx18:-0} * 100))" -ge "$((${tx16:-1} * 95))"
    check "neither phone counted a receive error" \
        test "$(stat_of "$WORK/b16.log" 2 errors:)$(stat_of "$WORK/b18.log" 2 errors:)" = 00
    relay_idle
    "$LAB" capture-stop
    wire_check fig2c --nat "$mode" --rtp $((CALL_S * 50 * 9 / 10)) --softphone 1
    lab_down
    [ "$FAILS" -eq 0 ] && rm -rf "$WORK"
}

wait_for() { # SECONDS CMD...: until CMD succeeds
    local secs=$1 i
    shift
    for ((i = 0; i < secs * 20; i++)); do "$@" && return 0; sleep 0.05; done
    return 1
}

for mode in port-preserving symmetric; do
    TEST_NAME="test_e2e_baresip/$mode"
    one_mode "$mode"
done
TEST_NAME=test_e2e_baresip
finish
