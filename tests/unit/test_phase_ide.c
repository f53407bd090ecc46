/* test_phase_ide.c — the IDE phases: their pure parts (gpg's colon
 * listing, the DEB822 text, spotting a second source for a repository,
 * ldd and version output), the catalog (the shipped one and broken ones),
 * and the failure cases run for real through the engine against the test
 * rig (tests/ide/make-repo) served by the loopback server: key fingerprint
 * mismatch, no pinned fingerprint, HTTP 404, connection refused, a server
 * that stalls, an unsupported architecture, a checksum mismatch on a direct
 * .deb and (as root) a Release signed by the wrong key. Each must fail the
 * phase with a clear message and leave no source or keyring behind; the
 * keyring and source directories are the test's own (catalog keyring_dir
 * and sources_dir), so the host's apt configuration is never touched. */
#include "testlib.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "enginelib.h"
#include "httpd.h"
#include "ide.h"
#include "ide_catalog.h"
#include "run.h"
#include "util.h"

/* ---- pure parts ---------------------------------------------------------- */

static void fingerprints_primary_only(void **state)
{
        const char *colons =
                "tru::1:1700000000:0:3:1:5\n"
                "pub:-:255:22:F17A60FC3D2B86FB:1700000000:::-:::scSC::::::23::0:\n"
                "fpr:::::::::35CCD83EE87C7146C47FE5FCF17A60FC3D2B86FB:\n"
                "uid:-::::1700000000::AAAA::test <t@test.invalid>::::::::::0:\n"
                "sub:-:255:18:1111111111111111:1700000000::::::e::::::23:\n"
                "fpr:::::::::00000000000000000000000000001111111111111111:\n"
                "pub:-:4096:1:EB3E94ADBE1229CF:1500000000:::-:::scSC::::::23::0:\n"
                "fpr:::::::::bc528686b50d79e339d3721ceb3e94adbe1229cf:\n";
        char **f = ide_parse_primary_fingerprints(colons);

        (void)state;
        assert_non_null(f);
        assert_int_equal(strv_length(f), 2);
        assert_string_equal(f[0], "35CCD83EE87C7146C47FE5FCF17A60FC3D2B86FB");
        assert_string_equal(f[1], "BC528686B50D79E339D3721CEB3E94ADBE1229CF");
        strv_free(f);
        assert_null(ide_parse_primary_fingerprints(""));
        assert_null(ide_parse_primary_fingerprints("gpg: no valid OpenPGP data found.\n"));
}

static void sources_text(void **state)
{
        struct ide_entry e = { .id = "cursor", .display_name = "Cursor",
                               .uri = "https://downloads.cursor.com/aptrepo", .suite = "stable" };
        char *comps[] = { "main", "extra", NULL };
        char *t;

        (void)state;
        e.components = comps;
        t = ide_sources_text(&e, "/etc/apt/keyrings/vps-provision-cursor.asc", "arm64");
        assert_string_equal(t,
                "# Written by vps-provision (ide-cursor phase) for Cursor; removed by its rollback.\n"
                "Types: deb\n"
                "URIs: https://downloads.cursor.com/aptrepo\n"
                "Suites: stable\n"
                "Components: main extra\n"
                "Architectures: arm64\n"
                "Signed-By: /etc/apt/keyrings/vps-provision-cursor.asc\n");
        assert_true(ide_source_names_uri(t, "https://downloads.cursor.com/aptrepo/"));
        free(t);
}

static void source_names_uri(void **state)
{
        const char *uri = "http://127.0.0.1:9/repo/code";

        (void)state;
        assert_true(ide_source_names_uri("deb [arch=amd64 signed-by=/k.asc] http://127.0.0.1:9/repo/code stable main\n", uri));
        assert_true(ide_source_names_uri("deb http://127.0.0.1:9/repo/code/ stable main", uri));
        assert_true(ide_source_names_uri("Types: deb\nURIs: http://127.0.0.1:9/repo/code\nSuites: stable\n", uri));
        assert_true(ide_source_names_uri("deb http://127.0.0.1:9/repo/code stable main", "http://127.0.0.1:9/repo/code/"));
        /* another repository whose URI merely starts the same way */
        assert_false(ide_source_names_uri("deb http://127.0.0.1:9/repo/codex stable main\n", uri));
        assert_false(ide_source_names_uri("deb http://mirror/http://127.0.0.1:9/repo/code stable main\n", uri));
        /* a commented line is no source */
        assert_false(ide_source_names_uri("# deb http://127.0.0.1:9/repo/code stable main\n", uri));
        assert_false(ide_source_names_uri("", uri));
}

