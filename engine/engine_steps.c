/* engine_steps.c — the steps of a run: preflight, the dry run's plans,
 * and the step loop that takes one phase to a verified end.
 *
 * One phase, one attempt: verify() first, and skip when it says done and
 * the checkpoint was written for the same inputs (answers); else run(),
 * verify() again, and write the checkpoint. A failed attempt ends in a
 * question (retry, roll back, keep) that the on_failure policy answers
 * when no UI can; retry starts a new attempt with a fresh context. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "apt.h"
#include "checkpoint.h"
#include "engine_int.h"
#include "ops.h"
#include "log.h"
#include "rollback.h"
#include "run.h"

/* engine_step_phase(): the person chose to try the phase again. */
#define ATTEMPT_AGAIN (-1)

static void emit_phase_start(struct engine *e, int i)
{
        struct event *ev = event_new(EV_PHASE_START);
        ev->phase_start.index = i;
        ev->phase_start.id = xstrdup(e->slots[i].id);
        ev->phase_start.title = xstrdup(e->slots[i].title);
        engine_emit(e, ev);
}

static void emit_phase_end(struct engine *e, int i, const char *message)
{
        struct event *ev = event_new(EV_PHASE_END);
        ev->phase_end.index = i;
        ev->phase_end.id = xstrdup(e->slots[i].id);
        ev->phase_end.state = e->slots[i].state;
        ev->phase_end.duration_ms = e->slots[i].duration_ms;
        ev->phase_end.message = message ? xstrdup(message) : NULL;
        engine_emit(e, ev);
}

void engine_step_preflight(struct engine *e)
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
                engine_log(e, 0, c->status == CHECK_FAIL ? LOG_ERROR
                                 : c->status == CHECK_WARN ? LOG_WARNING
                                                           : LOG_INFO,
                           "preflight", "%s: %s%s%s", c->name, c->message, c->fix ? " — " : "",
                           c->fix ? c->fix : "");
        }

        ev = event_new(EV_PREFLIGHT);
        ev->preflight.info = e->vps;
        ev->preflight.checks = checks;    /* moved */
        ev->preflight.refused = failures > 0;
        engine_emit(e, ev);

        e->slots[0].duration_ms = now_ms() - e->phase_start_ms;
        e->slots[0].state = failures > 0 ? PHASE_FAILED : PHASE_DONE;
        e->preflight_refused = failures > 0;
        emit_phase_end(e, 0, failures > 0 ? "the server does not meet the requirements" : NULL);
        e->cur_fraction = 0;
        engine_progress(e, NULL, true);
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

/* The checkpoint of a phase verified in session_id: the digest of what
 * verify() saw and of the answers it depends on. */
static int write_checkpoint(struct engine *e, const struct phase *p, const char *session_id,
                            const char digest[SHA256_HEX], const char inputs[SHA256_HEX])
{
        struct checkpoint n = { 0 };

        strscpy(n.phase, sizeof(n.phase), p->id);
        iso8601_now(n.completed_at);
        strscpy(n.session_id, sizeof(n.session_id), session_id);
        memcpy(n.checksum, digest, SHA256_HEX);
        memcpy(n.inputs, inputs, SHA256_HEX);
        return checkpoint_write(e->o.paths.checkpoints_dir, &n);
}

/* Before run(): true when verify() says done and the checkpoint was
 * written for these inputs (or the phase has none). A state that changed
 * since the checkpoint but still verifies gets a fresh checkpoint. Never
 * true with --force. */
