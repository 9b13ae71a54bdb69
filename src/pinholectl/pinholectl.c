/* pinholectl: reads a running daemon's state over its `stats` address
 * (metrics.h) and prints it as tables:
 *
 *   pinholectl [-s HOST:PORT] [-n LIMIT] [-o OFFSET] [-j] COMMAND
 *     status    the daemon's /status (any daemon)
 *     clients   proxyd's NAT client table
 *     bans      the source IPs proxyd's auth has banned
 *     bindings  redirectd's bindings (AOR → channel, serving proxy)
 *     sessions  relayd's sessions, one line per stream channel
 *   pinholectl user add USER [--realm R] [--file F]   (ctl_user.h)
 *
 * Without -s each command asks the stats address docs/operations.md
 * suggests for its daemon. Exit status: 0, 1 (no answer or an error from
 * the daemon), 2 (usage). */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_fetch.h"
#include "ctl_print.h"
#include "ctl_user.h"
#include "pinhole/json.h"

struct command {
    const char *name;
    const char *path;
    const char *default_server; /* docs/operations.md's suggested `stats` */
};

static const struct command commands[] = {
    {"status", "/status", "127.0.0.1:9060"},     {"clients", "/clients", "127.0.0.1:9060"},
    {"bans", "/bans", "127.0.0.1:9060"},         {"bindings", "/bindings", "127.0.0.1:9070"},
    {"sessions", "/sessions", "127.0.0.1:9080"},
};

static int usage(void)
{
    fprintf(stderr,
            "usage: pinholectl [-s HOST:PORT] [-n LIMIT] [-o OFFSET] [-j] COMMAND\n"
            "  status    daemon, version, uptime and its counters (any daemon)\n"
            "  clients   proxyd's NAT client table      (default -s 127.0.0.1:9060)\n"
            "  bans      source IPs proxyd's auth banned (default -s 127.0.0.1:9060)\n"
            "  bindings  redirectd's bindings           (default -s 127.0.0.1:9070)\n"
            "  sessions  relayd's sessions per channel  (default -s 127.0.0.1:9080)\n"
            "  -s  the daemon's `stats` address   -n  rows to list (1..10000, default 1000)\n"
            "  -o  rows to skip                   -j  print the JSON as received\n"
            "usage: pinholectl user add USER [--realm REALM] [--file FILE]  (password on stdin)\n");
    return 2;
}

static const struct command *find_command(const char *name)
{
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

/* Prints the reply: the daemon's error text, the raw JSON, or tables. */
static int show(const struct command *cmd, const struct ctl_reply *r, bool raw)
{
    struct json *doc;
    size_t pos = 0;
    int rc;

    if (r->status != 200) {
        fprintf(stderr, "pinholectl: %s answered %d: %s", cmd->path, r->status, r->body);
        return 1;
    }
    if (raw) {
        fwrite(r->body, 1, r->len, stdout);
        return 0;
    }
    if (json_parse(&doc, r->body, r->len, &pos) != 0) {
        fprintf(stderr, "pinholectl: %s: bad JSON at byte %zu\n", cmd->path, pos);
        return 1;
    }
    if (strcmp(cmd->name, "status") == 0)
        rc = ctl_print_status(stdout, json_root(doc));
    else
        rc = ctl_print_table(stdout, json_root(doc));
    json_free(doc);
    if (rc != 0)
        fprintf(stderr, "pinholectl: %s: not the expected layout\n", cmd->path);
    return rc == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    const char *server = NULL, *limit = NULL, *offset = NULL;
    bool raw = false;
    char path[256], err[512];
    struct ctl_reply r;
    int opt;

    if (argc >= 2 && strcmp(argv[1], "user") == 0)
        return ctl_user_main(argc - 1, argv + 1);
    while ((opt = getopt(argc, argv, "s:n:o:jh")) != -1) {
        switch (opt) {
        case 's':
            server = optarg;
            break;
        case 'n':
            limit = optarg;
            break;
        case 'o':
            offset = optarg;
            break;
        case 'j':
            raw = true;
            break;
        default:
            return usage();
        }
    }
    if (optind != argc - 1)
        return usage();
    const struct command *cmd = find_command(argv[optind]);
    if (!cmd || (limit && strspn(limit, "0123456789") != strlen(limit)) ||
        (offset && strspn(offset, "0123456789") != strlen(offset)))
        return usage();
    snprintf(path, sizeof path, "%s?limit=%.9s&offset=%.9s", cmd->path, limit ? limit : "1000",
             offset ? offset : "0");
    if (ctl_fetch(server ? server : cmd->default_server, path, &r, err, sizeof err) != 0) {
        fprintf(stderr, "pinholectl: %s\n", err);
        return 1;
    }
    int rc = show(cmd, &r, raw);
    ctl_reply_free(&r);
    return rc;
}
