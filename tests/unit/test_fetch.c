/* test_fetch.c — engine/fetch against a loopback HTTP server the test
 * starts itself (helpers/httpd.c): success with digest, HTTP errors,
 * retries with backoff, resume, size cap, redirects, DNS / connect / TLS /
 * stall failures, checksum, parallel downloads, cancellation; the HEAD
 * request (status, redirects, errors, timeout, through a proxy); libcurl
 * loaded only by the first request, and the sentence when it is missing. */
#include "testlib.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fetch.h"
#include "httpd.h"
#include "run.h"
#include "util.h"

#define BODY_LEN (300 * 1024)

static char *body;
static char body_sha[SHA256_HEX];

static struct httpd *srv;
static char *dir;

static int setup(void **state)
{
        (void)state;
        srv = httpd_start(0, NULL);
        assert_non_null(srv);
        dir = test_tmpdir();
        return 0;
}

static int teardown(void **state)
{
        (void)state;
        httpd_stop(srv);
        srv = NULL;
        return 0;
}

static void fast_opts(struct fetch_opts *o)
{
        fetch_opts_init(o);
        o->backoff_ms = 50;
        o->backoff_max_ms = 400;
        /* a TLS handshake counts as connecting: under valgrind it can take
         * seconds, and a timeout then would be retried like a network error */
        o->connect_timeout_ms = test_under_valgrind() ? 20000 : 3000;
        o->low_speed_s = 5;
        o->retries = 2;
}

static void route_body(const char *path)
{
        httpd_route(srv, &(struct httpd_route){ .path = path, .body = body, .len = BODY_LEN });
}

struct progress_seen {
        unsigned calls;
        uint64_t last_done, last_total;
};

static void on_progress(void *userdata, size_t index, uint64_t done, uint64_t total)
{
        struct progress_seen *p = userdata;

        (void)index;
        p->calls++;
        assert_true(done >= p->last_done || p->last_done == 0 || done == 0);
        p->last_done = done;
        p->last_total = total;
}

static void test_ok_digest_and_progress(void **state)
{
        _cleanup_free_ char *url = httpd_url(srv, "/file.bin"), *dest = test_path(dir, "file.bin");
        _cleanup_free_ char *part = xasprintf("%s.part", dest);
        struct progress_seen seen = { 0 };
        struct fetch_opts o;
        struct fetch_result res;
        char got[SHA256_HEX];

        (void)state;
        route_body("/file.bin");
        fast_opts(&o);
        o.progress = on_progress;
        o.userdata = &seen;
        assert_int_equal(fetch_file(&(struct fetch_req){ .url = url, .dest = dest, .sha256 = body_sha },
                                    &o, &res), 0);
        assert_int_equal(res.kind, FETCH_OK);
        assert_string_equal(res.sha256, body_sha);
        assert_int_equal(res.bytes, BODY_LEN);
        assert_int_equal(res.attempts, 1);
        assert_int_equal(res.http_status, 200);
        assert_string_equal(res.message, "");
        assert_int_equal(sha256_file(dest, got), 0);
        assert_string_equal(got, body_sha);
        assert_false(path_exists(part));
        assert_true(seen.calls >= 1);
        assert_int_equal(seen.last_done, BODY_LEN);
        assert_int_equal(seen.last_total, BODY_LEN);
}

static void test_404_not_retried(void **state)
{
        _cleanup_free_ char *url = httpd_url(srv, "/missing.asc"), *dest = test_path(dir, "missing");
        _cleanup_free_ char *part = xasprintf("%s.part", dest);
        _cleanup_free_ char *log = NULL;
        struct fetch_opts o;
        struct fetch_result res;

        (void)state;
        fast_opts(&o);
        assert_int_equal(fetch_file(&(struct fetch_req){ .url = url, .dest = dest }, &o, &res),
                         -EREMOTEIO);
        assert_int_equal(res.kind, FETCH_ERR_HTTP);
        assert_int_equal(res.http_status, 404);
        assert_int_equal(res.attempts, 1);
        assert_non_null(strstr(res.message, "HTTP 404"));
        assert_non_null(strstr(res.message, url));
        assert_false(path_exists(dest));
        assert_false(path_exists(part));
        log = httpd_log(srv);
        assert_string_equal(log, "GET /missing.asc\n");
}

