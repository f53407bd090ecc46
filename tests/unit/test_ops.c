/* test_ops.c — every system change a phase can make, made for real by a
 * test phase inside the real engine: files in a scratch directory, and
 * commands (apt-get, useradd, systemctl, …) as stubs on PATH that record
 * their argv and stdin. Each test checks the change, the journal entry it
 * left, and that --rollback undoes it. An install finishes an interrupted
 * dpkg first, and an install killed half-way resumes to the end state of an
 * uninterrupted one (with the hardening and terminal phases' packages).
 *
 * Phase code runs on the engine thread, where cmocka's asserts must not be
 * used: the phase records what the ops returned and the test thread
 * asserts afterwards. */
#include "testlib.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "apt.h"
#include "enginelib.h"
#include "hardening.h"
#include "journal.h"
#include "ops.h"
#include "terminal.h"
#include "secret.h"
#include "util.h"

static char *T;
static char stubs[PATH_MAX], files[PATH_MAX];

/* ---- the test phase ------------------------------------------------------ */

#define MAX_RESULTS 16
static int results[MAX_RESULTS];
static size_t n_results;
static char *query_out;
static int (*script)(struct phase_ctx *c);
static bool ran;
static unsigned lock_wait_s = 1800;   /* [run] apt_lock_wait of the next run */

/* The sync seam (ops_disk_sync): how many calls, and at each what the
 * stubs had been asked by then and whether the phase's checkpoint existed. */
#define MAX_SYNCS 8
static size_t n_syncs;
static size_t sync_calls_len[MAX_SYNCS];
static bool sync_checkpoint_seen[MAX_SYNCS];

static size_t calls_len(void);
static char *checkpoint_path(void);

static void sync_recorder(void)
{
        _cleanup_free_ char *cp = checkpoint_path();

        if (n_syncs < MAX_SYNCS) {
                sync_calls_len[n_syncs] = calls_len();
                sync_checkpoint_seen[n_syncs] = path_exists(cp);
        }
        n_syncs++;
}

static void record(int r)
{
        if (n_results < MAX_RESULTS)
                results[n_results++] = r;
}

static int ops_verify(struct phase_ctx *c)
{
        if (!ran)
                phase_verify_note(c, "not run yet");
        return ran;
}

static int ops_run_phase(struct phase_ctx *c)
{
        int r;

        phase_action_begin(c, "COMMAND_EXEC", "test", "Running the test script");
        r = script(c);
        phase_action_end(c, r < 0 ? r : 0);
        ran = r >= 0;
        return r < 0 ? r : 0;
}

static const struct phase test_phase = { .id = "ops", .title = "Ops", .weight = 100,
                                         .verify = ops_verify, .run = ops_run_phase };
static const struct phase *const table[] = { &test_phase };

static char *fpath(const char *name)
{
        return test_path(files, name);
}

/* Runs the test phase with the given script in mode (provision, or a
 * resume of the unfinished run); returns the exit code. */
static int run_mode(enum session_mode mode, int (*s)(struct phase_ctx *c), struct etest_run *r)
{
        struct engine_opts o;

        script = s;
        if (mode == MODE_PROVISION)
                ran = false;
        n_results = 0;
        etest_opts(&o, T, mode, table, 1);
        o.answers.on_failure = ON_FAILURE_KEEP;
        o.answers.apt_lock_wait = lock_wait_s;
        etest_run(&o, NULL, NULL, r);
        etest_opts_release(&o);
        return r->code;
}

static int provision(int (*s)(struct phase_ctx *c), struct etest_run *r)
{
        return run_mode(MODE_PROVISION, s, r);
}

static int resume(int (*s)(struct phase_ctx *c), struct etest_run *r)
{
        return run_mode(MODE_RESUME, s, r);
}

static char *run_text(const struct etest_run *r);

static int rollback(void)
{
        struct engine_opts o;
        struct etest_run r;
        int code;

        etest_opts(&o, T, MODE_ROLLBACK, table, 1);
        o.assume_yes = true;
        etest_run(&o, NULL, NULL, &r);
        code = r.code;
        if (code != EXIT_OK) {
                char *text = run_text(&r);
                print_message("rollback ended with %d:\n%s", code, text);
                free(text);
        }
        etest_run_release(&r);
        etest_opts_release(&o);
        return code;
}

/* All the text of the run's log events and its session-end message. */
static char *run_text(const struct etest_run *r)
{
        struct buf b;

        buf_init(&b, 1u << 24);
        for (size_t i = 0; i < r->n; i++) {
                const struct event *ev = r->ev[i];
                if (ev->type == EV_LOG && ev->log.text)
                        buf_printf(&b, "%s\n", ev->log.text);
                if (ev->type == EV_SESSION_END && ev->session_end.message)
                        buf_printf(&b, "END %s\n", ev->session_end.message);
        }
        return buf_steal(&b);
}

/* ---- files --------------------------------------------------------------- */

static int files_script(struct phase_ctx *c)
{
        _cleanup_free_ char *fresh = fpath("fresh.conf"), *old = fpath("old.conf"),
                           *dir = fpath("new.d"), *gone = fpath("gone.conf"),
                           *missing = fpath("missing.conf");

        record(ops_write_file(c, fresh, "fresh\n", 6, 0640, getuid(), getgid()));
        record(ops_write_file(c, fresh, "fresh\n", 6, 0640, getuid(), getgid()));
        record(ops_write_file(c, old, "replaced\n", 9, 0644, getuid(), getgid()));
        record(ops_mkdir(c, dir, 0750, getuid(), getgid()));
        record(ops_mkdir(c, dir, 0750, getuid(), getgid()));
        record(ops_remove_file(c, gone));
        record(ops_remove_file(c, missing));
        return 0;
}

