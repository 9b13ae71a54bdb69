/* sip: SIP message helpers over libosip2, wrapped once here so the daemons
 * never see libosip2's mixed return conventions.
 *
 * Messages are libosip2's osip_message_t. Whoever gets one from sip_parse or
 * sip_response_new owns it and frees it with sip_free. Strings returned as
 * `const char *` point into the message and live as long as it does. */
#ifndef PINHOLE_SIP_H
#define PINHOLE_SIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <osipparser2/osip_parser.h>

#include "pinhole/addr.h"

#define SIP_MAX_MESSAGE 65536 /* larger datagrams are refused */
/* Bounds sip_parse checks before libosip2 sees a datagram (its lists cost
 * n^2): beyond them the datagram is refused as malformed (dropped). */
#define SIP_MAX_PARAMS 64   /* ';' per header value (list element) or Request-URI */
#define SIP_MAX_VIAS 70     /* Via values in all */
#define SIP_MAX_HEADERS 256 /* header values in all, list elements counted */
#define SIP_BRANCH_MAGIC "z9hG4bK"
#define SIP_DEFAULT_PORT 5060
#define SIP_BRANCH_LEN 48 /* room for a branch we generate */
#define SIP_TAG_LEN 24

/* Once per process, before any other sip_* call. Returns 0 or -ENOMEM. */
int sip_init(void);

/* ---- parse / serialize ---- */

/* Why a datagram was refused, for the log line and the answer. */
enum sip_parse_error {
    SIP_PARSE_OK = 0,
    SIP_PARSE_TOO_BIG,    /* > SIP_MAX_MESSAGE: drop */
    SIP_PARSE_MALFORMED,  /* start line, header syntax: 400 or drop */
    SIP_PARSE_VERSION,    /* not SIP/2.0: 505 */
    SIP_PARSE_MISSING,    /* From/To/Call-ID/CSeq absent (answerable when a Via
                           * is there: 400), or repeated, or no Via: drop */
    SIP_PARSE_BAD_CSEQ,   /* CSeq number out of range, method mismatch: 400 */
    SIP_PARSE_BAD_LENGTH, /* Content-Length negative, repeated or > body: 400 */
};

struct sip_parse_result {
    enum sip_parse_error error;
    const char *reason; /* static text for the log line */
    /* When error != OK but the message got far enough to be answered (a
     * request with a parseable Via, From, To, Call-ID and CSeq), `answerable`
     * is set and *out holds it so the caller can send 400/505; else NULL. */
    bool answerable;
};

/* Parses one datagram (need not be NUL-terminated). Bytes after the body
 * that Content-Length announces are ignored (RFC 3261 18.3). On success
 * returns 0 and *out owns the message. On failure returns -EINVAL (or
 * -EMSGSIZE when too big, -ENOMEM), fills res (may be NULL), and *out is
 * NULL unless res->answerable. An escaped NUL (%00) in a URI is kept as the
 * text "%00" (libosip2 would truncate there). */
int sip_parse(osip_message_t **out, const char *buf, size_t len, struct sip_parse_result *res);

/* The method of a request from its first line alone, as a string in
 * method[0..cap): 0, or -EINVAL for a status line or anything else. For a
 * check that must come before any parse (design.md: redirectd and relayd
 * check `proxies` after the first line). */
int sip_request_method(const char *buf, size_t len, char *method, size_t cap);

/* A stateless final response (status 300-699) to the request in buf,
 * written without libosip2: the status line, the request's Via, From, To
 * (with a fresh tag when it has none), Call-ID and CSeq lines as they
 * came, Retry-After 5 for a 503, Content-Length 0 (RFC 3261 8.2.6). Bounded by the same scanner as
 * sip_parse. 0 with out[0..*n) and a NUL; -EINVAL for an ACK or a request
 * without exactly one From/To/Call-ID/CSeq and a Via (nothing to answer
 * on), -EMSGSIZE when cap is too small. */
int sip_reply_raw(const char *buf, size_t len, int status, char *out, size_t cap, size_t *n);

/* Serializes with a correct Content-Length. *out is malloc'd: the caller
 * frees it with osip_free(). Returns 0, -ENOMEM or -EINVAL. */
int sip_serialize(const osip_message_t *m, char **out, size_t *len);