static void test_503_retried_with_backoff(void **state)
{
        _cleanup_free_ char *url = httpd_url(srv, "/busy"), *dest = test_path(dir, "busy");
        struct fetch_opts o;
        struct fetch_result res;
        int64_t t0;

        (void)state;
        httpd_route(srv, &(struct httpd_route){ .path = "/busy", .body = body, .len = BODY_LEN,
                                                .fail_first = 2 });
        fast_opts(&o);
        o.backoff_ms = 200;
        t0 = now_ms();
        assert_int_equal(fetch_file(&(struct fetch_req){ .url = url, .dest = dest, .sha256 = body_sha },
                                    &o, &res), 0);
        /* Two waits: 200 ms, then 400 ms. */
        assert_true(now_ms() - t0 >= 600);
        assert_int_equal(res.attempts, 3);
        assert_int_equal(httpd_hits(srv, "/busy"), 3);
        assert_string_equal(res.sha256, body_sha);
}

static void test_503_retries_exhausted(void **state)
{
        _cleanup_free_ char *url = httpd_url(srv, "/down"), *dest = test_path(dir, "down");
        struct fetch_opts o;
        struct fetch_result res;

        (void)state;
        httpd_route(srv, &(struct httpd_route){ .path = "/down", .body = "x", .len = 1,
                                                .fail_first = 100 });
        fast_opts(&o);
        o.retries = 1;
        assert_int_equal(fetch_file(&(struct fetch_req){ .url = url, .dest = dest }, &o, &res),
                         -EREMOTEIO);
        assert_int_equal(res.attempts, 2);
        assert_int_equal(res.http_status, 503);
        assert_non_null(strstr(res.message, "HTTP 503"));
        assert_false(path_exists(dest));
}

static void test_resume_after_drop(void **state)
{
        _cleanup_free_ char *url = httpd_url(srv, "/flaky"), *dest = test_path(dir, "flaky");
        _cleanup_free_ char *log = NULL;
        struct fetch_opts o;
        struct fetch_result res;
        char got[SHA256_HEX];

        (void)state;
        httpd_route(srv, &(struct httpd_route){ .path = "/flaky", .body = body, .len = BODY_LEN,
                                                .drop_first = 1, .drop_after = 100000 });
        fast_opts(&o);
        assert_int_equal(fetch_file(&(struct fetch_req){ .url = url, .dest = dest, .sha256 = body_sha },
                                    &o, &res), 0);
        assert_int_equal(res.attempts, 2);
        assert_int_equal(res.resumed_from, 100000);
        assert_int_equal(res.http_status, 206);
        assert_int_equal(sha256_file(dest, got), 0);
        assert_string_equal(got, body_sha);
        log = httpd_log(srv);
        assert_string_equal(log, "GET /flaky\nGET /flaky range=bytes=100000-\n");
}

static void test_resume_server_ignores_range(void **state)
{
        _cleanup_free_ char *url = httpd_url(srv, "/norange"), *dest = test_path(dir, "norange");
        struct fetch_opts o;
        struct fetch_result res;

        (void)state;
        httpd_route(srv, &(struct httpd_route){ .path = "/norange", .body = body, .len = BODY_LEN,
                                                .drop_first = 1, .drop_after = 5000,
                                                .ignore_range = true });
        fast_opts(&o);
        assert_int_equal(fetch_file(&(struct fetch_req){ .url = url, .dest = dest, .sha256 = body_sha },
                                    &o, &res), 0);
        assert_string_equal(res.sha256, body_sha);
        assert_int_equal(res.bytes, BODY_LEN);
        assert_int_equal(res.resumed_from, 0);
}

/* A part left by an earlier run: a right prefix is continued, a wrong one
 * is detected by the digest and fetched again from byte 0. */
static void test_resume_from_earlier_part(void **state)
{
        _cleanup_free_ char *url = httpd_url(srv, "/part"), *dest = test_path(dir, "part");
        _cleanup_free_ char *part = xasprintf("%s.part", dest), *log = NULL;
        _cleanup_free_ char *bad = xmalloc(1000);
        struct fetch_opts o;
        struct fetch_result res;

        (void)state;
        route_body("/part");
        fast_opts(&o);
        assert_int_equal(write_file_atomic(part, body, 1000, 0600, (uid_t)-1, (gid_t)-1), 0);
        assert_int_equal(fetch_file(&(struct fetch_req){ .url = url, .dest = dest, .sha256 = body_sha },
                                    &o, &res), 0);
        assert_int_equal(res.resumed_from, 1000);
        log = httpd_log(srv);
        assert_string_equal(log, "GET /part range=bytes=1000-\n");

        assert_int_equal(unlink(dest), 0);
        memset(bad, 'Z', 1000);
        assert_int_equal(write_file_atomic(part, bad, 1000, 0600, (uid_t)-1, (gid_t)-1), 0);
        assert_int_equal(fetch_file(&(struct fetch_req){ .url = url, .dest = dest, .sha256 = body_sha },
                                    &o, &res), 0);
        assert_string_equal(res.sha256, body_sha);
        assert_int_equal(res.resumed_from, 0);
        free(log);
        log = httpd_log(srv);
        assert_string_equal(log, "GET /part range=bytes=1000-\nGET /part range=bytes=1000-\nGET /part\n");
}

