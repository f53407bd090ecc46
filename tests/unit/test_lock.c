/* test_lock.c — the run lock: acquire and release, a second holder, stale
 * locks left by dead runs, close-on-exec, the holder message. */
#include "testlib.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lock.h"
#include "util.h"

/* The fd this process has open on path, or -1. */
static int find_fd_of(const char *path)
{
        char real[PATH_MAX];

        assert_non_null(realpath(path, real));
        for (int fd = 0; fd < 1024; fd++) {
                char link[64], target[PATH_MAX];
                ssize_t n;

                snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
                n = readlink(link, target, sizeof(target) - 1);
                if (n < 0)
                        continue;
                target[n] = '\0';
                if (strcmp(target, real) == 0)
                        return fd;
        }
        return -1;
}

static void acquire_release(void **state)
{
        (void)state;
        char *dir = test_tmpdir();
        char *path = test_path(dir, "vps-provision.lock");
        struct lock_info holder = { .pid = -5 };
        char note[256] = "junk";
        char expect[64];
        struct lock *l = NULL;
        struct stat st;
        char *content;

        assert_int_equal(lock_acquire(path, "provision", &l, &holder, note, sizeof(note)), 0);
        assert_non_null(l);
        assert_string_equal(note, "");
        assert_int_equal(holder.pid, -5); /* untouched on success */

        assert_int_equal(stat(path, &st), 0);
        assert_true(S_ISREG(st.st_mode));
        assert_int_equal(st.st_mode & 0777, 0600);
        content = test_read(path);
        assert_non_null(content);
        snprintf(expect, sizeof(expect), "pid=%d\nstarted=", (int)getpid());
        assert_true(startswith(content, expect));
        assert_non_null(strstr(content, "Z\noperation=provision\n"));
        free(content);

        lock_release(l);
        assert_false(path_exists(path));
        free(path);
}

static void release_null(void **state)
{
        (void)state;
        lock_release(NULL);
}

static void fd_is_cloexec(void **state)
{
        (void)state;
        char *dir = test_tmpdir();
        char *path = test_path(dir, "x.lock");
        struct lock *l = NULL;
        int fd, before = test_count_fds();

        assert_int_equal(lock_acquire(path, "provision", &l, NULL, NULL, 0), 0);
        assert_int_equal(test_count_fds(), before + 1);
        fd = find_fd_of(path);
        assert_true(fd >= 0);
        assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
        lock_release(l);
        assert_int_equal(test_count_fds(), before);
        free(path);
}

/* A child process takes the lock and keeps it until told to go. */
static void busy_when_child_holds(void **state)
{
        (void)state;
        char *dir = test_tmpdir();
        char *path = test_path(dir, "run.lock");
        int ready[2], go[2], status;
        struct lock_info holder = { 0 };
        char note[256] = "junk";
        struct lock *l = NULL;
        pid_t child;
        char c;

        assert_int_equal(pipe2(ready, O_CLOEXEC), 0);
        assert_int_equal(pipe2(go, O_CLOEXEC), 0);
        child = fork();
        assert_true(child >= 0);
        if (child == 0) {
                struct lock *cl = NULL;
                char ok = lock_acquire(path, "rollback", &cl, NULL, NULL, 0) == 0 ? 'y' : 'n';
                (void)!write(ready[1], &ok, 1);
                (void)!read(go[0], &c, 1);
                lock_release(cl);
                _exit(0);
        }
        close(ready[1]);
        close(go[0]);
        assert_int_equal(read(ready[0], &c, 1), 1);
        assert_int_equal(c, 'y');

        assert_int_equal(lock_acquire(path, "provision", &l, &holder, note, sizeof(note)),
                         -EBUSY);
        assert_null(l);
        assert_string_equal(note, "junk"); /* untouched on failure */
        assert_int_equal(holder.pid, child);
        assert_int_equal(strlen(holder.started), 20);
        assert_int_equal(holder.started[19], 'Z');
        assert_string_equal(holder.operation, "rollback");
        /* Still busy without a holder buffer. */
        assert_int_equal(lock_acquire(path, "provision", &l, NULL, NULL, 0), -EBUSY);

        assert_int_equal(write(go[1], "x", 1), 1);
        assert_int_equal(waitpid(child, &status, 0), child);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        close(ready[0]);
        close(go[1]);

        /* The child released cleanly: no stale note. */
        assert_false(path_exists(path));
        assert_int_equal(lock_acquire(path, "provision", &l, NULL, note, sizeof(note)), 0);
        assert_string_equal(note, "");
        lock_release(l);
        free(path);
}

