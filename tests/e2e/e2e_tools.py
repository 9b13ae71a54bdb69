#!/usr/bin/env python3
"""Small UDP tools the end-to-end tests run inside the lab's namespaces.

  e2e_tools.py listen IP:PORT SECONDS [--stop-after N]
        prints "from IP:PORT LEN crlf|sip|rtp|other" per datagram received
        within SECONDS (or until N have arrived), then "received=N".
  e2e_tools.py send IP:PORT DEST:PORT... [--text TEXT]
        one datagram from IP:PORT to each DEST, from the same socket (so a
        NAT shows how it maps one private socket to several destinations).
  e2e_tools.py sessions RELAY:PORT FROM:PORT
        an OPTIONS to relayd from FROM (a source it trusts); prints the
        value of X-Relay-Sessions, or exits 1 without an answer in 2 s.
  e2e_tools.py outsider IP:PORT... --from IP:PORT [--count N] [--interval MS]
        an attacker without a role in the call: sends N RTP-shaped
        datagrams, round robin, to each IP:PORT (a relay port and its RTCP
        port), keeps listening 500 ms after the last, and prints
        "sent=N received=M" — received must stay 0 for a relay that latched
        its two channels (design.md decision 6).

  e2e_tools.py metric URL NAME [LABEL=VALUE]
        GETs a Prometheus text page (a daemon's `stats` /metrics) and prints
        the value of the sample NAME (with that label, when given); exits 1
        when the page cannot be read within 2 s or has no such sample.

  e2e_tools.py tone WAV
        what a phone heard: prints "seconds=S hz=F" — S the seconds of the
        recording that carry sound (20 ms blocks with a peak over 1000 of
        32767), F the frequency of that sound by its rising zero crossings
        (the lab's softphones send sine tones).

Every run is bounded in time; nothing here needs more than the standard
library.
"""
import random
import re
import select
import socket
import struct
import sys
import time


def hostport(s):
    host, _, port = s.rpartition(":")
    return host, int(port)


def udp(bind):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(hostport(bind))
    return s


def kind(data):
    if data.strip(b"\r\n") == b"":
        return "crlf"
    if b"SIP/2.0" in data.split(b"\r\n", 1)[0]:
        return "sip"
    if len(data) >= 12 and data[0] & 0xC0 == 0x80:
        return "rtp"
    return "other"


def drain(sock, until, on_packet):
    while True:
        left = until - time.monotonic()
        if left <= 0:
            return
        r, _, _ = select.select([sock], [], [], left)
        if not r:
            return
        data, src = sock.recvfrom(65535)
        if on_packet(data, src):
            return


def cmd_listen(args):
    stop_after = None
    if "--stop-after" in args:
        i = args.index("--stop-after")
        stop_after = int(args[i + 1])
        del args[i:i + 2]
    bind, secs = args[0], float(args[1])
    sock = udp(bind)
    got = []

    def on_packet(data, src):
        got.append(src)
        print("from %s:%d %d %s" % (src[0], src[1], len(data), kind(data)), flush=True)
        return stop_after is not None and len(got) >= stop_after

    drain(sock, time.monotonic() + secs, on_packet)
    print("received=%d" % len(got))


def cmd_send(args):
    text = "probe"
    if "--text" in args:
        i = args.index("--text")
        text = args[i + 1]
        del args[i:i + 2]
    sock = udp(args[0])
    for dest in args[1:]:
        sock.sendto(text.encode(), hostport(dest))
    print("sent=%d" % (len(args) - 1))


