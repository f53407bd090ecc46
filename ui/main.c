/* main.c — the program's composition root: parses the command line, loads
 * the answers, hands the phase table to the engine and runs the UI that
 * fits the situation (wizard + dashboard on a terminal, plain lines or JSON
 * otherwise). It is the only file that sees all three layers. */
#include <errno.h>
#include <locale.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "answers.h"
#include "attach.h"
#include "cli.h"
#include "draw.h"
#include "engine.h"
#include "log.h"
#include "password_out.h"
#include "paths.h"
#include "phases.h"
#include "ports.h"
#include "render.h"
#include "scope.h"
#include "secret.h"
#include "session.h"
#include "tui.h"
#include "util.h"

#ifdef VPSP_TESTPHASES
/* Only in vps-provision-testphases (tests/tui/fake_phases.c): lets the
 * tests point preflight at a fake dpkg directory, and the review's facts
 * at a fake /proc (listeners) and passwd file. */
void testphases_preflight(struct preflight_env *env);
void testphases_facts(const char **ret_proc, const char **ret_passwd);
#endif

/* What main() knows besides the engine's options: the facts the wizard's
 * review states, and what it prints after the screen is gone. */
struct run_state {
        struct engine_opts *o;
        struct vps_info vps;
        struct port_listeners listeners;
        const char *proc;
        pthread_t scan;                /* finds the listeners' processes */
        bool scanning;
        struct review_facts facts;
        uint16_t ssh_port_before;      /* the port SSH is reached on now; 0 = not known */
        char answers_path[PATH_MAX + 64];
        bool answers_saved;
};

/* The listening sockets and their processes: a scan of every process's
 * descriptors (up to 0.1 s on a busy machine), so it runs while the
 * wizard's first page is shown. */
static void *scan_listeners(void *data)
{
        struct run_state *st = data;

        (void)ports_listeners(st->proc, &st->listeners);
        return NULL;
}

/* review_facts.ready: waits for the scan, once. */
static void listeners_ready(void *data)
{
        struct run_state *st = data;

        if (!st->scanning)
                return;
        pthread_join(st->scan, NULL);
        st->scanning = false;
        for (size_t i = 0; !st->ssh_port_before && i < st->listeners.n; i++)
                if (strcmp(st->listeners.v[i].comm, "sshd") == 0)
                        st->ssh_port_before = st->listeners.v[i].port;
}

/* The facts about this server the review and the after-exit lines use. */
static void gather_facts(struct run_state *st)
{
        const char *passwd = NULL, *conn = getenv("SSH_CONNECTION");
        struct preflight_env env = st->o->preflight;

        st->proc = "/proc";
#ifdef VPSP_TESTPHASES
        testphases_facts(&st->proc, &passwd);
#endif
        env.mirror_url = NULL;
        preflight_gather(&env, &st->vps);
        st->facts = (struct review_facts){ .vps = &st->vps, .listeners = &st->listeners, .passwd_path = passwd,
                                           .ready = listeners_ready, .ready_data = st };
        st->scanning = pthread_create(&st->scan, NULL, scan_listeners, st) == 0;
        if (!st->scanning)
                scan_listeners(st);
        /* "client_ip client_port server_ip server_port": this session's port */
        if (conn) {
                char a[64], b[64], c[64];
                unsigned port = 0;
                if (sscanf(conn, "%63s %63s %63s %u", a, b, c, &port) == 4 && port > 0 && port <= 65535)
                        st->facts.ssh_session_port = (uint16_t)port;
        }
        st->ssh_port_before = st->facts.ssh_session_port;
}

/* Waits for the scan and frees what gather_facts() found. */
static void release_facts(struct run_state *st)
{
        listeners_ready(st);
        port_listeners_release(&st->listeners);
}

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

/* Sends the password of a credentials event to the place the person named
 * (pwo) instead of the output: the event then says where it went. */
