#!/usr/bin/env bash
# Registration through a real NAT (patent figure 1: client 16 behind NAT
# firewall 28, proxy server 11, redirect server 20), built from network
# namespaces:
#
#   ph-PID-lan  192.168.1.10  phone (SIPp to register, python3 to listen)
#        | veth   192.168.1.0/24
#   ph-PID-nat  192.168.1.1 / 203.0.113.28   nftables masquerade to ports 40000-40099
#        | veth   203.0.113.0/24
#   ph-PID-pub  203.0.113.1   redirectd :5070, proxyd :5060, SIPp "asker" :5062
#
# The public side has no route to 192.168.1.0/24: only the NAT connects
# them. Checks: the binding at redirectd holds the NAT's public address and
# a port from the masquerade range (read back as the 302 to an INVITE from
# the serving proxy's advertised address, 203.0.113.1:5062), and proxyd's
# CRLF keepalive reaches the phone through the NAT.
#
# Needs root and `ip netns`/nft (exit 77 = skipped otherwise). Every
# namespace (and the veths in them) and process is removed on exit, also on
# failure; the whole test is bounded to 60 s.
set -uo pipefail
if [ "$(id -u)" -ne 0 ]; then
    echo "skipped: needs root to create network namespaces"; exit 77
fi
for tool in ip nft sipp python3; do
    command -v "$tool" >/dev/null || { echo "skipped: $tool not installed"; exit 77; }
done
PROBE="ph-$$-probe"
if ! ip netns add "$PROBE" 2>/dev/null; then
    echo "skipped: ip netns unavailable here"; exit 77
fi
ip netns del "$PROBE"

source "$(dirname "$0")/../integration/lib.sh"
set +e # lib.sh turns -e on; this test checks each step itself

PUB="ph-$$-pub"; NAT="ph-$$-nat"; LAN="ph-$$-lan"
PROXY=203.0.113.1; NATIP=203.0.113.28; PHONE=192.168.1.10

e2e_cleanup() {
    [ -n "${WATCHDOG:-}" ] && kill "$WATCHDOG" 2>/dev/null
    cleanup
    for ns in "$LAN" "$NAT" "$PUB"; do ip netns del "$ns" 2>/dev/null; done
}
trap e2e_cleanup EXIT
trap 'fail "interrupted (over 60 s?)"; exit 1' TERM INT
# The watchdog keeps no descriptor of ours open and takes its sleep with it.
( trap 'kill $SP; exit 0' TERM; sleep 60 & SP=$!; wait $SP; kill -TERM $$ ) >/dev/null 2>&1 &
WATCHDOG=$!

in_ns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

build_network() {
    ip netns add "$PUB" && ip netns add "$NAT" && ip netns add "$LAN" || return 1
    ip link add "ph$$p" netns "$PUB" type veth peer name "ph$$n" netns "$NAT" || return 1
    ip link add "ph$$l" netns "$NAT" type veth peer name "ph$$c" netns "$LAN" || return 1
    in_ns "$PUB" ip addr add "$PROXY/24" dev "ph$$p"
    in_ns "$NAT" ip addr add "$NATIP/24" dev "ph$$n"
    in_ns "$NAT" ip addr add 192.168.1.1/24 dev "ph$$l"
    in_ns "$LAN" ip addr add "$PHONE/24" dev "ph$$c"
    for ns in "$PUB" "$NAT" "$LAN"; do in_ns "$ns" ip link set lo up; done
    in_ns "$PUB" ip link set "ph$$p" up
    in_ns "$NAT" ip link set "ph$$n" up
    in_ns "$NAT" ip link set "ph$$l" up
    in_ns "$LAN" ip link set "ph$$c" up
    in_ns "$LAN" ip route add default via 192.168.1.1 || return 1
    in_ns "$NAT" sysctl -qw net.ipv4.ip_forward=1 || return 1
    in_ns "$NAT" nft -f - <<NFT || return 1
table ip nat {
    chain postrouting {
        type nat hook postrouting priority 100;
        oifname "ph$$n" ip saddr 192.168.1.0/24 meta l4proto udp masquerade to :40000-40099
    }
}
NFT
}

# start_in_ns NS NAME CONF: a daemon in the foreground inside NS.
start_in_ns() {
    local ns=$1 name=$2 conf=$3
    ip netns exec "$ns" "$BUILD_DIR/${name%%-*}" -f -c "$conf" >"$WORK/$name.log" 2>&1 &
    LAST_PID=$!
    PIDS+=("$LAST_PID")
    wait_log "$name" "started" 5 || { cat "$WORK/$name.log"; return 1; }
}

