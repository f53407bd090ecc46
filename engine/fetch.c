/* fetch.c — libcurl downloads (see fetch.h).
 *
 * DESIGN: one curl multi handle drives every transfer of a fetch_many()
 * call. A transfer is a small state machine: WAITING (for its start time:
 * now, or the end of a retry's backoff) → RUNNING (an easy handle in the
 * multi) → DONE. The write callback appends to DEST.part, feeds the bytes to
 * an incremental sha256 and enforces the size cap; it also looks at the
 * status line once per attempt so an error page is never written to disk.
 * When an attempt ends, its outcome is classified (DNS, connect, TLS, HTTP
 * status, stall …); a transient one goes back to WAITING with a doubled
 * backoff, and the next attempt resumes from the part's length with a Range
 * request (the part is re-hashed first, so the digest covers the whole
 * file). A server that ignores the Range, answers 416, or a resumed file
 * whose digest does not match, gets one fresh start from byte 0. */
#include "fetch.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEFAULT_MAX_BYTES (UINT64_C(2) << 30)
#define PROGRESS_EVERY_MS 100
#define POLL_MAX_MS 200

static const char *const kind_names[_FETCH_KIND_MAX] = {
        [FETCH_OK] = "ok",
        [FETCH_ERR_URL] = "url",
        [FETCH_ERR_DNS] = "dns",
        [FETCH_ERR_CONNECT] = "connect",
        [FETCH_ERR_TLS] = "tls",
        [FETCH_ERR_HTTP] = "http",
        [FETCH_ERR_TIMEOUT] = "timeout",
        [FETCH_ERR_CHECKSUM] = "checksum",
        [FETCH_ERR_SIZE] = "size",
        [FETCH_ERR_REDIRECTS] = "redirects",
        [FETCH_ERR_NETWORK] = "network",
        [FETCH_ERR_IO] = "io",
        [FETCH_ERR_CANCELLED] = "cancelled",
};

const char *fetch_kind_name(enum fetch_kind k)
{
        return (unsigned)k < _FETCH_KIND_MAX ? kind_names[k] : "unknown";
}

int fetch_kind_errno(enum fetch_kind k)
{
        switch (k) {
        case FETCH_OK: return 0;
        case FETCH_ERR_URL: return -EINVAL;
        case FETCH_ERR_DNS: return -EHOSTUNREACH;
        case FETCH_ERR_CONNECT: return -ECONNREFUSED;
        case FETCH_ERR_TLS: return -EPROTO;
        case FETCH_ERR_HTTP: return -EREMOTEIO;
        case FETCH_ERR_TIMEOUT: return -ETIMEDOUT;
        case FETCH_ERR_CHECKSUM: return -EBADMSG;
        case FETCH_ERR_SIZE: return -EFBIG;
        case FETCH_ERR_REDIRECTS: return -ELOOP;
        case FETCH_ERR_NETWORK: return -ECONNRESET;
        case FETCH_ERR_IO: return -EIO;
        case FETCH_ERR_CANCELLED: return -ECANCELED;
        default: return -EIO;
        }
}

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc;

