/* test_apt.c — apt's status channel, the argv, dpkg's package list (the
 * rule for "installed" on every state, the real dpkg-query on a fixture
 * status file), dpkg's "interrupted" sign, the install simulation (against stub apt-get / dpkg-query on PATH) and the
 * lock holder (a real fcntl lock held by a child). */
#include "testlib.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "apt.h"
#include "util.h"

static char *T;
static char stubs[PATH_MAX];

static void status_lines(void **state)
{
        struct apt_status st;
        const char *l;
        (void)state;

        l = "pmstatus:xfce4-panel:42.8571:Unpacking xfce4-panel (amd64)";
        assert_int_equal(apt_status_parse(l, strlen(l), &st), 0);
        assert_int_equal(st.kind, APT_ST_INSTALL);
        assert_string_equal(st.pkg, "xfce4-panel");
        assert_true(st.percent > 42.85 && st.percent < 42.86);
        assert_string_equal(st.message, "Unpacking xfce4-panel (amd64)");

        /* architecture-qualified package, message with colons */
        l = "pmstatus:libc6:amd64:12.5:Configuring libc6:amd64: almost";
        assert_int_equal(apt_status_parse(l, strlen(l), &st), 0);
        assert_string_equal(st.pkg, "libc6:amd64");
        assert_true(st.percent == 12.5);
        assert_string_equal(st.message, "Configuring libc6:amd64: almost");

        l = "dlstatus:3:27.0154:Retrieving file 3 of 41";
        assert_int_equal(apt_status_parse(l, strlen(l), &st), 0);
        assert_int_equal(st.kind, APT_ST_DOWNLOAD);
        assert_true(st.percent > 27.0 && st.percent < 27.1);
        assert_string_equal(st.message, "Retrieving file 3 of 41");

        l = "pmerror:/var/cache/apt/archives/x_1_amd64.deb:50:trying to overwrite '/usr/bin/x'";
        assert_int_equal(apt_status_parse(l, strlen(l), &st), 0);
        assert_int_equal(st.kind, APT_ST_ERROR);
        assert_string_equal(st.pkg, "/var/cache/apt/archives/x_1_amd64.deb");
        assert_string_equal(st.message, "trying to overwrite '/usr/bin/x'");

        l = "pmconffile:/etc/x.conf:80:'/etc/x.conf' '/etc/x.conf.dpkg-new' 1 1";
        assert_int_equal(apt_status_parse(l, strlen(l), &st), 0);
        assert_int_equal(st.kind, APT_ST_CONFFILE);

        /* percent is clamped; len is honoured (the rest is not read) */
        l = "pmstatus:a:250:x and more";
        assert_int_equal(apt_status_parse(l, 16, &st), 0);
        assert_true(st.percent == 100);
        assert_string_equal(st.message, "x");

        /* not apt's shapes */
        assert_int_equal(apt_status_parse("hello", 5, &st), -EINVAL);
        assert_int_equal(apt_status_parse("pmstatus:pkg:notanumber:x", 25, &st), -EINVAL);
        assert_int_equal(apt_status_parse("other:pkg:1:x", 13, &st), -EINVAL);
        assert_int_equal(apt_status_parse("", 0, &st), -EINVAL);
}

static void argv_shape(void **state)
{
        const char *const words[] = { "install", "--no-install-recommends", "xrdp", NULL };
        char **v;
        char *j;
        (void)state;

        v = apt_argv(3, words);
        j = strv_join(v, " ");
        assert_string_equal(j, "apt-get -y -q -o Dpkg::Options::=--force-confdef "
                               "-o Dpkg::Options::=--force-confold -o Dpkg::Use-Pty=0 "
                               "-o DPkg::Lock::Timeout=900 -o APT::Status-Fd=3 "
                               "install --no-install-recommends xrdp");
        free(j);
        strv_free(v);

        v = apt_argv(-1, NULL);
        assert_false(strv_contains(v, "APT::Status-Fd=-1"));
        assert_string_equal(v[strv_length(v) - 1], "DPkg::Lock::Timeout=900");
        strv_free(v);
}

/* Only a transaction that unpacks gets dpkg's unsafe I/O, and ahead of
 * the words (after them apt would take it for a package). */
