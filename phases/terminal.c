/* terminal.c — the developer's shell and terminal.
 *
 * DESIGN: the settings live in a file of their own,
 * ~/.bashrc.d/50-vps-provision.sh, so a person can read, change or delete
 * them without touching ~/.bashrc; ~/.bashrc only gets a marked block that
 * reads the *.sh files in ~/.bashrc.d (Debian's skeleton .bashrc does not).
 * xfce4-terminal becomes the default terminal twice over: system-wide through the
 * x-terminal-emulator alternative, and for the developer in XFCE's
 * helpers.rc (which is what XFCE's "Open Terminal" uses). Every file goes
 * through ops_write_file(), so a rollback restores the old ~/.bashrc and
 * helpers.rc and removes what was new. */
#include "terminal.h"

#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "ops.h"
#include "phases.h"
#include "sysfile.h"

#define TERMINAL_WRAPPER "/usr/bin/xfce4-terminal.wrapper"
#define SNIPPET_NAME "50-vps-provision.sh"

static const char snippet[] =
        "# ~/.bashrc.d/" SNIPPET_NAME " - shell settings written by vps-provision.\n"
        "# ~/.bashrc reads every *.sh file in this folder; put your own settings in\n"
        "# another file here: this one is replaced when vps-provision runs again.\n"
        "\n"
        "# History: long, with times, written after every command and shared by\n"
        "# every open terminal; no duplicates, no lines that start with a space.\n"
        "HISTSIZE=50000\n"
        "HISTFILESIZE=100000\n"
        "HISTCONTROL=ignoreboth:erasedups\n"
        "HISTTIMEFORMAT='%F %T  '\n"
        "shopt -s histappend checkwinsize\n"
        "case \";${PROMPT_COMMAND:-};\" in\n"
        "*\";history -a;\"*) ;;\n"
        "*) PROMPT_COMMAND=\"history -a${PROMPT_COMMAND:+;$PROMPT_COMMAND}\" ;;\n"
        "esac\n"
        "\n"
        "# Editor for git commit, crontab -e, sudoedit …: nano when it is there.\n"
        "if command -v nano >/dev/null 2>&1; then\n"
        "        export EDITOR=nano\n"
        "else\n"
        "        export EDITOR=vi\n"
        "fi\n"
        "export VISUAL=\"$EDITOR\"\n"
        "\n"
        "# Prompt: user@host:directory, and the git branch inside a repository.\n"
        "__vpsp_git_branch() {\n"
        "        local b\n"
        "        b=$(git symbolic-ref --quiet --short HEAD 2>/dev/null) ||\n"
        "                b=$(git rev-parse --short HEAD 2>/dev/null) || return 0\n"
        "        printf ' (%s)' \"$b\"\n"
        "}\n"
        "PS1='\\[\\e[1;32m\\]\\u@\\h\\[\\e[0m\\]:\\[\\e[1;34m\\]\\w\\[\\e[0;33m\\]$(__vpsp_git_branch)\\[\\e[0m\\]\\$ '\n"
        "\n"
        "# Aliases.\n"
        "alias ls='ls --color=auto'\n"
        "alias ll='ls -alF'\n"
        "alias la='ls -A'\n"
        "alias l='ls -CF'\n"
        "alias grep='grep --color=auto'\n"
        "alias ..='cd ..'\n"
        "alias gs='git status'\n"
        "alias gl='git log --oneline --graph --decorate -20'\n";

static const char block[] =
        TERMINAL_BLOCK_BEGIN "\n"
        "# Added by vps-provision (removed by its rollback): read ~/.bashrc.d/*.sh.\n"
        "if [ -d \"$HOME/.bashrc.d\" ]; then\n"
        "        for __vpsp_rc in \"$HOME\"/.bashrc.d/*.sh; do\n"
        "                [ -r \"$__vpsp_rc\" ] && . \"$__vpsp_rc\"\n"
        "        done\n"
        "        unset __vpsp_rc\n"
        "fi\n"
        TERMINAL_BLOCK_END "\n";

char *terminal_snippet(void)
{
        return xstrdup(snippet);
}

const char *terminal_block(void)
{
        return block;
}

/* Start of the line that is exactly marker (at a line start), or NULL. */
static const char *find_line(const char *text, const char *marker)
{
        size_t ml = strlen(marker);

        for (const char *l = text; l && *l;) {
                if (strncmp(l, marker, ml) == 0 && (l[ml] == '\n' || l[ml] == '\0'))
                        return l;
                l = strchr(l, '\n');
                if (l)
                        l++;
        }
        return NULL;
}

