/* engine.c — the engine thread.
 *
 * DESIGN
 * The UI thread builds a struct engine from the answers and the phase
 * table, starts it and from then on only reads events (engine_events()) and
 * sends answers or a cancel (engine_send()). The engine thread:
 *
 *   1. takes the single-instance lock (not in a dry run),
 *   2. runs preflight (facts + checks; a refusal changes nothing),
 *   3. creates the session (id, journal, log, session JSON) or, for
 *      --resume, reopens the unfinished one,
 *   4. for each enabled phase: verify() → skip when done and the checkpoint's
 *      inputs match; else run() then verify() again → checkpoint,
 *   5. on a failure asks the UI (retry / roll back / keep) or follows the
 *      unattended policy, rolling back this session's journal newest first,
 *   6. hands the credentials to the UI once and ends the session.
 *
 * A synthetic phase "preflight" sits at index 0 of the phase list the UI
 * sees, so the dashboard can show it like any other.
 *
 * Progress: each enabled phase's weight is its share of the run; the
 * overall fraction is done weight plus the current phase's share of its own
 * weight. The ETA extrapolates only from phases that really ran (skipped
 * phases take no time and would make it lie).
 *
 * Cancel: the UI (after asking the person) sends EV_CANCEL; the engine
 * stops at the next safe point — between actions or phases, never inside a
 * dpkg run — and ends with EXIT_INTERRUPTED, changes kept for --resume.
 */
#include "engine.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/eventfd.h>
#include <sys/resource.h>

#include <json-c/json.h>

#include "apt.h"
#include "checkpoint.h"
#include "engine_int.h"
#include "fetch.h"
#include "journal.h"
#include "lock.h"
#include "log.h"
#include "rollback.h"
#include "secret.h"
#include "session.h"

#define PROGRESS_INTERVAL_MS 200
#define PREFLIGHT_WEIGHT 1

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
        bool have_credentials;
        char **summary;
        char *end_message;
        int next_prompt_id;
};

/* ---- events ------------------------------------------------------------ */

static void emit(struct engine *e, struct event *ev)
{
        queue_push(e->events, ev);
}

/* Logs to the file and sends a log event for the dashboard's pane. */
static void elog(struct engine *e, int phase_index, enum log_level level, const char *scope,
                 const char *fmt, ...) _printf_(5, 6);
static void elog(struct engine *e, int phase_index, enum log_level level, const char *scope,
                 const char *fmt, ...)
{
        va_list ap;
        char *text;
        struct event *ev;

        va_start(ap, fmt);
        if (vasprintf(&text, fmt, ap) < 0)
                text = NULL;
        va_end(ap);
        if (!text)
                return;
        log_write(level, scope, "%s", text);
        if (level < log_get_level() && level < LOG_INFO) {
                free(text);
                return;
        }
        ev = event_new(EV_LOG);
        ev->log.level = level;
        ev->log.phase_index = phase_index;
        ev->log.text = log_redact(text, strlen(text));
        free(text);
        emit(e, ev);
}

static double total_weight(const struct engine *e)
{
        double w = 0;
        for (size_t i = 0; i < e->n_slots; i++)
                if (e->slots[i].enabled)
                        w += e->slots[i].weight;
        return w > 0 ? w : 1;
}

static double done_weight(const struct engine *e)
{
        double w = 0;
        for (size_t i = 0; i < e->n_slots; i++)
                if (e->slots[i].enabled &&
                    (e->slots[i].state == PHASE_DONE || e->slots[i].state == PHASE_SKIPPED))
                        w += e->slots[i].weight;
        return w;
}

/* Sends a progress event; rate-limited unless force. */
static void emit_progress(struct engine *e, const char *detail, bool force)
{
        int64_t now = now_ms();
        struct event *ev;
        double tw, cw, overall, active_w, active_t;

        if (!force && now - e->last_progress_ms < PROGRESS_INTERVAL_MS)
                return;
        e->last_progress_ms = now;

        tw = total_weight(e);
        cw = (e->cur >= 0 && (size_t)e->cur < e->n_slots &&
              e->slots[e->cur].state == PHASE_RUNNING)
                     ? e->slots[e->cur].weight * e->cur_fraction
                     : 0;
        overall = (done_weight(e) + cw) / tw;
        if (overall > 1)
                overall = 1;

        ev = event_new(EV_PROGRESS);
        ev->progress.overall = overall;
        ev->progress.phase = e->cur_fraction;
        ev->progress.phase_index = e->cur;
        ev->progress.elapsed_ms = now - e->start_ms;
        active_w = e->active_weight + cw;
        active_t = (double)e->active_ms + (e->cur >= 0 ? (double)(now - e->phase_start_ms) : 0);
        if (active_w >= tw * 0.02 && active_t > 3000) {
                double remaining = tw * (1 - overall);
                ev->progress.eta_ms = (int64_t)(remaining * active_t / active_w);
        } else
                ev->progress.eta_ms = -1;
        ev->progress.detail = detail ? xstrdup(detail) : NULL;
        emit(e, ev);
}

static void emit_phase_start(struct engine *e, int i)
{
        struct event *ev = event_new(EV_PHASE_START);
        ev->phase_start.index = i;
        ev->phase_start.id = xstrdup(e->slots[i].id);
        ev->phase_start.title = xstrdup(e->slots[i].title);
        emit(e, ev);
}

static void emit_phase_end(struct engine *e, int i, const char *message)
{
        struct event *ev = event_new(EV_PHASE_END);
        ev->phase_end.index = i;
        ev->phase_end.id = xstrdup(e->slots[i].id);
        ev->phase_end.state = e->slots[i].state;
        ev->phase_end.duration_ms = e->slots[i].duration_ms;
        ev->phase_end.message = message ? xstrdup(message) : NULL;
        emit(e, ev);
}

static void emit_session_start(struct engine *e)
{
        struct event *ev = event_new(EV_SESSION_START);

        ev->session.session_id = xstrdup(e->session.session_id);
        ev->session.mode = e->o.mode;
        ev->session.log_path = e->session.log_path ? xstrdup(e->session.log_path) : NULL;
        ev->session.session_path = e->session_path[0] ? xstrdup(e->session_path) : NULL;
        ev->session.n_phases = e->n_slots;
        ev->session.phases = xcalloc(e->n_slots, sizeof(struct ev_phase_info));
        for (size_t i = 0; i < e->n_slots; i++) {
                ev->session.phases[i].id = xstrdup(e->slots[i].id);
                ev->session.phases[i].title = xstrdup(e->slots[i].title);
                ev->session.phases[i].weight = e->slots[i].weight;
                ev->session.phases[i].state = e->slots[i].state;
        }
        emit(e, ev);
}

static void save_session(struct engine *e)
{
        int r;

        if (!e->have_session)
                return;
        r = session_save(&e->session, e->session_path);
        if (r < 0)
                elog(e, -1, LOG_WARNING, "engine", "cannot write %s: %s", e->session_path,
                     strerror(-r));
}

