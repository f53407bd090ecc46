/* fake_phases.c — the phase table of vps-provision-testphases: a few phases
 * that only touch a scratch directory, so the tmux tests can drive the real
 * UI through a whole run, a failure, a retry and a rollback without changing
 * this machine. Built only with the tests, never installed.
 *
 * Environment:
 *   VPSP_TEST_SCRATCH     directory the phases write into (required)
 *   VPSP_TEST_STEP_MS     pause between progress steps (default 120)
 *   VPSP_TEST_FAIL_TIMES  how many times "fake-fail" fails before it
 *                         succeeds (default 0; a retry runs it again)
 *   VPSP_TEST_FAIL_STEPS  steps (log lines) of "fake-fail" before it fails (4)
 *   VPSP_TEST_FLOOD       extra output lines "fake-files" logs at once
 *   VPSP_TEST_DPKG_DIR    preflight's dpkg directory (so that an apt run
 *                         elsewhere on the test machine cannot refuse the run)
 *   VPSP_TEST_PROC        a /proc for the wizard's listening ports (net/tcp,
 *                         PID/fd links, PID/comm)
 *   VPSP_TEST_PASSWD      a passwd file for the review's "account exists"
 *   VPSP_TEST_SETTLE      1: "fake-prep" has a change that waits for the
 *                         person, as closing the old SSH port does: its
 *                         settle() writes settled.txt only once confirmed
 *                         (the end screen's P key)
 *
 * Every change goes through ops.h, so it is journaled with its undo and a
 * rollback really removes the files again. */
#include "phases.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ops.h"
#include "preflight.h"
#include "secret.h"
#include "util.h"

void testphases_preflight(struct preflight_env *env);
void testphases_preflight(struct preflight_env *env)
{
        const char *d = getenv("VPSP_TEST_DPKG_DIR");

        if (d && d[0] == '/')
                env->dpkg_dir = d;
}

/* The review's facts from a fake /proc (listening sockets and their
 * processes) and a fake passwd file, when the tests name them. */
void testphases_facts(const char **ret_proc, const char **ret_passwd);
void testphases_facts(const char **ret_proc, const char **ret_passwd)
{
        const char *p = getenv("VPSP_TEST_PROC"), *w = getenv("VPSP_TEST_PASSWD");

        if (p && p[0] == '/')
                *ret_proc = p;
        if (w && w[0] == '/')
                *ret_passwd = w;
}

static long env_long(const char *name, long def)
{
        const char *v = getenv(name);
        long r;

        if (!v || parse_long(v, 0, 100000000, &r) < 0)
                return def;
        return r;
}

static int scratch_path(struct phase_ctx *c, const char *name, char *buf, size_t size)
{
        const char *dir = getenv("VPSP_TEST_SCRATCH");

        if (!dir || dir[0] != '/')
                return phase_fail(c, -EINVAL, "VPSP_TEST_SCRATCH must name an absolute directory");
        if (snprintf(buf, size, "%s/%s", dir, name) >= (int)size)
                return phase_fail(c, -ENAMETOOLONG, "VPSP_TEST_SCRATCH is too long");
        return 0;
}

/* Writes NAME in the scratch directory as one action. */
static int write_scratch(struct phase_ctx *c, const char *name, const char *text)
{
        char path[PATH_MAX];
        int r = scratch_path(c, name, path, sizeof(path));

        if (r < 0)
                return r;
        phase_action_begin(c, "FILE_WRITE", path, "Writing %s", name);
        r = ops_write_file(c, path, text, strlen(text), 0644, getuid(), getgid());
        return phase_action_end(c, r < 0 ? r : 0);
}

/* Steps of progress with a log line each; stops early on cancel. */
static int steps(struct phase_ctx *c, const char *what, int n)
{
        long ms = env_long("VPSP_TEST_STEP_MS", 120);

        for (int i = 1; i <= n; i++) {
                if (phase_cancel_requested(c))
                        return -ECANCELED;
                phase_log(c, LOG_INFO, "%s: step %d of %d", what, i, n);
                phase_progress(c, (double)i / n, "%s %d/%d", what, i, n);
                sleep_ms((unsigned)ms);
        }
        return 0;
}

static int verify_marker(struct phase_ctx *c)
{
        char name[128], path[PATH_MAX];

        snprintf(name, sizeof(name), "%s.done", phase_id(c));
        if (scratch_path(c, name, path, sizeof(path)) < 0)
                return 0;
        /* like the real user phase: a password nobody saw is set again */
        if (strcmp(phase_id(c), "fake-user") == 0 && phase_unseen_password(c)) {
                phase_verify_note(c, "the password session %s set was never shown", phase_unseen_password(c));
                return 0;
        }
        if (path_exists(path))
                return 1;
        phase_verify_note(c, "%s is missing", path);
        return 0;
}

static int mark_done(struct phase_ctx *c)
{
        char name[128];

        snprintf(name, sizeof(name), "%s.done", phase_id(c));
        return write_scratch(c, name, "done\n");
}

static int plan_marker(struct phase_ctx *c)
{
        phase_plan(c, "FILE_WRITE", phase_id(c), "write the test marker of %s", phase_id(c));
        return 0;
}

