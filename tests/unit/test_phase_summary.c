/* test_phase_summary.c — the final screen's lines: RDP and SSH directions
 * with the answers' ports and user, the log and session paths, and never
 * the password hash. */
#include "testlib.h"

#include <string.h>

#include "answers.h"
#include "summary.h"
#include "util.h"

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
        v = summary_lines(&a, true, "203.0.113.7", "/var/log/vps-provision/X.log",
                          "/var/lib/vps-provision/sessions/session-X.json");
        all = strv_join(v, "\n");
        assert_non_null(strstr(all, "203.0.113.7:3390 and log in as alice"));
        assert_non_null(strstr(all, "ssh -p 2222 alice@203.0.113.7"));
        assert_non_null(strstr(all, "Log: /var/log/vps-provision/X.log"));
        assert_non_null(strstr(all, "Session record: /var/lib/vps-provision/sessions/session-X.json"));
        assert_non_null(strstr(all, "generated, shown once"));
        strv_free(v);
        free(all);

        /* a run that did not set the password does not promise to show it */
        v = summary_lines(&a, false, "203.0.113.7", NULL, NULL);
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
        v = summary_lines(&a, true, NULL, NULL, "");
        all = strv_join(v, "\n");
        assert_null(strstr(all, "$y$"));
        assert_non_null(strstr(all, "hash is in the answers file"));
        /* unknown address and paths: said so, no empty "Log:" line */
        assert_non_null(strstr(all, "this server's address:3389"));
        assert_null(strstr(all, "Log:"));
        assert_null(strstr(all, "Session record:"));
        strv_free(v);
        free(all);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(lines_generated),
                cmocka_unit_test(hash_never_shown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
