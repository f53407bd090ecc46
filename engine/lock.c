/* lock.c — see lock.h.
 *
 * DESIGN
 * The lock is the flock on the file, not the file's existence: the kernel
 * drops it when the holder dies, however it dies, so there is no stale
 * state to clean up by hand. The content (pid, start time, operation) is
 * only there to tell a second run who is in the way.
 *
 * lock_release() removes the file while it still holds the flock, and
 * lock_acquire() checks after locking that the inode it locked is still the
 * one at the path. Without both, this interleaving gives two holders:
 *   A holds the lock; B opens the file and waits in flock;
 *   A closes (B now holds the old inode), then A unlinks the path;
 *   C creates a new file at the path and locks it: B and C both "hold" it.
 * Unlinking first means whoever locks the old inode afterwards sees that it
 * is no longer linked at the path and starts over with a fresh file.
 *
 * The directory must be ours alone (owned by this user, written by no group
 * and no other user; the default /run/vps-provision is 0700). In a shared
 * one such as /run/lock anyone could create the file first and block every
 * run, or plant a symlink to /etc/shadow for us to truncate; so a shared or
 * foreign directory is refused before anything is created in it. Inside
 * our own directory only root can have left something at the path: a
 * symlink, FIFO, socket or another user's file is a leftover, unlinked and
 * replaced (never followed, never opened). The file is opened relative to
 * the directory's fd (openat, O_NOFOLLOW), so the directory that was
 * checked is the one used. */
#include "lock.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "util.h"

#define LOCK_FILE_MAX 4096
#define LOCK_TRIES 16

struct lock {
        int fd;
        char *path;
};

/* Copies a value from the lock file, replacing anything unprintable so the
 * message a person reads cannot carry terminal escapes. */
static void copy_printable(char *dst, size_t size, const char *src, size_t len)
{
        size_t n = len < size - 1 ? len : size - 1;
        for (size_t i = 0; i < n; i++)
                dst[i] = isprint((unsigned char)src[i]) ? src[i] : '?';
        dst[n] = '\0';
}

/* Parses "pid=…\nstarted=…\noperation=…\n"; unknown or broken lines are
 * ignored, so a half-written file yields pid 0. */
static void parse_lock_file(const char *data, struct lock_info *ret)
{
        *ret = (struct lock_info){ 0 };
        for (const char *p = data; *p;) {
                const char *eol = strchrnul(p, '\n');
                const char *eq = memchr(p, '=', (size_t)(eol - p));

                if (eq) {
                        size_t klen = (size_t)(eq - p), vlen = (size_t)(eol - eq - 1);
                        if (klen == 3 && memcmp(p, "pid", 3) == 0 && vlen > 0 && vlen < 16) {
                                char num[16];
                                long v;
                                memcpy(num, eq + 1, vlen);
                                num[vlen] = '\0';
                                if (parse_long(num, 1, INT_MAX, &v) == 0)
                                        ret->pid = (pid_t)v;
                        } else if (klen == 7 && memcmp(p, "started", 7) == 0)
                                copy_printable(ret->started, sizeof(ret->started), eq + 1, vlen);
                        else if (klen == 9 && memcmp(p, "operation", 9) == 0)
                                copy_printable(ret->operation, sizeof(ret->operation), eq + 1, vlen);
                }
                p = *eol ? eol + 1 : eol;
        }
}

/* Reads what the file says about its holder (pid 0 when unreadable). */
static void read_holder(int fd, struct lock_info *ret)
{
        char data[LOCK_FILE_MAX];
        ssize_t n;

        do
                n = pread(fd, data, sizeof(data) - 1, 0);
        while (n < 0 && errno == EINTR);
        data[n > 0 ? n : 0] = '\0';
        parse_lock_file(data, ret);
}

/* The holder of a busy lock; it may have locked the file a moment ago and
 * not written it yet, so an empty file is read again a few times. */
static void read_busy_holder(int fd, struct lock_info *ret)
{
        for (int i = 0; i < 5; i++) {
                read_holder(fd, ret);
                if (ret->pid > 0)
                        return;
                sleep_ms(20);
        }
}

/* Writes the whole buffer at offset 0. */
static int pwrite_all(int fd, const char *data, size_t len)
{
        off_t off = 0;
        while (len > 0) {
                ssize_t n = pwrite(fd, data, len, off);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                data += n;
                off += n;
                len -= (size_t)n;
        }
        return 0;
}