/* ---- commands from the UI ---------------------------------------------- */

static void set_cancel(struct engine *e)
{
        uint64_t one = 1;
        if (!atomic_exchange(&e->cancel, true)) {
                (void)!write(e->cancel_efd, &one, sizeof(one));
                elog(e, e->cur, LOG_WARNING, "engine",
                     "Cancel requested: stopping at the next safe point (the current step finishes first)");
        }
}

/* Handles pending UI → engine messages that need no answer (cancel). */
static void poll_commands(struct engine *e)
{
        struct event *ev;
        while ((ev = queue_pop(e->commands))) {
                if (ev->type == EV_CANCEL)
                        set_cancel(e);
                event_free(ev);
        }
}

static bool cancelled(struct engine *e)
{
        poll_commands(e);
        return atomic_load(&e->cancel);
}

/* Asks the UI; without one (unattended, detached) the policy answers. */
static enum prompt_choice ask(struct engine *e, enum prompt_kind kind, const char *title,
                              const char *message, char **tail, char **undo,
                              enum prompt_choice fallback)
{
        struct event *ev;
        int id;

        if (!e->o.interactive || atomic_load(&e->detached)) {
                strv_free(tail);
                strv_free(undo);
                return fallback;
        }
        id = ++e->next_prompt_id;
        ev = event_new(EV_PROMPT);
        ev->prompt.id = id;
        ev->prompt.kind = kind;
        ev->prompt.title = xstrdup(title);
        ev->prompt.message = xstrdup(message ? message : "");
        ev->prompt.tail = tail;
        ev->prompt.undo = undo;
        emit(e, ev);

        for (;;) {
                struct event *a = queue_wait_pop(e->commands, 500);
                if (!a) {
                        if (atomic_load(&e->detached))
                                return fallback;
                        continue;
                }
                if (a->type == EV_CANCEL) {
                        set_cancel(e);
                } else if (a->type == EV_ANSWER && a->answer.prompt_id == id) {
                        enum prompt_choice c = a->answer.choice;
                        event_free(a);
                        if (c != CHOICE_NONE)
                                return c;
                        continue;
                }
                event_free(a);
        }
}

/* ---- phase_ctx API (phase.h) ------------------------------------------- */

const struct answers *phase_answers(struct phase_ctx *c) { return &c->e->o.answers; }
const struct vps_info *phase_vps(struct phase_ctx *c) { return &c->e->vps; }
const struct paths *phase_paths(struct phase_ctx *c) { return &c->e->o.paths; }
const char *phase_id(struct phase_ctx *c) { return c->e->slots[c->index].id; }
const void *phase_data(struct phase_ctx *c) { return c->p ? c->p->data : NULL; }

bool phase_is_enabled(const struct phase *p, const struct answers *a)
{
        return !p->enabled || p->enabled(p, a);
}
const char *phase_session_id(struct phase_ctx *c) { return c->e->session.session_id; }
struct session *phase_session(struct phase_ctx *c) { return &c->e->session; }
void phase_session_save(struct phase_ctx *c) { save_session(c->e); }
struct journal *ctx_journal(struct phase_ctx *c) { return c->e->journal; }
const char *ctx_backup_dir(struct phase_ctx *c) { return c->e->backup_dir; }
int ctx_cancel_fd(struct phase_ctx *c) { return c->e->cancel_efd; }
const char *ctx_dpkg_dir(struct phase_ctx *c) { return c->e->o.preflight.dpkg_dir; }

bool phase_cancel_requested(struct phase_ctx *c)
{
        return cancelled(c->e);
}

void phase_plan(struct phase_ctx *c, const char *type, const char *target, const char *fmt, ...)
{
        va_list ap;
        char *d;

        va_start(ap, fmt);
        if (vasprintf(&d, fmt, ap) < 0)
                d = NULL;
        va_end(ap);
        strv_pushf(&c->plan, "%s\t%s\t%s", type, target ? target : "", d ? d : "");
        free(d);
}

void phase_log(struct phase_ctx *c, enum log_level level, const char *fmt, ...)
{
        va_list ap;
        char *text;

        va_start(ap, fmt);
        if (vasprintf(&text, fmt, ap) < 0)
                text = NULL;
        va_end(ap);
        if (!text)
                return;
        elog(c->e, c->index, level, phase_id(c), "%s", text);
        free(text);
}

int phase_fail(struct phase_ctx *c, int r, const char *fmt, ...)
{
        va_list ap;
        char *text;

        va_start(ap, fmt);
        if (vasprintf(&text, fmt, ap) < 0)
                text = NULL;
        va_end(ap);
        if (text) {
                elog(c->e, c->index, LOG_ERROR, phase_id(c), "%s", text);
                free(c->error);
                c->error = log_redact(text, strlen(text));
                free(text);
        }
        return r < 0 ? r : -EIO;
}

void phase_verify_note(struct phase_ctx *c, const char *fmt, ...)
{
        va_list ap;
        char *text;

        va_start(ap, fmt);
        if (vasprintf(&text, fmt, ap) < 0)
                text = NULL;
        va_end(ap);
        if (!text)
                return;
        if (c->verify_note) {
                char *both = xasprintf("%s; %s", c->verify_note, text);
                free(c->verify_note);
                free(text);
                c->verify_note = both;
        } else
                c->verify_note = text;
}

void phase_verify_digest(struct phase_ctx *c, const char *fmt, ...)
{
        va_list ap;
        char *text;

        if (!c->digest)
                return;
        va_start(ap, fmt);
        if (vasprintf(&text, fmt, ap) < 0)
                text = NULL;
        va_end(ap);
        if (!text)
                return;
        sha256_add(c->digest, text, strlen(text));
        sha256_add(c->digest, "\n", 1);
        free(text);
}

void phase_summary(struct phase_ctx *c, const char *fmt, ...)
{
        va_list ap;
        char *text;

        va_start(ap, fmt);
        if (vasprintf(&text, fmt, ap) < 0)
                text = NULL;
        va_end(ap);
        if (text)
                strv_push_take(&c->e->summary, text);
}

void phase_set_credentials(struct phase_ctx *c, const char *username, struct secret *pw)
{
        struct engine *e = c->e;

        if (e->cred_pw) {
                log_unregister_secret(e->cred_pw);
                secret_free(e->cred_pw);
        }
        strscpy(e->cred_user, sizeof(e->cred_user), username);
        e->cred_pw = pw;
        if (pw)
                log_register_secret(pw);
        e->have_credentials = true;
}

void phase_progress(struct phase_ctx *c, double fraction, const char *detail_fmt, ...)
{
        char *detail = NULL;
        va_list ap;

        if (isnan(fraction))
                fraction = 0;
        if (fraction < 0)
                fraction = 0;
        if (fraction > 1)
                fraction = 1;
        if (fraction < c->fraction)
                fraction = c->fraction;   /* never backwards */
        c->fraction = fraction;
        c->e->cur_fraction = fraction;
        if (detail_fmt) {
                va_start(ap, detail_fmt);
                if (vasprintf(&detail, detail_fmt, ap) < 0)
                        detail = NULL;
                va_end(ap);
        }
        emit_progress(c->e, detail, false);
        free(detail);
}

