#!/usr/bin/env python3
"""Holds a capture of the lab's public segment (network 12) against what the
patent says each signal carries, and draws calls as ladders.

  e2e_check.py register PCAP [--nat MODE]
  e2e_check.py fig2a|fig2b|fig2c PCAP [--nat MODE] [--rtp N]
        one "ok WHAT" or "FAIL WHAT: WHY" line per check; exit 1 if any
        failed. --rtp N: each phone sent N data packets (the wire must
        carry >= 95% of them on every leg).
  e2e_check.py keepalives PCAP
        prints "PROXY NAT:PORT COUNT" for the CRLF keepalives on the wire.
  e2e_check.py unreached PCAP --callee 18
        the negative of the keepalive test: the INVITE for the callee left
        its proxy towards the NAT, and no answer came back from the NAT.
  e2e_check.py ladder fig2a|fig2b|fig2c PCAP [--nat MODE] [--reports DIR:A,B]
        the call as a ladder of the twelve numbered signals (and everything
        else of the call) with what each carries, and the media counts.

The capture is dumpcap's pcapng of every bridge port of network 12, each
port filtered on what its node sends: every datagram once, with its public
addresses. Nodes are named by address (lab.sh): P11 P13 R20 Y22 C14 X66 and
the NAT firewalls NAT28 NAT30, behind which clients 16 and 18 both have the
private address 192.168.1.10.
"""
import re
import struct
import sys

NAMES = {"203.0.113.11": "P11", "203.0.113.13": "P13", "203.0.113.20": "R20",
         "203.0.113.22": "Y22", "203.0.113.14": "C14", "203.0.113.66": "X66",
         "203.0.113.28": "NAT28", "203.0.113.30": "NAT30"}
IP = {v: k for k, v in NAMES.items()}
SIP_PORT = 5060
PRIV = "192.168.1.10"
PRIV_SIP = PRIV + ":5060"
RELAY_PORTS = (40000, 40099)
RTP_PORT = {"14": 14000, "16": 16000, "18": 18000}
# Client ID -> (public node, serving proxy, behind NAT)
CLIENTS = {"14": ("C14", "P13", False), "16": ("NAT28", "P11", True),
           "18": ("NAT30", "P13", True)}
COMPACT = {"v": "via", "f": "from", "t": "to", "i": "call-id", "m": "contact",
           "l": "content-length", "c": "content-type", "k": "supported"}


def hp(node, port=SIP_PORT):
    return "%s:%d" % (IP[node], port)


# ---- capture ----

