/* json_strict.c — see json_strict.h.
 *
 * json-c (strict mode) checks the grammar and builds the tree; a second
 * pass over the text, which json-c has then found well-formed, rejects
 * what json-c lets through: it walks strings and brackets, collects each
 * object's keys and sorts them when the object closes, so a file of n keys
 * costs O(n log n) whatever its shape. */
#include "json_strict.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "util.h"

struct key {
        const char *text;       /* the key as it is, without escapes */
        size_t len;
        char *decoded;          /* with escapes: json-c's reading, else NULL */
        size_t at;              /* byte offset of its opening quote */
};

struct scan {
        const char *text;
        size_t len;
        struct key *keys;       /* of the objects open now, outermost first */
        size_t n_keys, cap;
        char *err;
        size_t errlen;
};

static int bad(struct scan *s, size_t at, const char *what)
{
        if (s->err)
                (void)snprintf(s->err, s->errlen, "not valid JSON (%s near byte %zu)", what, at);
        return -EBADMSG;
}

static int key_cmp(const void *a, const void *b)
{
        const struct key *x = a, *y = b;
        const char *px = x->decoded ? x->decoded : x->text;
        const char *py = y->decoded ? y->decoded : y->text;

        if (x->len != y->len)
                return x->len < y->len ? -1 : 1;
        return memcmp(px, py, x->len);
}

/* The key of the string at s->text[start..end) (quotes excluded). */
static void key_add(struct scan *s, size_t start, size_t end, bool escaped)
{
        struct key k = { .text = s->text + start, .len = end - start, .at = start - 1 };

        if (escaped) {
                /* json-c read this string once already; it reads it again
                 * alone, so "\u0061" and "a" are the same key */
                struct json_tokener *tok = json_tokener_new();
                struct json_object *o = tok ? json_tokener_parse_ex(tok, s->text + start - 1,
                                                                    (int)(end - start + 2))
                                            : NULL;

                if (json_object_is_type(o, json_type_string)) {
                        k.len = (size_t)json_object_get_string_len(o);
                        k.decoded = xmalloc(k.len + 1);
                        memcpy(k.decoded, json_object_get_string(o), k.len + 1);
                }
                json_object_put(o);
                json_tokener_free(tok);
        }
        if (s->n_keys == s->cap) {
                s->cap = s->cap ? s->cap * 2 : 32;
                s->keys = xrealloc(s->keys, s->cap * sizeof(*s->keys));
        }
        s->keys[s->n_keys++] = k;
}

/* An object closes: its keys (from first on) must differ. */
static int keys_close(struct scan *s, size_t first)
{
        size_t n = s->n_keys - first;
        struct key *v;
        int r = 0;

        if (n == 0)
                return 0;   /* s->keys may still be NULL: no arithmetic on it */
        v = s->keys + first;
        if (n > 1)
                qsort(v, n, sizeof(*v), key_cmp);
        for (size_t i = 1; i < n && r == 0; i++)
                if (key_cmp(&v[i - 1], &v[i]) == 0) {
                        const struct key *k = &v[i];
                        const char *name = k->decoded ? k->decoded : k->text;
                        char shown[48];
                        size_t m = 0;

                        /* the key as a person can read it in a message:
                         * whole characters, control characters and quotes
                         * as '?' */
                        for (size_t j = 0, cl; j < k->len; j += cl) {
                                cl = utf8_char_len(name + j, k->len - j);
                                if (cl == 0)
                                        cl = 1;
                                if (m + cl >= sizeof(shown))
                                        break;
                                if (cl == 1 && ((unsigned char)name[j] < 0x20 || name[j] == '"'))
                                        shown[m++] = '?';
                                else
                                        for (size_t b = 0; b < cl; b++)
                                                shown[m++] = name[j + b];
                        }
                        shown[m] = '\0';
                        if (s->err)
                                (void)snprintf(s->err, s->errlen,
                                               "the key \"%s%s\" appears twice in one object (byte %zu)",
                                               shown, m < k->len ? "…" : "",
                                               v[i - 1].at > k->at ? v[i - 1].at : k->at);
                        r = -EBADMSG;
                }
        for (size_t i = 0; i < n; i++)
                free(v[i].decoded);
        s->n_keys = first;
        return r;
}