static void global_init_once(void)
{
        global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

int fetch_global_init(void)
{
        pthread_once(&global_once, global_init_once);
        return global_rc == CURLE_OK ? 0 : -ENOMEM;
}

void fetch_opts_init(struct fetch_opts *o)
{
        *o = (struct fetch_opts){
                .max_redirects = 5,
                .retries = 3,
                .backoff_ms = 1000,
                .backoff_max_ms = 30000,
                .connect_timeout_ms = 20000,
                .low_speed_bytes = 1024,
                .low_speed_s = 30,
                .max_parallel = 4,
        };
}

enum xfer_state { X_WAITING, X_RUNNING, X_DONE };

struct xfer {
        size_t index;
        const struct fetch_req *req;
        struct fetch_result *res;
        enum xfer_state state;
        CURL *easy;
        char *part;
        char host[256];
        int fd;
        struct sha256_ctx *sha;
        uint64_t have;            /* bytes in the part file (and in sha) */
        uint64_t max;
        int64_t not_before;       /* ms, monotonic: earliest start of the next attempt */
        unsigned backoff_ms;
        int64_t last_progress;
        int64_t started;
        bool saw_status;          /* the write callback checked this attempt's status */
        bool resumed;             /* some attempt resumed a part: a digest mismatch may be ours */
        bool fresh_restart_used;
        enum fetch_kind abort_kind;   /* set by the write callback when it stops a transfer */
        int io_errno;
        bool head;                /* fetch_head(): no body, one attempt */
        unsigned head_timeout_ms;
        char errbuf[CURL_ERROR_SIZE];
};

static bool status_transient(long s)
{
        return s == 408 || s == 429 || s == 500 || s == 502 || s == 503 || s == 504;
}

static void set_msg(struct xfer *x, enum fetch_kind k, const char *fmt, ...) _printf_(3, 4);
static void set_msg(struct xfer *x, enum fetch_kind k, const char *fmt, ...)
{
        va_list ap;

        x->res->kind = k;
        va_start(ap, fmt);
        (void)vsnprintf(x->res->message, sizeof(x->res->message), fmt, ap);
        va_end(ap);
}

/* The host of a URL for messages; "" when curl cannot parse it. */
static void url_host(const char *url, char *buf, size_t size)
{
        CURLU *u = curl_url();
        char *h = NULL;

        buf[0] = '\0';
        if (!u)
                return;
        if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
            curl_url_get(u, CURLUPART_HOST, &h, 0) == CURLUE_OK)
                (void)strscpy(buf, size, h);
        curl_free(h);
        curl_url_cleanup(u);
}

static void xfer_close_part(struct xfer *x)
{
        if (x->fd >= 0)
                close(x->fd);
        x->fd = -1;
}

static void xfer_drop_sha(struct xfer *x)
{
        char dummy[SHA256_HEX];

        if (x->sha)
                sha256_end(x->sha, dummy);
        x->sha = NULL;
}

/* Empties the part file: the next attempt starts at byte 0. */
static int xfer_truncate(struct xfer *x)
{
        xfer_drop_sha(x);
        x->have = 0;
        if (x->fd >= 0 && (ftruncate(x->fd, 0) < 0 || lseek(x->fd, 0, SEEK_SET) < 0))
                return -errno;
        if (x->fd < 0 && unlink(x->part) < 0 && errno != ENOENT)
                return -errno;
        return 0;
}

/* Opens DEST.part for appending and hashes what an earlier attempt (or an
 * earlier run) left in it. */
