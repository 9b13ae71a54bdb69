/* auth (src/proxyd/auth.c) on a proxy_env and a fake wire, behind the
 * intake: who is challenged and how (401/407, one header per algorithm,
 * strongest first), credentials for each algorithm, and the abuse: an
 * unknown user answered like a wrong password, a replayed nc, a forged or
 * tampered nonce, a stale nonce, credentials of one user speaking for
 * another (403), oversized credentials, a brute force that ends in a ban. */
#include "helpers.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth.h"
#include "intake.h"
#include "nonce.h"
#include "pinhole/digest.h"
#include "proxy_env.h"

#define PROXY "203.0.113.11:5060"
#define PHONE "198.51.100.28:40312"
#define REALM "pinhole.test"

struct ctx {
    struct loop *loop;
    struct proxyd_conf cfg;
    struct addr relay, peer;
    struct fake_wire wire;
    struct transport tp;
    struct proxy_env env;
    struct auth *auth;
    struct intake in;
    uint64_t clock_s;
    char users[64];
    unsigned passed; /* requests the auth let through */
    int cseq;
};

static uint64_t test_clock(void *arg)
{
    return ((struct ctx *)arg)->clock_s;
}

/* What proxy.c's dispatch does with the module: check, then hand on. */
static void on_request(void *arg, struct txn_server *st, const osip_message_t *req,
                       const struct proxy_rx *rx)
{
    struct ctx *c = arg;
    if (auth_required(c->auth, req, rx) && !auth_check(c->auth, st, req, rx))
        return;
    c->passed++;
    (void)txn_server_respond_status(st, 200);
}

