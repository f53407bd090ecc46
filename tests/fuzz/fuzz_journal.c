/* fuzz_journal — journal_open(): the journal file as a crash, a full disk
 * or a person's editor may have left it (torn, zeroed, hostile lines).
 *
 * The input is the file (a memfd). Promises checked: a journal that opens
 * either was left byte for byte as it was, or had only a torn last line cut
 * off (what is left ends at a line end); every entry's undo describes itself
 * and survives undo_to_json()/undo_from_json(); the opened journal takes an
 * append and an outcome, and opening the file again gives the same entries
 * plus those, with nothing to repair. A journal that does not open leaves
 * the file as it was and says why. */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"
#include "journal.h"

/* The file: one memfd for the whole run, emptied for each input, opened
 * with O_APPEND as journal_open() opens the real file (appends go to the
 * end, not to the read offset). The journal gets a dup of it each time. */
static int journal_file(void)
{
        static int fd = -1;
        char path[64];
        int m;

        if (fd >= 0)
                return fd;
        m = memfd_create("journal", MFD_CLOEXEC);
        FUZZ_CHECK(m >= 0);
        snprintf(path, sizeof(path), "/proc/self/fd/%d", m);
        fd = open(path, O_RDWR | O_APPEND | O_CLOEXEC);
        FUZZ_CHECK(fd >= 0);
        close(m);
        return fd;
}

static int dup_of(int fd)
{
        int r = fcntl(fd, F_DUPFD_CLOEXEC, 3);

        FUZZ_CHECK(r >= 0);
        return r;
}

static char *file_bytes(int fd, size_t *ret_len)
{
        struct stat st;
        char *s;

        FUZZ_CHECK(fstat(fd, &st) == 0);
        s = malloc((size_t)st.st_size + 1);
        FUZZ_CHECK(s);
        FUZZ_CHECK(pread(fd, s, (size_t)st.st_size, 0) == st.st_size);
        *ret_len = (size_t)st.st_size;
        return s;
}

static char *undo_text(const struct undo *u)
{
        struct json_object *o = undo_to_json(u);
        char *s = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));

        json_object_put(o);
        FUZZ_CHECK(s);
        return s;
}

static void check_entry(const struct journal_entry *e)
{
        struct json_object *o;
        struct undo back;
        char *d, *t1, *t2;

        FUZZ_CHECK(e->seq >= 1 && e->type);
        FUZZ_CHECK((unsigned)e->undo.kind < _UNDO_KIND_MAX);
        d = undo_describe(&e->undo);
        FUZZ_CHECK(d && d[0]);
        free(d);
        t1 = undo_text(&e->undo);
        o = json_tokener_parse(t1);
        FUZZ_CHECK(o);
        FUZZ_CHECK(undo_from_json(o, &back) == 0);
        json_object_put(o);
        t2 = undo_text(&back);
        FUZZ_CHECK(strcmp(t1, t2) == 0);
        undo_release(&back);
        free(t1);
        free(t2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        const struct journal_entry **pending = NULL;
        struct journal *j = NULL, *again = NULL;
        char err[1024], *now;
        size_t n, n_pending, len;
        int fd, r;

        fd = journal_file();
        FUZZ_CHECK(ftruncate(fd, 0) == 0);
        FUZZ_CHECK(size == 0 || write(fd, data, size) == (ssize_t)size);

        r = journal_open_fd(dup_of(fd), "journal-fuzz.jsonl", &j, err, sizeof(err));
        now = file_bytes(fd, &len);
        if (r < 0) {
                FUZZ_CHECK(r == -EBADMSG);
                FUZZ_CHECK(err[0] != '\0');
                FUZZ_CHECK(len == size && memcmp(now, data, size) == 0);
                free(now);
                return 0;
        }
        if (!journal_repaired(j)) {
                FUZZ_CHECK(len == size && memcmp(now, data, size) == 0);
                FUZZ_CHECK(size == 0 || data[size - 1] == '\n');
        } else {
                FUZZ_CHECK(len < size && memcmp(now, data, len) == 0);
                FUZZ_CHECK(len == 0 || now[len - 1] == '\n');
        }
        free(now);

        n = journal_count(j);
        for (size_t i = 0; i < n; i++) {
                const struct journal_entry *e = journal_entry_at(j, i);

                check_entry(e);
                FUZZ_CHECK(i == 0 || journal_entry_at(j, i - 1)->seq < e->seq);
        }
        n_pending = journal_pending(j, NULL, &pending);
        FUZZ_CHECK(n_pending <= n);
        free(pending);

        /* What a run does next: append a change, record an outcome. */
        struct undo u = { .kind = UNDO_REMOVE_FILE, .path = (char *)"/etc/fuzz" };
        int64_t seq = journal_append(j, "20260101-000000", "fuzz", "FILE_CREATE", "/etc/fuzz", &u);
        if (journal_last_seq(j) >= JOURNAL_SEQ_MAX) {
                /* a journal at its last seq takes nothing more, and says so */
                FUZZ_CHECK(journal_last_seq(j) == JOURNAL_SEQ_MAX);
                FUZZ_CHECK(seq == -EOVERFLOW);
                journal_free(j);
                return 0;
        }
        FUZZ_CHECK(seq >= 1);
        if ((uint64_t)seq == JOURNAL_SEQ_MAX) {
                /* the last seq went to the change: no line left for its outcome */
                FUZZ_CHECK(journal_record_result(j, (uint64_t)seq, UNDO_OK, "done") == -EOVERFLOW);
                journal_free(j);
                return 0;
        }
        FUZZ_CHECK(journal_record_result(j, (uint64_t)seq, UNDO_OK, "done") == 0);

        r = journal_open_fd(dup_of(fd), "journal-fuzz.jsonl", &again, err, sizeof(err));
        if (r < 0)
                fprintf(stderr, "reopen: %s\n", err);
        FUZZ_CHECK(r == 0);
        FUZZ_CHECK(!journal_repaired(again));
        FUZZ_CHECK(journal_count(again) == n + 1);
        for (size_t i = 0; i <= n; i++) {
                const struct journal_entry *x = journal_entry_at(j, i), *y = journal_entry_at(again, i);
                char *tx = undo_text(&x->undo), *ty = undo_text(&y->undo);

                FUZZ_CHECK(x->seq == y->seq && x->result == y->result);
                FUZZ_CHECK(strcmp(x->type, y->type) == 0);
                FUZZ_CHECK(strcmp(tx, ty) == 0);
                free(tx);
                free(ty);
        }
        FUZZ_CHECK(journal_pending(again, NULL, &pending) == n_pending);
        free(pending);
        journal_free(again);
        journal_free(j);
        return 0;
}
