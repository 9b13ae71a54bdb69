/* daemon: what proxyd, redirectd and relayd share around their event loop:
 * the command line of design.md, config loading and reload, signals,
 * systemd readiness, and a bounded drain on SIGTERM. */
#include "pinhole/daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "pinhole/log.h"

struct daemon {
    const struct daemon_ops *ops;
    const char *conf_file;
    struct loop *loop;
    void *cfg;
    void *state;
    struct timer *drain_timer;
    bool draining;
};

/* The sd_notify protocol (one datagram to $NOTIFY_SOCKET) is small enough
 * to speak directly, which keeps libsystemd out of the dependencies. */
static void notify_systemd(const char *msg)
{
    const char *path = getenv("NOTIFY_SOCKET");
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    size_t len;

    if (!path || (path[0] != '/' && path[0] != '@') || strlen(path) >= sizeof sun.sun_path)
        return;
    len = strlen(path);
    memcpy(sun.sun_path, path, len);
    if (sun.sun_path[0] == '@')
        sun.sun_path[0] = '\0'; /* abstract namespace */
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return;
    sendto(fd, msg, strlen(msg), MSG_NOSIGNAL, (struct sockaddr *)&sun,
           (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len));
    close(fd);
}

static void usage(const char *name)
{
    fprintf(stderr,
            "usage: %s -c FILE [-f] [-t] [-V]\n"
            "  -c FILE  configuration file (libconfig)\n"
            "  -f       stay in the foreground, log to stderr\n"
            "  -t       check the configuration and exit (0 ok, 1 error)\n"
            "  -V       print the version and exit\n",
            name);
}

static void apply_log_level(const struct daemon_ops *ops, const void *cfg)
{
    log_set_level(*(const enum log_level *)((const char *)cfg + ops->log_level_offset));
}

/* Loads and validates a config; returns a malloc'd struct or NULL with a
 * message in err. */
static void *load_config(const struct daemon_ops *ops, const char *file, char *err, size_t len)
{
    void *cfg = calloc(1, ops->cfg_size);
    if (!cfg) {
        snprintf(err, len, "out of memory");
        return NULL;
    }
    if (conf_load(file, ops->keys, ops->nkeys, cfg, err, len) != 0) {
        free(cfg);
        return NULL;
    }
    if (ops->finish_config && ops->finish_config(cfg, err, len) != 0) {
        conf_free(ops->keys, ops->nkeys, cfg);
        free(cfg);
        return NULL;
    }
    return cfg;
}

static void free_config(const struct daemon_ops *ops, void *cfg)
{
    if (!cfg)
        return;
    conf_free(ops->keys, ops->nkeys, cfg);
    free(cfg);
}

static void on_reload(int signo, void *arg)
{
    struct daemon *d = arg;
    char err[512];
    (void)signo;

    notify_systemd("RELOADING=1");
    void *cfg = load_config(d->ops, d->conf_file, err, sizeof err);
    if (!cfg) {
        log_error("reload refused, keeping the running configuration: %s", err);
    } else if (d->ops->reload && d->ops->reload(d->state, cfg, d->cfg) != 0) {
        log_error("reload refused by %s, keeping the running configuration", d->ops->name);
        free_config(d->ops, cfg);
    } else {
        free_config(d->ops, d->cfg);
        d->cfg = cfg;
        apply_log_level(d->ops, cfg);
        log_notice("configuration reloaded from %s", d->conf_file);
    }
    notify_systemd("READY=1");
}

static void on_drained(struct timer *t, void *arg)
{
    struct daemon *d = arg;
    (void)t;
    log_notice("drain period over, stopping");
    loop_stop(d->loop);
}

static void on_terminate(int signo, void *arg)
{
    struct daemon *d = arg;
    int ms = 0;

    if (d->draining) {
        log_notice("second signal %d, stopping now", signo);
        loop_stop(d->loop);
        return;
    }
    d->draining = true;
    notify_systemd("STOPPING=1");
    if (d->ops->drain)
        ms = d->ops->drain(d->state);
    if (ms <= 0 || timer_new(&d->drain_timer, d->loop, on_drained, d) != 0) {
        log_notice("signal %d, stopping", signo);
        loop_stop(d->loop);
        return;
    }
    log_notice("signal %d, finishing in-flight work for up to %d ms", signo, ms);
    timer_start(d->drain_timer, (uint64_t)ms);
}

static int detach(void)
{
    pid_t pid = fork();
    if (pid < 0)
        return -errno;
    if (pid > 0)
        _exit(0);
    if (setsid() < 0)
        return -errno;
    int fd = open("/dev/null", O_RDWR);
    if (fd >= 0) {
        dup2(fd, 0);
        dup2(fd, 1);
        dup2(fd, 2);
        if (fd > 2)
            close(fd);
    }
    return chdir("/") == 0 ? 0 : -errno;
}

static int run(struct daemon *d, bool foreground)
{
    int rc = 1;

    if (!foreground) {
        if (detach() != 0)
            return 1;
        log_use_syslog(d->ops->name);
    }
    signal(SIGPIPE, SIG_IGN);
    if (loop_new(&d->loop) != 0)
        return 1;
    if (loop_on_signal(d->loop, SIGTERM, on_terminate, d) != 0 ||
        loop_on_signal(d->loop, SIGINT, on_terminate, d) != 0 ||
        loop_on_signal(d->loop, SIGHUP, on_reload, d) != 0)
        goto out;
    if (d->ops->start(d->loop, d->cfg, &d->state) != 0) {
        log_error("%s failed to start", d->ops->name);
        goto out;
    }
    log_notice("%s %s started (config %s)", d->ops->name, PINHOLE_VERSION, d->conf_file);
    notify_systemd("READY=1");
    rc = loop_run(d->loop) == 0 ? 0 : 1;
    d->ops->stop(d->state);
    log_notice("%s stopped", d->ops->name);
out:
    timer_free(d->drain_timer);
    loop_free(d->loop);
    return rc;
}

int daemon_main(int argc, char **argv, const struct daemon_ops *ops)
{
    struct daemon d = {.ops = ops};
    bool foreground = false, check_only = false;
    char err[512];
    int opt, rc;

    while ((opt = getopt(argc, argv, "c:ftVh")) != -1) {
        switch (opt) {
        case 'c':
            d.conf_file = optarg;
            break;
        case 'f':
            foreground = true;
            break;
        case 't':
            check_only = true;
            break;
        case 'V':
            printf("%s (pinhole) %s\n", ops->name, PINHOLE_VERSION);
            return 0;
        default:
            usage(ops->name);
            return 2;
        }
    }
    if (!d.conf_file || optind != argc) {
        usage(ops->name);
        return 2;
    }
    d.cfg = load_config(ops, d.conf_file, err, sizeof err);
    if (!d.cfg) {
        fprintf(stderr, "%s: %s\n", ops->name, err);
        return 1;
    }
    apply_log_level(ops, d.cfg);
    if (check_only) {
        printf("%s: %s: configuration OK\n", ops->name, d.conf_file);
        free_config(ops, d.cfg);
        return 0;
    }
    rc = run(&d, foreground);
    free_config(ops, d.cfg);
    return rc;
}
