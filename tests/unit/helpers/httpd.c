/* httpd.c — loopback HTTP server for tests (see httpd.h).
 *
 * DESIGN: an accept thread polls the listening socket and a wake-up pipe;
 * each accepted connection gets a thread that reads one request head,
 * answers it according to its route (or a file under root) and closes.
 * Stop: write to the wake-up pipe (every poll() in the server watches its
 * read end), join the accept thread and then every connection thread. */
#include "httpd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

struct route {
        struct httpd_route r;
        char *path, *location;
        void *body;
        unsigned hits;
};

struct conn {
        struct httpd *h;
        int fd;
        pthread_t thread;
        struct conn *next;
};

struct httpd {
        int lfd;
        int wake[2];
        unsigned port;
        char addr[INET_ADDRSTRLEN];
        char *root;
        pthread_t accept_thread;
        pthread_mutex_t lock;
        struct route *routes;
        size_t n_routes;
        struct conn *conns;
        char *log;
        size_t log_len;
        unsigned active, max_active;
        size_t rate;
};

static void *xalloc(size_t n)
{
        void *p = calloc(1, n ? n : 1);

        if (!p)
                abort();
        return p;
}

static char *dupstr(const char *s)
{
        return s ? strcpy(xalloc(strlen(s) + 1), s) : NULL;
}

static bool stopping(struct httpd *h)
{
        struct pollfd p = { .fd = h->wake[0], .events = POLLIN };

        return poll(&p, 1, 0) > 0;
}

/* Sleeps ms or until the server stops; false when stopping. */
static bool nap(struct httpd *h, unsigned ms)
{
        struct pollfd p = { .fd = h->wake[0], .events = POLLIN };

        return poll(&p, 1, (int)ms) == 0;
}

static bool send_all(int fd, const void *data, size_t len)
{
        const char *p = data;

        while (len > 0) {
                ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return false;
                p += n;
                len -= (size_t)n;
        }
        return true;
}

static void log_request(struct httpd *h, const char *method, const char *path, const char *range)
{
        char line[1200];
        int n = snprintf(line, sizeof(line), "%s %s%s%s\n", method, path, range ? " range=" : "",
                         range ? range : "");

        if (n < 0)
                return;
        if ((size_t)n >= sizeof(line))
                n = (int)sizeof(line) - 1;
        h->log = realloc(h->log, h->log_len + (size_t)n + 1);
        if (!h->log)
                abort();
        memcpy(h->log + h->log_len, line, (size_t)n + 1);
        h->log_len += (size_t)n;
}

static void send_status(int fd, int status, const char *extra)
{
        char head[1024];
        const char *reason = status == 404 ? "Not Found" : status == 503 ? "Service Unavailable" :
                             status == 302 ? "Found" : status == 301 ? "Moved Permanently" :
                             status == 416 ? "Range Not Satisfiable" : status == 400 ? "Bad Request" :
                             "Status";
        int n = snprintf(head, sizeof(head),
                         "HTTP/1.1 %d %s\r\nContent-Length: 0\r\nConnection: close\r\n%s\r\n",
                         status, reason, extra ? extra : "");

        if (n > 0 && (size_t)n < sizeof(head))
                (void)send_all(fd, head, (size_t)n);
}

/* Reads the request head (up to the blank line), at most 16 KiB. */
static bool read_head(struct httpd *h, int fd, char *buf, size_t size)
{
        size_t len = 0;

        while (len + 1 < size) {
                struct pollfd p[2] = { { .fd = fd, .events = POLLIN }, { .fd = h->wake[0], .events = POLLIN } };
                ssize_t n;

                if (poll(p, 2, 10000) <= 0 || p[1].revents)
                        return false;
                n = recv(fd, buf + len, size - 1 - len, 0);
                if (n <= 0)
                        return false;
                len += (size_t)n;
                buf[len] = '\0';
                if ((unsigned char)buf[0] < 'A' || (unsigned char)buf[0] > 'Z')
                        return false;
                if (strstr(buf, "\r\n\r\n"))
                        return true;
        }
        return false;
}

