/* test_util.c — the small helpers everything else stands on: string
 * vectors, bounded buffers, atomic files, SHA-256, strict parsing, UTF-8. */
#include "testlib.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

static void strv_ops(void **state)
{
        char **v = NULL, **c;
        char *j;
        (void)state;

        assert_int_equal(strv_length(v), 0);
        j = strv_join(v, ",");
        assert_string_equal(j, "");
        free(j);

        strv_push(&v, "pear");
        strv_push_take(&v, xstrdup("apple"));
        strv_pushf(&v, "fig-%d", 7);
        assert_int_equal(strv_length(v), 3);
        assert_null(v[3]);
        assert_true(strv_contains(v, "fig-7"));
        assert_false(strv_contains(v, "fig"));

        c = strv_copy(v);
        strv_sort(c);
        j = strv_join(c, ", ");
        assert_string_equal(j, "apple, fig-7, pear");
        free(j);
        /* the first few, then how many more */
        j = strv_join_some(c, 2);
        assert_string_equal(j, "apple, fig-7 (and 1 more)");
        free(j);
        j = strv_join_some(c, 3);
        assert_string_equal(j, "apple, fig-7, pear");
        free(j);
        j = strv_join_some(NULL, 3);
        assert_string_equal(j, "");
        free(j);
        /* the copy is deep: the original keeps its order */
        assert_string_equal(v[0], "pear");
        assert_ptr_not_equal(c[0], v[1]);
        strv_free(c);
        strv_free(v);
        strv_free(NULL);
}

static void buf_bounds(void **state)
{
        struct buf b;
        char *s;
        (void)state;

        buf_init(&b, 10);
        assert_int_equal(buf_append(&b, "hello", 5), 0);
        assert_int_equal(buf_printf(&b, "-%d", 42), 0);
        assert_string_equal(b.data, "hello-42");
        /* past the maximum: refused, unchanged */
        assert_int_equal(buf_append(&b, "xyz", 3), -E2BIG);
        assert_int_equal(buf_printf(&b, "%s", "abc"), -E2BIG);
        assert_int_equal(b.len, 8);
        assert_string_equal(b.data, "hello-42");
        assert_int_equal(buf_append(&b, "ab", 2), 0);
        assert_int_equal(b.len, 10);

        s = buf_steal(&b);
        assert_string_equal(s, "hello-42ab");
        free(s);
        assert_int_equal(b.len, 0);
        s = buf_steal(&b);   /* empty steal is "" */
        assert_string_equal(s, "");
        free(s);
        buf_release(&b);
}

static void times(void **state)
{
        char t[ISO8601_MAX];
        int64_t a, b;
        (void)state;

        iso8601(0, t);
        assert_string_equal(t, "1970-01-01T00:00:00Z");
        iso8601(1795688100, t);   /* 2026-11-26T10:15:00Z */
        assert_string_equal(t, "2026-11-26T10:15:00Z");
        iso8601_now(t);
        assert_int_equal(strlen(t), 20);

        a = now_ms();
        sleep_ms(30);
        b = now_ms();
        assert_true(b - a >= 30);
        assert_true(b - a < 5000);
        assert_true(wall_ms() > 1700000000000LL);
}

