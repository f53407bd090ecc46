/* fuzz_checkpoint — checkpoint_parse(), a checkpoint file as found on disk
 * (a re-run skips a phase on its word).
 *
 * Promises checked: the result is 0 or -EBADMSG; on an error the result is
 * untouched; a checkpoint that parses has a phase name fit for a file name
 * and digests that are "" or 64 lower-case hex digits. */
#include <errno.h>

#include "checkpoint.h"
#include "fuzz.h"

static void check_digest(const char *s)
{
        size_t n = strlen(s);

        FUZZ_CHECK(n == 0 || n == SHA256_HEX - 1);
        for (size_t i = 0; i < n; i++)
                FUZZ_CHECK((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct checkpoint c, before;
        int r;

        memset(&c, 0x5a, sizeof(c));
        memcpy(&before, &c, sizeof(c));
        r = checkpoint_parse((const char *)data, size, &c);
        FUZZ_CHECK(r == 0 || r == -EBADMSG);
        if (r < 0) {
                FUZZ_CHECK(memcmp(&c, &before, sizeof(c)) == 0);
                return 0;
        }
        FUZZ_CHECK(memchr(c.phase, '\0', sizeof(c.phase)) && c.phase[0]);
        FUZZ_CHECK(strspn(c.phase, "abcdefghijklmnopqrstuvwxyz0123456789-_") == strlen(c.phase));
        FUZZ_CHECK(c.phase[0] != '-');
        FUZZ_CHECK(memchr(c.completed_at, '\0', sizeof(c.completed_at)));
        FUZZ_CHECK(memchr(c.session_id, '\0', sizeof(c.session_id)));
        check_digest(c.checksum);
        check_digest(c.inputs);
        return 0;
}
