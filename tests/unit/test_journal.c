/* test_journal.c — the transaction log: append/reopen, durability, torn
 * tails, damaged lines, undo records as JSON and as words, pending lists,
 * rollback bookkeeping. */
#include "testlib.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "journal.h"

#define S(x) ((char *)(x))
#define SHA_A "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static char *new_journal_path(void)
{
        return test_path(test_tmpdir(), "journal-20261122-101500.jsonl");
}

static struct journal *open_ok(const char *path)
{
        struct journal *j = NULL;
        char err[512] = "";
        int r = journal_open(path, &j, err, sizeof(err));
        if (r < 0)
                fail_msg("journal_open(%s): %d %s", path, r, err);
        assert_non_null(j);
        return j;
}

/* One sample undo of each kind, with every field the kind uses. */
static struct undo sample_undo(enum undo_kind k)
{
        static char *pkgs[] = { S("xfce4"), S("xrdp"), NULL };
        static char *rule[] = { S("allow"), S("3389/tcp"), NULL };
        static char *keys[] = { S("/usr/share/keyrings/microsoft.gpg"), NULL };
        struct undo u = { .kind = k };

        switch (k) {
        case UNDO_NOTHING:
        case UNDO_UFW_DISABLE:
        case _UNDO_KIND_MAX:
                break;
        case UNDO_PURGE_PACKAGES:
                u.list = pkgs;
                break;
        case UNDO_REMOVE_FILE:
                u.path = S("/etc/polkit-1/rules.d/45-vps.rules");
                memcpy(u.sha256, SHA_A, SHA256_HEX);
                break;
        case UNDO_RESTORE_FILE:
                u.path = S("/etc/ssh/sshd_config");
                u.backup = S("/var/lib/vps-provision/backups/7-sshd_config");
                memcpy(u.sha256, SHA_A, SHA256_HEX);
                u.mode = 0640;
                u.uid = 0;
                u.gid = 4;
                break;
        case UNDO_REMOVE_DIR:
                u.path = S("/etc/xrdp/conf.d");
                break;
        case UNDO_DELETE_USER:
        case UNDO_DELETE_GROUP:
                u.name = S("devuser");
                break;
        case UNDO_REMOVE_GROUP_MEMBER:
                u.name = S("devuser");
                u.value = S("sudo");
                break;
        case UNDO_DISABLE_UNIT:
        case UNDO_STOP_UNIT:
        case UNDO_UNMASK_UNIT:
        case UNDO_RESTART_UNIT:
                u.name = S("xrdp.service");
                break;
        case UNDO_ENABLE_UNIT:
        case UNDO_START_UNIT:
                u.name = S("ssh.socket");
                break;
        case UNDO_SET_ALTERNATIVE:
                u.name = S("x-session-manager");
                u.value = S("/usr/bin/xfce4-session");
                break;
        case UNDO_UFW_DELETE_RULE:
        case UNDO_UFW_ADD_RULE:
                u.list = rule;
                break;
        case UNDO_REMOVE_APT_SOURCE:
                u.path = S("/etc/apt/sources.list.d/vscode.sources");
                u.list = keys;
                break;
        case UNDO_MANDB_AUTO_UPDATE:
                u.path = S("/var/lib/man-db/auto-update");
                break;
        case UNDO_INITRAMFS_UPDATE:
                u.path = S("/etc/initramfs-tools/update-initramfs.conf");
                u.value = S("update_initramfs=yes");
                break;
        }
        return u;
}

static void assert_str_eq_null(const char *a, const char *b)
{
        if (!a || !b)
                assert_ptr_equal(a, b);
        else
                assert_string_equal(a, b);
}

static void assert_undo_equal(const struct undo *a, const struct undo *b)
{
        assert_int_equal(a->kind, b->kind);
        assert_str_eq_null(a->path, b->path);
        assert_str_eq_null(a->backup, b->backup);
        assert_string_equal(a->sha256, b->sha256);
        assert_int_equal(a->mode, b->mode);
        assert_int_equal(a->uid, b->uid);
        assert_int_equal(a->gid, b->gid);
        assert_str_eq_null(a->name, b->name);
        assert_str_eq_null(a->value, b->value);
        assert_int_equal(strv_length(a->list), strv_length(b->list));
        for (size_t i = 0; a->list && a->list[i]; i++)
                assert_string_equal(a->list[i], b->list[i]);
}