static int xfer_open_part(struct xfer *x)
{
        struct stat st;
        char buf[65536];
        ssize_t n;

        xfer_close_part(x);
        xfer_drop_sha(x);
        x->fd = open(x->part, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (x->fd < 0)
                return -errno;
        if (fstat(x->fd, &st) < 0)
                return -errno;
        if ((uint64_t)st.st_size >= x->max) {
                if (ftruncate(x->fd, 0) < 0)
                        return -errno;
                st.st_size = 0;
        }
        x->sha = sha256_begin();
        x->have = 0;
        while ((n = read(x->fd, buf, sizeof(buf))) > 0) {
                sha256_add(x->sha, buf, (size_t)n);
                x->have += (uint64_t)n;
        }
        if (n < 0)
                return -errno;
        if (lseek(x->fd, 0, SEEK_END) < 0)
                return -errno;
        return 0;
}

static size_t on_write(char *ptr, size_t size, size_t nmemb, void *userdata)
{
        struct xfer *x = userdata;
        size_t n = size * nmemb, off = 0;

        if (!x->saw_status) {
                long status = 0;

                x->saw_status = true;
                (void)curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
                x->res->http_status = status;
                if (status >= 400) {
                        /* An error page is not the file: stop before writing it. */
                        x->abort_kind = FETCH_ERR_HTTP;
                        return 0;
                }
                if (x->have > 0 && status == 200) {
                        /* The server sent the whole file despite our Range. */
                        int r = xfer_truncate(x);

                        if (r < 0) {
                                x->io_errno = -r;
                                x->abort_kind = FETCH_ERR_IO;
                                return 0;
                        }
                        x->sha = sha256_begin();
                }
        }
        if (x->have + n > x->max) {
                x->abort_kind = FETCH_ERR_SIZE;
                return 0;
        }
        while (off < n) {
                ssize_t w = write(x->fd, ptr + off, n - off);

                if (w < 0) {
                        if (errno == EINTR)
                                continue;
                        x->io_errno = errno;
                        x->abort_kind = FETCH_ERR_IO;
                        return 0;
                }
                off += (size_t)w;
        }
        sha256_add(x->sha, ptr, n);
        x->have += n;
        return n;
}

#define SET(opt, val) do { if (curl_easy_setopt(e, opt, val) != CURLE_OK) return -EINVAL; } while (0)

/* What every request of this module shares: schemes, redirects, TLS,
 * proxy, timeouts of the connection, the error buffer. */
static int request_setup(struct xfer *x, const struct fetch_opts *o)
{
        bool https = startswith(x->req->url, "https://");
        CURL *e = x->easy;

        curl_easy_reset(e);
        x->errbuf[0] = '\0';
        SET(CURLOPT_URL, x->req->url);
        SET(CURLOPT_PROTOCOLS_STR, "http,https");
        /* Once on https, a redirect may not drop to plain http. */
        SET(CURLOPT_REDIR_PROTOCOLS_STR, https ? "https" : "http,https");
        SET(CURLOPT_FOLLOWLOCATION, 1L);
        SET(CURLOPT_MAXREDIRS, (long)o->max_redirects);
        SET(CURLOPT_SSL_VERIFYPEER, 1L);
        SET(CURLOPT_SSL_VERIFYHOST, 2L);
        if (o->ca_file)
                SET(CURLOPT_CAINFO, o->ca_file);
        if (o->proxy && *o->proxy) {
                /* as apt: a configured proxy is used for every host (its
                 * per-host exceptions are in apt's setting already), not
                 * bypassed by the no_proxy of this process's environment */
                SET(CURLOPT_PROXY, o->proxy);
                SET(CURLOPT_NOPROXY, "");
        }
        SET(CURLOPT_NOSIGNAL, 1L);
        SET(CURLOPT_ERRORBUFFER, x->errbuf);
        SET(CURLOPT_CONNECTTIMEOUT_MS, (long)o->connect_timeout_ms);
        SET(CURLOPT_USERAGENT, "vps-provision/" VPSP_VERSION);
        SET(CURLOPT_FAILONERROR, 0L);
        return 0;
}

/* Sets up the easy handle for the next attempt (resuming at x->have). */
static int xfer_setup(struct xfer *x, const struct fetch_opts *o)
{
        CURL *e = x->easy;
        int r = request_setup(x, o);

        if (r < 0)
                return r;
        x->saw_status = false;
        x->abort_kind = FETCH_OK;
        x->res->resumed_from = x->have;
        if (x->have > 0)
                x->resumed = true;
        SET(CURLOPT_WRITEFUNCTION, on_write);
        SET(CURLOPT_WRITEDATA, x);
        SET(CURLOPT_LOW_SPEED_LIMIT, (long)o->low_speed_bytes);
        SET(CURLOPT_LOW_SPEED_TIME, (long)o->low_speed_s);
        if (o->total_timeout_s)
                SET(CURLOPT_TIMEOUT, (long)o->total_timeout_s);
        SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)(x->max - x->have));
        if (x->have > 0)
                SET(CURLOPT_RESUME_FROM_LARGE, (curl_off_t)x->have);
        return 0;
}
#undef SET

