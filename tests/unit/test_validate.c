/* test_validate.c — the value rules of validate.h: each validator's accepted
 * values, and for each refused one the rule named in the message. Login
 * names are also checked against fake passwd/group files in a temp dir. */
#include "testlib.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util.h"
#include "validate.h"

static char *dir, *passwd, *group;

/* The message of a refused value must contain want. */
#define assert_err(err, want)                                                              \
        do {                                                                               \
                if (!strstr((err), (want)))                                                \
                        fail_msg("message \"%s\" lacks \"%s\"", (err), (want));           \
        } while (0)

static int setup(void **state)
{
        (void)state;
        dir = test_tmpdir();
        passwd = test_path(dir, "passwd");
        group = test_path(dir, "group");
        test_write(passwd,
                   "root:x:0:0:root:/root:/bin/bash\n"
                   "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
                   "svcbot:x:998:998:a service:/var/lib/svcbot:/usr/sbin/nologin\n"
                   "ghost:x:65534:65534:an old nobody:/nonexistent:/usr/sbin/nologin\n"
                   "alice:x:1000:1000:Alice,,,:/home/alice:/bin/bash\n"
                   "bob:x:1001:1001::/home/bob:/bin/bash\n"
                   "+nisuser::::::\n"
                   "broken line without colons\n"
                   "baduid:x:notanumber:0::/:/bin/sh\n");
        test_write(group,
                   "root:x:0:\n"
                   "audio:x:29:pulse\n"
                   "plugdev:x:46:alice\n"
                   "gamers:x:1002:alice\n"
                   "bob:x:1001:\n"
                   "sysgrp:x:500:\n");
        return 0;
}

static int teardown(void **state)
{
        (void)state;
        free(passwd);
        free(group);
        test_cleanup_all();
        return 0;
}

static int user(const char *name, char *err, size_t n)
{
        err[0] = '\0';
        return validate_username(name, passwd, group, err, n);
}

static void username_good(void **state)
{
        char err[512];
        static const char *const good[] = {
                "devuser", "a", "dev_user-2", "x1", "abcdefghijklmnopqrstuvwxyz012345", "carol",
                "systemdx", /* only "systemd-" is a reserved prefix */
        };
        (void)state;
        for (size_t i = 0; i < ELEMENTSOF(good); i++) {
                int r = user(good[i], err, sizeof(err));
                if (r != 0)
                        fail_msg("%s refused: %s", good[i], err);
        }
}

static void username_bad(void **state)
{
        static const struct {
                const char *name, *want;
        } bad[] = {
                { "", "must not be empty" },
                { "Devuser", "must start with a lower-case letter (a-z), e.g. \"devuser\"" },
                { "1dev", "must start with a lower-case letter (a-z), not \"1\"" },
                { "_dev", "must start with a lower-case letter (a-z), not \"_\"" },
                { "-dev", "must start with a lower-case letter" },
                { "devUser", "may contain only a-z, 0-9, \"_\" and \"-\" (\"U\" is not allowed" },
                { "dev.user", "may contain only a-z, 0-9, \"_\" and \"-\" (\".\" is not allowed)" },
                { "dev user", "(a space is not allowed)" },
                { "dev\tuser", "(a tab is not allowed)" },
                { "dev$", "(\"$\" is not allowed)" },
                { "d\xc3\xa9v", "U+00E9" },
                { "dev\xe9", "the byte 0xE9, which is not UTF-8" },
                { "dev\x01", "control character 0x01" },
                { "abcdefghijklmnopqrstuvwxyz0123456", "is 33 characters long; the limit is 32" },
                { "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "is 40 characters long; the limit is 32" },
                { "root", "\"root\" is reserved for the system; choose another name such as \"devuser\"" },
                { "admin", "\"admin\" is reserved for the system" },
                { "sudo", "\"sudo\" is reserved" },
                { "www-data", "\"www-data\" is reserved" },
                { "nobody", "\"nobody\" is reserved" },
                { "xrdp", "\"xrdp\" is reserved" },
                { "wheel", "\"wheel\" is reserved" },
                { "systemd-network", "names starting with \"systemd-\" are reserved for the system" },
        };
        char err[512];
        (void)state;
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                int r = user(bad[i].name, err, sizeof(err));
                if (r != -EINVAL)
                        fail_msg("%s: got %d (%s)", bad[i].name, r, err);
                assert_err(err, bad[i].want);
                /* The rule, not the field: the caller adds the field name. */
                assert_null(strstr(err, "username"));
        }
}

