/* engine.c — the engine thread: its life cycle, its order of work, and
 * what it says to the UI (events, prompts) and hears from it (answers,
 * cancel). engine_int.h lists the files that do the rest.
 *
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
 *
 * Attach (engine_serve()): every event also goes to the attach server,
 * whose clients' commands arrive on the same command queue as the UI's. A
 * prompt then waits for a client with the keys; once none has been
 * attached for answers.failure_wait, the fallback (on_failure) decides. At
 * the end a generated password nobody confirmed stays in locked memory
 * for the next client, up to answers.credentials_wait, after the lock is
 * released (a new run is not blocked by it); the session file says
 * whether it was seen ("credentials").
 */
#include "engine.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>

#include "crypto.h"
#include "engine_int.h"
#include "ops.h"
#include "log.h"

#define PROGRESS_INTERVAL_MS 200
#define PREFLIGHT_WEIGHT 1

/* ---- events ------------------------------------------------------------ */

/* Output lines held by this thread between engine_emit_hold() and
 * engine_emit_release(): consecutive lines of one phase and level are
 * joined into one log event (text '\n'-separated, log.lines of them),
 * pushed by engine_emit_flush(), before any other event (so the order is
 * kept), or when it is big. Per thread, so a thread that holds never
 * delays another's events. */
/* An event goes to the attached clients (if the run serves any) and to
 * this process's queue. */
static void deliver(struct engine *e, struct event *ev)
{
        if (e->server)
                attach_server_publish(e->server, ev);
        queue_push(e->events, ev);
}

#define HOLD_MAX_LINES 1024
#define HOLD_MAX_BYTES (256u * 1024u)
static _Thread_local struct {
        struct engine *e;
        struct event *ev;       /* the event being filled, or NULL */
        struct buf text;
} held;

void engine_emit_flush(struct engine *e)
{
        struct event *ev = held.ev;

        if (held.e != e || !ev)
                return;
        held.ev = NULL;
        ev->log.text = buf_steal(&held.text);
        deliver(e, ev);
}

void engine_emit_hold(struct engine *e)
{
        if (held.e && held.e != e)
                engine_emit_release(held.e);
        if (!held.e)
                buf_init(&held.text, SIZE_MAX);
        held.e = e;
}

void engine_emit_release(struct engine *e)
{
        if (held.e != e)
                return;
        engine_emit_flush(e);
        buf_release(&held.text);
        held.e = NULL;
}

void engine_emit_line(struct engine *e, int phase_index, enum log_level level, char *text)
{
        struct event *ev;

        if (held.e == e) {
                size_t len = strlen(text);

                if (held.ev && (held.ev->log.phase_index != phase_index || held.ev->log.level != level ||
                                held.ev->log.lines >= HOLD_MAX_LINES ||
                                held.text.len + len >= HOLD_MAX_BYTES))
                        engine_emit_flush(e);
                if (!held.ev) {
                        held.ev = event_new(EV_LOG);
                        held.ev->log.phase_index = phase_index;
                        held.ev->log.level = level;
                        held.ev->log.lines = 0;
                } else {
                        buf_append(&held.text, "\n", 1);
                }
                buf_append(&held.text, text, len);
                held.ev->log.lines++;
                free(text);
                return;
        }
        ev = event_new(EV_LOG);
        ev->log.level = level;
        ev->log.phase_index = phase_index;
        ev->log.text = text;
        engine_emit(e, ev);
}

void engine_emit(struct engine *e, struct event *ev)
{
        /* anything else keeps its place after the lines held before it */
        engine_emit_flush(e);
        deliver(e, ev);
}

void engine_log(struct engine *e, int phase_index, enum log_level level, const char *scope,
                const char *fmt, ...)
{
        va_list ap;
        char *text;
        struct event *ev;

        va_start(ap, fmt);
        text = xvasprintf(fmt, ap);
        va_end(ap);
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
        engine_emit(e, ev);
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

void engine_progress(struct engine *e, const char *detail, bool force)
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
        engine_emit(e, ev);
}