static void backoff(struct xfer *x, const struct fetch_opts *o)
{
        x->not_before = now_ms() + x->backoff_ms;
        x->backoff_ms = x->backoff_ms * 2 > o->backoff_max_ms ? o->backoff_max_ms : x->backoff_ms * 2;
}

static void report_progress(struct xfer *x, const struct fetch_opts *o, bool force)
{
        curl_off_t cl = -1;
        uint64_t total = 0;
        int64_t t = now_ms();

        if (!o->progress || (!force && t - x->last_progress < PROGRESS_EVERY_MS))
                return;
        x->last_progress = t;
        if (x->state == X_DONE && x->res->kind == FETCH_OK)
                total = x->res->bytes;
        else if (x->easy && curl_easy_getinfo(x->easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl) ==
                 CURLE_OK && cl > 0)
                total = x->res->resumed_from + (uint64_t)cl;
        o->progress(o->userdata, x->index, x->have, total);
}

/* Complete: check the digest, move DEST.part to DEST. */
static void xfer_finish(struct xfer *x, bool *ret_restart)
{
        const char *want = x->req->sha256;
        char got[SHA256_HEX];

        *ret_restart = false;
        sha256_end(x->sha, got);
        x->sha = NULL;
        x->res->bytes = x->have;
        if (want && strcasecmp(want, got) != 0) {
                if (x->resumed && !x->fresh_restart_used) {
                        /* The bytes from an earlier attempt may be the stale ones. */
                        x->fresh_restart_used = true;
                        x->resumed = false;
                        if (xfer_truncate(x) == 0) {
                                *ret_restart = true;
                                return;
                        }
                }
                xfer_close_part(x);
                (void)unlink(x->part);
                set_msg(x, FETCH_ERR_CHECKSUM,
                        "checksum mismatch for %s: its sha256 is %s, expected %s; the file may "
                        "have been replaced or corrupted — check the catalog's checksum",
                        x->req->url, got, want);
                return;
        }
        if (fsync(x->fd) < 0 || rename(x->part, x->req->dest) < 0) {
                set_msg(x, FETCH_ERR_IO, "could not save %s: %s", x->req->dest, strerror(errno));
                xfer_close_part(x);
                (void)unlink(x->part);
                return;
        }
        xfer_close_part(x);
        (void)fsync_dir_of(x->req->dest);
        memcpy(x->res->sha256, got, SHA256_HEX);
        x->res->kind = FETCH_OK;
        x->res->message[0] = '\0';
}

