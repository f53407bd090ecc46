/* httpd.h — a small loopback HTTP/1.1 server for tests (engine/fetch, the
 * IDE phases and the IDE test rig). It listens on 127.0.0.1, answers one
 * request per connection (Connection: close), each connection on its own
 * thread, and can misbehave on purpose: fail the first N requests, redirect,
 * drop the connection after some bytes, stall, ignore Range, delay. It keeps
 * a log of the requests it saw so tests can check what a client asked for.
 *
 * Paths without a route are looked up under an optional root directory
 * (no "..", regular files only); anything else is 404. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct httpd;

struct httpd_route {
        const char *path;          /* "/key.asc", exact match */
        const void *body;          /* copied; may be NULL with len 0 */
        size_t len;
        int status;                /* 0 = 200 with the body */
        const char *location;      /* with status 301/302/307: Location header */
        unsigned fail_first;       /* answer 503 to the first N requests */
        unsigned drop_first;       /* the first N requests: send drop_after body bytes, then close */
        size_t drop_after;
        bool stall;                /* send stall_after body bytes, then hold the connection */
        size_t stall_after;
        bool ignore_range;         /* always 200 with the whole body */
        bool no_length;            /* no Content-Length: the body ends when the connection closes */
        unsigned delay_ms;         /* wait before answering */
};

/* Listens on 127.0.0.1:port (0 = any free port). root may be NULL. NULL on
 * failure (errno set). */
struct httpd *httpd_start(unsigned port, const char *root);
/* The same on another IPv4 address of this machine (a test container's
 * gateway, say); addr NULL = 127.0.0.1. */
struct httpd *httpd_start_on(const char *addr, unsigned port, const char *root);
/* Stops listening, wakes stalled connections, joins every thread, frees. */
void httpd_stop(struct httpd *h);
unsigned httpd_port(const struct httpd *h);
/* Adds (or replaces) a route; everything is copied. */
void httpd_route(struct httpd *h, const struct httpd_route *r);
/* Files served from root go out at most this many bytes per second per
 * connection (0 = as fast as possible): a slow mirror for timing tests. */
void httpd_set_rate(struct httpd *h, size_t bytes_per_sec);
/* "http://ADDR:PORT/path"; caller frees. */
char *httpd_url(const struct httpd *h, const char *path);
/* Requests seen so far, one line each: "GET /path range=bytes=10-" (the
 * range part only when the client sent one). Caller frees. */
char *httpd_log(struct httpd *h);
/* How many requests asked for path. */
unsigned httpd_hits(struct httpd *h, const char *path);
/* Largest number of requests that were being answered at the same time. */
unsigned httpd_max_concurrent(struct httpd *h);
