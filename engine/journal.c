/* journal.c — see journal.h.
 *
 * DESIGN: the file is read once on open into an array of entries (pointers,
 * so that pointers handed out by journal_entry_at()/journal_pending() stay
 * valid while later entries are appended). Every line carries a seq; the
 * seqs of all lines (change records and outcomes) strictly increase, and the
 * next seq is one past the highest seen. An append builds the whole line
 * (JSON + '\n') in memory, writes it with one write(2) on the O_APPEND fd and
 * fsyncs before the entry becomes visible in memory. A short or failed write
 * is cut off again with ftruncate() so the file never keeps half a line that
 * the next open would have to repair.
 *
 * Reading is bounded: a line may hold at most JOURNAL_LINE_MAX bytes. The
 * last line is "torn" when it has no newline or is not JSON; it is cut off
 * (ftruncate + fsync) and journal_repaired() says so. Any other bad line is
 * -EBADMSG with the line number in err. */
#include "journal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "faultpoint.h"
#include "json_strict.h"

#define JOURNAL_LINE_MAX ((size_t)1 << 20)

struct journal {
        char *path;
        int fd;
        bool repaired;
        off_t size;                       /* end of the last good line */
        uint64_t last_seq;                /* highest seq of any line */
        struct journal_entry **entries;   /* change records, in seq order */
        size_t n, cap;
};

static const char *const kind_names[_UNDO_KIND_MAX] = {
        [UNDO_NOTHING] = "nothing",
        [UNDO_PURGE_PACKAGES] = "purge_packages",
        [UNDO_REMOVE_FILE] = "remove_file",
        [UNDO_RESTORE_FILE] = "restore_file",
        [UNDO_REMOVE_DIR] = "remove_dir",
        [UNDO_DELETE_USER] = "delete_user",
        [UNDO_DELETE_GROUP] = "delete_group",
        [UNDO_REMOVE_GROUP_MEMBER] = "remove_group_member",
        [UNDO_DISABLE_UNIT] = "disable_unit",
        [UNDO_STOP_UNIT] = "stop_unit",
        [UNDO_UNMASK_UNIT] = "unmask_unit",
        [UNDO_RESTART_UNIT] = "restart_unit",
        [UNDO_SET_ALTERNATIVE] = "set_alternative",
        [UNDO_UFW_DELETE_RULE] = "ufw_delete_rule",
        [UNDO_UFW_DISABLE] = "ufw_disable",
        [UNDO_REMOVE_APT_SOURCE] = "remove_apt_source",
        [UNDO_MANDB_AUTO_UPDATE] = "mandb_auto_update",
        [UNDO_UFW_ADD_RULE] = "ufw_add_rule",
        [UNDO_INITRAMFS_UPDATE] = "initramfs_update",
        [UNDO_ENABLE_UNIT] = "enable_unit",
        [UNDO_START_UNIT] = "start_unit",
};

/* Which fields each kind needs (checked when read back from JSON). */
enum {
        F_PATH = 1 << 0,
        F_BACKUP = 1 << 1,
        F_SHA = 1 << 2,
        F_OWNER = 1 << 3,   /* mode, uid, gid */
        F_NAME = 1 << 4,
        F_VALUE = 1 << 5,   /* may be "" */
        F_LIST = 1 << 6,    /* at least one element */
};

static const unsigned kind_needs[_UNDO_KIND_MAX] = {
        [UNDO_NOTHING] = 0,
        [UNDO_PURGE_PACKAGES] = F_LIST,
        [UNDO_REMOVE_FILE] = F_PATH,
        [UNDO_RESTORE_FILE] = F_PATH | F_BACKUP | F_SHA | F_OWNER,
        [UNDO_REMOVE_DIR] = F_PATH,
        [UNDO_DELETE_USER] = F_NAME,
        [UNDO_DELETE_GROUP] = F_NAME,
        [UNDO_REMOVE_GROUP_MEMBER] = F_NAME | F_VALUE,
        [UNDO_DISABLE_UNIT] = F_NAME,
        [UNDO_STOP_UNIT] = F_NAME,
        [UNDO_UNMASK_UNIT] = F_NAME,
        [UNDO_RESTART_UNIT] = F_NAME,
        [UNDO_SET_ALTERNATIVE] = F_NAME | F_VALUE,
        [UNDO_UFW_DELETE_RULE] = F_LIST,
        [UNDO_UFW_DISABLE] = 0,
        [UNDO_REMOVE_APT_SOURCE] = F_PATH,
        [UNDO_MANDB_AUTO_UPDATE] = F_PATH,
        [UNDO_UFW_ADD_RULE] = F_LIST,
        [UNDO_INITRAMFS_UPDATE] = F_PATH | F_VALUE,
        [UNDO_ENABLE_UNIT] = F_NAME,
        [UNDO_START_UNIT] = F_NAME,
};

