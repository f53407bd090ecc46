/* engine_rollback.c — undoing a session's journal: --rollback (the newest
 * session that still has changes to undo, after the person confirmed), and
 * the rollback the step loop starts after a failure.
 *
 * Each undo is an action of the phase shown as current (preflight for
 * --rollback) so the dashboard and the line renderers show it like any
 * other step; the undo kinds themselves are in rollback.c. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "checkpoint.h"
#include "engine_int.h"
#include "log.h"
#include "rollback.h"

char **engine_undo_preview(struct engine *e)
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
        engine_emit(u->e, ev);
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
        engine_emit(u->e, ev);
        log_write(LOG_INFO, "rollback", "undo #%llu (%s): %s", (unsigned long long)je->seq,
                  je->phase ? je->phase : "-", what);

        r = rollback_apply(&u->env, je, msg, msglen);

        if (r < 0)
                engine_log(u->e, u->e->cur, LOG_ERROR, "rollback", "could not undo #%llu (%s): %s",
                           (unsigned long long)je->seq, what, msg);
        ev = event_new(EV_ACTION_END);
        ev->action_end.phase_index = u->e->cur;
        ev->action_end.ok = r >= 0;
        ev->action_end.duration_ms = now_ms() - t0;
        ev->action_end.message = r < 0 ? xstrdup(msg) : NULL;
        engine_emit(u->e, ev);

        u->done++;
        u->e->cur_fraction = (double)u->done / (double)(u->total ? u->total : 1);
        engine_progress(u->e, what, true);
        return r;
}

/* Holds the initramfs updates for a rollback (rollback.h) with h, its
 * record under the state directory named in rec; e->rb_hold = h when on. A
 * hold that cannot begin is logged and the rollback goes on without it. */
static void rb_hold_begin(struct engine *e, struct initramfs_rb_hold *h, char *rec, size_t reclen)
{
        char msg[1024] = "";
        int r;

        snprintf(rec, reclen, "%s/%s", e->o.paths.state_dir, INITRAMFS_HOLD_RECORD);
        *h = (struct initramfs_rb_hold){ .conf = INITRAMFS_CONF, .record = rec, .boot_dir = "/boot" };
        r = initramfs_rb_hold_begin(h, msg, sizeof(msg));
        if (r < 0)
                engine_log(e, e->cur, LOG_WARNING, "rollback", "%s; the rollback goes on without it", msg);
        else if (r == 0)
                engine_log(e, e->cur, LOG_INFO, "rollback", "%s", msg);
        if (h->on)
                e->rb_hold = h;
}

/* Ends e->rb_hold (one update-initramfs -u when something asked for it),
 * shown as an action of its own. Returns 1 when it failed (the record stays:
 * the next --rollback ends it), else 0. */
static int rb_hold_end(struct engine *e, const struct rollback_env *env)
{
        struct initramfs_rb_hold *h = e->rb_hold;
        struct event *ev;
        char msg[1024] = "";
        int64_t t0 = now_ms();
        int r;

        if (!h)
                return 0;
        ev = event_new(EV_ACTION_START);
        ev->action_start.phase_index = e->cur;
        ev->action_start.type = xstrdup("ROLLBACK");
        ev->action_start.target = xstrdup("initramfs-tools/update_initramfs");
        ev->action_start.title = xstrdup("Ending the hold of the initramfs updates");
        engine_emit(e, ev);
        r = initramfs_rb_hold_end(h, env, msg, sizeof(msg));
        if (r < 0)
                engine_log(e, e->cur, LOG_ERROR, "rollback", "%s", msg);
        else
                engine_log(e, e->cur, LOG_INFO, "rollback", "%s (%.1f s)", msg,
                           (double)(now_ms() - t0) / 1000.0);
        ev = event_new(EV_ACTION_END);
        ev->action_end.phase_index = e->cur;
        ev->action_end.ok = r >= 0;
        ev->action_end.duration_ms = now_ms() - t0;
        ev->action_end.message = r < 0 ? xstrdup(msg) : NULL;
        engine_emit(e, ev);
        initramfs_rb_hold_release(h);
        e->rb_hold = NULL;
        return r < 0 ? 1 : 0;
}

void engine_initramfs_leftover(struct engine *e)
{
        struct initramfs_rb_hold h;
        struct rollback_env env = { .on_line = NULL };
        char rec[PATH_MAX];

        snprintf(rec, sizeof(rec), "%s/%s", e->o.paths.state_dir, INITRAMFS_HOLD_RECORD);
        if (!path_exists(rec))
                return;
        rb_hold_begin(e, &h, rec, sizeof(rec));
        (void)rb_hold_end(e, &env);
}

/* Undoes every pending change of session_id in j, newest first; removes
 * that session's checkpoints. Returns the number of undos that failed. */
