/* test_paths.c — where state, logs, lock and data live: defaults,
 * environment overrides and their validation, creating the private tree,
 * the path builders. */
#include "testlib.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "paths.h"
#include "util.h"

static const char *const vars[] = {
        "VPS_PROVISION_STATE_DIR",
        "VPS_PROVISION_LOG_DIR",
        "VPS_PROVISION_LOCK",
        "VPS_PROVISION_DATA_DIR",
};

static int clear_env(void **state)
{
        (void)state;
        for (size_t i = 0; i < ELEMENTSOF(vars); i++)
                unsetenv(vars[i]);
        return 0;
}

static mode_t mode_of(const char *path)
{
        struct stat st;
        assert_int_equal(stat(path, &st), 0);
        assert_true(S_ISDIR(st.st_mode));
        return st.st_mode & 07777;
}

static void defaults(void **state)
{
        (void)state;
        struct paths p;
        char err[256] = "junk";

        assert_int_equal(paths_init(&p, err, sizeof(err)), 0);
        assert_string_equal(err, "");
        assert_string_equal(p.state_dir, "/var/lib/vps-provision");
        assert_string_equal(p.sessions_dir, "/var/lib/vps-provision/sessions");
        assert_string_equal(p.checkpoints_dir, "/var/lib/vps-provision/checkpoints");
        assert_string_equal(p.backups_dir, "/var/lib/vps-provision/backups");
        assert_string_equal(p.log_dir, "/var/log/vps-provision");
        assert_string_equal(p.lock_path, "/run/vps-provision/lock");

        /* The configured data directory, whether it exists or not: the
         * program never looks for its source tree. */
        assert_string_equal(p.data_dir, VPSP_DATADIR);

        /* Empty variables count as unset; NULL err is fine. */
        setenv("VPS_PROVISION_STATE_DIR", "", 1);
        setenv("VPS_PROVISION_LOCK", "", 1);
        assert_int_equal(paths_init(&p, NULL, 0), 0);
        assert_string_equal(p.state_dir, "/var/lib/vps-provision");
        assert_string_equal(p.lock_path, "/run/vps-provision/lock");
}

static void overrides(void **state)
{
        (void)state;
        struct paths p;
        char err[256];

        setenv("VPS_PROVISION_STATE_DIR", "/srv/vpsp/state/", 1);
        setenv("VPS_PROVISION_LOG_DIR", "/srv/vpsp//logs", 1);
        setenv("VPS_PROVISION_LOCK", "/tmp/x/my.lock", 1);
        setenv("VPS_PROVISION_DATA_DIR", "/opt/data/..share", 1);
        assert_int_equal(paths_init(&p, err, sizeof(err)), 0);
        assert_string_equal(p.state_dir, "/srv/vpsp/state");
        assert_string_equal(p.sessions_dir, "/srv/vpsp/state/sessions");
        assert_string_equal(p.checkpoints_dir, "/srv/vpsp/state/checkpoints");
        assert_string_equal(p.backups_dir, "/srv/vpsp/state/backups");
        assert_string_equal(p.log_dir, "/srv/vpsp//logs");
        assert_string_equal(p.lock_path, "/tmp/x/my.lock");
        assert_string_equal(p.data_dir, "/opt/data/..share");

        /* "/" alone stays "/". */
        setenv("VPS_PROVISION_DATA_DIR", "///", 1);
        assert_int_equal(paths_init(&p, err, sizeof(err)), 0);
        assert_string_equal(p.data_dir, "/");
}

/* Sets var to value and expects -EINVAL naming the variable, with p left
 * untouched. */
static void expect_bad(const char *var, const char *value, const char *why)
{
        struct paths p;
        char err[512];

        clear_env(NULL);
        setenv(var, value, 1);
        memset(&p, 0x5a, sizeof(p));
        assert_int_equal(paths_init(&p, err, sizeof(err)), -EINVAL);
        assert_true(startswith(err, var));
        assert_non_null(strstr(err, why));
        assert_non_null(strstr(err, "set it to an absolute path such as /"));
        assert_non_null(strstr(err, "or unset it"));
        for (size_t i = 0; i < sizeof(p); i++)
                assert_int_equal(((unsigned char *)&p)[i], 0x5a);
}

static void bad_overrides(void **state)
{
        (void)state;
        char *longpath;

        expect_bad("VPS_PROVISION_STATE_DIR", "var/lib/x", "is not an absolute path");
        expect_bad("VPS_PROVISION_STATE_DIR", "/var/lib/../../etc", "\"..\" component");
        expect_bad("VPS_PROVISION_LOG_DIR", "~/logs", "is not an absolute path");
        expect_bad("VPS_PROVISION_LOG_DIR", "/var/log/..", "\"..\" component");
        expect_bad("VPS_PROVISION_LOCK", "vps.lock", "is not an absolute path");
        expect_bad("VPS_PROVISION_LOCK", "/run/lock/", "names a directory");
        expect_bad("VPS_PROVISION_LOCK", "/", "names a directory");
        expect_bad("VPS_PROVISION_DATA_DIR", "/usr/share/a\nb", "control character");
        expect_bad("VPS_PROVISION_DATA_DIR", "./assets", "is not an absolute path");

        longpath = malloc(PATH_MAX + 10);
        assert_non_null(longpath);
        longpath[0] = '/';
        memset(longpath + 1, 'a', PATH_MAX + 8);
        longpath[PATH_MAX + 9] = '\0';
        expect_bad("VPS_PROVISION_STATE_DIR", longpath, "is too long");
        free(longpath);

        /* The example default is named in the message. */
        struct paths p;
        char err[512];
        clear_env(NULL);
        setenv("VPS_PROVISION_LOG_DIR", "logs", 1);
        assert_int_equal(paths_init(&p, err, sizeof(err)), -EINVAL);
        assert_string_equal(err, "VPS_PROVISION_LOG_DIR=\"logs\" is not an absolute path: set "
                                 "it to an absolute path such as /var/log/vps-provision, or "
                                 "unset it to use that default");
        /* A small or missing error buffer is fine. */
        char small[8];
        assert_int_equal(paths_init(&p, small, sizeof(small)), -EINVAL);
        assert_string_equal(small, "VPS_PRO");
        assert_int_equal(paths_init(&p, NULL, 0), -EINVAL);
}

