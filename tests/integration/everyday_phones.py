#!/usr/bin/env python3
"""Two stdlib phones doing what every stock softphone does besides calls
(issue #16), through two proxyd on loopback (test_requests_routed.sh).

  everyday_phones.py P11 PH16 P13 PH14 PASSWORD16 PASSWORD14
  everyday_phones.py ring P11 PH16 P13 PH14 PASSWORD16 PASSWORD14
  everyday_phones.py silent P11 PH16 P13 PH14 PASSWORD16 PASSWORD14 WAIT_S
        instead: 16 (behind a "NAT": a private Via and Contact) calls 14,
        14 answers, neither sends media; prints whether each got a BYE
        within WAIT_S, with which Reason, from where (media timeout).
        instead: 16 calls 14, 14 rings (180) and never answers; prints when
        16 got its final and what, and whether 14 was CANCELled (Timer C).

Phone 16 (127.0.0.1:PH16) registers at proxy 11, phone 14 (PH14) at proxy
13, both answering digest challenges (MD5, what the test's proxies offer).
Then 16 sends 14 a MESSAGE, an OPTIONS and a SUBSCRIBE (Event: presence),
each through proxy 11 and proxy 13; 14 answers each 200 and, for the
SUBSCRIBE, sends a NOTIFY inside the new dialog along the Record-Route it
received; 16 answers the NOTIFY 200. 14 PUBLISHes its presence to its own
AOR (through proxy 13, back to itself) and answers it 200 with a SIP-ETag. Last, a MESSAGE for a user nobody
registered. One line per figure ("name=value"); the shell checks them.
"""
import hashlib
import random
import re
import select
import socket
import sys
import time

HOST = "127.0.0.1"
REALM_RE = re.compile(r'realm="?([^",]*)"?')
NONCE_RE = re.compile(r'nonce="([^"]*)"')


def rand():
    return "%x" % random.getrandbits(48)


def parse(data):
    text = data.decode(errors="replace")
    head, _, body = text.partition("\r\n\r\n")
    lines = head.split("\r\n")
    headers = []
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers.append((name.strip().lower(), value.strip()))
    return lines[0], headers, body


def header(headers, name):
    return next((v for n, v in headers if n == name), None)


def headers_all(headers, name):
    return [v for n, v in headers if n == name]


class Phone:
    def __init__(self, user, port, proxy_port, password, nat=False):
        self.user, self.password = user, password
        self.proxy = (HOST, proxy_port)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((HOST, port))
        self.port = port
        # behind a NAT, a phone writes its private address (the test's NAT
        # is the loopback: proxyd sees 127.0.0.1:port as the source)
        self.sent_by = "192.168.1.10:5060" if nat else "%s:%d" % (HOST, port)
        self.contact = "<sip:%s@%s>" % (user, self.sent_by)
        self.got = []  # requests received: (first line, headers, body)

    def build(self, method, uri, to_user, call_id, cseq, extra="", body="", to_tag=""):
        branch = "z9hG4bK" + rand()
        return ("%s %s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=%s;rport\r\n"
                "Max-Forwards: 70\r\nFrom: <sip:%s@%s>;tag=t%s\r\nTo: <sip:%s@%s>%s\r\n"
                "Call-ID: %s\r\nCSeq: %d %s\r\nContact: %s\r\n%sContent-Length: %d\r\n\r\n%s"
                % (method, uri, self.sent_by, branch, self.user, HOST, self.user, to_user,
                   HOST, to_tag, call_id, cseq, method, self.contact, extra, len(body), body))

    def credentials(self, headers, method, uri, challenge):
        line = next(v for v in headers_all(headers, challenge) if "MD5" in v)
        realm, nonce = REALM_RE.search(line).group(1), NONCE_RE.search(line).group(1)
        h = lambda s: hashlib.md5(s.encode()).hexdigest()
        ha1, ha2 = h("%s:%s:%s" % (self.user, realm, self.password)), h("%s:%s" % (method, uri))
        cnonce = rand()
        resp = h("%s:%s:00000001:%s:auth:%s" % (ha1, nonce, cnonce, ha2))
        name = "Authorization" if challenge == "www-authenticate" else "Proxy-Authorization"
        return ('%s: Digest username="%s", realm="%s", nonce="%s", uri="%s", response="%s", '
                'algorithm=MD5, cnonce="%s", nc=00000001, qop=auth\r\n'
                % (name, self.user, realm, nonce, uri, resp, cnonce))


