/* safepath.c — see safepath.h. */
#include "safepath.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "faultpoint.h"

/* Whether only root (this user) can change the entries of directory fd. */
static bool dir_is_private(int fd)
{
        struct stat st;

        return fstat(fd, &st) == 0 && st.st_uid == geteuid() && !(st.st_mode & (S_IWGRP | S_IWOTH));
}

int safepath_open(const char *path, struct safepath *ret, char *err, size_t errlen)
{
        char comp[NAME_MAX + 1];
        const char *p, *last;
        int fd;

        if (!path || path[0] != '/') {
                (void)!snprintf(err, errlen, "\"%s\" is not an absolute path", path ? path : "");
                return -EINVAL;
        }
        last = strrchr(path, '/') + 1;
        if (!*last || strcmp(last, ".") == 0 || strcmp(last, "..") == 0 ||
            strlen(last) > NAME_MAX) {
                (void)!snprintf(err, errlen, "\"%s\" does not end in a file name", path);
                return -EINVAL;
        }
        fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        for (p = path + 1; p < last;) {
                size_t n = strcspn(p, "/");
                struct stat st;
                bool trusted;
                int nfd;

                if (n == 0) {           /* "//" */
                        p++;
                        continue;
                }
                if (n > NAME_MAX || (n == 2 && p[0] == '.' && p[1] == '.')) {
                        close(fd);
                        (void)!snprintf(err, errlen, "\"%s\" has a bad component", path);
                        return -EINVAL;
                }
                memcpy(comp, p, n);
                comp[n] = '\0';
                p += n;
                if (fstatat(fd, comp, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                        int r = -errno;
                        close(fd);
                        return r;
                }
                if (S_ISLNK(st.st_mode)) {
                        trusted = st.st_uid == geteuid() && dir_is_private(fd);
                        if (!trusted) {
                                close(fd);
                                (void)!snprintf(err, errlen, "%.*s is a symbolic link that "
                                                "belongs to uid %u or sits where others can "
                                                "write; vps-provision does not follow it",
                                                (int)(p - path), path, (unsigned)st.st_uid);
                                return -ELOOP;
                        }
                        nfd = openat(fd, comp, O_PATH | O_DIRECTORY | O_CLOEXEC);
                } else
                        nfd = openat(fd, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                close(fd);
                if (nfd < 0)
                        return -errno;
                fd = nfd;
        }
        ret->dir = fd;
        memcpy(ret->name, last, strlen(last) + 1);
        return 0;
}

void safepath_close(struct safepath *p)
{
        if (p && p->dir >= 0) {
                close(p->dir);
                p->dir = -1;
        }
}

int safepath_read(const struct safepath *p, size_t max, char **ret_data, size_t *ret_len)
{
        _cleanup_close_ int fd = -1;
        struct stat st;
        struct buf b;
        char chunk[8192];

        fd = openat(p->dir, p->name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return -EINVAL;
        buf_init(&b, max);
        for (;;) {
                ssize_t n = read(fd, chunk, sizeof(chunk));

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        int r = -errno;
                        buf_release(&b);
                        return r;
                }
                if (n == 0)
                        break;
                if (buf_append(&b, chunk, (size_t)n) < 0) {
                        buf_release(&b);
                        return -EFBIG;
                }
        }
        if (ret_len)
                *ret_len = b.len;
        *ret_data = buf_steal(&b);
        return 0;
}

int safepath_sync_dir(const struct safepath *p)
{
        _cleanup_close_ int fd = openat(p->dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        if (fd < 0)
                return -errno;
        return fsync(fd) < 0 ? -errno : 0;
}

int safepath_write(const struct safepath *p, const void *data, size_t len, mode_t mode, uid_t uid,
                   gid_t gid)
{
        static const char letters[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
        char tmp[NAME_MAX + 1];
        int fd = -1, r = 0;

        if (strlen(p->name) + sizeof(".vpsp-XXXXXX") > sizeof(tmp))
                return -ENAMETOOLONG;
        /* the temp file of write_file_atomic's name (NAME.vpsp-XXXXXX), so
         * that one left by a killed run is found and removed the same way */
        (void)atomic_leftovers_remove_at(p->dir, p->name);
        for (unsigned i = 0; i < 100 && fd < 0; i++) {
                unsigned char rnd[6];
                char suffix[7];

                if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
                        return -EIO;
                for (size_t k = 0; k < sizeof(rnd); k++)
                        suffix[k] = letters[rnd[k] % (sizeof(letters) - 1)];
                suffix[6] = '\0';
                snprintf(tmp, sizeof(tmp), "%s.vpsp-%s", p->name, suffix);
                fd = openat(p->dir, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
                if (fd < 0 && errno != EEXIST)
                        return -errno;
        }
        if (fd < 0)
                return -EEXIST;
        r = write_all(fd, data, len);
        fault_point("atomic", p->name, strlen(p->name));
        if (r == 0 && (uid != (uid_t)-1 || gid != (gid_t)-1) && fchown(fd, uid, gid) < 0)
                r = -errno;
        if (r == 0 && fchmod(fd, mode) < 0)
                r = -errno;
        if (r == 0 && fsync(fd) < 0)
                r = -errno;
        if (close(fd) < 0 && r == 0)
                r = -errno;
        if (r == 0 && renameat(p->dir, tmp, p->dir, p->name) < 0)
                r = -errno;
        if (r < 0) {
                (void)unlinkat(p->dir, tmp, 0);
                return r;
        }
        return safepath_sync_dir(p);
}

int safepath_mkdir(const struct safepath *p, mode_t mode, uid_t uid, gid_t gid)
{
        _cleanup_close_ int fd = -1;
        struct stat st;
        int r;

        if (mkdirat(p->dir, p->name, 0700) < 0) {
                if (errno != EEXIST)
                        return -errno;
                if (fstatat(p->dir, p->name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        return -errno;
                if (S_ISLNK(st.st_mode))
                        return -ELOOP;
                return S_ISDIR(st.st_mode) ? 1 : -ENOTDIR;
        }
        /* made 0700 and only then opened, owned and opened up: nobody can
         * swap it for a link between mkdirat and fchown */
        fd = openat(p->dir, p->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if ((uid != (uid_t)-1 || gid != (gid_t)-1) && fchown(fd, uid, gid) < 0)
                return -errno;
        if (fchmod(fd, mode) < 0)
                return -errno;
        r = safepath_sync_dir(p);
        return r < 0 ? r : 0;
}
