# Shared by the call tests (issue #6; sourced after lib.sh): the patent's
# figure 1 on loopback — two proxyd (P11, P13), redirectd and relayd — with
# SIPp phones registered through their proxy, rtp_peer for their media, a
# dumpcap capture of everything, and calls_check.py to hold every captured
# message against what the patent says it carries.
#
# A "NATed" phone writes 192.168.1.10:5060 in Via and Contact and
# 192.168.1.10 in SDP c= while it sends from 127.0.0.1:PORT, so its proxy
# sees source != Via (fig. 4a step 142); a "public" phone writes its real
# 127.0.0.1:PORT, and its media address is 127.0.0.2 (its SDP c=; rtp_peer
# binds there): relayd's media address is 127.0.0.1, and a proxy takes an
# SDP whose c= is a relay's address for one that already has a relay
# (design.md decision 4), so a public phone on the relay's own address would
# never be relayed. 16 (at P11) and 18 (at P13) are NATed, 14 (at P13)
# public.
#
# Both proxies authenticate (issue #14) as a provider's would: every phone
# registers and calls with its password (SIPp's [authentication]; MD5, the
# one algorithm SIPp 3.6 computes), and each proxy lists the other in
# `peers`, so the forwarded INVITE of figures 2a-2c is not challenged.

SCEN="$SRC_DIR/tests/integration/scenarios"
RTP_PEER="$BUILD_DIR/tests/rtp_peer"
CALLS_CHECK="$SRC_DIR/tests/integration/calls_check.py"
RELAYD_CLIENT="$SRC_DIR/tests/integration/relayd_client.py"
NAT_HOST=192.168.1.10
NAT_VIA=$NAT_HOST:5060
PUB_MEDIA=127.0.0.2
RTP_COUNT=${RTP_COUNT:-100}    # packets each phone sends
RTP_INTERVAL=${RTP_INTERVAL:-10} # ms between them
CALL_MS=${CALL_MS:-2500}       # the caller's hold time after the ACK
REALM=pinhole.test

# phone_password ID: the password of phone ID in the users file.
phone_password() { echo "pw-$1-secret"; }

# calls_users FILE: the subscribers 14, 16 and 18, written by pinholectl
# as an operator would.
calls_users() {
    local id
    : >"$1"
    for id in 14 16 18; do
        phone_password "$id" | "$BUILD_DIR/pinholectl" user add "$id" --realm "$REALM" --file "$1" \
            >/dev/null || fail "pinholectl user add $id"
    done
}

# calls_ports VAR...: sets each VAR to a distinct free even UDP port.
calls_ports() {
    local ports i=0 v
    read -r -a ports < <(python3 - "$#" <<'PY'
import random, socket, sys
want, out = int(sys.argv[1]), []
while len(out) < want:
    # below the ephemeral range (32768-) and above the relay ranges other
    # tests give relayd (20000-29999): a port picked here is rarely taken
    # by someone else before the test binds it
    p = random.randrange(30000, 32766, 2)
    if p in out:
        continue
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.bind(("127.0.0.1", p)); out.append(p)
    except OSError:
        pass
    s.close()
print(" ".join(map(str, out)))
PY
)
    for v in "$@"; do printf -v "$v" '%s' "${ports[$i]}"; i=$((i + 1)); done
}

