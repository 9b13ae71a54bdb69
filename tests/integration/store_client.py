#!/usr/bin/env python3
"""Many bindings at once against redirectd, from one UDP socket on
127.0.0.1 acting as a listed proxy (test_redirectd_restart.sh).

  store_client.py register PORT SRC_PORT N FIRST [EXPIRES]
        REGISTERs IDs FIRST..FIRST+N-1, Contact sip:ID@198.51.100.28:(10000
        + ID % 50000), EXPIRES s (300), up to 500 in flight, each
        retransmitted every 500 ms until answered (2 s of silence ends it);
        prints "ok=K other=M silent=S" and exits once every one is answered.
  store_client.py unregister PORT SRC_PORT N FIRST
        the same with Expires: 0.
  store_client.py invite PORT SRC_PORT N FIRST
        INVITEs each ID and ACKs its answer; prints "moved=K right_contact=C
        not_found=F other=M silent=S" (right_contact: the 302 names the
        Contact registered above, and only it).
"""
import random
import re
import socket
import sys
import time

HOST = "127.0.0.1"


def contact_of(i):
    return "sip:%d@198.51.100.28:%d" % (i, 10000 + i % 50000)


def request(method, port, src_port, i, tag, extra):
    branch = "z9hG4bK%s%d" % (tag, i)
    ruri = "sip:%d@%s:%d" % (i, HOST, port) if method != "REGISTER" else "sip:%s:%d" % (HOST, port)
    return ("%s %s SIP/2.0\r\nVia: SIP/2.0/UDP %s:%d;branch=%s\r\nMax-Forwards: 70\r\n"
            "From: <sip:%d@example.net>;tag=f%d\r\nTo: <sip:%d@example.net>\r\n"
            "Call-ID: %s-%d@%s\r\nCSeq: 1 %s\r\n%sContent-Length: 0\r\n\r\n"
            % (method, ruri, HOST, src_port, branch, i, i, i, tag, i, HOST, method, extra))


def ack(port, src_port, i, tag, to):
    return ("ACK sip:%d@%s:%d SIP/2.0\r\nVia: SIP/2.0/UDP %s:%d;branch=z9hG4bK%s%d\r\n"
            "Max-Forwards: 70\r\nFrom: <sip:%d@example.net>;tag=f%d\r\nTo: %s\r\n"
            "Call-ID: %s-%d@%s\r\nCSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n"
            % (i, HOST, port, HOST, src_port, tag, i, i, i, to, tag, i, HOST))


def run(kind, port, src_port, n, first, expires=300):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((HOST, src_port))
    s.settimeout(0.05)
    tag = "%s%x" % (kind[:3], random.getrandbits(24))
    method = "INVITE" if kind == "invite" else "REGISTER"
    todo = list(range(first, first + n))
    pending, answers = {}, {}
    last_heard = time.time()
    while todo or pending:
        while todo and len(pending) < 500:
            i = todo.pop()
            extra = ""
            if method == "REGISTER":
                extra = "Contact: <%s>\r\nExpires: %d\r\n" % (contact_of(i),
                                                             0 if kind == "unregister" else expires)
            else:
                extra = "Contact: <sip:12@%s:%d>\r\n" % (HOST, src_port)
            text = request(method, port, src_port, i, tag, extra).encode()
            pending[i] = (text, time.time())
            s.sendto(text, (HOST, port))
        try:
            data = s.recv(65535).decode(errors="replace")
        except socket.timeout:
            data = None
        now = time.time()
        if data:
            last_heard = now
            m = re.search(r"^Call-ID: %s-(\d+)@" % tag, data, re.M)
            code = int(data.split(" ", 2)[1])
            if m and code >= 200 and int(m.group(1)) in pending:
                i = int(m.group(1))
                del pending[i]
                answers[i] = (code, data)
                if method == "INVITE":
                    to = re.search(r"^To: (.*)$", data, re.M).group(1).strip()
                    s.sendto(ack(port, src_port, i, tag, to).encode(), (HOST, port))
        for i, (text, at) in list(pending.items()):
            if now - at > 0.5:
                pending[i] = (text, now)
                s.sendto(text, (HOST, port))
        if now - last_heard > 2.0:
            break
    silent = len(pending) + len(todo)
    if method == "REGISTER":
        ok = sum(1 for c, _ in answers.values() if c == 200)
        print("ok=%d other=%d silent=%d" % (ok, len(answers) - ok, silent))
        return
    moved = right = missing = 0
    for i, (code, data) in answers.items():
        if code == 302:
            moved += 1
            contacts = [c.strip() for c in re.findall(r"^Contact: (.*)$", data, re.M)]
            if contacts == ["<%s>" % contact_of(i)]:
                right += 1
        elif code == 404:
            missing += 1
    print("moved=%d right_contact=%d not_found=%d other=%d silent=%d" % (
        moved, right, missing, len(answers) - moved - missing, silent))


def main():
    kind = sys.argv[1]
    port, src_port, n, first = (int(x) for x in sys.argv[2:6])
    expires = int(sys.argv[6]) if len(sys.argv) > 6 else 300
    run(kind, port, src_port, n, first, expires)


if __name__ == "__main__":
    main()
