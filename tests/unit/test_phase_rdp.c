/* test_phase_rdp.c — the rdp phase's pure parts: the xrdp.ini port edit on
 * sample files (only [Globals] port changes, every other byte stays), and
 * the polkit rule (exactly the intended actions, only for devusers). */
#include "testlib.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rdp.h"
#include "util.h"

static char *fixture(const char *name)
{
        const char *dir = getenv("VPSP_TEST_FIXTURES");
        char path[4096];
        char *text;

        assert_non_null(dir);
        snprintf(path, sizeof(path), "%s/xrdp/%s", dir, name);
        text = test_read(path);
        if (!text)
                fail_msg("fixture %s missing", path);
        return text;
}

/* Removes the first occurrence of `line` from text (for diffing edits). */
static char *without(const char *text, const char *line)
{
        const char *p = strstr(text, line);
        char *r;

        assert_non_null(p);
        r = xmalloc(strlen(text) - strlen(line) + 1);
        memcpy(r, text, (size_t)(p - text));
        memcpy(r + (p - text), p + strlen(line), strlen(p + strlen(line)) + 1);
        return r;
}

static void test_get_port(void **state)
{
        (void)state;
        _cleanup_free_ char *ini = fixture("xrdp.ini");
        _cleanup_free_ char *crlf = fixture("crlf.ini");
        _cleanup_free_ char *noport = fixture("no-port.ini");
        _cleanup_free_ char *noglobals = fixture("no-globals.ini");
        char buf[64], tiny[3];

        assert_int_equal(rdp_ini_get_port(ini, buf, sizeof(buf)), 0);
        assert_string_equal(buf, "3389");   /* not the commented examples, not [Xorg]'s -1 */
        assert_int_equal(rdp_ini_get_port(crlf, buf, sizeof(buf)), 0);
        assert_string_equal(buf, "3389");   /* spaces and \r trimmed */
        assert_int_equal(rdp_ini_get_port(noport, buf, sizeof(buf)), -ENOENT);
        assert_int_equal(rdp_ini_get_port(noglobals, buf, sizeof(buf)), -ENOENT);
        assert_int_equal(rdp_ini_get_port(ini, tiny, sizeof(tiny)), -ENOBUFS);
}

static void test_set_port_changes_only_that_line(void **state)
{
        (void)state;
        _cleanup_free_ char *ini = fixture("xrdp.ini");
        _cleanup_free_ char *out = NULL, *a = NULL, *b = NULL, *again = NULL;
        char buf[64];

        assert_int_equal(rdp_ini_set_port(ini, 13389, &out), 0);
        assert_int_equal(rdp_ini_get_port(out, buf, sizeof(buf)), 0);
        assert_string_equal(buf, "13389");
        /* the rest of the file is byte for byte the same */
        a = without(ini, "\nport=3389\n");
        b = without(out, "\nport=13389\n");
        assert_string_equal(a, b);
        /* the session sections keep their own ports */
        assert_non_null(strstr(out, "[Xorg]\nname=Xorg\nlib=libxup.so\nusername=ask\npassword=ask\nport=-1\n"));
        assert_non_null(strstr(out, "port=ask3389\n"));
        assert_non_null(strstr(out, ";   port=3389\n"));
        assert_non_null(strstr(out, "#port=4000\n"));
        /* asking again for the same port is "already so" and leaves *ret alone */
        again = (char *)"untouched";
        assert_int_equal(rdp_ini_set_port(out, 13389, &again), 1);
        assert_string_equal(again, "untouched");
        again = NULL;
        /* and back */
        assert_int_equal(rdp_ini_set_port(out, 3389, &again), 0);
        assert_string_equal(again, ini);
}

static void test_set_port_crlf_and_spaces(void **state)
{
        (void)state;
        _cleanup_free_ char *ini = fixture("crlf.ini");
        _cleanup_free_ char *out = NULL;

        assert_int_equal(rdp_ini_set_port(ini, 3390, &out), 0);
        assert_string_equal(out, "[Globals]\r\nport=3390\r\nfork=true\r\n");
}