static void create_tree(void **state)
{
        (void)state;
        char *dir = test_tmpdir();
        char *st = test_path(dir, "a/b/state");
        char *lg = test_path(dir, "logs");
        char err[256];
        struct paths p;
        mode_t old;

        setenv("VPS_PROVISION_STATE_DIR", st, 1);
        setenv("VPS_PROVISION_LOG_DIR", lg, 1);
        assert_int_equal(paths_init(&p, err, sizeof(err)), 0);

        old = umask(022);
        assert_int_equal(paths_create(&p), 0);
        assert_int_equal(mode_of(p.state_dir), 0700);
        assert_int_equal(mode_of(p.sessions_dir), 0700);
        assert_int_equal(mode_of(p.checkpoints_dir), 0700);
        assert_int_equal(mode_of(p.backups_dir), 0700);
        assert_int_equal(mode_of(p.log_dir), 0700);

        /* Existing directories with wider modes are tightened; a second
         * run is fine. */
        assert_int_equal(chmod(p.state_dir, 0755), 0);
        assert_int_equal(chmod(p.sessions_dir, 0777), 0);
        assert_int_equal(chmod(p.log_dir, 0750), 0);
        assert_int_equal(paths_create(&p), 0);
        assert_int_equal(mode_of(p.state_dir), 0700);
        assert_int_equal(mode_of(p.sessions_dir), 0700);
        assert_int_equal(mode_of(p.log_dir), 0700);
        umask(old);
        free(st);
        free(lg);
}

static void create_blocked(void **state)
{
        (void)state;
        char *dir = test_tmpdir();
        char *st = test_path(dir, "state");
        char *file = test_path(dir, "state/checkpoints");
        char *lg = test_path(dir, "logfile");
        struct paths p;

        setenv("VPS_PROVISION_STATE_DIR", st, 1);
        setenv("VPS_PROVISION_LOG_DIR", lg, 1);
        assert_int_equal(paths_init(&p, NULL, 0), 0);

        /* A file where a directory must go. */
        assert_int_equal(mkdir(st, 0700), 0);
        test_write(file, "");
        assert_int_equal(paths_create(&p), -ENOTDIR);
        assert_int_equal(unlink(file), 0);

        test_write(lg, "");
        assert_int_equal(paths_create(&p), -ENOTDIR);
        assert_int_equal(unlink(lg), 0);
        assert_int_equal(paths_create(&p), 0);
        free(st);
        free(file);
        free(lg);
}

static void builders(void **state)
{
        (void)state;
        struct paths p;
        char buf[PATH_MAX], small[24];

        setenv("VPS_PROVISION_STATE_DIR", "/s", 1);
        setenv("VPS_PROVISION_LOG_DIR", "/l", 1);
        setenv("VPS_PROVISION_DATA_DIR", "/d", 1);
        assert_int_equal(paths_init(&p, NULL, 0), 0);

        paths_journal(&p, "20261122-101500", buf, sizeof(buf));
        assert_string_equal(buf, "/s/journal-20261122-101500.jsonl");
        paths_log(&p, "20261122-101500", buf, sizeof(buf));
        assert_string_equal(buf, "/l/20261122-101500.log");
        paths_data(&p, "ide-catalog.json", buf, sizeof(buf));
        assert_string_equal(buf, "/d/ide-catalog.json");
        paths_data(&p, "templates/xrdp.ini", buf, sizeof(buf));
        assert_string_equal(buf, "/d/templates/xrdp.ini");

        /* Never a cut path: "" when it does not fit. */
        memset(small, 'x', sizeof(small));
        paths_journal(&p, "20261122-101500", small, sizeof(small));
        assert_string_equal(small, "");
        memset(small, 'x', sizeof(small));
        paths_log(&p, "a-very-long-session-identifier", small, sizeof(small));
        assert_string_equal(small, "");
        memset(small, 'x', sizeof(small));
        paths_data(&p, "a-very-long-file-name.json", small, sizeof(small));
        assert_string_equal(small, "");
        paths_log(&p, "id", small, sizeof(small));
        assert_string_equal(small, "/l/id.log");

        /* The defaults build the documented paths. */
        clear_env(NULL);
        assert_int_equal(paths_init(&p, NULL, 0), 0);
        paths_journal(&p, "X", buf, sizeof(buf));
        assert_string_equal(buf, "/var/lib/vps-provision/journal-X.jsonl");
        paths_log(&p, "X", buf, sizeof(buf));
        assert_string_equal(buf, "/var/log/vps-provision/X.log");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup(defaults, clear_env),
                cmocka_unit_test_setup(overrides, clear_env),
                cmocka_unit_test_setup(bad_overrides, clear_env),
                cmocka_unit_test_setup(create_tree, clear_env),
                cmocka_unit_test_setup(create_blocked, clear_env),
                cmocka_unit_test_setup(builders, clear_env),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