/* Writes a sentence into note (when given). */
_printf_(3, 4) static void say(char *note, size_t size, const char *fmt, ...)
{
        va_list ap;

        if (!note || size == 0)
                return;
        va_start(ap, fmt);
        (void)!vsnprintf(note, size, fmt, ap);
        va_end(ap);
}

/* Opens the directory that holds the lock file (dir), creating it 0700
 * when missing (its parents 0755), and checks that it is ours alone.
 * Returns the fd or -errno (-EPERM with note filled). */
static int open_lock_dir(const char *dir, char *note, size_t note_size)
{
        struct stat st;
        int fd, r;

        fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0 && errno == ENOENT) {
                char parent[PATH_MAX];
                char *slash;

                if (strscpy(parent, sizeof(parent), dir) < 0)
                        return -ENAMETOOLONG;
                slash = strrchr(parent, '/');
                if (slash && slash != parent) {
                        *slash = '\0';
                        if (!path_exists(parent)) {
                                r = mkdir_p(parent, 0755);
                                if (r < 0)
                                        return r;
                        }
                }
                if (mkdir(dir, 0700) < 0 && errno != EEXIST)
                        return -errno;
                fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        }
        if (fd < 0) {
                r = -errno;
                if (r == -ENOTDIR || r == -ELOOP) {
                        say(note, note_size, "%s is not a directory (or is a symbolic link); "
                            "remove it, or point VPS_PROVISION_LOCK at a file in a directory "
                            "only root can write", dir);
                        return r == -ELOOP ? -EPERM : r;
                }
                return r;
        }
        if (fstat(fd, &st) < 0) {
                r = -errno;
                close(fd);
                return r;
        }
        if (st.st_uid != geteuid()) {
                say(note, note_size, "the lock's directory %s belongs to uid %u, not to this "
                    "program's user (uid %u); point VPS_PROVISION_LOCK at a file in a directory "
                    "only root can write, e.g. the default /run/vps-provision/lock",
                    dir, (unsigned)st.st_uid, (unsigned)geteuid());
                close(fd);
                return -EPERM;
        }
        if (st.st_mode & (S_IWGRP | S_IWOTH)) {
                say(note, note_size, "the lock's directory %s is mode %04o: other users can "
                    "write to it, so any of them could block every run or plant a link there; "
                    "point VPS_PROVISION_LOCK at a file in a directory only root can write, "
                    "e.g. the default /run/vps-provision/lock",
                    dir, (unsigned)(st.st_mode & 07777));
                close(fd);
                return -EPERM;
        }
        return fd;
}

/* True when fd is still the file linked as name in dir_fd (see DESIGN). */
static int still_linked(int fd, int dir_fd, const char *name)
{
        struct stat a, b;

        if (fstat(fd, &a) < 0)
                return -errno;
        if (a.st_nlink == 0)
                return 0;
        if (fstatat(dir_fd, name, &b, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : -errno;
        return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/* What kind of thing st is, for a note. */
static const char *kind_of(const struct stat *st)
{
        if (S_ISLNK(st->st_mode))
                return "a symbolic link";
        if (S_ISFIFO(st->st_mode))
                return "a FIFO";
        if (S_ISSOCK(st->st_mode))
                return "a socket";
        if (S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode))
                return "a device node";
        return "a file";
}

/* Opens the lock file name in our own directory dir_fd, after removing
 * whatever leftover is there that is not a regular file of ours (see
 * DESIGN). Returns the fd or -errno; -EISDIR (note filled) for a
 * directory in the way. */
static int open_lock_file(int dir_fd, const char *dir, const char *name, char *note,
                          size_t note_size)
{
        struct stat st;
        int fd;

        if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
                if (S_ISDIR(st.st_mode)) {
                        say(note, note_size, "%s/%s is a directory, not the lock file; remove "
                            "it (nothing of vps-provision is in it)", dir, name);
                        return -EISDIR;
                }
                if (!S_ISREG(st.st_mode) || st.st_uid != geteuid()) {
                        if (unlinkat(dir_fd, name, 0) < 0 && errno != ENOENT)
                                return -errno;
                        if (S_ISREG(st.st_mode))
                                say(note, note_size, "removed a file owned by uid %u that was in "
                                    "the way of the lock %s/%s", (unsigned)st.st_uid, dir, name);
                        else
                                say(note, note_size, "removed %s that was in the way of the lock "
                                    "%s/%s", kind_of(&st), dir, name);
                }
        } else if (errno != ENOENT)
                return -errno;

        fd = openat(dir_fd, name,
                    O_RDWR | O_CREAT | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW | O_NONBLOCK, 0600);
        if (fd < 0)
                return errno == ELOOP ? -EPERM : -errno;
        /* someone (root) raced a new leftover in: never lock that */
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid()) {
                close(fd);
                return -EPERM;
        }
        return fd;
}

