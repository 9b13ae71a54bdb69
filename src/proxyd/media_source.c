/* media_source: the phones' signalling IPs, stamped between peers and told
 * to relayd (see media_source.h). */
#include "media_source.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "pinhole/sdp.h"

static bool is_peer(const struct proxy_env *env, const struct addr *a)
{
    return addr_list_match(&env->cfg->peers, a);
}

/* The first usable c= of m's SDP. */
static int sdp_conn(const osip_message_t *m, struct addr *ip)
{
    const char *body;
    size_t len;
    struct sdp *s = NULL;
    struct sdp_media_info mi;
    int err = -ENOENT;

    if (!sip_body_is_sdp(m) || sip_body_get(m, &body, &len) != 0 || sdp_parse(&s, body, len) != 0)
        return -ENOENT;
    for (size_t i = 0; err && sdp_media_get(s, i, &mi) == 0; i++)
        err = sdp_media_addr(&mi, ip);
    sdp_free(s);
    return err;
}

int media_source_of(const struct proxy_env *env, const osip_message_t *m, const struct addr *src,
                    struct addr *ip)
{
    if (!is_peer(env, src)) {
        *ip = *src;
        addr_set_port(ip, 0);
        return 0;
    }
    const char *stamp = sip_header_get(m, MEDIA_SOURCE_HEADER);
    if (stamp && addr_from_host_port(ip, stamp, 0) == 0)
        return 0;
    return sdp_conn(m, ip);
}

int media_source_stamp(const struct proxy_env *env, osip_message_t *m, const struct addr *ip,
                       const struct addr *next_hop)
{
    char text[ADDR_STRLEN];

    (void)sip_header_remove(m, MEDIA_SOURCE_HEADER);
    if (!ip || !addr_is_set(ip) || !is_peer(env, next_hop))
        return 0;
    addr_host_plain(ip, text, sizeof text);
    return sip_header_add(m, MEDIA_SOURCE_HEADER, text);
}

int media_source_pass(const struct proxy_env *env, osip_message_t *m, const struct addr *src,
                      const struct addr *next_hop)
{
    struct addr ip;
    bool known = media_source_of(env, m, src, &ip) == 0;
    return media_source_stamp(env, m, known ? &ip : NULL, next_hop);
}

void media_sources_list(char *buf, size_t len, const struct addr *ips, size_t n)
{
    size_t used = 0, listed = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < n && listed < MEDIA_SOURCES_MAX; i++) {
        char host[ADDR_STRLEN];
        bool dup = false;
        if (!addr_is_set(&ips[i]))
            continue;
        for (size_t j = 0; j < i && !dup; j++)
            dup = addr_is_set(&ips[j]) && addr_equal_host(&ips[j], &ips[i]);
        if (dup)
            continue;
        addr_host_plain(&ips[i], host, sizeof host);
        int w = snprintf(buf + used, len - used, "%s%s%s", listed ? ", " : "", host,
                         i == 0 ? ";sdp" : "");
        if (w < 0 || (size_t)w >= len - used) {
            buf[used] = '\0'; /* what fits: never half an address */
            return;
        }
        used += (size_t)w;
        listed++;
    }
}

void media_sources_value(char *buf, size_t len, const struct addr *sdp_owner,
                         const struct addr *other)
{
    struct addr ips[2];
    memset(ips, 0, sizeof ips);
    if (sdp_owner)
        ips[0] = *sdp_owner;
    if (other)
        ips[1] = *other;
    media_sources_list(buf, len, ips, 2);
}
