/* confdoc: prints the key reference of docs/operations.md from the three
 * daemons' key tables (style.md habit 5: keys are declared once, and the
 * docs are generated from that declaration). test_confdoc.sh fails when
 * the docs and this output differ; regenerate the block with
 *   build/tests/confdoc > /tmp/keys.md
 * and paste it between the markers in docs/operations.md.
 *
 * The test tools link libpinhole only, and the key tables are
 * self-contained files (each needs nothing but conf.h), so they are
 * compiled in here rather than linked from the daemons' cores. */
#include <stdio.h>

#include "pinhole/conf.h"

#include "../../src/proxyd/proxyd_conf.c"
#undef K
#include "../../src/redirectd/redirectd_conf.c"
#undef K
#include "../../src/relayd/relayd_conf.c"
#undef K

int main(int argc, char **argv)
{
    /* -k: the key names alone, one per line per daemon ("proxyd listen"),
     * for checking that the man pages mention every key. */
    if (argc == 2 && argv[1][0] == '-' && argv[1][1] == 'k') {
        for (size_t i = 0; i < proxyd_conf_nkeys; i++)
            printf("proxyd %s\n", proxyd_conf_keys[i].path);
        for (size_t i = 0; i < redirectd_conf_nkeys; i++)
            printf("redirectd %s\n", redirectd_conf_keys[i].path);
        for (size_t i = 0; i < relayd_conf_nkeys; i++)
            printf("relayd %s\n", relayd_conf_keys[i].path);
        return 0;
    }
    conf_print_reference(proxyd_conf_keys, proxyd_conf_nkeys, "proxyd");
    conf_print_reference(redirectd_conf_keys, redirectd_conf_nkeys, "redirectd");
    conf_print_reference(relayd_conf_keys, relayd_conf_nkeys, "relayd");
    return 0;
}
