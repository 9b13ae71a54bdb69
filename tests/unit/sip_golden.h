/* Golden-file comparison of SIP messages (style.md habit 7): header by
 * header, not byte by byte, since libosip2 reorders headers; the body byte
 * for byte. */
#ifndef PINHOLE_TEST_SIP_GOLDEN_H
#define PINHOLE_TEST_SIP_GOLDEN_H

#include "pinhole/sip.h"

/* Parses a fixture (LF text turned into CRLF) or fails the test. The
 * caller frees the message with sip_free. */
osip_message_t *golden_load(const char *relpath);
/* Fails the test, naming the first difference, unless `actual` carries the
 * same start line, Via stack (host, port, branch, received, rport),
 * Record-Route and Route lists, Contact, From, To, Call-ID, CSeq,
 * Max-Forwards, other headers, and body as `expected`. */
void golden_assert_equal(const osip_message_t *expected, const osip_message_t *actual);

#endif