static void test_append_reopen(void **state)
{
        (void)state;
        _cleanup_free_ char *path = new_journal_path();
        struct journal *j = open_ok(path);
        struct undo u1 = sample_undo(UNDO_PURGE_PACKAGES);
        struct undo u2 = sample_undo(UNDO_RESTORE_FILE);
        struct undo u3 = sample_undo(UNDO_NOTHING);
        struct stat st;

        assert_false(journal_repaired(j));
        assert_string_equal(journal_path(j), path);
        assert_int_equal(journal_count(j), 0);
        assert_int_equal(journal_append(j, "20261122-101500", "desktop", "PACKAGE_INSTALL",
                                        "xfce4 xrdp", &u1), 1);
        assert_int_equal(journal_append(j, "20261122-101500", "rdp", "FILE_MODIFY",
                                        "/etc/ssh/sshd_config", &u2), 2);
        assert_int_equal(journal_append(j, NULL, NULL, "COMMAND_EXEC", NULL, &u3), 3);
        assert_int_equal(journal_count(j), 3);
        assert_null(journal_entry_at(j, 3));
        journal_free(j);

        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0600);

        j = open_ok(path);
        assert_false(journal_repaired(j));
        assert_int_equal(journal_count(j), 3);
        const struct journal_entry *e = journal_entry_at(j, 0);
        assert_int_equal(e->seq, 1);
        assert_string_equal(e->session_id, "20261122-101500");
        assert_string_equal(e->phase, "desktop");
        assert_string_equal(e->type, "PACKAGE_INSTALL");
        assert_string_equal(e->target, "xfce4 xrdp");
        assert_int_equal(strlen(e->time), 20);
        assert_int_equal(e->result, UNDO_PENDING);
        assert_undo_equal(&e->undo, &u1);
        e = journal_entry_at(j, 1);
        assert_int_equal(e->seq, 2);
        assert_string_equal(e->phase, "rdp");
        assert_undo_equal(&e->undo, &u2);
        e = journal_entry_at(j, 2);
        assert_null(e->session_id);
        assert_null(e->target);
        assert_undo_equal(&e->undo, &u3);
        /* seq continues from the highest seen */
        assert_int_equal(journal_append(j, "s", "p", "FILE_CREATE", "/x", &u3), 4);
        journal_free(j);
}

static void test_append_visible_at_once(void **state)
{
        (void)state;
        _cleanup_free_ char *path = new_journal_path();
        struct journal *j = open_ok(path);
        struct undo u = sample_undo(UNDO_DELETE_USER);
        char buf[4096];
        int fd;
        ssize_t n;

        /* A second, independent fd sees the whole line as soon as append returns. */
        fd = open(path, O_RDONLY | O_CLOEXEC);
        assert_true(fd >= 0);
        assert_int_equal(journal_append(j, "s1", "user", "USER_CREATE", "devuser", &u), 1);
        n = pread(fd, buf, sizeof(buf) - 1, 0);
        assert_true(n > 0);
        buf[n] = '\0';
        assert_int_equal(buf[n - 1], '\n');
        assert_ptr_equal(strchr(buf, '\n'), buf + n - 1);   /* exactly one line */
        assert_non_null(strstr(buf, "\"seq\":1"));
        assert_non_null(strstr(buf, "\"kind\":\"delete_user\""));
        assert_non_null(strstr(buf, "\"name\":\"devuser\""));

        assert_int_equal(journal_record_result(j, 1, UNDO_OK, "deleted"), 0);
        n = pread(fd, buf, sizeof(buf) - 1, 0);
        buf[n] = '\0';
        assert_non_null(strstr(buf, "{\"seq\":2,"));
        assert_non_null(strstr(buf, "\"undo_of\":1,\"result\":\"ok\",\"message\":\"deleted\"}\n"));
        close(fd);
        journal_free(j);
}