static void tail_push(struct phase_ctx *c, const char *line)
{
        free(c->tail[c->tail_next]);
        c->tail[c->tail_next] = xstrdup(line);
        c->tail_next = (c->tail_next + 1) % CTX_TAIL_LINES;
}

static char **tail_strv(struct phase_ctx *c)
{
        char **v = NULL;
        for (size_t k = 0; k < CTX_TAIL_LINES; k++) {
                const char *s = c->tail[(c->tail_next + k) % CTX_TAIL_LINES];
                if (s)
                        strv_push(&v, s);
        }
        return v;
}

void ctx_output_line(struct phase_ctx *c, enum run_stream stream, const char *line, size_t len,
                     bool truncated)
{
        struct event *ev;
        char *red;

        log_line(stream == RUN_STDERR ? LOG_INFO : LOG_INFO, phase_id(c), line, len);
        red = log_redact(line, len);
        /* Printable form for the UI: control bytes become '?'. */
        for (char *p = red; *p; p++)
                if ((unsigned char)*p < 0x20 && *p != '\t')
                        *p = '?';
        tail_push(c, red);
        if (c->action) {
                if (c->action_output.len > 3072) {
                        /* keep the last part only */
                        size_t keep = 2048;
                        memmove(c->action_output.data,
                                c->action_output.data + c->action_output.len - keep, keep);
                        c->action_output.len = keep;
                        c->action_output.data[keep] = '\0';
                }
                buf_append(&c->action_output, red, strlen(red));
                buf_append(&c->action_output, truncated ? "…\n" : "\n", truncated ? 4 : 1);
        }
        ev = event_new(EV_LOG);
        ev->log.level = LOG_INFO;
        ev->log.phase_index = c->index;
        ev->log.text = red;
        emit(c->e, ev);
}

void phase_action_begin(struct phase_ctx *c, const char *type, const char *target,
                        const char *fmt, ...)
{
        va_list ap;
        char *title;
        struct event *ev;

        if (c->action)
                phase_action_end(c, 0);
        va_start(ap, fmt);
        if (vasprintf(&title, fmt, ap) < 0)
                title = xstrdup(target ? target : "");
        va_end(ap);

        c->action_implicit = false;
        c->action_start_ms = now_ms();
        buf_release(&c->action_output);
        buf_init(&c->action_output, 8192);
        if (c->sp) {
                c->action = session_phase_add_action(c->sp, type, target ? target : "");
                iso8601_now(c->action->timestamp);
        } else
                c->action = NULL;
        log_write(LOG_INFO, phase_id(c), "%s", title);
        ev = event_new(EV_ACTION_START);
        ev->action_start.phase_index = c->index;
        ev->action_start.type = xstrdup(type);
        ev->action_start.target = xstrdup(target ? target : "");
        ev->action_start.title = xstrdup(title);
        /* the event belongs to the UI thread once emitted: the progress
         * line uses our own copy */
        emit(c->e, ev);
        emit_progress(c->e, title, false);
        free(title);
}

bool ctx_action_auto_begin(struct phase_ctx *c, const char *type, const char *target,
                           const char *title)
{
        if (c->action)
                return false;
        phase_action_begin(c, type, target, "%s", title);
        c->action_implicit = true;
        return true;
}

int phase_action_end(struct phase_ctx *c, int r)
{
        struct event *ev = event_new(EV_ACTION_END);

        ev->action_end.phase_index = c->index;
        ev->action_end.ok = r >= 0;
        ev->action_end.duration_ms = now_ms() - c->action_start_ms;
        ev->action_end.message = (r < 0 && c->error) ? xstrdup(c->error) : NULL;
        if (c->action) {
                c->action->status = r >= 0 ? ACTION_COMPLETED : ACTION_FAILED;
                free(c->action->output);
                c->action->output = c->action_output.len ? xstrdup(c->action_output.data) : NULL;
        }
        buf_release(&c->action_output);
        c->action = NULL;
        c->action_implicit = false;
        emit(c->e, ev);
        save_session(c->e);
        return r;
}

int64_t phase_journal(struct phase_ctx *c, const char *type, const char *target,
                      const struct undo *u)
{
        int64_t seq;

        if (!c->e->journal)
                return -EBADF;
        seq = journal_append(c->e->journal, c->e->session.session_id, phase_id(c), type, target,
                             u);
        if (seq < 0) {
                phase_fail(c, (int)seq, "cannot write the transaction journal %s: %s",
                           journal_path(c->e->journal), strerror((int)-seq));
                return seq;
        }
        if (c->action) {
                c->action->journal_seq = seq;
                free(c->action->undo);
                c->action->undo = undo_describe(u);
        }
        return seq;
}

/* ---- life cycle -------------------------------------------------------- */

int engine_new(const struct engine_opts *o, struct engine **ret)
{
        struct engine *e = xcalloc(1, sizeof(*e));
        int r;

        e->o = *o;
        e->cur = -1;
        e->cancel_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (e->cancel_efd < 0) {
                r = -errno;
                free(e);
                return r;
        }
        r = queue_new(0, &e->events);
        if (r == 0)
                r = queue_new(0, &e->commands);
        if (r < 0) {
                engine_free(e);
                return r;
        }

        e->n_slots = o->n_phases + 1;
        e->slots = xcalloc(e->n_slots, sizeof(struct slot));
        e->slots[0] = (struct slot){ .id = "preflight", .title = "Preflight checks",
                                     .weight = PREFLIGHT_WEIGHT, .enabled = true };
        for (size_t i = 0; i < o->n_phases; i++) {
                const struct phase *p = o->phases[i];
                struct slot *s = &e->slots[i + 1];
                s->p = p;
                s->id = p->id;
                s->title = p->title;
                s->weight = p->weight;
                s->enabled = phase_is_enabled(p, &o->answers);
                s->state = s->enabled ? PHASE_PENDING : PHASE_DISABLED;
        }
        *ret = e;
        return 0;
}

void engine_free(struct engine *e)
{
        if (!e)
                return;
        queue_free(e->events);
        queue_free(e->commands);
        if (e->cancel_efd >= 0)
                close(e->cancel_efd);
        journal_free(e->journal);
        lock_release(e->lock);
        /* prepared (or loaded) even when no file was written: release it
         * whatever have_session says; a zeroed session releases fine */
        session_release(&e->session);
        if (e->cred_pw) {
                log_unregister_secret(e->cred_pw);
                secret_free(e->cred_pw);
        }
        strv_free(e->summary);
        free(e->end_message);
        free(e->slots);
        free(e);
}

struct queue *engine_events(struct engine *e) { return e->events; }
size_t engine_phase_count(const struct engine *e) { return e->n_slots; }

void engine_send(struct engine *e, struct event *ev)
{
        queue_push(e->commands, ev);
}