def pcapng_packets(path):
    """Yields (time, frame bytes, linktype) of every packet of a pcapng
    (or classic pcap) file."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] in (b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4"):
        yield from pcap_packets(data)
        return
    off, endian, links = 0, "<", []
    while off + 12 <= len(data):
        btype = struct.unpack(endian + "I", data[off:off + 4])[0]
        if btype == 0x0A0D0D0A:  # section header: byte order
            endian = "<" if data[off + 8:off + 12] == b"\x4d\x3c\x2b\x1a" else ">"
            links = []
        blen = struct.unpack(endian + "I", data[off + 4:off + 8])[0]
        if blen < 12 or off + blen > len(data):
            break
        body = data[off + 8:off + blen - 4]
        if btype == 1:  # interface description: link type, timestamp unit
            links.append((struct.unpack(endian + "H", body[:2])[0], if_tsresol(body, endian)))
        elif btype == 6 and len(body) >= 20:  # enhanced packet
            ifid, hi, lo, caplen = struct.unpack(endian + "IIII", body[:16])
            link, unit = links[ifid] if ifid < len(links) else (1, 1e-6)
            yield ((hi << 32) | lo) * unit, body[20:20 + caplen], link
        off += blen


def if_tsresol(idb, endian):
    """Seconds per timestamp tick of an interface (option if_tsresol, code
    9: 10^-v, or 2^-v when the high bit is set; default microseconds)."""
    off = 8
    while off + 4 <= len(idb):
        code, length = struct.unpack(endian + "HH", idb[off:off + 4])
        if code == 0:
            break
        if code == 9 and length >= 1:
            v = idb[off + 4]
            return 2.0 ** -(v & 0x7F) if v & 0x80 else 10.0 ** -v
        off += 4 + (length + 3) // 4 * 4
    return 1e-6


def pcap_packets(data):
    endian = "<" if data[:4] == b"\xd4\xc3\xb2\xa1" else ">"
    link = struct.unpack(endian + "I", data[20:24])[0]
    off = 24
    while off + 16 <= len(data):
        sec, usec, incl, _ = struct.unpack(endian + "IIII", data[off:off + 16])
        yield sec + usec / 1e6, data[off + 16:off + 16 + incl], link
        off += 16 + incl


def udp_datagrams(path):
    """(time, src 'ip:port', dst 'ip:port', payload), in time order."""
    out = []
    for ts, frame, link in pcapng_packets(path):
        ip = frame[{1: 14, 113: 16, 276: 20}.get(link, 14):]
        if len(ip) < 20 or ip[0] >> 4 != 4 or ip[9] != 17:
            continue
        udp = ip[(ip[0] & 15) * 4:]
        if len(udp) < 8:
            continue
        sport, dport, ulen = struct.unpack(">HHH", udp[:6])
        src = "%d.%d.%d.%d:%d" % (*ip[12:16], sport)
        dst = "%d.%d.%d.%d:%d" % (*ip[16:20], dport)
        out.append((ts, src, dst, udp[8:ulen]))
    out.sort(key=lambda d: d[0])
    return out


def split_list(value):
    """Splits a header value on commas outside <> and quotes."""
    out, cur, depth, quoted = [], "", 0, False
    for ch in value:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in "<>":
            depth += 1 if ch == "<" else -1
        if ch == "," and not quoted and depth == 0:
            out.append(cur.strip())
            cur = ""
        else:
            cur += ch
    if cur.strip():
        out.append(cur.strip())
    return out


class Sip:
    def __init__(self, t, src, dst, text):
        self.t, self.src, self.dst = t, src, dst
        head, _, self.body = text.partition("\r\n\r\n")
        lines = head.split("\r\n")
        self.first = lines[0]
        self.headers = []
        for line in lines[1:]:
            if line[:1] in (" ", "\t") and self.headers:
                n, v = self.headers[-1]
                self.headers[-1] = (n, v + " " + line.strip())
                continue
            n, _, v = line.partition(":")
            n = n.strip().lower()
            self.headers.append((COMPACT.get(n, n), v.strip()))
        parts = self.first.split(" ")
        self.is_request = not self.first.startswith("SIP/2.0")
        self.method = parts[0] if self.is_request else None
        self.ruri = parts[1] if self.is_request and len(parts) > 1 else ""
        self.status = None if self.is_request else int(parts[1])
        cseq = self.get("cseq").split()
        self.cseq_method = cseq[1] if len(cseq) > 1 else ""

    def get(self, name):
        return next((v for n, v in self.headers if n == name), "")

    def all(self, name):
        out = []
        for n, v in self.headers:
            if n == name:
                out += split_list(v)
        return out

    def kind(self):
        return self.method if self.is_request else "%d %s" % (self.status, self.cseq_method)

    def call_id(self):
        return self.get("call-id")

    def sdp(self):
        conns = re.findall(r"^c=IN IP4 (\S+)", self.body, re.M)
        ports = [int(p) for p in re.findall(r"^m=\w+ (\d+) ", self.body, re.M)]
        return conns, ports


def is_rtp(payload):
    return len(payload) >= 12 and payload[0] & 0xC0 == 0x80


def load(path):
    sips, rtp = [], []
    for t, src, dst, payload in udp_datagrams(path):
        if is_rtp(payload):
            rtp.append((t, src, dst, payload[1] & 0x7F))
            continue
        if payload.strip(b"\r\n") == b"":
            sips.append(Sip(t, src, dst, "CRLF\r\n\r\n"))
            continue
        try:
            text = payload.decode("utf-8")
        except UnicodeDecodeError:
            continue
        if "SIP/2.0" in text.split("\r\n", 1)[0]:
            sips.append(Sip(t, src, dst, text))
    return sips, rtp


def via_parts(via):
    """'SIP/2.0/UDP h:p;a=b' -> ('h:p', {'a': 'b'})."""
    m = re.match(r"SIP/2\.0/\w+\s+([^;\s]+)\s*(.*)$", via)
    if not m:
        return via, {}
    params = {}
    for p in m.group(2).split(";"):
        if p.strip():
            k, _, v = p.strip().partition("=")
            params[k.lower()] = v
    return m.group(1), params


def uri_parts(value):
    """'<sip:user@h:p;lr>' -> (user, 'h:p', rest); a missing port is 5060."""
    m = re.search(r"sips?:(?:([^@;>]+)@)?([^;>\s]+)([^>]*)", value or "")
    if not m:
        return None, value, ""
    host = m.group(2) if ":" in m.group(2) else "%s:%d" % (m.group(2), SIP_PORT)
    return m.group(1), host, m.group(3)


def top_branch(m):
    vias = m.all("via")
    return via_parts(vias[0])[1].get("branch") if vias else None


def digest_user(m, header):
    found = re.search(r'username="([^"]*)"', m.get(header))
    return found.group(1) if found else None


def who(addr):
    """'203.0.113.28:5060' -> 'NAT28:5060', a proxy's SIP port -> 'P11'."""
    ip, _, port = addr.rpartition(":")
    name = NAMES.get(ip, ip)
    return name if int(port) == SIP_PORT and not name.startswith("NAT") else "%s:%s" % (name, port)


def in_relay_range(port):
    return RELAY_PORTS[0] <= port <= RELAY_PORTS[1]


# ---- checks ----

