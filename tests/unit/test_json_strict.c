/* test_json_strict.c — the one reader of session files, checkpoints,
 * journal lines and the IDE catalog: what it takes, and what json-c alone
 * would let through (single quotes, NaN, raw control characters, a key
 * twice, bytes after the object). */
#include "testlib.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "json_strict.h"
#include "util.h"

/* Parses text (len bytes) and returns the object, failing the test when
 * it is refused. */
static struct json_object *take_len(const char *text, size_t len)
{
        struct json_object *o = NULL;
        char err[256] = "";

        if (json_parse_strict(text, len, &o, err, sizeof(err)) != 0)
                fail_msg("refused: %s (%s)", text, err);
        assert_non_null(o);
        assert_true(json_object_is_type(o, json_type_object));
        assert_string_equal(err, "");
        return o;
}

static struct json_object *take(const char *text)
{
        return take_len(text, strlen(text));
}

/* Refuses text (len bytes) with a message containing want; *ret untouched. */
static void refuse_len(const char *text, size_t len, const char *want)
{
        struct json_object *sentinel = (struct json_object *)&sentinel, *o = sentinel;
        char err[256] = "";

        if (json_parse_strict(text, len, &o, err, sizeof(err)) != -EBADMSG)
                fail_msg("taken: %s", text);
        assert_ptr_equal(o, sentinel);
        if (!strstr(err, want))
                fail_msg("for %s the message \"%s\" does not say \"%s\"", text, err, want);
}

static void refuse(const char *text, const char *want)
{
        refuse_len(text, strlen(text), want);
}

static void takes_json_objects(void **state)
{
        struct json_object *o, *v;
        (void)state;

        json_object_put(take("{}"));
        /* characters outside ASCII, in values and keys (json-c 0.17 and later
         * refuse them in strict mode: the reader hands json-c escapes) */
        o = take("{\"out\":\"a \xe2\x86\x92 b \xf0\x9f\x98\x80 Jos\xc3\xa9\",\"\xc3\xa9t\xc3\xa9\":1}\n");
        assert_true(json_object_object_get_ex(o, "out", &v));
        assert_string_equal(json_object_get_string(v), "a \xe2\x86\x92 b \xf0\x9f\x98\x80 Jos\xc3\xa9");
        assert_true(json_object_object_get_ex(o, "\xc3\xa9t\xc3\xa9", &v));
        json_object_put(o);
        json_object_put(take(" \t\r\n{\"a\":1}\n\n"));
        o = take("{\"n\":1e5,\"m\":-2.5E-3,\"t\":true,\"f\":false,\"z\":null,\"s\":\"Jos\xc3\xa9\"}");
        assert_true(json_object_object_get_ex(o, "m", &v));
        assert_true(json_object_get_double(v) < 0);
        json_object_put(o);
        /* brackets, quotes, commas and words inside strings are text */
        o = take("{\"a\":\"}{\\\"'[,NaN\",\"b\":[\"a\",\"a\"],\"NaN\":\"true\"}");
        assert_true(json_object_object_get_ex(o, "a", &v));
        assert_string_equal(json_object_get_string(v), "}{\"'[,NaN");
        json_object_put(o);
        /* the same key in different objects, a value equal to a key, keys
         * that differ only in case or length */
        json_object_put(take("{\"a\":{\"a\":1,\"b\":2},\"b\":[{\"a\":1},{\"a\":2}],\"c\":\"a\"}"));
        json_object_put(take("{\"k\":1,\"K\":2,\"kk\":3,\"\":4}"));
        json_object_put(take("{\"a\":{\"b\":1},\"b\":{\"a\":{}}}"));
        /* a session file's shape */
        json_object_put(take("{\"session_id\":\"20261122-101500\",\"phases\":[{\"phase_name\":"
                             "\"desktop\",\"actions\":[{\"type\":\"FILE_CREATE\",\"journal_seq\":3}]}]}"));
}

static void refuses_a_key_twice(void **state)
{
        (void)state;

        refuse("{\"a\":1,\"a\":2}", "the key \"a\" appears twice");
        refuse("{\"a\":1,\"b\":2,\"a\":1}", "\"a\" appears twice");
        /* spelt differently, read the same */
        refuse("{\"a\":1,\"\\u0061\":2}", "\"a\" appears twice");
        refuse("{\"a\\/b\":1,\"a/b\":2}", "appears twice");
        /* deeper down, in an array, and after a nested object */
        refuse("{\"x\":{\"k\":1,\"k\":2}}", "\"k\" appears twice");
        refuse("{\"l\":[{},{\"k\":1,\"k\":1}]}", "\"k\" appears twice");
        refuse("{\"a\":{\"b\":1},\"a\":2}", "\"a\" appears twice");
        /* the message names where, and shows a control character harmlessly */
        refuse("{\"seq\":1,\"seq\":2}", "(byte 9)");
        refuse("{\"a\\nb\":1,\"a\\nb\":2}", "\"a?b\" appears twice");
        /* a long key is cut at a whole character */
        {
                char text[256], want[64];
                const char *key = "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
                                  "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
                                  "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9";

                snprintf(text, sizeof(text), "{\"%s\":1,\"%s\":2}", key, key);
                snprintf(want, sizeof(want), "\"%.46s\xe2\x80\xa6\" appears twice", key);
                refuse(text, want);
        }
}

