/* fuzz_dpkg_status — probe_parse_dpkg_status(), dpkg-query's report of
 * which packages are installed (its lines name packages that came from
 * repositories).
 *
 * The packages asked about are the names the input's lines carry plus a
 * few fixed ones (one an apt exclusion, "name-"). Promises checked: the
 * missing ones are a subset of those asked, in their order, exclusions left
 * out; a name no line carries is missing; a name whose only line says
 * "ii " is not. */
#include "fuzz.h"
#include "probe.h"
#include "util.h"

/* How the lines speak of name: 0 none, 1 only as "ii  name", 2 otherwise. */
static int lines_about(const char *out, const char *name)
{
        size_t nl = strlen(name);
        int seen = 0;

        for (const char *l = out; *l;) {
                const char *end = strchr(l, '\n');
                size_t len = end ? (size_t)(end - l) : strlen(l);

                if (len >= 4 + nl && memcmp(l + len - nl, name, nl) == 0 && l[len - nl - 1] == ' ') {
                        if (len == 4 + nl && memcmp(l, "ii  ", 4) == 0 && seen == 0)
                                seen = 1;
                        else
                                seen = 2;
                }
                if (!end)
                        break;
                l = end + 1;
        }
        return seen;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char *out = fuzz_cstr(data, size), **pkgs = NULL, **missing = NULL, *save = NULL;
        char *copy = xstrdup(out);
        size_t k = 0;

        for (char *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
                if (strlen(l) > 4 && l[4] && !strchr(l + 4, ' '))
                        strv_push(&pkgs, l + 4);
        strv_push(&pkgs, "xfce4");
        strv_push(&pkgs, "lightdm-");
        strv_push(&pkgs, "-");

        FUZZ_CHECK(probe_parse_dpkg_status(out, (const char *const *)pkgs, &missing) == 0);
        for (size_t i = 0; pkgs[i]; i++) {
                size_t n = strlen(pkgs[i]);
                bool excluded = n > 1 && pkgs[i][n - 1] == '-';
                bool is_missing = missing && missing[k] && strcmp(missing[k], pkgs[i]) == 0;
                int about = lines_about(out, pkgs[i]);

                if (is_missing)
                        k++;
                if (excluded)
                        FUZZ_CHECK(!is_missing);
                else if (about == 0)
                        FUZZ_CHECK(is_missing);
                else if (about == 1)
                        FUZZ_CHECK(!is_missing);
        }
        FUZZ_CHECK(!missing || !missing[k]);   /* nothing but what was asked, in order */
        strv_free(missing);
        strv_free(pkgs);
        free(copy);
        free(out);
        return 0;
}
