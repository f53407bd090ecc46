/* safepath.h — changing a file as root in a directory someone else controls
 * (an adopted account's home) without being sent elsewhere.
 *
 * A path is walked from "/" one component at a time with openat(). A
 * symbolic link on the way is followed only when root owns it and it sits
 * in a directory only root can write (usrmerge's /lib, /var/run, a /home
 * that points at another disk); any other — ~/.ssh -> /root/.ssh, planted
 * by the account's owner or by a dotfile manager — makes the walk fail with
 * -ELOOP, so root never writes, reads or removes through it. The last
 * component is then used through the parent's fd with O_NOFOLLOW (a
 * symlink there is never followed: reading it fails with -ELOOP, writing
 * replaces the link itself) and O_NONBLOCK (a FIFO never blocks); modes and
 * owners are set with fchmod/fchown on the fd of the file just made, never
 * by name. */
#pragma once

#include <limits.h>
#include <stddef.h>
#include <sys/types.h>

#include "util.h"

struct safepath {
        int dir;                   /* the parent directory (O_PATH), -1 = none */
        char name[NAME_MAX + 1];   /* the last component */
};

/* Opens the parent directory of the absolute path (no "..", no empty
 * last component). 0, -ELOOP with err naming the link that is not
 * trusted, -ENOENT / -ENOTDIR for a missing or non-directory parent,
 * -EINVAL for a bad path. ret is set only on success. */
int safepath_open(const char *path, struct safepath *ret, char *err, size_t errlen);
void safepath_close(struct safepath *p);
static inline void safepath_closep(struct safepath *p) { safepath_close(p); }
#define _cleanup_safepath_ _cleanup_(safepath_closep)

/* Reads the regular file at p. -ENOENT, -ELOOP (a symlink), -EINVAL (not
 * a regular file: a FIFO, a device, a directory), -EFBIG (over max). */
int safepath_read(const struct safepath *p, size_t max, char **ret_data, size_t *ret_len);
/* Replaces the file at p atomically: a new file in the same directory
 * (O_EXCL, O_NOFOLLOW), mode and owner through its fd, fsync, renameat. A
 * symlink at p is replaced, never followed. uid/gid (uid_t)-1 = unchanged. */
int safepath_write(const struct safepath *p, const void *data, size_t len, mode_t mode, uid_t uid,
                   gid_t gid);
/* Makes the directory at p with mode and owner (through its fd) when it is
 * missing: 0 = made, 1 = a directory was there already (left as it is),
 * -ELOOP (a symlink there), -ENOTDIR (something else there). */
int safepath_mkdir(const struct safepath *p, mode_t mode, uid_t uid, gid_t gid);
/* fsyncs the directory that holds p. */
int safepath_sync_dir(const struct safepath *p);
