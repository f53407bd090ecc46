/* engine.h — the engine thread: preflight, then the phases, with
 * checkpoints, journal, events, prompts and rollback.
 *
 * DESIGN: the UI (main thread) creates the engine with the answers and the
 * phase table, starts it, and then only reads events from engine_events()
 * and sends answers / cancel with engine_send(). The engine never touches
 * the terminal and never blocks on the UI except while a prompt waits for
 * its answer. When no UI can answer (unattended, or the terminal went away)
 * the answers' on_failure policy decides. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "answers.h"
#include "events.h"
#include "paths.h"
#include "phase.h"
#include "preflight.h"
#include "queue.h"

/* Exit codes of the program (vps-provision(8) documents them; never a
 * flat 1 for an expected failure). */
enum exit_code {
        EXIT_OK = 0,             /* done (or nothing to do) */
        EXIT_INTERNAL = 1,       /* a bug or out of memory: please report */
        EXIT_USAGE = 2,          /* bad command line or answers file; nothing changed */
        EXIT_PREFLIGHT = 3,      /* preflight refused this server; nothing changed */
        EXIT_FAILED_KEPT = 4,    /* a phase failed, changes kept: fix and --resume */
        EXIT_ROLLED_BACK = 5,    /* a phase failed and everything was rolled back */
        EXIT_LOCKED = 6,         /* another run holds the lock */
        EXIT_INTERRUPTED = 7,    /* cancelled or killed by a signal; --resume continues */
        EXIT_ROLLBACK_FAILED = 8,/* a rollback left some changes in place (listed) */
        EXIT_UNFINISHED = 9,     /* an earlier run is unfinished: --resume or --rollback */
        EXIT_NOT_ROOT = 10,      /* must run as root */
        EXIT_NO_RUN = 11,        /* --attach: no run to attach to */
};
#define EXIT_CODE_LAST EXIT_NO_RUN

/* The meaning of an exit code in one line, for --help and the man page. */
const char *exit_code_meaning(int code);


struct engine_opts {
        enum session_mode mode;         /* provision, dry-run, resume, rollback */
        struct answers answers;
        bool answers_from_file;         /* --resume: these answers replace the run's stored ones */
        bool interactive;               /* prompts are answered by a UI */
        bool force;                     /* see vps-provision(8) --force */
        bool assume_yes;                /* --rollback without confirmation */
        bool rollback_all;              /* --rollback --all: every run with changes, newest first */
        const struct phase *const *phases;
        size_t n_phases;
        struct paths paths;
        struct preflight_env preflight;
        /* Keep a generated password nobody confirmed after the run, for
         * --attach, up to answers.credentials_wait (engine_serve() first). */
        bool keep_credentials;
        /* One line for the run's log about where the run lives (its unit). */
        char note[512];
        /* apt's archive cache, where the later phases' packages are
         * downloaded ahead (prefetch.h); "" = /var/cache/apt/archives. */
        char apt_archives[PATH_MAX];
};

struct engine;

int engine_new(const struct engine_opts *o, struct engine **ret);
/* What to tell a person about engine_new()'s error R: for a library that
 * cannot be loaded, the package to install. */
const char *engine_new_error(int r);
/* Serves the attach channel (attach_server.h) in paths.run_dir for this
 * run, before engine_start(): every event also goes to attached clients,
 * whose commands come in like engine_send()'s, and a prompt nobody is
 * attached to waits up to answers.failure_wait. 0, or -errno with err
 * saying why. */
int engine_serve(struct engine *e, char *err, size_t errlen);
/* The same, with owner_fd (one end of a socketpair, taken over on
 * success) as the client of the terminal that started the run: the keys
 * are kept for it (attach_server_start_owned()). */
int engine_serve_owned(struct engine *e, int owner_fd, char *err, size_t errlen);
/* The attach socket's path ("" when not serving). */
const char *engine_socket(const struct engine *e);
/* Whether a client with the keys has received the session's end. */
bool engine_end_seen(struct engine *e);
/* Starts the engine thread. */
int engine_start(struct engine *e);
/* Engine → UI events. Owned by the engine; valid until engine_free(). */
struct queue *engine_events(struct engine *e);
/* UI → engine (EV_ANSWER, EV_CANCEL, EV_CREDENTIALS_SAVED,
 * EV_SSH_PORT_CONFIRMED); takes ownership. */
void engine_send(struct engine *e, struct event *ev);
/* No UI can answer any more (terminal lost): prompts follow the policy,
 * with on_failure forced to keep (so nothing is undone unseen). */
void engine_detach_ui(struct engine *e);
/* Waits for the engine thread; returns the exit code. */
int engine_join(struct engine *e);
void engine_free(struct engine *e);

/* The phase table the engine was given plus the synthetic "preflight". */
size_t engine_phase_count(const struct engine *e);
