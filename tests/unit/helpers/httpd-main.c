/* httpd-main.c — vpsp-test-httpd: the loopback test server (httpd.c) as a
 * program, for the shell-driven IDE tests (tests/ide, tests/e2e/test-ide).
 *
 *   vpsp-test-httpd --root DIR [--listen IPV4] [--port N] [--port-file FILE]
 *                   [--rate BYTES_PER_SECOND] [--stall PATH:BYTES]... [--fail PATH:N]...
 *
 * Serves the files under DIR on 127.0.0.1 (or --listen's address) until
 * SIGTERM or SIGINT. With
 * --port 0 (the default) it picks a free port and writes it to --port-file
 * (written atomically once it listens, so a script can wait for the file).
 * --stall makes PATH send BYTES bytes and then hold the connection;
 * --fail answers 503 to the first N requests for PATH; --rate sends the
 * files under DIR at most that fast per connection (a slow mirror). */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "httpd.h"

static int usage(void)
{
        fprintf(stderr, "usage: vpsp-test-httpd --root DIR [--listen IPV4] [--port N] [--port-file FILE] "
                        "[--rate BYTES_PER_SECOND] [--stall PATH:BYTES]... [--fail PATH:N]...\n");
        return 2;
}

static int num(const char *s, unsigned long max, unsigned long *ret)
{
        char *end;
        unsigned long v;

        errno = 0;
        v = strtoul(s, &end, 10);
        if (errno || end == s || *end || v > max)
                return -1;
        *ret = v;
        return 0;
}

/* Reads root/path (the body a route needs); NULL when missing. */
static char *slurp(const char *root, const char *path, size_t *ret_len)
{
        char full[PATH_MAX];
        FILE *f;
        char *data = NULL;
        size_t cap = 0, len = 0, n;

        if (snprintf(full, sizeof(full), "%s%s", root, path) >= (int)sizeof(full))
                return NULL;
        f = fopen(full, "rbe");
        if (!f)
                return NULL;
        do {
                if (len + 65536 > cap) {
                        cap = cap * 2 + 65536;
                        data = realloc(data, cap);
                        if (!data)
                                abort();
                }
                n = fread(data + len, 1, cap - len, f);
                len += n;
        } while (n > 0);
        fclose(f);
        *ret_len = len;
        return data;
}

int main(int argc, char **argv)
{
        const char *root = NULL, *port_file = NULL, *listen_addr = NULL;
        unsigned long port = 0, rate = 0;
        struct httpd *h;
        sigset_t set;
        int sig;

        for (int i = 1; i < argc; i++) {
                if (strcmp(argv[i], "--root") == 0 && i + 1 < argc)
                        root = argv[++i];
                else if (strcmp(argv[i], "--listen") == 0 && i + 1 < argc)
                        listen_addr = argv[++i];
                else if (strcmp(argv[i], "--port") == 0 && i + 1 < argc) {
                        if (num(argv[++i], 65535, &port) < 0)
                                return usage();
                } else if (strcmp(argv[i], "--rate") == 0 && i + 1 < argc) {
                        if (num(argv[++i], 1ul << 34, &rate) < 0)
                                return usage();
                } else if (strcmp(argv[i], "--port-file") == 0 && i + 1 < argc)
                        port_file = argv[++i];
                else if ((strcmp(argv[i], "--stall") == 0 || strcmp(argv[i], "--fail") == 0) &&
                         i + 1 < argc)
                        i++;   /* routes are added once the server runs */
                else
                        return usage();
        }
        if (!root)
                return usage();

        sigemptyset(&set);
        sigaddset(&set, SIGTERM);
        sigaddset(&set, SIGINT);
        pthread_sigmask(SIG_BLOCK, &set, NULL);

        h = httpd_start_on(listen_addr, (unsigned)port, root);
        if (!h) {
                fprintf(stderr, "vpsp-test-httpd: cannot listen on %s:%lu: %s\n",
                        listen_addr ? listen_addr : "127.0.0.1", port, strerror(errno));
                return 1;
        }
        httpd_set_rate(h, (size_t)rate);
        for (int i = 1; i < argc; i++) {
                bool stall = strcmp(argv[i], "--stall") == 0;
                char *arg, *colon;
                unsigned long v;
                size_t len = 0;
                char *body;

                if (!stall && strcmp(argv[i], "--fail") != 0)
                        continue;
                arg = argv[++i];
                colon = strrchr(arg, ':');
                if (!colon || arg[0] != '/' || num(colon + 1, 1ul << 30, &v) < 0) {
                        httpd_stop(h);
                        return usage();
                }
                *colon = '\0';
                body = slurp(root, arg, &len);
                if (!body) {
                        fprintf(stderr, "vpsp-test-httpd: %s%s: no such file\n", root, arg);
                        httpd_stop(h);
                        return 1;
                }
                httpd_route(h, &(struct httpd_route){ .path = arg, .body = body, .len = len,
                                                      .stall = stall, .stall_after = stall ? v : 0,
                                                      .fail_first = stall ? 0 : (unsigned)v });
                free(body);
        }
        if (port_file) {
                char tmp[PATH_MAX];
                FILE *f;

                if (snprintf(tmp, sizeof(tmp), "%s.tmp", port_file) >= (int)sizeof(tmp) ||
                    !(f = fopen(tmp, "we"))) {
                        httpd_stop(h);
                        return 1;
                }
                fprintf(f, "%u\n", httpd_port(h));
                if (fclose(f) != 0 || rename(tmp, port_file) != 0) {
                        httpd_stop(h);
                        return 1;
                }
        }
        sigwait(&set, &sig);
        httpd_stop(h);
        return 0;
}