void engine_detach_ui(struct engine *e)
{
        atomic_store(&e->detached, true);
        e->o.answers.on_failure = ON_FAILURE_KEEP;
        /* wake a prompt waiting for an answer */
        queue_push(e->commands, event_new(EV_ANSWER));
}

void engine_global_init(void)
{
        (void)fetch_global_init();
}

const char *exit_code_meaning(int code)
{
        switch (code) {
        case EXIT_OK: return "done (or nothing to do)";
        case EXIT_INTERNAL: return "internal error (a bug, or out of memory): please report it with the log";
        case EXIT_USAGE: return "bad command line or answers file; nothing was changed";
        case EXIT_PREFLIGHT: return "preflight refused this server; nothing was changed";
        case EXIT_FAILED_KEPT: return "a phase failed and the changes were kept; fix the cause and run --resume";
        case EXIT_ROLLED_BACK: return "a phase failed and every change of the run was rolled back";
        case EXIT_LOCKED: return "another vps-provision run holds the lock";
        case EXIT_INTERRUPTED: return "interrupted (cancelled or by a signal); run --resume to continue";
        case EXIT_ROLLBACK_FAILED: return "a rollback could not undo every change (the log lists them)";
        case EXIT_UNFINISHED: return "an earlier run is unfinished: run --resume or --rollback first";
        case EXIT_NOT_ROOT: return "vps-provision must run as root";
        default: return "unknown";
        }
}

/* ---- steps ------------------------------------------------------------- */

static void finish(struct engine *e, int code, enum session_status status, const char *fmt, ...)
        _printf_(4, 5);
static void finish(struct engine *e, int code, enum session_status status, const char *fmt, ...)
{
        va_list ap;
        char *msg;

        va_start(ap, fmt);
        if (vasprintf(&msg, fmt, ap) < 0)
                msg = xstrdup("");
        va_end(ap);
        e->exit_code = code;
        free(e->end_message);
        e->end_message = msg;
        if (e->have_session) {
                char now[ISO8601_MAX];
                iso8601_now(now);
                if (status != SESSION_IN_PROGRESS) {
                        e->session.status = status;
                        memcpy(e->session.end_time, now, sizeof(now));
                        e->session.duration_seconds = (now_ms() - e->start_ms) / 1000;
                }
                e->session.exit_code = code;
                if (code != EXIT_OK) {
                        free(e->session.error_details);
                        e->session.error_details = xstrdup(msg);
                }
                save_session(e);
        }
        log_write(code == EXIT_OK ? LOG_INFO : LOG_ERROR, "engine", "%s (exit code %d)", msg,
                  code);
}

/* Preflight: facts and checks. Returns 0 to go on, or an exit code. */
static int step_preflight(struct engine *e)
{
        struct preflight_env env = e->o.preflight;
        struct event *ev;
        struct check_list checks = { 0 };
        char mirror[512] = "", proxy[512] = "";
        int failures;

        e->cur = 0;
        e->slots[0].state = PHASE_RUNNING;
        e->phase_start_ms = now_ms();
        emit_phase_start(e, 0);

        if (!env.mirror_url) {
                if (e->o.answers.apt_mirror[0])
                        strscpy(mirror, sizeof(mirror), e->o.answers.apt_mirror);
                else if (!env.apt_dir ||
                         preflight_default_mirror(env.apt_dir, mirror, sizeof(mirror)) < 0)
                        mirror[0] = '\0';
                env.mirror_url = mirror[0] ? mirror : NULL;
        }
        /* the archive check goes the way apt goes (a proxy in apt.conf.d
         * is common behind corporate firewalls and in test networks) */
        if (env.mirror_url && !env.proxy && env.apt_dir) {
                const char *h = strstr(env.mirror_url, "://");
                char host[256] = "";

                if (h)
                        snprintf(host, sizeof(host), "%.*s", (int)strcspn(h + 3, ":/"), h + 3);
                if (apt_proxy(strncasecmp(env.mirror_url, "https:", 6) == 0 ? "https" : "http", host,
                              proxy, sizeof(proxy)) == 0 && proxy[0])
                        env.proxy = proxy;
        }
        if (e->o.mode == MODE_RESUME)
                env.dpkg_interrupted_ok = true;

        preflight_gather(&env, &e->vps);
        failures = preflight_check(&env, &e->vps, e->o.force, &checks);

        for (size_t i = 0; i < checks.n; i++) {
                const struct check *c = &checks.v[i];
                elog(e, 0, c->status == CHECK_FAIL ? LOG_ERROR
                           : c->status == CHECK_WARN ? LOG_WARNING
                                                     : LOG_INFO,
                     "preflight", "%s: %s%s%s", c->name, c->message, c->fix ? " — " : "",
                     c->fix ? c->fix : "");
        }

        ev = event_new(EV_PREFLIGHT);
        ev->preflight.info = e->vps;
        ev->preflight.checks = checks;    /* moved */
        ev->preflight.refused = failures > 0;
        emit(e, ev);

        e->slots[0].duration_ms = now_ms() - e->phase_start_ms;
        e->slots[0].state = failures > 0 ? PHASE_FAILED : PHASE_DONE;
        e->preflight_refused = failures > 0;
        emit_phase_end(e, 0, failures > 0 ? "the server does not meet the requirements" : NULL);
        e->cur_fraction = 0;
        emit_progress(e, NULL, true);
        return 0;
}

static void ctx_init(struct phase_ctx *c, struct engine *e, int index)
{
        *c = (struct phase_ctx){ .e = e, .index = index, .p = e->slots[index].p };
        if (e->have_session)
                c->sp = session_find_phase(&e->session, e->slots[index].id);
}

static void ctx_release(struct phase_ctx *c)
{
        if (c->action)
                phase_action_end(c, c->error ? -EIO : 0);
        buf_release(&c->action_output);
        strv_free(c->plan);
        for (size_t k = 0; k < CTX_TAIL_LINES; k++)
                free(c->tail[k]);
        free(c->error);
        free(c->verify_note);
        if (c->digest) {
                char junk[SHA256_HEX];
                sha256_end(c->digest, junk);
        }
}

static void inputs_digest(struct engine *e, const struct phase *p, char ret[SHA256_HEX])
{
        struct sha256_ctx *d = sha256_begin();
        sha256_add(d, p->id, strlen(p->id));
        if (p->inputs)
                p->inputs(&e->o.answers, d);
        sha256_end(d, ret);
}

/* verify() with a fresh digest; returns its result and the digest. */
static int call_verify(struct phase_ctx *c, char ret_digest[SHA256_HEX])
{
        int r;

        free(c->verify_note);
        c->verify_note = NULL;
        if (c->digest) {
                char junk[SHA256_HEX];
                sha256_end(c->digest, junk);
        }
        c->digest = sha256_begin();
        r = c->p->verify ? c->p->verify(c) : 0;
        sha256_end(c->digest, ret_digest);
        c->digest = NULL;
        return r;
}

