#!/usr/bin/env bash
# proxyd's digest authentication (issue #14) against real redirectd, with
# SIPp's [authentication] keyword, a stdlib attacker client
# (auth_client.py) and the attacker tools of Debian's sipvicious package:
#  - a phone registers with credentials (401, then 200) and redirectd has
#    its binding; a wrong password gets a new 401; credentials of alice
#    used for bob get 403;
#  - a call with credentials: INVITE, 407, INVITE with Proxy-Authorization,
#    answered by a registered callee; BYE in the dialog goes through
#    unchallenged;
#  - a replayed Authorization (same nonce and nc, new transaction) gets
#    401; Contact: * without credentials gets 401 and alice stays
#    registered;
#  - the default challenge offers SHA-512-256, SHA-256 and MD5 in that order;
#  - svwar finds no extension (every user, known or not, gets the same
#    challenge); svcrack cracks nothing, its source IP ends up banned
#    (pinholectl bans, the metrics), and a real phone elsewhere still
#    registers afterwards.
# SIPp 3.6 computes MD5 only and reads the first challenge alone, so the
# proxyd it talks to offers MD5 (auth.algorithms); the second proxyd keeps
# the default three.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/proxyd_lib.sh"

for tool in svwar svcrack; do
    command -v "$tool" >/dev/null || { log "SKIP: $tool missing (sipvicious)"; exit 77; }
done
P=$(free_port); P2=$(free_port); P3=$(free_port); R=$(free_port); Y=$(free_port)
A=$(free_port)
S=$(free_port); S2=$(free_port)
cat >"$WORK/redirectd.conf" <<CONF
store = "sqlite:$WORK/redirectd.db";
listen = "127.0.0.1:$R";
proxies = [ "127.0.0.1" ];
CONF
write_proxyd_conf() { # listen stats algorithms [advertise]
    cat >"$WORK/proxyd-$1.conf" <<CONF
listen = "127.0.0.1:$1";
advertise = "127.0.0.1:${4:-$A}";
redirect = "127.0.0.1:$R";
relays = [ "127.0.0.1:$Y" ];
nat = { keepalive_interval = 0; };
auth = {
  realm = "pinhole.test";
  users = "$SRC_DIR/conf/users";
  secret = "a secret both proxies share";
  algorithms = "$3";
  max_failures = 5;
  ban_seconds = 60;
};
stats = "127.0.0.1:$2";
log_level = "info";
CONF
}
write_proxyd_conf "$P" "$S" "MD5"
write_proxyd_conf "$P2" "$S2" "SHA-512-256, SHA-256, MD5"
# the calls' proxy: advertises itself, so redirectd sends its calls back to it
write_proxyd_conf "$P3" "$(free_port)" "MD5" "$P3"
start_daemon redirectd "$WORK/redirectd.conf"; RPID=$LAST_PID
start_daemon proxyd "$WORK/proxyd-$P.conf"; PPID_=$LAST_PID
start_daemon proxyd-2 "$WORK/proxyd-$P2.conf"; PPID2=$LAST_PID
start_daemon proxyd-3 "$WORK/proxyd-$P3.conf"; PPID3=$LAST_PID

# auth_phone NAME PORT AOR USER PASSWORD [IP [PROXY_PORT]]: the SIPp phone
# of proxyd_auth_register.xml, on 127.0.0.1 or IP, registering at $P.
auth_phone() {
    local ip=${6:-127.0.0.1}
    sipp_run "$1" "127.0.0.1:${7:-$P}" -sf "$SCEN/proxyd_auth_register.xml" -i "$ip" -p "$2" \
        -m 1 -key aor "$3" -key via "$ip:$2" -key contact "$ip:$2" -key expires 60 -au "$4" -ap "$5" -trace_msg \
        -message_file "$WORK/$1.msg" -timeout 20 -timeout_error || true
}
# final NAME: the status of the last final response received.
final() {
    received "$1" | awk '/^SIP\/2.0 [2-6][0-9][0-9]/ {s = $2} END {print s ? s : "none"}'
}
expect_final() {
    local got; got=$(final "$1")
    if [ "$got" = "$2" ]; then pass "$3 ($2)"; else fail "$3: got $got, want $2"; fi
}

# 1. Credentials right, wrong, someone else's.
PH=$(free_port)
auth_phone alice "$PH" alice alice alice-secret
expect_status alice 401 "a REGISTER without credentials is challenged"
expect_final alice 200 "alice registers with her password"
ask ask1 alice
expect_status ask1 302 "redirectd has alice's binding"
auth_phone wrong "$(free_port)" bob bob not-bobs-password
expect_final wrong 401 "a wrong password gets a new challenge"
auth_phone other "$(free_port)" bob alice alice-secret
expect_final other 403 "alice's credentials registering bob: 403"
ask ask2 bob
expect_status ask2 404 "bob was never registered"

# 2. A call: carol (callee, SIPp's built-in UAS) registers, bob calls her.
CAROL=$(free_port)
auth_phone carol "$CAROL" carol carol carol-secret 127.0.0.1 "$P3"
expect_final carol 200 "the callee registered with her password"
(cd "$WORK" && timeout 30 sipp -sn uas -i 127.0.0.1 -p "$CAROL" -m 1 -nostdin \
    -trace_msg -message_file "$WORK/uas.msg" >"$WORK/uas.out" 2>&1) &