static void source_signed_by(void **state)
{
        char *s;

        (void)state;
        s = ide_source_signed_by("deb [arch=amd64,arm64 signed-by=/usr/share/keyrings/microsoft.gpg] https://x stable main\n");
        assert_string_equal(s, "/usr/share/keyrings/microsoft.gpg");
        free(s);
        s = ide_source_signed_by("Types: deb\nURIs: https://x\nSigned-By: /usr/share/keyrings/anysphere.gpg\n");
        assert_string_equal(s, "/usr/share/keyrings/anysphere.gpg");
        free(s);
        /* an inline key block is not a file */
        assert_null(ide_source_signed_by("Types: deb\nSigned-By:\n -----BEGIN PGP PUBLIC KEY BLOCK-----\n"));
        assert_null(ide_source_signed_by("deb https://x stable main\n"));
}

static void ldd_and_version(void **state)
{
        char **m;
        char *v;

        (void)state;
        m = ide_parse_ldd_missing("\tlinux-vdso.so.1 (0x00007ffd)\n"
                                  "\tlibnss3.so => not found\n"
                                  "\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f)\n"
                                  "\tlibasound.so.2 => not found\n");
        assert_int_equal(strv_length(m), 2);
        assert_string_equal(m[0], "libnss3.so");
        assert_string_equal(m[1], "libasound.so.2");
        strv_free(m);
        assert_null(ide_parse_ldd_missing("\tlibc.so.6 => /lib/libc.so.6 (0x1)\n"));
        v = ide_parse_version("  1.96.2\nabcdef0123\nx64\n");
        assert_string_equal(v, "1.96.2");
        free(v);
        assert_null(ide_parse_version("\n\n"));
        assert_null(ide_parse_version(NULL));
}

static void apt_cache_name(void **state)
{
        char *n;

        (void)state;
        n = ide_apt_cache_name("code", "1.96.2-1734607745", "amd64");
        assert_string_equal(n, "code_1.96.2-1734607745_amd64.deb");
        free(n);
        /* an epoch's colon, as apt writes it */
        n = ide_apt_cache_name("cursor", "1:0.45_2", "arm64");
        assert_string_equal(n, "cursor_1%3a0.45%5f2_arm64.deb");
        free(n);
}

/* ---- the catalog --------------------------------------------------------- */

static void shipped_catalog(void **state)
{
        struct ide_catalog c;
        const struct ide_entry *e;
        char err[512] = "";

        (void)state;
        assert_int_equal(ide_catalog_load(VPSP_SRCDIR "/assets/ide-catalog.json", &c, err, sizeof(err)), 0);
        assert_int_equal(c.n_entries, 3);
        assert_non_null(c.checked);
        e = ide_catalog_find(&c, "vscode");
        assert_non_null(e);
        assert_string_equal(e->package, "code");
        assert_string_equal(e->uri, "https://packages.microsoft.com/repos/code");
        assert_string_equal(e->key_url, "https://packages.microsoft.com/keys/microsoft.asc");
        assert_string_equal(e->fingerprints[0], "BC528686B50D79E339D3721CEB3E94ADBE1229CF");
        assert_string_equal(e->keyring_dir, "/etc/apt/keyrings");
        assert_string_equal(e->sources_dir, "/etc/apt/sources.list.d");
        assert_true(ide_entry_supports(e, "amd64"));
        assert_false(ide_entry_supports(e, "s390x"));
        e = ide_catalog_find(&c, "cursor");
        assert_non_null(e);
        assert_string_equal(e->uri, "https://downloads.cursor.com/aptrepo");
        assert_string_equal(e->key_url, "https://downloads.cursor.com/keys/anysphere.asc");
        e = ide_catalog_find(&c, "antigravity");
        assert_non_null(e);
        assert_string_equal(e->suite, "antigravity-debian");
        /* no fingerprint could be confirmed: the phase must refuse, not guess */
        assert_null(e->fingerprints);
        /* every IDE the answers know has an entry */
        for (int i = 0; i < _IDE_MAX; i++)
                assert_non_null(ide_catalog_find(&c, ide_id_name(i)));
        ide_catalog_release(&c);
}