static void username_accounts(void **state)
{
        char err[512];
        (void)state;

        /* A system account (uid < 1000) that is not on the reserved list. */
        assert_int_equal(user("svcbot", err, sizeof(err)), -EEXIST);
        assert_err(err, "\"svcbot\" is an existing system account (uid 998");
        assert_err(err, "choose another name");
        /* 65534 (nobody's uid) is a system id whatever the name. */
        assert_int_equal(user("ghost", err, sizeof(err)), -EEXIST);
        assert_err(err, "uid 65534");
        /* A regular account is adopted. */
        assert_int_equal(user("alice", err, sizeof(err)), 0);
        assert_int_equal(user("bob", err, sizeof(err)), 0);
        /* A system group of that name. */
        assert_int_equal(user("audio", err, sizeof(err)), -EEXIST);
        assert_err(err, "is an existing system account");
        assert_err(err, "gid 29");
        assert_int_equal(user("plugdev", err, sizeof(err)), -EEXIST);
        assert_int_equal(user("sysgrp", err, sizeof(err)), -EEXIST);
        /* A regular group is no obstacle (useradd adds the user to it). */
        assert_int_equal(user("gamers", err, sizeof(err)), 0);
        /* A prefix of an account is not the account. */
        assert_int_equal(user("svc", err, sizeof(err)), 0);
        assert_int_equal(user("alic", err, sizeof(err)), 0);
        /* NIS lines, broken lines and bad ids are not accounts. */
        assert_int_equal(user("nisuser", err, sizeof(err)), 0);
        assert_int_equal(user("baduid", err, sizeof(err)), 0);
}

static void username_account_files(void **state)
{
        char err[512];
        char *missing = test_path(dir, "nope");
        char *longf = test_path(dir, "passwd-long");
        char *content;
        (void)state;

        /* Missing files hold no accounts. */
        assert_int_equal(validate_username("svcbot", missing, missing, err, sizeof(err)), 0);
        /* An unreadable file is an error that says so (a directory here). */
        assert_int_equal(validate_username("svcbot", dir, group, err, sizeof(err)), -EISDIR);
        assert_err(err, dir);
        assert_int_equal(validate_username("carol", passwd, dir, err, sizeof(err)), -EISDIR);
        /* An overlong line is skipped, the next line still counts. */
        content = malloc(10000);
        assert_non_null(content);
        memcpy(content, "svcbot:x:5:", 11);
        memset(content + 11, 'a', 8000);
        memcpy(content + 8011, "\nother:x:7:7::/:/bin/sh\n", 25);
        test_write(longf, content);
        assert_int_equal(validate_username("svcbot", longf, missing, err, sizeof(err)), 0);
        assert_int_equal(validate_username("other", longf, missing, err, sizeof(err)), -EEXIST);
        /* Syntax is judged before the files are read. */
        assert_int_equal(validate_username("Bad", dir, dir, err, sizeof(err)), -EINVAL);
        /* A small buffer is cut, still terminated. */
        char tiny[8];
        assert_int_equal(validate_username("root", passwd, group, tiny, sizeof(tiny)), -EINVAL);
        assert_int_equal(strlen(tiny), sizeof(tiny) - 1);
        assert_int_equal(validate_username("root", passwd, group, NULL, 0), -EINVAL);
        free(content);
        free(longf);
        free(missing);
}

