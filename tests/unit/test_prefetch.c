/* test_prefetch.c — the later phases' packages downloaded ahead: started by
 * the run's apt-get update with the later phases' planned packages only, at
 * low priority, beside the current phase's own install; a later install
 * waits for it, then finds the .debs in apt's cache; a word apt cannot find
 * is left out; cancel stops it; the run's end removes its directory.
 * apt-get and dpkg-query are stubs on PATH (apt-get's argv is recorded). */
#include "testlib.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "enginelib.h"
#include "ops.h"
#include "prefetch.h"
#include "util.h"

static char *T;
static char stubs[PATH_MAX], archives[PATH_MAX], ahead[PATH_MAX];
static int results[4];

/* ---- two test phases: "prep" updates the lists and installs its own
 * package; "later" plans two packages and one of a repository not added
 * yet, and installs the two ---------------------------------------------- */

static int prep_plan(struct phase_ctx *c)
{
        phase_plan(c, "PACKAGE_INSTALL", "basepkg", "base package");
        return 0;
}

static int prep_run(struct phase_ctx *c)
{
        const char *const pkgs[] = { "basepkg", NULL };
        int r;

        phase_action_begin(c, "COMMAND_EXEC", "prep", "Preparing");
        r = ops_apt_update(c);
        if (r == 0)
                r = ops_apt_install(c, pkgs, 0, 0.5, 1.0);
        results[0] = r;
        return phase_action_end(c, r < 0 ? r : 0);
}

static int later_plan(struct phase_ctx *c)
{
        phase_plan(c, "PACKAGE_INSTALL", "pkgb pkgc", "two packages");
        phase_plan(c, "PACKAGE_INSTALL", "idepkg", "a package of a repository added first");
        phase_plan(c, "FILE_CREATE", "/etc/notapackage", "not a package");
        return 0;
}

static int later_run(struct phase_ctx *c)
{
        const char *const pkgs[] = { "pkgb", "pkgc", NULL };
        int r;

        phase_action_begin(c, "COMMAND_EXEC", "later", "Installing later");
        r = ops_apt_install(c, pkgs, 0, 0.0, 1.0);
        results[1] = r;
        return phase_action_end(c, r < 0 ? r : 0);
}

static bool prep_done, later_done;
static int prep_verify(struct phase_ctx *c) { (void)c; return prep_done || results[0] == 0 ? (prep_done = true) : 0; }
static int later_verify(struct phase_ctx *c) { (void)c; return later_done || results[1] == 0 ? (later_done = true) : 0; }

static const struct phase prep_phase = { .id = "prep", .title = "Prep", .weight = 50,
                                         .plan = prep_plan, .verify = prep_verify,
                                         .run = prep_run };
static const struct phase later_phase = { .id = "later", .title = "Later", .weight = 50,
                                          .plan = later_plan, .verify = later_verify,
                                          .run = later_run };
static const struct phase *const table[] = { &prep_phase, &later_phase };

/* apt-get: update succeeds; --download-only refuses idepkg like apt, else
 * marks itself running, waits (up to 10 s) until basepkg is installed (so
 * the two overlap for certain), or with VPSP_HOLD until it is killed, then
 * writes the .debs into its Dir::Cache::Archives; -s plans what apt.state
 * lacks; install records, per package, whether the download ahead still
 * ran and whether its .deb was in apt's cache. */
static char *apt_stub(bool hold)
{
        return xasprintf(
                "d=\"$(dirname \"$0\")\"\n"
                "case \" $* \" in\n"
                "*' update '*) exit 0 ;;\n"
                "*' --download-only '*)\n"
                "  for a; do case $a in Dir::Cache::Archives=*) dir=${a#Dir::Cache::Archives=} ;; idepkg) echo 'E: Unable to locate package idepkg' >&2; exit 100 ;; esac; done\n"
                "  touch \"$d/ahead.running\"; echo 'dlstatus:1:40:Retrieving file 1 of 2' >&3\n"
                "  trap 'echo killed >> \"$d/seen\"; rm -f \"$d/ahead.running\"; exit 143' TERM\n"
                "  if [ %d = 1 ]; then i=0; while [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done; fi\n"
                "  i=0; while [ $i -lt 100 ] && ! grep -qx basepkg \"$d/apt.state\" 2>/dev/null; do sleep 0.1; i=$((i+1)); done\n"
                "  sleep 0.5\n"
                "  for p; do case $p in pkg*) echo \"$p\" > \"$dir${p}_1.0_amd64.deb\" ;; esac; done\n"
                "  echo 'dlstatus:2:100:Retrieving file 2 of 2' >&3; rm -f \"$d/ahead.running\" ;;\n"
                "*' -s '*)\n"
                "  for p; do case $p in basepkg|pkgb|pkgc) grep -qx \"$p\" \"$d/apt.state\" 2>/dev/null || echo \"Inst $p (1.0 Debian:13 [amd64])\" ;; esac; done ;;\n"
                "*' install '*)\n"
                "  i=0; while [ $i -lt 100 ] && ! [ -e \"$d/ahead.running\" ] && ! [ -e \"$d/seen\" ]; do sleep 0.1; i=$((i+1)); done\n"
                "  for p; do case $p in basepkg|pkgb|pkgc)\n"
                "    [ -e \"$d/ahead.running\" ] && echo \"$p ahead-running\" >> \"$d/seen\"\n"
                "    [ -e '%s/'\"${p}_1.0_amd64.deb\" ] && echo \"$p cached\" >> \"$d/seen\"\n"
                "    echo \"$p\" >> \"$d/apt.state\" ;; esac; done ;;\n"
                "esac\n",
                hold ? 1 : 0, archives);
}