static void test_mode_tightened(void **state)
{
        (void)state;
        _cleanup_free_ char *path = new_journal_path();
        struct stat st;
        struct journal *j;

        test_write(path, "");   /* 0644 */
        j = open_ok(path);
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0600);
        journal_free(j);
}

static void test_open_errors(void **state)
{
        (void)state;
        char *dir = test_tmpdir();
        _cleanup_free_ char *missing = test_path(dir, "no/such/dir/journal.jsonl");
        struct journal *j = NULL;
        char err[512] = "";

        assert_int_equal(journal_open(missing, &j, err, sizeof(err)), -ENOENT);
        assert_null(j);
        assert_non_null(strstr(err, missing));
        assert_true(journal_open(dir, &j, err, sizeof(err)) < 0);   /* a directory */
        assert_null(j);
}

/* Appends two entries, then writes tail by hand, reopens and checks repair. */
static void check_torn_tail(const char *tail, size_t tail_len)
{
        _cleanup_free_ char *path = new_journal_path();
        struct journal *j = open_ok(path);
        struct undo u = sample_undo(UNDO_STOP_UNIT);
        struct stat st;
        off_t good;
        int fd;

        assert_int_equal(journal_append(j, "s", "rdp", "SERVICE_START", "xrdp", &u), 1);
        assert_int_equal(journal_append(j, "s", "rdp", "SERVICE_START", "xrdp", &u), 2);
        journal_free(j);
        assert_int_equal(stat(path, &st), 0);
        good = st.st_size;

        fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, tail, tail_len), (ssize_t)tail_len);
        close(fd);

        j = open_ok(path);
        assert_true(journal_repaired(j));
        assert_int_equal(journal_count(j), 2);
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_size, good);
        /* The next append is a well-formed line after the good ones. */
        assert_int_equal(journal_append(j, "s", "rdp", "SERVICE_START", "xrdp", &u), 3);
        journal_free(j);

        j = open_ok(path);
        assert_false(journal_repaired(j));
        assert_int_equal(journal_count(j), 3);
        assert_int_equal(journal_entry_at(j, 2)->seq, 3);
        journal_free(j);
}

static void test_torn_tail_no_newline(void **state)
{
        (void)state;
        static const char t[] = "{\"seq\":3,\"time\":\"2026-11-22T10:15:00Z\",\"ty";
        check_torn_tail(t, sizeof(t) - 1);
}

static void test_torn_tail_garbage_line(void **state)
{
        (void)state;
        static const char t[] = "{\"seq\":3,\"ti\n";
        check_torn_tail(t, sizeof(t) - 1);
}

static void test_torn_tail_zeroes(void **state)
{
        (void)state;
        static const char t[16] = { 0 };   /* what a crash can leave on ext4 */
        check_torn_tail(t, sizeof(t));
}

static void test_torn_tail_overlong(void **state)
{
        (void)state;
        size_t n = ((size_t)1 << 20) + 100;
        char *t = malloc(n);
        assert_non_null(t);
        memset(t, 'x', n);
        check_torn_tail(t, n);
        free(t);
}

static void check_bad_journal(const char *content, const char *want_line)
{
        _cleanup_free_ char *path = new_journal_path();
        _cleanup_free_ char *after = NULL;
        struct journal *j = NULL;
        char err[512] = "";

        test_write(path, content);
        assert_int_equal(journal_open(path, &j, err, sizeof(err)), -EBADMSG);
        assert_null(j);
        if (!strstr(err, want_line))
                fail_msg("error \"%s\" does not name \"%s\"", err, want_line);
        assert_non_null(strstr(err, path));
        after = test_read(path);
        assert_string_equal(after, content);   /* never touched */
}