void engine_emit_session_start(struct engine *e)
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
        engine_emit(e, ev);
}

void engine_save_session(struct engine *e)
{
        int r;

        if (!e->have_session)
                return;
        r = session_save(&e->session, e->session_path);
        if (r < 0)
                engine_log(e, -1, LOG_WARNING, "engine", "cannot write %s: %s", e->session_path,
                           strerror(-r));
}

/* ---- commands from the UI ---------------------------------------------- */

static void set_cancel(struct engine *e)
{
        uint64_t one = 1;
        if (!atomic_exchange(&e->cancel, true)) {
                (void)!write(e->cancel_efd, &one, sizeof(one));
                engine_log(e, e->cur, LOG_WARNING, "engine",
                           "Cancel requested: stopping at the next safe point (the current step finishes first)");
        }
}

/* A command that needs no answer: cancel, or a confirmation. */
static void take_command(struct engine *e, const struct event *ev)
{
        if (ev->type == EV_CANCEL)
                set_cancel(e);
        else if (ev->type == EV_CREDENTIALS_SAVED)
                e->credentials_saved = true;
        else if (ev->type == EV_SSH_PORT_CONFIRMED)
                e->settle_confirmed = true;
}

/* Handles pending UI → engine messages that need no answer. */
static void poll_commands(struct engine *e)
{
        struct event *ev;
        while ((ev = queue_pop(e->commands))) {
                take_command(e, ev);
                event_free(ev);
        }
}

bool engine_cancelled(struct engine *e)
{
        poll_commands(e);
        return atomic_load(&e->cancel);
}

enum prompt_choice engine_ask(struct engine *e, enum prompt_kind kind, const char *title,
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
        engine_emit(e, ev);

        for (int64_t last = now_ms(), alone_ms = 0;;) {
                struct event *a = queue_wait_pop(e->commands, 500);
                int64_t now = now_ms();

                if (e->server) {
                        /* the time with nobody to answer counts, from the last
                         * moment someone was attached */
                        if (attach_server_has_controller(e->server))
                                alone_ms = 0;
                        else
                                alone_ms += now - last;
                        last = now;
                        if (!a && alone_ms >= (int64_t)e->o.answers.failure_wait * 1000) {
                                char waited[32];
                                answers_get(&e->o.answers, "run", "failure_wait", waited, sizeof(waited));
                                engine_log(e, e->cur, LOG_WARNING, "engine",
                                           "nobody attached to answer \"%s\" for %s ([run] failure_wait): "
                                           "going on with %s",
                                           title, waited, prompt_choice_name(fallback));
                                attach_server_prompt_done(e->server, id);
                                return fallback;
                        }
                }
                if (!a) {
                        if (atomic_load(&e->detached)) {
                                attach_server_prompt_done(e->server, id);
                                return fallback;
                        }
                        continue;
                }
                if (a->type == EV_ANSWER && a->answer.prompt_id == id) {
                        enum prompt_choice c = a->answer.choice;
                        event_free(a);
                        if (c != CHOICE_NONE) {
                                attach_server_prompt_done(e->server, id);
                                return c;
                        }
                        continue;
                }
                take_command(e, a);
                event_free(a);
        }
}

/* ---- life cycle -------------------------------------------------------- */

