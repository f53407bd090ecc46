/* attach_server.c — see attach_server.h.
 *
 * Lines are shared: each serialized event is one refcounted struct line,
 * referenced by the history and by every client queue it waits in, and
 * freed (a credentials line: wiped, being a secret) with its last
 * reference. Everything the engine thread and the server thread share is
 * under one mutex; sends are non-blocking, so the mutex is never held
 * across a wait. Commands are collected under the mutex and handed to the
 * callback after it is released. */
#include "attach_server.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "secret.h"
#include "util.h"

#define SOCK_PREFIX "attach-"
#define SOCK_SUFFIX ".sock"
#define PROBE_MS 2000
#define STOP_DRAIN_MS 2000

struct line {
        unsigned refs;
        size_t len;
        char *data;
        struct secret *sec;      /* the credentials line lives here, not in data */
};

enum hist_kind { H_STATE, H_PROMPT, H_CREDS };

struct hist {
        uint64_t seq;
        enum hist_kind kind;
        int prompt_id;
        struct line *line;       /* NULL for H_CREDS: the kept line is used */
};

struct client {
        int fd;
        uint64_t order;
        bool hello, control, want_control;
        bool owner;              /* the starting terminal's (attach_server_start_owned) */
        bool dead;
        char why[128];           /* for the bye line */
        int64_t connected_ms;
        int64_t since_ms;        /* the last byte sent, or when lines began to wait */
        struct line **q;
        size_t q_head, q_n, q_cap;
        size_t q_off;            /* bytes of q[q_head] already sent */
        size_t q_bytes;
        char in[ATTACH_CMD_MAX + 1];
        size_t in_len;
};

struct pending {
        struct attach_cmd cmd;
};

struct attach_server {
        pthread_mutex_t mu;
        pthread_t thread;
        bool running;
        int listen_fd, wake_fd;
        char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
        attach_command_fn on_command;
        void *userdata;
        bool stopping;
        char stop_why[256];

        uint64_t seq, order;
        struct hist *states;
        size_t n_states, cap_states;
        struct hist logs[ATTACH_LOG_LINES];
        size_t log_start, log_n;
        struct hist progress;    /* line NULL until the first */

        int prompt_id;           /* pending prompt, 0 = none */
        struct line *creds;      /* kept credentials line, or NULL */
        uint64_t creds_seq;

        char session_id[64], mode[16];
        bool ended;
        int exit_code;
        struct line *end_line;   /* the session end, once published */
        bool end_delivered;      /* ... and sent whole to a controller */

        struct client *clients[ATTACH_MAX_CLIENTS];
        size_t n_clients;
};

/* ---- lines --------------------------------------------------------------- */

static struct line *line_take(char *data)
{
        struct line *l;

        if (!data)
                return NULL;
        l = xcalloc(1, sizeof(*l));
        l->refs = 1;
        l->data = data;
        l->len = strlen(data);
        return l;
}

static struct line *line_ref(struct line *l)
{
        if (l)
                l->refs++;
        return l;
}

static void line_unref(struct line *l)
{
        if (!l || --l->refs > 0)
                return;
        if (l->sec)
                secret_free(l->sec);
        else
                free(l->data);
        free(l);
}

/* ---- clients ------------------------------------------------------------- */

static void client_drop(struct client *c, const char *why)
{
        if (c->dead)
                return;
        c->dead = true;
        strscpy(c->why, sizeof(c->why), why ? why : "");
}

/* Queues l for c, or drops c when it has fallen too far behind. */
static void client_push(struct client *c, struct line *l)
{
        if (!l || c->dead)
                return;
        if (c->q_bytes + l->len > ATTACH_CLIENT_BACKLOG) {
                client_drop(c, "this client fell too far behind the run");
                return;
        }
        if (c->q_n == c->q_cap) {
                size_t cap = c->q_cap ? c->q_cap * 2 : 256;
                struct line **v = xcalloc(cap, sizeof(*v));
                for (size_t i = 0; i < c->q_n; i++)
                        v[i] = c->q[(c->q_head + i) % c->q_cap];
                free(c->q);
                c->q = v;
                c->q_head = 0;
                c->q_cap = cap;
        }
        if (c->q_n == 0)
                c->since_ms = now_ms();
        c->q[(c->q_head + c->q_n) % c->q_cap] = line_ref(l);
        c->q_n++;
        c->q_bytes += l->len;
}