int engine_rollback_session(struct engine *e, struct journal *j, const char *session_id)
{
        const struct journal_entry **list = NULL;
        struct undo_run u = { .e = e };
        struct initramfs_rb_hold hold;
        char rec[PATH_MAX];
        bool own_hold = false;
        size_t n;
        int failures, r;

        n = journal_pending(j, session_id, &list);
        if (!e->rb_hold && n > 0) {
                rb_hold_begin(e, &hold, rec, sizeof(rec));
                own_hold = e->rb_hold != NULL;
        }
        u.env.initramfs_hold = e->rb_hold;
        u.total = n;
        u.env.on_line = undo_line;
        u.env.userdata = &u;
        u.env.plan = list;
        u.env.n_plan = n;
        u.env.state_dir = e->o.paths.state_dir;
        engine_log(e, e->cur, LOG_WARNING, "rollback", "Rolling back %zu change%s of session %s", n,
                   n == 1 ? "" : "s", session_id);
        failures = journal_rollback(j, list, n, undo_one, &u);
        free(list);
        if (own_hold)
                failures += rb_hold_end(e, &u.env);
        /* where a home the person used was kept: in the log, the output
         * and the end screen */
        for (size_t k = 0; u.env.notes && u.env.notes[k]; k++) {
                engine_log(e, e->cur, LOG_WARNING, "rollback", "%s", u.env.notes[k]);
                strv_push(&e->summary, u.env.notes[k]);
        }
        strv_free(u.env.notes);

        r = checkpoint_remove_session(e->o.paths.checkpoints_dir, session_id);
        if (r < 0)
                engine_log(e, e->cur, LOG_WARNING, "rollback", "cannot remove checkpoints: %s",
                           strerror(-r));
        engine_log(e, e->cur, failures ? LOG_ERROR : LOG_INFO, "rollback",
                   "Rollback finished: %zu undone, %d failed", n - (size_t)failures, failures);
        return failures;
}

/* A run that still has changes to undo. */
struct pending_run {
        char id[SESSION_ID_MAX];
        char path[PATH_MAX];
        size_t n;
};

/* Every run with changes left to undo, newest first. An unfinished run
 * with nothing left to undo (it failed before its first change) is closed
 * on the way: rolling it back is only closing it, so a new run may start.
 * Returns the number of runs, or -errno with why in err when a run's
 * records cannot be read: that run may have changes to undo, so saying
 * "nothing to roll back" would be a lie, and going on to an older run
 * would undo out of order. */
static int pending_runs(struct engine *e, struct pending_run **ret, char *err, size_t errlen)
{
        char **ids = session_list(e->o.paths.sessions_dir);
        struct pending_run *v = NULL;
        size_t n = 0;
        int r = 0;

        for (size_t k = 0; ids && ids[k]; k++) {
                struct session s;
                struct journal *j = NULL;
                const struct journal_entry **list = NULL;
                char path[PATH_MAX];
                size_t pending;

                session_path(e->o.paths.sessions_dir, ids[k], path, sizeof(path));
                r = session_load(path, &s);
                if (r == -ENOENT) {
                        r = 0;
                        continue;
                }
                if (r < 0) {
                        snprintf(err, errlen,
                                 "cannot read the session file %s: %s; nothing was undone "
                                 "(move it aside if that run changed nothing, then run again)",
                                 path, r == -EBADMSG ? "it is damaged" : strerror(-r));
                        break;
                }
                if (s.journal_path) {
                        char jerr[512] = "";

                        r = journal_open(s.journal_path, &j, jerr, sizeof(jerr));
                        if (r < 0) {
                                snprintf(err, errlen, "%s; nothing was undone", jerr);
                                session_release(&s);
                                break;
                        }
                        pending = journal_pending(j, s.session_id, &list);
                        free(list);
                        journal_free(j);
                        if (pending > 0) {
                                v = xrealloc(v, (n + 1) * sizeof(*v));
                                strscpy(v[n].id, sizeof(v[n].id), s.session_id);
                                strscpy(v[n].path, sizeof(v[n].path), path);
                                v[n].n = pending;
                                n++;
                        } else if (s.status == SESSION_FAILED || s.status == SESSION_IN_PROGRESS ||
                                   s.status == SESSION_INITIALIZING) {
                                s.status = SESSION_ROLLED_BACK;
                                (void)session_save(&s, path);
                        }
                }
                session_release(&s);
        }
        strv_free(ids);
        if (r < 0) {
                free(v);
                return r;
        }
        *ret = v;
        return (int)n;
}

/* The undos of session id in j, newest first, each after prefix. */
static void push_preview(char ***v, struct journal *j, const char *id, const char *prefix)
{
        const struct journal_entry **list = NULL;
        size_t n = journal_pending(j, id, &list);

        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *what = undo_describe(&list[i]->undo);
                strv_pushf(v, "%s%s", prefix, what);
        }
        free(list);
}