int engine_new(const struct engine_opts *o, struct engine **ret)
{
        struct engine *e;
        int r;

        /* A run hashes (backups, downloads, the journal): a libcrypto that
         * cannot be loaded stops it here, before anything is changed. */
        r = crypto_load();
        if (r < 0)
                return r;
        e = xcalloc(1, sizeof(*e));
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
        attach_server_stop(e->server, "the run's process has ended");
        queue_free(e->events);
        queue_free(e->commands);
        if (e->cancel_efd >= 0)
                close(e->cancel_efd);
        journal_free(e->journal);
        ops_memo_drop(e);
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
const char *engine_socket(const struct engine *e) { return e->server ? attach_server_path(e->server) : ""; }
bool engine_end_seen(struct engine *e) { return attach_server_end_delivered(e->server); }

/* A client's command (on the attach server's thread): into the queue the
 * UI's commands take. */
static void on_attach_command(void *userdata, const struct attach_cmd *c)
{
        struct engine *e = userdata;
        struct event *ev;

        switch (c->type) {
        case ATTACH_CMD_CANCEL:
                ev = event_new(EV_CANCEL);
                break;
        case ATTACH_CMD_ANSWER:
                ev = event_new(EV_ANSWER);
                ev->answer.prompt_id = c->prompt_id;
                ev->answer.choice = c->choice;
                break;
        case ATTACH_CMD_CREDENTIALS_SAVED:
                ev = event_new(EV_CREDENTIALS_SAVED);
                break;
        case ATTACH_CMD_SSH_PORT_CONFIRMED:
                ev = event_new(EV_SSH_PORT_CONFIRMED);
                break;
        default:
                return;
        }
        queue_push(e->commands, ev);
}

const char *engine_new_error(int r)
{
        if ((r == -ELIBACC || r == -ELIBBAD) && crypto_error())
                return crypto_error();
        return strerror(-r);
}

int engine_serve(struct engine *e, char *err, size_t errlen)
{
        return engine_serve_owned(e, -1, err, errlen);
}

int engine_serve_owned(struct engine *e, int owner_fd, char *err, size_t errlen)
{
        if (e->server)
                return 0;
        return attach_server_start_owned(e->o.paths.run_dir, owner_fd, on_attach_command, e,
                                         &e->server, err, errlen);
}
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
        case EXIT_NO_RUN: return "--attach: no run is in progress (the last one's end is shown)";
        default: return "unknown";
        }
}

/* ---- the end of a run --------------------------------------------------- */

void engine_finish(struct engine *e, int code, enum session_status status, const char *fmt, ...)
{
        va_list ap;
        char *msg;

        va_start(ap, fmt);
        msg = xvasprintf(fmt, ap);
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
                engine_save_session(e);
        }
        log_write(code == EXIT_OK ? LOG_INFO : LOG_ERROR, "engine", "%s (exit code %d)", msg,
                  code);
}

/* The credentials event, with a copy of the password (NULL with a hash). */
static struct event *credentials_event(struct engine *e)
{
        struct event *ev = event_new(EV_CREDENTIALS);

        ev->credentials.username = xstrdup(e->cred_user);
        ev->credentials.password_kind = e->cred_kind;
        if (e->cred_pw) {
                /* the event owns it; the log keeps redacting until exit */
                struct secret *copy = NULL;
                if (secret_from(secret_str(e->cred_pw), secret_len(e->cred_pw), &copy) == 0)
                        ev->credentials.password = copy;
        }
        ev->credentials.host = xstrdup(e->vps.ip_address[0] ? e->vps.ip_address : e->vps.hostname);
        ev->credentials.rdp_port = e->o.answers.rdp_port;
        ev->credentials.ssh_port = e->o.answers.ssh_port;
        ev->credentials.rdp_localhost = e->o.answers.rdp_listen == RDP_LISTEN_LOCALHOST;
        return ev;
}

/* Forgets the password: wiped from the engine and the attach server. */
static void wipe_password(struct engine *e)
{
        attach_server_drop_credentials(e->server);
        if (e->cred_pw) {
                log_unregister_secret(e->cred_pw);
                secret_free(e->cred_pw);
                e->cred_pw = NULL;
        }
}

#define SETTLE_EVERY_MS 5000

/* Gives every phase with a settle() its turn, under the run's lock (taken
 * again after the run; when another run holds it, the turn comes later).
 * Returns true when nothing waits any more. */