/* Classifies a finished attempt. Returns true when it may be retried. */
static bool classify(struct xfer *x, const struct fetch_opts *o, CURLcode rc)
{
        const char *url = x->req->url, *why = x->errbuf[0] ? x->errbuf : curl_easy_strerror(rc);
        long status = 0, redirects = 0;
        curl_off_t connect_us = 0;

        (void)curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
        (void)curl_easy_getinfo(x->easy, CURLINFO_REDIRECT_COUNT, &redirects);
        (void)curl_easy_getinfo(x->easy, CURLINFO_CONNECT_TIME_T, &connect_us);
        if (status)
                x->res->http_status = status;
        if (rc != CURLE_OK)
                (void)strscpy(x->res->detail, sizeof(x->res->detail), why);

        if (x->abort_kind == FETCH_ERR_HTTP || (rc == CURLE_OK && status >= 400)) {
                set_msg(x, FETCH_ERR_HTTP, "HTTP %ld from %s for %s%s", status, x->host, url,
                        status == 404 ? ": not found — check the URL (or the mirror's content)" :
                        status == 401 || status == 403 ? ": access refused by the server" :
                        status_transient(status) ? ": the server is busy or failing; try again later" :
                        "");
                return status_transient(status);
        }
        if (x->abort_kind == FETCH_ERR_SIZE || rc == CURLE_FILESIZE_EXCEEDED) {
                set_msg(x, FETCH_ERR_SIZE, "%s is larger than the limit of %llu bytes; refusing it",
                        url, (unsigned long long)x->max);
                return false;
        }
        if (x->abort_kind == FETCH_ERR_IO) {
                set_msg(x, FETCH_ERR_IO, "could not write %s: %s", x->part, strerror(x->io_errno));
                return false;
        }
        switch (rc) {
        case CURLE_OK:
                return false;   /* handled by the caller */
        case CURLE_UNSUPPORTED_PROTOCOL:
                if (redirects > 0) {
                        set_msg(x, FETCH_ERR_REDIRECTS,
                                "%s redirected to a URL that is not allowed (only https after https, "
                                "http or https otherwise): %s", url, why);
                        return false;
                }
                /* fall through */
        case CURLE_URL_MALFORMAT:
                set_msg(x, FETCH_ERR_URL, "cannot download \"%s\": %s; give an http:// or https:// URL",
                        url, why);
                return false;
        case CURLE_COULDNT_RESOLVE_HOST:
        case CURLE_COULDNT_RESOLVE_PROXY:
                set_msg(x, FETCH_ERR_DNS, "could not resolve host %s (DNS) for %s: check the host "
                        "name and the server's DNS settings (/etc/resolv.conf)", x->host, url);
                return false;
        case CURLE_COULDNT_CONNECT:
                set_msg(x, FETCH_ERR_CONNECT, "could not connect to %s for %s: %s — is the server "
                        "up, and does a firewall allow outgoing connections?", x->host, url, why);
                return true;
        case CURLE_OPERATION_TIMEDOUT:
                if (connect_us == 0) {
                        set_msg(x, FETCH_ERR_CONNECT, "connecting to %s for %s timed out after %u ms; "
                                "check the network and firewall", x->host, url, o->connect_timeout_ms);
                        return true;
                }
                if (x->head) {
                        set_msg(x, FETCH_ERR_TIMEOUT, "%s did not answer within %u ms for %s (timed "
                                "out); the server or the network is too slow", x->host,
                                x->head_timeout_ms, url);
                        return false;
                }
                set_msg(x, FETCH_ERR_TIMEOUT, "download of %s stalled: less than %u bytes/s for %u s "
                        "(%llu bytes received); the server or the network is too slow — try again later",
                        url, o->low_speed_bytes, o->low_speed_s, (unsigned long long)x->have);
                return true;
        case CURLE_SSL_CONNECT_ERROR:
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_SSL_CERTPROBLEM:
        case CURLE_SSL_CIPHER:
        case CURLE_SSL_CACERT_BADFILE:
        case CURLE_SSL_ISSUER_ERROR:
        case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
        case CURLE_SSL_INVALIDCERTSTATUS:
        case CURLE_SSL_ENGINE_INITFAILED:
        case CURLE_SSL_CRL_BADFILE:
                set_msg(x, FETCH_ERR_TLS, "TLS with %s failed for %s: %s — the certificate could not "
                        "be verified or the handshake failed (check the server's clock, the CA "
                        "certificates (ca-certificates) and any proxy that intercepts TLS)",
                        x->host, url, why);
                return false;
        case CURLE_TOO_MANY_REDIRECTS:
                set_msg(x, FETCH_ERR_REDIRECTS, "%s redirected more than %u times; giving up", url,
                        o->max_redirects);
                return false;
        case CURLE_ABORTED_BY_CALLBACK:
                set_msg(x, FETCH_ERR_CANCELLED, "download of %s cancelled", url);
                return false;
        case CURLE_PARTIAL_FILE:
        case CURLE_RECV_ERROR:
        case CURLE_SEND_ERROR:
        case CURLE_GOT_NOTHING:
        case CURLE_HTTP2:
        case CURLE_HTTP2_STREAM:
                set_msg(x, FETCH_ERR_NETWORK, "download of %s from %s broke off after %llu bytes: %s",
                        url, x->host, (unsigned long long)x->have, why);
                return true;
        default:
                set_msg(x, FETCH_ERR_NETWORK, "download of %s from %s failed: %s", url, x->host, why);
                return false;
        }
}