static const char *const result_names[] = {
        [UNDO_PENDING] = "pending",
        [UNDO_OK] = "ok",
        [UNDO_SKIPPED] = "skipped",
        [UNDO_FAILED] = "failed",
};

/* ---- undo records ------------------------------------------------------ */

/* Frees the strings of u and zeroes it (the struct itself is the caller's). */
void undo_release(struct undo *u)
{
        if (!u)
                return;
        free(u->path);
        free(u->backup);
        free(u->name);
        free(u->value);
        strv_free(u->list);
        *u = (struct undo){ 0 };
}

/* Deep copy; NULL strings stay NULL, an empty list stays NULL. */
struct undo undo_copy(const struct undo *u)
{
        struct undo c = *u;

        c.path = u->path ? xstrdup(u->path) : NULL;
        c.backup = u->backup ? xstrdup(u->backup) : NULL;
        c.name = u->name ? xstrdup(u->name) : NULL;
        c.value = u->value ? xstrdup(u->value) : NULL;
        c.list = u->list ? strv_copy(u->list) : NULL;
        return c;
}

/* The kind's name as written in the journal ("restore_file"). */
const char *undo_kind_name(enum undo_kind k)
{
        if ((unsigned)k >= _UNDO_KIND_MAX)
                return "unknown";
        return kind_names[k];
}

/* The kind for a name read from the journal. */
static int undo_kind_from_name(const char *s, enum undo_kind *ret)
{
        for (unsigned k = 0; k < _UNDO_KIND_MAX; k++)
                if (strcmp(kind_names[k], s) == 0) {
                        *ret = (enum undo_kind)k;
                        return 0;
                }
        return -EBADMSG;
}

/* NULL-safe string for descriptions. */
static const char *or_q(const char *s)
{
        return s && *s ? s : "?";
}

/* "purge 412 packages: a, b, c (and 409 more)". */
static char *describe_packages(char *const *list)
{
        size_t n = strv_length(list);
        _cleanup_free_ char *some = NULL;

        if (n == 0)
                return xstrdup("purge no packages");
        if (n == 1)
                return xasprintf("purge package %s", list[0]);
        some = strv_join_some(list, 3);
        return xasprintf("purge %zu packages: %s", n, some);
}

