#!/usr/bin/env bash
# Bounded cost per datagram (issue #15, design.md "bounded cost per
# datagram"): libosip2 appends each parameter by walking its list, so one
# 60 KB datagram whose To carries 15,000 ";p=1" cost ~350 ms of CPU before
# our scanner bounded parameters (64 per value), Via values (70) and header
# values (256). Ten such bombs and their cousins (URI parameters, Via list,
# Allow list) go to each daemon from a proxy address (so redirectd and
# relayd read past their trust check), and to redirectd and relayd from an
# outsider (refused on the first line, before any parse); each daemon
# spends < 150 ms of CPU on them in all (/proc/PID/stat utime + stime) and
# still answers OPTIONS.
source "$(dirname "$0")/lib.sh"

P=$(free_port); R=$(free_port); Y=$(free_port)
cat >"$WORK/redirectd.conf" <<CONF
store = "sqlite:$WORK/redirectd.db";
listen = "127.0.0.1:$R";
proxies = [ "127.0.0.1" ];
CONF
cat >"$WORK/relayd.conf" <<CONF
listen = "127.0.0.1:$Y";
media_address = "127.0.0.1";
port_min = 24000; port_max = 24099;
proxies = [ "127.0.0.1" ];
CONF
cat >"$WORK/proxyd.conf" <<CONF
listen = "127.0.0.1:$P";
redirect = "127.0.0.1:$R";
relays = [ "127.0.0.1:$Y" ];
nat = { keepalive_interval = 0; };
CONF
start_daemon redirectd "$WORK/redirectd.conf"; RPID=$LAST_PID
start_daemon relayd "$WORK/relayd.conf"; YPID=$LAST_PID
start_daemon proxyd "$WORK/proxyd.conf"; PPID_=$LAST_PID

cpu_ms() { # PID: user + system CPU so far, in ms
    awk -v hz="$(getconf CLK_TCK)" '{print int(($14 + $15) * 1000 / hz)}' "/proc/$1/stat"
}

for d in proxyd:$P:$PPID_:127.0.0.1 redirectd:$R:$RPID:127.0.0.1 relayd:$Y:$YPID:127.0.0.1 \
    redirectd-from-outside:$R:$RPID:127.0.0.2 relayd-from-outside:$Y:$YPID:127.0.0.2; do
    IFS=: read -r name port pid ip <<<"$d"
    before=$(cpu_ms "$pid")
    out=$(python3 - "$port" "$ip" <<'PY'
import socket, sys
port = int(sys.argv[1])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[2], 0)); s.settimeout(1)
me = s.getsockname()[1]
def msg(i, to="<sip:x@y>", extra="", vias=1):
    via = ",".join("SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bKbomb%d-%d" % (me, i, v) for v in range(vias))
    return ("OPTIONS sip:x@127.0.0.1:%d SIP/2.0\r\nVia: %s\r\nMax-Forwards: 70\r\n"
            "From: <sip:a@y>;tag=%d\r\nTo: %s\r\nCall-ID: bomb%d@y\r\nCSeq: 1 OPTIONS\r\n%s"
            "Content-Length: 0\r\n\r\n" % (port, via, i, to, i, extra)).encode()
bombs = [
    msg(0, "<sip:x@y>" + ";p=1" * 15000),
    msg(1, "<sip:x@y" + ";u=1" * 15000 + ">"),
    msg(2, vias=800),
    msg(3, extra="Allow: " + ",".join(["INVITE"] * 8000) + "\r\n"),
] + [msg(4 + i, "<sip:x@y>" + ";p=1" * 15000) for i in range(6)]
assert all(len(b) <= 65535 for b in bombs)
for b in bombs:
    s.sendto(b, ("127.0.0.1", port))
answered = 0
try:
    while True:
        s.recv(65535); answered += 1
except socket.timeout:
    pass
# a normal request is still served
s.sendto(msg(99), ("127.0.0.1", port))
try:
    code = s.recv(65535).split(b" ", 2)[1].decode()
except socket.timeout:
    code = "none"
print("bombs=%d answered=%d then=%s" % (len(bombs), answered, code))
PY
)
    after=$(cpu_ms "$pid")
    log "$name: $out, $((after - before)) ms of CPU"
    check "$name: the ten bombs cost $((after - before)) ms of CPU (< 150)" test $((after - before)) -lt 150
    check "$name: none of them answered (dropped as malformed)" grep -q "answered=0 " <<<"$out"
    check "$name: a normal OPTIONS is answered afterwards" bash -c "! grep -q 'then=none' <<<'$out'"
done
check "proxyd logged why" grep -q "over 64 parameters in a header value" "$WORK/proxyd.log"
stop_daemon "$PPID_" proxyd
stop_daemon "$YPID" relayd
stop_daemon "$RPID" redirectd
finish
