/* test_rollback.c — every undo kind against a fake system: files in a temp
 * directory, and stub commands (dpkg-query, apt-get, getent, userdel,
 * systemctl, update-alternatives, ufw, …) as the *only* directory on PATH,
 * so nothing real can ever be run. Each stub logs its argv to calls.log. */
#include "testlib.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rollback.h"

#define S(x) ((char *)(x))

static char *stubs;   /* the whole PATH */
static char *root;    /* files live here */

struct lines {
        unsigned n;
        char last[256];
};

static void collect_line(void *userdata, enum run_stream stream, const char *line, size_t len,
                         bool truncated)
{
        struct lines *l = userdata;
        (void)stream;
        (void)truncated;
        (void)len;
        l->n++;
        snprintf(l->last, sizeof(l->last), "%s", line);
}

static struct lines seen;
static struct rollback_env env = { .on_line = collect_line, .userdata = &seen,
                                   .timeout_ms = 60000 };

static int setup_all(void **state)
{
        (void)state;
        stubs = test_tmpdir();
        root = test_tmpdir();
        setenv("PATH", stubs, 1);   /* nothing but stubs */
        return 0;
}

/* Fresh calls.log and no leftover stubs from the previous test. */
static int setup_each(void **state)
{
        static const char *const names[] = { "dpkg", "dpkg-query", "apt-get", "getent", "userdel",
                                              "groupdel", "gpasswd", "pkill", "loginctl",
                                              "systemctl", "update-alternatives", "ufw",
                                              "debconf-set-selections", "debconf-communicate",
                                              "update-initramfs" };
        (void)state;
        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                _cleanup_free_ char *p = test_path(stubs, names[i]);
                unlink(p);
        }
        _cleanup_free_ char *log = test_path(stubs, "calls.log");
        unlink(log);
        seen = (struct lines){ 0 };
        return 0;
}

/* Applies u as a journal entry; returns the result, msg in msg. */
static int apply(const struct undo *u, char *msg, size_t msglen)
{
        struct journal_entry e = { .seq = 7, .type = S("X"), .undo = *u };
        return rollback_apply(&env, &e, msg, msglen);
}

static void assert_calls(const char *want)
{
        _cleanup_free_ char *calls = test_stub_calls(stubs);
        if (strcmp(calls, want) != 0)
                fail_msg("calls.log:\n%s\nwanted:\n%s", calls, want);
}

static void assert_contains(const char *hay, const char *needle)
{
        if (!strstr(hay, needle))
                fail_msg("\"%s\" does not contain \"%s\"", hay, needle);
}

/* A file with content and mode under root; returns its path (caller frees). */
static char *make_file(const char *name, const char *content, mode_t mode)
{
        char *p = test_path(root, name);
        test_write(p, content);
        assert_int_equal(chmod(p, mode), 0);
        return p;
}

static mode_t mode_of(const char *p)
{
        struct stat st;
        assert_int_equal(stat(p, &st), 0);
        return st.st_mode & 07777;
}

/* ---- files ------------------------------------------------------------- */

static struct undo restore_undo(const char *path, const char *backup, const char *content)
{
        struct undo u = { .kind = UNDO_RESTORE_FILE, .path = S(path), .backup = S(backup),
                          .mode = 0640, .uid = getuid(), .gid = getgid() };
        sha256_hex(content, strlen(content), u.sha256);
        return u;
}

static void test_restore_file(void **state)
{
        (void)state;
        _cleanup_free_ char *target = make_file("sshd_config", "changed by us\n", 0600);
        _cleanup_free_ char *backup = make_file("sshd_config.bak", "original\n", 0600);
        struct undo u = restore_undo(target, backup, "original\n");
        char msg[1024];

        assert_int_equal(apply(&u, msg, sizeof(msg)), 0);
        _cleanup_free_ char *now = test_read(target);
        assert_string_equal(now, "original\n");
        assert_int_equal(mode_of(target), 0640);
        assert_contains(msg, "restored");
        /* idempotent: already as in the backup */
        assert_int_equal(apply(&u, msg, sizeof(msg)), 1);
        /* the file was deleted meanwhile: it comes back */
        assert_int_equal(unlink(target), 0);
        assert_int_equal(apply(&u, msg, sizeof(msg)), 0);
        free(now);
        now = test_read(target);
        assert_string_equal(now, "original\n");
        /* only the mode differs: restored too */
        assert_int_equal(chmod(target, 0666), 0);
        assert_int_equal(apply(&u, msg, sizeof(msg)), 0);
        assert_int_equal(mode_of(target), 0640);
        assert_calls("");
}

static void test_restore_file_tampered_backup(void **state)
{
        (void)state;
        _cleanup_free_ char *target = make_file("xrdp.ini", "ours\n", 0600);
        _cleanup_free_ char *backup = make_file("xrdp.ini.bak", "tampered\n", 0600);
        struct undo u = restore_undo(target, backup, "original\n");
        char msg[1024];

        assert_true(apply(&u, msg, sizeof(msg)) < 0);
        assert_contains(msg, "does not match");
        assert_contains(msg, "left as it is");
        _cleanup_free_ char *now = test_read(target);
        assert_string_equal(now, "ours\n");
        assert_int_equal(mode_of(target), 0600);
}

static void test_restore_file_missing_backup(void **state)
{
        (void)state;
        _cleanup_free_ char *target = make_file("sesman.ini", "ours\n", 0600);
        _cleanup_free_ char *backup = test_path(root, "nonexistent.bak");
        struct undo u = restore_undo(target, backup, "original\n");
        char msg[1024];

        assert_int_equal(apply(&u, msg, sizeof(msg)), -ENOENT);
        assert_contains(msg, "missing");
        assert_contains(msg, backup);
        _cleanup_free_ char *now = test_read(target);
        assert_string_equal(now, "ours\n");

        /* relative paths are refused outright */
        u.path = S("etc/x");
        assert_int_equal(apply(&u, msg, sizeof(msg)), -EINVAL);
}

static void test_remove_file(void **state)
{
        (void)state;
        _cleanup_free_ char *p = make_file("45-vps.rules", "rules\n", 0644);
        struct undo u = { .kind = UNDO_REMOVE_FILE, .path = p };
        char msg[1024];

        sha256_hex("rules\n", 6, u.sha256);
        assert_int_equal(apply(&u, msg, sizeof(msg)), 0);
        assert_false(path_exists(p));
        assert_int_equal(apply(&u, msg, sizeof(msg)), 1);   /* already gone */

        /* changed since we wrote it: kept aside, not destroyed */
        test_write(p, "edited by the admin\n");
        assert_int_equal(apply(&u, msg, sizeof(msg)), 0);
        assert_false(path_exists(p));
        _cleanup_free_ char *aside = xasprintf("%s.vps-provision-modified", p);
        _cleanup_free_ char *kept = test_read(aside);
        assert_string_equal(kept, "edited by the admin\n");
        assert_contains(msg, "moved aside");

        /* no checksum recorded: removed whatever it holds */
        u.sha256[0] = '\0';
        test_write(p, "anything\n");
        assert_int_equal(apply(&u, msg, sizeof(msg)), 0);
        assert_false(path_exists(p));

        /* a directory in its place is left alone */
        assert_int_equal(mkdir(p, 0700), 0);
        assert_true(apply(&u, msg, sizeof(msg)) < 0);
        assert_true(path_exists(p));
        rmdir(p);
}

static void test_remove_dir(void **state)
{
        (void)state;
        _cleanup_free_ char *d = test_path(root, "conf.d");
        _cleanup_free_ char *f = test_path(root, "conf.d/admin.conf");
        struct undo u = { .kind = UNDO_REMOVE_DIR, .path = d };
        char msg[1024];

        assert_int_equal(mkdir(d, 0755), 0);
        test_write(f, "x");
        assert_int_equal(apply(&u, msg, sizeof(msg)), -ENOTEMPTY);
        assert_true(path_exists(f));
        assert_contains(msg, "not empty");
        assert_contains(msg, d);

        assert_int_equal(unlink(f), 0);
        assert_int_equal(apply(&u, msg, sizeof(msg)), 0);
        assert_false(path_exists(d));
        assert_int_equal(apply(&u, msg, sizeof(msg)), 1);
}

static void test_remove_apt_source(void **state)
{
        (void)state;
        _cleanup_free_ char *src = make_file("vscode.sources", "Types: deb\n", 0644);
        _cleanup_free_ char *key1 = make_file("microsoft.gpg", "k", 0644);
        _cleanup_free_ char *key2 = test_path(root, "never-written.gpg");
        char *keys[] = { key1, key2, NULL };
        struct undo u = { .kind = UNDO_REMOVE_APT_SOURCE, .path = src, .list = keys };
        char msg[1024];

        assert_int_equal(apply(&u, msg, sizeof(msg)), 0);
        assert_false(path_exists(src));
        assert_false(path_exists(key1));
        assert_contains(msg, "2 files");
        assert_int_equal(apply(&u, msg, sizeof(msg)), 1);
        assert_calls("");
}

/* ---- packages ---------------------------------------------------------- */

