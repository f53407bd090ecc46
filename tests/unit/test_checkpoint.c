/* test_checkpoint.c — phase checkpoints on disk: round trip, modes,
 * missing and damaged files, removal by phase, by session and all. */
#include "testlib.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "checkpoint.h"

#define SHA_A "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define SHA_B "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"

static struct checkpoint sample(const char *phase, const char *session)
{
        struct checkpoint c = { 0 };
        strscpy(c.phase, sizeof(c.phase), phase);
        strscpy(c.completed_at, sizeof(c.completed_at), "2026-11-22T10:36:30Z");
        strscpy(c.session_id, sizeof(c.session_id), session);
        strscpy(c.checksum, sizeof(c.checksum), SHA_A);
        strscpy(c.inputs, sizeof(c.inputs), SHA_B);
        return c;
}

static mode_t mode_of(const char *p)
{
        struct stat st;
        assert_int_equal(stat(p, &st), 0);
        return st.st_mode & 07777;
}

/* Number of entries in dir other than . and .. */
static int count_entries(const char *dir)
{
        DIR *d = opendir(dir);
        struct dirent *de;
        int n = 0;

        assert_non_null(d);
        while ((de = readdir(d)))
                if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
                        n++;
        closedir(d);
        return n;
}

static void test_roundtrip_and_modes(void **state)
{
        (void)state;
        _cleanup_free_ char *dir = test_path(test_tmpdir(), "state/checkpoints");
        _cleanup_free_ char *file = test_path(dir, "rdp.json");
        struct checkpoint c = sample("rdp", "20261122-101500"), back;

        assert_int_equal(checkpoint_write(dir, &c), 0);
        assert_int_equal(mode_of(dir), 0700);
        assert_int_equal(mode_of(file), 0600);
        memset(&back, 0x55, sizeof(back));
        assert_int_equal(checkpoint_read(dir, "rdp", &back), 0);
        assert_string_equal(back.phase, "rdp");
        assert_string_equal(back.completed_at, "2026-11-22T10:36:30Z");
        assert_string_equal(back.session_id, "20261122-101500");
        assert_string_equal(back.checksum, SHA_A);
        assert_string_equal(back.inputs, SHA_B);

        /* the file uses the data model's names */
        _cleanup_free_ char *text = test_read(file);
        assert_non_null(strstr(text, "\"phase_name\": \"rdp\""));
        assert_non_null(strstr(text, "\"completed_at\""));
        assert_non_null(strstr(text, "\"checksum\""));

        /* overwritten atomically: the new content, no temp file left */
        strscpy(c.session_id, sizeof(c.session_id), "20261123-080000");
        c.inputs[0] = '\0';   /* a phase without inputs */
        assert_int_equal(checkpoint_write(dir, &c), 0);
        assert_int_equal(checkpoint_read(dir, "rdp", &back), 0);
        assert_string_equal(back.session_id, "20261123-080000");
        assert_string_equal(back.inputs, "");
        assert_int_equal(count_entries(dir), 1);
}

static void test_write_rejects(void **state)
{
        (void)state;
        char *dir = test_tmpdir();
        struct checkpoint c = sample("rdp", "s");

        strscpy(c.phase, sizeof(c.phase), "../etc/passwd");
        assert_int_equal(checkpoint_write(dir, &c), -EINVAL);
        strscpy(c.phase, sizeof(c.phase), "");
        assert_int_equal(checkpoint_write(dir, &c), -EINVAL);
        strscpy(c.phase, sizeof(c.phase), "Desktop");
        assert_int_equal(checkpoint_write(dir, &c), -EINVAL);
        c = sample("rdp", "s");
        strscpy(c.checksum, sizeof(c.checksum), "not-a-digest");
        assert_int_equal(checkpoint_write(dir, &c), -EINVAL);
        assert_int_equal(count_entries(dir), 0);

        struct checkpoint back;
        assert_int_equal(checkpoint_read(dir, "../x", &back), -EINVAL);
}

static void check_corrupt(const char *content)
{
        char *dir = test_tmpdir();
        _cleanup_free_ char *file = test_path(dir, "desktop.json");
        struct checkpoint back = { .phase = "untouched" };

        test_write(file, content);
        if (checkpoint_read(dir, "desktop", &back) != -EBADMSG)
                fail_msg("accepted: %s", content);
        assert_string_equal(back.phase, "untouched");
}