static void client_push_new(struct client *c, char *data)
{
        struct line *l = line_take(data);
        client_push(c, l);
        line_unref(l);
}

/* Sends what c can take now; drops it on an error. */
static void client_flush(struct attach_server *s, struct client *c)
{
        while (!c->dead && c->q_n > 0) {
                struct line *l = c->q[c->q_head];
                ssize_t k = send(c->fd, l->data + c->q_off, l->len - c->q_off,
                                 MSG_DONTWAIT | MSG_NOSIGNAL);
                if (k < 0) {
                        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
                                return;
                        client_drop(c, NULL);
                        return;
                }
                c->since_ms = now_ms();
                c->q_off += (size_t)k;
                if (c->q_off < l->len)
                        continue;
                c->q_bytes -= l->len;
                if (l == s->end_line && c->control)
                        s->end_delivered = true;
                line_unref(l);
                c->q_head = (c->q_head + 1) % c->q_cap;
                c->q_n--;
                c->q_off = 0;
        }
}

static void client_free(struct client *c)
{
        if (c->why[0] && c->q_off == 0 && c->fd >= 0) {
                /* a line of its own, never into the middle of another */
                _cleanup_free_ char *bye = attach_bye_line(c->why);
                (void)!send(c->fd, bye, strlen(bye), MSG_DONTWAIT | MSG_NOSIGNAL);
        }
        while (c->q_n > 0) {
                line_unref(c->q[c->q_head]);
                c->q_head = (c->q_head + 1) % c->q_cap;
                c->q_n--;
        }
        free(c->q);
        if (c->fd >= 0)
                close(c->fd);
        free(c);
}

static struct client *controller(struct attach_server *s)
{
        for (size_t i = 0; i < s->n_clients; i++)
                if (s->clients[i]->control && !s->clients[i]->dead)
                        return s->clients[i];
        return NULL;
}

static struct line *prompt_line(struct attach_server *s)
{
        for (size_t i = s->n_states; i-- > 0;)
                if (s->states[i].kind == H_PROMPT && s->states[i].prompt_id == s->prompt_id)
                        return s->states[i].line;
        return NULL;
}

/* c gets the keys: the role line, then what waits for whoever has them. */
static void give_control(struct attach_server *s, struct client *c)
{
        struct line *p = s->prompt_id ? prompt_line(s) : NULL;

        c->control = true;
        client_push_new(c, attach_role_line(true));
        if (p)
                client_push(c, p);
        if (s->creds)
                client_push(c, s->creds);
}

/* The starting terminal's connection has not said hello yet: the keys
 * wait for it. */
static bool owner_pending(struct attach_server *s)
{
        for (size_t i = 0; i < s->n_clients; i++)
                if (s->clients[i]->owner && !s->clients[i]->hello && !s->clients[i]->dead)
                        return true;
        return false;
}

/* After the controller left: the oldest client that asked for the keys. */
static void promote(struct attach_server *s)
{
        struct client *best = NULL;

        if (controller(s) || owner_pending(s))
                return;
        for (size_t i = 0; i < s->n_clients; i++) {
                struct client *c = s->clients[i];
                if (!c->dead && c->hello && c->want_control && (!best || c->order < best->order))
                        best = c;
        }
        if (best)
                give_control(s, best);
}

static struct hist *hist_at(struct attach_server *s, size_t log_i)
{
        return &s->logs[(s->log_start + log_i) % ATTACH_LOG_LINES];
}

