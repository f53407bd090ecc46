/* test_phase_terminal.c — the terminal phase's pure parts, run through a
 * real bash: the snippet's history settings, aliases, EDITOR and the git
 * branch in the prompt; the marked ~/.bashrc block (inserted once, replaced
 * in place, really reading ~/.bashrc.d); XFCE's helpers.rc. */
#include "testlib.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "terminal.h"
#include "util.h"

/* Runs argv with HOME=home in dir, stdout into a new string; exit status in *ret_st. */
static char *run_out(const char *dir, const char *home, const char *const *argv, int *ret_st)
{
        int fds[2], st;
        pid_t pid;
        struct buf b;
        char chunk[4096];
        ssize_t n;

        assert_int_equal(pipe(fds), 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                dup2(fds[1], 1);
                close(fds[0]);
                close(fds[1]);
                if (dir && chdir(dir) < 0)
                        _exit(126);
                setenv("HOME", home, 1);
                unsetenv("PROMPT_COMMAND");
                execvp(argv[0], (char *const *)argv);
                _exit(127);
        }
        close(fds[1]);
        buf_init(&b, 1u << 20);
        while ((n = read(fds[0], chunk, sizeof(chunk))) > 0)
                buf_append(&b, chunk, (size_t)n);
        close(fds[0]);
        assert_int_equal(waitpid(pid, &st, 0), pid);
        *ret_st = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        return b.data ? buf_steal(&b) : xstrdup("");
}

static void snippet_in_bash(void **state)
{
        (void)state;
        char *home = test_tmpdir();
        char *rcd = test_path(home, ".bashrc.d");
        char *snip = terminal_snippet();
        char *snip_path, *repo, *out, *script;
        int st;

        assert_int_equal(mkdir(rcd, 0755), 0);
        snip_path = test_path(rcd, "50-vps-provision.sh");
        test_write(snip_path, snip);

        /* syntax */
        {
                const char *const argv[] = { "bash", "-n", snip_path, NULL };
                free(run_out(NULL, home, argv, &st));
                assert_int_equal(st, 0);
        }

        /* a git repository on branch "feature/x" */
        repo = test_path(home, "repo");
        {
                const char *const init[] = { "git", "init", "-q", "-b", "feature/x", repo, NULL };
                free(run_out(NULL, home, init, &st));
                assert_int_equal(st, 0);
        }

        script = xasprintf(". '%s'; shopt -s expand_aliases; "
                           "echo \"H=$HISTSIZE F=$HISTFILESIZE C=$HISTCONTROL\"; "
                           "echo \"E=$EDITOR V=$VISUAL\"; "
                           "echo \"PC=$PROMPT_COMMAND\"; . '%s'; echo \"PC2=$PROMPT_COMMAND\"; "
                           "alias ll; shopt histappend; "
                           "echo \"B=$(__vpsp_git_branch)\"; cd /; echo \"N=$(__vpsp_git_branch)\"; "
                           "echo \"PS1=$PS1\"",
                           snip_path, snip_path);
        {
                const char *const argv[] = { "bash", "--norc", "--noprofile", "-c", script, NULL };
                out = run_out(repo, home, argv, &st);
        }
        assert_int_equal(st, 0);
        assert_non_null(strstr(out, "H=50000 F=100000 C=ignoreboth:erasedups\n"));
        assert_true(strstr(out, "E=nano V=nano\n") || strstr(out, "E=vi V=vi\n"));
        assert_non_null(strstr(out, "PC=history -a\n"));
        /* sourcing twice does not add history -a twice */
        assert_non_null(strstr(out, "PC2=history -a\n"));
        assert_non_null(strstr(out, "alias ll='ls -alF'\n"));
        assert_non_null(strstr(out, "histappend     \ton\n"));
        assert_non_null(strstr(out, "B= (feature/x)\n"));
        assert_non_null(strstr(out, "N=\n"));
        assert_non_null(strstr(out, "$(__vpsp_git_branch)"));
        free(out);
        free(script);
        free(repo);
        free(snip_path);
        free(snip);
        free(rcd);
}

static size_t count(const char *hay, const char *needle)
{
        size_t n = 0;
        for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
                n++;
        return n;
}

static void bashrc_block(void **state)
{
        (void)state;
        char *a, *b, *c;

        /* no file: just the block */
        a = terminal_bashrc_with_block(NULL);
        assert_string_equal(a, terminal_block());
        free(a);

        /* appended once after the existing text, which stays as it was */
        a = terminal_bashrc_with_block("# debian\nHISTSIZE=1000");
        assert_true(startswith(a, "# debian\nHISTSIZE=1000\n\n" TERMINAL_BLOCK_BEGIN "\n"));
        assert_int_equal(count(a, TERMINAL_BLOCK_BEGIN), 1);
        /* idempotent */
        b = terminal_bashrc_with_block(a);
        assert_string_equal(a, b);

        /* an old block in the middle is replaced in place */
        c = terminal_bashrc_with_block("top\n" TERMINAL_BLOCK_BEGIN "\nold stuff\n" TERMINAL_BLOCK_END
                                       "\nbottom\n");
        assert_int_equal(count(c, TERMINAL_BLOCK_BEGIN), 1);
        assert_null(strstr(c, "old stuff"));
        assert_true(startswith(c, "top\n" TERMINAL_BLOCK_BEGIN "\n"));
        assert_non_null(strstr(c, TERMINAL_BLOCK_END "\nbottom\n"));
        free(a);
        free(b);
        free(c);
}