#define GOOD1 "{\"seq\":1,\"time\":\"2026-11-22T10:15:00Z\",\"session\":\"s\",\"type\":\"FILE_CREATE\",\"target\":\"/x\",\"undo\":{\"kind\":\"remove_file\",\"path\":\"/x\"}}\n"
#define GOOD2 "{\"seq\":2,\"time\":\"2026-11-22T10:15:01Z\",\"session\":\"s\",\"type\":\"FILE_CREATE\",\"target\":\"/y\",\"undo\":{\"kind\":\"remove_file\",\"path\":\"/y\"}}\n"

static void test_bad_middle_line(void **state)
{
        (void)state;
        check_bad_journal(GOOD1 "this is not json\n" GOOD2, "line 2");
        check_bad_journal(GOOD1 "\n" GOOD2, "line 2");
        check_bad_journal(GOOD1 "{\"seq\":1} trailing\n" GOOD2, "line 2");
        /* a key twice in a line: the reason is in the message */
        check_bad_journal(GOOD1 "{\"seq\":2,\"seq\":3}\n" GOOD2, "line 2: the key \"seq\" appears twice");
        /* seq going backwards */
        check_bad_journal(GOOD2 GOOD1 GOOD2, "line 2");
        /* a record whose undo is invalid, even as the last line */
        check_bad_journal(GOOD1 "{\"seq\":2,\"type\":\"X\",\"undo\":{\"kind\":\"explode\"}}\n",
                          "line 2");
        /* an outcome for an entry that is not there */
        check_bad_journal(GOOD1 GOOD2 "{\"seq\":3,\"undo_of\":9,\"result\":\"ok\"}\n" GOOD1,
                          "line 3");
        check_bad_journal(GOOD1 "{\"seq\":3,\"undo_of\":1,\"result\":\"maybe\"}\n", "line 2");
        check_bad_journal(GOOD1 "{\"seq\":3,\"undo_of\":1,\"result\":\"ok\\u0000\"}\n", "line 2");
        check_bad_journal("{\"seq\":1,\"time\":\"2026\\u0000\",\"type\":\"FILE_CREATE\",\"undo\":{\"kind\":\"remove_file\",\"path\":\"/x\"}}\n" GOOD2,
                          "line 1");
}

/* GOOD1 with another seq. */
#define SEQ_LINE(n) "{\"seq\":" n ",\"time\":\"2026-11-22T10:15:00Z\",\"session\":\"s\",\"type\":\"FILE_CREATE\",\"target\":\"/x\",\"undo\":{\"kind\":\"remove_file\",\"path\":\"/x\"}}\n"

/* seq stays within 1..2^53 (found by fuzz/journal: a 57-digit seq, which
 * json-c clamps to INT64_MAX, made the next append's seq overflow) */
static void test_seq_bounds(void **state)
{
        (void)state;
        _cleanup_free_ char *path = new_journal_path(), *before = NULL, *after = NULL;
        struct undo u = sample_undo(UNDO_STOP_UNIT);
        struct journal *j;

        check_bad_journal(SEQ_LINE("111111111111111111111111111111111111111111111111111111111") GOOD2,
                          "line 1: seq 9223372036854775807 is beyond 9007199254740992 (2^53)");
        check_bad_journal(GOOD1 SEQ_LINE("9007199254740993"), "line 2: seq 9007199254740993 is beyond");

        /* the last seq a journal holds: it opens, and takes nothing more */
        test_write(path, SEQ_LINE("9007199254740992"));
        j = open_ok(path);
        assert_int_equal(journal_last_seq(j), JOURNAL_SEQ_MAX);
        before = test_read(path);
        assert_int_equal(journal_append(j, "s", "rdp", "SERVICE_START", "xrdp", &u), -EOVERFLOW);
        assert_int_equal(journal_record_result(j, JOURNAL_SEQ_MAX, UNDO_OK, "done"), -EOVERFLOW);
        after = test_read(path);
        assert_string_equal(after, before);
        journal_free(j);

        /* one below: the change gets the last seq, its outcome none */
        test_write(path, SEQ_LINE("9007199254740991"));
        j = open_ok(path);
        assert_int_equal(journal_append(j, "s", "rdp", "SERVICE_START", "xrdp", &u), (int64_t)JOURNAL_SEQ_MAX);
        assert_int_equal(journal_record_result(j, JOURNAL_SEQ_MAX, UNDO_OK, "done"), -EOVERFLOW);
        journal_free(j);
        j = open_ok(path);
        assert_int_equal(journal_count(j), 2);
        assert_int_equal(journal_entry_at(j, 1)->seq, JOURNAL_SEQ_MAX);
        journal_free(j);
}

