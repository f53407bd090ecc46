/* test_engine.c — the engine thread end to end with fake phases.
 *
 * The phases make real, journaled changes in a scratch directory (files via
 * ops_write_file, a stub command via ops_run), so checkpoints, the journal,
 * rollback, resume, prompts, cancel, the lock and the dry run are exercised
 * for real; the test thread plays the UI.
 *
 * Every test has a scratch host of its own (etest_scratch: state, log,
 * lock, stub commands, files), made before it and removed after it, so the
 * tests run alone or in any order. The phases find their files from the
 * state directory of the engine that runs them, never from a global. */
#include "testlib.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "checkpoint.h"
#include "enginelib.h"
#include "engine.h"
#include "journal.h"
#include "lock.h"
#include "ops.h"
#include "secret.h"
#include "session.h"

/* ---- fake phases --------------------------------------------------------- */

/* ROOT/files/name, ROOT being the parent of the engine's state directory. */
static char *phase_file(struct phase_ctx *c, const char *name)
{
        const char *state = phase_paths(c)->state_dir;
        const char *slash = strrchr(state, '/');

        return xasprintf("%.*s/files/%s", (int)(slash - state), state, name);
}

static int alpha_plan(struct phase_ctx *c)
{
        phase_plan(c, "FILE_CREATE", "alpha.txt", "write alpha.txt");
        return 0;
}

static int alpha_verify(struct phase_ctx *c)
{
        char *p = phase_file(c, "alpha.txt");
        char *s = test_read(p);
        int ok = s && strcmp(s, "alpha\n") == 0;
        phase_verify_digest(c, "%s", s ? s : "");
        if (!ok)
                phase_verify_note(c, "alpha.txt is missing");
        free(s);
        free(p);
        return ok;
}

static int alpha_write(struct phase_ctx *c)
{
        char *p = phase_file(c, "alpha.txt");
        int r;

        phase_action_begin(c, "FILE_CREATE", p, "Writing alpha.txt");
        r = ops_write_file(c, p, "alpha\n", 6, 0644, getuid(), getgid());
        phase_action_end(c, r);
        free(p);
        return r < 0 ? r : 0;
}

/* alpha, then up to 5 s of progress until a cancel arrives */
static int alpha_slow_run(struct phase_ctx *c)
{
        int r = alpha_write(c);

        for (int i = 0; r == 0 && i < 500; i++) {
                if (phase_cancel_requested(c))
                        return -ECANCELED;
                phase_progress(c, i / 500.0, "waiting");
                usleep(10000);
        }
        return r;
}

static int beta_verify(struct phase_ctx *c)
{
        char *p = phase_file(c, "beta.txt");
        int ok = path_exists(p);
        free(p);
        return ok;
}

static int beta_run(struct phase_ctx *c)
{
        const char *const argv[] = { "beta-cmd", "--go", NULL };
        char *p = phase_file(c, "beta.txt");
        int r;

        /* the file is the proof the command succeeded: written after it */
        phase_action_begin(c, "COMMAND_EXEC", "beta-cmd", "Running beta-cmd");
        r = ops_run(c, argv, NULL);
        r = phase_action_end(c, r < 0 ? r : 0);
        if (r >= 0)
                r = ops_write_file(c, p, "beta\n", 5, 0600, getuid(), getgid());
        free(p);
        return r < 0 ? r : 0;
}

static int gamma_run(struct phase_ctx *c)
{
        struct secret *pw = NULL;
        int r = secret_generate_password(20, &pw);
        if (r < 0)
                return phase_fail(c, r, "no password");
        phase_set_credentials(c, "devuser", pw);
        phase_summary(c, "gamma summary line");
        return 0;
}

static int succeeds(struct phase_ctx *c)
{
        (void)c;
        return 0;
}

static int never_verifies(struct phase_ctx *c)
{
        phase_verify_note(c, "it never verifies");
        return 0;
}

