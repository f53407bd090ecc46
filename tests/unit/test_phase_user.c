/* test_phase_user.c — the user phase's pure parts: the sudoers drop-in
 * (checked by the real visudo, as the phase does) and merging root's SSH
 * keys into the developer's authorized_keys. */
#include "testlib.h"

#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "user.h"
#include "util.h"

/* Exit status of visudo --check --quiet --file path (the file must be 0440). */
static int visudo_check(const char *path)
{
        pid_t pid = fork();
        int st;

        assert_true(pid >= 0);
        if (pid == 0) {
                execlp("visudo", "visudo", "--check", "--quiet", "--file", path, (char *)NULL);
                _exit(127);
        }
        assert_int_equal(waitpid(pid, &st, 0), pid);
        assert_true(WIFEXITED(st));
        return WEXITSTATUS(st);
}

static void sudoers_text_passes_visudo(void **state)
{
        (void)state;
        char *dir = test_tmpdir();
        char *path = test_path(dir, "dropin");
        char *text = user_sudoers_text("devuser", true);
        char *asks = user_sudoers_text("devuser", false);
        char *bad = test_path(dir, "bad");

        assert_non_null(strstr(text, "\ndevuser ALL=(ALL:ALL) NOPASSWD: ALL\n"));
        test_write(path, text);
        assert_int_equal(chmod(path, 0440), 0);
        assert_int_equal(visudo_check(path), 0);
        /* [user] sudo_password = yes: the same rights, with the password */
        assert_non_null(strstr(asks, "\ndevuser ALL=(ALL:ALL) ALL\n"));
        assert_null(strstr(asks, "NOPASSWD"));
        test_write(path, asks);
        assert_int_equal(chmod(path, 0440), 0);
        assert_int_equal(visudo_check(path), 0);
        free(asks);
        /* the check is real: a broken line is refused */
        test_write(bad, "devuser ALL=(ALL:ALL NOPASSWD ALL\n");
        assert_int_equal(chmod(bad, 0440), 0);
        assert_int_not_equal(visudo_check(bad), 0);
        free(text);
        free(path);
        free(bad);
}

static void sudoers_path_has_no_dot(void **state)
{
        (void)state;
        /* sudo skips files in sudoers.d whose name has a '.' or ends in '~' */
        char *p = user_sudoers_path("dev_user-1");
        assert_string_equal(p, "/etc/sudoers.d/vps-provision-dev_user-1");
        assert_null(strchr(p + strlen("/etc/sudoers.d/"), '.'));
        free(p);
}

static void groups_list(void **state)
{
        (void)state;
        const char *want[] = { "sudo", "audio", "video", "dialout", "plugdev", "devusers" };
        size_t n = 0;
        while (user_groups[n])
                n++;
        assert_int_equal(n, ELEMENTSOF(want));
        for (size_t i = 0; i < n; i++)
                assert_string_equal(user_groups[i], want[i]);
}

static void keys_count(void **state)
{
        (void)state;
        assert_int_equal(user_authorized_keys_count(NULL), 0);
        assert_int_equal(user_authorized_keys_count(""), 0);
        assert_int_equal(user_authorized_keys_count("# only a comment\n\n   \n"), 0);
        assert_int_equal(user_authorized_keys_count("ssh-ed25519 AAAA a@b\n"
                                                    "  # indented comment\n"
                                                    "from=\"10.0.0.1\" ssh-rsa AAAB c@d"),
                         2);
}

static void keys_merge(void **state)
{
        (void)state;
        size_t added = 99;
        char *m;

        /* into nothing: every key once, comments and blanks dropped */
        m = user_authorized_keys_merge(NULL, "# root's keys\nssh-ed25519 AAAA a@b\n\nssh-ed25519 AAAA a@b\nssh-rsa BBBB c@d", &added);
        assert_int_equal(added, 2);
        assert_string_equal(m, "ssh-ed25519 AAAA a@b\nssh-rsa BBBB c@d\n");
        free(m);

        /* into an existing file: it is kept as it is, only new keys come */
        m = user_authorized_keys_merge("# mine\nssh-rsa BBBB c@d", "ssh-rsa BBBB c@d  \nssh-ed25519 CCCC e@f\n",
                                       &added);
        assert_int_equal(added, 1);
        assert_string_equal(m, "# mine\nssh-rsa BBBB c@d\nssh-ed25519 CCCC e@f\n");
        free(m);

        /* nothing new: the text is unchanged */
        m = user_authorized_keys_merge("ssh-rsa BBBB c@d\n", "ssh-rsa BBBB c@d\n", &added);
        assert_int_equal(added, 0);
        assert_string_equal(m, "ssh-rsa BBBB c@d\n");
        free(m);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(sudoers_text_passes_visudo),
                cmocka_unit_test(sudoers_path_has_no_dot),
                cmocka_unit_test(groups_list),
                cmocka_unit_test(keys_count),
                cmocka_unit_test(keys_merge),
        };
        int r = cmocka_run_group_tests(tests, NULL, NULL);
        test_cleanup_all();
        return r;
}
