/* test_answers.c — the answers file and the key table: defaults, set/get
 * of every key, format → parse round trip, error collection with lines,
 * the caller's struct left untouched on error, the committed example file,
 * and every fixture of tests/fixtures/answers against its EXPECTED line.
 *
 * EXPECTED holds one line per bad fixture:
 *   FILE <TAB> LINE <TAB> KEY or "-" <TAB> a substring of the message
 * and each bad-*.ini has exactly one problem. */
#include "testlib.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "answers.h"
#include "util.h"

#define EXAMPLE_PATH VPSP_SRCDIR "/assets/answers.ini.example"

#define assert_contains(hay, needle)                                                       \
        do {                                                                               \
                if (!strstr((hay), (needle)))                                              \
                        fail_msg("\"%s\" lacks \"%s\"", (hay), (needle));                 \
        } while (0)

static const char *fixtures_dir(void)
{
        static char path[4096];
        const char *env = getenv("VPSP_TEST_FIXTURES");

        snprintf(path, sizeof(path), "%s/answers",
                 env && *env ? env : VPSP_SRCDIR "/tests/fixtures");
        return path;
}

/* Field-by-field equality (struct padding is not compared). */
static void assert_answers_equal(const struct answers *a, const struct answers *b)
{
        assert_string_equal(a->username, b->username);
        assert_string_equal(a->full_name, b->full_name);
        assert_string_equal(a->password_hash, b->password_hash);
        assert_int_equal(a->password_length, b->password_length);
        assert_int_equal(a->layout_safe_password, b->layout_safe_password);
        assert_int_equal(a->copy_root_ssh_keys, b->copy_root_ssh_keys);
        assert_int_equal(a->sudo_password, b->sudo_password);
        assert_string_equal(a->ides, b->ides);
        assert_string_equal(a->ide_catalog, b->ide_catalog);
        assert_int_equal(a->rdp_port, b->rdp_port);
        assert_int_equal(a->ssh_port, b->ssh_port);
        assert_int_equal(a->rdp_listen, b->rdp_listen);
        assert_int_equal(a->firewall, b->firewall);
        assert_int_equal(a->hardening, b->hardening);
        assert_int_equal(a->fail2ban, b->fail2ban);
        assert_int_equal(a->display_manager, b->display_manager);
        assert_int_equal(a->screen_locker, b->screen_locker);
        assert_int_equal(a->sound, b->sound);
        assert_int_equal(a->upgrade, b->upgrade);
        assert_string_equal(a->apt_mirror, b->apt_mirror);
        assert_int_equal(a->log_level, b->log_level);
        assert_int_equal(a->on_failure, b->on_failure);
        assert_int_equal(a->apt_lock_wait, b->apt_lock_wait);
        assert_int_equal(a->failure_wait, b->failure_wait);
        assert_int_equal(a->credentials_wait, b->credentials_wait);
}

static int parse_str(const char *text, struct answers *a, struct answers_errors *e)
{
        return answers_parse(text, strlen(text), a, e);
}

/* A struct with every key away from its default. */
static void non_defaults(struct answers *a)
{
        static const char *const set[][3] = {
                { "user", "username", "ada" },
                { "user", "full_name", "Ada Lovelace" },
                { "user", "password_hash", "$6$rounds=5000$saltsalt$8RWsOfwR6M6PpnoeQiEiWzNTPo1f0HjVYjDnLZhGx16aBFRkeqiHAzfXP/LgrOWMBMXqiU2pLrXsSOHNUyUm91" },
                { "user", "password_length", "33" },
                { "user", "layout_safe_password", "yes" },
                { "user", "copy_root_ssh_keys", "no" },
                { "user", "sudo_password", "yes" },
                { "ides", "install", "antigravity" },
                /* not the default, and a catalog that exists (it is read) */
                { "ides", "catalog", VPSP_SRCDIR "/assets/ide-catalog.json" },
                { "network", "rdp_port", "13389" },
                { "network", "ssh_port", "2222" },
                { "network", "rdp_listen", "localhost" },
                { "network", "firewall", "no" },
                { "security", "hardening", "no" },
                { "security", "fail2ban", "no" },
                { "desktop", "display_manager", "yes" },
                { "desktop", "screen_locker", "yes" },
                { "desktop", "sound", "no" },
                { "system", "upgrade", "yes" },
                { "system", "apt_mirror", "https://mirror.example.org/debian" },
                { "run", "log_level", "error" },
                { "run", "on_failure", "keep" },
                { "run", "apt_lock_wait", "90" },
                { "run", "failure_wait", "2h" },
                { "run", "credentials_wait", "3d" },
        };
        char err[512];

        answers_init(a);
        for (size_t i = 0; i < ELEMENTSOF(set); i++)
                if (answers_set(a, set[i][0], set[i][1], set[i][2], err, sizeof(err)) != 0)
                        fail_msg("%s.%s: %s", set[i][0], set[i][1], err);
}

