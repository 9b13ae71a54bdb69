#!/usr/bin/env python3
"""A small SIP control client and media endpoints for relayd's integration
tests and benchmark (loopback only).

  SRC is the proxy's source: "PORT" on 127.0.0.1 or "IP:PORT"; port 0 = any.

  relayd_client.py invite  RELAY SRC CALL_ID [--media audio,video] [--expect 302]
        sends a relay INVITE (patent fig. 8a) from SRC, checks the
        answer's status, ACKs a non-2xx final (RFC 3261 17.1.1.3) and prints
        "status=302 ports=P1,P2 conn=IP" (ports of the answer's SDP).
  relayd_client.py request RELAY SRC METHOD CALL_ID
        sends BYE/OPTIONS/... and prints "status=N" and every header line.
  relayd_client.py media   RTP_PORT
        two endpoints talk through the relay port both ways, a third one is
        refused; the same on RTP_PORT+1 (RTCP). Exit 0 when all holds.
  relayd_client.py bindable PORT...
        exit 0 when every UDP port can be bound on 127.0.0.1 (freed).
  relayd_client.py sessions RELAY SRC
        prints X-Relay-Sessions from an OPTIONS.
  relayd_client.py bulk    RELAY SRC COUNT PREFIX PORTS_FILE [--stop-on-refusal]
        creates COUNT one-stream sessions (Call-IDs PREFIX-i), with up to 64
        INVITEs in flight, and writes their RTP ports one a line; with
        --stop-on-refusal, sends no new INVITE after the first non-302.
  relayd_client.py torture RELAY FIXTURES FIRST NEXT_FILE
        the RFC 4475 messages against expect.tsv (see test_relayd_rfc4475.sh).
"""
import os
import random
import re
import select
import socket
import sys
import time

from rfc4475_expect import accepted, txn_key

HOST = "127.0.0.1"


def sdp_offer(media):
    lines = ["v=0", "o=16 2890844526 2890844526 IN IP4 192.168.1.10", "s=-",
             "c=IN IP4 192.168.1.10", "t=0 0"]
    for i, kind in enumerate(media):
        port = 0 if kind.endswith(":0") else 49170 + 2 * i
        kind = kind.split(":")[0]
        lines += ["m=%s %d RTP/AVP 0" % (kind, port), "a=rtpmap:0 PCMU/8000",
                  "a=rtcp:%d" % (port + 1 if port else 0),
                  "a=candidate:1 1 UDP 2130706431 192.168.1.10 %d typ host" % port]
    return "\r\n".join(lines) + "\r\n"


def build(method, relay, src, call_id, branch, cseq, body="", extra=""):
    head = ["%s sip:relay@%s:%d SIP/2.0" % (method, HOST, relay),
            "Via: SIP/2.0/UDP %s:%d;branch=%s;rport" % (src[0], src[1], branch),
            "Max-Forwards: 70",
            "From: <sip:proxy@%s:%d>;tag=t%s" % (src[0], src[1], branch[-8:]),
            "To: <sip:relay@%s:%d>" % (HOST, relay),
            "Call-ID: %s" % call_id,
            "CSeq: %d %s" % (cseq, method)]
    if extra:
        head.append(extra)
    if body:
        head.append("Content-Type: application/sdp")
    head.append("Content-Length: %d" % len(body.encode()))
    return ("\r\n".join(head) + "\r\n\r\n" + body).encode()


def new_branch():
    return "z9hG4bK%016x" % random.getrandbits(64)


def parse(data):
    text = data.decode("utf-8", "replace")
    head, _, body = text.partition("\r\n\r\n")
    lines = head.split("\r\n")
    m = re.match(r"SIP/2\.0 (\d{3}) ", lines[0])
    status = int(m.group(1)) if m else -1
    headers = [l for l in lines[1:] if l]
    return status, headers, body


def header(headers, name):
    for h in headers:
        k, _, v = h.partition(":")
        if k.strip().lower() == name.lower():
            return v.strip()
    return None


def sdp_ports(body):
    return [int(m.group(1)) for m in re.finditer(r"^m=\S+ (\d+) ", body, re.M)]


def sdp_conn(body):
    m = re.search(r"^c=IN IP[46] (\S+)", body, re.M)
    return m.group(1) if m else ""


def ack_for(req_branch, relay, src, call_id, cseq, headers):
    to = header(headers, "To")
    return ("ACK sip:relay@%s:%d SIP/2.0\r\nVia: SIP/2.0/UDP %s:%d;branch=%s;rport\r\n"
            "Max-Forwards: 70\r\nFrom: <sip:proxy@%s:%d>;tag=t%s\r\nTo: %s\r\nCall-ID: %s\r\n"
            "CSeq: %d ACK\r\nContent-Length: 0\r\n\r\n"
            % (HOST, relay, src[0], src[1], req_branch, src[0], src[1], req_branch[-8:], to,
               call_id, cseq)).encode()


