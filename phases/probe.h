/* probe.h — read-only looks at the system for the system-prep, desktop and
 * rdp phases' plan() and verify(): which packages dpkg has installed,
 * whether apt has a package at all, whether a TCP port is listened on,
 * whether a file holds given bytes. Nothing here changes anything.
 *
 * The probe_parse_… functions are the pure parts (text in, answer out), so
 * the unit tests can feed them recorded command output. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "phase.h"

/* Which of pkgs are not installed, from the output of
 * dpkg-query -W -f '${db:Status-Abbrev} ${Package}\n' (one "ii  name"
 * line per known package; names dpkg has never heard of have no line). A
 * package counts as installed when its current state is 'i' (installed)
 * and it has no error flag: "ii", "hi", "ri" and "pi" with a space. Words
 * ending in '-' (apt's "do not install" suffix) are not asked about.
 * *ret_missing is a strv (NULL when nothing is missing). 0 or -ENOMEM. */
int probe_parse_dpkg_status(const char *out, const char *const *pkgs, char ***ret_missing);
/* The same, asking dpkg-query on this machine. -errno when it cannot run. */
int probe_missing_packages(struct phase_ctx *c, const char *const *pkgs, char ***ret_missing);
/* Whether pkgs holds names that are installed, as a strv of those names. */
int probe_installed_subset(struct phase_ctx *c, const char *const *pkgs, char ***ret_installed);

/* From "apt-cache policy NAME" output: true when it shows a candidate
 * version ("Candidate: 0.2-2"), false for "(none)" or no entry at all. */
bool probe_parse_candidate(const char *out);
/* 1 when apt knows an installable version of pkg, 0 when not, -errno when
 * apt-cache cannot run. */
int probe_apt_has(struct phase_ctx *c, const char *pkg);

/* For a plan (dry run) when apt has no xrdp sound module: whether that is
 * this Debian release (Debian 12 has none) or only package lists that were
 * never downloaded (a fresh image; system-prep's apt-get update comes
 * first in a real run). A static string. */
const char *probe_plan_sound_note(struct phase_ctx *c);

/* From the text of /proc/net/tcp or /proc/net/tcp6: true when a socket in
 * state LISTEN (0A) has local port `port` (any address). */
bool probe_parse_proc_net_tcp(const char *text, uint16_t port);
/* 1 when something listens on TCP port `port` (IPv4 or IPv6), 0 when not,
 * -errno when neither /proc/net/tcp nor tcp6 can be read. proc is "/proc"
 * (tests point it elsewhere). */
int probe_tcp_listening(const char *proc, uint16_t port);
/* Waits up to timeout_ms for a listener on port in /proc (a service takes
 * a moment to bind after a start or reload): 1 listening, 0 not in time,
 * -ECANCELED when c (may be NULL: no such check) was asked to cancel. */
int probe_wait_tcp_listening(struct phase_ctx *c, uint16_t port, unsigned timeout_ms);

/* 1 when the regular file at path holds exactly data[0..len), 0 when it
 * differs or is missing. */
int probe_file_equals(const char *path, const char *data, size_t len);

/* From the text of /etc/group: true when user is listed as a member of
 * group (the fourth field). A user's primary group is not looked at. */
bool probe_parse_group_member(const char *etc_group, const char *group, const char *user);

/* 1 when systemctl says unit is active, 0 when not, -errno when systemctl
 * cannot run. */
int probe_unit_active(struct phase_ctx *c, const char *unit);

/* The "Value:" of update-alternatives --query output (the group's current
 * choice) into buf; "" when there is none. */
void probe_parse_alternative(const char *out, char *buf, size_t size);

/* The value of SSH_CONNECTION in the environment of process pid, or of its
 * nearest ancestor that has one (sudo and su leave it out of their child's
 * environment; the login shell above them still has it), read from
 * proc/PID/environ and proc/PID/stat; at most 64 ancestors. 1 (buf holds
 * it), 0 when none has it. proc is "/proc" (tests point it elsewhere). */
int probe_ssh_connection(const char *proc, pid_t pid, char *buf, size_t size);