static void test_size_cap(void **state)
{
        _cleanup_free_ char *url = httpd_url(srv, "/big"), *dest = test_path(dir, "big");
        _cleanup_free_ char *part = xasprintf("%s.part", dest);
        struct fetch_opts o;
        struct fetch_result res;

        (void)state;
        route_body("/big");
        fast_opts(&o);
        assert_int_equal(fetch_file(&(struct fetch_req){ .url = url, .dest = dest, .max_bytes = 4096 },
                                    &o, &res), -EFBIG);
        assert_int_equal(res.kind, FETCH_ERR_SIZE);
        assert_int_equal(res.attempts, 1);
        assert_non_null(strstr(res.message, "larger than the limit of 4096 bytes"));
        assert_false(path_exists(dest));
        assert_false(path_exists(part));
}

/* Without a Content-Length the cap is enforced while streaming. */
static void test_size_cap_streaming(void **state)
{
        _cleanup_free_ char *url = httpd_url(srv, "/nolen"), *dest = test_path(dir, "nolen");
        _cleanup_free_ char *part = xasprintf("%s.part", dest);
        struct fetch_opts o;
        struct fetch_result res;

        (void)state;
        httpd_route(srv, &(struct httpd_route){ .path = "/nolen", .body = body, .len = BODY_LEN,
                                                .no_length = true });
        fast_opts(&o);
        assert_int_equal(fetch_file(&(struct fetch_req){ .url = url, .dest = dest, .max_bytes = 16384 },
                                    &o, &res), -EFBIG);
        assert_int_equal(res.kind, FETCH_ERR_SIZE);
        assert_true(res.bytes <= 16384);
        assert_false(path_exists(part));
        assert_false(path_exists(dest));

        /* Under the cap the same answer is a whole file. */
        assert_int_equal(fetch_file(&(struct fetch_req){ .url = url, .dest = dest, .sha256 = body_sha },
                                    &o, &res), 0);
        assert_int_equal(res.bytes, BODY_LEN);
}

static void test_redirects(void **state)
{
        _cleanup_free_ char *url = httpd_url(srv, "/r1"), *dest = test_path(dir, "redir");
        _cleanup_free_ char *r2 = httpd_url(srv, "/r2"), *fin = httpd_url(srv, "/final");
        _cleanup_free_ char *loop = httpd_url(srv, "/loop"), *dest2 = test_path(dir, "loop");
        struct fetch_opts o;
        struct fetch_result res;

        (void)state;
        route_body("/final");
        httpd_route(srv, &(struct httpd_route){ .path = "/r1", .status = 302, .location = r2 });
        httpd_route(srv, &(struct httpd_route){ .path = "/r2", .status = 301, .location = fin });
        httpd_route(srv, &(struct httpd_route){ .path = "/loop", .status = 302, .location = loop });
        fast_opts(&o);
        o.max_redirects = 3;
        assert_int_equal(fetch_file(&(struct fetch_req){ .url = url, .dest = dest, .sha256 = body_sha },
                                    &o, &res), 0);
        assert_int_equal(httpd_hits(srv, "/final"), 1);

        assert_int_equal(fetch_file(&(struct fetch_req){ .url = loop, .dest = dest2 }, &o, &res),
                         -ELOOP);
        assert_int_equal(res.kind, FETCH_ERR_REDIRECTS);
        assert_int_equal(res.attempts, 1);
        /* The first request and three redirects followed. */
        assert_int_equal(httpd_hits(srv, "/loop"), 4);
        assert_non_null(strstr(res.message, "more than 3 times"));
        assert_false(path_exists(dest2));
}

/* A port that was just free: nobody listens there. */
static unsigned closed_port(void)
{
        struct sockaddr_in sa = { .sin_family = AF_INET };
        socklen_t sl = sizeof(sa);
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        unsigned port;

        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        assert_true(fd >= 0);
        assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
        assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
        port = ntohs(sa.sin_port);
        close(fd);
        return port;
}

static void test_connection_refused_retried(void **state)
{
        _cleanup_free_ char *url = xasprintf("http://127.0.0.1:%u/key.asc", closed_port());
        _cleanup_free_ char *dest = test_path(dir, "refused");
        struct fetch_opts o;
        struct fetch_result res;

        (void)state;
        fast_opts(&o);
        assert_int_equal(fetch_file(&(struct fetch_req){ .url = url, .dest = dest }, &o, &res),
                         -ECONNREFUSED);
        assert_int_equal(res.kind, FETCH_ERR_CONNECT);
        assert_int_equal(res.attempts, 3);
        assert_non_null(strstr(res.message, "could not connect to 127.0.0.1"));
        assert_false(path_exists(dest));
}