class Checker:
    def __init__(self, sips, rtp, opts):
        self.sips, self.rtp, self.opts = sips, rtp, opts
        self.failed = 0
        self.call = None
        self.signals = {}  # patent signal number -> message
        self.media_start = {}  # (src, dst) -> time of its first RTP data packet
        self.users = {}  # client ID -> the user part of its Contact
        self.hidden = set()  # ids of the messages of digest challenges, once checked

    def ok(self, what):
        print("ok %s" % what)

    def fail(self, what, why):
        self.failed += 1
        print("FAIL %s: %s" % (what, why))

    def truth(self, what, cond, why="false"):
        (self.ok(what) if cond else self.fail(what, why))
        return cond

    def expect(self, what, got, want):
        return self.truth("%s (%s)" % (what, want), got == want, "got %r, want %r" % (got, want))

    # -- finding messages --

    def sip_hp(self, client):
        """The public SIP address:port of a client: its NAT mapping towards
        its proxy, learned from its REGISTER (or 14's own address)."""
        node, proxy, _ = CLIENTS[client]
        for m in self.sips:
            if m.method == "REGISTER" and m.src.startswith(IP[node] + ":") and \
                    m.dst == hp(proxy) and uri_parts(m.get("to"))[0] == client:
                return m.src
        return None

    def user(self, client):
        """The user part a client puts in its Contact (its REGISTER's):
        SIPp writes the bare ID, a softphone may add its own suffix. The
        proxies must carry it unchanged."""
        if client not in CLIENTS:
            return client
        if client not in self.users:
            node, proxy, _ = CLIENTS[client]
            self.users[client] = client
            for m in self.sips:
                if m.method == "REGISTER" and m.src.startswith(IP[node] + ":") and \
                        m.dst == hp(proxy) and uri_parts(m.get("to"))[0] == client:
                    self.users[client] = uri_parts(m.get("contact"))[0] or client
                    break
        return self.users[client]

    def rtp_port(self, client):
        """The m= port a phone offers: fixed for the SIPp phones, any for a
        softphone (--softphone 1)."""
        return None if self.opts.get("softphone") else RTP_PORT[client]

    def use_call(self, caller_hp, proxy, callee):
        for m in self.sips:
            if m.method == "INVITE" and m.src == caller_hp and m.dst == hp(proxy) and \
                    uri_parts(m.ruri)[0] == callee:
                self.call = m.call_id()
                self.ok("the call %s → %s is in the capture (Call-ID %s)" % (
                    who(caller_hp), callee, self.call))
                self.challenge(caller_hp, hp(proxy), "INVITE", "407", "proxy-authenticate",
                               "proxy-authorization", "from")
                return True
        self.fail("call to %s" % callee, "no INVITE %s → %s" % (caller_hp, hp(proxy)))
        return False

    def msgs(self, src, dst, kind):
        return [m for m in self.sips if m.call_id() == self.call and m.src == src
                and m.dst == dst and m.kind() == kind and id(m) not in self.hidden]

    def challenge(self, phone, proxy, method, status, challenge_h, credentials_h, identity_h):
        """Issue #14: the phone's first request carries no credentials and
        the proxy answers it with a digest challenge (MD5, qop auth: what
        the lab offers) and sends nothing onwards; the request sent again
        carries credentials for the user the request names. The checks of
        the patent's signals then start from that request: the challenge's
        messages stay on the wire (and in the ladder) but out of msgs()."""
        reqs = self.msgs(phone, proxy, method)
        first = reqs[0]
        b = top_branch(first)
        self.truth("auth: the first %s carries no credentials" % method,
                   not first.get(credentials_h))
        ch = [m for m in self.msgs(proxy, phone, "%s %s" % (status, method)) if top_branch(m) == b]
        if not self.truth("auth: %s challenges it (%s)" % (who(proxy), status), bool(ch),
                          "not on the wire"):
            return
        value = ch[0].get(challenge_h)
        self.truth("auth: %s: Digest, MD5, qop=auth" % challenge_h,
                   value.startswith("Digest ") and "algorithm=MD5" in value and 'qop="auth"' in value,
                   value)
        if method == "INVITE":
            self.truth("auth: the %s ACKed in its transaction" % status,
                       any(top_branch(m) == b for m in self.msgs(phone, proxy, "ACK")))
        again = [m for m in reqs if top_branch(m) != b]
        if not self.truth("auth: the %s sent again" % method, bool(again), "not on the wire"):
            return
        onwards = [m for m in self.sips if m.call_id() == self.call and m.src == proxy
                   and m.dst != phone and m.t < again[0].t]
        self.truth("auth: %s sends nothing onwards before the credentials" % who(proxy),
                   not onwards, ", ".join(m.first for m in onwards[:3]))
        self.expect("auth: the credentials are for the %s user" % identity_h.title(),
                    digest_user(again[0], credentials_h), uri_parts(again[0].get(identity_h))[0])
        self.hidden |= {id(m) for m in self.sips if m.call_id() == self.call
                        and {m.src, m.dst} == {phone, proxy} and top_branch(m) == b}

    def find(self, label, src, dst, kind, signal=None, last=False):
        """The first such message (last=True: the last one)."""
        found = self.msgs(src, dst, kind)
        if found:
            self.ok("%s: %s → %s %s" % (label, who(src), who(dst), kind))
            if signal is not None:
                self.signals[signal] = found[-1 if last else 0]
            return found[-1 if last else 0]
        self.fail("%s: %s → %s %s" % (label, who(src), who(dst), kind), "not on the wire")
        return None

    def none(self, label, src_prefix, dst_prefix):
        found = [m for m in self.sips if m.call_id() == self.call and
                 m.src.startswith(src_prefix) and m.dst.startswith(dst_prefix)]
        self.truth(label, not found, "found %s" % ", ".join(m.first for m in found[:3]))

    # -- what a message carries --

    def ruri(self, label, m, user, where):
        if m is not None:
            u, h, _ = uri_parts(m.ruri)
            self.expect("%s: Request-URI" % label, "%s@%s" % (u, h), "%s@%s" % (user, where))

    def vias(self, label, m, want):
        """want: top first; a string is a proxy's sent-by (with a z9hG4bK
        branch); a tuple (sent_by, received, rport) is a phone's Via after
        its proxy stamped where the request really came from."""
        if m is None:
            return
        got = [via_parts(v) for v in m.all("via")]
        good = len(got) == len(want)
        desc = []
        for i, w in enumerate(want):
            g = got[i] if i < len(got) else ("", {})
            if isinstance(w, tuple):
                sent_by, received, rport = w
                desc.append("%s;received=%s;rport=%s" % (sent_by, received, rport) if received
                            else "%s;rport (as the phone wrote it)" % sent_by)
                good &= g[0] == sent_by and g[1].get("received") == received and \
                    g[1].get("rport") == str(rport)
            else:
                desc.append(w)
                good &= g[0] == w and g[1].get("branch", "").startswith("z9hG4bK")
        self.truth("%s: Via = %s" % (label, " , ".join(desc)), good,
                   "got %s" % " , ".join(m.all("via")))

    def rr(self, label, m, want, header="record-route"):
        if m is None:
            return
        got = [uri_parts(v) for v in m.all(header)]
        good = len(got) == len(want) and all(g[1] == w and ";lr" in g[2]
                                             for g, w in zip(got, want))
        name = {"record-route": "Record-Route", "route": "Route", "path": "Path"}[header]
        self.truth("%s: %s = %s" % (label, name,
                                    ", ".join("<sip:%s;lr>" % w for w in want) or "none"),
                   good, "got %s" % (m.all(header) or "none"))

    def contact(self, label, m, user, where, raw=False):
        """raw: `user` is the ID itself (a URI redirectd built from the AOR),
        not the user part the client writes in its own Contact."""
        if m is not None:
            got = m.all("contact")
            u, h, _ = uri_parts(got[0]) if len(got) == 1 else (None, None, None)
            want = user if raw else self.user(user)
            self.expect("%s: Contact" % label, "%s@%s" % (u, h), "%s@%s" % (want, where))

    def max_forwards(self, label, m, want):
        if m is not None:
            self.expect("%s: Max-Forwards" % label, m.get("max-forwards"), str(want))

    def sdp(self, label, m, conn, port):
        """port: an int, 'relay' (an even port of relayd's range) or None
        (any). Returns the m= port."""
        if m is None:
            return None
        conns, ports = m.sdp()
        good = bool(conns) and all(c == conn for c in conns) and len(ports) == 1
        if good and port == "relay":
            good = in_relay_range(ports[0]) and ports[0] % 2 == 0
        elif good and port is not None:
            good = ports[0] == port
        self.truth("%s: SDP c=%s m=audio %s" % (label, conn, port), good,
                   "got c=%s m=%s" % (conns, ports))
        return ports[0] if ports else None

    def same(self, label, a, b):
        if a is not None and b is not None:
            self.expect(label, a, b)

    # -- sub-transactions --

    def relay_alloc(self, label, proxy, callee, offer_conn, signals):
        """Fig. 4b / 8a-8b: relay invite, 302 with the relay resource, ACK."""
        inv = self.find("%s relay invite (fig. 8a)" % label, hp(proxy), hp("Y22"), "INVITE",
                        signals[0])
        self.ruri("%s relay invite" % label, inv, callee, hp("Y22"))
        if inv is not None:
            self.expect("%s relay invite: the offer's c=" % label, inv.sdp()[0][:1], [offer_conn])
        resp = self.find("%s relay response (fig. 8b)" % label, hp("Y22"), hp(proxy),
                         "302 INVITE", signals[1])
        port = self.sdp("%s relay response" % label, resp, IP["Y22"], "relay")
        self.find("%s relay 302 ACKed" % label, hp(proxy), hp("Y22"), "ACK")
        return port

    def redirect(self, label, proxy, callee, contact, signals):
        """Fig. 4c / 7a-7b: redirect invite, 302 with one Contact, ACK."""
        inv = self.find("%s redirect invite (fig. 7a)" % label, hp(proxy), hp("R20"), "INVITE",
                        signals[0])
        self.ruri("%s redirect invite" % label, inv, callee, hp("R20"))
        resp = self.find("%s redirect response (fig. 7b)" % label, hp("R20"), hp(proxy),
                         "302 INVITE", signals[1])
        # Another proxy is named by the AOR (design decision 3); the client's
        # own channel is its registered Contact.
        to_proxy = NAMES.get(contact.rpartition(":")[0], "").startswith("P")
        self.contact("%s redirect response" % label, resp, callee, contact, raw=to_proxy)
        self.find("%s redirect 302 ACKed" % label, hp(proxy), hp("R20"), "ACK")
        return resp

    def latch_sources(self, query_want, stamps, answer, report_want, report_media):
        """Issue #15 with real addresses: P11's relay query names the phones'
        public IPs (Pinhole-Sources), the INVITE and 200 between the proxies
        carry the phone's IP (Pinhole-Source), P11 reports the answerer to
        relayd after its 200 with the answer's own SDP, and no phone ever
        sees either header."""
        q = self.msgs(hp("P11"), hp("Y22"), "INVITE")
        self.expect("issue #15: the relay query names the phones (Pinhole-Sources)",
                    q[0].get("pinhole-sources") if q else None, query_want)
        for label, m, want in stamps:
            self.expect("issue #15: %s carries the phone's IP (Pinhole-Source)" % label,
                        m.get("pinhole-source") if m else None, want)
        later = [m for m in q[1:] if answer is not None and m.t >= answer.t]
        if self.truth("issue #15: P11 reports the answerer to relayd after its 200", later,
                      "no second relay INVITE"):
            self.expect("issue #15: the report names the answerer ;sdp",
                        later[0].get("pinhole-sources"), report_want)
            self.expect("issue #15: the report carries the answer's own SDP (c=)",
                        later[0].sdp()[0][:1], [report_media])
        phones = {self.sip_hp(x) for x in CLIENTS} - {None}
        leaked = [m.first for m in self.sips if m.call_id() == self.call and m.dst in phones and
                  (m.get("pinhole-source") or m.get("pinhole-sources"))]
        self.truth("issue #15: no phone sees Pinhole-Source(s)", not leaked, repr(leaked[:3]))

    def relay_release(self, proxy):
        self.find("end: relay released by %s (BYE, decision 9)" % proxy, hp(proxy), hp("Y22"), "BYE")
        self.find("end: relayd answers the release", hp("Y22"), hp(proxy), "200 BYE")

    def dialog_end(self, caller_hp, first, second, callee_hp, caller_via, callee):
        """ACK and BYE of the caller along the record-route, 200 back."""
        ack = self.find("ACK caller → %s" % first, caller_hp, hp(first), "ACK")
        self.rr("ACK caller → %s" % first, ack, [hp(first), hp(second)], header="route")
        self.ruri("ACK caller → %s (the callee's Contact)" % first, ack, self.user(callee),
                  callee_hp)
        self.find("ACK %s → %s" % (first, second), hp(first), hp(second), "ACK")
        ack3 = self.find("ACK reaches the callee", hp(second), callee_hp, "ACK")
        self.vias("ACK at the callee", ack3, [hp(second), hp(first), caller_via])
        for src, dst in ((caller_hp, hp(first)), (hp(first), hp(second)), (hp(second), callee_hp)):
            self.find("BYE", src, dst, "BYE")
        for src, dst in ((callee_hp, hp(second)), (hp(second), hp(first)), (hp(first), caller_hp)):
            self.find("200 BYE", src, dst, "200 BYE")

    def ringing(self, callee_hp, first, second, caller_hp, vias):
        for (src, dst), v in zip(((callee_hp, hp(second)), (hp(second), hp(first)),
                                  (hp(first), caller_hp)), vias):
            self.vias("180 %s → %s" % (who(src), who(dst)),
                      self.find("180", src, dst, "180 INVITE"), v)

    # -- media --

    def call_window(self):
        """From the call's first message to its relay's release (its last):
        relay ports are handed out at random (issue #15), so the next call may
        get the same port a moment later, and its media is not this call's."""
        ts = [m.t for m in self.sips if m.call_id() == self.call]
        return (min(ts), max(ts) + 0.05) if ts else (0, 0)

    def media(self, relay_port, a_node, b_node):
        """RTP through relay_port between the two phones' public nodes, both
        ways, and to nobody else; returns {(src, dst): count}."""
        if relay_port is None:
            return {}
        lo, hi = self.call_window()
        relay = "%s:%d" % (IP["Y22"], relay_port)
        legs = {}
        for t, src, dst, pt in self.rtp:
            if lo <= t <= hi and relay in (src, dst) and pt == 0:
                legs[(src, dst)] = legs.get((src, dst), 0) + 1
                self.media_start.setdefault((src, dst), t)
        want = self.opts.get("rtp", 1) * 95 // 100
        for x, y in ((a_node, b_node), (b_node, a_node)):
            up = sum(n for (s, d), n in legs.items() if s.startswith(IP[x] + ":") and d == relay)
            down = sum(n for (s, d), n in legs.items() if s == relay and d.startswith(IP[y] + ":"))
            self.truth("media: RTP %s → relay %d → %s (%d in, %d out, want >= %d)" % (
                x, relay_port, y, up, down, want), up >= want and down >= want, "too few")
        stray = {k: v for k, v in legs.items() if k[0] == relay and
                 not k[1].startswith((IP[a_node] + ":", IP[b_node] + ":"))}
        self.truth("media: the relay port sends to nobody but the two phones", not stray,
                   repr(stray))
        return legs


