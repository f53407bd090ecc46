/* attach.c — see attach.h. */
#include "attach.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "attach_client.h"
#include "draw.h"
#include "render.h"
#include "scope.h"
#include "session.h"
#include "tui.h"
#include "util.h"

#define READY_MS 30000

int attach_pick(const char *run_dir, struct attach_peer *ret)
{
        struct attach_peer *v = NULL;
        size_t n = 0;
        int found = 0;

        if (attach_list(run_dir, &v, &n) < 0)
                return 0;
        /* attach_list() puts runs that go on first, newest first */
        for (size_t i = 0; i < n && !found; i++) {
                if (!v[i].hello.ended)
                        found = 1;
                else if (v[i].hello.credentials_waiting)
                        found = 2;
                if (found)
                        *ret = v[i];
        }
        free(v);
        return found;
}

/* ---- following as lines ------------------------------------------------------ */

int attach_follow_lines(const struct attach_peer *peer, bool json, bool verbose, int sfd)
{
        struct attach_client *c = NULL;
        struct render_plain *r = json ? NULL : render_plain_new(stdout, verbose);
        char err[512];
        int code = EXIT_OK;
        bool left = false, ended = false;

        if (attach_client_open(peer->path, false, &c, err, sizeof(err)) < 0) {
                fprintf(stderr, "vps-provision: %s\n", err);
                render_plain_free(r);
                return EXIT_NO_RUN;
        }
        if (r) {
                char note[256];
                snprintf(note, sizeof(note), "following session %s (pid %d); Ctrl-C leaves it running",
                         peer->hello.session_id[0] ? peer->hello.session_id : "(starting)",
                         (int)peer->hello.pid);
                render_plain_note(r, note);
        }
        while (!left && !ended && !attach_client_closed(c)) {
                struct pollfd p[2] = { { .fd = attach_client_fd(c), .events = POLLIN },
                                       { .fd = sfd, .events = POLLIN } };
                struct event *ev;

                if (poll(p, sfd >= 0 ? 2 : 1, -1) < 0 && errno != EINTR)
                        break;
                if (sfd >= 0 && (p[1].revents & POLLIN)) {
                        struct signalfd_siginfo si;
                        while (read(sfd, &si, sizeof(si)) == sizeof(si))
                                if (si.ssi_signo != SIGWINCH)
                                        left = true;
                }
                while ((ev = attach_client_pop(c))) {
                        if (json)
                                render_json_event(stdout, ev);
                        else
                                render_plain_event(r, ev);
                        if (ev->type == EV_SESSION_END) {
                                /* the end: what the run's process still
                                 * waits for is not a watcher's */
                                code = ev->session_end.exit_code;
                                ended = true;
                        }
                        event_free(ev);
                }
        }
        if (left) {
                attach_client_detach(c);
                if (r)
                        render_plain_note(r, "left the run; it goes on (vps-provision --attach shows it again)");
                code = EXIT_OK;
        }
        attach_client_free(c);
        render_plain_free(r);
        fflush(stdout);
        return code;
}

/* ---- the dashboard ------------------------------------------------------------ */

static int src_fd(void *data) { return attach_client_fd(data); }
static struct event *src_pop(void *data) { return attach_client_pop(data); }
static bool src_closed(void *data) { return attach_client_closed(data); }
static void src_send(void *data, struct event *ev) { attach_client_send(data, ev); }
static void src_detach(void *data) { attach_client_detach(data); }
static void src_take(void *data) { attach_client_take(data); }
static bool src_control(void *data) { return attach_client_control(data); }

int attach_dashboard(const char *socket, int fd, int sfd, tui_end_hook hook, void *hook_data,
                     struct tui_dashboard_result *res)
{
        struct attach_client *c = NULL;
        struct tui_source src;
        char err[512];
        int r;