#define CODE_FIELDS "\"id\":\"code\",\"ide_name\":\"VSCODE\",\"display_name\":\"C\"," \
                    "\"package\":\"code\",\"command\":\"code\",\"desktop_file\":\"/usr/share/applications/code.desktop\"," \
                    "\"architectures\":[\"amd64\"],"
#define ENTRY_HEAD "{\"format\":1,\"ides\":[{" CODE_FIELDS
#define APT_OK "\"apt\":{\"uri\":\"https://x/repo\",\"suite\":\"stable\",\"components\":[\"main\"]," \
               "\"key_url\":\"https://x/key.asc\",\"fingerprints\":[\"bc528686b50d79e339d3721ceb3e94adbe1229cf\"]}"

static void bad_catalogs(void **state)
{
        static const struct {
                const char *text, *want;
        } cases[] = {
                { "{", "c.json: not valid JSON" },
                { "[]", "the top level must be an object" },
                { "{\"format\":2,\"ides\":[]}", "\"format\" must be 1" },
                { "{\"format\":1}", "\"ides\" must be a list" },
                { "{\"format\":1,\"ides\":[{\"id\":\"code\"}]}", "ides[0] (code): ide_name: missing" },
                { ENTRY_HEAD "\"method\":\"snap\"," APT_OK "}]}", "method: \"snap\" is not one of" },
                { ENTRY_HEAD "\"method\":\"apt_repository\"}]}", "apt: missing" },
                { ENTRY_HEAD "\"method\":\"apt_repository\",\"apt\":{\"uri\":\"ftp://x\",\"suite\":\"s\","
                  "\"components\":[\"main\"],\"key_url\":\"https://k\",\"fingerprints\":[]}}]}",
                  "apt.uri: \"ftp://x\" is not an http(s) URL" },
                { ENTRY_HEAD "\"method\":\"apt_repository\",\"apt\":{\"uri\":\"https://x\",\"suite\":\"s\","
                  "\"components\":[\"main\"],\"key_url\":\"https://k\",\"fingerprints\":[\"BC52 8686\"]}}]}",
                  "apt.fingerprints: \"BC52 8686\" is not a 40-hex-digit" },
                { ENTRY_HEAD "\"method\":\"apt_repository\",\"apt\":{\"uri\":\"https://x\",\"suite\":\"s\","
                  "\"components\":[\"main\"],\"key_url\":\"https://k\",\"fingerprints\":[],"
                  "\"keyring_dir\":\"etc/apt\"}}]}",
                  "keyring_dir: must be an absolute path" },
                { ENTRY_HEAD "\"method\":\"deb_package\",\"debs\":[{\"arch\":\"amd64\",\"url\":\"https://x/c.deb\","
                  "\"sha256\":\"abc\"}]}]}", "debs.sha256: \"abc\" is not 64 hex digits" },
                { "{\"format\":1,\"ides\":[{\"id\":\"code\",\"ide_name\":\"VSCODE\",\"display_name\":\"C\","
                  "\"package\":\"Code!\",\"command\":\"code\",\"desktop_file\":\"/d\",\"architectures\":[\"amd64\"],"
                  "\"method\":\"appimage\"}]}", "package: \"Code!\" is not a Debian package name" },
                { "{\"format\":1,\"fetch\":{\"retries\":-1},\"ides\":[]}", "fetch.retries must be a number" },
        };

        (void)state;
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                struct ide_catalog c;
                char err[512] = "";

                assert_int_equal(ide_catalog_parse(cases[i].text, "c.json", &c, err, sizeof(err)), -EINVAL);
                if (!strstr(err, cases[i].want))
                        fail_msg("case %zu: \"%s\" does not contain \"%s\"", i, err, cases[i].want);
        }
        {
                /* a good one, and the same id twice */
                struct ide_catalog c;
                char err[512] = "";
                const char *one = ENTRY_HEAD "\"method\":\"apt_repository\"," APT_OK "}]}";
                const char *two = ENTRY_HEAD "\"method\":\"apt_repository\"," APT_OK "},{" CODE_FIELDS
                                  "\"method\":\"apt_repository\"," APT_OK "}]}";

                assert_int_equal(ide_catalog_parse(one, "c.json", &c, err, sizeof(err)), 0);
                /* fingerprints are kept in upper case */
                assert_string_equal(c.entries[0].fingerprints[0], "BC528686B50D79E339D3721CEB3E94ADBE1229CF");
                assert_string_equal(c.entries[0].version_args[0], "--version");
                assert_int_equal(c.fetch.retries, -1);
                ide_catalog_release(&c);
                assert_int_equal(ide_catalog_parse(two, "c.json", &c, err, sizeof(err)), -EINVAL);
                assert_non_null(strstr(err, "id: \"code\" appears twice"));
        }
}