# ---- the flows ----

def priv_via(c, client_hp):
    """Client 16/18's Via once its proxy stamped the NAT address on it."""
    ip, _, port = client_hp.rpartition(":")
    return (PRIV_SIP, ip, port)


def check_register(c):
    for client in ("16", "18", "14"):
        node, proxy, natted = CLIENTS[client]
        chp = c.sip_hp(client)
        if not c.truth("%s: REGISTER from %s to %s" % (client, node, proxy), chp is not None,
                       "not on the wire"):
            continue
        reg = next(m for m in c.sips if m.method == "REGISTER" and m.src == chp)
        c.call = reg.call_id()
        c.challenge(chp, hp(proxy), "REGISTER", "401", "www-authenticate", "authorization", "to")
        mapped = int(chp.rpartition(":")[2])
        if natted and c.opts.get("nat") == "port-preserving":
            c.expect("%s: NAT %s kept the source port" % (client, node), mapped, 5060)
        c.vias("%s: REGISTER as the phone wrote it" % client, reg,
               [(PRIV_SIP if natted else chp, None, "")])
        c.contact("%s: REGISTER Contact (the phone's own address)" % client, reg, client,
                  PRIV_SIP if natted else chp)
        fwd = c.find("%s: redirect registration (122)" % client, hp(proxy), hp("R20"), "REGISTER")
        c.contact("%s: redirect registration Contact = the NAT address:port" % client, fwd,
                  client, chp)
        c.rr("%s: redirect registration" % client, fwd, [hp(proxy)], header="path")
        c.find("%s: redirectd accepts" % client, hp("R20"), hp(proxy), "200 REGISTER")
        ok = c.find("%s: 200 back through the NAT" % client, hp(proxy), chp, "200 REGISTER")
        if natted:
            c.vias("%s: 200 to the phone" % client, ok, [priv_via(c, chp)])
        ka = [m for m in c.sips if m.first == "CRLF" and m.src == hp(proxy) and m.dst == chp]
        if natted:
            c.truth("%s: CRLF keepalives %s → %s (%d)" % (client, proxy, who(chp), len(ka)),
                    len(ka) >= 1, "none on the wire")
        else:
            c.truth("%s: no keepalive to a public client" % client, not ka, "%d" % len(ka))


