/* redirectd under hostile input: every RFC 4475 message and redirectd's own
 * REGISTER and INVITE, truncated at many points and with bytes flipped,
 * from a trusted proxy. Nothing may crash or leak (ASan/LSan run this),
 * every answer goes to the sender, no datagram gets more than one answer,
 * and redirectd still works afterwards. */
#include "test_redirectd_harness.h"

#include <dirent.h>

#define FLIPS_PER_MESSAGE 64

static size_t fed, answered;

/* A fixed xorshift: the same mutations on every run. */
static uint32_t next_random(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

static void feed(struct rd_fixture *f, const char *buf, size_t len)
{
    redirector_receive(f->r, &f->a, buf, len);
    fed++;
    assert_true(f->wire.n <= 1);
    if (f->wire.n == 1) {
        answered++;
        assert_true(addr_equal(&f->wire.pkt[0].to, &f->a));
    }
    fake_wire_clear(&f->wire);
}

static void mutate(struct rd_fixture *f, const char *msg, size_t len, uint32_t seed)
{
    char *copy = malloc(len + 1);
    assert_non_null(copy);
    /* truncated anywhere: in the start line, a header, the blank line */
    for (size_t cut = 0; cut < len; cut += 3)
        feed(f, msg, cut);
    /* one to four bytes changed to anything, NUL and CR/LF included */
    for (int i = 0; i < FLIPS_PER_MESSAGE; i++) {
        memcpy(copy, msg, len);
        int n = 1 + (int)(next_random(&seed) % 4);
        for (int k = 0; k < n; k++)
            copy[next_random(&seed) % len] = (char)(next_random(&seed) & 0xff);
        feed(f, copy, len);
    }
    free(copy);
}

static void test_mutated_rfc4475_messages(void **state)
{
    struct rd_fixture *f = *state;
    DIR *d = opendir(FIXTURES_DIR "/rfc4475");
    struct dirent *e;
    uint32_t seed = 0x4475;
    int files = 0;
    assert_non_null(d);
    while ((e = readdir(d)) != NULL) {
        size_t nlen = strlen(e->d_name);
        if (nlen < 5 || strcmp(e->d_name + nlen - 4, ".dat") != 0)
            continue;
        char path[300];
        size_t len;
        snprintf(path, sizeof path, "rfc4475/%s", e->d_name);
        char *msg = fixture_read(path, &len);
        if (len)
            mutate(f, msg, len, seed++);
        free(msg);
        files++;
    }
    closedir(d);
    assert_int_equal(files, 50);
    print_message("%zu mutated datagrams, %zu answered\n", fed, answered);
    /* the mutations must reach the handlers, not only the parser */
    assert_true(fed > 10000);
    assert_true(answered > fed / 20);
}

static void test_mutated_register_and_invite(void **state)
{
    struct rd_fixture *f = *state;
    static const char reg[] = "REGISTER sip:127.0.0.1:5070 SIP/2.0\r\n"
                              "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKmut\r\n"
                              "From: <sip:16@example.net>;tag=m\r\n"
                              "To: <sip:16@example.net>\r\n"
                              "Call-ID: mut@a\r\n"
                              "CSeq: 1 REGISTER\r\n"
                              "Contact: <sip:16@198.51.100.28:40312>;expires=60\r\n"
                              "Path: <sip:192.0.2.10:5060;lr>\r\n"
                              "Expires: 60\r\n"
                              "Content-Length: 0\r\n\r\n";
    static const char inv[] = "INVITE sip:16@127.0.0.1:5070 SIP/2.0\r\n"
                              "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKmutinv\r\n"
                              "Max-Forwards: 70\r\n"
                              "From: <sip:12@example.net>;tag=m\r\n"
                              "To: <sip:16@example.net>\r\n"
                              "Call-ID: mutinv@a\r\n"
                              "CSeq: 1 INVITE\r\n"
                              "Require: path\r\n"
                              "Content-Length: 0\r\n\r\n";
    mutate(f, reg, sizeof reg - 1, 1);
    mutate(f, inv, sizeof inv - 1, 2);

    /* still a working registrar and redirect server */
    rd_register(f, &f->b, "99", "sip:99@198.51.100.28:1000", "after@b", 1, "");
    rd_expect_status(f, &f->b, 200);
    rd_invite(f, &f->b, "99", 1);
    osip_message_t *m = rd_expect(f, &f->b, 302);
    rd_assert_contact(m, "sip:99@198.51.100.28:1000");
    sip_free(m);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, rd_setup, rd_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_mutated_rfc4475_messages),
        T(test_mutated_register_and_invite),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
