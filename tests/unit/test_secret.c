/* test_secret.c — passwords: length limits, classes, alphabet, uniformity;
 * secret memory: copied, locked, kept out of core dumps, unmapped on free;
 * process hardening. */
#include "testlib.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/capability.h>
#include <unistd.h>

#include "secret.h"
#include "util.h"

/* Characters the header promises never to use. */
static const char FORBIDDEN[] = "0Oo1lI|`'\" \\,;:<>&";

static const char *const CLASSES[] = { SECRET_UPPER, SECRET_LOWER, SECRET_DIGITS, SECRET_SYMBOLS };

/* What /proc/self/smaps says about the mapping that holds addr. */
struct smap {
        bool found;
        bool dd, lo;
        long locked_kb;
        uintptr_t start, end;
};

static struct smap smaps_for(const void *addr)
{
        struct smap m = { 0 };
        FILE *f = fopen("/proc/self/smaps", "re");
        char *line = NULL;
        size_t cap = 0;
        bool in = false;

        assert_non_null(f);
        while (getline(&line, &cap, f) > 0) {
                uintptr_t a, b;
                char tail;

                if (sscanf(line, "%" SCNxPTR "-%" SCNxPTR " %c", &a, &b, &tail) == 3 &&
                    strchr(line, '-') < strchr(line, ' ')) {
                        if (in)
                                break;
                        in = (uintptr_t)addr >= a && (uintptr_t)addr < b;
                        if (in) {
                                m.found = true;
                                m.start = a;
                                m.end = b;
                        }
                        continue;
                }
                if (!in)
                        continue;
                if (startswith(line, "Locked:"))
                        m.locked_kb = strtol(line + 7, NULL, 10);
                else if (startswith(line, "VmFlags:")) {
                        m.dd = strstr(line, " dd") != NULL;
                        m.lo = strstr(line, " lo") != NULL;
                }
        }
        free(line);
        fclose(f);
        return m;
}

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif

/* True when mlock() of a few pages is expected to succeed here. ASan's
 * mlock() interceptor does nothing (and returns 0), so not under ASan. */
static bool mlock_expected(void)
{
        struct rlimit rl;
#ifdef UNDER_ASAN
        return false;
#endif
        if (geteuid() == 0)
                return true;
        return getrlimit(RLIMIT_MEMLOCK, &rl) == 0 &&
               (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= 256 * 1024);
}

static bool in_class(char c, const char *cls)
{
        return c && strchr(cls, c);
}

static void test_lengths(void **state)
{
        static const size_t ok[] = { 16, 17, 20, 64, 127, 128 };
        static const size_t bad[] = { 0, 1, 15, 129, 4096 };
        (void)state;

        for (size_t i = 0; i < ELEMENTSOF(ok); i++) {
                struct secret *s = NULL;
                assert_int_equal(secret_generate_password(ok[i], &s), 0);
                assert_non_null(s);
                assert_int_equal(secret_len(s), ok[i]);
                assert_int_equal(strlen(secret_str(s)), ok[i]);
                secret_free(s);
        }
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                struct secret *s = (struct secret *)0x1;
                assert_int_equal(secret_generate_password(bad[i], &s), -EINVAL);
                assert_ptr_equal(s, (struct secret *)0x1);   /* untouched on failure */
        }
}

static void test_alphabets(void **state)
{
        (void)state;
        assert_string_equal(SECRET_DIGITS, "23456789");
        for (size_t c = 0; c < ELEMENTSOF(CLASSES); c++) {
                const char *cls = CLASSES[c];
                assert_true(strlen(cls) >= 8);
                for (const char *p = cls; *p; p++) {
                        assert_null(strchr(FORBIDDEN, *p));
                        assert_true(*p > 0x20 && *p < 0x7f);
                        assert_null(strchr(p + 1, *p));   /* no duplicate */
                        for (size_t d = 0; d < ELEMENTSOF(CLASSES); d++)
                                if (d != c)
                                        assert_null(strchr(CLASSES[d], *p));
                }
        }
}

static void test_every_class_no_forbidden(void **state)
{
        unsigned n = 10000;
        (void)state;

        for (unsigned i = 0; i < n; i++) {
                struct secret *s = NULL;
                bool seen[4] = { false, false, false, false };

                assert_int_equal(secret_generate_password(16 + i % 5, &s), 0);
                for (const char *p = secret_str(s); *p; p++) {
                        bool known = false;
                        assert_null(strchr(FORBIDDEN, *p));
                        for (size_t c = 0; c < 4; c++)
                                if (in_class(*p, CLASSES[c]))
                                        seen[c] = known = true;
                        assert_true(known);
                }
                assert_true(seen[0] && seen[1] && seen[2] && seen[3]);
                secret_free(s);
        }
}

/* Chi-square over character frequencies. With 65 degrees of freedom the
 * statistic has mean 65 and standard deviation about 11.4; the bound of
 * 160 is more than eight deviations out (never reached by chance), while a
 * modulo bias (some characters 4/256, others 3/256) gives thousands. */