# calls_net RELAY_MIN RELAY_MAX [deadfirst]: configs and daemons. P11's
# relays list is [relayd], or [DEAD, relayd] with "deadfirst" (a relay that
# never answers comes first). MON is a port the test uses to ask relayd how
# many sessions it holds.
calls_net() {
    RELAY_MIN=$1 RELAY_MAX=$2
    # one draw for every port, the test's own too (CALLS_EXTRA_PORTS: names
    # of more variables), so no two of them are the same
    # shellcheck disable=SC2086
    calls_ports P11 P13 R Y MON DEAD PH14 PH16 PH18 RTP14 RTP16 RTP18 ${CALLS_EXTRA_PORTS:-}
    cat >"$WORK/redirectd.conf" <<CONF
store = "sqlite:$WORK/redirectd.db";
listen = "127.0.0.1:$R";
proxies = [ "127.0.0.1:$P11", "127.0.0.1:$P13" ];
log_level = "debug";
CONF
    cat >"$WORK/relayd.conf" <<CONF
listen = "127.0.0.1:$Y";
media_address = "127.0.0.1";
port_min = $RELAY_MIN; port_max = $RELAY_MAX;
proxies = [ "127.0.0.1:$P11", "127.0.0.1:$P13", "127.0.0.1:$MON" ];
session_timeout = ${CALLS_SESSION_TIMEOUT:-30};
log_level = "debug";
CONF
    local n port relays peer
    calls_users "$WORK/users"
    for n in 11 13; do
        port=$P11 relays="\"127.0.0.1:$Y\"" peer=$P13
        [ "$n" = 13 ] && port=$P13 peer=$P11
        [ "$n" = 11 ] && [ "${3:-}" = deadfirst ] && relays="\"127.0.0.1:$DEAD\", $relays"
        cat >"$WORK/proxyd-$n.conf" <<CONF
listen = "127.0.0.1:$port";
redirect = "127.0.0.1:$R";
relays = [ $relays ];
nat = { keepalive_interval = 0; max_expires = 300; };
auth = {
  realm = "$REALM";
  users = "$WORK/users";
  algorithms = "MD5";
};
peers = [ "127.0.0.1:$peer" ];
log_level = "debug";
${CALLS_PROXYD_EXTRA:-}
CONF
    done
    start_daemon redirectd "$WORK/redirectd.conf"; RD_PID=$LAST_PID
    start_daemon relayd "$WORK/relayd.conf"; RY_PID=$LAST_PID
    start_daemon proxyd-11 "$WORK/proxyd-11.conf"; P11_PID=$LAST_PID
    start_daemon proxyd-13 "$WORK/proxyd-13.conf"; P13_PID=$LAST_PID
}

# The names calls_check.py knows the ports by.
net_args() {
    echo "p11=$P11 p13=$P13 r=$R y=$Y dead=$DEAD ph14=$PH14 ph16=$PH16 ph18=$PH18" \
        "rtp14=$RTP14 rtp16=$RTP16 rtp18=$RTP18 relay=$RELAY_MIN-$RELAY_MAX" \
        ${PH14B:+"ph14b=$PH14B rtp14b=$RTP14B"}
}

# capture_start: dumpcap on lo for every port of the test, RTP included.
# Without a capture the tests cannot check what they are for: skip (77)
# when dumpcap is missing or may not capture (not root, no CAP_NET_RAW).
capture_start() {
    if ! command -v dumpcap >/dev/null; then
        log "SKIP: dumpcap (wireshark's capture tool) is not installed"; exit 77
    fi
    local f="udp and (portrange $RELAY_MIN-$RELAY_MAX"
    for p in $P11 $P13 $R $Y $DEAD $PH14 $PH16 $PH18 $RTP14 $RTP16 $RTP18 ${PH14B:-} ${RTP14B:-}; do
        f+=" or port $p"
    done
    dumpcap -q -P -i lo -f "$f)" -w "$WORK/calls.pcap" >"$WORK/dumpcap.log" 2>&1 &
    CAP_PID=$!
    PIDS+=("$CAP_PID")
    local i
    for ((i = 0; i < 100; i++)); do
        grep -q "Capturing on" "$WORK/dumpcap.log" 2>/dev/null && return 0
        sleep 0.05
    done
    if grep -qiE "permission|not permitted" "$WORK/dumpcap.log"; then
        log "SKIP: dumpcap may not capture on lo: $(head -1 "$WORK/dumpcap.log")"; exit 77
    fi
    fail "dumpcap did not start"; cat "$WORK/dumpcap.log"
}

capture_stop() {
    sleep 0.3 # the last datagrams
    kill -INT "$CAP_PID" 2>/dev/null || true
    wait "$CAP_PID" 2>/dev/null || true
    if [ -n "${CALLS_PCAP_DIR:-}" ]; then
        cp "$WORK/calls.pcap" "$CALLS_PCAP_DIR/$TEST_NAME.pcap"
        net_args >"$CALLS_PCAP_DIR/$TEST_NAME.ports"
    fi
}

# pcap_check FLOW [more calls_check.py args]: one pass/fail per check.
pcap_check() {
    local flow=$1 line out rc=0
    shift
    # shellcheck disable=SC2046
    out=$(python3 "$CALLS_CHECK" "$flow" "$WORK/calls.pcap" $(net_args) "$@" 2>&1) || rc=$?
    while IFS= read -r line; do
        case "$line" in
        "ok "*) pass "$flow: ${line#ok }" ;;
        "FAIL "*) fail "$flow: ${line#FAIL }" ;;
        *) log "$line" ;;
        esac
    done <<<"$out"
    if [ "$rc" -ne 0 ] && ! grep -q '^FAIL ' <<<"$out"; then fail "$flow: checker exited $rc"; fi
}