/* The phases of a rolled-back session, as its record says. */
static void mark_rolled_back(struct session *s)
{
        for (size_t k = 0; k < s->n_phases; k++)
                if (s->phases[k].status == PHASE_DONE || s->phases[k].status == PHASE_SKIPPED ||
                    s->phases[k].status == PHASE_FAILED)
                        s->phases[k].status = PHASE_ROLLED_BACK;
}

/* --rollback --all, after the newest: each earlier run in turn, newest
 * first, each with its own journal and record. Stops at the first run
 * that cannot be undone completely (the runs before it stay as they are).
 * Returns the failed undos; *ret_done counts the runs rolled back. */
static int rollback_earlier(struct engine *e, const struct pending_run *runs, size_t n, size_t *ret_done,
                            const char **ret_failed_id)
{
        for (size_t k = 0; k < n; k++) {
                struct session s;
                struct journal *j = NULL;
                char err[512] = "", now[ISO8601_MAX];
                int failures;

                if (session_load(runs[k].path, &s) < 0) {
                        engine_log(e, e->cur, LOG_ERROR, "rollback", "cannot read the record of session %s",
                                   runs[k].id);
                        *ret_failed_id = runs[k].id;
                        return 1;
                }
                if (!s.journal_path || journal_open(s.journal_path, &j, err, sizeof(err)) < 0) {
                        engine_log(e, e->cur, LOG_ERROR, "rollback", "cannot read the journal of session %s: %s",
                                   runs[k].id, err);
                        session_release(&s);
                        *ret_failed_id = runs[k].id;
                        return 1;
                }
                failures = engine_rollback_session(e, j, s.session_id);
                journal_free(j);
                mark_rolled_back(&s);
                iso8601_now(now);
                if (!failures) {
                        s.status = SESSION_ROLLED_BACK;
                        memcpy(s.end_time, now, sizeof(now));
                }
                (void)session_save(&s, runs[k].path);
                session_release(&s);
                if (failures) {
                        *ret_failed_id = runs[k].id;
                        return failures;
                }
                (*ret_done)++;
        }
        return 0;
}

/* --rollback: the newest run that still has changes to undo, after the
 * person confirmed (the question says how many earlier runs have changes
 * too); with --all every such run, newest first, after one confirmation
 * that lists them. */
