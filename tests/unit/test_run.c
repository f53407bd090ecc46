/* test_run.c — engine/run: real child processes (sh, cat, env, sleep …) and
 * this test binary itself started with "--helper MODE" when a child must do
 * something exact (list its fds, print a flood of numbered lines, print
 * run_default_env() as it sees it). */
#include "testlib.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "run.h"
#include "util.h"

static char self_exe[PATH_MAX];

/* ---- helper modes (this binary as the child) ------------------------------ */

/* Byte j of flood line i: the line number shifts the alphabet, so a lost,
 * doubled or reordered line shows. */
static char flood_byte(uint64_t i, size_t j)
{
        return (char)('a' + (i + j) % 26);
}

/* "emit N LEN [both]": N lines of LEN flood bytes on stdout (and the same
 * on stderr, interleaved in blocks, with "both"). */
static int helper_emit(uint64_t n, size_t len, bool both)
{
        size_t cap = 1 << 20, used = 0;
        char *b = malloc(cap + len + 1);

        if (!b)
                return 3;
        for (uint64_t i = 0; i < n; i++) {
                for (size_t j = 0; j < len; j++)
                        b[used++] = flood_byte(i, j);
                b[used++] = '\n';
                if (used >= cap || i + 1 == n) {
                        if (write_all(1, b, used) < 0 || (both && write_all(2, b, used) < 0))
                                return 4;
                        used = 0;
                }
        }
        free(b);
        return 0;
}

/* "fds": the child's open fds, one per line (without the listing's own). */
static int helper_fds(void)
{
        DIR *d = opendir("/proc/self/fd");
        struct dirent *de;

        if (!d)
                return 3;
        while ((de = readdir(d)))
                if (de->d_name[0] != '.' && strtol(de->d_name, NULL, 10) != dirfd(d))
                        printf("%s\n", de->d_name);
        closedir(d);
        return 0;
}

static int helper_main(int argc, char **argv)
{
        if (argc >= 5 && strcmp(argv[2], "emit") == 0)
                return helper_emit(strtoull(argv[3], NULL, 10), strtoul(argv[4], NULL, 10),
                                   argc >= 6 && strcmp(argv[5], "both") == 0);
        if (argc >= 3 && strcmp(argv[2], "fds") == 0)
                return helper_fds();
        if (argc >= 3 && strcmp(argv[2], "default-env") == 0) {
                for (const char *const *e = run_default_env(); *e; e++)
                        printf("%s\n", *e);
                return 0;
        }
        return 2;
}

/* ---- collecting lines ------------------------------------------------------ */

#define MAX_KEPT 64

struct line {
        enum run_stream stream;
        char *data;
        size_t len;
        bool truncated;
};

struct collect {
        struct line v[MAX_KEPT];
        size_t n;
        uint64_t count[4], truncated;
        pthread_t thread;
        bool bad_terminator, wrong_thread;
};

static void collect_init(struct collect *c)
{
        memset(c, 0, sizeof(*c));
        c->thread = pthread_self();
}

static void collect_line(void *userdata, enum run_stream stream, const char *line, size_t len,
                         bool truncated)
{
        struct collect *c = userdata;

        if (line[len] != '\0')
                c->bad_terminator = true;
        if (!pthread_equal(c->thread, pthread_self()))
                c->wrong_thread = true;
        c->count[stream]++;
        if (truncated)
                c->truncated++;
        if (c->n < MAX_KEPT) {
                struct line *l = &c->v[c->n++];
                l->stream = stream;
                l->data = malloc(len + 1);
                assert_non_null(l->data);
                memcpy(l->data, line, len + 1);
                l->len = len;
                l->truncated = truncated;
        }
}

static void collect_free(struct collect *c)
{
        for (size_t i = 0; i < c->n; i++)
                free(c->v[i].data);
        c->n = 0;
}

/* The k-th kept line of stream s (NULL when there is none). */
static const struct line *nth(const struct collect *c, enum run_stream s, size_t k)
{
        for (size_t i = 0; i < c->n; i++)
                if (c->v[i].stream == s && k-- == 0)
                        return &c->v[i];
        return NULL;
}

static void assert_line(const struct collect *c, enum run_stream s, size_t k, const char *want)
{
        const struct line *l = nth(c, s, k);
        assert_non_null(l);
        assert_int_equal(l->len, strlen(want));
        assert_string_equal(l->data, want);
        assert_false(l->truncated);
}

/* Runs argv with defaults plus the collector; returns the status. */
static int run_collect(const char *const *argv, struct collect *c, struct run_result *res)
{
        struct run_opts o;
        int r;

        collect_init(c);
        run_opts_init(&o);
        o.argv = argv;
        o.on_line = collect_line;
        o.userdata = c;
        o.timeout_ms = 60000;
        r = run_command(&o, res);
        assert_false(c->bad_terminator);
        assert_false(c->wrong_thread);
        return r;
}

static int run_status(const char *const *argv)
{
        struct collect c;
        struct run_result res;
        int r = run_collect(argv, &c, &res);
        collect_free(&c);
        assert_int_equal(res.status, r);
        return r;
}

/* ---- tests ------------------------------------------------------------------ */

static void test_opts_init(void **state)
{
        struct run_opts o;
        (void)state;

        memset(&o, 0x5a, sizeof(o));
        run_opts_init(&o);
        assert_int_equal(o.status_fd, -1);
        assert_int_equal(o.cancel_fd, -1);
        assert_null(o.argv);
        assert_null(o.envp);
        assert_null(o.cwd);
        assert_null(o.stdin_data);
        assert_null(o.on_line);
        assert_int_equal(o.timeout_ms, 0);
        assert_int_equal(o.line_max, 0);
}

static void test_exit_codes(void **state)
{
        (void)state;
        assert_int_equal(run_status((const char *const[]){ "true", NULL }), 0);
        assert_int_equal(run_status((const char *const[]){ "false", NULL }), 1);
        assert_int_equal(run_status((const char *const[]){ "sh", "-c", "exit 42", NULL }), 42);
        assert_int_equal(run_status((const char *const[]){ "sh", "-c", "exit 255", NULL }), 255);
        /* A program that exits 127 is not "not found". */
        assert_int_equal(run_status((const char *const[]){ "sh", "-c", "exit 127", NULL }), 127);
}