/* The second pass; text is well-formed as far as json-c can tell. */
static int scan_text(struct scan *s)
{
        struct frame {
                bool object;
                bool want_key;          /* after "{" or "," in an object */
                size_t first_key;
        } stack[JSON_STRICT_DEPTH];
        size_t depth = 0;
        const char *t = s->text;
        int r = 0;

        for (size_t i = 0; i < s->len && r == 0; i++) {
                unsigned char c = (unsigned char)t[i];

                if (c == '"') {
                        size_t start = i + 1;
                        bool escaped = false;

                        for (i = start; i < s->len && t[i] != '"'; i++) {
                                if ((unsigned char)t[i] < 0x20)
                                        return bad(s, i, "a control character inside a string");
                                if (t[i] == '\\') {
                                        escaped = true;
                                        i++;
                                }
                        }
                        if (i >= s->len)
                                return bad(s, start - 1, "a string that does not end");
                        if (depth > 0 && stack[depth - 1].want_key) {
                                key_add(s, start, i, escaped);
                                stack[depth - 1].want_key = false;
                        }
                } else if (c == '{' || c == '[') {
                        if (depth == JSON_STRICT_DEPTH)
                                return bad(s, i, "nesting too deep");
                        stack[depth++] = (struct frame){ .object = c == '{', .want_key = c == '{',
                                                         .first_key = s->n_keys };
                } else if (c == '}' || c == ']') {
                        if (depth == 0)
                                return bad(s, i, "unexpected character");
                        depth--;
                        if (stack[depth].object)
                                r = keys_close(s, stack[depth].first_key);
                } else if (c == ',') {
                        if (depth > 0 && stack[depth - 1].object)
                                stack[depth - 1].want_key = true;
                } else if (c == '\'') {
                        return bad(s, i, "a single-quoted string");
                } else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') {
                        size_t n = 1;

                        /* the exponent of a number (1e5, 2.5E-3) */
                        if ((c == 'e' || c == 'E') && i > 0 && t[i - 1] >= '0' && t[i - 1] <= '9')
                                continue;
                        while (i + n < s->len && (((unsigned char)t[i + n] | 0x20) >= 'a' &&
                                                  ((unsigned char)t[i + n] | 0x20) <= 'z'))
                                n++;
                        if (!((n == 4 && memcmp(t + i, "true", 4) == 0) ||
                              (n == 5 && memcmp(t + i, "false", 5) == 0) ||
                              (n == 4 && memcmp(t + i, "null", 4) == 0)))
                                return bad(s, i, "a word that is not true, false or null");
                        i += n - 1;
                }
        }
        return r;
}

/* The length of the character at text[i]: 1 for ASCII (and for a byte
 * that starts no UTF-8 sequence, which ascii_copy() leaves as it is). */
static size_t char_len(const char *text, size_t len, size_t i)
{
        return (unsigned char)text[i] < 0x80 ? 1 : utf8_char_len(text + i, len - i);
}

/* json-c 0.17 and later refuse in strict mode every byte above 0x7f in a
 * string, so well-formed UTF-8 ("→" in a command's output, "José") made
 * a session or journal line "damaged" on Debian 13 while Debian 12's
 * json-c took it. json-c reads a copy instead in which each non-ASCII
 * character (text is valid UTF-8 by then) is its \uXXXX escape (a
 * surrogate pair above U+FFFF): the same JSON value, in ASCII. NULL when
 * text is ASCII already. */
