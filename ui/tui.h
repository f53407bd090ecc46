/* tui.h — the full-screen UI: terminal checks, the wizard and the
 * dashboard (with its failure dialog and the credentials screen), all in
 * ncurses.
 *
 * DESIGN: main() opens the one ncurses screen (draw.h) before the wizard
 * and closes it after the dashboard's end screen; both draw every frame
 * whole from their own model, so a resize or a redraw is the same path as
 * any other change. Signals (INT, TERM, HUP, QUIT, WINCH) are blocked by
 * main() and arrive through its signalfd, which both screens watch next to
 * the keyboard: Ctrl-C asks first, TERM cancels at the next safe point,
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
#include "review.h"

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
/* Restores what tui_term_save() saved while a screen is active (ncurses
 * started and not yet properly ended); a no-op otherwise. */
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
        const struct review_facts *facts; /* for the port checks and the review; may be NULL */
};

/* Runs the wizard over *a (pre-filled by defaults or --answers) on the
 * open screen; on TUI_WIZARD_START *a holds the validated choices. */
enum tui_wizard_result tui_wizard_run(struct answers *a, const struct tui_wizard_opts *o);

/* Where the dashboard's events come from and where its answers go: the
 * engine thread in this process today (tui_source_engine()); another
 * process's run later. The dashboard only reads events and sends answers
 * through these, so its drawing never depends on where the run lives. */
struct tui_source {
        void *data;
        int (*fd)(void *data);                   /* poll()able; readable when events wait */
        struct event *(*pop)(void *data);        /* the next event (caller frees), or NULL */
        bool (*closed)(void *data);              /* no event will come any more */
        void (*send)(void *data, struct event *ev); /* EV_ANSWER, EV_CANCEL; takes ownership */
        void (*detach)(void *data);              /* the terminal is gone: nobody answers */
        /* A run in another process (attach_client.h) also offers these;
         * NULL for the engine in this process. */
        void (*leave)(void *data);               /* D: the person leaves, the run goes on */
        void (*take)(void *data);                /* T: take the keys from another session */
        bool (*control)(void *data);             /* this session has the keys */
};
void tui_source_engine(struct tui_source *ret, struct engine *e);

/* What the run left for the person, for the lines main() prints after the
 * screen is gone (never the password). */
struct tui_dashboard_result {
        char session_id[64];            /* "" when the engine never made a session */
        char log_path[4096];
        char session_path[4096];
        enum session_mode mode;
        bool ended;                     /* the session's end arrived */
        int exit_code;                  /* the session end's */
        char end_message[1024];
        bool hangup;                    /* the terminal went away during the run */
        bool detached;                  /* the person left with D (or Ctrl-C as a watcher): the run goes on */
        bool login;                     /* credentials were shown: the fields below are set */
        char username[64];
        char host[256];
        unsigned rdp_port, ssh_port;
        bool rdp_localhost;       /* rdp_listen = localhost: through ssh -L */
};

/* Called once the session has ended (before the end screen), to save the
 * wizard's choices; returns a line for the end screen, or NULL. */
typedef char *(*tui_end_hook)(const char *session_id, void *userdata);

/* Shows the run's progress on the open screen until the session ends,
 * answers its prompts (the failure dialog, the rollback confirmation),
 * shows the credentials once, then the end screen, until the person
 * leaves it. 0, or -ENOTTY when no screen is open. */
int tui_dashboard_run(const struct tui_source *src, int sfd, tui_end_hook hook, void *userdata,
                      struct tui_dashboard_result *ret);