static void test_outcomes_reloaded(void **state)
{
        (void)state;
        _cleanup_free_ char *path = new_journal_path();
        struct journal *j = open_ok(path);
        struct undo u = sample_undo(UNDO_REMOVE_DIR);

        assert_int_equal(journal_append(j, "s", "p", "FILE_CREATE", "/d", &u), 1);
        assert_int_equal(journal_append(j, "s", "p", "FILE_CREATE", "/d", &u), 2);
        assert_int_equal(journal_record_result(j, 2, UNDO_FAILED, "busy"), 0);
        assert_int_equal(journal_record_result(j, 1, UNDO_SKIPPED, NULL), 0);
        assert_int_equal(journal_record_result(j, 99, UNDO_OK, "x"), -ENOENT);
        assert_int_equal(journal_record_result(j, 1, UNDO_PENDING, "x"), -EINVAL);
        assert_int_equal(journal_append(j, "s", "p", "FILE_CREATE", "/d", &u), 5);
        assert_int_equal(journal_append(j, "s", "p", NULL, "/d", &u), -EINVAL);
        journal_free(j);

        j = open_ok(path);
        assert_int_equal(journal_count(j), 3);
        assert_int_equal(journal_entry_at(j, 0)->result, UNDO_SKIPPED);
        assert_null(journal_entry_at(j, 0)->result_message);
        assert_int_equal(journal_entry_at(j, 1)->result, UNDO_FAILED);
        assert_string_equal(journal_entry_at(j, 1)->result_message, "busy");
        assert_int_equal(journal_entry_at(j, 2)->seq, 5);
        assert_int_equal(journal_entry_at(j, 2)->result, UNDO_PENDING);
        journal_free(j);
}

static void test_undo_json_roundtrip(void **state)
{
        (void)state;
        for (unsigned k = 0; k < _UNDO_KIND_MAX; k++) {
                struct undo u = sample_undo((enum undo_kind)k);
                struct undo back = { 0 };
                struct json_object *o = undo_to_json(&u);
                const char *text = json_object_to_json_string(o);
                struct json_object *p = json_tokener_parse(text);

                assert_non_null(p);
                if (undo_from_json(p, &back) != 0)
                        fail_msg("kind %s did not read back: %s", undo_kind_name(u.kind), text);
                assert_undo_equal(&u, &back);
                /* the copy is deep and equal too */
                struct undo c = undo_copy(&back);
                assert_undo_equal(&c, &u);
                if (u.list)
                        assert_ptr_not_equal(c.list, back.list);
                undo_release(&c);
                undo_release(&back);
                json_object_put(o);
                json_object_put(p);
        }
        assert_string_equal(undo_kind_name(UNDO_REMOVE_GROUP_MEMBER), "remove_group_member");
        assert_string_equal(undo_kind_name(UNDO_REMOVE_APT_SOURCE), "remove_apt_source");
        assert_string_equal(undo_kind_name(UNDO_MANDB_AUTO_UPDATE), "mandb_auto_update");
        assert_string_equal(undo_kind_name(UNDO_INITRAMFS_UPDATE), "initramfs_update");
        assert_string_equal(undo_kind_name(_UNDO_KIND_MAX), "unknown");
}

static void check_undo_rejected(const char *json)
{
        struct json_object *o = json_tokener_parse(json);
        struct undo u = { 0 };
        assert_non_null(o);
        if (undo_from_json(o, &u) != -EBADMSG)
                fail_msg("accepted: %s", json);
        assert_null(u.path);
        json_object_put(o);
}