static void defaults(void **state)
{
        struct answers a;
        (void)state;

        answers_init(&a);
        assert_string_equal(a.username, "devuser");
        assert_string_equal(a.full_name, "");
        assert_string_equal(a.password_hash, "");
        assert_int_equal(a.password_length, 20);
        assert_true(a.copy_root_ssh_keys);
        assert_false(a.layout_safe_password);
        assert_false(a.sudo_password);   /* sudo without a password, as before */
        /* all three IDEs of the shipped catalog, each with a pinned key */
        assert_string_equal(a.ides, "vscode, cursor, antigravity");
        assert_true(answers_ide_wanted(&a, "vscode") && answers_ide_wanted(&a, "cursor") &&
                    answers_ide_wanted(&a, "antigravity"));
        assert_false(answers_ide_wanted(&a, "code") || answers_ide_wanted(&a, "vscod"));
        assert_string_equal(a.ide_catalog, "");
        assert_int_equal(a.rdp_port, 3389);
        assert_int_equal(a.ssh_port, 22);
        assert_int_equal(a.rdp_listen, RDP_LISTEN_ALL);
        assert_true(a.firewall && a.hardening && a.fail2ban && a.sound);
        assert_false(a.display_manager || a.screen_locker || a.upgrade);
        assert_string_equal(a.apt_mirror, "");
        assert_int_equal(a.log_level, LOG_INFO);
        assert_int_equal(a.on_failure, ON_FAILURE_ROLLBACK);
}

/* The table is the one source: every default it states is what
 * answers_init gives, and setting every default changes nothing. */
static void key_table(void **state)
{
        const struct answers_key *k;
        struct answers a, b;
        char buf[4096], err[512];
        size_t n = 0;
        (void)state;

        k = answers_keys(&n);
        assert_int_equal(n, 25);
        answers_init(&a);
        answers_init(&b);
        for (size_t i = 0; i < n; i++) {
                assert_non_null(k[i].section);
                assert_non_null(k[i].name);
                assert_ptr_equal(answers_key_find(k[i].section, k[i].name), &k[i]);
                for (size_t j = 0; j < i; j++)
                        assert_false(strcmp(k[i].section, k[j].section) == 0 &&
                                     strcmp(k[i].name, k[j].name) == 0);
                assert_int_equal(answers_get(&a, k[i].section, k[i].name, buf, sizeof(buf)), 0);
                assert_string_equal(buf, k[i].default_value);
                assert_int_equal(answers_set(&b, k[i].section, k[i].name, k[i].default_value,
                                             err, sizeof(err)), 0);
                /* Docs: a one-line summary, a paragraph that ends a sentence. */
                assert_non_null(k[i].summary);
                assert_null(strchr(k[i].summary, '\n'));
                assert_true(strlen(k[i].summary) > 10 && strlen(k[i].summary) < 80);
                assert_non_null(k[i].doc);
                assert_true(strlen(k[i].doc) > 150);
                assert_int_equal(k[i].doc[strlen(k[i].doc) - 1], '.');
                assert_string_not_equal(answers_type_name(k[i].type), "?");
                if (k[i].type == ANSWERS_ENUM || k[i].type == ANSWERS_LIST ||
                    k[i].type == ANSWERS_UINT || k[i].type == ANSWERS_BOOL)
                        assert_non_null(k[i].values);
                assert_int_equal(k[i].secret, strcmp(k[i].name, "password_hash") == 0);
        }
        assert_answers_equal(&a, &b);
        assert_null(answers_key_find("user", "nope"));
        assert_null(answers_key_find("nope", "username"));
        assert_string_equal(answers_type_name(ANSWERS_BOOL), "boolean");
        assert_string_equal(answers_type_name(ANSWERS_PORT), "port");
        assert_string_equal(on_failure_name(ON_FAILURE_KEEP), "keep");
        assert_string_equal(rdp_listen_name(RDP_LISTEN_LOCALHOST), "localhost");
        assert_string_equal(rdp_listen_name(RDP_LISTEN_ALL), "all");
        assert_null(rdp_listen_name((enum rdp_listen)7));
        assert_string_equal(on_failure_name(ON_FAILURE_ROLLBACK), "rollback");
        /* Summaries of the desktop keys say why they are off. */
        assert_contains(answers_key_find("desktop", "display_manager")->doc, "xrdp");
        assert_contains(answers_key_find("desktop", "screen_locker")->doc, "RDP");
}

