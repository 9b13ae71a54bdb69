#!/usr/bin/env python3
"""Checks a capture of a call test against what the patent says each
message carries (issue #6), and draws the ladder of docs/signal-flows.md.

  calls_check.py FLOW PCAP NAME=PORT... [relay=MIN-MAX]
        FLOW: fig2a fig2b fig2c cancel busy hold notfound maxfwd failover
        relaydown lateoffer fork. Prints one "ok WHAT" or "FAIL WHAT: WHY" line per check;
        exit 1 when any failed.
  calls_check.py ladder PCAP NAME=PORT... [relay=MIN-MAX] [call=N] [fig=2a|2b|2c]
        prints call N's messages (default the first) as a markdown ladder,
        numbering the figure's signals 1-12 (docs/signal-flows.md).
  calls_check.py messages PCAP NAME=PORT... pairs=p11-y,p11-r [call=N]
        prints the whole text of call N's messages between those endpoints.
  calls_check.py docs DIR FILE
        refreshes the ladder/messages blocks of FILE (docs/signal-flows.md)
        from the captures the call tests left in DIR (CALLS_PCAP_DIR=DIR).

NAME=PORT names the SIP endpoints on 127.0.0.1: p11 p13 (the proxies),
r (redirectd), y (relayd's control port), ph14 ph16 ph18 (the phones' SIP
ports), rtp14 rtp16 rtp18 (the phones' media ports), dead (a relay control
port nobody listens on). relay=MIN-MAX is relayd's media port range.

The capture is tshark's pcap of lo (-F pcap). Loopback only: every packet is
127.0.0.1 to 127.0.0.1, so a port names an endpoint.
"""
import re
import struct
import sys

NAT_HOST = "192.168.1.10"
NAT_SENT_BY = NAT_HOST + ":5060"
LO = "127.0.0.1"
PUB_MEDIA = "127.0.0.2"  # a public phone's media address (calls_lib.sh)
COMPACT = {"v": "via", "f": "from", "t": "to", "i": "call-id", "m": "contact",
           "l": "content-length", "c": "content-type", "k": "supported",
           "s": "subject", "e": "content-encoding", "r": "refer-to"}


# ---- capture ----