static int run_prep(struct phase_ctx *c)
{
        const char *const argv[] = { "/bin/true", NULL };
        int r;

        phase_action_begin(c, "COMMAND", "/bin/true", "Preparing the test run");
        r = ops_run(c, argv, NULL);
        r = phase_action_end(c, r < 0 ? r : 0);
        if (r < 0)
                return r;
        phase_action_begin(c, "COMMAND", "steps", "Counting preparation steps");
        r = phase_action_end(c, steps(c, "preparing", 8));
        if (r < 0)
                return r;
        return mark_done(c);
}

static int run_files(struct phase_ctx *c)
{
        long flood = env_long("VPSP_TEST_FLOOD", 0);
        int r;

        r = write_scratch(c, "files-a.txt", "a test file\n");
        if (r < 0)
                return r;
        phase_action_begin(c, "COMMAND", "steps", "Copying test files");
        for (long i = 0; i < flood; i++)
                phase_log(c, LOG_INFO, "flood line %ld of %ld", i + 1, flood);
        r = phase_action_end(c, steps(c, "copying", 10));
        if (r < 0)
                return r;
        return mark_done(c);
}

static int run_user(struct phase_ctx *c)
{
        struct secret *pw = NULL;
        int r;

        phase_action_begin(c, "COMMAND", "steps", "Creating the test account");
        /* as the real user phase: a hash from the answers means no
         * generated password */
        if (!phase_answers(c)->password_hash[0]) {
                if (phase_answers(c)->layout_safe_password)
                        r = secret_generate_layout_safe(secret_layout_safe_length(phase_answers(c)->password_length), &pw);
                else
                        r = secret_generate_password(phase_answers(c)->password_length, &pw);
                if (r < 0)
                        return phase_action_end(c, phase_fail(c, r, "cannot generate a password"));
        }
        phase_set_credentials(c, phase_answers(c)->username,
                              pw ? CREDS_PW_GENERATED : CREDS_PW_FROM_HASH, pw);
        r = phase_action_end(c, steps(c, "account", 5));
        if (r < 0)
                return r;
        return mark_done(c);
}

static int fail_count;

static int run_fail(struct phase_ctx *c)
{
        int r;

        r = write_scratch(c, "fail-before.txt", "written before the failure point\n");
        if (r < 0)
                return r;
        phase_action_begin(c, "COMMAND", "steps", "Running the step that may fail");
        r = steps(c, "checking", (int)env_long("VPSP_TEST_FAIL_STEPS", 4));
        if (r == 0 && fail_count < env_long("VPSP_TEST_FAIL_TIMES", 0)) {
                /* a command's output: what the failure dialog shows as the tail */
                const char *const argv[] = { "/bin/echo", "output of a command just before the failure", NULL };
                (void)ops_run(c, argv, NULL);
                fail_count++;
                phase_log(c, LOG_INFO, "the test asks this step to fail (attempt %d)", fail_count);
                r = phase_fail(c, -EIO, "the test step failed on purpose (attempt %d of VPSP_TEST_FAIL_TIMES)",
                               fail_count);
        }
        r = phase_action_end(c, r);
        if (r < 0)
                return r;
        return mark_done(c);
}

/* With VPSP_TEST_SETTLE=1: waits until the person confirms, then writes
 * settled.txt (journaled, so a rollback removes it). */
static int settle_prep(struct phase_ctx *c, bool confirmed)
{
        int r;

        if (env_long("VPSP_TEST_SETTLE", 0) != 1)
                return 1;
        if (!confirmed)
                return 0;
        r = write_scratch(c, "settled.txt", "confirmed\n");
        if (r < 0)
                return r;
        phase_log(c, LOG_INFO, "the test change that waited for the person is made (confirmed)");
        return 1;
}

static const struct phase fake_prep = {
        .id = "fake-prep", .title = "Test preparation", .summary = "counts a few steps",
        .weight = 20, .plan = plan_marker, .verify = verify_marker, .run = run_prep, .settle = settle_prep,
};
static const struct phase fake_files = {
        .id = "fake-files", .title = "Test files", .summary = "writes a file into the scratch directory",
        .weight = 30, .download_mb = 120, .plan = plan_marker, .verify = verify_marker, .run = run_files,
};
static const struct phase fake_user = {
        .id = "fake-user", .title = "Test account", .summary = "hands over a generated password",
        .weight = 20, .plan = plan_marker, .verify = verify_marker, .run = run_user,
};
static const struct phase fake_fail = {
        .id = "fake-fail", .title = "Test step that can fail", .summary = "fails when the test says so",
        .weight = 30, .plan = plan_marker, .verify = verify_marker, .run = run_fail,
};

static const struct phase *const table[] = { &fake_prep, &fake_files, &fake_user, &fake_fail, NULL };

int phases_load(const struct answers *a, struct phase_table *ret, char *err, size_t errlen)
{
        (void)a;
        (void)err;
        (void)errlen;
        *ret = (struct phase_table){ .v = (const struct phase **)table, .n = ELEMENTSOF(table) - 1 };
        return 0;
}

void phases_release(struct phase_table *t)
{
        *t = (struct phase_table){ 0 };
}