static bool settle_all(struct engine *e, bool confirmed)
{
        struct lock *l = e->lock;
        bool all = true;

        for (size_t i = 1; i < e->n_slots; i++) {
                struct phase_ctx c;
                int r;

                if (!e->slots[i].enabled || !e->slots[i].p->settle || e->slots[i].settled)
                        continue;
                if (!l && lock_acquire(e->o.paths.lock_path, "settle", &l, NULL, NULL, 0) < 0) {
                        all = false;
                        break;
                }
                ctx_init(&c, e, (int)i);
                r = e->slots[i].p->settle(&c, confirmed);
                ctx_release(&c);
                if (r == 1)
                        e->slots[i].settled = true;
                else
                        all = false;
        }
        if (l && l != e->lock)
                lock_release(l);
        engine_save_session(e);
        return all;
}

/* After a run that ended with the UI in another process: the process stays
 * while something waits for the person — the password nobody confirmed
 * yet (kept for the next client with the keys), a change to settle —, at
 * most answers.credentials_wait, or until it is told to stop. The lock is
 * released first: a new run may start meanwhile. */
static void post_run(struct engine *e, bool keep, bool settled)
{
        int64_t deadline = now_ms() + (int64_t)e->o.answers.credentials_wait * 1000;
        int64_t next_settle = now_ms() + SETTLE_EVERY_MS;
        char waited[32];
        bool stop = false;

        lock_release(e->lock);
        e->lock = NULL;
        if (keep)
                log_write(LOG_INFO, "engine", "the password of %s is kept for vps-provision --attach until "
                          "someone confirms it (at most %u s)", e->cred_user, e->o.answers.credentials_wait);
        while (!stop && ((keep && !e->credentials_saved) || !settled)) {
                int64_t left = deadline - now_ms();
                struct event *a;

                if (left <= 0)
                        break;
                a = queue_wait_pop(e->commands, left > 1000 ? 1000 : (int)left);
                if (a) {
                        if (a->type == EV_CANCEL)
                                stop = true;   /* SIGTERM or a client: do not wait */
                        else
                                take_command(e, a);
                        event_free(a);
                }
                if (!settled && (e->settle_confirmed || now_ms() >= next_settle)) {
                        settled = settle_all(e, e->settle_confirmed);
                        e->settle_confirmed = false;
                        next_settle = now_ms() + SETTLE_EVERY_MS;
                }
        }
        if (!keep)
                return;
        wipe_password(e);
        answers_get(&e->o.answers, "run", "credentials_wait", waited, sizeof(waited));
        if (e->credentials_saved) {
                e->session.credentials = CREDENTIALS_SHOWN;
                log_write(LOG_INFO, "engine", "the credentials were confirmed as saved; the password is wiped");
        } else if (stop) {
                /* as if the process had died: the next run sets a new one */
                engine_log(e, -1, LOG_WARNING, "engine",
                           "stopped before anyone saw the password of %s: the next vps-provision "
                           "run (or --resume) sets a new one and shows it", e->cred_user);
        } else {
                e->session.credentials = CREDENTIALS_WIPED;
                engine_log(e, -1, LOG_WARNING, "engine",
                           "nobody saw the password of %s within %s ([run] credentials_wait): it is "
                           "wiped; set a new one as root with: passwd %s",
                           e->cred_user, waited, e->cred_user);
        }
        engine_save_session(e);
}