static void test_undo_json_rejects(void **state)
{
        (void)state;
        check_undo_rejected("{}");
        check_undo_rejected("{\"kind\":\"explode\"}");
        check_undo_rejected("{\"kind\":7}");
        check_undo_rejected("{\"kind\":\"remove_file\"}");
        check_undo_rejected("{\"kind\":\"remove_file\",\"path\":\"relative/x\"}");
        check_undo_rejected("{\"kind\":\"restore_file\",\"path\":\"/a\",\"backup\":\"/b\","
                            "\"mode\":420,\"uid\":0,\"gid\":0}");   /* no sha256 */
        check_undo_rejected("{\"kind\":\"restore_file\",\"path\":\"/a\",\"backup\":\"/b\","
                            "\"sha256\":\"" SHA_A "\"}");           /* no mode/uid/gid */
        check_undo_rejected("{\"kind\":\"remove_file\",\"path\":\"/a\",\"sha256\":\"abc\"}");
        check_undo_rejected("{\"kind\":\"purge_packages\",\"list\":[]}");
        check_undo_rejected("{\"kind\":\"purge_packages\",\"list\":[\"a\",3]}");
        check_undo_rejected("{\"kind\":\"delete_user\",\"name\":\"\"}");
        check_undo_rejected("{\"kind\":\"remove_group_member\",\"name\":\"u\"}");
        check_undo_rejected("{\"kind\":\"restore_file\",\"path\":\"/a\",\"backup\":\"/b\","
                            "\"sha256\":\"" SHA_A "\",\"mode\":-1,\"uid\":0,\"gid\":0}");
        /* a NUL inside a string would cut it short in C (found by fuzz/journal:
         * a package "\u0000o1:i386" read as "", which no undo may name) */
        check_undo_rejected("{\"kind\":\"purge_packages\",\"list\":[\"xrdp\",\"\\u0000o1:i386\"]}");
        check_undo_rejected("{\"kind\":\"remove_file\",\"path\":\"/etc/x\\u0000y\"}");
        check_undo_rejected("{\"kind\":\"remove_file\\u0000\",\"path\":\"/etc/x\"}");
        /* set_alternative with "" (back to auto) is fine */
        struct json_object *o = json_tokener_parse(
                "{\"kind\":\"set_alternative\",\"name\":\"editor\",\"value\":\"\"}");
        struct undo u = { 0 };
        assert_int_equal(undo_from_json(o, &u), 0);
        assert_string_equal(u.value, "");
        undo_release(&u);
        json_object_put(o);
}

static void check_describe(const struct undo *u, const char *want)
{
        _cleanup_free_ char *d = undo_describe(u);
        assert_string_equal(d, want);
}