static void divert_password(struct event *ev, struct password_out *pwo)
{
        char name[PATH_MAX + 32];
        int r;

        if (!pwo || pwo->fd < 0 || !ev->credentials.password)
                return;
        fflush(stdout);   /* --password-fd 1: after what was printed so far */
        password_out_name(pwo, name, sizeof(name));
        r = password_out_write(pwo, ev->credentials.password);
        if (r < 0)
                fprintf(stderr, "vps-provision: the password of %s could not be written to %s: %s. "
                                "It is shown nowhere else: set a new one with \"passwd %s\"\n",
                        ev->credentials.username, name, strerror(-r), ev->credentials.username);
        secret_free(ev->credentials.password);
        ev->credentials.password = NULL;
        ev->credentials.password_to = r < 0 ? xasprintf("%s, which failed", name) : xstrdup(name);
}

/* Line-based UIs: consume events until the session ends. pwo (may be NULL)
 * is where the password goes instead of the output. */
static int run_lines(struct engine *e, bool json, bool verbose, int sfd, struct password_out *pwo)
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
                        if (ev->type == EV_CREDENTIALS)
                                divert_password(ev, pwo);
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
        struct run_state *st = userdata;
        _cleanup_free_ char *text = NULL;
        int r;

        if (!session_id || !session_id[0])
                return NULL;
        snprintf(st->answers_path, sizeof(st->answers_path), "%s/answers-%s.ini", st->o->paths.state_dir,
                 session_id);
        text = answers_format(&st->o->answers, true);
        r = write_file_atomic(st->answers_path, text, strlen(text), 0600, 0, 0);
        if (r < 0)
                return xasprintf("Your choices could not be saved to %s: %s", st->answers_path, strerror(-r));
        st->answers_saved = true;
        return xasprintf("Your choices are saved in %s (no password in it): "
                         "vps-provision --unattended FILE repeats them on the next server.",
                         st->answers_path);
}

/* text wrapped at spaces to the terminal's width: the first line after
 * indent columns, the others after indent + hang. */
static void print_wrapped(FILE *out, int cols, int indent, int hang, const char *text)
{
        int width = cols - 1 - indent;
        const char *p = text;
        bool first = true;

        while (*p) {
                int room = first ? width : width - hang;
                size_t len = strlen(p), cut = len;
                if (room < 20)
                        room = 20;
                if ((int)len > room) {
                        cut = (size_t)room;
                        while (cut > 0 && p[cut] != ' ')
                                cut--;
                        if (cut == 0)
                                cut = (size_t)room;
                }
                fprintf(out, "%*s%.*s\n", indent + (first ? 0 : hang), "", (int)cut, p);
                p += cut;
                while (*p == ' ')
                        p++;
                first = false;
        }
}

/* The terminal's width (from stdout, stdin or stderr, whichever is one);
 * 80 when none is. */
static int term_cols(void)
{
        static const int fds[] = { STDOUT_FILENO, STDIN_FILENO, STDERR_FILENO };
        int cols, rows;

        for (size_t i = 0; i < ELEMENTSOF(fds); i++)
                if (tui_term_size(fds[i], &cols, &rows) == 0 && cols >= 40)
                        return cols;
        return 80;
}

/* The plan for the plain-mode question: every line of the review page. */
static void print_plan(FILE *out, const struct run_state *st)
{
        struct review_line *lines = NULL;
        int cols = term_cols();
        size_t n = review_build(&st->o->answers, &st->facts, st->o->phases, st->o->n_phases, &lines);

        for (size_t i = 0; i < n; i++)
                print_wrapped(out, cols, lines[i].indent, lines[i].hang, lines[i].text);
        review_lines_free(lines, n);
}

/* The terminal is too small (or unusable) for the full-screen UI: say so and
 * offer the plain mode, after the whole plan. True = go plain. */
