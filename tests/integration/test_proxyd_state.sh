#!/usr/bin/env bash
# proxyd's NAT client table survives a crash (issue #17, `state`): two
# NATed phones (Via 192.168.1.10) register through proxyd, proxyd is
# killed with -9 and started again on the same state file; within about
# one keepalive interval (1 s here) each phone's port gets proxyd's CRLF
# keepalive again, from proxyd's SIP port, and a phone that unregistered
# before the crash gets none. The same run with state = "memory" shows the
# old behaviour: no keepalive after the restart, so home routers close
# their NAT bindings and incoming calls fail until each phone re-registers.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/proxyd_lib.sh"

SCEN="$SRC_DIR/tests/integration/scenarios"
P=$(free_port); R=$(free_port); Y=$(free_port)
cat >"$WORK/redirectd.conf" <<CONF
store = "sqlite:$WORK/redirectd.db";
listen = "127.0.0.1:$R";
proxies = [ "127.0.0.1" ];
CONF
proxyd_conf() { # STATE
    cat >"$WORK/proxyd.conf" <<CONF
listen = "127.0.0.1:$P";
redirect = "127.0.0.1:$R";
relays = [ "127.0.0.1:$Y" ];
nat = { keepalive_interval = 1; keepalive = "crlf"; max_expires = 60; };
state = "$1";
log_level = "info";
CONF
}
start_daemon redirectd "$WORK/redirectd.conf"; RPID=$LAST_PID

# listen PORT...: counts proxyd's CRLFs to each port for 2.5 s; prints "PORT N" lines
listen() {
    python3 - "$P" "$@" <<'PY'
import select, socket, sys, time
proxy, ports = int(sys.argv[1]), [int(p) for p in sys.argv[2:]]
socks = {}
for p in ports:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", p))
    socks[s] = p
got = {p: 0 for p in ports}
end = time.monotonic() + 2.5
while time.monotonic() < end:
    r, _, _ = select.select(list(socks), [], [], max(0, end - time.monotonic()))
    for s in r:
        data, src = s.recvfrom(65536)
        if data == b"\r\n" and src == ("127.0.0.1", proxy):
            got[socks[s]] += 1
for p in ports:
    print(p, got[p])
PY
}

run() { # LABEL STATE: three phones register, one unregisters, kill -9, restart, listen
    local label=$1 ph1 ph2 ph3
    proxyd_conf "$2"
    start_daemon proxyd "$WORK/proxyd.conf" || { fail "$label: proxyd did not start"; return; }
    local pid=$LAST_PID
    ph1=$(free_port); ph2=$(free_port); ph3=$(free_port)
    phone "$label-a" "$ph1" alice 192.168.1.10:5060 192.168.1.10:5060 60
    expect_status "$label-a" 200 "$label: alice registered behind NAT"
    phone "$label-b" "$ph2" bob 192.168.1.10:5060 192.168.1.10:5060 60
    expect_status "$label-b" 200 "$label: bob registered behind NAT"
    phone "$label-c" "$ph3" carol 192.168.1.10:5060 192.168.1.10:5060 60
    phone "$label-c0" "$ph3" carol 192.168.1.10:5060 192.168.1.10:5060 0
    expect_status "$label-c0" 200 "$label: carol registered and unregistered"
    sleep 0.1 # past the store's commit interval (10 ms)
    kill -KILL "$pid"; wait "$pid" 2>/dev/null || true
    start_daemon proxyd "$WORK/proxyd.conf" || { fail "$label: no restart"; return; }
    PPID_=$LAST_PID
    GOT=$(listen "$ph1" "$ph2" "$ph3" | awk '{print $2}' | tr '\n' ' ')
    log "$label: CRLF keepalives in 2.5 s after the restart (alice bob carol): $GOT"
}

run memory memory
check "memory: no keepalive after the restart (the old behaviour)" test "$GOT" = "0 0 0 "
stop_daemon "$PPID_" proxyd

run sqlite "sqlite:$WORK/proxyd.db"
read -r a b c <<<"$GOT"
check "sqlite: alice and bob get keepalives again within the interval ($a, $b in 2.5 s)" \
    test "$a" -ge 1 -a "$b" -ge 1
check "sqlite: carol, unregistered before the crash, gets none ($c)" test "$c" = 0
check "the restart said how many NAT clients it loaded" \
    grep -q "2 NAT clients loaded" "$WORK/proxyd.log"
stop_daemon "$PPID_" proxyd
stop_daemon "$RPID" redirectd
finish