/* Arguments reach the child byte for byte, argv[0] as given (not the
 * resolved path), with no shell in between. */
static void test_argv_verbatim(void **state)
{
        static const char cmdline[] = "cat\0/proc/self/cmdline\0";
        struct collect c;
        struct run_result res;
        const struct line *l;
        (void)state;

        assert_int_equal(run_collect((const char *const[]){ "cat", "/proc/self/cmdline", NULL },
                                     &c, &res), 0);
        l = nth(&c, RUN_STDOUT, 0);
        assert_non_null(l);
        assert_int_equal(l->len, sizeof(cmdline) - 1);
        assert_memory_equal(l->data, cmdline, sizeof(cmdline) - 1);
        collect_free(&c);

        assert_int_equal(run_collect((const char *const[]){ "printf", "%s|", "a b", "", "*",
                                                            "$HOME", "; true", NULL },
                                     &c, &res), 0);
        assert_line(&c, RUN_STDOUT, 0, "a b||*|$HOME|; true|");
        collect_free(&c);
}

static void test_killed_by_signal(void **state)
{
        struct collect c;
        struct run_result res;
        (void)state;

        assert_int_equal(run_collect((const char *const[]){ "sh", "-c", "kill -KILL $$", NULL },
                                     &c, &res), 128 + SIGKILL);
        assert_false(res.timed_out);
        assert_false(res.cancelled);
        collect_free(&c);
        assert_int_equal(run_status((const char *const[]){ "sh", "-c", "kill -TERM $$", NULL }),
                         128 + SIGTERM);
        assert_int_equal(run_status((const char *const[]){ "sh", "-c", "kill -USR1 $$", NULL }),
                         128 + SIGUSR1);
}

static void test_exec_not_found(void **state)
{
        const char *const in_parent_path_only[] = { "PATH=/nonexistent-dir", NULL };
        struct run_opts o;
        struct run_result res;
        char why[128];
        (void)state;

        assert_int_equal(run_status((const char *const[]){ "vpsp-no-such-program", NULL }),
                         -ENOENT);
        assert_int_equal(run_status((const char *const[]){ "/nonexistent-dir/prog", NULL }),
                         -ENOENT);

        /* argv[0] is looked up in the child's PATH, not in ours. */
        run_opts_init(&o);
        o.argv = (const char *const[]){ "env", NULL };
        o.envp = in_parent_path_only;
        memset(&res, 0x5a, sizeof(res));
        assert_int_equal(run_command(&o, &res), -ENOENT);
        assert_int_equal(res.status, -ENOENT);
        assert_int_equal(res.lines[RUN_STDOUT], 0);
        assert_false(res.timed_out);
        assert_string_equal(run_describe(-ENOENT, &res, "env", why, sizeof(why)),
                            "not found: env (is PATH right?)");
}

static void test_exec_not_executable(void **state)
{
        char *dir = test_tmpdir();
        _cleanup_free_ char *plain = test_path(dir, "plain");
        _cleanup_free_ char *garbage = test_path(dir, "garbage");
        _cleanup_free_ char *ok = test_path(dir, "later/plain");
        _cleanup_free_ char *later = test_path(dir, "later");
        _cleanup_free_ char *env_path = xasprintf("PATH=%s", dir);
        _cleanup_free_ char *env_path2 = xasprintf("PATH=%s:%s", dir, later);
        struct run_opts o;
        (void)state;

        test_write(plain, "#!/bin/sh\nexit 0\n");
        test_write_exec(garbage, "\x7f" "ELF not really\n");

        /* By path: execve() itself refuses, the errno comes back through
         * the pipe. */
        assert_int_equal(run_status((const char *const[]){ plain, NULL }), -EACCES);
        assert_int_equal(run_status((const char *const[]){ dir, NULL }), -EACCES);
        assert_int_equal(run_status((const char *const[]){ garbage, NULL }), -ENOEXEC);

        /* Through PATH: the lookup in the parent finds only a
         * non-executable candidate. */
        run_opts_init(&o);
        o.argv = (const char *const[]){ "plain", NULL };
        o.envp = (const char *const[]){ env_path, NULL };
        assert_int_equal(run_command(&o, NULL), -EACCES);

        /* … and skips it, as execvp() does, when a later entry has an
         * executable one. */
        assert_int_equal(mkdir(later, 0755), 0);
        test_write_exec(ok, "#!/bin/sh\nexit 7\n");
        o.envp = (const char *const[]){ env_path2, NULL };
        assert_int_equal(run_command(&o, NULL), 7);
}

static void test_invalid_args(void **state)
{
        struct run_opts o;
        struct run_result res;
        (void)state;

        run_opts_init(&o);
        memset(&res, 0x5a, sizeof(res));
        assert_int_equal(run_command(&o, &res), -EINVAL);
        assert_int_equal(res.status, -EINVAL);
        assert_int_equal(res.lines[RUN_STDOUT], 0);
        o.argv = (const char *const[]){ "", NULL };
        assert_int_equal(run_command(&o, NULL), -EINVAL);
        o.argv = (const char *const[]){ NULL };
        assert_int_equal(run_command(&o, NULL), -EINVAL);
        assert_int_equal(run_command(NULL, NULL), -EINVAL);

        /* status_fd 0 (a zeroed struct) would clobber stdin: refused. */
        o.argv = (const char *const[]){ "true", NULL };
        for (int fd = 0; fd <= 2; fd++) {
                o.status_fd = fd;
                assert_int_equal(run_command(&o, NULL), -EINVAL);
        }
        o.status_fd = -1;
        o.stdin_len = 5;
        assert_int_equal(run_command(&o, NULL), -EINVAL);
        o.stdin_len = 0;
        o.cancel_fd = 1000;
        assert_int_equal(run_command(&o, NULL), -EBADF);
}

/* A pid printed by the child ("echo $!"). */
static pid_t pid_of(const char *s)
{
        long v = 0;
        assert_int_equal(parse_long(s, 2, INT_MAX, &v), 0);
        return (pid_t)v;
}

static bool pid_gone(pid_t pid)
{
        char path[64], *stat;
        bool gone;

        snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
        stat = test_read(path);
        /* Gone, or a zombie waiting for an init that does not reap. */
        gone = !stat || strstr(stat, ") Z ") != NULL;
        free(stat);
        return gone;
}