static void set_phase_state(struct engine *e, int i, enum phase_state st)
{
        struct session_phase *sp;

        e->slots[i].state = st;
        if (!e->have_session)
                return;
        sp = session_find_phase(&e->session, e->slots[i].id);
        if (!sp)
                return;
        sp->status = st;
        if (st == PHASE_RUNNING) {
                iso8601_now(sp->start_time);
                sp->end_time[0] = '\0';
        } else if (st != PHASE_PENDING && st != PHASE_DISABLED) {
                iso8601_now(sp->end_time);
                sp->duration_seconds = e->slots[i].duration_ms / 1000;
        }
}

static char **undo_preview(struct engine *e)
{
        const struct journal_entry **list = NULL;
        size_t n;
        char **v = NULL;

        if (!e->journal)
                return NULL;
        n = journal_pending(e->journal, e->session.session_id, &list);
        for (size_t i = 0; i < n; i++)
                strv_push_take(&v, undo_describe(&list[i]->undo));
        free(list);
        return v;
}

struct undo_run {
        struct engine *e;
        struct rollback_env env;
        size_t done, total;
        char *scope;
};

static void undo_line(void *userdata, enum run_stream stream, const char *line, size_t len,
                      bool truncated)
{
        struct undo_run *u = userdata;
        struct event *ev;
        (void)stream;
        (void)truncated;

        log_line(LOG_INFO, "rollback", line, len);
        ev = event_new(EV_LOG);
        ev->log.level = LOG_INFO;
        ev->log.phase_index = u->e->cur;
        ev->log.text = log_redact(line, len);
        emit(u->e, ev);
}

static int undo_one(void *userdata, const struct journal_entry *je, char *msg, size_t msglen)
{
        struct undo_run *u = userdata;
        _cleanup_free_ char *what = undo_describe(&je->undo);
        struct event *ev;
        int64_t t0 = now_ms();
        int r;

        ev = event_new(EV_ACTION_START);
        ev->action_start.phase_index = u->e->cur;
        ev->action_start.type = xstrdup("ROLLBACK");
        ev->action_start.target = xstrdup(je->target ? je->target : "");
        ev->action_start.title = xasprintf("Undo: %s", what);
        emit(u->e, ev);
        log_write(LOG_INFO, "rollback", "undo #%llu (%s): %s", (unsigned long long)je->seq,
                  je->phase ? je->phase : "-", what);

        r = rollback_apply(&u->env, je, msg, msglen);

        if (r < 0)
                elog(u->e, u->e->cur, LOG_ERROR, "rollback", "could not undo #%llu (%s): %s",
                     (unsigned long long)je->seq, what, msg);
        ev = event_new(EV_ACTION_END);
        ev->action_end.phase_index = u->e->cur;
        ev->action_end.ok = r >= 0;
        ev->action_end.duration_ms = now_ms() - t0;
        ev->action_end.message = r < 0 ? xstrdup(msg) : NULL;
        emit(u->e, ev);

        u->done++;
        u->e->cur_fraction = (double)u->done / (double)(u->total ? u->total : 1);
        emit_progress(u->e, what, true);
        return r;
}

/* Undoes every pending change of session_id in j, newest first; removes
 * that session's checkpoints. Returns the number of undos that failed. */
static int rollback_session(struct engine *e, struct journal *j, const char *session_id)
{
        const struct journal_entry **list = NULL;
        struct undo_run u = { .e = e };
        size_t n;
        int failures, r;

        n = journal_pending(j, session_id, &list);
        u.total = n;
        u.env.on_line = undo_line;
        u.env.userdata = &u;
        elog(e, e->cur, LOG_WARNING, "rollback", "Rolling back %zu change%s of session %s", n,
             n == 1 ? "" : "s", session_id);
        failures = journal_rollback(j, list, n, undo_one, &u);
        free(list);

        r = checkpoint_remove_session(e->o.paths.checkpoints_dir, session_id);
        if (r < 0)
                elog(e, e->cur, LOG_WARNING, "rollback", "cannot remove checkpoints: %s",
                     strerror(-r));
        elog(e, e->cur, failures ? LOG_ERROR : LOG_INFO, "rollback",
             "Rollback finished: %zu undone, %d failed", n - (size_t)failures, failures);
        return failures;
}

/* Runs one phase to a verified end, asking on failure. Returns 0 to go on,
 * or an exit code to stop with. */
