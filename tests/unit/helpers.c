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