char *terminal_bashrc_with_block(const char *bashrc)
{
        const char *b, *e;
        size_t n;

        if (!bashrc)
                bashrc = "";
        b = find_line(bashrc, TERMINAL_BLOCK_BEGIN);
        e = b ? find_line(b, TERMINAL_BLOCK_END) : NULL;
        if (b && e) {
                const char *after = e + strlen(TERMINAL_BLOCK_END);
                if (*after == '\n')
                        after++;
                return xasprintf("%.*s%s%s", (int)(b - bashrc), bashrc, block, after);
        }
        n = strlen(bashrc);
        return xasprintf("%s%s%s%s", bashrc, n && bashrc[n - 1] != '\n' ? "\n" : "",
                         n ? "\n" : "", block);
}

char *terminal_helpers_rc(const char *old)
{
        return sysfile_set_key(old, "TerminalEmulator", "xfce4-terminal");
}

/* ---- the phase ------------------------------------------------------------ */

const char *const terminal_packages[] = { "xfce4-terminal", NULL };

struct dev {
        uid_t uid;
        gid_t gid;
        char *home;
        char *shell;
};

static void dev_release(struct dev *d)
{
        free(d->home);
        free(d->shell);
}

static int dev_lookup(struct phase_ctx *c, struct dev *ret)
{
        const char *user = phase_answers(c)->username;
        struct passwd *pw = getpwnam(user);

        if (!pw)
                return -ENOENT;
        ret->uid = pw->pw_uid;
        ret->gid = pw->pw_gid;
        ret->home = xstrdup(pw->pw_dir);
        ret->shell = xstrdup(pw->pw_shell ? pw->pw_shell : "");
        return 0;
}

static void terminal_inputs(const struct answers *a, struct sha256_ctx *d)
{
        sha256_add(d, a->username, strlen(a->username));
}

static int terminal_plan(struct phase_ctx *c)
{
        const char *user = phase_answers(c)->username;

        phase_plan(c, "PACKAGE_INSTALL", "xfce4-terminal", "install xfce4-terminal if missing");
        phase_plan(c, "FILE_CREATE", "~/.bashrc.d/" SNIPPET_NAME,
                   "shell settings for %s: prompt with git branch, history, aliases, EDITOR", user);
        phase_plan(c, "FILE_MODIFY", "~/.bashrc", "a marked block that reads ~/.bashrc.d/*.sh");
        phase_plan(c, "COMMAND_EXEC", "x-terminal-emulator",
                   "xfce4-terminal as the system's default terminal");
        phase_plan(c, "FILE_CREATE", "~/.config/xfce4/helpers.rc",
                   "xfce4-terminal as %s's terminal in XFCE", user);
        return 0;
}

static int terminal_verify(struct phase_ctx *c)
{
        _cleanup_(dev_release) struct dev d = { 0 };
        _cleanup_free_ char *snip_path = NULL, *rc_path = NULL, *rc = NULL, *want_rc = NULL;
        _cleanup_free_ char *help_path = NULL, *help = NULL, *want_help = NULL;
        _cleanup_free_ char *snip = terminal_snippet();
        char alt[4096];
        bool ok = true;
        int r;

        if (dev_lookup(c, &d) < 0) {
                phase_verify_note(c, "there is no account %s", phase_answers(c)->username);
                return 0;
        }
        snip_path = xasprintf("%s/.bashrc.d/%s", d.home, SNIPPET_NAME);
        if (!sysfile_is(snip_path, snip, 0644, d.uid, d.gid)) {
                phase_verify_note(c, "%s is missing or differs", snip_path);
                ok = false;
        }
        rc_path = xasprintf("%s/.bashrc", d.home);
        rc = sysfile_read(rc_path);
        want_rc = terminal_bashrc_with_block(rc);
        if (!rc || strcmp(rc, want_rc) != 0) {
                phase_verify_note(c, "%s does not read ~/.bashrc.d", rc_path);
                ok = false;
        }
        help_path = xasprintf("%s/.config/xfce4/helpers.rc", d.home);
        help = sysfile_read(help_path);
        want_help = terminal_helpers_rc(help);
        if (!help || strcmp(help, want_help) != 0) {
                phase_verify_note(c, "%s does not name xfce4-terminal", help_path);
                ok = false;
        }
        r = ops_alternative(c, "x-terminal-emulator", alt, sizeof(alt), NULL);
        if (r < 0)
                return r;
        if (strcmp(alt, TERMINAL_WRAPPER) != 0) {
                phase_verify_note(c, "x-terminal-emulator is \"%s\", not %s", alt, TERMINAL_WRAPPER);
                ok = false;
        }
        phase_verify_digest(c, "terminal %s uid %u", alt, (unsigned)d.uid);
        return ok ? 1 : 0;
}