struct multi {
        CURLM *m;
        const struct fetch_opts *o;
        struct xfer *x;
        size_t n, running;
};

/* Takes a running transfer out of the multi handle (cancellation). */
static void xfer_stop(struct multi *mu, struct xfer *x)
{
        if (x->state == X_RUNNING) {
                (void)curl_multi_remove_handle(mu->m, x->easy);
                mu->running--;
                x->state = X_WAITING;
        }
}

/* Final state: a failed download keeps its part only when a later call may
 * resume it (transient kinds); the rest is removed. */
static void xfer_done(struct multi *mu, struct xfer *x)
{
        enum fetch_kind k = x->res->kind;

        x->state = X_DONE;
        x->res->duration_ms = now_ms() - x->started;
        if (k != FETCH_OK) {
                x->res->bytes = x->have;
                xfer_drop_sha(x);
                xfer_close_part(x);
                if (!(k == FETCH_ERR_TIMEOUT || k == FETCH_ERR_NETWORK || k == FETCH_ERR_CONNECT ||
                      k == FETCH_ERR_CANCELLED) || x->have == 0)
                        (void)unlink(x->part);
        }
        report_progress(x, mu->o, true);
}

static void xfer_start(struct multi *mu, struct xfer *x)
{
        int r;

        x->res->attempts++;
        r = xfer_open_part(x);
        if (r < 0) {
                set_msg(x, FETCH_ERR_IO, "could not open %s: %s", x->part, strerror(-r));
                xfer_done(mu, x);
                return;
        }
        if (xfer_setup(x, mu->o) < 0) {
                set_msg(x, FETCH_ERR_URL, "cannot download \"%s\": libcurl refused its options",
                        x->req->url);
                xfer_done(mu, x);
                return;
        }
        if (curl_multi_add_handle(mu->m, x->easy) != CURLM_OK) {
                set_msg(x, FETCH_ERR_IO, "could not start the download of %s", x->req->url);
                xfer_done(mu, x);
                return;
        }
        x->state = X_RUNNING;
        mu->running++;
}

static void xfer_ended(struct multi *mu, struct xfer *x, CURLcode rc)
{
        const struct fetch_opts *o = mu->o;
        long status = 0;
        bool restart = false, retry;

        (void)curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
        (void)curl_multi_remove_handle(mu->m, x->easy);
        mu->running--;
        x->state = X_WAITING;

        if (rc == CURLE_OK && x->abort_kind == FETCH_OK && status >= 200 && status < 300) {
                xfer_finish(x, &restart);
                if (!restart) {
                        xfer_done(mu, x);
                        return;
                }
                x->not_before = now_ms();
                return;
        }
        /* Range trouble: the part cannot be continued; start over once, now. */
        if ((rc == CURLE_RANGE_ERROR || status == 416) && x->have > 0 && !x->fresh_restart_used) {
                x->fresh_restart_used = true;
                (void)xfer_truncate(x);
                x->not_before = now_ms();
                return;
        }
        retry = classify(x, o, rc);
        if (rc == CURLE_OK && x->res->kind == FETCH_OK)
                set_msg(x, FETCH_ERR_HTTP, "HTTP %ld from %s for %s: not a file", status, x->host,
                        x->req->url);
        if (retry && x->res->attempts <= o->retries) {
                backoff(x, o);
                return;
        }
        xfer_done(mu, x);
}

/* *o from o_in (NULL: fetch_opts_init()), every 0 that means "default"
 * replaced by it. */
static void opts_fill(struct fetch_opts *o, const struct fetch_opts *o_in)
{
        struct fetch_opts d;

        fetch_opts_init(&d);
        *o = o_in ? *o_in : d;
#define DEFAULT(field) do { if (!o->field) o->field = d.field; } while (0)
        DEFAULT(max_redirects);
        DEFAULT(backoff_ms);
        DEFAULT(backoff_max_ms);
        DEFAULT(connect_timeout_ms);
        DEFAULT(low_speed_bytes);
        DEFAULT(low_speed_s);
        DEFAULT(max_parallel);
#undef DEFAULT
}