static void test_timeout_term(void **state)
{
        struct collect c;
        struct run_opts o;
        struct run_result res;
        char why[64];
        (void)state;

        collect_init(&c);
        run_opts_init(&o);
        o.argv = (const char *const[]){ "sleep", "30", NULL };
        o.timeout_ms = 200;
        o.on_line = collect_line;
        o.userdata = &c;
        assert_int_equal(run_command(&o, &res), 128 + SIGTERM);
        assert_true(res.timed_out);
        assert_false(res.cancelled);
        assert_true(res.duration_ms >= 200);
        assert_true(res.duration_ms < 4000); /* well before the 5 s KILL grace */
        assert_non_null(strstr(run_describe(res.status, &res, "sleep", why, sizeof(why)),
                               "timed out after 0."));
        collect_free(&c);
}

/* The child ignores TERM and has a grandchild that ignores it too: both
 * get KILL after the grace, the grandchild through the process group. */
static void test_timeout_kill_group(void **state)
{
        struct collect c;
        struct run_opts o;
        struct run_result res;
        const struct line *l;
        pid_t grandchild;
        (void)state;

        collect_init(&c);
        run_opts_init(&o);
        o.argv = (const char *const[]){ "sh", "-c", "trap '' TERM; sleep 60 & echo $!; wait",
                                        NULL };
        o.timeout_ms = 300;
        o.kill_after_ms = 300;
        o.on_line = collect_line;
        o.userdata = &c;
        assert_int_equal(run_command(&o, &res), 128 + SIGKILL);
        assert_true(res.timed_out);
        assert_true(res.duration_ms >= 600);
        assert_true(res.duration_ms < 5000);
        l = nth(&c, RUN_STDOUT, 0);
        assert_non_null(l);
        grandchild = pid_of(l->data);
        assert_true(grandchild > 1);
        for (int i = 0; i < 200 && !pid_gone(grandchild); i++)
                sleep_ms(10);
        assert_true(pid_gone(grandchild));
        collect_free(&c);
}

/* The child dies of TERM at once, but a grandchild that ignores TERM keeps
 * the pipes open: after the linger it is killed with the group, long
 * before the (long) grace would have run out. */
static void test_timeout_orphaned_grandchild(void **state)
{
        struct collect c;
        struct run_opts o;
        struct run_result res;
        const struct line *l;
        pid_t grandchild;
        (void)state;

        collect_init(&c);
        run_opts_init(&o);
        o.argv = (const char *const[]){ "sh", "-c",
                                        "(trap '' TERM; exec sleep 60) & echo $!; wait", NULL };
        o.timeout_ms = 300;
        o.kill_after_ms = 30000;
        o.on_line = collect_line;
        o.userdata = &c;
        assert_int_equal(run_command(&o, &res), 128 + SIGTERM);
        assert_true(res.timed_out);
        assert_true(res.duration_ms < 10000);
        l = nth(&c, RUN_STDOUT, 0);
        assert_non_null(l);
        grandchild = pid_of(l->data);
        assert_true(grandchild > 1);
        for (int i = 0; i < 200 && !pid_gone(grandchild); i++)
                sleep_ms(10);
        assert_true(pid_gone(grandchild));
        collect_free(&c);
}

/* A background process holding stdout open does not keep us waiting
 * after the child itself has exited. */
static void test_background_holder(void **state)
{
        struct collect c;
        struct run_result res;
        const struct line *l;
        pid_t bg;
        (void)state;

        assert_int_equal(run_collect((const char *const[]){ "sh", "-c", "sleep 60 & echo $!",
                                                            NULL }, &c, &res), 0);
        assert_true(res.duration_ms < 5000);
        l = nth(&c, RUN_STDOUT, 0);
        assert_non_null(l);
        bg = pid_of(l->data);
        assert_true(bg > 1);
        assert_false(pid_gone(bg)); /* not ours to kill: it was not a timeout */
        kill(bg, SIGKILL);
        collect_free(&c);
}

struct flood_check {
        uint64_t next[4];
        size_t len;
        uint64_t bad;
        char *pattern; /* 26 + len bytes of the alphabet, repeated */
};

static void flood_line(void *userdata, enum run_stream stream, const char *line, size_t len,
                       bool truncated)
{
        struct flood_check *f = userdata;
        uint64_t i = f->next[stream]++;

        if (truncated || len != f->len || memcmp(line, f->pattern + i % 26, len) != 0)
                f->bad++;
}

static void flood(uint64_t n, size_t len, bool both)
{
        _cleanup_free_ char *ns = xasprintf("%llu", (unsigned long long)n);
        _cleanup_free_ char *ls = xasprintf("%zu", len);
        struct flood_check f = { .len = len };
        struct run_opts o;
        struct run_result res;

        f.pattern = xmalloc(26 + len);
        for (size_t j = 0; j < 26 + len; j++)
                f.pattern[j] = flood_byte(0, j);
        run_opts_init(&o);
        o.argv = (const char *const[]){ self_exe, "--helper", "emit", ns, ls,
                                        both ? "both" : NULL, NULL };
        o.on_line = flood_line;
        o.userdata = &f;
        o.timeout_ms = 120000;
        assert_int_equal(run_command(&o, &res), 0);
        assert_int_equal(f.bad, 0);
        assert_int_equal(res.lines[RUN_STDOUT], n);
        assert_int_equal(f.next[RUN_STDOUT], n);
        assert_int_equal(res.bytes[RUN_STDOUT], n * (len + 1));
        assert_int_equal(res.lines[RUN_STDERR], both ? n : 0);
        assert_int_equal(res.bytes[RUN_STDERR], both ? n * (len + 1) : 0);
        free(f.pattern);
}

static void test_huge_output(void **state)
{
        (void)state;
        /* 524288 lines of 100 bytes: 50 MiB (5 MiB under valgrind). */
        flood(test_under_valgrind() ? 52428 : 524288, 99, false);
}

static void test_both_streams_flood(void **state)
{
        (void)state;
        /* Both pipes full at once: reading one must not starve the other. */
        flood(test_under_valgrind() ? 20000 : 100000, 63, true);
}