/* The run so far, in order, for a client that just said hello. */
static void replay(struct attach_server *s, struct client *c)
{
        size_t si = 0, li = 0;
        bool progress_sent = s->progress.line == NULL;

        client_push_new(c, attach_role_line(c->control));
        for (;;) {
                uint64_t ss = si < s->n_states ? s->states[si].seq : UINT64_MAX;
                uint64_t ls = li < s->log_n ? hist_at(s, li)->seq : UINT64_MAX;
                uint64_t ps = progress_sent ? UINT64_MAX : s->progress.seq;

                if (ss == UINT64_MAX && ls == UINT64_MAX && ps == UINT64_MAX)
                        break;
                if (ps < ss && ps < ls) {
                        client_push(c, s->progress.line);
                        progress_sent = true;
                } else if (ls < ss) {
                        client_push(c, hist_at(s, li++)->line);
                } else {
                        struct hist *h = &s->states[si++];
                        if (h->kind == H_STATE)
                                client_push(c, h->line);
                        else if (h->kind == H_PROMPT && c->control && h->prompt_id == s->prompt_id)
                                client_push(c, h->line);
                        else if (h->kind == H_CREDS && c->control && s->creds)
                                client_push(c, s->creds);
                }
        }
        client_push_new(c, attach_replay_end_line());
}

static void fill_hello(struct attach_server *s, struct attach_hello *h)
{
        *h = (struct attach_hello){
                .proto = ATTACH_PROTO_VERSION,
                .pid = getpid(),
                .ended = s->ended,
                .exit_code = s->exit_code,
                .credentials_waiting = s->creds != NULL,
                .has_controller = controller(s) != NULL,
        };
        strscpy(h->version, sizeof(h->version), VPSP_VERSION);
        strscpy(h->session_id, sizeof(h->session_id), s->session_id);
        strscpy(h->mode, sizeof(h->mode), s->mode);
}

/* One complete command line of c; commands for the callback go to out. */
static void client_command(struct attach_server *s, struct client *c, const char *line, size_t len,
                           struct pending **out, size_t *n_out)
{
        struct attach_cmd cmd;
        char err[160];

        if (attach_cmd_parse(line, len, &cmd, err, sizeof(err)) < 0) {
                char why[200];
                snprintf(why, sizeof(why), "not a command (%s)", err);
                client_drop(c, why);
                return;
        }
        if (!c->hello) {
                if (cmd.type != ATTACH_CMD_HELLO) {
                        client_drop(c, "the first line must be the hello command");
                        return;
                }
                c->hello = true;
                c->want_control = cmd.want_control;
                if (cmd.want_control && c->owner) {
                        /* the terminal that started the run has the keys
                         * until it leaves, whoever connected first */
                        struct client *old = controller(s);
                        if (old && old != c) {
                                old->control = false;
                                client_push_new(old, attach_role_line(false));
                        }
                        c->control = true;
                } else if (cmd.want_control && !controller(s) && !owner_pending(s)) {
                        c->control = true;
                }
                replay(s, c);
                return;
        }
        switch (cmd.type) {
        case ATTACH_CMD_HELLO:
                client_drop(c, "hello twice");
                return;
        case ATTACH_CMD_DETACH:
                client_drop(c, NULL);
                return;
        case ATTACH_CMD_TAKE: {
                struct client *old = controller(s);
                if (old == c)
                        return;
                if (old) {
                        old->control = false;
                        client_push_new(old, attach_role_line(false));
                }
                c->want_control = true;
                give_control(s, c);
                return;
        }
        default:
                break;
        }
        if (!c->control) {
                client_push_new(c, attach_refused_line(attach_cmd_name(cmd.type),
                                                       "another session has the keys; take them first"));
                return;
        }
        *out = xrealloc(*out, (*n_out + 1) * sizeof(**out));
        (*out)[(*n_out)++].cmd = cmd;
}

/* Reads what c sent; complete lines become commands. */
static void client_read(struct attach_server *s, struct client *c, struct pending **out,
                        size_t *n_out)
{
        for (;;) {
                ssize_t k = recv(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len, MSG_DONTWAIT);
                char *nl;

                if (k == 0) {
                        client_drop(c, NULL);
                        return;
                }
                if (k < 0) {
                        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
                                client_drop(c, NULL);
                        return;
                }
                c->in_len += (size_t)k;
                while (!c->dead && (nl = memchr(c->in, '\n', c->in_len))) {
                        size_t n = (size_t)(nl - c->in);
                        client_command(s, c, c->in, n, out, n_out);
                        memmove(c->in, nl + 1, c->in_len - n - 1);
                        c->in_len -= n + 1;
                }
                if (c->dead)
                        return;
                if (c->in_len == sizeof(c->in)) {
                        client_drop(c, "a command line is too long");
                        return;
                }
        }
}

