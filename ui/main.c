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
#include <unistd.h>

#include "answers.h"
#include "cli.h"
#include "engine.h"
#include "log.h"
#include "paths.h"
#include "phases.h"
#include "render.h"
#include "secret.h"
#include "util.h"

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

int main(int argc, char **argv)
{
        struct cli cli;
        struct engine_opts o = { 0 };
        struct engine *e = NULL;
        char err[512];
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

        /* Until the full-screen UI exists every run is line-based: it needs
         * its answers from a file. */
        if (cli.mode == MODE_PROVISION && !cli.answers_path) {
                fprintf(stderr, "vps-provision: give the answers with --unattended FILE "
                                "(see /usr/share/doc/vps-provision/examples/answers.ini.example)\n");
                return EXIT_USAGE;
        }
        if (cli.mode == MODE_ROLLBACK && !cli.yes) {
                fprintf(stderr, "vps-provision: --rollback without the full-screen UI needs --yes "
                                "(it undoes every change of the last run)\n");
                return EXIT_USAGE;
        }
        if (cli.mode != MODE_DRY_RUN && geteuid() != 0) {
                fprintf(stderr, "vps-provision: must run as root (try: sudo vps-provision %s)\n",
                        argc > 1 ? argv[1] : "");
                return EXIT_NOT_ROOT;
        }

        o.mode = cli.mode;
        o.force = cli.force;
        o.assume_yes = cli.yes;
        o.interactive = false;
        o.phases = phases_all(&n_phases);
        o.n_phases = n_phases;
        preflight_env_default(&o.preflight);

        sfd = setup_signals();
        r = engine_new(&o, &e);
        if (r < 0) {
                fprintf(stderr, "vps-provision: cannot start: %s\n", strerror(-r));
                return EXIT_INTERNAL;
        }
        r = engine_start(e);
        if (r < 0) {
                fprintf(stderr, "vps-provision: cannot start the engine thread: %s\n", strerror(-r));
                engine_free(e);
                return EXIT_INTERNAL;
        }
        code = run_lines(e, cli.json, o.answers.log_level == LOG_DEBUG, sfd);
        engine_free(e);
        log_close();
        if (sfd >= 0)
                close(sfd);
        return code;
}
