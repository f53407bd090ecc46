/* sysfile.h — small file helpers for the user, terminal, hardening and
 * verification phases: "is this file exactly so?", candidate files for a
 * checker (visudo -c -f, sshd -t -f) and the text of key = value files.
 * None of them changes the system: changes go through ops.h. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct passwd;

/* True when path is a regular file with exactly this text, mode and owner. */
bool sysfile_is(const char *path, const char *text, mode_t mode, uid_t uid, gid_t gid);

/* Reads a whole (small, at most 1 MiB) text file; NULL when missing or
 * unreadable. Caller frees. */
char *sysfile_read(const char *path);

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

/* Whether the account is in group (as its primary group or a listed
 * member); *ret_exists (may be NULL) says whether the group exists. */
bool sysfile_in_group(const struct passwd *pw, const char *group, bool *ret_exists);
