/* main.c — the program's composition root: parses the command line, loads
 * the answers, hands the phase table to the engine and runs the UI that
 * fits the situation (wizard + dashboard on a terminal, plain lines or JSON
 * otherwise). It is the only file that sees all three layers. */
#include <errno.h>
#include <locale.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "answers.h"
#include "attach.h"
#include "cli.h"
#include "engine.h"
#include "log.h"
#include "paths.h"
#include "phases.h"
#include "render.h"
#include "scope.h"
#include "secret.h"
#include "tui.h"
#include "util.h"

#ifdef VPSP_TESTPHASES
/* Only in vps-provision-testphases (tests/tui/fake_phases.c): lets the
 * tests point preflight at a fake dpkg directory. */
void testphases_preflight(struct preflight_env *env);
#endif

/* Prints every problem of an answers file, then the exit-2 hint. */
static void print_answers_errors(const char *path, const struct answers_errors *errs)
{
        char line[1024];

        for (size_t i = 0; i < errs->n; i++) {
                answers_error_format(path, &errs->v[i], line, sizeof(line));
                fprintf(stderr, "vps-provision: %s\n", line);
        }
        fprintf(stderr, "vps-provision: %zu problem%s in %s; nothing was changed. "
                        "Every key is documented in /usr/share/doc/vps-provision/examples/answers.ini.example\n",
                errs->n, errs->n == 1 ? "" : "s", path);
}

/* Blocks the signals the UI handles through a signalfd, in every thread
 * (the engine thread inherits the mask; children get a clean one). */
static int setup_signals(void)
{
        sigset_t set;

        signal(SIGPIPE, SIG_IGN);
        sigemptyset(&set);
        sigaddset(&set, SIGINT);
        sigaddset(&set, SIGTERM);
        sigaddset(&set, SIGHUP);
        sigaddset(&set, SIGQUIT);
        sigaddset(&set, SIGWINCH);   /* the full-screen UI redraws on it */
        pthread_sigmask(SIG_BLOCK, &set, NULL);
        return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

/* Line-based UIs: consume events until the session ends. */
static int run_lines(struct engine *e, bool json, bool verbose, int sfd)
{
        struct render_plain *r = json ? NULL : render_plain_new(stdout, verbose);
        struct queue *q = engine_events(e);
        bool ended = false;

        while (!ended) {
                struct pollfd p[2] = { { .fd = queue_fd(q), .events = POLLIN },
                                       { .fd = sfd, .events = POLLIN } };
                struct event *ev;

                if (poll(p, sfd >= 0 ? 2 : 1, -1) < 0 && errno != EINTR)
                        break;
                if (sfd >= 0 && (p[1].revents & POLLIN)) {
                        struct signalfd_siginfo si;
                        while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
                                if (si.ssi_signo == SIGWINCH)
                                        continue;
                                if (si.ssi_signo == SIGHUP) {
                                        engine_detach_ui(e);
                                        continue;
                                }
                                engine_send(e, event_new(EV_CANCEL));
                                if (r)
                                        render_plain_note(r, "cancel requested: stopping at the next safe point "
                                                             "(the current step finishes first)");
                        }
                }
                while ((ev = queue_pop(q))) {
                        if (json)
                                render_json_event(stdout, ev);
                        else
                                render_plain_event(r, ev);
                        ended = ev->type == EV_SESSION_END;
                        event_free(ev);
                }
        }
        render_plain_free(r);
        return engine_join(e);
}

/* Saves the wizard's choices for the next server: root-only, no secret
 * keys (answers_format() leaves them out). Returns a line for the end
 * screen, or NULL. */
static char *save_answers(const char *session_id, void *userdata)
{
        const struct engine_opts *o = userdata;
        _cleanup_free_ char *text = NULL;
        char path[PATH_MAX + 64];
        int r;

        if (!session_id || !session_id[0])
                return NULL;
        snprintf(path, sizeof(path), "%s/answers-%s.ini", o->paths.state_dir, session_id);
        text = answers_format(&o->answers, true);
        r = write_file_atomic(path, text, strlen(text), 0600, 0, 0);
        if (r < 0)
            return xasprintf("Your choices could not be saved to %s: %s", path, strerror(-r));
        return xasprintf("Your choices are saved in %s (no password in it): "
                         "vps-provision --unattended FILE repeats them on the next server.", path);
}

/* The terminal is too small (or unusable) for the full-screen UI: say so and
 * offer the plain mode with the answers as they are. True = go plain. */
static bool offer_plain(const char *why, const struct cli *cli, const struct answers *a)
{
        char line[16] = "";

        fprintf(stderr, "vps-provision: %s.\n", why);
        if (cli->mode != MODE_PROVISION) {
                fprintf(stderr, "vps-provision: enlarge the window and run again, or add --plain.\n");
                return false;
        }
        fprintf(stderr,
                "Enlarge the window and run vps-provision again,\n"
                "or go on here in plain mode (progress line by line)\n"
                "with %s:\nuser %s, RDP port %u, SSH port %u.\n"
                "Continue in plain mode? [y/N] ",
                cli->answers_path ? "the answers from the file" : "the default answers", a->username,
                a->rdp_port, a->ssh_port);
        fflush(stderr);
        if (!fgets(line, sizeof(line), stdin))
                return false;
        return line[0] == 'y' || line[0] == 'Y';
}

