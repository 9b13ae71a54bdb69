#!/usr/bin/env bash
# NAT keepalives (design decision 10) from a real proxyd:
#  - CRLF mode, nat.keepalive_interval = 1: after a SIPp phone registered
#    (NAT simulated: its Via names 192.168.1.10), a listener on the phone's
#    port counts the CRLF datagrams proxyd sends to it: 3±1 in 3.5 s, about
#    a second apart, all from proxyd's SIP port;
#  - OPTIONS mode: a phone that answers the first two OPTIONS and then goes
#    silent is dropped after three unanswered ones and unregistered at
#    redirectd (an INVITE for it gets 404 afterwards). PINHOLE_T1_MS=50
#    makes each OPTIONS time out after 64·T1 = 3.2 s instead of 32 s.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/proxyd_lib.sh"

P=$(free_port); P2=$(free_port); R=$(free_port); Y=$(free_port); A=$(free_port)
# Phone ports are picked right before use: other tests on this machine
# pick ports too, and a port chosen long before could be taken meanwhile.
cat >"$WORK/redirectd.conf" <<CONF
store = "sqlite:$WORK/redirectd.db";
listen = "127.0.0.1:$R";
proxies = [ "127.0.0.1" ];
CONF
cat >"$WORK/proxyd.conf" <<CONF
listen = "127.0.0.1:$P";
advertise = "127.0.0.1:$A";
redirect = "127.0.0.1:$R";
relays = [ "127.0.0.1:$Y" ];
nat = { keepalive_interval = 1; keepalive = "crlf"; max_expires = 60; };
CONF
cat >"$WORK/proxyd2.conf" <<CONF
listen = "127.0.0.1:$P2";
redirect = "127.0.0.1:$R";
relays = [ "127.0.0.1:$Y" ];
nat = { keepalive_interval = 1; keepalive = "options"; max_expires = 60; };
log_level = "debug";
CONF
start_daemon redirectd "$WORK/redirectd.conf"; RPID=$LAST_PID
start_daemon proxyd "$WORK/proxyd.conf"; PPID1=$LAST_PID
PINHOLE_T1_MS=50 start_daemon proxyd-2 "$WORK/proxyd2.conf"; PPID2=$LAST_PID

# ---- CRLF ----
PH1=$(free_port)
phone crlf1 "$PH1" erin 192.168.1.10:5060 192.168.1.10:5060 3600
expect_status crlf1 200 "NATed phone registered (CRLF mode)"
python3 - "$PH1" "$P" >"$WORK/crlf.out" <<'PY'
import socket, sys, time
port, proxy = int(sys.argv[1]), int(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", port))
end = time.monotonic() + 3.5
stamps, other = [], 0
while True:
    left = end - time.monotonic()
    if left <= 0:
        break
    s.settimeout(left)
    try:
        data, src = s.recvfrom(65536)
    except socket.timeout:
        break
    if data == b"\r\n" and src == ("127.0.0.1", proxy):
        stamps.append(time.monotonic())
    else:
        other += 1
gaps = [round(b - a, 2) for a, b in zip(stamps, stamps[1:])]
print("count", len(stamps)); print("other", other); print("gaps", *gaps)
PY
cat "$WORK/crlf.out"
n=$(awk '/^count/{print $2}' "$WORK/crlf.out")
check "3±1 CRLF keepalives from proxyd's port in 3.5 s (got $n)" test "$n" -ge 2 -a "$n" -le 4
check "nothing but CRLF keepalives reached the phone" grep -q "^other 0$" "$WORK/crlf.out"
check "keepalives about one interval apart" python3 -c '
import sys
gaps = [float(g) for g in open(sys.argv[1]).read().split("gaps")[1].split()]
sys.exit(0 if gaps and all(0.7 <= g <= 1.3 for g in gaps) else 1)' "$WORK/crlf.out"

# ---- OPTIONS ----
PH2=$(free_port)
P=$P2 phone opt1 "$PH2" dave 192.168.1.10:5060 192.168.1.10:5060 3600
expect_status opt1 200 "NATed phone registered (OPTIONS mode)"
python3 - "$PH2" "$P2" >"$WORK/options.out" 2>&1 <<'PY' &
import socket, sys, time
port, proxy = int(sys.argv[1]), int(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", port))
s.settimeout(0.5)
answered, seen = set(), set()
end = time.monotonic() + 25
while time.monotonic() < end:
    try:
        data, src = s.recvfrom(65536)
    except socket.timeout:
        continue
    text = data.decode(errors="replace")
    if not text.startswith("OPTIONS "):
        continue
    heads = text.split("\r\n\r\n")[0].split("\r\n")
    branch = [h for h in heads if h.lower().startswith("via:")][0].split("branch=")[1].split(";")[0]
    seen.add(branch)
    if branch not in answered and len(answered) >= 2:
        continue  # gone silent
    answered.add(branch)
    keep = [h for h in heads[1:] if h.split(":")[0].lower() in ("via", "from", "to", "call-id", "cseq")]
    resp = "SIP/2.0 200 OK\r\n" + "\r\n".join(keep) + "\r\nContent-Length: 0\r\n\r\n"
    s.sendto(resp.encode(), src)
    print("answered", branch, flush=True)
PY
PYPID=$!; PIDS+=("$PYPID")
check "the phone answered two OPTIONS keepalives" \
    bash -c "for i in \$(seq 60); do [ \$(grep -c ^answered '$WORK/options.out') -ge 2 ] && exit 0; sleep 0.1; done; exit 1"
# proxyd-2 advertises its own address: the asker gets a 302 naming proxyd-2.
ask optask1 dave
expect_status optask1 302 "dave registered at redirectd while answering"
check "the silent phone is dropped after three missed OPTIONS" \
    wait_log proxyd-2 "dave at 127.0.0.1:$PH2 stopped answering, dropped and unregistered" 15
sleep 0.3
ask optask2 dave
expect_status optask2 404 "proxyd unregistered the dropped phone at redirectd"
kill "$PYPID" 2>/dev/null || true

stop_daemon "$PPID2" proxyd-2 || true
stop_daemon "$PPID1" proxyd || true
stop_daemon "$RPID" redirectd || true
finish
