#!/usr/bin/env python3
"""SIP requests and HTTP scrapes for test_metrics.sh (loopback only).

  metrics_client.py register DEST_PORT SRC_PORT AOR BRANCH [CONTACT [VIA]]
        one REGISTER from 127.0.0.1:SRC_PORT (twice when BRANCH ends in
        "-twice": the second is a retransmission); prints the status code
        of the first final answer ("none" after 3 s of silence). VIA is
        the sent-by written in Via (default the real source: a "NATed"
        phone writes another).
  metrics_client.py invite DEST_PORT SRC_PORT USER BRANCH
        one INVITE for sip:USER@127.0.0.1 (no body); prints every status
        received, space separated, and ACKs a final >= 300.
  metrics_client.py garbage DEST_PORT
        one datagram that is not SIP.
  metrics_client.py scrape PORT PATH
        GET http://127.0.0.1:PORT/PATH; prints the body, exit 1 when the
        connection is refused or the status is not 200.
"""
import socket
import sys
import urllib.error
import urllib.request

HOST = "127.0.0.1"


def final_status(s, wait=3.0):
    """Reads answers until a final one; returns (codes, last message)."""
    codes, data = [], ""
    s.settimeout(wait)
    while True:
        try:
            data = s.recv(65536).decode("utf-8", "replace")
        except socket.timeout:
            return codes, None
        code = int(data.split(" ", 2)[1])
        codes.append(code)
        if code >= 200:
            return codes, data


def head(method, uri, src, via, branch, user, call_id, cseq):
    return ("%s %s SIP/2.0\r\n"
            "Via: SIP/2.0/UDP %s;branch=z9hG4bK-%s;rport\r\n"
            "Max-Forwards: 70\r\n"
            "From: <sip:caller@example.com>;tag=%s\r\n"
            "To: <sip:%s@example.com>\r\n"
            "Call-ID: %s\r\n"
            "CSeq: %d %s\r\n") % (method, uri, via, branch, branch[:8], user, call_id, cseq,
                                    method)


def register(dest, src, aor, branch, contact=None, via=None):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((HOST, src))
    contact = contact or "sip:%s@198.51.100.7:40000" % aor
    via = via or "%s:%d" % (HOST, src)
    msg = head("REGISTER", "sip:%s" % HOST, src, via, branch, aor, branch + "@metrics", 1,
               ).replace("From: <sip:caller@", "From: <sip:%s@" % aor)
    msg += "Contact: <%s>\r\nExpires: 600\r\nContent-Length: 0\r\n\r\n" % contact
    s.sendto(msg.encode(), (HOST, dest))
    if branch.endswith("-twice"):
        s.sendto(msg.encode(), (HOST, dest))
    codes, _ = final_status(s)
    print(codes[-1] if codes and codes[-1] >= 200 else "none")


def invite(dest, src, user, branch):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((HOST, src))
    via = "%s:%d" % (HOST, src)
    call_id = branch + "@metrics"
    uri = "sip:%s@%s" % (user, HOST)
    msg = head("INVITE", uri, src, via, branch, user, call_id, 1)
    msg += "Contact: <sip:caller@%s>\r\nContent-Length: 0\r\n\r\n" % via
    s.sendto(msg.encode(), (HOST, dest))
    codes, final = final_status(s, 5.0)
    if final and codes[-1] >= 300:  # RFC 3261 17.1.1.3: same branch, To with its tag
        to = [l for l in final.split("\r\n") if l.lower().startswith("to:")][0]
        ack = head("ACK", uri, src, via, branch, user, call_id, 1).replace(
            "To: <sip:%s@example.com>" % user, to)
        s.sendto((ack + "Content-Length: 0\r\n\r\n").encode(), (HOST, dest))
    print(" ".join(str(c) for c in codes) or "none")


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "register":
        register(int(args[0]), int(args[1]), args[2], args[3], *args[4:6])
    elif cmd == "invite":
        invite(int(args[0]), int(args[1]), args[2], args[3])
    elif cmd == "garbage":
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.sendto(b"\x00\x01 this is not SIP\r\n\r\n", (HOST, int(args[0])))
    elif cmd == "scrape":
        try:
            with urllib.request.urlopen("http://%s:%s/%s" % (HOST, args[0], args[1]),
                                        timeout=5) as r:
                sys.stdout.write(r.read().decode())
        except (urllib.error.URLError, ConnectionError) as e:
            print("scrape failed: %s" % e, file=sys.stderr)
            return 1
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