static void argv_unsafe_io(void **state)
{
        const char *const words[] = { "install", "xrdp", NULL };
        const char *const update[] = { "update", NULL };
        char **v;
        char *j;
        (void)state;

        v = apt_argv_unpack(3, words);
        j = strv_join(v, " ");
        assert_string_equal(j, "apt-get -y -q -o Dpkg::Options::=--force-confdef "
                               "-o Dpkg::Options::=--force-confold -o Dpkg::Use-Pty=0 "
                               "-o DPkg::Lock::Timeout=900 -o DPkg::Options::=--force-unsafe-io "
                               "-o APT::Status-Fd=3 install xrdp");
        free(j);
        strv_free(v);

        v = apt_argv(3, words);
        assert_false(strv_contains(v, APT_UNSAFE_IO));
        strv_free(v);
        v = apt_argv(-1, update);
        assert_false(strv_contains(v, APT_UNSAFE_IO));
        strv_free(v);
}

/* dpkg --verify --verify-format rpm, as dpkg(1) documents it. */
static void verify_output(void **state)
{
        static const char out[] =
                "??5??????   /usr/bin/bar\n"
                "??5?????? c /etc/foo\n"
                "missing   c /etc/gone.conf (No such file or directory)\n"
                "missing     /usr/share/doc/x/copyright\n"
                "?M5??????   /usr/lib/with space (1).so\n"
                "?M???????   /usr/lib/mode-only\n"
                "dpkg: warning: something else\n"
                "??5??????   relative/not/a/path\n"
                "??5??????   /usr/bin/last";
        char **changed = NULL, **conf = NULL, **missing = NULL, *j;
        (void)state;

        apt_verify_parse(out, &changed, &conf, &missing);
        j = strv_join(changed, "|");
        assert_string_equal(j, "/usr/bin/bar|/usr/lib/with space (1).so|/usr/bin/last");
        free(j);
        j = strv_join(conf, "|");
        assert_string_equal(j, "/etc/foo");
        free(j);
        j = strv_join(missing, "|");
        assert_string_equal(j, "/etc/gone.conf|/usr/share/doc/x/copyright");
        free(j);
        strv_free(changed);
        strv_free(conf);
        strv_free(missing);

        /* clean: nothing at all */
        changed = conf = missing = (char **)1;
        apt_verify_parse("", &changed, &conf, &missing);
        assert_null(changed);
        assert_null(conf);
        assert_null(missing);
        apt_verify_parse(NULL, &changed, NULL, NULL);
        assert_null(changed);
}

/* dpkg-query -S: exact patterns in, owners out. */
static void search_owners(void **state)
{
        char *p, **o, *j;
        (void)state;

        p = apt_search_pattern("/usr/bin/[");
        assert_string_equal(p, "/usr/bin/\\[");
        free(p);
        p = apt_search_pattern("/a*b?c\\d");
        assert_string_equal(p, "/a\\*b\\?c\\\\d");
        free(p);

        o = apt_search_owners_parse("diversion by dash from: /bin/sh\n"
                                    "diversion by dash to: /bin/sh.distrib\n"
                                    "libc6:amd64, libc6:i386: /usr/lib/x: y\n"
                                    "coreutils: /usr/bin/[\n"
                                    "coreutils: /usr/bin/ls\n"
                                    "dpkg-query: no path found matching pattern /nope\n");
        j = strv_join(o, " ");
        assert_string_equal(j, "coreutils libc6:amd64 libc6:i386");
        free(j);
        strv_free(o);
        assert_null(apt_search_owners_parse(""));
}

static void installed_list(void **state)
{
        char **l = NULL;
        (void)state;

        test_stub(stubs, "dpkg", "echo amd64");
        test_stub(stubs, "dpkg-query",
                  "printf 'ii \\tzsh\\tamd64\\n'\n"
                  "printf 'rc \\told-removed\\tamd64\\n'\n"
                  "printf 'ii \\tlibc6\\ti386\\n'\n"
                  "printf 'iU \\thalf-configured\\tamd64\\n'\n"
                  "printf 'ii \\tbase-files\\tall\\n'\n");
        assert_int_equal(apt_installed(&l), 0);
        assert_int_equal(strv_length(l), 3);
        assert_string_equal(l[0], "base-files");
        assert_string_equal(l[1], "libc6:i386");
        assert_string_equal(l[2], "zsh");
        assert_true(apt_is_installed(l, "zsh"));
        assert_false(apt_is_installed(l, "old-removed"));
        assert_false(apt_is_installed(l, "half-configured"));
        strv_free(l);

        test_stub(stubs, "dpkg-query", "echo broken >&2; exit 2");
        assert_int_equal(apt_installed(&l), -EIO);
}