/* The body of a file under root, or NULL. */
static void *read_root_file(struct httpd *h, const char *path, size_t *ret_len)
{
        char full[4096];
        struct stat st;
        void *data;
        int fd;
        size_t got = 0;

        if (!h->root || strstr(path, "..") ||
            snprintf(full, sizeof(full), "%s%s", h->root, path) >= (int)sizeof(full))
                return NULL;
        fd = open(full, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return NULL;
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
                close(fd);
                return NULL;
        }
        data = xalloc((size_t)st.st_size);
        while (got < (size_t)st.st_size) {
                ssize_t n = read(fd, (char *)data + got, (size_t)st.st_size - got);

                if (n <= 0)
                        break;
                got += (size_t)n;
        }
        close(fd);
        *ret_len = got;
        return data;
}

static void answer(struct httpd *h, int fd)
{
        char head[16384], method[16], path[1024], rangebuf[64], *range = NULL, *p;
        struct httpd_route r = { 0 };
        void *body = NULL;
        bool routed = false, head_only;
        size_t len = 0, from = 0;
        unsigned hit = 0;
        size_t rate;
        char hdr[1024];
        int n;

        if (!read_head(h, fd, head, sizeof(head))) {
                /* Not HTTP (a TLS ClientHello to this plain server, say): say so at once. */
                send_status(fd, 400, NULL);
                return;
        }
        if (sscanf(head, "%15s %1023s", method, path) != 2) {
                send_status(fd, 400, NULL);
                return;
        }
        head_only = strcmp(method, "HEAD") == 0;
        for (p = strstr(head, "\r\n"); p; p = strstr(p + 2, "\r\n"))
                if (strncasecmp(p + 2, "Range:", 6) == 0) {
                        if (sscanf(p + 8, " %63[^\r\n]", rangebuf) == 1)
                                range = rangebuf;
                        break;
                }

        pthread_mutex_lock(&h->lock);
        rate = h->rate;
        log_request(h, method, path, range);
        for (size_t i = 0; i < h->n_routes; i++)
                if (strcmp(h->routes[i].path, path) == 0) {
                        struct route *rt = &h->routes[i];

                        hit = ++rt->hits;
                        r = rt->r;
                        r.location = rt->location;
                        len = rt->r.len;
                        body = xalloc(len);
                        if (len)
                                memcpy(body, rt->body, len);
                        routed = true;
                        break;
                }
        pthread_mutex_unlock(&h->lock);

        if (!routed)
                body = read_root_file(h, path, &len);
        if (!routed && !body) {
                send_status(fd, 404, NULL);
                return;
        }
        if (r.delay_ms && !nap(h, r.delay_ms))
                goto out;
        if (hit && hit <= r.fail_first) {
                send_status(fd, 503, "Retry-After: 0\r\n");
                goto out;
        }
        if (r.status && r.status != 200) {
                if (r.location)
                        (void)snprintf(hdr, sizeof(hdr), "Location: %s\r\n", r.location);
                send_status(fd, r.status, r.location ? hdr : NULL);
                goto out;
        }
        if (range && !r.ignore_range && !r.no_length) {
                unsigned long long v;

                if (sscanf(range, "bytes=%llu-", &v) != 1) {
                        send_status(fd, 400, NULL);
                        goto out;
                }
                if (v >= len) {
                        (void)snprintf(hdr, sizeof(hdr), "Content-Range: bytes */%zu\r\n", len);
                        send_status(fd, 416, hdr);
                        goto out;
                }
                from = (size_t)v;
                n = snprintf(hdr, sizeof(hdr),
                             "HTTP/1.1 206 Partial Content\r\nContent-Length: %zu\r\n"
                             "Content-Range: bytes %zu-%zu/%zu\r\nConnection: close\r\n\r\n",
                             len - from, from, len - 1, len);
        } else if (r.no_length) {
                n = snprintf(hdr, sizeof(hdr), "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n");
        } else {
                n = snprintf(hdr, sizeof(hdr),
                             "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\nAccept-Ranges: bytes\r\n"
                             "Connection: close\r\n\r\n", len);
        }
        if (n <= 0 || (size_t)n >= sizeof(hdr) || !send_all(fd, hdr, (size_t)n) || head_only)
                goto out;
        {
                size_t end = len;

                if (hit && hit <= r.drop_first && from + r.drop_after < len)
                        end = from + r.drop_after;
                if (r.stall && from + r.stall_after < len)
                        end = from + r.stall_after;
                if (!routed && rate) {
                        /* a slow mirror: a slice every 50 ms */
                        size_t slice = rate / 20 ? rate / 20 : 1;

                        for (size_t off = from; off < end; off += slice) {
                                size_t k = end - off < slice ? end - off : slice;

                                if (!send_all(fd, (char *)body + off, k) || (off + k < end && !nap(h, 50)))
                                        goto out;
                        }
                } else if (end > from && !send_all(fd, (char *)body + from, end - from))
                        goto out;
                if (r.stall && end < len) {
                        /* Hold the connection: no more bytes until the client gives up. */
                        for (;;) {
                                struct pollfd pf[2] = { { .fd = fd, .events = POLLIN },
                                                        { .fd = h->wake[0], .events = POLLIN } };
                                char sink[256];

                                if (poll(pf, 2, -1) < 0 && errno != EINTR)
                                        break;
                                if (pf[1].revents)
                                        break;
                                if (pf[0].revents && recv(fd, sink, sizeof(sink), 0) <= 0)
                                        break;
                        }
                }
        }
out:
        free(body);
}