#define APT_PURGE "apt-get -y -q -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold purge"

static void test_purge_only_installed(void **state)
{
        (void)state;
        char *pkgs[] = { S("xrdp"), S("xfce4"), NULL };
        struct undo u = { .kind = UNDO_PURGE_PACKAGES, .list = pkgs };
        char msg[1024];

        /* dpkg knows xrdp as installed, xfce4 not at all (exit 1) */
        test_stub(stubs, "dpkg", "echo amd64");
        test_stub(stubs, "dpkg-query", "printf 'ii \\txrdp\\tamd64\\tnono\\n'; echo 'dpkg-query: no packages found matching xfce4' >&2; exit 1");
        test_stub(stubs, "apt-get", "echo 'Removing xrdp (0.10.1-1) ...'");
        assert_int_equal(apply(&u, msg, sizeof(msg)), 0);
        _cleanup_free_ char *calls = test_stub_calls(stubs);
        /* the query asked about both, by name, after the format */
        assert_contains(calls, "${Package}");
        assert_contains(calls, " xrdp xfce4\n");
        /* apt-get was given exactly the installed one, and nothing else ran */
        assert_contains(calls, "\n" APT_PURGE " xrdp\n");
        assert_null(strstr(calls, "autoremove"));
        assert_null(strstr(calls, "--allow-remove-essential"));
        assert_contains(msg, "purged 1 of 2");
        /* the command's lines reached on_line */
        assert_true(seen.n >= 1);
        assert_string_equal(seen.last, "Removing xrdp (0.10.1-1) ...");
}

/* A stub body that adds its stdin to calls.log (PATH holds only stubs:
 * shell builtins only). */
#define STDIN_TO_LOG "while IFS= read -r l; do echo \"$l\"; done >>\"${0%/*}/calls.log\""

/* The end of man-db's pause: man-db installed, so debconf's answer true
 * again (on stdin, nothing else changed in debconf) and the flag file back;
 * a second undo does the same harmlessly. */
static void test_mandb_auto_update_on(void **state)
{
        (void)state;
        char *dir = test_tmpdir();   /* the test library's, removed at exit */
        _cleanup_free_ char *flag = test_path(dir, "auto-update");
        struct undo u = { .kind = UNDO_MANDB_AUTO_UPDATE, .path = flag };
        struct stat st;
        char msg[1024];

        test_stub(stubs, "dpkg", "echo amd64");
        test_stub(stubs, "dpkg-query", "printf 'ii \\tman-db\\tamd64\\t\\n'");
        test_stub(stubs, "debconf-set-selections", STDIN_TO_LOG);
        assert_int_equal(apply(&u, msg, sizeof(msg)), 0);
        assert_int_equal(lstat(flag, &st), 0);
        assert_true(S_ISREG(st.st_mode));
        assert_contains(msg, "on again");
        _cleanup_free_ char *calls = test_stub_calls(stubs);
        assert_contains(calls, "\ndebconf-set-selections \nman-db man-db/auto-update boolean true\n");
        assert_null(strstr(calls, "debconf-communicate"));
        assert_int_equal(apply(&u, msg, sizeof(msg)), 0);
        assert_int_equal(lstat(flag, &st), 0);
}

/* man-db gone (a rollback purged it first): only the pause's debconf answer
 * is left, and it is forgotten; no flag file appears; a failing debconf
 * fails the undo with its words; a path that is not absolute is refused. */
static void test_mandb_auto_update_gone(void **state)
{
        (void)state;
        char *dir = test_tmpdir();   /* the test library's, removed at exit */
        _cleanup_free_ char *flag = test_path(dir, "auto-update");
        struct undo u = { .kind = UNDO_MANDB_AUTO_UPDATE, .path = flag };
        struct stat st;
        char msg[1024];

        test_stub(stubs, "dpkg", "echo amd64");
        test_stub(stubs, "dpkg-query", "echo 'dpkg-query: no packages found matching man-db' >&2; exit 1");
        test_stub(stubs, "debconf-communicate", STDIN_TO_LOG);
        assert_int_equal(apply(&u, msg, sizeof(msg)), 0);
        assert_int_equal(lstat(flag, &st), -1);
        assert_contains(msg, "not installed");
        _cleanup_free_ char *calls = test_stub_calls(stubs);
        assert_contains(calls, "\ndebconf-communicate man-db\nPURGE\n");

        test_stub(stubs, "dpkg-query", "printf 'ii \\tman-db\\tamd64\\t\\n'");
        test_stub(stubs, "debconf-set-selections", "echo 'debconf: config.dat is locked by another process' >&2; exit 1");
        assert_true(apply(&u, msg, sizeof(msg)) < 0);
        assert_contains(msg, "debconf-set-selections");
        assert_contains(msg, "locked by another process");
        assert_int_equal(lstat(flag, &st), -1);

        u.path = S("var/lib/man-db/auto-update");
        assert_int_equal(apply(&u, msg, sizeof(msg)), -EINVAL);
}

static void test_purge_config_files_state(void **state)
{
        (void)state;
        char *pkgs[] = { S("xrdp"), S("xorgxrdp"), S("libx"), NULL };
        struct undo u = { .kind = UNDO_PURGE_PACKAGES, .list = pkgs };
        char msg[1024];

        /* removed but not purged (rc) still counts, and so does a package
         * an interrupted install left unpacked (iU); "un" does not */
        test_stub(stubs, "dpkg", "echo amd64");
        test_stub(stubs, "dpkg-query",
                  "printf 'rc \\txrdp\\tamd64\\t\\nun \\txorgxrdp\\tamd64\\t\\niU \\tlibx\\tamd64\\t\\n'");
        test_stub(stubs, "apt-get", "exit 0");
        assert_int_equal(apply(&u, msg, sizeof(msg)), 0);
        _cleanup_free_ char *calls = test_stub_calls(stubs);
        assert_contains(calls, APT_PURGE " xrdp libx\n");
}

static void test_purge_none_installed(void **state)
{
        (void)state;
        char *pkgs[] = { S("xrdp"), S("xfce4"), NULL };
        struct undo u = { .kind = UNDO_PURGE_PACKAGES, .list = pkgs };
        char msg[1024];

        test_stub(stubs, "dpkg", "echo amd64");
        test_stub(stubs, "dpkg-query", "printf 'un \\txrdp\\tamd64\\t\\n'; exit 1");
        test_stub(stubs, "apt-get", "exit 0");
        assert_int_equal(apply(&u, msg, sizeof(msg)), 1);
        _cleanup_free_ char *calls = test_stub_calls(stubs);
        assert_null(strstr(calls, "apt-get"));
        assert_contains(msg, "none of the 2 packages");
}

static void test_purge_failures(void **state)
{
        (void)state;
        char *pkgs[] = { S("xrdp"), NULL };
        struct undo u = { .kind = UNDO_PURGE_PACKAGES, .list = pkgs };
        char msg[1024];

        /* apt-get fails: the error says what apt said */
        test_stub(stubs, "dpkg", "echo amd64");
        test_stub(stubs, "dpkg-query", "printf 'ii \\txrdp\\tamd64\\t\\n'");
        test_stub(stubs, "apt-get", "echo 'E: Could not get lock /var/lib/dpkg/lock-frontend' >&2; exit 100");
        assert_true(apply(&u, msg, sizeof(msg)) < 0);
        assert_contains(msg, "apt-get purge exited with status 100");
        assert_contains(msg, "Could not get lock");

        /* dpkg-query itself broken */
        test_stub(stubs, "dpkg-query", "exit 2");
        assert_true(apply(&u, msg, sizeof(msg)) < 0);
        assert_contains(msg, "dpkg-query");

        /* dpkg-query missing altogether */
        _cleanup_free_ char *dq = test_path(stubs, "dpkg-query");
        unlink(dq);
        assert_int_equal(apply(&u, msg, sizeof(msg)), -ENOENT);
        assert_contains(msg, "not found on PATH");

        /* something that is not a package name never reaches a command */
        _cleanup_free_ char *log = test_path(stubs, "calls.log");
        unlink(log);
        char *bad[] = { S("-oAPT::Get::Foo=1"), NULL };
        u.list = bad;
        assert_int_equal(apply(&u, msg, sizeof(msg)), -EINVAL);
        assert_calls("");
}

static void test_purge_guarded_package(void **state)
{
        (void)state;
        char *pkgs[] = { S("udisks2"), S("e2fsprogs"), NULL };
        struct undo u = { .kind = UNDO_PURGE_PACKAGES, .list = pkgs };
        char msg[1024];

        /* e2fsprogs came with udisks2 and apt guards it (Important: yes) */
        test_stub(stubs, "dpkg", "echo amd64");
        test_stub(stubs, "dpkg-query", "printf 'ii \\tudisks2\\tamd64\\tnono\\nii \\te2fsprogs\\tamd64\\tyesno\\n'");
        test_stub(stubs, "apt-get", "exit 0");
        assert_int_equal(apply(&u, msg, sizeof(msg)), 0);
        _cleanup_free_ char *calls = test_stub_calls(stubs);
        assert_contains(calls, "${Essential}${Protected}${Important}");
        assert_contains(calls, "--allow-remove-essential purge udisks2 e2fsprogs\n");
        assert_contains(msg, "purged 2 packages");
}

