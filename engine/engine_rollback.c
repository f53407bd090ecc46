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

/* Undoes every pending change of session_id in j, newest first; removes
 * that session's checkpoints. Returns the number of undos that failed. */
int engine_rollback_session(struct engine *e, struct journal *j, const char *session_id)
{
        const struct journal_entry **list = NULL;
        struct undo_run u = { .e = e };
        size_t n;
        int failures, r;

        n = journal_pending(j, session_id, &list);
        u.total = n;
        u.env.on_line = undo_line;
        u.env.userdata = &u;
        engine_log(e, e->cur, LOG_WARNING, "rollback", "Rolling back %zu change%s of session %s", n,
                   n == 1 ? "" : "s", session_id);
        failures = journal_rollback(j, list, n, undo_one, &u);
        free(list);

        r = checkpoint_remove_session(e->o.paths.checkpoints_dir, session_id);
        if (r < 0)
                engine_log(e, e->cur, LOG_WARNING, "rollback", "cannot remove checkpoints: %s",
                           strerror(-r));
        engine_log(e, e->cur, failures ? LOG_ERROR : LOG_INFO, "rollback",
                   "Rollback finished: %zu undone, %d failed", n - (size_t)failures, failures);
        return failures;
}

/* --rollback: the newest session that still has changes to undo. */
int engine_rollback_mode(struct engine *e)
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
                engine_emit_session_start(e);
                engine_finish(e, EXIT_OK, SESSION_COMPLETED,
                              "nothing to roll back: no run has changes left to undo");
                return EXIT_OK;
        }
        e->journal = j;
        engine_emit_session_start(e);

        {
                char **undo = engine_undo_preview(e);
                char *title = xasprintf("Roll back session %s?", e->session.session_id);
                char *msg = xasprintf("%zu change%s will be undone, newest first.", n_pending,
                                      n_pending == 1 ? "" : "s");
                enum prompt_choice ch = engine_ask(e, PROMPT_CONFIRM_ROLLBACK, title, msg, NULL, undo,
                                                   e->o.assume_yes ? CHOICE_ROLLBACK : CHOICE_KEEP);
                free(title);
                free(msg);
                if (ch != CHOICE_ROLLBACK) {
                        e->have_session = false; /* nothing about it changes */
                        engine_finish(e, EXIT_OK, SESSION_COMPLETED, "rollback not confirmed: nothing changed");
                        return EXIT_OK;
                }
        }

        if (e->session.log_path)
                log_open(e->session.log_path);
        e->cur = 0;
        e->phase_start_ms = now_ms();
        failures = engine_rollback_session(e, j, e->session.session_id);
        for (size_t k = 0; k < e->session.n_phases; k++)
                if (e->session.phases[k].status == PHASE_DONE ||
                    e->session.phases[k].status == PHASE_SKIPPED ||
                    e->session.phases[k].status == PHASE_FAILED)
                        e->session.phases[k].status = PHASE_ROLLED_BACK;
        if (failures)
                engine_finish(e, EXIT_ROLLBACK_FAILED, SESSION_FAILED,
                              "the rollback of session %s could not undo %d change%s (see the log); fix the cause and run --rollback again",
                              e->session.session_id, failures, failures == 1 ? "" : "s");
        else
                engine_finish(e, EXIT_OK, SESSION_ROLLED_BACK, "session %s was rolled back",
                              e->session.session_id);
        return e->exit_code;
}