static void catalog_path_choice(void **state)
{
        struct answers a;
        struct paths p = { .data_dir = "/usr/share/vps-provision" };
        char buf[PATH_MAX];

        (void)state;
        answers_init(&a);
        unsetenv(IDE_CATALOG_ENV);
        ide_catalog_path(&a, &p, buf, sizeof(buf));
        assert_string_equal(buf, "/usr/share/vps-provision/ide-catalog.json");
        setenv(IDE_CATALOG_ENV, "/tmp/test-catalog.json", 1);
        ide_catalog_path(&a, &p, buf, sizeof(buf));
        assert_string_equal(buf, "/tmp/test-catalog.json");
        strscpy(a.ide_catalog, sizeof(a.ide_catalog), "/srv/mirror/catalog.json");
        ide_catalog_path(&a, &p, buf, sizeof(buf));
        assert_string_equal(buf, "/srv/mirror/catalog.json");
        unsetenv(IDE_CATALOG_ENV);
}

/* ---- failure cases through the engine, against the rig -------------------- */

static char *rig;              /* make-repo's output, the server's root */
static struct httpd *srv;
static char good_fpr[41], wrong_fpr[41];
static char arch[32];

static void read_line(const char *path, char *buf, size_t size)
{
        _cleanup_free_ char *s = test_read(path);

        assert_non_null(s);
        strscpy(buf, size, strstrip(s));
}

static int rig_setup(void **state)
{
        _cleanup_free_ char *script = xasprintf("%s/tests/ide/make-repo", VPSP_SRCDIR);
        _cleanup_free_ char *base = NULL, *p = NULL, *out = NULL;
        const char *const dpa[] = { "dpkg", "--print-architecture", NULL };

        (void)state;
        rig = test_tmpdir();
        srv = httpd_start(0, rig);
        assert_non_null(srv);
        base = httpd_url(srv, "");
        {
                const char *const argv[] = { script, rig, base, NULL };
                assert_int_equal(run_capture(argv, 1 << 20, &out), 0);
        }
        p = test_path(rig, "keys/good.fpr");
        read_line(p, good_fpr, sizeof(good_fpr));
        free(p);
        p = test_path(rig, "keys/wrong.fpr");
        read_line(p, wrong_fpr, sizeof(wrong_fpr));
        free(out);
        out = NULL;
        assert_int_equal(run_capture(dpa, 4096, &out), 0);
        strscpy(arch, sizeof(arch), strstrip(out));
        return 0;
}

static int rig_teardown(void **state)
{
        (void)state;
        httpd_stop(srv);
        srv = NULL;
        unsetenv(IDE_CATALOG_ENV);
        return 0;
}

