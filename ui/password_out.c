/* password_out.c — see password_out.h. */
#include "password_out.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "secret.h"
#include "util.h"

int password_out_file(const char *path, struct password_out *ret, char *err, size_t errlen)
{
        struct stat st;
        int fd;

        if (!path || !*path) {
                snprintf(err, errlen, "--password-file needs a file name");
                return -EINVAL;
        }
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC, 0600);
        if (fd < 0) {
                int r = -errno;
                if (r == -EEXIST)
                        snprintf(err, errlen, "--password-file %s: the file exists; name a new "
                                 "file (the password is never written over or through an "
                                 "existing one)", path);
                else
                        snprintf(err, errlen, "--password-file %s: cannot create it: %s; name a "
                                 "new file in a directory you can write", path, strerror(-r));
                return r;
        }
        /* the mode is ours whatever the umask says */
        if (fchmod(fd, 0600) < 0 || fstat(fd, &st) < 0) {
                int r = -errno;
                snprintf(err, errlen, "--password-file %s: %s", path, strerror(-r));
                close(fd);
                (void)unlink(path);
                return r;
        }
        *ret = (struct password_out){ .fd = fd, .path = xstrdup(path), .dev = st.st_dev,
                                      .ino = st.st_ino };
        return 0;
}

int password_out_fd(int fd, struct password_out *ret, char *err, size_t errlen)
{
        int fl;

        if (fd == STDIN_FILENO) {
                snprintf(err, errlen, "--password-fd 0 is standard input; open another "
                         "descriptor for the password, e.g. --password-fd 3 3>FILE");
                return -EINVAL;
        }
        fl = fcntl(fd, F_GETFL);
        if (fl < 0) {
                snprintf(err, errlen, "--password-fd %d: no such open file descriptor; open it "
                         "when you start the program, e.g. --password-fd %d %d>FILE", fd, fd, fd);
                return -EBADF;
        }
        if ((fl & O_ACCMODE) == O_RDONLY) {
                snprintf(err, errlen, "--password-fd %d is open for reading only; open it for "
                         "writing, e.g. %d>FILE", fd, fd);
                return -EBADF;
        }
        /* not to be passed on to apt, dpkg and the rest */
        (void)fcntl(fd, F_SETFD, FD_CLOEXEC);
        *ret = (struct password_out){ .fd = fd };
        return 0;
}

const char *password_out_name(const struct password_out *o, char *buf, size_t size)
{
        if (o->path)
                snprintf(buf, size, "%s", o->path);
        else
                snprintf(buf, size, "file descriptor %d", o->fd);
        return buf;
}

int password_out_write(struct password_out *o, const struct secret *pw)
{
        int r;

        if (o->fd < 0 || !pw)
                return -EBADF;
        r = write_all(o->fd, secret_str(pw), secret_len(pw));
        if (r == 0)
                r = write_all(o->fd, "\n", 1);
        if (r == 0 && o->path && fsync(o->fd) < 0)
                r = -errno;
        if (r == 0)
                o->written = true;
        return r;
}

void password_out_close(struct password_out *o)
{
        struct stat st;

        if (!o || o->fd < 0)
                return;
        if (o->path && !o->written && lstat(o->path, &st) == 0 && st.st_dev == o->dev &&
            st.st_ino == o->ino && st.st_size == 0)
                (void)unlink(o->path);
        close(o->fd);
        free(o->path);
        *o = (struct password_out){ .fd = -1 };
}
