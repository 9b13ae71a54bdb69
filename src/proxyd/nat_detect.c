/* nat_detect: the two NAT signals of design decision 2. */
#include "nat_detect.h"

#include <string.h>

void nat_detect_sent_by(const osip_message_t *m, struct addr *out)
{
    memset(out, 0, sizeof *out);
    if (sip_via_sent_by(m, out) != 0)
        memset(out, 0, sizeof *out);
}

static bool contact_is_private(const osip_message_t *m)
{
    struct addr contact;
    return sip_contact_addr(m, &contact) == 0 && addr_is_private(&contact);
}

bool nat_detect(const struct addr *src, const struct addr *sent_by, const osip_message_t *m,
                bool private_contact_is_nat)
{
    /* Step 114: the address the packet came from is the NAT's when it is
     * not the one the client says it sent from. */
    if (!addr_is_set(sent_by) || !addr_equal(src, sent_by))
        return true;
    return private_contact_is_nat && contact_is_private(m);
}
