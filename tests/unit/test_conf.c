#include "helpers.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pinhole/conf.h"
#include "proxyd_conf.h"
#include "redirectd_conf.h"
#include "relayd_conf.h"

static char tmp_path[64];

static const char *write_conf(const char *text)
{
    snprintf(tmp_path, sizeof tmp_path, "/tmp/pinhole-conf-XXXXXX");
    int fd = mkstemp(tmp_path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return tmp_path;
}

static int load_proxyd(const char *text, struct proxyd_conf *c, char *err, size_t len)
{
    memset(c, 0, sizeof *c);
    int rc = conf_load(write_conf(text), proxyd_conf_keys, proxyd_conf_nkeys, c, err, len);
    unlink(tmp_path);
    if (rc == 0)
        rc = proxyd_conf_finish(c, err, len);
    return rc;
}

static void shipped_configs_load(void **state)
{
    char err[512];
    struct proxyd_conf p = {0};
    struct redirectd_conf r = {0};
    struct relayd_conf y = {0};
    (void)state;
    assert_int_equal(conf_load(CONF_DIR "/proxyd.conf", proxyd_conf_keys, proxyd_conf_nkeys, &p,
                               err, sizeof err),
                     0);
    assert_int_equal(conf_load(CONF_DIR "/redirectd.conf", redirectd_conf_keys,
                               redirectd_conf_nkeys, &r, err, sizeof err),
                     0);
    assert_int_equal(conf_load(CONF_DIR "/relayd.conf", relayd_conf_keys, relayd_conf_nkeys, &y,
                               err, sizeof err),
                     0);
    assert_int_equal(relayd_conf_finish(&y, err, sizeof err), 0);
    assert_int_equal(addr_port(&p.listen), 5060);
    assert_int_equal(r.proxies.n, 1);
    assert_true(addr_equal_host(&y.advertise_media, &y.media_address));
    conf_free(proxyd_conf_keys, proxyd_conf_nkeys, &p);
    conf_free(redirectd_conf_keys, redirectd_conf_nkeys, &r);
    conf_free(relayd_conf_keys, relayd_conf_nkeys, &y);
}

static void defaults_and_nested_keys(void **state)
{
    char err[512];
    struct proxyd_conf c;
    (void)state;
    assert_int_equal(load_proxyd("redirect = \"127.0.0.1:5070\";\n"
                                 "relays = [ \"127.0.0.1:5080\", \"127.0.0.2:5080\" ];\n"
                                 "nat = { keepalive = \"options\"; max_expires = 30; };\n",
                                 &c, err, sizeof err),
                     0);
    assert_int_equal(addr_port(&c.listen), 5060);     /* default */
    assert_true(addr_equal(&c.advertise, &c.listen)); /* derived */
    assert_int_equal(c.nat.keepalive, KEEPALIVE_OPTIONS);
    assert_int_equal(c.nat.max_expires, 30);
    assert_int_equal(c.nat.keepalive_interval, 20); /* default inside a group */
    assert_true(c.nat.private_contact_is_nat);
    assert_int_equal(c.relays.n, 2);
    assert_int_equal(c.log_level, LOGL_INFO);
    conf_free(proxyd_conf_keys, proxyd_conf_nkeys, &c);
}

/* Each bad config must be refused with the file and the offending line. */
static void errors_name_the_line(void **state)
{
    static const struct {
        const char *text;
        const char *line;
        const char *what;
    } cases[] = {
        {"redirect = \"127.0.0.1:5070\";\nrelays = [\"127.0.0.1:5080\"];\nlisten = \"nope\";\n",
         ":3:", "listen"},
        {"redirect = \"127.0.0.1:5070\";\nrelays = [\"127.0.0.1:5080\"];\nlisten = 5;\n",
         ":3:", "expected a string"},
        {"redirect = \"127.0.0.1:5070\";\nrelays = [\"127.0.0.1:5080\"];\n\ntypo = 1;\n",
         ":4:", "unknown setting"},
        {"redirect = \"127.0.0.1:5070\";\nrelays = [\"127.0.0.1:5080\"];\nnat = { bad = 1; };\n",
         ":3:", "nat.bad"},
        {"redirect = \"127.0.0.1:5070\";\nrelays = [\"127.0.0.1:5080\"];\n"
         "nat = { max_expires = 5; };\n",
         ":3:", "out of range"},
        {"redirect = \"127.0.0.1:5070\";\nrelays = [\"127.0.0.1:5080\"];\n"
         "nat = { keepalive = \"ping\"; };\n",
         ":3:", "allowed values"},
        {"redirect = \"127.0.0.1:5070\";\nrelays = [\"127.0.0.1:5080\"];\nlog_level = \"loud\";\n",
         ":3:", "log_level"},
        {"redirect = \"127.0.0.1:5070\"\nrelays = [", ":2:", "syntax error"},
        {"relays = [\"127.0.0.1:5080\"];\n", ":0:", "required setting \"redirect\""},
        {"redirect = \"127.0.0.1:5070\";\nrelays = [ 5 ];\n", ":2:", "not a string"},
        {"redirect = \"127.0.0.1:5070\";\nrelays = [ \"x\" ];\n", ":2:", "relays"},
    };
    char err[512];
    struct proxyd_conf c;
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        err[0] = '\0';
        if (load_proxyd(cases[i].text, &c, err, sizeof err) != -EINVAL)
            fail_msg("case %zu accepted", i);
        if (!strstr(err, cases[i].line) || !strstr(err, cases[i].what) || !strstr(err, "/tmp/"))
            fail_msg("case %zu: message \"%s\" lacks \"%s\" or \"%s\"", i, err, cases[i].line,
                     cases[i].what);
    }
}

static void cross_key_rules(void **state)
{
    char err[256];
    struct relayd_conf y = {0};
    struct redirectd_conf r = {0};
    (void)state;
    y.port_min = 40001;
    y.port_max = 40001;
    assert_int_equal(relayd_conf_finish(&y, err, sizeof err), -EINVAL);
    r.default_expires = 100;
    r.max_expires = 50;
    assert_int_equal(redirectd_conf_finish(&r, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "max_expires"));
    /* issue #17: a store redirectd cannot open is refused at load */
    r.max_expires = 200;
    r.store = (char *)"disk:/x";
    assert_int_equal(redirectd_conf_finish(&r, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "store"));
    r.store = (char *)"sqlite:/var/lib/pinhole/redirectd.db";
    assert_int_equal(redirectd_conf_finish(&r, err, sizeof err), 0);
}

static void missing_file(void **state)
{
    char err[256];
    struct proxyd_conf c = {0};
    (void)state;
    assert_int_equal(
        conf_load("/nonexistent/x.conf", proxyd_conf_keys, proxyd_conf_nkeys, &c, err, sizeof err),
        -EINVAL);
    assert_non_null(strstr(err, "/nonexistent/x.conf"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(shipped_configs_load), cmocka_unit_test(defaults_and_nested_keys),
        cmocka_unit_test(errors_name_the_line), cmocka_unit_test(cross_key_rules),
        cmocka_unit_test(missing_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