/* One readable line per kind, for the rollback preview and the log. */
char *undo_describe(const struct undo *u)
{
        _cleanup_free_ char *joined = NULL;
        size_t n;

        switch (u->kind) {
        case UNDO_NOTHING:
                return xstrdup("nothing to undo (recorded for the audit trail)");
        case UNDO_PURGE_PACKAGES:
                return describe_packages(u->list);
        case UNDO_REMOVE_FILE:
                return xasprintf("remove %s", or_q(u->path));
        case UNDO_RESTORE_FILE:
                return xasprintf("restore %s from its backup", or_q(u->path));
        case UNDO_REMOVE_DIR:
                return xasprintf("remove directory %s if it is empty", or_q(u->path));
        case UNDO_DELETE_USER:
                return xasprintf("delete user %s and its home directory (kept aside if it holds "
                                 "files vps-provision did not make)", or_q(u->name));
        case UNDO_DELETE_GROUP:
                return xasprintf("delete group %s", or_q(u->name));
        case UNDO_REMOVE_GROUP_MEMBER:
                return xasprintf("remove %s from group %s", or_q(u->name), or_q(u->value));
        case UNDO_DISABLE_UNIT:
                return xasprintf("disable and stop %s", or_q(u->name));
        case UNDO_STOP_UNIT:
                return xasprintf("stop %s", or_q(u->name));
        case UNDO_UNMASK_UNIT:
                return xasprintf("unmask %s", or_q(u->name));
        case UNDO_RESTART_UNIT:
                return xasprintf("restart %s if it is running", or_q(u->name));
        case UNDO_ENABLE_UNIT:
                return xasprintf("enable and start %s again", or_q(u->name));
        case UNDO_START_UNIT:
                return xasprintf("start %s again", or_q(u->name));
        case UNDO_SET_ALTERNATIVE:
                if (!u->value || !*u->value)
                        return xasprintf("set alternative %s back to automatic", or_q(u->name));
                return xasprintf("set alternative %s back to %s", or_q(u->name), u->value);
        case UNDO_UFW_DELETE_RULE:
                joined = strv_join(u->list, " ");
                return xasprintf("delete firewall rule \"%s\"", joined);
        case UNDO_UFW_DISABLE:
                return xstrdup("turn the firewall (ufw) off again");
        case UNDO_UFW_ADD_RULE:
                joined = strv_join(u->list, " ");
                return xasprintf("add firewall rule \"%s\" again", joined);
        case UNDO_REMOVE_APT_SOURCE:
                n = strv_length(u->list);
                if (n == 0)
                        return xasprintf("remove apt source %s", or_q(u->path));
                return xasprintf("remove apt source %s and %zu keyring%s", or_q(u->path), n,
                                 n == 1 ? "" : "s");
        case UNDO_MANDB_AUTO_UPDATE:
                return xstrdup("turn man-db's automatic index updates back on");
        case UNDO_INITRAMFS_UPDATE:
                return xasprintf("turn the initramfs updates back on (%s); the initramfs is regenerated once",
                                 or_q(u->path));
        case _UNDO_KIND_MAX:
                break;
        }
        return xasprintf("unknown undo kind %d", (int)u->kind);
}

/* Writes kind and every field that is set (mode/uid/gid always for restore_file). */
struct json_object *undo_to_json(const struct undo *u)
{
        struct json_object *o = json_object_new_object();

        json_object_object_add(o, "kind", json_object_new_string(undo_kind_name(u->kind)));
        if (u->path)
                json_object_object_add(o, "path", json_object_new_string(u->path));
        if (u->backup)
                json_object_object_add(o, "backup", json_object_new_string(u->backup));
        if (u->sha256[0])
                json_object_object_add(o, "sha256", json_object_new_string(u->sha256));
        if (u->kind == UNDO_RESTORE_FILE || u->mode || u->uid || u->gid) {
                json_object_object_add(o, "mode", json_object_new_int64(u->mode));
                json_object_object_add(o, "uid", json_object_new_int64(u->uid));
                json_object_object_add(o, "gid", json_object_new_int64(u->gid));
        }
        if (u->name)
                json_object_object_add(o, "name", json_object_new_string(u->name));
        if (u->value)
                json_object_object_add(o, "value", json_object_new_string(u->value));
        if (u->list) {
                struct json_object *a = json_object_new_array();
                for (size_t i = 0; u->list[i]; i++)
                        json_object_array_add(a, json_object_new_string(u->list[i]));
                json_object_object_add(o, "list", a);
        }
        return o;
}

/* A JSON string that C can hold whole: "\u0000" inside would cut it short
 * (a package name "\u0000x" read as ""), so such a string is not one. */
static bool is_whole_string(struct json_object *v)
{
        return json_object_is_type(v, json_type_string) &&
               strlen(json_object_get_string(v)) == (size_t)json_object_get_string_len(v);
}

/* An optional string member: absent/null → NULL; not a string (or one with
 * a NUL inside) → -EBADMSG. */
static int get_opt_string(struct json_object *o, const char *key, char **ret)
{
        struct json_object *v;

        if (!json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null)) {
                *ret = NULL;
                return 0;
        }
        if (!is_whole_string(v))
                return -EBADMSG;
        *ret = xstrdup(json_object_get_string(v));
        return 0;
}

/* An optional non-negative integer member no larger than max. */
static int get_opt_uint(struct json_object *o, const char *key, int64_t max, int64_t *ret)
{
        struct json_object *v;
        int64_t x;

        if (!json_object_object_get_ex(o, key, &v)) {
                *ret = 0;
                return 0;
        }
        if (!json_object_is_type(v, json_type_int))
                return -EBADMSG;
        errno = 0;
        x = json_object_get_int64(v);
        if (errno != 0 || x < 0 || x > max)
                return -EBADMSG;
        *ret = x;
        return 0;
}