/* Every letter dpkg prints, read by the one rule of apt.h. */
static void pkg_state_rule(void **state)
{
        static const struct {
                const char *abbrev;
                enum apt_pkg_state want;
        } cases[] = {
                { "ii ", APT_PKG_INSTALLED },   /* wanted, installed */
                { "hi ", APT_PKG_INSTALLED },   /* held */
                { "ri ", APT_PKG_INSTALLED },   /* selected for removal, still there */
                { "pi ", APT_PKG_INSTALLED },   /* selected for purge, still there */
                { "ui ", APT_PKG_INSTALLED },
                { "ii", APT_PKG_INSTALLED },    /* the flag column may be cut */
                { "iiR", APT_PKG_HALF },        /* reinst-required: not whole */
                { "iU ", APT_PKG_HALF },        /* unpacked */
                { "iF ", APT_PKG_HALF },        /* half-configured */
                { "iH ", APT_PKG_HALF },        /* half-installed */
                { "iHR", APT_PKG_HALF },
                { "iW ", APT_PKG_HALF },        /* triggers awaited */
                { "it ", APT_PKG_HALF },        /* triggers pending */
                { "rc ", APT_PKG_CONFIG_FILES },
                { "pc ", APT_PKG_CONFIG_FILES },
                { "un ", APT_PKG_ABSENT },
                { "pn ", APT_PKG_ABSENT },
                { "i", APT_PKG_ABSENT },        /* too short to say */
                { "", APT_PKG_ABSENT },
                { "i? ", APT_PKG_ABSENT },      /* a letter dpkg does not print */
        };
        (void)state;

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                enum apt_pkg_state got = apt_pkg_state_parse(cases[i].abbrev, strlen(cases[i].abbrev));
                if (got != cases[i].want)
                        fail_msg("\"%s\": state %d, expected %d", cases[i].abbrev, got, cases[i].want);
        }
        assert_int_equal(apt_pkg_state_parse(NULL, 3), APT_PKG_ABSENT);
        /* len is honoured: the "R" after it is not read */
        assert_int_equal(apt_pkg_state_parse("iiR", 2), APT_PKG_INSTALLED);
}

/* The real dpkg-query reading tests/fixtures/dpkg/status, which holds a
 * package in every state dpkg has (and a foreign architecture, an
 * Essential package, a purged record). */
