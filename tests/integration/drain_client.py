#!/usr/bin/env python3
"""REGISTER traffic through proxyd with a SIGTERM in the middle, for
test_drain.sh (loopback only).

  drain_client.py PROXY_PORT PROXYD_PID COUNT KILL_AT
        sends COUNT REGISTERs (AORs d0..), one every 10 ms from one socket,
        sends SIGTERM to PROXYD_PID right after REGISTER number KILL_AT,
        then waits 3 s for the last answers. Prints one line per REGISTER:
        "AOR before|after STATUS|none" (before: sent at least 50 ms before
        the signal)."""
import os
import select
import signal
import socket
import sys
import time

HOST = "127.0.0.1"


def register(src, i):
    aor = "d%d" % i
    return aor, ("REGISTER sip:%s SIP/2.0\r\n"
                 "Via: SIP/2.0/UDP %s:%d;branch=z9hG4bK-drain-%d;rport\r\n"
                 "Max-Forwards: 70\r\n"
                 "From: <sip:%s@example.com>;tag=f%d\r\n"
                 "To: <sip:%s@example.com>\r\n"
                 "Call-ID: drain-%d@metrics\r\n"
                 "CSeq: 1 REGISTER\r\n"
                 "Contact: <sip:%s@198.51.100.7:%d>\r\n"
                 "Expires: 600\r\nContent-Length: 0\r\n\r\n") % (
        HOST, HOST, src, i, aor, i, aor, i, aor, 40000 + i)


def collect(s, status, until):
    while True:
        left = until - time.monotonic()
        if left <= 0 or not select.select([s], [], [], left)[0]:
            return
        data = s.recv(65536).decode("utf-8", "replace")
        lines = data.split("\r\n")
        code = int(lines[0].split(" ")[1])
        call = [l for l in lines if l.lower().startswith("call-id:")][0].split(":", 1)[1].strip()
        i = int(call.split("@")[0].split("-")[1])
        if code >= 200 and i not in status:
            status[i] = code


def main():
    port, pid, count, kill_at = (int(a) for a in sys.argv[1:5])
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((HOST, 0))
    src = s.getsockname()[1]
    status, sent_at, killed_at = {}, {}, None
    for i in range(count):
        aor, msg = register(src, i)
        sent_at[i] = time.monotonic()
        try:
            s.sendto(msg.encode(), (HOST, port))
        except ConnectionRefusedError:
            pass  # proxyd is gone: the rest go unanswered
        if i == kill_at:
            killed_at = time.monotonic()
            os.kill(pid, signal.SIGTERM)
        try:
            collect(s, status, time.monotonic() + 0.01)
        except ConnectionRefusedError:
            pass
    try:
        collect(s, status, time.monotonic() + 3)
    except ConnectionRefusedError:
        pass
    for i in range(count):
        when = "before" if sent_at[i] <= killed_at - 0.05 else "after"
        print("d%d %s %s" % (i, when, status.get(i, "none")))


if __name__ == "__main__":
    main()
