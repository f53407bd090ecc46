/* test_review.c — the wizard's review page as text: every consequence it
 * states (an account adopted, a port held by another program, SSH moving,
 * sudo, the password, the download) from answers and facts given here. */
#include "testlib.h"

#include <string.h>

#include "review.h"
#include "util.h"

static bool yes(const struct phase *p, const struct answers *a)
{
        (void)p;
        (void)a;
        return true;
}

static bool vscode_only(const struct phase *p, const struct answers *a)
{
        (void)p;
        return answers_ide_wanted(a, "vscode");
}

static const struct phase p_base = { .id = "base", .title = "Base", .summary = "the base", .download_mb = 100 };
static const struct phase p_desk = { .id = "desk", .title = "A longer title", .summary = "a desktop",
                                     .download_mb = 250, .enabled = yes };
static const struct phase p_ide = { .id = "ide", .title = "IDE", .summary = "an IDE", .download_mb = 40,
                                    .enabled = vscode_only };
static const struct phase *const phases[] = { &p_base, &p_desk, &p_ide };

/* The review as one string, lines joined by "\n" (each with its indent). */
static char *review_text(const struct answers *a, const struct review_facts *f)
{
        struct review_line *v = NULL;
        size_t n = review_build(a, f, phases, ELEMENTSOF(phases), &v);
        char **s = NULL;
        char *out;

        for (size_t i = 0; i < n; i++)
                strv_pushf(&s, "%*s%s", v[i].indent, "", v[i].text);
        out = strv_join(s, "\n");
        strv_free(s);
        review_lines_free(v, n);
        return out;
}

#define assert_has(text, needle)                                                               \
        do {                                                                                   \
                if (!strstr((text), (needle)))                                                 \
                        fail_msg("\"%s\" is not in:\n%s", (needle), (text));                   \
        } while (0)
#define assert_lacks(text, needle)                                                             \
        do {                                                                                   \
                if (strstr((text), (needle)))                                                  \
                        fail_msg("\"%s\" should not be in:\n%s", (needle), (text));            \
        } while (0)

static struct port_listener sshd22_nginx3390[] = {
        { .port = 22, .pid = 700, .comm = "sshd" },
        { .port = 22, .pid = 701, .comm = "sshd" },
        { .port = 3390, .pid = 4242, .comm = "nginx" },
        { .port = 8080, .pid = 0, .comm = "" },
};

static void test_defaults(void **state)
{
        (void)state;
        struct answers a;
        struct port_listeners l = { sshd22_nginx3390, ELEMENTSOF(sshd22_nginx3390) };
        struct vps_info vps = { .ip_address = "203.0.113.7" };
        char *dir = test_tmpdir();
        _cleanup_free_ char *passwd = test_path(dir, "passwd");
        struct review_facts f = { .vps = &vps, .listeners = &l, .passwd_path = passwd };
        _cleanup_free_ char *t = NULL;

        test_write(passwd, "root:x:0:0::/root:/bin/bash\n");
        answers_init(&a);
        t = review_text(&a, &f);
        assert_has(t, "Account:   devuser, a new account");
        assert_has(t, "Password:  generated, 20 characters; shown once at the end");
        assert_has(t, "Sudo:      yes, without a password ([user] sudo_password)");
        /* the display names come from the IDE catalog */
        assert_has(t, "IDEs:      Visual Studio Code, Cursor, Google Antigravity");
        assert_has(t, "RDP:       203.0.113.7:3389");
        assert_has(t, "SSH:       port 22, as now");
        assert_lacks(t, "SSH moves");
        assert_has(t, "Firewall:  ufw lets in only SSH (22) and RDP (3389)");
        assert_has(t, "Options:   SSH hardening, fail2ban, root's SSH keys for the account; no system upgrade");
        /* every enabled phase's download: 100 + 250 + 40 (VS Code is chosen) */
        assert_has(t, "Download:  about 390 MB of Debian packages, plus the IDEs from their vendors "
                      "(31 s at 100 Mbit/s, 5 min at 10 Mbit/s)");
        assert_has(t, "Phases that will run:\n  Base            the base\n  A longer title  a desktop\n"
                      "  IDE             an IDE");
}