static bool disabled(const struct phase *p, const struct answers *a)
{
        (void)p;
        (void)a;
        return false;
}

static const struct phase alpha = { .id = "alpha", .title = "Alpha", .weight = 30,
                                    .plan = alpha_plan, .verify = alpha_verify, .run = alpha_write };
static const struct phase alpha_slow = { .id = "alpha", .title = "Alpha", .weight = 30,
                                         .plan = alpha_plan, .verify = alpha_verify,
                                         .run = alpha_slow_run };
static const struct phase beta = { .id = "beta", .title = "Beta", .weight = 60,
                                   .verify = beta_verify, .run = beta_run };
static const struct phase gamma_ = { .id = "gamma", .title = "Gamma", .weight = 9,
                                     .run = gamma_run };   /* no verify: runs every time, like the summary */
static const struct phase off = { .id = "off", .title = "Off", .weight = 1,
                                  .enabled = disabled, .run = gamma_run };
static const struct phase broken = { .id = "broken", .title = "Broken", .weight = 1,
                                     .verify = never_verifies, .run = succeeds };

static const struct phase *table[] = { &alpha, &beta, &off, &gamma_ };
static const struct phase *slow_table[] = { &alpha_slow, &beta, &off, &gamma_ };

/* ---- harness --------------------------------------------------------- */

enum responder { RESPOND_NONE, RESPOND_RETRY_FIXED, RESPOND_ROLLBACK, RESPOND_KEEP,
                 RESPOND_CANCEL_ON_ALPHA };

struct ui {
        enum responder resp;
        const struct etest_scratch *host;
        int prompts;
};

static void set_beta_exit(const struct etest_scratch *h, int code)
{
        char body[128];
        snprintf(body, sizeof(body), "echo beta output line; echo beta error >&2; exit %d", code);
        test_stub(h->bin, "beta-cmd", body);
}

static void respond(struct engine *e, const struct event *ev, void *userdata)
{
        struct ui *ui = userdata;

        if (ev->type == EV_PROMPT) {
                struct event *a = event_new(EV_ANSWER);
                a->answer.prompt_id = ev->prompt.id;
                switch (ui->resp) {
                case RESPOND_RETRY_FIXED:
                        if (ui->prompts++ > 0) {   /* the fix did not help: stop */
                                a->answer.choice = CHOICE_KEEP;
                                break;
                        }
                        set_beta_exit(ui->host, 0);
                        a->answer.choice = CHOICE_RETRY;
                        break;
                case RESPOND_ROLLBACK:
                        a->answer.choice = CHOICE_ROLLBACK;
                        break;
                default:
                        a->answer.choice = CHOICE_KEEP;
                }
                engine_send(e, a);
        }
        if (ui->resp == RESPOND_CANCEL_ON_ALPHA && ev->type == EV_PHASE_START &&
            strcmp(ev->phase_start.id, "alpha") == 0)
                engine_send(e, event_new(EV_CANCEL));
}

/* One engine, built from o, run to its end on host h. */
static void run_engine(const struct etest_scratch *h, struct engine_opts *o, enum responder resp,
                       struct etest_run *ret)
{
        struct ui ui = { .resp = resp, .host = h };

        etest_run(o, respond, &ui, ret);
}

/* --rollback with the confirmation given, on host h. */
static void run_rollback(const struct etest_scratch *h, struct etest_run *ret)
{
        struct engine_opts o;

        etest_opts(&o, h->root, MODE_ROLLBACK, table, ELEMENTSOF(table));
        o.assume_yes = true;
        run_engine(h, &o, RESPOND_NONE, ret);
        etest_opts_release(&o);
}

static int count(const char *hay, const char *needle)
{
        int n = 0;
        for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
                n++;
        return n;
}

static char *state_path(const struct etest_scratch *h, const char *rel)
{
        char *s = test_path(h->root, "state");
        char *p = test_path(s, rel);
        free(s);
        return p;
}

