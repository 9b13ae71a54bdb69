/* sip_valid: the checks on values a daemon keeps as state and later puts
 * back on a line it writes itself (a URI user, a Call-ID). One copy, so
 * that proxyd and relayd refuse the same things. */
#include "pinhole/sip.h"

#include <string.h>

static bool is_hex(unsigned char c)
{
    return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f');
}

/* RFC 3261 §25.1: unreserved / user-unreserved (the marks and "&=+$,;?/"). */
static bool is_user_char(unsigned char c)
{
    bool alnum = (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
    return alnum || (c && strchr("-_.!~*'()&=+$,;?/", c));
}

bool sip_user_valid(const char *user, size_t max)
{
    size_t n = user ? strnlen(user, max + 1) : 0;
    if (n == 0 || n > max)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)user[i];
        if (c == '%') {
            /* escaped = "%" HEX HEX: a lone '%' would not parse back. The
             * string ends at user[n], so neither read passes it. */
            if (!is_hex((unsigned char)user[i + 1]) || !is_hex((unsigned char)user[i + 2]))
                return false;
            i += 2;
        } else if (!is_user_char(c)) {
            return false;
        }
    }
    return true;
}

bool sip_call_id_valid(const char *call_id, size_t max)
{
    size_t n = call_id ? strnlen(call_id, max + 1) : 0;
    if (n == 0 || n > max)
        return false;
    /* §25.1 word characters are visible ASCII; this also keeps a Call-ID
     * safe to print in a log line */
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)call_id[i] <= 0x20 || (unsigned char)call_id[i] >= 0x7f)
            return false;
    return true;
}
