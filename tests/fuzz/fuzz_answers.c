/* fuzz_answers — answers_parse(), the answers file a person hands over.
 *
 * Promises checked: the result is 0 or a documented error; on an error the
 * answers are untouched and every problem has a message that formats; on
 * success answers_format() writes a file that parses back to the same
 * answers (every key but the secret ones, which it leaves out). */
#include <errno.h>

#include "answers.h"
#include "fuzz.h"

static void same_answers(const struct answers *x, const struct answers *y)
{
        size_t n;
        const struct answers_key *keys = answers_keys(&n);

        for (size_t i = 0; i < n; i++) {
                char vx[4200], vy[4200];

                if (keys[i].secret)
                        continue;
                FUZZ_CHECK(answers_get(x, keys[i].section, keys[i].name, vx, sizeof(vx)) == 0);
                FUZZ_CHECK(answers_get(y, keys[i].section, keys[i].name, vy, sizeof(vy)) == 0);
                if (strcmp(vx, vy) != 0) {
                        fprintf(stderr, "[%s] %s: \"%s\" came back as \"%s\"\n", keys[i].section,
                                keys[i].name, vx, vy);
                        FUZZ_CHECK(!"the formatted answers parse back the same");
                }
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct answers a, before;
        struct answers_errors errs = { 0 };
        unsigned lines = 1;
        int r;

        for (size_t i = 0; i < size; i++)
                lines += data[i] == '\n';
        answers_init(&a);
        memcpy(&before, &a, sizeof(a));
        r = answers_parse((const char *)data, size, &a, &errs);
        FUZZ_CHECK(r == 0 || r == -EINVAL || r == -EFBIG);
        if (r < 0) {
                FUZZ_CHECK(memcmp(&a, &before, sizeof(a)) == 0);
                FUZZ_CHECK(errs.n >= 1 && errs.n <= ANSWERS_MAX_ERRORS + 1);
                for (size_t i = 0; i < errs.n; i++) {
                        char msg[1024];

                        FUZZ_CHECK(errs.v[i].line <= lines);
                        FUZZ_CHECK(errs.v[i].message[0] != '\0');
                        answers_error_format("answers.ini", &errs.v[i], msg, sizeof(msg));
                        FUZZ_CHECK(msg[0] != '\0');
                }
                answers_errors_release(&errs);
                return 0;
        }
        FUZZ_CHECK(errs.n == 0);
        FUZZ_CHECK(answers_check(&a, &errs) == 0);

        for (int docs = 0; docs <= 1; docs++) {
                char *text = answers_format(&a, docs);
                struct answers back;

                answers_init(&back);
                r = answers_parse(text, strlen(text), &back, &errs);
                if (r != 0) {
                        fprintf(stderr, "formatted answers do not parse:\n%s\n", text);
                        for (size_t i = 0; i < errs.n; i++)
                                fprintf(stderr, "  line %u: %s: %s\n", errs.v[i].line,
                                        errs.v[i].key, errs.v[i].message);
                }
                FUZZ_CHECK(r == 0);
                same_answers(&a, &back);
                free(text);
        }
        answers_errors_release(&errs);
        return 0;
}
