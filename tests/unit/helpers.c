#include "helpers.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *fixture_read(const char *relpath, size_t *len)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", FIXTURES_DIR, relpath);
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("fixture %s: %s", path, strerror(errno));
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    buf[n] = '\0';
    if (len)
        *len = (size_t)n;
    return buf;
}

char *fixture_read_sip(const char *relpath, size_t *len)
{
    size_t n;
    char *raw = fixture_read(relpath, &n);
    char *out = malloc(2 * n + 1);
    assert_non_null(out);
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (raw[i] == '\n' && (i == 0 || raw[i - 1] != '\r'))
            out[o++] = '\r';
        out[o++] = raw[i];
    }
    out[o] = '\0';
    free(raw);
    if (len)
        *len = o;
    return out;
}

static int fake_send(void *ctx, const struct addr *to, const void *buf, size_t len)
{
    struct fake_wire *w = ctx;
    if (w->fail_with)
        return w->fail_with;
    assert_true(w->n < FAKE_WIRE_MAX);
    w->pkt[w->n].to = *to;
    w->pkt[w->n].buf = malloc(len + 1);
    assert_non_null(w->pkt[w->n].buf);
    memcpy(w->pkt[w->n].buf, buf, len);
    w->pkt[w->n].buf[len] = '\0';
    w->pkt[w->n].len = len;
    w->n++;
    return 0;
}

void fake_wire_transport(struct fake_wire *w, struct transport *tp, const char *local)
{
    memset(tp, 0, sizeof *tp);
    tp->send = fake_send;
    tp->ctx = w;
    tp->local = test_addr(local);
}

void fake_wire_clear(struct fake_wire *w)
{
    for (size_t i = 0; i < w->n; i++)
        free(w->pkt[i].buf);
    w->n = 0;
}

struct addr test_addr(const char *text)
{
    struct addr a;
    if (addr_parse(&a, text, 0) != 0)
        fail_msg("bad test address %s", text);
    return a;
}

int sip_test_setup(void **state)
{
    (void)state;
    return sip_init();
}

/* Parses len bytes of text or fails the test, naming `what`. */
static osip_message_t *parse_or_fail(const char *text, size_t len, const char *what)
{
    struct sip_parse_result res;
    osip_message_t *m = NULL;
    if (sip_parse(&m, text, len, &res) != 0) {
        sip_free(m); /* an answerable failure still hands the message over */
        fail_msg("%s: %s", what, res.reason ? res.reason : "?");
    }
    assert_non_null(m);
    return m;
}

osip_message_t *sip_fixture(const char *relpath)
{
    size_t len;
    char *buf = fixture_read_sip(relpath, &len);
    osip_message_t *m = parse_or_fail(buf, len, relpath);
    free(buf);
    return m;
}

osip_message_t *sip_text(const char *text)
{
    return parse_or_fail(text, strlen(text), text);
}

char *sip_wire(const osip_message_t *m)
{
    char *text = NULL;
    size_t len;
    assert_int_equal(sip_serialize(m, &text, &len), 0);
    return text;
}

osip_message_t *sip_reparse(const osip_message_t *m)
{
    char *text = NULL;
    size_t len;
    assert_int_equal(sip_serialize(m, &text, &len), 0);
    osip_message_t *again = parse_or_fail(text, len, text);
    osip_free(text);
    return again;
}

char *sip_wire_line(const osip_message_t *m, const char *name)
{
    char prefix[128];
    char *text = NULL;
    size_t len;
    snprintf(prefix, sizeof prefix, "\r\n%s: ", name);
    /* Not sip_wire(): gcc 12 takes its inlined local for the text's home
     * and calls every pointer into the text dangling. */
    assert_int_equal(sip_serialize(m, &text, &len), 0);
    const char *at = strstr(text, prefix);
    char *line = at ? strndup(at + 2, strcspn(at + 2, "\r\n")) : NULL;
    osip_free(text);
    if (!line)
        fail_msg("no %s line on the wire", name);
    return line;
}

void test_tmpdir(char *dir, size_t len, const char *name)
{
    int n = snprintf(dir, len, "/tmp/pinhole-%s-XXXXXX", name);
    assert_true(n > 0 && (size_t)n < len);
    assert_non_null(mkdtemp(dir));
}

void test_rmtree(const char *dir)
{
    char cmd[256];
    int n = snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_true(n > 0 && (size_t)n < sizeof cmd && !strchr(dir, '\''));
    assert_int_equal(system(cmd), 0);
}