static void status_fixture(void **state)
{
        const char *fix = getenv("VPSP_TEST_FIXTURES");
        struct apt_pkg_list l = { 0 };
        char **inst = NULL, body[PATH_MAX + 64];
        _cleanup_free_ char *joined = NULL;
        (void)state;

        if (!fix || !path_exists("/usr/bin/dpkg-query"))
                skip();
        snprintf(body, sizeof(body), "exec /usr/bin/dpkg-query --admindir='%s/dpkg' \"$@\"", fix);
        test_stub(stubs, "dpkg-query", body);
        test_stub(stubs, "dpkg", "echo amd64");

        assert_int_equal(apt_pkg_list_query(NULL, &l), 0);
        assert_int_equal(l.n, 13);   /* gone-pkg (not-installed) is not listed */
        assert_int_equal(apt_pkg_list_state(&l, "curl"), APT_PKG_INSTALLED);
        assert_int_equal(apt_pkg_list_state(&l, "held-pkg"), APT_PKG_INSTALLED);
        assert_int_equal(apt_pkg_list_state(&l, "leaving-pkg"), APT_PKG_INSTALLED);   /* "all" */
        assert_int_equal(apt_pkg_list_state(&l, "purging-pkg"), APT_PKG_INSTALLED);
        assert_int_equal(apt_pkg_list_state(&l, "removed-pkg"), APT_PKG_CONFIG_FILES);
        assert_int_equal(apt_pkg_list_state(&l, "unpacked-pkg"), APT_PKG_HALF);
        assert_int_equal(apt_pkg_list_state(&l, "halfconf-pkg"), APT_PKG_HALF);
        assert_int_equal(apt_pkg_list_state(&l, "halfinst-pkg"), APT_PKG_HALF);
        assert_int_equal(apt_pkg_list_state(&l, "awaiting-pkg"), APT_PKG_HALF);
        assert_int_equal(apt_pkg_list_state(&l, "triggered-pkg"), APT_PKG_HALF);
        assert_int_equal(apt_pkg_list_state(&l, "broken-pkg"), APT_PKG_HALF);
        assert_int_equal(apt_pkg_list_state(&l, "gone-pkg"), APT_PKG_ABSENT);
        /* a foreign architecture is named with it */
        assert_int_equal(apt_pkg_list_state(&l, "libfoo1"), APT_PKG_ABSENT);
        assert_int_equal(apt_pkg_list_state(&l, "libfoo1:i386"), APT_PKG_INSTALLED);
        assert_int_equal(apt_pkg_list_state(&l, "curl:amd64"), APT_PKG_INSTALLED);   /* native */
        assert_int_equal(apt_pkg_list_state(&l, "curl:i386"), APT_PKG_ABSENT);
        assert_int_equal(apt_pkg_list_state(&l, "leaving-pkg:all"), APT_PKG_INSTALLED);
        assert_int_equal(apt_pkg_list_state(&l, "cur"), APT_PKG_ABSENT);             /* a prefix */
        for (size_t i = 0; i < l.n; i++)
                assert_int_equal(l.v[i].guarded, strcmp(l.v[i].name, "e2fsprogs") == 0);
        apt_pkg_list_release(&l);

        /* asked by name: the unknown ones have no entry (dpkg-query exits 1) */
        assert_int_equal(apt_pkg_list_query((const char *const[]){ "curl", "nothere", "gone-pkg",
                                                                    "unpacked-pkg", NULL },
                                            &l),
                         0);
        assert_int_equal(apt_pkg_list_state(&l, "curl"), APT_PKG_INSTALLED);
        assert_int_equal(apt_pkg_list_state(&l, "unpacked-pkg"), APT_PKG_HALF);
        assert_int_equal(apt_pkg_list_state(&l, "nothere"), APT_PKG_ABSENT);
        assert_int_equal(apt_pkg_list_state(&l, "gone-pkg"), APT_PKG_ABSENT);
        apt_pkg_list_release(&l);

        /* the installed list: the rule, sorted */
        assert_int_equal(apt_installed(&inst), 0);
        joined = strv_join(inst, " ");
        assert_string_equal(joined, "curl e2fsprogs held-pkg leaving-pkg libfoo1:i386 purging-pkg");
        strv_free(inst);

        /* dpkg-query failing otherwise: an error, ret untouched */
        test_stub(stubs, "dpkg-query", "echo 'dpkg-query: error: parsing file' >&2; exit 2");
        l.n = 77;
        assert_int_equal(apt_pkg_list_query(NULL, &l), -EIO);
        assert_int_equal(l.n, 77);
}

static void install_words(void **state)
{
        const char *const words[] = { "xfce4", "libc6:i386", "xrdp=0.10.1-3", "xrdp/trixie-backports",
                                      "lightdm-", "--no-install-recommends",
                                      "/var/tmp/code_1.2_amd64.deb", "./code_1.2_amd64.deb",
                                      "work/code_1.2_amd64.deb", "", NULL };
        const char *const none[] = { "lightdm-", "-y", NULL };
        _cleanup_strv_ char **names = apt_word_names(words);
        _cleanup_free_ char *joined = strv_join(names, " ");
        (void)state;

        assert_string_equal(joined, "xfce4 libc6:i386 xrdp xrdp");
        assert_null(apt_word_names(none));
        assert_null(apt_word_names(NULL));
}

/* apt's count of dpkg's pending journal entries, in a fake dpkg directory. */
static void dpkg_pending(void **state)
{
        char *dir = test_tmpdir();
        _cleanup_free_ char *updates = test_path(dir, "updates");
        _cleanup_free_ char *tmp = test_path(dir, "updates/tmp.i");
        _cleanup_free_ char *e1 = test_path(dir, "updates/0001");
        _cleanup_free_ char *e2 = test_path(dir, "updates/0002");
        _cleanup_free_ char *odd = test_path(dir, "updates/12a");
        (void)state;

        assert_int_equal(apt_dpkg_pending(dir), 0);        /* no updates/ at all */
        assert_int_equal(mkdir_p(updates, 0755), 0);
        assert_int_equal(apt_dpkg_pending(dir), 0);        /* empty: a clean dpkg */
        test_write(tmp, "");
        test_write(odd, "");
        assert_int_equal(apt_dpkg_pending(dir), 0);        /* dpkg's scratch file, not an entry */
        test_write(e1, "Package: xfce4\nStatus: install ok unpacked\n");
        assert_int_equal(apt_dpkg_pending(dir), 1);
        test_write(e2, "");
        assert_int_equal(apt_dpkg_pending(dir), 2);
}

