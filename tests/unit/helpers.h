/* Shared by the cmocka unit tests: fixtures and a fake wire. */
#ifndef PINHOLE_TEST_HELPERS_H
#define PINHOLE_TEST_HELPERS_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "pinhole/addr.h"
#include "pinhole/loop.h"

/* Reads FIXTURES_DIR/relpath whole; malloc'd, NUL-terminated, the caller
 * frees. Fails the test when the file is missing. */
char *fixture_read(const char *relpath, size_t *len);

/* The same, with "\n" turned into "\r\n" where the file has bare LF (SIP
 * fixtures are kept as readable text). */
char *fixture_read_sip(const char *relpath, size_t *len);

#define FAKE_WIRE_MAX 256

/* Captures what a transport would send, for asserting on the wire. */
struct fake_wire {
    struct {
        struct addr to;
        char *buf; /* NUL-terminated copy */
        size_t len;
    } pkt[FAKE_WIRE_MAX];
    size_t n;
    int fail_with; /* non-zero: send returns this (e.g. -EAGAIN) */
};

/* A transport whose local address is `local` ("IP:port") sending into w. */
void fake_wire_transport(struct fake_wire *w, struct transport *tp, const char *local);
/* Frees the captured packets and empties the wire. */
void fake_wire_clear(struct fake_wire *w);
/* Parses "IP:port" or fails the test. */
struct addr test_addr(const char *text);

#endif
