/* fuzz_session — session_parse(), a session file as found on disk (a
 * --resume or --rollback reads the newest one, whoever left it there).
 *
 * Promises checked: the result is 0 or -EBADMSG; a session that parses
 * writes out (session_to_json()) to a text that parses again and writes
 * out to the very same text. */
#include <errno.h>
#include <json-c/json.h>

#include "fuzz.h"
#include "session.h"

static char *session_text(const struct session *s)
{
        struct json_object *o = session_to_json(s);
        char *t = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));

        json_object_put(o);
        FUZZ_CHECK(t);
        return t;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct session s, back;
        char *t1, *t2;
        int r;

        r = session_parse((const char *)data, size, &s);
        FUZZ_CHECK(r == 0 || r == -EBADMSG);
        if (r < 0)
                return 0;
        t1 = session_text(&s);
        r = session_parse(t1, strlen(t1), &back);
        if (r != 0)
                fprintf(stderr, "a written session does not parse back:\n%s\n", t1);
        FUZZ_CHECK(r == 0);
        t2 = session_text(&back);
        if (strcmp(t1, t2) != 0)
                fprintf(stderr, "first:\n%s\nsecond:\n%s\n", t1, t2);
        FUZZ_CHECK(strcmp(t1, t2) == 0);
        free(t1);
        free(t2);
        session_release(&s);
        session_release(&back);
        return 0;
}