static void test_binary_output(void **state)
{
        struct collect c;
        struct run_result res;
        const struct line *l;
        (void)state;

        assert_int_equal(run_collect((const char *const[]){
                                 "printf", "a\\000b\\n\\000\\000\\n\\377\\376", NULL },
                                     &c, &res), 0);
        assert_int_equal(res.lines[RUN_STDOUT], 3);
        assert_int_equal(res.bytes[RUN_STDOUT], 9);
        l = nth(&c, RUN_STDOUT, 0);
        assert_non_null(l);
        assert_int_equal(l->len, 3);
        assert_memory_equal(l->data, "a\0b", 4);
        l = nth(&c, RUN_STDOUT, 1);
        assert_non_null(l);
        assert_int_equal(l->len, 2);
        assert_memory_equal(l->data, "\0\0", 3);
        l = nth(&c, RUN_STDOUT, 2);
        assert_non_null(l);
        assert_int_equal(l->len, 2);
        assert_memory_equal(l->data, "\377\376", 3);
        collect_free(&c);
}

static void test_line_cap(void **state)
{
        struct collect c;
        struct run_opts o;
        struct run_result res;
        const struct line *l;
        (void)state;

        collect_init(&c);
        run_opts_init(&o);
        /* exactly 10 / 11 / 100000 (split over many reads) / a short one. */
        o.argv = (const char *const[]){
                "sh", "-c",
                "printf '0123456789\\n0123456789A\\n'; head -c 100000 /dev/zero | tr '\\0' x;"
                " printf '\\nnext\\n'; printf 'abcdefghijklmnop' >&2",
                NULL };
        o.line_max = 10;
        o.on_line = collect_line;
        o.userdata = &c;
        assert_int_equal(run_command(&o, &res), 0);
        assert_int_equal(res.lines[RUN_STDOUT], 4);
        assert_int_equal(res.bytes[RUN_STDOUT], 11 + 12 + 100001 + 5);
        assert_line(&c, RUN_STDOUT, 0, "0123456789");
        l = nth(&c, RUN_STDOUT, 1);
        assert_int_equal(l->len, 10);
        assert_string_equal(l->data, "0123456789");
        assert_true(l->truncated);
        l = nth(&c, RUN_STDOUT, 2);
        assert_int_equal(l->len, 10);
        assert_string_equal(l->data, "xxxxxxxxxx");
        assert_true(l->truncated);
        assert_line(&c, RUN_STDOUT, 3, "next");
        /* An overlong last line without newline: cut, delivered once. */
        assert_int_equal(res.lines[RUN_STDERR], 1);
        l = nth(&c, RUN_STDERR, 0);
        assert_string_equal(l->data, "abcdefghij");
        assert_true(l->truncated);
        assert_int_equal(c.truncated, 3);
        collect_free(&c);

        /* The default cap is 4096. */
        assert_int_equal(run_collect((const char *const[]){
                                 "sh", "-c", "head -c 5000 /dev/zero | tr '\\0' y", NULL },
                                     &c, &res), 0);
        l = nth(&c, RUN_STDOUT, 0);
        assert_non_null(l);
        assert_int_equal(l->len, 4096);
        assert_true(l->truncated);
        assert_int_equal(res.lines[RUN_STDOUT], 1);
        collect_free(&c);
}

static void test_final_line_without_newline(void **state)
{
        struct collect c;
        struct run_result res;
        (void)state;

        assert_int_equal(run_collect((const char *const[]){
                                 "sh", "-c", "printf 'one\\n\\ntwo'; printf err >&2", NULL },
                                     &c, &res), 0);
        assert_int_equal(res.lines[RUN_STDOUT], 3);
        assert_line(&c, RUN_STDOUT, 0, "one");
        assert_line(&c, RUN_STDOUT, 1, "");
        assert_line(&c, RUN_STDOUT, 2, "two");
        assert_int_equal(res.lines[RUN_STDERR], 1);
        assert_line(&c, RUN_STDERR, 0, "err");
        collect_free(&c);
}

struct echo_check {
        const char *want;
        size_t want_len, off;
        bool mismatch;
};

static void echo_line(void *userdata, enum run_stream stream, const char *line, size_t len,
                      bool truncated)
{
        struct echo_check *e = userdata;

        if (stream != RUN_STDOUT || truncated || e->off + len + 1 > e->want_len ||
            memcmp(e->want + e->off, line, len) != 0 || e->want[e->off + len] != '\n') {
                e->mismatch = true;
                return;
        }
        e->off += len + 1;
}

/* size bytes of lines of varying length (1..199) and bytes, each ending in
 * a newline. */
static char *make_input(size_t size, unsigned seed)
{
        char *d = xmalloc(size);
        size_t i = 0;

        while (i < size) {
                size_t n = 1 + (seed = seed * 1103515245u + 12345u) % 199;
                for (size_t j = 0; j < n && i < size - 1; j++) {
                        char ch = (char)((seed >> 8) + j);
                        d[i++] = ch == '\n' ? 'N' : ch;
                }
                d[i++] = '\n';
        }
        return d;
}

static int echo_through_cat(const char *data, size_t len, struct run_result *res, bool *ok)
{
        struct echo_check e = { .want = data, .want_len = len };
        struct run_opts o;
        int r;

        run_opts_init(&o);
        o.argv = (const char *const[]){ "cat", NULL };
        o.stdin_data = data;
        o.stdin_len = len;
        o.line_max = 256;
        o.on_line = echo_line;
        o.userdata = &e;
        o.timeout_ms = 120000;
        r = run_command(&o, res);
        *ok = !e.mismatch && e.off == len;
        return r;
}

static void test_stdin_delivery(void **state)
{
        size_t size = test_under_valgrind() ? (1u << 20) : (4u << 20);
        _cleanup_free_ char *data = make_input(size, 7);
        struct run_result res;
        struct collect c;
        struct run_opts o;
        bool ok = false;
        (void)state;

        assert_int_equal(echo_through_cat(data, size, &res, &ok), 0);
        assert_true(ok);
        assert_int_equal(res.bytes[RUN_STDOUT], size);

        /* Empty stdin (not NULL): EOF at once. */
        collect_init(&c);
        run_opts_init(&o);
        o.argv = (const char *const[]){ "cat", NULL };
        o.stdin_data = "";
        o.stdin_len = 0;
        o.on_line = collect_line;
        o.userdata = &c;
        o.timeout_ms = 10000;
        assert_int_equal(run_command(&o, &res), 0);
        assert_int_equal(res.bytes[RUN_STDOUT], 0);
        collect_free(&c);

        /* No stdin: /dev/null. */
        assert_int_equal(run_collect((const char *const[]){ "readlink", "/proc/self/fd/0", NULL },
                                     &c, &res), 0);
        assert_line(&c, RUN_STDOUT, 0, "/dev/null");
        collect_free(&c);
}

