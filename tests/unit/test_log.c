/* test_log.c — the log file: line format, level filter, file mode,
 * redaction of registered secrets, escaping of control characters and bad
 * UTF-8, whole lines from concurrent writers, level names. */
#include "testlib.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <regex.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "secret.h"
#include "util.h"

#define TS_RE "\\[[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z\\]"

/* Opens a fresh log in a new temp dir; returns its path (caller frees). */
static char *open_fresh(void)
{
        char *path = test_path(test_tmpdir(), "run.log");
        assert_int_equal(log_open(path), 0);
        assert_string_equal(log_path(), path);
        return path;
}

/* The file's content, the log closed first. */
static char *close_and_read(const char *path)
{
        log_close();
        char *s = test_read(path);
        assert_non_null(s);
        return s;
}

/* Strips the "[time] " prefix of every line, checking its shape. */
static char *strip_times(const char *content)
{
        regex_t re;
        struct buf out;
        const char *p = content;

        assert_int_equal(regcomp(&re, "^" TS_RE " ", REG_EXTENDED), 0);
        buf_init(&out, SIZE_MAX);
        while (*p) {
                const char *nl = strchr(p, '\n');
                regmatch_t m;
                assert_non_null(nl);   /* every line ends with a newline */
                char *one = xstrndup(p, (size_t)(nl - p));
                assert_int_equal(regexec(&re, one, 1, &m, 0), 0);
                buf_append(&out, one + m.rm_eo, strlen(one + m.rm_eo));
                buf_append(&out, "\n", 1);
                free(one);
                p = nl + 1;
        }
        regfree(&re);
        return buf_steal(&out);
}

static int setup(void **state)
{
        (void)state;
        log_close();
        log_set_level(LOG_INFO);
        return 0;
}

static void test_format_and_levels(void **state)
{
        _cleanup_free_ char *path = NULL, *content = NULL, *body = NULL;
        (void)state;

        assert_int_equal(log_get_level(), LOG_INFO);
        path = open_fresh();
        log_write(LOG_DEBUG, "desktop", "not written %d", 1);
        log_write(LOG_INFO, "desktop", "hello %d", 42);
        log_write(LOG_WARNING, NULL, "no scope");
        log_write(LOG_ERROR, "engine", "%s", "bad");
        log_set_level(LOG_ERROR);
        assert_int_equal(log_get_level(), LOG_ERROR);
        log_write(LOG_WARNING, "engine", "filtered");
        log_line(LOG_INFO, "rdp", "filtered child line", 19);
        log_line(LOG_ERROR, "rdp", "child line", 10);
        log_set_level(LOG_DEBUG);
        log_write(LOG_DEBUG, "user", "debug now");
        log_set_level((enum log_level)99);   /* ignored */
        assert_int_equal(log_get_level(), LOG_DEBUG);

        content = close_and_read(path);
        assert_null(log_path());
        body = strip_times(content);
        assert_string_equal(body,
                            "[INFO] [desktop] hello 42\n"
                            "[WARNING] [-] no scope\n"
                            "[ERROR] [engine] bad\n"
                            "[ERROR] [rdp] child line\n"
                            "[DEBUG] [user] debug now\n");

        /* the time stamp is now, in UTC */
        char now[ISO8601_MAX];
        iso8601_now(now);
        assert_memory_equal(content + 1, now, 13);   /* same hour */
}

static void test_append_and_reopen(void **state)
{
        _cleanup_free_ char *path = NULL, *content = NULL, *body = NULL;
        (void)state;

        path = open_fresh();
        log_write(LOG_INFO, "a", "one");
        assert_int_equal(log_open(path), 0);   /* reopen replaces, appends */
        log_write(LOG_INFO, "a", "two");
        content = close_and_read(path);
        body = strip_times(content);
        assert_string_equal(body, "[INFO] [a] one\n[INFO] [a] two\n");
}

static void test_no_file(void **state)
{
        (void)state;
        log_close();
        log_close();   /* twice is fine */
        assert_null(log_path());
        log_write(LOG_ERROR, "engine", "goes nowhere %s", "at all");
        log_line(LOG_ERROR, "engine", "nowhere", 7);
        log_line(LOG_ERROR, NULL, NULL, 5);
        assert_int_equal(log_open(NULL), -EINVAL);
        assert_int_equal(log_open(""), -EINVAL);
}