/* ---- users and groups -------------------------------------------------- */

static void test_delete_user(void **state)
{
        (void)state;
        struct undo u = { .kind = UNDO_DELETE_USER, .name = S("devuser") };
        char msg[1024];

        test_stub(stubs, "getent", "echo 'devuser:x:1001:1001::/home/devuser:/bin/bash'");
        test_stub(stubs, "loginctl", "exit 1");   /* no logind: ignored */
        test_stub(stubs, "pkill", "exit 1");      /* no processes: ignored */
        test_stub(stubs, "userdel", "exit 0");
        assert_int_equal(apply(&u, msg, sizeof(msg)), 0);
        assert_calls("getent passwd devuser\n"
                     "loginctl terminate-user devuser\n"
                     "pkill -KILL -u devuser\n"
                     "userdel --remove devuser\n");

        /* gone already: getent says 2 and nothing else runs */
        _cleanup_free_ char *log = test_path(stubs, "calls.log");
        unlink(log);
        test_stub(stubs, "getent", "exit 2");
        assert_int_equal(apply(&u, msg, sizeof(msg)), 1);
        assert_calls("getent passwd devuser\n");
        assert_string_equal(msg, "user devuser does not exist any more");

        /* root is never deleted, and odd names never reach a command */
        unlink(log);
        u.name = S("root");
        assert_int_equal(apply(&u, msg, sizeof(msg)), -EINVAL);
        assert_string_equal(msg, "refusing to delete user \"root\"");
        u.name = S("-f");
        assert_int_equal(apply(&u, msg, sizeof(msg)), -EINVAL);
        assert_calls("");
}

static void test_delete_user_busy_then_gone(void **state)
{
        (void)state;
        struct undo u = { .kind = UNDO_DELETE_USER, .name = S("devuser") };
        char msg[1024];
        _cleanup_free_ char *marker = test_path(root, "userdel-once");
        _cleanup_free_ char *body = xasprintf("if [ -e '%s' ]; then exit 0; fi; : > '%s'; "
                                              "echo 'userdel: user devuser is currently used by process 42' >&2; exit 8",
                                              marker, marker);

        test_stub(stubs, "getent", "exit 0");
        test_stub(stubs, "pkill", "exit 0");
        test_stub(stubs, "userdel", body);
        /* loginctl missing: not a problem */
        assert_int_equal(apply(&u, msg, sizeof(msg)), 0);
        _cleanup_free_ char *calls = test_stub_calls(stubs);
        assert_contains(calls, "userdel --remove devuser\npkill -KILL -u devuser\nuserdel --remove devuser\n");

        /* userdel cannot remove the home directory: a failure with words */
        test_stub(stubs, "userdel", "exit 12");
        assert_true(apply(&u, msg, sizeof(msg)) < 0);
        assert_contains(msg, "home directory");

        /* userdel fails otherwise */
        test_stub(stubs, "userdel", "echo 'userdel: cannot lock /etc/passwd' >&2; exit 1");
        assert_true(apply(&u, msg, sizeof(msg)) < 0);
        assert_contains(msg, "cannot lock /etc/passwd");

        /* getent broken */
        test_stub(stubs, "getent", "exit 3");
        assert_true(apply(&u, msg, sizeof(msg)) < 0);
        assert_contains(msg, "getent passwd");
}

static void test_delete_group(void **state)
{
        (void)state;
        struct undo u = { .kind = UNDO_DELETE_GROUP, .name = S("devusers") };
        char msg[1024];

        test_stub(stubs, "getent", "echo 'devusers:x:1002:'");
        test_stub(stubs, "groupdel", "exit 0");
        assert_int_equal(apply(&u, msg, sizeof(msg)), 0);
        assert_calls("getent group devusers\ngroupdel devusers\n");

        _cleanup_free_ char *log = test_path(stubs, "calls.log");
        unlink(log);
        test_stub(stubs, "getent", "exit 2");
        assert_int_equal(apply(&u, msg, sizeof(msg)), 1);
        assert_calls("getent group devusers\n");
        assert_string_equal(msg, "group devusers does not exist any more");
        unlink(log);
        u.name = S("root");
        assert_int_equal(apply(&u, msg, sizeof(msg)), -EINVAL);
        assert_string_equal(msg, "refusing to delete group \"root\"");
        assert_calls("");
        u.name = S("devusers");

        test_stub(stubs, "getent", "exit 0");
        test_stub(stubs, "groupdel", "echo \"groupdel: cannot remove the primary group of user 'devuser'\" >&2; exit 8");
        assert_true(apply(&u, msg, sizeof(msg)) < 0);
        assert_contains(msg, "primary group");
}

static void test_remove_group_member(void **state)
{
        (void)state;
        struct undo u = { .kind = UNDO_REMOVE_GROUP_MEMBER, .name = S("devuser"),
                          .value = S("sudo") };
        char msg[1024];
        _cleanup_free_ char *log = test_path(stubs, "calls.log");

        test_stub(stubs, "getent", "echo 'sudo:x:27:alice,devuser,bob'");
        test_stub(stubs, "gpasswd", "echo 'Removing user devuser from group sudo'");
        assert_int_equal(apply(&u, msg, sizeof(msg)), 0);
        assert_calls("getent group sudo\ngpasswd --delete devuser sudo\n");

        /* not a member (a longer name that starts the same does not count) */
        unlink(log);
        test_stub(stubs, "getent", "echo 'sudo:x:27:alice,devuser2'");
        assert_int_equal(apply(&u, msg, sizeof(msg)), 1);
        assert_calls("getent group sudo\n");

        /* no members at all, or no group */
        unlink(log);
        test_stub(stubs, "getent", "echo 'sudo:x:27:'");
        assert_int_equal(apply(&u, msg, sizeof(msg)), 1);
        test_stub(stubs, "getent", "exit 2");
        assert_int_equal(apply(&u, msg, sizeof(msg)), 1);
        assert_calls("getent group sudo\ngetent group sudo\n");

        /* gpasswd fails */
        test_stub(stubs, "getent", "echo 'sudo:x:27:devuser'");
        test_stub(stubs, "gpasswd", "exit 3");
        assert_true(apply(&u, msg, sizeof(msg)) < 0);
        assert_contains(msg, "gpasswd --delete devuser sudo");
}

/* ---- units ------------------------------------------------------------- */

/* A systemctl stub whose is-enabled / is-active answers are given. */
static void stub_systemctl(const char *enabled, const char *active, int other_exit)
{
        _cleanup_free_ char *body = xasprintf(
                "case \"$1\" in\n"
                "is-enabled) echo '%s'; [ '%s' = enabled ] && exit 0; exit 1;;\n"
                "is-active) echo '%s'; [ '%s' = active ] && exit 0; exit 3;;\n"
                "esac\nexit %d",
                enabled, enabled, active, active, other_exit);
        test_stub(stubs, "systemctl", body);
}

static void reset_calls(void)
{
        _cleanup_free_ char *log = test_path(stubs, "calls.log");
        unlink(log);
}

static void test_disable_unit(void **state)
{
        (void)state;
        struct undo u = { .kind = UNDO_DISABLE_UNIT, .name = S("xrdp.service") };
        char msg[1024];

        stub_systemctl("enabled", "active", 0);
        assert_int_equal(apply(&u, msg, sizeof(msg)), 0);
        assert_calls("systemctl is-enabled xrdp.service\nsystemctl is-active xrdp.service\n"
                     "systemctl disable --now xrdp.service\n");

        reset_calls();
        stub_systemctl("disabled", "active", 0);
        assert_int_equal(apply(&u, msg, sizeof(msg)), 0);
        _cleanup_free_ char *calls = test_stub_calls(stubs);
        assert_contains(calls, "systemctl stop xrdp.service\n");

        reset_calls();
        stub_systemctl("disabled", "inactive", 0);
        assert_int_equal(apply(&u, msg, sizeof(msg)), 1);
        assert_calls("systemctl is-enabled xrdp.service\nsystemctl is-active xrdp.service\n");

        stub_systemctl("enabled", "active", 1);
        assert_true(apply(&u, msg, sizeof(msg)) < 0);
        assert_contains(msg, "systemctl disable --now xrdp.service exited with status 1");
}

/* u undone with systemctl saying ENABLED and ACTIVE: apply returns want,
 * after exactly the systemctl calls in calls. */
static void expect_unit_undo(const struct undo *u, const char *enabled, const char *active, int want,
                             const char *calls)
{
        char msg[1024];

        reset_calls();
        stub_systemctl(enabled, active, 0);
        assert_int_equal(apply(u, msg, sizeof(msg)), want);
        assert_calls(calls);
}

/* A unit the run disabled (ssh.socket, sshd moved to ssh.service): enabled
 * and started again, or only started (it ran without being enabled). */
