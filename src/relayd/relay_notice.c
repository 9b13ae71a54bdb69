/* relay_notice: the BYE that tells a proxy its session is gone (see
 * relay_notice.h). */
#include "relay_notice.h"

#include <errno.h>
#include <stdio.h>

#include "pinhole/sip.h"

/* headers, a Call-ID of RELAY_CALL_ID_MAX and two addresses */
#define NOTICE_TEXT_MAX 2048

int relay_notice_send(struct txn_layer *tl, const struct transport *tp, const struct addr *self,
                      const char *call_id, const struct addr *owner, bool idle)
{
    char text[NOTICE_TEXT_MAX], me[ADDR_STRLEN], px[ADDR_STRLEN];
    char branch[SIP_BRANCH_LEN], tag[SIP_TAG_LEN];
    struct sip_parse_result res;
    osip_message_t *bye = NULL;

    sip_branch_new(branch, sizeof branch);
    sip_tag_new(tag, sizeof tag);
    addr_host_sip(self, me, sizeof me);
    addr_host_sip(owner, px, sizeof px);
    int n = snprintf(text, sizeof text,
                     "BYE sip:relay@%s:%u SIP/2.0\r\n"
                     "Via: SIP/2.0/UDP %s:%u;branch=%s;rport\r\n"
                     "Max-Forwards: 70\r\n"
                     "From: <sip:relay@%s:%u>;tag=%s\r\n"
                     "To: <sip:relay@%s:%u>\r\n"
                     "Call-ID: %s\r\n"
                     "CSeq: 1 BYE\r\n"
                     "Reason: %s\r\n"
                     "Content-Length: 0\r\n\r\n",
                     px, addr_port(owner), me, addr_port(self), branch, me, addr_port(self), tag,
                     px, addr_port(owner), call_id,
                     idle ? RELAY_NOTICE_REASON_IDLE : RELAY_NOTICE_REASON_AGE);
    if (n < 0 || (size_t)n >= sizeof text)
        return -ENOSPC;
    int err = sip_parse(&bye, text, (size_t)n, &res);
    if (err) {
        sip_free(bye);
        return err;
    }
    return txn_client_send(tl, bye, owner, tp, NULL, NULL, NULL);
}
