/* fuzz_ide_texts — what the IDE phases read from outside the catalog: gpg's
 * colon listing of a downloaded key (ops_pgp_parse_keys()), the server's
 * apt source files (ops_apt_source_uris()), an IDE's --version output and
 * ldd's output.
 *
 * The first byte picks the parser. Promises checked: what comes back is of
 * the promised shape, and text comes from the input. */
#include <ctype.h>

#include "fuzz.h"
#include "ide.h"
#include "ops.h"
#include "util.h"

static void fingerprints(const char *text)
{
        struct ops_pgp_key *v = NULL;
        size_t n = ops_pgp_parse_keys(text, &v);

        FUZZ_CHECK((n == 0) == (v == NULL));
        for (size_t i = 0; i < n; i++) {
                FUZZ_CHECK(strlen(v[i].fingerprint) == 40);
                for (const char *p = v[i].fingerprint; *p; p++)
                        FUZZ_CHECK(isxdigit((unsigned char)*p) && !islower((unsigned char)*p));
                FUZZ_CHECK(v[i].expires >= 0);
        }
        free(v);
}

static void sources(const char *text)
{
        char **v = ops_apt_source_uris(text);

        for (size_t i = 0; v && v[i]; i++) {
                size_t n = strlen(v[i]);

                FUZZ_CHECK(n > 0 && v[i][n - 1] != '/' && !strpbrk(v[i], " \t\n"));
                FUZZ_CHECK(strstr(text, v[i]));
        }
        strv_free(v);
}

static void version(const char *text)
{
        char *v = ide_parse_version(text);
        size_t n;

        if (!v)
                return;
        n = strlen(v);
        FUZZ_CHECK(n > 0 && !strpbrk(v, "\r\n") && strstr(text, v));
        FUZZ_CHECK(!strchr(" \t", v[0]) && v[n - 1] != ' ' && v[n - 1] != '\t');
        free(v);
}

static void ldd(const char *text)
{
        char **v = ide_parse_ldd_missing(text);

        for (size_t i = 0; v && v[i]; i++)
                FUZZ_CHECK(v[i][0] && !strpbrk(v[i], " \t\n") && strstr(text, v[i]));
        strv_free(v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char *text;

        if (size < 1)
                return 0;
        text = fuzz_cstr(data + 1, size - 1);
        switch (data[0] % 4) {
        case 0:
                fingerprints(text);
                break;
        case 1:
                sources(text);
                break;
        case 2:
                version(text);
                break;
        default:
                ldd(text);
                break;
        }
        free(text);
        return 0;
}