def cmd_sessions(args):
    relay, src = hostport(args[0]), args[1]
    sock = udp(src)
    host, port = hostport(src)
    branch = "z9hG4bK%016x" % random.getrandbits(64)
    msg = ("OPTIONS sip:relay@%s:%d SIP/2.0\r\n"
           "Via: SIP/2.0/UDP %s:%d;branch=%s;rport\r\n"
           "Max-Forwards: 70\r\n"
           "From: <sip:monitor@%s:%d>;tag=%s\r\n"
           "To: <sip:relay@%s:%d>\r\n"
           "Call-ID: %s@e2e-monitor\r\n"
           "CSeq: 1 OPTIONS\r\n"
           "Content-Length: 0\r\n\r\n") % (relay[0], relay[1], host, port, branch, host, port,
                                          branch[-8:], relay[0], relay[1], branch)
    sock.sendto(msg.encode(), relay)
    answer = []

    def on_packet(data, src):
        text = data.decode("utf-8", "replace")
        if branch in text and text.startswith("SIP/2.0"):
            answer.append(text)
            return True
        return False

    drain(sock, time.monotonic() + 2.0, on_packet)
    if not answer:
        print("no answer from relayd", file=sys.stderr)
        sys.exit(1)
    m = re.search(r"^X-Relay-Sessions:\s*(\d+)", answer[0], re.M | re.I)
    if not m:
        print("no X-Relay-Sessions in: %s" % answer[0].split("\r\n")[0], file=sys.stderr)
        sys.exit(1)
    print(m.group(1))


def cmd_outsider(args):
    opts = {"--from": None, "--count": "100", "--interval": "10"}
    targets = []
    i = 0
    while i < len(args):
        if args[i] in opts:
            opts[args[i]] = args[i + 1]
            i += 2
        else:
            targets.append(hostport(args[i]))
            i += 1
    sock = udp(opts["--from"])
    count, interval = int(opts["--count"]), int(opts["--interval"]) / 1000.0
    received = []
    ssrc = random.getrandbits(32)

    def on_packet(data, src):
        received.append(src)
        return False

    for seq in range(count):
        # RTP header (RFC 3550 5.1), PCMU, and 160 bytes of "audio".
        pkt = struct.pack(">BBHII", 0x80, 0, seq, seq * 160, ssrc) + bytes([0x55]) * 160
        sock.sendto(pkt, targets[seq % len(targets)])
        drain(sock, time.monotonic() + interval, on_packet)
    drain(sock, time.monotonic() + 0.5, on_packet)
    print("sent=%d received=%d" % (count, len(received)))


def cmd_metric(args):
    import urllib.request
    url, name = args[0], args[1]
    label = args[2] if len(args) > 2 else None
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            page = r.read().decode("utf-8", "replace")
    except OSError as e:
        print("cannot read %s: %s" % (url, e), file=sys.stderr)
        sys.exit(1)
    for line in page.splitlines():
        m = re.match(r"^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)", line)
        if not m or m.group(1) != name:
            continue
        if label:
            k, _, v = label.partition("=")
            if '%s="%s"' % (k, v) not in (m.group(2) or ""):
                continue
        print(m.group(3))
        return
    print("no sample %s%s in %s" % (name, "{%s}" % label if label else "", url), file=sys.stderr)
    sys.exit(1)


def cmd_tone(args):
    import wave
    with wave.open(args[0]) as w:
        if w.getsampwidth() != 2:
            sys.exit("%s: not 16-bit PCM" % args[0])
        rate, channels = w.getframerate(), w.getnchannels()
        raw = w.readframes(w.getnframes())
    samples = struct.unpack("<%dh" % (len(raw) // 2), raw)[::channels]
    block = rate // 50
    sound = []
    for i in range(0, len(samples) - block + 1, block):
        chunk = samples[i:i + block]
        if max(abs(x) for x in chunk) > 1000:
            sound.extend(chunk)
    rising = sum(1 for a, b in zip(sound, sound[1:]) if a < 0 <= b)
    secs = len(sound) / rate
    print("seconds=%.2f hz=%.0f" % (secs, rising / secs if secs else 0))


def main():
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    cmd, args = sys.argv[1], sys.argv[2:]
    {"listen": cmd_listen, "send": cmd_send, "sessions": cmd_sessions,
     "outsider": cmd_outsider, "metric": cmd_metric, "tone": cmd_tone}.get(cmd, lambda _a: sys.exit("unknown command " + cmd))(args)


if __name__ == "__main__":
    main()
