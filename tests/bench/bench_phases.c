/* bench_phases.c — the phase table of vps-provision-benchphases, the real
 * program (ui/main.c, the engine, the UI) with one phase that floods it with
 * output: a child (seq) prints VPSP_BENCH_LINES lines (default 1,000,000)
 * through ops_run(), so the engine reads, logs and queues every line while
 * the dashboard or a headless renderer shows them. tests/bench/run times
 * it with the dashboard attached (in tmux) and headless ("UI
 * overhead"). Built only with the benchmarks, never installed; it changes
 * nothing but a result file in the scratch directory.
 *
 * Environment:
 *   VPSP_TEST_SCRATCH   directory for the result file flood.result (required):
 *                       "lines=N ms=WALL" — wall time of the ops_run() call
 *   VPSP_BENCH_LINES    lines the child prints (default 1000000)
 *   VPSP_TEST_DPKG_DIR  preflight's dpkg directory (so that an apt run
 *                       elsewhere on the machine cannot refuse the run) */
#include "phases.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ops.h"
#include "preflight.h"
#include "util.h"

void testphases_preflight(struct preflight_env *env);
void testphases_preflight(struct preflight_env *env)
{
        const char *d = getenv("VPSP_TEST_DPKG_DIR");

        if (d && d[0] == '/')
                env->dpkg_dir = d;
}

/* The wizard's facts come from this machine as they are. */
void testphases_facts(const char **ret_proc, const char **ret_passwd);
void testphases_facts(const char **ret_proc, const char **ret_passwd)
{
        (void)ret_proc;
        (void)ret_passwd;
}

static int result_path(struct phase_ctx *c, char *buf, size_t size)
{
        const char *dir = getenv("VPSP_TEST_SCRATCH");

        if (!dir || dir[0] != '/')
                return phase_fail(c, -EINVAL, "VPSP_TEST_SCRATCH must name an absolute directory");
        if (snprintf(buf, size, "%s/flood.result", dir) >= (int)size)
                return phase_fail(c, -ENAMETOOLONG, "VPSP_TEST_SCRATCH is too long");
        return 0;
}

static double mono_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static int plan_flood(struct phase_ctx *c)
{
        phase_plan(c, "COMMAND_EXEC", "seq", "print many lines through the engine");
        return 0;
}

static int verify_flood(struct phase_ctx *c)
{
        char path[PATH_MAX];

        if (result_path(c, path, sizeof(path)) < 0)
                return 0;
        if (path_exists(path))
                return 1;
        phase_verify_note(c, "%s is missing", path);
        return 0;
}

static int run_flood(struct phase_ctx *c)
{
        const char *v = getenv("VPSP_BENCH_LINES");
        char path[PATH_MAX], count[32], text[96];
        long lines = 1000000;
        double t0, ms;
        int r;

        if (v && parse_long(v, 1, 100000000, &lines) < 0)
                return phase_fail(c, -EINVAL, "VPSP_BENCH_LINES=%s: want 1 to 100000000", v);
        r = result_path(c, path, sizeof(path));
        if (r < 0)
                return r;
        snprintf(count, sizeof(count), "%ld", lines);
        const char *const argv[] = { "seq", "1", count, NULL };

        phase_action_begin(c, "COMMAND_EXEC", "seq", "Printing %ld lines", lines);
        t0 = mono_ms();
        r = ops_run(c, argv, NULL);
        ms = mono_ms() - t0;
        r = phase_action_end(c, r < 0 ? r : 0);
        if (r < 0)
                return r;

        snprintf(text, sizeof(text), "lines=%ld ms=%.1f\n", lines, ms);
        phase_action_begin(c, "FILE_CREATE", path, "Writing the result");
        r = ops_write_file(c, path, text, strlen(text), 0644, getuid(), getgid());
        return phase_action_end(c, r < 0 ? r : 0);
}

static const struct phase bench_flood = {
        .id = "bench-flood", .title = "Output flood", .summary = "a child prints many lines",
        .weight = 100, .plan = plan_flood, .verify = verify_flood, .run = run_flood,
};

static const struct phase *const table[] = { &bench_flood, NULL };

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
