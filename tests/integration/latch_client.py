#!/usr/bin/env python3
"""The media-theft attacks of issue #15 against a real relayd (loopback
only; test_relayd_latch.sh). A proxy on 127.0.0.1 sets up one relay
session; phone A is 127.0.0.10, phone B 127.0.0.11, the outsider
127.0.0.66 (every 127/8 address is the loopback interface's own).

  latch_client.py spray RELAY PORT_MIN PORT_MAX RELATCH_S
        1. the proxy's relay INVITE names A (;sdp, its SDP port) as
           Pinhole-Sources; relayd's 302 gives relay port P;
        2. the outsider, from 4 source ports, sprays every port of the relay
           range (RTP and RTCP) before either phone has sent anything;
        3. the proxy reports B (;sdp) with B's answer SDP;
        4. A talks first: B must get A's audio at its SDP port before B has
           sent a packet (early media, RFC 7362 section 5);
        5. both talk, RTP on P and RTCP on P+1; the outsider sprays again;
        6. B falls silent for RELATCH_S + 1 s while A talks; the outsider
           sprays P: nothing; B's NAT "rebinds" (a new port on B's IP): its
           first LATCH_PROBATION - 1 packets are held back, then it has its
           channel back and A's audio follows it.
        Prints one "name=value" per figure and exits 0; the shell checks them.
"""
import socket
import sys
import time

from relayd_client import build, new_branch, parse, transact, ack_for, sdp_ports, header

PROXY, A_IP, B_IP, EVIL_IP = "127.0.0.1", "127.0.0.10", "127.0.0.11", "127.0.0.66"
HOST = "127.0.0.1"
PROBATION = 4  # latch.h LATCH_PROBATION


def udp(ip, port=0):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    s.bind((ip, port))
    s.setblocking(False)
    return s


def sdp(ip, port):
    return ("v=0\r\no=x 1 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\n"
            "m=audio %d RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n" % (ip, ip, port))


def relay_invite(ctl, relay, call_id, sources, body):
    branch = new_branch()
    req = build("INVITE", relay, ctl.getsockname(), call_id, branch, 1, body,
                "Pinhole-Sources: %s" % sources)
    ctl.setblocking(True)
    status, headers, answer = transact(ctl, relay, req)
    if status is None:
        sys.exit("relayd did not answer the relay INVITE")
    ctl.sendto(ack_for(branch, relay, ctl.getsockname(), call_id, 1, headers), (HOST, relay))
    if status != 302:
        sys.exit("relay INVITE answered %d" % status)
    return sdp_ports(answer)[0]


def drain(socks):
    """Packets waiting on each socket: {sock: [payload, ...]}."""
    got = {s: [] for s in socks}
    for s in socks:
        while True:
            try:
                got[s].append(s.recv(2048))
            except BlockingIOError:
                break
    return got


def pause():
    time.sleep(0.05)


def talk(src, dst_port, tag, n):
    for i in range(n):
        src.sendto(b"%s-%d" % (tag, i), (HOST, dst_port))
        time.sleep(0.002)


def spray(evil, port_min, port_max):
    sent = 0
    for port in range(port_min, port_max + 1):
        for s in evil:
            s.sendto(b"spray", (HOST, port))
            sent += 1
    return sent


def main():
    relay, port_min, port_max, relatch_s = (int(a) for a in sys.argv[2:6])
    ctl = udp(PROXY)
    a_rtp, a_rtcp = udp(A_IP, 0), None
    a_port = a_rtp.getsockname()[1]
    b_probe = udp(B_IP, 0)  # B's SDP port: where early media must arrive
    b_port = b_probe.getsockname()[1]
    evil = [udp(EVIL_IP) for _ in range(4)]
    call_id = "latch-%x@test" % int(time.time() * 1000)

    p = relay_invite(ctl, relay, call_id, "%s;sdp" % A_IP, sdp(A_IP, a_port))
    print("relay_port=%d" % p)
    print("sprayed_before=%d" % spray(evil, port_min, port_max))
    pause()
    relay_invite(ctl, relay, call_id, "%s;sdp" % B_IP, sdp(B_IP, b_port))

    # A talks first: B's SDP port gets it although B never sent anything
    talk(a_rtp, p, b"a-early", 20)
    pause()
    got = drain([b_probe] + evil)
    print("early_to_b=%d" % len(got[b_probe]))
    # B talks from its SDP port (a port-preserving NAT): both directions
    b_rtp = b_probe
    talk(b_rtp, p, b"b", 20)
    talk(a_rtp, p, b"a", 20)
    pause()
    got2 = drain([a_rtp, b_rtp] + evil)
    print("a_got=%d" % sum(1 for x in got2[a_rtp] if x.startswith(b"b-")))
    print("b_got=%d" % sum(1 for x in got2[b_rtp] if x.startswith(b"a-")))
    # RTCP on P+1, from the phones' RTP port + 1 (what the SDP implies)
    a_rtcp = udp(A_IP, a_port + 1)
    b_rtcp = udp(B_IP, b_port + 1)
    talk(a_rtcp, p + 1, b"ra", 10)
    talk(b_rtcp, p + 1, b"rb", 10)
    talk(a_rtcp, p + 1, b"ra2", 10)
    pause()
    got3 = drain([a_rtcp, b_rtcp])
    print("rtcp_a_got=%d" % len(got3[a_rtcp]))
    print("rtcp_b_got=%d" % len(got3[b_rtcp]))
    print("sprayed_during=%d" % spray(evil, port_min, port_max))
    talk(a_rtp, p, b"a2", 10)
    pause()
    got4 = drain([b_rtp] + evil)
    print("b_got_after_spray=%d" % len(got4[b_rtp]))

    # B silent past relatch_after; A keeps talking; the outsider tries
    deadline = time.monotonic() + relatch_s + 1.2
    while time.monotonic() < deadline:
        talk(a_rtp, p, b"a3", 5)
        time.sleep(0.1)
    for s in evil:
        talk(s, p, b"evil", 20)  # far more than probation, from each port
    talk(a_rtp, p, b"a4", 5)
    pause()
    got5 = drain([b_rtp] + evil)
    print("b_got_while_silent=%d" % sum(1 for x in got5[b_rtp] if x.startswith(b"a4-")))
    # B's NAT rebinds: a new port on B's IP takes the channel after probation
    b_new = udp(B_IP, 0)
    held = 0
    for i in range(PROBATION - 1):
        b_new.sendto(b"b-new-%d" % i, (HOST, p))
        pause()
        held += 1 - len(drain([a_rtp])[a_rtp])
    print("probation_held=%d" % held)
    b_new.sendto(b"b-new-last", (HOST, p))
    pause()
    print("a_got_after_probation=%d" % len(drain([a_rtp])[a_rtp]))
    talk(a_rtp, p, b"a5", 5)
    pause()
    got6 = drain([b_new, b_rtp] + evil)
    print("b_new_got=%d" % len(got6[b_new]))
    print("b_old_got=%d" % len(got6[b_rtp]))
    evil_total = 0
    for d in (got, got2, got4, got5, got6):
        for s in evil:
            evil_total += len(d.get(s, []))
    print("outsider_got=%d" % evil_total)


if __name__ == "__main__":
    main()