def pump(phones, until, answer, wait=5):
    """Reads every phone's socket until `until()` holds or `wait` s pass;
    each request received goes to answer(phone, first, headers, body, src)."""
    deadline = time.monotonic() + wait
    responses = {}
    while not until(responses) and time.monotonic() < deadline:
        r, _, _ = select.select([p.sock for p in phones], [], [], 0.1)
        for s in r:
            data, src = s.recvfrom(65535)
            phone = next(p for p in phones if p.sock is s)
            first, headers, body = parse(data)
            if first.startswith("SIP/2.0"):
                code = int(first.split()[1])
                if code >= 200:
                    responses.setdefault((phone.user, header(headers, "call-id"),
                                          header(headers, "cseq")), (code, headers))
            else:
                phone.got.append((first, headers, body))
                answer(phone, first, headers, body, src)
    return responses


def ack_for(invite, headers):
    """The ACK of a non-2xx final to INVITE text `invite`: its Request-URI,
    top Via, From, Call-ID; the response's To (RFC 3261 17.1.1.3)."""
    first, inv_headers, _ = parse(invite.encode())
    cseq = header(inv_headers, "cseq").split()[0]
    return ("ACK %s SIP/2.0\r\nVia: %s\r\nMax-Forwards: 70\r\nFrom: %s\r\nTo: %s\r\n"
            "Call-ID: %s\r\nCSeq: %s ACK\r\nContent-Length: 0\r\n\r\n"
            % (first.split()[1], headers_all(inv_headers, "via")[0], header(inv_headers, "from"),
               header(headers, "to"), header(inv_headers, "call-id"), cseq))


def reply(phone, headers, src, code, reason, extra=""):
    """A response to the request whose headers these are, to its source."""
    vias = "".join("Via: %s\r\n" % v for v in headers_all(headers, "via"))
    rr = "".join("Record-Route: %s\r\n" % v for v in headers_all(headers, "record-route"))
    to = header(headers, "to")
    if ";tag=" not in to:
        to += ";tag=a" + phone.user
    text = ("SIP/2.0 %d %s\r\n%s%sFrom: %s\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: %s\r\n"
            "Contact: %s\r\n%sContent-Length: 0\r\n\r\n"
            % (code, reason, vias, rr, header(headers, "from"), to, header(headers, "call-id"),
               header(headers, "cseq"), phone.contact, extra))
    phone.sock.sendto(text.encode(), src)


def transact(phones, phone, method, uri, to_user, extra="", body="", challenge="proxy-authenticate",
             answer=None, wait=5):
    """Sends a request from phone (retrying once with credentials after a
    401/407); returns (final status, its headers)."""
    call_id = "%s-%s@%s" % (method.lower(), rand(), HOST)
    for cseq in (1, 2):
        text = phone.build(method, uri, to_user, call_id, cseq, extra, body)
        phone.sock.sendto(text.encode(), phone.proxy)
        key = (phone.user, call_id, "%d %s" % (cseq, method))
        got = pump(phones, lambda r: key in r, answer or (lambda *a: None), wait)
        code, headers = got.get(key, (None, []))
        if code and code >= 300 and method == "INVITE":  # RFC 3261 17.1.1.3
            phone.sock.sendto(ack_for(text, headers).encode(), phone.proxy)
        if code in (401, 407):
            name = "www-authenticate" if code == 401 else "proxy-authenticate"
            extra += phone.credentials(headers, method, uri, name)
            continue
        return code, headers
    return code, headers


def ring(a, b):
    """16 INVITEs 14, which rings for ever: the proxies' Timer C must end it."""
    phones = [a, b]
    for ph in phones:
        transact(phones, ph, "REGISTER", "sip:%s:%d" % ph.proxy, ph.user, "Expires: 300\r\n",
                 challenge="www-authenticate")
    seen = {"cancel": 0, "invite": None}

    def answer(phone, first, headers, body, src):
        method = first.split()[0]
        if method == "INVITE" and phone is b:
            seen["invite"] = (headers, src)
            reply(phone, headers, src, 180, "Ringing")
        elif method == "CANCEL" and phone is b:
            seen["cancel"] += 1
            reply(phone, headers, src, 200, "OK")
            inv_headers, inv_src = seen["invite"]
            reply(phone, inv_headers, inv_src, 487, "Request Terminated")
        elif method == "ACK":
            seen["ack"] = seen.get("ack", 0) + 1

    sdp = ("v=0\r\no=16 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
           "m=audio 40000 RTP/AVP 0\r\n")
    t0 = time.monotonic()
    code, headers = transact(phones, a, "INVITE", "sip:14@%s:%d" % a.proxy, "14",
                             "Content-Type: application/sdp\r\n", sdp, answer=answer,
                             wait=30)
    secs = time.monotonic() - t0
    pump(phones, lambda r: seen.get("ack"), answer, 2)  # 14's 487 ACKed by proxy 13
    print("ring_final=%s after_s=%.1f cancel_at_14=%d ack_of_487_at_14=%d" % (
        code, secs, seen["cancel"], seen.get("ack", 0)))