static void simulate(void **state)
{
        char **fresh = NULL, **up = NULL, err[256];
        char *calls;
        const char *const pkgs[] = { "--no-install-recommends", "xrdp", "ufw", NULL };
        (void)state;

        test_stub(stubs, "apt-get",
                  "echo 'Reading package lists...'\n"
                  "echo 'Inst xrdp (0.10.1-3 Debian:13.0/stable [amd64])'\n"
                  "echo 'Inst libssl3t64 [3.5.0-1] (3.5.1-1 Debian:13.1/stable [amd64])'\n"
                  "echo 'Inst ufw (0.36.2-9 Debian:13.0/stable [all])'\n"
                  "echo 'Conf xrdp (0.10.1-3 Debian:13.0/stable [amd64])'\n");
        assert_int_equal(apt_simulate_install(pkgs, &fresh, &up, err, sizeof(err)), 0);
        assert_int_equal(strv_length(fresh), 2);
        assert_string_equal(fresh[0], "ufw");
        assert_string_equal(fresh[1], "xrdp");
        assert_int_equal(strv_length(up), 1);
        assert_string_equal(up[0], "libssl3t64");
        strv_free(fresh);
        strv_free(up);
        calls = test_stub_calls(stubs);
        assert_non_null(strstr(calls, "apt-get -s -q -o Debug::NoLocking=1 install "
                                      "--no-install-recommends xrdp ufw"));
        free(calls);

        /* nothing to do: empty lists, not NULL */
        test_stub(stubs, "apt-get", "echo 'xrdp is already the newest version'");
        assert_int_equal(apt_simulate_install(pkgs, &fresh, NULL, err, sizeof(err)), 0);
        assert_non_null(fresh);
        assert_int_equal(strv_length(fresh), 0);
        strv_free(fresh);

        test_stub(stubs, "apt-get", "echo 'E: Unable to locate package xrdpp' >&2; exit 100");
        assert_int_equal(apt_simulate_install(pkgs, &fresh, NULL, err, sizeof(err)), -ENOENT);
        assert_string_equal(err, "xrdpp");

        test_stub(stubs, "apt-get",
                  "echo \"E: Package 'ghost' has no installation candidate\" >&2; exit 100");
        assert_int_equal(apt_simulate_install(pkgs, &fresh, NULL, err, sizeof(err)), -ENOENT);
        assert_string_equal(err, "ghost");

        test_stub(stubs, "apt-get",
                  "echo 'E: Unmet dependencies. Try apt --fix-broken install' >&2; exit 100");
        assert_int_equal(apt_simulate_install(pkgs, &fresh, NULL, err, sizeof(err)), -EIO);
        assert_string_equal(err, "Unmet dependencies. Try apt --fix-broken install");

        test_stub(stubs, "apt-get", "exit 100");
        assert_int_equal(apt_simulate_install(pkgs, &fresh, NULL, err, sizeof(err)), -EIO);
        assert_non_null(strstr(err, "100"));
}

static void lock_holder(void **state)
{
        char *lock = test_path(T, "lock-frontend");
        int pipefd[2];
        char comm[64], c;
        pid_t pid, holder = 0;
        (void)state;

        /* missing file and an unlocked file: free */
        assert_int_equal(apt_lock_holder(lock, &holder, comm, sizeof(comm)), 0);
        test_write(lock, "");
        assert_int_equal(apt_lock_holder(lock, &holder, comm, sizeof(comm)), 0);

        assert_int_equal(pipe2(pipefd, O_CLOEXEC), 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
                int fd = open(lock, O_RDWR);
                prctl(PR_SET_NAME, "fake-upgrades");
                prctl(PR_SET_PDEATHSIG, SIGKILL);
                if (fd < 0 || fcntl(fd, F_SETLK, &fl) < 0)
                        _exit(1);
                (void)!write(pipefd[1], "x", 1);
                pause();
                _exit(0);
        }
        close(pipefd[1]);
        assert_int_equal(read(pipefd[0], &c, 1), 1);
        close(pipefd[0]);

        assert_int_equal(apt_lock_holder(lock, &holder, comm, sizeof(comm)), 1);
        assert_int_equal(holder, pid);
        assert_string_equal(comm, "fake-upgrades");

        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        assert_int_equal(apt_lock_holder(lock, &holder, comm, sizeof(comm)), 0);
        free(lock);
}