UAS=$!
sleep 0.3
CALLER=$(free_port)
sipp_run caller "127.0.0.1:$P3" -sf "$SCEN/call_uac.xml" -i 127.0.0.1 -p "$CALLER" -s carol \
    -key me bob -key maxfwd 70 -key via "127.0.0.1:$CALLER" -key contact "127.0.0.1:$CALLER" \
    -key media 127.0.0.1 -key rtp "$(free_port)" -key peer true -d 300 -au bob -ap bob-secret \
    -m 1 -trace_msg -message_file "$WORK/caller.msg" -timeout 20 -timeout_error || true
wait "$UAS" || true
check "the INVITE was challenged with 407" grep -q "^SIP/2.0 407" "$WORK/caller.msg"
check "the call with credentials was answered and hung up" grep -q "Successful call *| *[0-9]* *| *1 " \
    "$WORK/caller.out"
check "the callee got the INVITE without our credentials" \
    bash -c "grep -q '^INVITE sip:carol' '$WORK/uas.msg' && ! grep -qi '^Proxy-Authorization' '$WORK/uas.msg'"
check "the callee got the BYE" grep -q "^BYE " "$WORK/uas.msg"

# 3. Replay and Contact: * from a stdlib client.
got=$(python3 "$SRC_DIR/tests/integration/auth_client.py" replay "127.0.0.1:$P" carol carol-secret)
check "401, 200, then the replayed credentials get 401 (got: $got)" test "$got" = "401 200 401"
got=$(python3 "$SRC_DIR/tests/integration/auth_client.py" star "127.0.0.1:$P" alice)
check "Contact: * without credentials is challenged (got: $got)" test "$got" = "401"
ask ask3 alice
expect_status ask3 302 "alice is still registered"

# 4. The default challenge: strongest first (RFC 8760).
got=$(python3 "$SRC_DIR/tests/integration/auth_client.py" challenge "127.0.0.1:$P2" INVITE alice)
check "407 offering SHA-512-256, SHA-256, MD5 (got: $got)" test "$got" = "407 SHA-512-256 SHA-256 MD5"

# 5. sipvicious (its -b does not set the source address: everything comes
#    from 127.0.0.1, which the wrong password and the replay above have
#    already given two failures). svwar first notices that an unknown user
#    is challenged like a known one and gives up; forced, it still finds
#    nothing.
printf '%s\n' alice bob carol dave 100 101 1000 admin >"$WORK/users.txt"
for m in REGISTER INVITE; do
    (cd "$WORK" && timeout 60 svwar --force -d "$WORK/users.txt" -m $m 127.0.0.1 \
        -p "$P2" >"$WORK/svwar-$m.out" 2>&1) || true
    check "svwar -m $m finds no extension" grep -q "found nothing" "$WORK/svwar-$m.out"
    check "svwar -m $m lists no user" bash -c "! grep -Eq '\\| *(alice|bob|carol) *\\|' '$WORK/svwar-$m.out'"
done
printf '%s\n' 1234 password secret alice letmein 0000 qwerty alice123 alice-secret >"$WORK/pw.txt"
(cd "$WORK" && timeout 90 svcrack -u alice -d "$WORK/pw.txt" 127.0.0.1 -p "$P" \
    >"$WORK/svcrack.out" 2>&1) || true
check "svcrack cracks nothing" bash -c "! grep -q 'alice-secret' '$WORK/svcrack.out'"
check "proxyd banned the cracker" wait_log proxyd "127.0.0.1 banned for 60s after 5 failed" 5
"$BUILD_DIR/pinholectl" -s "127.0.0.1:$S" bans >"$WORK/bans.out" 2>&1 || true
check "pinholectl bans lists 127.0.0.1" grep -Eq '^127\.0\.0\.1 +[0-9]+ +5$' "$WORK/bans.out"
got=$(python3 "$SRC_DIR/tests/integration/auth_client.py" star "127.0.0.1:$P" alice 2>&1 || true)
check "the banned IP is not answered (got: ${got##*Error: })" bash -c "[[ '$got' == *timed\ out* ]]"
python3 - "$S" >"$WORK/metrics.out" <<'PY'
import sys, urllib.request
print(urllib.request.urlopen("http://127.0.0.1:%s/metrics" % sys.argv[1], timeout=5).read().decode())
PY
check "metrics: one ban active" grep -qx 'pinhole_proxyd_auth_bans_active 1' "$WORK/metrics.out"
check "metrics: wrong passwords counted" \
    grep -Eq '^pinhole_proxyd_auth_failures_total\{reason="wrong_password"\} [1-9]' "$WORK/metrics.out"
check "metrics: the replay counted" \
    grep -Eq '^pinhole_proxyd_auth_failures_total\{reason="replay"\} 1$' "$WORK/metrics.out"
check "metrics: the 403 counted" grep -qx 'pinhole_proxyd_auth_forbidden_total 1' "$WORK/metrics.out"
ask ask4 alice
expect_status ask4 302 "alice's registration is untouched by the attack"
auth_phone bob "$(free_port)" bob bob bob-secret 127.0.0.5
expect_final bob 200 "a real phone on another address still registers"

stop_daemon "$PPID3" proxyd-3
stop_daemon "$PPID2" proxyd-2
stop_daemon "$PPID_" proxyd
stop_daemon "$RPID" redirectd
finish