static void test_dns_failure(void **state)
{
        _cleanup_free_ char *dest = test_path(dir, "dns");
        struct fetch_opts o;
        struct fetch_result res;

        (void)state;
        fast_opts(&o);
        /* .invalid never resolves (RFC 6761), with or without a network. */
        assert_int_equal(fetch_file(&(struct fetch_req){ .url = "https://no-such-host.invalid/k.asc",
                                                         .dest = dest }, &o, &res),
                         -EHOSTUNREACH);
        assert_int_equal(res.kind, FETCH_ERR_DNS);
        assert_int_equal(res.attempts, 1);
        assert_non_null(strstr(res.message, "could not resolve host no-such-host.invalid (DNS)"));
}

/* https:// to a server that speaks plain HTTP: the handshake fails, and
 * that is reported as TLS and never retried. */
static void test_tls_failure(void **state)
{
        _cleanup_free_ char *dest = test_path(dir, "tls");
        _cleanup_free_ char *url = xasprintf("https://127.0.0.1:%u/file.bin", httpd_port(srv));
        struct fetch_opts o;
        struct fetch_result res;
        int r;

        (void)state;
        route_body("/file.bin");
        fast_opts(&o);
        /* The handshake counts as connecting: on a loaded machine it can
         * outlast a short connect timeout, which would be retried as a
         * network error and hide what this checks (a TLS failure is not). */
        o.connect_timeout_ms = 20000;
        r = fetch_file(&(struct fetch_req){ .url = url, .dest = dest }, &o, &res);
        print_message("tls: %s\n", res.message);
        assert_int_equal(r, -EPROTO);
        assert_int_equal(res.kind, FETCH_ERR_TLS);
        assert_int_equal(res.attempts, 1);
        assert_non_null(strstr(res.message, "TLS with 127.0.0.1 failed"));
        assert_false(path_exists(dest));
}

static void test_stall_times_out_and_resumes(void **state)
{
        _cleanup_free_ char *url = httpd_url(srv, "/stall"), *dest = test_path(dir, "stall");
        _cleanup_free_ char *part = xasprintf("%s.part", dest), *log = NULL;
        struct fetch_opts o;
        struct fetch_result res;
        int64_t t0 = now_ms(), dt;

        (void)state;
        httpd_route(srv, &(struct httpd_route){ .path = "/stall", .body = body, .len = BODY_LEN,
                                                .stall = true, .stall_after = 1000 });
        fast_opts(&o);
        o.retries = 1;
        /* curl averages speed over the last few seconds: a limit above what
         * the first 1000 bytes give keeps the detection at about 1 s. */
        o.low_speed_bytes = 4096;
        o.low_speed_s = 1;
        assert_int_equal(fetch_file(&(struct fetch_req){ .url = url, .dest = dest }, &o, &res),
                         -ETIMEDOUT);
        dt = now_ms() - t0;
        print_message("stall: %lld ms: %s\n", (long long)dt, res.message);
        assert_int_equal(res.kind, FETCH_ERR_TIMEOUT);
        assert_int_equal(res.attempts, 2);
        assert_non_null(strstr(res.message, "stalled"));
        /* Two attempts of about one second each (low_speed_s = 1). */
        assert_true(dt >= 1500 && dt < 8000);
        /* The second attempt continued after the first's 1000 bytes. */
        log = httpd_log(srv);
        assert_string_equal(log, "GET /stall\nGET /stall range=bytes=1000-\n");
        /* The part stays for a later call to resume. */
        assert_true(path_exists(part));
        assert_false(path_exists(dest));
        assert_int_equal(unlink(part), 0);
}

static void test_checksum_mismatch(void **state)
{
        _cleanup_free_ char *url = httpd_url(srv, "/file.bin"), *dest = test_path(dir, "sum");
        _cleanup_free_ char *part = xasprintf("%s.part", dest);
        const char *wrong = "0000000000000000000000000000000000000000000000000000000000000000";
        struct fetch_opts o;
        struct fetch_result res;

        (void)state;
        route_body("/file.bin");
        fast_opts(&o);
        assert_int_equal(fetch_file(&(struct fetch_req){ .url = url, .dest = dest, .sha256 = wrong },
                                    &o, &res), -EBADMSG);
        assert_int_equal(res.kind, FETCH_ERR_CHECKSUM);
        assert_int_equal(res.attempts, 1);
        assert_non_null(strstr(res.message, body_sha));
        assert_non_null(strstr(res.message, wrong));
        assert_false(path_exists(dest));
        assert_false(path_exists(part));

        assert_int_equal(fetch_file(&(struct fetch_req){ .url = url, .dest = dest, .sha256 = "abc" },
                                    &o, &res), -EBADMSG);
        assert_int_equal(res.attempts, 0);
}