static void test_uniformity(void **state)
{
        char alphabet[128];
        unsigned draws = test_under_valgrind() ? 2000 : 20000;
        const size_t len = 64;
        uint64_t count[256] = { 0 };
        size_t n, total = 0;
        double expected, chi2 = 0;
        (void)state;

        assert_true(snprintf(alphabet, sizeof(alphabet), "%s%s%s%s", SECRET_UPPER,
                             SECRET_LOWER, SECRET_DIGITS, SECRET_SYMBOLS) > 0);
        n = strlen(alphabet);
        for (unsigned i = 0; i < draws; i++) {
                struct secret *s = NULL;
                assert_int_equal(secret_generate_password(len, &s), 0);
                for (const char *p = secret_str(s); *p; p++) {
                        count[(unsigned char)*p]++;
                        total++;
                }
                secret_free(s);
        }
        expected = (double)total / (double)n;
        for (size_t i = 0; i < n; i++) {
                double d = (double)count[(unsigned char)alphabet[i]] - expected;
                chi2 += d * d / expected;
        }
        print_message("chi-square %.1f over %zu characters, %zu symbols\n", chi2, total, n);
        assert_true(chi2 < 160.0);
        /* and every character of the alphabet shows up */
        for (size_t i = 0; i < n; i++)
                assert_true(count[(unsigned char)alphabet[i]] > 0);
}

/* Layout-safe passwords: letters on the same key in QWERTY, QWERTZ and
 * AZERTY only, both cases, uniform, and long enough to be as strong. */