void sip_free(osip_message_t *m);
/* Deep copy; the caller owns the copy. Returns 0 or -ENOMEM. */
int sip_clone(const osip_message_t *m, osip_message_t **out);

/* ---- reading ---- */

bool sip_is_request(const osip_message_t *m);
const char *sip_method(const osip_message_t *m); /* requests: "INVITE"; NULL for responses */
int sip_status(const osip_message_t *m);         /* responses: 100..699; 0 for requests */
/* A response's status becomes `status` with its standard reason phrase
 * (a proxy turning a downstream 503 into 500). 0, -EINVAL, -ENOMEM. */
int sip_status_set(osip_message_t *m, int status);
/* A request's method and its CSeq's become `method` (a token). 0, -EINVAL,
 * -ENOMEM. */
int sip_method_set(osip_message_t *m, const char *method);
bool sip_method_is(const osip_message_t *m, const char *method);
/* "number" or "number@host" into buf. Returns 0, -ENOENT, -ENOSPC. */
int sip_call_id(const osip_message_t *m, char *buf, size_t len);
/* CSeq number and method (method points into m). Returns 0 or -ENOENT. */
int sip_cseq(const osip_message_t *m, uint32_t *num, const char **method);
/* The To/From tag, or NULL. */
const char *sip_to_tag(const osip_message_t *m);
const char *sip_from_tag(const osip_message_t *m);
/* User part of the To URI (the AOR's ID) or the Request-URI; NULL if none. */
const char *sip_to_user(const osip_message_t *m);
const char *sip_from_user(const osip_message_t *m);
const char *sip_request_uri_user(const osip_message_t *m);
/* Request-URI scheme is sip or sips. */
bool sip_request_uri_is_sip(const osip_message_t *m);

/* ---- Via ---- */

struct sip_via_info {
    const char *transport; /* "UDP" */
    const char *host;      /* sent-by host as written (IPv6 without brackets) */
    uint16_t port;         /* sent-by port, SIP_DEFAULT_PORT when absent */
    const char *branch;    /* NULL when absent */
    const char *received;  /* NULL when absent */
    bool has_rport;        /* rport present (with or without value) */
    uint16_t rport;        /* 0 when absent or empty */
};
/* Reads Via number `pos` (0 = top). Returns 0, -ENOENT, or -EINVAL for a
 * port outside 0..65535. */
int sip_via_get(const osip_message_t *m, int pos, struct sip_via_info *out);
int sip_via_count(const osip_message_t *m);
/* The top Via's sent-by as an address; -EINVAL when the host is a name. */
int sip_via_sent_by(const osip_message_t *m, struct addr *out);
/* RFC 3581 / RFC 3261 18.2.1: sets received=<src host> and rport=<src port>
 * on the top Via (replacing any values). Returns 0, -ENOENT or -ENOMEM. */
int sip_via_set_received(osip_message_t *m, const struct addr *src);
/* Pushes "Via: SIP/2.0/UDP <self>;branch=<branch>;rport" on top. If branch is
 * NULL a fresh one is generated. The branch used is copied to branch_out
 * (may be NULL). Returns 0, -ENOMEM, -EINVAL (branch not a token) or
 * -ENOSPC (branch_out too small); on error m is unchanged. */
int sip_via_push(osip_message_t *m, const struct addr *self, const char *branch, char *branch_out,
                 size_t branch_out_len);
/* Removes the top Via if its sent-by is `self`. Returns 0, -ENOENT (no Via)
 * or -EPERM (top Via is not ours: a misrouted response). */
int sip_via_pop_self(osip_message_t *m, const struct addr *self);
/* Where a response to this message goes (RFC 3261 18.2.2, RFC 3581):
 * the top Via's received (else sent-by host) and rport (else sent-by port).
 * -EINVAL when that is not a numeric, routable unicast address (a name, a
 * broadcast or multicast address: never answered). */
int sip_response_destination(const osip_message_t *m, struct addr *out);

/* ---- routing headers ---- */

/* Adds "Record-Route: <sip:self;lr>" on top, or "<sip:self;lr;PARAM>"
 * when param (e.g. "name=value", shorter than SIP_RR_PARAM_MAX) is not
 * NULL; param is copied. */