static void test_consequences(void **state)
{
        (void)state;
        struct answers a;
        struct port_listeners l = { sshd22_nginx3390, ELEMENTSOF(sshd22_nginx3390) };
        char *dir = test_tmpdir();
        _cleanup_free_ char *passwd = test_path(dir, "passwd");
        struct review_facts f = { .listeners = &l, .passwd_path = passwd, .ssh_session_port = 22 };
        char err[512];
        _cleanup_free_ char *t = NULL, *t2 = NULL, *t3 = NULL;

        test_write(passwd, "root:x:0:0::/root:/bin/bash\nalice:x:1001:1001:Alice:/home/alice:/bin/bash\n");
        answers_init(&a);
        assert_int_equal(answers_set(&a, "user", "username", "alice", err, sizeof(err)), 0);
        assert_int_equal(answers_set(&a, "user", "layout_safe_password", "yes", err, sizeof(err)), 0);
        assert_int_equal(answers_set(&a, "user", "sudo_password", "yes", err, sizeof(err)), 0);
        assert_int_equal(answers_set(&a, "ides", "install", "none", err, sizeof(err)), 0);
        assert_int_equal(answers_set(&a, "network", "rdp_port", "3390", err, sizeof(err)), 0);
        assert_int_equal(answers_set(&a, "network", "ssh_port", "2222", err, sizeof(err)), 0);
        t = review_text(&a, &f);
        assert_has(t, "Account:   alice, an existing account");
        assert_has(t, "! alice exists (uid 1001): it is adopted as it is (home, shell and files stay), "
                      "gets sudo, and its password is replaced");
        assert_has(t, "Password:  generated, 24 letters (layout-safe)");
        assert_has(t, "Sudo:      yes, with the account's password");
        assert_has(t, "IDEs:      none");
        assert_has(t, "! nginx (pid 4242) already listens on port 3390, so xrdp could not");
        assert_has(t, "! SSH moves from port 22 to 2222; the old port stays open until a login on "
                      "port 2222 (ssh -p 2222) is seen. Let 2222/tcp in at your provider's firewall");
        /* the firewall row says the old port stays open too */
        assert_has(t, "Firewall:  ufw lets in only SSH (2222, and 22 until a login on 2222) and RDP (3390)");
        /* no IDE: the download has no "plus the IDEs"; the IDE phase is off */
        assert_has(t, "about 350 MB of Debian packages (");
        assert_lacks(t, "  IDE ");

        /* the wizard's port check names the program, or says it cannot see it */
        assert_true(review_port_conflict(&f, &a, "rdp_port", err, sizeof(err)));
        assert_string_equal(err, "nginx (pid 4242) already listens on port 3390, so xrdp could not; choose "
                                 "another port, or stop nginx first");
        assert_false(review_port_conflict(&f, &a, "ssh_port", err, sizeof(err)));
        assert_int_equal(answers_set(&a, "network", "ssh_port", "8080", err, sizeof(err)), 0);
        assert_true(review_port_conflict(&f, &a, "ssh_port", err, sizeof(err)));
        assert_has(err, "something already listens on port 8080 (its process is not visible here), so sshd "
                        "could not");
        /* sshd on its own port, xrdp on its own port (a second run): fine */
        assert_int_equal(answers_set(&a, "network", "ssh_port", "22", err, sizeof(err)), 0);
        assert_false(review_port_conflict(&f, &a, "ssh_port", err, sizeof(err)));
        assert_false(review_port_conflict(NULL, &a, "rdp_port", err, sizeof(err)));

        /* without SSH hardening sshd stays where it is */
        assert_int_equal(answers_set(&a, "network", "ssh_port", "2222", err, sizeof(err)), 0);
        assert_int_equal(answers_set(&a, "security", "hardening", "no", err, sizeof(err)), 0);
        t2 = review_text(&a, &f);
        assert_lacks(t2, "SSH moves");
        assert_has(t2, "sshd stays on port 22: only SSH hardening moves it");
        assert_has(t2, "Firewall:  ufw lets in only SSH (22 and 2222) and RDP (3390)");

        /* nothing known about the server: no claims about it */
        t3 = review_text(&a, NULL);
        assert_has(t3, "RDP:       this server:3390");
        assert_has(t3, "SSH:       port 2222 (no SSH server is seen listening now)");

        /* RDP through an SSH tunnel: no address, no firewall rule for it */
        {
                _cleanup_free_ char *t4 = NULL;

                assert_int_equal(answers_set(&a, "network", "rdp_listen", "localhost", err, sizeof(err)), 0);
                t4 = review_text(&a, &f);
                assert_has(t4, "RDP:       port 3390 on 127.0.0.1 only, through an SSH tunnel (ssh -L)");
                assert_has(t4, "Firewall:  ufw lets in only SSH (22 and 2222); RDP goes through it");
                assert_lacks(t4, "and RDP (3390)");
        }
}

static void test_download(void **state)
{
        (void)state;
        struct answers a;
        char err[256];

        answers_init(&a);
        assert_int_equal(review_download_mb(&a, phases, ELEMENTSOF(phases)), 390);
        assert_int_equal(answers_set(&a, "ides", "install", "cursor", err, sizeof(err)), 0);
        assert_int_equal(review_download_mb(&a, phases, ELEMENTSOF(phases)), 350);
        {
                char *names = review_ide_names(&a);

                assert_string_equal(names, "Cursor");
                free(names);
                /* an id the catalog does not have is shown as it is */
                assert_int_equal(answers_set(&a, "ides", "install", "antigravity, example", err,
                                             sizeof(err)), 0);
                names = review_ide_names(&a);
                assert_string_equal(names, "Google Antigravity, example");
                free(names);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_defaults),
                cmocka_unit_test(test_consequences),
                cmocka_unit_test(test_download),
        };
        /* the IDE catalog (answers name its entries) as the source tree has it;
         * the installed program reads the one in its data directory */
        setenv("VPS_PROVISION_DATA_DIR", VPSP_SRCDIR "/assets", 1);
        int r = cmocka_run_group_tests(tests, NULL, NULL);
        test_cleanup_all();
        return r;
}