/* dpkg-query: the packages of apt.state, installed. */
static const char dpkg_query_stub[] =
        "log=\"$(dirname \"$0\")/apt.state\"\n"
        "names=; skip=\n"
        "for a; do\n"
        "  if [ -n \"$skip\" ]; then skip=; continue; fi\n"
        "  case $a in -f) skip=1 ;; -*) ;; *) names=\"$names $a\" ;; esac\n"
        "done\n"
        "if [ -z \"$names\" ]; then\n"
        "  [ -e \"$log\" ] && while read -r p; do printf 'ii \\t%s\\tamd64\\n' \"$p\"; done < \"$log\"\n"
        "  exit 0\n"
        "fi\n"
        "for p in $names; do\n"
        "  if grep -qx \"$p\" \"$log\" 2>/dev/null; then printf 'ii \\t%s\\t\\n' \"$p\"; fi\n"
        "done\n";

static char *stub_file(const char *name)
{
        char *p = test_path(stubs, name), *s = test_read(p);
        free(p);
        return s ? s : xstrdup("");
}

static void fresh(bool hold)
{
        _cleanup_free_ char *body = apt_stub(hold);
        const char *const names[] = { "apt.state", "seen", "calls.log", "ahead.running", NULL };

        for (size_t i = 0; names[i]; i++) {
                _cleanup_free_ char *p = test_path(stubs, names[i]);
                unlink(p);
        }
        test_stub(stubs, "apt-get", body);
        test_stub(stubs, "dpkg-query", dpkg_query_stub);
        results[0] = results[1] = 1;
        prep_done = later_done = false;
}

static char *run_text(const struct etest_run *r)
{
        struct buf b;

        buf_init(&b, 1u << 20);
        for (size_t i = 0; i < r->n; i++)
                if (r->ev[i]->type == EV_LOG && r->ev[i]->log.text)
                        buf_printf(&b, "%s\n", r->ev[i]->log.text);
        return buf_steal(&b);
}

static int provision(etest_ui_fn ui, struct etest_run *r)
{
        struct engine_opts o;

        etest_opts(&o, T, MODE_PROVISION, table, 2);
        o.answers.on_failure = ON_FAILURE_KEEP;
        snprintf(o.apt_archives, sizeof(o.apt_archives), "%s", archives);
        etest_run(&o, ui, NULL, r);
        etest_opts_release(&o);
        return r->code;
}

/* ---- the tests ------------------------------------------------------------ */

static void argv_is_low_priority_download_only(void **state)
{
        char *const words[] = { "xfce4", "xrdp-", NULL };
        _cleanup_strv_ char **v = prefetch_argv("/var/cache/apt/archives/x", words);
        _cleanup_free_ char *line = strv_join(v, " ");
        (void)state;

        assert_string_equal(line, "nice -n 19 ionice -c 3 apt-get -q -y --download-only "
                                  "-o Dir::Cache::Archives=/var/cache/apt/archives/x/ "
                                  "-o APT::Status-Fd=3 install xfce4 xrdp-");
}