/* Checks the peer's uid: root, or the user this program runs as. */
static int peer_ok(int fd)
{
        struct ucred cr;
        socklen_t len = sizeof(cr);

        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0)
                return -errno;
        return cr.uid == 0 || cr.uid == geteuid() ? 0 : -EPERM;
}

static void accept_clients(struct attach_server *s)
{
        for (;;) {
                int fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
                struct client *c;
                struct attach_hello h;

                if (fd < 0)
                        return;
                if (peer_ok(fd) < 0) {
                        log_write(LOG_WARNING, "attach", "refused a client of another user on %s", s->path);
                        close(fd);
                        continue;
                }
                if (s->n_clients == ATTACH_MAX_CLIENTS) {
                        _cleanup_free_ char *bye = attach_bye_line("too many clients are attached");
                        (void)!send(fd, bye, strlen(bye), MSG_DONTWAIT | MSG_NOSIGNAL);
                        close(fd);
                        continue;
                }
                c = xcalloc(1, sizeof(*c));
                c->fd = fd;
                c->order = ++s->order;
                c->connected_ms = c->since_ms = now_ms();
                s->clients[s->n_clients++] = c;
                fill_hello(s, &h);
                client_push_new(c, attach_hello_line(&h));
        }
}

/* Frees the dead clients; the keys pass on when their holder left. */
static void reap(struct attach_server *s)
{
        bool lost_control = false;
        size_t k = 0;

        for (size_t i = 0; i < s->n_clients; i++) {
                struct client *c = s->clients[i];
                if (c->dead) {
                        lost_control |= c->control || (c->owner && !c->hello);
                        client_free(c);
                } else
                        s->clients[k++] = c;
        }
        s->n_clients = k;
        if (lost_control)
                promote(s);
}

/* Drops clients that did not say hello, or that take nothing while lines wait. */
static void check_timeouts(struct attach_server *s, int64_t now)
{
        for (size_t i = 0; i < s->n_clients; i++) {
                struct client *c = s->clients[i];
                if (!c->hello && now - c->connected_ms > ATTACH_HELLO_MS)
                        client_drop(c, "no hello command came");
                else if (c->q_n > 0 && now - c->since_ms > ATTACH_STALL_MS)
                        client_drop(c, "this client stopped reading");
        }
}

static void *server_main(void *userdata)
{
        struct attach_server *s = userdata;

        for (;;) {
                struct pollfd p[2 + ATTACH_MAX_CLIENTS];
                struct pending *cmds = NULL;
                size_t n_cmds = 0, np = 2;
                uint64_t junk;

                pthread_mutex_lock(&s->mu);
                if (s->stopping) {
                        pthread_mutex_unlock(&s->mu);
                        break;
                }
                p[0] = (struct pollfd){ .fd = s->listen_fd, .events = POLLIN };
                p[1] = (struct pollfd){ .fd = s->wake_fd, .events = POLLIN };
                for (size_t i = 0; i < s->n_clients; i++)
                        p[np++] = (struct pollfd){ .fd = s->clients[i]->fd,
                                                   .events = (short)(POLLIN | (s->clients[i]->q_n ? POLLOUT : 0)) };
                pthread_mutex_unlock(&s->mu);

                if (poll(p, np, 1000) < 0 && errno != EINTR)
                        break;

                pthread_mutex_lock(&s->mu);
                if (p[1].revents & POLLIN)
                        (void)!read(s->wake_fd, &junk, sizeof(junk));
                /* clients keep their index while the mutex was released:
                 * only this thread adds or removes them */
                for (size_t i = 2; i < np; i++) {
                        struct client *c = s->clients[i - 2];
                        if (p[i].revents & (POLLIN | POLLHUP | POLLERR))
                                client_read(s, c, &cmds, &n_cmds);
                }
                for (size_t i = 0; i < s->n_clients; i++)
                        client_flush(s, s->clients[i]);
                check_timeouts(s, now_ms());
                reap(s);
                if (p[0].revents & POLLIN)
                        accept_clients(s);
                for (size_t i = 0; i < s->n_clients; i++)
                        client_flush(s, s->clients[i]);
                pthread_mutex_unlock(&s->mu);

                for (size_t i = 0; i < n_cmds; i++)
                        if (s->on_command)
                                s->on_command(s->userdata, &cmds[i].cmd);
                free(cmds);
        }
        return NULL;
}

