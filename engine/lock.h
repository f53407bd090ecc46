/* lock.h — one run at a time.
 *
 * The lock is flock(LOCK_EX|LOCK_NB) on a file (default
 * /run/vps-provision/lock, in a directory only root can write) that also
 * records who holds it:
 *   pid=1234
 *   started=2026-11-22T10:15:00Z
 *   operation=provision
 * The kernel drops a flock when its holder dies, so a file left by a dead
 * run (a "stale" lock) is simply taken over; lock_acquire() says so in
 * ret_note so the caller can log it. The fd is O_CLOEXEC: no child (apt,
 * a service started by systemctl) can inherit the lock. */
#pragma once

#include <stddef.h>
#include <sys/types.h>

struct lock_info {
        pid_t pid;
        char started[32];
        char operation[32];
};

struct lock;

/* 0 on success. -EBUSY when another live process holds it: ret_holder (may
 * be NULL) is filled from the file (pid 0 if unreadable). -EPERM when the
 * directory that holds the file is not ours alone (another owner, or
 * writable by a group or other users, like /run/lock or /tmp) or is not a
 * directory: nothing is created there. -EISDIR when a directory is at the
 * path. -EINVAL when operation has control characters or is 32 bytes or
 * longer. Other -errno on I/O errors. The directory is created 0700 when
 * missing (the ones above it 0755). A symlink, FIFO, socket or another
 * user's file at the path in our own directory is removed and replaced.
 * ret_note (may be NULL) gets a sentence when a stale lock was taken over
 * or a leftover removed (for the log), and on -EPERM / -EISDIR says why
 * and what to do (for the person); else an empty string. */
int lock_acquire(const char *path, const char *operation, struct lock **ret,
                 struct lock_info *ret_holder, char *ret_note, size_t note_size);
/* Releases and removes the file. NULL is fine. */
void lock_release(struct lock *l);

/* "another vps-provision run (pid 1234, started 2026-11-22T10:15:00Z,
 * provision) holds /run/vps-provision/lock; wait for it to finish or
 * stop it first" — for the exit-6 message. */
void lock_describe_holder(const char *path, const struct lock_info *h, char *buf, size_t size);