/* Creates dir (parent must exist) owned by the developer. */
static int dev_dir(struct phase_ctx *c, const struct dev *d, const char *rel)
{
        _cleanup_free_ char *path = xasprintf("%s/%s", d->home, rel);
        int r = ops_mkdir(c, path, 0755, d->uid, d->gid);
        return r < 0 ? r : 0;
}

static int write_dev_file(struct phase_ctx *c, const struct dev *d, const char *rel,
                          const char *text)
{
        _cleanup_free_ char *path = xasprintf("%s/%s", d->home, rel);
        int r = ops_write_file(c, path, text, strlen(text), 0644, d->uid, d->gid);
        return r < 0 ? r : 0;
}

static int terminal_run(struct phase_ctx *c)
{
        _cleanup_(dev_release) struct dev d = { 0 };
        _cleanup_free_ char *snip = terminal_snippet();
        _cleanup_free_ char *rc_path = NULL, *rc = NULL, *new_rc = NULL;
        _cleanup_free_ char *help_path = NULL, *help = NULL, *new_help = NULL;
        int r;

        if (dev_lookup(c, &d) < 0)
                return phase_fail(c, -ENOENT,
                                  "there is no account %s: the user phase must run first (vps-provision --resume)",
                                  phase_answers(c)->username);

        /* an adopted account keeps its shell (the user phase does not change it) */
        if (strcmp(d.shell, "/bin/bash") != 0 && strcmp(d.shell, "/usr/bin/bash") != 0)
                phase_log(c, LOG_WARNING,
                          "%s's login shell is %s, not bash: these settings apply once it runs bash (chsh -s /bin/bash %s)",
                          phase_answers(c)->username, d.shell, phase_answers(c)->username);

        r = ops_apt_install(c, terminal_packages, OPS_APT_NO_RECOMMENDS, 0.0, 0.5);
        if (r < 0)
                return r;

        phase_action_begin(c, "FILE_CREATE", "~/.bashrc.d/" SNIPPET_NAME, "Shell settings");
        r = dev_dir(c, &d, ".bashrc.d");
        if (r >= 0)
                r = write_dev_file(c, &d, ".bashrc.d/" SNIPPET_NAME, snip);
        if (phase_action_end(c, r) < 0)
                return r;
        phase_progress(c, 0.6, "~/.bashrc");

        rc_path = xasprintf("%s/.bashrc", d.home);
        rc = sysfile_read(rc_path);
        new_rc = terminal_bashrc_with_block(rc);
        phase_action_begin(c, rc ? "FILE_MODIFY" : "FILE_CREATE", rc_path, "~/.bashrc reads ~/.bashrc.d");
        r = write_dev_file(c, &d, ".bashrc", new_rc);
        if (phase_action_end(c, r) < 0)
                return r;
        phase_progress(c, 0.7, "default terminal");

        phase_action_begin(c, "COMMAND_EXEC", "x-terminal-emulator", "xfce4-terminal as the default terminal");
        r = ops_set_alternative(c, "x-terminal-emulator", TERMINAL_WRAPPER);
        if (phase_action_end(c, r < 0 ? r : 0) < 0)
                return r;
        phase_progress(c, 0.85, "XFCE helpers.rc");

        help_path = xasprintf("%s/.config/xfce4/helpers.rc", d.home);
        help = sysfile_read(help_path);
        new_help = terminal_helpers_rc(help);
        phase_action_begin(c, help ? "FILE_MODIFY" : "FILE_CREATE", help_path, "XFCE's preferred terminal");
        r = dev_dir(c, &d, ".config");
        if (r >= 0)
                r = dev_dir(c, &d, ".config/xfce4");
        if (r >= 0)
                r = write_dev_file(c, &d, ".config/xfce4/helpers.rc", new_help);
        if (phase_action_end(c, r) < 0)
                return r;
        return 0;
}

const struct phase phase_terminal = {
        .id = "terminal",
        .title = "Shell and terminal",
        .summary = "Bash prompt with git branch, history, aliases, editor; xfce4-terminal as default",
        .weight = 3,
        .inputs = terminal_inputs,
        .plan = terminal_plan,
        .verify = terminal_verify,
        .run = terminal_run,
};