/* 64 lower-case hex digits. */
static bool is_sha256_hex(const char *s)
{
        size_t i;

        for (i = 0; s[i]; i++)
                if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
                        return false;
        return i == 64;
}

/* Reads every field present, then checks that the kind has what it needs. */
int undo_from_json(struct json_object *o, struct undo *ret)
{
        _cleanup_(undo_release) struct undo u = { 0 };
        struct json_object *v;
        _cleanup_free_ char *sha = NULL;
        int64_t mode, uid, gid;
        unsigned needs;

        if (!o || !json_object_is_type(o, json_type_object))
                return -EBADMSG;
        if (!json_object_object_get_ex(o, "kind", &v) || !is_whole_string(v))
                return -EBADMSG;
        if (undo_kind_from_name(json_object_get_string(v), &u.kind) < 0)
                return -EBADMSG;
        if (get_opt_string(o, "path", &u.path) < 0 || get_opt_string(o, "backup", &u.backup) < 0 ||
            get_opt_string(o, "name", &u.name) < 0 || get_opt_string(o, "value", &u.value) < 0 ||
            get_opt_string(o, "sha256", &sha) < 0)
                return -EBADMSG;
        if (sha) {
                if (!is_sha256_hex(sha))
                        return -EBADMSG;
                memcpy(u.sha256, sha, SHA256_HEX);
        }
        if (get_opt_uint(o, "mode", 07777, &mode) < 0 ||
            get_opt_uint(o, "uid", UINT32_MAX - 1, &uid) < 0 ||
            get_opt_uint(o, "gid", UINT32_MAX - 1, &gid) < 0)
                return -EBADMSG;
        u.mode = (mode_t)mode;
        u.uid = (uid_t)uid;
        u.gid = (gid_t)gid;
        if (json_object_object_get_ex(o, "list", &v) && !json_object_is_type(v, json_type_null)) {
                size_t n;

                if (!json_object_is_type(v, json_type_array))
                        return -EBADMSG;
                n = json_object_array_length(v);
                u.list = xcalloc(n + 1, sizeof(char *));
                for (size_t i = 0; i < n; i++) {
                        struct json_object *s = json_object_array_get_idx(v, i);
                        if (!is_whole_string(s) || json_object_get_string_len(s) == 0)
                                return -EBADMSG;
                        u.list[i] = xstrdup(json_object_get_string(s));
                }
        }

        /* What the kind needs must be there, and paths must be absolute. */
        needs = kind_needs[u.kind];
        if ((needs & F_PATH) && (!u.path || u.path[0] != '/'))
                return -EBADMSG;
        if ((needs & F_BACKUP) && (!u.backup || u.backup[0] != '/'))
                return -EBADMSG;
        if ((needs & F_SHA) && !u.sha256[0])
                return -EBADMSG;
        if ((needs & F_OWNER) && (!json_object_object_get_ex(o, "mode", NULL) ||
                                  !json_object_object_get_ex(o, "uid", NULL) ||
                                  !json_object_object_get_ex(o, "gid", NULL)))
                return -EBADMSG;
        if ((needs & F_NAME) && (!u.name || !*u.name))
                return -EBADMSG;
        if ((needs & F_VALUE) && !u.value)
                return -EBADMSG;
        if (u.kind == UNDO_REMOVE_GROUP_MEMBER && !*u.value)
                return -EBADMSG;
        if ((needs & F_LIST) && strv_length(u.list) == 0)
                return -EBADMSG;

        *ret = u;
        u = (struct undo){ 0 };
        return 0;
}

/* ---- entries ----------------------------------------------------------- */

/* Frees a change record and everything it owns. */
static void entry_free(struct journal_entry *e)
{
        if (!e)
                return;
        free(e->session_id);
        free(e->phase);
        free(e->type);
        free(e->target);
        undo_release(&e->undo);
        free(e->result_message);
        free(e);
}

/* Cleanup helper for entry_free(). */
static void entry_freep(struct journal_entry **e)
{
        entry_free(*e);
}