static int step_phase(struct engine *e, int i)
{
        struct slot *s = &e->slots[i];
        const struct phase *p = s->p;
        char inputs[SHA256_HEX], digest[SHA256_HEX];
        struct checkpoint cp;
        bool cp_ok;
        int r;

        for (;;) {
                struct phase_ctx c;
                bool skip = false;
                int64_t t0 = now_ms();

                ctx_init(&c, e, i);
                e->cur = i;
                e->cur_fraction = 0;
                e->phase_start_ms = t0;
                set_phase_state(e, i, PHASE_RUNNING);
                emit_phase_start(e, i);
                emit_progress(e, NULL, true);
                save_session(e);

                inputs_digest(e, p, inputs);
                cp_ok = checkpoint_read(e->o.paths.checkpoints_dir, p->id, &cp) == 0 &&
                        strcmp(cp.inputs, inputs) == 0;
                if (c.sp)
                        c.sp->checkpoint_exists = cp_ok;

                if (!e->o.force) {
                        r = call_verify(&c, digest);
                        if (r == 1 && (cp_ok || !p->inputs))
                                skip = true;
                        else if (r == 1)
                                elog(e, i, LOG_INFO, p->id,
                                     "in place, but the answers it depends on changed since it was verified: running it again");
                        else if (r < 0)
                                elog(e, i, LOG_WARNING, p->id, "check before running failed: %s",
                                     strerror(-r));
                }

                if (skip) {
                        if (!cp_ok || strcmp(cp.checksum, digest) != 0) {
                                struct checkpoint n = { 0 };
                                strscpy(n.phase, sizeof(n.phase), p->id);
                                iso8601_now(n.completed_at);
                                strscpy(n.session_id, sizeof(n.session_id),
                                        cp_ok ? cp.session_id : e->session.session_id);
                                memcpy(n.checksum, digest, SHA256_HEX);
                                memcpy(n.inputs, inputs, SHA256_HEX);
                                if (cp_ok)
                                        elog(e, i, LOG_INFO, p->id,
                                             "state changed since the checkpoint but still verifies");
                                checkpoint_write(e->o.paths.checkpoints_dir, &n);
                        }
                        s->duration_ms = now_ms() - t0;
                        set_phase_state(e, i, PHASE_SKIPPED);
                        elog(e, i, LOG_INFO, p->id, "%s: already done, verified — skipped",
                             s->title);
                        ctx_release(&c);
                        emit_phase_end(e, i, "already done (verified)");
                        save_session(e);
                        return 0;
                }

                if (c.verify_note)
                        elog(e, i, LOG_INFO, p->id, "to do: %s", c.verify_note);
                elog(e, i, LOG_INFO, p->id, "%s: starting", s->title);
                r = p->run ? p->run(&c) : 0;
                if (c.action)
                        phase_action_end(&c, r);
                if (r >= 0 && !p->verify) {
                        /* a phase without state of its own (the summary):
                         * done when it ran, no checkpoint, runs every time */
                } else if (r >= 0) {
                        int v = call_verify(&c, digest);
                        if (v == 1) {
                                struct checkpoint n = { 0 };
                                strscpy(n.phase, sizeof(n.phase), p->id);
                                iso8601_now(n.completed_at);
                                strscpy(n.session_id, sizeof(n.session_id), e->session.session_id);
                                memcpy(n.checksum, digest, SHA256_HEX);
                                memcpy(n.inputs, inputs, SHA256_HEX);
                                r = checkpoint_write(e->o.paths.checkpoints_dir, &n);
                                if (r < 0)
                                        phase_fail(&c, r, "cannot write the checkpoint: %s",
                                                   strerror(-r));
                        } else {
                                r = phase_fail(&c, v < 0 ? v : -EPROTO,
                                               "%s ran, but the result does not verify: %s",
                                               s->title,
                                               c.verify_note ? c.verify_note : "no reason given");
                        }
                }

                s->duration_ms = now_ms() - t0;
                if (r >= 0) {
                        e->active_ms += s->duration_ms;
                        e->active_weight += s->weight;
                        set_phase_state(e, i, PHASE_DONE);
                        e->cur_fraction = 1;
                        elog(e, i, LOG_INFO, p->id, "%s: done in %.1f s", s->title,
                             (double)s->duration_ms / 1000.0);
                        ctx_release(&c);
                        emit_phase_end(e, i, NULL);
                        save_session(e);
                        return 0;
                }

                /* failure */
                if (r == -ECANCELED && cancelled(e)) {
                        set_phase_state(e, i, PHASE_FAILED);
                        if (c.sp) {
                                free(c.sp->error_message);
                                c.sp->error_message = xstrdup("interrupted");
                        }
                        ctx_release(&c);
                        emit_phase_end(e, i, "interrupted");
                        return EXIT_INTERRUPTED;
                }
                if (!c.error)
                        phase_fail(&c, r, "%s failed: %s", s->title, strerror(-r));
                set_phase_state(e, i, PHASE_FAILED);
                if (c.sp) {
                        free(c.sp->error_message);
                        c.sp->error_message = xstrdup(c.error);
                }
                save_session(e);
                emit_phase_end(e, i, c.error);

                {
                        char *title = xasprintf("Phase \"%s\" failed", s->title);
                        enum prompt_choice fallback =
                                e->o.answers.on_failure == ON_FAILURE_ROLLBACK ? CHOICE_ROLLBACK
                                                                               : CHOICE_KEEP;
                        enum prompt_choice ch = ask(e, PROMPT_PHASE_FAILED, title, c.error,
                                                    tail_strv(&c), undo_preview(e), fallback);
                        free(title);
                        elog(e, i, LOG_INFO, "engine", "after the failure: %s",
                             prompt_choice_name(ch));
                        if (ch == CHOICE_RETRY) {
                                ctx_release(&c);
                                continue;
                        }
                        if (ch == CHOICE_ROLLBACK) {
                                int failures;
                                char *err = xstrdup(c.error);
                                ctx_release(&c);
                                failures = rollback_session(e, e->journal, e->session.session_id);
                                for (size_t k = 1; k < e->n_slots; k++)
                                        if (e->slots[k].state == PHASE_DONE ||
                                            e->slots[k].state == PHASE_FAILED)
                                                set_phase_state(e, (int)k, PHASE_ROLLED_BACK);
                                if (failures) {
                                        finish(e, EXIT_ROLLBACK_FAILED, SESSION_FAILED,
                                               "%s; the rollback could not undo %d change%s (see the log)",
                                               err, failures, failures == 1 ? "" : "s");
                                } else {
                                        finish(e, EXIT_ROLLED_BACK, SESSION_ROLLED_BACK,
                                               "%s; every change of this run was rolled back", err);
                                }
                                free(err);
                                return e->exit_code;
                        }
                        finish(e, EXIT_FAILED_KEPT, SESSION_FAILED,
                               "%s; the changes were kept: fix the cause, then run vps-provision --resume (or --rollback to undo)",
                               c.error);
                        ctx_release(&c);
                        return EXIT_FAILED_KEPT;
                }
        }
}

/* Dry run: every enabled phase's plan. */
static void step_plan(struct engine *e)
{
        for (size_t i = 1; i < e->n_slots; i++) {
                struct phase_ctx c;
                struct event *ev;

                if (!e->slots[i].enabled)
                        continue;
                ctx_init(&c, e, (int)i);
                c.planning = true;
                e->cur = (int)i;
                if (c.p->plan)
                        c.p->plan(&c);
                ev = event_new(EV_PLAN);
                ev->plan.phase_index = (int)i;
                ev->plan.steps = TAKE_PTR(c.plan);
                emit(e, ev);
                ctx_release(&c);
        }
}

/* Opens (creating) the session's journal and log. */
static int open_session_files(struct engine *e, char *err, size_t errlen)
{
        char jpath[PATH_MAX], lpath[PATH_MAX];
        int r;

        r = paths_create(&e->o.paths);
        if (r < 0) {
                snprintf(err, errlen, "cannot create %s: %s", e->o.paths.state_dir, strerror(-r));
                return r;
        }
        strscpy(lpath, sizeof(lpath), e->session.log_path);
        r = log_open(lpath);
        if (r < 0) {
                snprintf(err, errlen, "cannot open the log %s: %s", lpath, strerror(-r));
                return r;
        }
        paths_journal(&e->o.paths, e->session.session_id, jpath, sizeof(jpath));
        r = journal_open(jpath, &e->journal, err, errlen);
        if (r < 0)
                return r;
        if (journal_repaired(e->journal))
                log_write(LOG_WARNING, "engine",
                          "the journal's last line was torn (the previous run died while writing it) and has been cut off");
        if (snprintf(e->backup_dir, sizeof(e->backup_dir), "%s/%s", e->o.paths.backups_dir,
                     e->session.session_id) >= (int)sizeof(e->backup_dir)) {
                snprintf(err, errlen, "the state directory path is too long");
                return -ENAMETOOLONG;
        }
        r = mkdir_p(e->backup_dir, 0700);
        if (r < 0) {
                snprintf(err, errlen, "cannot create %s: %s", e->backup_dir, strerror(-r));
                return r;
        }
        free(e->session.journal_path);
        e->session.journal_path = xstrdup(jpath);
        return 0;
}

/* Newest session whose status is in mask, loaded into ret. */
static int find_session(struct engine *e, unsigned mask, struct session *ret)
{
        char path[PATH_MAX];
        int r = session_find_latest(e->o.paths.sessions_dir, mask, path, sizeof(path));
        if (r < 0)
                return r;
        return session_load(path, ret);
}