static bool already_done(struct engine *e, struct phase_ctx *c, const char inputs[SHA256_HEX])
{
        const struct phase *p = c->p;
        char digest[SHA256_HEX];
        struct checkpoint cp;
        bool cp_ok;
        int r;

        cp_ok = checkpoint_read(e->o.paths.checkpoints_dir, p->id, &cp) == 0 &&
                strcmp(cp.inputs, inputs) == 0;
        if (c->sp)
                c->sp->checkpoint_exists = cp_ok;
        if (e->o.force)
                return false;
        r = call_verify(c, digest);
        if (r < 0) {
                engine_log(e, c->index, LOG_WARNING, p->id, "check before running failed: %s",
                           strerror(-r));
                return false;
        }
        if (r != 1)
                return false;
        if (!cp_ok && p->inputs) {
                engine_log(e, c->index, LOG_INFO, p->id,
                           "in place, but the answers it depends on changed since it was verified: running it again");
                return false;
        }
        if (!cp_ok || strcmp(cp.checksum, digest) != 0) {
                if (cp_ok)
                        engine_log(e, c->index, LOG_INFO, p->id,
                                   "state changed since the checkpoint but still verifies");
                write_checkpoint(e, p, cp_ok ? cp.session_id : e->session.session_id, digest,
                                 inputs);
        }
        return true;
}

/* run(), then verify() again and the checkpoint. A phase without verify()
 * (the summary) is done when run() succeeds and gets no checkpoint.
 * Returns 0 or -errno after phase_fail(). */
static int run_and_verify(struct engine *e, struct phase_ctx *c, const char inputs[SHA256_HEX])
{
        const struct phase *p = c->p;
        const char *title = e->slots[c->index].title;
        char digest[SHA256_HEX];
        int r, v;

        if (c->verify_note)
                engine_log(e, c->index, LOG_INFO, p->id, "to do: %s", c->verify_note);
        engine_log(e, c->index, LOG_INFO, p->id, "%s: starting", title);
        r = p->run ? p->run(c) : 0;
        if (c->action)
                phase_action_end(c, r);
        if (r < 0 || !p->verify)
                return r;
        v = call_verify(c, digest);
        if (v != 1)
                return phase_fail(c, v < 0 ? v : -EPROTO,
                                  "%s ran, but the result does not verify: %s", title,
                                  c->verify_note ? c->verify_note : "no reason given");
        r = write_checkpoint(e, p, e->session.session_id, digest, inputs);
        if (r < 0)
                phase_fail(c, r, "cannot write the checkpoint: %s", strerror(-r));
        return r;
}

static void set_phase_error(struct phase_ctx *c, const char *message)
{
        if (c->sp) {
                free(c->sp->error_message);
                c->sp->error_message = xstrdup(message);
        }
}

/* After a failed attempt (r < 0): interrupted by a cancel, or the
 * person's choice — the on_failure policy's without a UI — of retry, roll
 * back or keep. Releases c. Returns ATTEMPT_AGAIN or the exit code to
 * stop with. */
static int after_failure(struct engine *e, struct phase_ctx *c, int r)
{
        const int i = c->index;
        const char *title = e->slots[i].title;
        enum prompt_choice fallback, ch;
        char *question, *err;
        int failures;

        if (r == -ECANCELED && engine_cancelled(e)) {
                set_phase_state(e, i, PHASE_FAILED);
                set_phase_error(c, "interrupted");
                ctx_release(c);
                emit_phase_end(e, i, "interrupted");
                return EXIT_INTERRUPTED;
        }
        if (!c->error)
                phase_fail(c, r, "%s failed: %s", title, strerror(-r));
        set_phase_state(e, i, PHASE_FAILED);
        set_phase_error(c, c->error);
        engine_save_session(e);
        emit_phase_end(e, i, c->error);

        question = xasprintf("Phase \"%s\" failed", title);
        fallback = e->o.answers.on_failure == ON_FAILURE_ROLLBACK ? CHOICE_ROLLBACK : CHOICE_KEEP;
        ch = engine_ask(e, PROMPT_PHASE_FAILED, question, c->error, ctx_tail(c),
                        engine_undo_preview(e), fallback);
        free(question);
        engine_log(e, i, LOG_INFO, "engine", "after the failure: %s", prompt_choice_name(ch));

        if (ch == CHOICE_RETRY) {
                ctx_release(c);
                return ATTEMPT_AGAIN;
        }
        if (ch != CHOICE_ROLLBACK) {
                engine_finish(e, EXIT_FAILED_KEPT, SESSION_FAILED,
                              "%s; the changes were kept: fix the cause, then run vps-provision --resume (or --rollback to undo)",
                              c->error);
                ctx_release(c);
                return EXIT_FAILED_KEPT;
        }
        err = xstrdup(c->error);
        ctx_release(c);
        failures = engine_rollback_session(e, e->journal, e->session.session_id);
        for (size_t k = 1; k < e->n_slots; k++)
                if (e->slots[k].state == PHASE_DONE || e->slots[k].state == PHASE_FAILED)
                        set_phase_state(e, (int)k, PHASE_ROLLED_BACK);
        if (failures)
                engine_finish(e, EXIT_ROLLBACK_FAILED, SESSION_FAILED,
                              "%s; the rollback could not undo %d change%s (see the log)", err,
                              failures, failures == 1 ? "" : "s");
        else
                engine_finish(e, EXIT_ROLLED_BACK, SESSION_ROLLED_BACK,
                              "%s; every change of this run was rolled back", err);
        free(err);
        return e->exit_code;
}

