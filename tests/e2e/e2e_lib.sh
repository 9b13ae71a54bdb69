# shellcheck shell=bash
# Shared by the end-to-end tests and scripts/demo.sh (sourced): the lab of
# lab.sh for the lifetime of one script, SIPp phones and rtp_peer inside
# its namespaces, the wire checker, and pass/fail bookkeeping.
#
# A sourcing script calls e2e_require (exit 77 when it cannot run here),
# then lab_up ARGS; everything (lab, processes, work directory) goes away
# when the script exits, whatever the reason. A watchdog ends the script
# after E2E_TIMEOUT seconds (default 150).

E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC_DIR=${SRC_DIR:-$(cd "$E2E_DIR/../.." && pwd)}
BUILD_DIR=${BUILD_DIR:-$SRC_DIR/build}
export SRC_DIR BUILD_DIR
LAB="$E2E_DIR/lab.sh"
TOOLS="$E2E_DIR/e2e_tools.py"
CHECK="$E2E_DIR/e2e_check.py"
SCEN="$E2E_DIR/scenarios"
RTP_PEER="$BUILD_DIR/tests/rtp_peer"
TEST_NAME=${TEST_NAME:-$(basename "$0" .sh)}
RTP_COUNT=${RTP_COUNT:-100}      # RTP packets each phone sends in a call
RTP_INTERVAL=${RTP_INTERVAL:-20} # ms between them (20 ms of PCMU each)
CALL_MS=${CALL_MS:-3000}         # the caller's hold time after the ACK

# shellcheck disable=SC2034 # the node addresses, for the scripts that source this
P11=203.0.113.11 P13=203.0.113.13 R20=203.0.113.20 Y22=203.0.113.22 \
    C14=203.0.113.14 X66=203.0.113.66 NAT28=203.0.113.28 NAT30=203.0.113.30
PRIV=192.168.1.10 # clients 16 and 18, each on its own LAN
declare -A NODE_IP=([c14]=$C14 [c16]=$PRIV [c18]=$PRIV [x66]=$X66)
declare -A RTP_PORT=([c14]=14000 [c16]=16000 [c18]=18000)

FAILS=0
PASSES=0
BG_PIDS=()

log() { echo "[$TEST_NAME] $*"; }
pass() { PASSES=$((PASSES + 1)); log "ok: $*"; }
fail() { FAILS=$((FAILS + 1)); log "FAIL: $*"; }
check() { # check "description" command...
    local what=$1; shift
    if "$@"; then pass "$what"; else fail "$what"; fi
}
finish() {
    log "$PASSES passed, $FAILS failed ($SECONDS s)"
    [ "$FAILS" -eq 0 ]
}

# Exit 77 (ctest: skipped) unless this can build namespaces with NAT.
e2e_require() {
    local why="" tool probe="pinhole-probe-$$"
    if [ "$(id -u)" -ne 0 ]; then
        why="not root"
    else
        for tool in ip nft sipp python3 dumpcap; do
            command -v "$tool" >/dev/null || { why="$tool is not installed"; break; }
        done
    fi
    if [ -z "$why" ]; then
        if ip netns add "$probe" 2>/dev/null; then
            ip netns exec "$probe" nft add table ip probe 2>/dev/null || why="nftables unusable"
            ip netns del "$probe"
        else
            why="ip netns unavailable"
        fi
    fi
    if [ -z "$why" ] && [ ! -x "$RTP_PEER" ]; then why="no $RTP_PEER (build tests/tools)"; fi
    if [ -n "$why" ]; then
        echo "skipped: needs root and ip netns ($why)"
        exit 77
    fi
}

e2e_cleanup() {
    local rc=$? p
    trap - EXIT INT TERM
    for p in "${BG_PIDS[@]:-}"; do [ -n "$p" ] && kill -KILL "$p" 2>/dev/null; done
    [ -n "${WATCHDOG:-}" ] && kill "$WATCHDOG" 2>/dev/null
    "$LAB" down >/dev/null 2>&1
    if [ "$FAILS" -eq 0 ] && [ "$rc" -eq 0 ] && [ -z "${KEEP_WORK:-}" ]; then
        rm -rf "$WORK"
    else
        log "work files kept in $WORK"
    fi
    exit "$rc"
}

# lab_up [lab.sh up options]: the lab, torn down when this script exits.
lab_up() {
    WORK=$(mktemp -d "/tmp/pinhole-e2e-${TEST_NAME//\//-}.XXXXXX") || { fail "mktemp"; exit 1; }
    export LAB_DIR="$WORK/lab" LAB_OWNER=$$
    trap e2e_cleanup EXIT
    trap 'fail "interrupted (watchdog: over ${E2E_TIMEOUT:-150} s?)"; exit 1' INT TERM
    # The watchdog holds none of our descriptors and takes its sleep along.
    (
        trap 'kill $SP 2>/dev/null; exit 0' TERM
        sleep "${E2E_TIMEOUT:-150}" & SP=$!
        wait $SP
        kill -TERM $$
    ) </dev/null >/dev/null 2>&1 &
    WATCHDOG=$!
    "$LAB" gc
    if ! "$LAB" up "$@"; then
        fail "lab.sh up $*"
        exit 1
    fi
    pass "lab up ($*) in $SECONDS s"
}

