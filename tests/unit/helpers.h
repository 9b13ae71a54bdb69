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
#include "pinhole/sip.h"

/* Reads FIXTURES_DIR/relpath whole; malloc'd, NUL-terminated, the caller
 * frees. Fails the test when the file is missing. */
char *fixture_read(const char *relpath, size_t *len);

/* The same, with "\n" turned into "\r\n" where the file has bare LF (SIP
 * fixtures are kept as readable text). */
char *fixture_read_sip(const char *relpath, size_t *len);

/* ---- SIP messages (the caller sip_frees every message returned) ---- */

/* A cmocka group setup that only readies the SIP layer (sip_init). */
int sip_test_setup(void **state);
/* Parses FIXTURES_DIR/relpath (read with fixture_read_sip) or fails the
 * test with the parser's reason. */
osip_message_t *sip_fixture(const char *relpath);
/* Parses text or fails the test with the parser's reason. */
osip_message_t *sip_text(const char *text);
/* Serializes m or fails the test; the caller frees it with osip_free. */
char *sip_wire(const osip_message_t *m);
/* m serialized and parsed back: what the next hop reads. Fails the test
 * when either step fails. */
osip_message_t *sip_reparse(const osip_message_t *m);
/* The first serialized line that starts with "name: " (without its CRLF),
 * or fails the test; malloc'd, the caller frees. */
char *sip_wire_line(const osip_message_t *m, const char *name);

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

/* ---- files ---- */

/* A fresh directory /tmp/pinhole-NAME-XXXXXX into dir[len] (a store's
 * database lives there); fails the test when it cannot be made. */
void test_tmpdir(char *dir, size_t len, const char *name);
/* Removes dir and everything in it; fails the test on error. */
void test_rmtree(const char *dir);

#endif
