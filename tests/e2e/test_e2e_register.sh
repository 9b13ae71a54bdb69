#!/usr/bin/env bash
# Patent figure 1 in network namespaces (lab.sh), under both NAT behaviours:
# clients 14 (public), 16 (behind NAT firewall 28) and 18 (behind NAT
# firewall 30, same private address 192.168.1.10 as 16) register with their
# proxies (fig. 3a), and proxyd's keepalives reach 16 and 18 through their
# NATs. Checked on the wire (capture of network 12, e2e_check.py register):
# the REGISTER as the phone wrote it, the redirect registration 122 with the
# NAT address:port as Contact and the proxy as Path, the 200s back through
# the NAT, CRLF keepalives to the NAT bindings and none to public 14.
# The NAT behaviour itself is checked first: one private socket talking to
# two destinations keeps its port (port-preserving) or gets two different
# random ports (symmetric).
#
# Needs root, ip netns and nftables (exit 77 = skipped otherwise).
source "$(dirname "$0")/e2e_lib.sh"
e2e_require
E2E_TIMEOUT=90

# nat_probe MODE: 16's socket 192.168.1.10:5070 sends to 14 and to the
# outsider; each reports the source port it saw.
nat_probe() {
    local mode=$1 p14 p66
    node c14 python3 "$TOOLS" listen "$C14:9999" 3 --stop-after 1 >"$WORK/probe14.out" &
    local l1=$!
    node x66 python3 "$TOOLS" listen "$X66:9999" 3 --stop-after 1 >"$WORK/probe66.out" &
    local l2=$!
    sleep 0.3
    node c16 python3 "$TOOLS" send "$PRIV:5070" "$C14:9999" "$X66:9999" >/dev/null
    wait "$l1" "$l2"
    p14=$(awk '/^from/{split($2, a, ":"); print a[2]}' "$WORK/probe14.out")
    p66=$(awk '/^from/{split($2, a, ":"); print a[2]}' "$WORK/probe66.out")
    log "NAT 28 mapped 192.168.1.10:5070 to :${p14:-none} towards 14, :${p66:-none} towards x66"
    check "both datagrams came from NAT 28's public address" \
        grep -q "from $NAT28:" "$WORK/probe14.out" "$WORK/probe66.out"
    if [ "$mode" = port-preserving ]; then
        check "port-preserving: the source port is kept for both destinations" \
            test "${p14:-x}/${p66:-y}" = 5070/5070
    else
        check "symmetric: a different port per destination" \
            test -n "$p14" -a -n "$p66" -a "${p14:-x}" != "${p66:-x}"
    fi
}

keepalive_reaches() { # NODE PROXY_IP: a CRLF from PROXY arrives at 192.168.1.10:5060
    local n=$1 proxy=$2
    node "$n" python3 "$TOOLS" listen "$PRIV:5060" 4 --stop-after 1 >"$WORK/ka-$n.out"
    check "proxyd's CRLF keepalive from $proxy reached client ${n#c} through its NAT" \
        grep -q "^from $proxy:5060 2 crlf" "$WORK/ka-$n.out"
}

for mode in port-preserving symmetric; do
    TEST_NAME="test_e2e_register/$mode"
    lab_up --nat "$mode" --capture --keepalive 2
    nat_probe "$mode"
    register c16 "$P11" 16
    register c18 "$P13" 18
    register c14 "$P13" 14
    check "proxy 11 saw 16 behind NAT 28's address" \
        wait_log proxyd-11 "16 registered for [0-9]+s behind NAT $NAT28:[0-9]+" 2
    check "proxy 13 saw 18 behind NAT 30's address (same private address as 16)" \
        wait_log proxyd-13 "18 registered for [0-9]+s behind NAT $NAT30:[0-9]+" 2
    check "proxy 13 saw 14 as not NATed" wait_log proxyd-13 "14 registered .*not NATed" 2
    keepalive_reaches c16 "$P11"
    keepalive_reaches c18 "$P13"
    "$LAB" capture-stop
    wire_check register --nat "$mode"
    lab_down
    # The next lab gets a fresh work directory; this one's logs are done.
    [ "$FAILS" -eq 0 ] && rm -rf "$WORK"
done
TEST_NAME=test_e2e_register
finish