static void full_name(void **state)
{
        static const char *const good[] = {
                "", "Ada Lovelace", "Jos\xc3\xa9 M\xc3\xbcller", "O'Brien-Smith Jr.",
                "\xe6\xbc\xa2\xe5\xad\x97",
                "1234567890123456789012345678901234567890123456789012345678901234",
        };
        static const struct {
                const char *s, *want;
        } bad[] = {
                { "Dev: User", "may not contain \":\" (it separates the fields of /etc/passwd)" },
                { "Dev, Room 4", "may not contain \",\"" },
                { "a=b", "may not contain \"=\"" },
                { "Dev\nUser", "may not contain the control character 0x0A (at byte 4)" },
                { "Dev\tUser", "may not contain a tab" },
                { "Dev\x7fUser", "control character 0x7F" },
                { "Jos\xe9", "is not valid UTF-8 text" },
                { "12345678901234567890123456789012345678901234567890123456789012345",
                  "is 65 bytes long; the limit is 64 bytes" },
                /* bidirectional text controls reorder what a person reads
                 * (U+202E shows "resU veD" the other way round); C1 controls
                 * (U+0085 is a line break to some programs) */
                { "Dev\xe2\x80\xaeUser", "may not contain U+202E (a control that reorders text) "
                                        "(at byte 4); write the name only" },
                { "Dev\xe2\x81\xa6User", "U+2066 (a control that reorders text)" },
                { "Dev\xe2\x80\x8fUser", "U+200F (a control that reorders text)" },
                { "Dev\xd8\x9cUser", "U+061C (a control that reorders text)" },
                { "Dev\xc2\x85User", "may not contain U+0085 (a C1 control character) (at byte 4)" },
                { "Dev\xc2\x9bUser", "U+009B (a C1 control character)" },
                { "Dev\xe2\x80\xa8User", "U+2028 (a line or paragraph separator)" },
                { "Dev\xe2\x80\xa9User", "U+2029 (a line or paragraph separator)" },
        };
        char err[512];
        (void)state;

        for (size_t i = 0; i < ELEMENTSOF(good); i++)
                if (validate_full_name(good[i], err, sizeof(err)) != 0)
                        fail_msg("%s refused: %s", good[i], err);
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                assert_int_equal(validate_full_name(bad[i].s, err, sizeof(err)), -EINVAL);
                assert_err(err, bad[i].want);
                /* the message never carries the control itself */
                for (const char *p = err; *p; p++)
                        assert_true((unsigned char)*p >= 0x20 && (unsigned char)*p < 0x7f);
        }
}

static void port(void **state)
{
        static const struct {
                const char *s;
                uint16_t v;
        } good[] = { { "1", 1 }, { "22", 22 }, { "3389", 3389 }, { "65535", 65535 } };
        static const struct {
                const char *s, *want;
        } bad[] = {
                { "0", "must be between 1 and 65535 (0 is not a usable port)" },
                { "00", "must be between 1 and 65535 (0 is not a usable port)" },
                { "70000", "must be between 1 and 65535 (70000 is too large)" },
                { "65536", "(65536 is too large)" },
                { "99999999999999999999", "is too large" },
                { "22a", "must be a plain decimal number between 1 and 65535 (\"a\" is not a digit)" },
                { " 22", "(a space is not a digit)" },
                { "22 ", "(a space is not a digit)" },
                { "+22", "(\"+\" is not a digit)" },
                { "-1", "(\"-\" is not a digit)" },
                { "0x16", "(\"x\" is not a digit)" },
                { "2.2", "(\".\" is not a digit)" },
                { "", "is empty; write a port number between 1 and 65535" },
                { "022", "must be written without leading zeros, e.g. \"22\"" },
        };
        char err[512];
        uint16_t v;
        (void)state;

        for (size_t i = 0; i < ELEMENTSOF(good); i++) {
                v = 0;
                assert_int_equal(validate_port(good[i].s, &v, err, sizeof(err)), 0);
                assert_int_equal(v, good[i].v);
        }
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                v = 4242;
                if (validate_port(bad[i].s, &v, err, sizeof(err)) != -EINVAL)
                        fail_msg("port \"%s\" accepted", bad[i].s);
                assert_err(err, bad[i].want);
                assert_int_equal(v, 4242);      /* ret untouched on failure */
        }
        assert_int_equal(validate_port(NULL, &v, err, sizeof(err)), -EINVAL);
}

static void hostname(void **state)
{
        static const char *const good[] = {
                "deb.debian.org", "localhost", "a-b.example", "A1.Example.ORG", "192.0.2.10",
                "0.0.0.0", "255.255.255.255", "xn--bcher-kva.example", "x",
                "a23456789012345678901234567890123456789012345678901234567890123.org",
        };
        static const struct {
                const char *s, *want;
        } bad[] = {
                { "", "is empty" },
                { "-a.org", "starts or ends with \"-\"" },
                { "a-.org", "starts or ends with \"-\"" },
                { "a..b", "has an empty part" },
                { ".a", "has an empty part" },
                { "a.", "has an empty part" },
                { "a_b.org", "may contain only letters, digits, \"-\" and dots (\"_\" is not allowed)" },
                { "a b", "(a space is not allowed)" },
                { "a23456789012345678901234567890123456789012345678901234567890123x.org",
                  "has a part of 64 characters between dots; each part may have at most 63" },
                { "256.1.1.1", "is not a valid IPv4 address" },
                { "1.2.3", "is not a valid IPv4 address" },
                { "01.2.3.4", "is not a valid IPv4 address" },
                { "1.2.3.4.5", "is not a valid IPv4 address" },
        };
        char err[512], longname[300];
        (void)state;

        for (size_t i = 0; i < ELEMENTSOF(good); i++)
                if (validate_hostname(good[i], err, sizeof(err)) != 0)
                        fail_msg("%s refused: %s", good[i], err);
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                if (validate_hostname(bad[i].s, err, sizeof(err)) != -EINVAL)
                        fail_msg("host \"%s\" accepted", bad[i].s);
                assert_err(err, bad[i].want);
        }
        /* 254 characters in labels of 9. */
        memset(longname, 0, sizeof(longname));
        for (size_t i = 0; i < 254; i++)
                longname[i] = i % 10 == 9 ? '.' : 'a';
        longname[253] = 'a';
        assert_int_equal(validate_hostname(longname, err, sizeof(err)), -EINVAL);
        assert_err(err, "is 254 characters long; a host name may have at most 253");
        longname[253] = '\0';
        assert_int_equal(validate_hostname(longname, err, sizeof(err)), 0);
}