static bool sigpipe_pending(void)
{
        sigset_t s;
        sigemptyset(&s);
        assert_int_equal(sigpending(&s), 0);
        return sigismember(&s, SIGPIPE) == 1;
}

static bool sigpipe_blocked(void)
{
        sigset_t s;
        assert_int_equal(pthread_sigmask(SIG_BLOCK, NULL, &s), 0);
        return sigismember(&s, SIGPIPE) == 1;
}

/* Children that never read stdin: one exits at once, one lingers; neither
 * hangs us, and SIGPIPE is neither delivered, nor left pending, nor left
 * blocked, nor ignored process-wide. */
static void test_stdin_not_read(void **state)
{
        size_t size = 4u << 20;
        _cleanup_free_ char *data = make_input(size, 3);
        struct sigaction sa;
        struct run_opts o;
        struct run_result res;
        (void)state;

        run_opts_init(&o);
        o.stdin_data = data;
        o.stdin_len = size;
        o.timeout_ms = 20000;

        o.argv = (const char *const[]){ "true", NULL };
        assert_int_equal(run_command(&o, &res), 0);
        assert_false(sigpipe_pending());
        assert_false(sigpipe_blocked());

        o.argv = (const char *const[]){ "sleep", "0.3", NULL };
        assert_int_equal(run_command(&o, &res), 0);
        assert_false(res.timed_out);
        assert_true(res.duration_ms < 5000);
        assert_false(sigpipe_pending());
        assert_false(sigpipe_blocked());

        o.argv = (const char *const[]){ "sh", "-c", "exec 0<&-; sleep 0.2; exit 3", NULL };
        assert_int_equal(run_command(&o, &res), 3);
        assert_false(sigpipe_pending());

        assert_int_equal(sigaction(SIGPIPE, NULL, &sa), 0);
        assert_true(sa.sa_handler == SIG_DFL);
}

static void test_status_fd(void **state)
{
        struct collect c;
        struct run_opts o;
        struct run_result res;
        (void)state;

        collect_init(&c);
        run_opts_init(&o);
        o.argv = (const char *const[]){
                "sh", "-c", "echo pmstatus:a >&3; echo out; echo err >&2; printf 'pmstatus:b' >&3",
                NULL };
        o.status_fd = 3;
        o.on_line = collect_line;
        o.userdata = &c;
        o.timeout_ms = 10000;
        assert_int_equal(run_command(&o, &res), 0);
        assert_int_equal(res.lines[RUN_STATUS], 2);
        assert_int_equal(res.bytes[RUN_STATUS], 11 + 10);
        assert_line(&c, RUN_STATUS, 0, "pmstatus:a");
        assert_line(&c, RUN_STATUS, 1, "pmstatus:b");
        assert_line(&c, RUN_STDOUT, 0, "out");
        assert_line(&c, RUN_STDERR, 0, "err");
        assert_int_equal(res.lines[RUN_STDOUT], 1);
        assert_int_equal(res.lines[RUN_STDERR], 1);
        collect_free(&c);

        /* Another number. */
        collect_init(&c);
        o.argv = (const char *const[]){ "sh", "-c", "echo seven >&7", NULL };
        o.status_fd = 7;
        assert_int_equal(run_command(&o, &res), 0);
        assert_line(&c, RUN_STATUS, 0, "seven");
        collect_free(&c);

        /* Without a status fd, fd 3 is not open in the child. */
        collect_init(&c);
        o.argv = (const char *const[]){ "sh", "-c", "echo lost >&3", NULL };
        o.status_fd = -1;
        assert_int_not_equal(run_command(&o, &res), 0);
        assert_int_equal(res.lines[RUN_STATUS], 0);
        assert_int_equal(res.lines[RUN_STDERR], 1); /* the shell's "Bad fd" message */
        collect_free(&c);
}

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

