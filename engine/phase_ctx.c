/* phase_ctx.c — what the engine offers a phase (phase.h) and what ops.c
 * needs of the phase's context (engine_int.h).
 *
 * A context lives for one attempt of one phase (engine_steps.c makes it
 * with ctx_init() and ends it with ctx_release()). Everything a phase says
 * goes three ways: the log file, an event for the UI, and the session
 * record (actions with their output and undo). */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "engine_int.h"
#include "ops.h"
#include "log.h"

/* ---- read-only context ------------------------------------------------- */

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
void phase_session_save(struct phase_ctx *c) { engine_save_session(c->e); }
struct journal *ctx_journal(struct phase_ctx *c) { return c->e->journal; }
const char *ctx_backup_dir(struct phase_ctx *c) { return c->e->backup_dir; }
int ctx_cancel_fd(struct phase_ctx *c) { return c->e->cancel_efd; }
const char *ctx_dpkg_dir(struct phase_ctx *c) { return c->e->o.preflight.dpkg_dir; }
unsigned ctx_apt_lock_wait_s(struct phase_ctx *c) { return c->e->o.answers.apt_lock_wait; }

bool phase_cancel_requested(struct phase_ctx *c)
{
        return engine_cancelled(c->e);
}

void phase_plan(struct phase_ctx *c, const char *type, const char *target, const char *fmt, ...)
{
        va_list ap;
        char *d;

        va_start(ap, fmt);
        d = xvasprintf(fmt, ap);
        va_end(ap);
        strv_pushf(&c->plan, "%s\t%s\t%s", type, target ? target : "", d);
        free(d);
}

void phase_log(struct phase_ctx *c, enum log_level level, const char *fmt, ...)
{
        va_list ap;
        char *text;

        va_start(ap, fmt);
        text = xvasprintf(fmt, ap);
        va_end(ap);
        engine_log(c->e, c->index, level, phase_id(c), "%s", text);
        free(text);
}

int phase_fail(struct phase_ctx *c, int r, const char *fmt, ...)
{
        va_list ap;
        char *text;

        va_start(ap, fmt);
        text = xvasprintf(fmt, ap);
        va_end(ap);
        engine_log(c->e, c->index, LOG_ERROR, phase_id(c), "%s", text);
        free(c->error);
        c->error = log_redact(text, strlen(text));
        free(text);
        return r < 0 ? r : -EIO;
}

void phase_verify_note(struct phase_ctx *c, const char *fmt, ...)
{
        va_list ap;
        char *text;

        va_start(ap, fmt);
        text = xvasprintf(fmt, ap);
        va_end(ap);
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
        text = xvasprintf(fmt, ap);
        va_end(ap);
        sha256_add(c->digest, text, strlen(text));
        sha256_add(c->digest, "\n", 1);
        free(text);
}

void phase_summary(struct phase_ctx *c, const char *fmt, ...)
{
        va_list ap;
        char *text;

        va_start(ap, fmt);
        text = xvasprintf(fmt, ap);
        va_end(ap);
        strv_push_take(&c->e->summary, text);
}

void phase_set_credentials(struct phase_ctx *c, const char *username, enum creds_password kind,
                           struct secret *pw)
{
        struct engine *e = c->e;

        if (e->cred_pw) {
                log_unregister_secret(e->cred_pw);
                secret_free(e->cred_pw);
        }
        strscpy(e->cred_user, sizeof(e->cred_user), username);
        e->cred_pw = pw;
        e->cred_kind = kind;
        if (pw)
                log_register_secret(pw);
        e->have_credentials = true;
        /* a new password is set: the earlier unseen one no longer matters;
         * this one counts as unseen until someone sees it */
        e->password_unseen = false;
        e->session.credentials = pw ? CREDENTIALS_UNSEEN : CREDENTIALS_NONE;
}

const char *phase_unseen_password(struct phase_ctx *c)
{
        return c->e->password_unseen ? c->e->unseen_from : NULL;
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
                detail = xvasprintf(detail_fmt, ap);
                va_end(ap);
        }
        engine_progress(c->e, detail, false);
        free(detail);
}

static void tail_push(struct phase_ctx *c, const char *line)
{
        free(c->tail[c->tail_next]);
        c->tail[c->tail_next] = xstrdup(line);
        c->tail_next = (c->tail_next + 1) % CTX_TAIL_LINES;
}

char **ctx_tail(struct phase_ctx *c)
{
        char **v = NULL;
        for (size_t k = 0; k < CTX_TAIL_LINES; k++) {
                const char *s = c->tail[(c->tail_next + k) % CTX_TAIL_LINES];
                if (s)
                        strv_push(&v, s);
        }
        return v;
}

void ctx_output_hold(struct phase_ctx *c, bool on)
{
        if (on)
                engine_emit_hold(c->e);
        else
                engine_emit_release(c->e);
}

void ctx_output_flush(struct phase_ctx *c)
{
        engine_emit_flush(c->e);
}

void ctx_output_line(struct phase_ctx *c, enum run_stream stream, const char *line, size_t len,
                     bool truncated)
{
        char *red;

        (void)stream;   /* both streams are the phase's output alike */
        log_line(LOG_INFO, phase_id(c), line, len);
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
        engine_emit_line(c->e, c->index, LOG_INFO, red);
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
        title = xvasprintf(fmt, ap);
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
        engine_emit(c->e, ev);
        engine_progress(c->e, title, false);
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
        engine_emit(c->e, ev);
        engine_save_session(c->e);
        return r;
}

int64_t phase_journal(struct phase_ctx *c, const char *type, const char *target,
                      const struct undo *u)
{
        int64_t seq;

        if (!c->e->journal)
                return -EBADF;
        ops_memo_drop(c->e);
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

/* ---- one context per attempt (engine_steps.c) -------------------------- */

void ctx_init(struct phase_ctx *c, struct engine *e, int index)
{
        *c = (struct phase_ctx){ .e = e, .index = index, .p = e->slots[index].p };
        if (e->have_session)
                c->sp = session_find_phase(&e->session, e->slots[index].id);
}

void ctx_release(struct phase_ctx *c)
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