/* The holder dies without releasing: the kernel drops the flock, the file
 * stays, and the next run takes it over with a note. */
static void holder_killed(void **state)
{
        (void)state;
        char *dir = test_tmpdir();
        char *path = test_path(dir, "run.lock");
        int ready[2], status;
        char note[256] = "junk", pidstr[32];
        struct lock *l = NULL;
        pid_t child;
        char c;

        assert_int_equal(pipe2(ready, O_CLOEXEC), 0);
        child = fork();
        assert_true(child >= 0);
        if (child == 0) {
                struct lock *cl = NULL;
                char ok = lock_acquire(path, "provision", &cl, NULL, NULL, 0) == 0 ? 'y' : 'n';
                (void)!write(ready[1], &ok, 1);
                for (;;)
                        pause();
        }
        close(ready[1]);
        assert_int_equal(read(ready[0], &c, 1), 1);
        assert_int_equal(c, 'y');
        close(ready[0]);
        assert_int_equal(kill(child, SIGKILL), 0);
        assert_int_equal(waitpid(child, &status, 0), child);
        assert_true(path_exists(path));

        assert_int_equal(lock_acquire(path, "provision", &l, NULL, note, sizeof(note)), 0);
        snprintf(pidstr, sizeof(pidstr), "pid %d ", (int)child);
        assert_non_null(strstr(note, "took over a stale lock"));
        assert_non_null(strstr(note, pidstr));
        assert_non_null(strstr(note, "no longer running"));
        lock_release(l);
        free(path);
}

/* A file naming a pid that has exited (written by hand, no flock). */
static void stale_dead_pid(void **state)
{
        (void)state;
        char *dir = test_tmpdir();
        char *path = test_path(dir, "run.lock");
        char content[128], note[256] = "", expect[64];
        struct lock *l = NULL;
        pid_t child;
        char *now;

        child = fork();
        assert_true(child >= 0);
        if (child == 0)
                _exit(0);
        assert_int_equal(waitpid(child, NULL, 0), child);

        snprintf(content, sizeof(content),
                 "pid=%d\nstarted=2026-01-02T03:04:05Z\noperation=provision\n", (int)child);
        test_write(path, content);
        assert_int_equal(chmod(path, 0600), 0);

        assert_int_equal(lock_acquire(path, "resume", &l, NULL, note, sizeof(note)), 0);
        snprintf(expect, sizeof(expect), "took over a stale lock left by pid %d ", (int)child);
        assert_true(startswith(note, expect));
        assert_non_null(strstr(note, "started 2026-01-02T03:04:05Z, provision"));
        assert_non_null(strstr(note, "no longer running"));

        /* The file now names us. */
        now = test_read(path);
        snprintf(expect, sizeof(expect), "pid=%d\n", (int)getpid());
        assert_true(startswith(now, expect));
        assert_non_null(strstr(now, "operation=resume\n"));
        assert_null(strstr(now, "2026-01-02"));
        free(now);
        lock_release(l);
        free(path);
}

/* A file naming a live process that does not hold the flock (pid reused,
 * or a lock file copied around): taken over, said differently. */