static void test_enable_start_unit(void **state)
{
        (void)state;
        struct undo u = { .kind = UNDO_ENABLE_UNIT, .name = S("ssh.socket") };
        char msg[1024];

        expect_unit_undo(&u, "disabled", "inactive", 0,
                         "systemctl is-enabled ssh.socket\nsystemctl is-active ssh.socket\n"
                         "systemctl enable --now ssh.socket\n");
        expect_unit_undo(&u, "enabled", "inactive", 0,
                         "systemctl is-enabled ssh.socket\nsystemctl is-active ssh.socket\n"
                         "systemctl start ssh.socket\n");
        expect_unit_undo(&u, "enabled", "active", 1,
                         "systemctl is-enabled ssh.socket\nsystemctl is-active ssh.socket\n");
        stub_systemctl("disabled", "inactive", 1);
        assert_true(apply(&u, msg, sizeof(msg)) < 0);
        assert_contains(msg, "systemctl enable --now ssh.socket exited with status 1");

        u.kind = UNDO_START_UNIT;
        expect_unit_undo(&u, "disabled", "inactive", 0,
                         "systemctl is-active ssh.socket\nsystemctl start ssh.socket\n");
        expect_unit_undo(&u, "disabled", "active", 1, "systemctl is-active ssh.socket\n");
}

static void test_stop_unmask_restart_unit(void **state)
{
        (void)state;
        struct undo u = { .kind = UNDO_STOP_UNIT, .name = S("xrdp-sesman.service") };
        char msg[1024];

        stub_systemctl("enabled", "active", 0);
        assert_int_equal(apply(&u, msg, sizeof(msg)), 0);
        assert_calls("systemctl is-active xrdp-sesman.service\nsystemctl stop xrdp-sesman.service\n");
        reset_calls();
        stub_systemctl("enabled", "inactive", 0);
        assert_int_equal(apply(&u, msg, sizeof(msg)), 1);
        assert_calls("systemctl is-active xrdp-sesman.service\n");

        u.kind = UNDO_UNMASK_UNIT;
        u.name = S("lightdm.service");
        reset_calls();
        stub_systemctl("masked", "inactive", 0);
        assert_int_equal(apply(&u, msg, sizeof(msg)), 0);
        assert_calls("systemctl is-enabled lightdm.service\nsystemctl unmask lightdm.service\n");
        reset_calls();
        stub_systemctl("disabled", "inactive", 0);
        assert_int_equal(apply(&u, msg, sizeof(msg)), 1);
        assert_calls("systemctl is-enabled lightdm.service\n");

        u.kind = UNDO_RESTART_UNIT;
        u.name = S("ssh.service");
        reset_calls();
        stub_systemctl("enabled", "active", 0);
        assert_int_equal(apply(&u, msg, sizeof(msg)), 0);
        assert_calls("systemctl is-active ssh.service\nsystemctl try-reload-or-restart ssh.service\n");
        reset_calls();
        stub_systemctl("enabled", "inactive", 0);
        assert_int_equal(apply(&u, msg, sizeof(msg)), 1);
        assert_calls("systemctl is-active ssh.service\n");

        /* no systemctl at all: a failure that says so */
        _cleanup_free_ char *p = test_path(stubs, "systemctl");
        unlink(p);
        assert_int_equal(apply(&u, msg, sizeof(msg)), -ENOENT);
        assert_contains(msg, "not found on PATH");

        /* not a unit name */
        u.name = S("--all");
        assert_int_equal(apply(&u, msg, sizeof(msg)), -EINVAL);
}

/* ---- alternatives ------------------------------------------------------ */

static void stub_alternatives(const char *status, const char *value)
{
        _cleanup_free_ char *body = xasprintf(
                "case \"$1\" in\n"
                "--query) printf 'Name: x-session-manager\\nLink: /usr/bin/x-session-manager\\n"
                "Status: %s\\nBest: /usr/bin/startxfce4\\nValue: %s\\n\\n"
                "Alternative: /usr/bin/startxfce4\\nPriority: 50\\n';;\n"
                "esac\nexit 0",
                status, value);
        test_stub(stubs, "update-alternatives", body);
}

static void test_set_alternative(void **state)
{
        (void)state;
        struct undo u = { .kind = UNDO_SET_ALTERNATIVE, .name = S("x-session-manager"),
                          .value = S("") };
        char msg[1024];

        stub_alternatives("manual", "/usr/bin/xfce4-session");
        assert_int_equal(apply(&u, msg, sizeof(msg)), 0);
        assert_calls("update-alternatives --query x-session-manager\n"
                     "update-alternatives --auto x-session-manager\n");
        reset_calls();
        stub_alternatives("auto", "/usr/bin/startxfce4");
        assert_int_equal(apply(&u, msg, sizeof(msg)), 1);
        assert_calls("update-alternatives --query x-session-manager\n");

        u.value = S("/usr/bin/startxfce4");
        reset_calls();
        stub_alternatives("manual", "/usr/bin/xfce4-session");
        assert_int_equal(apply(&u, msg, sizeof(msg)), 0);
        assert_calls("update-alternatives --query x-session-manager\n"
                     "update-alternatives --set x-session-manager /usr/bin/startxfce4\n");
        reset_calls();
        stub_alternatives("manual", "/usr/bin/startxfce4");
        assert_int_equal(apply(&u, msg, sizeof(msg)), 1);
        assert_calls("update-alternatives --query x-session-manager\n");
        /* "auto" with the same value is still switched to manual */
        reset_calls();
        stub_alternatives("auto", "/usr/bin/startxfce4");
        assert_int_equal(apply(&u, msg, sizeof(msg)), 0);

        /* the link group is gone (its package purged): nothing to do */
        reset_calls();
        test_stub(stubs, "update-alternatives", "echo 'update-alternatives: error: no alternatives for x-session-manager' >&2; exit 2");
        assert_int_equal(apply(&u, msg, sizeof(msg)), 1);
        assert_calls("update-alternatives --query x-session-manager\n");
}

/* ---- firewall ---------------------------------------------------------- */

static void test_ufw(void **state)
{
        (void)state;
        char *rule[] = { S("allow"), S("3389/tcp"), NULL };
        struct undo u = { .kind = UNDO_UFW_DELETE_RULE, .list = rule };
        char msg[1024];

        test_stub(stubs, "ufw", "echo 'Rule deleted'");
        assert_int_equal(apply(&u, msg, sizeof(msg)), 0);
        assert_calls("ufw delete allow 3389/tcp\n");

        test_stub(stubs, "ufw", "echo 'Could not delete non-existent rule'");
        assert_int_equal(apply(&u, msg, sizeof(msg)), 1);

        test_stub(stubs, "ufw", "echo 'ERROR: problem running iptables' >&2; exit 1");
        assert_true(apply(&u, msg, sizeof(msg)) < 0);
        assert_contains(msg, "problem running iptables");

        u = (struct undo){ .kind = UNDO_UFW_DISABLE };
        reset_calls();
        test_stub(stubs, "ufw", "case \"$1\" in status) echo 'Status: active';; esac; exit 0");
        assert_int_equal(apply(&u, msg, sizeof(msg)), 0);
        assert_calls("ufw status\nufw --force disable\n");
        reset_calls();
        test_stub(stubs, "ufw", "case \"$1\" in status) echo 'Status: inactive';; esac; exit 0");
        assert_int_equal(apply(&u, msg, sizeof(msg)), 1);
        assert_calls("ufw status\n");

        /* ufw not installed (purged earlier in the rollback): nothing to do */
        _cleanup_free_ char *p = test_path(stubs, "ufw");
        unlink(p);
        assert_int_equal(apply(&u, msg, sizeof(msg)), 1);
        u = (struct undo){ .kind = UNDO_UFW_DELETE_RULE, .list = rule };
        assert_int_equal(apply(&u, msg, sizeof(msg)), 1);
        u = (struct undo){ .kind = UNDO_UFW_ADD_RULE, .list = rule };
        assert_int_equal(apply(&u, msg, sizeof(msg)), 1);
        assert_contains(msg, "not installed");
}

/* A rule a change deleted (the old SSH port, closed after a login on the new
 * one) comes back with "ufw allow …"; ufw's failure is reported. */
static void test_ufw_add_rule(void **state)
{
        (void)state;
        char *rule[] = { S("allow"), S("22/tcp"), NULL };
        char *bad[] = { S("allow"), S("22/tcp;reboot"), NULL };
        struct undo u = { .kind = UNDO_UFW_ADD_RULE, .list = rule };
        char msg[1024];

        reset_calls();
        test_stub(stubs, "ufw", "echo 'Rule added'");
        assert_int_equal(apply(&u, msg, sizeof(msg)), 0);
        assert_calls("ufw allow 22/tcp\n");
        assert_contains(msg, "added firewall rule \"allow 22/tcp\" again");

        test_stub(stubs, "ufw", "echo 'ERROR: problem running iptables' >&2; exit 1");
        assert_true(apply(&u, msg, sizeof(msg)) < 0);
        assert_contains(msg, "problem running iptables");

        u.list = bad;
        reset_calls();
        assert_int_equal(apply(&u, msg, sizeof(msg)), -EINVAL);
        assert_calls("");
}

