/* engine_int.h — the engine's private header: what its files share, and
 * what ops.c needs of a phase's context; not for phases or the UI.
 *
 * The engine thread (engine.h) is spread over five files by job:
 *   engine.c           life cycle, the thread's order of work, events to
 *                      the UI, prompts, cancel, the end of a run
 *   engine_session.c   the lock, choosing or resuming the session, its files
 *   engine_steps.c     preflight, the dry run's plans, and the step loop:
 *                      one phase from verify to checkpoint, with its failure
 *   engine_rollback.c  undoing a session's journal (--rollback, or after a
 *                      failure) and the preview of what would be undone
 *   phase_ctx.c        the phase_ctx API of phase.h and the ctx_ functions
 *                      below, which ops.c uses to journal and route output
 */
#pragma once

#include <limits.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <pthread.h>

#include "engine.h"
#include "journal.h"
#include "lock.h"
#include "phase.h"
#include "run.h"
#include "secret.h"
#include "session.h"

#define CTX_TAIL_LINES 20

/* One entry of the phase list the UI sees: index 0 is the synthetic
 * "preflight", then the phase table in order. */
struct slot {
        const struct phase *p;      /* NULL for preflight */
        const char *id;
        const char *title;
        unsigned weight;
        bool enabled;
        enum phase_state state;
        int64_t duration_ms;
};

struct engine {
        struct engine_opts o;
        struct queue *events;       /* engine → UI */
        struct queue *commands;     /* UI → engine */
        pthread_t thread;
        bool started;
        atomic_bool cancel;
        atomic_bool detached;
        int cancel_efd;             /* readable once cancel is requested */
        int exit_code;

        struct slot *slots;
        size_t n_slots;

        struct lock *lock;
        struct journal *journal;
        struct session session;
        bool have_session;
        char session_path[PATH_MAX];
        char backup_dir[PATH_MAX];
        struct vps_info vps;
        bool preflight_refused;

        int64_t start_ms;
        int64_t active_ms;          /* time spent in phases that really ran */
        double active_weight;       /* their weight */
        int64_t last_progress_ms;
        int cur;
        double cur_fraction;
        int64_t phase_start_ms;

        char cred_user[USERNAME_MAX + 1];
        struct secret *cred_pw;
        enum creds_password cred_kind;
        bool have_credentials;
        char **summary;
        char *end_message;
        int next_prompt_id;
};

struct phase_ctx {
        struct engine *e;
        int index;                       /* into the engine's phase list (0 = preflight) */
        const struct phase *p;
        struct session_phase *sp;        /* NULL in a dry run */
        bool planning;                   /* inside plan(): phase_plan() collects */
        char **plan;                     /* strv "TYPE\ttarget\tdescription" */

        struct session_action *action;   /* current action, or NULL */
        int64_t action_start_ms;
        bool action_implicit;            /* begun by ops.c, not by the phase */
        struct buf action_output;        /* last output of the action (for the session record) */

        char *tail[CTX_TAIL_LINES];      /* last output lines of the phase, ring */
        size_t tail_next;

        double fraction;
        char *error;                     /* phase_fail() message */
        char *verify_note;
        struct sha256_ctx *digest;       /* phase_verify_digest() during verify */
};

/* ---- phase_ctx.c: for ops.c --------------------------------------------- */

/* Output line of a child run inside a phase: log file, log event, tail. */
/* Output lines of a running command are held (on) and sent together at
 * ctx_output_flush(), once per read of the command's output; off sends
 * what is held and stops holding. */
void ctx_output_hold(struct phase_ctx *c, bool on);
void ctx_output_flush(struct phase_ctx *c);
void ctx_output_line(struct phase_ctx *c, enum run_stream stream, const char *line, size_t len,
                     bool truncated);
/* The journal of the running session, and the backup directory for it. */
struct journal *ctx_journal(struct phase_ctx *c);
const char *ctx_backup_dir(struct phase_ctx *c);
/* Begins an implicit action when the phase has none open; returns whether it did. */
bool ctx_action_auto_begin(struct phase_ctx *c, const char *type, const char *target,
                           const char *title);
/* Cancel fd for long child runs that may be interrupted safely (downloads);
 * -1 when there is none. */
int ctx_cancel_fd(struct phase_ctx *c);
/* dpkg's database directory (the engine's preflight dpkg_dir: /var/lib/dpkg,
 * or a test's fake one); NULL means the system's. */
