/* ctl_user: HA1 lines for every algorithm, written by rename so proxyd
 * never reads half a file. */
#include "ctl_user.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pinhole/digest.h"
#include "pinhole/sip.h"

#define PASSWORD_MAX 1024
#define FIELD_MAX 128

static int usage(void)
{
    fprintf(stderr, "usage: pinholectl user add USER [--realm REALM] [--file FILE]\n"
                    "  reads the password from stdin; default realm " CTL_USER_DEFAULT_REALM
                    ", file " CTL_USER_DEFAULT_FILE "\n");
    return 2;
}

static int read_password(char *buf, size_t len)
{
    if (!fgets(buf, (int)len, stdin))
        return -EINVAL;
    size_t n = strcspn(buf, "\r\n");
    if (buf[n] == '\0' && n == len - 1)
        return -E2BIG;
    buf[n] = '\0';
    return n ? 0 : -EINVAL;
}

/* Does this line of the file give USER in REALM? Then it is replaced. */
static bool same_user(const char *line, const char *user, const char *realm)
{
    char u[FIELD_MAX + 2], r[FIELD_MAX + 2];
    return sscanf(line, " %129s %129s", u, r) == 2 && u[0] != '#' && strcmp(u, user) == 0 &&
           strcmp(r, realm) == 0;
}

/* Copies the old file's other lines to out; a missing file is empty. */
static int copy_others(const char *path, FILE *out, const char *user, const char *realm)
{
    char line[2048];
    FILE *in = fopen(path, "r");
    if (!in)
        return errno == ENOENT ? 0 : -errno;
    while (fgets(line, sizeof line, in)) {
        if (!same_user(line, user, realm))
            fputs(line, out);
        size_t n = strlen(line);
        if (n && line[n - 1] != '\n' && !feof(in)) {
            fclose(in);
            return -E2BIG;
        }
    }
    int err = ferror(in) ? -EIO : 0;
    fclose(in);
    return err;
}

static int write_lines(FILE *out, const char *user, const char *realm, const char *password)
{
    for (int a = 0; a < DIGEST_ALG_COUNT; a++) {
        char ha1[DIGEST_HEX_MAX];
        if (digest_ha1((enum digest_alg)a, user, realm, password, ha1) != 0)
            return -ENOMEM;
        fprintf(out, "%s %s %s %s\n", user, realm, digest_alg_name((enum digest_alg)a), ha1);
    }
    return 0;
}

static int add(const char *user, const char *realm, const char *file, const char *password)
{
    char tmp[4096];
    struct stat st;
    if (snprintf(tmp, sizeof tmp, "%s.tmp.%ld", file, (long)getpid()) >= (int)sizeof tmp)
        return -ENAMETOOLONG;
    FILE *out = fopen(tmp, "w");
    if (!out)
        return -errno;
    /* the subscribers' HA1s: readable by proxyd's group, not the world;
     * a replaced file keeps its owner, group and mode */
    if (stat(file, &st) == 0) {
        (void)chmod(tmp, st.st_mode & 07777);
        (void)chown(tmp, st.st_uid, st.st_gid);
    } else {
        (void)chmod(tmp, 0640);
    }
    int err = copy_others(file, out, user, realm);
    if (!err)
        err = write_lines(out, user, realm, password);
    if (fclose(out) != 0 && !err)
        err = -EIO;
    if (!err && rename(tmp, file) != 0)
        err = -errno;
    if (err)
        unlink(tmp);
    return err;
}

int ctl_user_main(int argc, char **argv)
{
    const char *realm = CTL_USER_DEFAULT_REALM, *file = CTL_USER_DEFAULT_FILE, *user = NULL;
    char password[PASSWORD_MAX + 2];

    if (argc < 3 || strcmp(argv[1], "add") != 0)
        return usage();
    user = argv[2];
    for (int i = 3; i < argc; i++) {
        if (strcmp(argv[i], "--realm") == 0 && i + 1 < argc)
            realm = argv[++i];
        else if (strcmp(argv[i], "--file") == 0 && i + 1 < argc)
            file = argv[++i];
        else
            return usage();
    }
    if (!sip_user_valid(user, FIELD_MAX)) {
        fprintf(stderr, "pinholectl: user \"%s\": not a SIP user name of 1..128 characters\n",
                user);
        return 1;
    }
    if (!*realm || strlen(realm) > FIELD_MAX || strpbrk(realm, " \t\"\\#\r\n")) {
        fprintf(stderr, "pinholectl: realm: 1..128 characters, no space, quote, '#' or '\\'\n");
        return 1;
    }
    if (read_password(password, sizeof password) != 0) {
        fprintf(stderr, "pinholectl: no password on stdin (one line, at most %d bytes)\n",
                PASSWORD_MAX);
        return 1;
    }
    int err = add(user, realm, file, password);
    memset(password, 0, sizeof password);
    if (err) {
        fprintf(stderr, "pinholectl: %s: %s\n", file, strerror(-err));
        return 1;
    }
    printf("%s: %s in %s, %d algorithms; reload proxyd (SIGHUP) to use them\n", file, user, realm,
           DIGEST_ALG_COUNT);
    return 0;
}