/* A port nobody listens on. */
static unsigned closed_port(void)
{
        struct sockaddr_in sa = { .sin_family = AF_INET };
        socklen_t sl = sizeof(sa);
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        unsigned port;

        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
        assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
        port = ntohs(sa.sin_port);
        close(fd);
        return port;
}

struct case_dirs {
        char *root, *keyrings, *sources;
};

/* Writes a one-entry catalog (cursor) with the given method block and
 * architectures; keyrings and sources go to the case's own directories. */
static void case_init(struct case_dirs *d)
{
        d->root = test_tmpdir();
        d->keyrings = test_path(d->root, "keyrings");
        d->sources = test_path(d->root, "sources");
        assert_int_equal(mkdir_p(d->sources, 0755), 0);
}

static void write_catalog(struct case_dirs *d, const char *archs, const char *method_block)
{
        _cleanup_free_ char *path = NULL, *text = NULL;

        path = test_path(d->root, "catalog.json");
        text = xasprintf("{\"format\":1,\"fetch\":{\"retries\":0,\"backoff_ms\":50,\"stall_seconds\":2,"
                         "\"connect_timeout_ms\":2000},\"ides\":[{\"id\":\"cursor\",\"ide_name\":\"CURSOR\","
                         "\"display_name\":\"Cursor\",\"package\":\"cursor\",\"command\":\"cursor\","
                         "\"binary\":\"/usr/share/cursor/cursor\","
                         "\"desktop_file\":\"/usr/share/applications/cursor.desktop\","
                         "\"architectures\":[%s],%s}]}", archs, method_block);
        test_write(path, text);
        setenv(IDE_CATALOG_ENV, path, 1);
}

static char *apt_block(const struct case_dirs *d, const char *uri, const char *key_url, const char *fpr)
{
        return xasprintf("\"method\":\"apt_repository\",\"apt\":{\"uri\":\"%s\",\"suite\":\"stable\","
                         "\"components\":[\"main\"],\"key_url\":\"%s\",\"fingerprints\":[%s%s%s],"
                         "\"keyring_dir\":\"%s\",\"sources_dir\":\"%s\"}",
                         uri, key_url, fpr ? "\"" : "", fpr ? fpr : "", fpr ? "\"" : "", d->keyrings,
                         d->sources);
}

static void release_dirs(struct case_dirs *d)
{
        free(d->keyrings);
        free(d->sources);
}

/* Number of entries in dir (0 when it does not exist). */
static int count_entries(const char *dir)
{
        DIR *dd = opendir(dir);
        struct dirent *de;
        int n = 0;

        if (!dd)
                return 0;
        while ((de = readdir(dd)))
                if (de->d_name[0] != '.')
                        n++;
        closedir(dd);
        return n;
}

static const struct phase *const cursor_table[] = { &phase_ide_cursor };

/* Runs the cursor phase on a fresh fake host; returns the exit code and
 * the phase's failure message (caller frees). */
static int provision(char **ret_message)
{
        struct engine_opts o;
        struct etest_run r;
        const struct event *ev;
        char *host = test_tmpdir();
        int code;

        etest_host(host);
        etest_opts(&o, host, MODE_PROVISION, cursor_table, 1);
        o.answers.on_failure = ON_FAILURE_KEEP;
        etest_run(&o, NULL, NULL, &r);
        code = r.code;
        *ret_message = NULL;
        for (size_t i = 0; (ev = etest_find(&r, EV_PHASE_END, i)); i++)
                if (ev->phase_end.message)
                        *ret_message = xstrdup(ev->phase_end.message);
        if (!*ret_message)
                *ret_message = xstrdup("");
        print_message("ide-cursor: exit %d: %s\n", code, *ret_message);
        etest_run_release(&r);
        etest_opts_release(&o);
        return code;
}

