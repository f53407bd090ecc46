/* fuzz_apt_sources — preflight_default_mirror(), which reads the server's
 * apt sources (one-line .list files and deb822 .sources stanzas) to find
 * the Debian archive preflight checks and system-prep writes back.
 *
 * The first byte picks the file the rest goes into: sources.list,
 * sources.list.d/debian.sources, another .sources or another .list (in a
 * directory of its own under /dev/shm). Promise checked: the mirror found
 * is an http(s) URL without blanks or a trailing slash, taken from the
 * input, that passes the answers file's rule for apt_mirror. */
#include <errno.h>
#include <fcntl.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"
#include "preflight.h"
#include "util.h"
#include "validate.h"

static char apt[64];

static void write_file(const char *name, const uint8_t *data, size_t size)
{
        char path[128];
        int fd;

        snprintf(path, sizeof(path), "%s/%s", apt, name);
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        FUZZ_CHECK(fd >= 0);
        FUZZ_CHECK(size == 0 || write(fd, data, size) == (ssize_t)size);
        close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static const char *const names[] = { "sources.list", "sources.list.d/debian.sources",
                                             "sources.list.d/vendor.sources",
                                             "sources.list.d/vendor.list" };
        char buf[512], path[128];
        const char *n;
        int r;

        if (!apt[0]) {
                char tmpl[] = "/dev/shm/vpsp-fuzz-apt-XXXXXX";

                FUZZ_CHECK(mkdtemp(tmpl));
                snprintf(apt, sizeof(apt), "%s", tmpl);
                snprintf(path, sizeof(path), "%s/sources.list.d", apt);
                FUZZ_CHECK(mkdir(path, 0700) == 0);
        }
        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                snprintf(path, sizeof(path), "%s/%s", apt, names[i]);
                (void)unlink(path);
        }
        if (size < 1)
                return 0;
        n = names[data[0] % ELEMENTSOF(names)];
        write_file(n, data + 1, size - 1);

        r = preflight_default_mirror(apt, buf, sizeof(buf));
        FUZZ_CHECK(r == 0 || r == -ENOENT || r == -ENAMETOOLONG);
        if (r < 0)
                return 0;
        FUZZ_CHECK(strncasecmp(buf, "http://", 7) == 0 || strncasecmp(buf, "https://", 8) == 0);
        FUZZ_CHECK(!strpbrk(buf, " \t\r\n"));
        FUZZ_CHECK(validate_url(buf, NULL, 0) == 0);   /* the answers' rule for apt_mirror */
        FUZZ_CHECK(buf[strlen(buf) - 1] != '/' || strlen(buf) <= 8);
        FUZZ_CHECK(memmem(data + 1, size - 1, buf, strlen(buf)));
        return 0;
}