def read_pcap(path):
    """Yields (time, sport, dport, payload) for every UDP/IPv4 packet."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        return
    magic = data[:4]
    endian = {b"\xd4\xc3\xb2\xa1": "<", b"\xa1\xb2\xc3\xd4": ">",
              b"\x4d\x3c\xb2\xa1": "<", b"\xa1\xb2\x3c\x4d": ">"}.get(magic)
    if not endian:
        raise SystemExit("%s: not a pcap file (tshark -F pcap)" % path)
    nano = magic in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
    linktype = struct.unpack(endian + "I", data[20:24])[0]
    link_len = {1: 14, 113: 16, 276: 20, 0: 4}.get(linktype)
    if link_len is None:
        raise SystemExit("unsupported link type %d" % linktype)
    off = 24
    while off + 16 <= len(data):
        sec, frac, incl, _ = struct.unpack(endian + "IIII", data[off:off + 16])
        pkt = data[off + 16:off + 16 + incl]
        off += 16 + incl
        ip = pkt[link_len:]
        if len(ip) < 20 or ip[0] >> 4 != 4 or ip[9] != 17:
            continue
        ihl = (ip[0] & 15) * 4
        udp = ip[ihl:]
        if len(udp) < 8:
            continue
        sport, dport, ulen = struct.unpack(">HHH", udp[:6])
        yield (sec + frac / (1e9 if nano else 1e6), sport, dport, udp[8:ulen])


def split_list(value):
    """Splits a header value on commas outside <> and quotes."""
    out, cur, depth, quoted = [], "", 0, False
    for ch in value:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch == "<":
            depth += 1
        elif not quoted and ch == ">":
            depth -= 1
        if ch == "," and not quoted and depth == 0:
            out.append(cur.strip())
            cur = ""
        else:
            cur += ch
    if cur.strip():
        out.append(cur.strip())
    return out


class Sip:
    """One SIP message of the capture."""

    def __init__(self, t, src, dst, text):
        self.t, self.src, self.dst, self.raw = t, src, dst, text
        head, _, self.body = text.partition("\r\n\r\n")
        lines = head.split("\r\n")
        self.first = lines[0]
        self.headers = []
        for line in lines[1:]:
            if line[:1] in (" ", "\t") and self.headers:
                name, val = self.headers[-1]
                self.headers[-1] = (name, val + " " + line.strip())
                continue
            name, _, val = line.partition(":")
            name = name.strip().lower()
            self.headers.append((COMPACT.get(name, name), val.strip()))
        parts = self.first.split(" ")
        self.is_request = not self.first.startswith("SIP/2.0")
        self.method = parts[0] if self.is_request else None
        self.ruri = parts[1] if self.is_request and len(parts) > 1 else None
        self.status = int(parts[1]) if not self.is_request else None
        cseq = self.get("cseq").split()
        self.cseq_method = cseq[1] if len(cseq) > 1 else ""

    def get(self, name):
        for n, v in self.headers:
            if n == name:
                return v
        return ""

    def all(self, name):
        out = []
        for n, v in self.headers:
            if n == name:
                out += split_list(v)
        return out

    def kind(self):
        """'INVITE' for a request, '200 INVITE' for a response."""
        return self.method if self.is_request else "%d %s" % (self.status, self.cseq_method)

    def call_id(self):
        return self.get("call-id")

    def sdp(self):
        conns = re.findall(r"^c=IN IP4 (\S+)", self.body, re.M)
        ports = [int(p) for p in re.findall(r"^m=\w+ (\d+) ", self.body, re.M)]
        dirs = re.findall(r"^a=(sendrecv|sendonly|recvonly|inactive)\s*$", self.body, re.M)
        return conns, ports, dirs


def via_parts(via):
    """'SIP/2.0/UDP h:p;a=b;c' -> ('h:p', {'a': 'b', 'c': ''})."""
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
    """'<sip:user@h:p;lr>;x' or 'sip:user@h:p' -> (user, 'h:p', params)."""
    m = re.search(r"sips?:(?:([^@;>]+)@)?([^;>\s]+)([^>]*)", value)
    if not m:
        return None, value, ""
    return m.group(1), m.group(2), m.group(3)


def top_branch(m):
    vias = m.all("via")
    return via_parts(vias[0])[1].get("branch") if vias else None


def challenged(sips, cid):
    """The branches of call cid's phone→proxy INVITEs that the proxy
    answered with 407 (issue #14: a phone's first INVITE is challenged)."""
    return {top_branch(m) for m in sips if m.call_id() == cid and m.kind() == "407 INVITE"
            and m.dst.startswith("ph")}


def in_challenge(m, branches):
    """m is a message of one of those challenged transactions."""
    return (m.src.startswith("ph") or m.dst.startswith("ph")) and top_branch(m) in branches


# ---- the network of a test ----

class Net:
    def __init__(self, args):
        self.port = {}
        self.relay = (0, -1)
        self.call_index = 0
        self.fig = None
        self.pairs = []
        for a in args:
            k, _, v = a.partition("=")
            if k == "relay":
                lo, _, hi = v.partition("-")
                self.relay = (int(lo), int(hi))
            elif k == "call":
                self.call_index = int(v)
            elif k == "fig":
                self.fig = v
            elif k == "pairs":
                self.pairs = v.split(",")
            else:
                self.port[k] = int(v)
        self.name = {p: n for n, p in self.port.items()}

    def hp(self, name):
        return "%s:%d" % (LO, self.port[name])

    def who(self, port):
        if port in self.name:
            return self.name[port]
        if self.relay[0] <= port <= self.relay[1]:
            return "relay:%d" % port
        return str(port)

    def is_relay_port(self, port):
        return self.relay[0] <= port <= self.relay[1]


def load(path, net):
    """SIP messages in order, and RTP as a list of (time, source, destination)."""
    sips, rtp = [], []
    for t, sport, dport, payload in read_pcap(path):
        src, dst = net.who(sport), net.who(dport)
        if payload[:1] and payload[0] & 0xc0 == 0x80 and len(payload) >= 12:
            rtp.append((t, src, dst))
            continue
        try:
            text = payload.decode("utf-8")
        except UnicodeDecodeError:
            continue
        if text.strip("\r\n") == "" or "SIP/2.0" not in text.split("\r\n", 1)[0]:
            continue
        sips.append(Sip(t, src, dst, text))
    return sips, rtp


# ---- checks ----

class Checker:
    def __init__(self, net, sips, rtp):
        self.net, self.sips, self.rtp = net, sips, rtp
        self.failed = 0
        self.call = None

    def ok(self, what):
        print("ok %s" % what)

    def fail(self, what, why):
        self.failed += 1
        print("FAIL %s: %s" % (what, why))

    def expect(self, what, got, want):
        if got == want:
            self.ok("%s (%s)" % (what, got))
        else:
            self.fail(what, "got %r, want %r" % (got, want))
        return got == want

    def truth(self, what, cond, why=""):
        if cond:
            self.ok(what)
        else:
            self.fail(what, why or "false")
        return cond

    def calls(self, caller, proxy):
        """Call-IDs of the INVITEs caller sent to proxy, in order."""
        seen = []
        for m in self.sips:
            if m.src == caller and m.dst == proxy and m.method == "INVITE" \
                    and m.call_id() not in seen:
                seen.append(m.call_id())
        return seen

    def use_call(self, caller, proxy, index=0):
        ids = self.calls(caller, proxy)
        if index >= len(ids):
            self.fail("call %d from %s" % (index + 1, caller), "no INVITE %s→%s" % (caller, proxy))
            return False
        self.call = ids[index]
        self.challenge(caller, proxy)
        return True

    def challenge(self, caller, proxy):
        """Issue #14: the caller's first INVITE carries no credentials and
        is challenged with 407 (Digest, the realm, MD5, qop auth), ACKed in
        its transaction; the proxy sends nothing onwards for it; the INVITE
        sent again carries Proxy-Authorization for the From user. The
        figure's checks then start from that INVITE: the challenge's
        messages are left out of what they see."""
        invs = self.msgs(caller, proxy, "INVITE")
        first = invs[0]
        b = top_branch(first)
        self.truth("auth: %s's first INVITE carries no credentials" % caller,
                   not first.get("proxy-authorization"))
        r407 = [m for m in self.msgs(proxy, caller, "407 INVITE") if top_branch(m) == b]
        if not self.truth("auth: %s challenges it: 407" % proxy, bool(r407), "no 407"):
            return
        pa = r407[0].get("proxy-authenticate")
        self.truth("auth: Proxy-Authenticate: Digest, realm, MD5, qop=auth (%s)" % pa,
                   pa.startswith("Digest ") and 'realm="pinhole.test"' in pa
                   and "algorithm=MD5" in pa and 'qop="auth"' in pa)
        self.truth("auth: the 407 ACKed in its transaction (RFC 3261 §17.1.1.3)",
                   any(top_branch(m) == b for m in self.msgs(caller, proxy, "ACK")))
        again = [m for m in invs if top_branch(m) != b]
        if not self.truth("auth: the INVITE sent again", bool(again), "no second INVITE"):
            return
        onwards = [m for m in self.sips if m.call_id() == self.call and m.src == proxy
                   and m.dst != caller and m.t < again[0].t]
        self.truth("auth: %s sends nothing onwards before the credentials" % proxy, not onwards,
                   "found %s" % ", ".join("%s→%s" % (m.first, m.dst) for m in onwards[:3]))
        cred = again[0].get("proxy-authorization")
        user = re.search(r'username="([^"]*)"', cred)
        self.expect("auth: the credentials are the From user's", user.group(1) if user else cred,
                    uri_parts(again[0].get("from"))[0])
        self.sips = [m for m in self.sips if m.call_id() != self.call or not in_challenge(m, {b})]

    def no_credentials(self, label, m):
        """A forwarded request carries none of the caller's credentials."""
        if m is not None:
            self.truth("%s: the caller's credentials are not forwarded" % label,
                       not m.get("proxy-authorization") and not m.get("authorization"))

    def msgs(self, src, dst, kind):
        return [m for m in self.sips if m.call_id() == self.call and m.src == src
                and m.dst == dst and m.kind() == kind]

    def find(self, label, src, dst, kind, nth=0, cseq=None):
        """The nth distinct message (retransmissions folded) src→dst."""
        found = self.msgs(src, dst, kind)
        if cseq is not None:
            found = [m for m in found if m.get("cseq").split()[0] == str(cseq)]
        distinct = []
        for m in found:
            key = (m.first, m.get("cseq"), tuple(m.all("via"))[:1])
            if key not in [d[0] for d in distinct]:
                distinct.append((key, m))
        if nth < len(distinct):
            self.ok("%s: %s → %s %s" % (label, src, dst, kind))
            return distinct[nth][1]
        self.fail("%s: %s → %s %s" % (label, src, dst, kind), "not in the capture")
        return None

    def none(self, label, src, dst, kinds=None):
        found = [m for m in self.sips if m.call_id() == self.call and m.src == src
                 and m.dst == dst and (kinds is None or m.kind() in kinds)]
        self.truth(label, not found, "found %s" % ", ".join(m.first for m in found[:3]))

    # -- header expectations --

    def ruri(self, label, m, user, hostport):
        if m is None:
            return
        u, hp, _ = uri_parts(m.ruri or "")
        self.expect("%s: Request-URI" % label, "%s@%s" % (u, hp), "%s@%s" % (user, hostport))

    def vias(self, label, m, want):
        """want: list of sent-by, top first (a proxy's: a z9hG4bK branch); a
        phone's Via as ('nat', port): the private sent-by, or ('pub', port):
        its own address; either with received=127.0.0.1;rport=port (the
        first proxy sets both, always: design decision 1)."""
        if m is None:
            return
        got = [via_parts(v) for v in m.all("via")]
        desc = []
        good = len(got) == len(want)
        for i, w in enumerate(want):
            if isinstance(w, tuple):
                kind, port = w
                sent_by = NAT_SENT_BY if kind == "nat" else "%s:%d" % (LO, port)
                desc.append("%s(received=%s;rport=%d)" % (sent_by, LO, port))
                if i < len(got):
                    hp, params = got[i]
                    good &= hp == sent_by and params.get("received") == LO \
                        and params.get("rport") == str(port)
            else:
                desc.append(w)
                if i < len(got):
                    good &= got[i][0] == w and got[i][1].get("branch", "").startswith("z9hG4bK")
        self.truth("%s: Via = %s" % (label, " , ".join(desc)), good,
                   "got %s" % " , ".join(m.all("via")))

    def rr(self, label, m, want, header="record-route"):
        if m is None:
            return
        got = [uri_parts(v) for v in m.all(header)]
        good = len(got) == len(want) and all(
            g[1] == w and ";lr" in g[2] for g, w in zip(got, want))
        name = "Record-Route" if header == "record-route" else "Route"
        self.truth("%s: %s = %s" % (label, name, ", ".join("<%s;lr>" % w for w in want) or "none"),
                   good, "got %s" % (m.all(header) or "none"))

    def contact(self, label, m, user, hostport):
        if m is None:
            return
        got = m.all("contact")
        u, hp, _ = uri_parts(got[0]) if len(got) == 1 else (None, None, None)
        self.expect("%s: Contact" % label, "%s@%s" % (u, hp), "%s@%s" % (user, hostport))

    def max_forwards(self, label, m, want):
        if m is not None:
            self.expect("%s: Max-Forwards" % label, m.get("max-forwards"), str(want))

    def sdp(self, label, m, conn, port, direction=None):
        """port: an int, or 'relay' for any port of relayd's range."""
        if m is None:
            return None
        conns, ports, dirs = m.sdp()
        good = conns and all(c == conn for c in conns) and len(ports) == 1
        if port == "relay":
            good = good and self.net.is_relay_port(ports[0]) and ports[0] % 2 == 0
        else:
            good = good and ports[0] == port
        if direction:
            good = good and dirs == [direction]
        self.truth("%s: SDP c=%s m=audio %s%s" % (label, conn, port,
                                                   " a=" + direction if direction else ""),
                   good, "got c=%s m=%s a=%s" % (conns, ports, dirs))
        return ports[0] if ports else None

    def same(self, label, a, b):
        if a is not None and b is not None:
            self.expect(label, a, b)

    def branch(self, m, i=0):
        vias = m.all("via") if m else []
        return via_parts(vias[i])[1].get("branch") if len(vias) > i else None

    # -- relayd --

    def relay_alloc(self, label, proxy, callee, sdp_conn):
        """Fig. 4b / 8a-8b: proxy → relayd INVITE sip:callee@relay with the
        offer, 302 with the relay address and an allocated port, ACK."""
        inv = self.find(label + " relay invite (fig. 8a)", proxy, "y", "INVITE")
        self.ruri(label + " relay invite", inv, callee, self.net.hp("y"))
        if inv is not None:
            self.expect(label + " relay invite: the offer's c=", inv.sdp()[0][:1], [sdp_conn])
        resp = self.find(label + " relay response (fig. 8b)", "y", proxy, "302 INVITE")
        port = self.sdp(label + " relay response", resp, LO, "relay")
        self.find(label + " relay 302 ACKed", proxy, "y", "ACK")
        return port

    def relay_report(self, label, proxy, answer, media):
        """Issue #15: once the callee answered (`answer`, the 2xx as it
        reached proxy), the proxy holding the resource tells relayd who
        answered: an INVITE for the same Call-ID with the answer's own SDP
        and Pinhole-Sources naming the answerer ;sdp; 302, ACKed."""
        rep = self.find(label + " report of the answerer to relayd (Pinhole-Sources)", proxy, "y",
                        "INVITE", nth=1)
        if rep is None:
            return
        if answer is not None:
            self.truth(label + " report: after the answer reached the proxy", rep.t >= answer.t)
        self.expect(label + " report: Pinhole-Sources names the answerer with its SDP",
                    rep.get("pinhole-sources"), LO + ";sdp")
        self.expect(label + " report: the answer's own SDP (c=)", rep.sdp()[0][:1], [media])
        self.find(label + " report answered 302", "y", proxy, "302 INVITE", nth=1)
        self.find(label + " report's 302 ACKed", proxy, "y", "ACK", nth=1)

    def stamps(self, label):
        """Issue #15: the phone's IP (Pinhole-Source) travels between the
        proxies only; every relay INVITE names a phone (Pinhole-Sources)."""
        phones = {"ph14", "ph16", "ph18"}
        mine = [m for m in self.sips if m.call_id() == self.call]
        leaked = [m.first for m in mine if m.dst in phones and
                  (m.get("pinhole-source") or m.get("pinhole-sources"))]
        self.truth(label + ": no phone sees Pinhole-Source(s)", not leaked, repr(leaked[:3]))
        between = [m for m in mine if {m.src, m.dst} == {"p11", "p13"} and
                   (m.method == "INVITE" or (not m.is_request and 100 < m.status < 300 and
                                             m.cseq_method == "INVITE"))]
        self.truth(label + ": every INVITE and 18x/2xx between the proxies carries the phone's IP",
                   between and all(m.get("pinhole-source") == LO for m in between),
                   repr([(m.first, m.get("pinhole-source")) for m in between][:4]))
        to_y = [m for m in mine if m.dst == "y" and m.method == "INVITE"]
        self.truth(label + ": every relay INVITE names the phone whose SDP it carries",
                   to_y and all((LO + ";sdp") in m.get("pinhole-sources") for m in to_y),
                   repr([m.get("pinhole-sources") for m in to_y]))

    def relay_release(self, label, proxy):
        """Decision 9: the proxy that allocated sends BYE with the Call-ID."""
        bye = self.find(label + " relay released (BYE)", proxy, "y", "BYE")
        self.ruri(label + " relay BYE", bye, uri_parts(bye.ruri)[0] if bye else None,
                  self.net.hp("y"))
        self.find(label + " relayd answers the release", "y", proxy, "200 BYE")

    def redirect(self, label, proxy, callee, contact):
        """Fig. 4c / 7a-7b: proxy → redirectd INVITE sip:callee@redirect,
        302 with one Contact (the next hop), ACK."""
        inv = self.find(label + " redirect invite (fig. 7a)", proxy, "r", "INVITE")
        self.ruri(label + " redirect invite", inv, callee, self.net.hp("r"))
        resp = self.find(label + " redirect response (fig. 7b)", "r", proxy, "302 INVITE")
        self.contact(label + " redirect response", resp, callee, contact)
        self.find(label + " redirect 302 ACKed", proxy, "r", "ACK")
        return resp

    def rtp_counts(self):
        """RTP per (source, destination) while this call held its relay:
        from its first INVITE to P11's release of the relay. Another run of
        the same test on this machine may use the port before or after us
        (relayd binds without SO_REUSEADDR, so never at the same time)."""
        calls = [m.t for m in self.sips if m.call_id() == self.call]
        ends = [m.t for m in self.sips if m.call_id() == self.call and m.dst == "y"
                and m.method == "BYE"]
        start, end = min(calls), max(ends) if ends else float("inf")
        counts = {}
        for t, src, dst in self.rtp:
            if start <= t <= end:
                counts[(src, dst)] = counts.get((src, dst), 0) + 1
        return counts

    def media(self, label, a, b, relay_port, want=1):
        """RTP of a (port name rtpX) reaches b through relay_port, and back."""
        if relay_port is None:
            return
        rp = "relay:%d" % relay_port
        rtp = self.rtp_counts()
        for s, d in ((a, b), (b, a)):
            up, down = rtp.get((s, rp), 0), rtp.get((rp, d), 0)
            self.truth("%s: RTP %s → relay %d → %s (%d in, %d out)" % (label, s, relay_port, d,
                                                                     up, down),
                       up >= want and down >= want, "no media relayed")
        others = {k: v for k, v in rtp.items() if rp in k and not {k[0], k[1]} <= {a, b, rp}}
        self.truth("%s: no RTP between the relay port and anyone else" % label, not others,
                   repr(others))


# ---- the flows ----

def fig2a(c, callee="14", callee_ph="ph14", callee_nat=False, rtp_callee="rtp14"):
    """Fig. 2a (16 NATed at P11 calls public 14 at P13) and, with a NATed
    callee, fig. 2c (16 calls 18 at P13): signals 1-12, ACK, BYE."""
    n = c.net
    if not c.use_call("ph16", "p11"):
        return None
    ph = n.port[callee_ph]
    s1 = c.find("1 INVITE (fig. 5a)", "ph16", "p11", "INVITE")
    c.ruri("1", s1, callee, n.hp("p11"))
    c.vias("1 (the phone's private sent-by)", s1, [NAT_SENT_BY])
    c.find("1 answered 100 Trying at once", "p11", "ph16", "100 INVITE")
    relay = c.relay_alloc("2-3", "p11", callee, NAT_HOST)
    c.redirect("4-5", "p11", callee, n.hp("p13"))
    s6 = c.find("6 forwarding invite (fig. 5b)", "p11", "p13", "INVITE")
    c.ruri("6", s6, callee, n.hp("p13"))
    c.vias("6", s6, [n.hp("p11"), ("nat", n.port["ph16"])])
    c.rr("6", s6, [n.hp("p11")])
    c.contact("6 (step 144: NAT address, not 192.168.1.10)", s6, "16", n.hp("ph16"))
    c.max_forwards("6", s6, 69)
    c.no_credentials("6", s6)
    p6 = c.sdp("6 (step 148: the relay replaces 16's media)", s6, LO, "relay")
    c.same("6: SDP port = relayd's allocation", p6, relay)
    c.find("6 answered 100 by P13", "p13", "p11", "100 INVITE")
    c.redirect("7-8", "p13", callee, n.hp(callee_ph))
    c.none("P13 asks relayd nothing (step 152b: relay already in the SDP)", "p13", "y")
    s9 = c.find("9 second forwarding invite (fig. %s)" % ("5g" if callee_nat else "5c"),
                "p13", callee_ph, "INVITE")
    c.ruri("9", s9, callee, n.hp(callee_ph))
    c.vias("9", s9, [n.hp("p13"), n.hp("p11"), ("nat", n.port["ph16"])])
    c.rr("9", s9, [n.hp("p13"), n.hp("p11")])
    c.contact("9", s9, "16", n.hp("ph16"))
    c.max_forwards("9", s9, 68)
    c.no_credentials("9", s9)
    c.same("9: SDP port = relayd's allocation", c.sdp("9", s9, LO, "relay"), relay)
    c.same("9: same Call-ID as signal 1", s9.call_id() if s9 else None, c.call)
    # 180 on the way back
    for src, dst, vias in ((callee_ph, "p13", [n.hp("p13"), n.hp("p11"), ("nat", n.port["ph16"])]),
                           ("p13", "p11", [n.hp("p11"), ("nat", n.port["ph16"])]),
                           ("p11", "ph16", [("nat", n.port["ph16"])])):
        r = c.find("180 %s→%s" % (src, dst), src, dst, "180 INVITE")
        c.vias("180 %s→%s" % (src, dst), r, vias)
    callee_contact = (NAT_SENT_BY if callee_nat else n.hp(callee_ph))
    s10 = c.find("10 OK (fig. %s)" % ("6f" if callee_nat else "6a"), callee_ph, "p13", "200 INVITE")
    c.vias("10", s10, [n.hp("p13"), n.hp("p11"), ("nat", n.port["ph16"])])
    c.rr("10", s10, [n.hp("p13"), n.hp("p11")])
    c.contact("10", s10, callee, callee_contact)
    callee_media = NAT_HOST if callee_nat else PUB_MEDIA
    c.sdp("10: the callee's own SDP", s10, callee_media, n.port[rtp_callee])
    s11 = c.find("11 forwarding OK", "p13", "p11", "200 INVITE")
    c.vias("11 (P13's Via removed)", s11, [n.hp("p11"), ("nat", n.port["ph16"])])
    c.rr("11", s11, [n.hp("p13"), n.hp("p11")])
    c.contact("11" + (" (decision 7: 18's NAT address)" if callee_nat else ""), s11, callee,
              n.hp(callee_ph))
    c.sdp("11: SDP as the callee sent it (P13 holds no relay resource)", s11, callee_media,
          n.port[rtp_callee])
    s12 = c.find("12 second forwarding OK", "p11", "ph16", "200 INVITE")
    c.vias("12 (P11's Via removed)", s12, [("nat", n.port["ph16"])])
    c.rr("12", s12, [n.hp("p13"), n.hp("p11")])
    c.contact("12", s12, callee, n.hp(callee_ph))
    c.same("12: SDP = the relay resource (steps 222-224)", c.sdp("12", s12, LO, "relay"), relay)
    c.relay_report("11", "p11", s11, callee_media)
    c.stamps("issue #15")
    dialog_end(c, "ph16", "p11", "p13", callee_ph, ("nat", n.port["ph16"]), callee, n.hp(callee_ph))
    c.relay_release("end", "p11")
    c.none("P13 releases nothing (it allocated nothing)", "p13", "y")
    c.media("media", "rtp16", rtp_callee, relay)
    return relay


def dialog_end(c, caller_ph, first, second, callee_ph, caller_via, callee, callee_hp):
    """ACK and BYE of the caller along the record-route, 200 back."""
    n = c.net
    ack = c.find("ACK (2xx) caller→first proxy", caller_ph, first, "ACK")
    c.rr("ACK caller→%s" % first, ack, [n.hp(first), n.hp(second)], header="route")
    c.ruri("ACK caller→%s" % first, ack, callee, callee_hp)
    c.find("ACK %s→%s" % (first, second), first, second, "ACK")
    ack3 = c.find("ACK reaches the callee", second, callee_ph, "ACK")
    c.vias("ACK at the callee", ack3, [n.hp(second), n.hp(first), caller_via])
    c.rr("ACK at the callee", ack3, [], header="route")
    for src, dst in ((caller_ph, first), (first, second), (second, callee_ph)):
        c.find("BYE %s→%s" % (src, dst), src, dst, "BYE")
    bye3 = c.msgs(second, callee_ph, "BYE")
    if bye3:
        c.ruri("BYE at the callee", bye3[0], callee, callee_hp)
        c.vias("BYE at the callee", bye3[0], [n.hp(second), n.hp(first), caller_via])
    for src, dst in ((callee_ph, second), (second, first), (first, caller_ph)):
        c.find("200 BYE %s→%s" % (src, dst), src, dst, "200 BYE")


def flow_fig2a(c):
    fig2a(c)


def flow_fig2c(c):
    fig2a(c, callee="18", callee_ph="ph18", callee_nat=True, rtp_callee="rtp18")


def flow_fig2b(c):
    """Fig. 2b: public 14 at P13 calls NATed 16 at P11."""
    n = c.net
    if not c.use_call("ph14", "p13"):
        return
    s1 = c.find("1 INVITE (fig. 5d)", "ph14", "p13", "INVITE")
    c.ruri("1", s1, "16", n.hp("p13"))
    c.find("1 answered 100 Trying", "p13", "ph14", "100 INVITE")
    c.none("P13 asks relayd nothing (14 is public)", "p13", "y")
    c.redirect("2-3", "p13", "16", n.hp("p11"))
    s4 = c.find("4 forwarding invite (fig. 5e)", "p13", "p11", "INVITE")
    c.ruri("4", s4, "16", n.hp("p11"))
    c.vias("4", s4, [n.hp("p13"), ("pub", n.port["ph14"])])
    c.rr("4", s4, [n.hp("p13")])
    c.contact("4", s4, "14", n.hp("ph14"))
    c.max_forwards("4", s4, 69)
    c.no_credentials("4", s4)
    c.sdp("4: 14's own SDP (no relay yet)", s4, PUB_MEDIA, n.port["rtp14"])
    r6 = c.redirect("5-6", "p11", "16", n.hp("ph16"))
    relay = c.relay_alloc("7-8 (step 152a: 16 is a NAT client)", "p11", "16", PUB_MEDIA)
    inv7 = c.msgs("p11", "y", "INVITE")
    if r6 is not None and inv7:
        c.truth("7 after 6 (the relay is asked once the destination is known)",
                inv7[0].t >= r6.t)
    s9 = c.find("9 second forwarding invite (fig. 5f)", "p11", "ph16", "INVITE")
    c.ruri("9 (16's NAT channel)", s9, "16", n.hp("ph16"))
    c.vias("9", s9, [n.hp("p11"), n.hp("p13"), ("pub", n.port["ph14"])])
    c.rr("9", s9, [n.hp("p11"), n.hp("p13")])
    c.contact("9", s9, "14", n.hp("ph14"))
    c.max_forwards("9", s9, 68)
    c.same("9: SDP = the relay resource (step 154)", c.sdp("9", s9, LO, "relay"), relay)
    for src, dst, vias in (("ph16", "p11", [n.hp("p11"), n.hp("p13"), ("pub", n.port["ph14"])]),
                           ("p11", "p13", [n.hp("p13"), ("pub", n.port["ph14"])]),
                           ("p13", "ph14", [("pub", n.port["ph14"])])):
        r = c.find("180 %s→%s" % (src, dst), src, dst, "180 INVITE")
        c.vias("180 %s→%s" % (src, dst), r, vias)
    s10 = c.find("10 OK (fig. 6d)", "ph16", "p11", "200 INVITE")
    c.vias("10", s10, [n.hp("p11"), n.hp("p13"), ("pub", n.port["ph14"])])
    c.contact("10: 16's private Contact", s10, "16", NAT_SENT_BY)
    c.sdp("10: 16's private SDP", s10, NAT_HOST, n.port["rtp16"])
    s11 = c.find("11 forwarding OK (fig. 6e)", "p11", "p13", "200 INVITE")
    c.vias("11 (P11's Via removed)", s11, [n.hp("p13"), ("pub", n.port["ph14"])])
    c.rr("11", s11, [n.hp("p11"), n.hp("p13")])
    c.contact("11 (decision 7: 16's NAT address)", s11, "16", n.hp("ph16"))
    c.same("11: SDP = the relay resource", c.sdp("11", s11, LO, "relay"), relay)
    s12 = c.find("12 second forwarding OK", "p13", "ph14", "200 INVITE")
    c.vias("12 (P13's Via removed)", s12, [("pub", n.port["ph14"])])
    c.rr("12", s12, [n.hp("p11"), n.hp("p13")])
    c.contact("12", s12, "16", n.hp("ph16"))
    c.same("12: SDP = the relay resource", c.sdp("12", s12, LO, "relay"), relay)
    c.relay_report("10", "p11", s10, NAT_HOST)
    c.stamps("issue #15")
    dialog_end(c, "ph14", "p13", "p11", "ph16", ("pub", n.port["ph14"]), "16", n.hp("ph16"))
    c.relay_release("end", "p11")
    c.none("P13 releases nothing", "p13", "y")
    c.media("media", "rtp14", "rtp16", relay)


def failed_call(c, status, callee="14", reach_callee=True):
    """16 at P11 calls; the call fails with `status`, ACKed hop by hop; the
    relay resource P11 took is released. Returns the relay port."""
    n = c.net
    if not c.use_call("ph16", "p11"):
        return None
    relay = c.relay_alloc("relay", "p11", callee, NAT_HOST)
    if reach_callee:
        c.find("forwarded to P13", "p11", "p13", "INVITE")
        inv = c.find("forwarded to 14", "p13", "ph14", "INVITE")
        c.same("the callee's INVITE carries the relay", c.sdp("at 14", inv, LO, "relay"), relay)
    kind = "%d INVITE" % status
    nat16 = ("nat", n.port["ph16"])
    hops = ((("ph14", "p13"), [n.hp("p13"), n.hp("p11"), nat16]),
            (("p13", "p11"), [n.hp("p11"), nat16]),
            (("p11", "ph16"), [nat16]))
    for (src, dst), vias in hops if reach_callee else hops[2:]:
        r = c.find("%d %s→%s" % (status, src, dst), src, dst, kind)
        c.vias("%d %s→%s" % (status, src, dst), r, vias)
        ack = c.find("%d ACKed hop by hop %s→%s" % (status, dst, src), dst, src, "ACK")
        if r is not None and ack is not None:
            c.same("ACK %s→%s: same branch as the INVITE it ends (RFC 3261 §17.1.1.3)" % (dst, src),
                   c.branch(ack), c.branch(r))
    c.relay_release("failed call", "p11")
    c.none("no relay resource from P13", "p13", "y")
    return relay


def flow_busy(c):
    failed_call(c, 486)


def flow_notfound(c):
    n = c.net
    failed_call(c, 404, callee="99", reach_callee=False)
    inv = c.find("redirect invite", "p11", "r", "INVITE")
    c.ruri("redirect invite", inv, "99", n.hp("r"))
    c.find("redirectd: 404 (not registered)", "r", "p11", "404 INVITE")
    c.find("404 from redirectd ACKed", "p11", "r", "ACK")
    c.none("nothing forwarded to P13", "p11", "p13")


def flow_maxfwd(c):
    n = c.net
    if not c.use_call("ph16", "p11"):
        return
    s1 = c.find("INVITE with Max-Forwards 1", "ph16", "p11", "INVITE")
    c.max_forwards("at P11", s1, 1)
    s6 = c.find("P11 forwards it", "p11", "p13", "INVITE")
    c.max_forwards("P11 → P13 (decremented)", s6, 0)
    c.none("P13 forwards nothing", "p13", "ph14", ["INVITE"])
    r = c.find("483 P13→P11", "p13", "p11", "483 INVITE")
    c.vias("483 P13→P11", r, [n.hp("p11"), ("nat", n.port["ph16"])])
    c.find("483 P11→16", "p11", "ph16", "483 INVITE")
    c.relay_release("483", "p11")


def flow_cancel(c):
    """CANCEL before the answer (RFC 3261 §9.2, §16.10): 200 hop by hop,
    CANCEL downstream on the pending branch, 487 back, relay released."""
    n = c.net
    if not c.use_call("ph16", "p11"):
        return
    c.relay_alloc("relay", "p11", "14", NAT_HOST)
    inv6 = c.find("INVITE P11→P13", "p11", "p13", "INVITE")
    inv9 = c.find("INVITE P13→14", "p13", "ph14", "INVITE")
    c.find("180 reaches 16", "p11", "ph16", "180 INVITE")
    c.find("CANCEL 16→P11", "ph16", "p11", "CANCEL")
    c.find("CANCEL answered 200 by P11 itself", "p11", "ph16", "200 CANCEL")
    for hop, (src, dst, inv) in enumerate((("p11", "p13", inv6), ("p13", "ph14", inv9))):
        cn = c.find("CANCEL %s→%s" % (src, dst), src, dst, "CANCEL")
        if cn is not None and inv is not None:
            c.expect("CANCEL %s→%s: Request-URI = the INVITE's" % (src, dst), cn.ruri, inv.ruri)
            c.expect("CANCEL %s→%s: one Via, the INVITE's branch" % (src, dst),
                     [via_parts(v)[1].get("branch") for v in cn.all("via")], [c.branch(inv)])
            c.expect("CANCEL %s→%s: CSeq" % (src, dst), cn.get("cseq").split()[0] + " CANCEL",
                     inv.get("cseq").split()[0] + " CANCEL")
        c.find("CANCEL %s→%s answered 200" % (src, dst), dst, src, "200 CANCEL")
    for src, dst in (("ph14", "p13"), ("p13", "p11"), ("p11", "ph16")):
        c.find("487 %s→%s" % (src, dst), src, dst, "487 INVITE")
        c.find("487 ACKed %s→%s" % (dst, src), dst, src, "ACK")
    c.none("no 200 INVITE reaches 16", "p11", "ph16", ["200 INVITE"])
    c.relay_release("cancelled call", "p11")


def flow_hold(c):
    """Fig. 2a call, then 16 puts 14 on hold (c=0.0.0.0, a=sendonly) and
    resumes with re-INVITEs: the same relay port, hold attributes through."""
    n = c.net
    if not c.use_call("ph16", "p11"):
        return
    relay = c.relay_alloc("call", "p11", "14", NAT_HOST)
    c.find("200 reaches 16", "p11", "ph16", "200 INVITE")
    steps = (("hold", "0.0.0.0", "sendonly", "recvonly"), ("resume", LO, "sendrecv", "sendrecv"))
    for i, (what, conn_at_14, offer_dir, answer_dir) in enumerate(steps):
        cseq = i + 3  # 1: the challenged INVITE, 2: the call's
        re1 = c.find("%s re-INVITE 16→P11" % what, "ph16", "p11", "INVITE", cseq=cseq)
        c.rr("%s re-INVITE 16→P11" % what, re1, [n.hp("p11"), n.hp("p13")], header="route")
        re_y = [m for m in c.msgs("p11", "y", "INVITE") if m is not None]
        c.truth("%s: P11 asks relayd again for the same Call-ID" % what, len(re_y) >= i + 2,
                "%d relay invites" % len(re_y))
        r302 = [m for m in c.msgs("y", "p11", "302 INVITE")]
        if len(r302) >= i + 2:
            c.same("%s: relayd gives the same port" % what, r302[-1].sdp()[1][:1], [relay])
        c.find("%s re-INVITE P11→P13" % what, "p11", "p13", "INVITE", cseq=cseq)
        re3 = c.find("%s re-INVITE P13→14" % what, "p13", "ph14", "INVITE", cseq=cseq)
        c.contact("%s re-INVITE at 14 (16's NAT address)" % what, re3, "16", n.hp("ph16"))
        c.same("%s re-INVITE at 14: same relay port" % what,
               c.sdp("%s re-INVITE at 14" % what, re3, conn_at_14, "relay", offer_dir), relay)
        ok = [m for m in c.msgs("p11", "ph16", "200 INVITE")
              if m.get("cseq").split()[0] == str(cseq)]
        c.truth("%s: 200 reaches 16" % what, bool(ok))
        if ok:
            c.same("%s 200 at 16: same relay port" % what,
                   c.sdp("%s 200 at 16" % what, ok[0], LO, "relay", answer_dir), relay)
        c.find("%s ACK reaches 14" % what, "p13", "ph14", "ACK", nth=i + 1)
    c.find("BYE reaches 14", "p13", "ph14", "BYE")
    c.relay_release("end", "p11")
    c.media("media", "rtp16", "rtp14", relay)


def flow_failover(c):
    """relays = [dead, y]: the first relay does not answer, P11 retries its
    relay invite, gives up and takes the next relay; the call goes on."""
    n = c.net
    if not c.use_call("ph16", "p11"):
        return
    dead = [m for m in c.sips if m.call_id() == c.call and m.src == "p11" and m.dst == "dead"]
    c.truth("P11 tries the first relay (and retransmits: %d INVITEs)" % len(dead),
            len(dead) >= 2 and all(m.method == "INVITE" for m in dead))
    relay = c.relay_alloc("then the next relay", "p11", "14", NAT_HOST)
    if dead and c.msgs("p11", "y", "INVITE"):
        c.truth("the next relay only after the first gave up",
                c.msgs("p11", "y", "INVITE")[0].t > dead[-1].t)
    s9 = c.find("the call reaches 14", "p13", "ph14", "INVITE")
    c.same("with the second relay's port", c.sdp("at 14", s9, LO, "relay"), relay)
    c.find("200 reaches 16", "p11", "ph16", "200 INVITE")
    c.relay_release("end", "p11")
    c.media("media", "rtp16", "rtp14", relay)


def flow_lateoffer(c):
    """Issue #16, late offer: 16 (NATed, at P11) calls 14 (at P13) with an
    INVITE without SDP; 14's 200 carries the offer, which P11 holds while
    relayd is asked with it, and forwards pointed at the relay; 16's ACK
    carries the answer, pointed at the relay on its way to 14 and reported
    to relayd; RTP flows both ways through the relay."""
    if not c.use_call("ph16", "p11"):
        return
    s1 = c.find("1 INVITE without SDP", "ph16", "p11", "INVITE", cseq=2)
    c.truth("1 carries no SDP (a late offer)", s1 is not None and not s1.body.strip())
    ok14 = c.find("200 with 14's offer", "ph14", "p13", "200 INVITE")
    c.sdp("200 at P13: 14's own offer", ok14, PUB_MEDIA, c.net.port["rtp14"])
    ok11 = c.find("200 reaches P11", "p13", "p11", "200 INVITE")
    q = c.find("relay invite with the 200's offer", "p11", "y", "INVITE")
    if q is not None and ok11 is not None:
        c.truth("P11 asks relayd only once the offer came (after the 200)", q.t >= ok11.t)
        # on loopback 14 and 16 share 127.0.0.1: one value (the e2e lab has two)
        c.expect("the relay invite names 14 ;sdp (and 16)", q.get("pinhole-sources"),
                 LO + ";sdp")
        c.expect("the relay invite carries the 200's own SDP", q.sdp()[0][:1], [PUB_MEDIA])
    resp = c.find("relayd's 302", "y", "p11", "302 INVITE")
    relay = c.sdp("relayd's 302", resp, LO, "relay")
    ok16 = c.find("200 reaches 16", "p11", "ph16", "200 INVITE")
    if ok16 is not None and resp is not None:
        c.truth("the 200 waited for relayd", ok16.t >= resp.t)
    c.same("200 at 16: the offer points at the relay", c.sdp("200 at 16", ok16, LO, "relay"),
           relay)
    ack = c.find("ACK with 16's answer", "ph16", "p11", "ACK")
    c.sdp("ACK from 16: its private answer", ack, NAT_HOST, c.net.port["rtp16"])
    ack13 = c.find("ACK P11→P13", "p11", "p13", "ACK")
    c.same("ACK at P13: the answer points at the relay", c.sdp("ACK at P13", ack13, LO, "relay"),
           relay)
    rep = c.find("report of 16's answer to relayd", "p11", "y", "INVITE", nth=1)
    if rep is not None:
        c.expect("the report names 16 ;sdp", rep.get("pinhole-sources"), LO + ";sdp")
        c.expect("the report carries 16's own answer", rep.sdp()[0][:1], [NAT_HOST])
    c.relay_release("end", "p11")
    c.media("media", "rtp16", "rtp14", relay)


def flow_relaydown(c):
    """Every relay silent: 503 to the caller, nothing forwarded."""
    n = c.net
    if not c.use_call("ph16", "p11", index=1):
        return
    tries = [m for m in c.sips if m.call_id() == c.call and m.src == "p11"
             and m.dst in ("dead", "y") and m.method == "INVITE"]
    c.truth("P11 tries both relays (%d INVITEs)" % len(tries),
            {m.dst for m in tries} == {"dead", "y"})
    c.none("nothing forwarded to P13", "p11", "p13")
    r = c.find("503 to 16", "p11", "ph16", "503 INVITE")
    c.vias("503 at 16", r, [("nat", n.port["ph16"])])
    c.find("16 ACKs the 503", "ph16", "p11", "ACK")
    c.none("no relay release (nothing was allocated)", "p11", "y", ["BYE"])


def flow_fork(c):
    """Issue #16, parallel forking (RFC 3261 16.7): 14 has a desk phone
    (ph14) and a softphone (ph14b) registered at P13. 16 calls 14; P11's
    redirect answer names P13 once; P13's names both phones, and P13 sends
    each an INVITE of its own branch. Both ring; the desk phone answers;
    P13 CANCELs the softphone with RFC 3326's "Call completed elsewhere",
    ACKs its 487, which goes no further; the call is relayed as any."""
    n = c.net
    if not c.use_call("ph16", "p11"):
        return
    relay = c.relay_alloc("call", "p11", "14", NAT_HOST)
    c.find("INVITE P11→P13, once", "p11", "p13", "INVITE")
    r302 = c.find("P13's redirect answer", "r", "p13", "302 INVITE")
    if r302 is not None:
        hps = [uri_parts(v)[1] for v in r302.all("contact")]
        c.expect("it names both phones of 14", sorted(hps), sorted([n.hp("ph14"), n.hp("ph14b")]))
    desk = c.find("INVITE P13→desk phone", "p13", "ph14", "INVITE")
    soft = c.find("INVITE P13→softphone", "p13", "ph14b", "INVITE")
    if desk is not None and soft is not None:
        c.truth("each branch its own Via branch", c.branch(desk) != c.branch(soft))
        c.same("both offered the same relay port", c.sdp("at the softphone", soft, LO, "relay"),
               c.sdp("at the desk phone", desk, LO, "relay"))
    c.find("the softphone rings", "ph14b", "p13", "180 INVITE")
    c.find("the desk phone rings", "ph14", "p13", "180 INVITE")
    c.truth("16 hears both ring", len({m.get("to") for m in c.msgs("p11", "ph16", "180 INVITE")})
            >= 2, "one 180")
    ok = c.find("the desk phone answers", "ph14", "p13", "200 INVITE")
    c.find("200 reaches 16", "p11", "ph16", "200 INVITE")
    cn = c.find("the softphone is CANCELled", "p13", "ph14b", "CANCEL")
    if cn is not None and soft is not None:
        c.expect("CANCEL: the softphone INVITE's branch", c.branch(cn), c.branch(soft))
        c.expect("CANCEL: Reason (RFC 3326)", cn.get("reason"),
                 'SIP;cause=200;text="Call completed elsewhere"')
        if ok is not None:
            c.truth("CANCEL after the desk phone's 200", cn.t >= ok.t)
    c.find("its 487", "ph14b", "p13", "487 INVITE")
    c.find("its 487 ACKed by P13", "p13", "ph14b", "ACK")
    c.none("the 487 goes no further", "p13", "p11", ["487 INVITE"])
    c.none("the desk phone is not CANCELled", "p13", "ph14", ["CANCEL"])
    c.find("BYE reaches the desk phone", "p13", "ph14", "BYE")
    c.none("the softphone gets no ACK for a 2xx nor BYE", "p13", "ph14b", ["BYE"])
    c.relay_release("end", "p11")
    c.media("media", "rtp16", "rtp14", relay)


FLOWS = {"fig2a": flow_fig2a, "fork": flow_fork, "fig2b": flow_fig2b, "fig2c": flow_fig2c, "busy": flow_busy,
         "notfound": flow_notfound, "maxfwd": flow_maxfwd, "cancel": flow_cancel,
         "hold": flow_hold, "failover": flow_failover, "relaydown": flow_relaydown,
         "lateoffer": flow_lateoffer}


# ---- ladder ----

LABELS = {"p11": "P11", "p13": "P13", "r": "redirectd", "y": "relayd", "ph14": "14",
          "ph14b": "14 (softphone)",
          "ph16": "16", "ph18": "18", "dead": "dead relay"}

# The patent's signal numbers: (from, to, message) of each figure's 1..12.
SIGNALS = {
    "2a": [("ph16", "p11", "INVITE"), ("p11", "y", "INVITE"), ("y", "p11", "302 INVITE"),
           ("p11", "r", "INVITE"), ("r", "p11", "302 INVITE"), ("p11", "p13", "INVITE"),
           ("p13", "r", "INVITE"), ("r", "p13", "302 INVITE"), ("p13", "ph14", "INVITE"),
           ("ph14", "p13", "200 INVITE"), ("p13", "p11", "200 INVITE"),
           ("p11", "ph16", "200 INVITE")],
    "2b": [("ph14", "p13", "INVITE"), ("p13", "r", "INVITE"), ("r", "p13", "302 INVITE"),
           ("p13", "p11", "INVITE"), ("p11", "r", "INVITE"), ("r", "p11", "302 INVITE"),
           ("p11", "y", "INVITE"), ("y", "p11", "302 INVITE"), ("p11", "ph16", "INVITE"),
           ("ph16", "p11", "200 INVITE"), ("p11", "p13", "200 INVITE"),
           ("p13", "ph14", "200 INVITE")],
}
SIGNALS["2c"] = [tuple("ph18" if x == "ph14" else x for x in sig) for sig in SIGNALS["2a"]]


def short(text, net):
    """Branches cut to their first characters."""
    text = re.sub(r"branch=(z9hG4bK-?)([0-9A-Za-z.-]{6})[0-9A-Za-z.-]*", r"branch=\1\2…", text)
    return text


def summary(m, net):
    out = []
    if m.is_request:
        out.append("R-URI " + m.ruri)
    vias = m.all("via")
    if vias:
        out.append("Via: " + " | ".join(short(v.replace("SIP/2.0/UDP ", ""), net) for v in vias))
    for h, name in (("route", "Route"), ("record-route", "Record-Route"), ("contact", "Contact"),
                    ("max-forwards", "Max-Forwards"), ("reason", "Reason")):
        if m.all(h) and (h != "max-forwards" or m.method in ("INVITE",)):
            out.append("%s: %s" % (name, ", ".join(m.all(h))))
    for h, name in (("proxy-authenticate", "Proxy-Authenticate"),
                    ("www-authenticate", "WWW-Authenticate"),
                    ("proxy-authorization", "Proxy-Authorization"), ("authorization", "Authorization")):
        if m.get(h):  # the digest without its nonce and response, which change every run
            params = re.findall(r'(realm|username|algorithm|qop)="?([^",]*)"?', m.get(h))
            out.append("%s: Digest %s" % (name, ", ".join("%s=%s" % kv for kv in params)))
    conns, ports, dirs = m.sdp()
    if conns or ports:
        out.append("SDP c=%s m=audio %s%s" % ("/".join(sorted(set(conns))),
                                              ",".join(map(str, ports)),
                                              (" a=" + dirs[0]) if dirs else ""))
    return out


def ladder(net, sips, rtp, index, fig):
    callers = [m.call_id() for m in sips if m.method == "INVITE" and m.src.startswith("ph")]
    ids = list(dict.fromkeys(callers))
    if index >= len(ids):
        raise SystemExit("no call %d in the capture" % index)
    cid = ids[index]
    signals = list(SIGNALS.get(fig, []))
    print("Endpoints (all 127.0.0.1): " + ", ".join(
        "%s = %d" % (LABELS.get(k, k), v) for k, v in sorted(net.port.items(), key=lambda kv: kv[1])
        if not k.startswith("rtp") and k != "dead" and any(m.src == k or m.dst == k for m in sips))
        + "; relay media ports %d-%d." % net.relay)
    print()
    print("| # | signal | ms | from | to | message | key headers |")
    print("|---|---|---:|---|---|---|---|")
    t0, seen, i = None, set(), 0
    challenge = challenged(sips, cid)
    for m in sips:
        if m.call_id() != cid:
            continue
        # the To tag too: a forked call's phones answer with their own
        key = (m.src, m.dst, m.first, m.get("cseq"), m.all("via")[0] if m.all("via") else "",
               m.get("to"))
        if key in seen:
            continue  # a retransmission
        seen.add(key)
        t0 = m.t if t0 is None else t0
        i += 1
        sig = ""
        if in_challenge(m, challenge):
            sig = "auth"  # issue #14: before the patent's signal 1
        elif (m.src, m.dst, m.kind()) in signals:
            sig = "**%d**" % (SIGNALS[fig].index((m.src, m.dst, m.kind())) + 1)
            signals.remove((m.src, m.dst, m.kind()))
        label = m.method if m.is_request else "%d %s (%s)" % (
            m.status, m.first.split(" ", 2)[-1], m.cseq_method)
        print("| %d | %s | %.1f | %s | %s | %s | %s |" % (
            i, sig, (m.t - t0) * 1000, LABELS.get(m.src, m.src), LABELS.get(m.dst, m.dst), label,
            "<br>".join("`%s`" % x.replace("|", "\\|") for x in summary(m, net))))
    if rtp:
        counts = {}
        for _, src, dst in rtp:
            counts[(src, dst)] = counts.get((src, dst), 0) + 1
        print()
        print("RTP packets in the capture (source → destination: count): " + ", ".join(
            "%s → %s: %d" % (s, d, k) for (s, d), k in sorted(counts.items())) + ".")


def messages(net, sips, index, pairs):
    """The whole text of call `index`'s messages between the given pairs of
    endpoints (either direction), retransmissions left out, as markdown."""
    ids = list(dict.fromkeys(m.call_id() for m in sips
                             if m.method == "INVITE" and m.src.startswith("ph")))
    if index >= len(ids):
        raise SystemExit("no call %d in the capture" % index)
    want = {tuple(p.split("-", 1)) for p in pairs}
    want |= {(b, a) for a, b in want}
    seen = set()
    for m in sips:
        key = (m.src, m.dst, m.first, m.get("cseq"))
        if m.call_id() != ids[index] or (m.src, m.dst) not in want or key in seen:
            continue
        seen.add(key)
        print("%s → %s:" % (LABELS.get(m.src, m.src), LABELS.get(m.dst, m.dst)))
        print()
        print("```")
        print(m.raw.replace("\r\n", "\n").rstrip("\n"))
        print("```")
        print()


def refresh_doc(capture_dir, path):
    """Rewrites every block of `path` between
    <!-- calls_check: ladder|messages TEST ARG... --> and <!-- /calls_check -->
    with that output for DIR/TEST.pcap and DIR/TEST.ports."""
    import contextlib
    import io
    text = open(path, encoding="utf-8").read()
    pattern = re.compile(r"(<!-- calls_check: (\w+) (\S+)([^>]*?) -->\n)(.*?)(<!-- /calls_check -->)",
                         re.S)

    def render(m):
        what, test, extra = m.group(2), m.group(3), m.group(4).split()
        ports = open("%s/%s.ports" % (capture_dir, test)).read().split()
        net = Net(ports + extra)
        sips, rtp = load("%s/%s.pcap" % (capture_dir, test), net)
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            if what == "ladder":
                ladder(net, sips, rtp, net.call_index, net.fig)
            else:
                messages(net, sips, net.call_index, net.pairs)
        return m.group(1) + "\n" + out.getvalue().strip("\n") + "\n\n" + m.group(6)

    open(path, "w", encoding="utf-8").write(pattern.sub(render, text))


def main(argv):
    if len(argv) < 3:
        raise SystemExit(__doc__)
    if argv[1] == "docs":
        refresh_doc(argv[2], argv[3])
        return 0
    flow, pcap = argv[1], argv[2]
    net = Net(argv[3:])
    sips, rtp = load(pcap, net)
    if flow == "ladder":
        ladder(net, sips, rtp, net.call_index, net.fig)
        return 0
    if flow == "messages":
        messages(net, sips, net.call_index, net.pairs)
        return 0
    if flow not in FLOWS:
        raise SystemExit("unknown flow %s" % flow)
    c = Checker(net, sips, rtp)
    FLOWS[flow](c)
    return 1 if c.failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