static void expect_failure(struct case_dirs *d, const char *want)
{
        _cleanup_free_ char *msg = NULL;

        assert_int_equal(provision(&msg), EXIT_FAILED_KEPT);
        if (!strstr(msg, want))
                fail_msg("the message \"%s\" does not say \"%s\"", msg, want);
        /* no half-configured repository */
        assert_int_equal(count_entries(d->keyrings), 0);
        assert_int_equal(count_entries(d->sources), 0);
}

static void fail_fingerprint_mismatch(void **state)
{
        struct case_dirs d;
        _cleanup_free_ char *uri = httpd_url(srv, "/repo/cursor"), *key = httpd_url(srv, "/keys/wrong.asc");
        _cleanup_free_ char *block = NULL, *want = NULL;

        (void)state;
        case_init(&d);
        block = apt_block(&d, uri, key, good_fpr);
        write_catalog(&d, "\"amd64\",\"arm64\",\"armhf\",\"i386\"", block);
        want = xasprintf("key fingerprint mismatch for Cursor: %s holds %s, but the catalog", key, wrong_fpr);
        expect_failure(&d, want);
        release_dirs(&d);
}

static void fail_no_pinned_fingerprint(void **state)
{
        struct case_dirs d;
        _cleanup_free_ char *uri = httpd_url(srv, "/repo/cursor"), *key = httpd_url(srv, "/keys/good.asc");
        _cleanup_free_ char *block = NULL;

        (void)state;
        case_init(&d);
        block = apt_block(&d, uri, key, NULL);
        write_catalog(&d, "\"amd64\",\"arm64\",\"armhf\",\"i386\"", block);
        expect_failure(&d, "pins no key fingerprint for Cursor");
        release_dirs(&d);
}

static void fail_404(void **state)
{
        struct case_dirs d;
        _cleanup_free_ char *uri = httpd_url(srv, "/repo/cursor"), *key = httpd_url(srv, "/keys/missing.asc");
        _cleanup_free_ char *block = NULL;

        (void)state;
        case_init(&d);
        block = apt_block(&d, uri, key, good_fpr);
        write_catalog(&d, "\"amd64\",\"arm64\",\"armhf\",\"i386\"", block);
        expect_failure(&d, "HTTP 404");
        release_dirs(&d);
}

static void fail_connection_refused(void **state)
{
        struct case_dirs d;
        _cleanup_free_ char *key = xasprintf("http://127.0.0.1:%u/keys/good.asc", closed_port());
        _cleanup_free_ char *uri = httpd_url(srv, "/repo/cursor"), *block = NULL;

        (void)state;
        case_init(&d);
        block = apt_block(&d, uri, key, good_fpr);
        write_catalog(&d, "\"amd64\",\"arm64\",\"armhf\",\"i386\"", block);
        expect_failure(&d, "could not connect to 127.0.0.1");
        release_dirs(&d);
}

static void fail_stall(void **state)
{
        struct case_dirs d;
        _cleanup_free_ char *uri = httpd_url(srv, "/repo/cursor"), *key = httpd_url(srv, "/slow/good.asc");
        _cleanup_free_ char *block = NULL, *body = NULL, *kp = test_path(rig, "keys/good.asc");
        int64_t t0 = now_ms();

        (void)state;
        body = test_read(kp);
        assert_non_null(body);
        httpd_route(srv, &(struct httpd_route){ .path = "/slow/good.asc", .body = body,
                                                .len = strlen(body), .stall = true, .stall_after = 100 });
        case_init(&d);
        block = apt_block(&d, uri, key, good_fpr);
        write_catalog(&d, "\"amd64\",\"arm64\",\"armhf\",\"i386\"", block);
        expect_failure(&d, "stalled");
        assert_true(now_ms() - t0 < 30000);
        release_dirs(&d);
}

static void fail_unsupported_architecture(void **state)
{
        struct case_dirs d;
        _cleanup_free_ char *uri = httpd_url(srv, "/repo/cursor"), *key = httpd_url(srv, "/keys/good.asc");
        _cleanup_free_ char *block = NULL;

        (void)state;
        case_init(&d);
        block = apt_block(&d, uri, key, good_fpr);
        write_catalog(&d, "\"s390x\"", block);
        expect_failure(&d, "Cursor is published for s390x, and this server is");
        release_dirs(&d);
}