const char *ctx_dpkg_dir(struct phase_ctx *c);
/* [run] apt_lock_wait: how long ops waits for another package manager. */
unsigned ctx_apt_lock_wait_s(struct phase_ctx *c);

/* ---- phase_ctx.c: for the step loop ------------------------------------- */

/* A fresh context for the phase at index (its session record when there is one). */
void ctx_init(struct phase_ctx *c, struct engine *e, int index);
/* Ends an action left open (failed when the phase failed) and frees the context. */
void ctx_release(struct phase_ctx *c);
/* The phase's last output lines, oldest first (for the failure dialog). */
char **ctx_tail(struct phase_ctx *c);

/* ---- engine.c ----------------------------------------------------------- */

/* Hands an event to the UI. */
void engine_emit(struct engine *e, struct event *ev);
/* Sends one output line (text: owned, redacted, no '\n') as a log event.
 * Between engine_emit_hold() and engine_emit_release() on this thread,
 * consecutive lines of one phase and level are joined into one event
 * (log.lines), sent by engine_emit_flush() or before any other event (the
 * order is kept): a command's output reaches the queue once per read, not
 * once per line. */
void engine_emit_line(struct engine *e, int phase_index, enum log_level level, char *text);
void engine_emit_hold(struct engine *e);
void engine_emit_flush(struct engine *e);
void engine_emit_release(struct engine *e);
/* Logs to the file and sends a log event for the dashboard's pane. */
void engine_log(struct engine *e, int phase_index, enum log_level level, const char *scope,
                const char *fmt, ...) _printf_(5, 6);
/* Sends a progress event; rate-limited unless force. */
void engine_progress(struct engine *e, const char *detail, bool force);
void engine_emit_session_start(struct engine *e);
/* Writes the session file (when there is a session). */
void engine_save_session(struct engine *e);
/* Takes the UI's pending cancel, if any; true once cancel was requested. */
bool engine_cancelled(struct engine *e);
/* Asks the UI; without one (unattended, detached) returns fallback.
 * Takes tail and undo. */
enum prompt_choice engine_ask(struct engine *e, enum prompt_kind kind, const char *title,
                              const char *message, char **tail, char **undo,
                              enum prompt_choice fallback);
/* Ends the run: exit code, end message, session status (unless
 * SESSION_IN_PROGRESS) and the session file. */
void engine_finish(struct engine *e, int code, enum session_status status, const char *fmt, ...)
        _printf_(4, 5);

/* ---- engine_session.c --------------------------------------------------- */

/* The single-instance lock. Returns 0, or an exit code after engine_finish(). */
int engine_take_lock(struct engine *e);
/* Decides the session before anything is written: for --resume the
 * unfinished one (loaded), else a new id — refusing when an earlier run is
 * unfinished. Returns 0, or an exit code after engine_finish(). */
int engine_prepare_session(struct engine *e);
/* After preflight passed: state tree, log, journal, session file. Returns
 * 0 or an exit code after engine_finish(). */
int engine_create_session_files(struct engine *e);

/* ---- engine_steps.c ----------------------------------------------------- */

/* Preflight: facts and checks; sets e->preflight_refused. */
void engine_step_preflight(struct engine *e);
/* Runs one phase to a verified end, asking on failure. Returns 0 to go on,
 * or an exit code to stop with. */
int engine_step_phase(struct engine *e, int i);
/* Dry run: every enabled phase's plan. */
void engine_step_plan(struct engine *e);
/* After the last phase of a run that succeeded: the work the phases put off
 * because nobody needs it before the first login (man-db's index, paused by
 * ops_mandb_pause()): the pause ended, journaled, the build started in the
 * background. Never fails the run (a warning in the log). */
void engine_step_deferred(struct engine *e);

/* ---- engine_rollback.c -------------------------------------------------- */

/* --rollback: the newest session that still has changes to undo. Returns
 * the exit code (after engine_finish()). */
int engine_rollback_mode(struct engine *e);
/* Undoes every pending change of session_id in j, newest first; removes
 * that session's checkpoints. Returns the number of undos that failed. */
int engine_rollback_session(struct engine *e, struct journal *j, const char *session_id);
/* What undoing the running session would do, newest first (NULL without a journal). */
char **engine_undo_preview(struct engine *e);