static void abs_path(void **state)
{
        static const char *const good[] = {
                "/srv/catalog.json", "/a", "/a/b..c", "/.hidden", "/a//b/", "/a/./b",
                "/home/ada/caf\xc3\xa9.json",
        };
        static const struct {
                const char *s, *want;
        } bad[] = {
                { "", "is empty; write a full path starting with \"/\"" },
                { "catalog.json", "must be an absolute path starting with \"/\"" },
                { "~/catalog.json", "must be an absolute path" },
                { "/a/../b", "may not contain \"..\"" },
                { "/..", "may not contain \"..\"" },
                { "/a/..", "may not contain \"..\"" },
                { "/", "names the root directory" },
                { "///", "names the root directory" },
                { "/a\nb", "may not contain the control character 0x0A (at byte 3)" },
                { "/a\x1b", "control character 0x1B" },
                { "/caf\xe9", "is not valid UTF-8" },
        };
        char err[512];
        char *big = malloc(PATH_MAX + 1);
        (void)state;

        for (size_t i = 0; i < ELEMENTSOF(good); i++)
                if (validate_abs_path(good[i], err, sizeof(err)) != 0)
                        fail_msg("%s refused: %s", good[i], err);
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                if (validate_abs_path(bad[i].s, err, sizeof(err)) != -EINVAL)
                        fail_msg("path \"%s\" accepted", bad[i].s);
                assert_err(err, bad[i].want);
        }
        assert_non_null(big);
        memset(big, 'a', PATH_MAX);
        big[0] = '/';
        big[PATH_MAX] = '\0';
        assert_int_equal(validate_abs_path(big, err, sizeof(err)), -EINVAL);
        assert_err(err, "a path must be shorter than");
        big[PATH_MAX - 1] = '\0';
        assert_int_equal(validate_abs_path(big, err, sizeof(err)), 0);
        free(big);
}

static void url(void **state)
{
        static const char *const good[] = {
                "http://deb.debian.org/debian", "https://mirror.example.org:8443/debian/",
                "http://192.0.2.1/debian", "http://mirror", "https://a.b/c/d-e_f~g%20h",
                "http://ftp.de.debian.org/debian/",
        };
        static const struct {
                const char *s, *want;
        } bad[] = {
                { "", "is empty; write a URL such as" },
                { "ftp://ftp.debian.org/debian", "must start with http:// or https:// (ftp:// is not supported)" },
                { "file:///srv/mirror", "(file:// is not supported)" },
                { "deb.debian.org/debian", "must start with http:// or https://, e.g." },
                { "HTTP://deb.debian.org/debian", "in lower case" },
                /* apt knows no "httpS" method: a capital after "http" too */
                { "httpS://deb.debian.org/debian", "write \"https://\" in lower case" },
                { "hTTps://deb.debian.org/debian", "write \"https://\" in lower case" },
                { "httP://deb.debian.org/debian", "write \"http://\" in lower case" },
                { "http://", "has no host name" },
                { "http:///debian", "has no host name" },
                { "http://deb.debian.org/deb ian", "may not contain spaces (at character 26)" },
                { "http://deb.debian.org/\"x\"", "may not contain '\"'" },
                { "http://deb.debian.org/debian#x", "may not contain \"#\"" },
                { "http://deb.debian.org/\x01", "control character 0x01" },
                { "http://d\xc3\xa9" "b.org/", "U+00E9" },
                { "http://host:0/debian", "has a bad port after the host: it must be between 1 and 65535" },
                { "http://host:99999/debian", "has a bad port after the host" },
                { "http://host:/debian", "has a bad port after the host" },
                { "http://host:8o/debian", "has a bad port" },
                { "http://user:pw@host/debian", "may not contain a user name or password" },
                { "http://-host.org/debian", "has a bad host name: it has a part that starts or ends with \"-\"" },
                { "http://a_b.org/debian", "has a bad host name" },
                { "http://[::1]/debian", "uses an IPv6 address" },
        };
        char err[512];
        (void)state;

        for (size_t i = 0; i < ELEMENTSOF(good); i++)
                if (validate_url(good[i], err, sizeof(err)) != 0)
                        fail_msg("%s refused: %s", good[i], err);
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                if (validate_url(bad[i].s, err, sizeof(err)) != -EINVAL)
                        fail_msg("URL \"%s\" accepted", bad[i].s);
                assert_err(err, bad[i].want);
        }
}

