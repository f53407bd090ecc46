/* test_safepath.c — root's file changes in a directory another user
 * controls: a symlink there never redirects them. */
#include "testlib.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "safepath.h"
#include "util.h"

#define OTHER 65534   /* nobody: "another user" */

static int setup(void **state)
{
        (void)state;
        /* chown/lchown to another user need root: the refusals are checked
         * as root only (CI runs the tests as root) */
        return 0;
}

static void read_write_plain(void **state)
{
        (void)state;
        char *dir = test_tmpdir();
        _cleanup_free_ char *path = test_path(dir, "file");
        _cleanup_safepath_ struct safepath p = { .dir = -1 };
        _cleanup_free_ char *data = NULL;
        char err[256];
        struct stat st;
        size_t len;

        assert_int_equal(safepath_open(path, &p, err, sizeof(err)), 0);
        assert_string_equal(p.name, "file");
        assert_int_equal(safepath_read(&p, 100, &data, &len), -ENOENT);
        assert_int_equal(safepath_write(&p, "hello\n", 6, 0640, (uid_t)-1, (gid_t)-1), 0);
        assert_int_equal(safepath_read(&p, 100, &data, &len), 0);
        assert_int_equal(len, 6);
        assert_memory_equal(data, "hello\n", 6);
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0640);
        free(data);
        data = NULL;
        assert_int_equal(safepath_read(&p, 3, &data, &len), -EFBIG);
}

/* ~/.ssh -> /root/.ssh, made by the account's owner: refused, the target
 * never written; a root symlink in a root-only directory (usrmerge's /lib)
 * is followed. */
static void parent_links(void **state)
{
        (void)state;
        char *dir = test_tmpdir();
        _cleanup_free_ char *home = test_path(dir, "home");
        _cleanup_free_ char *target = test_path(dir, "rootssh");
        _cleanup_free_ char *keys = test_path(dir, "rootssh/authorized_keys");
        _cleanup_free_ char *link = test_path(dir, "home/.ssh");
        _cleanup_free_ char *via = test_path(dir, "home/.ssh/authorized_keys");
        _cleanup_free_ char *rootlink = test_path(dir, "lib");
        _cleanup_free_ char *via_root = test_path(dir, "lib/authorized_keys");
        _cleanup_safepath_ struct safepath p = { .dir = -1 };
        _cleanup_free_ char *content = NULL;
        char err[512];

        assert_int_equal(mkdir(home, 0755), 0);
        assert_int_equal(mkdir(target, 0700), 0);
        test_write(keys, "root's key\n");

        /* root's own link in a directory only root writes: followed */
        assert_int_equal(symlink(target, rootlink), 0);
        assert_int_equal(safepath_open(via_root, &p, err, sizeof(err)), 0);
        safepath_close(&p);

        if (geteuid() != 0) {
                skip();
                return;
        }
        /* the user's home, the user's link */
        assert_int_equal(chown(home, OTHER, OTHER), 0);
        assert_int_equal(symlink(target, link), 0);
        assert_int_equal(lchown(link, OTHER, OTHER), 0);
        assert_int_equal(safepath_open(via, &p, err, sizeof(err)), -ELOOP);
        assert_non_null(strstr(err, link));
        assert_non_null(strstr(err, "does not follow it"));
        assert_int_equal(p.dir, -1);

        /* even a root-owned link, where the user can swap it */
        assert_int_equal(lchown(link, 0, 0), 0);
        assert_int_equal(safepath_open(via, &p, err, sizeof(err)), -ELOOP);

        content = test_read(keys);
        assert_string_equal(content, "root's key\n");
}

/* The last component: a symlink is not read through, and a write replaces
 * the link itself; a FIFO does not block a read. */