static void test_bad_url(void **state)
{
        _cleanup_free_ char *dest = test_path(dir, "ftp");
        struct fetch_result res;

        (void)state;
        assert_int_equal(fetch_file(&(struct fetch_req){ .url = "ftp://example.org/x", .dest = dest },
                                    NULL, &res), -EINVAL);
        assert_int_equal(res.kind, FETCH_ERR_URL);
        assert_non_null(strstr(res.message, "only http:// and https://"));
        assert_int_equal(res.attempts, 0);
}

/* Three slow answers (600 ms each) fetched at once take about 600 ms, not
 * 1800; one failing URL among them does not stop the others. */
static void test_parallel(void **state)
{
        const char *paths[] = { "/p0", "/p1", "/p2", "/p-missing" };
        char *url[4] = { NULL }, *dest[4] = { NULL };
        struct fetch_req reqs[4];
        struct fetch_result res[4];
        struct fetch_opts o;
        int64_t t0, dt;

        (void)state;
        for (size_t i = 0; i < 4; i++) {
                if (i < 3)
                        httpd_route(srv, &(struct httpd_route){ .path = paths[i], .body = body,
                                                                .len = BODY_LEN, .delay_ms = 600 });
                url[i] = httpd_url(srv, paths[i]);
                dest[i] = test_path(dir, paths[i] + 1);
                reqs[i] = (struct fetch_req){ .url = url[i], .dest = dest[i],
                                              .sha256 = i < 3 ? body_sha : NULL };
        }
        fast_opts(&o);
        t0 = now_ms();
        assert_int_equal(fetch_many(reqs, 4, &o, res), -EREMOTEIO);
        dt = now_ms() - t0;
        for (size_t i = 0; i < 3; i++) {
                assert_int_equal(res[i].kind, FETCH_OK);
                assert_string_equal(res[i].sha256, body_sha);
                assert_true(path_exists(dest[i]));
        }
        assert_int_equal(res[3].kind, FETCH_ERR_HTTP);
        assert_true(httpd_max_concurrent(srv) >= 3);
        if (!test_under_valgrind())
                assert_true(dt < 1500);
        print_message("parallel: 3 x 600 ms answers fetched in %lld ms\n", (long long)dt);

        /* max_parallel = 1 makes them serial. */
        for (size_t i = 0; i < 3; i++)
                assert_int_equal(unlink(dest[i]), 0);
        o.max_parallel = 1;
        t0 = now_ms();
        assert_int_equal(fetch_many(reqs, 3, &o, res), 0);
        dt = now_ms() - t0;
        assert_true(dt >= 1800);
        print_message("serial: 3 x 600 ms answers fetched in %lld ms\n", (long long)dt);
        for (size_t i = 0; i < 4; i++) {
                free(url[i]);
                free(dest[i]);
        }
}

static bool cancel_after(void *userdata)
{
        int64_t *deadline = userdata;

        return now_ms() >= *deadline;
}

static void test_cancel(void **state)
{
        _cleanup_free_ char *url = httpd_url(srv, "/stall2"), *dest = test_path(dir, "cancel");
        struct fetch_opts o;
        struct fetch_result res;
        int64_t deadline = now_ms() + 300, t0 = now_ms();

        (void)state;
        httpd_route(srv, &(struct httpd_route){ .path = "/stall2", .body = body, .len = BODY_LEN,
                                                .stall = true, .stall_after = 10 });
        fast_opts(&o);
        o.low_speed_s = 30;
        o.cancel = cancel_after;
        o.userdata = &deadline;
        assert_int_equal(fetch_file(&(struct fetch_req){ .url = url, .dest = dest }, &o, &res),
                         -ECANCELED);
        assert_int_equal(res.kind, FETCH_ERR_CANCELLED);
        assert_true(now_ms() - t0 < 3000);
        assert_false(path_exists(dest));
}


/* ---- a real TLS server: openssl s_server -WWW with a certificate made here */

static char *tls_dir;
static pid_t tls_pid = -1;
static unsigned tls_port;