/* A run is going on (found 1) or waits with a password nobody saw (2):
 * offer to attach on a terminal. Returns -1 to go on with this
 * invocation, else the exit code to end with. */
static int offer_attach(int found, const struct attach_peer *peer, bool interactive, bool json,
                        int sfd)
{
        char line[16] = "";

        if (found == 1)
                fprintf(stderr, "vps-provision: a run is going on: session %s (%s, pid %d).\n",
                        peer->hello.session_id[0] ? peer->hello.session_id : "(starting)",
                        peer->hello.mode[0] ? peer->hello.mode : "provision", (int)peer->hello.pid);
        else
                fprintf(stderr, "vps-provision: the password that session %s set was not seen yet; "
                                "vps-provision --attach shows it.\n",
                        peer->hello.session_id);
        if (!interactive) {
                if (found == 2)
                        return -1;
                fprintf(stderr, "vps-provision: follow it with vps-provision --attach --plain (or --json); "
                                "only one run at a time\n");
                return EXIT_LOCKED;
        }
        fprintf(stderr, found == 1 ? "Attach to it? [Y/n] " : "Attach to see it now? [Y/n] ");
        fflush(stderr);
        if (!fgets(line, sizeof(line), stdin))
                return found == 1 ? EXIT_LOCKED : -1;
        if (line[0] == 'n' || line[0] == 'N') {
                if (found == 2)
                        return -1;
                fprintf(stderr, "vps-provision: only one run at a time; vps-provision --attach shows it later\n");
                return EXIT_LOCKED;
        }
        return attach_follow_lines(peer, json, false, sfd);
}

/* Creates and starts the engine thread; says why on stderr when it cannot.
 * serve: also serve the attach socket (a run's, not a dry run's); a
 * failure to do so is only a warning. */
static int start_engine(struct engine_opts *o, bool serve, struct engine **ret)
{
        struct engine *e = NULL;
        char err[512];
        int r = engine_new(o, &e);

        if (r < 0) {
                fprintf(stderr, "vps-provision: cannot start: %s\n", strerror(-r));
                return r;
        }
        if (serve && engine_serve(e, err, sizeof(err)) < 0)
                fprintf(stderr, "vps-provision: warning: vps-provision --attach cannot follow this run: %s\n", err);
        r = engine_start(e);
        if (r < 0) {
                fprintf(stderr, "vps-provision: cannot start the engine thread: %s\n", strerror(-r));
                engine_free(e);
                return r;
        }
        *ret = e;
        return 0;
}

/* Full-screen run: the wizard (new provisioning runs only), then the
 * dashboard. Returns the exit code. */
static int run_tui(struct engine_opts *o, int sfd, const struct tui_caps *caps)
{
        struct engine *e = NULL;
        struct tui_dashboard_result res;
        int code;

        if (o->mode == MODE_PROVISION) {
                struct preflight_env env = o->preflight;
                struct check_list checks = { 0 };
                struct vps_info vps = { 0 };
                struct tui_wizard_opts w = {
                        .caps = caps, .sfd = sfd, .vps = &vps, .checks = &checks,
                        .phases = o->phases, .n_phases = o->n_phases,
                };
                enum tui_wizard_result wr;

                /* the facts for the welcome page; no network here (the
                 * engine's own preflight also checks the archive) */
                env.mirror_url = NULL;
                preflight_gather(&env, &vps);
                w.refused = preflight_check(&env, &vps, o->force, &checks) > 0;
                wr = tui_wizard_run(&o->answers, &w);
                check_list_release(&checks);
                switch (wr) {
                case TUI_WIZARD_START:
                        break;
                case TUI_WIZARD_REFUSED:
                        fprintf(stderr, "vps-provision: preflight refused this server (see the checks); nothing was changed\n");
                        return EXIT_PREFLIGHT;
                case TUI_WIZARD_HANGUP:
                case TUI_WIZARD_CANCEL:
                        fprintf(stderr, "vps-provision: cancelled in the wizard; nothing was changed\n");
                        return EXIT_INTERRUPTED;
                }
        }

        if (start_engine(o, false, &e) < 0)
                return EXIT_INTERNAL;
        code = tui_dashboard_run(e, sfd, caps, o->mode == MODE_PROVISION ? save_answers : NULL, o, &res);
        if (code == -ENOTTY) {
                /* ncurses could not start after all: follow the run in lines */
                code = run_lines(e, false, false, sfd);
        } else if (!res.hangup) {
                /* a copy in the terminal after the screen is gone (never the password) */
                printf("%s: %s (exit code %d)\n", code == 0 ? "Done" : "Stopped", res.end_message, code);
                if (res.log_path[0])
                        printf("log: %s\n", res.log_path);
        }
        engine_free(e);
        return code;
}

