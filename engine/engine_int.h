/* engine_int.h — what engine.c and ops.c share; not for phases or the UI.
 *
 * struct phase_ctx is the engine's per-phase state handed to a phase's
 * functions. ops.c needs its insides (current action, output tail, the
 * journal) to journal changes and route child output. */
#pragma once

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "journal.h"
#include "phase.h"
#include "run.h"
#include "session.h"

#define CTX_TAIL_LINES 20

struct engine;

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

/* Output line of a child run inside a phase: log file, log event, tail. */
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