static int tls_setup(void **state)
{
        _cleanup_free_ char *key = NULL, *cert = NULL, *out = NULL, *port = NULL, *file = NULL;
        int64_t t0;

        (void)state;
        tls_dir = test_tmpdir();
        key = test_path(tls_dir, "key.pem");
        cert = test_path(tls_dir, "cert.pem");
        {
                /* valid for the name localhost only (not for 127.0.0.1) */
                const char *const argv[] = { "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                                             "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key,
                                             "-out", cert, "-days", "2", "-subj", "/CN=localhost",
                                             "-addext", "subjectAltName=DNS:localhost", NULL };
                assert_int_equal(run_capture(argv, 1 << 20, &out), 0);
        }
        file = test_path(tls_dir, "file.bin");
        assert_int_equal(write_file_atomic(file, body, BODY_LEN, 0644, (uid_t)-1, (gid_t)-1), 0);
        tls_port = closed_port();
        port = xasprintf("%u", tls_port);
        tls_pid = fork();
        assert_true(tls_pid >= 0);
        if (tls_pid == 0) {
                int null = open("/dev/null", O_RDWR | O_CLOEXEC);

                if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0 ||
                    chdir(tls_dir) < 0)
                        _exit(127);
                execlp("openssl", "openssl", "s_server", "-quiet", "-accept", port, "-cert", cert,
                       "-key", key, "-WWW", (char *)NULL);
                _exit(127);
        }
        /* ready once it accepts connections */
        for (t0 = now_ms(); now_ms() - t0 < 10000; sleep_ms(50)) {
                struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)tls_port) };
                int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
                int ok;

                sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
                ok = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
                close(fd);
                if (ok)
                        return 0;
        }
        fail_msg("openssl s_server did not start on port %u", tls_port);
        return -1;
}

static int tls_teardown(void **state)
{
        (void)state;
        if (tls_pid > 0) {
                kill(tls_pid, SIGTERM);
                waitpid(tls_pid, NULL, 0);
        }
        tls_pid = -1;
        return 0;
}

/* TLS is verified: a certificate nobody vouches for is refused, one that
 * the given CA file vouches for is accepted, and only for its own name. */
static void test_tls_verified(void **state)
{
        _cleanup_free_ char *cert = test_path(tls_dir, "cert.pem"), *dest = test_path(tls_dir, "out.bin");
        _cleanup_free_ char *by_name = xasprintf("https://localhost:%u/file.bin", tls_port);
        _cleanup_free_ char *by_ip = xasprintf("https://127.0.0.1:%u/file.bin", tls_port);
        struct fetch_opts o;
        struct fetch_result res;

        (void)state;
        fast_opts(&o);
        /* a handshake that times out is retried like a network error, and
         * this test counts attempts: on a loaded machine openssl s_server can
         * take seconds to answer, so only a hung server may time out here */
        o.connect_timeout_ms = 60000;
        /* unknown issuer */
        assert_int_equal(fetch_file(&(struct fetch_req){ .url = by_name, .dest = dest }, &o, &res),
                         -EPROTO);
        assert_int_equal(res.kind, FETCH_ERR_TLS);
        assert_int_equal(res.attempts, 1);
        assert_non_null(strstr(res.message, "certificate"));
        assert_false(path_exists(dest));
        print_message("tls (unknown issuer): %s\n", res.message);

        /* trusted through ca_file: the download works */
        o.ca_file = cert;
        assert_int_equal(fetch_file(&(struct fetch_req){ .url = by_name, .dest = dest, .sha256 = body_sha },
                                    &o, &res), 0);
        assert_string_equal(res.sha256, body_sha);
        assert_int_equal(unlink(dest), 0);

        /* trusted issuer, wrong name: still refused */
        assert_int_equal(fetch_file(&(struct fetch_req){ .url = by_ip, .dest = dest }, &o, &res),
                         -EPROTO);
        assert_int_equal(res.kind, FETCH_ERR_TLS);
        assert_false(path_exists(dest));
        print_message("tls (name mismatch): %s\n", res.message);
}

/* fetch_head(): the status of the final answer, nothing written anywhere,
 * the same failure kinds as a download, a bounded wait, and a proxy used
 * even for a host the environment's no_proxy names. */
