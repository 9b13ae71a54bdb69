/* relay_limits: the bounds of relayd's media half, in one place. */
#ifndef RELAYD_RELAY_LIMITS_H
#define RELAYD_RELAY_LIMITS_H

/* Datagrams read (and forwarded) per recvmmsg/sendmmsg call. */
#define RELAY_BATCH 32

/* recvmmsg calls per readable event on one socket before the loop serves
 * the others: a flood on one port delays the rest by at most
 * RELAY_BATCH * RELAY_ROUNDS packets. */
#define RELAY_ROUNDS 4

/* Largest media datagram relayed. RTP stays under the path MTU (RFC 3550
 * §11 leaves fragmentation to IP, and real endpoints packetise under 1500);
 * 8 KiB leaves room for jumbo frames. Longer datagrams are dropped and
 * counted, never truncated and forwarded. */
#define RELAY_MAX_PACKET 8192

/* Longest Call-ID a session is keyed by. RFC 3261 sets no limit; real ones
 * are under 100 bytes, and this bounds what a proxy can make us store. */
#define RELAY_CALL_ID_MAX 256

/* How often the session table looks for silent and over-age sessions. */
#define RELAY_SWEEP_MS 1000

/* File descriptors kept for everything that is not a relay socket (SIP
 * socket, stats listener, epoll, logs). */
#define RELAY_FD_RESERVE 64

#endif
