/* loop: the single-threaded event loop every daemon runs on (libevent),
 * with UDP sockets, timers and signals. Nothing registered here may block. */
#ifndef PINHOLE_LOOP_H
#define PINHOLE_LOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pinhole/addr.h"

struct event_base;
struct loop;
struct timer;
struct udp_sock;

/* Largest SIP datagram we accept (issue: drop anything over 64 KiB). */
#define UDP_MAX_DATAGRAM 65536

/* ---- loop ---- */

/* Returns 0 or -ENOMEM. Free with loop_free after loop_run returns. */
int loop_new(struct loop **out);
/* Frees the loop and the handlers loop_on_signal registered; timers and
 * sockets must be freed first. */
void loop_free(struct loop *l);
/* Runs until loop_stop. Returns 0, or -EIO if libevent failed. */
int loop_run(struct loop *l);
void loop_stop(struct loop *l);
/* For modules that need libevent directly (evhttp, raw fd events). Owned by the loop. */
struct event_base *loop_base(struct loop *l);
/* Monotonic milliseconds, read afresh on every call (not cached per loop
 * turn: two calls in one callback may differ). CLOCK_MONOTONIC_COARSE is a
 * vDSO read, no syscall, with the resolution of a kernel tick (1-4 ms);
 * it never goes back. `l` is not used. */
uint64_t loop_now_ms(struct loop *l);
/* Wall clock seconds (for Expires and display only). */
int64_t loop_wall_s(void);

typedef void (*loop_signal_cb)(int signo, void *arg);
/* Calls cb from the loop (not from the signal handler) when signo arrives.
 * SIGTERM/SIGINT → stop and SIGHUP → reload are wired by daemon.c. The
 * handler lives until loop_free. Returns 0, -ENOMEM or -EINVAL (libevent
 * refused the signal). */
int loop_on_signal(struct loop *l, int signo, loop_signal_cb cb, void *arg);

/* ---- timers ---- */

typedef void (*timer_cb)(struct timer *t, void *arg);
/* A stopped timer; the owner frees it with timer_free (which stops it).
 * Returns 0 or -ENOMEM. */
int timer_new(struct timer **out, struct loop *l, timer_cb cb, void *arg);
/* (Re)arms: fires once after ms. */
void timer_start(struct timer *t, uint64_t ms);
/* (Re)arms: fires every ms until stopped. */
void timer_start_periodic(struct timer *t, uint64_t ms);
void timer_stop(struct timer *t);
bool timer_pending(const struct timer *t);
void timer_free(struct timer *t);

/* ---- UDP ---- */

/* A datagram arrived. `buf` is one receive buffer shared by every socket
 * (the loop is single-threaded), valid only during the call; it is
 * NUL-terminated at buf[len] for the parsers' convenience. Datagrams
 * larger than UDP_MAX_DATAGRAM are dropped and counted before this
 * (udp_sock_oversize). */
typedef void (*udp_recv_cb)(struct udp_sock *s, const struct addr *from, char *buf, size_t len,
                            void *arg);

/* Binds a non-blocking UDP socket on `local` (4 MiB kernel buffers asked
 * for, no SO_REUSEADDR) and calls cb for each datagram. Each readable event
 * reads at most a fixed batch (UDP_BATCH in loop.c, 64) before yielding,
 * so one flooded socket cannot starve the loop's other events; the rest
 * stays queued in the kernel, and the socket, still readable, is served
 * again on the loop's next iteration. The socket is the caller's:
 * udp_sock_close. Returns 0, -errno from socket/bind, or -ENOMEM. */
int udp_sock_open(struct udp_sock **out, struct loop *l, const struct addr *local, udp_recv_cb cb,
                  void *arg);
/* Sends one datagram. Returns 0 or -errno; -EAGAIN (socket buffer full)
 * is a drop like any lost datagram: the transaction layer retransmits. */
int udp_sock_send(struct udp_sock *s, const struct addr *to, const void *buf, size_t len);
/* The bound address (with the kernel-chosen port if the config said 0). */
const struct addr *udp_sock_local(const struct udp_sock *s);
int udp_sock_fd(const struct udp_sock *s);
/* Datagrams dropped for size (over UDP_MAX_DATAGRAM) since open. */
uint64_t udp_sock_oversize(const struct udp_sock *s);
void udp_sock_close(struct udp_sock *s);

/* ---- transport seam ----
 * Daemon logic sends through a transport, never a socket, so unit tests can
 * capture what would go on the wire and inject packets from any address. */
struct transport {
    int (*send)(void *ctx, const struct addr *to, const void *buf, size_t len);
    void *ctx;
    /* The socket's bound address: used for our Via / Record-Route. */
    struct addr local;
};
/* A transport bound to a UDP socket (does not own it). */
void udp_sock_transport(struct udp_sock *s, struct transport *out);
int transport_send(const struct transport *t, const struct addr *to, const void *buf, size_t len);

#endif