/* Every key: a value in, its canonical text out. */
static void set_get_round_trip(void **state)
{
        static const char *const cases[][4] = {
                { "user", "username", "ada", "ada" },
                { "user", "username", "  ada  ", "ada" },
                { "user", "full_name", "Ada Lovelace", "Ada Lovelace" },
                { "user", "full_name", "", "" },
                { "user", "full_name", "Jos\xc3\xa9", "Jos\xc3\xa9" },
                { "user", "password_hash", "$y$j9T$SLuFQf6iy5EhwObyAhzoI/$gn9NTBT8n7elxZ5Ui/qGkXZvMNlvaW/oM9aSdBBzsL7",
                  "$y$j9T$SLuFQf6iy5EhwObyAhzoI/$gn9NTBT8n7elxZ5Ui/qGkXZvMNlvaW/oM9aSdBBzsL7" },
                { "user", "password_hash", "", "" },
                { "user", "password_length", "16", "16" },
                { "user", "password_length", "64", "64" },
                { "user", "copy_root_ssh_keys", "no", "no" },
                { "user", "copy_root_ssh_keys", "YES", "yes" },
                { "user", "copy_root_ssh_keys", "off", "no" },
                { "user", "copy_root_ssh_keys", "true", "yes" },
                { "user", "layout_safe_password", "yes", "yes" },
                { "user", "layout_safe_password", "no", "no" },
                { "user", "sudo_password", "on", "yes" },
                { "user", "sudo_password", "no", "no" },
                { "ides", "install", "cursor, vscode", "cursor, vscode" },
                { "ides", "install", "antigravity,cursor", "antigravity, cursor" },
                { "ides", "install", " example ,  vscode", "example, vscode" },
                { "ides", "install", "VSCode", "vscode" },
                { "ides", "install", "none", "none" },
                { "ides", "install", "NONE", "none" },
                { "ides", "catalog", "/srv/catalog.json", "/srv/catalog.json" },
                { "ides", "catalog", "", "" },
                { "network", "rdp_port", "3390", "3390" },
                { "network", "ssh_port", "2222", "2222" },
                { "network", "firewall", "no", "no" },
                { "security", "hardening", "no", "no" },
                { "security", "fail2ban", "no", "no" },
                { "desktop", "display_manager", "yes", "yes" },
                { "desktop", "screen_locker", "yes", "yes" },
                { "desktop", "sound", "no", "no" },
                { "system", "upgrade", "yes", "yes" },
                { "system", "apt_mirror", "http://deb.debian.org/debian",
                  "http://deb.debian.org/debian" },
                { "system", "apt_mirror", "", "" },
                { "run", "log_level", "debug", "debug" },
                { "run", "log_level", "Warning", "warning" },
                { "run", "log_level", "error", "error" },
                { "network", "rdp_listen", "LocalHost", "localhost" },
                { "network", "rdp_listen", "all", "all" },
                { "run", "on_failure", "keep", "keep" },
                { "run", "on_failure", "rollback", "rollback" },
                { "run", "failure_wait", "0s", "0s" },
                { "run", "failure_wait", "90s", "90s" },
                { "run", "failure_wait", "120s", "2m" },
                { "run", "failure_wait", "2H", "2h" },
                { "run", "failure_wait", "7d", "7d" },
                { "run", "credentials_wait", "1d", "24h" },
                { "run", "credentials_wait", "30d", "30d" },
                { "run", "credentials_wait", "1m", "1m" },
                { "run", "apt_lock_wait", "0", "0s" },
                { "run", "apt_lock_wait", "600", "10m" },
                { "run", "apt_lock_wait", "1800", "30m" },
                { "run", "apt_lock_wait", "90", "90s" },
                { "run", "apt_lock_wait", "45m", "45m" },
                { "run", "apt_lock_wait", "1d", "24h" },
        };
        bool covered[32] = { false };
        const struct answers_key *keys;
        size_t n;
        char buf[4096], err[512];
        (void)state;

        keys = answers_keys(&n);
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                struct answers a;
                answers_init(&a);
                if (answers_set(&a, cases[i][0], cases[i][1], cases[i][2], err, sizeof(err)))
                        fail_msg("%s.%s = %s: %s", cases[i][0], cases[i][1], cases[i][2], err);
                assert_int_equal(answers_get(&a, cases[i][0], cases[i][1], buf, sizeof(buf)), 0);
                assert_string_equal(buf, cases[i][3]);
                covered[answers_key_find(cases[i][0], cases[i][1]) - keys] = true;
                /* and no other key changed: a key whose place in struct
                 * answers is missing or wrong writes over another one */
                for (size_t k = 0; k < n; k++) {
                        if (strcmp(keys[k].section, cases[i][0]) == 0 &&
                            strcmp(keys[k].name, cases[i][1]) == 0)
                                continue;
                        assert_int_equal(answers_get(&a, keys[k].section, keys[k].name, buf,
                                                     sizeof(buf)), 0);
                        if (strcmp(buf, keys[k].default_value) != 0)
                                fail_msg("setting %s.%s changed %s.%s to \"%s\"", cases[i][0],
                                         cases[i][1], keys[k].section, keys[k].name, buf);
                }
        }
        for (size_t i = 0; i < n; i++)
                if (!covered[i])
                        fail_msg("key %s.%s has no round-trip case", keys[i].section, keys[i].name);
}

