/* user.h — the pure parts of the user phase (text it writes, key lists it
 * merges), declared for the unit tests; the phase itself is phase_user in
 * phases.h. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* Groups the developer joins, in this order; "devusers" is created as a
 * system group, the others come with Debian's base-passwd. */
extern const char *const user_groups[];
#define USER_DEVGROUP "devusers"

/* Where the sudoers drop-in for user goes: /etc/sudoers.d/vps-provision-USER
 * (no '.' in the name: sudo skips such files in sudoers.d). Caller frees. */
char *user_sudoers_path(const char *user);
/* The drop-in's text: user may run anything as anyone, without a password
 * when nopasswd ([user] sudo_password = no, the default). Caller frees. */
char *user_sudoers_text(const char *user, bool nopasswd);

/* Number of key lines in an authorized_keys text (blank lines and comments
 * do not count). */
size_t user_authorized_keys_count(const char *text);
/* existing (may be NULL) with every key line of add that is not already in
 * it appended, each line once. Lines compare after trimming. Returns a new
 * string (caller frees); *ret_added gets the number of lines appended. */
char *user_authorized_keys_merge(const char *existing, const char *add, size_t *ret_added);