static void stale_live_pid(void **state)
{
        (void)state;
        char *dir = test_tmpdir();
        char *path = test_path(dir, "run.lock");
        char content[128], note[256] = "", expect[64];
        struct lock *l = NULL;

        snprintf(content, sizeof(content), "pid=%d\noperation=provision\n", (int)getppid());
        test_write(path, content);
        assert_int_equal(lock_acquire(path, "provision", &l, NULL, note, sizeof(note)), 0);
        snprintf(expect, sizeof(expect), "took over a stale lock left by pid %d ", (int)getppid());
        assert_true(startswith(note, expect));
        assert_non_null(strstr(note, "at an unknown time"));
        assert_non_null(strstr(note, "no longer holds it"));
        lock_release(l);

        /* Our own pid left in the file (an earlier lock of this process
         * that was not removed) is no news. */
        snprintf(content, sizeof(content), "pid=%d\n", (int)getpid());
        test_write(path, content);
        assert_int_equal(lock_acquire(path, "provision", &l, NULL, note, sizeof(note)), 0);
        assert_string_equal(note, "");
        lock_release(l);

        /* Garbage is no holder either. */
        test_write(path, "pid=12abc\nstarted=\x1b[31m\n");
        assert_int_equal(lock_acquire(path, "provision", &l, NULL, note, sizeof(note)), 0);
        assert_string_equal(note, "");
        lock_release(l);
        free(path);
}

/* Another open file description of this process holds the flock on an
 * empty file: busy, holder unknown (pid 0). */
static void busy_unreadable_holder(void **state)
{
        (void)state;
        char *dir = test_tmpdir();
        char *path = test_path(dir, "run.lock");
        struct lock_info holder = { .pid = 77 };
        struct lock *l = NULL;
        int fd;

        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        assert_true(fd >= 0);
        assert_int_equal(flock(fd, LOCK_EX | LOCK_NB), 0);
        assert_int_equal(lock_acquire(path, "provision", &l, &holder, NULL, 0), -EBUSY);
        assert_int_equal(holder.pid, 0);
        assert_string_equal(holder.started, "");
        assert_string_equal(holder.operation, "");
        close(fd);
        assert_int_equal(lock_acquire(path, "provision", &l, &holder, NULL, 0), 0);
        lock_release(l);
        free(path);
}

/* The lock's own directory is made root-only (0700); the ones above it
 * 0755, as mkdir -p would. */