#define SIP_RR_PARAM_MAX 64
int sip_record_route_push(osip_message_t *m, const struct addr *self, const char *param);
/* The index of the first Record-Route naming self (host and port), top
 * first, or -ENOENT. */
int sip_record_route_find_self(const osip_message_t *m, const struct addr *self);
/* If the top Route names self (host and port), removes it and returns 1;
 * returns 0 when it does not, -ENOENT when there is no Route. */
int sip_route_pop_self(osip_message_t *m, const struct addr *self);
/* The top Route's URI host:port as an address (loose routing). */
int sip_route_top(const osip_message_t *m, struct addr *out);
/* The value of URI parameter `name` of the top Route in *value (points into
 * m: valid while m is; "" for a parameter without value). 0, or -ENOENT
 * when there is no Route or it has no such parameter. */
int sip_route_top_param(const osip_message_t *m, const char *name, const char **value);
/* Request-URI host and port as an address (-EINVAL when a name). */
int sip_request_uri_addr(const osip_message_t *m, struct addr *out);
/* Sets the Request-URI host and port, keeping scheme, user and params. */
int sip_request_uri_set(osip_message_t *m, const struct addr *to);
/* Adds "Path: <sip:self;lr>" (RFC 3327). */
int sip_path_push(osip_message_t *m, const struct addr *self);
/* The first Path URI's host:port; -ENOENT when absent. */
int sip_path_first(const osip_message_t *m, struct addr *out);

/* ---- Contact ---- */

int sip_contact_count(const osip_message_t *m);
/* First Contact's URI host:port as an address (-ENOENT, -EINVAL when a name). */
int sip_contact_addr(const osip_message_t *m, struct addr *out);
/* The same for the i-th Contact (from 0). */
int sip_contact_addr_at(const osip_message_t *m, int i, struct addr *out);
/* First Contact's URI as text ("sip:alice@1.2.3.4:5060"); caller frees with osip_free. */
int sip_contact_uri_text(const osip_message_t *m, char **out);
/* Rewrites the first Contact URI's host and port (patent step 144). */
int sip_contact_set(osip_message_t *m, const struct addr *to);
/* Replaces all Contacts with one "<uri>" and optional ";expires=N" (N < 0: none). */
int sip_contact_replace(osip_message_t *m, const char *uri, long expires);
/* The i-th Contact (from 0): its URI as text (*uri, caller frees with
 * osip_free), its expires param (-1: absent) and its q in thousandths (-1:
 * absent). Returns 0, -ENOENT (no such Contact, or "*"), -EINVAL (expires
 * or q malformed: *uri stays NULL), -ENOMEM. */
int sip_contact_at(const osip_message_t *m, int i, char **uri, long *expires, int *q);
/* Appends "<uri>[;q=N.NNN][;expires=N]" (q < 0, expires < 0: left out). */
int sip_contact_add(osip_message_t *m, const char *uri, long expires, int q);
void sip_contacts_clear(osip_message_t *m);
/* Contact "*" (unregister all). */
bool sip_contact_is_star(const osip_message_t *m);
/* Expires for a REGISTER: the first Contact's expires param, else the Expires
 * header, else -1. Non-numeric or > 2^32-1 gives -EINVAL. */
long sip_register_expires(const osip_message_t *m);
/* The Expires header alone: -1 when absent, -EINVAL when malformed. */
long sip_expires_header(const osip_message_t *m);
/* Sets the Expires header (replacing it) and the first Contact's expires param if present. */
int sip_set_expires(osip_message_t *m, long seconds);

/* ---- Max-Forwards ---- */

/* Decrements Max-Forwards (adds "Max-Forwards: 70" when absent; removes
 * repeated copies). Returns the new value, -ELOOP when it was already 0
 * (answer 483), or -EINVAL for a value that is not 0..255. */
int sip_max_forwards_decrement(osip_message_t *m);

/* ---- generic headers, body ---- */

/* First header by name (case-insensitive); NULL when absent. Headers that
 * libosip2 keeps in dedicated fields (Via, From, To, Call-ID, CSeq,
 * Contact, Route, Record-Route, Content-Type, Content-Length) are not
 * generic: get returns NULL, set/remove return -EINVAL (Allow excepted). */