static void test_set_port_inserts_when_missing(void **state)
{
        (void)state;
        _cleanup_free_ char *ini = fixture("no-port.ini");
        _cleanup_free_ char *out = NULL, *unterminated = NULL;
        char buf[64];

        assert_int_equal(rdp_ini_set_port(ini, 3389, &out), 0);
        assert_string_equal(out, "; globals without a port key\n[globals]\nport=3389\n"
                                 "security_layer=rdp\n[Xorg]\nport=-1\n");
        assert_int_equal(rdp_ini_get_port(out, buf, sizeof(buf)), 0);
        assert_string_equal(buf, "3389");
        /* a file that ends right after the header */
        assert_int_equal(rdp_ini_set_port("[Globals]", 4000, &unterminated), 0);
        assert_string_equal(unterminated, "[Globals]\nport=4000\n");
}

static void test_set_port_without_globals(void **state)
{
        (void)state;
        _cleanup_free_ char *ini = fixture("no-globals.ini");
        char *out = NULL;

        assert_int_equal(rdp_ini_set_port(ini, 3389, &out), -ENOENT);
        assert_null(out);
        assert_int_equal(rdp_ini_set_port("", 3389, &out), -ENOENT);
}

/* Every quoted string of the rule that names an action. */
static char **quoted_action_ids(const char *text)
{
        char **ids = NULL;

        for (const char *p = strchr(text, '"'); p; p = strchr(p, '"')) {
                const char *end = strchr(p + 1, '"');
                assert_non_null(end);
                if (startswith(p + 1, "org."))
                        strv_push_take(&ids, xstrndup(p + 1, (size_t)(end - p - 1)));
                p = end + 1;
        }
        return ids;
}

static void test_polkit_rule_matches_only_the_intended_actions(void **state)
{
        (void)state;
        _cleanup_strv_ char **ids = quoted_action_ids(rdp_polkit_rule);
        size_t n = 0, open = 0, close = 0;

        while (rdp_polkit_actions[n])
                n++;
        assert_int_equal(n, 7);
        assert_int_equal(strv_length(ids), n);
        for (size_t i = 0; i < n; i++) {
                assert_true(strv_contains(ids, rdp_polkit_actions[i]));
                assert_true(startswith(rdp_polkit_actions[i], "org.freedesktop.color-manager.") ||
                            strcmp(rdp_polkit_actions[i],
                                   "org.freedesktop.packagekit.system-sources-refresh") == 0);
        }
        /* no wildcard matching on ids, no blanket YES */
        assert_null(strstr(rdp_polkit_rule, "indexOf(\"org"));
        assert_null(strstr(rdp_polkit_rule, "startsWith"));
        assert_null(strstr(rdp_polkit_rule, "match("));
        assert_non_null(strstr(rdp_polkit_rule,
                               "allowed.indexOf(action.id) >= 0 && subject.isInGroup(\"devusers\")"));
        /* YES exactly once, inside that condition; otherwise not handled */
        assert_non_null(strstr(rdp_polkit_rule, "return polkit.Result.YES;"));
        assert_null(strstr(strstr(rdp_polkit_rule, "Result.YES") + 1, "Result.YES"));
        assert_non_null(strstr(rdp_polkit_rule, "return polkit.Result.NOT_HANDLED;"));
        for (const char *p = rdp_polkit_rule; *p; p++) {
                open += *p == '{' || *p == '(' || *p == '[';
                close += *p == '}' || *p == ')' || *p == ']';
        }
        assert_int_equal(open, close);
}

/* TLS only and no root login: the two settings that make RDP no weaker
 * than SSH, each set on its own line, nothing else touched. */