build_network || { fail "could not build the namespaces"; finish; exit 1; }
pass "namespaces $PUB, $NAT, $LAN with masquerade NAT"
check "the public side cannot reach the LAN except through the NAT" \
    bash -c "! ip netns exec $PUB ip route get $PHONE >/dev/null 2>&1"

cat >"$WORK/redirectd.conf" <<CONF
store = "sqlite:$WORK/redirectd.db";
listen = "$PROXY:5070";
proxies = [ "$PROXY" ];
CONF
cat >"$WORK/proxyd.conf" <<CONF
listen = "$PROXY:5060";
advertise = "$PROXY:5062";
redirect = "$PROXY:5070";
relays = [ "$PROXY:5080" ];
nat = { keepalive_interval = 1; keepalive = "crlf"; max_expires = 60; };
log_level = "debug";
CONF
# CAPTURE_DIR=dir: also record both sides of the NAT with tshark (used for
# the capture in docs/registration.md).
if [ -n "${CAPTURE_DIR:-}" ] && command -v tshark >/dev/null; then
    ip netns exec "$LAN" tshark -q -i "ph$$c" -f udp -w "$CAPTURE_DIR/lan.pcapng" 2>/dev/null &
    PIDS+=($!); disown $!
    ip netns exec "$PUB" tshark -q -i "ph$$p" -i lo -f udp -w "$CAPTURE_DIR/pub.pcapng" 2>/dev/null &
    PIDS+=($!); disown $!
    sleep 2
fi
start_in_ns "$PUB" redirectd "$WORK/redirectd.conf" || { fail "redirectd did not start"; finish; exit 1; }
RPID=$LAST_PID
start_in_ns "$PUB" proxyd "$WORK/proxyd.conf" || { fail "proxyd did not start"; finish; exit 1; }
PPID_=$LAST_PID

SCEN="$SRC_DIR/tests/integration/scenarios"
# The phone registers from its private address; its Via and Contact say so.
(cd "$WORK" && timeout 20 ip netns exec "$LAN" sipp "$PROXY:5060" \
    -sf "$SCEN/proxyd_phone_register.xml" -i "$PHONE" -p 5060 -m 1 -key aor alice \
    -key via "$PHONE:5060" -key contact "$PHONE:5060" -key expires 3600 -trace_msg \
    -message_file "$WORK/phone.msg" -timeout 15 -timeout_error -nostdin >"$WORK/phone.out" 2>&1)
check "the phone's REGISTER through the NAT is answered 200" \
    grep -q "^SIP/2.0 200" "$WORK/phone.msg"
check "proxyd saw the NAT's address, not the phone's" \
    grep -Eq "alice registered for 60s behind NAT $NATIP:400[0-9][0-9]" "$WORK/proxyd.log"

# A keepalive from proxyd's socket comes back in through the NAT's mapping.
ip netns exec "$LAN" python3 - "$PHONE" "$PROXY" >"$WORK/keepalive.out" 2>&1 <<'PY'
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 5060))
s.settimeout(5)
try:
    while True:
        data, src = s.recvfrom(65536)
        if data == b"\r\n":
            print("crlf from %s:%d" % src)
            break
except socket.timeout:
    print("no keepalive within 5 s")
PY
cat "$WORK/keepalive.out"
check "proxyd's CRLF keepalive reached the phone through the NAT" \
    grep -q "^crlf from $PROXY:5060$" "$WORK/keepalive.out"

# The binding at redirectd, as the serving proxy asks for it.
(cd "$WORK" && timeout 15 ip netns exec "$PUB" sipp "$PROXY:5070" \
    -sf "$SCEN/proxyd_ask_redirect.xml" -i "$PROXY" -p 5062 -m 1 -key aor alice -trace_msg \
    -message_file "$WORK/ask.msg" -timeout 10 -timeout_error -nostdin >"$WORK/ask.out" 2>&1)
contact=$(awk '/message received/{r=1} r && /^Contact:/{print; exit}' "$WORK/ask.msg")
echo "redirectd: $contact"
check "redirectd's binding holds the NAT's public address and mapped port" \
    grep -Eq "sip:alice@$NATIP:400[0-9][0-9]" <<<"$contact"

[ -n "${CAPTURE_DIR:-}" ] && sleep 1.5 # one more keepalive on the capture
stop_daemon "$PPID_" proxyd
stop_daemon "$RPID" redirectd
finish