static void test_default_env(void **state)
{
        const char *path = getenv("PATH");
        _cleanup_strv_ char **want = NULL;
        _cleanup_strv_ char **got = NULL;
        struct collect c;
        struct run_opts o;
        struct run_result res;
        const char *const *e1, *const *e2;
        (void)state;

        strv_pushf(&want, "PATH=%s", path && *path ? path :
                   "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
        strv_push(&want, "LANG=C.UTF-8");
        strv_push(&want, "LC_ALL=C.UTF-8");
        strv_push(&want, "HOME=/root");
        strv_push(&want, "DEBIAN_FRONTEND=noninteractive");
        strv_push(&want, "DEBCONF_NONINTERACTIVE_SEEN=true");
        strv_push(&want, "APT_LISTCHANGES_FRONTEND=none");
        strv_push(&want, "NEEDRESTART_MODE=a");
        strv_push(&want, "NEEDRESTART_SUSPEND=1");
        strv_push(&want, "UCF_FORCE_CONFFOLD=1");

        /* Built once: the same vector every time. */
        e1 = run_default_env();
        e2 = run_default_env();
        assert_ptr_equal(e1, e2);

        /* What a child really gets. */
        assert_int_equal(run_collect((const char *const[]){ "env", NULL }, &c, &res), 0);
        assert_int_equal(res.lines[RUN_STDOUT], strv_length(want));
        for (size_t i = 0; i < c.n; i++)
                strv_push(&got, c.v[i].data);
        collect_free(&c);
        qsort(want, strv_length(want), sizeof(char *), cmp_str);
        qsort(got, strv_length(got), sizeof(char *), cmp_str);
        assert_int_equal(strv_length(got), strv_length(want));
        for (size_t i = 0; want[i]; i++)
                assert_string_equal(got[i], want[i]);

        /* A process without PATH builds the standard list. */
        collect_init(&c);
        run_opts_init(&o);
        o.argv = (const char *const[]){ self_exe, "--helper", "default-env", NULL };
        o.envp = (const char *const[]){ NULL };
        o.on_line = collect_line;
        o.userdata = &c;
        o.timeout_ms = 20000;
        assert_int_equal(run_command(&o, &res), 0);
        assert_line(&c, RUN_STDOUT, 0,
                    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
        assert_int_equal(res.lines[RUN_STDOUT], 10);
        collect_free(&c);
}

static void test_custom_env(void **state)
{
        struct collect c;
        struct run_opts o;
        struct run_result res;
        (void)state;

        collect_init(&c);
        run_opts_init(&o);
        /* No PATH in it: "env" is found through the standard list, and the
         * child's environment is exactly this. */
        o.argv = (const char *const[]){ "env", NULL };
        o.envp = (const char *const[]){ "A=1", "B=two words", "C=", NULL };
        o.on_line = collect_line;
        o.userdata = &c;
        o.timeout_ms = 10000;
        assert_int_equal(run_command(&o, &res), 0);
        assert_int_equal(res.lines[RUN_STDOUT], 3);
        assert_line(&c, RUN_STDOUT, 0, "A=1");
        assert_line(&c, RUN_STDOUT, 1, "B=two words");
        assert_line(&c, RUN_STDOUT, 2, "C=");
        collect_free(&c);

        /* Empty environment. */
        collect_init(&c);
        o.envp = (const char *const[]){ NULL };
        assert_int_equal(run_command(&o, &res), 0);
        assert_int_equal(res.lines[RUN_STDOUT], 0);
        collect_free(&c);
}

static void test_cwd(void **state)
{
        char *dir = test_tmpdir();
        char real[PATH_MAX];
        _cleanup_free_ char *missing = test_path(dir, "missing");
        struct collect c;
        struct run_opts o;
        struct run_result res;
        (void)state;

        assert_non_null(realpath(dir, real));
        collect_init(&c);
        run_opts_init(&o);
        o.argv = (const char *const[]){ "pwd", NULL };
        o.cwd = real;
        o.on_line = collect_line;
        o.userdata = &c;
        o.timeout_ms = 10000;
        assert_int_equal(run_command(&o, &res), 0);
        assert_line(&c, RUN_STDOUT, 0, real);
        collect_free(&c);

        /* Default: "/", whatever ours is. */
        assert_int_equal(run_collect((const char *const[]){ "pwd", NULL }, &c, &res), 0);
        assert_line(&c, RUN_STDOUT, 0, "/");
        collect_free(&c);

        o.cwd = missing;
        assert_int_equal(run_command(&o, &res), -ENOENT);
}

struct canceller {
        int fd;
        unsigned after_ms;
        const char *ready;      /* when set: wait (up to 20 s) until this file exists first */
};

static void *cancel_later(void *arg)
{
        struct canceller *k = arg;
        for (int i = 0; k->ready && !path_exists(k->ready) && i < 2000; i++)
                sleep_ms(10);
        sleep_ms(k->after_ms);
        (void)!write(k->fd, "x", 1);
        return NULL;
}

static void test_cancel(void **state)
{
        char *dir = test_tmpdir();
        _cleanup_free_ char *marker = test_path(dir, "started");
        _cleanup_free_ char *script = xasprintf("touch '%s'", marker);
        _cleanup_free_ char *ready = test_path(dir, "ignores-term");
        int p[2];
        pthread_t t;
        struct canceller k;
        struct run_opts o;
        struct run_result res;
        char why[64];
        (void)state;

        assert_int_equal(pipe2(p, O_CLOEXEC), 0);
        run_opts_init(&o);
        o.argv = (const char *const[]){ "sleep", "30", NULL };
        o.cancel_fd = p[0];
        o.timeout_ms = 20000;
        k = (struct canceller){ .fd = p[1], .after_ms = 200 };
        assert_int_equal(pthread_create(&t, NULL, cancel_later, &k), 0);
        assert_int_equal(run_command(&o, &res), 128 + SIGTERM);
        assert_int_equal(pthread_join(t, NULL), 0);
        assert_true(res.cancelled);
        assert_false(res.timed_out);
        assert_true(res.duration_ms >= 150);
        assert_true(res.duration_ms < 4000);
        assert_string_equal(run_describe(res.status, &res, "sleep", why, sizeof(why)),
                            "cancelled");

        /* The cancel fd is still readable: a new command does not start. */
        o.argv = (const char *const[]){ "sh", "-c", script, NULL };
        assert_int_equal(run_command(&o, &res), -ECANCELED);
        assert_true(res.cancelled);
        assert_false(path_exists(marker));
        close(p[0]);
        close(p[1]);

        /* A child that ignores TERM gets KILL after the grace. The cancel
         * comes once the child said it ignores TERM (on a loaded machine the
         * shell may take longer than any fixed delay to get that far). */
        assert_int_equal(pipe2(p, O_CLOEXEC), 0);
        o.argv = (const char *const[]){ "sh", "-c", "trap '' TERM; : > \"$0\"; sleep 30; exit 0", ready,
                                        NULL };
        o.cancel_fd = p[0];
        o.kill_after_ms = 300;
        k = (struct canceller){ .fd = p[1], .after_ms = 100, .ready = ready };
        assert_int_equal(pthread_create(&t, NULL, cancel_later, &k), 0);
        assert_int_equal(run_command(&o, &res), 128 + SIGKILL);
        assert_int_equal(pthread_join(t, NULL), 0);
        assert_true(res.cancelled);
        assert_true(res.duration_ms >= 350);
        assert_true(res.duration_ms < 25000);
        close(p[0]);
        close(p[1]);
}

/* The child's fds: exactly 0, 1, 2 (+ the status fd), even though this
 * process holds an fd without O_CLOEXEC. */
static void test_child_fds(void **state)
{
        int leaky = open("/dev/null", O_RDONLY); /* deliberately not O_CLOEXEC */
        struct collect c;
        struct run_opts o;
        struct run_result res;
        (void)state;

        assert_true(leaky >= 0);
        assert_int_equal(run_collect((const char *const[]){ self_exe, "--helper", "fds", NULL },
                                     &c, &res), 0);
        assert_int_equal(res.lines[RUN_STDOUT], 3);
        assert_line(&c, RUN_STDOUT, 0, "0");
        assert_line(&c, RUN_STDOUT, 1, "1");
        assert_line(&c, RUN_STDOUT, 2, "2");
        collect_free(&c);

        collect_init(&c);
        run_opts_init(&o);
        o.argv = (const char *const[]){ self_exe, "--helper", "fds", NULL };
        o.status_fd = 5;
        o.stdin_data = "x";
        o.stdin_len = 1;
        o.on_line = collect_line;
        o.userdata = &c;
        o.timeout_ms = 20000;
        assert_int_equal(run_command(&o, &res), 0);
        assert_int_equal(res.lines[RUN_STDOUT], 4);
        assert_line(&c, RUN_STDOUT, 3, "5");
        collect_free(&c);
        close(leaky);
}

/* Every path through run_command() leaves our fd table as it found it. */
static void test_no_fd_leaks(void **state)
{
        char *dir = test_tmpdir();
        _cleanup_free_ char *plain = test_path(dir, "plain");
        _cleanup_free_ char *out = NULL;
        int before, p[2];
        struct run_opts o;
        (void)state;

        test_write(plain, "not executable\n");
        before = test_count_fds();

        assert_int_equal(run_status((const char *const[]){ "true", NULL }), 0);
        assert_int_equal(run_status((const char *const[]){ "vpsp-no-such-program", NULL }),
                         -ENOENT);
        assert_int_equal(run_status((const char *const[]){ plain, NULL }), -EACCES);
        run_opts_init(&o);
        o.argv = (const char *const[]){ "sleep", "30", NULL };
        o.timeout_ms = 100;
        o.status_fd = 4;
        o.stdin_data = "data\n";
        o.stdin_len = 5;
        assert_int_equal(run_command(&o, NULL), 128 + SIGTERM);
        o.argv = (const char *const[]){ "true", NULL };
        assert_int_equal(run_command(&o, NULL), 0);
        assert_int_equal(pipe2(p, O_CLOEXEC), 0);
        assert_int_equal(write(p[1], "x", 1), 1);
        o.cancel_fd = p[0];
        assert_int_equal(run_command(&o, NULL), -ECANCELED);
        close(p[0]);
        close(p[1]);
        assert_int_equal(run_capture((const char *const[]){ "echo", "hi", NULL }, 100, &out), 0);
        assert_int_equal(run_capture((const char *const[]){ "yes", NULL }, 1000, &out), -E2BIG);

        assert_int_equal(test_count_fds(), before);
}

/* Handlers, ignored signals and the mask are not inherited; the child
 * leads its own session and process group. */
static void test_child_signals_and_session(void **state)
{
        struct sigaction ign = { .sa_handler = SIG_IGN }, old_usr2;
        sigset_t usr1, old_mask;
        struct collect c;
        struct run_result res;
        const struct line *l;
        int pid = 0, pgrp = 0, sid = 0;
        (void)state;

        sigemptyset(&usr1);
        sigaddset(&usr1, SIGUSR1);
        assert_int_equal(pthread_sigmask(SIG_BLOCK, &usr1, &old_mask), 0);
        assert_int_equal(sigaction(SIGUSR2, &ign, &old_usr2), 0);
        assert_int_equal(run_collect((const char *const[]){ "grep", "-E", "^Sig(Blk|Ign):",
                                                            "/proc/self/status", NULL },
                                     &c, &res), 0);
        assert_int_equal(pthread_sigmask(SIG_SETMASK, &old_mask, NULL), 0);
        assert_int_equal(sigaction(SIGUSR2, &old_usr2, NULL), 0);
        assert_int_equal(res.lines[RUN_STDOUT], 2);
        assert_line(&c, RUN_STDOUT, 0, "SigBlk:\t0000000000000000");
        assert_line(&c, RUN_STDOUT, 1, "SigIgn:\t0000000000000000");
        collect_free(&c);

        assert_int_equal(run_collect((const char *const[]){ "cat", "/proc/self/stat", NULL },
                                     &c, &res), 0);
        l = nth(&c, RUN_STDOUT, 0);
        assert_non_null(l);
        assert_int_equal(sscanf(l->data, "%d (cat) %*c %*d %d %d", &pid, &pgrp, &sid), 3);
        assert_true(pid > 1);
        assert_int_equal(pgrp, pid);
        assert_int_equal(sid, pid);
        collect_free(&c);
}

static void test_capture(void **state)
{
        char *out = NULL;
        char *untouched = (char *)"untouched";
        (void)state;

        assert_int_equal(run_capture((const char *const[]){ "printf", "abc\\ndef", NULL }, 100,
                                     &out), 0);
        assert_string_equal(out, "abc\ndef");
        free(out);

        /* A non-zero exit still hands the output over; stderr is dropped. */
        out = NULL;
        assert_int_equal(run_capture((const char *const[]){
                                 "sh", "-c", "echo err >&2; echo out; exit 3", NULL }, 100, &out),
                         3);
        assert_string_equal(out, "out\n");
        free(out);

        /* Exactly max bytes fit; no output is "". */
        out = NULL;
        assert_int_equal(run_capture((const char *const[]){ "printf", "12345", NULL }, 5, &out), 0);
        assert_string_equal(out, "12345");
        free(out);
        out = NULL;
        assert_int_equal(run_capture((const char *const[]){ "true", NULL }, 5, &out), 0);
        assert_string_equal(out, "");
        free(out);

        /* Over max: -E2BIG and no output; an endless writer is stopped. */
        out = untouched;
        assert_int_equal(run_capture((const char *const[]){ "printf", "123456", NULL }, 5, &out),
                         -E2BIG);
        assert_ptr_equal(out, untouched);
        int64_t t0 = now_ms();
        assert_int_equal(run_capture((const char *const[]){ "yes", NULL }, 1 << 16, &out),
                         -E2BIG);
        assert_true(now_ms() - t0 < 6000);
        assert_ptr_equal(out, untouched);

        assert_int_equal(run_capture((const char *const[]){ "vpsp-no-such-program", NULL }, 5,
                                     &out), -ENOENT);
        assert_ptr_equal(out, untouched);
}

static void test_describe(void **state)
{
        struct run_result res = { 0 };
        char buf[128], small[8];
        (void)state;

        assert_string_equal(run_describe(0, NULL, "true", buf, sizeof(buf)),
                            "exited with status 0");
        assert_string_equal(run_describe(100, &res, "apt-get", buf, sizeof(buf)),
                            "exited with status 100");
        assert_string_equal(run_describe(255, &res, "x", buf, sizeof(buf)),
                            "exited with status 255");
        assert_string_equal(run_describe(137, &res, "x", buf, sizeof(buf)),
                            "killed by signal 9 (Killed)");
        assert_string_equal(run_describe(143, NULL, "x", buf, sizeof(buf)),
                            "killed by signal 15 (Terminated)");
        assert_string_equal(run_describe(-ENOENT, NULL, "useradd", buf, sizeof(buf)),
                            "not found: useradd (is PATH right?)");
        assert_string_equal(run_describe(-EACCES, NULL, "/tmp/x", buf, sizeof(buf)),
                            "cannot run /tmp/x: Permission denied");
        assert_string_equal(run_describe(-ENOEXEC, NULL, "x", buf, sizeof(buf)),
                            "cannot run x: Exec format error");
        assert_string_equal(run_describe(-ECANCELED, NULL, "x", buf, sizeof(buf)),
                            "cancelled before it started");
        assert_string_equal(run_describe(-ENOENT, NULL, NULL, buf, sizeof(buf)),
                            "not found: command (is PATH right?)");
        res.timed_out = true;
        res.duration_ms = 30012;
        assert_string_equal(run_describe(143, &res, "apt-get", buf, sizeof(buf)),
                            "timed out after 30 s");
        res.duration_ms = 1530;
        assert_string_equal(run_describe(143, &res, "apt-get", buf, sizeof(buf)),
                            "timed out after 1.5 s");
        res = (struct run_result){ .cancelled = true };
        assert_string_equal(run_describe(143, &res, "x", buf, sizeof(buf)), "cancelled");
        assert_ptr_equal(run_describe(100, NULL, "x", small, sizeof(small)), small);
        assert_string_equal(small, "exited ");
}

struct worker {
        int id;
        int failures;
        char what[128];
};

static void *worker_main(void *arg)
{
        struct worker *w = arg;
        size_t size = (size_t)(test_under_valgrind() ? 100000 : 1000000) + (size_t)w->id * 777;
        char *data = make_input(size, (unsigned)w->id + 11);
        uint64_t n = (uint64_t)(test_under_valgrind() ? 5000 : 50000) + (uint64_t)w->id;
        char ns[32], ls[32], code[32];
        struct flood_check f = { .len = 40 + (size_t)w->id };
        struct run_result res;
        struct run_opts o;
        bool ok = false;
        int r;

        for (int round = 0; round < 2; round++) {
                r = echo_through_cat(data, size, &res, &ok);
                if (r != 0 || !ok) {
                        w->failures++;
                        snprintf(w->what, sizeof(w->what), "cat: %d ok=%d", r, ok);
                }

                f.pattern = xmalloc(26 + f.len);
                for (size_t j = 0; j < 26 + f.len; j++)
                        f.pattern[j] = flood_byte(0, j);
                memset(f.next, 0, sizeof(f.next));
                f.bad = 0;
                snprintf(ns, sizeof(ns), "%llu", (unsigned long long)n);
                snprintf(ls, sizeof(ls), "%zu", f.len);
                run_opts_init(&o);
                o.argv = (const char *const[]){ self_exe, "--helper", "emit", ns, ls, NULL };
                o.on_line = flood_line;
                o.userdata = &f;
                o.timeout_ms = 120000;
                r = run_command(&o, &res);
                if (r != 0 || f.bad || res.lines[RUN_STDOUT] != n) {
                        w->failures++;
                        snprintf(w->what, sizeof(w->what), "emit: %d bad=%llu", r,
                                 (unsigned long long)f.bad);
                }
                free(f.pattern);

                snprintf(code, sizeof(code), "exit %d", 10 + w->id);
                r = run_command(&(struct run_opts){ .argv = (const char *const[]){ "sh", "-c",
                                                                                    code, NULL },
                                                    .status_fd = -1, .cancel_fd = -1 }, NULL);
                if (r != 10 + w->id) {
                        w->failures++;
                        snprintf(w->what, sizeof(w->what), "exit: %d", r);
                }
        }
        free(data);
        return NULL;
}

static void test_concurrent(void **state)
{
        struct worker w[4];
        pthread_t t[4];
        int before = test_count_fds();
        (void)state;

        for (int i = 0; i < 4; i++) {
                w[i] = (struct worker){ .id = i };
                assert_int_equal(pthread_create(&t[i], NULL, worker_main, &w[i]), 0);
        }
        for (int i = 0; i < 4; i++)
                assert_int_equal(pthread_join(t[i], NULL), 0);
        for (int i = 0; i < 4; i++) {
                if (w[i].failures)
                        fail_msg("worker %d: %s", i, w[i].what);
        }
        assert_int_equal(test_count_fds(), before);
}

int main(int argc, char **argv)
{
        ssize_t n;

        if (argc >= 3 && strcmp(argv[1], "--helper") == 0)
                return helper_main(argc, argv);

        n = readlink("/proc/self/exe", self_exe, sizeof(self_exe) - 1);
        if (n <= 0) {
                perror("readlink /proc/self/exe");
                return 1;
        }
        self_exe[n] = '\0';

        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_opts_init),
                cmocka_unit_test(test_exit_codes),
                cmocka_unit_test(test_argv_verbatim),
                cmocka_unit_test(test_killed_by_signal),
                cmocka_unit_test(test_exec_not_found),
                cmocka_unit_test(test_exec_not_executable),
                cmocka_unit_test(test_invalid_args),
                cmocka_unit_test(test_timeout_term),
                cmocka_unit_test(test_timeout_kill_group),
                cmocka_unit_test(test_timeout_orphaned_grandchild),
                cmocka_unit_test(test_background_holder),
                cmocka_unit_test(test_huge_output),
                cmocka_unit_test(test_both_streams_flood),
                cmocka_unit_test(test_binary_output),
                cmocka_unit_test(test_line_cap),
                cmocka_unit_test(test_final_line_without_newline),
                cmocka_unit_test(test_stdin_delivery),
                cmocka_unit_test(test_stdin_not_read),
                cmocka_unit_test(test_status_fd),
                cmocka_unit_test(test_default_env),
                cmocka_unit_test(test_custom_env),
                cmocka_unit_test(test_cwd),
                cmocka_unit_test(test_cancel),
                cmocka_unit_test(test_child_fds),
                cmocka_unit_test(test_no_fd_leaks),
                cmocka_unit_test(test_child_signals_and_session),
                cmocka_unit_test(test_capture),
                cmocka_unit_test(test_describe),
                cmocka_unit_test(test_concurrent),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