static void missing_directory_created(void **state)
{
        (void)state;
        char *dir = test_tmpdir();
        char *top = test_path(dir, "run");
        char *sub = test_path(dir, "run/vps-provision");
        char *path = test_path(dir, "run/vps-provision/lock");
        struct lock *l = NULL;
        struct stat st;
        mode_t old = umask(022);

        assert_int_equal(lock_acquire(path, "provision", &l, NULL, NULL, 0), 0);
        umask(old);
        assert_int_equal(stat(top, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0755);
        assert_int_equal(stat(sub, &st), 0);
        assert_true(S_ISDIR(st.st_mode));
        assert_int_equal(st.st_mode & 0777, 0700);
        assert_true(path_exists(path));
        lock_release(l);
        assert_false(path_exists(path));
        assert_true(path_exists(sub)); /* only the file goes */
        free(top);
        free(sub);
        free(path);
}

/* A directory others may write to (/run/lock, /tmp) is refused whatever
 * is in it: anyone could create the file first and block every run, or
 * put a symlink there. Nothing is created, nothing is truncated, and the
 * note says why and what to do. */
static void shared_directory_refused(void **state)
{
        (void)state;
        char *dir = test_tmpdir();
        char *shared = test_path(dir, "shared");
        char *path = test_path(dir, "shared/vps-provision.lock");
        char *target = test_path(dir, "precious");
        char note[512] = "";
        struct lock *l = NULL;
        char *content;

        assert_int_equal(mkdir(shared, 0700), 0);
        assert_int_equal(chmod(shared, 01777), 0);   /* like /run/lock */
        assert_int_equal(lock_acquire(path, "provision", &l, NULL, note, sizeof(note)), -EPERM);
        assert_null(l);
        assert_false(path_exists(path));
        assert_non_null(strstr(note, shared));
        assert_non_null(strstr(note, "other users can write"));
        assert_non_null(strstr(note, "VPS_PROVISION_LOCK"));

        /* a file someone made there first: not touched, still refused */
        test_write(path, "pid=1\n");
        assert_int_equal(lock_acquire(path, "provision", &l, NULL, note, sizeof(note)), -EPERM);
        content = test_read(path);
        assert_string_equal(content, "pid=1\n");
        free(content);
        assert_int_equal(unlink(path), 0);

        /* a symlink there: its target is not truncated */
        test_write(target, "keep me\n");
        assert_int_equal(symlink(target, path), 0);
        assert_int_equal(lock_acquire(path, "provision", &l, NULL, note, sizeof(note)), -EPERM);
        content = test_read(target);
        assert_string_equal(content, "keep me\n");
        free(content);
        assert_int_equal(unlink(path), 0);

        /* group-writable is no better */
        assert_int_equal(chmod(shared, 0770), 0);
        assert_int_equal(lock_acquire(path, "provision", &l, NULL, note, sizeof(note)), -EPERM);
        assert_false(path_exists(path));
        free(shared);
        free(path);
        free(target);
}

/* A directory that belongs to another user is refused (root only: the
 * test needs chown). */
static void foreign_directory_refused(void **state)
{
        (void)state;
        char *dir = test_tmpdir();
        char *sub = test_path(dir, "theirs");
        char *path = test_path(dir, "theirs/lock");
        char note[512] = "";
        struct lock *l = NULL;

        if (geteuid() != 0) {
                skip();
                return;
        }
        assert_int_equal(mkdir(sub, 0700), 0);
        assert_int_equal(chown(sub, 65534, 65534), 0);
        assert_int_equal(lock_acquire(path, "provision", &l, NULL, note, sizeof(note)), -EPERM);
        assert_null(l);
        assert_false(path_exists(path));
        assert_non_null(strstr(note, "belongs to uid 65534"));
        free(sub);
        free(path);
}

/* In a root-only directory only root can have left something at the
 * path: a symlink, a FIFO or another user's file is a leftover, removed
 * (never followed, never opened) and replaced by the lock, with a note. A
 * directory there is left alone and refused. */
static void leftovers_replaced(void **state)
{
        (void)state;
        char *dir = test_tmpdir();
        char *path = test_path(dir, "lock");
        char *target = test_path(dir, "precious");
        char note[512] = "";
        struct lock *l = NULL;
        struct stat st;
        char *content;

        test_write(target, "keep me\n");
        assert_int_equal(symlink(target, path), 0);
        assert_int_equal(lock_acquire(path, "provision", &l, NULL, note, sizeof(note)), 0);
        assert_non_null(strstr(note, "removed a symbolic link"));
        assert_int_equal(lstat(path, &st), 0);
        assert_true(S_ISREG(st.st_mode));
        content = test_read(target);
        assert_string_equal(content, "keep me\n");
        free(content);
        lock_release(l);

        /* a FIFO: opening it would hang a reader; it is not opened */
        assert_int_equal(mkfifo(path, 0600), 0);
        assert_int_equal(lock_acquire(path, "provision", &l, NULL, note, sizeof(note)), 0);
        assert_non_null(strstr(note, "removed a FIFO"));
        lock_release(l);

        if (geteuid() == 0) {
                test_write(path, "pid=1\n");
                assert_int_equal(chown(path, 65534, 65534), 0);
                assert_int_equal(lock_acquire(path, "provision", &l, NULL, note, sizeof(note)), 0);
                assert_non_null(strstr(note, "owned by uid 65534"));
                assert_int_equal(stat(path, &st), 0);
                assert_int_equal(st.st_uid, 0);
                assert_int_equal(st.st_mode & 0777, 0600);
                lock_release(l);
        }

        assert_int_equal(mkdir(path, 0700), 0);
        l = NULL;
        assert_int_equal(lock_acquire(path, "provision", &l, NULL, note, sizeof(note)), -EISDIR);
        assert_null(l);
        assert_non_null(strstr(note, "is a directory"));
        assert_int_equal(lstat(path, &st), 0);
        assert_true(S_ISDIR(st.st_mode));
        free(path);
        free(target);
}

static void bad_arguments(void **state)
{
        (void)state;
        char *dir = test_tmpdir();
        char *path = test_path(dir, "run.lock");
        struct lock *l = NULL;

        assert_int_equal(lock_acquire(path, "pro\nvision", &l, NULL, NULL, 0), -EINVAL);
        assert_int_equal(lock_acquire(path, "an-operation-name-of-32-bytes-xx", &l, NULL, NULL, 0),
                         -EINVAL);
        assert_int_equal(lock_acquire("", "provision", &l, NULL, NULL, 0), -EINVAL);
        assert_int_equal(lock_acquire(NULL, "provision", &l, NULL, NULL, 0), -EINVAL);
        assert_null(l);
        assert_false(path_exists(path));

        /* The directory cannot be created: a file is in the way. */
        char *file = test_path(dir, "file");
        char *under = test_path(dir, "file/run.lock");
        test_write(file, "");
        assert_int_equal(lock_acquire(under, "provision", &l, NULL, NULL, 0), -ENOTDIR);
        assert_null(l);

        /* NULL operation is an empty one. */
        assert_int_equal(lock_acquire(path, NULL, &l, NULL, NULL, 0), 0);
        char *content = test_read(path);
        assert_non_null(strstr(content, "\noperation=\n"));
        free(content);
        lock_release(l);
        free(file);
        free(under);
        free(path);
}

static void describe_holder(void **state)
{
        (void)state;
        struct lock_info h = { .pid = 1234, .started = "2026-11-22T10:15:00Z",
                               .operation = "provision" };
        char buf[256], small[16];

        lock_describe_holder("/run/vps-provision/lock", &h, buf, sizeof(buf));
        assert_string_equal(buf, "another vps-provision run (pid 1234, started "
                                 "2026-11-22T10:15:00Z, provision) holds "
                                 "/run/vps-provision/lock; wait for it to finish or "
                                 "stop it first");

        h.operation[0] = '\0';
        lock_describe_holder("/x.lock", &h, buf, sizeof(buf));
        assert_string_equal(buf, "another vps-provision run (pid 1234, started "
                                 "2026-11-22T10:15:00Z) holds /x.lock; wait for it to "
                                 "finish or stop it first");

        h.started[0] = '\0';
        snprintf(h.operation, sizeof(h.operation), "rollback");
        lock_describe_holder("/x.lock", &h, buf, sizeof(buf));
        assert_string_equal(buf, "another vps-provision run (pid 1234, rollback) holds "
                                 "/x.lock; wait for it to finish or stop it first");

        h.pid = 0;
        lock_describe_holder("/x.lock", &h, buf, sizeof(buf));
        assert_string_equal(buf, "another vps-provision run holds /x.lock; wait for it to "
                                 "finish or stop it first");
        lock_describe_holder("/x.lock", NULL, buf, sizeof(buf));
        assert_string_equal(buf, "another vps-provision run holds /x.lock; wait for it to "
                                 "finish or stop it first");

        /* Truncated, still terminated. */
        lock_describe_holder("/x.lock", &h, small, sizeof(small));
        assert_string_equal(small, "another vps-pro");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(acquire_release),
                cmocka_unit_test(release_null),
                cmocka_unit_test(fd_is_cloexec),
                cmocka_unit_test(busy_when_child_holds),
                cmocka_unit_test(holder_killed),
                cmocka_unit_test(stale_dead_pid),
                cmocka_unit_test(stale_live_pid),
                cmocka_unit_test(busy_unreadable_holder),
                cmocka_unit_test(missing_directory_created),
                cmocka_unit_test(shared_directory_refused),
                cmocka_unit_test(foreign_directory_refused),
                cmocka_unit_test(leftovers_replaced),
                cmocka_unit_test(bad_arguments),
                cmocka_unit_test(describe_holder),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