static bool file_exists(const struct etest_scratch *h, const char *name)
{
        char *p = test_path(h->files, name);
        bool r = path_exists(p);
        free(p);
        return r;
}

/* The newest session file on host h. */
static void load_latest_session(const struct etest_scratch *h, struct session *ret)
{
        char path[PATH_MAX];
        char *dir = state_path(h, "sessions");

        assert_int_equal(session_find_latest(dir, 0, path, sizeof(path)), 0);
        assert_int_equal(session_load(path, ret), 0);
        free(dir);
}

static int setup(void **state)
{
        struct etest_scratch *h = xcalloc(1, sizeof(*h));

        etest_scratch_begin(h);
        set_beta_exit(h, 0);
        *state = h;
        return 0;
}

static int teardown(void **state)
{
        etest_scratch_end(*state);
        free(*state);
        return 0;
}

/* ---- tests --------------------------------------------------------------- */

static void full_run_then_rerun_skips(void **state)
{
        const struct etest_scratch *h = *state;
        struct engine_opts o;
        struct etest_run r;
        const struct event *ev;
        double last = -1;
        struct checkpoint cp;
        struct session s;
        char *p;

        etest_opts(&o, h->root, MODE_PROVISION, table, ELEMENTSOF(table));
        run_engine(h, &o, RESPOND_NONE, &r);
        assert_int_equal(r.code, EXIT_OK);

        ev = etest_find(&r, EV_SESSION_START, 0);
        assert_non_null(ev);
        assert_int_equal(ev->session.n_phases, 5);   /* preflight + 4 */
        assert_string_equal(ev->session.phases[0].id, "preflight");
        assert_int_equal(ev->session.phases[3].state, PHASE_DISABLED);
        assert_non_null(ev->session.log_path);
        assert_non_null(etest_find(&r, EV_PREFLIGHT, 0));
        assert_int_equal(etest_end_state(&r, "alpha"), PHASE_DONE);
        assert_int_equal(etest_end_state(&r, "beta"), PHASE_DONE);
        assert_int_equal(etest_end_state(&r, "gamma"), PHASE_DONE);
        assert_int_equal(etest_end_state(&r, "off"), _PHASE_STATE_MAX);   /* never started */

        /* progress never goes backwards and ends at 1 */
        for (size_t i = 0; i < r.n; i++)
                if (r.ev[i]->type == EV_PROGRESS) {
                        assert_true(r.ev[i]->progress.overall >= last - 1e-9);
                        last = r.ev[i]->progress.overall;
                }
        assert_true(last > 0.999);

        /* credentials once, before the end, with a real password */
        ev = etest_find(&r, EV_CREDENTIALS, 0);
        assert_non_null(ev);
        assert_null(etest_find(&r, EV_CREDENTIALS, 1));
        assert_string_equal(ev->credentials.username, "devuser");
        assert_non_null(ev->credentials.password);
        assert_int_equal(secret_len(ev->credentials.password), 20);
        ev = etest_find(&r, EV_SESSION_END, 0);
        assert_int_equal(ev->session_end.exit_code, 0);
        assert_int_equal(ev->session_end.status, SESSION_COMPLETED);
        assert_true(strv_contains(ev->session_end.summary, "gamma summary line"));

        /* the stub ran with its argv; its output went to the log events */
        p = test_stub_calls(h->bin);
        assert_non_null(strstr(p, "beta-cmd --go"));
        free(p);

        /* checkpoints of verified phases; none for the always-running one */
        p = state_path(h, "checkpoints");
        assert_int_equal(checkpoint_read(p, "alpha", &cp), 0);
        assert_int_equal(checkpoint_read(p, "beta", &cp), 0);
        assert_int_equal(checkpoint_read(p, "gamma", &cp), -ENOENT);
        free(p);

        /* session file: completed, never the password; the log neither */
        {
                const char *pw = secret_str(etest_find(&r, EV_CREDENTIALS, 0)->credentials.password);
                char path[PATH_MAX];
                char *dir = state_path(h, "sessions"), *txt;

                load_latest_session(h, &s);
                assert_int_equal(s.status, SESSION_COMPLETED);
                assert_int_equal(s.exit_code, 0);
                assert_int_equal(session_find_latest(dir, 0, path, sizeof(path)), 0);
                txt = test_read(path);
                assert_null(strstr(txt, pw));
                free(txt);
                txt = test_read(s.log_path);
                assert_non_null(txt);
                assert_null(strstr(txt, pw));
                assert_non_null(strstr(txt, "beta output line"));
                free(txt);
                session_release(&s);
                free(dir);
        }
        etest_run_release(&r);

        /* second run: verified phases are skipped and nothing is journaled */
        run_engine(h, &o, RESPOND_NONE, &r);
        assert_int_equal(r.code, EXIT_OK);
        assert_int_equal(etest_end_state(&r, "alpha"), PHASE_SKIPPED);
        assert_int_equal(etest_end_state(&r, "beta"), PHASE_SKIPPED);
        assert_int_equal(etest_end_state(&r, "gamma"), PHASE_DONE);
        p = test_stub_calls(h->bin);
        assert_int_equal(count(p, "beta-cmd --go"), 1);   /* not run again */
        free(p);
        etest_run_release(&r);
        etest_opts_release(&o);

        /* a rollback undoes the first run (the second changed nothing) */
        run_rollback(h, &r);
        assert_int_equal(r.code, EXIT_OK);
        assert_false(file_exists(h, "alpha.txt"));
        assert_false(file_exists(h, "beta.txt"));
        p = state_path(h, "checkpoints");
        assert_int_equal(checkpoint_read(p, "alpha", &cp), -ENOENT);
        free(p);
        etest_run_release(&r);

        /* and a second rollback has nothing left to do */
        run_rollback(h, &r);
        assert_int_equal(r.code, EXIT_OK);
        assert_non_null(strstr(etest_find(&r, EV_SESSION_END, 0)->session_end.message, "nothing to roll back"));
        etest_run_release(&r);
}