int engine_step_phase(struct engine *e, int i)
{
        struct slot *s = &e->slots[i];
        char inputs[SHA256_HEX];
        int code;

        do {
                struct phase_ctx c;
                int64_t t0 = now_ms();
                int r;

                ctx_init(&c, e, i);
                e->cur = i;
                e->cur_fraction = 0;
                e->phase_start_ms = t0;
                set_phase_state(e, i, PHASE_RUNNING);
                emit_phase_start(e, i);
                engine_progress(e, NULL, true);
                engine_save_session(e);

                /* a dpkg transaction of this session cut off before its
                 * sync (a kill, a power cut) is checked and repaired first,
                 * before verify() can take its damaged files for done */
                r = ops_apt_settle(&c);
                if (r < 0) {
                        s->duration_ms = now_ms() - t0;
                        code = after_failure(e, &c, r);
                        continue;
                }

                inputs_digest(e, s->p, inputs);
                if (already_done(e, &c, inputs)) {
                        s->duration_ms = now_ms() - t0;
                        set_phase_state(e, i, PHASE_SKIPPED);
                        engine_log(e, i, LOG_INFO, s->p->id, "%s: already done, verified — skipped",
                                   s->title);
                        ctx_release(&c);
                        emit_phase_end(e, i, "already done (verified)");
                        engine_save_session(e);
                        return 0;
                }

                r = run_and_verify(e, &c, inputs);
                s->duration_ms = now_ms() - t0;
                if (r >= 0) {
                        e->active_ms += s->duration_ms;
                        e->active_weight += s->weight;
                        set_phase_state(e, i, PHASE_DONE);
                        e->cur_fraction = 1;
                        engine_log(e, i, LOG_INFO, s->p->id, "%s: done in %.1f s", s->title,
                                   (double)s->duration_ms / 1000.0);
                        ctx_release(&c);
                        emit_phase_end(e, i, NULL);
                        engine_save_session(e);
                        return 0;
                }
                code = after_failure(e, &c, r);
        } while (code == ATTEMPT_AGAIN);
        return code;
}

/* The target of the journal records of man-db's paused index updates: the
 * pause (UNDO_MANDB_AUTO_UPDATE, ops_mandb_pause()) and its end here (a
 * record with nothing to undo). */
#define MANDB_TARGET "man-db/auto-update"

