/* lock.h — one run at a time.
 *
 * The lock is flock(LOCK_EX|LOCK_NB) on a file (default
 * /run/lock/vps-provision.lock) that also records who holds it:
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
 * be NULL) is filled from the file (pid 0 if unreadable). -EPERM when path
 * is a symlink or not a regular file owned by us (the directory is
 * world-writable: someone else's file is never trusted). -EINVAL when
 * operation has control characters or is 32 bytes or longer. Other -errno
 * on I/O errors. The parent directory is created (0755) when missing.
 * ret_note (may be NULL) gets a message when a stale lock was taken over,
 * else an empty string. */
int lock_acquire(const char *path, const char *operation, struct lock **ret,
                 struct lock_info *ret_holder, char *ret_note, size_t note_size);
/* Releases and removes the file. NULL is fine. */
void lock_release(struct lock *l);

/* "another vps-provision run (pid 1234, started 2026-11-22T10:15:00Z,
 * provision) holds /run/lock/vps-provision.lock; wait for it to finish or
 * stop it first" — for the exit-6 message. */
void lock_describe_holder(const char *path, const struct lock_info *h, char *buf, size_t size);