/* ---- the directory and the socket ---------------------------------------- */

int attach_dir_open(const char *dir, bool create, char *err, size_t errlen)
{
        struct stat st;
        int fd, r;

        fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0 && errno == ENOENT && create) {
                char parent[PATH_MAX];
                char *slash;

                if (strscpy(parent, sizeof(parent), dir) < 0)
                        return errorf(-ENAMETOOLONG, err, errlen, "%s is too long", dir);
                slash = strrchr(parent, '/');
                if (slash && slash != parent) {
                        *slash = '\0';
                        r = mkdir_p(parent, 0755);
                        if (r < 0)
                                return errorf(r, err, errlen, "cannot create %s: %s", parent, strerror(-r));
                }
                if (mkdir(dir, 0700) < 0 && errno != EEXIST)
                        return errorf(-errno, err, errlen, "cannot create %s: %s", dir, strerror(errno));
                fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        }
        if (fd < 0) {
                r = -errno;
                if (r == -ENOENT)
                        return errorf(r, err, errlen, "%s does not exist", dir);
                return errorf(r == -ELOOP ? -EPERM : r, err, errlen,
                              "cannot open %s: %s (it must be a directory, not a link)", dir,
                              strerror(-r));
        }
        if (fstat(fd, &st) < 0) {
                r = -errno;
                close(fd);
                return errorf(r, err, errlen, "cannot look at %s: %s", dir, strerror(-r));
        }
        if (st.st_uid != geteuid() || (st.st_mode & (S_IWGRP | S_IWOTH))) {
                close(fd);
                return errorf(-EPERM, err, errlen,
                              "%s must belong to uid %u and be writable by it alone (it is uid %u, "
                              "mode %04o); remove it, or point VPS_PROVISION_RUN_DIR at a directory "
                              "only root can write",
                              dir, (unsigned)geteuid(), (unsigned)st.st_uid,
                              (unsigned)(st.st_mode & 07777));
        }
        return fd;
}

static int sockaddr_of(const char *path, struct sockaddr_un *sa)
{
        *sa = (struct sockaddr_un){ .sun_family = AF_UNIX };
        return strscpy(sa->sun_path, sizeof(sa->sun_path), path) < 0 ? -ENAMETOOLONG : 0;
}

int attach_connect(const char *path)
{
        struct sockaddr_un sa;
        int fd, r;

        r = sockaddr_of(path, &sa);
        if (r < 0)
                return r;
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
                r = -errno;
                close(fd);
                return r;
        }
        r = peer_ok(fd);
        if (r < 0) {
                close(fd);
                return r;
        }
        return fd;
}

/* Reads the server's hello from fd within PROBE_MS. */
static int read_hello(int fd, struct attach_hello *ret)
{
        char buf[2048];
        size_t n = 0;
        int64_t deadline = now_ms() + PROBE_MS;

        while (n < sizeof(buf) - 1) {
                struct pollfd p = { .fd = fd, .events = POLLIN };
                int64_t left = deadline - now_ms();
                char *nl;
                ssize_t k;

                if (left <= 0 || poll(&p, 1, (int)left) <= 0)
                        return -ETIMEDOUT;
                k = read(fd, buf + n, sizeof(buf) - 1 - n);
                if (k <= 0)
                        return k == 0 ? -ECONNRESET : -errno;
                n += (size_t)k;
                nl = memchr(buf, '\n', n);
                if (nl) {
                        struct attach_msg m;
                        if (attach_msg_parse(buf, (size_t)(nl - buf), &m, NULL, 0) < 0 ||
                            m.type != ATTACH_MSG_HELLO) {
                                if (m.type == ATTACH_MSG_EVENT)
                                        event_free(m.ev);
                                return -EBADMSG;
                        }
                        *ret = m.hello;
                        return 0;
                }
        }
        return -EBADMSG;
}

static bool sock_name(const char *name)
{
        size_t n = strlen(name), p = strlen(SOCK_PREFIX), q = strlen(SOCK_SUFFIX);
        return n > p + q && startswith(name, SOCK_PREFIX) && strcmp(name + n - q, SOCK_SUFFIX) == 0;
}