#define UNFINISHED_MASK ((1u << SESSION_IN_PROGRESS) | (1u << SESSION_INITIALIZING) | \
                         (1u << SESSION_FAILED))

/* Decides the session before anything is written: for --resume the
 * unfinished one (loaded), else a new id — refusing when an earlier run is
 * unfinished. Returns 0, or an exit code after finish(). */
static int prepare_session(struct engine *e)
{
        struct session prev;
        char lpath[PATH_MAX];

        if (e->o.mode == MODE_RESUME) {
                if (find_session(e, UNFINISHED_MASK, &prev) < 0) {
                        finish(e, EXIT_OK, SESSION_COMPLETED,
                               "there is no unfinished run to resume: nothing to do");
                        return EXIT_OK;
                }
                e->session = prev;
                if (!e->o.answers_from_file) {
                        /* the run's own answers; a password hash is never stored */
                        e->o.answers = prev.answers;
                        e->o.answers.password_hash[0] = '\0';
                } else
                        e->session.answers = e->o.answers;
                free(e->session.resumed_from);
                e->session.resumed_from = xstrdup(prev.session_id);
                e->session.mode = MODE_RESUME;
                for (size_t i = 1; i < e->n_slots; i++) {
                        const struct phase *p = e->slots[i].p;
                        e->slots[i].enabled = phase_is_enabled(p, &e->o.answers);
                        e->slots[i].state = e->slots[i].enabled ? PHASE_PENDING : PHASE_DISABLED;
                }
        } else {
                char id[SESSION_ID_MAX];

                if (!e->o.force && find_session(e, UNFINISHED_MASK, &prev) == 0) {
                        finish(e, EXIT_UNFINISHED, SESSION_FAILED,
                               "an earlier run (session %s, %s) did not finish: run vps-provision --resume to continue it, --rollback to undo it, or --force to start a new run anyway",
                               prev.session_id, session_status_name(prev.status));
                        session_release(&prev);
                        return EXIT_UNFINISHED;
                }
                if (session_new_unique_id(e->o.paths.sessions_dir, id) < 0)
                        session_new_id(id);
                session_init(&e->session, id);
                e->session.mode = e->o.mode;
                e->session.answers = e->o.answers;
        }
        free(e->session.tool_version);
        e->session.tool_version = xstrdup(VPSP_VERSION);
        for (size_t i = 1; i < e->n_slots; i++) {
                struct session_phase *sp = session_find_phase(&e->session, e->slots[i].id);
                if (!sp)
                        sp = session_add_phase(&e->session, e->slots[i].id);
                if (sp->status != PHASE_DONE && sp->status != PHASE_SKIPPED)
                        sp->status = e->slots[i].state;
        }
        session_path(e->o.paths.sessions_dir, e->session.session_id, e->session_path,
                     sizeof(e->session_path));
        paths_log(&e->o.paths, e->session.session_id, lpath, sizeof(lpath));
        free(e->session.log_path);
        e->session.log_path = xstrdup(lpath);
        return 0;
}

/* After preflight passed: state tree, log, journal, session file. Returns
 * 0 or an exit code after finish(). */
static int create_session_files(struct engine *e)
{
        char err[512] = "";
        int r;

        r = open_session_files(e, err, sizeof(err));
        if (r < 0) {
                finish(e, EXIT_INTERNAL, SESSION_FAILED, "%s", err);
                return EXIT_INTERNAL;
        }
        e->have_session = true;
        e->session.vps_info = e->vps;
        e->session.status = SESSION_IN_PROGRESS;
        e->session.end_time[0] = '\0';
        log_set_level(e->o.answers.log_level);
        log_write(LOG_INFO, "engine", "vps-provision %s, session %s (%s)", VPSP_VERSION,
                  e->session.session_id, e->o.mode == MODE_RESUME ? "resume" : "provision");
        log_write(LOG_INFO, "preflight", "%s %s (%s), %d CPUs, %lld MiB RAM, %.1f GB free, %s",
                  e->vps.os_name, e->vps.os_version, e->vps.os_codename, e->vps.cpu_cores,
                  (long long)e->vps.ram_mb, e->vps.disk_available_gb, e->vps.virtualization);
        save_session(e);
        return 0;
}

/* --rollback: the newest session that still has changes to undo. */
static int run_rollback_mode(struct engine *e)
{
        char **ids = session_list(e->o.paths.sessions_dir);
        struct journal *j = NULL;
        size_t n_pending = 0;
        char err[512] = "";
        int failures;

        for (size_t k = 0; ids && ids[k]; k++) {
                struct session s;
                char path[PATH_MAX];
                const struct journal_entry **list = NULL;

                session_path(e->o.paths.sessions_dir, ids[k], path, sizeof(path));
                if (session_load(path, &s) < 0)
                        continue;
                if (s.journal_path && journal_open(s.journal_path, &j, err, sizeof(err)) == 0) {
                        n_pending = journal_pending(j, s.session_id, &list);
                        free(list);
                        if (n_pending > 0) {
                                e->session = s;
                                e->have_session = true;
                                strscpy(e->session_path, sizeof(e->session_path), path);
                                break;
                        }
                        journal_free(j);
                        j = NULL;
                        /* an unfinished run with nothing left to undo (it
                         * failed before its first change): rolling it back
                         * is only closing it, so a new run may start */
                        if (s.status == SESSION_FAILED || s.status == SESSION_IN_PROGRESS ||
                            s.status == SESSION_INITIALIZING) {
                                s.status = SESSION_ROLLED_BACK;
                                (void)session_save(&s, path);
                        }
                }
                session_release(&s);
        }
        strv_free(ids);

        if (!e->have_session) {
                emit_session_start(e);
                finish(e, EXIT_OK, SESSION_COMPLETED,
                       "nothing to roll back: no run has changes left to undo");
                return EXIT_OK;
        }
        e->journal = j;
        emit_session_start(e);

        {
                char **undo = undo_preview(e);
                char *title = xasprintf("Roll back session %s?", e->session.session_id);
                char *msg = xasprintf("%zu change%s will be undone, newest first.", n_pending,
                                      n_pending == 1 ? "" : "s");
                enum prompt_choice ch = ask(e, PROMPT_CONFIRM_ROLLBACK, title, msg, NULL, undo,
                                            e->o.assume_yes ? CHOICE_ROLLBACK : CHOICE_KEEP);
                free(title);
                free(msg);
                if (ch != CHOICE_ROLLBACK) {
                        e->have_session = false; /* nothing about it changes */
                        finish(e, EXIT_OK, SESSION_COMPLETED, "rollback not confirmed: nothing changed");
                        return EXIT_OK;
                }
        }

        if (e->session.log_path)
                log_open(e->session.log_path);
        e->cur = 0;
        e->phase_start_ms = now_ms();
        failures = rollback_session(e, j, e->session.session_id);
        for (size_t k = 0; k < e->session.n_phases; k++)
                if (e->session.phases[k].status == PHASE_DONE ||
                    e->session.phases[k].status == PHASE_SKIPPED ||
                    e->session.phases[k].status == PHASE_FAILED)
                        e->session.phases[k].status = PHASE_ROLLED_BACK;
        if (failures)
                finish(e, EXIT_ROLLBACK_FAILED, SESSION_FAILED,
                       "the rollback of session %s could not undo %d change%s (see the log); fix the cause and run --rollback again",
                       e->session.session_id, failures, failures == 1 ? "" : "s");
        else
                finish(e, EXIT_OK, SESSION_ROLLED_BACK, "session %s was rolled back",
                       e->session.session_id);
        return e->exit_code;
}