        memset(res, 0, sizeof(*res));
        r = fd >= 0 ? attach_client_open_fd(fd, true, &c, err, sizeof(err))
                    : attach_client_open(socket, true, &c, err, sizeof(err));
        if (r < 0) {
                tui_screen_close();
                fprintf(stderr, "vps-provision: %s\n", err);
                return EXIT_NO_RUN;
        }
        src = (struct tui_source){
                .data = c, .fd = src_fd, .pop = src_pop, .closed = src_closed, .send = src_send,
                .detach = src_detach, .leave = src_detach, .take = src_take, .control = src_control,
        };
        (void)tui_dashboard_run(&src, sfd, hook, hook_data, res);
        attach_client_free(c);
        if (res->detached || res->hangup)
                return EXIT_OK;
        return res->ended ? res->exit_code : EXIT_INTERRUPTED;
}

int attach_view(const struct attach_peer *peer, enum attach_view view, const struct tui_caps *caps,
                int sfd)
{
        struct tui_dashboard_result res;
        char why[256], line[16] = "";
        int code;

        if (view == ATTACH_VIEW_FULL && (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)))
                view = ATTACH_VIEW_PLAIN;
        if (view == ATTACH_VIEW_FULL && tui_term_check(STDOUT_FILENO, why, sizeof(why)) < 0) {
                fprintf(stderr, "vps-provision: %s.\n"
                                "Enlarge the window and attach again, or follow the run here as lines "
                                "(they never show the credentials, and have no keys).\n"
                                "Follow it as lines? [y/N] ", why);
                fflush(stderr);
                if (!fgets(line, sizeof(line), stdin) || (line[0] != 'y' && line[0] != 'Y'))
                        return EXIT_USAGE;
                view = ATTACH_VIEW_PLAIN;
        }
        if (view != ATTACH_VIEW_FULL)
                return attach_follow_lines(peer, view == ATTACH_VIEW_JSON, false, sfd);

        tui_term_save(STDOUT_FILENO);
        if (tui_screen_open(caps) < 0) {
                fprintf(stderr, "vps-provision: cannot drive this terminal (TERM=%s); use --attach --plain\n",
                        getenv("TERM") ? getenv("TERM") : "");
                return EXIT_USAGE;
        }
        code = attach_dashboard(peer->path, -1, sfd, NULL, NULL, &res);
        tui_screen_close();
        if (res.detached)
                printf("Detached from session %s: the run goes on. vps-provision --attach shows it again.\n",
                       res.session_id[0] ? res.session_id : peer->hello.session_id);
        else if (res.ended)
                printf("%s (exit code %d): %s\n", res.exit_code == 0 ? "Done" : "Stopped", res.exit_code,
                       res.end_message);
        if (!res.hangup && res.log_path[0])
                printf("Log:      %s\n", res.log_path);
        fflush(stdout);
        return code;
}

/* ---- nothing to attach to ----------------------------------------------------- */

