/* test_phase_system_prep.c — the system-prep phase's files, checked by the
 * programs that read them: apt-config parses the apt drop-in and shows our
 * values, apt-get --print-uris reads the generated deb822 sources (with the
 * drop-in's Acquire::Languages, no Translation files are fetched); and the
 * old sources.list is commented out line by line. Nothing is downloaded and
 * nothing outside a scratch directory is touched. */
#include "testlib.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "run.h"
#include "system_prep.h"
#include "util.h"

static void test_base_packages(void **state)
{
        (void)state;
        static const char *const spec[] = { "build-essential", "curl", "wget", "git",
                                            "ca-certificates", "gnupg" };
        size_t n = 0;

        while (system_prep_base_packages[n])
                n++;
        assert_int_equal(n, ELEMENTSOF(spec));
        for (size_t i = 0; i < ELEMENTSOF(spec); i++)
                assert_true(strv_contains((char *const *)system_prep_base_packages, spec[i]));
}

/* Output lines of apt run with only the configuration given: APT_CONFIG
 * names a file that points apt.conf and apt.conf.d at empty places, so this
 * machine's own apt settings cannot make a check pass. */
static void collect(void *userdata, enum run_stream stream, const char *line, size_t len,
                    bool truncated)
{
        (void)truncated;
        if (stream == RUN_STDOUT) {
                buf_append(userdata, line, len);
                buf_append(userdata, "\n", 1);
        }
}