int lock_acquire(const char *path, const char *operation, struct lock **ret,
                 struct lock_info *ret_holder, char *ret_note, size_t note_size)
{
        struct lock_info old;
        char started[ISO8601_MAX], dir[PATH_MAX], leftover[256] = "";
        const char *name;
        char *content, *slash;
        struct lock *l;
        int fd = -1, dir_fd, r;

        if (!path || !*path || !ret)
                return -EINVAL;
        if (!operation)
                operation = "";
        for (const char *p = operation; *p; p++)
                if (!isprint((unsigned char)*p))
                        return -EINVAL;
        if (strlen(operation) >= sizeof(old.operation))
                return -EINVAL;

        if (strscpy(dir, sizeof(dir), path) < 0)
                return -ENAMETOOLONG;
        slash = strrchr(dir, '/');
        if (!slash || !slash[1])
                return -EINVAL;
        name = path + (slash - dir) + 1;
        if (slash == dir)
                slash[1] = '\0';   /* a file in "/" */
        else
                *slash = '\0';
        dir_fd = open_lock_dir(dir, ret_note, note_size);
        if (dir_fd < 0)
                return dir_fd;

        for (int tries = 0;; tries++) {
                if (tries == LOCK_TRIES) {
                        close(dir_fd);
                        return -EAGAIN;
                }
                fd = open_lock_file(dir_fd, dir, name, leftover[0] ? NULL : leftover,
                                    sizeof(leftover));
                if (fd < 0) {
                        if (fd == -EISDIR)
                                say(ret_note, note_size, "%s", leftover);
                        close(dir_fd);
                        return fd;
                }
                if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
                        r = -errno;
                        if (r == -EWOULDBLOCK) {
                                if (ret_holder)
                                        read_busy_holder(fd, ret_holder);
                                r = -EBUSY;
                        }
                        close(fd);
                        close(dir_fd);
                        return r;
                }
                r = still_linked(fd, dir_fd, name);
                if (r > 0)
                        break;
                close(fd);
                if (r < 0) {
                        close(dir_fd);
                        return r;
                }
                /* The previous holder removed it between our open and our
                 * flock: start again with the file now at the path. */
        }

        read_holder(fd, &old);
        iso8601_now(started);
        content = xasprintf("pid=%d\nstarted=%s\noperation=%s\n", (int)getpid(), started,
                            operation);
        r = ftruncate(fd, 0) < 0 ? -errno : 0;
        if (r == 0)
                r = pwrite_all(fd, content, strlen(content));
        if (r == 0 && fsync(fd) < 0)
                r = -errno;
        free(content);
        if (r < 0) {
                (void)unlinkat(dir_fd, name, 0);
                close(fd);
                close(dir_fd);
                return r;
        }

        if (ret_note && note_size > 0) {
                say(ret_note, note_size, "%s", leftover);
                if (old.pid > 0 && old.pid != getpid()) {
                        bool dead = kill(old.pid, 0) < 0 && errno == ESRCH;
                        snprintf(ret_note, note_size,
                                 "took over a stale lock left by pid %d (started %s%s%s), %s",
                                 (int)old.pid, old.started[0] ? old.started : "at an unknown time",
                                 old.operation[0] ? ", " : "", old.operation,
                                 dead ? "which is no longer running"
                                      : "which no longer holds it");
                }
        }

        /* the directory is ours alone: the path stays the file's */
        close(dir_fd);
        l = xmalloc(sizeof(*l));
        l->fd = fd;
        l->path = xstrdup(path);
        *ret = l;
        return 0;
}

void lock_release(struct lock *l)
{
        if (!l)
                return;
        /* Unlink before close, while we still hold the flock: see DESIGN. */
        unlink(l->path);
        close(l->fd);
        free(l->path);
        free(l);
}

void lock_describe_holder(const char *path, const struct lock_info *h, char *buf, size_t size)
{
        char who[128] = "";

        if (!buf || size == 0)
                return;
        if (h && h->pid > 0)
                snprintf(who, sizeof(who), " (pid %d%s%s%s%s)", (int)h->pid,
                         h->started[0] ? ", started " : "", h->started,
                         h->operation[0] ? ", " : "", h->operation);
        snprintf(buf, size,
                 "another vps-provision run%s holds %s; wait for it to finish or stop it first",
                 who, path ? path : "the lock");
}