static int peer_cmp(const void *a, const void *b)
{
        const struct attach_peer *x = a, *y = b;
        if (x->hello.ended != y->hello.ended)
                return x->hello.ended ? 1 : -1;
        return -strcmp(x->hello.session_id, y->hello.session_id);
}

int attach_list(const char *dir, struct attach_peer **ret, size_t *ret_n)
{
        struct attach_peer *v = NULL;
        size_t n = 0;
        struct dirent *de;
        DIR *d;
        int dfd;

        dfd = attach_dir_open(dir, false, NULL, 0);
        if (dfd < 0)
                return dfd;
        d = fdopendir(dfd);
        if (!d) {
                close(dfd);
                return -errno;
        }
        while ((de = readdir(d))) {
                struct attach_peer peer = { 0 };
                struct stat before, after;
                int fd, r;

                if (!sock_name(de->d_name))
                        continue;
                if (fstatat(dfd, de->d_name, &before, AT_SYMLINK_NOFOLLOW) < 0 ||
                    !S_ISSOCK(before.st_mode) || before.st_uid != geteuid())
                        continue;
                if (snprintf(peer.path, sizeof(peer.path), "%s/%s", dir, de->d_name) >=
                    (int)sizeof(peer.path))
                        continue;
                fd = attach_connect(peer.path);
                if (fd == -ECONNREFUSED) {
                        /* nobody listens: its server died; unless a new one
                         * took the name in between */
                        if (fstatat(dfd, de->d_name, &after, AT_SYMLINK_NOFOLLOW) == 0 &&
                            after.st_ino == before.st_ino && after.st_dev == before.st_dev)
                                (void)unlinkat(dfd, de->d_name, 0);
                        continue;
                }
                if (fd < 0)
                        continue;
                r = read_hello(fd, &peer.hello);
                close(fd);
                if (r < 0)
                        continue;
                v = xrealloc(v, (n + 1) * sizeof(*v));
                v[n++] = peer;
        }
        closedir(d);
        if (n > 1)
                qsort(v, n, sizeof(*v), peer_cmp);
        *ret = v;
        *ret_n = n;
        return 0;
}

int attach_server_start(const char *dir, attach_command_fn on_command, void *userdata,
                        struct attach_server **ret, char *err, size_t errlen)
{
        return attach_server_start_owned(dir, -1, on_command, userdata, ret, err, errlen);
}