static void failure_rolls_back_unattended(void **state)
{
        const struct etest_scratch *h = *state;
        struct engine_opts o;
        struct etest_run r;
        const struct event *ev;

        set_beta_exit(h, 3);
        etest_opts(&o, h->root, MODE_PROVISION, table, ELEMENTSOF(table));
        o.answers.on_failure = ON_FAILURE_ROLLBACK;
        run_engine(h, &o, RESPOND_NONE, &r);
        assert_int_equal(r.code, EXIT_ROLLED_BACK);
        assert_int_equal(r.prompts, 0);
        assert_int_equal(etest_end_state(&r, "beta"), PHASE_FAILED);
        assert_int_equal(etest_end_state(&r, "gamma"), _PHASE_STATE_MAX);
        ev = etest_find(&r, EV_SESSION_END, 0);
        assert_int_equal(ev->session_end.status, SESSION_ROLLED_BACK);
        assert_non_null(strstr(ev->session_end.message, "beta-cmd --go"));
        assert_non_null(strstr(ev->session_end.message, "exited with status 3"));
        assert_null(etest_find(&r, EV_CREDENTIALS, 0));
        assert_false(file_exists(h, "alpha.txt"));   /* undone */
        assert_false(file_exists(h, "beta.txt"));
        etest_run_release(&r);
        etest_opts_release(&o);
}