def fig_a_or_c(c, callee):
    """Fig. 2a (16 at P11 calls public 14 at P13) or, with callee 18, fig.
    2c (16 calls 18 behind NAT 30): signals 1-12, ACK, BYE, media."""
    fig = "5c" if callee == "14" else "5g"
    c16 = c.sip_hp("16")
    cal = c.sip_hp(callee)
    if c16 is None or cal is None:
        c.fail("registrations in the capture", "16 at %s, %s at %s" % (c16, callee, cal))
        return
    if not c.use_call(c16, "P11", callee):
        return
    callee_nat = CLIENTS[callee][2]
    v16 = priv_via(c, c16)
    s1 = c.find("1 INVITE (fig. 5a)", c16, hp("P11"), "INVITE", 1)
    c.ruri("1", s1, callee, hp("P11"))
    c.vias("1 (the phone's own private sent-by)", s1, [(PRIV_SIP, None, "")])
    c.contact("1 (private, as the phone wrote it)", s1, "16", PRIV_SIP)
    c.sdp("1 (16's private media address)", s1, PRIV, c.rtp_port("16"))
    c.find("1 answered 100 Trying at once", hp("P11"), c16, "100 INVITE")
    relay = c.relay_alloc("2-3", "P11", callee, PRIV, (2, 3))
    c.redirect("4-5", "P11", callee, hp("P13"), (4, 5))
    s6 = c.find("6 forwarding invite (fig. 5b)", hp("P11"), hp("P13"), "INVITE", 6)
    c.ruri("6 (step 151: the redirect address)", s6, callee, hp("P13"))
    c.vias("6", s6, [hp("P11"), v16])
    c.rr("6", s6, [hp("P11")])
    c.contact("6 (step 144: the NAT address, not 192.168.1.10)", s6, "16", c16)
    c.max_forwards("6", s6, 69)
    c.same("6: SDP = the relay resource (step 148)", c.sdp("6", s6, IP["Y22"], "relay"), relay)
    c.redirect("7-8", "P13", callee, cal, (7, 8))
    c.none("P13 asks relayd nothing (step 152b: the relay is already in the SDP)",
           hp("P13"), hp("Y22"))
    s9 = c.find("9 second forwarding invite (fig. %s)" % fig, hp("P13"), cal, "INVITE", 9)
    c.ruri("9", s9, callee, cal)
    c.vias("9", s9, [hp("P13"), hp("P11"), v16])
    c.rr("9", s9, [hp("P13"), hp("P11")])
    c.contact("9", s9, "16", c16)
    c.max_forwards("9", s9, 68)
    c.same("9: SDP = the relay resource", c.sdp("9", s9, IP["Y22"], "relay"), relay)
    c.ringing(cal, "P11", "P13", c16, ([hp("P13"), hp("P11"), v16], [hp("P11"), v16], [v16]))
    s10 = c.find("10 OK (fig. %s)" % ("6a" if callee == "14" else "6f"), cal, hp("P13"),
                 "200 INVITE", 10)
    c.vias("10", s10, [hp("P13"), hp("P11"), v16])
    c.rr("10", s10, [hp("P13"), hp("P11")])
    own = PRIV_SIP if callee_nat else cal
    c.contact("10 (the callee's own address)", s10, callee, own)
    media_addr = PRIV if callee_nat else IP["C14"]
    c.sdp("10: the callee's own SDP", s10, media_addr, c.rtp_port(callee))
    s11 = c.find("11 forwarding OK", hp("P13"), hp("P11"), "200 INVITE", 11)
    c.vias("11 (P13's Via removed)", s11, [hp("P11"), v16])
    c.rr("11", s11, [hp("P13"), hp("P11")])
    c.contact("11" + (" (decision 7: 18's NAT address)" if callee_nat else ""), s11, callee, cal)
    c.sdp("11: SDP as the callee sent it (P13 holds no relay resource)", s11, media_addr,
          c.rtp_port(callee))
    s12 = c.find("12 second forwarding OK", hp("P11"), c16, "200 INVITE", 12)
    c.vias("12 (P11's Via removed)", s12, [v16])
    c.rr("12", s12, [hp("P13"), hp("P11")])
    c.contact("12", s12, callee, cal)
    c.same("12: SDP = the relay resource (steps 222-224)", c.sdp("12", s12, IP["Y22"], "relay"),
           relay)
    callee_ip = IP[CLIENTS[callee][0]]
    c.latch_sources(IP["NAT28"] + ";sdp", (("6", s6, IP["NAT28"]), ("11", s11, callee_ip)), s11,
                    callee_ip + ";sdp", media_addr)
    c.dialog_end(c16, "P11", "P13", cal, v16, callee)
    c.relay_release("P11")
    c.none("P13 releases nothing (it allocated nothing)", hp("P13"), hp("Y22"))
    return c.media(relay, "NAT28", CLIENTS[callee][0])