static void set_errors(void **state)
{
        struct answers a, before;
        char err[512], buf[8];
        (void)state;

        non_defaults(&a);
        before = a;
        assert_int_equal(answers_set(&a, "usr", "username", "x", err, sizeof(err)), -ENOENT);
        assert_contains(err, "unknown section [usr]; did you mean [user]?");
        assert_int_equal(answers_set(&a, "user", "usrname", "x", err, sizeof(err)), -ENOENT);
        assert_contains(err, "did you mean \"username\"?");
        assert_contains(err, "username, full_name, password_hash, password_length, "
                             "layout_safe_password, copy_root_ssh_keys and sudo_password");
        assert_int_equal(answers_set(&a, "user", "ssh_port", "22", err, sizeof(err)), -ENOENT);
        assert_contains(err, "\"ssh_port\" belongs in [network], not [user]");
        assert_int_equal(answers_set(&a, "user", "username", "Root", err, sizeof(err)), -EINVAL);
        assert_contains(err, "must start with a lower-case letter (a-z)");
        assert_int_equal(answers_set(&a, "user", "username", "root", err, sizeof(err)), -EINVAL);
        assert_contains(err, "\"root\" is reserved for the system");
        assert_int_equal(answers_set(&a, "user", "username", "dev\nuser", err, sizeof(err)),
                         -EINVAL);
        assert_contains(err, "control character 0x0A");
        assert_int_equal(answers_set(&a, "network", "rdp_port", "0", err, sizeof(err)), -EINVAL);
        assert_contains(err, "must be between 1 and 65535");
        assert_int_equal(answers_set(&a, "network", "rdp_listen", "public", err, sizeof(err)),
                         -EINVAL);
        assert_contains(err, "must be one of all or localhost (\"public\" is not one of them)");
        assert_int_equal(answers_set(&a, "network", "rdp_listen", "localhst", err, sizeof(err)),
                         -EINVAL);
        assert_contains(err, "did you mean \"localhost\"?");
        assert_int_equal(answers_set(&a, "network", "firewall", "maybe", err, sizeof(err)),
                         -EINVAL);
        assert_contains(err, "must be yes or no (\"maybe\" is neither)");
        assert_int_equal(answers_set(&a, "user", "password_length", "15", err, sizeof(err)),
                         -EINVAL);
        assert_contains(err, "must be between 16 and 64 (15 is too small)");
        assert_int_equal(answers_set(&a, "user", "password_length", "65", err, sizeof(err)),
                         -EINVAL);
        assert_contains(err, "(65 is too large)");
        assert_int_equal(answers_set(&a, "user", "password_length", "99999999999999", err,
                                     sizeof(err)), -EINVAL);
        assert_int_equal(answers_set(&a, "user", "password_length", "-20", err, sizeof(err)),
                         -EINVAL);
        assert_contains(err, "must be a whole number between 16 and 64");
        assert_int_equal(answers_set(&a, "run", "log_level", "warn", err, sizeof(err)), -EINVAL);
        assert_contains(err, "did you mean \"warning\"?");
        assert_int_equal(answers_set(&a, "run", "failure_wait", "30x", err, sizeof(err)), -EINVAL);
        assert_contains(err, "must be a number of seconds, or a number and a unit (s, m, h or d), e.g. 30m or 24h (\"30x\" is not one)");
        assert_int_equal(answers_set(&a, "run", "apt_lock_wait", "86401", err, sizeof(err)), -EINVAL);
        assert_contains(err, "must be between 0s and 24h (\"86401\" is too long)");
        assert_int_equal(answers_set(&a, "run", "apt_lock_wait", "18 00", err, sizeof(err)), -EINVAL);
        assert_int_equal(answers_set(&a, "run", "apt_lock_wait", "+1800", err, sizeof(err)), -EINVAL);
        assert_int_equal(answers_set(&a, "run", "failure_wait", "30 m", err, sizeof(err)), -EINVAL);
        assert_int_equal(answers_set(&a, "run", "failure_wait", "m", err, sizeof(err)), -EINVAL);
        assert_int_equal(answers_set(&a, "run", "failure_wait", "-5m", err, sizeof(err)), -EINVAL);
        assert_int_equal(answers_set(&a, "run", "failure_wait", "8d", err, sizeof(err)), -EINVAL);
        assert_contains(err, "must be between 0s and 7d (\"8d\" is too long)");
        assert_int_equal(answers_set(&a, "run", "failure_wait", "9999999999s", err, sizeof(err)), -EINVAL);
        assert_int_equal(answers_set(&a, "run", "credentials_wait", "31d", err, sizeof(err)), -EINVAL);
        assert_contains(err, "must be between 0s and 30d (\"31d\" is too long)");
        assert_int_equal(answers_set(&a, "run", "credentials_wait", "", err, sizeof(err)), -EINVAL);
        assert_contains(err, "keep the default (24h)");
        assert_int_equal(answers_set(&a, "ides", "install", "vscode, vscode", err, sizeof(err)),
                         -EINVAL);
        assert_int_equal(answers_set(&a, "ides", "install", "none, none", err, sizeof(err)),
                         -EINVAL);
        assert_contains(err, "lists \"none\" twice");
        assert_int_equal(answers_set(&a, "ides", "install", "vscode,", err, sizeof(err)), -EINVAL);
        assert_contains(err, "has an empty item");
        assert_int_equal(answers_set(&a, "user", "full_name", "x", err, sizeof(err)), 0);
        before.full_name[0] = 'x';
        before.full_name[1] = '\0';
        /* Refused values changed nothing. */
        assert_answers_equal(&a, &before);

        assert_int_equal(answers_get(&a, "user", "nope", err, sizeof(err)), -ENOENT);
        assert_int_equal(answers_get(&a, "user", "username", buf, 3), -ENOBUFS);
        assert_int_equal(answers_get(&a, "user", "username", buf, 0), -ENOBUFS);
        assert_int_equal(answers_get(&a, "user", "username", buf, 4), 0);
        assert_string_equal(buf, "ada");
}

/* answers_format's text parses back into the same answers (but the
 * secret, which it never writes). */
static void format_round_trip(void **state)
{
        struct answers a, b, c;
        struct answers_errors e = { 0 };
        (void)state;

        non_defaults(&a);
        for (int docs = 0; docs <= 1; docs++) {
                char *text = answers_format(&a, docs);

                assert_null(strstr(text, "password_hash"));
                assert_null(strstr(text, "$6$saltsalt"));
                assert_int_equal(strstr(text, "# ") == text, 1);
                answers_init(&b);
                assert_int_equal(parse_str(text, &b, &e), 0);
                assert_int_equal(e.n, 0);
                c = a;
                c.password_hash[0] = '\0';
                assert_answers_equal(&b, &c);
                if (docs)
                        assert_contains(text, "# Login name of the developer account");
                else
                        assert_null(strstr(text, "Login name"));
                free(text);
        }
        /* Defaults too, and the IDE list "none". */
        answers_init(&a);
        a.ides[0] = '\0';
        char *text = answers_format(&a, false);
        assert_contains(text, "install = none\n");
        assert_contains(text, "catalog =\n");
        answers_init(&b);
        assert_int_equal(parse_str(text, &b, &e), 0);
        assert_answers_equal(&a, &b);
        free(text);
}