int attach_no_run(const struct paths *p)
{
        char path[PATH_MAX], err[512];
        struct session s;
        int fd = attach_dir_open(p->run_dir, false, err, sizeof(err));

        if (fd >= 0)
                close(fd);
        else if (fd != -ENOENT)
                fprintf(stderr, "vps-provision: not looking for runs there: %s\n", err);

        if (session_find_latest(p->sessions_dir, 0, path, sizeof(path)) < 0 ||
            session_load(path, &s) < 0) {
                fprintf(stderr, "vps-provision: no run is going on, and none has run on this server yet.\n");
                return EXIT_NO_RUN;
        }
        if (s.end_time[0])
                fprintf(stderr, "vps-provision: no run is going on. The last one, session %s (%s), "
                                "ended %s: %s, exit code %d.\n",
                        s.session_id, session_mode_name(s.mode), s.end_time,
                        session_status_name(s.status), s.exit_code);
        else
                fprintf(stderr, "vps-provision: no run is going on. The last one, session %s (%s), "
                                "stopped without an end while %s: its process was killed.\n",
                        s.session_id, session_mode_name(s.mode), session_status_name(s.status));
        if (s.error_details && s.error_details[0])
                fprintf(stderr, "  %s\n", s.error_details);
        switch (s.credentials) {
        case CREDENTIALS_UNSEEN:
                fprintf(stderr, "  The password it set for %s was never shown, and the run's process is "
                                "gone: vps-provision --resume sets a new one and shows it.\n",
                        s.answers.username);
                break;
        case CREDENTIALS_WIPED:
                fprintf(stderr, "  Nobody saw the password it set for %s in time, so it was wiped: set a "
                                "new one as root with: passwd %s\n",
                        s.answers.username, s.answers.username);
                break;
        case CREDENTIALS_SHOWN:
                fprintf(stderr, "  The password of %s was shown once and is stored nowhere.\n",
                        s.answers.username);
                break;
        default:
                break;
        }
        if (s.status != SESSION_COMPLETED && s.mode != MODE_ROLLBACK && s.status != SESSION_ROLLED_BACK)
                fprintf(stderr, "  vps-provision --resume continues it; --rollback undoes it.\n");
        if (s.log_path)
                fprintf(stderr, "  Log: %s\n", s.log_path);
        session_release(&s);
        return EXIT_NO_RUN;
}

/* ---- the run's own process --------------------------------------------------- */