static void *conn_main(void *arg)
{
        struct conn *c = arg;
        struct httpd *h = c->h;

        pthread_mutex_lock(&h->lock);
        if (++h->active > h->max_active)
                h->max_active = h->active;
        pthread_mutex_unlock(&h->lock);
        answer(h, c->fd);
        shutdown(c->fd, SHUT_RDWR);
        close(c->fd);
        pthread_mutex_lock(&h->lock);
        h->active--;
        pthread_mutex_unlock(&h->lock);
        return NULL;
}

static void *accept_main(void *arg)
{
        struct httpd *h = arg;

        while (!stopping(h)) {
                struct pollfd p[2] = { { .fd = h->lfd, .events = POLLIN }, { .fd = h->wake[0], .events = POLLIN } };
                struct conn *c;
                int fd;

                if (poll(p, 2, -1) < 0 || p[1].revents)
                        break;
                fd = accept4(h->lfd, NULL, NULL, SOCK_CLOEXEC);
                if (fd < 0)
                        continue;
                c = xalloc(sizeof(*c));
                c->h = h;
                c->fd = fd;
                if (pthread_create(&c->thread, NULL, conn_main, c) != 0) {
                        close(fd);
                        free(c);
                        continue;
                }
                pthread_mutex_lock(&h->lock);
                c->next = h->conns;
                h->conns = c;
                pthread_mutex_unlock(&h->lock);
        }
        return NULL;
}

struct httpd *httpd_start(unsigned port, const char *root)
{
        return httpd_start_on(NULL, port, root);
}

struct httpd *httpd_start_on(const char *addr, unsigned port, const char *root)
{
        struct httpd *h = xalloc(sizeof(*h));
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
        socklen_t sl = sizeof(sa);
        int one = 1;