static void errors_collected(void **state)
{
        static const char text[] =
                "# three problems\n"                    /* 1 */
                "[user]\n"                              /* 2 */
                "username = Root\n"                     /* 3 */
                "full_name = Ada\n"                     /* 4 */
                "[network]\n"                           /* 5 */
                "rdp_port = 70000\n"                    /* 6 */
                "ssh_port = 2222\n"                     /* 7 */
                "[desktop]\n"                           /* 8 */
                "sound = perhaps\n";                    /* 9 */
        struct answers a, before;
        struct answers_errors e = { 0 };
        char line[1024];
        (void)state;

        non_defaults(&a);
        before = a;
        assert_int_equal(parse_str(text, &a, &e), -EINVAL);
        assert_int_equal(e.n, 3);
        assert_int_equal(e.v[0].line, 3);
        assert_string_equal(e.v[0].key, "[user] username");
        assert_contains(e.v[0].message, "must start with a lower-case letter");
        assert_int_equal(e.v[1].line, 6);
        assert_string_equal(e.v[1].key, "[network] rdp_port");
        assert_contains(e.v[1].message, "70000 is too large");
        assert_int_equal(e.v[2].line, 9);
        assert_string_equal(e.v[2].key, "[desktop] sound");
        /* The good lines of a bad file are not applied either. */
        assert_answers_equal(&a, &before);

        answers_error_format("answers.ini", &e.v[0], line, sizeof(line));
        assert_string_equal(line, "answers.ini:3: [user] username: must start with a lower-case "
                                  "letter (a-z), e.g. \"devuser\"; login names are written in "
                                  "lower case");
        /* A later parse appends; release empties. */
        assert_int_equal(parse_str("[bogus]\n", &a, &e), -EINVAL);
        assert_int_equal(e.n, 4);
        assert_string_equal(e.v[0].key, "[user] username");
        answers_errors_release(&e);
        assert_int_equal(e.n, 0);
        assert_null(e.v);
        answers_errors_release(&e);
        answers_errors_release(NULL);
}

/* [network] rdp_listen in a file: a bad value names its line, its key and
 * the allowed values, and leaves the struct as it was; a good one is taken
 * whatever its case. */
static void rdp_listen_in_file(void **state)
{
        struct answers a, before;
        struct answers_errors e = { 0 };
        (void)state;

        answers_init(&a);
        before = a;
        assert_int_equal(parse_str("[network]\nrdp_port = 3390\nrdp_listen = loopback\n", &a, &e),
                         -EINVAL);
        assert_int_equal(e.n, 1);
        assert_int_equal(e.v[0].line, 3);
        assert_string_equal(e.v[0].key, "[network] rdp_listen");
        assert_contains(e.v[0].message, "must be one of all or localhost");
        assert_contains(e.v[0].message, "\"loopback\"");
        assert_answers_equal(&a, &before);
        answers_errors_release(&e);

        assert_int_equal(parse_str("[network]\nrdp_listen = LOCALHOST\n", &a, &e), 0);
        assert_int_equal(a.rdp_listen, RDP_LISTEN_LOCALHOST);
        assert_int_equal(a.rdp_port, 3389);
}

static void error_format(void **state)
{
        struct answers_error e = { .line = 0, .key = "", .message = "no such file" };
        char buf[256], tiny[10];
        (void)state;

        answers_error_format("/root/a.ini", &e, buf, sizeof(buf));
        assert_string_equal(buf, "/root/a.ini: no such file");
        e.line = 12;
        answers_error_format("a.ini", &e, buf, sizeof(buf));
        assert_string_equal(buf, "a.ini:12: no such file");
        strscpy(e.key, sizeof(e.key), "[run] log_level");
        answers_error_format("a.ini", &e, buf, sizeof(buf));
        assert_string_equal(buf, "a.ini:12: [run] log_level: no such file");
        e.line = 0;
        answers_error_format("a.ini", &e, buf, sizeof(buf));
        assert_string_equal(buf, "a.ini: [run] log_level: no such file");
        answers_error_format(NULL, &e, buf, sizeof(buf));
        assert_string_equal(buf, "answers.ini: [run] log_level: no such file");
        answers_error_format("a.ini", &e, tiny, sizeof(tiny));
        assert_int_equal(strlen(tiny), sizeof(tiny) - 1);
}

/* Parses over what the caller put in a: a file may hold any subset. */
static void prefill_and_syntax(void **state)
{
        struct answers a;
        struct answers_errors e = { 0 };
        (void)state;

        answers_init(&a);
        a.rdp_port = 4000;
        assert_int_equal(parse_str("[network]\nssh_port = 2200\n", &a, &e), 0);
        assert_int_equal(a.rdp_port, 4000);
        assert_int_equal(a.ssh_port, 2200);

        /* Keys under an unknown section are not reported one by one. */
        answers_init(&a);
        assert_int_equal(parse_str("[foo]\na = 1\nb = 2\nnot a line\n[user]\nusername = ada\n",
                                   &a, &e), -EINVAL);
        assert_int_equal(e.n, 1);
        assert_int_equal(e.v[0].line, 1);
        assert_string_equal(e.v[0].key, "[foo]");
        answers_errors_release(&e);

        /* A key before any section that no section has. */
        assert_int_equal(parse_str("colour = blue\n", &a, &e), -EINVAL);
        assert_contains(e.v[0].message, "no section has a key of that name");
        answers_errors_release(&e);

        /* "[ user ]" and "key=value" without spaces; '=' in a value. */
        answers_init(&a);
        assert_int_equal(parse_str("[ user ]\nusername=ada\n[system]\napt_mirror=http://m.example/"
                                   "debian?a=b\n", &a, &e), 0);
        assert_string_equal(a.username, "ada");
        assert_string_equal(a.apt_mirror, "http://m.example/debian?a=b");

        /* "[]" and the last line without a newline. */
        assert_int_equal(parse_str("[]\n[user]\nusername = ada", &a, &e), -EINVAL);
        assert_int_equal(e.n, 1);
        assert_contains(e.v[0].message, "empty section header");
        answers_errors_release(&e);

        /* CRLF keeps line numbers right; a lone CR inside a value is refused. */
        assert_int_equal(parse_str("[user]\r\n\r\nusername = Ada\r\n", &a, &e), -EINVAL);
        assert_int_equal(e.v[0].line, 3);
        answers_errors_release(&e);
        assert_int_equal(parse_str("[user]\nusername = ada\rx\n", &a, &e), -EINVAL);
        assert_contains(e.v[0].message, "control character 0x0D");
        answers_errors_release(&e);

        /* A BOM only at the very start. */
        assert_int_equal(parse_str("[user]\n\xef\xbb\xbfusername = ada\n", &a, &e), -EINVAL);
        answers_errors_release(&e);

        /* UTF-16 big-endian BOM as well. */
        assert_int_equal(answers_parse("\xfe\xff\0[", 4, &a, &e), -EINVAL);
        assert_int_equal(e.n, 1);
        assert_contains(e.v[0].message, "UTF-16");
        answers_errors_release(&e);

        /* A NUL on one line does not hide the next line's problem. */
        static const char nul[] = "[user]\nusername = a\0b\nfull_name = a:b\n";
        assert_int_equal(answers_parse(nul, sizeof(nul) - 1, &a, &e), -EINVAL);
        assert_int_equal(e.n, 2);
        assert_int_equal(e.v[0].line, 2);
        assert_int_equal(e.v[1].line, 3);
        answers_errors_release(&e);

        /* Exactly 1024 bytes is fine; 1025 is not. */
        char *line = xmalloc(1100);
        memset(line, '#', 1024);
        line[1024] = '\0';
        assert_int_equal(parse_str(line, &a, &e), 0);
        memset(line, '#', 1025);
        line[1025] = '\0';
        assert_int_equal(parse_str(line, &a, &e), -EINVAL);
        assert_contains(e.v[0].message, "is 1025 bytes long; the limit is 1024");
        answers_errors_release(&e);
        free(line);
}

