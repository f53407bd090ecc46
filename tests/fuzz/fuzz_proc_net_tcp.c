/* fuzz_proc_net_tcp — sysfile_parse_proc_net_tcp(), the kernel's
 * /proc/net/tcp and tcp6 tables (read to see whether xrdp and sshd listen).
 *
 * The first two bytes are the port asked about, the rest the table.
 * Promise checked: each line is read on its own (a line's fields never
 * run on into the next line's). */
#include "fuzz.h"
#include "sysfile.h"
#include "util.h"

/* The table is read line by line: the answer for the whole text is
 * whether any one line, alone under the header, gets "listening". */
static bool line_by_line(const char *text, uint16_t port)
{
        const char *l = strchr(text, '\n');

        while (l && *++l) {
                const char *end = strchr(l, '\n');
                size_t len = end ? (size_t)(end - l) : strlen(l);
                char *one = xasprintf("header\n%.*s\n", (int)len, l);
                bool hit = sysfile_parse_proc_net_tcp(one, port);

                free(one);
                if (hit)
                        return true;
                l = end;
        }
        return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        uint16_t port;
        char *text;
        bool got;

        if (size < 2)
                return 0;
        port = (uint16_t)(data[0] << 8 | data[1]);
        text = fuzz_cstr(data + 2, size - 2);
        got = sysfile_parse_proc_net_tcp(text, port);
        FUZZ_CHECK(got == line_by_line(text, port));
        free(text);
        return 0;
}