def silent(a, b, wait_s):
    """16 calls 14, 14 answers, nobody sends media: relayd's session_timeout
    must end the call at both phones."""
    phones = [a, b]
    for ph in phones:
        transact(phones, ph, "REGISTER", "sip:%s:%d" % ph.proxy, ph.user, "Expires: 300\r\n",
                 challenge="www-authenticate")
    byes = {}

    def answer(phone, first, headers, body, src):
        method = first.split()[0]
        if method == "INVITE" and phone is b:
            sdp14 = ("v=0\r\no=14 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\n"
                     "t=0 0\r\nm=audio %d RTP/AVP 0\r\n" % (phone.port + 2))
            vias = "".join("Via: %s\r\n" % v for v in headers_all(headers, "via"))
            rr = "".join("Record-Route: %s\r\n" % v for v in headers_all(headers, "record-route"))
            text = ("SIP/2.0 200 OK\r\n%s%sFrom: %s\r\nTo: %s;tag=a14\r\nCall-ID: %s\r\n"
                    "CSeq: %s\r\nContact: %s\r\nContent-Type: application/sdp\r\n"
                    "Content-Length: %d\r\n\r\n%s"
                    % (vias, rr, header(headers, "from"), header(headers, "to"),
                       header(headers, "call-id"), header(headers, "cseq"), phone.contact,
                       len(sdp14), sdp14))
            phone.sock.sendto(text.encode(), src)
        elif method == "BYE":
            byes[phone.user] = (header(headers, "reason"), time.monotonic())
            reply(phone, headers, src, 200, "OK")

    sdp16 = ("v=0\r\no=16 1 1 IN IP4 192.168.1.10\r\ns=-\r\nc=IN IP4 192.168.1.10\r\n"
             "t=0 0\r\nm=audio 40000 RTP/AVP 0\r\n")
    call_id = "silent-%s@%s" % (rand(), HOST)
    uri = "sip:14@%s:%d" % a.proxy
    extra = "Content-Type: application/sdp\r\n"
    for cseq in (1, 2):
        text = a.build("INVITE", uri, "14", call_id, cseq, extra, sdp16)
        a.sock.sendto(text.encode(), a.proxy)
        key = ("16", call_id, "%d INVITE" % cseq)
        got = pump(phones, lambda r: key in r, answer, 5)
        code, headers = got.get(key, (None, []))
        if code == 407:
            a.sock.sendto(ack_for(text, headers).encode(), a.proxy)
            extra += a.credentials(headers, "INVITE", uri, "proxy-authenticate")
            continue
        break
    print("answered=%s" % code)
    if code == 200:  # the ACK along the route set: Route = the 200's RR reversed
        routes = list(reversed(headers_all(headers, "record-route")))
        target = re.search(r"<([^>]+)>", header(headers, "contact")).group(1)
        ack = ("ACK %s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bK%s;rport\r\n%s"
               "Max-Forwards: 70\r\nFrom: %s\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: 2 ACK\r\n"
               "Content-Length: 0\r\n\r\n"
               % (target, a.sent_by, rand(), "".join("Route: %s\r\n" % r for r in routes),
                  header(headers, "from"), header(headers, "to"), call_id))
        first = re.search(r"sip:([\d.]+):(\d+)", routes[0])
        a.sock.sendto(ack.encode(), (first.group(1), int(first.group(2))))
    t0 = time.monotonic()
    pump(phones, lambda r: len(byes) == 2, answer, wait_s)
    for user in ("16", "14"):
        reason, at = byes.get(user, (None, None))
        print("bye_at_%s=%d after_s=%.1f reason=%s" % (
            user, 1 if at else 0, (at - t0) if at else -1, (reason or "none").replace(" ", "_")))