static void test_head(void **state)
{
        _cleanup_free_ char *ok = httpd_url(srv, "/dists/trixie/InRelease");
        _cleanup_free_ char *missing = httpd_url(srv, "/dists/nowhere/InRelease");
        _cleanup_free_ char *moved = httpd_url(srv, "/moved");
        _cleanup_free_ char *slow = httpd_url(srv, "/slow");
        _cleanup_free_ char *refused = xasprintf("http://127.0.0.1:%u/x", closed_port());
        _cleanup_free_ char *proxy = xasprintf("http://127.0.0.1:%u", httpd_port(srv));
        _cleanup_free_ char *log = NULL;
        struct fetch_opts o;
        struct fetch_result res;
        int64_t t0;

        (void)state;
        route_body("/dists/trixie/InRelease");
        httpd_route(srv, &(struct httpd_route){ .path = "/moved", .status = 301,
                                                .location = "/dists/trixie/InRelease" });
        /* under valgrind connecting alone can take longer than 300 ms */
        unsigned limit = test_under_valgrind() ? 2000 : 300;

        httpd_route(srv, &(struct httpd_route){ .path = "/slow", .body = "x", .len = 1,
                                                .delay_ms = limit + 3000 });
        httpd_route(srv, &(struct httpd_route){ .path = "http://archive.invalid/dists/trixie/InRelease",
                                                .body = "x", .len = 1 });
        fast_opts(&o);

        assert_int_equal(fetch_head(ok, 2000, &o, &res), 0);
        assert_int_equal(res.kind, FETCH_OK);
        assert_int_equal(res.http_status, 200);
        assert_int_equal(res.bytes, 0);
        assert_int_equal(res.attempts, 1);

        /* 404: answered, an HTTP error, not retried */
        assert_int_equal(fetch_head(missing, 2000, &o, &res), -EREMOTEIO);
        assert_int_equal(res.kind, FETCH_ERR_HTTP);
        assert_int_equal(res.http_status, 404);
        assert_non_null(strstr(res.message, "HTTP 404"));

        /* a redirect is followed; the final answer counts */
        assert_int_equal(fetch_head(moved, 2000, &o, &res), 0);
        assert_int_equal(res.http_status, 200);

        assert_int_equal(fetch_head(refused, 2000, &o, &res), -ECONNREFUSED);
        assert_int_equal(res.kind, FETCH_ERR_CONNECT);
        assert_int_equal(res.attempts, 1);
        assert_true(res.detail[0] != '\0');

        /* a server that holds its answer: the timeout holds */
        t0 = now_ms();
        assert_int_equal(fetch_head(slow, limit, &o, &res), -ETIMEDOUT);
        assert_true(now_ms() - t0 < limit + 2000);
        assert_int_equal(res.kind, FETCH_ERR_TIMEOUT);
        assert_non_null(strstr(res.message, "timed out"));

        assert_int_equal(fetch_head("file:///etc/passwd", 300, &o, &res), -EINVAL);
        assert_int_equal(res.kind, FETCH_ERR_URL);

        /* through a proxy (the loopback server plays it): the absolute URL
         * goes to the proxy, although no_proxy names every host */
        setenv("no_proxy", "*", 1);
        o.proxy = proxy;
        assert_int_equal(fetch_head("http://archive.invalid/dists/trixie/InRelease", 2000, &o,
                                    &res), 0);
        assert_int_equal(res.http_status, 200);
        unsetenv("no_proxy");
        log = httpd_log(srv);
        assert_non_null(strstr(log, "HEAD /dists/trixie/InRelease\n"));
        assert_non_null(strstr(log, "HEAD http://archive.invalid/dists/trixie/InRelease\n"));
        assert_null(strstr(log, "GET "));
}

static void test_kind_names(void **state)
{
        (void)state;
        assert_string_equal(fetch_kind_name(FETCH_ERR_DNS), "dns");
        assert_string_equal(fetch_kind_name(FETCH_ERR_TLS), "tls");
        assert_string_equal(fetch_kind_name(_FETCH_KIND_MAX), "unknown");
        for (int k = 1; k < _FETCH_KIND_MAX; k++)
                assert_true(fetch_kind_errno(k) < 0);
        assert_int_equal(fetch_kind_errno(FETCH_OK), 0);
}

/* True when this process has libcurl mapped. */
static bool libcurl_mapped(void)
{
        char line[512];
        bool found = false;
        FILE *f = fopen("/proc/self/maps", "re");

        assert_non_null(f);
        while (fgets(line, sizeof(line), f))
                found |= strstr(line, "/libcurl.so") != NULL;
        fclose(f);
        return found;
}

/* Run in a fresh process (this program with --library-missing): nothing is
 * loaded before the first request, and a library that cannot be opened
 * fails every request with a sentence that names the package. Prints one
 * line per finding; exit 0 when all held. */