static void refuses_trailing_bytes_and_cut_text(void **state)
{
        (void)state;

        refuse("{\"a\":1} x", "near byte 8");
        /* the byte named is the text's own, also after characters outside ASCII */
        refuse("{\"a\":\"\xe2\x86\x92\", \"b\": }", "near byte 17");
        refuse("{\"a\":\"\xf0\x9f\x98\x80\"} x", "near byte 13");
        refuse("{\"a\":1}{}", "not valid JSON");
        refuse("{\"a\":1},", "not valid JSON");
        refuse("{\"a\":1", "ends too early");
        refuse("", "ends too early");
        refuse("   ", "ends too early");
        refuse("{\"a\":\"open", "ends too early");
}

static void refuses_other_top_levels(void **state)
{
        (void)state;

        refuse("[]", "the top level must be an object");
        refuse("[{\"a\":1}]", "the top level must be an object");
        refuse("\"text\"", "the top level must be an object");
        refuse("42", "the top level must be an object");
        refuse("null", "the top level must be an object");
        refuse(" [1,", "the top level must be an object");
}

/* What json-c takes even in its strict mode, and RFC 8259 does not. */
static void refuses_what_json_c_lets_through(void **state)
{
        (void)state;

        refuse("{'a':1}", "single-quoted");
        refuse("{\"a\":'x'}", "not valid JSON");
        refuse("{\"a\":NaN}", "not true, false or null");
        refuse("{\"a\":Infinity}", "not true, false or null");
        refuse("{\"a\":-Infinity}", "not valid JSON");
        refuse("{\"a\":\"x\ty\"}", "control character");
        refuse("{\"a\":\"x\ny\"}", "control character");
        refuse("/* c */{}", "not valid JSON");
        refuse("{\"a\":1,}", "not valid JSON");
        refuse("{\"a\":01}", "not valid JSON");
        refuse("{\"a\":tRue}", "not valid JSON");
}

static void refuses_bad_bytes(void **state)
{
        (void)state;

        refuse("{\"a\":\"\xff\"}", "not UTF-8 near byte 6");
        refuse("{\"a\":\"\xc0\xaf\"}", "not UTF-8");        /* overlong */
        refuse("{\"a\":\"\xed\xa0\x80\"}", "not UTF-8");    /* surrogate */
        refuse_len("{\"a\":1}\0", 8, "a NUL byte near byte 7");
        refuse_len("{\"a\":\"\0\"}", 9, "a NUL byte near byte 6");
}

/* 31 arrays or objects inside each other hold a value; 32 are too many. */
static void nesting_depth(void **state)
{
        struct buf b;
        (void)state;

        for (int levels = 30; levels <= 33; levels++) {
                buf_init(&b, SIZE_MAX);
                buf_append(&b, "{\"a\":", 5);
                for (int i = 1; i < levels; i++)
                        buf_append(&b, i % 2 ? "[" : "{\"k\":", i % 2 ? 1 : 5);
                buf_append(&b, "1", 1);
                for (int i = levels - 1; i >= 1; i--)
                        buf_append(&b, i % 2 ? "]" : "}", 1);
                buf_append(&b, "}", 1);
                if (levels < JSON_STRICT_DEPTH)
                        json_object_put(take(b.data));
                else
                        refuse(b.data, "nesting too deep");
                buf_release(&b);
        }
}

/* Many keys: sorted once per object, so a large object stays cheap; a
 * key twice among them is still found. */
static void many_keys(void **state)
{
        struct buf b;
        struct json_object *o;
        int n = test_under_valgrind() ? 2000 : 50000;
        (void)state;

        buf_init(&b, SIZE_MAX);
        buf_append(&b, "{", 1);
        for (int i = 0; i < n; i++)
                buf_printf(&b, "%s\"key%d\":%d", i ? "," : "", i, i);
        buf_append(&b, "}", 1);
        o = take_len(b.data, b.len);
        assert_int_equal(json_object_object_length(o), n);
        json_object_put(o);
        b.len--;   /* drop the "}" */
        buf_printf(&b, ",\"key%d\":0}", n / 2);
        refuse_len(b.data, b.len, "appears twice");
        buf_release(&b);
}

static void err_may_be_null(void **state)
{
        struct json_object *o = NULL;
        (void)state;

        assert_int_equal(json_parse_strict("{\"a\":1,\"a\":1}", 13, &o, NULL, 0), -EBADMSG);
        assert_int_equal(json_parse_strict("[", 1, &o, NULL, 0), -EBADMSG);
        assert_null(o);
        assert_int_equal(json_parse_strict("{}", 2, &o, NULL, 0), 0);
        assert_non_null(o);
        json_object_put(o);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(takes_json_objects),
                cmocka_unit_test(refuses_a_key_twice),
                cmocka_unit_test(refuses_trailing_bytes_and_cut_text),
                cmocka_unit_test(refuses_other_top_levels),
                cmocka_unit_test(refuses_what_json_c_lets_through),
                cmocka_unit_test(refuses_bad_bytes),
                cmocka_unit_test(nesting_depth),
                cmocka_unit_test(many_keys),
                cmocka_unit_test(err_may_be_null),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