int fetch_many(const struct fetch_req *reqs, size_t n, const struct fetch_opts *o_in,
               struct fetch_result *results)
{
        struct fetch_opts o;
        struct multi mu = { 0 };
        int r = 0;

        opts_fill(&o, o_in);

        for (size_t i = 0; i < n; i++)
                results[i] = (struct fetch_result){ .kind = FETCH_OK };
        if (n == 0)
                return 0;
        if (fetch_global_init() < 0)
                return -ENOMEM;

        mu.o = &o;
        mu.n = n;
        mu.m = curl_multi_init();
        mu.x = xcalloc(n, sizeof(*mu.x));
        if (!mu.m) {
                free(mu.x);
                return -ENOMEM;
        }
        for (size_t i = 0; i < n; i++) {
                struct xfer *x = &mu.x[i];

                x->index = i;
                x->req = &reqs[i];
                x->res = &results[i];
                x->fd = -1;
                x->max = reqs[i].max_bytes ? reqs[i].max_bytes : DEFAULT_MAX_BYTES;
                x->backoff_ms = o.backoff_ms;
                x->started = now_ms();
                x->part = xasprintf("%s.part", reqs[i].dest ? reqs[i].dest : "");
                x->state = X_WAITING;
                url_host(reqs[i].url ? reqs[i].url : "", x->host, sizeof(x->host));
                if (!reqs[i].url || !reqs[i].dest || !reqs[i].dest[0] ||
                    !(startswith(reqs[i].url, "http://") || startswith(reqs[i].url, "https://"))) {
                        set_msg(x, FETCH_ERR_URL, "cannot download \"%s\": only http:// and https:// "
                                "URLs (and a destination path) are accepted",
                                reqs[i].url ? reqs[i].url : "(none)");
                        x->state = X_DONE;
                        continue;
                }
                if (reqs[i].sha256 && strlen(reqs[i].sha256) != SHA256_HEX - 1) {
                        set_msg(x, FETCH_ERR_CHECKSUM, "the expected sha256 for %s is not 64 hex "
                                "digits: \"%s\"", reqs[i].url, reqs[i].sha256);
                        x->state = X_DONE;
                        continue;
                }
                x->easy = curl_easy_init();
                if (!x->easy) {
                        set_msg(x, FETCH_ERR_IO, "out of memory starting %s", reqs[i].url);
                        x->state = X_DONE;
                }
        }

        for (;;) {
                int64_t t = now_ms(), wait_ms = POLL_MAX_MS;
                bool pending = false, cancel, ended;
                int still = 0, numfds = 0;
                CURLMsg *msg;

                cancel = o.cancel && o.cancel(o.userdata);
                for (size_t i = 0; i < n; i++) {
                        struct xfer *x = &mu.x[i];

                        if (x->state == X_DONE)
                                continue;
                        if (cancel) {
                                xfer_stop(&mu, x);
                                set_msg(x, FETCH_ERR_CANCELLED, "download of %s cancelled", x->req->url);
                                xfer_done(&mu, x);
                                continue;
                        }
                        pending = true;
                        if (x->state == X_WAITING) {
                                if (x->not_before <= t && mu.running < o.max_parallel)
                                        xfer_start(&mu, x);
                                else if (x->not_before > t && x->not_before - t < wait_ms)
                                        wait_ms = x->not_before - t;
                        }
                }
                if (!pending)
                        break;

                (void)curl_multi_perform(mu.m, &still);
                ended = false;
                while ((msg = curl_multi_info_read(mu.m, &still))) {
                        if (msg->msg != CURLMSG_DONE)
                                continue;
                        for (size_t i = 0; i < n; i++)
                                if (mu.x[i].easy == msg->easy_handle && mu.x[i].state == X_RUNNING) {
                                        xfer_ended(&mu, &mu.x[i], msg->data.result);
                                        ended = true;
                                        break;
                                }
                }
                if (ended)
                        continue;   /* a slot is free or a restart is due: start it now */
                for (size_t i = 0; i < n; i++)
                        if (mu.x[i].state == X_RUNNING)
                                report_progress(&mu.x[i], &o, false);
                if (mu.running == 0 && wait_ms > 0) {
                        bool any_waiting = false;

                        for (size_t i = 0; i < n; i++)
                                any_waiting |= mu.x[i].state == X_WAITING;
                        if (any_waiting)
                                sleep_ms((unsigned)wait_ms);
                        continue;
                }
                (void)curl_multi_poll(mu.m, NULL, 0, (int)wait_ms, &numfds);
        }

