/* fuzz_ide_texts — what the IDE phases read from outside the catalog: gpg's
 * colon listing of a downloaded key (ide_parse_primary_fingerprints()), the
 * server's apt source files (ide_source_names_uri(),
 * ide_source_signed_by()), an IDE's --version output and ldd's output.
 *
 * The first byte picks the parser; for the apt sources the first line is
 * the repository URI to look for and the rest the file. Promises checked:
 * what comes back is a non-empty piece of the input of the promised shape. */
#include <ctype.h>

#include "fuzz.h"
#include "ide.h"
#include "util.h"

static void fingerprints(const char *text)
{
        char **v = ide_parse_primary_fingerprints(text);

        for (size_t i = 0; v && v[i]; i++) {
                FUZZ_CHECK(v[i][0] && !strpbrk(v[i], ":\n"));
                for (const char *p = v[i]; *p; p++)
                        FUZZ_CHECK(!islower((unsigned char)*p));
        }
        strv_free(v);
}

static void sources(const char *input)
{
        const char *nl = strchr(input, '\n');
        char *uri = xstrndup(input, nl ? (size_t)(nl - input) : strlen(input));
        const char *text = nl ? nl + 1 : "";
        char *keyring;

        if (ide_source_names_uri(text, uri)) {
                size_t n = strlen(uri);

                while (n > 0 && uri[n - 1] == '/')
                        n--;
                uri[n] = '\0';
                FUZZ_CHECK(n > 0 && strstr(text, uri));
        }
        keyring = ide_source_signed_by(text);
        if (keyring) {
                FUZZ_CHECK(keyring[0] && !strpbrk(keyring, " \t\n"));
                FUZZ_CHECK(strstr(text, keyring));
        }
        free(keyring);
        free(uri);
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
