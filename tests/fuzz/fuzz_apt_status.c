/* fuzz_apt_status — apt_status_parse(), the lines apt writes on its
 * status channel (APT::Status-Fd) during an install; their package names
 * and messages come from the repositories' metadata.
 *
 * Each input line is parsed on its own, as ops.c does. Promises checked:
 * 0 or -EINVAL; a parsed line has a known kind, a percent from 0 to 100
 * (the dashboard turns it into a bar) and NUL-terminated fields that are
 * pieces of the line. */
#include <errno.h>
#include <math.h>

#include "apt.h"
#include "fuzz.h"

static void one_line(const char *line, size_t len)
{
        struct apt_status st;
        int r = apt_status_parse(line, len, &st);

        FUZZ_CHECK(r == 0 || r == -EINVAL);
        if (r < 0)
                return;
        FUZZ_CHECK(st.kind <= APT_ST_OTHER);
        FUZZ_CHECK(isfinite(st.percent) && st.percent >= 0 && st.percent <= 100);
        FUZZ_CHECK(memchr(st.pkg, '\0', sizeof(st.pkg)) && memchr(st.message, '\0', sizeof(st.message)));
        FUZZ_CHECK(strlen(st.pkg) <= len && strlen(st.message) <= len);
        FUZZ_CHECK(st.pkg[0] == '\0' || memmem(line, len, st.pkg, strlen(st.pkg)));
        FUZZ_CHECK(st.message[0] == '\0' || memmem(line, len, st.message, strlen(st.message)));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        const char *p = (const char *)data, *end = p + size;

        /* each line in a buffer of its own size, so ASan sees a read past it */
        while (p < end) {
                const char *nl = memchr(p, '\n', (size_t)(end - p));
                size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
                char *line = malloc(len ? len : 1);

                FUZZ_CHECK(line);
                memcpy(line, p, len);
                one_line(line, len);
                free(line);
                p += len + 1;
        }
        return 0;
}