static void emit_end(struct engine *e)
{
        struct event *ev;
        bool keep = false, settled = true;

        /* a change that waits for the person gets its first turn now */
        if (e->have_session && e->exit_code == EXIT_OK && e->o.mode != MODE_ROLLBACK)
                settled = settle_all(e, false);

        if (e->have_credentials && e->exit_code != EXIT_ROLLED_BACK) {
                ev = credentials_event(e);
                keep = e->server && e->o.keep_credentials && ev->credentials.password &&
                       !e->credentials_saved;
                if (keep) {
                        attach_server_keep_credentials(e->server, ev);
                } else {
                        /* a UI of this process shows (or prints) them now */
                        if (ev->credentials.password)
                                e->session.credentials = CREDENTIALS_SHOWN;
                        engine_emit(e, ev);
                }
        } else if (e->exit_code == EXIT_ROLLED_BACK) {
                e->session.credentials = CREDENTIALS_NONE;   /* the account is gone */
        }
        if (e->have_session)
                engine_save_session(e);
        ev = event_new(EV_SESSION_END);
        ev->session_end.status = e->have_session ? e->session.status
                                 : e->exit_code == EXIT_OK ? SESSION_COMPLETED
                                                           : SESSION_FAILED;
        ev->session_end.exit_code = e->exit_code;
        ev->session_end.message = xstrdup(e->end_message ? e->end_message : "");
        ev->session_end.summary = strv_copy(e->summary);
        ev->session_end.settle_waiting = !settled;
        engine_emit(e, ev);
        /* only a run whose UI is elsewhere (served) stays for the person */
        if (e->server && e->o.keep_credentials && (keep || !settled))
                post_run(e, keep, settled);
        queue_close(e->events);
}

/* ---- the engine thread -------------------------------------------------- */

/* Footprint of the whole run, for tests/bench: peak RSS of this
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
                engine_emit_session_start(e);
                started = true;
                engine_step_preflight(e);
                engine_step_plan(e);
                if (e->preflight_refused)
                        engine_finish(e, EXIT_OK, SESSION_COMPLETED,
                                      "dry run: nothing was changed. A real run would stop at preflight on this server (see above).");
                else
                        engine_finish(e, EXIT_OK, SESSION_COMPLETED, "dry run: nothing was changed");
                goto out;
        }

        if (engine_take_lock(e) != 0)
                goto out;

        if (e->o.mode == MODE_ROLLBACK) {
                engine_rollback_mode(e);
                started = true;
                goto out;
        }

        if (engine_prepare_session(e) != 0 || e->exit_code == EXIT_OK)
                goto out;
        engine_emit_session_start(e);
        started = true;
        /* a rollback stopped at its end left the initramfs updates held */
        engine_initramfs_leftover(e);

        engine_step_preflight(e);
        if (e->preflight_refused) {
                engine_finish(e, EXIT_PREFLIGHT, SESSION_FAILED,
                              "preflight refused this server (see the checks above); nothing was changed");
                goto out;
        }
        if (engine_create_session_files(e) != 0)
                goto out;

        for (size_t i = 1; i < e->n_slots; i++) {
                if (!e->slots[i].enabled)
                        continue;
                if (engine_cancelled(e)) {
                        engine_finish(e, EXIT_INTERRUPTED, SESSION_FAILED,
                                      "cancelled before %s; the changes so far were kept: run vps-provision --resume to continue or --rollback to undo",
                                      e->slots[i].title);
                        goto out;
                }
                code = engine_step_phase(e, (int)i);
                if (code == EXIT_INTERRUPTED) {
                        engine_finish(e, EXIT_INTERRUPTED, SESSION_FAILED,
                                      "cancelled during %s; the changes so far were kept: run vps-provision --resume to continue or --rollback to undo",
                                      e->slots[i].title);
                        goto out;
                }
                if (code != 0)
                        goto out;
        }
        engine_step_deferred(e);
        e->cur = (int)e->n_slots - 1;
        e->cur_fraction = 1;
        engine_progress(e, NULL, true);
        engine_finish(e, EXIT_OK, SESSION_COMPLETED, "provisioning finished in %lld s",
                      (long long)((now_ms() - e->start_ms) / 1000));

out:
        /* a run that ended before it began still tells the UI what it is */
        if (!started)
                engine_emit_session_start(e);
        engine_prefetch_end(e);
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
