#!/usr/bin/env bash
# No open relay (issue #15, design.md "No open relay"): the attacks found
# against the release build, replayed from 127.0.0.1 against a real proxyd
# whose redirect server and relay are sockets this test owns (so it sees
# every datagram proxyd sends them), next to a third address the attacker
# wants proxyd to hit:
#  - OPTIONS with a To tag, no Route, Request-URI = the third address (the
#    reflection that sent 11 datagrams, 15x the bytes, over 32 s): 481;
#  - BYE whose Route names us and then the third address: 403 (our address
#    without the mark our Record-Route carries is anybody's to write; with
#    a made-up mark, 403 too);
#  - BYE whose Route, after ours, names relayd's and then redirectd's
#    control address, and one whose Request-URI names relayd's: 403;
#  - ACK of no dialog towards the third address: dropped.
# Nothing reaches the third address or the control addresses, and the
# refusals are counted (pinhole_proxyd_dialog_refused_total).
source "$(dirname "$0")/lib.sh"

P=$(free_port); S=$(free_port); THIRD=$(free_port); REDIR=$(free_port); RELAY=$(free_port)
cat >"$WORK/proxyd.conf" <<CONF
listen = "127.0.0.1:$P";
redirect = "127.0.0.1:$REDIR";
relays = [ "127.0.0.1:$RELAY" ];
nat = { keepalive_interval = 0; };
stats = "127.0.0.1:$S";
log_level = "info";
CONF
start_daemon proxyd "$WORK/proxyd.conf"; PPID_=$LAST_PID

out=$(python3 - "$P" "$THIRD" "$REDIR" "$RELAY" <<'PY'
import socket, sys, time
p, third, redir, relay = (int(x) for x in sys.argv[1:])
watch = {}
for name, port in (("third", third), ("redirect", redir), ("relay", relay)):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", port)); s.setblocking(False)
    watch[name] = s
me = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
me.bind(("127.0.0.1", 0)); me.settimeout(2)
port = me.getsockname()[1]

def req(method, ruri, routes, branch):
    rt = "".join("Route: <sip:127.0.0.1:%s;lr>\r\n" % r for r in routes)
    return ("%s sip:victim@127.0.0.1:%d SIP/2.0\r\n"
            "Via: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK%s;rport\r\n%s"
            "Max-Forwards: 70\r\nFrom: <sip:x@evil>;tag=a\r\nTo: <sip:victim@evil>;tag=b\r\n"
            "Call-ID: relay-%s@evil\r\nCSeq: 1 %s\r\nContent-Length: 0\r\n\r\n"
            % (method, ruri, port, branch, rt, branch, method)).encode()

attacks = [
    ("OPTIONS to the third address, no Route", "481", req("OPTIONS", third, [], "o1")),
    ("BYE routed on to the third address", "403", req("BYE", third, [p, third], "b1")),
    ("BYE with a made-up mark", "403", req("BYE", third, ["%d;ph=0123456789abcdef" % p, third], "b5")),
    ("BYE routed on to relayd's control port", "403", req("BYE", third, [p, relay], "b2")),
    ("BYE routed on to redirectd", "403", req("BYE", third, [p, redir], "b3")),
    ("BYE whose Request-URI is relayd's control port", "403", req("BYE", relay, [p], "b4")),
]
for what, want, data in attacks:
    me.sendto(data, ("127.0.0.1", p))
    try:
        got = me.recv(65535).split(b" ", 2)[1].decode()
    except socket.timeout:
        got = "none"
    print("%s %s: got %s, want %s" % ("ok" if got == want else "FAIL", what, got, want))
me.sendto(req("ACK", third, [], "a1"), ("127.0.0.1", p))
time.sleep(2.5) # past T1 x 4: any retransmission towards them would show
for name, s in watch.items():
    n = 0
    try:
        while True:
            s.recv(65535); n += 1
    except BlockingIOError:
        pass
    print("%s nothing reached the %s address (%d datagrams)" % ("ok" if n == 0 else "FAIL", name, n))
PY
)
while IFS= read -r line; do
    case "$line" in
    "ok "*) pass "${line#ok }" ;;
    *) fail "${line#FAIL }" ;;
    esac
done <<<"$out"

n=$(python3 "$SRC_DIR/tests/integration/metrics_client.py" scrape "$S" metrics | awk '$1 == "pinhole_proxyd_dialog_refused_total" {print $2}')
check "the seven refusals are counted (pinhole_proxyd_dialog_refused_total = ${n:-none})" test "${n:-0}" = 7
check "proxyd logged why" grep -q "refused (403): not a dialog this proxy routes" "$WORK/proxyd.log"
stop_daemon "$PPID_" proxyd
finish