static void write_users(struct ctx *c, const char *text)
{
    FILE *f = fopen(c->users, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* alice/alice-secret with every algorithm, bob/bob-secret with MD5 only. */
static void write_default_users(struct ctx *c)
{
    char text[2048] = "", ha1[DIGEST_HEX_MAX], line[256];
    for (int a = 0; a < DIGEST_ALG_COUNT; a++) {
        assert_int_equal(digest_ha1(a, "alice", REALM, "alice-secret", ha1), 0);
        snprintf(line, sizeof line, "alice %s %s %s\n", REALM, digest_alg_name(a), ha1);
        strcat(text, line);
    }
    assert_int_equal(digest_ha1(DIGEST_MD5, "bob", REALM, "bob-secret", ha1), 0);
    snprintf(line, sizeof line, "# bob has MD5 only\nbob\t%s\tMD5\t%s\n", REALM, ha1);
    strcat(text, line);
    write_users(c, text);
}

static int setup(void **state)
{
    struct ctx *c = calloc(1, sizeof *c);
    char err[256];
    assert_non_null(c);
    assert_int_equal(loop_new(&c->loop), 0);
    c->cfg.listen = c->cfg.advertise = test_addr(PROXY);
    c->cfg.redirect = test_addr("203.0.113.20:5060");
    c->relay = test_addr("203.0.113.22:5060");
    c->cfg.relays.v = &c->relay;
    c->cfg.relays.n = 1;
    c->peer = test_addr("203.0.113.13:0");
    c->cfg.peers.v = &c->peer;
    c->cfg.peers.n = 1;
    c->cfg.auth.realm = REALM;
    c->cfg.auth.algorithms = "SHA-512-256, SHA-256, MD5";
    c->cfg.auth.secret = "a shared secret of proxies";
    c->cfg.auth.nonce_lifetime = 300;
    c->cfg.auth.max_failures = 5;
    c->cfg.auth.ban_seconds = 1;
    snprintf(c->users, sizeof c->users, "/tmp/pinhole-test-users.%ld", (long)getpid());
    c->cfg.auth.users = c->users;
    write_default_users(c);
    fake_wire_transport(&c->wire, &c->tp, PROXY);
    assert_int_equal(proxy_env_open(&c->env, c->loop, &c->cfg, NULL), 0);
    assert_int_equal(auth_new(&c->auth, &c->env, err, sizeof err), 0);
    c->clock_s = 1700000000;
    auth_set_clock(c->auth, test_clock, c);
    intake_init(&c->in, &c->env, &(struct intake_handlers){.on_request = on_request, .arg = c});
    *state = c;
    return 0;
}

static int teardown(void **state)
{
    struct ctx *c = *state;
    proxy_env_close(&c->env);
    auth_free(c->auth);
    fake_wire_clear(&c->wire);
    loop_free(c->loop);
    unlink(c->users);
    free(c);
    return 0;
}

/* ---- requests and credentials ---- */

struct cred {
    const char *user, *password, *alg, *nonce, *nc, *qop;
    const char *realm; /* NULL: REALM */
};

/* Authorization header value for method and uri, or "" when cr is NULL. */
static void auth_value(const struct cred *cr, const char *method, const char *uri, char *out,
                       size_t len)
{
    enum digest_alg a;
    char ha1[DIGEST_HEX_MAX], resp[DIGEST_HEX_MAX];
    const char *realm = cr->realm ? cr->realm : REALM;
    assert_int_equal(digest_alg_from_name(cr->alg, &a), 0);
    assert_int_equal(digest_ha1(a, cr->user, realm, cr->password, ha1), 0);
    struct digest_input in = {.ha1 = ha1,
                              .nonce = cr->nonce,
                              .nc = cr->nc,
                              .cnonce = "0a4f113b",
                              .qop = cr->qop ? cr->qop : "auth",
                              .method = method,
                              .uri = uri};
    assert_int_equal(digest_response(a, &in, resp), 0);
    snprintf(out, len,
             "Digest username=\"%s\", realm=\"%s\", nonce=\"%s\", uri=\"%s\", response=\"%s\", "
             "algorithm=%s, cnonce=\"0a4f113b\", nc=%s, qop=%s",
             cr->user, realm, cr->nonce, uri, resp, cr->alg, cr->nc, cr->qop ? cr->qop : "auth");
}

/* Sends method from `src` as From fuser / To tuser, with credentials cr
 * (NULL: none, or raw_auth when given). */
static void send_req(struct ctx *c, const char *src, const char *method, const char *fuser,
                     const char *tuser, const struct cred *cr, const char *raw_auth)
{
    char text[4096], hdr[2048] = "", value[1600];
    const char *uri = strcmp(method, "REGISTER") == 0 ? "sip:" REALM : "sip:carol@" REALM;
    const char *name = strcmp(method, "REGISTER") == 0 ? "Authorization" : "Proxy-Authorization";
    if (cr) {
        auth_value(cr, method, uri, value, sizeof value);
        snprintf(hdr, sizeof hdr, "%s: %s\r\n", name, value);
    } else if (raw_auth) {
        snprintf(hdr, sizeof hdr, "%s: %s\r\n", name, raw_auth);
    }
    c->cseq++;
    snprintf(text, sizeof text,
             "%s %s SIP/2.0\r\n"
             "Via: SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bKa%d\r\n"
             "From: <sip:%s@" REALM ">;tag=f%d\r\n"
             "To: <sip:%s@" REALM ">\r\n"
             "Call-ID: auth-%d@192.168.1.10\r\n"
             "CSeq: %d %s\r\n"
             "Contact: <sip:%s@192.168.1.10:5060>\r\n"
             "Max-Forwards: 70\r\n%s"
             "Content-Length: 0\r\n\r\n",
             method, uri, c->cseq, fuser, c->cseq, tuser, c->cseq, c->cseq, method, fuser, hdr);
    struct addr from = test_addr(src);
    intake_receive(&c->in, &c->tp, &from, text, strlen(text));
}

/* The one answer on the wire (parsed; the wire emptied). */
static osip_message_t *answer(struct ctx *c)
{
    assert_int_equal(c->wire.n, 1);
    osip_message_t *m = sip_text(c->wire.pkt[0].buf);
    fake_wire_clear(&c->wire);
    return m;
}

/* The nonce of the answer's first challenge, into out. */
static void nonce_of(const osip_message_t *m, char *out)
{
    char *line = sip_wire_line(m, sip_status(m) == 401 ? "WWW-Authenticate" : "Proxy-Authenticate");
    const char *s = strstr(line, "nonce=\"");
    assert_non_null(s);
    snprintf(out, NONCE_LEN + 1, "%s", s + 7);
    free(line);
}

/* Challenged, then a nonce to answer with. */
static void challenge_nonce(struct ctx *c, const char *method, char *nonce)
{
    send_req(c, PHONE, method, "alice", "alice", NULL, NULL);
    osip_message_t *m = answer(c);
    assert_int_equal(sip_status(m), strcmp(method, "REGISTER") == 0 ? 401 : 407);
    nonce_of(m, nonce);
    sip_free(m);
}

static int status_of(struct ctx *c)
{
    osip_message_t *m = answer(c);
    int s = sip_status(m);
    sip_free(m);
    return s;
}

/* ---- who and how ---- */

static void challenges_one_header_per_algorithm_strongest_first(void **state)
{
    struct ctx *c = *state;
    send_req(c, PHONE, "REGISTER", "alice", "alice", NULL, NULL);
    osip_message_t *m = answer(c);
    assert_int_equal(sip_status(m), 401);
    char *wire = sip_wire(m);
    const char *p1 = strstr(wire, "algorithm=SHA-512-256"), *p2 = strstr(wire, "algorithm=SHA-256"),
               *p3 = strstr(wire, "algorithm=MD5");
    assert_non_null(p1);
    assert_non_null(p2);
    assert_non_null(p3);
    assert_true(p1 < p2 && p2 < p3);
    assert_non_null(strstr(wire, "realm=\"" REALM "\""));
    assert_non_null(strstr(wire, "qop=\"auth\""));
    assert_null(strstr(wire, "stale"));
    int n = 0;
    for (const char *p = wire; (p = strstr(p, "WWW-Authenticate: Digest")); p++)
        n++;
    assert_int_equal(n, 3);
    osip_free(wire);
    sip_free(m);
    assert_int_equal(c->passed, 0);

    /* anything else out of dialog: 407 with Proxy-Authenticate */
    send_req(c, PHONE, "MESSAGE", "alice", "carol", NULL, NULL);
    m = answer(c);
    assert_int_equal(sip_status(m), 407);
    free(sip_wire_line(m, "Proxy-Authenticate"));
    sip_free(m);
    assert_int_equal(auth_stats(c->auth)->challenges, 2);
}

static void valid_credentials_pass_for_every_algorithm(void **state)
{
    struct ctx *c = *state;
    char nonce[NONCE_LEN + 1];
    static const char *const algs[] = {"SHA-512-256", "SHA-256", "MD5"};
    challenge_nonce(c, "REGISTER", nonce);
    for (size_t i = 0; i < 3; i++) {
        char nc[9];
        snprintf(nc, sizeof nc, "%08zx", i + 1);
        struct cred cr = {"alice", "alice-secret", algs[i], nonce, nc, NULL, NULL};
        send_req(c, PHONE, "REGISTER", "alice", "alice", &cr, NULL);
        assert_int_equal(status_of(c), 200);
    }
    /* an INVITE with Proxy-Authorization, from another phone of hers */
    challenge_nonce(c, "INVITE", nonce);
    struct cred cr = {"alice", "alice-secret", "SHA-256", nonce, "00000001", NULL, NULL};
    send_req(c, "198.51.100.29:5060", "INVITE", "alice", "carol", &cr, NULL);
    assert_int_equal(status_of(c), 200);
    assert_int_equal(c->passed, 4);
    assert_int_equal(auth_stats(c->auth)->ok, 4);
}

static void an_algorithm_without_ha1_is_a_failure(void **state)
{
    struct ctx *c = *state;
    char nonce[NONCE_LEN + 1];
    challenge_nonce(c, "REGISTER", nonce);
    struct cred cr = {"bob", "bob-secret", "SHA-256", nonce, "00000001", NULL, NULL};
    send_req(c, PHONE, "REGISTER", "bob", "bob", &cr, NULL);
    assert_int_equal(status_of(c), 401);
    cr.alg = "MD5";
    send_req(c, PHONE, "REGISTER", "bob", "bob", &cr, NULL);
    assert_int_equal(status_of(c), 200);
}

/* What a scanner compares: status, reason and the challenge headers but
 * for the nonce. */
static char *shape_of(struct ctx *c)
{
    osip_message_t *m = answer(c);
    char *wire = sip_wire(m), *p;
    sip_free(m);
    /* blank out what differs per answer: nonces, tags, branch and CSeq */
    while ((p = strstr(wire, "nonce=\""))) {
        memset(p, 'N', 7 + NONCE_LEN);
    }
    char *out = calloc(1, strlen(wire) + 1);
    assert_non_null(out);
    for (char *line = strtok(wire, "\r\n"); line; line = strtok(NULL, "\r\n"))
        if (strncmp(line, "Via:", 4) && strncmp(line, "From:", 5) && strncmp(line, "To:", 3) &&
            strncmp(line, "Call-ID:", 8) && strncmp(line, "CSeq:", 5))
            strcat(strcat(out, line), "\n");
    osip_free(wire);
    return out;
}

static void an_unknown_user_is_answered_like_a_wrong_password(void **state)
{
    struct ctx *c = *state;
    char nonce[NONCE_LEN + 1];
    challenge_nonce(c, "REGISTER", nonce);
    struct cred wrong = {"alice", "guess", "MD5", nonce, "00000001", NULL, NULL};
    struct cred nobody = {"zed", "guess", "MD5", nonce, "00000001", NULL, NULL};
    send_req(c, PHONE, "REGISTER", "alice", "alice", &wrong, NULL);
    char *a = shape_of(c);
    send_req(c, PHONE, "REGISTER", "zed", "zed", &nobody, NULL);
    char *b = shape_of(c);
    assert_string_equal(a, b);
    assert_non_null(strstr(a, "401"));
    free(a);
    free(b);
    assert_int_equal(auth_stats(c->auth)->failed[AUTH_FAIL_PASSWORD], 1);
    assert_int_equal(auth_stats(c->auth)->failed[AUTH_FAIL_USER], 1);
    assert_int_equal(c->passed, 0);
}

static void a_replayed_nc_is_refused(void **state)
{
    struct ctx *c = *state;
    char nonce[NONCE_LEN + 1];
    challenge_nonce(c, "REGISTER", nonce);
    struct cred cr = {"alice", "alice-secret", "MD5", nonce, "00000001", NULL, NULL};
    send_req(c, PHONE, "REGISTER", "alice", "alice", &cr, NULL);
    assert_int_equal(status_of(c), 200);
    /* the same credentials again (a new transaction): a replay */
    send_req(c, PHONE, "REGISTER", "alice", "alice", &cr, NULL);
    assert_int_equal(status_of(c), 401);
    assert_int_equal(auth_stats(c->auth)->failed[AUTH_FAIL_REPLAY], 1);
    cr.nc = "00000002";
    send_req(c, PHONE, "REGISTER", "alice", "alice", &cr, NULL);
    assert_int_equal(status_of(c), 200);
    cr.nc = "00000002"; /* not above the last */
    send_req(c, PHONE, "REGISTER", "alice", "alice", &cr, NULL);
    assert_int_equal(status_of(c), 401);
    assert_int_equal(c->passed, 2);
}

static void forged_and_tampered_nonces_are_refused(void **state)
{
    struct ctx *c = *state;
    char nonce[NONCE_LEN + 1], forged[NONCE_LEN + 1];
    challenge_nonce(c, "REGISTER", nonce);
    snprintf(forged, sizeof forged, "%s", nonce);
    forged[5] = forged[5] == '0' ? '1' : '0'; /* a younger birth: the MAC breaks */
    struct cred cr = {"alice", "alice-secret", "MD5", forged, "00000001", NULL, NULL};
    send_req(c, PHONE, "REGISTER", "alice", "alice", &cr, NULL);
    assert_int_equal(status_of(c), 401);
    /* made with another secret */
    char other[NONCE_LEN + 1];
    assert_int_equal(nonce_make("another secret!!", 16, REALM, c->clock_s, other), 0);
    cr.nonce = other;
    send_req(c, PHONE, "REGISTER", "alice", "alice", &cr, NULL);
    assert_int_equal(status_of(c), 401);
    cr.nonce = "short";
    send_req(c, PHONE, "REGISTER", "alice", "alice", &cr, NULL);
    assert_int_equal(status_of(c), 401);
    assert_int_equal(auth_stats(c->auth)->failed[AUTH_FAIL_NONCE], 3);
    assert_int_equal(c->passed, 0);
}

static void an_old_nonce_gets_stale_true(void **state)
{
    struct ctx *c = *state;
    char nonce[NONCE_LEN + 1];
    challenge_nonce(c, "REGISTER", nonce);
    c->clock_s += 301;
    struct cred cr = {"alice", "alice-secret", "MD5", nonce, "00000001", NULL, NULL};
    send_req(c, PHONE, "REGISTER", "alice", "alice", &cr, NULL);
    osip_message_t *m = answer(c);
    assert_int_equal(sip_status(m), 401);
    char *line = sip_wire_line(m, "WWW-Authenticate");
    assert_non_null(strstr(line, "stale=true"));
    free(line);
    sip_free(m);
    assert_int_equal(auth_stats(c->auth)->stale, 1);
    /* the wrong password with an old nonce is a failure, not stale */
    cr.password = "guess";
    send_req(c, PHONE, "REGISTER", "alice", "alice", &cr, NULL);
    m = answer(c);
    line = sip_wire_line(m, "WWW-Authenticate");
    assert_null(strstr(line, "stale"));
    free(line);
    sip_free(m);
}

static void the_identity_is_the_account(void **state)
{
    struct ctx *c = *state;
    char nonce[NONCE_LEN + 1];
    challenge_nonce(c, "REGISTER", nonce);
    /* alice's password, registering bob */
    struct cred cr = {"alice", "alice-secret", "MD5", nonce, "00000001", NULL, NULL};
    send_req(c, PHONE, "REGISTER", "bob", "bob", &cr, NULL);
    assert_int_equal(status_of(c), 403);
    /* alice's password, calling as bob */
    challenge_nonce(c, "INVITE", nonce);
    cr.nonce = nonce;
    send_req(c, PHONE, "INVITE", "bob", "carol", &cr, NULL);
    assert_int_equal(status_of(c), 403);
    assert_int_equal(auth_stats(c->auth)->forbidden, 2);
    assert_int_equal(c->passed, 0);
}

static void oversized_or_broken_credentials_are_failures(void **state)
{
    struct ctx *c = *state;
    char big[1400];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    char raw[1600];
    snprintf(raw, sizeof raw,
             "Digest username=\"%s\", realm=\"" REALM "\", nonce=\"x\", uri=\"sip:" REALM
             "\", response=\"00\"",
             big);
    send_req(c, PHONE, "REGISTER", "alice", "alice", NULL, raw);
    assert_int_equal(status_of(c), 401);
    send_req(c, PHONE, "REGISTER", "alice", "alice", NULL,
             "Digest username=\"alice\", realm=\"" REALM "\", nonce=\"x\"");
    assert_int_equal(status_of(c), 401);
    /* another realm's credentials are not ours: a plain challenge */
    send_req(c, PHONE, "REGISTER", "alice", "alice", NULL,
             "Digest username=\"alice\", realm=\"elsewhere\", nonce=\"x\", uri=\"sip:x\", "
             "response=\"00\"");
    assert_int_equal(status_of(c), 401);
    assert_true(auth_stats(c->auth)->failed[AUTH_FAIL_MALFORMED] >= 1);
    assert_int_equal(c->passed, 0);
}

static void stop_loop(struct timer *t, void *arg)
{
    (void)t;
    loop_stop(arg);
}

static void brute_force_ends_in_a_ban_that_expires(void **state)
{
    struct ctx *c = *state;
    char nonce[NONCE_LEN + 1];
    struct addr phone = test_addr(PHONE), other_port = test_addr("198.51.100.28:40999");
    challenge_nonce(c, "REGISTER", nonce);
    for (int i = 0; i < 5; i++) {
        char pw[16], nc[9];
        snprintf(pw, sizeof pw, "guess%d", i);
        snprintf(nc, sizeof nc, "%08x", i + 1);
        struct cred cr = {"alice", pw, "MD5", nonce, nc, NULL, NULL};
        assert_false(auth_banned(c->auth, &phone));
        send_req(c, PHONE, "REGISTER", "alice", "alice", &cr, NULL);
        assert_int_equal(status_of(c), 401);
    }
    /* banned by IP, whatever the port */
    assert_true(auth_banned(c->auth, &phone));
    assert_true(auth_banned(c->auth, &other_port));
    assert_int_equal(auth_stats(c->auth)->bans, 1);
    assert_int_equal(auth_bans_active(c->auth), 1);
    /* another IP is not */
    struct addr elsewhere = test_addr("198.51.100.77:5060");
    assert_false(auth_banned(c->auth, &elsewhere));
    /* ban_seconds (1 s here) later the IP may try again */
    struct timer *t;
    assert_int_equal(timer_new(&t, c->loop, stop_loop, c->loop), 0);
    timer_start(t, 1300);
    loop_run(c->loop);
    timer_free(t);
    assert_false(auth_banned(c->auth, &phone));
}

static void peers_ack_cancel_and_dialogs_are_not_challenged(void **state)
{
    struct ctx *c = *state;
    /* a peer proxy (figure 2c: proxy 11 to proxy 13) */
    send_req(c, "203.0.113.13:5060", "INVITE", "alice", "carol", NULL, NULL);
    assert_int_equal(status_of(c), 200);
    /* OPTIONS to the proxy itself is a liveness check */
    const char options[] = "OPTIONS sip:203.0.113.11:5060 SIP/2.0\r\n"
                           "Via: SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bKo1\r\n"
                           "From: <sip:alice@pinhole.test>;tag=o\r\nTo: <sip:203.0.113.11>\r\n"
                           "Call-ID: o1\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\n"
                           "Content-Length: 0\r\n\r\n";
    struct addr from = test_addr(PHONE);
    intake_receive(&c->in, &c->tp, &from, options, strlen(options));
    assert_int_equal(status_of(c), 200);
    /* OPTIONS to a user is not */
    send_req(c, PHONE, "OPTIONS", "alice", "carol", NULL, NULL);
    assert_int_equal(status_of(c), 407);
    /* an in-dialog request (To tag) is the dialog's business */
    const char bye[] = "BYE sip:carol@192.168.1.20 SIP/2.0\r\n"
                       "Via: SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bKb1\r\n"
                       "From: <sip:alice@pinhole.test>;tag=a\r\n"
                       "To: <sip:carol@pinhole.test>;tag=b\r\n"
                       "Call-ID: b1\r\nCSeq: 2 BYE\r\nMax-Forwards: 70\r\n"
                       "Content-Length: 0\r\n\r\n";
    intake_receive(&c->in, &c->tp, &from, bye, strlen(bye));
    assert_int_equal(status_of(c), 200);
    /* CANCEL (hop by hop) and ACK are never challenged (RFC 3261 §22.1) */
    send_req(c, PHONE, "CANCEL", "alice", "carol", NULL, NULL);
    assert_int_equal(status_of(c), 200);
    struct proxy_rx rx = {.src = from, .tp = &c->tp};
    osip_message_t *ack = sip_text("ACK sip:carol@pinhole.test SIP/2.0\r\n"
                                   "Via: SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bKk1\r\n"
                                   "From: <sip:alice@pinhole.test>;tag=a\r\n"
                                   "To: <sip:carol@pinhole.test>\r\n"
                                   "Call-ID: k1\r\nCSeq: 1 ACK\r\nMax-Forwards: 70\r\n"
                                   "Content-Length: 0\r\n\r\n");
    assert_false(auth_required(c->auth, ack, &rx));
    sip_free(ack);
    assert_int_equal(c->passed, 4);
    assert_int_equal(auth_stats(c->auth)->challenges, 1); /* the OPTIONS to a user */
}

static void reload_keeps_the_old_users_when_the_new_file_is_bad(void **state)
{
    struct ctx *c = *state;
    char err[256], nonce[NONCE_LEN + 1];
    write_users(c, "# fine\ncarol " REALM " MD5 0123\n");
    assert_int_equal(auth_reload(c->auth, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, ":2: HA1"));
    challenge_nonce(c, "REGISTER", nonce);
    struct cred cr = {"alice", "alice-secret", "MD5", nonce, "00000001", NULL, NULL};
    send_req(c, PHONE, "REGISTER", "alice", "alice", &cr, NULL);
    assert_int_equal(status_of(c), 200); /* alice is still there */
    /* a good file replaces them */
    char ha1[DIGEST_HEX_MAX], text[256];
    assert_int_equal(digest_ha1(DIGEST_MD5, "carol", REALM, "carol-secret", ha1), 0);
    snprintf(text, sizeof text, "carol %s MD5 %s\n", REALM, ha1);
    write_users(c, text);
    assert_int_equal(auth_reload(c->auth, err, sizeof err), 0);
    assert_int_equal(auth_users(c->auth), 1);
    cr.nc = "00000002";
    send_req(c, PHONE, "REGISTER", "alice", "alice", &cr, NULL);
    assert_int_equal(status_of(c), 401);
}

int main(void)
{
    assert_int_equal(sip_init(), 0);
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
        T(challenges_one_header_per_algorithm_strongest_first),
        T(valid_credentials_pass_for_every_algorithm),
        T(an_algorithm_without_ha1_is_a_failure),
        T(an_unknown_user_is_answered_like_a_wrong_password),
        T(a_replayed_nc_is_refused),
        T(forged_and_tampered_nonces_are_refused),
        T(an_old_nonce_gets_stale_true),
        T(the_identity_is_the_account),
        T(oversized_or_broken_credentials_are_failures),
        T(brute_force_ends_in_a_ban_that_expires),
        T(peers_ack_cancel_and_dialogs_are_not_challenged),
        T(reload_keeps_the_old_users_when_the_new_file_is_bad),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