static void files_changed_and_undone(void **state)
{
        _cleanup_free_ char *fresh = fpath("fresh.conf"), *old = fpath("old.conf"),
                           *dir = fpath("new.d"), *gone = fpath("gone.conf");
        struct etest_run r;
        struct stat st;
        char *s;
        (void)state;

        test_write(old, "original\n");
        test_write(gone, "to be removed\n");
        assert_int_equal(provision(files_script, &r), EXIT_OK);
        etest_run_release(&r);
        assert_int_equal(n_results, 7);
        assert_int_equal(results[0], 0);   /* created */
        assert_int_equal(results[1], 1);   /* same content: nothing to do */
        assert_int_equal(results[2], 0);   /* replaced */
        assert_int_equal(results[3], 0);
        assert_int_equal(results[4], 1);
        assert_int_equal(results[5], 0);
        assert_int_equal(results[6], 1);  /* missing: nothing to do */

        assert_int_equal(stat(fresh, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0640);
        s = test_read(old);
        assert_string_equal(s, "replaced\n");
        free(s);
        assert_int_equal(stat(dir, &st), 0);
        assert_true(S_ISDIR(st.st_mode));
        assert_false(path_exists(gone));

        assert_int_equal(rollback(), EXIT_OK);
        assert_false(path_exists(fresh));
        assert_false(path_exists(dir));
        s = test_read(old);
        assert_string_equal(s, "original\n");
        free(s);
        s = test_read(gone);
        assert_non_null(s);
        assert_string_equal(s, "to be removed\n");
        free(s);
        unlink(old);
        unlink(gone);
}

#define OTHER 65534   /* nobody: the owner of an adopted account's home */

/* files/home is another user's, and its .config a link that user made to
 * files/rootdir (root's, as /root or /etc would be); files/alias is root's
 * link to files/real in a directory only root writes (as usrmerge's /lib). */
static int links_script(struct phase_ctx *c)
{
        _cleanup_free_ char *conf = fpath("home/.config/app.conf"),
                           *sub = fpath("home/.config/sub"),
                           *keep = fpath("home/.config/keep.conf"),
                           *alias = fpath("alias/through-root-link.conf");

        record(ops_write_file(c, conf, "planted\n", 8, 0644, OTHER, OTHER));
        record(ops_mkdir(c, sub, 0755, OTHER, OTHER));
        record(ops_remove_file(c, keep));
        record(ops_write_file(c, alias, "ok\n", 3, 0644, 0, 0));
        return 0;
}

static void links_in_a_users_home(void **state)
{
        _cleanup_free_ char *home = fpath("home"), *link = fpath("home/.config"),
                           *rootdir = fpath("rootdir"), *keep = fpath("rootdir/keep.conf"),
                           *planted = fpath("rootdir/app.conf"), *sub = fpath("rootdir/sub"),
                           *real = fpath("real"), *alias = fpath("alias"),
                           *made = fpath("real/through-root-link.conf");
        struct etest_run r;
        char *s, *text;
        (void)state;

        if (geteuid() != 0) {
                skip();
                return;
        }
        assert_int_equal(mkdir(home, 0755), 0);
        assert_int_equal(chown(home, OTHER, OTHER), 0);
        assert_int_equal(mkdir(rootdir, 0700), 0);
        test_write(keep, "root's file\n");
        assert_int_equal(symlink(rootdir, link), 0);
        assert_int_equal(lchown(link, OTHER, OTHER), 0);
        assert_int_equal(mkdir(real, 0755), 0);
        assert_int_equal(symlink(real, alias), 0);

        assert_int_equal(provision(links_script, &r), EXIT_OK);
        text = run_text(&r);
        etest_run_release(&r);
        assert_int_equal(n_results, 4);
        assert_int_equal(results[0], -ELOOP);
        assert_int_equal(results[1], -ELOOP);
        assert_int_equal(results[2], -ELOOP);
        assert_int_equal(results[3], 0);
        /* nothing written, made or removed through the user's link */
        assert_false(path_exists(planted));
        assert_false(path_exists(sub));
        s = test_read(keep);
        assert_string_equal(s, "root's file\n");
        free(s);
        /* each refusal names the link and what to do */
        assert_non_null(strstr(text, "home/.config is a symbolic link that belongs to uid 65534"));
        assert_non_null(strstr(text, "move the link away and run again"));
        free(text);
        s = test_read(made);
        assert_string_equal(s, "ok\n");
        free(s);

        assert_int_equal(rollback(), EXIT_OK);
        assert_false(path_exists(made));
        s = test_read(keep);
        assert_string_equal(s, "root's file\n");
        free(s);
        unlink(keep);
        unlink(link);
        unlink(alias);
        rmdir(rootdir);
        rmdir(home);
        rmdir(real);
}

/* ---- commands ------------------------------------------------------------ */

static int commands_script(struct phase_ctx *c)
{
        const char *const q[] = { "tool", "query", NULL };
        const char *const three[] = { "tool", "three", NULL };
        struct ops_run_opts any = { .ok_statuses_any = true };

        record(ops_query(c, q, &query_out));
        record(ops_run(c, three, &any));
        return 0;
}

static int failing_script(struct phase_ctx *c)
{
        const char *const argv[] = { "tool", "fail", "--hard", NULL };
        return ops_run(c, argv, NULL);
}

static int flood_script(struct phase_ctx *c)
{
        const char *const argv[] = { "tool", "flood", NULL };
        return ops_run(c, argv, NULL);
}

/* A command's output reaches the UI in batches (one log event per read,
 * log.lines of them, '\n' between), in order, every line shown or counted
 * as dropped. */
static void output_batched(void **state)
{
        struct etest_run r;
        uint64_t shown = 0, dropped = 0, batches = 0, last = 0;
        (void)state;

        test_stub(stubs, "tool", "seq 1 3000\n");
        assert_int_equal(provision(flood_script, &r), EXIT_OK);
        for (size_t i = 0; i < r.n; i++) {
                const struct event *ev = r.ev[i];
                uint32_t n = 0;

                if (ev->type != EV_LOG || !ev->log.text || !isdigit((unsigned char)ev->log.text[0]))
                        continue;
                batches++;
                dropped += ev->log.dropped_before;
                for (const char *p = ev->log.text, *nl;; p = nl + 1) {
                        char num[16];
                        long v = 0;

                        nl = strchr(p, '\n');
                        snprintf(num, sizeof(num), "%.*s", (int)(nl ? (size_t)(nl - p) : strlen(p)), p);
                        assert_int_equal(parse_long(num, 1, 3000, &v), 0);
                        assert_true((uint64_t)v > last);
                        last = (uint64_t)v;
                        n++;
                        if (!nl)
                                break;
                }
                assert_int_equal(n, ev->log.lines);
                shown += n;
        }
        print_message("3000 lines: %llu shown in %llu events, %llu dropped\n", (unsigned long long)shown,
                      (unsigned long long)batches, (unsigned long long)dropped);
        assert_int_equal(last, 3000);
        assert_int_equal(shown + dropped, 3000);
        assert_true(batches * 4 <= shown);
        etest_run_release(&r);
        assert_int_equal(rollback(), EXIT_OK);
}

static void commands(void **state)
{
        struct etest_run r;
        char *calls, *text;
        (void)state;

        test_stub(stubs, "tool",
                  "case $1 in\n"
                  "query) echo 'answer line' ;;\n"
                  "three) echo 'some output'; exit 3 ;;\n"
                  "fail) echo 'tool: the disk is on fire' >&2; exit 2 ;;\n"
                  "esac\n");
        assert_int_equal(provision(commands_script, &r), EXIT_OK);
        assert_int_equal(results[0], 0);
        assert_string_equal(query_out, "answer line\n");
        free(query_out);
        query_out = NULL;
        assert_int_equal(results[1], 3);   /* returned, not a failure */
        text = run_text(&r);
        assert_non_null(strstr(text, "some output"));
        free(text);
        etest_run_release(&r);

        /* a failing command fails the phase with a message that names it */
        assert_int_equal(provision(failing_script, &r), EXIT_FAILED_KEPT);
        text = run_text(&r);
        assert_non_null(strstr(text, "tool fail --hard"));
        assert_non_null(strstr(text, "exited with status 2"));
        assert_non_null(strstr(text, "the disk is on fire"));
        free(text);
        etest_run_release(&r);
        assert_int_equal(rollback(), EXIT_OK);

        calls = test_stub_calls(stubs);
        assert_non_null(strstr(calls, "tool query\n"));
        assert_non_null(strstr(calls, "tool three\n"));
        free(calls);
}

/* ---- apt ----------------------------------------------------------------- */

static const char apt_stub[] =
        "log=\"$(dirname \"$0\")/apt.state\"\n"
        "case \" $* \" in\n"
        "*' -s '*)\n"
        "  for p in \"$@\"; do case $p in\n"
        "    nope) echo 'E: Unable to locate package nope' >&2; exit 100 ;;\n"
        "    xrdp|ufw|xorgxrdp) grep -qx \"$p\" \"$log\" 2>/dev/null || echo \"Inst $p (1.0 Debian:13 [amd64])\" ;;\n"
        "  esac; done ;;\n"
        "*' install '*)\n"
        "  echo 'dlstatus:1:50:Retrieving file 1 of 2' >&3\n"
        "  sleep 0.3; echo 'pmstatus:xrdp:40:Unpacking xrdp (amd64)' >&3\n"
        "  echo 'Setting up xrdp ...'; sleep 0.3\n"
        "  echo 'pmstatus:ufw:90:Configuring ufw' >&3\n"
        "  for p in \"$@\"; do case $p in xrdp|ufw|xorgxrdp) grep -qx \"$p\" \"$log\" 2>/dev/null || echo \"$p\" >> \"$log\" ;; esac; done ;;\n"
        "*' purge '*)\n"
        "  for p in \"$@\"; do case $p in xrdp|ufw|xorgxrdp) sed -i \"/^$p\\$/d\" \"$log\" ;; esac; done ;;\n"
        "esac\n";

/* dpkg-query -W [-f FORMAT | -f=FORMAT] [NAME...]: the state file's
 * packages, installed; without names (apt_installed()) every one of them
 * with its architecture, with names (rollback) those of them it knows. */
static const char dpkg_query_stub[] =
        "log=\"$(dirname \"$0\")/apt.state\"\n"
        "names=; skip=; recs=\n"
        "for a; do\n"
        "  if [ -n \"$skip\" ]; then skip=; continue; fi\n"
        "  case $a in -f) skip=1 ;; *Recommends*) recs=1 ;; -*) ;; *) names=\"$names $a\" ;; esac\n"
        "done\n"
        "if [ -n \"$recs\" ]; then\n"
        "  for p in $names; do\n"
        "    if grep -qx \"$p\" \"$log\" 2>/dev/null; then st='ii '; else st='un '; fi\n"
        "    printf '%s\\t%s\\t%s\\n' \"$st\" \"$p\" \"$(cat \"$log.recs-$p\" 2>/dev/null)\"\n"
        "  done\n"
        "  exit 0\n"
        "fi\n"
        "if [ -z \"$names\" ]; then\n"
        "  [ -e \"$log\" ] && while read -r p; do printf 'ii \\t%s\\tamd64\\n' \"$p\"; done < \"$log\"\n"
        "  exit 0\n"
        "fi\n"
        "for p in $names; do\n"
        "  if grep -qx \"$p\" \"$log\" 2>/dev/null; then printf 'ii \\t%s\\t\\n' \"$p\"; fi\n"
        "done\n";

static int apt_script(struct phase_ctx *c)
{
        const char *const pkgs[] = { "xrdp", "ufw", NULL };

        record(ops_apt_install(c, pkgs, OPS_APT_NO_RECOMMENDS, 0.2, 0.8));
        record(ops_apt_install(c, pkgs, OPS_APT_NO_RECOMMENDS, 0.8, 1.0));
        return 0;
}

static int apt_missing_script(struct phase_ctx *c)
{
        const char *const pkgs[] = { "xrdp", "nope", NULL };
        return ops_apt_install(c, pkgs, 0, 0, 1);
}

static void apt_install_progress_and_undo(void **state)
{
        struct etest_run r;
        char *calls, *text, *st;
        bool saw_unpack = false;
        double last = -1;
        (void)state;

        test_stub(stubs, "apt-get", apt_stub);
        test_stub(stubs, "dpkg-query", dpkg_query_stub);
        assert_int_equal(provision(apt_script, &r), EXIT_OK);
        assert_int_equal(results[0], 0);
        assert_int_equal(results[1], 1);   /* second time: already installed */

        /* progress from the status channel, inside [0.2, 0.8] of the phase */
        for (size_t i = 0; i < r.n; i++) {
                const struct event *ev = r.ev[i];
                if (ev->type != EV_PROGRESS)
                        continue;
                assert_true(ev->progress.phase >= last - 1e-9);
                last = ev->progress.phase;
                if (ev->progress.detail && strstr(ev->progress.detail, "Unpacking xrdp")) {
                        saw_unpack = true;
                        assert_true(ev->progress.phase > 0.2 && ev->progress.phase < 0.8);
                }
        }
        assert_true(saw_unpack);
        text = run_text(&r);
        assert_non_null(strstr(text, "Setting up xrdp"));
        free(text);
        etest_run_release(&r);

        calls = test_stub_calls(stubs);
        assert_non_null(strstr(calls, "-o APT::Status-Fd=3 install --no-install-recommends xrdp ufw\n"));
        free(calls);
        st = test_path(stubs, "apt.state");
        text = test_read(st);
        assert_string_equal(text, "xrdp\nufw\n");
        free(text);

        /* the undo purges exactly what was added */
        assert_int_equal(rollback(), EXIT_OK);
        calls = test_stub_calls(stubs);
        assert_non_null(strstr(calls, "purge ufw xrdp\n"));
        free(calls);
        text = test_read(st);
        assert_string_equal(text, "");
        free(text);
        free(st);

        /* an unknown package: refused before anything is installed */
        assert_int_equal(provision(apt_missing_script, &r), EXIT_FAILED_KEPT);
        text = run_text(&r);
        assert_non_null(strstr(text, "no package \"nope\""));
        free(text);
        etest_run_release(&r);
        assert_int_equal(rollback(), EXIT_OK);
}

/* How long the stub calls log is now: what a later part of a test adds
 * starts there. */
static size_t calls_len(void)
{
        char *calls = test_stub_calls(stubs);
        size_t n = strlen(calls);

        free(calls);
        return n;
}

/* apt-get as on a host whose lists were cleaned: "late" is unknown until
 * an apt-get update has run; then it installs. */
static const char apt_stale_stub[] =
        "dir=\"$(dirname \"$0\")\"; log=\"$dir/apt.state\"\n"
        "case \" $* \" in\n"
        "*' update '*) touch \"$dir/apt.lists\" ;;\n"
        "*' -s '*)\n"
        "  [ -e \"$dir/apt.lists\" ] || { echo 'E: Unable to locate package late' >&2; exit 100; }\n"
        "  grep -qx late \"$log\" 2>/dev/null || echo 'Inst late (1.0 Debian:13 [amd64])' ;;\n"
        "*' install '*) echo late >> \"$log\" ;;\n"
        "*' purge '*) sed -i '/^late$/d' \"$log\" ;;\n"
        "esac\n";

static int apt_late_script(struct phase_ctx *c)
{
        const char *const pkgs[] = { "late", NULL };
        return ops_apt_install(c, pkgs, 0, 0, 1);
}

static int apt_update_then_late_script(struct phase_ctx *c)
{
        int r = ops_apt_update(c);
        return r < 0 ? r : ops_apt_install(c, (const char *const[]){ "late", NULL }, 0, 0, 1);
}

static size_t count_of(const char *hay, const char *needle)
{
        size_t n = 0;
        for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
                n++;
        return n;
}

/* Lists a run has not refreshed (a re-run whose system-prep is done) may
 * lack a package: one apt-get update, then the install; never a second
 * update, and none when the run's own update already ran. */
static void apt_stale_lists_refreshed_once(void **state)
{
        struct etest_run r;
        char *calls, *text, *lists = test_path(stubs, "apt.state"), *flag = test_path(stubs, "apt.lists");
        size_t before;
        (void)state;

        unlink(flag);
        test_stub(stubs, "apt-get", apt_stale_stub);
        test_stub(stubs, "dpkg-query", dpkg_query_stub);
        before = calls_len();
        assert_int_equal(provision(apt_late_script, &r), EXIT_OK);
        text = run_text(&r);
        assert_non_null(strstr(text, "no package \"late\" in apt's package lists, which this run has not refreshed yet"));
        free(text);
        etest_run_release(&r);
        calls = test_stub_calls(stubs);
        assert_int_equal(count_of(calls + before, " update\n"), 1);
        /* planned, updated, planned again, installed: in that order */
        {
                const char *sim = strstr(calls + before, "apt-get -s");
                const char *upd = strstr(calls + before, " update\n");
                const char *inst = strstr(calls + before, "APT::Status-Fd=3 install late\n");
                assert_non_null(sim);
                assert_non_null(upd);
                assert_non_null(inst);
                assert_true(sim < upd && upd < inst);
                assert_non_null(strstr(upd, "apt-get -s"));
        }
        free(calls);
        text = test_read(lists);
        assert_string_equal(text, "late\n");
        free(text);
        assert_int_equal(rollback(), EXIT_OK);

        /* still unknown after the update: refused, and no second update */
        test_stub(stubs, "apt-get",
                  "case \" $* \" in *' -s '*) echo 'E: Unable to locate package late' >&2; exit 100 ;; esac\n");
        before = calls_len();
        assert_int_equal(provision(apt_late_script, &r), EXIT_FAILED_KEPT);
        text = run_text(&r);
        assert_non_null(strstr(text, "no package \"late\" in the configured apt sources"));
        free(text);
        etest_run_release(&r);
        calls = test_stub_calls(stubs);
        assert_int_equal(count_of(calls + before, " update\n"), 1);
        assert_int_equal(count_of(calls + before, "apt-get -s"), 2);  /* before and after the update */
        assert_null(strstr(calls + before, "Status-Fd=3 install late"));
        free(calls);
        assert_int_equal(rollback(), EXIT_OK);

        /* the run's own update came first: no second one */
        unlink(flag);
        test_stub(stubs, "apt-get", apt_stale_stub);
        before = calls_len();
        assert_int_equal(provision(apt_update_then_late_script, &r), EXIT_OK);
        etest_run_release(&r);
        calls = test_stub_calls(stubs);
        assert_int_equal(count_of(calls + before, " update\n"), 1);
        free(calls);
        assert_int_equal(rollback(), EXIT_OK);
        unlink(flag);
        free(flag);
        free(lists);
}

/* ---- answers remembered while nothing has changed ----------------------- */

/* "memoq": counts its calls in memoq.n, answers "answer N", exits 3. */
static const char memoq_stub[] =
        "d=\"$(dirname \"$0\")\"; n=$(( $(cat \"$d/memoq.n\" 2>/dev/null || echo 0) + 1 ))\n"
        "echo $n >\"$d/memoq.n\"; echo \"answer $n\"; exit 3\n";
static char *memo_out[5];
static int memo_rc[5];

static int memo_script(struct phase_ctx *c)
{
        const char *const q[] = { "memoq", "status", NULL };
        const char *const other[] = { "memoq", "other", NULL };
        const char *const change[] = { "changer", NULL };

        memo_rc[0] = ops_query_memo(c, q, &memo_out[0]);      /* asked */
        memo_rc[1] = ops_query_memo(c, q, &memo_out[1]);      /* the same answer, not asked */
        memo_rc[2] = ops_query_memo(c, other, &memo_out[2]);  /* another question */
        record(ops_run(c, change, NULL));                     /* a change */
        memo_rc[3] = ops_query_memo(c, q, &memo_out[3]);      /* asked again */
        memo_rc[4] = ops_query_memo(c, q, &memo_out[4]);      /* and every time after */
        return 0;
}

static int memo_journal_script(struct phase_ctx *c)
{
        const char *const q[] = { "memoq", "status", NULL };
        _cleanup_free_ char *f = fpath("memo.conf");

        memo_rc[0] = ops_query_memo(c, q, &memo_out[0]);
        record(ops_write_file(c, f, "x\n", 2, 0644, getuid(), getgid()));   /* journaled */
        memo_rc[1] = ops_query_memo(c, q, &memo_out[1]);
        return 0;
}

static void memo_release(void)
{
        for (size_t i = 0; i < ELEMENTSOF(memo_out); i++) {
                free(memo_out[i]);
                memo_out[i] = NULL;
                memo_rc[i] = -1;
        }
}

/* A re-run asks the same questions in several phases (ufw status, sshd
 * -T, apt-cache policy): until the run changes something, the first
 * answer serves; after any change, every question is asked again. */
static void query_memo_until_a_change(void **state)
{
        static const char *const want[] = { "answer 1\n", "answer 1\n", "answer 2\n", "answer 3\n",
                                            "answer 4\n" };
        _cleanup_free_ char *counter = test_path(stubs, "memoq.n");
        struct etest_run r;
        char *calls;
        size_t before;
        (void)state;

        test_stub(stubs, "memoq", memoq_stub);
        test_stub(stubs, "changer", "exit 0");
        unlink(counter);
        memo_release();
        before = calls_len();
        assert_int_equal(provision(memo_script, &r), EXIT_OK);
        etest_run_release(&r);
        for (size_t i = 0; i < ELEMENTSOF(want); i++) {
                assert_int_equal(memo_rc[i], 3);
                assert_non_null(memo_out[i]);
                assert_string_equal(memo_out[i], want[i]);
        }
        calls = test_stub_calls(stubs);
        assert_int_equal(count_of(calls + before, "memoq status\n"), 3);
        assert_int_equal(count_of(calls + before, "memoq other\n"), 1);
        free(calls);
        assert_int_equal(rollback(), EXIT_OK);

        /* a journaled change (a file written) ends it too; a new run
         * starts with nothing remembered */
        unlink(counter);
        memo_release();
        assert_int_equal(provision(memo_journal_script, &r), EXIT_OK);
        etest_run_release(&r);
        assert_string_equal(memo_out[0], "answer 1\n");
        assert_string_equal(memo_out[1], "answer 2\n");
        memo_release();
        assert_int_equal(rollback(), EXIT_OK);
        unlink(counter);
}

static int apt_cut_script(struct phase_ctx *c)
{
        const char *const pkgs[] = { "xrdp", "ufw", "lightdm-", NULL };
        return ops_apt_install(c, pkgs, 0, 0, 1);
}

/* A run killed inside an install (here: the stub installs one package and
 * dies) is resumed: apt would not add the Recommends of what is already
 * installed, so they are named, installed with the rest in one
 * transaction, and marked automatic, as after an uninterrupted run. */
static void apt_interrupted_install_completed(void **state)
{
        struct etest_run r;
        char *calls, *text, *st = test_path(stubs, "apt.state"), *recs, *cut;
        (void)state;

        recs = test_path(stubs, "apt.state.recs-xrdp");
        test_write(recs, "xorgxrdp (>= 1:0.9) | xorgxrdp-legacy, ufw, lightdm");
        test_stub(stubs, "dpkg-query", dpkg_query_stub);
        test_stub(stubs, "apt-mark", "exit 0");
        test_stub(stubs, "apt-get",
                  "log=\"$(dirname \"$0\")/apt.state\"\n"
                  "case \" $* \" in\n"
                  "*' -s '*) for p in xrdp ufw; do grep -qx $p \"$log\" 2>/dev/null ||"
                  " echo \"Inst $p (1.0 Debian:13 [amd64])\"; done ;;\n"
                  "*' install '*) echo xrdp >> \"$log\"; echo 'killed' >&2; exit 100 ;;\n"
                  "esac\n");
        assert_int_equal(provision(apt_cut_script, &r), EXIT_FAILED_KEPT);
        etest_run_release(&r);
        text = test_read(st);
        assert_string_equal(text, "xrdp\n");
        free(text);

        calls = test_stub_calls(stubs);
        cut = xasprintf("%zu", strlen(calls));
        free(calls);
        test_stub(stubs, "apt-get", apt_stub);
        assert_int_equal(resume(apt_cut_script, &r), EXIT_OK);
        text = run_text(&r);
        assert_non_null(strstr(text, "was cut off"));
        free(text);
        etest_run_release(&r);
        calls = test_stub_calls(stubs);
        {
                const char *after = calls + atoi(cut);
                /* xorgxrdp: unsatisfied, first alternative; ufw: in the
                 * install anyway; lightdm: excluded by "lightdm-" */
                const char *inst = strstr(after, "APT::Status-Fd=3 install xrdp ufw lightdm- xorgxrdp\n");
                const char *mark = strstr(after, "apt-mark auto xorgxrdp\n");
                assert_non_null(inst);
                assert_non_null(mark);
                assert_true(inst < mark);
                assert_null(strstr(after, "purge"));
        }
        free(calls);
        free(cut);
        text = test_read(st);
        assert_string_equal(text, "xrdp\nufw\nxorgxrdp\n");
        free(text);

        /* the rollback removes both installs' packages */
        assert_int_equal(rollback(), EXIT_OK);
        text = test_read(st);
        assert_string_equal(text, "");
        free(text);
        free(st);
        unlink(recs);
        free(recs);
}

static int update_script(struct phase_ctx *c)
{
        return ops_apt_update(c);
}

static void apt_update_retries(void **state)
{
        struct etest_run r;
        char *calls;
        char *counter = test_path(stubs, "update.count");
        char body[512];
        size_t before;
        (void)state;

        /* fails once (a mirror hiccup), then works */
        snprintf(body, sizeof(body),
                 "n=$(cat '%s' 2>/dev/null || echo 0); echo $((n+1)) > '%s'\n"
                 "[ \"$n\" -ge 1 ] || { echo 'E: Failed to fetch http://deb.debian.org' >&2; exit 100; }\n",
                 counter, counter);
        test_stub(stubs, "apt-get", body);
        before = calls_len();
        assert_int_equal(provision(update_script, &r), EXIT_OK);
        etest_run_release(&r);
        calls = test_stub_calls(stubs);
        assert_int_equal(count_of(calls + before, "DPkg::Lock::Timeout=900 update\n"), 2);
        free(calls);
        free(counter);
        assert_int_equal(rollback(), EXIT_OK);
}

/* ---- dpkg repair before every install, and resuming a killed install ------
 *
 * A fake dpkg database in stubs/pkgdb, one "SS NAME" line per package (SS:
 * dpkg's selection and state letters), read and written by stub dpkg,
 * dpkg-query, apt-get and apt-mark; dpkg's "interrupted" sign is a
 * digit-named file in the updates directory of the test root's dpkg, the
 * one the engine (and so ops) looks at. */

static char dpkg_dir[PATH_MAX], dpkg_updates[PATH_MAX];
static const char *const *install_words;

static void pkgdb_stubs(void)
{
        char body[4096];

        snprintf(body, sizeof(body),
                 "db=\"$(dirname \"$0\")/pkgdb\"\n"
                 "case \"$*\" in\n"
                 "--print-architecture) echo amd64 ;;\n"
                 "*--configure*) sed -i 's/^iU /ii /' \"$db\"; rm -f '%s'/[0-9]* ;;\n"
                 "esac\n",
                 dpkg_updates);
        test_stub(stubs, "dpkg", body);
        test_stub(stubs, "dpkg-query",
                  "db=\"$(dirname \"$0\")/pkgdb\"; names=; recs=\n"
                  "for a; do case $a in -f*) case $a in *Recommends*) recs=1 ;; esac ;;"
                  " -*) ;; *) names=\"$names $a\" ;; esac; done\n"
                  "touch \"$db\"\n"
                  "if [ -n \"$names\" ]; then\n"
                  "  for p in $names; do grep \" $p\\$\" \"$db\"; done\n"
                  "else cat \"$db\"; fi | while read -r s p; do\n"
                  "  if [ -n \"$recs\" ]; then printf '%s \\t%s\\t\\n' \"$s\" \"$p\";"
                  " else printf '%s \\t%s\\tamd64\\t\\n' \"$s\" \"$p\"; fi\n"
                  "done\n");
        snprintf(body, sizeof(body),
                 "db=\"$(dirname \"$0\")/pkgdb\"; kill=\"$(dirname \"$0\")/kill-next-install\"\n"
                 "touch \"$db\"; words=; mode=\n"
                 "for a; do case $a in -s) mode=sim ;; install) [ -z \"$mode\" ] && mode=install ;;"
                 " purge) mode=purge ;; -*|*=*) ;; *) words=\"$words $a\" ;; esac; done\n"
                 "set_st() { sed -i \"/ $1\\$/d\" \"$db\"; if [ -n \"$2\" ]; then echo \"$2 $1\" >> \"$db\"; fi; }\n"
                 "case $mode in\n"
                 "sim) for p in $words; do case \"$(grep \" $p\\$\" \"$db\")\" in\n"
                 "    ii*) ;; iU*) echo \"Conf $p (1.0 Debian:13 [amd64])\" ;;\n"
                 "    *) echo \"Inst $p (1.0 Debian:13 [amd64])\" ;; esac; done ;;\n"
                 "install)\n"
                 "  for f in '%s'/[0-9]*; do [ -e \"$f\" ] || continue\n"
                 "    echo \"E: dpkg was interrupted, you must manually run 'dpkg --configure -a'"
                 " to correct the problem.\" >&2; exit 100; done\n"
                 "  if [ -e \"$kill\" ]; then\n"
                 "    rm -f \"$kill\"; set -- $words\n"
                 "    set_st \"$1\" iU; touch '%s/0001'\n"
                 "    echo 'dpkg: unpacking, then killed' >&2; exit 137\n"
                 "  fi\n"
                 "  for p in $words; do set_st \"$p\" ii; done ;;\n"
                 "purge) for p in $words; do set_st \"$p\" ''; done ;;\n"
                 "esac\n",
                 dpkg_updates, dpkg_updates);
        test_stub(stubs, "apt-get", body);
        test_stub(stubs, "apt-mark", "exit 0");
}

static char *pkgdb_read(void)
{
        _cleanup_free_ char *p = test_path(stubs, "pkgdb");
        char *s = test_read(p);
        return s ? s : xstrdup("");
}

static void pkgdb_write(const char *text)
{
        _cleanup_free_ char *p = test_path(stubs, "pkgdb");
        test_write(p, text);
}

/* The lines of the fake database, sorted: the end state to compare. */
static char *pkgdb_sorted(void)
{
        _cleanup_free_ char *text = pkgdb_read();
        _cleanup_strv_ char **lines = NULL;
        char *save = NULL;

        for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
                strv_push(&lines, l);
        if (!lines)
                return xstrdup("");
        strv_sort(lines);
        return strv_join(lines, "\n");
}

/* The journal most recently written under the test root. Caller frees. */
static struct journal *last_journal(void)
{
        _cleanup_free_ char *dir = test_path(T, "state");
        _cleanup_free_ char *best = NULL;
        struct timespec best_t = { 0 };
        struct journal *j = NULL;
        struct dirent *de;
        char err[256];
        DIR *d = opendir(dir);

        assert_non_null(d);
        while ((de = readdir(d))) {
                _cleanup_free_ char *p = NULL;
                struct stat st;

                if (!startswith(de->d_name, "journal-"))
                        continue;
                p = test_path(dir, de->d_name);
                if (stat(p, &st) == 0 &&
                    (st.st_mtim.tv_sec > best_t.tv_sec ||
                     (st.st_mtim.tv_sec == best_t.tv_sec && st.st_mtim.tv_nsec > best_t.tv_nsec))) {
                        best_t = st.st_mtim;
                        free(best);
                        best = TAKE_PTR(p);
                }
        }
        closedir(d);
        assert_non_null(best);
        assert_int_equal(journal_open(best, &j, err, sizeof(err)), 0);
        return j;
}

/* Index of the first entry of type with target, from index from; -1 when none. */
static int journal_find(const struct journal *j, size_t from, const char *type, const char *target)
{
        for (size_t i = from; i < journal_count(j); i++) {
                const struct journal_entry *e = journal_entry_at(j, i);
                if (e->type && strcmp(e->type, type) == 0 && e->target &&
                    strcmp(e->target, target) == 0)
                        return (int)i;
        }
        return -1;
}

static int install_script(struct phase_ctx *c)
{
        record(ops_apt_install(c, install_words, OPS_APT_NO_RECOMMENDS, 0, 1));
        return results[n_results - 1] < 0 ? results[n_results - 1] : 0;
}

static const char repair_call[] = "dpkg --force-confdef --force-confold --configure -a\n";

static int stopped_script(struct phase_ctx *c)
{
        return phase_fail(c, -EIO, "stopped before the install");
}

/* The run stopped, and dpkg was left interrupted meanwhile (a pending
 * journal entry, a package left unpacked; preflight lets only --resume
 * start so): the resumed run's install finishes dpkg's work first,
 * journaled, and an install after that does not repeat it. */
static void install_repairs_interrupted_dpkg(void **state)
{
        _cleanup_free_ char *entry = NULL, *scratch = NULL, *calls = NULL, *text = NULL, *db = NULL;
        struct etest_run r;
        struct journal *j;
        const char *repair, *inst;
        size_t before;
        int ir, ii;
        (void)state;

        pkgdb_stubs();
        pkgdb_write("");
        ran = false;
        assert_int_equal(provision(stopped_script, &r), EXIT_FAILED_KEPT);
        etest_run_release(&r);
        pkgdb_write("iU libleft\n");
        entry = test_path(dpkg_updates, "0001");
        test_write(entry, "Package: libleft\nStatus: install ok unpacked\n");
        install_words = terminal_packages;
        before = calls_len();
        assert_int_equal(resume(install_script, &r), EXIT_OK);
        assert_int_equal(results[0], 0);
        text = run_text(&r);
        assert_non_null(strstr(text, "dpkg was interrupted (1 pending update"));
        etest_run_release(&r);

        /* the repair ran before apt's simulation and install, and finished dpkg's work */
        calls = test_stub_calls(stubs);
        repair = strstr(calls + before, repair_call);
        inst = strstr(calls + before, "APT::Status-Fd=3 install --no-install-recommends xfce4-terminal\n");
        assert_non_null(repair);
        assert_non_null(inst);
        assert_true(repair < strstr(calls + before, "apt-get -s"));
        assert_true(repair < inst);
        assert_false(path_exists(entry));
        db = pkgdb_sorted();
        assert_string_equal(db, "ii libleft\nii xfce4-terminal");

        /* journaled first, with nothing to undo */
        j = last_journal();
        ir = journal_find(j, 0, "COMMAND_EXEC", "dpkg --configure -a");
        ii = journal_find(j, 0, "PACKAGE_INSTALL", "xfce4-terminal");
        assert_true(ir >= 0 && ii > ir);
        assert_int_equal(journal_entry_at(j, (size_t)ir)->undo.kind, UNDO_NOTHING);
        journal_free(j);

        /* nothing pending (dpkg's scratch file does not count): no repair */
        scratch = test_path(dpkg_updates, "tmp.i");
        test_write(scratch, "");
        ran = false;
        assert_int_equal(provision(install_script, &r), EXIT_OK);
        etest_run_release(&r);
        assert_int_equal(results[0], 1);
        free(calls);
        calls = test_stub_calls(stubs);
        assert_int_equal(count_of(calls + before, repair_call), 1);
        unlink(scratch);

        /* the rollback removes what the install added, not what was there */
        assert_int_equal(rollback(), EXIT_OK);
        free(db);
        db = pkgdb_sorted();
        assert_string_equal(db, "ii libleft");
        pkgdb_write("");
}

/* A package the install names is unpacked but not configured, and dpkg's
 * journal is empty (the run was killed between apt's dpkg calls): apt
 * would see nothing to install, so ops finishes it with dpkg first. */
static void install_finishes_half_installed(void **state)
{
        _cleanup_free_ char *calls = NULL, *text = NULL, *db = NULL;
        struct etest_run r;
        (void)state;

        pkgdb_stubs();
        pkgdb_write("iU xfce4-terminal\n");
        install_words = terminal_packages;
        ran = false;
        assert_int_equal(provision(install_script, &r), EXIT_OK);
        assert_int_equal(results[0], 1);   /* then nothing left to install */
        text = run_text(&r);
        assert_non_null(strstr(text, "dpkg has not finished installing xfce4-terminal"));
        etest_run_release(&r);
        calls = test_stub_calls(stubs);
        assert_non_null(strstr(calls, repair_call));
        db = pkgdb_sorted();
        assert_string_equal(db, "ii xfce4-terminal");
        assert_int_equal(rollback(), EXIT_OK);
        pkgdb_write("");
}

/* The run is killed inside the install of a package-installing phase
 * (dpkg's journal left pending, the first package unpacked); --resume
 * repairs dpkg, finishes the install, and ends where an uninterrupted run
 * ends; the rollback then removes everything. For the hardening phase's
 * installs and the terminal phase's, with their own package lists. */
static void resume_after_killed_install(void **state)
{
        const char *const *lists[] = { hardening_fail2ban_packages, hardening_firewall_packages,
                                       terminal_packages };
        (void)state;

        pkgdb_stubs();
        for (size_t k = 0; k < ELEMENTSOF(lists); k++) {
                _cleanup_free_ char *want = NULL, *got = NULL, *killkey = NULL, *calls = NULL;
                _cleanup_free_ char *target = strv_join((char *const *)lists[k], " ");
                struct etest_run r;
                struct journal *j;
                size_t cut;
                int first, ir, second;

                install_words = lists[k];
                /* uninterrupted */
                pkgdb_write("");
                ran = false;
                assert_int_equal(provision(install_script, &r), EXIT_OK);
                etest_run_release(&r);
                want = pkgdb_sorted();
                assert_int_equal(rollback(), EXIT_OK);
                got = pkgdb_sorted();
                assert_string_equal(got, "");
                free(got);

                /* killed in the middle of the install */
                killkey = test_path(stubs, "kill-next-install");
                test_write(killkey, "");
                ran = false;
                assert_int_equal(provision(install_script, &r), EXIT_FAILED_KEPT);
                etest_run_release(&r);
                assert_int_equal(apt_dpkg_pending(dpkg_dir), 1);
                calls = test_stub_calls(stubs);
                cut = strlen(calls);
                free(calls);

                /* resumed: repair, install the rest, same end state */
                assert_int_equal(resume(install_script, &r), EXIT_OK);
                etest_run_release(&r);
                got = pkgdb_sorted();
                assert_string_equal(got, want);
                assert_int_equal(apt_dpkg_pending(dpkg_dir), 0);
                calls = test_stub_calls(stubs);
                {
                        const char *after = calls + cut, *repair = strstr(after, repair_call);
                        const char *sim = strstr(after, "apt-get -s");

                        assert_non_null(repair);
                        assert_non_null(sim);
                        assert_true(repair < sim);
                }
                j = last_journal();
                first = journal_find(j, 0, "PACKAGE_INSTALL", target);
                ir = journal_find(j, 0, "COMMAND_EXEC", "dpkg --configure -a");
                assert_true(first >= 0 && ir > first);
                if (strv_length((char *const *)lists[k]) > 1) {
                        /* what was not unpacked yet is installed (and journaled) after the repair */
                        second = journal_find(j, (size_t)first + 1, "PACKAGE_INSTALL", target);
                        assert_true(second > ir);
                }
                journal_free(j);

                /* the rollback removes both installs' packages */
                assert_int_equal(rollback(), EXIT_OK);
                free(got);
                got = pkgdb_sorted();
                assert_string_equal(got, "");
        }
}

/* ---- unsafe I/O: the sync after every transaction ------------------------ */

static char *checkpoint_path(void)
{
        return test_path(T, "state/checkpoints/ops.json");
}

static int update_and_install_script(struct phase_ctx *c)
{
        const char *const pkgs[] = { "xrdp", NULL };
        int r = ops_apt_update(c);

        return r < 0 ? r : ops_apt_install(c, pkgs, 0, 0, 1);
}

/* The install (and only it: not apt-get update, not the simulation) runs
 * dpkg with unsafe I/O; one sync follows it, before the checkpoint, then
 * the journal's sync record; a failed install is synced too. */
static void install_unsafe_io_then_sync(void **state)
{
        _cleanup_free_ char *cp = checkpoint_path(), *calls = NULL;
        struct etest_run r;
        struct journal *j;
        const char *p;
        size_t before;
        int ii, is;
        (void)state;

        test_stub(stubs, "apt-get", apt_stub);
        test_stub(stubs, "dpkg-query", dpkg_query_stub);
        unlink(cp);
        before = calls_len();
        n_syncs = 0;
        assert_int_equal(provision(update_and_install_script, &r), EXIT_OK);
        etest_run_release(&r);
        assert_int_equal(n_syncs, 1);
        assert_true(path_exists(cp));
        /* the sync came after apt-get install, and before the checkpoint */
        assert_false(sync_checkpoint_seen[0]);
        calls = test_stub_calls(stubs);
        p = strstr(calls + before, " install xrdp\n");
        assert_non_null(p);
        assert_true((size_t)(p - calls) < sync_calls_len[0]);
        /* the option: on the install only */
        for (const char *l = calls + before; *l;) {
                const char *nl = strchr(l, '\n');
                _cleanup_free_ char *line = xstrndup(l, nl ? (size_t)(nl - l) : strlen(l));
                bool unsafe = strstr(line, "-o DPkg::Options::=--force-unsafe-io ") != NULL;

                if (strstr(line, " update") || strstr(line, "apt-get -s"))
                        assert_false(unsafe);
                if (strstr(line, "APT::Status-Fd=3 install xrdp"))
                        assert_true(unsafe);
                l = nl ? nl + 1 : l + strlen(l);
        }
        assert_int_equal(count_of(calls + before, "--force-unsafe-io"), 1);
        j = last_journal();
        ii = journal_find(j, 0, "PACKAGE_INSTALL", "xrdp");
        is = journal_find(j, 0, "COMMAND_EXEC", OPS_SYNC_TARGET);
        assert_true(ii >= 0 && is == ii + 1);
        journal_free(j);
        assert_int_equal(rollback(), EXIT_OK);

        /* apt fails half-way: synced all the same, no checkpoint */
        test_stub(stubs, "apt-get",
                  "case \" $* \" in *' -s '*) echo 'Inst xrdp (1.0 Debian:13 [amd64])' ;;"
                  " *' install '*) echo 'E: Sub-process /usr/bin/dpkg returned an error code (1)';"
                  " exit 100 ;; esac\n");
        unlink(cp);
        n_syncs = 0;
        assert_int_equal(provision(apt_late_script, &r), EXIT_FAILED_KEPT);
        etest_run_release(&r);
        assert_int_equal(n_syncs, 1);
        assert_false(path_exists(cp));
        j = last_journal();
        ii = journal_find(j, 0, "PACKAGE_INSTALL", "late");
        is = journal_find(j, 0, "COMMAND_EXEC", OPS_SYNC_TARGET);
        assert_true(ii >= 0 && is == ii + 1);
        journal_free(j);
        assert_int_equal(rollback(), EXIT_OK);
}

/* ---- resuming after a transaction cut off before its sync ----------------
 *
 * The first run journals an install of xfce4-terminal and stops dead (no
 * sync record: what a kill or a power cut leaves). dpkg's database (the
 * pkgdb stubs) holds the named packages, one of them unpacked only, and a
 * half-installed package no record names; stub dpkg --verify prints
 * stubs/verify.d/PKG for each package it is given, and stub dpkg-query -S
 * the owners in stubs/owners. */

static void verify_stubs(int verify_status)
{
        char body[2048];

        snprintf(body, sizeof(body),
                 "dir=\"$(dirname \"$0\")\"; db=\"$dir/pkgdb\"\n"
                 "case \"$*\" in\n"
                 "--print-architecture) echo amd64 ;;\n"
                 "*--configure*) sed -i 's/^iU /ii /' \"$db\"; rm -f '%s'/[0-9]* ;;\n"
                 "--verify*) shift 3; for p; do cat \"$dir/verify.d/$p\" 2>/dev/null; done;"
                 " exit %d ;;\n"
                 "esac\n",
                 dpkg_updates, verify_status);
        test_stub(stubs, "dpkg", body);
}

static void verify_fixture(bool damaged)
{
        _cleanup_free_ char *d = test_path(stubs, "verify.d"), *owners = test_path(stubs, "owners");
        static const char *const outputs[][2] = {
                { "xfce4-terminal", "??5??????   /usr/bin/xfce4-terminal\n" },
                { "libvte-2.91-0", "??5?????? c /etc/vte.conf\n" },
                { "libhalf", "missing     /usr/share/doc/libhalf/copyright\n"
                             "??5??????   /usr/lib/libhalf.so.1\n" },
                { "bystander", "??5??????   /usr/bin/bystander\n" },
        };

        test_rmtree(d);
        assert_int_equal(mkdir_p(d, 0755), 0);
        for (size_t i = 0; damaged && i < ELEMENTSOF(outputs); i++) {
                _cleanup_free_ char *f = test_path(d, outputs[i][0]);
                test_write(f, outputs[i][1]);
        }
        test_write(owners, "xfce4-terminal: /usr/bin/xfce4-terminal\n"
                           "libvte-2.91-0: /etc/vte.conf\n"
                           "libhalf:amd64: /usr/lib/libhalf.so.1\n"
                           "bystander: /usr/bin/bystander\n");
        /* dpkg-query: -S from the owners file, the rest as pkgdb_stubs() */
        test_stub(stubs, "dpkg-query",
                  "dir=\"$(dirname \"$0\")\"; db=\"$dir/pkgdb\"; names=\n"
                  "if [ \"$1\" = -S ]; then shift; for p; do grep \": $p\\$\" \"$dir/owners\"; done;"
                  " exit 0; fi\n"
                  "for a; do case $a in -*) ;; *) names=\"$names $a\" ;; esac; done\n"
                  "touch \"$db\"\n"
                  "if [ -n \"$names\" ]; then\n"
                  "  for p in $names; do grep \" $p\\$\" \"$db\"; done\n"
                  "else cat \"$db\"; fi | while read -r s p; do\n"
                  "  printf '%s \\t%s\\tamd64\\t\\n' \"$s\" \"$p\"\n"
                  "done\n");
}

/* Journals an install and stops as if the program died inside it. */
static int cut_script(struct phase_ctx *c)
{
        char *list[] = { (char *)"xfce4-terminal", (char *)"libvte-2.91-0", NULL };
        struct undo u = { .kind = UNDO_PURGE_PACKAGES, .list = list };

        if (phase_journal(c, "PACKAGE_INSTALL", "xfce4-terminal", &u) < 0)
                return -EIO;
        return phase_fail(c, -EIO, "stopped dead inside the install");
}

/* The resumed phase: by its start the engine has settled the cut
 * transaction, so a second look finds nothing. */
static int settled_script(struct phase_ctx *c)
{
        record(ops_apt_settle(c));
        return 0;
}

/* Runs the cut-off install and its resume; returns the stub calls the
 * resume made (caller frees) and its log text in *ret_text. */
static char *cut_then_resume(int verify_status, bool damaged, char **ret_text)
{
        struct etest_run r;
        _cleanup_free_ char *calls = NULL;
        size_t before;

        pkgdb_stubs();
        verify_stubs(verify_status);
        verify_fixture(damaged);
        pkgdb_write("");
        ran = false;
        assert_int_equal(provision(cut_script, &r), EXIT_FAILED_KEPT);
        etest_run_release(&r);
        pkgdb_write("ii xfce4-terminal\niU libvte-2.91-0\niU libhalf\nii bystander\n");
        before = calls_len();
        n_syncs = 0;
        assert_int_equal(resume(settled_script, &r), EXIT_OK);
        assert_int_equal(n_results, 1);
        assert_int_equal(results[0], 1);
        *ret_text = run_text(&r);
        etest_run_release(&r);
        calls = test_stub_calls(stubs);
        return xstrdup(calls + before);
}

/* The last records of the journal: the reinstall (when want_list), then
 * the sync record, which settles the session. */
static void assert_settled(const char *want_list)
{
        struct journal *j = last_journal();
        size_t n = journal_count(j);
        const struct journal_entry *last = journal_entry_at(j, n - 1);

        assert_string_equal(last->target, OPS_SYNC_TARGET);
        if (want_list) {
                const struct journal_entry *re = journal_entry_at(j, n - 2);
                _cleanup_free_ char *l = strv_join(re->undo.list, " ");

                assert_string_equal(re->target, OPS_REINSTALL_TARGET);
                assert_int_equal(re->undo.kind, UNDO_NOTHING);
                assert_string_equal(l, want_list);
        } else
                assert_int_equal(journal_find(j, 0, "COMMAND_EXEC", OPS_REINSTALL_TARGET), -1);
        journal_free(j);
}

/* Damaged files: dpkg --configure -a first, dpkg --verify on the cut
 * install's packages and the half-installed one, and a reinstall (unsafe
 * I/O, synced) of exactly those with a changed file that is not a
 * configuration file. */
static void resume_verifies_and_reinstalls(void **state)
{
        _cleanup_free_ char *calls = NULL, *text = NULL;
        const char *repair, *verify, *reinst;
        (void)state;

        calls = cut_then_resume(1, true, &text);
        repair = strstr(calls, repair_call);
        verify = strstr(calls, "dpkg --verify --verify-format rpm libhalf libvte-2.91-0 xfce4-terminal\n");
        reinst = strstr(calls, "-o DPkg::Options::=--force-unsafe-io -o APT::Status-Fd=3 "
                               "install --reinstall libhalf xfce4-terminal\n");
        if (!repair || !verify || !reinst)
                fail_msg("calls of the resume:\n%s", calls);
        assert_true(repair < verify && verify < reinst);
        assert_int_equal(count_of(calls, "dpkg --verify "), 1);
        assert_int_equal(count_of(calls, "--reinstall"), 1);
        assert_null(strstr(calls, "bystander"));
        assert_int_equal(n_syncs, 2);   /* after the repair, after the reinstall */
        assert_non_null(strstr(text, "was cut off before its files were synced"));
        assert_non_null(strstr(text, "reinstalling 2 packages whose files dpkg --verify found changed"));
        assert_non_null(strstr(text, "libhalf, xfce4-terminal"));
        assert_non_null(strstr(text, "configuration files differ from the packages'"));
        assert_non_null(strstr(text, "/etc/vte.conf"));
        assert_settled("libhalf xfce4-terminal");
        assert_int_equal(rollback(), EXIT_OK);
        pkgdb_write("");
}

/* Clean files: verified, nothing reinstalled, settled all the same. */
static void resume_verifies_clean(void **state)
{
        _cleanup_free_ char *calls = NULL, *text = NULL;
        (void)state;

        calls = cut_then_resume(0, false, &text);
        assert_non_null(strstr(calls, "dpkg --verify --verify-format rpm libhalf libvte-2.91-0 xfce4-terminal\n"));
        assert_null(strstr(calls, "--reinstall"));
        assert_null(strstr(calls, "dpkg-query -S"));
        assert_non_null(strstr(text, "are intact"));
        assert_settled(NULL);
        assert_int_equal(rollback(), EXIT_OK);
        pkgdb_write("");
}

/* dpkg --verify unusable (exit 2): said so, and every checked package of
 * the cut install reinstalled. */
static void resume_verify_unusable(void **state)
{
        _cleanup_free_ char *calls = NULL, *text = NULL;
        (void)state;

        calls = cut_then_resume(2, false, &text);
        if (!strstr(calls, "install --reinstall libhalf libvte-2.91-0 xfce4-terminal\n"))
                fail_msg("calls of the resume:\n%s", calls);
        assert_non_null(strstr(text, "dpkg --verify cannot check the files (it ended with exit status 2)"));
        assert_settled("libhalf libvte-2.91-0 xfce4-terminal");
        assert_int_equal(rollback(), EXIT_OK);
        pkgdb_write("");
}

/* ---- accounts, password, units, alternatives ------------------------------ */

static struct secret *test_pw;

static int accounts_script(struct phase_ctx *c)
{
        record(ops_group_add(c, "devusers", true));
        record(ops_user_add(c, "devx", "Dev X", "/bin/bash"));
        record(ops_group_add_member(c, "devx", "devusers"));
        record(ops_group_add_member(c, "devx", "sudo"));
        record(ops_set_password(c, "devx", test_pw, false));
        record(ops_unit_enable(c, "xrdp.service", true));
        record(ops_set_alternative(c, "x-session-manager", "/usr/bin/xfce4-session"));
        return 0;
}

static void accounts_units_alternatives(void **state)
{
        struct etest_run r;
        char *calls, *in, *text, *line;
        char body[1024];
        _cleanup_free_ char *db = test_path(stubs, "db");
        (void)state;

        assert_int_equal(secret_generate_password(24, &test_pw), 0);
        assert_int_equal(mkdir_p(db, 0755), 0);
        /* a tiny fake account database: files under stubs/db */
        /* group lines list their members from db/gm-GROUP-USER files */
        snprintf(body, sizeof(body),
                 "cd '%s' || exit 1\n"
                 "[ -e \"$1-$2\" ] || exit 2\n"
                 "m=$(ls | sed -n \"s/^gm-$2-//p\" | paste -sd,)\n"
                 "echo \"$2:x:1001:$m\"", db);
        test_stub(stubs, "getent", body);
        {
                char *sudo_group = test_path(db, "group-sudo");
                test_write(sudo_group, "");
                free(sudo_group);
        }
        snprintf(body, sizeof(body), "touch '%s/group-'\"$2\"", db);
        test_stub(stubs, "groupadd", body);
        snprintf(body, sizeof(body),
                 "for a; do u=$a; done; touch '%s/passwd-'\"$u\" '%s/group-'\"$u\"", db, db);
        test_stub(stubs, "useradd", body);
        snprintf(body, sizeof(body), "cat '%s/member-'\"$2\" 2>/dev/null || echo \"$2\"", db);
        test_stub(stubs, "id", body);
        snprintf(body, sizeof(body),
                 "cd '%s' || exit 1\n"
                 "case $1 in --add) echo \"$3\" >> \"member-$2\"; touch \"gm-$3-$2\" ;;\n"
                 "--delete) sed -i \"/^$3\\$/d\" \"member-$2\"; rm -f \"gm-$3-$2\" ;; esac", db);
        test_stub(stubs, "gpasswd", body);
        snprintf(body, sizeof(body), "cat > '%s/chpasswd.in'", db);
        test_stub(stubs, "chpasswd", body);
        snprintf(body, sizeof(body),
                 "s='%s/unit-'\"$2\"\n"
                 "case $1 in\n"
                 "is-enabled) [ -e \"$s\" ] && { echo enabled; exit 0; }; echo disabled; exit 1 ;;\n"
                 "is-active) [ -e \"$s\" ] && { echo active; exit 0; }; echo inactive; exit 3 ;;\n"
                 "enable|disable) for a; do u=$a; done ;;\n"
                 "esac\n"
                 "case $1 in enable) touch '%s/unit-'\"$u\" ;; disable) rm -f '%s/unit-'\"$u\" ;; esac\n",
                 db, db, db);
        test_stub(stubs, "systemctl", body);
        snprintf(body, sizeof(body),
                 "case $1 in\n"
                 "--query) echo 'Name: x-session-manager'; echo 'Link: /usr/bin/x-session-manager';"
                 " echo \"Status: $(cat '%s/alt-status' 2>/dev/null || echo auto)\";"
                 " echo \"Value: $(cat '%s/alt-value' 2>/dev/null || echo /usr/bin/startxfce4)\";"
                 " echo; echo 'Alternative: /usr/bin/startxfce4'; echo 'Priority: 50';"
                 " echo; echo 'Alternative: /usr/bin/xfce4-session'; echo 'Priority: 40' ;;\n"
                 "--set) echo manual > '%s/alt-status'; echo \"$3\" > '%s/alt-value' ;;\n"
                 "--auto) rm -f '%s/alt-status' '%s/alt-value' ;;\n"
                 "esac\n", db, db, db, db, db, db);
        test_stub(stubs, "update-alternatives", body);
        test_stub(stubs, "userdel", "exit 0");
        test_stub(stubs, "groupdel", "exit 0");
        test_stub(stubs, "loginctl", "exit 0");
        test_stub(stubs, "pkill", "exit 1");

        assert_int_equal(provision(accounts_script, &r), EXIT_OK);
        text = run_text(&r);
        /* the password is in no log line and no message */
        assert_null(strstr(text, secret_str(test_pw)));
        free(text);
        etest_run_release(&r);
        for (size_t i = 0; i < 7; i++)
                assert_int_equal(results[i], 0);

        calls = test_stub_calls(stubs);
        assert_non_null(strstr(calls, "groupadd --system devusers\n"));
        assert_non_null(strstr(calls, "useradd --create-home --user-group --shell /bin/bash --comment Dev X devx\n"));
        assert_non_null(strstr(calls, "gpasswd --add devx devusers\n"));
        assert_non_null(strstr(calls, "gpasswd --add devx sudo\n"));
        assert_non_null(strstr(calls, "systemctl enable --now xrdp.service\n"));
        assert_non_null(strstr(calls, "update-alternatives --set x-session-manager /usr/bin/xfce4-session\n"));
        /* chpasswd got the password on stdin, never in argv */
        assert_null(strstr(calls, secret_str(test_pw)));
        line = strstr(calls, "chpasswd");   /* the stub logs "NAME ARGS" */
        assert_non_null(line);
        assert_memory_equal(line, "chpasswd \n", 10);
        free(calls);
        in = test_path(db, "chpasswd.in");
        text = test_read(in);
        assert_non_null(text);
        {
                char *want = xasprintf("devx:%s\n", secret_str(test_pw));
                assert_string_equal(text, want);
                free(want);
        }
        free(text);
        free(in);

        /* a second provision with the same wishes changes nothing */
        {
                char *before = test_stub_calls(stubs);
                size_t nb = strlen(before);
                ran = false;
                assert_int_equal(provision(accounts_script, &r), EXIT_OK);
                etest_run_release(&r);
                /* verify said "done" the first time it was asked this run? No:
                 * ran was reset, so the script ran again; each op said "1" */
                for (size_t i = 0; i < 4; i++)
                        assert_int_equal(results[i], 1);
                assert_int_equal(results[5], 1);
                assert_int_equal(results[6], 1);
                calls = test_stub_calls(stubs);
                assert_null(strstr(calls + nb, "groupadd"));
                assert_null(strstr(calls + nb, "useradd"));
                assert_null(strstr(calls + nb, "gpasswd --add"));
                assert_null(strstr(calls + nb, "systemctl enable"));
                assert_null(strstr(calls + nb, "update-alternatives --set"));
                free(calls);
                free(before);
        }

        /* rollback undoes in reverse order */
        assert_int_equal(rollback(), EXIT_OK);
        calls = test_stub_calls(stubs);
        {
                const char *alt = strstr(calls, "update-alternatives --auto x-session-manager\n");
                const char *dis = strstr(calls, "systemctl disable --now xrdp.service\n");
                const char *mem = strstr(calls, "gpasswd --delete devx sudo\n");
                const char *del = strstr(calls, "userdel --remove devx\n");
                const char *gd = strstr(calls, "groupdel devusers\n");
                assert_non_null(alt);
                assert_non_null(dis);
                assert_non_null(mem);
                assert_non_null(del);
                assert_non_null(gd);
                assert_true(alt < dis && dis < mem && mem < del && del < gd);
        }
        free(calls);
        secret_free(test_pw);
        test_pw = NULL;
}

/* ---- a unit taken off: sshd moved from ssh.socket to ssh.service ----------- */

static int socket_script(struct phase_ctx *c)
{
        record(ops_unit_disable(c, "ssh.socket"));        /* enabled and running */
        record(ops_unit_enable(c, "ssh.service", false));
        record(ops_unit_disable(c, "other.socket"));      /* running, not enabled */
        record(ops_unit_disable(c, "idle.socket"));       /* neither */
        return 0;
}

static void unit_disabled_and_undone(void **state)
{
        struct etest_run r;
        char body[1024];
        _cleanup_free_ char *db = test_path(stubs, "units");
        _cleanup_free_ char *calls = NULL;
        (void)state;

        assert_int_equal(mkdir_p(db, 0755), 0);
        /* db/en-UNIT: enabled; db/act-UNIT: running */
        snprintf(body, sizeof(body),
                 "cd '%s' || exit 1\n"
                 "for a; do u=$a; done\n"
                 "case $1 in\n"
                 "is-enabled) [ -e \"en-$u\" ] && { echo enabled; exit 0; }; echo disabled; exit 1 ;;\n"
                 "is-active) [ -e \"act-$u\" ] && { echo active; exit 0; }; echo inactive; exit 3 ;;\n"
                 "enable) touch \"en-$u\"; [ \"$2\" = --now ] && touch \"act-$u\" ;;\n"
                 "disable) rm -f \"en-$u\"; [ \"$2\" = --now ] && rm -f \"act-$u\" ;;\n"
                 "start) touch \"act-$u\" ;;\n"
                 "stop) rm -f \"act-$u\" ;;\n"
                 "esac\nexit 0\n", db);
        test_stub(stubs, "systemctl", body);
        {
                const char *const made[] = { "en-ssh.socket", "act-ssh.socket", "act-other.socket" };
                for (size_t i = 0; i < ELEMENTSOF(made); i++) {
                        char *f = test_path(db, made[i]);
                        test_write(f, "");
                        free(f);
                }
        }
        n_results = 0;
        ran = false;
        assert_int_equal(provision(socket_script, &r), EXIT_OK);
        etest_run_release(&r);
        assert_int_equal(n_results, 4);
        assert_int_equal(results[0], 0);
        assert_int_equal(results[1], 0);
        assert_int_equal(results[2], 0);
        assert_int_equal(results[3], 1);
        calls = test_stub_calls(stubs);
        {
                /* idle.socket was only asked about */
                static const char *const made[] = { "systemctl disable --now ssh.socket\n",
                                                    "systemctl enable ssh.service\n",
                                                    "systemctl stop other.socket\n",
                                                    "systemctl is-active idle.socket\n" };
                for (size_t i = 0; i < ELEMENTSOF(made); i++)
                        if (!strstr(calls, made[i]))
                                fail_msg("no call %s in:\n%s", made[i], calls);
                assert_null(strstr(calls, "stop idle.socket"));
                assert_null(strstr(calls, "disable --now idle.socket"));
        }
        free(calls);
        calls = NULL;

        /* the journal says what a rollback does */
        {
                struct journal *j = last_journal();
                int a = journal_find(j, 0, "COMMAND_EXEC", "systemctl disable --now ssh.socket");
                int b = journal_find(j, 0, "COMMAND_EXEC", "systemctl stop other.socket");

                assert_true(a >= 0 && b > a);
                assert_int_equal(journal_entry_at(j, (size_t)a)->undo.kind, UNDO_ENABLE_UNIT);
                assert_string_equal(journal_entry_at(j, (size_t)a)->undo.name, "ssh.socket");
                assert_int_equal(journal_entry_at(j, (size_t)b)->undo.kind, UNDO_START_UNIT);
                assert_int_equal(journal_find(j, 0, "COMMAND_EXEC", "systemctl stop idle.socket"), -1);
                journal_free(j);
        }

        /* a second run changes nothing: the socket is off, the service on */
        n_results = 0;
        ran = false;
        assert_int_equal(provision(socket_script, &r), EXIT_OK);
        etest_run_release(&r);
        assert_int_equal(results[0], 1);
        assert_int_equal(results[1], 1);
        assert_int_equal(results[2], 1);

        /* the rollback: ssh.service off before ssh.socket comes back */
        assert_int_equal(rollback(), EXIT_OK);
        calls = test_stub_calls(stubs);
        {
                /* newest first: each after the one before it */
                static const char *const undone[] = { "systemctl start other.socket\n",
                                                      "systemctl disable --now ssh.service\n",
                                                      "systemctl enable --now ssh.socket\n" };
                const char *at = calls;
                for (size_t i = 0; i < ELEMENTSOF(undone); i++)
                        if (!(at = strstr(at, undone[i])))
                                fail_msg("no call %s (in this order) in:\n%s", undone[i], calls);
        }
}

/* ---- the pure parts of the questions -------------------------------------- */

static void parse_candidate(void **state)
{
        (void)state;
        assert_true(ops_parse_candidate("pipewire-module-xrdp:\n  Installed: (none)\n"
                                        "  Candidate: 0.2-2\n  Version table:\n"));
        assert_false(ops_parse_candidate("foo:\n  Installed: (none)\n  Candidate: (none)\n"));
        assert_false(ops_parse_candidate(""));      /* apt-cache prints nothing for unknown names */
        assert_false(ops_parse_candidate(NULL));
}

static void parse_alternative(void **state)
{
        (void)state;
        char buf[64];
        bool manual = false;
        const char *out = "Name: x-session-manager\n"
                          "Link: /usr/bin/x-session-manager\n"
                          "Status: manual\n"
                          "Best: /usr/bin/startxfce4\n"
                          "Value: /usr/bin/xfce4-session\n"
                          "\n"
                          "Alternative: /usr/bin/startxfce4\n"
                          "Priority: 50\n";

        ops_parse_alternative(out, buf, sizeof(buf), &manual);
        assert_string_equal(buf, "/usr/bin/xfce4-session");
        assert_true(manual);
        ops_parse_alternative("Name: x\nStatus: auto\nValue: /a\n", buf, sizeof(buf), &manual);
        assert_string_equal(buf, "/a");
        assert_false(manual);
        /* only the group's own stanza: a "Value:" after it is a choice's */
        ops_parse_alternative("Name: x\nStatus: auto\n\nValue: /not/the/group\n", buf, sizeof(buf),
                              NULL);
        assert_string_equal(buf, "");
        ops_parse_alternative(out, buf, 5, NULL);   /* does not fit: empty, not cut */
        assert_string_equal(buf, "");
}

/* ---- another package manager holds dpkg's lock ----------------------------
 *
 * A child named as Debian's automatic updates name theirs takes the
 * frontend lock of the test root's dpkg the way apt does (fcntl F_SETLK,
 * write lock), and lets go after hold_ms (or never: killed at the end). */

static pid_t hold_dpkg_lock(unsigned hold_ms)
{
        _cleanup_free_ char *path = test_path(dpkg_dir, "lock-frontend");
        int ready[2];
        pid_t pid;
        char b;

        assert_int_equal(mkdir_p(dpkg_dir, 0755), 0);
        assert_int_equal(pipe(ready), 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
                int fd = open(path, O_RDWR | O_CREAT, 0640);

                (void)prctl(PR_SET_NAME, "unattended-upgr", 0, 0, 0);
                if (fd < 0 || fcntl(fd, F_SETLK, &fl) < 0)
                        _exit(1);
                (void)!write(ready[1], "x", 1);
                if (hold_ms)
                        sleep_ms(hold_ms);
                else
                        for (;;)
                                pause();
                _exit(0);
        }
        close(ready[1]);
        assert_int_equal(read(ready[0], &b, 1), 1);   /* held from here on */
        close(ready[0]);
        return pid;
}

static int update_after_lock_script(struct phase_ctx *c)
{
        return ops_apt_update(c);
}

static void lock_released_then_install(void **state)
{
        struct etest_run r;
        _cleanup_free_ char *calls = NULL, *text = NULL, *who = NULL;
        pid_t holder;
        int64_t t0;
        int status;
        (void)state;

        test_stub(stubs, "apt-get", "exit 0");
        holder = hold_dpkg_lock(3000);
        t0 = now_ms();
        assert_int_equal(provision(update_after_lock_script, &r), EXIT_OK);
        /* it waited for the holder, not a fixed time, and apt ran after */
        assert_true(now_ms() - t0 >= 2500);
        assert_int_equal(waitpid(holder, &status, 0), holder);
        text = run_text(&r);
        who = xasprintf("unattended-upgr (pid %d) holds the package manager lock", (int)holder);
        if (!strstr(text, who) || !strstr(text, "the package manager lock is free after "))
                fail_msg("the log does not say who held the lock and when it was free:\n%s", text);
        etest_run_release(&r);
        calls = test_stub_calls(stubs);
        assert_non_null(strstr(calls, " update\n"));
        assert_int_equal(rollback(), EXIT_OK);
}

static int change_after_wait_script(struct phase_ctx *c)
{
        _cleanup_free_ char *f = fpath("after-the-lock.conf");
        int r = ops_wait_package_manager(c);

        if (r < 0)
                return r;
        record(ops_write_file(c, f, "x\n", 2, 0644, getuid(), getgid()));
        return ops_apt_update(c);
}

static void lock_never_released(void **state)
{
        struct etest_run r;
        _cleanup_free_ char *calls = NULL, *text = NULL, *f = fpath("after-the-lock.conf"),
                           *who = NULL;
        pid_t holder;
        int64_t t0, took;
        (void)state;

        test_stub(stubs, "apt-get", "exit 0");
        {
                _cleanup_free_ char *log = test_path(stubs, "calls.log");
                unlink(log);   /* only this run's calls */
        }
        unlink(f);
        holder = hold_dpkg_lock(0);
        lock_wait_s = 2;
        t0 = now_ms();
        assert_int_equal(provision(change_after_wait_script, &r), EXIT_FAILED_KEPT);
        took = now_ms() - t0;
        lock_wait_s = 1800;
        kill(holder, SIGKILL);
        assert_int_equal(waitpid(holder, NULL, 0), holder);
        /* bounded by apt_lock_wait, and nothing was changed or run */
        assert_true(took >= 2000 && took < 15000);
        assert_int_equal(access(f, F_OK), -1);
        calls = test_stub_calls(stubs);
        assert_null(strstr(calls, "apt-get"));
        text = run_text(&r);
        who = xasprintf("unattended-upgr (pid %d) still holds the package manager lock after 2 s",
                        (int)holder);
        if (!strstr(text, who) || !strstr(text, "apt_lock_wait"))
                fail_msg("the failure does not name the holder and the key:\n%s", text);
        etest_run_release(&r);
        assert_int_equal(rollback(), EXIT_OK);
}

static int setup(void **state)
{
        (void)state;
        T = test_tmpdir();
        snprintf(stubs, sizeof(stubs), "%s/bin", T);
        snprintf(files, sizeof(files), "%s/files", T);
        snprintf(dpkg_dir, sizeof(dpkg_dir), "%s/dpkg", T);
        snprintf(dpkg_updates, sizeof(dpkg_updates), "%s/dpkg/updates", T);
        assert_int_equal(mkdir_p(stubs, 0755), 0);
        assert_int_equal(mkdir_p(files, 0755), 0);
        test_path_prepend(stubs);
        etest_host(T);
        ops_disk_sync = sync_recorder;
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
                cmocka_unit_test(parse_candidate),
                cmocka_unit_test(parse_alternative),
                cmocka_unit_test(files_changed_and_undone),
                cmocka_unit_test(links_in_a_users_home),
                cmocka_unit_test(commands),
                cmocka_unit_test(output_batched),
                cmocka_unit_test(apt_install_progress_and_undo),
                cmocka_unit_test(apt_stale_lists_refreshed_once),
                cmocka_unit_test(query_memo_until_a_change),
                cmocka_unit_test(apt_interrupted_install_completed),
                cmocka_unit_test(apt_update_retries),
                cmocka_unit_test(install_repairs_interrupted_dpkg),
                cmocka_unit_test(install_finishes_half_installed),
                cmocka_unit_test(resume_after_killed_install),
                cmocka_unit_test(install_unsafe_io_then_sync),
                cmocka_unit_test(resume_verifies_and_reinstalls),
                cmocka_unit_test(resume_verifies_clean),
                cmocka_unit_test(resume_verify_unusable),
                cmocka_unit_test(accounts_units_alternatives),
                cmocka_unit_test(unit_disabled_and_undone),
                cmocka_unit_test(lock_released_then_install),
                cmocka_unit_test(lock_never_released),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