static void password_hash(void **state)
{
        /* made with crypt_gensalt() + crypt() of libxcrypt */
        static const char *const good[] = {
                "$y$j9T$SLuFQf6iy5EhwObyAhzoI/$gn9NTBT8n7elxZ5Ui/qGkXZvMNlvaW/oM9aSdBBzsL7",
                "$gy$j9T$rJ5MdF6a/n5ZHDBmdAKqb0$7vhhtQBD0gRmotckcc.OICdjeV4P/qgDeD9FXJTn2d.",
                "$7$CU..../....L7nkFj6dV5Sl59O2OndZv/$d6JhiMyfNvL65/bqmaPDV59tI/o3ccesxGl.BGRPne2",
                "$6$N4Vnf79vRFu0tvHg$okIBgQJeaejhM0pnoSlz/w1eFT.A1F3A6fsvDHlDg69Nva1rKf3oqYuHlwuW8cnMklHiLIaGCptWqQvf.6nYZ0",
                "$6$rounds=5000$saltsalt$8RWsOfwR6M6PpnoeQiEiWzNTPo1f0HjVYjDnLZhGx16aBFRkeqiHAzfXP/LgrOWMBMXqiU2pLrXsSOHNUyUm91",
                "$2b$05$rLecKvdUYHPvwWccZVCgr.h77IkhvocdDsLejJ.JqxU5FJIGgz8Om",
                "$2y$05$aQja.Q1JIAYUo0JS5t2V7.z2zJsl1W038jxMEYkSR1eUkKkFnUTFi",
        };
        static const struct {
                const char *s, *want;
        } bad[] = {
                { "", "is empty; make one with \"mkpasswd -m yescrypt\" (package whois)" },
                { "CorrectHorse42", "is not a crypt(3) hash" },
                { "CorrectHorse42", "never write a plain-text password here" },
                { "CorrectHorse42", "mkpasswd" },
                { "$1$saltsalt$qjXMvbEw8oaL.CzflDugX/", "is an MD5 hash, which is too weak" },
                { "$9$abc$defdefdefdefdefdef", "uses a hash method chpasswd does not know" },
                { "$6$salt:salt$0123456789abcdef", "may not contain \":\" (it separates the fields of /etc/shadow)" },
                { "$6$salt salt$0123456789abcdef", "may not contain spaces" },
                { "$6$salt$012345678\x01" "9abcdef", "contains a character that never appears" },
                { "$6$", "is cut short" },
                { "$6$saltsaltsaltsalt$", "is cut short" },
                { "$6$saltsaltsaltsaltsalt", "is cut short" },
                { "!", "is not a crypt(3) hash" },
                { "*", "is not a crypt(3) hash" },
                /* the shape of each method: chpasswd -e takes these and
                 * sets a hash no password matches (a silent lock-out) */
                { "$y$$$$$$$$gn9NTBT8n7elxZ5Ui/qGkXZvMNlvaW/oM9aSdBBzsL7",
                  "is not a yescrypt hash: it has 3 parts after \"$y$\" (settings, salt, hash)" },
                { "$y$j9T$$gn9NTBT8n7elxZ5Ui/qGkXZvMNlvaW/oM9aSdBBzsL7",
                  "is not a yescrypt hash: its salt is empty" },
                { "$y$j9T$SLuFQf6iy5EhwObyAhzoI/$gn9NTBT8n7elxZ5Ui/qGkXZvMNlvaW/oM9aSdBBzsL",
                  "is not a yescrypt hash: the hash part has 42 characters, not 43" },
                { "$y$j9T$SLuFQf6iy5EhwObyAhzoI/$gn9NTBT8n7elxZ5Ui/qGkXZvMNlvaW/oM9aSdBBzsL7x",
                  "the hash part has 44 characters, not 43" },
                { "$y$j9$SLuFQf6iy5EhwObyAhzoI/$gn9NTBT8n7elxZ5Ui/qGkXZvMNlvaW/oM9aSdBBzsL7",
                  "its settings are cut short" },
                { "$y$j9T$SLuF,f6iy5EhwObyAhzoI/$gn9NTBT8n7elxZ5Ui/qGkXZvMNlvaW/oM9aSdBBzsL7",
                  "contains a character that never appears" },
                { "$6$N4Vnf79vRFu0tvHg$okIBgQJeaejhM0pnoSlz/w1eFT.A1F3A6fsvDHlDg69Nva1rKf3oqYuHlwuW8cnMklHiLIaGCptWqQvf.6nYZ",
                  "is not a sha512crypt hash: the hash part has 85 characters, not 86" },
                { "$6$N4Vnf79vRFu0tvHgX$okIBgQJeaejhM0pnoSlz/w1eFT.A1F3A6fsvDHlDg69Nva1rKf3oqYuHlwuW8cnMklHiLIaGCptWqQvf.6nYZ0",
                  "its salt has 17 characters; at most 16" },
                { "$6$rounds=50$saltsalt$8RWsOfwR6M6PpnoeQiEiWzNTPo1f0HjVYjDnLZhGx16aBFRkeqiHAzfXP/LgrOWMBMXqiU2pLrXsSOHNUyUm91",
                  "rounds=" },
                { "$6$$$okIBgQJeaejhM0pnoSlz/w1eFT.A1F3A6fsvDHlDg69Nva1rKf3oqYuHlwuW8cnMklHiLIaGCptWqQvf.6nYZ0",
                  "is not a sha512crypt hash" },
                { "$2b$99$rLecKvdUYHPvwWccZVCgr.h77IkhvocdDsLejJ.JqxU5FJIGgz8Om",
                  "its cost 99 is outside 04-31" },
                { "$2b$05$rLecKvdUYHPvwWccZVCgr.h77IkhvocdDsLejJ.JqxU5FJIGgz8O",
                  "is not a bcrypt hash: after the cost it has 52 characters, not 53" },
                { "$2b$5$rLecKvdUYHPvwWccZVCgr.h77IkhvocdDsLejJ.JqxU5FJIGgz8Om",
                  "is not a bcrypt hash" },
                { "$7$CU..$d6JhiMyfNvL65/bqmaPDV59tI/o3ccesxGl.BGRPne2",
                  "is not a scrypt hash" },
                { "$gy$j9T$$$7vhhtQBD0gRmotckcc.OICdjeV4P/qgDeD9FXJTn2d.",
                  "is not a gost-yescrypt hash" },
                /* libxcrypt calls sha256crypt legacy (crypt_checksalt) */
                { "$5$P.AtacNz.5zV2EfU$Uj9S4QQVmV47awfHOYbxfrx/Y0iOYKr/kV821wDKpT0",
                  "is a sha256crypt hash, a method libxcrypt marks as legacy" },
        };
        char err[512];
        (void)state;

        for (size_t i = 0; i < ELEMENTSOF(good); i++)
                if (validate_password_hash(good[i], err, sizeof(err)) != 0)
                        fail_msg("hash %zu refused: %s", i, err);
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                if (validate_password_hash(bad[i].s, err, sizeof(err)) != -EINVAL)
                        fail_msg("hash \"%s\" accepted", bad[i].s);
                assert_err(err, bad[i].want);
                /* The value itself is never repeated. */
                if (strlen(bad[i].s) > 4)
                        assert_null(strstr(err, bad[i].s));
                assert_null(strstr(err, "Horse"));
                assert_null(strstr(err, "saltsalt"));
                assert_null(strstr(err, "gn9NTBT8"));
                assert_null(strstr(err, "SLuF"));
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(username_good),
                cmocka_unit_test(username_bad),
                cmocka_unit_test(username_accounts),
                cmocka_unit_test(username_account_files),
                cmocka_unit_test(full_name),
                cmocka_unit_test(port),
                cmocka_unit_test(hostname),
                cmocka_unit_test(abs_path),
                cmocka_unit_test(url),
                cmocka_unit_test(password_hash),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