def check_fig2a(c):
    return fig_a_or_c(c, "14")


def check_fig2c(c):
    return fig_a_or_c(c, "18")


def check_fig2b(c):
    """Fig. 2b: public 14 at P13 calls 16 behind NAT 28 at P11."""
    c14, c16 = c.sip_hp("14"), c.sip_hp("16")
    if c14 is None or c16 is None:
        c.fail("registrations in the capture", "14 at %s, 16 at %s" % (c14, c16))
        return
    if not c.use_call(c14, "P13", "16"):
        return
    v14 = (c14, IP["C14"], c14.rpartition(":")[2])
    s1 = c.find("1 INVITE (fig. 5d)", c14, hp("P13"), "INVITE", 1)
    c.ruri("1", s1, "16", hp("P13"))
    c.find("1 answered 100 Trying", hp("P13"), c14, "100 INVITE")
    c.none("P13 asks relayd nothing (14 is public)", hp("P13"), hp("Y22"))
    c.redirect("2-3", "P13", "16", hp("P11"), (2, 3))
    s4 = c.find("4 forwarding invite (fig. 5e)", hp("P13"), hp("P11"), "INVITE", 4)
    c.ruri("4", s4, "16", hp("P11"))
    c.vias("4", s4, [hp("P13"), v14])
    c.rr("4", s4, [hp("P13")])
    c.contact("4", s4, "14", c14)
    c.max_forwards("4", s4, 69)
    c.sdp("4: 14's own SDP (no relay yet)", s4, IP["C14"], c.rtp_port("14"))
    r6 = c.redirect("5-6", "P11", "16", c16, (5, 6))
    relay = c.relay_alloc("7-8 (step 152a: 16 is a NAT client)", "P11", "16", IP["C14"], (7, 8))
    inv7 = c.msgs(hp("P11"), hp("Y22"), "INVITE")
    if r6 is not None and inv7:
        c.truth("7 after 6 (the relay is asked once the destination is known)", inv7[0].t >= r6.t)
    s9 = c.find("9 second forwarding invite (fig. 5f)", hp("P11"), c16, "INVITE", 9)
    c.ruri("9 (16's NAT channel)", s9, "16", c16)
    c.vias("9", s9, [hp("P11"), hp("P13"), v14])
    c.rr("9", s9, [hp("P11"), hp("P13")])
    c.contact("9", s9, "14", c14)
    c.max_forwards("9", s9, 68)
    c.same("9: SDP = the relay resource (step 154)", c.sdp("9", s9, IP["Y22"], "relay"), relay)
    c.ringing(c16, "P13", "P11", c14, ([hp("P11"), hp("P13"), v14], [hp("P13"), v14], [v14]))
    s10 = c.find("10 OK (fig. 6d)", c16, hp("P11"), "200 INVITE", 10)
    c.vias("10", s10, [hp("P11"), hp("P13"), v14])
    c.contact("10: 16's private Contact", s10, "16", PRIV_SIP)
    c.sdp("10: 16's private SDP (useless outside LAN 24)", s10, PRIV, c.rtp_port("16"))
    s11 = c.find("11 forwarding OK (fig. 6e)", hp("P11"), hp("P13"), "200 INVITE", 11)
    c.vias("11 (P11's Via removed)", s11, [hp("P13"), v14])
    c.rr("11", s11, [hp("P11"), hp("P13")])
    c.contact("11 (decision 7: 16's NAT address)", s11, "16", c16)
    c.same("11: SDP = the relay resource", c.sdp("11", s11, IP["Y22"], "relay"), relay)
    s12 = c.find("12 second forwarding OK", hp("P13"), c14, "200 INVITE", 12)
    c.vias("12 (P13's Via removed)", s12, [v14])
    c.rr("12", s12, [hp("P11"), hp("P13")])
    c.contact("12", s12, "16", c16)
    c.same("12: SDP = the relay resource", c.sdp("12", s12, IP["Y22"], "relay"), relay)
    c.latch_sources("%s;sdp, %s" % (IP["C14"], IP["NAT28"]),
                    (("4", s4, IP["C14"]), ("11", s11, IP["NAT28"])), s10, IP["NAT28"] + ";sdp",
                    PRIV)
    c.dialog_end(c14, "P13", "P11", c16, v14, "16")
    c.relay_release("P11")
    c.none("P13 releases nothing", hp("P13"), hp("Y22"))
    return c.media(relay, "C14", "NAT28")