static char *ascii_copy(const char *text, size_t len, size_t *ret_len)
{
        struct buf b;
        size_t n;

        for (n = 0; n < len && (unsigned char)text[n] < 0x80; n++)
                ;
        if (n == len)
                return NULL;
        buf_init(&b, len * 6 + 1);
        buf_append(&b, text, n);
        for (size_t i = n; i < len;) {
                unsigned char c = (unsigned char)text[i];
                size_t cl = char_len(text, len, i);
                uint32_t cp;

                if (cl <= 1) {
                        buf_append(&b, text + i, 1);
                        i++;
                        continue;
                }
                cp = c & (0xff >> (cl + 1));
                for (size_t k = 1; k < cl; k++)
                        cp = cp << 6 | ((unsigned char)text[i + k] & 0x3f);
                if (cp > 0xffff) {
                        cp -= 0x10000;
                        (void)buf_printf(&b, "\\u%04x\\u%04x", 0xd800 + (cp >> 10), 0xdc00 + (cp & 0x3ff));
                } else
                        (void)buf_printf(&b, "\\u%04x", cp);
                i += cl;
        }
        *ret_len = b.len;
        return buf_steal(&b);
}

/* A byte offset in ascii_copy()'s text, as an offset in the original. */
static size_t original_offset(const char *text, size_t len, size_t at)
{
        size_t i = 0, j = 0;

        while (i < len && j < at) {
                size_t cl = char_len(text, len, i);

                j += cl <= 1 ? 1 : cl == 4 ? 12 : 6;   /* as ascii_copy() wrote it */
                i += cl <= 1 ? 1 : cl;
        }
        return i;
}

int json_parse_strict(const char *text, size_t len, struct json_object **ret, char *err,
                      size_t errlen)
{
        struct scan s = { .text = text, .len = len, .err = err, .errlen = errlen };
        struct json_tokener *tok;
        struct json_object *o;
        enum json_tokener_error jerr;
        _cleanup_free_ char *ascii = NULL;
        size_t alen = 0;
        int r;

        if (err && errlen)
                err[0] = '\0';
        if (len > INT32_MAX) {
                if (err)
                        (void)snprintf(err, errlen, "not valid JSON (longer than 2 GiB)");
                return -EBADMSG;
        }
        if (!utf8_valid(text, len)) {
                size_t at = 0;

                while (at < len && text[at] != '\0' && utf8_char_len(text + at, len - at) > 0)
                        at += utf8_char_len(text + at, len - at);
                return bad(&s, at, at < len && text[at] == '\0' ? "a NUL byte"
                                                                 : "bytes that are not UTF-8");
        }
        /* a JSON value, but not an object: say so, however it goes on
         * (text holds no NUL here, so strchr() sees only real bytes) */
        for (size_t i = 0; i < len; i++) {
                if (strchr(" \t\r\n", text[i]))
                        continue;
                if (strchr("[\"-0123456789tfn", text[i])) {
                        if (err)
                                (void)snprintf(err, errlen, "the top level must be an object");
                        return -EBADMSG;
                }
                break;
        }
        tok = json_tokener_new_ex(JSON_STRICT_DEPTH);
        if (!tok)
                return -ENOMEM;
        json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
        ascii = ascii_copy(text, len, &alen);
        o = json_tokener_parse_ex(tok, ascii ? ascii : text, (int)(ascii ? alen : len));
        jerr = json_tokener_get_error(tok);
        if (!o || jerr != json_tokener_success) {
                r = bad(&s, original_offset(text, len, json_tokener_get_parse_end(tok)),
                        jerr == json_tokener_continue || jerr == json_tokener_success
                                ? "the text ends too early"
                                : json_tokener_error_desc(jerr));
                goto out;
        }
        /* strict mode rejects anything but white space after the value;
         * should that change, the text must still be read whole */
        if (json_tokener_get_parse_end(tok) != (ascii ? alen : len)) {
                r = bad(&s, original_offset(text, len, json_tokener_get_parse_end(tok)),
                        "more after the end");
                goto out;
        }
        if (!json_object_is_type(o, json_type_object)) {
                if (err)
                        (void)snprintf(err, errlen, "the top level must be an object");
                r = -EBADMSG;
                goto out;
        }
        r = scan_text(&s);
out:
        if (r == 0)
                *ret = TAKE_PTR(o);
        json_object_put(o);
        json_tokener_free(tok);
        for (size_t i = 0; i < s.n_keys; i++)   /* of objects a failure left open */
                free(s.keys[i].decoded);
        free(s.keys);
        return r;
}