static void test_nothing_and_unknown(void **state)
{
        (void)state;
        struct undo u = { .kind = UNDO_NOTHING };
        char msg[1024];

        assert_int_equal(apply(&u, msg, sizeof(msg)), 1);
        u.kind = _UNDO_KIND_MAX;
        assert_int_equal(apply(&u, msg, sizeof(msg)), -EINVAL);
        assert_contains(msg, "unknown undo kind");
        assert_calls("");
}

/* rollback_apply plugged into journal_rollback, as the engine does. */
static void test_with_journal(void **state)
{
        (void)state;
        _cleanup_free_ char *jpath = test_path(root, "journal.jsonl");
        _cleanup_free_ char *f = make_file("created.conf", "x", 0644);
        _cleanup_free_ char *d = test_path(root, "created.d");
        struct journal *j = NULL;
        char err[256];
        const struct journal_entry **list = NULL;
        size_t n;

        assert_int_equal(mkdir(d, 0755), 0);
        assert_int_equal(journal_open(jpath, &j, err, sizeof(err)), 0);
        struct undo ud = { .kind = UNDO_REMOVE_DIR, .path = d };
        struct undo uf = { .kind = UNDO_REMOVE_FILE, .path = f };
        struct undo uu = { .kind = UNDO_DELETE_USER, .name = S("devuser") };
        journal_append(j, "S", "p", "FILE_CREATE", d, &ud);
        journal_append(j, "S", "p", "FILE_CREATE", f, &uf);
        journal_append(j, "S", "user", "USER_CREATE", "devuser", &uu);
        test_stub(stubs, "getent", "exit 3");   /* broken: the user undo fails */

        n = journal_pending(j, "S", &list);
        assert_int_equal(journal_rollback(j, (const struct journal_entry *const *)list, n,
                                          rollback_apply, &env), 1);
        free(list);
        assert_false(path_exists(f));
        assert_false(path_exists(d));
        assert_int_equal(journal_entry_at(j, 2)->result, UNDO_FAILED);
        assert_non_null(strstr(journal_entry_at(j, 2)->result_message, "getent"));
        assert_int_equal(journal_entry_at(j, 0)->result, UNDO_OK);
        journal_free(j);
}


/* ---- a home the person used -------------------------------------------- */

/* A home as a run leaves it: the skeleton's copies, the run's own files
 * (journaled, newest last) and, when used, what a desktop login and the
 * person wrote. Returns the journal's pending list (newest first). */
struct home_case {
        char *home, *skel, *state, *jpath;
        struct journal *j;
        const struct journal_entry **list;
        size_t n;
};

static void home_case_init(struct home_case *hc, bool used)
{
        char err[256];
        _cleanup_free_ char *getent_body = NULL;

        hc->skel = test_path(root, "skel");
        hc->home = test_path(root, used ? "home/used" : "home/fresh");
        hc->state = test_path(root, used ? "state-used" : "state-fresh");
        hc->jpath = test_path(root, used ? "journal-used.jsonl" : "journal-fresh.jsonl");
        assert_int_equal(mkdir_p(hc->skel, 0755), 0);
        {
                _cleanup_free_ char *sb = test_path(hc->skel, ".bashrc");
                test_write(sb, "# skel bashrc\n");
        }
        assert_int_equal(mkdir_p(hc->home, 0700), 0);

        /* useradd's copy of the skeleton */
        {
                _cleanup_free_ char *b = test_path(hc->home, ".bashrc");
                test_write(b, "# skel bashrc\n");
        }
        assert_int_equal(journal_open(hc->jpath, &hc->j, err, sizeof(err)), 0);
        struct undo uu = { .kind = UNDO_DELETE_USER, .name = S("devuser") };
        journal_append(hc->j, "20261206-101500", "user", "USER_CREATE", "devuser", &uu);

        /* the terminal phase's ~/.config/xfce4/helpers.rc */
        _cleanup_free_ char *conf = test_path(hc->home, ".config");
        _cleanup_free_ char *xfce = test_path(hc->home, ".config/xfce4");
        _cleanup_free_ char *helpers = test_path(hc->home, ".config/xfce4/helpers.rc");
        assert_int_equal(mkdir(conf, 0755), 0);
        assert_int_equal(mkdir(xfce, 0755), 0);
        test_write(helpers, "TerminalEmulator=xfce4-terminal\n");
        struct undo d1 = { .kind = UNDO_REMOVE_DIR, .path = conf };
        struct undo d2 = { .kind = UNDO_REMOVE_DIR, .path = xfce };
        struct undo f1 = { .kind = UNDO_REMOVE_FILE, .path = helpers };
        sha256_hex("TerminalEmulator=xfce4-terminal\n", 32, f1.sha256);
        journal_append(hc->j, "20261206-101500", "terminal", "FILE_CREATE", conf, &d1);
        journal_append(hc->j, "20261206-101500", "terminal", "FILE_CREATE", xfce, &d2);
        journal_append(hc->j, "20261206-101500", "terminal", "FILE_CREATE", helpers, &f1);

        if (used) {
                /* an XFCE login's settings, and the person's own work */
                _cleanup_free_ char *xfconf = test_path(hc->home, ".config/xfce4/xfconf");
                _cleanup_free_ char *panel = test_path(hc->home, ".config/xfce4/xfconf/panel.xml");
                _cleanup_free_ char *work = test_path(hc->home, "work");
                _cleanup_free_ char *notes = test_path(hc->home, "work/notes.txt");
                assert_int_equal(mkdir(xfconf, 0700), 0);
                test_write(panel, "<panel/>\n");
                assert_int_equal(mkdir(work, 0755), 0);
                test_write(notes, "a week of work\n");
        }
        getent_body = xasprintf("[ \"$1 $2\" = 'passwd devuser' ] && echo 'devuser:x:1001:1001::%s:/bin/bash'",
                                hc->home);
        test_stub(stubs, "getent", getent_body);
        test_stub(stubs, "loginctl", "exit 0");
        test_stub(stubs, "pkill", "exit 1");
        test_stub(stubs, "userdel", "exit 0");
        hc->n = journal_pending(hc->j, "20261206-101500", &hc->list);
        assert_int_equal(hc->n, 4);
}

/* Rolls the case's journal back with env pointed at its state and skeleton. */
static void home_case_rollback(struct home_case *hc, struct rollback_env *e)
{
        e->plan = (const struct journal_entry *const *)hc->list;
        e->n_plan = hc->n;
        e->state_dir = hc->state;
        e->skel_dir = hc->skel;
        e->notes = NULL;
        assert_int_equal(journal_rollback(hc->j, (const struct journal_entry *const *)hc->list, hc->n,
                                          rollback_apply, e), 0);
}

static void home_case_release(struct home_case *hc)
{
        free(hc->list);
        journal_free(hc->j);
        free(hc->home);
        free(hc->skel);
        free(hc->state);
        free(hc->jpath);
}

/* After a desktop login and a file of the person's: no failure, the run's
 * file removed, its directories left to the account's undo, the home kept
 * whole in a root-only directory that the note names; userdel still runs. */