static void files(void **state)
{
        char *d = test_tmpdir();
        char *p = test_path(d, "a/b/c/file");
        char *dir = test_path(d, "a/b/c");
        char *copy = test_path(d, "copy");
        char *data = NULL;
        size_t len = 0;
        struct stat st;
        (void)state;

        assert_int_equal(mkdir_p(dir, 0750), 0);
        assert_int_equal(mkdir_p(dir, 0750), 0);   /* exists: fine */
        assert_int_equal(stat(dir, &st), 0);
        assert_true(S_ISDIR(st.st_mode));

        assert_int_equal(write_file_atomic(p, "one\n", 4, 0600, (uid_t)-1, (gid_t)-1), 0);
        assert_int_equal(stat(p, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0600);
        assert_int_equal(read_file(p, 100, &data, &len), 0);
        assert_int_equal(len, 4);
        assert_string_equal(data, "one\n");
        free(data);

        /* replaced whole, new mode; no temp file left beside it */
        assert_int_equal(write_file_atomic(p, "second\n", 7, 0644, (uid_t)-1, (gid_t)-1), 0);
        assert_int_equal(stat(p, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0644);
        assert_int_equal(st.st_size, 7);
        assert_int_equal(read_file(p, 3, &data, &len), -EFBIG);
        assert_int_equal(read_file(copy, 100, &data, &len), -ENOENT);

        assert_int_equal(copy_file_synced(p, copy, 0640), 0);
        assert_int_equal(stat(copy, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0640);
        assert_int_equal(read_file(copy, 100, &data, NULL), 0);
        assert_string_equal(data, "second\n");
        free(data);
        assert_true(path_exists(copy));
        assert_false(path_exists("/nonexistent/x/y"));

        /* a directory where the file should go: refused, nothing changed */
        assert_true(write_file_atomic(dir, "x", 1, 0644, (uid_t)-1, (gid_t)-1) < 0);
        assert_int_equal(stat(dir, &st), 0);
        assert_true(S_ISDIR(st.st_mode));
        free(p);
        free(dir);
        free(copy);
}

static void no_temp_left(void **state)
{
        char *d = test_tmpdir();
        char *p = test_path(d, "f");
        struct dirent *de;
        int n = 0;
        DIR *dh;
        (void)state;

        for (int i = 0; i < 20; i++)
                assert_int_equal(write_file_atomic(p, "abc", 3, 0644, (uid_t)-1, (gid_t)-1), 0);
        /* only the file itself is in the directory: no temp files */
        dh = opendir(d);
        assert_non_null(dh);
        while ((de = readdir(dh)))
                if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0) {
                        assert_string_equal(de->d_name, "f");
                        n++;
                }
        closedir(dh);
        assert_int_equal(n, 1);
        free(p);
}

static void sha256(void **state)
{
        char h[SHA256_HEX], h2[SHA256_HEX];
        struct sha256_ctx *c;
        char *d = test_tmpdir();
        char *p = test_path(d, "f");
        (void)state;

        sha256_hex("", 0, h);
        assert_string_equal(h, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        sha256_hex("abc", 3, h);
        assert_string_equal(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");

        c = sha256_begin();
        sha256_add(c, "a", 1);
        sha256_add(c, "", 0);
        sha256_add(c, "bc", 2);
        sha256_end(c, h2);
        assert_string_equal(h, h2);

        test_write(p, "abc");
        assert_int_equal(sha256_file(p, h2), 0);
        assert_string_equal(h, h2);
        free(p);
        p = test_path(d, "missing");
        assert_int_equal(sha256_file(p, h2), -ENOENT);
        free(p);
}

static void parsing(void **state)
{
        long v;
        bool b;
        (void)state;

        assert_int_equal(parse_long("3389", 1, 65535, &v), 0);
        assert_int_equal(v, 3389);
        assert_int_equal(parse_long("0", 1, 65535, &v), -ERANGE);
        assert_int_equal(parse_long("70000", 1, 65535, &v), -ERANGE);
        assert_int_equal(parse_long("99999999999999999999999", 1, 65535, &v), -ERANGE);
        assert_true(parse_long("", 1, 10, &v) < 0);
        assert_true(parse_long("12x", 1, 100, &v) < 0);
        assert_true(parse_long(" 12", 1, 100, &v) < 0);
                assert_true(parse_long("0x10", 1, 100, &v) < 0);
        assert_int_equal(parse_long("-5", -10, 10, &v), 0);
        assert_int_equal(v, -5);

        assert_int_equal(parse_bool("yes", &b), 0);
        assert_true(b);
        assert_int_equal(parse_bool("Off", &b), 0);
        assert_false(b);
        assert_int_equal(parse_bool("0", &b), 0);
        assert_false(b);
        assert_int_equal(parse_bool("yess", &b), -EINVAL);
        assert_int_equal(parse_bool("", &b), -EINVAL);
}

static void utf8(void **state)
{
        (void)state;
        assert_true(utf8_valid("plain", 5));
        assert_true(utf8_valid("Jos\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 14));
        assert_false(utf8_valid("\xc3", 1));                 /* truncated */
        assert_false(utf8_valid("\xc0\xaf", 2));             /* overlong '/' */
        assert_false(utf8_valid("\xe0\x80\xaf", 3));         /* overlong */
        assert_false(utf8_valid("\xed\xa0\x80", 3));         /* surrogate */
        assert_false(utf8_valid("\xf4\x90\x80\x80", 4));     /* > U+10FFFF */
        assert_false(utf8_valid("\xff", 1));
        assert_false(utf8_valid("a\0b", 3));                 /* NUL */
        assert_true(utf8_valid("", 0));
}

/* One character at a time: the decoder behind utf8_valid, events' JSON
 * strings and the log's escaping. */
static void utf8_chars(void **state)
{
        static const struct {
                const char *s;
                size_t n, want;
        } cases[] = {
                { "a", 1, 1 },
                { "", 1, 1 },                       /* NUL is ASCII here; utf8_valid refuses it */
                { "\x7f", 1, 1 },
                { "\xc3\xa9x", 3, 2 },               /* é, then more */
                { "\xe2\x82\xac", 3, 3 },            /* € */
                { "\xf0\x9f\x98\x80", 4, 4 },        /* U+1F600 */
                { "\xf4\x8f\xbf\xbf", 4, 4 },        /* U+10FFFF, the last */
                { "\xef\xbf\xbd", 3, 3 },            /* U+FFFD */
                { "\xc3\xa9", 1, 0 },                 /* cut off by n */
                { "\xe2\x82\xac", 2, 0 },
                { "\xf0\x9f\x98\x80", 3, 0 },
                { "\x80", 1, 0 },                     /* a continuation byte alone */
                { "\xc3\x28", 2, 0 },                 /* no continuation */
                { "\xc1\xbf", 2, 0 },                 /* overlong (0xc0, 0xc1 never lead) */
                { "\xe0\x9f\xbf", 3, 0 },            /* overlong 3-byte */
                { "\xf0\x8f\xbf\xbf", 4, 0 },        /* overlong 4-byte */
                { "\xed\xbf\xbf", 3, 0 },            /* surrogate */
                { "\xf4\x90\x80\x80", 4, 0 },        /* above U+10FFFF */
                { "\xf5\x80\x80\x80", 4, 0 },
                { "\xff", 1, 0 },
        };
        (void)state;

        for (size_t i = 0; i < ELEMENTSOF(cases); i++)
                if (utf8_char_len(cases[i].s, cases[i].n) != cases[i].want)
                        fail_msg("case %zu: %zu, want %zu", i,
                                 utf8_char_len(cases[i].s, cases[i].n), cases[i].want);
        assert_int_equal(utf8_char_len("a", 0), 0);
}

static char *format(const char *fmt, ...) _printf_(1, 2);
static char *format(const char *fmt, ...)
{
        va_list ap;
        char *s;

        va_start(ap, fmt);
        s = xvasprintf(fmt, ap);
        va_end(ap);
        return s;
}

static void xvasprintf_formats(void **state)
{
        char *s, *big;
        (void)state;

        s = format("%s=%d (%.1f%%)", "port", 3389, 12.5);
        assert_string_equal(s, "port=3389 (12.5%)");
        free(s);
        s = format("%s", "");
        assert_string_equal(s, "");
        free(s);
        /* longer than any stack buffer a printf might start with */
        big = xmalloc(100001);
        memset(big, 'x', 100000);
        big[100000] = '\0';
        s = format("<%s>", big);
        assert_int_equal(strlen(s), 100002);
        assert_int_equal(s[0], '<');
        assert_int_equal(s[100001], '>');
        free(s);
        free(big);
}

static void strings(void **state)
{
        char s[] = "  \t padded value \n";
        char small[6];
        char secret[16] = "hunter2hunter2!";
        (void)state;

        assert_string_equal(strstrip(s), "padded value");
        assert_true(startswith("apt-get", "apt"));
        assert_false(startswith("ap", "apt"));
        assert_true(startswith("x", ""));

        assert_int_equal(strscpy(small, sizeof(small), "abc"), 0);
        assert_string_equal(small, "abc");
        assert_int_equal(strscpy(small, sizeof(small), "abcdefgh"), -ENAMETOOLONG);
        assert_string_equal(small, "abcde");
        assert_int_equal(strscpy(small, 0, "x"), -ENAMETOOLONG);

        wipe(secret, sizeof(secret));
        for (size_t i = 0; i < sizeof(secret); i++)
                assert_int_equal(secret[i], 0);

        {
                char *f = xasprintf("%s=%d", "port", 3389);
                assert_string_equal(f, "port=3389");
                free(f);
        }
        {
                char *n = xstrndup("abcdef", 3);
                assert_string_equal(n, "abc");
                free(n);
        }
        {
                char err[8] = "old";
                assert_int_equal(errorf(-EINVAL, err, sizeof(err), "port %d is taken", 3389),
                                 -EINVAL);
                assert_string_equal(err, "port 33");   /* cut, terminated */
                assert_int_equal(errorf(-ENOENT, NULL, 0, "%s", "nowhere to write"), -ENOENT);
                assert_int_equal(errorf(-EIO, err, 0, "%s", "no room"), -EIO);
                assert_string_equal(err, "port 33");   /* untouched */
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(strv_ops), cmocka_unit_test(buf_bounds),
                cmocka_unit_test(times),    cmocka_unit_test(files),
                cmocka_unit_test(no_temp_left), cmocka_unit_test(sha256),
                cmocka_unit_test(parsing),  cmocka_unit_test(utf8),
                cmocka_unit_test(utf8_chars), cmocka_unit_test(xvasprintf_formats),
                cmocka_unit_test(strings),
        };
        int r = cmocka_run_group_tests(tests, NULL, NULL);
        test_cleanup_all();
        return r;
}