static void test_missing_and_corrupt(void **state)
{
        (void)state;
        char *dir = test_tmpdir();
        _cleanup_free_ char *nodir = test_path(dir, "nonexistent");
        struct checkpoint back;

        assert_int_equal(checkpoint_read(dir, "desktop", &back), -ENOENT);
        assert_int_equal(checkpoint_read(nodir, "desktop", &back), -ENOENT);

        check_corrupt("");
        check_corrupt("not json");
        check_corrupt("[1,2]");
        check_corrupt("{\"phase_name\":\"desktop\"}");   /* fields missing */
        check_corrupt("{\"phase_name\":\"desktop\",\"completed_at\":\"t\",\"session_id\":\"s\","
                      "\"checksum\":\"" SHA_A "\",\"inputs\":\"" SHA_B "\"} trailing");
        /* a checkpoint of another phase under this name (renamed by hand) */
        check_corrupt("{\"phase_name\":\"rdp\",\"completed_at\":\"t\",\"session_id\":\"s\","
                      "\"checksum\":\"" SHA_A "\",\"inputs\":\"" SHA_B "\"}");
        check_corrupt("{\"phase_name\":\"desktop\",\"completed_at\":\"t\",\"session_id\":\"s\","
                      "\"checksum\":\"xyz\",\"inputs\":\"" SHA_B "\"}");
        check_corrupt("{\"phase_name\":\"desktop\",\"completed_at\":5,\"session_id\":\"s\","
                      "\"checksum\":\"" SHA_A "\",\"inputs\":\"" SHA_B "\"}");
        check_corrupt("{\"phase_name\":\"desktop\",\"completed_at\":\"t\",\"session_id\":"
                      "\"this-session-id-is-far-too-long-for-the-field\","
                      "\"checksum\":\"" SHA_A "\",\"inputs\":\"" SHA_B "\"}");

        /* a key twice: which checksum would count? */
        check_corrupt("{\"phase_name\":\"desktop\",\"completed_at\":\"t\",\"session_id\":\"s\","
                      "\"checksum\":\"" SHA_A "\",\"checksum\":\"" SHA_B "\",\"inputs\":\"" SHA_B "\"}");
        /* a file bigger than any checkpoint */
        char *big = malloc(70000);
        assert_non_null(big);
        memset(big, ' ', 69999);
        big[0] = '{';
        big[69998] = '}';
        big[69999] = '\0';
        check_corrupt(big);
        free(big);
}

static void test_remove(void **state)
{
        (void)state;
        char *dir = test_tmpdir();
        struct checkpoint c = sample("user", "s1"), back;

        assert_int_equal(checkpoint_write(dir, &c), 0);
        assert_int_equal(checkpoint_remove(dir, "user"), 0);
        assert_int_equal(checkpoint_read(dir, "user", &back), -ENOENT);
        assert_int_equal(checkpoint_remove(dir, "user"), -ENOENT);
}

static void test_remove_session_and_all(void **state)
{
        (void)state;
        char *dir = test_tmpdir();
        _cleanup_free_ char *junk = test_path(dir, "terminal.json");
        _cleanup_free_ char *other = test_path(dir, "notes.txt");
        _cleanup_free_ char *nodir = test_path(dir, "nonexistent");
        struct checkpoint c, back;

        c = sample("desktop", "20261122-101500");
        assert_int_equal(checkpoint_write(dir, &c), 0);
        c = sample("rdp", "20261122-101500");
        assert_int_equal(checkpoint_write(dir, &c), 0);
        c = sample("user", "20261123-090000");
        assert_int_equal(checkpoint_write(dir, &c), 0);
        test_write(junk, "damaged");
        test_write(other, "not a checkpoint");

        assert_int_equal(checkpoint_remove_session(dir, "20261122-101500"), 2);
        assert_int_equal(checkpoint_read(dir, "desktop", &back), -ENOENT);
        assert_int_equal(checkpoint_read(dir, "rdp", &back), -ENOENT);
        assert_int_equal(checkpoint_read(dir, "user", &back), 0);
        assert_true(path_exists(junk));   /* unreadable: not known to be that session's */
        assert_int_equal(checkpoint_remove_session(dir, "20261122-101500"), 0);
        assert_int_equal(checkpoint_remove_session(dir, ""), -EINVAL);

        assert_int_equal(checkpoint_remove_all(dir), 2);   /* user.json and terminal.json */
        assert_int_equal(checkpoint_read(dir, "user", &back), -ENOENT);
        assert_false(path_exists(junk));
        assert_true(path_exists(other));   /* not ours */
        assert_int_equal(checkpoint_remove_all(dir), 0);

        assert_int_equal(checkpoint_remove_all(nodir), 0);
        assert_int_equal(checkpoint_remove_session(nodir, "s"), 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_roundtrip_and_modes),
                cmocka_unit_test(test_write_rejects),
                cmocka_unit_test(test_missing_and_corrupt),
                cmocka_unit_test(test_remove),
                cmocka_unit_test(test_remove_session_and_all),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
