/* attach_client.c — see attach_client.h. */
#include "attach_client.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "attach_server.h"
#include "engine.h"
#include "queue.h"
#include "secret.h"
#include "util.h"

#define HELLO_MS 5000
#define SEND_MS 2000
#define READ_CHUNK 65536

struct attach_client {
        int fd;
        struct queue *q;
        pthread_t reader;
        bool reader_started;
        int stop_efd[2];                /* a pipe: the reader stops when it is readable */
        struct attach_hello hello;
        atomic_bool control, live, ended, lost, detached;
        pthread_mutex_t mu;             /* why, and writes to fd */
        char why[256];
};

static void push_note(struct attach_client *c, enum log_level level, const char *text)
{
        struct event *ev = event_new(EV_LOG);
        ev->log.level = level;
        ev->log.text = xstrdup(text);
        queue_push(c->q, ev);
}

/* One line from the server. */
static void take_line(struct attach_client *c, char *line, size_t len)
{
        struct attach_msg m;
        char err[200] = "";
        int r = attach_msg_parse(line, len, &m, err, sizeof(err));

        if (r == -ENOMSG)
                return;   /* a newer server's event: nothing to show */
        if (r < 0) {
                char note[300];
                snprintf(note, sizeof(note), "(a line from the run could not be read: %s)", err);
                push_note(c, LOG_WARNING, note);
                return;
        }
        switch (m.type) {
        case ATTACH_MSG_EVENT:
                if (m.ev->type == EV_SESSION_END)
                        atomic_store(&c->ended, true);
                queue_push(c->q, m.ev);
                break;
        case ATTACH_MSG_ROLE: {
                bool had = atomic_exchange(&c->control, m.control);
                if (had != m.control && atomic_load(&c->live))
                        push_note(c, LOG_WARNING, m.control
                                  ? "This session has the keys now (cancel, the failure dialog, the credentials)."
                                  : "Another session took the keys; this one only watches now (T takes them back).");
                break;
        }
        case ATTACH_MSG_REPLAY_END:
                atomic_store(&c->live, true);
                break;
        case ATTACH_MSG_REFUSED: {
                char note[320];
                snprintf(note, sizeof(note), "Not done: %s", m.text);
                push_note(c, LOG_WARNING, note);
                break;
        }
        case ATTACH_MSG_BYE:
                pthread_mutex_lock(&c->mu);
                strscpy(c->why, sizeof(c->why), m.text);
                pthread_mutex_unlock(&c->mu);
                break;
        case ATTACH_MSG_HELLO:
                break;
        }
}

/* The connection is over: a run that did not end gets an end of ours. */
static void connection_over(struct attach_client *c)
{
        if (!atomic_load(&c->ended) && !atomic_load(&c->detached)) {
                struct event *ev = event_new(EV_SESSION_END);
                char why[256];

                pthread_mutex_lock(&c->mu);
                strscpy(why, sizeof(why), c->why);
                pthread_mutex_unlock(&c->mu);
                atomic_store(&c->lost, true);
                ev->session_end.status = SESSION_FAILED;
                ev->session_end.exit_code = EXIT_INTERRUPTED;
                if (why[0] && !strstr(why, "has ended"))
                        ev->session_end.message = xasprintf(
                                "the run dropped this session (%s); vps-provision --attach "
                                "connects again", why);
                else
                        ev->session_end.message = xasprintf(
                                "the run's process (pid %d) ended before the run did (killed, or "
                                "the server restarted): vps-provision --resume continues it, "
                                "--rollback undoes it", (int)c->hello.pid);
                queue_push(c->q, ev);
        }
        queue_close(c->q);
}