        if (!addr)
                addr = "127.0.0.1";
        if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1) {
                free(h);
                errno = EINVAL;
                return NULL;
        }
        snprintf(h->addr, sizeof(h->addr), "%s", addr);
        h->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (h->lfd < 0)
                goto fail;
        (void)setsockopt(h->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (bind(h->lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(h->lfd, 64) < 0 ||
            getsockname(h->lfd, (struct sockaddr *)&sa, &sl) < 0)
                goto fail_fd;
        if (pipe2(h->wake, O_CLOEXEC) < 0)
                goto fail_fd;
        h->port = ntohs(sa.sin_port);
        h->root = dupstr(root);
        pthread_mutex_init(&h->lock, NULL);
        if (pthread_create(&h->accept_thread, NULL, accept_main, h) != 0) {
                close(h->wake[0]);
                close(h->wake[1]);
                free(h->root);
                goto fail_fd;
        }
        return h;
fail_fd:
        close(h->lfd);
fail:
        free(h);
        return NULL;
}

void httpd_stop(struct httpd *h)
{
        struct conn *c;

        if (!h)
                return;
        (void)!write(h->wake[1], "x", 1);
        pthread_join(h->accept_thread, NULL);
        /* No new connections now: the list only shrinks from here. */
        while ((c = h->conns)) {
                h->conns = c->next;
                pthread_join(c->thread, NULL);
                free(c);
        }
        close(h->lfd);
        close(h->wake[0]);
        close(h->wake[1]);
        for (size_t i = 0; i < h->n_routes; i++) {
                free(h->routes[i].path);
                free(h->routes[i].location);
                free(h->routes[i].body);
        }
        free(h->routes);
        free(h->root);
        free(h->log);
        pthread_mutex_destroy(&h->lock);
        free(h);
}

unsigned httpd_port(const struct httpd *h)
{
        return h->port;
}

void httpd_route(struct httpd *h, const struct httpd_route *r)
{
        struct route *rt = NULL;

        pthread_mutex_lock(&h->lock);
        for (size_t i = 0; i < h->n_routes; i++)
                if (strcmp(h->routes[i].path, r->path) == 0) {
                        rt = &h->routes[i];
                        free(rt->path);
                        free(rt->location);
                        free(rt->body);
                        break;
                }
        if (!rt) {
                h->routes = realloc(h->routes, (h->n_routes + 1) * sizeof(*h->routes));
                if (!h->routes)
                        abort();
                rt = &h->routes[h->n_routes++];
        }
        *rt = (struct route){ .r = *r };
        rt->path = dupstr(r->path);
        rt->location = dupstr(r->location);
        rt->body = xalloc(r->len);
        if (r->len)
                memcpy(rt->body, r->body, r->len);
        rt->r.path = rt->path;
        rt->r.body = rt->body;
        rt->r.location = rt->location;
        pthread_mutex_unlock(&h->lock);
}

void httpd_set_rate(struct httpd *h, size_t bytes_per_sec)
{
        pthread_mutex_lock(&h->lock);
        h->rate = bytes_per_sec;
        pthread_mutex_unlock(&h->lock);
}

char *httpd_url(const struct httpd *h, const char *path)
{
        char *s = NULL;

        if (asprintf(&s, "http://%s:%u%s", h->addr, h->port, path) < 0)
                abort();
        return s;
}

char *httpd_log(struct httpd *h)
{
        char *s;

        pthread_mutex_lock(&h->lock);
        s = dupstr(h->log ? h->log : "");
        pthread_mutex_unlock(&h->lock);
        return s;
}

unsigned httpd_hits(struct httpd *h, const char *path)
{
        unsigned n = 0;

        pthread_mutex_lock(&h->lock);
        for (size_t i = 0; i < h->n_routes; i++)
                if (strcmp(h->routes[i].path, path) == 0)
                        n = h->routes[i].hits;
        pthread_mutex_unlock(&h->lock);
        return n;
}

unsigned httpd_max_concurrent(struct httpd *h)
{
        unsigned n;

        pthread_mutex_lock(&h->lock);
        n = h->max_active;
        pthread_mutex_unlock(&h->lock);
        return n;
}
