/* cli.c — see cli.h. */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <string.h>

#include "engine.h"
#include "util.h"

static const struct cli_option options[] = {
        { "unattended", 'u', "FILE", "run without questions, with the answers in FILE",
          "Provision without the wizard, taking every choice from the answers file FILE (see vps-provision-answers(5)). "
          "Without a terminal, progress is printed line by line and the generated password once, marked. "
          "A phase that fails is handled as the file's [run] on_failure says." },
        { "answers", 'a', "FILE", "pre-fill the wizard with the answers in FILE",
          "Start the wizard with every field taken from FILE; the person can still change each one." },
        { "dry-run", 'n', NULL, "show the preflight checks and the plan, change nothing",
          "Run the preflight checks and print every phase and action a run would take. Nothing is "
          "written: no lock, no log, no session. Works without root (the root check then warns)." },
        { "plain", 0, NULL, "line-by-line output instead of the full-screen screens",
          "Print progress as plain lines. This is also what happens when standard output is not a terminal." },
        { "json", 0, NULL, "one JSON event per line on standard output",
          "Print every event (phases, actions, log lines, progress, the end) as one JSON object per line, "
          "for other programs to read. The events, their fields and which of them are stable are documented "
          "in /usr/share/doc/vps-provision/json-events.md (format version 1, the \"v\" of every event)." },
        { "password-file", 0, "FILE", "write the generated password to FILE, a new file (mode 0600)",
          "Write the generated password, alone on one line, to FILE instead of the output. FILE must "
          "not exist: it is created with mode 0600 before anything else happens (an existing file or "
          "a symbolic link is refused), and removed again when the run sets no password. Implies the "
          "line output. One of the ways to name where the password may go when standard output is "
          "not a terminal (see PASSWORD WITHOUT A TERMINAL)." },
        { "password-fd", 0, "N", "write the generated password to open file descriptor N",
          "Write the generated password, alone on one line, to the file descriptor N that the "
          "caller opened for writing (a pipe to a secret store, or 3>FILE in the shell), instead of "
          "the output. Implies the line output." },
        { "resume", 0, NULL, "continue the last run that did not finish",
          "Continue the newest unfinished run (failed with its changes kept, cancelled or killed) with its "
          "own answers: verified phases are skipped, an interrupted dpkg is repaired first." },
        { "rollback", 0, NULL, "undo every change of the last run, newest first",
          "Undo the changes of the newest run that still has any, newest first, from its transaction journal. "
          "Shows the list and asks first, saying how many earlier runs still have changes (--all undoes "
          "them too); without a terminal it needs --yes." },
        { "all", 0, NULL, "with --rollback: undo every run that has changes",
          "With --rollback, undo every run that still has changes, newest first, after one confirmation "
          "that lists them; without it --rollback undoes only the newest such run and says how many "
          "earlier ones remain. A run whose changes cannot all be undone stops it; the runs before "
          "that one stay as they are." },
        { "attach", 0, NULL, "show a run that is going on (from any SSH session)",
          "Show the run that is going on, started from the wizard in another (perhaps dropped) SSH "
          "session or with --unattended: the dashboard with its progress and the last lines of its log, "
          "then live. The first session attached has the keys (cancel, the failure dialog, the "
          "credentials screen); others watch, and T takes the keys. D leaves the run going. With "
          "--plain or --json it follows the run as lines or JSON events and never has the keys. "
          "When nothing runs it shows how the last run ended and exits with 11." },
        { "yes", 'y', NULL, "do not ask before --rollback",
          "Answer yes to the rollback confirmation (needed for --rollback without a terminal)." },
        { "force", 'f', NULL, "re-run verified phases and accept preflight warnings",
          "Run every phase even when it verifies as done, start a new run even when an earlier one is "
          "unfinished, and turn the RAM, disk and OS-version preflight failures into warnings." },
        { "help", 'h', NULL, "show this help and exit", "Show the options and exit codes, and exit." },
        { "version", 'V', NULL, "show the version and exit", "Show the version and exit." },
};

const struct cli_option *cli_options(size_t *ret_n)
{
        *ret_n = ELEMENTSOF(options);
        return options;
}

void cli_version(FILE *f)
{
        fprintf(f, "vps-provision %s\n", VPSP_VERSION);
}

void cli_usage(FILE *f)
{
        fprintf(f,
                "Usage: vps-provision [OPTION]...\n"
                "Turn this Debian 12/13 server into a remote developer workstation: XFCE, xrdp,\n"
                "a developer user with sudo, IDEs, firewall and SSH hardening, verified at the end.\n"
                "Run as root. Without options it starts the full-screen wizard.\n\nOptions:\n");
        for (size_t i = 0; i < ELEMENTSOF(options); i++) {
                const struct cli_option *o = &options[i];
                char left[64];
                if (o->short_name)
                        snprintf(left, sizeof(left), "-%c, --%s%s%s", o->short_name, o->long_name,
                                 o->arg ? " " : "", o->arg ? o->arg : "");
                else
                        snprintf(left, sizeof(left), "    --%s%s%s", o->long_name,
                                 o->arg ? " " : "", o->arg ? o->arg : "");
                fprintf(f, "  %-26s %s\n", left, o->help);
        }
        fprintf(f, "\nExit codes:\n");
        for (int c = 0; c <= EXIT_CODE_LAST; c++)
                fprintf(f, "  %2d  %s\n", c, exit_code_meaning(c));
        fprintf(f, "\nFiles: /var/lib/vps-provision (state), /var/log/vps-provision (logs).\n"
                   "See vps-provision(8) and vps-provision-answers(5).\n");
}

