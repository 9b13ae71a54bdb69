/* log: leveled, timestamped log lines on stderr (journald picks them up
 * under systemd), or syslog when the daemon detaches. */
#ifndef PINHOLE_LOG_H
#define PINHOLE_LOG_H

#include <stdbool.h>
#include <stdint.h>

enum log_level { LOGL_ERROR = 0, LOGL_WARN, LOGL_NOTICE, LOGL_INFO, LOGL_DEBUG };

void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* Parses "error", "warn", "notice", "info", "debug". Returns 0 or -EINVAL. */
int log_level_parse(const char *name, enum log_level *out);
const char *log_level_name(enum log_level level);
/* Sends further lines to syslog (ident is not copied: pass a literal). */
void log_use_syslog(const char *ident);

void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOGL_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOGL_WARN, __VA_ARGS__)
#define log_notice(...) log_msg(LOGL_NOTICE, __VA_ARGS__)
#define log_info(...) log_msg(LOGL_INFO, __VA_ARGS__)
#define log_debug(...)                                                                             \
    do {                                                                                           \
        if (log_get_level() >= LOGL_DEBUG)                                                         \
            log_msg(LOGL_DEBUG, __VA_ARGS__);                                                      \
    } while (0)

/* A rate limit for lines that a hostile peer can trigger at will (parse
 * errors, refused sources): at most `burst` lines per `interval_s`, then one
 * line saying how many were suppressed. Zero-initialise, then set the two
 * limits. */
struct log_ratelimit {
    unsigned interval_s;
    unsigned burst;
    int64_t window_start;
    unsigned printed;
    unsigned suppressed;
};

/* True when the caller may print now. Prints the "suppressed N" line itself
 * when a new window opens after suppression. */
bool log_ratelimit_allow(struct log_ratelimit *rl);

#endif