def check_unreached(c):
    callee = c.opts.get("callee", "18")
    node, proxy, _ = CLIENTS[callee]
    chp = c.sip_hp(callee)
    if not c.truth("%s registered (its binding: %s)" % (callee, chp), chp is not None):
        return
    invs = [m for m in c.sips if m.method == "INVITE" and m.src == hp(proxy) and m.dst == chp]
    if not c.truth("%s forwarded the INVITE to %s's old NAT binding %s" % (proxy, callee, chp),
                   bool(invs), "no INVITE to it on the wire"):
        return
    c.call = invs[0].call_id()
    back = [m for m in c.sips if m.call_id() == c.call and m.src.startswith(IP[node] + ":")]
    c.truth("nothing came back through NAT %s (the binding had expired)" % node[3:], not back,
            "got %s" % ", ".join(m.first for m in back[:3]))


def count_keepalives(c):
    """Prints "PROXY NAT-ENDPOINT COUNT" per proxy and NAT binding."""
    counts = {}
    for m in c.sips:
        if m.first == "CRLF" and NAMES.get(m.dst.rpartition(":")[0], "").startswith("NAT"):
            key = (who(m.src), who(m.dst))
            counts[key] = counts.get(key, 0) + 1
    for (src, dst), n in sorted(counts.items()):
        print("%s %s %d" % (src, dst, n))


FLOWS = {"keepalives": count_keepalives, "register": check_register, "fig2a": check_fig2a, "fig2b": check_fig2b,
         "fig2c": check_fig2c, "unreached": check_unreached}


# ---- the ladder ----

COLUMNS = {
    "fig2a": [("16 via NAT28", "NAT28"), ("proxy 11", "P11"), ("relay 22", "Y22"),
              ("redirect 20", "R20"), ("proxy 13", "P13"), ("client 14", "C14")],
    "fig2b": [("client 14", "C14"), ("proxy 13", "P13"), ("redirect 20", "R20"),
              ("proxy 11", "P11"), ("relay 22", "Y22"), ("16 via NAT28", "NAT28")],
    "fig2c": [("16 via NAT28", "NAT28"), ("proxy 11", "P11"), ("relay 22", "Y22"),
              ("redirect 20", "R20"), ("proxy 13", "P13"), ("18 via NAT30", "NAT30")],
}
TITLES = {"fig2a": "Figure 2a: client 16 (behind NAT firewall 28) calls client 14 (public)",
          "fig2b": "Figure 2b: client 14 (public) calls client 16 (behind NAT firewall 28)",
          "fig2c": "Figure 2c: client 16 (behind NAT firewall 28) calls client 18 "
                   "(behind NAT firewall 30)"}