const char *sip_header_get(const osip_message_t *m, const char *name);
/* Removes every header named `name`, then adds one with `value`. Remove
 * returns 0 whether or not the header was there. */
/* Adds one more header line name: value (validated like sip_header_set),
 * keeping those already there; for the names osip keeps in lists of their
 * own too (WWW-Authenticate, Proxy-Authenticate). 0, -EINVAL or -ENOMEM. */
int sip_header_add(osip_message_t *m, const char *name, const char *value);
int sip_header_set(osip_message_t *m, const char *name, const char *value);
int sip_header_remove(osip_message_t *m, const char *name);

/* The first body; *body points into m. Returns 0 or -ENOENT. */
int sip_body_get(const osip_message_t *m, const char **body, size_t *len);
/* Replaces the body (copied) and Content-Type; len 0 removes it. */
int sip_body_set(osip_message_t *m, const char *body, size_t len, const char *content_type);
/* Content-Type is application/sdp. */
bool sip_body_is_sdp(const osip_message_t *m);

/* ---- values kept as state and written back on our own lines ---- */

/* A URI user of 1..max characters: RFC 3261 §25.1 unreserved,
 * user-unreserved or a well-formed escape (%HH). What passes can go into a
 * URI we build as text without escaping. */
bool sip_user_valid(const char *user, size_t max);
/* A Call-ID of 1..max visible ASCII characters (RFC 3261 §25.1 word). */
bool sip_call_id_valid(const char *call_id, size_t max);

/* ---- authentication (RFC 3261 §22) ---- */

#define SIP_CRED_FIELD_MAX 256

/* One set of Digest credentials, unquoted (quoted-pairs resolved). The
 * optional fields (algorithm, cnonce, nc, qop) are "" when absent. */
struct sip_credentials {
    char user[SIP_CRED_FIELD_MAX + 1];
    char realm[SIP_CRED_FIELD_MAX + 1];
    char nonce[SIP_CRED_FIELD_MAX + 1];
    char uri[SIP_CRED_FIELD_MAX + 1];
    char response[SIP_CRED_FIELD_MAX + 1];
    char algorithm[32];
    char cnonce[SIP_CRED_FIELD_MAX + 1];
    char nc[16];
    char qop[16];
};

/* The Digest credentials for realm in the Authorization headers (proxy:
 * Proxy-Authorization) of m, copied into *out. Only the first 8 headers
 * are looked at. Returns 0, -ENOENT (none for realm) or -EINVAL (a field
 * missing, unterminated or longer than SIP_CRED_FIELD_MAX, or more than 8
 * headers and none of the first for realm). */
int sip_credentials_find(const osip_message_t *m, bool proxy, const char *realm,
                         struct sip_credentials *out);
/* Removes every credential for realm (RFC 3261 §22.3: a proxy consumes
 * the ones addressed to it before forwarding). */
void sip_credentials_remove(osip_message_t *m, bool proxy, const char *realm);

/* ---- building ---- */

const char *sip_reason_phrase(int status);
/* Builds a response to `req`: status line, Via (all, in order), From, To,
 * Call-ID, CSeq copied; a To-tag added when status > 100 and To has none
 * (to_tag NULL = generate one). Content-Length 0. *out owned by the caller.
 * A 400 may be built for a request missing From/To/Call-ID/CSeq (parse
 * error SIP_PARSE_MISSING with `answerable`): it copies what there is. */
int sip_response_new(osip_message_t **out, const osip_message_t *req, int status,
                     const char *to_tag);
/* Builds the ACK for a non-2xx final `resp` to INVITE `req` (RFC 3261
 * 17.1.1.3: same Request-URI, top Via only, To from the response). */
int sip_ack_for(osip_message_t **out, const osip_message_t *req, const osip_message_t *resp);
/* Builds the CANCEL for INVITE `inv` as we sent it (RFC 3261 9.1: same
 * Request-URI, Call-ID, From, To, Route and CSeq number, its top Via only
 * with the same branch). *out owned by the caller. Returns 0, -EINVAL (not
 * an INVITE, or a header missing) or -ENOMEM. */
int sip_cancel_for(osip_message_t **out, const osip_message_t *inv);
/* Fills buf with "z9hG4bK" + random hex. */
void sip_branch_new(char *buf, size_t len);
void sip_tag_new(char *buf, size_t len);

#endif