static int apt_isolated(const char *dir, const char *const *argv, char **ret_out)
{
        _cleanup_free_ char *iso = test_path(dir, "isolated.conf");
        _cleanup_free_ char *empty = test_path(dir, "empty-parts");
        _cleanup_free_ char *isotext = xasprintf("Dir::Etc::Parts \"%s\";\nDir::Etc::Main \"/dev/null\";\n",
                                                 empty);
        _cleanup_free_ char *env_conf = xasprintf("APT_CONFIG=%s", iso);
        const char *envp[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C", env_conf, NULL };
        struct run_opts o;
        struct buf b;
        int r;

        if (!path_exists(empty))
                assert_int_equal(mkdir(empty, 0755), 0);
        test_write(iso, isotext);
        buf_init(&b, 4u << 20);
        run_opts_init(&o);
        o.argv = argv;
        o.envp = envp;
        o.on_line = collect;
        o.userdata = &b;
        o.timeout_ms = 60000;
        r = run_command(&o, NULL);
        *ret_out = buf_steal(&b);
        return r;
}

/* apt-config -c FILE dump: what apt makes of a drop-in. */
static char *apt_config_dump(const char *dir, const char *conf)
{
        _cleanup_free_ char *path = test_path(dir, "90vps-provision");
        const char *argv[] = { "apt-config", "-c", path, "dump", NULL };
        char *out = NULL;

        test_write(path, conf);
        assert_int_equal(apt_isolated(dir, argv, &out), 0);
        return out;
}

static void test_apt_conf_is_read_by_apt(void **state)
{
        (void)state;
        char *dir = test_tmpdir();
        _cleanup_free_ char *out = apt_config_dump(dir, system_prep_apt_conf);
        _cleanup_free_ char *plain = apt_config_dump(dir, "");
        _cleanup_free_ char *bad = NULL;
        _cleanup_free_ char *broken = test_path(dir, "broken");
        const char *bad_argv[] = { "apt-config", "-c", broken, "dump", NULL };

        assert_non_null(strstr(out, "DPkg::Options:: \"--force-confdef\";"));
        assert_non_null(strstr(out, "DPkg::Options:: \"--force-confold\";"));
        assert_non_null(strstr(out, "DPkg::Lock::Timeout \"120\";"));
        assert_non_null(strstr(out, "Acquire::Retries \"5\";"));
        assert_non_null(strstr(out, "Acquire::http::Timeout \"30\";"));
        assert_non_null(strstr(out, "Acquire::https::Timeout \"30\";"));
        /* languages: apt's default list has "en"; ours has only "none" */
        assert_non_null(strstr(plain, "Acquire::Languages:: \"en\";"));
        assert_null(strstr(out, "Acquire::Languages:: \"en\";"));
        assert_non_null(strstr(out, "Acquire::Languages:: \"none\";"));
        assert_null(strstr(plain, "Acquire::Retries \"5\";"));

        /* and apt-config does reject a broken file (the checks above can fail) */
        test_write(broken, "Acquire::Retries \"5\"\nDpkg {\n");
        assert_int_not_equal(apt_isolated(dir, bad_argv, &bad), 0);

        /* the needrestart drop-in sets what needrestart.conf documents */
        assert_non_null(strstr(system_prep_needrestart_conf, "$nrconf{restart} = 'a';\n"));
        assert_non_null(strstr(system_prep_needrestart_conf, "$nrconf{kernelhints} = 0;\n"));
}

static void test_sources_text(void **state)
{
        (void)state;
        _cleanup_free_ char *s = system_prep_sources("https://mirror.example.org/debian", "trixie",
                                                     "/usr/share/keyrings/debian-archive-keyring.pgp");

        assert_non_null(strstr(s, "Types: deb\nURIs: https://mirror.example.org/debian\n"
                                  "Suites: trixie trixie-updates\n"
                                  "Components: main non-free-firmware\n"
                                  "Signed-By: /usr/share/keyrings/debian-archive-keyring.pgp\n\n"));
        assert_non_null(strstr(s, "URIs: http://deb.debian.org/debian-security\n"
                                  "Suites: trixie-security\n"));
}

/* apt-get --print-uris update with only our sources and our drop-in:
 * the index files apt would fetch. */
static void test_sources_are_read_by_apt(void **state)
{
        (void)state;
        char *dir = test_tmpdir();
        _cleanup_free_ char *parts = test_path(dir, "sources.list.d");
        _cleanup_free_ char *lists = test_path(dir, "lists");
        _cleanup_free_ char *partial = test_path(dir, "lists/partial");
        _cleanup_free_ char *file = test_path(dir, "sources.list.d/debian.sources");
        _cleanup_free_ char *conf = test_path(dir, "apt.conf");
        _cleanup_free_ char *src = system_prep_sources("http://mirror.example.org/debian",
                                                       "bookworm", "/usr/share/keyrings/x.gpg");
        _cleanup_free_ char *o1 = xasprintf("Dir::Etc::SourceParts=%s", parts);
        _cleanup_free_ char *o2 = xasprintf("Dir::State::Lists=%s", lists);
        _cleanup_free_ char *out = NULL, *out2 = NULL;
        _cleanup_free_ char *plain = NULL;
        const char *argv[] = { "apt-get", "-c", conf, "-o", o1, "-o", "Dir::Etc::SourceList=/dev/null",
                               "-o", o2, "-o", "Debug::NoLocking=1", "--print-uris", "update",
                               NULL };

        assert_int_equal(mkdir(parts, 0755), 0);
        assert_int_equal(mkdir(lists, 0755), 0);
        assert_int_equal(mkdir(partial, 0755), 0);
        test_write(file, src);
        /* without the drop-in apt would fetch translations (the control) */
        test_write(conf, "");
        assert_int_equal(apt_isolated(dir, argv, &plain), 0);
        assert_non_null(strstr(plain, "Translation-"));
        test_write(conf, system_prep_apt_conf);
        assert_int_equal(apt_isolated(dir, argv, &out), 0);
        assert_non_null(strstr(out, "'http://mirror.example.org/debian/dists/bookworm/InRelease'"));
        assert_non_null(strstr(out, "'http://mirror.example.org/debian/dists/bookworm-updates/InRelease'"));
        assert_non_null(strstr(out, "'http://deb.debian.org/debian-security/dists/bookworm-security/InRelease'"));
        assert_non_null(strstr(out, "/dists/bookworm/non-free-firmware/"));
        assert_null(strstr(out, "Translation-"));   /* Acquire::Languages "none" */

        /* a damaged stanza is refused, so the test above can fail */
        test_write(file, "Types: deb\nURIs http://x\n");
        assert_int_not_equal(apt_isolated(dir, argv, &out2), 0);
}

static void test_disable_list(void **state)
{
        (void)state;
        _cleanup_free_ char *out = NULL;
        char *untouched = (char *)"untouched";

        assert_int_equal(system_prep_disable_list(
                                 "# comment\n"
                                 "deb http://ftp.example.net/debian bookworm main\n"
                                 "  deb-src http://ftp.example.net/debian bookworm main\n"
                                 "deb [arch=amd64] http://ftp.example.net/debian bookworm-updates main\n"
                                 "debx not-an-entry\n"
                                 "\n"
                                 "deb\thttp://security.debian.org/debian-security bookworm-security main",
                                 "/etc/apt/sources.list.d/debian.sources", &out),
                         0);
        assert_string_equal(out,
                            "# vps-provision ([system] apt_mirror) moved the Debian sources to /etc/apt/sources.list.d/debian.sources;\n"
                            "# the lines below are the server's own, restored by vps-provision --rollback.\n"
                            "# comment\n"
                            "# deb http://ftp.example.net/debian bookworm main\n"
                            "#   deb-src http://ftp.example.net/debian bookworm main\n"
                            "# deb [arch=amd64] http://ftp.example.net/debian bookworm-updates main\n"
                            "debx not-an-entry\n"
                            "\n"
                            "# deb\thttp://security.debian.org/debian-security bookworm-security main\n");
        /* already disabled, or empty: nothing to change */
        assert_int_equal(system_prep_disable_list("# deb http://x trixie main\n\n", "/x",
                                                  &untouched), 1);
        assert_int_equal(system_prep_disable_list("", "/x", &untouched), 1);
        assert_string_equal(untouched, "untouched");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_base_packages),
                cmocka_unit_test(test_apt_conf_is_read_by_apt),
                cmocka_unit_test(test_sources_text),
                cmocka_unit_test(test_sources_are_read_by_apt),
                cmocka_unit_test(test_disable_list),
        };
        int r = cmocka_run_group_tests(tests, NULL, NULL);
        test_cleanup_all();
        return r;
}