int main(int argc, char **argv)
{
        struct cli cli;
        struct engine_opts o = { 0 };
        struct engine *e = NULL;
        char err[512];
        struct tui_caps caps;
        bool full, plain_confirmed = false;
        size_t n_phases;
        int sfd, r, code;

        secret_harden_process();
        setlocale(LC_ALL, "");
        engine_global_init();

        if (cli_parse(argc, argv, &cli, err, sizeof(err)) < 0) {
                fprintf(stderr, "vps-provision: %s\nTry 'vps-provision --help' for the options.\n", err);
                return EXIT_USAGE;
        }
        if (cli.help) {
                cli_usage(stdout);
                return EXIT_OK;
        }
        if (cli.version) {
                cli_version(stdout);
                return EXIT_OK;
        }

        answers_init(&o.answers);
        if (cli.answers_path) {
                struct answers_errors errs = { 0 };
                r = answers_load(cli.answers_path, &o.answers, &errs);
                if (r < 0) {
                        print_answers_errors(cli.answers_path, &errs);
                        answers_errors_release(&errs);
                        return EXIT_USAGE;
                }
                answers_errors_release(&errs);
                o.answers_from_file = true;
        }
        if (paths_init(&o.paths, err, sizeof(err)) < 0) {
                fprintf(stderr, "vps-provision: %s\n", err);
                return EXIT_USAGE;
        }

        if (cli.mode != MODE_DRY_RUN && geteuid() != 0) {
                fprintf(stderr, "vps-provision: must run as root (try: sudo vps-provision %s)\n",
                        argc > 1 ? argv[1] : "");
                return EXIT_NOT_ROOT;
        }

        if (cli.attach) {
                struct attach_peer peer;
                if (!attach_pick(o.paths.run_dir, &peer))
                        return attach_no_run(&o.paths);
                sfd = setup_signals();
                code = attach_follow_lines(&peer, cli.json, false, sfd);
                if (sfd >= 0)
                        close(sfd);
                return code;
        }

        /* The full-screen UI: a terminal on both ends, not asked away. A dry
         * run is always lines (it only prints a plan). */
        full = isatty(STDIN_FILENO) && isatty(STDOUT_FILENO) && !cli.plain && !cli.json &&
               !cli.unattended && cli.mode != MODE_DRY_RUN;
        tui_caps_detect(&caps);
        if (full && tui_term_check(STDOUT_FILENO, err, sizeof(err)) < 0) {
                if (!offer_plain(err, &cli, &o.answers))
                        return EXIT_USAGE;
                full = false;
                plain_confirmed = true;
        }
        if (!full && cli.mode == MODE_PROVISION && !cli.answers_path && !plain_confirmed) {
                fprintf(stderr, "vps-provision: give the answers with --unattended FILE "
                                "(see /usr/share/doc/vps-provision/examples/answers.ini.example)\n");
                return EXIT_USAGE;
        }
        if (!full && cli.mode == MODE_ROLLBACK && !cli.yes) {
                fprintf(stderr, "vps-provision: --rollback without the full-screen UI needs --yes "
                                "(it undoes every change of the last run)\n");
                return EXIT_USAGE;
        }

        o.mode = cli.mode;
        o.force = cli.force;
        o.assume_yes = cli.yes;
        o.interactive = full;
        o.phases = phases_all(&n_phases);
        o.n_phases = n_phases;
        preflight_env_default(&o.preflight);
#ifdef VPSP_TESTPHASES
        testphases_preflight(&o.preflight);
#endif

        sfd = setup_signals();
        if (cli.mode != MODE_DRY_RUN) {
                struct attach_peer peer;
                int found = attach_pick(o.paths.run_dir, &peer);
                if (found) {
                        code = offer_attach(found, &peer, full, cli.json, sfd);
                        if (code >= 0) {
                                if (sfd >= 0)
                                        close(sfd);
                                return code;
                        }
                }
        }
        if (full) {
                tui_term_save(STDOUT_FILENO);
                code = run_tui(&o, sfd, &caps);
                log_close();
                if (sfd >= 0)
                        close(sfd);
                return code;
        }
        if (cli.mode != MODE_DRY_RUN) {
                char note[512];
                /* the run outlives this login (see scope.h); only a note */
                (void)scope_leave_session(NULL, note, sizeof(note));
                strscpy(o.note, sizeof(o.note), note);
        }
        if (start_engine(&o, cli.mode != MODE_DRY_RUN, &e) < 0)
                return EXIT_INTERNAL;
        code = run_lines(e, cli.json, o.answers.log_level == LOG_DEBUG, sfd);
        engine_free(e);
        log_close();
        if (sfd >= 0)
                close(sfd);
        return code;
}