static void emit_end(struct engine *e)
{
        struct event *ev;

        if (e->have_credentials && e->exit_code != EXIT_ROLLED_BACK) {
                ev = event_new(EV_CREDENTIALS);
                ev->credentials.username = xstrdup(e->cred_user);
                if (e->cred_pw) {
                        /* the event owns it now; the log keeps redacting until exit */
                        struct secret *copy = NULL;
                        if (secret_from(secret_str(e->cred_pw), secret_len(e->cred_pw), &copy) == 0)
                                ev->credentials.password = copy;
                }
                ev->credentials.host = xstrdup(e->vps.ip_address[0] ? e->vps.ip_address
                                                                     : e->vps.hostname);
                ev->credentials.rdp_port = e->o.answers.rdp_port;
                ev->credentials.ssh_port = e->o.answers.ssh_port;
                emit(e, ev);
        }
        ev = event_new(EV_SESSION_END);
        ev->session_end.status = e->have_session ? e->session.status
                                 : e->exit_code == EXIT_OK ? SESSION_COMPLETED
                                                           : SESSION_FAILED;
        ev->session_end.exit_code = e->exit_code;
        ev->session_end.message = xstrdup(e->end_message ? e->end_message : "");
        ev->session_end.summary = strv_copy(e->summary);
        emit(e, ev);
        queue_close(e->events);
}

static int take_lock(struct engine *e)
{
        struct lock_info holder = { 0 };
        char note[256] = "", msg[512];
        int r;

        r = lock_acquire(e->o.paths.lock_path,
                         e->o.mode == MODE_ROLLBACK ? "rollback"
                         : e->o.mode == MODE_RESUME ? "resume"
                                                    : "provision",
                         &e->lock, &holder, note, sizeof(note));
        if (r == -EBUSY) {
                lock_describe_holder(e->o.paths.lock_path, &holder, msg, sizeof(msg));
                finish(e, EXIT_LOCKED, SESSION_FAILED, "%s", msg);
                return EXIT_LOCKED;
        }
        if (r < 0) {
                finish(e, EXIT_INTERNAL, SESSION_FAILED, "cannot take the lock %s: %s",
                       e->o.paths.lock_path, strerror(-r));
                return EXIT_INTERNAL;
        }
        if (note[0])
                log_write(LOG_WARNING, "engine", "%s", note);
        return 0;
}

/* Footprint of the whole run, for tests/bench (issue 7): peak RSS of this
 * process (every thread; children excluded) and CPU time of the process
 * versus its reaped children (apt, dpkg and everything they started). */
static void log_resources(void)
{
        struct rusage self, kids;

        if (getrusage(RUSAGE_SELF, &self) < 0 || getrusage(RUSAGE_CHILDREN, &kids) < 0)
                return;
        log_write(LOG_INFO, "engine", "resources: peak RSS %ld KiB; CPU self %ld.%03ld+%ld.%03ld s; children %ld.%03ld+%ld.%03ld s",
                  self.ru_maxrss, (long)self.ru_utime.tv_sec, (long)self.ru_utime.tv_usec / 1000,
                  (long)self.ru_stime.tv_sec, (long)self.ru_stime.tv_usec / 1000,
                  (long)kids.ru_utime.tv_sec, (long)kids.ru_utime.tv_usec / 1000,
                  (long)kids.ru_stime.tv_sec, (long)kids.ru_stime.tv_usec / 1000);
}

static void *engine_main(void *userdata)
{
        struct engine *e = userdata;
        bool started = false;
        int code;

        e->start_ms = now_ms();
        e->exit_code = EXIT_INTERNAL;

        if (e->o.mode == MODE_DRY_RUN) {
                session_new_id(e->session.session_id);
                emit_session_start(e);
                started = true;
                step_preflight(e);
                step_plan(e);
                if (e->preflight_refused)
                        finish(e, EXIT_OK, SESSION_COMPLETED,
                               "dry run: nothing was changed. A real run would stop at preflight on this server (see above).");
                else
                        finish(e, EXIT_OK, SESSION_COMPLETED, "dry run: nothing was changed");
                goto out;
        }

        if (take_lock(e) != 0)
                goto out;

        if (e->o.mode == MODE_ROLLBACK) {
                run_rollback_mode(e);
                started = true;
                goto out;
        }

        if (prepare_session(e) != 0 || e->exit_code == EXIT_OK)
                goto out;
        emit_session_start(e);
        started = true;

        step_preflight(e);
        if (e->preflight_refused) {
                finish(e, EXIT_PREFLIGHT, SESSION_FAILED,
                       "preflight refused this server (see the checks above); nothing was changed");
                goto out;
        }
        if (create_session_files(e) != 0)
                goto out;

        for (size_t i = 1; i < e->n_slots; i++) {
                if (!e->slots[i].enabled)
                        continue;
                if (cancelled(e)) {
                        finish(e, EXIT_INTERRUPTED, SESSION_FAILED,
                               "cancelled before %s; the changes so far were kept: run vps-provision --resume to continue or --rollback to undo",
                               e->slots[i].title);
                        goto out;
                }
                code = step_phase(e, (int)i);
                if (code == EXIT_INTERRUPTED) {
                        finish(e, EXIT_INTERRUPTED, SESSION_FAILED,
                               "cancelled during %s; the changes so far were kept: run vps-provision --resume to continue or --rollback to undo",
                               e->slots[i].title);
                        goto out;
                }
                if (code != 0)
                        goto out;
        }
        e->cur = (int)e->n_slots - 1;
        e->cur_fraction = 1;
        emit_progress(e, NULL, true);
        finish(e, EXIT_OK, SESSION_COMPLETED, "provisioning finished in %lld s",
               (long long)((now_ms() - e->start_ms) / 1000));

out:
        /* a run that ended before it began still tells the UI what it is */
        if (!started)
                emit_session_start(e);
        log_resources();
        emit_end(e);
        lock_release(e->lock);
        e->lock = NULL;
        return NULL;
}

int engine_start(struct engine *e)
{
        int r = pthread_create(&e->thread, NULL, engine_main, e);
        if (r != 0)
                return -r;
        e->started = true;
        return 0;
}

int engine_join(struct engine *e)
{
        if (e->started) {
                pthread_join(e->thread, NULL);
                e->started = false;
        }
        return e->exit_code;
}