/* The outcome for "ok" / "skipped" / "failed". */
static int result_from_name(const char *s, enum undo_result *ret)
{
        for (unsigned r = UNDO_OK; r <= UNDO_FAILED; r++)
                if (strcmp(result_names[r], s) == 0) {
                        *ret = (enum undo_result)r;
                        return 0;
                }
        return -EBADMSG;
}

/* Appends a change record (the journal takes it). */
static void journal_push(struct journal *j, struct journal_entry *e)
{
        if (j->n == j->cap) {
                j->cap = j->cap ? j->cap * 2 : 64;
                j->entries = xrealloc(j->entries, j->cap * sizeof(*j->entries));
        }
        j->entries[j->n++] = e;
}

/* The change record with this seq (binary search: entries are in seq order). */
static struct journal_entry *journal_find(const struct journal *j, uint64_t seq)
{
        size_t lo = 0, hi = j->n;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (j->entries[mid]->seq == seq)
                        return j->entries[mid];
                if (j->entries[mid]->seq < seq)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return NULL;
}

/* Reads a line's seq and checks it increases. */
static int line_seq(struct journal *j, struct json_object *o, uint64_t *ret, char *why,
                    size_t whylen)
{
        struct json_object *v;
        int64_t seq;

        if (!json_object_object_get_ex(o, "seq", &v) || !json_object_is_type(v, json_type_int)) {
                snprintf(why, whylen, "no \"seq\" number");
                return -EBADMSG;
        }
        seq = json_object_get_int64(v);
        if (seq >= 1 && (uint64_t)seq > JOURNAL_SEQ_MAX) {
                snprintf(why, whylen, "seq %" PRId64 " is beyond %" PRIu64 " (2^53): no run writes it",
                         seq, JOURNAL_SEQ_MAX);
                return -EBADMSG;
        }
        if (seq < 1 || (uint64_t)seq <= j->last_seq) {
                snprintf(why, whylen, "seq %" PRId64 " does not follow seq %" PRIu64, seq,
                         j->last_seq);
                return -EBADMSG;
        }
        *ret = (uint64_t)seq;
        return 0;
}

/* Copies the "time" member into ret (optional; "" when absent). */
static int line_time(struct json_object *o, char ret[ISO8601_MAX])
{
        struct json_object *v;

        ret[0] = '\0';
        if (!json_object_object_get_ex(o, "time", &v))
                return 0;
        if (!is_whole_string(v) || strscpy(ret, ISO8601_MAX, json_object_get_string(v)) < 0)
                return -EBADMSG;
        return 0;
}

/* Takes one parsed line into the journal: a change record or an outcome. */
static int journal_take_line(struct journal *j, struct json_object *o, char *why, size_t whylen)
{
        struct json_object *v;
        uint64_t seq;
        int r;

        r = line_seq(j, o, &seq, why, whylen);
        if (r < 0)
                return r;

        if (json_object_object_get_ex(o, "undo_of", &v)) {
                struct journal_entry *e;
                enum undo_result res;
                int64_t of;
                char *msg;

                if (!json_object_is_type(v, json_type_int) || (of = json_object_get_int64(v)) < 1) {
                        snprintf(why, whylen, "\"undo_of\" is not a sequence number");
                        return -EBADMSG;
                }
                e = journal_find(j, (uint64_t)of);
                if (!e) {
                        snprintf(why, whylen,
                                 "outcome for entry %" PRId64 ", which is not in the journal", of);
                        return -EBADMSG;
                }
                if (!json_object_object_get_ex(o, "result", &v) ||
                    !is_whole_string(v) ||
                    result_from_name(json_object_get_string(v), &res) < 0) {
                        snprintf(why, whylen, "\"result\" is not ok, skipped or failed");
                        return -EBADMSG;
                }
                if (get_opt_string(o, "message", &msg) < 0) {
                        snprintf(why, whylen, "\"message\" is not a string");
                        return -EBADMSG;
                }
                e->result = res;
                free(e->result_message);
                e->result_message = msg;
                j->last_seq = seq;
                return 0;
        }

        _cleanup_(entry_freep) struct journal_entry *e = xcalloc(1, sizeof(*e));
        e->seq = seq;
        if (line_time(o, e->time) < 0) {
                snprintf(why, whylen, "\"time\" is not a time stamp");
                return -EBADMSG;
        }
        if (get_opt_string(o, "session", &e->session_id) < 0 ||
            get_opt_string(o, "phase", &e->phase) < 0 || get_opt_string(o, "type", &e->type) < 0 ||
            get_opt_string(o, "target", &e->target) < 0) {
                snprintf(why, whylen, "session, phase, type or target is not a string");
                return -EBADMSG;
        }
        if (!e->type) {
                snprintf(why, whylen, "no \"type\"");
                return -EBADMSG;
        }
        if (!json_object_object_get_ex(o, "undo", &v) || undo_from_json(v, &e->undo) < 0) {
                snprintf(why, whylen, "missing or invalid \"undo\"");
                return -EBADMSG;
        }
        e->result = UNDO_PENDING;
        journal_push(j, TAKE_PTR(e));
        j->last_seq = seq;
        return 0;
}