static bool offer_plain(const char *why, const struct cli *cli, const struct run_state *st)
{
        char line[16] = "";

        fprintf(stderr, "vps-provision: %s.\n", why);
        if (cli->mode != MODE_PROVISION) {
                fprintf(stderr, "vps-provision: enlarge the window and run again, or add --plain.\n");
                return false;
        }
        print_wrapped(stderr, term_cols(), 0, 0,
                      cli->answers_path ? "Enlarge the window and run vps-provision again, or go on here in "
                                          "plain mode (progress line by line) with the answers from the file:"
                                        : "Enlarge the window and run vps-provision again, or go on here in "
                                          "plain mode (progress line by line) with the default answers:");
        fputc('\n', stderr);
        print_plan(stderr, st);
        fprintf(stderr, "\nContinue in plain mode? [y/N] ");
        fflush(stderr);
        if (!fgets(line, sizeof(line), stdin))
                return false;
        return line[0] == 'y' || line[0] == 'Y';
}

/* What stays in the terminal after the screen is gone: how to connect,
 * where the records are, how to undo. Never the password. */
static void print_after(struct run_state *st, const struct tui_dashboard_result *res, int code)
{
        const struct answers *a = &st->o->answers;
        bool provision = res->mode == MODE_PROVISION || res->mode == MODE_RESUME;
        const char *host = res->host[0] ? res->host : st->vps.ip_address[0] ? st->vps.ip_address : "this-server";
        const char *user = res->login ? res->username : a->username;
        unsigned rdp = res->login ? res->rdp_port : a->rdp_port;
        int cols = term_cols();
        char line[8192];
        unsigned ssh;

        /* sshd moves only with SSH hardening; where it was before the run
         * comes from this session's port or from the scan */
        listeners_ready(st);
        ssh = a->hardening || !st->ssh_port_before ? a->ssh_port : st->ssh_port_before;
        snprintf(line, sizeof(line), "%s (exit code %d): %s", code == 0 ? "Done" : "Stopped", code,
                 res->end_message[0] ? res->end_message : exit_code_meaning(code));
        print_wrapped(stdout, cols, 0, 2, line);
        if (provision && (code == 0 || res->login)) {
                printf("How to connect (the password was shown once and is stored nowhere):\n");
                if (res->login ? res->rdp_localhost : a->rdp_listen == RDP_LISTEN_LOCALHOST) {
                        _cleanup_free_ char *t = answers_rdp_tunnel(rdp, ssh, host);
                        snprintf(line, sizeof(line), "Remote Desktop:  through SSH only: %s, then an RDP "
                                 "client to localhost:3389, user %s", t, user);
                } else {
                        snprintf(line, sizeof(line), "Remote Desktop:  %s:%u, user %s", host, rdp, user);
                }
                print_wrapped(stdout, cols, 2, 17, line);
                if (ssh == 22)
                        snprintf(line, sizeof(line), "SSH:             ssh %s@%s", user, host);
                else
                        snprintf(line, sizeof(line), "SSH:             ssh -p %u %s@%s", ssh, user, host);
                print_wrapped(stdout, cols, 2, 17, line);
                if (st->ssh_port_before && ssh != st->ssh_port_before) {
                        snprintf(line, sizeof(line),
                                 "SSH moved from port %u to %u. Port %u stays open until a login on "
                                 "port %u is seen in sshd's log: try it now from another terminal "
                                 "(ssh -p %u %s@%s); if it does not connect, open port %u in your "
                                 "provider's firewall.",
                                 (unsigned)st->ssh_port_before, ssh, (unsigned)st->ssh_port_before, ssh,
                                 ssh, user, host, ssh);
                        print_wrapped(stdout, cols, 19, 0, line);
                }
        }
        if (res->log_path[0]) {
                snprintf(line, sizeof(line), "Log:      %s", res->log_path);
                print_wrapped(stdout, cols, 0, 10, line);
        }
        if (res->session_path[0]) {
                snprintf(line, sizeof(line), "Session:  %s", res->session_path);
                print_wrapped(stdout, cols, 0, 10, line);
        }
        if (st->answers_saved) {
                snprintf(line, sizeof(line), "Answers:  %s (vps-provision --unattended FILE repeats them)",
                         st->answers_path);
                print_wrapped(stdout, cols, 0, 10, line);
        }
        if (code == EXIT_FAILED_KEPT || code == EXIT_INTERRUPTED)
                printf("Continue: vps-provision --resume\n");
        if (provision && code != EXIT_ROLLED_BACK && code != EXIT_PREFLIGHT && res->ended)
                printf("Undo:     vps-provision --rollback\n");
        fflush(stdout);
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
                fprintf(stderr, "vps-provision: cannot start: %s\n", engine_new_error(r));
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

/* What stays in the terminal after leaving a run on purpose. */
static void print_detached(const struct tui_dashboard_result *res)
{
        printf("Detached from session %s: the run goes on. vps-provision --attach shows it again.\n",
               res->session_id[0] ? res->session_id : "(starting)");
        if (res->log_path[0])
                printf("Log:      %s\n", res->log_path);
        fflush(stdout);
}

/* A run is going on (found 1) or waits with a password nobody saw (2):
 * offer to attach on a terminal. Returns -1 to go on with this
 * invocation, else the exit code to end with. */
static int offer_attach(int found, const struct attach_peer *peer, bool full, bool json,
                        const struct tui_caps *caps, int sfd)
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
        if (!full) {
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
        return attach_view(peer, json ? ATTACH_VIEW_JSON : ATTACH_VIEW_FULL, caps, sfd);
}

/* Full-screen run: the wizard (new provisioning runs only), then the
 * dashboard, on one screen. Returns the exit code. In the run's own
 * process (see attach.h) *ret_is_run is set: main() just returns. */
static int run_tui(struct run_state *st, int sfd, const struct tui_caps *caps, bool *ret_is_run)
{
        struct engine_opts *o = st->o;
        struct engine *e = NULL;
        struct tui_dashboard_result res;
        struct tui_source src;
        int code;

        if (tui_screen_open(caps) < 0) {
                fprintf(stderr, "vps-provision: cannot drive this terminal (TERM=%s); use --plain or --unattended\n",
                        getenv("TERM") ? getenv("TERM") : "");
                return EXIT_USAGE;
        }
        if (o->mode == MODE_PROVISION) {
                struct preflight_env env = o->preflight;
                struct check_list checks = { 0 };
                struct tui_wizard_opts w = {
                        .caps = caps, .sfd = sfd, .vps = &st->vps, .checks = &checks,
                        .phases = o->phases, .n_phases = o->n_phases, .facts = &st->facts,
                };
                enum tui_wizard_result wr;

                /* no network here (the engine's own preflight also checks the archive) */
                env.mirror_url = NULL;
                w.refused = preflight_check(&env, &st->vps, o->force, &checks) > 0;
                wr = tui_wizard_run(&o->answers, &w);
                check_list_release(&checks);
                if (wr != TUI_WIZARD_START)
                        tui_screen_close();
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

        /* From here on the run is the server's, not this session's: it
         * goes on in a process of its own and this one attaches to it. No
         * thread may run at the fork: the listener scan is done first. */
        listeners_ready(st);
        {
                struct launch l;
                char err[512];

                o->keep_credentials = true;
                if (launch_run(o, sfd, &l, err, sizeof(err)) == 0) {
                        if (l.is_run) {
                                *ret_is_run = true;
                                return l.code;
                        }
                        code = attach_dashboard(l.socket, l.owner_fd, sfd, o->mode == MODE_PROVISION ? save_answers : NULL,
                                                st, &res);
                        tui_screen_close();
                        if (!res.hangup && !res.detached)
                                print_after(st, &res, code);
                        else if (res.detached)
                                print_detached(&res);
                        return code;
                }
                /* no process of its own: the run stays in this one, and says why */
                snprintf(o->note, sizeof(o->note), "the run stays in this SSH session (a dropped "
                         "connection stops its screen, not the run): %s", err);
                o->keep_credentials = false;
        }
        if (start_engine(o, false, &e) < 0) {
                tui_screen_close();
                return EXIT_INTERNAL;
        }
        tui_source_engine(&src, e);
        (void)tui_dashboard_run(&src, sfd, o->mode == MODE_PROVISION ? save_answers : NULL, st, &res);
        tui_screen_close();
        code = engine_join(e);
        if (!res.hangup)
                print_after(st, &res, code);
        engine_free(e);
        return code;
}

/* The answers the phase table is made for: those of the run, except that
 * --resume without a file continues the last run with its own answers
 * (and so its own IDE catalog). */
static void table_answers(const struct cli *cli, const struct engine_opts *o, struct answers *ret)
{
        char path[PATH_MAX];
        struct session s;

        *ret = o->answers;
        if (cli->mode != MODE_RESUME || o->answers_from_file)
                return;
        if (session_find_latest(o->paths.sessions_dir, 0, path, sizeof(path)) == 0 &&
            session_load(path, &s) == 0) {
                *ret = s.answers;
                session_release(&s);
        }
}

int main(int argc, char **argv)
{
        struct cli cli;
        struct engine_opts o = { 0 };
        struct run_state st = { .o = &o };
        struct engine *e = NULL;
        char err[512];
        struct tui_caps caps;
        struct password_out pwo = { .fd = -1 };
        bool full, plain_confirmed = false, pw_named, is_run = false;
        struct phase_table table = { 0 };
        int sfd, r, code;

        secret_harden_process();
        setlocale(LC_ALL, "");

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

        o.mode = cli.mode;
        o.force = cli.force;
        o.assume_yes = cli.yes;
        o.rollback_all = cli.all;
        {
                struct answers ta;

                table_answers(&cli, &o, &ta);
                r = phases_load(&ta, &table, err, sizeof(err));
                wipe(&ta, sizeof(ta));
                if (r < 0 && cli.mode != MODE_ROLLBACK && o.answers.ides[0]) {
                        fprintf(stderr, "vps-provision: %s\n", err);
                        phases_release(&table);
                        return EXIT_USAGE;
                }
        }
        o.phases = table.v;
        o.n_phases = table.n;
        preflight_env_default(&o.preflight);
        o.preflight.state_dir = o.paths.state_dir;
#ifdef VPSP_TESTPHASES
        testphases_preflight(&o.preflight);
#endif

        if (cli.attach) {
                struct attach_peer peer;
                phases_release(&table);   /* following a run needs none */
                if (!attach_pick(o.paths.run_dir, &peer))
                        return attach_no_run(&o.paths);
                tui_caps_detect(&caps);
                sfd = setup_signals();
                code = attach_view(&peer, cli.plain ? ATTACH_VIEW_PLAIN : cli.json ? ATTACH_VIEW_JSON
                                                                      : ATTACH_VIEW_FULL,
                                   &caps, sfd);
                if (sfd >= 0)
                        close(sfd);
                return code;
        }

        /* The full-screen UI: a terminal on both ends, not asked away. A dry
         * run is always lines (it only prints a plan), and so is a run whose
         * password goes to a place of the person's choosing. */
        pw_named = cli.password_file || cli.password_fd >= 0;
        full = isatty(STDIN_FILENO) && isatty(STDOUT_FILENO) && !cli.plain && !cli.json &&
               !cli.unattended && cli.mode != MODE_DRY_RUN && !pw_named;
        tui_caps_detect(&caps);
        if (full)
                gather_facts(&st);
        if (full && tui_term_check(STDOUT_FILENO, err, sizeof(err)) < 0) {
                bool go = offer_plain(err, &cli, &st);
                release_facts(&st);
                if (!go) {
                        phases_release(&table);
                        return EXIT_USAGE;
                }
                full = false;
                plain_confirmed = true;
        }
        if (!full && cli.mode == MODE_PROVISION && !cli.answers_path && !plain_confirmed) {
                fprintf(stderr, "vps-provision: give the answers with --unattended FILE "
                                "(see /usr/share/doc/vps-provision/examples/answers.ini.example)\n");
                phases_release(&table);
                return EXIT_USAGE;
        }
        if (!full && cli.mode == MODE_ROLLBACK && !cli.yes) {
                fprintf(stderr, "vps-provision: --rollback without the full-screen UI needs --yes "
                                "(it undoes every change of the last run%s)\n",
                        cli.all ? ", and with --all of every run" : "");
                phases_release(&table);
                return EXIT_USAGE;
        }
        /* A generated password goes only where the person said: standard
         * output that is not a terminal is a log file, a console log, a CI
         * transcript. */
        if (!full && !cli.json && !pw_named && !isatty(STDOUT_FILENO) &&
            (cli.mode == MODE_PROVISION || cli.mode == MODE_RESUME) && !o.answers.password_hash[0]) {
                fprintf(stderr,
                        "vps-provision: standard output is not a terminal, so the generated password "
                        "would be stored wherever it goes (a log file, a console log). Say where the "
                        "password may go: --password-file FILE (a new file, created mode 0600), "
                        "--password-fd N (a descriptor you opened, e.g. --password-fd 3 3>FILE), or "
                        "--json (a program reads the output); or set [user] password_hash in the "
                        "answers file. Nothing was changed.\n");
                return EXIT_USAGE;
        }
        if (cli.password_fd >= 0 && password_out_fd(cli.password_fd, &pwo, err, sizeof(err)) < 0) {
                fprintf(stderr, "vps-provision: %s. Nothing was changed.\n", err);
                return EXIT_USAGE;
        }
        if (cli.password_file) {
                struct stat pst;

                if (cli.mode == MODE_DRY_RUN) {
                        /* a dry run writes nothing; it still says what a run would refuse */
                        if (lstat(cli.password_file, &pst) == 0) {
                                fprintf(stderr, "vps-provision: --password-file %s: the file exists; "
                                                "name a new file\n", cli.password_file);
                                return EXIT_USAGE;
                        }
                } else if (password_out_file(cli.password_file, &pwo, err, sizeof(err)) < 0) {
                        fprintf(stderr, "vps-provision: %s. Nothing was changed.\n", err);
                        return EXIT_USAGE;
                }
        }

        o.interactive = full;

        sfd = setup_signals();
        if (cli.mode != MODE_DRY_RUN) {
                struct attach_peer peer;
                int found = attach_pick(o.paths.run_dir, &peer);
                if (found) {
                        code = offer_attach(found, &peer, full, cli.json, &caps, sfd);
                        if (code >= 0) {
                                release_facts(&st);
                                if (sfd >= 0)
                                        close(sfd);
                                phases_release(&table);
                                return code;
                        }
                }
        }
        if (full) {
                tui_term_save(STDOUT_FILENO);
                code = run_tui(&st, sfd, &caps, &is_run);
                release_facts(&st);
        } else {
                if (cli.mode != MODE_DRY_RUN) {
                        char note[512];
                        /* the run outlives this login (see scope.h); only a note */
                        (void)scope_leave_session(NULL, note, sizeof(note));
                        strscpy(o.note, sizeof(o.note), note);
                }
                if (start_engine(&o, cli.mode != MODE_DRY_RUN, &e) < 0) {
                        code = EXIT_INTERNAL;
                } else {
                        code = run_lines(e, cli.json, o.answers.log_level == LOG_DEBUG, sfd, &pwo);
                        engine_free(e);
                }
        }
        password_out_close(&pwo);
        log_close();
        if (sfd >= 0)
                close(sfd);
        phases_release(&table);
        return code;
}
