/* attach.h — a run that outlives its SSH session, from the UI's side:
 * starting the run in a process of its own when the person presses Start,
 * and `vps-provision --attach` (and the offer to attach that a plain
 * `vps-provision` makes while a run is going on).
 *
 * DESIGN: on Start the program moves into a transient scope of its own
 * (scope.h) and forks. The child is the run's process: it leaves the
 * terminal (setsid, standard input and output on /dev/null), serves the
 * attach socket (engine_serve()), runs the engine, and lives until the
 * run has ended and been seen (a client with the keys received the end,
 * the kept password was confirmed or wiped) or, for an end nobody saw,
 * ATTACH_END_LINGER_MS more. The parent stays the person's UI: it
 * connects to that socket like any `--attach` and draws the dashboard from
 * it, so the dashboard a person sees after reconnecting is the same one.
 * A hangup, a closed pty or `D` ends only the parent; a failure dialog or
 * the credentials then wait in the run's process for the next client. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "attach_server.h"
#include "engine.h"
#include "paths.h"
#include "tui.h"

#define ATTACH_END_LINGER_MS (10 * 60 * 1000)

/* How `--attach` shows the run. */
enum attach_view {
        ATTACH_VIEW_FULL,       /* the dashboard (falls back to plain without a usable terminal) */
        ATTACH_VIEW_PLAIN,
        ATTACH_VIEW_JSON,
};

/* The run to attach to in run_dir: one that is going on (1), or one that
 * ended with a password nobody has seen (2), or none (0). */
int attach_pick(const char *run_dir, struct attach_peer *ret);

/* `--attach`: shows the run at peer as view asks. The dashboard needs a
 * terminal of at least 80x24; on a smaller one it offers the lines (which
 * never show the credentials). Returns the run's exit code when its end
 * was shown, 0 after leaving it on purpose, EXIT_INTERRUPTED when the
 * run's process vanished. */
int attach_view(const struct attach_peer *peer, enum attach_view view, const struct tui_caps *caps,
                int sfd);

/* The dashboard of the run at socket (or over fd when fd >= 0: the
 * wizard's own connection from launch_run(), taken over), on the open
 * screen, asking for the keys (the wizard's own run, and --attach). hook
 * as tui_dashboard_run(). Returns like attach_view(). */
int attach_dashboard(const char *socket, int fd, int sfd, tui_end_hook hook, void *hook_data,
                     struct tui_dashboard_result *res);

/* Follows the run at peer as lines or JSON events until it ends (its exit
 * code), or until a signal on sfd (INT, TERM, HUP: leaves it going, 0).
 * Never has the keys. */
int attach_follow_lines(const struct attach_peer *peer, bool json, bool verbose, int sfd);

/* What `--attach` prints when nothing runs: how the newest session in
 * sessions_dir ended, and about its password. Returns EXIT_NO_RUN. */
int attach_no_run(const struct paths *p);

/* Where the run went after launch_run(). */
struct launch {
        bool is_run;            /* this process is the run's process (the child): exit with code */
        int code;
        pid_t pid;              /* the parent: the run's process */
        char socket[256];       /* the parent: where to attach */
        int owner_fd;           /* the parent: its own connection to the run, made
                                 * before the socket existed: the keys wait for it */
        char note[512];         /* the parent: where the run lives (its unit), for the person */
};

/* Starts the run with o in a process of its own (see DESIGN). Returns 0
 * in both processes (ret->is_run tells which one this is; the child has
 * run the whole run when it returns), or -errno in the parent with err
 * filled when the run could not be started (nothing was changed). */
int launch_run(struct engine_opts *o, int sfd, struct launch *ret, char *err, size_t errlen);
