/* tui.h — the full-screen UI: terminal checks, the newt wizard and the
 * ncurses dashboard (with its failure dialog and the credentials screen).
 *
 * DESIGN: newt (S-Lang) and ncurses own the terminal in turn, never at
 * once: tui_wizard_run() starts and finishes newt; tui_dashboard_run()
 * starts and ends ncurses. Signals (INT, TERM, HUP, QUIT, WINCH) are blocked
 * by main() and arrive through its signalfd, which both screens watch next
 * to the keyboard: Ctrl-C asks first, TERM cancels at the next safe point,
 * HUP means the terminal is gone, WINCH redraws. tui_term_save() records
 * the terminal's state so that every exit path (including a crash signal)
 * puts it back. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "answers.h"
#include "check.h"
#include "engine.h"
#include "phase.h"
#include "preflight.h"

#define TUI_MIN_COLS 80
#define TUI_MIN_ROWS 24

/* What the terminal can do, decided once from the locale and environment. */
struct tui_caps {
        bool utf8;        /* UTF-8 locale: box lines and block bars; else ASCII */
        bool color;       /* NO_COLOR unset (or empty) */
};
void tui_caps_detect(struct tui_caps *ret);

/* Can the full-screen UI run on fd? 0, or -ERANGE (smaller than
 * TUI_MIN_COLS x TUI_MIN_ROWS) or -ENOTTY (unknown TERM, no cursor
 * addressing, no size), with why saying so in one sentence. */
int tui_term_check(int fd, char *why, size_t whylen);

/* The size of the terminal on fd; 0 or -errno. */
int tui_term_size(int fd, int *ret_cols, int *ret_rows);

/* Saves the terminal's mode and installs handlers for crash signals
 * (SEGV, BUS, FPE, ILL, ABRT) that restore it (mode, alternate screen,
 * cursor, colours) before the default action. Also registered with
 * atexit(). Idempotent. */
void tui_term_save(int fd);
/* Restores what tui_term_save() saved while a screen is active (newt or
 * ncurses started and not yet properly ended); a no-op otherwise. */
void tui_term_restore(void);
void tui_term_set_active(bool active);

enum tui_wizard_result {
        TUI_WIZARD_START,      /* the person confirmed the review */
        TUI_WIZARD_CANCEL,     /* Cancel (confirmed), Ctrl-C or SIGTERM: nothing changed */
        TUI_WIZARD_REFUSED,    /* preflight refused the server; explained on the welcome */
        TUI_WIZARD_HANGUP,     /* the terminal went away */
};

struct tui_wizard_opts {
        const struct tui_caps *caps;
        int sfd;                        /* main's signalfd, or -1 */
        const struct vps_info *vps;     /* preflight facts for the welcome */
        const struct check_list *checks;
        bool refused;
        const struct phase *const *phases;   /* for the review screen */
        size_t n_phases;
        const char *passwd_path;        /* NULL = /etc/passwd (tests point elsewhere) */
        const char *group_path;
};

/* Runs the wizard over *a (pre-filled by defaults or --answers); on
 * TUI_WIZARD_START *a holds the validated choices. */
enum tui_wizard_result tui_wizard_run(struct answers *a, const struct tui_wizard_opts *o);

struct tui_dashboard_result {
        char session_id[64];            /* "" when the engine never made a session */
        char log_path[4096];
        int exit_code;                  /* engine_join()'s */
        char end_message[1024];
        bool hangup;                    /* the terminal went away during the run */
};

/* Shows the engine's progress until the session ends, answers its prompts
 * (the failure dialog, the rollback confirmation), shows the credentials
 * once, then the end screen; joins the engine. answers_saved_note is called
 * at the end (before the end screen) to save the choices; it returns a line
 * for the end screen or NULL. */
typedef char *(*tui_end_hook)(const char *session_id, void *userdata);
int tui_dashboard_run(struct engine *e, int sfd, const struct tui_caps *caps, tui_end_hook hook,
                      void *userdata, struct tui_dashboard_result *ret);