/* Reads the whole file line by line; cuts a torn tail off. */
static int journal_load(struct journal *j, char *err, size_t errlen)
{
        struct buf line;
        char chunk[65536];
        off_t off = 0, line_start = 0;
        unsigned lineno = 0;
        bool overlong = false;
        int r = 0;

        buf_init(&line, JOURNAL_LINE_MAX);
        for (;;) {
                ssize_t n = pread(j->fd, chunk, sizeof(chunk), off);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        r = -errno;
                        snprintf(err, errlen, "cannot read the journal %s: %s", j->path,
                                 strerror(errno));
                        goto out;
                }
                if (n == 0)
                        break;
                for (ssize_t i = 0; i < n; i++) {
                        char c = chunk[i];
                        if (c != '\n') {
                                if (!overlong && buf_append(&line, &c, 1) < 0)
                                        overlong = true;
                                continue;
                        }
                        /* A complete line. Only the last line may be torn, and
                         * we cannot know yet whether this one is the last: parse
                         * now, and decide when we see whether more follows. */
                        lineno++;
                        char why[256] = "";
                        struct json_object *o = NULL;
                        if (overlong)
                                strscpy(why, sizeof(why), "longer than 1 MiB");
                        else
                                (void)json_parse_strict(line.data ? line.data : "", line.len, &o,
                                                        why, sizeof(why));
                        if (!o) {
                                off_t end = off + i + 1;
                                struct stat st;
                                if (fstat(j->fd, &st) == 0 && st.st_size == end) {
                                        /* The last line: torn (e.g. zeroes after a crash). */
                                        goto torn;
                                }
                                snprintf(err, errlen,
                                         "journal %s line %u: %s; the journal is damaged "
                                         "(move it aside or fix that line by hand, then run again)",
                                         j->path, lineno, why);
                                r = -EBADMSG;
                                goto out;
                        }
                        r = journal_take_line(j, o, why, sizeof(why));
                        json_object_put(o);
                        if (r < 0) {
                                snprintf(err, errlen,
                                         "journal %s line %u: %s; the journal is damaged "
                                         "(move it aside or fix that line by hand, then run again)",
                                         j->path, lineno, why);
                                goto out;
                        }
                        line_start = off + i + 1;
                        line.len = 0;
                        overlong = false;
                }
                off += n;
        }
        if (off == line_start)
                goto out;   /* ends with a newline: nothing torn */
torn:
        if (ftruncate(j->fd, line_start) < 0 || fsync(j->fd) < 0) {
                r = -errno;
                snprintf(err, errlen, "cannot cut the torn last line off the journal %s: %s",
                         j->path, strerror(errno));
                goto out;
        }
        j->repaired = true;
out:
        j->size = line_start;
        buf_release(&line);
        return r;
}

/* Opens or creates the file (0600, no symlinks), then reads and checks every line. */
int journal_open(const char *path, struct journal **ret, char *err, size_t errlen)
{
        bool created;
        int r;

        if (errlen)
                err[0] = '\0';
        created = !path_exists(path);
        _cleanup_close_ int fd =
                open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600);
        if (fd < 0) {
                r = -errno;
                snprintf(err, errlen, "cannot open the journal %s: %s", path, strerror(errno));
                return r;
        }
        if (created) {
                /* The new name must survive a crash as well as its lines. */
                r = fsync_dir_of(path);
                if (r < 0) {
                        snprintf(err, errlen, "cannot sync the directory of %s: %s", path,
                                 strerror(-r));
                        return r;
                }
        }
        return journal_open_fd(TAKE_FD(fd), path, ret, err, errlen);
}

