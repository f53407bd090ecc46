/* phase.h — what a provisioning phase is, and what the engine offers it.
 *
 * A phase is a table (struct phase) of a name, a weight and three
 * functions. The engine calls them in this order:
 *
 *   plan(ctx)    lists what run() would do (phase_plan()), looking at the
 *                system without changing it. Used by --dry-run, the wizard's
 *                review screen and the rollback preview.
 *   verify(ctx)  before run(): is the phase already done as the answers ask?
 *                Returns 1 (done: the phase is skipped), 0 (not done,
 *                phase_verify_note() says why) or -errno. It must be cheap:
 *                a re-run of a finished server calls every verify().
 *   run(ctx)     makes the changes, only through ops.h (which journals each
 *                one with its undo before making it) and groups them in
 *                actions (phase_action_begin/end). Returns 0 or -errno after
 *                phase_fail() said what went wrong.
 *   verify(ctx)  again after run(); only when it returns 1 is the checkpoint
 *                written.
 *
 * A phase never touches the terminal, never prints and never calls
 * fork/exec/system itself. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "answers.h"
#include "events.h"
#include "log.h"
#include "paths.h"
#include "preflight.h"
#include "util.h"

struct phase_ctx;
struct session;
struct secret;
struct undo;

struct phase {
        const char *id;           /* "desktop": checkpoint file, logs, --json */
        const char *title;        /* "XFCE desktop" */
        const char *summary;      /* one line for the review screen and --help */
        unsigned weight;          /* share of a typical full run's time; the table sums to 100 */
        unsigned download_mb;     /* typical download on a fresh Debian 13, MB (the wizard's
                                   * estimate on its review page); 0 = none or not known */
        /* NULL = always; false = not selected by the answers (shown as
         * disabled). Gets its own phase, for phases made from data. */
        bool (*enabled)(const struct phase *p, const struct answers *a);
        /* Feeds the answers this phase depends on into the checkpoint's
         * inputs digest; a change of them re-runs the phase. NULL = none. */
        void (*inputs)(const struct answers *a, struct sha256_ctx *c);
        int (*plan)(struct phase_ctx *ctx);
        /* NULL = the phase has no state of its own to check (the summary):
         * it runs every time and is done when run() succeeds; no checkpoint. */
        int (*verify)(struct phase_ctx *ctx);
        int (*run)(struct phase_ctx *ctx);
        /* NULL = nothing to finish later. Finishes a change that waits for
         * the person, such as closing the old SSH port once a login on the
         * new one was seen: called once at the end of every run that ended
         * well, then, while the run's process stays for --attach, every few
         * seconds, and at once with confirmed = true when the person says
         * it may go ahead (EV_SSH_PORT_CONFIRMED). Changes go through
         * ops.h as in run(), under the run's lock. Returns 1 when nothing
         * waits (any more), 0 while it still waits, -errno after
         * phase_fail(). */
        int (*settle)(struct phase_ctx *ctx, bool confirmed);
        /* What a phase made from data works on (an IDE phase: its catalog
         * entry); phase_data() hands it to plan/verify/run. NULL = none. */
        const void *data;
};

/* Whether the answers select p (its enabled(), or always). */
bool phase_is_enabled(const struct phase *p, const struct answers *a);

/* Read-only context. */
const struct answers *phase_answers(struct phase_ctx *c);
const struct vps_info *phase_vps(struct phase_ctx *c);
const struct paths *phase_paths(struct phase_ctx *c);
const char *phase_id(struct phase_ctx *c);
const void *phase_data(struct phase_ctx *c);   /* the phase's data member */
const char *phase_session_id(struct phase_ctx *c);

/* The session record, for phases that fill the developer user or IDE
 * installations; call phase_session_save() after changing it. */
struct session *phase_session(struct phase_ctx *c);
void phase_session_save(struct phase_ctx *c);

/* plan(): one planned step. type is a data-model action type. */
void phase_plan(struct phase_ctx *c, const char *type, const char *target, const char *fmt, ...)
        _printf_(4, 5);

/* run(): actions group changes for the session record and the dashboard.
 * Begin one, make its changes, end it with the result (returned as is). */
void phase_action_begin(struct phase_ctx *c, const char *type, const char *target,
                        const char *fmt, ...) _printf_(4, 5);
int phase_action_end(struct phase_ctx *c, int r);

/* Progress of this phase, 0..1, and what is going on right now. Values are
 * clamped and never go backwards within a phase. detail may be NULL. */
void phase_progress(struct phase_ctx *c, double fraction, const char *detail_fmt, ...)
        _printf_(3, 4);

void phase_log(struct phase_ctx *c, enum log_level level, const char *fmt, ...) _printf_(3, 4);
/* Records the phase's error message (shown in the failure dialog, the
 * session and the log) and returns r, which must be < 0. */
int phase_fail(struct phase_ctx *c, int r, const char *fmt, ...) _printf_(3, 4);
/* verify(): why it says "not done" ("xrdp listens on 3390, not 3389"). */
void phase_verify_note(struct phase_ctx *c, const char *fmt, ...) _printf_(2, 3);
/* verify(): what it saw (package versions, file hashes) for the checksum. */
void phase_verify_digest(struct phase_ctx *c, const char *fmt, ...) _printf_(2, 3);
/* A line for the final summary screen ("RDP: 203.0.113.7:3389"). */
void phase_summary(struct phase_ctx *c, const char *fmt, ...) _printf_(2, 3);

/* True once the person asked to cancel; a phase may check it between long
 * steps and return -ECANCELED (the engine also checks between actions). */
bool phase_cancel_requested(struct phase_ctx *c);

/* The user phase hands over the password for the final credentials screen.
 * The engine takes ownership of pw (may be NULL when a hash was supplied)
 * and registers it for log redaction at once. */
void phase_set_credentials(struct phase_ctx *c, const char *username, enum creds_password kind,
                           struct secret *pw);

/* The session whose generated password for the answers' account was never
 * shown to anyone (its process died first, or was stopped), or NULL: the
 * user phase then sets a new password, so this run can show one. */
const char *phase_unseen_password(struct phase_ctx *c);

/* Low level: journal one change (write-ahead) in this phase. ops.h does
 * this for every operation it offers; phases call it only for a change ops.h
 * has no function for. Returns the seq or -errno. */
int64_t phase_journal(struct phase_ctx *c, const char *type, const char *target,
                      const struct undo *u);