/* The secret value appears in no message, whatever the mistake. */
static void secret_not_echoed(void **state)
{
        static const char *const files[] = {
                "[user]\npassword_hash = CorrectHorse42\n",
                "[user]\npassword_hash = CorrectHorse42 # mine\n",
                "[user]\npassword_hash = $6$CorrectHorse42 # mine\n",
                "[user]\npassword_hash = $6$Correct:Horse42$abcdefghijklmn\n",
                "[user]\npassword_hash CorrectHorse42\n",
                "[user]\npassword_hash = $6$CorrectHorse42$abcdefghij\npassword_hash = "
                "$6$CorrectHorse42$abcdefghij\n",
                "[network]\npassword_hash = CorrectHorse42\n",
                "password_hash = CorrectHorse42\n",
                "[user]\npassword_hash = \xe9" "CorrectHorse42\n",
        };
        struct answers a;
        struct answers_errors e = { 0 };
        char err[512];
        (void)state;

        for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                answers_init(&a);
                assert_int_equal(parse_str(files[i], &a, &e), -EINVAL);
                assert_true(e.n >= 1);
                for (size_t j = 0; j < e.n; j++)
                        if (strstr(e.v[j].message, "Horse") || strstr(e.v[j].key, "Horse"))
                                fail_msg("file %zu echoes the secret: %s", i, e.v[j].message);
                answers_errors_release(&e);
        }
        answers_init(&a);
        assert_int_equal(answers_set(&a, "user", "password_hash", "CorrectHorse42", err,
                                     sizeof(err)), -EINVAL);
        assert_null(strstr(err, "Horse"));
        assert_contains(err, "mkpasswd");
}

static void cross_field(void **state)
{
        struct answers a;
        struct answers_errors e = { 0 };
        (void)state;

        answers_init(&a);
        assert_int_equal(answers_check(&a, &e), 0);
        assert_int_equal(e.n, 0);
        a.rdp_port = 22;
        assert_int_equal(answers_check(&a, &e), -EINVAL);
        assert_int_equal(e.n, 1);
        assert_int_equal(e.v[0].line, 0);
        assert_contains(e.v[0].message, "is the same port as [network] ssh_port (22)");
        answers_errors_release(&e);
        a.rdp_port = 3350;
        assert_int_equal(answers_check(&a, &e), -EINVAL);
        assert_string_equal(e.v[0].key, "[network] rdp_port");
        assert_contains(e.v[0].message, "xrdp-sesman");
        answers_errors_release(&e);
        a.rdp_port = 3350;
        a.ssh_port = 3350;
        assert_int_equal(answers_check(&a, &e), -EINVAL);
        assert_int_equal(e.n, 3);
        answers_errors_release(&e);

        /* A port that failed its own check is not judged again. */
        answers_init(&a);
        assert_int_equal(parse_str("[network]\nssh_port = 3389x\n", &a, &e), -EINVAL);
        assert_int_equal(e.n, 1);
        answers_errors_release(&e);
        /* The error names the line of the key written last. */
        assert_int_equal(parse_str("[network]\nssh_port = 4000\n\nrdp_port = 4000\n", &a, &e),
                         -EINVAL);
        assert_int_equal(e.n, 1);
        assert_int_equal(e.v[0].line, 4);
        assert_string_equal(e.v[0].key, "[network] rdp_port");
        assert_contains(e.v[0].message, "[network] ssh_port (4000)");
        answers_errors_release(&e);
}