static void last_component(void **state)
{
        (void)state;
        char *dir = test_tmpdir();
        _cleanup_free_ char *target = test_path(dir, "shadow");
        _cleanup_free_ char *link = test_path(dir, ".bashrc");
        _cleanup_free_ char *fifo = test_path(dir, "fifo");
        _cleanup_safepath_ struct safepath p = { .dir = -1 }, f = { .dir = -1 };
        _cleanup_free_ char *data = NULL, *content = NULL;
        char err[256];
        struct stat st;
        size_t len;

        test_write(target, "secret\n");
        assert_int_equal(symlink(target, link), 0);
        assert_int_equal(safepath_open(link, &p, err, sizeof(err)), 0);
        assert_int_equal(safepath_read(&p, 100, &data, &len), -ELOOP);
        assert_int_equal(safepath_write(&p, "new\n", 4, 0644, (uid_t)-1, (gid_t)-1), 0);
        assert_int_equal(lstat(link, &st), 0);
        assert_true(S_ISREG(st.st_mode));
        content = test_read(target);
        assert_string_equal(content, "secret\n");

        assert_int_equal(mkfifo(fifo, 0600), 0);
        assert_int_equal(safepath_open(fifo, &f, err, sizeof(err)), 0);
        assert_int_equal(safepath_read(&f, 100, &data, &len), -EINVAL);
}

static void make_dir(void **state)
{
        (void)state;
        char *dir = test_tmpdir();
        _cleanup_free_ char *d = test_path(dir, ".config");
        _cleanup_free_ char *l = test_path(dir, "link");
        _cleanup_free_ char *f = test_path(dir, "file");
        _cleanup_safepath_ struct safepath p = { .dir = -1 }, pl = { .dir = -1 }, pf = { .dir = -1 };
        char err[256];
        struct stat st;
        uid_t owner = geteuid() == 0 ? OTHER : (uid_t)-1;

        assert_int_equal(safepath_open(d, &p, err, sizeof(err)), 0);
        assert_int_equal(safepath_mkdir(&p, 0751, owner, owner == (uid_t)-1 ? (gid_t)-1 : OTHER), 0);
        assert_int_equal(stat(d, &st), 0);
        assert_true(S_ISDIR(st.st_mode));
        assert_int_equal(st.st_mode & 07777, 0751);
        if (owner != (uid_t)-1)
                assert_int_equal(st.st_uid, OTHER);
        assert_int_equal(safepath_mkdir(&p, 0700, (uid_t)-1, (gid_t)-1), 1);
        assert_int_equal(stat(d, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0751);   /* an existing one is left alone */

        assert_int_equal(symlink("/etc", l), 0);
        assert_int_equal(safepath_open(l, &pl, err, sizeof(err)), 0);
        assert_int_equal(safepath_mkdir(&pl, 0755, (uid_t)-1, (gid_t)-1), -ELOOP);
        test_write(f, "x");
        assert_int_equal(safepath_open(f, &pf, err, sizeof(err)), 0);
        assert_int_equal(safepath_mkdir(&pf, 0755, (uid_t)-1, (gid_t)-1), -ENOTDIR);
}

static void bad_paths(void **state)
{
        (void)state;
        struct safepath p = { .dir = -1 };
        char err[256];

        assert_int_equal(safepath_open("relative/x", &p, err, sizeof(err)), -EINVAL);
        assert_int_equal(safepath_open("/tmp/", &p, err, sizeof(err)), -EINVAL);
        assert_int_equal(safepath_open("/tmp/..", &p, err, sizeof(err)), -EINVAL);
        assert_int_equal(safepath_open("/tmp/../etc/x", &p, err, sizeof(err)), -EINVAL);
        assert_int_equal(safepath_open("/no-such-dir-vpsp/x", &p, err, sizeof(err)), -ENOENT);
        assert_int_equal(p.dir, -1);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(read_write_plain),
                cmocka_unit_test(parent_links),
                cmocka_unit_test(last_component),
                cmocka_unit_test(make_dir),
                cmocka_unit_test(bad_paths),
        };
        return cmocka_run_group_tests(tests, setup, NULL);
}