static void failure_kept_then_unfinished_then_resume(void **state)
{
        const struct etest_scratch *h = *state;
        struct engine_opts o;
        struct etest_run r;
        char id[SESSION_ID_MAX];

        set_beta_exit(h, 1);
        etest_opts(&o, h->root, MODE_PROVISION, table, ELEMENTSOF(table));
        o.answers.on_failure = ON_FAILURE_KEEP;
        run_engine(h, &o, RESPOND_NONE, &r);
        assert_int_equal(r.code, EXIT_FAILED_KEPT);
        strscpy(id, sizeof(id), etest_find(&r, EV_SESSION_START, 0)->session.session_id);
        assert_non_null(strstr(etest_find(&r, EV_SESSION_END, 0)->session_end.message, "--resume"));
        assert_true(file_exists(h, "alpha.txt"));     /* kept */
        etest_run_release(&r);

        /* a new run refuses: the earlier one is unfinished */
        run_engine(h, &o, RESPOND_NONE, &r);
        assert_int_equal(r.code, EXIT_UNFINISHED);
        assert_non_null(strstr(etest_find(&r, EV_SESSION_END, 0)->session_end.message, id));
        etest_run_release(&r);

        /* resume once the cause is fixed: same session, finished */
        set_beta_exit(h, 0);
        etest_opts_release(&o);
        etest_opts(&o, h->root, MODE_RESUME, table, ELEMENTSOF(table));
        run_engine(h, &o, RESPOND_NONE, &r);
        assert_int_equal(r.code, EXIT_OK);
        assert_string_equal(etest_find(&r, EV_SESSION_START, 0)->session.session_id, id);
        assert_int_equal(etest_end_state(&r, "alpha"), PHASE_SKIPPED);
        assert_int_equal(etest_end_state(&r, "beta"), PHASE_DONE);
        etest_run_release(&r);

        /* nothing left to resume */
        run_engine(h, &o, RESPOND_NONE, &r);
        assert_int_equal(r.code, EXIT_OK);
        assert_non_null(strstr(etest_find(&r, EV_SESSION_END, 0)->session_end.message, "no unfinished run"));
        etest_run_release(&r);
        etest_opts_release(&o);
}

/* After a retry the journal holds both attempts' changes; --rollback
 * undoes all of them and closes the session. */
static void interactive_retry_then_rollback(void **state)
{
        const struct etest_scratch *h = *state;
        struct engine_opts o;
        struct etest_run r;
        const struct event *pr, *end;
        struct session s;
        struct checkpoint cp;
        char *p, id[SESSION_ID_MAX];

        set_beta_exit(h, 2);
        etest_opts(&o, h->root, MODE_PROVISION, table, ELEMENTSOF(table));
        o.interactive = true;
        run_engine(h, &o, RESPOND_RETRY_FIXED, &r);
        assert_int_equal(r.code, EXIT_OK);
        assert_int_equal(r.prompts, 1);
        pr = etest_find(&r, EV_PROMPT, 0);
        assert_int_equal(pr->prompt.kind, PROMPT_PHASE_FAILED);
        assert_non_null(strstr(pr->prompt.title, "Beta"));
        /* the failure dialog gets the command's last output lines */
        assert_true(strv_contains(pr->prompt.tail, "beta output line"));
        assert_true(strv_contains(pr->prompt.tail, "beta error"));
        strscpy(id, sizeof(id), etest_find(&r, EV_SESSION_START, 0)->session.session_id);
        assert_true(file_exists(h, "alpha.txt"));
        assert_true(file_exists(h, "beta.txt"));
        etest_run_release(&r);
        etest_opts_release(&o);

        run_rollback(h, &r);
        assert_int_equal(r.code, EXIT_OK);
        assert_string_equal(etest_find(&r, EV_SESSION_START, 0)->session.session_id, id);
        end = etest_find(&r, EV_SESSION_END, 0);
        assert_int_equal(end->session_end.status, SESSION_ROLLED_BACK);
        assert_non_null(strstr(end->session_end.message, "was rolled back"));
        assert_non_null(etest_find(&r, EV_ACTION_START, 0));   /* the undos were shown */
        assert_false(file_exists(h, "alpha.txt"));
        assert_false(file_exists(h, "beta.txt"));
        p = state_path(h, "checkpoints");
        assert_int_equal(checkpoint_read(p, "alpha", &cp), -ENOENT);
        assert_int_equal(checkpoint_read(p, "beta", &cp), -ENOENT);
        free(p);
        load_latest_session(h, &s);
        assert_string_equal(s.session_id, id);
        assert_int_equal(s.status, SESSION_ROLLED_BACK);
        for (size_t k = 0; k < s.n_phases; k++)
                if (strcmp(s.phases[k].name, "alpha") == 0 || strcmp(s.phases[k].name, "beta") == 0)
                        assert_int_equal(s.phases[k].status, PHASE_ROLLED_BACK);
        session_release(&s);
        etest_run_release(&r);
}