static void bashrc_block_reads_dir(void **state)
{
        (void)state;
        char *home = test_tmpdir();
        char *rc = test_path(home, ".bashrc");
        char *rcd = test_path(home, ".bashrc.d");
        char *one, *two, *text, *out;
        int st;

        text = terminal_bashrc_with_block("BEFORE=1\n");
        test_write(rc, text);
        assert_int_equal(mkdir(rcd, 0755), 0);
        one = test_path(rcd, "a.sh");
        two = test_path(rcd, "b.txt");
        test_write(one, "FROM_A=yes\n");
        test_write(two, "FROM_B=yes\n");
        {
                const char *const argv[] = { "bash", "--norc", "--noprofile", "-c",
                                             ". \"$HOME/.bashrc\"; echo \"$BEFORE $FROM_A ${FROM_B:-none} ${__vpsp_rc:-unset}\"",
                                             NULL };
                out = run_out(NULL, home, argv, &st);
        }
        assert_int_equal(st, 0);
        assert_string_equal(out, "1 yes none unset\n");
        free(out);
        free(text);
        free(one);
        free(two);
        free(rc);
        free(rcd);
}

static void helpers_rc(void **state)
{
        (void)state;
        char *a = terminal_helpers_rc(NULL), *b, *c;

        assert_string_equal(a, "TerminalEmulator=xfce4-terminal\n");
        b = terminal_helpers_rc("WebBrowser=firefox\nTerminalEmulator=xterm\nFileManager=thunar");
        assert_string_equal(b, "WebBrowser=firefox\nTerminalEmulator=xfce4-terminal\nFileManager=thunar");
        c = terminal_helpers_rc("WebBrowser=firefox");
        assert_string_equal(c, "WebBrowser=firefox\nTerminalEmulator=xfce4-terminal\n");
        free(a);
        free(b);
        free(c);
}

/* A home managed by GNU stow: ~/.bashrc a link into ~/dotfiles, ~/.config a
 * linked directory (stow's folding). Those dotfiles are left to the person,
 * with a note naming the link and how to use the settings; a plain or a
 * missing file is the phase's to write. */
static void dotfiles_linked(void **state)
{
        (void)state;
        char *home = test_tmpdir();
        _cleanup_free_ char *df = test_path(home, "dotfiles");
        _cleanup_free_ char *dfrc = test_path(home, "dotfiles/bashrc");
        _cleanup_free_ char *dfcfg = test_path(home, "dotfiles/config");
        _cleanup_free_ char *rc = test_path(home, ".bashrc");
        _cleanup_free_ char *cfg = test_path(home, ".config");
        char *note = NULL;

        assert_int_equal(mkdir(df, 0755), 0);
        assert_int_equal(mkdir(dfcfg, 0755), 0);
        test_write(dfrc, "# my own\n");

        /* nothing there yet: the phase writes all three */
        assert_int_equal(terminal_dotfile_linked(home, TERMINAL_REL_BASHRC, &note), 0);
        assert_int_equal(terminal_dotfile_linked(home, TERMINAL_REL_SNIPPET, &note), 0);
        assert_int_equal(terminal_dotfile_linked(home, TERMINAL_REL_HELPERS, &note), 0);
        assert_null(note);
        /* a plain ~/.bashrc: the phase's to change */
        test_write(rc, "# debian\n");
        assert_int_equal(terminal_dotfile_linked(home, TERMINAL_REL_BASHRC, &note), 0);
        assert_null(note);
        assert_int_equal(unlink(rc), 0);

        assert_int_equal(symlink("dotfiles/bashrc", rc), 0);
        assert_int_equal(symlink("dotfiles/config", cfg), 0);
        if (geteuid() == 0) {
                /* the person's home and links, as on a real host */
                assert_int_equal(chown(home, 65534, 65534), 0);
                assert_int_equal(lchown(rc, 65534, 65534), 0);
                assert_int_equal(lchown(cfg, 65534, 65534), 0);
        }
        assert_int_equal(terminal_dotfile_linked(home, TERMINAL_REL_BASHRC, &note), 1);
        assert_non_null(strstr(note, "~/.bashrc is left to your dotfiles: ~/.bashrc is a symbolic link (to dotfiles/bashrc)"));
        assert_non_null(strstr(note, "have your ~/.bashrc read ~/.bashrc.d/*.sh"));
        free(note);
        note = NULL;
        /* the link is on the way (root's own link in a private directory is
         * followed: as another user's only) */
        if (geteuid() == 0) {
                assert_int_equal(terminal_dotfile_linked(home, TERMINAL_REL_HELPERS, &note), 1);
                assert_non_null(strstr(note, "~/.config/xfce4/helpers.rc is left to your dotfiles: ~/.config is a symbolic link (to dotfiles/config)"));
                assert_non_null(strstr(note, "Default Applications"));
                free(note);
                note = NULL;
        }
        /* ~/.bashrc.d is not linked: the snippet is still written */
        assert_int_equal(terminal_dotfile_linked(home, TERMINAL_REL_SNIPPET, &note), 0);
        assert_null(note);
        /* the dotfile itself was not touched */
        {
                _cleanup_free_ char *mine = test_read(dfrc);
                assert_string_equal(mine, "# my own\n");
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(snippet_in_bash),
                cmocka_unit_test(bashrc_block),
                cmocka_unit_test(bashrc_block_reads_dir),
                cmocka_unit_test(helpers_rc),
                cmocka_unit_test(dotfiles_linked),
        };
        int r = cmocka_run_group_tests(tests, NULL, NULL);
        test_cleanup_all();
        return r;
}