def transact(sock, relay, data, timeout=2.0):
    """Sends (retransmitting every 0.5 s like RFC 3261 timer A) until a
    final response comes back; returns (status, headers, body)."""
    deadline = time.monotonic() + timeout
    sock.sendto(data, (HOST, relay))
    next_send = time.monotonic() + 0.5
    while time.monotonic() < deadline:
        sock.settimeout(max(0.01, min(next_send, deadline) - time.monotonic()))
        try:
            resp = sock.recv(65536)
        except socket.timeout:
            if time.monotonic() >= next_send:
                sock.sendto(data, (HOST, relay))
                next_send = time.monotonic() + 0.5
            continue
        status, headers, body = parse(resp)
        if status >= 200:
            return status, headers, body
    return None, [], ""


def control_socket(text):
    """Binds the proxy's control socket on "PORT" (127.0.0.1) or "IP:PORT";
    port 0 = any free one. Returns (socket, (ip, port))."""
    host, _, port = text.rpartition(":")
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((host or HOST, int(port)))  # no SO_REUSEADDR: a port someone else holds must fail
    return s, s.getsockname()


def cmd_invite(args):
    relay, call_id = int(args[0]), args[2]
    media, expect = ["audio", "video"], 302
    rest = args[3:]
    while rest:
        if rest[0] == "--media":
            media = rest[1].split(",")
        elif rest[0] == "--expect":
            expect = int(rest[1])
        rest = rest[2:]
    s, src = control_socket(args[1])
    branch = new_branch()
    status, headers, body = transact(s, relay, build("INVITE", relay, src, call_id, branch, 1,
                                                     sdp_offer(media)))
    if status and status >= 300:
        s.sendto(ack_for(branch, relay, src, call_id, 1, headers), (HOST, relay))
    ports = ",".join(str(p) for p in sdp_ports(body))
    print("status=%s ports=%s conn=%s retry_after=%s" % (status, ports, sdp_conn(body),
                                                         header(headers, "Retry-After")))
    if "a=candidate" in body:
        print("ICE lines left in the relay SDP")
        return 1
    return 0 if status == expect else 1


def cmd_request(args):
    relay, method, call_id = int(args[0]), args[2], args[3]
    s, src = control_socket(args[1])
    status, headers, _ = transact(s, relay, build(method, relay, src, call_id, new_branch(), 1))
    print("status=%s" % status)
    for h in headers:
        print(h)
    return 0 if status else 1


def cmd_sessions(args):
    relay = int(args[0])
    s, src = control_socket(args[1])
    status, headers, _ = transact(s, relay, build("OPTIONS", relay, src, "opt-%x" %
                                                  random.getrandbits(32), new_branch(), 1))
    print(header(headers, "X-Relay-Sessions") if status == 200 else "none")
    return 0 if status == 200 else 1


def endpoint():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((HOST, 0))
    s.setblocking(False)
    return s


def drain(sock, wait=0.2):
    got = []
    deadline = time.monotonic() + wait
    while True:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([sock], [], [], left)[0]:
            return got
        while True:
            try:
                got.append(sock.recvfrom(65536))
            except BlockingIOError:
                break


def exchange(port, label):
    """fig. 11: A and B latch as the two channels and reach each other; C,
    a third source, is refused and disturbs nothing (design.md decision 6)."""
    relay = (HOST, port)
    a, b, c = endpoint(), endpoint(), endpoint()
    problems = []
    a.sendto(b"A-latch", relay)  # A becomes channel 1 (no peer yet: dropped)
    time.sleep(0.05)
    for i in range(20):
        b.sendto(b"B%02d" % i, relay)
        a.sendto(b"A%02d" % i, relay)
    got_a = [d for d, src in drain(a) if src == relay]
    got_b = [d for d, src in drain(b) if src == relay]
    if sorted(got_a) != [b"B%02d" % i for i in range(20)]:
        problems.append("%s: A got %d of B's 20 packets" % (label, len(got_a)))
    if sorted(got_b) != [b"A%02d" % i for i in range(20)]:
        problems.append("%s: B got %d of A's 20 packets" % (label, len(got_b)))
    for i in range(10):
        c.sendto(b"C%02d" % i, relay)
    if drain(c) or drain(a, 0.1) or drain(b, 0.1):
        problems.append("%s: the third endpoint's packets went somewhere" % label)
    a.sendto(b"A-after", relay)
    b.sendto(b"B-after", relay)
    if [d for d, _ in drain(b)] != [b"A-after"] or [d for d, _ in drain(a)] != [b"B-after"]:
        problems.append("%s: A and B no longer reach each other after C" % label)
    for s in (a, b, c):
        s.close()
    return problems


def cmd_media(args):
    port = int(args[0])
    problems = exchange(port, "RTP %d" % port) + exchange(port + 1, "RTCP %d" % (port + 1))
    for p in problems:
        print(p)
    return 1 if problems else 0