static void test_undo_describe(void **state)
{
        (void)state;
        static const char *const want[_UNDO_KIND_MAX] = {
                [UNDO_NOTHING] = "nothing to undo (recorded for the audit trail)",
                [UNDO_PURGE_PACKAGES] = "purge 2 packages: xfce4, xrdp",
                [UNDO_REMOVE_FILE] = "remove /etc/polkit-1/rules.d/45-vps.rules",
                [UNDO_RESTORE_FILE] = "restore /etc/ssh/sshd_config from its backup",
                [UNDO_REMOVE_DIR] = "remove directory /etc/xrdp/conf.d if it is empty",
                [UNDO_DELETE_USER] = "delete user devuser and its home directory (kept aside if it holds files vps-provision did not make)",
                [UNDO_DELETE_GROUP] = "delete group devuser",
                [UNDO_REMOVE_GROUP_MEMBER] = "remove devuser from group sudo",
                [UNDO_DISABLE_UNIT] = "disable and stop xrdp.service",
                [UNDO_STOP_UNIT] = "stop xrdp.service",
                [UNDO_UNMASK_UNIT] = "unmask xrdp.service",
                [UNDO_RESTART_UNIT] = "restart xrdp.service if it is running",
                [UNDO_SET_ALTERNATIVE] = "set alternative x-session-manager back to /usr/bin/xfce4-session",
                [UNDO_UFW_DELETE_RULE] = "delete firewall rule \"allow 3389/tcp\"",
                [UNDO_UFW_DISABLE] = "turn the firewall (ufw) off again",
                [UNDO_UFW_ADD_RULE] = "add firewall rule \"allow 3389/tcp\" again",
                [UNDO_REMOVE_APT_SOURCE] = "remove apt source /etc/apt/sources.list.d/vscode.sources and 1 keyring",
                [UNDO_MANDB_AUTO_UPDATE] = "turn man-db's automatic index updates back on",
                [UNDO_INITRAMFS_UPDATE] = "turn the initramfs updates back on (/etc/initramfs-tools/update-initramfs.conf); the initramfs is regenerated once",
                [UNDO_ENABLE_UNIT] = "enable and start ssh.socket again",
                [UNDO_START_UNIT] = "start ssh.socket again",
        };
        for (unsigned k = 0; k < _UNDO_KIND_MAX; k++) {
                struct undo u = sample_undo((enum undo_kind)k);
                check_describe(&u, want[k]);
        }

        /* many packages: three names and a count */
        char **many = NULL;
        strv_push(&many, "xfce4");
        strv_push(&many, "xfce4-goodies");
        strv_push(&many, "xorg");
        for (int i = 0; i < 409; i++)
                strv_pushf(&many, "lib%d", i);
        struct undo u = { .kind = UNDO_PURGE_PACKAGES, .list = many };
        check_describe(&u, "purge 412 packages: xfce4, xfce4-goodies, xorg (and 409 more)");
        char *one[] = { S("xrdp"), NULL };
        u.list = one;
        check_describe(&u, "purge package xrdp");
        strv_free(many);

        u = (struct undo){ .kind = UNDO_SET_ALTERNATIVE, .name = S("editor"), .value = S("") };
        check_describe(&u, "set alternative editor back to automatic");
        u = (struct undo){ .kind = UNDO_REMOVE_APT_SOURCE, .path = S("/etc/apt/x.list") };
        check_describe(&u, "remove apt source /etc/apt/x.list");
        u = (struct undo){ .kind = UNDO_DELETE_USER };   /* missing name: still a sentence */
        check_describe(&u, "delete user ? and its home directory (kept aside if it holds files vps-provision did not make)");
}

static void test_pending_lifo_per_session(void **state)
{
        (void)state;
        _cleanup_free_ char *path = new_journal_path();
        struct journal *j = open_ok(path);
        struct undo u = sample_undo(UNDO_REMOVE_DIR);
        const struct journal_entry **list = NULL;
        size_t n;

        journal_append(j, "A", "p", "FILE_CREATE", "1", &u);   /* 1 */
        journal_append(j, "B", "p", "FILE_CREATE", "2", &u);   /* 2 */
        journal_append(j, "A", "p", "FILE_CREATE", "3", &u);   /* 3 */
        journal_append(j, "A", "p", "FILE_CREATE", "4", &u);   /* 4 */
        journal_append(j, "B", "p", "FILE_CREATE", "5", &u);   /* 5 */

        n = journal_pending(j, "A", &list);
        assert_int_equal(n, 3);
        assert_int_equal(list[0]->seq, 4);
        assert_int_equal(list[1]->seq, 3);
        assert_int_equal(list[2]->seq, 1);
        free(list);

        n = journal_pending(j, NULL, &list);
        assert_int_equal(n, 5);
        for (size_t i = 0; i < n; i++)
                assert_int_equal(list[i]->seq, 5 - i);
        free(list);

        assert_int_equal(journal_record_result(j, 3, UNDO_OK, "done"), 0);
        assert_int_equal(journal_record_result(j, 4, UNDO_FAILED, "busy"), 0);
        n = journal_pending(j, "A", &list);
        assert_int_equal(n, 2);   /* 4 (failed) and 1 */
        assert_int_equal(list[0]->seq, 4);
        assert_int_equal(list[1]->seq, 1);
        free(list);

        n = journal_pending(j, "nobody", &list);
        assert_int_equal(n, 0);
        free(list);
        journal_free(j);
}

