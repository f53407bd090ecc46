/* sysfile.h — the system's files as the program reads them: "is this file
 * exactly so?" (the one rule: ops_write_file() changes nothing when it
 * holds), small reads, KEY=VALUE text, candidate files for a checker
 * (visudo -c -f, sshd -t -f), group membership in the account database,
 * and TCP listeners in /proc/net/tcp{,6}. Used by ops.c and by the phases'
 * plan(), verify() and run() alike, so each question has one answer.
 * Nothing here changes the system: changes go through ops.h. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct passwd;
struct stat;

/* True when path is a regular file (not a link) holding exactly
 * data[0..len), with this mode (permission bits) and owner. */
bool sysfile_is_data(const char *path, const void *data, size_t len, mode_t mode, uid_t uid,
                     gid_t gid);
/* The rule itself, on a file already looked at: st its lstat, have[0..
 * have_len) its content. */
bool sysfile_matches(const struct stat *st, const void *have, size_t have_len, const void *data,
                     size_t len, mode_t mode, uid_t uid, gid_t gid);
/* The same for a text. */
bool sysfile_is(const char *path, const char *text, mode_t mode, uid_t uid, gid_t gid);

/* Reads a whole (small, at most 16 MiB) text file; NULL when missing or
 * unreadable. Caller frees. */
char *sysfile_read(const char *path);

/* A file in a home directory (a person's, another user's to change): read
 * through safepath_read_file(), so a symbolic link on the way or at the end
 * is not followed and a FIFO or device is not waited on. NULL when missing,
 * a link, not a regular file, over 16 MiB or unreadable. Caller frees. */
char *sysfile_read_home(const char *path);
/* sysfile_is() for a file in a home directory, read the same way. */
bool sysfile_is_home(const char *path, const char *text, mode_t mode, uid_t uid, gid_t gid);

/* Writes text into a new file dir/PREFIX.XXXXXX with mode (owner: the
 * caller) for a checker to read; *ret_path (caller frees, and unlinks the
 * file) names it. 0 or -errno. */
int sysfile_write_temp(const char *dir, const char *prefix, const char *text, mode_t mode,
                       char **ret_path);

/* text with the line "KEY=..." (first match, no leading blanks) replaced by
 * "KEY=VALUE", or that line appended when there is none. A NULL text counts
 * as empty. Caller frees. */
char *sysfile_set_key(const char *text, const char *key, const char *value);
/* The value of the first "KEY=..." line, without surrounding quotes; NULL
 * when there is none. Caller frees. */
char *sysfile_get_key(const char *text, const char *key);

/* Whether the account is in group: as its primary group or a listed
 * member (what the kernel grants it at login, as id -nG says).
 * *ret_exists (may be NULL) says whether the group exists. */
bool sysfile_in_group(const struct passwd *pw, const char *group, bool *ret_exists);
/* The same for an account name; false when there is no such account. */
bool sysfile_user_in_group(const char *user, const char *group);

/* From the text of /proc/net/tcp or /proc/net/tcp6: true when a socket in
 * state LISTEN (0A) has local port `port` (any address). */
bool sysfile_parse_proc_net_tcp(const char *text, uint16_t port);
/* 1 when something listens on TCP port `port` (IPv4 or IPv6), 0 when not,
 * -errno when neither PROC/net/tcp nor tcp6 can be read. proc NULL is
 * "/proc" (tests point it elsewhere). */
int sysfile_tcp_listening(const char *proc, uint16_t port);
/* 1 when something listens on TCP port `port` on an address that is not a
 * loopback one (ports_listen_beyond_loopback()), 0 when not, -errno when
 * neither PROC/net/tcp nor tcp6 can be read. */
int sysfile_tcp_listening_beyond_loopback(const char *proc, uint16_t port);

/* The value of SSH_CONNECTION in the environment of process pid, or of its
 * nearest ancestor that has one (sudo and su leave it out of their child's
 * environment; the login shell above them still has it), read from
 * PROC/PID/environ and PROC/PID/stat; at most 64 ancestors. 1 (buf holds
 * it), 0 when none has it. proc NULL is "/proc" (tests point it elsewhere). */
int sysfile_ssh_connection(const char *proc, pid_t pid, char *buf, size_t size);