static void test_security_settings(void **state)
{
        (void)state;
        _cleanup_free_ char *ini = fixture("xrdp.ini");
        _cleanup_free_ char *sesman = fixture("sesman.ini");
        _cleanup_free_ char *x = NULL, *s2 = NULL, *again = NULL;
        char buf[64];

        assert_int_equal(rdp_ini_get(ini, "Globals", "security_layer", buf, sizeof(buf)), 0);
        assert_string_equal(buf, "negotiate");   /* upstream's default */
        assert_int_equal(rdp_xrdp_ini(ini, 3390, false, &x), 0);
        assert_int_equal(rdp_ini_get(x, "globals", "SECURITY_LAYER", buf, sizeof(buf)), 0);
        assert_string_equal(buf, "tls");
        assert_int_equal(rdp_ini_get_port(x, buf, sizeof(buf)), 0);
        assert_string_equal(buf, "3390");
        assert_int_equal(rdp_xrdp_ini(x, 3390, false, &again), 1);   /* nothing left to change */
        assert_null(again);
        /* rdp_listen = localhost: xrdp's address form, and back again */
        {
                _cleanup_free_ char *local = NULL, *back = NULL, *same = NULL;

                assert_int_equal(rdp_xrdp_ini(x, 3390, true, &local), 0);
                assert_int_equal(rdp_ini_get_port(local, buf, sizeof(buf)), 0);
                assert_string_equal(buf, "tcp://127.0.0.1:3390");
                assert_non_null(strstr(local, "\nport=tcp://127.0.0.1:3390\n"));
                assert_int_equal(rdp_xrdp_ini(local, 3390, true, &same), 1);
                assert_null(same);
                assert_int_equal(rdp_xrdp_ini(local, 3390, false, &back), 0);
                assert_string_equal(back, x);   /* only the port line changed */
        }
        rdp_port_value(3389, false, buf, sizeof(buf));
        assert_string_equal(buf, "3389");
        rdp_port_value(65535, true, buf, sizeof(buf));
        assert_string_equal(buf, "tcp://127.0.0.1:65535");
        {
                _cleanup_free_ char *a = without(ini, "\nport=3389\n");
                _cleanup_free_ char *b1 = without(a, "\nsecurity_layer=negotiate\n");
                _cleanup_free_ char *c1 = without(x, "\nport=3390\n");
                _cleanup_free_ char *d1 = without(c1, "\nsecurity_layer=tls\n");
                assert_string_equal(b1, d1);   /* every other byte as it was */
        }

        assert_int_equal(rdp_ini_get(sesman, "Security", "AllowRootLogin", buf, sizeof(buf)), 0);
        assert_string_equal(buf, "true");   /* not the comment above it */
        assert_int_equal(rdp_sesman_ini(sesman, &s2), 0);
        assert_int_equal(rdp_ini_get(s2, "Security", "AllowRootLogin", buf, sizeof(buf)), 0);
        assert_string_equal(buf, "false");
        assert_non_null(strstr(s2, "; AllowRootLogin=false is what a careful admin writes\n"
                                   "AllowRootLogin=false\nMaxLoginRetry=4\n"));
        assert_int_equal(rdp_ini_get(s2, "Globals", "AllowRootLogin", buf, sizeof(buf)), -ENOENT);
        assert_int_equal(rdp_ini_set(s2, "NoSuchSection", "x", "y", &again), -ENOENT);
}

/* The certificate xrdp shows: its default, an absolute path, a name in
 * /etc/xrdp. */
static void test_cert_path(void **state)
{
        (void)state;
        _cleanup_free_ char *ini = fixture("xrdp.ini");
        _cleanup_free_ char *abs = NULL, *rel = NULL;
        char buf[256], tiny[8];

        assert_int_equal(rdp_cert_path(ini, buf, sizeof(buf)), 0);
        assert_string_equal(buf, "/etc/xrdp/cert.pem");
        assert_int_equal(rdp_ini_set(ini, "Globals", "certificate", "/srv/tls/rdp.pem", &abs), 0);
        assert_int_equal(rdp_cert_path(abs, buf, sizeof(buf)), 0);
        assert_string_equal(buf, "/srv/tls/rdp.pem");
        assert_int_equal(rdp_ini_set(ini, "Globals", "certificate", "mine.pem", &rel), 0);
        assert_int_equal(rdp_cert_path(rel, buf, sizeof(buf)), 0);
        assert_string_equal(buf, "/etc/xrdp/mine.pem");
        assert_int_equal(rdp_cert_path(ini, tiny, sizeof(tiny)), -ENOBUFS);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_get_port),
                cmocka_unit_test(test_set_port_changes_only_that_line),
                cmocka_unit_test(test_set_port_crlf_and_spaces),
                cmocka_unit_test(test_set_port_inserts_when_missing),
                cmocka_unit_test(test_set_port_without_globals),
                cmocka_unit_test(test_polkit_rule_matches_only_the_intended_actions),
                cmocka_unit_test(test_security_settings),
                cmocka_unit_test(test_cert_path),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