void engine_step_deferred(struct engine *e)
{
        const struct journal_entry **list = NULL;
        const char *const build[] = { "systemctl", "start", "--no-block", "man-db.service", NULL };
        struct undo done = { .kind = UNDO_NOTHING };
        struct run_opts o;
        _cleanup_free_ char *flag = NULL;
        char msg[512];
        size_t n;
        int r;

        if (!e->journal)
                return;
        /* newest first: the latest record of the pause says whether it holds */
        n = journal_pending(e->journal, NULL, &list);
        for (size_t i = 0; i < n; i++)
                if (list[i]->target && strcmp(list[i]->target, MANDB_TARGET) == 0) {
                        if (list[i]->undo.kind == UNDO_MANDB_AUTO_UPDATE && list[i]->undo.path)
                                flag = xstrdup(list[i]->undo.path);
                        break;
                }
        free(list);
        if (!flag)
                return;
        r = rollback_mandb_auto_update(NULL, flag, msg, sizeof(msg));
        if (r < 0) {
                /* the system works without it: the next rollback or the
                 * administrator can still turn it on */
                engine_log(e, -1, LOG_WARNING, "engine",
                           "man-db's index updates stay paused: %s (turn them on with: dpkg-reconfigure man-db)",
                           msg);
                return;
        }
        ops_memo_drop(e);
        if (journal_append(e->journal, e->session.session_id, "engine", "COMMAND_EXEC",
                           MANDB_TARGET, &done) < 0)
                engine_log(e, -1, LOG_WARNING, "engine", "cannot journal the end of man-db's pause");
        /* the one index build the run put off: man-db's own unit (as
         * user man, nice 19, idle I/O), in the background */
        run_opts_init(&o);
        o.argv = build;
        o.timeout_ms = 30000;
        r = run_command(&o, NULL);
        if (r == 0)
                engine_log(e, -1, LOG_INFO, "engine",
                           "%s; the manual page index is being built in the background (man-db.service)",
                           msg);
        else
                engine_log(e, -1, LOG_INFO, "engine",
                           "%s; man-db.service could not be started (%s), so man-db's daily timer builds the manual page index",
                           msg, r < 0 ? strerror(-r) : "systemctl failed");
}

void engine_step_plan(struct engine *e)
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
                engine_emit(e, ev);
                ctx_release(&c);
        }
}

/* ---- downloading ahead -------------------------------------------------- */

static const char *archives_dir(const struct engine *e)
{
        return e->o.apt_archives[0] ? e->o.apt_archives : "/var/cache/apt/archives";
}

static char *ahead_dir(const struct engine *e)
{
        return xasprintf("%s/" PREFETCH_SUBDIR, archives_dir(e));
}

/* A word apt-get install takes as a package: a name, or its "name-"
 * keep-out form; no option, path or prose punctuation. A prose target
 * made of such words ("base packages") gets through; apt cannot find
 * those and the download leaves them out. */
static bool package_word(const char *w)
{
        if (!((w[0] >= 'a' && w[0] <= 'z') || (w[0] >= '0' && w[0] <= '9')))
                return false;
        for (const char *q = w; *q; q++)
                if (!((*q >= 'a' && *q <= 'z') || (*q >= '0' && *q <= '9') || *q == '+' ||
                      *q == '-' || *q == '.' || *q == ':'))
                        return false;
        return true;
}

/* The PACKAGE_INSTALL words of the plans of the enabled phases after index. */
static char **later_packages(struct engine *e, int index)
{
        char **words = NULL;
        int cur = e->cur;            /* plan() only lists; the run's place is kept */
        double cur_fraction = e->cur_fraction;

        for (size_t i = (size_t)index + 1; i < e->n_slots; i++) {
                struct phase_ctx c;

                if (!e->slots[i].enabled || !e->slots[i].p || !e->slots[i].p->plan)
                        continue;
                ctx_init(&c, e, (int)i);
                c.planning = true;
                e->cur = (int)i;
                c.p->plan(&c);
                for (size_t k = 0; c.plan && c.plan[k]; k++) {
                        _cleanup_free_ char *target = NULL;
                        char *tab, *save = NULL;

                        if (!startswith(c.plan[k], "PACKAGE_INSTALL\t"))
                                continue;
                        target = xstrdup(c.plan[k] + strlen("PACKAGE_INSTALL\t"));
                        if ((tab = strchr(target, '\t')))
                                *tab = '\0';
                        for (char *w = strtok_r(target, " ", &save); w;
                             w = strtok_r(NULL, " ", &save))
                                if (package_word(w) && !strv_contains(words, w))
                                        strv_push(&words, w);
                }
                ctx_release(&c);
        }
        e->cur = cur;
        e->cur_fraction = cur_fraction;
        return words;
}