# lab_down: stop every daemon (each must exit 0 with a clean sanitizer
# report) and delete the namespaces; daemon logs stay in $WORK/lab.
lab_down() {
    local out rc=0 line
    out=$("$LAB" down --keep 2>&1) || rc=$?
    while IFS= read -r line; do [ -n "$line" ] && log "$line"; done <<<"$out"
    if [ "$rc" -eq 0 ]; then
        pass "lab down: every daemon stopped cleanly, namespaces deleted"
    else
        fail "lab down"
    fi
}

node() { local n=$1; shift; ip netns exec "pinhole-$$-$n" "$@"; }

# Waits until the daemon log NAME (in $LAB_DIR) has PATTERN: wait_log NAME PATTERN SECS.
wait_log() {
    local name=$1 pat=$2 secs=$3 i
    for ((i = 0; i < secs * 20; i++)); do
        grep -Eq -- "$pat" "$LAB_DIR/$name.log" 2>/dev/null && return 0
        sleep 0.05
    done
    return 1
}

# ---- phones ----

# register NODE PROXY_IP AOR [PORT]: one REGISTER from NODE's
# 192.168.1.10:PORT (5060; or 14's public address); passes on a 200 through
# the NAT. Another PORT is a second phone of the user on the same LAN.
register() {
    local n=$1 proxy=$2 aor=$3 port=${4:-5060} rc=0 name=reg$3
    [ "$port" = 5060 ] || name=reg$aor-$port
    (cd "$WORK" && timeout 15 ip netns exec "pinhole-$$-$n" sipp "$proxy:5060" \
        -sf "$SCEN/register.xml" -i "${NODE_IP[$n]}" -p "$port" -m 1 -key aor "$aor" \
        -au "$aor" -ap "$("$LAB" password "$aor")" \
        -trace_msg -message_file "$WORK/$name.msg" -trace_logs -log_file "$WORK/$name.log" \
        -timeout 10 -timeout_error -nostdin >"$WORK/$name.out" 2>&1) || rc=$?
    if [ "$rc" -eq 0 ]; then pass "client $aor registered at $proxy from port $port (200)"; else
        fail "client $aor registration at $proxy: SIPp exited $rc"; tail -3 "$WORK/$name.out"; fi
}

peer_cmd() { # NAME: rtp_peer's command line minus -l/-r
    echo "$RTP_PEER -n $RTP_COUNT -i $RTP_INTERVAL -p 3000 -w 1500 -o $WORK/$1.rtp"
}

sipp_phone_args() { # NAME NODE AOR (PHONE_PORT: its SIP port, 5060)
    local name=$1 n=$2 aor=$3
    echo -i "${NODE_IP[$n]}" -p "${PHONE_PORT:-5060}" -m 1 -key me "$aor" -key rtp "${RTP_PORT[$n]}" \
        -au "$aor" -ap "$("$LAB" password "$aor")" \
        -trace_msg -message_file "$WORK/$name.msg" -trace_logs -log_file "$WORK/$name.log" \
        -trace_err -error_file "$WORK/$name.err" -nostdin
}

# uas_start NAME NODE AOR [SCENARIO]: the called phone, in the background,
# listening on NODE's PHONE_PORT (5060; the socket it registered from).
declare -A UAS_PID
uas_start() {
    local name=$1 n=$2 aor=$3 scen=${4:-uas.xml} i
    # shellcheck disable=SC2046
    (cd "$WORK" && exec ip netns exec "pinhole-$$-$n" sipp -sf "$SCEN/$scen" \
        $(sipp_phone_args "$name" "$n" "$aor") -key peer "$(peer_cmd "$name")" \
        -timeout 60 -timeout_error >"$WORK/$name.out" 2>&1) &
    UAS_PID[$name]=$!
    BG_PIDS+=("$!")
    for ((i = 0; i < 100; i++)); do
        [ -n "$(ip netns exec "pinhole-$$-$n" ss -Huln "sport = :${PHONE_PORT:-5060}")" ] &&
            return 0
        sleep 0.05
    done
    fail "$name: SIPp did not bind ${NODE_IP[$n]}:${PHONE_PORT:-5060} in $n"
}

