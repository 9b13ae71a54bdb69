/* metrics: the series all three daemons register, so that a dashboard
 * can put proxyd, redirectd and relayd side by side under one name (the
 * scrape's job/instance labels tell them apart). */
#include "pinhole/metrics.h"

#include <stdio.h>

#include "pinhole/txn.h"

int metrics_add_requests(struct metrics *m, const char *const *names, const uint64_t *counts,
                         size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const char *labels[] = {"method", names[i], NULL};
        struct metric_def d = {.name = "pinhole_sip_requests_total",
                               .type = METRIC_COUNTER,
                               .help = "SIP requests received, by method (retransmissions not "
                                       "counted)",
                               .labels = labels};
        int err = metrics_add(m, &d, &counts[i]);
        if (err)
            return err;
    }
    return 0;
}

int metrics_add_responses(struct metrics *m, const uint64_t *counts, size_t n, unsigned first_code)
{
    for (size_t i = 0; i < n; i++) {
        char code[8];
        snprintf(code, sizeof code, "%u", first_code + (unsigned)i);
        const char *labels[] = {"code", code, NULL};
        struct metric_def d = {.name = "pinhole_sip_responses_total",
                               .type = METRIC_COUNTER,
                               .help = "SIP responses sent, by status code (first sending only)",
                               .labels = labels,
                               .flags = METRIC_SPARSE};
        int err = metrics_add(m, &d, &counts[i]);
        if (err)
            return err;
    }
    return 0;
}

int metrics_add_txn(struct metrics *m, const struct txn_stats *snap)
{
    const struct {
        const char *name;
        enum metric_type type;
        const char *help;
        const uint64_t *value;
    } s[] = {
        {"pinhole_txn_server_transactions", METRIC_GAUGE,
         "Server transactions in flight (RFC 3261 section 17.2)", &snap->servers},
        {"pinhole_txn_client_transactions", METRIC_GAUGE,
         "Client transactions in flight (RFC 3261 section 17.1)", &snap->clients},
        {"pinhole_txn_absorbed_total", METRIC_COUNTER,
         "Retransmitted requests absorbed by a live transaction", &snap->absorbed},
        {"pinhole_txn_retransmissions_total", METRIC_COUNTER,
         "Requests and responses this daemon retransmitted (timers A, E, G)",
         &snap->retransmissions},
        {"pinhole_txn_timeouts_total", METRIC_COUNTER,
         "Client transactions that got no final response (timers B, F, C)", &snap->timeouts},
        {"pinhole_txn_timer_c_total", METRIC_COUNTER,
         "Of those, INVITE branches that rang for timer_c and were CANCELled (RFC 3261 Timer C)",
         &snap->timer_c},
    };
    for (size_t i = 0; i < sizeof s / sizeof s[0]; i++) {
        struct metric_def d = {.name = s[i].name, .type = s[i].type, .help = s[i].help};
        int err = metrics_add(m, &d, s[i].value);
        if (err)
            return err;
    }
    return 0;
}