def main():
    if sys.argv[1] == "silent":
        p11, ph16, p13, ph14 = (int(x) for x in sys.argv[2:6])
        silent(Phone("16", ph16, p11, sys.argv[6], nat=True), Phone("14", ph14, p13, sys.argv[7]),
               float(sys.argv[8]))
        return
    if sys.argv[1] == "ring":
        p11, ph16, p13, ph14 = (int(x) for x in sys.argv[2:6])
        ring(Phone("16", ph16, p11, sys.argv[6]), Phone("14", ph14, p13, sys.argv[7]))
        return
    p11, ph16, p13, ph14 = (int(a) for a in sys.argv[1:5])
    pw16, pw14 = sys.argv[5], sys.argv[6]
    a, b = Phone("16", ph16, p11, pw16), Phone("14", ph14, p13, pw14)
    phones = [a, b]
    notify = {}

    def answer(phone, first, headers, body, src):
        method = first.split()[0]
        if method == "SUBSCRIBE":
            reply(phone, headers, src, 200, "OK", "Expires: 600\r\n")
            # the NOTIFY, in the dialog: Route = the Record-Route as received
            routes = headers_all(headers, "record-route")
            sub_contact = re.search(r"<([^>]+)>", header(headers, "contact")).group(1)
            frm = header(headers, "from")
            text = ("NOTIFY %s SIP/2.0\r\nVia: SIP/2.0/UDP %s:%d;branch=z9hG4bK%s;rport\r\n"
                    "%sMax-Forwards: 70\r\nFrom: %s;tag=a%s\r\nTo: %s\r\nCall-ID: %s\r\n"
                    "CSeq: 1 NOTIFY\r\nContact: %s\r\nEvent: presence\r\n"
                    "Subscription-State: active;expires=600\r\nContent-Length: 0\r\n\r\n"
                    % (sub_contact, HOST, phone.port, rand(),
                       "".join("Route: %s\r\n" % r for r in routes),
                       header(headers, "to").split(";tag=")[0], phone.user, frm,
                       header(headers, "call-id"), phone.contact))
            first_hop = re.search(r"sip:([\d.]+):(\d+)", routes[0]) if routes else None
            dst = (first_hop.group(1), int(first_hop.group(2))) if first_hop else src
            phone.sock.sendto(text.encode(), dst)
            notify["sent"] = len(routes)
        elif method == "NOTIFY":
            reply(phone, headers, src, 200, "OK")
            notify["got"] = notify.get("got", 0) + 1
        elif method == "PUBLISH":  # a phone that is its own presence agent
            reply(phone, headers, src, 200, "OK", "SIP-ETag: e%s\r\nExpires: 600\r\n" % rand())
        elif method in ("MESSAGE", "OPTIONS"):
            reply(phone, headers, src, 200, "OK", "Allow: INVITE, MESSAGE, SUBSCRIBE, NOTIFY\r\n"
                  if method == "OPTIONS" else "")

    for ph in phones:
        code, _ = transact(phones, ph, "REGISTER", "sip:%s:%d" % ph.proxy, ph.user,
                           "Expires: 300\r\n", challenge="www-authenticate")
        print("register_%s=%s" % (ph.user, code))
    code, _ = transact(phones, a, "MESSAGE", "sip:14@%s:%d" % a.proxy, "14",
                       "Content-Type: text/plain\r\n", "hello 14", answer=answer)
    print("message=%s" % code)
    got = [g for g in b.got if g[0].startswith("MESSAGE")]
    print("message_body_ok=%d" % (1 if got and got[-1][2] == "hello 14" else 0))
    print("message_seen_by_14_without_stamp=%d" % (
        1 if got and not header(got[-1][1], "pinhole-source") else 0))
    code, headers = transact(phones, a, "OPTIONS", "sip:14@%s:%d" % a.proxy, "14", answer=answer)
    allow = ",".join(headers_all(headers, "allow"))  # one header or one per method
    print("options=%s allow_from_14=%d" % (code, 1 if "MESSAGE" in allow else 0))
    code, headers = transact(phones, a, "SUBSCRIBE", "sip:14@%s:%d" % a.proxy, "14",
                             "Event: presence\r\nExpires: 600\r\n", answer=answer)
    pump(phones, lambda r: notify.get("got"), answer)
    print("subscribe=%s routes_in_notify=%d notify_at_16=%d" % (
        code, notify.get("sent", 0), notify.get("got", 0)))
    # RFC 3903: 14 publishes its presence to its own AOR at start, as one
    # stock softphone does; routed to 14's registered phone like any request
    code, headers = transact(phones, b, "PUBLISH", "sip:14@%s:%d" % b.proxy, "14",
                             "Event: presence\r\nExpires: 600\r\nContent-Type: "
                             "application/pidf+xml\r\n", "<presence/>", answer=answer)
    print("publish=%s publish_etag=%d publish_at_14=%d" % (
        code, 1 if header(headers, "sip-etag") else 0,
        sum(1 for g in b.got if g[0].startswith("PUBLISH"))))
    code, _ = transact(phones, a, "MESSAGE", "sip:99@%s:%d" % a.proxy, "99",
                       "Content-Type: text/plain\r\n", "anyone?", answer=answer)
    print("message_unknown=%s" % code)


if __name__ == "__main__":
    main()