        for (size_t i = 0; i < n; i++) {
                struct xfer *x = &mu.x[i];

                if (x->easy)
                        curl_easy_cleanup(x->easy);
                xfer_drop_sha(x);
                xfer_close_part(x);
                free(x->part);
                if (r == 0 && results[i].kind != FETCH_OK)
                        r = fetch_kind_errno(results[i].kind);
        }
        curl_multi_cleanup(mu.m);
        free(mu.x);
        return r;
}

int fetch_file(const struct fetch_req *req, const struct fetch_opts *o, struct fetch_result *ret)
{
        struct fetch_result res;
        int r = fetch_many(req, 1, o, &res);

        if (ret)
                *ret = res;
        return r;
}

/* A HEAD has no body, but a server may send one anyway. */
static size_t discard(char *ptr, size_t size, size_t nmemb, void *userdata)
{
        (void)ptr;
        (void)userdata;
        return size * nmemb;
}

int fetch_head(const char *url, unsigned timeout_ms, const struct fetch_opts *o_in,
               struct fetch_result *ret)
{
        struct fetch_opts o;
        struct fetch_result res = { .kind = FETCH_OK };
        struct fetch_req req = { .url = url };
        struct xfer x = { .req = &req, .res = &res, .fd = -1, .head = true };
        int64_t t0 = now_ms();
        CURLcode rc;

        opts_fill(&o, o_in);
        x.head_timeout_ms = timeout_ms ? timeout_ms : 5000;
        if (o.connect_timeout_ms > x.head_timeout_ms)
                o.connect_timeout_ms = x.head_timeout_ms;
        url_host(url ? url : "", x.host, sizeof(x.host));
        res.attempts = 1;
        if (!url || !(startswith(url, "http://") || startswith(url, "https://"))) {
                set_msg(&x, FETCH_ERR_URL, "cannot ask \"%s\": only http:// and https:// URLs are "
                        "accepted", url ? url : "(none)");
                goto out;
        }
        if (fetch_global_init() < 0 || !(x.easy = curl_easy_init())) {
                set_msg(&x, FETCH_ERR_IO, "cannot start libcurl for %s", url);
                goto out;
        }
        if (request_setup(&x, &o) < 0 ||
            curl_easy_setopt(x.easy, CURLOPT_NOBODY, 1L) != CURLE_OK ||
            curl_easy_setopt(x.easy, CURLOPT_WRITEFUNCTION, discard) != CURLE_OK ||
            curl_easy_setopt(x.easy, CURLOPT_TIMEOUT_MS, (long)x.head_timeout_ms) != CURLE_OK) {
                set_msg(&x, FETCH_ERR_URL, "cannot ask \"%s\": libcurl refused its options", url);
                goto out;
        }
        rc = curl_easy_perform(x.easy);
        if (rc != CURLE_OK)
                (void)classify(&x, &o, rc);
        else {
                (void)curl_easy_getinfo(x.easy, CURLINFO_RESPONSE_CODE, &res.http_status);
                if (res.http_status >= 400)
                        (void)classify(&x, &o, rc);
        }
out:
        if (x.easy)
                curl_easy_cleanup(x.easy);
        res.duration_ms = now_ms() - t0;
        if (ret)
                *ret = res;
        return fetch_kind_errno(res.kind);
}
