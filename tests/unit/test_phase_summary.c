/* test_phase_summary.c — the final screen's lines: RDP and SSH directions
 * with the answers' ports and user, the log and session paths, and never
 * the password hash. */
#include "testlib.h"

#include <string.h>

#include "answers.h"
#include "summary.h"
#include "util.h"

#define FP "5C:8E:15:1A:61:A8:34:B8:DF:1E:9E:09:A5:2D:84:B0:AA:B8:39:D5:F9:99:B7:05:3D:5E:11:84:12:DC:CA:01"

static void lines_generated(void **state)
{
        (void)state;
        struct answers a;
        char **v;
        char *all;

        answers_init(&a);
        strscpy(a.username, sizeof(a.username), "alice");
        a.rdp_port = 3390;
        a.ssh_port = 2222;
        v = summary_lines(&a, true, "203.0.113.7", FP, "/var/log/vps-provision/X.log",
                          "/var/lib/vps-provision/sessions/session-X.json", 0);
        all = strv_join(v, "\n");
        /* whole, in two lines of 16 pairs that fit an 80-column screen */
        assert_non_null(strstr(all, "\nRDP certificate, SHA-256 (compare it with what your client "
                                    "shows on the first connect):\n"
                                    "  5C:8E:15:1A:61:A8:34:B8:DF:1E:9E:09:A5:2D:84:B0\n"
                                    "  AA:B8:39:D5:F9:99:B7:05:3D:5E:11:84:12:DC:CA:01\n"));
        for (size_t i = 0; v[i]; i++)
                assert_true(strlen(v[i]) <= 74 || !strstr(v[i], ":B0"));
        assert_non_null(strstr(all, "203.0.113.7:3390 and log in as alice"));
        assert_non_null(strstr(all, "ssh -p 2222 alice@203.0.113.7"));
        assert_non_null(strstr(all, "Log: /var/log/vps-provision/X.log"));
        assert_non_null(strstr(all, "Session record: /var/lib/vps-provision/sessions/session-X.json"));
        assert_non_null(strstr(all, "generated, shown once"));
        strv_free(v);
        free(all);

        /* a run that did not set the password does not promise to show it */
        v = summary_lines(&a, false, "203.0.113.7", NULL, NULL, NULL, 0);
        all = strv_join(v, "\n");
        assert_null(strstr(all, "generated, shown once"));
        assert_non_null(strstr(all, "Password: unchanged by this run"));
        strv_free(v);
        free(all);
}

static void hash_never_shown(void **state)
{
        (void)state;
        struct answers a;
        char **v;
        char *all;
        const char *hash = "$y$j9T$abcdefghijklmnop$QRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456";

        answers_init(&a);
        strscpy(a.password_hash, sizeof(a.password_hash), hash);
        v = summary_lines(&a, true, NULL, "", NULL, "", 0);
        all = strv_join(v, "\n");
        assert_null(strstr(all, "$y$"));
        assert_non_null(strstr(all, "hash is in the answers file"));
        /* unknown address and paths: said so, no empty "Log:" line */
        assert_non_null(strstr(all, "this server's address:3389"));
        assert_null(strstr(all, "Log:"));
        assert_null(strstr(all, "Session record:"));
        assert_non_null(strstr(all, "RDP certificate: its fingerprint could not be read"));
        strv_free(v);
        free(all);
}

/* rdp_listen = localhost: the tunnel command in place of the address, and
 * the clients pointed at localhost:3389; an old SSH port kept open says so,
 * what closes it and what to try. */
static void tunnel_and_old_port(void **state)
{
        (void)state;
        struct answers a;
        char **v;
        char *all;

        answers_init(&a);
        a.rdp_port = 3390;
        a.ssh_port = 2222;
        a.rdp_listen = RDP_LISTEN_LOCALHOST;
        v = summary_lines(&a, true, "203.0.113.7", FP, NULL, NULL, 22);
        all = strv_join(v, "\n");
        assert_non_null(strstr(all, "open the tunnel with ssh -L 3389:localhost:3390 -p 2222 root@203.0.113.7"));
        assert_non_null(strstr(all, "connect an RDP client to localhost:3389 and log in as devuser"));
        assert_null(strstr(all, "203.0.113.7:3390"));
        assert_non_null(strstr(all, "Windows: mstsc /v:localhost:3389"));
        assert_non_null(strstr(all, "xfreerdp /v:localhost:3389 /u:devuser"));
        assert_non_null(strstr(all, "SSH port 22 stays open as well until a login on port 2222 is seen"));
        assert_non_null(strstr(all, "Try now from another terminal: ssh -p 2222 root@203.0.113.7"));
        assert_non_null(strstr(all, "blocks port 2222"));
        strv_free(v);
        free(all);

        /* the default: the address, and no old port */
        a.rdp_listen = RDP_LISTEN_ALL;
        a.ssh_port = 22;
        v = summary_lines(&a, true, "203.0.113.7", FP, NULL, NULL, 0);
        all = strv_join(v, "\n");
        assert_non_null(strstr(all, "Windows: mstsc /v:203.0.113.7:3390"));
        assert_null(strstr(all, "ssh -L"));
        assert_null(strstr(all, "stays open as well"));
        strv_free(v);
        free(all);
        v = summary_lines(&a, true, "203.0.113.7", FP, NULL, NULL, 22);   /* same port: nothing kept */
        all = strv_join(v, "\n");
        assert_null(strstr(all, "stays open as well"));
        strv_free(v);
        free(all);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(lines_generated),
                cmocka_unit_test(hash_never_shown),
                cmocka_unit_test(tunnel_and_old_port),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
