/* media_source: where a call's media comes from, as signalling tells it
 * (docs/relayd.md, "Who may latch a relay port").
 *
 * relayd latches a relay port only from the IP address each phone
 * signalled from. The proxy a phone talks to knows that address: the
 * packet's source. A proxy further on sees only the proxy before it, so
 * the first proxy stamps the phone's IP on what it forwards to a peer
 *
 *   Pinhole-Source: 198.51.100.7
 *
 * and every proxy removes the header from whatever it forwards, keeping a
 * peer's stamp only to pass it on to the next peer. A phone therefore
 * cannot name an address for its call: one it writes is removed, and one
 * it sends to a proxy that does not list it in `peers` is never read.
 *
 * The proxy holding the call's relay resource tells relayd what it knows
 * in the relay INVITE's Pinhole-Sources header (media_sources_value). */
#ifndef PROXYD_MEDIA_SOURCE_H
#define PROXYD_MEDIA_SOURCE_H

#include <stddef.h>

#include "pinhole/addr.h"
#include "pinhole/sip.h"
#include "proxy_env.h"

#define MEDIA_SOURCE_HEADER "Pinhole-Source"   /* between proxies: one IP */
#define MEDIA_SOURCES_HEADER "Pinhole-Sources" /* to relayd: "IP;sdp, IP" */
#define MEDIA_SOURCES_MAX 4                    /* relayd takes as many (LATCH_SIDES) */
#define MEDIA_SOURCES_LEN 200                  /* four IPv6 addresses, ";sdp" and ", " */

/* The IP address of the phone behind m, which came from src: src's when
 * src is not a peer (the phone sent it to us); a peer's stamp; for a peer
 * that stamps nothing (a gateway, not a proxyd) the c= address of m's SDP,
 * which a gateway's media comes from. 0 with *ip (port 0), or -ENOENT. */
int media_source_of(const struct proxy_env *env, const osip_message_t *m, const struct addr *src,
                    struct addr *ip);

/* m is about to go to next_hop: every Pinhole-Source is removed, and one
 * naming ip added when next_hop is a peer and ip is set (ip may be NULL).
 * 0 or -ENOMEM. */
int media_source_stamp(const struct proxy_env *env, osip_message_t *m, const struct addr *ip,
                       const struct addr *next_hop);

/* Our copy m of what came from src is about to go to next_hop: every
 * Pinhole-Source is removed, and ours (media_source_of) added when
 * next_hop is a peer. 0 or -ENOMEM. */
int media_source_pass(const struct proxy_env *env, osip_message_t *m, const struct addr *src,
                      const struct addr *next_hop);

/* The Pinhole-Sources value for relayd into buf[len] (MEDIA_SOURCES_LEN
 * is enough): "IP;sdp" for sdp_owner, the phone whose SDP the relay
 * INVITE carries, and "IP" for other, the other phone; either may be NULL
 * or unset, and other is left out when it is sdp_owner's IP. "" when
 * neither is known. */
void media_sources_value(char *buf, size_t len, const struct addr *sdp_owner,
                         const struct addr *other);
/* The same for several phones (a forked call's): ips[0] is the SDP's owner,
 * the rest plain; unset ones and repeated IPs left out, at most
 * MEDIA_SOURCES_MAX. */
void media_sources_list(char *buf, size_t len, const struct addr *ips, size_t n);

#endif