WIDTH = 14


def arrow_line(cols, src, dst, label, fill="-"):
    centers = [6 + WIDTH * i + WIDTH // 2 for i in range(len(cols))]
    line = [" "] * (centers[-1] + 2)
    for x in centers:
        line[x] = "|"
    a, b = cols.index(src), cols.index(dst)
    lo, hi = sorted((centers[a], centers[b]))
    for x in range(lo + 1, hi):
        line[x] = fill
    if b > a:
        line[hi - 1] = ">"
    else:
        line[lo + 1] = "<"
    if label:
        mid = (lo + hi) // 2 - len(label) // 2
        for i, ch in enumerate(label):
            line[mid + i] = ch
    return "".join(line)


def summary(m):
    if m.is_request:
        u, h, _ = uri_parts(m.ruri)
        return "%s sip:%s@%s" % (m.method, u, h)
    return "%d %s" % (m.status, m.first.split(" ", 2)[2] if m.first.count(" ") >= 2 else "")


def detail(m):
    out = []
    if m.is_request:
        out.append("Request-URI  %s" % m.ruri)
    for i, v in enumerate(m.all("via")):
        sent_by, params = via_parts(v)
        extra = ""
        if "received" in params:
            extra = " (received=%s;rport=%s)" % (params["received"], params.get("rport"))
        out.append("%-12s %s" % ("Via" if i == 0 else "", sent_by + extra))
    if m.all("record-route"):
        out.append("Record-Route %s" % ", ".join(m.all("record-route")))
    if m.all("contact"):
        out.append("Contact      %s" % ", ".join(m.all("contact")))
    conns, ports = m.sdp()
    if conns or ports:
        out.append("SDP          c=%s m=audio %s" % (",".join(conns), ",".join(map(str, ports))))
    return out


def ladder(c, flow, cols_spec):
    cols = [n for _, n in cols_spec]
    print(TITLES[flow] + ", as captured on network 12 (%s NAT)" % c.opts.get("nat", "?"))
    print()
    heads = "".join(label.center(WIDTH) for label, _ in cols_spec)
    addrs = "".join(IP[n].center(WIDTH) for n in cols)
    numbered = {id(m): n for n, m in c.signals.items()}
    rows = []  # (time, src node, dst node, arrow label, fill, text)
    for m in c.sips:
        if m.call_id() != c.call:
            continue
        n = numbered.get(id(m))
        rows.append((m.t, m.src, m.dst, " %d " % n if n else "", "-", summary(m)))
    for (src, dst), t in c.media_start.items():
        rows.append((t, src, dst, " RTP ", "=", "%d RTP packets, %s → %s" % (
            c.media_legs.get((src, dst), 0), who(src), who(dst))))
    rows.sort(key=lambda r: r[0])
    print("  ms  " + heads)
    print("      " + addrs)
    t0 = rows[0][0] if rows else 0
    for t, src, dst, label, fill, text in rows:
        a, b = NAMES.get(src.rpartition(":")[0]), NAMES.get(dst.rpartition(":")[0])
        if a in cols and b in cols:
            print("%5d%s  %s" % ((t - t0) * 1000, arrow_line(cols, a, b, label, fill)[5:], text))
    print()
    print("What the numbered signals carry (as seen on the wire):")
    for n in sorted(c.signals):
        m = c.signals[n]
        print("  %2d  %s → %s  %s" % (n, who(m.src), who(m.dst), summary(m)))
        for line in detail(m):
            print("        " + line)


def print_media(c, legs, reports):
    print()
    print("Media (RTP data packets on network 12, counted per leg):")
    for (src, dst), n in sorted(legs.items()):
        print("  %-22s → %-22s %5d" % (who(src), who(dst), n))
    for name, path in reports:
        try:
            with open(path) as f:
                print("  at client %s (behind its NAT, as rtp_peer counted): %s" % (
                    name, f.read().strip()))
        except OSError:
            pass


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    flow = argv[1]
    draw = flow == "ladder"
    if draw:
        flow, argv = argv[2], argv[1:]
    opts, i = {}, 3
    while i < len(argv):
        key = argv[i].lstrip("-")
        val = argv[i + 1] if i + 1 < len(argv) else ""
        opts[key] = int(val) if key == "rtp" else val
        i += 2
    if flow not in FLOWS:
        print("unknown flow %s" % flow, file=sys.stderr)
        return 2
    sips, rtp = load(argv[2])
    c = Checker(sips, rtp, opts)
    if not draw:
        FLOWS[flow](c)
        return 1 if c.failed else 0
    # The ladder: run the checks quietly, then draw.
    real_stdout = sys.stdout
    sys.stdout = open("/dev/null", "w")
    try:
        legs = FLOWS[flow](c) or {}
        c.media_legs = legs
    finally:
        sys.stdout.close()
        sys.stdout = real_stdout
    ladder(c, flow, COLUMNS[flow])
    reports = []
    if opts.get("reports"):
        d, _, names = opts["reports"].partition(":")
        reports = [(n.split("=")[0], "%s/%s" % (d, n.split("=")[1])) for n in names.split(",")]
    print_media(c, legs, reports)
    print()
    print("%d checks failed" % c.failed if c.failed else "every check of the signals passed")
    return 1 if c.failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