def cmd_bindable(args):
    bad = []
    for p in args:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            s.bind((HOST, int(p)))
        except OSError:
            bad.append(p)
        s.close()
    if bad:
        print("still bound: %s" % " ".join(bad))
    return 1 if bad else 0


def cmd_bulk(args):
    """Creates sessions as a proxy would, many in flight, and ACKs each 302."""
    relay, count, prefix, out = int(args[0]), int(args[2]), args[3], args[4]
    stop_on_refusal = "--stop-on-refusal" in args[5:]
    s, src = control_socket(args[1])
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    pending, ports, failed, sent = {}, {}, {}, 0
    deadline = time.monotonic() + 60
    while ((sent < count and not (stop_on_refusal and failed)) or pending) \
            and time.monotonic() < deadline:
        while sent < count and len(pending) < 64 and not (stop_on_refusal and failed):
            call_id, branch = "%s-%d" % (prefix, sent), new_branch()
            data = build("INVITE", relay, src, call_id, branch, 1, sdp_offer(["audio"]))
            pending[call_id] = (branch, data, time.monotonic())
            s.sendto(data, (HOST, relay))
            sent += 1
        if not select.select([s], [], [], 0.2)[0]:
            now = time.monotonic()
            for call_id, (branch, data, t) in list(pending.items()):
                if now - t > 0.5:
                    s.sendto(data, (HOST, relay))
                    pending[call_id] = (branch, data, now)
            continue
        status, headers, body = parse(s.recv(65536))
        call_id = header(headers, "Call-ID")
        if call_id not in pending or status < 200:
            continue
        branch = pending.pop(call_id)[0]
        s.sendto(ack_for(branch, relay, src, call_id, 1, headers), (HOST, relay))
        if status == 302 and sdp_ports(body):
            ports[call_id] = sdp_ports(body)[0]
        else:
            failed[call_id] = status
    with open(out, "w") as f:
        for i in range(count):
            p = ports.get("%s-%d" % (prefix, i))
            if p:
                f.write("%d\n" % p)
    statuses = {}
    for st in failed.values():
        statuses[st] = statuses.get(st, 0) + 1
    print("asked=%d created=%d failed=%d unanswered=%d statuses=%s" % (
        sent, len(ports), len(failed), len(pending),
        ",".join("%s:%d" % kv for kv in sorted(statuses.items())) or "-"))
    return 0


# ---- RFC 4475 ----

def exchange_once(relay, data, wait=0.3):
    """Sends from a fresh socket; returns what came back within `wait`."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((HOST, 0))
    s.sendto(data, (HOST, relay))
    answers = []
    deadline = time.monotonic() + wait
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        s.settimeout(left)
        try:
            answers.append(s.recvfrom(65536)[0])
        except socket.timeout:
            break
    s.close()
    return answers


def cmd_torture(args):
    relay, fixtures, first, next_file = int(args[0]), args[1], int(args[2]), args[3]
    rows = [l.rstrip("\n").split("\t") for l in open(os.path.join(fixtures, "expect.tsv"))
            if l.strip() and not l.startswith("#")]
    assert len(rows) == 50, "expect.tsv has %d rows" % len(rows)
    failures, keys = 0, set()
    for index, (name, _section, cls, _desc, _expected, accept) in enumerate(rows):
        if index < first:
            continue
        data = open(os.path.join(fixtures, name + ".dat"), "rb").read()
        key = None if data.startswith(b"SIP/2.0") else txn_key(data)
        if key in keys:
            print("---- %s shares a transaction key with an earlier message: restart" % name)
            with open(next_file, "w") as f:
                f.write(str(index))
            return 1 if failures else 3
        if key:
            keys.add(key)
        answers = exchange_once(relay, data)
        status, problems = None, []
        if answers:
            m = re.match(rb"SIP/2\.0 (\d{3}) ", answers[0])
            status = int(m.group(1)) if m else -1
            if len(answers) > 1:
                problems.append("%d answers" % len(answers))
        if data.startswith(b"SIP/2.0") and answers:
            problems.append("a response was answered")
        if not accepted(accept, status):
            problems.append("answer %s not in %s" % (status or "none", accept))
        failures += bool(problems)
        print("%-4s %-10s %-8s got %-5s accept %-16s %s" % (
            "FAIL" if problems else "ok", name, cls, status or "none", accept,
            "; ".join(problems)))
    options = build("OPTIONS", relay, (HOST, 9), "after-4475", new_branch(), 1)
    answers = exchange_once(relay, options)
    ok = len(answers) == 1 and answers[0].startswith(b"SIP/2.0 200 ")
    print("%-4s OPTIONS after the torture messages" % ("ok" if ok else "FAIL"))
    return 1 if failures or not ok else 0


COMMANDS = {"invite": cmd_invite, "request": cmd_request, "sessions": cmd_sessions,
            "media": cmd_media, "bindable": cmd_bindable, "bulk": cmd_bulk,
            "torture": cmd_torture}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(COMMANDS[sys.argv[1]](sys.argv[2:]))