/* Takes fd, checks it is a private regular file, reads every line. */
int journal_open_fd(int fd_in, const char *path, struct journal **ret, char *err, size_t errlen)
{
        _cleanup_close_ int fd = fd_in;
        struct journal *j;
        struct stat st;
        int r;

        if (errlen)
                err[0] = '\0';
        if (fstat(fd, &st) < 0) {
                r = -errno;
                snprintf(err, errlen, "cannot stat the journal %s: %s", path, strerror(errno));
                return r;
        }
        if (!S_ISREG(st.st_mode)) {
                snprintf(err, errlen, "the journal %s is not a regular file", path);
                return -EINVAL;
        }
        if ((st.st_mode & 07777) != 0600 && fchmod(fd, 0600) < 0) {
                r = -errno;
                snprintf(err, errlen, "cannot make the journal %s private (mode 0600): %s", path,
                         strerror(errno));
                return r;
        }

        j = xcalloc(1, sizeof(*j));
        j->path = xstrdup(path);
        j->fd = TAKE_FD(fd);
        r = journal_load(j, err, errlen);
        if (r < 0) {
                journal_free(j);
                return r;
        }
        *ret = j;
        return 0;
}

/* Closes the file and frees every entry. */
void journal_free(struct journal *j)
{
        if (!j)
                return;
        if (j->fd >= 0)
                close(j->fd);
        for (size_t i = 0; i < j->n; i++)
                entry_free(j->entries[i]);
        free(j->entries);
        free(j->path);
        free(j);
}

/* Whether journal_open() cut a torn last line off. */
bool journal_repaired(const struct journal *j)
{
        return j->repaired;
}

/* The path given to journal_open(). */
const char *journal_path(const struct journal *j)
{
        return j->path;
}

/* Writes one line (one write(2)) and fsyncs; on failure the file is cut
 * back to where it was so no half line is left behind. */
static int journal_write_line(struct journal *j, struct json_object *o)
{
        const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
                                                             JSON_C_TO_STRING_NOSLASHESCAPE);
        size_t len = strlen(s);
        _cleanup_free_ char *line = NULL;
        ssize_t n;
        int r = 0;

        if (len + 1 > JOURNAL_LINE_MAX)
                return -E2BIG;
        line = xmalloc(len + 1);
        memcpy(line, s, len);
        line[len] = '\n';
        do
                n = write(j->fd, line, len + 1);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                r = -errno;
        else if ((size_t)n != len + 1)
                r = -ENOSPC;
        else if (fsync(j->fd) < 0)
                r = -errno;
        if (r < 0) {
                /* Best effort: leave no partial line behind. */
                (void)!ftruncate(j->fd, j->size);
                (void)!fsync(j->fd);
                return r;
        }
        j->size += (off_t)(len + 1);
        j->last_seq++;
        fault_point("journal", line, len);
        return 0;
}

/* Write-ahead record of one change: on disk and synced before it returns. */
int64_t journal_append(struct journal *j, const char *session_id, const char *phase,
                       const char *type, const char *target, const struct undo *u)
{
        _cleanup_(entry_freep) struct journal_entry *e = NULL;
        struct json_object *o;
        int r;

        if (!type || !*type || !u || (unsigned)u->kind >= _UNDO_KIND_MAX)
                return -EINVAL;
        if (j->last_seq >= JOURNAL_SEQ_MAX)
                return -EOVERFLOW;

        e = xcalloc(1, sizeof(*e));
        e->seq = j->last_seq + 1;
        iso8601_now(e->time);
        e->session_id = session_id ? xstrdup(session_id) : NULL;
        e->phase = phase ? xstrdup(phase) : NULL;
        e->type = xstrdup(type);
        e->target = target ? xstrdup(target) : NULL;
        e->undo = undo_copy(u);
        e->result = UNDO_PENDING;

        o = json_object_new_object();
        json_object_object_add(o, "seq", json_object_new_int64((int64_t)e->seq));
        json_object_object_add(o, "time", json_object_new_string(e->time));
        if (e->session_id)
                json_object_object_add(o, "session", json_object_new_string(e->session_id));
        if (e->phase)
                json_object_object_add(o, "phase", json_object_new_string(e->phase));
        json_object_object_add(o, "type", json_object_new_string(e->type));
        if (e->target)
                json_object_object_add(o, "target", json_object_new_string(e->target));
        json_object_object_add(o, "undo", undo_to_json(&e->undo));
        r = journal_write_line(j, o);
        json_object_put(o);
        if (r < 0)
                return r;
        journal_push(j, e);
        return (int64_t)TAKE_PTR(e)->seq;
}