/* Roll back from the failure dialog: it lists the exact undo actions first. */
static void interactive_rollback(void **state)
{
        const struct etest_scratch *h = *state;
        struct engine_opts o;
        struct etest_run r;
        const struct event *pr;
        char *alpha_file = test_path(h->files, "alpha.txt");
        bool listed = false;

        set_beta_exit(h, 2);
        etest_opts(&o, h->root, MODE_PROVISION, table, ELEMENTSOF(table));
        o.interactive = true;
        run_engine(h, &o, RESPOND_ROLLBACK, &r);
        assert_int_equal(r.code, EXIT_ROLLED_BACK);
        pr = etest_find(&r, EV_PROMPT, 0);
        assert_non_null(pr);
        for (size_t i = 0; pr->prompt.undo && pr->prompt.undo[i]; i++)
                if (strstr(pr->prompt.undo[i], alpha_file))
                        listed = true;
        assert_true(listed);
        assert_false(path_exists(alpha_file));
        free(alpha_file);
        etest_run_release(&r);
        etest_opts_release(&o);
}

/* --rollback undoes the newest run with changes and says how many earlier
 * runs still have some; --rollback --all undoes every one after one
 * question that lists them. */
static void rollback_newest_then_all(void **state)
{
        const struct etest_scratch *h = *state;
        struct engine_opts o, rb;
        struct etest_run r;
        const struct event *pr, *end;
        char *alpha_file = test_path(h->files, "alpha.txt"), *beta_file = test_path(h->files, "beta.txt");
        size_t prefixed = 0;

        etest_opts(&o, h->root, MODE_PROVISION, table, ELEMENTSOF(table));
        run_engine(h, &o, RESPOND_NONE, &r);            /* run 1: alpha.txt, beta.txt */
        assert_int_equal(r.code, EXIT_OK);
        etest_run_release(&r);
        assert_int_equal(unlink(alpha_file), 0);
        run_engine(h, &o, RESPOND_NONE, &r);            /* run 2: alpha.txt again */
        assert_int_equal(r.code, EXIT_OK);
        etest_run_release(&r);

        etest_opts(&rb, h->root, MODE_ROLLBACK, table, ELEMENTSOF(table));
        rb.interactive = true;
        run_engine(h, &rb, RESPOND_ROLLBACK, &r);
        assert_int_equal(r.code, EXIT_OK);
        pr = etest_find(&r, EV_PROMPT, 0);
        assert_non_null(pr);
        assert_non_null(strstr(pr->prompt.message, "1 change of the newest run will be undone"));
        assert_non_null(strstr(pr->prompt.message, "1 earlier run with changes stays as it is"));
        assert_non_null(strstr(pr->prompt.message, "--rollback --all"));
        assert_int_equal(strv_length(pr->prompt.undo), 1);
        end = etest_find(&r, EV_SESSION_END, 0);
        assert_non_null(strstr(end->session_end.message, "1 earlier run still has 2 changes"));
        assert_false(path_exists(alpha_file));               /* run 2's change is undone */
        assert_true(path_exists(beta_file));                 /* run 1's are not */
        etest_run_release(&r);

        run_engine(h, &o, RESPOND_NONE, &r);            /* run 3: alpha.txt again */
        assert_int_equal(r.code, EXIT_OK);
        etest_run_release(&r);
        rb.rollback_all = true;
        run_engine(h, &rb, RESPOND_ROLLBACK, &r);
        assert_int_equal(r.code, EXIT_OK);
        pr = etest_find(&r, EV_PROMPT, 0);
        assert_non_null(pr);
        assert_string_equal(pr->prompt.title, "Roll back all 2 runs?");
        assert_non_null(strstr(pr->prompt.message, "2 runs still have changes, 3 in all"));
        assert_int_equal(strv_length(pr->prompt.undo), 3);
        for (size_t i = 0; pr->prompt.undo[i]; i++)
                if (strchr(pr->prompt.undo[i], ':') && isdigit((unsigned char)pr->prompt.undo[i][0]))
                        prefixed++;
        assert_int_equal(prefixed, 3);                  /* each names its run */
        end = etest_find(&r, EV_SESSION_END, 0);
        assert_non_null(strstr(end->session_end.message, "all 2 runs were rolled back (3 changes)"));
        assert_false(path_exists(alpha_file));
        assert_false(path_exists(beta_file));
        etest_run_release(&r);

        run_rollback(h, &r);
        assert_non_null(strstr(etest_find(&r, EV_SESSION_END, 0)->session_end.message, "nothing to roll back"));
        etest_run_release(&r);
        etest_opts_release(&rb);
        etest_opts_release(&o);
        free(alpha_file);
        free(beta_file);
}

