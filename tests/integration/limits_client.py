#!/usr/bin/env python3
"""OPTIONS traffic for test_source_limits.sh (loopback only). Every request
has its own branch and Call-ID and asks proxyd itself (its answer is 200);
each command prints what came back as "ok=N busy=N none=N bad=N
secs=S", where busy counts 503s that carry Retry-After, none the requests
never answered and bad anything else.

  limits_client.py flood PORT SRC_IP NPORTS COUNT RATE
        COUNT requests spread round robin over NPORTS source ports of
        SRC_IP at RATE per second, not retransmitted.
  limits_client.py steady PORT SRC_IP RATE SECONDS
        RATE requests per second for SECONDS from one port, as a trunk
        would send them; a request unanswered after 0.5 s is sent again
        (up to 3 times, as a SIP client retransmits over UDP); also prints
        retx=N, the retransmissions needed (requests dropped unanswered).
  limits_client.py window PORT SRC_IP NPORTS COUNT WINDOW
        COUNT requests over NPORTS ports with at most WINDOW unanswered
        at once (so the kernel's socket buffers never overflow): what a
        load that proxyd keeps up with does to its memory.
"""
import select
import socket
import sys
import time

HOST = "127.0.0.1"


def options(port, src, sport, tag, i):
    return (
        "OPTIONS sip:%s:%d SIP/2.0\r\n"
        "Via: SIP/2.0/UDP %s:%d;rport;branch=z9hG4bK%s-%d\r\n"
        "Max-Forwards: 70\r\nFrom: <sip:probe@%s>;tag=%s\r\nTo: <sip:%s:%d>\r\n"
        "Call-ID: %s-%d@%s\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
        % (HOST, port, src, sport, tag, i, src, tag, HOST, port, tag, i, src)
    ).encode()


class Tally:
    def __init__(self):
        self.answered = {}  # request index -> status
        self.bad = 0

    def take(self, data):
        """Records one answer; returns the request index it answers."""
        head, _, _ = data.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        parts = lines[0].split(b" ", 2)
        call_id = next((l.split(b":", 1)[1].strip() for l in lines
                        if l.lower().startswith(b"call-id:")), b"")
        try:
            i = int(call_id.split(b"@")[0].rsplit(b"-", 1)[1])
            code = int(parts[1])
        except (IndexError, ValueError):
            self.bad += 1
            return None
        if code == 503 and not any(l.lower().startswith(b"retry-after:") for l in lines):
            code = -503  # a 503 must say when to come back
        self.answered.setdefault(i, code)
        return i

    def report(self, count, secs, retx=None):
        codes = list(self.answered.values())
        ok, busy = codes.count(200), codes.count(503)
        bad = self.bad + len(codes) - ok - busy
        print("ok=%d busy=%d none=%d bad=%d secs=%.2f%s"
              % (ok, busy, count - len(codes), bad, secs,
                 "" if retx is None else " retx=%d" % retx))


def sockets(src, n):
    socks = []
    for _ in range(n):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        s.bind((src, 0))
        s.setblocking(False)
        socks.append(s)
    return socks


def drain(socks, tally, wait):
    got = []
    r, _, _ = select.select(socks, [], [], wait)
    for s in r:
        while True:
            try:
                data = s.recv(65535)
            except BlockingIOError:
                break
            i = tally.take(data)
            if i is not None:
                got.append(i)
    return got


def settle(socks, tally, quiet=1.0):
    """Reads answers until none has come for `quiet` seconds."""
    while drain(socks, tally, quiet):
        pass


def flood(port, src, nports, count, rate):
    socks, tally = sockets(src, nports), Tally()
    t0 = time.monotonic()
    for i in range(count):
        s = socks[i % nports]
        s.sendto(options(port, src, s.getsockname()[1], "fl", i), (HOST, port))
        lag = t0 + (i + 1) / rate - time.monotonic()
        if lag > 0 or i % 64 == 0:
            drain(socks, tally, max(lag, 0))
    secs = time.monotonic() - t0
    settle(socks, tally)
    tally.report(count, secs)


def steady(port, src, rate, seconds):
    (s,), tally = sockets(src, 1), Tally()
    me = s.getsockname()[1]
    count = int(rate * seconds)
    sent = {}  # index -> (last send time, sends)
    t0 = time.monotonic()
    i = retx = 0
    while i < count or (sent and time.monotonic() - t0 < seconds + 3):
        now = time.monotonic()
        while i < count and t0 + i / rate <= now:
            s.sendto(options(port, src, me, "st", i), (HOST, port))
            sent[i] = (now, 1)
            i += 1
        for k, (at, n) in list(sent.items()):
            if now - at >= 0.5:
                if n >= 4:
                    del sent[k]
                else:
                    s.sendto(options(port, src, me, "st", k), (HOST, port))
                    sent[k] = (now, n + 1)
                    retx += 1
        for k in drain([s], tally, 0.002):
            sent.pop(k, None)
    secs = time.monotonic() - t0
    settle([s], tally, 0.5)
    tally.report(count, secs, retx)


def window(port, src, nports, count, win):
    socks, tally = sockets(src, nports), Tally()
    t0 = time.monotonic()
    i = 0
    idle_since = time.monotonic()
    while i < count:
        while i < count and i - len(tally.answered) < win:
            s = socks[i % nports]
            s.sendto(options(port, src, s.getsockname()[1], "wn", i), (HOST, port))
            i += 1
        if drain(socks, tally, 0.05):
            idle_since = time.monotonic()
        elif time.monotonic() - idle_since > 2:
            break  # answers stopped: report what there is
    secs = time.monotonic() - t0
    settle(socks, tally)
    tally.report(count, secs)


def main():
    cmd, port, src = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    args = [int(a) for a in sys.argv[4:]]
    {"flood": flood, "steady": steady, "window": window}[cmd](port, src, *args)


if __name__ == "__main__":
    main()