static void test_home_used_is_kept(void **state)
{
        (void)state;
        struct home_case hc = { 0 };
        struct rollback_env e2 = env;
        _cleanup_free_ char *kept = NULL, *kept_notes = NULL, *kept_dir = NULL;
        struct stat st;

        home_case_init(&hc, true);
        home_case_rollback(&hc, &e2);

        kept_dir = test_path(hc.state, "kept-homes");
        kept = test_path(hc.state, "kept-homes/devuser-20261206-101500");
        kept_notes = test_path(hc.state, "kept-homes/devuser-20261206-101500/work/notes.txt");
        assert_false(path_exists(hc.home));
        _cleanup_free_ char *text = test_read(kept_notes);
        assert_string_equal(text, "a week of work\n");
        assert_int_equal(stat(kept_dir, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0700);
        /* the run's own file is gone from it, the session's settings kept */
        _cleanup_free_ char *h = test_path(kept, ".config/xfce4/helpers.rc");
        _cleanup_free_ char *pn = test_path(kept, ".config/xfce4/xfconf/panel.xml");
        assert_false(path_exists(h));
        assert_true(path_exists(pn));

        assert_int_equal(journal_entry_at(hc.j, 1)->result, UNDO_SKIPPED);
        assert_int_equal(journal_entry_at(hc.j, 2)->result, UNDO_SKIPPED);
        assert_contains(journal_entry_at(hc.j, 2)->result_message,
                        "left to the later step that deletes user devuser");
        assert_int_equal(journal_entry_at(hc.j, 3)->result, UNDO_OK);
        assert_int_equal(journal_entry_at(hc.j, 0)->result, UNDO_OK);
        assert_contains(journal_entry_at(hc.j, 0)->result_message, kept);

        assert_non_null(e2.notes);
        assert_int_equal(strv_length(e2.notes), 1);
        assert_contains(e2.notes[0], kept);
        assert_contains(e2.notes[0], "2 files, 24 bytes");   /* panel.xml, notes.txt */
        _cleanup_free_ char *calls = test_stub_calls(stubs);
        assert_contains(calls, "userdel --remove devuser\n");
        strv_free(e2.notes);
        home_case_release(&hc);
}

/* A home that holds nothing but the skeleton once the run's files are
 * undone goes with the account, as before; nothing is kept. */
static void test_home_unused_is_removed(void **state)
{
        (void)state;
        struct home_case hc = { 0 };
        struct rollback_env e2 = env;
        _cleanup_free_ char *kept_dir = NULL;

        home_case_init(&hc, false);
        home_case_rollback(&hc, &e2);
        kept_dir = test_path(hc.state, "kept-homes");
        assert_false(path_exists(kept_dir));
        assert_null(e2.notes);
        for (size_t i = 0; i < 4; i++)
                assert_int_equal(journal_entry_at(hc.j, i)->result, UNDO_OK);
        assert_contains(journal_entry_at(hc.j, 0)->result_message,
                        "deleted user devuser and its home directory");
        _cleanup_free_ char *calls = test_stub_calls(stubs);
        assert_contains(calls, "userdel --remove devuser\n");
        home_case_release(&hc);
}

/* A home that is a symlink is not followed (nothing behind it is looked
 * at or moved); a home that cannot be moved leaves the account in place
 * with words, and userdel is not run. */
static void test_home_odd_cases(void **state)
{
        (void)state;
        _cleanup_free_ char *target = test_path(root, "elsewhere");
        _cleanup_free_ char *link = test_path(root, "linkhome");
        _cleanup_free_ char *body = xasprintf("echo 'devuser:x:1001:1001::%s:/bin/bash'", link);
        _cleanup_free_ char *inside = test_path(root, "elsewhere/mine.txt");
        struct undo u = { .kind = UNDO_DELETE_USER, .name = S("devuser") };
        struct journal_entry je = { .seq = 9, .session_id = S("S1"), .undo = u };
        struct rollback_env e2 = env;
        char msg[2048];

        assert_int_equal(mkdir(target, 0700), 0);
        test_write(inside, "x");
        assert_int_equal(symlink(target, link), 0);
        test_stub(stubs, "getent", body);
        test_stub(stubs, "pkill", "exit 1");
        test_stub(stubs, "userdel", "exit 0");
        e2.notes = NULL;
        e2.state_dir = root;
        assert_int_equal(rollback_apply(&e2, &je, msg, sizeof(msg)), 0);
        assert_true(path_exists(inside));
        assert_null(e2.notes);

        /* the state directory cannot hold it (a file is in the way) */
        _cleanup_free_ char *home = test_path(root, "home2");
        _cleanup_free_ char *mine = test_path(root, "home2/mine.txt");
        _cleanup_free_ char *blocked = test_path(root, "blocked");
        _cleanup_free_ char *body2 = xasprintf("echo 'devuser:x:1001:1001::%s:/bin/bash'", home);
        _cleanup_free_ char *log = test_path(stubs, "calls.log");
        assert_int_equal(mkdir(home, 0700), 0);
        test_write(mine, "mine");
        test_write(blocked, "");
        test_stub(stubs, "getent", body2);
        unlink(log);
        e2.state_dir = blocked;
        assert_true(rollback_apply(&e2, &je, msg, sizeof(msg)) < 0);
        assert_contains(msg, "could not be moved aside");
        assert_contains(msg, "the account and its home were left in place");
        assert_true(path_exists(mine));
        _cleanup_free_ char *calls = test_stub_calls(stubs);
        assert_null(strstr(calls, "userdel"));
        assert_null(e2.notes);

        /* an older userdel says 12 when the home it should remove is
         * missing: the home was kept on purpose, so that is no failure */
        _cleanup_free_ char *state2 = test_path(root, "state-12");
        e2.state_dir = state2;
        test_stub(stubs, "userdel", "echo 'userdel: devuser home directory not found' >&2; exit 12");
        assert_int_equal(rollback_apply(&e2, &je, msg, sizeof(msg)), 0);
        assert_contains(msg, "it was kept, whole, in");
        assert_false(path_exists(home));
        assert_non_null(e2.notes);
        strv_free(e2.notes);
}

/* The account's owner swaps ~/.ssh for a link to root's: undoing the
 * run's ~/.ssh/authorized_keys (the same bytes as root's own) must not
 * remove or overwrite root's file through it. Root only (chown). */
static void test_user_symlink_not_followed(void **state)
{
        (void)state;
        _cleanup_free_ char *home = test_path(root, "uhome");
        _cleanup_free_ char *rootssh = test_path(root, "rootssh");
        _cleanup_free_ char *rootkeys = test_path(root, "rootssh/authorized_keys");
        _cleanup_free_ char *ssh = test_path(root, "uhome/.ssh");
        _cleanup_free_ char *keys = test_path(root, "uhome/.ssh/authorized_keys");
        _cleanup_free_ char *backup = make_file("keys.bak", "old key\n", 0600);
        _cleanup_free_ char *content = NULL;
        struct undo rm = { .kind = UNDO_REMOVE_FILE, .path = keys };
        struct undo rs = restore_undo(keys, backup, "old key\n");
        struct undo rd = { .kind = UNDO_REMOVE_DIR, .path = ssh };
        char msg[1024];

        if (geteuid() != 0) {
                skip();
                return;
        }
        sha256_hex("root's key\n", 11, rm.sha256);
        assert_int_equal(mkdir(home, 0755), 0);
        assert_int_equal(chown(home, 65534, 65534), 0);
        assert_int_equal(mkdir(rootssh, 0700), 0);
        test_write(rootkeys, "root's key\n");
        assert_int_equal(symlink(rootssh, ssh), 0);
        assert_int_equal(lchown(ssh, 65534, 65534), 0);

        assert_int_equal(apply(&rm, msg, sizeof(msg)), -ELOOP);
        assert_contains(msg, "left alone");
        assert_contains(msg, "does not follow it");
        assert_int_equal(apply(&rs, msg, sizeof(msg)), -ELOOP);
        content = test_read(rootkeys);
        assert_string_equal(content, "root's key\n");
        /* the link itself is the user's: a directory undo leaves it */
        assert_int_equal(apply(&rd, msg, sizeof(msg)), -ENOTDIR);
        assert_true(path_exists(ssh));
}

/* Debian's update-initramfs.conf, shortened: comments, the setting, another. */
#define INITRAMFS_CONF_TEXT "#\n# update_initramfs [ yes | all | no ]\n#\n\nupdate_initramfs=yes\n\nbackup_initramfs=no\n"

/* The configuration's setting is found (the last line, as sh reads it), a
 * hold and its end give back the same bytes, mode and owner, a file
 * without the setting gets the line appended and loses it again, a line
 * that is not there changes nothing, a missing file says so. */
static void test_initramfs_conf(void **state)
{
        (void)state;
        _cleanup_free_ char *conf = test_path(root, "update-initramfs.conf");
        _cleanup_free_ char *line = NULL, *none = NULL, *last = NULL;
        char *text;
        struct stat st;

        line = initramfs_conf_setting(INITRAMFS_CONF_TEXT);
        assert_string_equal(line, "update_initramfs=yes");
        none = initramfs_conf_setting("# update_initramfs=no\nbackup_initramfs=no");
        assert_null(none);
        last = initramfs_conf_setting("update_initramfs=yes\nupdate_initramfs=all");
        assert_string_equal(last, "update_initramfs=all");

        test_write(conf, INITRAMFS_CONF_TEXT);
        assert_int_equal(chmod(conf, 0640), 0);
        assert_int_equal(initramfs_conf_swap(conf, "update_initramfs=yes", INITRAMFS_HOLD_LINE), 0);
        text = test_read(conf);
        assert_non_null(strstr(text, "\nupdate_initramfs=no\n\nbackup_initramfs=no\n"));
        assert_null(strstr(text, "update_initramfs=yes"));
        free(text);
        assert_int_equal(initramfs_conf_swap(conf, INITRAMFS_HOLD_LINE, "update_initramfs=yes"), 0);
        text = test_read(conf);
        assert_string_equal(text, INITRAMFS_CONF_TEXT);
        free(text);
        assert_int_equal(stat(conf, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0640);
        /* the hold is over: nothing more to change */
        assert_int_equal(initramfs_conf_swap(conf, INITRAMFS_HOLD_LINE, "update_initramfs=yes"), 1);

        test_write(conf, "backup_initramfs=no");   /* no setting, no last newline */
        assert_int_equal(initramfs_conf_swap(conf, NULL, INITRAMFS_HOLD_LINE), 0);
        text = test_read(conf);
        assert_string_equal(text, "backup_initramfs=no\nupdate_initramfs=no\n");
        free(text);
        assert_int_equal(initramfs_conf_swap(conf, INITRAMFS_HOLD_LINE, ""), 0);
        text = test_read(conf);
        assert_string_equal(text, "backup_initramfs=no\n");
        free(text);

        unlink(conf);
        assert_int_equal(initramfs_conf_swap(conf, INITRAMFS_HOLD_LINE, ""), -ENOENT);
}

/* The undo of a hold: the line back and one update-initramfs -u; a second
 * undo finds nothing to do and runs nothing; a failing update-initramfs
 * fails the undo with its words; initramfs-tools gone: nothing to do. */
static void test_initramfs_update_undo(void **state)
{
        (void)state;
        _cleanup_free_ char *conf = test_path(root, "update-initramfs.conf");
        _cleanup_free_ char *text = NULL;
        struct undo u = { .kind = UNDO_INITRAMFS_UPDATE, .path = conf,
                          .value = S("update_initramfs=yes") };
        char msg[1024];

        test_write(conf, "#\nupdate_initramfs=no\nbackup_initramfs=no\n");
        test_stub(stubs, "update-initramfs", "echo 'update-initramfs: Generating /boot/initrd.img-6.12.0-1-amd64'");
        assert_int_equal(apply(&u, msg, sizeof(msg)), 0);
        assert_contains(msg, "on again");
        text = test_read(conf);
        assert_string_equal(text, "#\nupdate_initramfs=yes\nbackup_initramfs=no\n");
        assert_calls("update-initramfs -u\n");
        assert_contains(seen.last, "Generating /boot/initrd.img-6.12.0-1-amd64");

        assert_int_equal(apply(&u, msg, sizeof(msg)), 1);
        assert_contains(msg, "on already");
        assert_calls("update-initramfs -u\n");   /* not run again */

        test_write(conf, "update_initramfs=no\n");
        test_stub(stubs, "update-initramfs", "echo 'E: /etc/initramfs-tools/modules: unreadable' >&2; exit 1");
        assert_true(apply(&u, msg, sizeof(msg)) < 0);
        assert_contains(msg, "update-initramfs -u");
        assert_contains(msg, "unreadable");

        unlink(conf);
        assert_int_equal(apply(&u, msg, sizeof(msg)), 1);
        assert_contains(msg, "is gone");

        u.path = S("relative/update-initramfs.conf");
        assert_int_equal(apply(&u, msg, sizeof(msg)), -EINVAL);
}


/* A rollback's hold of the initramfs updates in a fresh directory: the
 * configuration (with INITRAMFS_CONF_TEXT), its record, and a /boot with a
 * kernel when with_kernel. */
struct rb_fixture {
        char *dir, *conf, *record, *boot;
        struct initramfs_rb_hold h;
};

static void rb_fixture_init(struct rb_fixture *f, const char *conf_text, bool with_kernel)
{
        f->dir = test_tmpdir();
        f->conf = test_path(f->dir, "update-initramfs.conf");
        f->record = test_path(f->dir, "initramfs-hold");
        f->boot = test_path(f->dir, "boot");
        assert_int_equal(mkdir(f->boot, 0755), 0);
        if (with_kernel) {
                _cleanup_free_ char *k = test_path(f->boot, "vmlinuz-6.12.0-1-amd64");
                test_write(k, "kernel");
        }
        if (conf_text) {
                test_write(f->conf, conf_text);
                assert_int_equal(chmod(f->conf, 0640), 0);
        }
        f->h = (struct initramfs_rb_hold){ .conf = f->conf, .record = f->record, .boot_dir = f->boot };
}

static void rb_fixture_release(struct rb_fixture *f)
{
        initramfs_rb_hold_release(&f->h);
        free(f->conf);
        free(f->record);
        free(f->boot);
}

/* A purge of one package while h is on (stubs of dpkg, dpkg-query and
 * apt-get); what rollback_apply() returned. */
static int purge_during(struct initramfs_rb_hold *h)
{
        char *pkgs[] = { S("plymouth"), NULL };
        struct journal_entry je = { .seq = 8, .type = S("X"),
                                    .undo = { .kind = UNDO_PURGE_PACKAGES, .list = pkgs } };
        struct rollback_env henv = env;
        char msg[1024];

        henv.initramfs_hold = h;
        test_stub(stubs, "dpkg", "echo amd64");
        test_stub(stubs, "dpkg-query", "printf 'ii \\tplymouth\\tamd64\\tnono\\n'");
        test_stub(stubs, "apt-get", "echo 'Removing plymouth ...'");
        return rollback_apply(&henv, &je, msg, sizeof(msg));
}

/* How many times update-initramfs ran (calls.log). */
static unsigned regen_calls(void)
{
        _cleanup_free_ char *calls = test_stub_calls(stubs);
        unsigned n = 0;

        for (const char *p = calls; (p = strstr(p, "update-initramfs")); p++)
                if (p == calls || p[-1] == '\n')
                        n++;
        return n;
}

static void assert_file_has(const char *path, const char *needle)
{
        _cleanup_free_ char *text = test_read(path);
        assert_contains(text, needle);
}

static void assert_file_is(const char *path, const char *want)
{
        _cleanup_free_ char *text = test_read(path);
        if (strcmp(text, want) != 0)
                fail_msg("%s holds:\n%s\nwanted:\n%s", path, text, want);
}

/* A purge during the hold: the configuration says no while it runs (the
 * apt-get stub prints what it saw), the record says a regeneration is
 * owed before the purge; the end puts the same bytes and mode back, runs
 * update-initramfs -u once, and removes the record; a second end does
 * nothing. */
static void test_initramfs_rb_hold_purge(void **state)
{
        (void)state;
        struct rb_fixture f;
        char *pkgs[] = { S("plymouth"), NULL };
        struct undo u = { .kind = UNDO_PURGE_PACKAGES, .list = pkgs };
        struct journal_entry je = { .seq = 9, .type = S("X") };
        struct rollback_env henv = env;
        _cleanup_free_ char *apt_body = NULL;
        char msg[1024];

        rb_fixture_init(&f, INITRAMFS_CONF_TEXT, true);
        assert_int_equal(initramfs_rb_hold_begin(&f.h, msg, sizeof(msg)), 0);
        assert_contains(msg, "held during the rollback");
        assert_true(f.h.on);
        assert_file_is(f.record, "asked=0\n" INITRAMFS_CONF_TEXT);
        assert_file_is(f.conf, "#\n# update_initramfs [ yes | all | no ]\n#\n\nupdate_initramfs=no\n\nbackup_initramfs=no\n");
        assert_int_equal(mode_of(f.conf), 0640);
        /* begun already: nothing more */
        assert_int_equal(initramfs_rb_hold_begin(&f.h, msg, sizeof(msg)), 1);

        henv.initramfs_hold = &f.h;
        je.undo = u;
        test_stub(stubs, "dpkg", "echo amd64");
        test_stub(stubs, "dpkg-query", "printf 'ii \\tplymouth\\tamd64\\tnono\\n'");
        /* the purge sees the hold and the record's flag (shell builtins only) */
        apt_body = xasprintf("h=no; while IFS= read -r l; do case \"$l\" in update_initramfs=no) h=yes;; esac; "
                             "done <'%s'; IFS= read -r r <'%s'; echo \"held=$h $r\"",
                             f.conf, f.record);
        test_stub(stubs, "apt-get", apt_body);
        test_stub(stubs, "update-initramfs", "echo 'update-initramfs: Generating /boot/initrd.img-6.12.0-1-amd64'");
        assert_int_equal(rollback_apply(&henv, &je, msg, sizeof(msg)), 0);
        _cleanup_free_ char *calls = test_stub_calls(stubs);
        assert_null(strstr(calls, "update-initramfs"));
        assert_string_equal(seen.last, "held=yes asked=1");
        assert_true(f.h.asked);

        assert_int_equal(initramfs_rb_hold_end(&f.h, &env, msg, sizeof(msg)), 0);
        assert_contains(msg, "regenerated once");
        assert_false(f.h.on);
        assert_file_is(f.conf, INITRAMFS_CONF_TEXT);
        assert_int_equal(mode_of(f.conf), 0640);
        assert_false(path_exists(f.record));
        free(calls);
        calls = test_stub_calls(stubs);
        assert_non_null(strstr(calls, "\nupdate-initramfs -u\n"));
        assert_null(strstr(strstr(calls, "update-initramfs -u") + 1, "update-initramfs"));
        assert_int_equal(initramfs_rb_hold_end(&f.h, &env, msg, sizeof(msg)), 1);
        rb_fixture_release(&f);
}

/* The rollback of a run stopped during its own hold: the configuration
 * says no already (left as it is), the undo of the run's hold changes only
 * the record (no regeneration mid-way, the file still says no), the end
 * writes the line from before the run and regenerates once. */
static void test_initramfs_rb_hold_run_hold(void **state)
{
        (void)state;
        struct rb_fixture f;
        const char *held = "#\nupdate_initramfs=no\nbackup_initramfs=no\n";
        struct rollback_env henv = env;
        struct journal_entry je = { .seq = 3, .type = S("X") };
        char msg[1024];

        rb_fixture_init(&f, held, true);
        test_stub(stubs, "update-initramfs", "echo made");
        assert_int_equal(initramfs_rb_hold_begin(&f.h, msg, sizeof(msg)), 0);
        assert_file_is(f.conf, held);
        henv.initramfs_hold = &f.h;
        je.undo = (struct undo){ .kind = UNDO_INITRAMFS_UPDATE, .path = f.conf,
                                 .value = S("update_initramfs=yes") };
        assert_int_equal(rollback_apply(&henv, &je, msg, sizeof(msg)), 0);
        assert_contains(msg, "at the end of the rollback");
        assert_file_is(f.conf, held);
        assert_file_is(f.record, "asked=1\n#\nupdate_initramfs=yes\nbackup_initramfs=no\n");
        assert_calls("");
        /* the same undo again (a rollback stopped after it, before its
         * outcome was journaled): nothing more */
        assert_int_equal(rollback_apply(&henv, &je, msg, sizeof(msg)), 1);

        assert_int_equal(initramfs_rb_hold_end(&f.h, &henv, msg, sizeof(msg)), 0);
        assert_file_is(f.conf, "#\nupdate_initramfs=yes\nbackup_initramfs=no\n");
        assert_calls("update-initramfs -u\n");
        assert_false(path_exists(f.record));
        rb_fixture_release(&f);
}

/* A rollback stopped during its hold (the struct dropped without an end):
 * the next one takes the record over, the configuration stays held, the
 * owed regeneration is made once at its end; stopped between the record
 * and the configuration's write: the configuration is held again and comes
 * back byte for byte, with no regeneration (none was asked for). */
static void test_initramfs_rb_hold_stopped(void **state)
{
        (void)state;
        struct rb_fixture f;
        struct initramfs_rb_hold again;
        char msg[1024];

        rb_fixture_init(&f, INITRAMFS_CONF_TEXT, true);
        test_stub(stubs, "update-initramfs", "echo made");
        assert_int_equal(initramfs_rb_hold_begin(&f.h, msg, sizeof(msg)), 0);
        assert_int_equal(purge_during(&f.h), 0);
        initramfs_rb_hold_release(&f.h);   /* killed */

        again = (struct initramfs_rb_hold){ .conf = f.conf, .record = f.record, .boot_dir = f.boot };
        assert_int_equal(initramfs_rb_hold_begin(&again, msg, sizeof(msg)), 0);
        assert_contains(msg, "stay held");
        assert_true(again.asked);
        assert_string_equal(again.text, INITRAMFS_CONF_TEXT);
        assert_file_has(f.conf, "\nupdate_initramfs=no\n");
        assert_int_equal(initramfs_rb_hold_end(&again, &env, msg, sizeof(msg)), 0);
        assert_file_is(f.conf, INITRAMFS_CONF_TEXT);
        assert_int_equal(regen_calls(), 1);
        assert_false(path_exists(f.record));
        initramfs_rb_hold_release(&again);

        /* the record written, the configuration not yet */
        test_write(f.record, "asked=0\n" INITRAMFS_CONF_TEXT);
        again = (struct initramfs_rb_hold){ .conf = f.conf, .record = f.record, .boot_dir = f.boot };
        assert_int_equal(initramfs_rb_hold_begin(&again, msg, sizeof(msg)), 0);
        assert_file_has(f.conf, "\nupdate_initramfs=no\n");
        assert_int_equal(initramfs_rb_hold_end(&again, &env, msg, sizeof(msg)), 1);
        assert_contains(msg, "nothing asked");
        assert_file_is(f.conf, INITRAMFS_CONF_TEXT);
        assert_int_equal(regen_calls(), 1);   /* not again */
        initramfs_rb_hold_release(&again);

        /* a damaged record: refused, the configuration untouched */
        test_write(f.record, "garbage");
        again = (struct initramfs_rb_hold){ .conf = f.conf, .record = f.record, .boot_dir = f.boot };
        assert_int_equal(initramfs_rb_hold_begin(&again, msg, sizeof(msg)), -EBADMSG);
        assert_false(again.on);
        assert_file_is(f.conf, INITRAMFS_CONF_TEXT);
        initramfs_rb_hold_release(&again);
        rb_fixture_release(&f);
}

/* No regeneration without a kernel in /boot, nor when the configuration
 * said no before (the administrator's: not written at all); the
 * configuration purged during the hold: only the record goes; no
 * configuration: nothing to hold. */
static void test_initramfs_rb_hold_cases(void **state)
{
        (void)state;
        struct rb_fixture f;
        const char *off = "update_initramfs='no'\n";
        char msg[1024];

        test_stub(stubs, "update-initramfs", "echo made");
        rb_fixture_init(&f, INITRAMFS_CONF_TEXT, false);
        assert_int_equal(initramfs_rb_hold_begin(&f.h, msg, sizeof(msg)), 0);
        assert_int_equal(purge_during(&f.h), 0);
        assert_int_equal(initramfs_rb_hold_end(&f.h, &env, msg, sizeof(msg)), 1);
        assert_contains(msg, "no kernel");
        assert_file_is(f.conf, INITRAMFS_CONF_TEXT);
        rb_fixture_release(&f);

        rb_fixture_init(&f, off, true);
        assert_int_equal(initramfs_rb_hold_begin(&f.h, msg, sizeof(msg)), 0);
        assert_file_is(f.conf, off);
        assert_int_equal(purge_during(&f.h), 0);
        assert_int_equal(initramfs_rb_hold_end(&f.h, &env, msg, sizeof(msg)), 1);
        assert_file_is(f.conf, off);
        rb_fixture_release(&f);

        rb_fixture_init(&f, INITRAMFS_CONF_TEXT, true);
        assert_int_equal(initramfs_rb_hold_begin(&f.h, msg, sizeof(msg)), 0);
        assert_int_equal(purge_during(&f.h), 0);
        assert_int_equal(unlink(f.conf), 0);   /* initramfs-tools purged */
        assert_int_equal(initramfs_rb_hold_end(&f.h, &env, msg, sizeof(msg)), 1);
        assert_contains(msg, "is gone");
        assert_false(path_exists(f.conf));
        assert_false(path_exists(f.record));
        rb_fixture_release(&f);

        rb_fixture_init(&f, NULL, true);
        assert_int_equal(initramfs_rb_hold_begin(&f.h, msg, sizeof(msg)), 1);
        assert_false(f.h.on);
        assert_false(path_exists(f.record));
        assert_int_equal(regen_calls(), 0);   /* in none of the cases */
        rb_fixture_release(&f);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup(test_initramfs_rb_hold_purge, setup_each),
                cmocka_unit_test_setup(test_initramfs_rb_hold_run_hold, setup_each),
                cmocka_unit_test_setup(test_initramfs_rb_hold_stopped, setup_each),
                cmocka_unit_test_setup(test_initramfs_rb_hold_cases, setup_each),
                cmocka_unit_test_setup(test_restore_file, setup_each),
                cmocka_unit_test_setup(test_restore_file_tampered_backup, setup_each),
                cmocka_unit_test_setup(test_restore_file_missing_backup, setup_each),
                cmocka_unit_test_setup(test_remove_file, setup_each),
                cmocka_unit_test_setup(test_remove_dir, setup_each),
                cmocka_unit_test_setup(test_remove_apt_source, setup_each),
                cmocka_unit_test_setup(test_purge_only_installed, setup_each),
                cmocka_unit_test_setup(test_purge_config_files_state, setup_each),
                cmocka_unit_test_setup(test_purge_none_installed, setup_each),
                cmocka_unit_test_setup(test_purge_failures, setup_each),
                cmocka_unit_test_setup(test_purge_guarded_package, setup_each),
                cmocka_unit_test_setup(test_delete_user, setup_each),
                cmocka_unit_test_setup(test_delete_user_busy_then_gone, setup_each),
                cmocka_unit_test_setup(test_delete_group, setup_each),
                cmocka_unit_test_setup(test_remove_group_member, setup_each),
                cmocka_unit_test_setup(test_disable_unit, setup_each),
                cmocka_unit_test_setup(test_enable_start_unit, setup_each),
                cmocka_unit_test_setup(test_stop_unmask_restart_unit, setup_each),
                cmocka_unit_test_setup(test_set_alternative, setup_each),
                cmocka_unit_test_setup(test_ufw, setup_each),
                cmocka_unit_test_setup(test_ufw_add_rule, setup_each),
                cmocka_unit_test_setup(test_nothing_and_unknown, setup_each),
                cmocka_unit_test_setup(test_with_journal, setup_each),
                cmocka_unit_test_setup(test_home_used_is_kept, setup_each),
                cmocka_unit_test_setup(test_home_unused_is_removed, setup_each),
                cmocka_unit_test_setup(test_home_odd_cases, setup_each),
                cmocka_unit_test_setup(test_user_symlink_not_followed, setup_each),
                cmocka_unit_test_setup(test_mandb_auto_update_on, setup_each),
                cmocka_unit_test_setup(test_mandb_auto_update_gone, setup_each),
                cmocka_unit_test_setup(test_initramfs_conf, setup_each),
                cmocka_unit_test_setup(test_initramfs_update_undo, setup_each),
        };
        return cmocka_run_group_tests(tests, setup_all, NULL);
}
