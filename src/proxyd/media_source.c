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

void media_sources_value(char *buf, size_t len, const struct addr *sdp_owner,
                         const struct addr *other)
{
    char a[ADDR_STRLEN] = "", b[ADDR_STRLEN] = "";
    bool has_a = sdp_owner && addr_is_set(sdp_owner);
    bool has_b = other && addr_is_set(other) && !(has_a && addr_equal_host(sdp_owner, other));

    if (has_a)
        addr_host_plain(sdp_owner, a, sizeof a);
    if (has_b)
        addr_host_plain(other, b, sizeof b);
    snprintf(buf, len, "%s%s%s%s", a, has_a ? ";sdp" : "", has_a && has_b ? ", " : "", b);
}