static void fail_deb_checksum(void **state)
{
        struct case_dirs d;
        _cleanup_free_ char *url = NULL, *block = NULL, *path = NULL;
        const char *const dq[] = { "dpkg-query", "-W", "cursor", NULL };
        _cleanup_free_ char *out = NULL;

        (void)state;
        case_init(&d);
        path = xasprintf("/debs/cursor_1.0.0-test_%s.deb", arch);
        url = httpd_url(srv, path);
        block = xasprintf("\"method\":\"deb_package\",\"debs\":[{\"arch\":\"%s\",\"url\":\"%s\","
                          "\"sha256\":\"%064d\"}]", arch, url, 0);
        write_catalog(&d, "\"amd64\",\"arm64\",\"armhf\",\"i386\"", block);
        expect_failure(&d, "checksum mismatch for");
        /* nothing installed */
        assert_int_not_equal(run_capture(dq, 4096, &out), 0);
        release_dirs(&d);
}

/* The Release of repo/badsig is signed by the wrong key: apt refuses the
 * repository, and the phase takes its source and keyring away again. */
static void fail_bad_release_signature(void **state)
{
        struct case_dirs d;
        _cleanup_free_ char *uri = httpd_url(srv, "/repo/badsig"), *key = httpd_url(srv, "/keys/good.asc");
        _cleanup_free_ char *block = NULL;

        (void)state;
        if (geteuid() != 0) {
                if (getenv("CI") && strcmp(getenv("CI"), "1") == 0)
                        fail_msg("CI=1 but not root: apt-get update needs root");
                print_message("skipped: apt-get update needs root\n");
                skip();
        }
        case_init(&d);
        block = apt_block(&d, uri, key, good_fpr);
        write_catalog(&d, "\"amd64\",\"arm64\",\"armhf\",\"i386\"", block);
        expect_failure(&d, "apt could not use the Cursor repository");
        release_dirs(&d);
}

/* The real gpg reads the rig's key as the phase does. */
static void rig_key_fingerprint(void **state)
{
        _cleanup_free_ char *kp = test_path(rig, "keys/good.asc"), *out = NULL;
        char *home = test_tmpdir();
        const char *const argv[] = { "gpg", "--homedir", home, "--batch", "--with-colons", "--show-keys",
                                     kp, NULL };
        char **f;

        (void)state;
        assert_int_equal(run_capture(argv, 1 << 20, &out), 0);
        f = ide_parse_primary_fingerprints(out);
        assert_int_equal(strv_length(f), 1);
        assert_string_equal(f[0], good_fpr);
        strv_free(f);
}

int main(void)
{
        const struct CMUnitTest pure[] = {
                cmocka_unit_test(fingerprints_primary_only),
                cmocka_unit_test(sources_text),
                cmocka_unit_test(source_names_uri),
                cmocka_unit_test(source_signed_by),
                cmocka_unit_test(ldd_and_version),
                cmocka_unit_test(apt_cache_name),
                cmocka_unit_test(shipped_catalog),
                cmocka_unit_test(bad_catalogs),
                cmocka_unit_test(catalog_path_choice),
        };
        const struct CMUnitTest with_rig[] = {
                cmocka_unit_test(rig_key_fingerprint),
                cmocka_unit_test(fail_fingerprint_mismatch),
                cmocka_unit_test(fail_no_pinned_fingerprint),
                cmocka_unit_test(fail_404),
                cmocka_unit_test(fail_connection_refused),
                cmocka_unit_test(fail_stall),
                cmocka_unit_test(fail_unsupported_architecture),
                cmocka_unit_test(fail_deb_checksum),
                cmocka_unit_test(fail_bad_release_signature),
        };
        int r;

        r = cmocka_run_group_tests_name("pure", pure, NULL, NULL);
        r += cmocka_run_group_tests_name("rig", with_rig, rig_setup, rig_teardown);
        test_cleanup_all();
        return r;
}
