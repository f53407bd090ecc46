/* fetch.h — downloads over HTTP(S) with libcurl, for IDE signing keys and
 * direct .deb packages, and the HEAD request of preflight's archive check
 * (fetch_head()): the program's one place that speaks HTTP.
 *
 * Every download: TLS peer and host verified (never switched off), only
 * http and https, a bounded number of redirects and never from https down
 * to http, a size cap, sha256 computed while the bytes stream to disk, a
 * stall detector (less than low_speed_bytes per second for low_speed_s
 * seconds ends the attempt), retries with exponential backoff on transient
 * failures only (connection refused or reset, timeouts and stalls, HTTP 408,
 * 429, 500, 502, 503, 504), each retry resuming where the previous attempt
 * stopped (HTTP Range). The file is written to DEST.part and renamed to DEST
 * only once it is complete and its checksum (when one is expected) matches,
 * so DEST is either absent or whole.
 *
 * Several downloads run at once through one curl multi handle
 * (fetch_many()); fetch_file() is the one-download case.
 *
 * Errors are classified (enum fetch_kind) and described in one sentence a
 * person can act on (struct fetch_result.message), e.g.
 *   "could not resolve host downloads.example (DNS) for https://…: check the
 *    host name and the server's DNS settings"
 * The engine does not print; the phase shows the message once. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

enum fetch_kind {
        FETCH_OK,
        FETCH_ERR_URL,         /* not an http(s) URL, or curl refused it */
        FETCH_ERR_DNS,         /* host name did not resolve */
        FETCH_ERR_CONNECT,     /* connection refused / unreachable / connect timeout */
        FETCH_ERR_TLS,         /* handshake or certificate verification failed */
        FETCH_ERR_HTTP,        /* the server answered with a status >= 400 */
        FETCH_ERR_TIMEOUT,     /* stalled (low-speed limit) or the total time ran out */
        FETCH_ERR_CHECKSUM,    /* complete, but sha256 differs from the expected one */
        FETCH_ERR_SIZE,        /* larger than max_bytes */
        FETCH_ERR_REDIRECTS,   /* more than max_redirects, or https → http */
        FETCH_ERR_NETWORK,     /* reset, partial transfer, other transport errors */
        FETCH_ERR_IO,          /* local file could not be written */
        FETCH_ERR_CANCELLED,   /* the cancel callback said so */
        _FETCH_KIND_MAX,
};

/* "dns", "tls", "http" … for logs and tests. */
const char *fetch_kind_name(enum fetch_kind k);
/* The negative errno fetch_file() returns for a kind: DNS -EHOSTUNREACH,
 * connect -ECONNREFUSED, TLS -EPROTO, HTTP -EREMOTEIO, timeout -ETIMEDOUT,
 * checksum -EBADMSG, size -EFBIG, redirects -ELOOP, network -ECONNRESET,
 * I/O -EIO, cancelled -ECANCELED, URL -EINVAL; FETCH_OK 0. */
int fetch_kind_errno(enum fetch_kind k);

/* Progress of one download: bytes on disk so far (a resumed part counts)
 * and the total when the server said it (0 = unknown). Called on the
 * caller's thread, at most every 100 ms per download, and once at the end. */
typedef void (*fetch_progress_fn)(void *userdata, size_t index, uint64_t done, uint64_t total);
/* Polled between transfers' events (at least every 200 ms); true ends
 * every running download with FETCH_ERR_CANCELLED. */
typedef bool (*fetch_cancel_fn)(void *userdata);

struct fetch_req {
        const char *url;          /* required: http:// or https:// */
        const char *dest;         /* required: final path; DEST.part while in flight */
        const char *sha256;       /* expected digest (64 hex digits), NULL = not checked */
        uint64_t max_bytes;       /* 0 = 2 GiB */
};

struct fetch_opts {
        unsigned max_redirects;   /* 0 = 5 */
        unsigned retries;         /* further attempts on transient errors; use fetch_opts_init() */
        unsigned backoff_ms;      /* first wait before a retry, doubled each time; 0 = 1000 */
        unsigned backoff_max_ms;  /* cap of one wait; 0 = 30000 */
        unsigned connect_timeout_ms; /* 0 = 20000 */
        unsigned low_speed_bytes; /* stall: below this many bytes/s … (0 = 1024) */
        unsigned low_speed_s;     /* … for this long ends the attempt; 0 = 30. curl averages
                                     the speed over the last ~5 s, so a stall after a burst is
                                     seen up to 5 s later */
        unsigned total_timeout_s; /* one attempt's limit; 0 = none (stall detection covers it) */
        unsigned max_parallel;    /* fetch_many(): transfers at once; 0 = 4 */
        const char *ca_file;      /* extra trust anchors (a test's own CA); NULL = system store */
        const char *proxy;        /* proxy URL for http and https (apt's own, from apt_proxy(),
                                     so requests go where apt's go); NULL or "" = libcurl's
                                     default (http_proxy, https_proxy, no_proxy) */
        fetch_progress_fn progress;
        fetch_cancel_fn cancel;
        void *userdata;
};

/* Defaults as described above, retries = 3. */
void fetch_opts_init(struct fetch_opts *o);

struct fetch_result {
        enum fetch_kind kind;
        long http_status;         /* last status seen (0 = none) */
        uint64_t bytes;           /* size of the file (on success) or bytes on disk */
        uint64_t resumed_from;    /* bytes already on disk when the last attempt began */
        unsigned attempts;        /* 1 + retries made */
        char sha256[SHA256_HEX];  /* of the whole file, "" unless complete */
        char message[512];        /* "" on success */
        char detail[256];         /* the transport's own words for a failure (libcurl's
                                     error text), "" when there are none */
        int64_t duration_ms;
};

/* Downloads one URL to req->dest. Returns 0 or fetch_kind_errno(kind) < 0;
 * ret (may be NULL) is always filled. o may be NULL (defaults). */
int fetch_file(const struct fetch_req *req, const struct fetch_opts *o, struct fetch_result *ret);

/* Downloads reqs[0..n) at once (o->max_parallel at a time). results[i] is
 * filled for every i. Returns 0 when all succeeded, else the errno of the
 * first failed index. A failure of one does not stop the others (except
 * cancellation, which stops all). */
int fetch_many(const struct fetch_req *reqs, size_t n, const struct fetch_opts *o,
               struct fetch_result *results);

/* Asks url for its headers only (HTTP HEAD), the way a download asks: the
 * same schemes, redirect rules, TLS verification, ca_file and proxy of o
 * (NULL: defaults); no retries (a check wants a prompt answer), and
 * timeout_ms for the whole exchange (0 = 5000; the connect timeout is cut
 * to it). Returns 0 when the final answer (after redirects) is below 400,
 * else fetch_kind_errno(kind) < 0: FETCH_ERR_HTTP when the server answered
 * 400 or more. ret (may be NULL) is always filled; http_status is the last
 * status seen, bytes is 0. */
int fetch_head(const char *url, unsigned timeout_ms, const struct fetch_opts *o,
               struct fetch_result *ret);

/* libcurl's global state: call once before any thread starts (main()); a
 * second call is harmless. fetch_file() calls it too, for tests. */
int fetch_global_init(void);