static int library_missing_main(void)
{
        struct fetch_req req = { .url = "http://127.0.0.1:9/f", .dest = "/nonexistent/f" };
        struct fetch_result res;
        int r, bad = 0;

        if (libcurl_mapped()) {
                printf("libcurl mapped before any request\n");
                bad++;
        }
        fetch_set_library("libvpsp-test-absent.so.4");
        r = fetch_file(&req, NULL, &res);
        printf("fetch_file: %d kind=%s: %s\n", r, fetch_kind_name(res.kind), res.message);
        bad += r != -ELIBACC || res.kind != FETCH_ERR_IO || !strstr(res.message, "install the package libcurl4");
        r = fetch_head(req.url, 1000, NULL, &res);
        printf("fetch_head: %d kind=%s: %s\n", r, fetch_kind_name(res.kind), res.message);
        bad += r != -EIO || res.kind != FETCH_ERR_IO || !strstr(res.message, "install the package libcurl4") ||
               !strstr(res.message, req.url);
        bad += fetch_global_init() != -ELIBACC || !fetch_global_error();
        printf("%s\n", bad ? "FAILED" : "all held");
        return bad ? 1 : 0;
}

static void test_library_on_demand(void **state)
{
        char out[2048], self[PATH_MAX];
        /* this test program by its path: under valgrind /proc/self/exe is
         * valgrind's own tool (readlink is answered with the program's
         * path), and the child runs natively */
        ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
        char *const argv[] = { self, "--library-missing", NULL };
        size_t len = 0;
        int fds[2], st = 0;
        pid_t pid;

        (void)state;
        assert_true(n > 0);
        self[n] = '\0';
        /* this process: loaded by main()'s fetch_global_init(), resolved */
        assert_true(libcurl_mapped());
        assert_null(fetch_global_error());
        /* a fresh one: not loaded before the first request; a clear
         * failure when it cannot be */
        assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                dup2(fds[1], STDOUT_FILENO);
                execv(argv[0], argv);
                _exit(127);
        }
        close(fds[1]);
        while (len < sizeof(out) - 1 && (n = read(fds[0], out + len, sizeof(out) - 1 - len)) != 0) {
                if (n < 0 && errno == EINTR)
                        continue;
                assert_true(n > 0);
                len += (size_t)n;
        }
        out[len] = '\0';
        close(fds[0]);
        assert_int_equal(waitpid(pid, &st, 0), pid);
        print_message("%s", out);
        assert_true(WIFEXITED(st));
        assert_int_equal(WEXITSTATUS(st), 0);
        assert_non_null(strstr(out, "install the package libcurl4 (apt-get install libcurl4)"));
        assert_non_null(strstr(out, "all held"));
}

int main(int argc, char **argv)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_kind_names),
                cmocka_unit_test(test_library_on_demand),
                cmocka_unit_test_setup_teardown(test_ok_digest_and_progress, setup, teardown),
                cmocka_unit_test_setup_teardown(test_404_not_retried, setup, teardown),
                cmocka_unit_test_setup_teardown(test_503_retried_with_backoff, setup, teardown),
                cmocka_unit_test_setup_teardown(test_503_retries_exhausted, setup, teardown),
                cmocka_unit_test_setup_teardown(test_resume_after_drop, setup, teardown),
                cmocka_unit_test_setup_teardown(test_resume_server_ignores_range, setup, teardown),
                cmocka_unit_test_setup_teardown(test_resume_from_earlier_part, setup, teardown),
                cmocka_unit_test_setup_teardown(test_size_cap, setup, teardown),
                cmocka_unit_test_setup_teardown(test_size_cap_streaming, setup, teardown),
                cmocka_unit_test_setup_teardown(test_redirects, setup, teardown),
                cmocka_unit_test_setup_teardown(test_connection_refused_retried, setup, teardown),
                cmocka_unit_test_setup_teardown(test_dns_failure, setup, teardown),
                cmocka_unit_test_setup_teardown(test_tls_failure, setup, teardown),
                cmocka_unit_test_setup_teardown(test_stall_times_out_and_resumes, setup, teardown),
                cmocka_unit_test_setup_teardown(test_checksum_mismatch, setup, teardown),
                cmocka_unit_test_setup_teardown(test_bad_url, setup, teardown),
                cmocka_unit_test_setup_teardown(test_parallel, setup, teardown),
                cmocka_unit_test_setup_teardown(test_cancel, setup, teardown),
                cmocka_unit_test_setup_teardown(test_head, setup, teardown),
                cmocka_unit_test_setup_teardown(test_tls_verified, tls_setup, tls_teardown),
        };
        int r;

        if (argc == 2 && strcmp(argv[1], "--library-missing") == 0)
                return library_missing_main();
        body = xmalloc(BODY_LEN);
        for (size_t i = 0; i < BODY_LEN; i++)
                body[i] = (char)(i * 7 + i / 251);
        sha256_hex(body, BODY_LEN, body_sha);
        assert_int_equal(fetch_global_init(), 0);
        r = cmocka_run_group_tests(tests, NULL, NULL);
        free(body);
        test_cleanup_all();
        return r;
}