static void error_limit(void **state)
{
        struct answers a;
        struct answers_errors e = { 0 };
        struct buf b;
        (void)state;

        buf_init(&b, ANSWERS_MAX_FILE);
        for (int i = 0; i < 200; i++)
                assert_int_equal(buf_printf(&b, "garbage line %d\n", i), 0);
        answers_init(&a);
        assert_int_equal(answers_parse(b.data, b.len, &a, &e), -EINVAL);
        assert_int_equal(e.n, ANSWERS_MAX_ERRORS);
        assert_contains(e.v[e.n - 1].message, "stopped reading here");
        answers_errors_release(&e);
        buf_release(&b);

        /* Over the size limit. */
        char *big = xcalloc(ANSWERS_MAX_FILE + 2, 1);
        memset(big, '\n', ANSWERS_MAX_FILE + 1);
        assert_int_equal(answers_parse(big, ANSWERS_MAX_FILE + 1, &a, &e), -EFBIG);
        assert_int_equal(e.n, 1);
        assert_int_equal(e.v[0].line, 0);
        answers_errors_release(&e);
        assert_int_equal(answers_parse(big, ANSWERS_MAX_FILE, &a, &e), 0);
        free(big);
}

static void load_io_errors(void **state)
{
        char *dir = test_tmpdir();
        char *missing = test_path(dir, "missing.ini");
        char *big = test_path(dir, "big.ini");
        char *locked = test_path(dir, "locked.ini");
        char *fine = test_path(dir, "fine.ini");
        struct answers a;
        struct answers_errors e = { 0 };
        char *content;
        (void)state;

        answers_init(&a);
        assert_int_equal(answers_load(missing, &a, &e), -ENOENT);
        assert_int_equal(e.n, 1);
        assert_int_equal(e.v[0].line, 0);
        assert_contains(e.v[0].message, "no such file");
        answers_errors_release(&e);

        assert_int_equal(answers_load(dir, &a, &e), -EISDIR);
        assert_contains(e.v[0].message, "is a directory");
        answers_errors_release(&e);

        content = xcalloc(ANSWERS_MAX_FILE + 10, 1);
        memset(content, '#', ANSWERS_MAX_FILE + 5);
        test_write(big, content);
        free(content);
        assert_int_equal(answers_load(big, &a, &e), -EFBIG);
        assert_contains(e.v[0].message, "is larger than 65536 bytes");
        answers_errors_release(&e);

        test_write(locked, "[user]\nusername = ada\n");
        chmod(locked, 0);
        if (geteuid() != 0) {
                assert_int_equal(answers_load(locked, &a, &e), -EACCES);
                assert_contains(e.v[0].message, "permission denied");
                answers_errors_release(&e);
        }

        test_write(fine, "[user]\nusername = ada\n");
        assert_int_equal(answers_load(fine, &a, &e), 0);
        assert_int_equal(e.n, 0);
        assert_string_equal(a.username, "ada");
        free(missing);
        free(big);
        free(locked);
        free(fine);
}

/* assets/answers.ini.example is answers_example() byte for byte and parses
 * into the defaults. */
static void example_file(void **state)
{
        char *example = answers_example();
        char *committed = test_read(EXAMPLE_PATH);
        struct answers a, defaults_;
        struct answers_errors e = { 0 };
        const struct answers_key *k;
        size_t n;
        (void)state;

        if (!committed)
                fail_msg("%s is missing; write it from answers_example()", EXAMPLE_PATH);
        if (strcmp(committed, example) != 0)
                fail_msg("%s differs from answers_example(); regenerate it", EXAMPLE_PATH);
        /* Start away from the defaults: the example must set every key. */
        non_defaults(&a);
        assert_int_equal(parse_str(example, &a, &e), 0);
        assert_int_equal(e.n, 0);
        answers_init(&defaults_);
        assert_answers_equal(&a, &defaults_);

        k = answers_keys(&n);
        for (size_t i = 0; i < n; i++) {
                char *needle = xasprintf("\n%s =", k[i].name);
                assert_contains(example, needle);
                free(needle);
        }
        /* Lines fit a terminal and stay within the parser's limits. */
        for (const char *p = example; *p;) {
                size_t len = strcspn(p, "\n");
                assert_true(len <= 80);
                p += len + (p[len] == '\n');
        }
        assert_contains(example, "no comment\n# after a value");
        free(example);
        free(committed);
}

/* One EXPECTED line, split in place. */
struct expected {
        char *file, *key, *substring;
        unsigned line;
};

static size_t read_expected(const char *dir, struct expected **ret, char **ret_text)
{
        char *path = test_path(dir, "EXPECTED");
        char *text = test_read(path);
        struct expected *v = NULL;
        size_t n = 0;

        if (!text)
                fail_msg("%s is missing", path);
        for (char *s = text, *nl; *s; s = nl + 1) {
                char *f[4];
                long line;

                nl = strchr(s, '\n');
                assert_non_null(nl);
                *nl = '\0';
                f[0] = s;
                for (int i = 1; i < 4; i++) {
                        char *tab = strchr(f[i - 1], '\t');
                        if (!tab)
                                fail_msg("EXPECTED line \"%s\" lacks a field", s);
                        *tab = '\0';
                        f[i] = tab + 1;
                }
                assert_int_equal(parse_long(f[1], 1, 100000, &line), 0);
                v = xrealloc(v, (n + 1) * sizeof(*v));
                v[n++] = (struct expected){ f[0], f[2], f[3], (unsigned)line };
        }
        free(path);
        *ret = v;
        *ret_text = text;
        return n;
}