static void later_packages_downloaded_ahead(void **state)
{
        struct etest_run r;
        _cleanup_free_ char *calls = NULL, *seen = NULL, *text = NULL, *deb = NULL;
        const char *dl;
        struct stat st;
        (void)state;

        fresh(false);
        assert_int_equal(provision(NULL, &r), EXIT_OK);
        assert_int_equal(results[0], 0);
        assert_int_equal(results[1], 0);
        calls = stub_file("calls.log");
        seen = stub_file("seen");
        text = run_text(&r);

        /* the download: after the update, the later phase's words only,
         * into its own directory; idepkg refused by apt, left out */
        dl = strstr(calls, "--download-only");
        assert_non_null(dl);
        assert_true(strstr(calls, "apt-get update") < dl);
        assert_non_null(strstr(dl, " install pkgb pkgc idepkg\n"));
        assert_non_null(strstr(dl, " install pkgb pkgc\n"));
        for (const char *l = calls; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
                size_t n = strcspn(l, "\n");
                _cleanup_free_ char *line = xasprintf("%.*s", (int)n, l);
                /* dpkg's unsafe I/O: the installs' only, never the download's */
                if (strstr(line, "apt-get") && strstr(line, " install ") && !strstr(line, " -s "))
                        assert_true((strstr(line, "--force-unsafe-io") != NULL) ==
                                    (strstr(line, "--download-only") == NULL));
                if (!strstr(line, "--download-only"))
                        continue;
                assert_null(strstr(line, "basepkg"));
                assert_null(strstr(line, "notapackage"));
        }
        assert_non_null(strstr(calls, "-o DPkg::Options::=--force-unsafe-io -o APT::Status-Fd=3 install "));
        assert_non_null(strstr(calls, "Dir::Cache::Archives=" ));
        assert_non_null(strstr(calls, ahead));

        /* the current phase's install ran beside it; the later install
         * waited for it and found both .debs in apt's cache */
        assert_non_null(strstr(seen, "basepkg ahead-running\n"));
        assert_null(strstr(seen, "pkgb ahead-running"));
        assert_non_null(strstr(seen, "pkgb cached\n"));
        assert_non_null(strstr(seen, "pkgc cached\n"));
        assert_null(strstr(seen, "basepkg cached"));

        /* the log says what happened; the directory is gone, apt's cache keeps the files */
        assert_non_null(strstr(text, "downloading the later phases' packages ahead"));
        assert_non_null(strstr(text, "not downloaded ahead (not in the package lists yet; their phase adds the repository first): idepkg"));
        assert_non_null(strstr(text, "2 packages downloaded ahead put into apt's cache"));
        assert_non_null(strstr(text, "removed the download-ahead directory"));
        assert_int_equal(stat(ahead, &st), -1);
        assert_int_equal(errno, ENOENT);
        deb = xasprintf("%s/pkgb_1.0_amd64.deb", archives);
        assert_int_equal(stat(deb, &st), 0);
        etest_run_release(&r);
        unlink(deb);
        free(deb);
        deb = xasprintf("%s/pkgc_1.0_amd64.deb", archives);
        unlink(deb);
}

/* cancel as soon as the later install says it waits for the download */
static void cancel_on_wait(struct engine *e, const struct event *ev, void *userdata)
{
        static bool sent;
        (void)userdata;

        if (ev->type == EV_SESSION_START)
                sent = false;
        if (!sent && ev->type == EV_PROGRESS && ev->progress.detail &&
            strstr(ev->progress.detail, "waiting for the packages downloading ahead: 40 %")) {
                sent = true;
                engine_send(e, event_new(EV_CANCEL));
        }
}

static void cancel_while_waiting_stops_the_download(void **state)
{
        struct etest_run r;
        _cleanup_free_ char *seen = NULL, *text = NULL;
        struct stat st;
        (void)state;

        fresh(true);
        assert_int_equal(provision(cancel_on_wait, &r), EXIT_INTERRUPTED);
        assert_int_equal(results[0], 0);
        assert_int_equal(results[1], -ECANCELED);
        seen = stub_file("seen");
        text = run_text(&r);
        assert_non_null(strstr(seen, "killed\n"));       /* the child got SIGTERM */
        assert_null(strstr(seen, "pkgb"));               /* nothing installed */
        assert_non_null(strstr(text, "the download ahead was stopped (cancel)"));
        assert_non_null(strstr(text, "removed the download-ahead directory"));
        assert_int_equal(stat(ahead, &st), -1);
        etest_run_release(&r);
}

static int setup(void **state)
{
        (void)state;
        T = test_tmpdir();
        snprintf(stubs, sizeof(stubs), "%s/bin", T);
        snprintf(archives, sizeof(archives), "%s/archives", T);
        snprintf(ahead, sizeof(ahead), "%s/" PREFETCH_SUBDIR, archives);
        assert_int_equal(mkdir_p(stubs, 0755), 0);
        assert_int_equal(mkdir_p(archives, 0755), 0);
        test_path_prepend(stubs);
        etest_host(T);
        return 0;
}

static int teardown(void **state)
{
        (void)state;
        test_cleanup_all();
        return 0;
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(argv_is_low_priority_download_only),
                cmocka_unit_test(later_packages_downloaded_ahead),
                cmocka_unit_test(cancel_while_waiting_stops_the_download),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
