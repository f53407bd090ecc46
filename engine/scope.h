/* scope.h — taking the run out of the login session.
 *
 * A run started from an SSH login lives in that login's cgroup
 * (session-N.scope). When the login ends, logind may stop that scope and
 * kill everything in it (KillUserProcesses=yes in logind.conf; root's own
 * logins are spared by the default KillExcludeUsers=root, but a cloud
 * image's first user who runs `sudo vps-provision` is not). So when the
 * person presses Start, the program asks systemd, over D-Bus
 * (StartTransientUnit), to put it into a transient scope unit of its own
 * under system.slice: "vps-provision-PID.scope". Everything it starts
 * afterwards (the run process, apt, dpkg) is born there. The process stays
 * the same one (no re-exec), so nothing has to be handed over.
 *
 * The call goes through busctl(1), part of systemd, with an argv like
 * every other command; the move is then confirmed from /proc/self/cgroup.
 * Where systemd is not PID 1 (no /run/systemd/system) there is no logind
 * to end the session's processes and nothing is done: the run process is
 * still detached from the terminal (setsid) and survives the hangup; only
 * a session manager of another init system that kills by session (elogind
 * with KillUserProcesses) could end it there. */
#pragma once

#include <stddef.h>

/* Moves this process into a transient scope of its own. 0 when moved (or
 * already in one of ours); -ENOMEDIUM when systemd is not PID 1 here
 * (systemd_dir, normally /run/systemd/system, is missing); other -errno
 * when systemd refused or did not move it. note (may be NULL) gets one
 * sentence for the log either way. */
int scope_leave_session(const char *systemd_dir, char *note, size_t note_size);

/* The unit this process's cgroup belongs to ("session-3.scope",
 * "vps-provision-812.scope", "ssh.service"), from a /proc/PID/cgroup text;
 * "" when none is named. For the log and the tests. */
void scope_unit_of(const char *cgroup_text, char *ret, size_t size);