/* Keep from the failure dialog: exit 4, changes stay until --rollback. */
static void interactive_keep_then_rollback(void **state)
{
        const struct etest_scratch *h = *state;
        struct engine_opts o;
        struct etest_run r;

        set_beta_exit(h, 2);
        etest_opts(&o, h->root, MODE_PROVISION, table, ELEMENTSOF(table));
        o.interactive = true;
        run_engine(h, &o, RESPOND_KEEP, &r);
        assert_int_equal(r.code, EXIT_FAILED_KEPT);
        assert_int_equal(r.prompts, 1);
        assert_true(file_exists(h, "alpha.txt"));
        etest_run_release(&r);
        etest_opts_release(&o);

        run_rollback(h, &r);
        assert_int_equal(r.code, EXIT_OK);
        assert_int_equal(etest_find(&r, EV_SESSION_END, 0)->session_end.status, SESSION_ROLLED_BACK);
        assert_false(file_exists(h, "alpha.txt"));
        etest_run_release(&r);
}

static void cancel_stops_at_safe_point(void **state)
{
        const struct etest_scratch *h = *state;
        struct engine_opts o;
        struct etest_run r;

        etest_opts(&o, h->root, MODE_PROVISION, slow_table, ELEMENTSOF(slow_table));
        run_engine(h, &o, RESPOND_CANCEL_ON_ALPHA, &r);
        assert_int_equal(r.code, EXIT_INTERRUPTED);
        assert_int_equal(etest_end_state(&r, "alpha"), PHASE_FAILED);
        assert_int_equal(etest_end_state(&r, "beta"), _PHASE_STATE_MAX);  /* never started */
        assert_non_null(strstr(etest_find(&r, EV_SESSION_END, 0)->session_end.message, "--resume"));
        assert_true(file_exists(h, "alpha.txt"));   /* the change before the cancel stays */
        etest_run_release(&r);
        etest_opts_release(&o);

        /* an interrupted run rolls back like any other */
        run_rollback(h, &r);
        assert_int_equal(r.code, EXIT_OK);
        assert_int_equal(etest_find(&r, EV_SESSION_END, 0)->session_end.status, SESSION_ROLLED_BACK);
        assert_false(file_exists(h, "alpha.txt"));
        etest_run_release(&r);
}