/* Records the outcome of undoing entry seq as its own line. */
int journal_record_result(struct journal *j, uint64_t seq, enum undo_result res,
                          const char *message)
{
        struct journal_entry *e = journal_find(j, seq);
        char now[ISO8601_MAX];
        struct json_object *o;
        int r;

        if (!e)
                return -ENOENT;
        if (res != UNDO_OK && res != UNDO_SKIPPED && res != UNDO_FAILED)
                return -EINVAL;
        if (j->last_seq >= JOURNAL_SEQ_MAX)
                return -EOVERFLOW;

        iso8601_now(now);
        o = json_object_new_object();
        json_object_object_add(o, "seq", json_object_new_int64((int64_t)(j->last_seq + 1)));
        json_object_object_add(o, "time", json_object_new_string(now));
        json_object_object_add(o, "undo_of", json_object_new_int64((int64_t)seq));
        json_object_object_add(o, "result", json_object_new_string(result_names[res]));
        if (message)
                json_object_object_add(o, "message", json_object_new_string(message));
        r = journal_write_line(j, o);
        json_object_put(o);
        if (r < 0)
                return r;
        e->result = res;
        free(e->result_message);
        e->result_message = message ? xstrdup(message) : NULL;
        return 0;
}

/* Number of change records (outcome lines are not counted). */
uint64_t journal_last_seq(const struct journal *j)
{
        return j->last_seq;
}

size_t journal_count(const struct journal *j)
{
        return j->n;
}

/* The i-th change record in seq order, NULL past the end. */
const struct journal_entry *journal_entry_at(const struct journal *j, size_t i)
{
        return i < j->n ? j->entries[i] : NULL;
}

/* Change records not undone yet, newest first (LIFO for rollback). */
size_t journal_pending(const struct journal *j, const char *session_id,
                       const struct journal_entry ***ret)
{
        const struct journal_entry **v = NULL;
        size_t n = 0;

        for (size_t i = j->n; i-- > 0;) {
                const struct journal_entry *e = j->entries[i];
                if (e->result != UNDO_PENDING && e->result != UNDO_FAILED)
                        continue;
                if (session_id && (!e->session_id || strcmp(e->session_id, session_id) != 0))
                        continue;
                if (!v)
                        v = xcalloc(i + 1, sizeof(*v));
                v[n++] = e;
        }
        *ret = v;
        return n;
}

/* Applies each undo and records each outcome; carries on after failures. */
int journal_rollback(struct journal *j, const struct journal_entry *const *list, size_t n,
                     undo_apply_fn apply, void *userdata)
{
        int failures = 0;

        for (size_t i = 0; i < n; i++) {
                const struct journal_entry *e = list[i];
                char msg[1024] = "";
                enum undo_result res;
                int r;

                fault_point("undo", undo_kind_name(e->undo.kind), strlen(undo_kind_name(e->undo.kind)));
                r = apply(userdata, e, msg, sizeof(msg));
                fault_point("undone", undo_kind_name(e->undo.kind), strlen(undo_kind_name(e->undo.kind)));
                if (r == 0)
                        res = UNDO_OK;
                else if (r == 1)
                        res = UNDO_SKIPPED;
                else {
                        res = UNDO_FAILED;
                        if (!msg[0])
                                snprintf(msg, sizeof(msg), "%s failed: %s",
                                         undo_kind_name(e->undo.kind),
                                         r < 0 ? strerror(-r) : "unexpected result");
                }
                if (!msg[0])
                        snprintf(msg, sizeof(msg), "%s", res == UNDO_OK ? "done" : "nothing to do");
                if (res == UNDO_FAILED)
                        failures++;
                /* An outcome that cannot be recorded counts as a failure: the
                 * entry stays pending and a later rollback retries it (undos
                 * are idempotent). */
                if (journal_record_result(j, e->seq, res, msg) < 0 && res != UNDO_FAILED)
                        failures++;
        }
        return failures;
}
