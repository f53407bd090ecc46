/* fuzz_dpkg_status — apt_pkg_list_parse(), dpkg-query's report of the
 * packages it has a record of (APT_DPKG_FORMAT lines; names and
 * architectures come from repositories' metadata).
 *
 * Promises checked: no more entries than lines; every entry has a name
 * without a tab or newline, an unqualified one a piece of the input; a
 * known state; apt_pkg_list_state() finds an unqualified entry's state
 * under its own name (the first entry of that name wins). */
#include "apt.h"
#include "fuzz.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char *out = fuzz_cstr(data, size);
        struct apt_pkg_list l = { 0 };
        size_t lines = 1;

        for (const char *p = out; *p; p++)
                lines += *p == '\n';
        apt_pkg_list_parse(out, "amd64", &l);
        FUZZ_CHECK(l.n <= lines);
        for (size_t i = 0; i < l.n; i++) {
                const char *name = l.v[i].name, *colon = strchr(name, ':');
                size_t first = 0;

                FUZZ_CHECK(name[0] && !strpbrk(name, "\t\n"));
                FUZZ_CHECK(l.v[i].state <= APT_PKG_INSTALLED);
                if (colon)
                        continue;   /* "name:arch" may be read as another name's qualifier */
                FUZZ_CHECK(strstr(out, name));
                while (first < i && strcmp(l.v[first].name, name) != 0)
                        first++;
                FUZZ_CHECK(apt_pkg_list_state(&l, name) == l.v[first].state);
        }
        apt_pkg_list_release(&l);
        free(out);
        return 0;
}