/* The start of a stub apt-config whose body is a "case $k in ... esac"
 * for each NAME ($v) and KEY ($k) pair of "apt-config shell ...". */
#define APT_SHELL "shift; while [ $# -ge 2 ]; do v=$1 k=$2; shift 2; "

static void proxy(void **state)
{
        char buf[256];
        (void)state;

        /* apt-config shell NAME KEY...: NAME='value' for each key that is set */
        test_stub(stubs, "apt-config",
                  APT_SHELL "case $k in Acquire::http::Proxy) echo \"$v='http://10.213.0.1:3142'\" ;; esac; done");
        assert_int_equal(apt_proxy("http", NULL, buf, sizeof(buf)), 0);
        assert_string_equal(buf, "http://10.213.0.1:3142");
        /* https falls back to the http proxy, as apt does */
        assert_int_equal(apt_proxy("https", NULL, buf, sizeof(buf)), 0);
        assert_string_equal(buf, "http://10.213.0.1:3142");

        test_stub(stubs, "apt-config",
                  APT_SHELL "case $k in Acquire::https::Proxy) echo \"$v='DIRECT'\" ;;"
                  " Acquire::http::Proxy) echo \"$v='http://p:1'\" ;; esac; done");
        assert_int_equal(apt_proxy("https", NULL, buf, sizeof(buf)), 0);
        assert_string_equal(buf, "");

        /* a per-host DIRECT wins over the general proxy */
        test_stub(stubs, "apt-config",
                  APT_SHELL "case $k in Acquire::http::Proxy::10.213.0.1) echo \"$v='DIRECT'\" ;;"
                  " Acquire::http::Proxy::mirror.example) echo \"$v='http://near:3142'\" ;;"
                  " Acquire::http::Proxy) echo \"$v='http://p:1'\" ;; esac; done");
        assert_int_equal(apt_proxy("http", "10.213.0.1", buf, sizeof(buf)), 0);
        assert_string_equal(buf, "");
        assert_int_equal(apt_proxy("http", "mirror.example", buf, sizeof(buf)), 0);
        assert_string_equal(buf, "http://near:3142");
        assert_int_equal(apt_proxy("http", "deb.debian.org", buf, sizeof(buf)), 0);
        assert_string_equal(buf, "http://p:1");

        test_stub(stubs, "apt-config", "exit 0");
        assert_int_equal(apt_proxy("http", NULL, buf, sizeof(buf)), 0);
        assert_string_equal(buf, "");

        test_stub(stubs, "apt-config", "exit 100");
        assert_int_equal(apt_proxy("http", NULL, buf, sizeof(buf)), -EIO);

        /* one apt-config for every key asked: host, scheme, http */
        test_stub(stubs, "apt-config",
                  "echo \"$*\" >>\"$(dirname \"$0\")/apt-config.args\"; " APT_SHELL
                  "case $k in Acquire::http::Proxy) echo \"$v='http://p:1'\" ;; esac; done");
        {
                char *args_path = test_path(stubs, "apt-config.args"), *args;

                unlink(args_path);
                assert_int_equal(apt_proxy("https", "deb.debian.org", buf, sizeof(buf)), 0);
                assert_string_equal(buf, "http://p:1");
                args = test_read(args_path);
                assert_string_equal(args, "shell V0 Acquire::https::Proxy::deb.debian.org "
                                          "V1 Acquire::https::Proxy V2 Acquire::http::Proxy\n");
                free(args);
                unlink(args_path);
                free(args_path);
        }
}

static int setup(void **state)
{
        (void)state;
        T = test_tmpdir();
        snprintf(stubs, sizeof(stubs), "%s/bin", T);
        assert_int_equal(mkdir_p(stubs, 0755), 0);
        test_path_prepend(stubs);
        return 0;
}

static int teardown(void **state)
{
        (void)state;
        test_cleanup_all();
        return 0;
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(status_lines),
                cmocka_unit_test(argv_shape),
                cmocka_unit_test(installed_list),
                cmocka_unit_test(pkg_state_rule),
                cmocka_unit_test(status_fixture),
                cmocka_unit_test(install_words),
                cmocka_unit_test(dpkg_pending),
                cmocka_unit_test(simulate),
                cmocka_unit_test(argv_unsafe_io),
                cmocka_unit_test(verify_output),
                cmocka_unit_test(search_owners),
                cmocka_unit_test(lock_holder),
                cmocka_unit_test(proxy),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