struct apply_log {
        unsigned calls;
        uint64_t seen[16];
        uint64_t fail_seq[4];   /* these fail */
        uint64_t skip_seq;      /* this one says "nothing to do" */
};

static int fake_apply(void *userdata, const struct journal_entry *e, char *msg, size_t msglen)
{
        struct apply_log *l = userdata;

        l->seen[l->calls++ % 16] = e->seq;
        for (size_t i = 0; i < ELEMENTSOF(l->fail_seq); i++)
                if (l->fail_seq[i] && l->fail_seq[i] == e->seq) {
                        snprintf(msg, msglen, "could not undo %llu", (unsigned long long)e->seq);
                        return -EIO;
                }
        if (e->seq == l->skip_seq)
                return 1;
        snprintf(msg, msglen, "undid %llu", (unsigned long long)e->seq);
        return 0;
}

static void test_rollback_records_and_retries(void **state)
{
        (void)state;
        _cleanup_free_ char *path = new_journal_path();
        struct journal *j = open_ok(path);
        struct undo u = sample_undo(UNDO_REMOVE_FILE);
        const struct journal_entry **list = NULL;
        struct apply_log log = { .fail_seq = { 2, 4 }, .skip_seq = 3 };
        size_t n;

        for (int i = 0; i < 5; i++)
                journal_append(j, "S", "p", "FILE_CREATE", "/x", &u);
        n = journal_pending(j, "S", &list);
        assert_int_equal(n, 5);
        assert_int_equal(journal_rollback(j, (const struct journal_entry *const *)list, n,
                                          fake_apply, &log), 2);
        free(list);
        /* every one tried, newest first: failures do not stop the rest */
        assert_int_equal(log.calls, 5);
        assert_int_equal(log.seen[0], 5);
        assert_int_equal(log.seen[4], 1);
        journal_free(j);

        /* outcomes are on disk */
        j = open_ok(path);
        assert_int_equal(journal_entry_at(j, 0)->result, UNDO_OK);
        assert_string_equal(journal_entry_at(j, 0)->result_message, "undid 1");
        assert_int_equal(journal_entry_at(j, 1)->result, UNDO_FAILED);
        assert_string_equal(journal_entry_at(j, 1)->result_message, "could not undo 2");
        assert_int_equal(journal_entry_at(j, 2)->result, UNDO_SKIPPED);
        assert_string_equal(journal_entry_at(j, 2)->result_message, "nothing to do");
        assert_int_equal(journal_entry_at(j, 3)->result, UNDO_FAILED);

        /* a second rollback retries only the failed ones */
        n = journal_pending(j, "S", &list);
        assert_int_equal(n, 2);
        struct apply_log again = { 0 };
        assert_int_equal(journal_rollback(j, (const struct journal_entry *const *)list, n,
                                          fake_apply, &again), 0);
        free(list);
        assert_int_equal(again.calls, 2);
        assert_int_equal(again.seen[0], 4);
        assert_int_equal(again.seen[1], 2);
        n = journal_pending(j, "S", &list);
        assert_int_equal(n, 0);
        free(list);
        journal_free(j);

        j = open_ok(path);
        n = journal_pending(j, NULL, &list);
        assert_int_equal(n, 0);
        free(list);
        journal_free(j);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_append_reopen),
                cmocka_unit_test(test_append_visible_at_once),
                cmocka_unit_test(test_mode_tightened),
                cmocka_unit_test(test_open_errors),
                cmocka_unit_test(test_torn_tail_no_newline),
                cmocka_unit_test(test_torn_tail_garbage_line),
                cmocka_unit_test(test_torn_tail_zeroes),
                cmocka_unit_test(test_torn_tail_overlong),
                cmocka_unit_test(test_bad_middle_line),
                cmocka_unit_test(test_seq_bounds),
                cmocka_unit_test(test_outcomes_reloaded),
                cmocka_unit_test(test_undo_json_roundtrip),
                cmocka_unit_test(test_undo_json_rejects),
                cmocka_unit_test(test_undo_describe),
                cmocka_unit_test(test_pending_lifo_per_session),
                cmocka_unit_test(test_rollback_records_and_retries),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
