/* relay_sources: parsing Pinhole-Sources (see relay_sources.h). */
#include "relay_sources.h"

#include <errno.h>
#include <string.h>
#include <strings.h>

static const char *skip_ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    return p;
}

static const char *trim_end(const char *start, const char *end)
{
    while (end > start && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    return end;
}

/* One "IP[;sdp]" in [p, end). */
static int parse_one(const char *p, const char *end, struct relay_source *out)
{
    char host[INET6_ADDRSTRLEN];
    const char *semi = memchr(p, ';', (size_t)(end - p));
    const char *host_end = trim_end(p, semi ? semi : end);
    size_t n = (size_t)(host_end - p);

    if (n == 0 || n >= sizeof host || memchr(p, '[', n) || memchr(p, ' ', n))
        return -EINVAL;
    memcpy(host, p, n);
    host[n] = '\0';
    if (addr_from_host_port(&out->ip, host, 0) != 0)
        return -EINVAL;
    out->sdp = false;
    if (semi) {
        const char *param = skip_ws(semi + 1, end);
        const char *param_end = trim_end(param, end);
        if ((size_t)(param_end - param) != 3 || strncasecmp(param, "sdp", 3) != 0)
            return -EINVAL;
        out->sdp = true;
    }
    return 0;
}

int relay_sources_parse(const char *value, struct relay_sources *out)
{
    struct relay_sources got = {.n = 0};
    size_t len = value ? strnlen(value, RELAY_SOURCES_MAX_LEN + 1) : 0;

    if (len > RELAY_SOURCES_MAX_LEN)
        return -EINVAL;
    const char *p = value, *end = value ? value + len : NULL;
    while (p && (p = skip_ws(p, end)) < end) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *item_end = comma ? comma : end;
        if (got.n == LATCH_SIDES || parse_one(p, item_end, &got.v[got.n]) != 0)
            return -EINVAL;
        got.n++;
        p = comma ? comma + 1 : end;
        if (comma && skip_ws(p, end) == end)
            return -EINVAL; /* a trailing comma */
    }
    *out = got;
    return 0;
}