static void lock_held_gives_6(void **state)
{
        const struct etest_scratch *h = *state;
        struct engine_opts o;
        struct etest_run r;
        struct lock *l = NULL;
        struct lock_info li;
        char note[128];

        etest_opts(&o, h->root, MODE_PROVISION, table, ELEMENTSOF(table));
        assert_int_equal(lock_acquire(o.paths.lock_path, "test", &l, &li, note, sizeof(note)), 0);
        /* flock is per open file: a second acquire in this process still conflicts */
        run_engine(h, &o, RESPOND_NONE, &r);
        lock_release(l);
        assert_int_equal(r.code, EXIT_LOCKED);
        assert_non_null(strstr(etest_find(&r, EV_SESSION_END, 0)->session_end.message, "pid"));
        assert_false(file_exists(h, "alpha.txt"));
        etest_run_release(&r);
        etest_opts_release(&o);
}

static void preflight_refusal_writes_nothing(void **state)
{
        const struct etest_scratch *h = *state;
        struct engine_opts o;
        struct etest_run r;
        char *p;

        etest_os(h->root, "ubuntu", "24.04");
        etest_opts(&o, h->root, MODE_PROVISION, table, ELEMENTSOF(table));
        run_engine(h, &o, RESPOND_NONE, &r);
        assert_int_equal(r.code, EXIT_PREFLIGHT);
        assert_true(etest_find(&r, EV_PREFLIGHT, 0)->preflight.refused);
        p = state_path(h, "");
        assert_false(path_exists(p));
        free(p);
        assert_false(file_exists(h, "alpha.txt"));
        etest_run_release(&r);
        etest_opts_release(&o);
}

static void dry_run_plans_and_writes_nothing(void **state)
{
        const struct etest_scratch *h = *state;
        struct engine_opts o;
        struct etest_run r;
        const struct event *ev;
        char *p;

        etest_opts(&o, h->root, MODE_DRY_RUN, table, ELEMENTSOF(table));
        run_engine(h, &o, RESPOND_NONE, &r);
        assert_int_equal(r.code, EXIT_OK);
        /* one plan event per enabled phase, none for the disabled one */
        assert_non_null(etest_find(&r, EV_PLAN, 2));
        assert_null(etest_find(&r, EV_PLAN, 3));
        ev = etest_find(&r, EV_PLAN, 0);
        assert_int_equal(ev->plan.phase_index, 1);
        assert_string_equal(ev->plan.steps[0], "FILE_CREATE\talpha.txt\twrite alpha.txt");
        p = state_path(h, "");
        assert_false(path_exists(p));
        free(p);
        assert_false(file_exists(h, "alpha.txt"));
        etest_run_release(&r);
        etest_opts_release(&o);
}

static void unverifiable_phase_fails(void **state)
{
        const struct etest_scratch *h = *state;
        const struct phase *t[] = { &broken };
        struct engine_opts o;
        struct etest_run r;

        etest_opts(&o, h->root, MODE_PROVISION, t, 1);
        o.answers.on_failure = ON_FAILURE_ROLLBACK;
        run_engine(h, &o, RESPOND_NONE, &r);
        assert_int_equal(r.code, EXIT_ROLLED_BACK);
        assert_non_null(strstr(etest_find(&r, EV_SESSION_END, 0)->session_end.message,
                               "does not verify: it never verifies"));
        etest_run_release(&r);
        etest_opts_release(&o);
}

#define ENGINE_TEST(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
        const struct CMUnitTest tests[] = {
                ENGINE_TEST(full_run_then_rerun_skips),
                ENGINE_TEST(failure_rolls_back_unattended),
                ENGINE_TEST(failure_kept_then_unfinished_then_resume),
                ENGINE_TEST(interactive_retry_then_rollback),
                ENGINE_TEST(interactive_rollback),
                ENGINE_TEST(interactive_keep_then_rollback),
                ENGINE_TEST(rollback_newest_then_all),
                ENGINE_TEST(cancel_stops_at_safe_point),
                ENGINE_TEST(lock_held_gives_6),
                ENGINE_TEST(preflight_refusal_writes_nothing),
                ENGINE_TEST(dry_run_plans_and_writes_nothing),
                ENGINE_TEST(unverifiable_phase_fails),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
