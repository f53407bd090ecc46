/* json_strict.h — reading a file (or a line) that must be exactly one JSON
 * object: the session and checkpoint files, each journal line, the IDE
 * catalog.
 *
 * Stricter than json-c, which, even in its strict mode, takes single-quoted
 * strings, NaN and Infinity, raw control characters in strings, and keeps
 * the last of two equal keys without a word. Here the text must be
 * well-formed UTF-8 without NUL, one JSON object (RFC 8259) and nothing
 * after it but white space, with no key twice in one object and at most
 * JSON_STRICT_DEPTH levels of nesting. */
#pragma once

#include <stddef.h>

struct json_object;

/* json-c's default depth: 31 nested arrays or objects hold a value. */
#define JSON_STRICT_DEPTH 32

/* Parses text[0..len). 0 and the object in *ret (the caller puts it), or
 * -EBADMSG with err saying what is wrong and near which byte ("not valid
 * JSON (unexpected character near byte 12)", "the key \"seq\" appears
 * twice in one object (byte 40)", "the top level must be an object"). err
 * may be NULL. */
int json_parse_strict(const char *text, size_t len, struct json_object **ret, char *err,
                      size_t errlen);