/* Tells the parent how the start went: "S socket\n" or "E message\n". */
static void say_ready(int fd, char kind, const char *text)
{
        char line[1024];
        int n = snprintf(line, sizeof(line), "%c %s\n", kind, text);

        if (n > 0)
                (void)!write(fd, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
        close(fd);
}

/* The child: away from the terminal, then the whole run. Returns its exit code. */
static int run_process(struct engine_opts *o, int sfd, int ready_fd, int owner_fd)
{
        struct engine *e = NULL;
        char err[512];
        int null_fd, code, r;
        bool stop = false;
        int64_t ended_at;

        setsid();
        null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (null_fd >= 0) {
                dup2(null_fd, STDIN_FILENO);
                dup2(null_fd, STDOUT_FILENO);
                /* keep a file or pipe (a test's sanitizer report); never a terminal */
                if (isatty(STDERR_FILENO))
                        dup2(null_fd, STDERR_FILENO);
                if (null_fd > STDERR_FILENO)
                        close(null_fd);
        }
        /* the terminal is the parent's: nothing here restores or draws it */
        tui_term_set_active(false);

        r = engine_new(o, &e);
        if (r < 0) {
                snprintf(err, sizeof(err), "cannot start: %s", engine_new_error(r));
                say_ready(ready_fd, 'E', err);
                return EXIT_INTERNAL;
        }
        if (engine_serve_owned(e, owner_fd, err, sizeof(err)) < 0 || (r = engine_start(e)) < 0) {
                if (r < 0)
                        snprintf(err, sizeof(err), "cannot start the engine thread: %s", strerror(-r));
                say_ready(ready_fd, 'E', err);
                engine_free(e);
                return EXIT_INTERNAL;
        }
        say_ready(ready_fd, 'S', engine_socket(e));

        /* nobody draws these here: the clients get them from the server.
         * The close is read before the drain: nothing is pushed after it,
         * so the drain that follows takes the last event too. */
        for (bool closed = false; !closed;) {
                struct pollfd p[2] = { { .fd = queue_fd(engine_events(e)), .events = POLLIN },
                                       { .fd = sfd, .events = POLLIN } };
                struct event *ev;

                closed = queue_is_closed(engine_events(e));
                if (!closed && poll(p, sfd >= 0 ? 2 : 1, -1) < 0 && errno != EINTR)
                        break;
                if (sfd >= 0 && (p[1].revents & POLLIN)) {
                        struct signalfd_siginfo si;
                        while (read(sfd, &si, sizeof(si)) == sizeof(si))
                                if (si.ssi_signo == SIGINT || si.ssi_signo == SIGTERM ||
                                    si.ssi_signo == SIGQUIT)
                                        engine_send(e, event_new(EV_CANCEL));
                }
                while ((ev = queue_pop(engine_events(e))))
                        event_free(ev);
        }
        code = engine_join(e);

        /* an end nobody with the keys has seen yet waits a little for one */
        ended_at = now_ms();
        while (!stop && !engine_end_seen(e) && now_ms() - ended_at < ATTACH_END_LINGER_MS) {
                struct pollfd p = { .fd = sfd, .events = POLLIN };
                if (poll(&p, sfd >= 0 ? 1 : 0, 1000) > 0) {
                        struct signalfd_siginfo si;
                        while (read(sfd, &si, sizeof(si)) == sizeof(si))
                                stop |= si.ssi_signo == SIGINT || si.ssi_signo == SIGTERM ||
                                        si.ssi_signo == SIGQUIT;
                }
        }
        engine_free(e);
        return code;
}

int launch_run(struct engine_opts *o, int sfd, struct launch *ret, char *err, size_t errlen)
{
        int ready[2], pair[2];
        char line[1024];
        size_t n = 0;
        pid_t pid;
        int r;

        memset(ret, 0, sizeof(*ret));
        ret->owner_fd = -1;
        /* out of the login session first, so the child is born outside it */
        r = scope_leave_session(NULL, ret->note, sizeof(ret->note));
        strscpy(o->note, sizeof(o->note), ret->note);
        (void)r;   /* not fatal: the note says what it means */

        if (pipe2(ready, O_CLOEXEC) < 0)
                return errorf(-errno, err, errlen, "cannot start the run: %s", strerror(errno));
        /* this terminal's connection, made before the run's socket exists:
         * no --attach of another session can get the keys before it */
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0) {
                r = -errno;
                close(ready[0]);
                close(ready[1]);
                return errorf(r, err, errlen, "cannot start the run: %s", strerror(-r));
        }
        fflush(stdout);
        fflush(stderr);
        pid = fork();
        if (pid < 0) {
                r = -errno;
                close(ready[0]);
                close(ready[1]);
                close(pair[0]);
                close(pair[1]);
                return errorf(r, err, errlen, "cannot start the run's process: %s", strerror(-r));
        }
        if (pid == 0) {
                close(ready[0]);
                close(pair[1]);
                ret->is_run = true;
                ret->code = run_process(o, sfd, ready[1], pair[0]);
                return 0;
        }
        close(ready[1]);
        close(pair[0]);
        ret->pid = pid;
        for (int64_t until = now_ms() + READY_MS;;) {
                struct pollfd p = { .fd = ready[0], .events = POLLIN };
                int64_t left = until - now_ms();
                ssize_t k;

                if (left <= 0 || poll(&p, 1, (int)left) <= 0) {
                        close(ready[0]);
                        close(pair[1]);
                        kill(pid, SIGTERM);
                        return errorf(-ETIMEDOUT, err, errlen, "the run's process did not start within %d s",
                                      READY_MS / 1000);
                }
                k = read(ready[0], line + n, sizeof(line) - 1 - n);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0 || (n += (size_t)k) == sizeof(line) - 1 || memchr(line, '\n', n))
                        break;
        }
        close(ready[0]);
        line[n] = '\0';
        if (n > 2 && line[n - 1] == '\n')
                line[--n] = '\0';
        if (n > 2 && line[0] == 'S') {
                strscpy(ret->socket, sizeof(ret->socket), line + 2);
                ret->owner_fd = pair[1];
                return 0;
        }
        close(pair[1]);
        (void)waitpid(pid, NULL, 0);
        if (n > 2 && line[0] == 'E')
                return errorf(-EIO, err, errlen, "%s", line + 2);
        return errorf(-EIO, err, errlen, "the run's process ended as it started");
}
