#!/usr/bin/env python3
"""A stdlib SIP client for proxyd's digest authentication tests: what an
attacker scripts by hand (no SIP library). Commands (stdout: one status
code per request sent, space separated):

  replay PROXY USER PASSWORD     REGISTER, 401, REGISTER with credentials,
                                 then the same credentials (same nc) again
                                 in a new transaction: a replay
  star PROXY USER                REGISTER Contact: * without credentials
  challenge PROXY METHOD USER    one request without credentials; prints
                                 the status and each challenge's algorithm
"""
import hashlib
import random
import re
import socket
import sys

REALM_RE = re.compile(r'realm="([^"]*)"')
NONCE_RE = re.compile(r'nonce="([^"]*)"')


def host_port(s):
    h, p = s.rsplit(":", 1)
    return h, int(p)


class Client:
    def __init__(self, proxy):
        self.proxy = host_port(proxy)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.settimeout(3)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.call_id = "%x@127.0.0.1" % random.getrandbits(64)
        self.cseq = 0

    def request(self, method, user, contact=None, extra=""):
        self.cseq += 1
        branch = "z9hG4bK%x" % random.getrandbits(64)
        host, port = self.proxy
        uri = "sip:%s:%d" % (host, port) if method == "REGISTER" else "sip:carol@%s" % host
        contact = contact or "<sip:%s@127.0.0.1:%d>" % (user, self.port)
        msg = ("%s %s SIP/2.0\r\n"
               "Via: SIP/2.0/UDP 127.0.0.1:%d;branch=%s;rport\r\n"
               "From: <sip:%s@%s>;tag=t%d\r\nTo: <sip:%s@%s>\r\n"
               "Call-ID: %s\r\nCSeq: %d %s\r\nContact: %s\r\n%s"
               "Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n") % (
            method, uri, self.port, branch, user, host, self.port, user, host,
            self.call_id, self.cseq, method, contact, extra)
        self.sock.sendto(msg.encode(), self.proxy)
        while True:
            data = self.sock.recv(65535).decode(errors="replace")
            status = int(data.split(" ", 2)[1])
            if status >= 200:
                return status, data, uri


def credentials(resp, method, uri, user, password, nc):
    line = [l for l in resp.split("\r\n") if "algorithm=MD5" in l][0]
    realm, nonce = REALM_RE.search(line).group(1), NONCE_RE.search(line).group(1)
    h = lambda s: hashlib.md5(s.encode()).hexdigest()
    ha1, ha2 = h("%s:%s:%s" % (user, realm, password)), h("%s:%s" % (method, uri))
    cnonce = "c%x" % random.getrandbits(32)
    r = h("%s:%s:%08x:%s:auth:%s" % (ha1, nonce, nc, cnonce, ha2))
    return ('Authorization: Digest username="%s", realm="%s", nonce="%s", uri="%s", '
            'response="%s", algorithm=MD5, cnonce="%s", nc=%08x, qop=auth\r\n') % (
        user, realm, nonce, uri, r, cnonce, nc)


def main():
    cmd, proxy = sys.argv[1], sys.argv[2]
    c = Client(proxy)
    out = []
    if cmd == "replay":
        user, password = sys.argv[3], sys.argv[4]
        status, resp, uri = c.request("REGISTER", user)
        out.append(status)
        auth = credentials(resp, "REGISTER", uri, user, password, 1)
        out.append(c.request("REGISTER", user, extra=auth)[0])
        out.append(c.request("REGISTER", user, extra=auth)[0])
    elif cmd == "star":
        out.append(c.request("REGISTER", sys.argv[3], contact="*",
                             extra="Expires: 0\r\n")[0])
    elif cmd == "challenge":
        status, resp, _ = c.request(sys.argv[3], sys.argv[4])
        out.append(status)
        out += re.findall(r"algorithm=([A-Za-z0-9-]+)", resp)
    print(" ".join(str(x) for x in out))


if __name__ == "__main__":
    main()