int cli_parse(int argc, char **argv, struct cli *ret, char *err, size_t errlen)
{
        struct option lo[ELEMENTSOF(options) + 1];
        char shorts[64];
        size_t ns = 0;
        struct cli c = { .mode = MODE_PROVISION, .password_fd = -1 };
        int mode_flags = 0;
        int ch;

        memset(lo, 0, sizeof(lo));
        shorts[ns++] = ':';
        for (size_t i = 0; i < ELEMENTSOF(options); i++) {
                lo[i].name = options[i].long_name;
                lo[i].has_arg = options[i].arg ? required_argument : no_argument;
                lo[i].val = options[i].short_name ? options[i].short_name : 1000 + (int)i;
                if (options[i].short_name) {
                        shorts[ns++] = options[i].short_name;
                        if (options[i].arg)
                                shorts[ns++] = ':';
                }
        }
        shorts[ns] = '\0';

        optind = 1;
        opterr = 0;
        while ((ch = getopt_long(argc, argv, shorts, lo, NULL)) != -1) {
                const char *name = NULL;
                for (size_t i = 0; i < ELEMENTSOF(options); i++)
                        if (lo[i].val == ch)
                                name = options[i].long_name;
                if (ch == '?') {
                        if (optopt)
                                snprintf(err, errlen, "unknown option -%c", optopt);
                        else
                                snprintf(err, errlen, "unknown option %s", argv[optind - 1]);
                        return -EINVAL;
                }
                if (ch == ':') {
                        snprintf(err, errlen, "option %s needs a value (%s)", argv[optind - 1],
                                 strcmp(argv[optind - 1], "--password-fd") == 0
                                         ? "a file descriptor number" : "a file name");
                        return -EINVAL;
                }
                if (!name)
                        continue;
                if (strcmp(name, "unattended") == 0 || strcmp(name, "answers") == 0) {
                        if (c.answers_path) {
                                snprintf(err, errlen,
                                         "give only one answers file (--unattended FILE or --answers FILE)");
                                return -EINVAL;
                        }
                        if (!*optarg) {
                                snprintf(err, errlen, "--%s needs a file name", name);
                                return -EINVAL;
                        }
                        c.answers_path = optarg;
                        c.unattended = strcmp(name, "unattended") == 0;
                } else if (strcmp(name, "password-file") == 0) {
                        if (c.password_file || c.password_fd >= 0) {
                                snprintf(err, errlen, "give one place for the password "
                                         "(--password-file FILE or --password-fd N)");
                                return -EINVAL;
                        }
                        if (!*optarg) {
                                snprintf(err, errlen, "--password-file needs a file name");
                                return -EINVAL;
                        }
                        c.password_file = optarg;
                } else if (strcmp(name, "password-fd") == 0) {
                        long fd;
                        if (c.password_file || c.password_fd >= 0) {
                                snprintf(err, errlen, "give one place for the password "
                                         "(--password-file FILE or --password-fd N)");
                                return -EINVAL;
                        }
                        if (parse_long(optarg, 0, INT_MAX, &fd) < 0) {
                                snprintf(err, errlen, "--password-fd needs a file descriptor "
                                         "number, e.g. --password-fd 3 3>FILE");
                                return -EINVAL;
                        }
                        c.password_fd = (int)fd;
                } else if (strcmp(name, "dry-run") == 0) {
                        c.mode = MODE_DRY_RUN;
                        mode_flags++;
                } else if (strcmp(name, "resume") == 0) {
                        c.mode = MODE_RESUME;
                        mode_flags++;
                } else if (strcmp(name, "rollback") == 0) {
                        c.mode = MODE_ROLLBACK;
                        mode_flags++;
                } else if (strcmp(name, "plain") == 0)
                        c.plain = true;
                else if (strcmp(name, "json") == 0)
                        c.json = true;
                else if (strcmp(name, "yes") == 0)
                        c.yes = true;
                else if (strcmp(name, "attach") == 0)
                        c.attach = true;
                else if (strcmp(name, "all") == 0)
                        c.all = true;
                else if (strcmp(name, "force") == 0)
                        c.force = true;
                else if (strcmp(name, "help") == 0)
                        c.help = true;
                else if (strcmp(name, "version") == 0)
                        c.version = true;
        }
        if (optind < argc) {
                snprintf(err, errlen,
                         "unexpected argument \"%s\" (an answers file is given with --unattended FILE)",
                         argv[optind]);
                return -EINVAL;
        }
        if (mode_flags > 1) {
                snprintf(err, errlen, "--dry-run, --resume and --rollback exclude each other; give one");
                return -EINVAL;
        }
        if (c.attach && (mode_flags || c.answers_path || c.force)) {
                snprintf(err, errlen, "--attach shows a run that is going on and takes no other option "
                         "than --plain or --json");
                return -EINVAL;
        }
        if (c.plain && c.json) {
                snprintf(err, errlen, "--plain and --json exclude each other; give one");
                return -EINVAL;
        }
        if (c.mode == MODE_ROLLBACK && c.answers_path) {
                snprintf(err, errlen, "--rollback undoes the recorded changes and takes no answers file");
                return -EINVAL;
        }
        if ((c.password_file || c.password_fd >= 0) && c.mode == MODE_ROLLBACK) {
                snprintf(err, errlen, "--rollback sets no password; --password-file and "
                         "--password-fd apply to a run that provisions (or --resume)");
                return -EINVAL;
        }
        if (c.yes && c.mode != MODE_ROLLBACK) {
                snprintf(err, errlen, "--yes only applies to --rollback");
                return -EINVAL;
        }
        if (c.all && c.mode != MODE_ROLLBACK) {
                snprintf(err, errlen, "--all only applies to --rollback (vps-provision --rollback --all)");
                return -EINVAL;
        }
        *ret = c;
        return 0;
}