int attach_server_start_owned(const char *dir, int owner_fd, attach_command_fn on_command,
                              void *userdata, struct attach_server **ret, char *err, size_t errlen)
{
        struct attach_server *s;
        struct sockaddr_un sa;
        char tmp[sizeof(sa.sun_path)];
        struct attach_peer *peers = NULL;
        size_t n_peers = 0;
        int dfd, r;

        dfd = attach_dir_open(dir, true, err, errlen);
        if (dfd < 0)
                return dfd;
        close(dfd);
        /* removes the stale sockets of dead runs */
        if (attach_list(dir, &peers, &n_peers) == 0)
                free(peers);

        s = xcalloc(1, sizeof(*s));
        s->listen_fd = s->wake_fd = -1;
        s->on_command = on_command;
        s->userdata = userdata;
        pthread_mutex_init(&s->mu, NULL);
        if (snprintf(s->path, sizeof(s->path), "%s/" SOCK_PREFIX "%d" SOCK_SUFFIX, dir,
                     (int)getpid()) >= (int)sizeof(s->path) ||
            snprintf(tmp, sizeof(tmp), "%s.new", s->path) >= (int)sizeof(tmp)) {
                r = errorf(-ENAMETOOLONG, err, errlen, "the socket path in %s is too long for a UNIX socket "
                           "(at most %zu bytes); point VPS_PROVISION_RUN_DIR at a shorter path",
                           dir, sizeof(sa.sun_path) - 1);
                goto fail;
        }
        s->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        s->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (s->listen_fd < 0 || s->wake_fd < 0) {
                r = errorf(-errno, err, errlen, "cannot make a socket: %s", strerror(errno));
                goto fail;
        }
        (void)unlink(tmp);
        (void)sockaddr_of(tmp, &sa);
        if (bind(s->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || chmod(tmp, 0600) < 0 ||
            listen(s->listen_fd, 16) < 0 || rename(tmp, s->path) < 0) {
                r = errorf(-errno, err, errlen, "cannot serve %s: %s", s->path, strerror(errno));
                (void)unlink(tmp);
                goto fail;
        }
        if (owner_fd >= 0) {
                /* a client before anyone can connect: no other one can
                 * get the keys first */
                struct client *c = xcalloc(1, sizeof(*c));
                struct attach_hello h;
                int fl = fcntl(owner_fd, F_GETFL);

                if (fl >= 0)
                        (void)fcntl(owner_fd, F_SETFL, fl | O_NONBLOCK);
                c->fd = owner_fd;
                c->owner = true;
                c->order = ++s->order;
                c->connected_ms = c->since_ms = now_ms();
                s->clients[s->n_clients++] = c;
                fill_hello(s, &h);
                client_push_new(c, attach_hello_line(&h));
        }
        r = pthread_create(&s->thread, NULL, server_main, s);
        if (r != 0) {
                /* the owner's fd stays the caller's */
                while (s->n_clients > 0) {
                        struct client *c = s->clients[--s->n_clients];
                        c->fd = -1;
                        client_free(c);
                }
                (void)unlink(s->path);
                r = errorf(-r, err, errlen, "cannot start the attach thread: %s", strerror(r));
                goto fail;
        }
        s->running = true;
        *ret = s;
        return 0;
fail:
        if (s->listen_fd >= 0)
                close(s->listen_fd);
        if (s->wake_fd >= 0)
                close(s->wake_fd);
        pthread_mutex_destroy(&s->mu);
        free(s);
        return r;
}

static void wake(struct attach_server *s)
{
        uint64_t one = 1;
        (void)!write(s->wake_fd, &one, sizeof(one));
}

void attach_server_stop(struct attach_server *s, const char *why)
{
        if (!s)
                return;
        if (s->running) {
                pthread_mutex_lock(&s->mu);
                s->stopping = true;
                pthread_mutex_unlock(&s->mu);
                wake(s);
                pthread_join(s->thread, NULL);
        }
        (void)unlink(s->path);
        close(s->listen_fd);
        close(s->wake_fd);
        /* what is queued goes out first, for as long as the clients take it */
        for (int64_t until = now_ms() + STOP_DRAIN_MS; now_ms() < until;) {
                struct pollfd p[ATTACH_MAX_CLIENTS];
                size_t np = 0;
                for (size_t i = 0; i < s->n_clients; i++) {
                        client_flush(s, s->clients[i]);
                        if (!s->clients[i]->dead && s->clients[i]->q_n > 0)
                                p[np++] = (struct pollfd){ .fd = s->clients[i]->fd, .events = POLLOUT };
                }
                if (np == 0 || poll(p, np, 100) < 0)
                        break;
        }
        for (size_t i = 0; i < s->n_clients; i++) {
                struct client *c = s->clients[i];
                if (!c->dead && why)
                        client_drop(c, why);
                client_free(c);
        }
        for (size_t i = 0; i < s->n_states; i++)
                line_unref(s->states[i].line);
        free(s->states);
        for (size_t i = 0; i < s->log_n; i++)
                line_unref(hist_at(s, i)->line);
        line_unref(s->progress.line);
        line_unref(s->creds);
        line_unref(s->end_line);
        pthread_mutex_destroy(&s->mu);
        free(s);
}

const char *attach_server_path(const struct attach_server *s)
{
        return s ? s->path : NULL;
}

/* ---- from the engine ------------------------------------------------------ */

static void add_state(struct attach_server *s, enum hist_kind kind, int prompt_id, struct line *l,
                      uint64_t seq)
{
        if (s->n_states == s->cap_states) {
                s->cap_states = s->cap_states ? s->cap_states * 2 : 64;
                s->states = xrealloc(s->states, s->cap_states * sizeof(*s->states));
        }
        s->states[s->n_states++] = (struct hist){ .seq = seq, .kind = kind, .prompt_id = prompt_id,
                                                  .line = line_ref(l) };
}

void attach_server_publish(struct attach_server *s, const struct event *ev)
{
        struct line *l;
        uint64_t seq;

        if (!s || !ev || ev->type == EV_CREDENTIALS)
                return;
        pthread_mutex_lock(&s->mu);
        seq = ++s->seq;
        l = line_take(attach_event_line(ev, seq));
        if (!l) {
                pthread_mutex_unlock(&s->mu);
                return;
        }
        switch (ev->type) {
        case EV_LOG:
                if (s->log_n == ATTACH_LOG_LINES) {
                        line_unref(s->logs[s->log_start].line);
                        s->log_start = (s->log_start + 1) % ATTACH_LOG_LINES;
                        s->log_n--;
                }
                s->logs[(s->log_start + s->log_n++) % ATTACH_LOG_LINES] =
                        (struct hist){ .seq = seq, .line = line_ref(l) };
                break;
        case EV_PROGRESS:
                line_unref(s->progress.line);
                s->progress = (struct hist){ .seq = seq, .line = line_ref(l) };
                break;
        case EV_PROMPT:
                s->prompt_id = ev->prompt.id;
                add_state(s, H_PROMPT, ev->prompt.id, l, seq);
                break;
        case EV_SESSION_START:
                strscpy(s->session_id, sizeof(s->session_id), ev->session.session_id);
                strscpy(s->mode, sizeof(s->mode), session_mode_name(ev->session.mode));
                add_state(s, H_STATE, 0, l, seq);
                break;
        case EV_SESSION_END:
                s->ended = true;
                s->exit_code = ev->session_end.exit_code;
                line_unref(s->end_line);
                s->end_line = line_ref(l);
                add_state(s, H_STATE, 0, l, seq);
                break;
        default:
                add_state(s, H_STATE, 0, l, seq);
                break;
        }
        for (size_t i = 0; i < s->n_clients; i++) {
                struct client *c = s->clients[i];
                if (!c->hello)
                        continue;
                if (ev->type == EV_PROMPT && !c->control)
                        continue;
                client_push(c, l);
        }
        line_unref(l);
        pthread_mutex_unlock(&s->mu);
        wake(s);
}

void attach_server_keep_credentials(struct attach_server *s, struct event *creds)
{
        struct secret *sec = NULL;
        struct line *l;
        struct client *c;

        if (!s) {
                event_free(creds);
                return;
        }
        pthread_mutex_lock(&s->mu);
        s->creds_seq = ++s->seq;
        if (attach_credentials_line(creds, s->creds_seq, &sec) < 0) {
                pthread_mutex_unlock(&s->mu);
                event_free(creds);
                return;
        }
        event_free(creds);
        l = xcalloc(1, sizeof(*l));
        l->refs = 1;
        l->sec = sec;
        l->data = secret_buffer(sec);
        l->len = strlen(l->data);
        line_unref(s->creds);
        s->creds = l;
        add_state(s, H_CREDS, 0, NULL, s->creds_seq);
        c = controller(s);
        if (c && c->hello)
                client_push(c, l);
        pthread_mutex_unlock(&s->mu);
        wake(s);
}

void attach_server_drop_credentials(struct attach_server *s)
{
        if (!s)
                return;
        pthread_mutex_lock(&s->mu);
        line_unref(s->creds);
        s->creds = NULL;
        pthread_mutex_unlock(&s->mu);
}

void attach_server_prompt_done(struct attach_server *s, int prompt_id)
{
        if (!s)
                return;
        pthread_mutex_lock(&s->mu);
        if (s->prompt_id == prompt_id)
                s->prompt_id = 0;
        pthread_mutex_unlock(&s->mu);
}

bool attach_server_has_controller(struct attach_server *s)
{
        bool r;

        if (!s)
                return false;
        pthread_mutex_lock(&s->mu);
        r = controller(s) != NULL;
        pthread_mutex_unlock(&s->mu);
        return r;
}

bool attach_server_end_delivered(struct attach_server *s)
{
        bool r;

        if (!s)
                return false;
        pthread_mutex_lock(&s->mu);
        r = s->end_delivered;
        pthread_mutex_unlock(&s->mu);
        return r;
}

size_t attach_server_clients(struct attach_server *s)
{
        size_t n;

        pthread_mutex_lock(&s->mu);
        n = s->n_clients;
        pthread_mutex_unlock(&s->mu);
        return n;
}