void engine_prefetch_begin(struct phase_ctx *c)
{
        struct engine *e = c->e;
        _cleanup_strv_ char **words = NULL;
        _cleanup_free_ char *dir = NULL, *list = NULL;
        int r;

        if (c->planning || e->prefetch_tried)
                return;
        e->prefetch_tried = true;
        words = later_packages(e, c->index);
        if (strv_length(words) == 0)
                return;
        dir = ahead_dir(e);
        list = strv_join(words, " ");
        r = prefetch_start(dir, words, &e->prefetch);
        if (r < 0) {
                phase_log(c, LOG_WARNING,
                          "cannot download the later phases' packages ahead into %s (%s); each phase downloads its own",
                          dir, strerror(-r));
                return;
        }
        e->prefetch_index = c->index;
        phase_log(c, LOG_INFO,
                  "downloading the later phases' packages ahead, in the background at low priority (nice 19, idle I/O), into %s: %s",
                  dir, list);
}

int engine_prefetch_ready(struct phase_ctx *c, double from)
{
        struct engine *e = c->e;
        _cleanup_free_ char *dir = NULL;
        char *const *dropped = NULL;
        const char *error = NULL;
        int64_t t0 = now_ms();
        bool done, waited = false;
        double pct;
        int r, status;

        if (!e->prefetch || c->index <= e->prefetch_index)
                return 0;
        for (;;) {
                prefetch_state(e->prefetch, &pct, &done);
                if (done)
                        break;
                if (phase_cancel_requested(c)) {
                        prefetch_stop(e->prefetch);
                        phase_log(c, LOG_INFO, "the download ahead was stopped (cancel)");
                        return -ECANCELED;
                }
                if (!waited)
                        phase_log(c, LOG_INFO,
                                  "waiting for the download ahead to finish (%.0f %% done) before installing, so apt does not fetch the same packages twice",
                                  pct);
                waited = true;
                phase_progress(c, from, "waiting for the packages downloading ahead: %.0f %%", pct);
                sleep_ms(250);
        }
        status = prefetch_join(e->prefetch, &dropped, &error);
        if (waited)
                phase_log(c, LOG_INFO, "the download ahead ended after %lld ms more",
                          (long long)(now_ms() - t0));
        if (status != 0 && !e->prefetch_reported)
                phase_log(c, LOG_INFO,
                          "the download ahead did not fetch everything (apt-get exit status %d%s%s); the installs download the rest themselves",
                          status, error && error[0] ? ": " : "", error ? error : "");
        if (strv_length(dropped) > 0 && !e->prefetch_reported) {
                _cleanup_free_ char *names = strv_join(dropped, " ");
                phase_log(c, LOG_INFO,
                          "not downloaded ahead (not in the package lists yet; their phase adds the repository first): %s",
                          names);
        }
        e->prefetch_reported = true;
        dir = ahead_dir(e);
        r = prefetch_link(dir, archives_dir(e));
        if (r > 0)
                phase_log(c, LOG_INFO, "%d package%s downloaded ahead put into apt's cache %s",
                          r, r == 1 ? "" : "s", archives_dir(e));
        else if (r < 0)
                phase_log(c, LOG_WARNING,
                          "cannot put the packages downloaded ahead into apt's cache %s (%s); apt downloads them again",
                          archives_dir(e), strerror(-r));
        return 0;
}

void engine_prefetch_end(struct engine *e)
{
        _cleanup_free_ char *dir = NULL;
        uint64_t bytes = 0;
        bool done;
        int n;

        if (!e->prefetch)
                return;
        prefetch_state(e->prefetch, NULL, &done);
        if (!done)
                engine_log(e, -1, LOG_INFO, "engine",
                           "the download ahead was still running at the end of the run; stopped");
        prefetch_free(e->prefetch);
        e->prefetch = NULL;
        dir = ahead_dir(e);
        n = prefetch_remove(dir, &bytes);
        if (n < 0)
                engine_log(e, -1, LOG_WARNING, "engine",
                           "cannot remove the download-ahead directory %s: %s", dir, strerror(-n));
        else
                engine_log(e, -1, LOG_INFO, "engine",
                           "removed the download-ahead directory %s (%d package file%s, %llu KiB; those the installs used stay in apt's cache %s, which apt-get clean empties)",
                           dir, n, n == 1 ? "" : "s", (unsigned long long)(bytes / 1024),
                           archives_dir(e));
}