# uas_wait NAME [SECONDS]: the called phone's scenario completes.
uas_wait() {
    local name=$1 secs=${2:-8} pid=${UAS_PID[$1]} rc=0 i
    for ((i = 0; i < secs * 20; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    if kill -0 "$pid" 2>/dev/null; then
        kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
        fail "$name: SIPp still running ${secs} s after the caller ended"
        return 1
    fi
    wait "$pid" || rc=$?
    if [ "$rc" -eq 0 ]; then pass "$name: SIPp scenario completed"; else
        fail "$name: SIPp exited $rc"; tail -5 "$WORK/$name.err" "$WORK/$name.out" 2>/dev/null; fi
}

# uac_run NAME NODE PROXY_IP CALLEE AOR [SCENARIO [sipp args]]: the calling
# phone, in the foreground.
uac_run() {
    local name=$1 n=$2 proxy=$3 callee=$4 aor=$5 scen=${6:-uac.xml} rc=0
    shift 6 2>/dev/null || shift $#
    # shellcheck disable=SC2046
    (cd "$WORK" && timeout 60 ip netns exec "pinhole-$$-$n" sipp "$proxy:5060" -sf "$SCEN/$scen" \
        -s "$callee" $(sipp_phone_args "$name" "$n" "$aor") -key peer "$(peer_cmd "$name")" \
        -d "$CALL_MS" -timeout 45 -timeout_error "$@" >"$WORK/$name.out" 2>&1) || rc=$?
    if [ "$rc" -eq 0 ]; then pass "$name: SIPp scenario completed"; else
        fail "$name: SIPp exited $rc"; tail -5 "$WORK/$name.err" "$WORK/$name.out" 2>/dev/null; fi
    return "$rc"
}

# rtp_check A B: rtp_peer reports of phones A and B: each sent RTP_COUNT and
# got >= 95% of the other's, nothing corrupt, nothing from a source other
# than the relay port it sends to.
rtp_check() {
    local a=$1 b=$2 i kv
    for ((i = 0; i < 100; i++)); do
        [ -f "$WORK/$a.rtp" ] && [ -f "$WORK/$b.rtp" ] && break
        sleep 0.05
    done
    declare -A ra=() rb=()
    for kv in $(cat "$WORK/$a.rtp" 2>/dev/null); do ra[${kv%%=*}]=${kv#*=}; done
    for kv in $(cat "$WORK/$b.rtp" 2>/dev/null); do rb[${kv%%=*}]=${kv#*=}; done
    if [ -z "${ra[sent]:-}" ] || [ -z "${rb[sent]:-}" ]; then
        fail "media: no rtp_peer report from $a or $b"; return
    fi
    log "media $a: $(cat "$WORK/$a.rtp")"
    log "media $b: $(cat "$WORK/$b.rtp")"
    check "media: $a and $b each sent $RTP_COUNT" test "${ra[sent]}${rb[sent]}" = "$RTP_COUNT$RTP_COUNT"
    check "media: $a got ${ra[received]} of ${rb[sent]} (>= 95%)" \
        test $((ra[received] * 100)) -ge $((rb[sent] * 95))
    check "media: $b got ${rb[received]} of ${ra[sent]} (>= 95%)" \
        test $((rb[received] * 100)) -ge $((ra[sent] * 95))
    check "media: nothing corrupt or duplicated" \
        test $((ra[corrupt] + rb[corrupt] + ra[duplicates] + rb[duplicates])) -eq 0
    check "media: nothing from anywhere but the relay port" \
        test $((ra[foreign] + rb[foreign])) -eq 0
}

# relay_sessions: relayd's X-Relay-Sessions, asked from its monitor port.
relay_sessions() {
    node y22 python3 "$TOOLS" sessions "$Y22:5060" "$Y22:5099" 2>/dev/null || echo "?"
}

# relay_metric NAME [LABEL=VALUE]: a sample of relayd's /metrics ("?" when
# it cannot be read).
relay_metric() {
    node y22 python3 "$TOOLS" metric "http://$Y22:9090/metrics" "$@" 2>/dev/null || echo "?"
}

# relay_idle: relayd holds no session (every allocation was released), by
# its OPTIONS answer and by its metrics.
relay_idle() {
    local n i m
    for ((i = 0; i < 30; i++)); do
        n=$(relay_sessions)
        [ "$n" = 0 ] && break
        sleep 0.1
    done
    check "relayd holds no session after the BYE (X-Relay-Sessions: $n)" test "$n" = 0
    m=$(relay_metric pinhole_relayd_sessions)
    check "relayd's metrics agree (pinhole_relayd_sessions $m)" test "$m" = 0
}

# wire_check FLOW [args]: e2e_check.py on the capture, one pass/fail per line.
wire_check() {
    local flow=$1 line out rc=0
    shift
    out=$(python3 "$CHECK" "$flow" "$LAB_DIR/public.pcapng" "$@" 2>&1) || rc=$?
    while IFS= read -r line; do
        case "$line" in
        "ok "*) pass "$flow: ${line#ok }" ;;
        "FAIL "*) fail "$flow: ${line#FAIL }" ;;
        *) log "$line" ;;
        esac
    done <<<"$out"
    if [ "$rc" -ne 0 ] && ! grep -q '^FAIL ' <<<"$out"; then fail "$flow: checker exited $rc"; fi
}
