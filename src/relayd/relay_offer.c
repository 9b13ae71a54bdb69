/* relay_offer: reading the relay INVITE's SDP and writing fig. 8b's. */
#include "relay_offer.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

/* Transports a UDP relay port carries: RTP over UDP in every profile
 * (RTP/AVP, RTP/SAVPF...), DTLS-SRTP (UDP/TLS/RTP/SAVP...), plain udp and
 * T.38's udptl. TCP, SCTP or DCCP media cannot go through a UDP socket. */
static bool proto_relayable(const char *proto)
{
    return strncasecmp(proto, "RTP/", 4) == 0 || strncasecmp(proto, "UDP", 3) == 0;
}

static int refuse(struct relay_offer_refusal *why, int status, const char *reason,
                  const char *warning)
{
    why->status = status;
    why->reason = reason;
    why->warning = warning;
    return -EINVAL;
}

/* Counts the streams needed and refuses transports we cannot carry. */
static int scan_media(struct relay_offer *o, struct relay_offer_refusal *why)
{
    o->nmedia = sdp_media_count(o->sdp);
    o->streams_needed = 0;
    for (size_t i = 0; i < o->nmedia; i++) {
        struct sdp_media_info mi;
        if (sdp_media_get(o->sdp, i, &mi) != 0)
            return refuse(why, 400, "Malformed SDP", NULL);
        if (mi.port == 0)
            continue; /* RFC 3264 §6: disabled, nothing to relay */
        if (!proto_relayable(mi.proto))
            return refuse(why, 488, NULL, "302 relayd \"Incompatible transport protocol\"");
        o->streams_needed = i + 1;
    }
    return 0;
}

int relay_offer_read(struct relay_offer *o, const osip_message_t *req,
                     struct relay_offer_refusal *why)
{
    const char *body = NULL;
    size_t len = 0;
    int err;

    memset(o, 0, sizeof *o);
    /* fig. 10 step 60: the relay server invite message carries the SDP
     * payload 184; without one there is nothing to allocate for. */
    if (sip_body_get(req, &body, &len) != 0 || len == 0)
        return refuse(why, 400, "Missing SDP", NULL);
    if (!sip_body_is_sdp(req))
        return refuse(why, 415, NULL, NULL);
    err = sdp_parse(&o->sdp, body, len);
    if (err == -ENOMEM)
        return err;
    if (err)
        return refuse(why, 400, "Malformed SDP", NULL);
    err = scan_media(o, why);
    if (err)
        relay_offer_free(o);
    return err;
}

int relay_offer_answer(struct relay_offer *o, const struct session *s, const char *advertise,
                       char **body, size_t *len)
{
    uint16_t ports[SDP_MAX_MEDIA] = {0};
    size_t n = o->nmedia < SDP_MAX_MEDIA ? o->nmedia : SDP_MAX_MEDIA;

    if (session_stream_count(s) < o->streams_needed)
        return -EINVAL;
    /* stream i serves m= line i; lines past the session's streams are
     * disabled ones (port 0), which sdp_apply_relay leaves at 0 */
    for (size_t i = 0; i < n; i++)
        ports[i] = session_stream_port(s, i);
    int err = sdp_apply_relay(o->sdp, advertise, ports, n);
    if (err)
        return err;
    return sdp_serialize(o->sdp, body, len);
}

void relay_offer_free(struct relay_offer *o)
{
    sdp_free(o->sdp);
    o->sdp = NULL;
}