static void test_layout_safe(void **state)
{
        static const char moved[] = "aAmMqQwWyYzZ";   /* other keys in QWERTZ or AZERTY */
        unsigned draws = test_under_valgrind() ? 1000 : 10000;
        uint64_t count[256] = { 0 };
        size_t total = 0, n;
        char alphabet[64];
        double expected, chi2 = 0;
        struct secret *s = (struct secret *)0x1;
        (void)state;

        assert_int_equal(strlen(SECRET_SAFE_UPPER), 18);
        assert_int_equal(strlen(SECRET_SAFE_LOWER), 18);
        assert_true(snprintf(alphabet, sizeof(alphabet), "%s%s", SECRET_SAFE_UPPER, SECRET_SAFE_LOWER) > 0);
        n = strlen(alphabet);
        for (const char *p = alphabet; *p; p++) {
                assert_true((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z'));
                assert_null(strchr(moved, *p));
                assert_null(strchr(FORBIDDEN, *p));
                assert_null(strchr(p + 1, *p));
        }
        /* as many bits as the full alphabet: 20 -> 24 (20 * log2 66 / log2 36 = 23.4) */
        assert_int_equal(secret_layout_safe_length(20), 24);
        assert_int_equal(secret_layout_safe_length(16), 19);
        assert_int_equal(secret_layout_safe_length(64), 75);
        assert_int_equal(secret_layout_safe_length(128), 128);   /* capped */
        assert_int_equal(secret_generate_layout_safe(15, &s), -EINVAL);
        assert_ptr_equal(s, (struct secret *)0x1);
        for (unsigned i = 0; i < draws; i++) {
                bool upper = false, lower = false;
                assert_int_equal(secret_generate_layout_safe(24, &s), 0);
                assert_int_equal(secret_len(s), 24);
                for (const char *p = secret_str(s); *p; p++) {
                        assert_non_null(strchr(alphabet, *p));
                        upper = upper || in_class(*p, SECRET_SAFE_UPPER);
                        lower = lower || in_class(*p, SECRET_SAFE_LOWER);
                        count[(unsigned char)*p]++;
                        total++;
                }
                assert_true(upper && lower);
                secret_free(s);
        }
        /* 35 degrees of freedom: mean 35, deviation about 8.4 */
        expected = (double)total / (double)n;
        for (size_t i = 0; i < n; i++) {
                double d = (double)count[(unsigned char)alphabet[i]] - expected;
                chi2 += d * d / expected;
        }
        print_message("layout-safe chi-square %.1f over %zu characters\n", chi2, total);
        assert_true(chi2 < 110.0);
}

static void test_passwords_differ(void **state)
{
        struct secret *a = NULL, *b = NULL;
        (void)state;

        assert_int_equal(secret_generate_password(16, &a), 0);
        assert_int_equal(secret_generate_password(16, &b), 0);
        assert_string_not_equal(secret_str(a), secret_str(b));
        assert_ptr_not_equal(a, b);
        secret_free(a);
        secret_free(b);
}

static void test_from(void **state)
{
        char text[] = "typed in: s3cret";
        struct secret *s = NULL, *e = NULL, *z = NULL;
        (void)state;

        assert_int_equal(secret_from(text, 8, &s), 0);
        assert_int_equal(secret_len(s), 8);
        assert_string_equal(secret_str(s), "typed in");
        memset(text, 'x', sizeof(text) - 1);
        assert_string_equal(secret_str(s), "typed in");   /* a copy */

        assert_int_equal(secret_from("", 0, &e), 0);
        assert_int_equal(secret_len(e), 0);
        assert_string_equal(secret_str(e), "");
        assert_int_equal(secret_from(NULL, 0, &z), 0);
        assert_string_equal(secret_str(z), "");

        struct secret *bad = (struct secret *)0x1;
        assert_int_equal(secret_from(NULL, 3, &bad), -EINVAL);
        assert_ptr_equal(bad, (struct secret *)0x1);

        secret_free(s);
        secret_free(e);
        secret_free(z);
        secret_free(NULL);
        assert_null(secret_str(NULL));
        assert_int_equal(secret_len(NULL), 0);
}

/* The text lives in a locked, non-dumpable mapping, also when it spans
 * several pages, and the mapping is gone after secret_free(). */
static void test_locked_not_dumpable(void **state)
{
        size_t sizes[] = { 16, 3 * 4096 + 5 };
        (void)state;

        for (size_t i = 0; i < ELEMENTSOF(sizes); i++) {
                char *text = malloc(sizes[i]);
                struct secret *s = NULL;
                struct smap m;
                const char *p;

                assert_non_null(text);
                memset(text, 'k', sizes[i]);
                assert_int_equal(secret_from(text, sizes[i], &s), 0);
                free(text);
                p = secret_str(s);

                m = smaps_for(p);
                assert_true(m.found);
                assert_true(m.dd);
                /* the whole text is inside that one mapping */
                assert_true((uintptr_t)p + sizes[i] < m.end);
                if (mlock_expected()) {
                        assert_true(m.lo);
                        assert_true(m.locked_kb > 0);
                        assert_true((uintptr_t)m.locked_kb * 1024 >= sizes[i]);
                } else {
                        print_message("ASan, or RLIMIT_MEMLOCK too small: lock not checked\n");
                }

                secret_free(s);
                /* unmapped now: no mapping holds the address any more */
                m = smaps_for(p);
                assert_false(m.found);
        }
}

/* Waits for a forked child and returns its exit code (or 100 + signal). */
static int wait_child(pid_t pid)
{
        int st;
        assert_true(pid > 0);
        assert_int_equal(waitpid(pid, &st, 0), pid);
        if (WIFSIGNALED(st))
                return 100 + WTERMSIG(st);
        return WEXITSTATUS(st);
}

/* Drops CAP_IPC_LOCK (which lets root lock past RLIMIT_MEMLOCK) from this
 * process: raw capget/capset, as the test links no libcap. */
static int drop_ipc_lock(void)
{
        struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
        struct __user_cap_data_struct d[2];

        if (syscall(SYS_capget, &h, d) < 0)
                return -errno;
        d[CAP_IPC_LOCK / 32].effective &= ~(1u << (CAP_IPC_LOCK % 32));
        d[CAP_IPC_LOCK / 32].permitted &= ~(1u << (CAP_IPC_LOCK % 32));
        if (syscall(SYS_capset, &h, d) < 0)
                return -errno;
        return 0;
}

/* With RLIMIT_MEMLOCK at 0 (and no CAP_IPC_LOCK), a secret is still
 * created: not locked, but still kept out of core dumps. Runs in a child
 * so the limit stays there. */
static void test_mlock_refused(void **state)
{
        pid_t pid;
        (void)state;

        pid = fork();
        if (pid == 0) {
                struct rlimit rl = { 0, 0 };
                struct secret *s = NULL;
                struct smap m;

                if (setrlimit(RLIMIT_MEMLOCK, &rl) < 0)
                        _exit(2);
                if (drop_ipc_lock() < 0)
                        _exit(8);
                if (secret_from("abc", 3, &s) < 0)
                        _exit(3);
                if (strcmp(secret_str(s), "abc") != 0)
                        _exit(4);
                m = smaps_for(secret_str(s));
                if (!m.found || !m.dd)
                        _exit(5);
                if (m.lo || m.locked_kb != 0)
                        _exit(6);
                secret_free(s);
                if (secret_generate_password(20, &s) < 0)
                        _exit(7);
                secret_free(s);
                _exit(0);
        }
        assert_int_equal(wait_child(pid), 0);
}

/* Runs in a child so this test process stays debuggable. */
static void test_harden_process(void **state)
{
        pid_t pid;
        (void)state;

        assert_int_equal(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0), 1);
        pid = fork();
        if (pid == 0) {
                struct rlimit rl;
                secret_harden_process();
                if (prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) != 0)
                        _exit(2);
                if (getrlimit(RLIMIT_CORE, &rl) < 0 || rl.rlim_cur != 0 || rl.rlim_max != 0)
                        _exit(3);
                _exit(0);
        }
        assert_int_equal(wait_child(pid), 0);
        assert_int_equal(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0), 1);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_lengths),
                cmocka_unit_test(test_alphabets),
                cmocka_unit_test(test_every_class_no_forbidden),
                cmocka_unit_test(test_uniformity),
                cmocka_unit_test(test_layout_safe),
                cmocka_unit_test(test_passwords_differ),
                cmocka_unit_test(test_from),
                cmocka_unit_test(test_locked_not_dumpable),
                cmocka_unit_test(test_mlock_refused),
                cmocka_unit_test(test_harden_process),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