int engine_rollback_mode(struct engine *e)
{
        struct pending_run *runs = NULL;
        char err[1024] = "";
        int n_found = pending_runs(e, &runs, err, sizeof(err));
        size_t n_runs, total = 0, done = 0;
        bool all;
        struct journal *j = NULL;
        const char *failed_id = NULL;
        struct initramfs_rb_hold hold;
        char rec[PATH_MAX];
        int failures, earlier_failures = 0, hold_failed;

        if (n_found < 0) {
                engine_emit_session_start(e);
                engine_finish(e, EXIT_ROLLBACK_FAILED, SESSION_FAILED, "%s", err);
                return EXIT_ROLLBACK_FAILED;
        }
        n_runs = (size_t)n_found;
        all = e->o.rollback_all && n_runs > 1;
        for (size_t k = 0; k < n_runs; k++)
                total += runs[k].n;
        if (n_runs > 0 && session_load(runs[0].path, &e->session) == 0) {
                if (e->session.journal_path && journal_open(e->session.journal_path, &j, err, sizeof(err)) == 0)
                        e->have_session = true;
                else
                        session_release(&e->session);
        }
        if (!e->have_session) {
                free(runs);
                engine_emit_session_start(e);
                /* a rollback stopped after its last undo: its hold ends */
                engine_initramfs_leftover(e);
                engine_finish(e, EXIT_OK, SESSION_COMPLETED,
                              "nothing to roll back: no run has changes left to undo");
                return EXIT_OK;
        }
        strscpy(e->session_path, sizeof(e->session_path), runs[0].path);
        e->journal = j;
        engine_emit_session_start(e);

        {
                char **undo = NULL;
                _cleanup_free_ char *title = NULL, *msg = NULL;
                enum prompt_choice ch;

                if (all) {
                        struct buf b;
                        buf_init(&b, 64 * 1024);
                        (void)buf_printf(&b, "%zu runs still have changes, %zu in all; every one is undone, newest "
                                             "first:",
                                         n_runs, total);
                        for (size_t k = 0; k < n_runs; k++) {
                                struct journal *jk = NULL;
                                _cleanup_free_ char *prefix = xasprintf("%s: ", runs[k].id);
                                (void)buf_printf(&b, "%s session %s (%zu change%s)", k ? "," : "", runs[k].id,
                                                 runs[k].n, runs[k].n == 1 ? "" : "s");
                                if (k == 0) {
                                        push_preview(&undo, j, runs[k].id, prefix);
                                } else {
                                        struct session sk;
                                        if (session_load(runs[k].path, &sk) == 0) {
                                                if (sk.journal_path &&
                                                    journal_open(sk.journal_path, &jk, err, sizeof(err)) == 0) {
                                                        push_preview(&undo, jk, runs[k].id, prefix);
                                                        journal_free(jk);
                                                }
                                                session_release(&sk);
                                        }
                                }
                        }
                        (void)buf_printf(&b, ".");
                        msg = buf_steal(&b);
                        title = xasprintf("Roll back all %zu runs?", n_runs);
                } else {
                        undo = engine_undo_preview(e);
                        title = xasprintf("Roll back session %s?", e->session.session_id);
                        if (n_runs > 1)
                                msg = xasprintf("%zu change%s of the newest run will be undone, newest first. "
                                                "%zu earlier run%s with changes stay%s as %s (%zu change%s); "
                                                "vps-provision --rollback --all undoes every run.",
                                                runs[0].n, runs[0].n == 1 ? "" : "s", n_runs - 1,
                                                n_runs - 1 == 1 ? "" : "s", n_runs - 1 == 1 ? "s" : "",
                                                n_runs - 1 == 1 ? "it is" : "they are", total - runs[0].n,
                                                total - runs[0].n == 1 ? "" : "s");
                        else
                                msg = xasprintf("%zu change%s will be undone, newest first. No earlier run has "
                                                "changes left.",
                                                runs[0].n, runs[0].n == 1 ? "" : "s");
                }
                ch = engine_ask(e, PROMPT_CONFIRM_ROLLBACK, title, msg, NULL, undo,
                                e->o.assume_yes ? CHOICE_ROLLBACK : CHOICE_KEEP);
                if (ch != CHOICE_ROLLBACK) {
                        e->have_session = false; /* nothing about it changes */
                        free(runs);
                        engine_finish(e, EXIT_OK, SESSION_COMPLETED, "rollback not confirmed: nothing changed");
                        return EXIT_OK;
                }
        }

        if (e->session.log_path)
                log_open(e->session.log_path);
        e->cur = 0;
        e->phase_start_ms = now_ms();
        /* one hold of the initramfs updates for every run undone */
        {
                struct rollback_env hold_env = { .on_line = undo_line };
                struct undo_run hold_u = { .e = e };

                hold_env.userdata = &hold_u;
                rb_hold_begin(e, &hold, rec, sizeof(rec));
                failures = engine_rollback_session(e, j, e->session.session_id);
                mark_rolled_back(&e->session);
                if (!failures && all) {
                        done = 1;
                        earlier_failures = rollback_earlier(e, runs + 1, n_runs - 1, &done, &failed_id);
                }
                hold_failed = rb_hold_end(e, &hold_env);
        }
        if (failures) {
                engine_finish(e, EXIT_ROLLBACK_FAILED, SESSION_FAILED,
                              "the rollback of session %s could not undo %d change%s (see the log); fix the cause and run --rollback again%s",
                              e->session.session_id, failures, failures == 1 ? "" : "s",
                              all ? " (the earlier runs were not touched)" : "");
        } else if (earlier_failures) {
                engine_finish(e, EXIT_ROLLBACK_FAILED, SESSION_ROLLED_BACK,
                              "%zu of %zu runs were rolled back; session %s could not undo %d change%s (see "
                              "the log): fix the cause and run --rollback --all again",
                              done, n_runs, failed_id, earlier_failures, earlier_failures == 1 ? "" : "s");
        } else if (hold_failed) {
                engine_finish(e, EXIT_ROLLBACK_FAILED, SESSION_ROLLED_BACK,
                              "every change was undone, but the initramfs updates held during the rollback could not be ended (see the log): fix the cause and run --rollback again");
        } else if (all) {
                engine_finish(e, EXIT_OK, SESSION_ROLLED_BACK, "all %zu runs were rolled back (%zu changes)",
                              n_runs, total);
        } else if (n_runs > 1) {
                engine_finish(e, EXIT_OK, SESSION_ROLLED_BACK,
                              "session %s was rolled back; %zu earlier run%s still ha%s %zu change%s: "
                              "vps-provision --rollback undoes the next, --rollback --all every one",
                              e->session.session_id, n_runs - 1, n_runs - 1 == 1 ? "" : "s",
                              n_runs - 1 == 1 ? "s" : "ve", total - runs[0].n, total - runs[0].n == 1 ? "" : "s");
        } else {
                engine_finish(e, EXIT_OK, SESSION_ROLLED_BACK, "session %s was rolled back",
                              e->session.session_id);
        }
        free(runs);
        return e->exit_code;
}