# phone_addr nat|pub PORT: what the phone writes in Via/Contact.
phone_addr() { if [ "$1" = nat ]; then echo "$NAT_VIA"; else echo "127.0.0.1:$2"; fi; }
phone_media() { if [ "$1" = nat ]; then echo "$NAT_HOST"; else echo "$PUB_MEDIA"; fi; }
# media_bind nat|pub: where the phone's media really leaves from.
media_bind() { if [ "$1" = nat ]; then echo 127.0.0.1; else echo "$PUB_MEDIA"; fi; }

# received_status NAME: the status of the first final response in SIPp's
# message log of NAME that is not the proxy's challenge (401, 407) ("none").
received_status() {
    local s
    s=$(awk '/^-{20,}/{r=0} /message received/{r=1; next}
             r && /^SIP\/2.0 [2-6][0-9][0-9]/ && $2 != 401 && $2 != 407 {print $2; exit}' \
        "$WORK/$1.msg" 2>/dev/null)
    echo "${s:-none}"
}

# register NAME PROXY_PORT PHONE_PORT AOR nat|pub: REGISTER through the
# phone's proxy (fig. 3a), from the port the phone then uses for its calls:
# challenged (401), then with the phone's password.
register() {
    local name=$1 proxy=$2 port=$3 aor=$4 a
    a=$(phone_addr "$5" "$port")
    sipp_run "$name" "127.0.0.1:$proxy" -sf "$SCEN/proxyd_auth_register.xml" -i 127.0.0.1 \
        -p "$port" -m 1 -key aor "$aor" -key via "$a" -key contact "$a" -key expires 300 \
        -au "$aor" -ap "$(phone_password "$aor")" -trace_msg -message_file "$WORK/$name.msg" -timeout 10 -timeout_error || true
    local got
    got=$(received_status "$name")
    check "$aor's first REGISTER challenged (401)" grep -q "^SIP/2.0 401" "$WORK/$name.msg"
    if [ "$got" = 200 ]; then pass "$aor registered at 127.0.0.1:$proxy ($5)"; else
        fail "$aor registration at 127.0.0.1:$proxy: got $got"; fi
}

# sipp_phone_args NAME PORT AOR nat|pub RTP: the keys of call_*.xml.
sipp_phone_args() {
    local name=$1 port=$2 aor=$3 mode=$4 rtp=$5
    echo -i 127.0.0.1 -p "$port" -m 1 -key me "$aor" -key maxfwd "${MAXFWD:-70}" \
        -au "$aor" -ap "$(phone_password "$aor")" \
        -key via "$(phone_addr "$mode" "$port")" \
        -key contact "$(phone_addr "$mode" "$port")" -key media "$(phone_media "$mode")" \
        -key rtp "$rtp" -trace_msg -message_file "$WORK/$name.msg" -trace_logs \
        -log_file "$WORK/$name.log" -trace_err -error_file "$WORK/$name.err" -nostdin
}

# peer_cmd NAME nat|pub RTP: rtp_peer's command line, minus -r (the relay
# address:port the phone learns from the SDP it receives).
peer_cmd() {
    echo "$RTP_PEER -l $(media_bind "$2"):$3 -n $RTP_COUNT -i $RTP_INTERVAL -p 3000 -w 1000" \
        "-o $WORK/$1.rtp"
}

# uas_start NAME SCENARIO PORT AOR nat|pub RTP [sipp args]: the called
# phone, in the background; uas_wait NAME collects its exit status.
declare -A UAS_PID
uas_start() {
    local name=$1 scen=$2 port=$3 aor=$4 mode=$5 rtp=$6 i
    shift 6
    # shellcheck disable=SC2046
    (cd "$WORK" && exec sipp -sf "$SCEN/$scen" $(sipp_phone_args "$name" "$port" "$aor" "$mode" "$rtp") \
        -key peer "$(peer_cmd "$name" "$mode" "$rtp")" -timeout 45 -timeout_error "$@" \
        >"$WORK/$name.out" 2>&1) &
    UAS_PID[$name]=$!
    PIDS+=("$!")
    for ((i = 0; i < 100; i++)); do
        [ -n "$(ss -Huln "sport = :$port")" ] && return 0
        sleep 0.05
    done
    fail "$name: SIPp did not bind 127.0.0.1:$port"
}

uas_wait() { # NAME [SECONDS]: the called phone ends within SECONDS (5)
    local name=$1 secs=${2:-5} pid=${UAS_PID[$1]} rc=0 i
    for ((i = 0; i < secs * 20; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    if kill -0 "$pid" 2>/dev/null; then
        kill -KILL "$pid" 2>/dev/null || true
        fail "$name: SIPp still waiting ${secs} s after the caller ended"
        wait "$pid" 2>/dev/null || true
        return
    fi
    wait "$pid" || rc=$?
    if [ "$rc" -eq 0 ]; then pass "$name: SIPp scenario completed"; else
        fail "$name: SIPp exited $rc"; sipp_diag "$name"; fi
}

# uac_run NAME SCENARIO PROXY_PORT PORT CALLEE AOR nat|pub RTP [sipp args]:
# the calling phone, in the foreground; passes when SIPp's call succeeded.
uac_run() {
    local name=$1 scen=$2 proxy=$3 port=$4 callee=$5 aor=$6 mode=$7 rtp=$8 rc=0
    shift 8
    # shellcheck disable=SC2046
    (cd "$WORK" && timeout 60 sipp "127.0.0.1:$proxy" -sf "$SCEN/$scen" -s "$callee" \
        $(sipp_phone_args "$name" "$port" "$aor" "$mode" "$rtp") \
        -key peer "$(peer_cmd "$name" "$mode" "$rtp")" \
        -d "$CALL_MS" -timeout 45 -timeout_error "$@" >"$WORK/$name.out" 2>&1) || rc=$?
    if [ "$rc" -eq 0 ]; then pass "$name: SIPp scenario completed"; else
        fail "$name: SIPp exited $rc"; sipp_diag "$name"; fi
}

# expect_final NAME CODE: the first final response phone NAME received.
expect_final() {
    local got
    got=$(received_status "$1")
    if [ "$got" = "$2" ]; then pass "$1 got $2"; else fail "$1 got $got, want $2"; fi
}

sipp_diag() {
    tail -5 "$WORK/$1.err" 2>/dev/null || true
    tail -3 "$WORK/$1.out" 2>/dev/null || true
}

# rtp_check A B: the rtp_peer reports of phones A and B (written when their
# run ends): each sent RTP_COUNT, each got >= 95% of what the other sent,
# nothing corrupt, nothing from a source other than its relay port.
rtp_check() {
    local a=$1 b=$2 i
    for ((i = 0; i < 200; i++)); do
        [ -f "$WORK/$a.rtp" ] && [ -f "$WORK/$b.rtp" ] && break
        sleep 0.05
    done
    declare -A ra rb
    local kv words=()
    read -r -a words 2>/dev/null <"$WORK/$a.rtp" || true
    for kv in "${words[@]}"; do ra[${kv%%=*}]=${kv#*=}; done
    words=()
    read -r -a words 2>/dev/null <"$WORK/$b.rtp" || true
    for kv in "${words[@]}"; do rb[${kv%%=*}]=${kv#*=}; done
    if [ -z "${ra[sent]:-}" ] || [ -z "${rb[sent]:-}" ]; then
        fail "media: rtp_peer reports of $a and $b"; return
    fi
    log "media $a: $(cat "$WORK/$a.rtp")"
    log "media $b: $(cat "$WORK/$b.rtp")"
    check "media: $a sent $RTP_COUNT RTP packets" test "${ra[sent]}" -eq "$RTP_COUNT"
    check "media: $b sent $RTP_COUNT RTP packets" test "${rb[sent]}" -eq "$RTP_COUNT"
    check "media: $a got ${ra[received]} of ${rb[sent]} through the relay (>= 95%)" \
        test $((ra[received] * 100)) -ge $((rb[sent] * 95))
    check "media: $b got ${rb[received]} of ${ra[sent]} through the relay (>= 95%)" \
        test $((rb[received] * 100)) -ge $((ra[sent] * 95))
    check "media: nothing corrupt or duplicated" \
        test $((ra[corrupt] + rb[corrupt] + ra[duplicates] + rb[duplicates])) -eq 0
    check "media: nothing from anywhere but the relay port" \
        test $((ra[foreign] + rb[foreign])) -eq 0
}

# relay_idle: relayd holds no session (every allocation was released).
relay_idle() {
    local n i
    for ((i = 0; i < 40; i++)); do
        n=$(python3 "$RELAYD_CLIENT" sessions "$Y" "$MON" 2>/dev/null || echo "?")
        [ "$n" = 0 ] && break
        sleep 0.1
    done
    check "relayd holds no session at the end (got $n)" test "$n" = 0
}

# calls_stop: every daemon exits 0 on SIGTERM with a clean sanitizer report.
calls_stop() {
    stop_daemon "$P11_PID" proxyd-11 || true
    stop_daemon "$P13_PID" proxyd-13 || true
    [ -z "$RY_PID" ] || stop_daemon "$RY_PID" relayd || true
    stop_daemon "$RD_PID" redirectd || true
}