static void test_mode(void **state)
{
        char *dir = test_tmpdir();
        _cleanup_free_ char *fresh = test_path(dir, "new.log");
        _cleanup_free_ char *old = test_path(dir, "old.log");
        _cleanup_free_ char *content = NULL;
        struct stat st;
        mode_t um;
        (void)state;

        um = umask(0);   /* a lax umask must not widen the mode */
        assert_int_equal(log_open(fresh), 0);
        umask(um);
        assert_int_equal(stat(fresh, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0600);
        log_close();

        test_write(old, "earlier line\n");
        assert_int_equal(stat(old, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0644);
        assert_int_equal(log_open(old), 0);
        assert_int_equal(stat(old, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0600);
        log_write(LOG_INFO, "x", "later");
        content = close_and_read(old);
        assert_true(startswith(content, "earlier line\n["));
        assert_non_null(strstr(content, "[INFO] [x] later\n"));
}

static void test_open_refused(void **state)
{
        char *dir = test_tmpdir();
        _cleanup_free_ char *missing = test_path(dir, "no/such/dir.log");
        _cleanup_free_ char *target = test_path(dir, "target.log");
        _cleanup_free_ char *link = test_path(dir, "link.log");
        _cleanup_free_ char *fifo = test_path(dir, "fifo.log");
        int fds = test_count_fds();
        (void)state;

        assert_int_equal(log_open(missing), -ENOENT);
        assert_true(log_open(dir) < 0);               /* a directory */
        test_write(target, "");
        assert_int_equal(symlink(target, link), 0);
        assert_int_equal(log_open(link), -ELOOP);     /* no symlinks */
        assert_int_equal(mkfifo(fifo, 0600), 0);
        assert_true(log_open(fifo) < 0);              /* and no hang */
        assert_null(log_path());
        assert_int_equal(test_count_fds(), fds);      /* nothing leaked */

        /* the open fd is close-on-exec */
        assert_int_equal(log_open(target), 0);
        assert_int_equal(test_count_fds(), fds + 1);
        log_close();
        assert_int_equal(test_count_fds(), fds);
}

static void test_redaction(void **state)
{
        _cleanup_free_ char *path = NULL, *content = NULL, *body = NULL;
        struct secret *a = NULL, *b = NULL, *c = NULL, *empty = NULL;
        char child[] = "s3cr3t-pw: chpasswd got s3cr3t-pw\n";
        (void)state;

        assert_int_equal(secret_from("s3cr3t-pw", 9, &a), 0);
        assert_int_equal(secret_from("Tr0ub4dor", 9, &b), 0);
        assert_int_equal(secret_from("dorXYZ", 6, &c), 0);   /* overlaps b's tail */
        assert_int_equal(secret_from("", 0, &empty), 0);
        log_register_secret(a);
        log_register_secret(b);
        log_register_secret(b);   /* twice is once */
        log_register_secret(c);
        log_register_secret(empty);
        log_register_secret(NULL);

        path = open_fresh();
        log_write(LOG_INFO, "user", "s3cr3t-pw");
        log_write(LOG_INFO, "user", "pw=s3cr3t-pw and again s3cr3t-pw, then %s", "Tr0ub4dor");
        log_write(LOG_INFO, "user", "overlap Tr0ub4dorXYZ end");
        log_write(LOG_INFO, "user", "back to back s3cr3t-pws3cr3t-pw!");
        log_write(LOG_INFO, "user", "almost s3cr3t-p and r0ub4dor");
        log_line(LOG_INFO, "user", child, strlen(child));

        /* log_redact: same rules, a new string, no escaping */
        _cleanup_free_ char *r1 = log_redact("a\ts3cr3t-pw\n\033", 13);
        assert_string_equal(r1, "a\t[REDACTED]\n\033");
        _cleanup_free_ char *r2 = log_redact("nothing here", 12);
        assert_string_equal(r2, "nothing here");
        _cleanup_free_ char *r3 = log_redact("xs3cr3t-pw-cut", 5);   /* only len bytes */
        assert_string_equal(r3, "xs3cr");
        _cleanup_free_ char *r4 = log_redact(NULL, 0);
        assert_string_equal(r4, "");

        log_unregister_secret(b);
        log_write(LOG_INFO, "user", "b is Tr0ub4dor again");
        log_unregister_secret(a);
        log_unregister_secret(c);
        log_unregister_secret(empty);
        log_unregister_secret(a);   /* not registered: nothing happens */
        log_write(LOG_INFO, "user", "all gone: s3cr3t-pw");
        _cleanup_free_ char *r5 = log_redact("s3cr3t-pw", 9);
        assert_string_equal(r5, "s3cr3t-pw");

        content = close_and_read(path);
        body = strip_times(content);
        assert_string_equal(body,
                            "[INFO] [user] [REDACTED]\n"
                            "[INFO] [user] pw=[REDACTED] and again [REDACTED], then [REDACTED]\n"
                            "[INFO] [user] overlap [REDACTED] end\n"
                            "[INFO] [user] back to back [REDACTED]!\n"
                            "[INFO] [user] almost s3cr3t-p and r0ub4dor\n"
                            "[INFO] [user] [REDACTED]: chpasswd got [REDACTED]\n"
                            "[INFO] [user] b is Tr0ub4dor again\n"
                            "[INFO] [user] all gone: s3cr3t-pw\n");
        secret_free(a);
        secret_free(b);
        secret_free(c);
        secret_free(empty);
}

/* A secret that overlaps itself ("aaaa" in "aaaaaa") and a short one. */
static void test_redaction_self_overlap(void **state)
{
        struct secret *s = NULL, *t = NULL;
        (void)state;

        assert_int_equal(secret_from("abab", 4, &s), 0);
        assert_int_equal(secret_from("Q", 1, &t), 0);
        log_register_secret(s);
        log_register_secret(t);
        _cleanup_free_ char *r = log_redact("xabababy Q", 10);
        assert_string_equal(r, "x[REDACTED]y [REDACTED]");
        log_unregister_secret(s);
        log_unregister_secret(t);
        secret_free(s);
        secret_free(t);
}

static void test_escaping(void **state)
{
        _cleanup_free_ char *path = NULL, *content = NULL, *body = NULL;
        static const char evil[] = "ok\r\n[2026-01-01T00:00:00Z] [INFO] [x] forged\033[31mred\x7f";
        static const char bytes[] = "bad \xff\xfe utf8 \xc3\x28 cut \xe2\x82";
        static const char good[] = "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 tab\there";
        static const char c1[] = "csi \xc2\x9b" "31m nbsp \xc2\xa0.";
        static const char nul[] = { 'a', '\0', 'b' };
        static const char overlong[] = "\xc0\xaf \xed\xa0\x80";   /* overlong '/', surrogate */
        (void)state;

        path = open_fresh();
        log_write(LOG_INFO, "x", "%s", evil);
        log_line(LOG_WARNING, "x", bytes, strlen(bytes));
        log_line(LOG_INFO, "x", good, strlen(good));
        log_line(LOG_INFO, "x", c1, strlen(c1));
        log_line(LOG_INFO, "x", nul, sizeof(nul));
        log_line(LOG_INFO, "x", overlong, strlen(overlong));
        log_line(LOG_INFO, "x", "with newline\r\n", 14);
        log_line(LOG_INFO, "x", "\n", 1);
        log_line(LOG_INFO, "sc\nope", "scope escaped", 13);

        content = close_and_read(path);
        body = strip_times(content);
        assert_string_equal(body,
                            "[INFO] [x] ok\\x0d\\x0a[2026-01-01T00:00:00Z] [INFO] [x] forged\\x1b[31mred\\x7f\n"
                            "[WARNING] [x] bad \\xff\\xfe utf8 \\xc3( cut \\xe2\\x82\n"
                            "[INFO] [x] caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 tab\there\n"
                            "[INFO] [x] csi \\xc2\\x9b31m nbsp \xc2\xa0.\n"
                            "[INFO] [x] a\\x00b\n"
                            "[INFO] [x] \\xc0\\xaf \\xed\\xa0\\x80\n"
                            "[INFO] [x] with newline\n"
                            "[INFO] [x] \n"
                            "[INFO] [sc\\x0aope] scope escaped\n");
}

static void test_long_message_cut(void **state)
{
        _cleanup_free_ char *path = NULL, *content = NULL;
        size_t n = 100 * 1024;
        char *big = xmalloc(n);
        (void)state;

        memset(big, 'z', n);
        path = open_fresh();
        log_line(LOG_INFO, "big", big, n);
        free(big);
        content = close_and_read(path);
        assert_non_null(strstr(content, "[INFO] [big] zzz"));
        assert_non_null(strstr(content, "z [36864 more bytes cut]\n"));
        assert_int_equal(strchr(content, '\n') - content + 1, (long)strlen(content));
        assert_true(strlen(content) < 66 * 1024);
}

#define N_THREADS 4

struct writer {
        int id;
        int lines;
};

static void *writer_main(void *arg)
{
        struct writer *w = arg;
        char pad[3000];

        memset(pad, 'a' + w->id, sizeof(pad) - 1);
        pad[sizeof(pad) - 1] = '\0';
        for (int i = 0; i < w->lines; i++) {
                if (i % 2)
                        log_write(LOG_INFO, "t", "w%d n%d %s end", w->id, i, pad);
                else {
                        char *l = xasprintf("w%d n%d %s end\n", w->id, i, pad);
                        log_line(LOG_WARNING, "t", l, strlen(l));
                        free(l);
                }
        }
        return NULL;
}

static void test_concurrent_writers(void **state)
{
        _cleanup_free_ char *path = NULL, *content = NULL;
        struct writer w[N_THREADS];
        pthread_t th[N_THREADS];
        int lines = test_under_valgrind() ? 200 : 2000;
        int next[N_THREADS] = { 0 };
        regex_t re;
        int total = 0;
        (void)state;

        path = open_fresh();
        for (int i = 0; i < N_THREADS; i++) {
                w[i] = (struct writer){ .id = i, .lines = lines };
                assert_int_equal(pthread_create(&th[i], NULL, writer_main, &w[i]), 0);
        }
        for (int i = 0; i < N_THREADS; i++)
                assert_int_equal(pthread_join(th[i], NULL), 0);
        content = close_and_read(path);

        assert_int_equal(regcomp(&re,
                                 "^" TS_RE " \\[(INFO|WARNING)\\] \\[t\\] w([0-9]) n([0-9]+) ([a-d]{2999}) end$",
                                 REG_EXTENDED),
                         0);
        for (char *p = content, *nl; *p; p = nl + 1) {
                regmatch_t m[5];
                nl = strchr(p, '\n');
                assert_non_null(nl);
                *nl = '\0';
                assert_int_equal(regexec(&re, p, 5, m, 0), 0);
                int id = p[m[2].rm_so] - '0';
                long n = strtol(p + m[3].rm_so, NULL, 10);
                assert_true(id >= 0 && id < N_THREADS);
                /* each writer's lines whole, in its order, with its own padding */
                assert_int_equal(n, next[id]);
                next[id]++;
                assert_int_equal(p[m[4].rm_so], 'a' + id);
                assert_int_equal(p[m[4].rm_eo - 1], 'a' + id);
                total++;
        }
        regfree(&re);
        assert_int_equal(total, N_THREADS * lines);
        for (int i = 0; i < N_THREADS; i++)
                assert_int_equal(next[i], lines);
}

static void test_level_names(void **state)
{
        enum log_level l = LOG_ERROR;
        static const char *const bad[] = { "", "warn", "infos", "fatal", " info", "INFO " };
        (void)state;

        assert_string_equal(log_level_name(LOG_DEBUG), "DEBUG");
        assert_string_equal(log_level_name(LOG_INFO), "INFO");
        assert_string_equal(log_level_name(LOG_WARNING), "WARNING");
        assert_string_equal(log_level_name(LOG_ERROR), "ERROR");
        assert_string_equal(log_level_name(_LOG_LEVEL_MAX), "UNKNOWN");

        assert_int_equal(log_level_from_string("debug", &l), 0);
        assert_int_equal(l, LOG_DEBUG);
        assert_int_equal(log_level_from_string("INFO", &l), 0);
        assert_int_equal(l, LOG_INFO);
        assert_int_equal(log_level_from_string("Warning", &l), 0);
        assert_int_equal(l, LOG_WARNING);
        assert_int_equal(log_level_from_string("eRRoR", &l), 0);
        assert_int_equal(l, LOG_ERROR);
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                l = LOG_DEBUG;
                assert_int_equal(log_level_from_string(bad[i], &l), -EINVAL);
                assert_int_equal(l, LOG_DEBUG);   /* untouched */
        }
        assert_int_equal(log_level_from_string(NULL, &l), -EINVAL);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup(test_format_and_levels, setup),
                cmocka_unit_test_setup(test_append_and_reopen, setup),
                cmocka_unit_test_setup(test_no_file, setup),
                cmocka_unit_test_setup(test_mode, setup),
                cmocka_unit_test_setup(test_open_refused, setup),
                cmocka_unit_test_setup(test_redaction, setup),
                cmocka_unit_test_setup(test_redaction_self_overlap, setup),
                cmocka_unit_test_setup(test_escaping, setup),
                cmocka_unit_test_setup(test_long_message_cut, setup),
                cmocka_unit_test_setup(test_concurrent_writers, setup),
                cmocka_unit_test_setup(test_level_names, setup),
        };
        int r = cmocka_run_group_tests(tests, NULL, NULL);
        log_close();
        return r;
}