static void *reader_main(void *userdata)
{
        struct attach_client *c = userdata;
        struct buf in;

        /* room up front, so that a realloc never leaves a copy of a line
         * (the credentials) behind in freed memory */
        buf_init(&in, ATTACH_LINE_MAX + 1);
        {
                static const char zeros[4 * READ_CHUNK];
                (void)buf_append(&in, zeros, sizeof(zeros));
                in.len = 0;
        }
        for (;;) {
                struct pollfd p[2] = { { .fd = c->fd, .events = POLLIN },
                                       { .fd = c->stop_efd[0], .events = POLLIN } };
                char chunk[READ_CHUNK];
                ssize_t k;
                char *nl;

                if (poll(p, 2, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        break;
                }
                if (p[1].revents)
                        break;
                k = read(c->fd, chunk, sizeof(chunk));
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        break;
                if (buf_append(&in, chunk, (size_t)k) < 0) {
                        pthread_mutex_lock(&c->mu);
                        strscpy(c->why, sizeof(c->why), "a line from the run is too long");
                        pthread_mutex_unlock(&c->mu);
                        break;
                }
                wipe(chunk, (size_t)k);   /* it may have held the password */
                while ((nl = memchr(in.data, '\n', in.len))) {
                        size_t n = (size_t)(nl - in.data);
                        take_line(c, in.data, n);
                        wipe(in.data, n + 1);
                        memmove(in.data, nl + 1, in.len - n - 1);
                        in.len -= n + 1;
                }
        }
        wipe(in.data, in.cap);
        buf_release(&in);
        connection_over(c);
        return NULL;
}

/* Writes a whole command line within SEND_MS. */
static int send_line(struct attach_client *c, const char *line)
{
        size_t len = strlen(line), off = 0;
        int64_t until = now_ms() + SEND_MS;
        int r = 0;

        pthread_mutex_lock(&c->mu);
        while (off < len) {
                struct pollfd p = { .fd = c->fd, .events = POLLOUT };
                ssize_t k;
                int64_t left = until - now_ms();

                if (left <= 0 || poll(&p, 1, (int)left) <= 0) {
                        r = -ETIMEDOUT;
                        break;
                }
                k = send(c->fd, line + off, len - off, MSG_NOSIGNAL | MSG_DONTWAIT);
                if (k < 0) {
                        if (errno == EAGAIN || errno == EINTR)
                                continue;
                        r = -errno;
                        break;
                }
                off += (size_t)k;
        }
        pthread_mutex_unlock(&c->mu);
        return r;
}

static void send_cmd(struct attach_client *c, const struct attach_cmd *cmd)
{
        _cleanup_free_ char *line = attach_cmd_format(cmd);
        (void)send_line(c, line);
}

/* One line of the server within HELLO_MS into line (size bytes), read
 * byte by byte so that no byte of what follows is taken from the reader. */
static int read_line_now(struct attach_client *c, char *line, size_t size, size_t *ret_n,
                         char *err, size_t errlen)
{
        size_t n = 0;
        int64_t until = now_ms() + HELLO_MS;

        for (;;) {
                struct pollfd p = { .fd = c->fd, .events = POLLIN };
                int64_t left = until - now_ms();
                ssize_t k;

                if (left <= 0 || poll(&p, 1, (int)left) <= 0)
                        return errorf(-ETIMEDOUT, err, errlen, "the run did not answer within %d s",
                                      HELLO_MS / 1000);
                k = read(c->fd, line + n, 1);
                if (k <= 0)
                        return errorf(-ECONNRESET, err, errlen, "the run closed the connection");
                if (line[n] == '\n')
                        break;
                if (++n == size)
                        return errorf(-EBADMSG, err, errlen, "the run's line is too long");
        }
        *ret_n = n;
        return 0;
}

/* The server's first line: its hello (or a bye that says why not). */
static int read_hello(struct attach_client *c, char *err, size_t errlen)
{
        char line[4096];
        size_t n;
        struct attach_msg m;
        int r = read_line_now(c, line, sizeof(line), &n, err, errlen);

        if (r < 0)
                return r;
        if (attach_msg_parse(line, n, &m, NULL, 0) < 0 || m.type != ATTACH_MSG_HELLO) {
                /* a bye instead of a hello: say its reason */
                if (attach_msg_parse(line, n, &m, NULL, 0) == 0 && m.type == ATTACH_MSG_BYE)
                        return errorf(-ECONNREFUSED, err, errlen, "the run refused: %s", m.text);
                if (m.type == ATTACH_MSG_EVENT)
                        event_free(m.ev);
                return errorf(-EBADMSG, err, errlen, "the run did not say hello");
        }
        c->hello = m.hello;
        return 0;
}

/* The answer to our hello: the role line comes before the replay, so the
 * first screen already knows whether this client has the keys. */
static int read_role(struct attach_client *c, char *err, size_t errlen)
{
        char line[1024];
        size_t n;
        struct attach_msg m;
        int r = read_line_now(c, line, sizeof(line), &n, err, errlen);

        if (r < 0)
                return r;
        if (attach_msg_parse(line, n, &m, NULL, 0) == 0 && m.type == ATTACH_MSG_ROLE) {
                atomic_store(&c->control, m.control);
                return 0;
        }
        if (attach_msg_parse(line, n, &m, NULL, 0) == 0 && m.type == ATTACH_MSG_BYE)
                return errorf(-ECONNREFUSED, err, errlen, "the run refused: %s", m.text);
        if (m.type == ATTACH_MSG_EVENT)
                event_free(m.ev);
        return errorf(-EBADMSG, err, errlen, "the run did not say which role this session has");
}

int attach_client_open(const char *path, bool want_control, struct attach_client **ret, char *err,
                       size_t errlen)
{
        int fd = attach_connect(path);

        if (fd < 0)
                return errorf(fd, err, errlen, "cannot connect to %s: %s", path, strerror(-fd));
        return attach_client_open_fd(fd, want_control, ret, err, errlen);
}

int attach_client_open_fd(int fd, bool want_control, struct attach_client **ret, char *err,
                          size_t errlen)
{
        struct attach_client *c = xcalloc(1, sizeof(*c));
        struct attach_cmd hello = { .type = ATTACH_CMD_HELLO, .want_control = want_control };
        int r;

        c->stop_efd[0] = c->stop_efd[1] = -1;
        pthread_mutex_init(&c->mu, NULL);
        c->fd = fd;
        r = read_hello(c, err, errlen);
        if (r < 0)
                goto fail;
        if (pipe2(c->stop_efd, O_CLOEXEC) < 0 || queue_new(0, &c->q) < 0) {
                r = errorf(-errno, err, errlen, "cannot set up: %s", strerror(errno));
                goto fail;
        }
        {
                _cleanup_free_ char *line = attach_cmd_format(&hello);
                r = send_line(c, line);
        }
        if (r < 0) {
                r = errorf(r, err, errlen, "cannot talk to the run: %s", strerror(-r));
                goto fail;
        }
        r = read_role(c, err, errlen);
        if (r < 0)
                goto fail;
        r = pthread_create(&c->reader, NULL, reader_main, c);
        if (r != 0) {
                r = errorf(-r, err, errlen, "cannot start the reader: %s", strerror(r));
                goto fail;
        }
        c->reader_started = true;
        *ret = c;
        return 0;
fail:
        attach_client_free(c);
        return r;
}

void attach_client_free(struct attach_client *c)
{
        if (!c)
                return;
        if (c->fd >= 0 && !atomic_load(&c->detached)) {
                struct attach_cmd d = { .type = ATTACH_CMD_DETACH };
                atomic_store(&c->detached, true);
                send_cmd(c, &d);
        }
        if (c->reader_started) {
                (void)!write(c->stop_efd[1], "x", 1);
                pthread_join(c->reader, NULL);
        }
        if (c->fd >= 0)
                close(c->fd);
        if (c->stop_efd[0] >= 0)
                close(c->stop_efd[0]);
        if (c->stop_efd[1] >= 0)
                close(c->stop_efd[1]);
        queue_free(c->q);
        pthread_mutex_destroy(&c->mu);
        free(c);
}

int attach_client_fd(struct attach_client *c) { return queue_fd(c->q); }
struct event *attach_client_pop(struct attach_client *c) { return queue_pop(c->q); }

bool attach_client_closed(struct attach_client *c)
{
        struct queue_stats st;

        if (!queue_is_closed(c->q))
                return false;
        queue_get_stats(c->q, &st);
        return st.pending_state + st.pending_logs == 0;
}

void attach_client_send(struct attach_client *c, struct event *ev)
{
        struct attach_cmd cmd = { 0 };

        if (!ev)
                return;
        switch (ev->type) {
        case EV_CANCEL:
                cmd.type = ATTACH_CMD_CANCEL;
                break;
        case EV_ANSWER:
                cmd.type = ATTACH_CMD_ANSWER;
                cmd.prompt_id = ev->answer.prompt_id;
                cmd.choice = ev->answer.choice;
                break;
        case EV_CREDENTIALS_SAVED:
                cmd.type = ATTACH_CMD_CREDENTIALS_SAVED;
                break;
        case EV_SSH_PORT_CONFIRMED:
                cmd.type = ATTACH_CMD_SSH_PORT_CONFIRMED;
                break;
        default:
                event_free(ev);
                return;
        }
        event_free(ev);
        if (cmd.type == ATTACH_CMD_ANSWER && cmd.choice == CHOICE_NONE)
                return;
        send_cmd(c, &cmd);
}

void attach_client_take(struct attach_client *c)
{
        struct attach_cmd cmd = { .type = ATTACH_CMD_TAKE };
        send_cmd(c, &cmd);
}

void attach_client_detach(struct attach_client *c)
{
        struct attach_cmd cmd = { .type = ATTACH_CMD_DETACH };

        if (atomic_exchange(&c->detached, true))
                return;
        send_cmd(c, &cmd);
        shutdown(c->fd, SHUT_WR);
}

const struct attach_hello *attach_client_hello(struct attach_client *c) { return &c->hello; }
bool attach_client_control(struct attach_client *c) { return atomic_load(&c->control); }
bool attach_client_live(struct attach_client *c) { return atomic_load(&c->live); }

bool attach_client_lost(struct attach_client *c, char *why, size_t size)
{
        if (!atomic_load(&c->lost))
                return false;
        pthread_mutex_lock(&c->mu);
        if (why && size)
                strscpy(why, size, c->why);
        pthread_mutex_unlock(&c->mu);
        return true;
}