static void fixtures_bad(void **state)
{
        const char *dir = fixtures_dir();
        struct expected *x = NULL;
        char *text = NULL;
        size_t n = read_expected(dir, &x, &text);
        size_t files = 0;
        DIR *d;
        struct dirent *de;
        (void)state;

        assert_true(n >= 30);
        for (size_t i = 0; i < n; i++) {
                char *path = test_path(dir, x[i].file);
                char *where = xasprintf("%s:%u:", path, x[i].line);
                struct answers a, before;
                struct answers_errors e = { 0 };
                char line[1024];

                /* As the program runs them: over the defaults. */
                answers_init(&a);
                before = a;
                if (answers_load(path, &a, &e) != -EINVAL)
                        fail_msg("%s: not refused", x[i].file);
                if (e.n != 1) {
                        for (size_t j = 0; j < e.n; j++)
                                print_message("  %u %s\n", e.v[j].line, e.v[j].message);
                        fail_msg("%s: %zu problems, want exactly 1", x[i].file, e.n);
                }
                if (e.v[0].line != x[i].line)
                        fail_msg("%s: line %u, want %u", x[i].file, e.v[0].line, x[i].line);
                if (strcmp(x[i].key, "-") == 0)
                        assert_string_equal(e.v[0].key, "");
                else
                        assert_string_equal(e.v[0].key, x[i].key);
                answers_error_format(path, &e.v[0], line, sizeof(line));
                assert_true(startswith(line, where));
                assert_contains(line, x[i].substring);
                assert_answers_equal(&a, &before);
                for (size_t j = 0; j < i; j++)
                        assert_string_not_equal(x[i].file, x[j].file);
                answers_errors_release(&e);
                free(where);
                free(path);
        }

        /* Every bad-*.ini is listed. */
        d = opendir(dir);
        assert_non_null(d);
        while ((de = readdir(d))) {
                bool listed = false;
                if (!startswith(de->d_name, "bad-"))
                        continue;
                files++;
                for (size_t i = 0; i < n; i++)
                        listed |= strcmp(x[i].file, de->d_name) == 0;
                if (!listed)
                        fail_msg("%s is not in EXPECTED", de->d_name);
        }
        closedir(d);
        assert_int_equal(files, n);
        free(x);
        free(text);
}

static void fixtures_good(void **state)
{
        const char *dir = fixtures_dir();
        struct answers a, want;
        struct answers_errors e = { 0 };
        size_t files = 0;
        DIR *d;
        struct dirent *de;
        (void)state;

        d = opendir(dir);
        assert_non_null(d);
        while ((de = readdir(d))) {
                char *path;
                if (!startswith(de->d_name, "good-"))
                        continue;
                files++;
                path = test_path(dir, de->d_name);
                answers_init(&a);
                if (answers_load(path, &a, &e) != 0)
                        fail_msg("%s: %s", de->d_name, e.n ? e.v[0].message : "?");
                free(path);
        }
        closedir(d);
        assert_true(files >= 5);

#define LOAD(name)                                                                         \
        do {                                                                               \
                char *p_ = test_path(dir, name);                                           \
                answers_init(&a);                                                          \
                assert_int_equal(answers_load(p_, &a, &e), 0);                             \
                free(p_);                                                                  \
        } while (0)

        LOAD("good-full.ini");
        non_defaults(&want);
        strscpy(want.password_hash, sizeof(want.password_hash),
                "$y$j9T$F5Jx5fExrKuJdvuzMIXgD/$hCUBzGWrOU6E5cMyNfLcBvHzkEjg3VEN9V4sQMh8E/4");
        want.password_length = 32;
        want.ides[0] = '\0';     /* none: the catalog it names is not on this machine */
        strscpy(want.ide_catalog, sizeof(want.ide_catalog), "/srv/vpsp/catalog.json");
        want.log_level = LOG_DEBUG;
        strscpy(want.apt_mirror, sizeof(want.apt_mirror), "https://mirror.example.org:8443/debian");
        assert_answers_equal(&a, &want);

        LOAD("good-crlf.ini");
        assert_string_equal(a.username, "ada");
        assert_string_equal(a.full_name, "Ada Lovelace");
        assert_int_equal(a.rdp_port, 3390);

        LOAD("good-bom.ini");
        assert_string_equal(a.username, "ada");

        LOAD("good-ides-none.ini");
        assert_string_equal(a.ides, "");
        assert_null(answers_ide_list(&a));

        LOAD("good-empty.ini");
        answers_init(&want);
        assert_answers_equal(&a, &want);

        LOAD("good-repeated-section.ini");
        assert_string_equal(a.full_name, "Ada Lovelace");
        assert_int_equal(a.ssh_port, 2222);

        LOAD("good-spacing.ini");
        assert_int_equal(a.rdp_port, 3390);
        assert_int_equal(a.ssh_port, 2022);
        assert_int_equal(a.log_level, LOG_WARNING);

        LOAD("good-unicode.ini");
        assert_string_equal(a.full_name, "Jos\xc3\xa9 M\xc3\xbcller \xe6\xbc\xa2\xe5\xad\x97");
#undef LOAD
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(defaults),
                cmocka_unit_test(key_table),
                cmocka_unit_test(set_get_round_trip),
                cmocka_unit_test(set_errors),
                cmocka_unit_test(format_round_trip),
                cmocka_unit_test(rdp_listen_in_file),
                cmocka_unit_test(errors_collected),
                cmocka_unit_test(error_format),
                cmocka_unit_test(prefill_and_syntax),
                cmocka_unit_test(secret_not_echoed),
                cmocka_unit_test(cross_field),
                cmocka_unit_test(error_limit),
                cmocka_unit_test(load_io_errors),
                cmocka_unit_test(example_file),
                cmocka_unit_test(fixtures_bad),
                cmocka_unit_test(fixtures_good),
        };
        /* the IDE catalog (answers name its entries) as the source tree has it;
         * the installed program reads the one in its data directory */
        setenv("VPS_PROVISION_DATA_DIR", VPSP_SRCDIR "/assets", 1);
        return cmocka_run_group_tests(tests, NULL, NULL);
}
