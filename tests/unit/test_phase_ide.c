/* test_phase_ide.c — the IDE phases and the catalog they are made from:
 * their pure parts (gpg's colon listing, the DEB822 text, the URIs of
 * apt source files, dpkg-deb and ldd output), the catalog (the shipped one
 * and broken ones), the phases and answers it gives, and the failure cases
 * run for real through the engine against the test rig (tests/ide/make-repo)
 * served by the loopback server: a key whose fingerprint is not the pinned
 * one, a key file with a second primary key, an expired key, a revoked key,
 * a Release signed by another key than the pinned one whose key file
 * matched, a source file that names the repository among others, HTTP 404,
 * connection refused, a server that stalls, an unsupported architecture and
 * a checksum mismatch on a direct .deb. Each must fail the phase with a
 * clear message (exit 4 with on_failure = keep) and leave nothing behind:
 * no keyring, no source, no scratch files, nothing installed. The keyring
 * and source directories are the test's own (catalog keyring_dir and
 * sources_dir), so the host's apt configuration is never touched; every
 * refusal happens before any change, so none of this needs root. */
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
#include "ops.h"
#include "phases.h"
#include "run.h"
#include "util.h"

/* ---- pure parts ---------------------------------------------------------- */

static void pgp_keys(void **state)
{
        const char *colons =
                "tru::1:1700000000:0:3:1:5\n"
                "pub:-:255:22:F17A60FC3D2B86FB:1700000000:::-:::scSC::::::23::0:\n"
                "fpr:::::::::35CCD83EE87C7146C47FE5FCF17A60FC3D2B86FB:\n"
                "uid:-::::1700000000::AAAA::test <t@test.invalid>::::::::::0:\n"
                "sub:-:255:18:1111111111111111:1700000000::::::e::::::23:\n"
                "fpr:::::::::00000000000000000000000000001111111111111111:\n"
                "pub:e:4096:1:EB3E94ADBE1229CF:1500000000:1577923200::-:::scSC::::::23::0:\n"
                "fpr:::::::::bc528686b50d79e339d3721ceb3e94adbe1229cf:\n"
                "pub:r:255:22:2C415D01987677EC:1796594874:::-:::sc:::::ed25519:::0:\n"
                "fpr:::::::::9F65E5C11BA1336FCB3AFB062C415D01987677EC:\n";
        struct ops_pgp_key *k = NULL;

        (void)state;
        /* primary keys only: the subkey's fingerprint is not one */
        assert_int_equal(ops_pgp_parse_keys(colons, &k), 3);
        assert_string_equal(k[0].fingerprint, "35CCD83EE87C7146C47FE5FCF17A60FC3D2B86FB");
        assert_int_equal(k[0].validity, '-');
        assert_int_equal(k[0].expires, 0);
        assert_string_equal(k[1].fingerprint, "BC528686B50D79E339D3721CEB3E94ADBE1229CF");
        assert_int_equal(k[1].validity, 'e');
        assert_int_equal(k[1].expires, 1577923200);
        assert_int_equal(k[2].validity, 'r');
        free(k);
        assert_int_equal(ops_pgp_parse_keys("", &k), 0);
        assert_null(k);
        assert_int_equal(ops_pgp_parse_keys("gpg: no valid OpenPGP data found.\n", &k), 0);
        assert_null(k);
        /* a fingerprint field that is not 40 hex digits is no key (found by
         * fuzzing: it would have reached gpg's argv) */
        assert_int_equal(ops_pgp_parse_keys("pub:-:255:22:F17A60FC3D2B86FB:1700000000:::-:::scSC:\n"
                                            "fpr:::::::::--OUTPUT=/ETC/SHADOW-0000000000000000000:\n",
                                            &k), 0);
        assert_null(k);
}

static void sources_text(void **state)
{
        char *comps[] = { "main", "extra", NULL };
        char *fps[] = { "380FF4BCDC34A4BD92A3565342A1772E62E492D6", NULL };
        struct ops_apt_source s = {
                .id = "cursor", .name = "Cursor",
                .comment = "# Written by vps-provision (ide-cursor phase) for Cursor; removed by its rollback.",
                .uri = "https://downloads.cursor.com/aptrepo", .suite = "stable", .components = comps,
                .arch = "arm64", .fingerprints = fps, .keyring_dir = "/etc/apt/keyrings",
                .sources_dir = "/etc/apt/sources.list.d",
        };
        char sources[PATH_MAX], keyring[PATH_MAX];
        char *t, **u;

        (void)state;
        ops_apt_source_paths(&s, sources, sizeof(sources), keyring, sizeof(keyring));
        assert_string_equal(sources, "/etc/apt/sources.list.d/vps-provision-cursor.sources");
        assert_string_equal(keyring, "/etc/apt/keyrings/vps-provision-cursor.asc");
        t = ops_apt_sources_text(&s, keyring);
        assert_string_equal(t,
                "# Written by vps-provision (ide-cursor phase) for Cursor; removed by its rollback.\n"
                "# Signed-By holds only the pinned key 380FF4BCDC34A4BD92A3565342A1772E62E492D6.\n"
                "Types: deb\n"
                "URIs: https://downloads.cursor.com/aptrepo\n"
                "Suites: stable\n"
                "Components: main extra\n"
                "Architectures: arm64\n"
                "Signed-By: /etc/apt/keyrings/vps-provision-cursor.asc\n");
        u = ops_apt_source_uris(t);
        assert_int_equal(strv_length(u), 1);
        assert_string_equal(u[0], "https://downloads.cursor.com/aptrepo");
        strv_free(u);
        free(t);
}

static void source_uris(void **state)
{
        char **u;

        (void)state;
        u = ops_apt_source_uris("deb [arch=amd64 signed-by=/k.asc] http://127.0.0.1:9/repo/code/ stable main\n"
                                "# deb http://commented.example/debian stable main\n"
                                "deb-src http://deb.debian.org/debian trixie main\n"
                                "   deb\thttp://tab.example/x stable main\n");
        assert_int_equal(strv_length(u), 3);
        assert_string_equal(u[0], "http://127.0.0.1:9/repo/code");
        assert_string_equal(u[1], "http://deb.debian.org/debian");
        assert_string_equal(u[2], "http://tab.example/x");
        strv_free(u);
        /* DEB822: several URIs, several stanzas, a disabled one */
        u = ops_apt_source_uris("Types: deb\nURIs: http://a.example/ http://b.example\nSuites: s\n\n"
                                "# a comment\nTypes: deb\nURIs: http://off.example\nEnabled: no\n\n"
                                "Types: deb\r\nURIs: http://c.example\r\n");
        assert_int_equal(strv_length(u), 3);
        assert_string_equal(u[0], "http://a.example");
        assert_string_equal(u[1], "http://b.example");
        assert_string_equal(u[2], "http://c.example");
        strv_free(u);
        assert_null(ops_apt_source_uris(""));
        assert_null(ops_apt_source_uris("# nothing\n\n"));
        /* a source for another repository whose URI merely starts the same way */
        u = ops_apt_source_uris("deb http://127.0.0.1:9/repo/codex stable main\n");
        assert_string_equal(u[0], "http://127.0.0.1:9/repo/codex");
        strv_free(u);
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
        n = ops_apt_cache_name("code", "1.96.2-1734607745", "amd64");
        assert_string_equal(n, "code_1.96.2-1734607745_amd64.deb");
        free(n);
        /* an epoch's colon, as apt writes it */
        n = ops_apt_cache_name("cursor", "1:0.45_2", "arm64");
        assert_string_equal(n, "cursor_1%3a0.45%5f2_arm64.deb");
        free(n);
}

/* dpkg-deb --contents, and telling the IDE from another program by what
 * its package ships */
static void deb_contents_and_choice(void **state)
{
        const char *ide =
                "drwxr-xr-x root/root         0 2026-12-06 22:14 ./\n"
                "drwxr-xr-x root/root         0 2026-12-06 22:14 ./usr/share/antigravity/\n"
                "-rwxr-xr-x root/root     16088 2026-12-06 22:14 ./usr/share/antigravity/antigravity\n"
                "-rw-r--r-- root/root       194 2026-12-06 22:14 ./usr/share/applications/antigravity.desktop\n"
                "lrwxrwxrwx root/root         0 2026-12-06 22:14 ./usr/bin/antigravity -> ../share/antigravity/antigravity\n";
        const char *agent =
                "-rwxr-xr-x root/root     16088 2026-12-06 22:14 ./usr/share/antigravity-agent/antigravity\n"
                "-rw-r--r-- root/root       194 2026-12-06 22:14 ./usr/share/applications/antigravity.desktop\n";
        char *pkgs[] = { "antigravity-ide", "antigravity", NULL };
        struct ide_entry e = { .id = "antigravity", .packages = pkgs,
                               .binary = "/usr/share/antigravity/antigravity",
                               .desktop_file = "/usr/share/applications/antigravity.desktop" };
        char **f, **m;

        (void)state;
        f = ops_deb_contents_parse(ide);
        assert_int_equal(strv_length(f), 4);
        assert_string_equal(f[0], "/usr/share/antigravity");
        assert_string_equal(f[1], "/usr/share/antigravity/antigravity");
        assert_string_equal(f[3], "/usr/bin/antigravity");
        assert_null(ide_missing_files(&e, f));
        strv_free(f);
        f = ops_deb_contents_parse(agent);
        m = ide_missing_files(&e, f);
        assert_int_equal(strv_length(m), 1);
        assert_string_equal(m[0], "/usr/share/antigravity/antigravity");
        strv_free(m);
        strv_free(f);
        assert_null(ops_deb_contents_parse(""));
}

/* ---- the catalog --------------------------------------------------------- */

static void shipped_catalog(void **state)
{
        struct ide_catalog c;
        const struct ide_entry *e;
        struct answers a;
        char err[512] = "";
        char **ids;

        (void)state;
        assert_int_equal(ide_catalog_load(VPSP_SRCDIR "/assets/ide-catalog.json", &c, err, sizeof(err)), 0);
        assert_int_equal(c.n_entries, 3);
        assert_non_null(c.checked);
        e = ide_catalog_find(&c, "vscode");
        assert_non_null(e);
        assert_string_equal(e->packages[0], "code");
        assert_string_equal(e->uri, "https://packages.microsoft.com/repos/code");
        assert_string_equal(e->key_url, "https://packages.microsoft.com/keys/microsoft.asc");
        assert_string_equal(e->fingerprints[0], "BC528686B50D79E339D3721CEB3E94ADBE1229CF");
        assert_int_equal(strv_length(e->fingerprints), 1);
        assert_non_null(e->fingerprint_status);
        /* the package writes no source of its own */
        assert_string_equal(e->debconf[0], "code code/add-microsoft-repo boolean false");
        assert_string_equal(e->keyring_dir, "/etc/apt/keyrings");
        assert_string_equal(e->sources_dir, "/etc/apt/sources.list.d");
        assert_true(ide_entry_supports(e, "amd64"));
        assert_false(ide_entry_supports(e, "s390x"));
        e = ide_catalog_find(&c, "cursor");
        assert_non_null(e);
        assert_string_equal(e->uri, "https://downloads.cursor.com/aptrepo");
        assert_string_equal(e->key_url, "https://downloads.cursor.com/keys/anysphere.asc");
        assert_string_equal(e->fingerprints[0], "380FF4BCDC34A4BD92A3565342A1772E62E492D6");
        e = ide_catalog_find(&c, "antigravity");
        assert_non_null(e);
        assert_string_equal(e->suite, "antigravity-debian");
        assert_string_equal(e->fingerprints[0], "35BAA0B33E9EB396F59CA838C0BA5CE6DC6315A3");
        /* the IDE's new package name first, the old one only if it is the IDE */
        assert_int_equal(strv_length(e->packages), 2);
        assert_string_equal(e->packages[0], "antigravity-ide");
        assert_string_equal(e->packages[1], "antigravity");
        assert_non_null(e->binary);
        assert_true(ide_entry_supports(e, "amd64") && ide_entry_supports(e, "arm64"));
        /* every IDE the default answers name has an entry, with a description */
        answers_init(&a);
        ids = answers_ide_list(&a);
        assert_int_equal(strv_length(ids), 3);
        for (size_t i = 0; ids[i]; i++) {
                e = ide_catalog_find(&c, ids[i]);
                assert_non_null(e);
                assert_true(e->description[0] != '\0');
                assert_true(e->method == IDE_CAT_APT_REPOSITORY);
        }
        strv_free(ids);
        ide_catalog_release(&c);
}

#define CODE_FIELDS "\"id\":\"code\",\"ide_name\":\"VSCODE\",\"display_name\":\"C\"," \
                    "\"package\":\"code\",\"command\":\"code\",\"desktop_file\":\"/usr/share/applications/code.desktop\"," \
                    "\"architectures\":[\"amd64\"],"
#define ENTRY_HEAD "{\"format\":1,\"ides\":[{" CODE_FIELDS
#define APT_OK "\"apt\":{\"uri\":\"https://x/repo\",\"suite\":\"stable\",\"components\":[\"main\"]," \
               "\"key_url\":\"https://x/key.asc\",\"fingerprints\":[\"bc528686b50d79e339d3721ceb3e94adbe1229cf\"]," \
               "\"fingerprint_status\":\"test\"}"
#define APT_HEAD "\"method\":\"apt_repository\",\"apt\":{\"uri\":\"https://x\",\"suite\":\"s\"," \
                 "\"components\":[\"main\"],\"key_url\":\"https://k\",\"fingerprint_status\":\"t\","

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
                { "{\"format\":1,\"ides\":[{\"id\":\"Code IDE\"}]}", "id: \"Code IDE\" must be 1 to 32" },
                { ENTRY_HEAD "\"method\":\"snap\"," APT_OK "}]}", "method: \"snap\" is not one of" },
                { ENTRY_HEAD "\"method\":\"apt_repository\"}]}", "apt: missing" },
                { ENTRY_HEAD APT_HEAD "\"fingerprints\":[]}}]}",
                  "apt.fingerprints: is empty: a repository key is trusted only by a pinned fingerprint" },
                { ENTRY_HEAD "\"method\":\"apt_repository\",\"apt\":{\"uri\":\"https://x\",\"suite\":\"s\","
                  "\"components\":[\"main\"],\"key_url\":\"https://k\","
                  "\"fingerprints\":[\"BC528686B50D79E339D3721CEB3E94ADBE1229CF\"]}}]}",
                  "(code): fingerprint_status: missing" },
                { ENTRY_HEAD "\"method\":\"apt_repository\",\"apt\":{\"uri\":\"ftp://x\",\"suite\":\"s\","
                  "\"components\":[\"main\"],\"key_url\":\"https://k\",\"fingerprint_status\":\"t\","
                  "\"fingerprints\":[\"BC528686B50D79E339D3721CEB3E94ADBE1229CF\"]}}]}",
                  "apt.uri: \"ftp://x\" is not an http(s) URL" },
                { ENTRY_HEAD APT_HEAD "\"fingerprints\":[\"BC52 8686\"]}}]}",
                  "apt.fingerprints: \"BC52 8686\" is not a 40-hex-digit" },
                { ENTRY_HEAD APT_HEAD "\"fingerprints\":[\"BC528686B50D79E339D3721CEB3E94ADBE1229CF\"],"
                  "\"keyring_dir\":\"etc/apt\"}}]}", "keyring_dir: must be an absolute path" },
                { ENTRY_HEAD "\"method\":\"deb_package\",\"debs\":[{\"arch\":\"amd64\",\"url\":\"https://x/c.deb\","
                  "\"sha256\":\"abc\"}]}]}", "debs.sha256: \"abc\" is not 64 hex digits" },
                { "{\"format\":1,\"ides\":[{\"id\":\"code\",\"ide_name\":\"VSCODE\",\"display_name\":\"C\","
                  "\"package\":\"Code!\",\"command\":\"code\",\"desktop_file\":\"/d\",\"architectures\":[\"amd64\"],"
                  "\"method\":\"appimage\"}]}", "packages: \"Code!\" is not a Debian package name" },
                { "{\"format\":1,\"ides\":[{\"id\":\"code\",\"ide_name\":\"VSCODE\",\"display_name\":\"C\","
                  "\"command\":\"code\",\"desktop_file\":\"/d\",\"architectures\":[\"amd64\"],"
                  "\"method\":\"appimage\"}]}", "packages: missing" },
                { "{\"format\":1,\"ides\":[{\"id\":\"code\",\"package\":\"code\",\"packages\":[\"code\"]}]}",
                  "give either \"package\" or \"packages\"" },
                { ENTRY_HEAD "\"debconf\":[\"code add-repo\"],\"method\":\"apt_repository\"," APT_OK "}]}",
                  "debconf: item 0 (\"code add-repo\") must be \"PACKAGE QUESTION TYPE VALUE\"" },
                { ENTRY_HEAD "\"debconf\":[\"code code/add-microsoft-repo boolean maybe\"],"
                  "\"method\":\"apt_repository\"," APT_OK "}]}", "a boolean is true or false" },
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
                const char *one = ENTRY_HEAD "\"debconf\":[\"code code/add-microsoft-repo boolean false\"],"
                                  "\"method\":\"apt_repository\"," APT_OK "}]}";
                const char *two = ENTRY_HEAD "\"method\":\"apt_repository\"," APT_OK "},{" CODE_FIELDS
                                  "\"method\":\"apt_repository\"," APT_OK "}]}";

                assert_int_equal(ide_catalog_parse(one, "c.json", &c, err, sizeof(err)), 0);
                /* fingerprints are kept in upper case; "package" is a list of one */
                assert_string_equal(c.entries[0].fingerprints[0], "BC528686B50D79E339D3721CEB3E94ADBE1229CF");
                assert_string_equal(c.entries[0].packages[0], "code");
                assert_null(c.entries[0].packages[1]);
                assert_string_equal(c.entries[0].version_args[0], "--version");
                assert_string_equal(c.entries[0].description, "");
                assert_string_equal(c.entries[0].debconf[0], "code code/add-microsoft-repo boolean false");
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

/* ---- the phases and answers a catalog gives ------------------------------ */

static char *rig;              /* make-repo's output, the server's root */
static struct httpd *srv;
static char good_fpr[41], wrong_fpr[41], expired_fpr[41], revoked_fpr[41];
static char arch[32];

/* The rig's catalog (four IDEs, "example" among them): phases, in order,
 * named after the ids; enabled by [ides] install; placed after "user". */
static void phases_from_catalog(void **state)
{
        _cleanup_free_ char *cat = test_path(rig, "catalog.json");
        struct ide_phases *ip;
        struct phase_table t;
        struct answers a;
        char err[512];
        size_t user = 0, terminal = 0;

        (void)state;
        setenv(IDE_CATALOG_ENV, cat, 1);
        answers_init(&a);
        assert_int_equal(answers_set(&a, "ides", "install", "example, cursor", err, sizeof(err)), 0);
        ip = ide_phases_load(&a, err, sizeof(err));
        assert_non_null(ip);
        assert_int_equal(ip->n, 4);
        assert_string_equal(ip->v[0].id, "ide-vscode");
        assert_string_equal(ip->v[1].id, "ide-cursor");
        assert_string_equal(ip->v[2].id, "ide-antigravity");
        assert_string_equal(ip->v[3].id, "ide-example");
        assert_string_equal(ip->v[3].title, "Example IDE");
        assert_non_null(strstr(ip->v[3].summary, "key fingerprint pinned"));
        assert_false(phase_is_enabled(&ip->v[0], &a));
        assert_true(phase_is_enabled(&ip->v[1], &a));
        assert_false(phase_is_enabled(&ip->v[2], &a));
        assert_true(phase_is_enabled(&ip->v[3], &a));
        ide_phases_free(ip);

        assert_int_equal(phases_load(&a, &t, err, sizeof(err)), 0);
        for (size_t i = 0; i < t.n; i++) {
                if (strcmp(t.v[i]->id, "user") == 0)
                        user = i;
                if (strcmp(t.v[i]->id, "terminal") == 0)
                        terminal = i;
        }
        assert_int_equal(terminal - user, 5);
        assert_string_equal(t.v[user + 4]->id, "ide-example");
        assert_null(t.v[t.n]);
        phases_release(&t);

        /* a catalog that cannot be read: no IDE phase, and the reason */
        setenv(IDE_CATALOG_ENV, "/nonexistent/catalog.json", 1);
        assert_int_equal(phases_load(&a, &t, err, sizeof(err)), -EINVAL);
        assert_non_null(strstr(err, "cannot read the IDE catalog /nonexistent/catalog.json"));
        for (size_t i = 0; i < t.n; i++)
                assert_false(startswith(t.v[i]->id, "ide-"));
        phases_release(&t);
        unsetenv(IDE_CATALOG_ENV);
}

/* [ides] install is checked against the catalog the answers name: a typo,
 * an id the catalog lacks, a catalog that is not there. */
static void answers_against_catalog(void **state)
{
        _cleanup_free_ char *cat = test_path(rig, "catalog-example.json");
        static const struct {
                const char *text;
                unsigned line;
                const char *want;
        } cases[] = {
                { "[ides]\ninstall = exampel\n", 2, "\"exampel\" is not a known IDE; did you mean \"example\"?" },
                { "[ides]\ninstall = example, vscode\n", 2, "\"vscode\" is not a known IDE: the IDE catalog" },
                /* the default names vscode, cursor and antigravity */
                { "[user]\nusername = ada\n", 0, "the default names \"vscode\", which the IDE catalog" },
                { "[ides]\ninstall = example\ncatalog = /nonexistent/c.json\n", 3,
                  "cannot read the IDE catalog /nonexistent/c.json" },
        };
        struct answers a;
        struct answers_errors e = { 0 };

        (void)state;
        setenv(IDE_CATALOG_ENV, cat, 1);
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                answers_init(&a);
                assert_int_equal(answers_parse(cases[i].text, strlen(cases[i].text), &a, &e), -EINVAL);
                assert_true(e.n >= 1);
                assert_int_equal(e.v[0].line, cases[i].line);
                if (!strstr(e.v[0].message, cases[i].want))
                        fail_msg("case %zu: \"%s\" does not say \"%s\"", i, e.v[0].message, cases[i].want);
                answers_errors_release(&e);
        }
        /* the catalog's own ids, and none (which needs no catalog at all) */
        answers_init(&a);
        assert_int_equal(answers_parse("[ides]\ninstall = example\n", 25, &a, &e), 0);
        assert_string_equal(a.ides, "example");
        setenv(IDE_CATALOG_ENV, "/nonexistent/c.json", 1);
        assert_int_equal(answers_parse("[ides]\ninstall = none\n", 22, &a, &e), 0);
        assert_int_equal(e.n, 0);
        unsetenv(IDE_CATALOG_ENV);
}

/* ---- failure cases through the engine, against the rig -------------------- */

static void read_line(const char *path, char *buf, size_t size)
{
        _cleanup_free_ char *s = test_read(path);

        assert_non_null(s);
        strscpy(buf, size, strstrip(s));
}

static void read_fpr(const char *name, char *buf, size_t size)
{
        _cleanup_free_ char *p = xasprintf("%s/keys/%s.fpr", rig, name);

        read_line(p, buf, size);
}

static int rig_setup(void **state)
{
        _cleanup_free_ char *script = xasprintf("%s/tests/ide/make-repo", VPSP_SRCDIR);
        _cleanup_free_ char *base = NULL, *out = NULL;
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
        read_fpr("good", good_fpr, sizeof(good_fpr));
        read_fpr("wrong", wrong_fpr, sizeof(wrong_fpr));
        read_fpr("expired", expired_fpr, sizeof(expired_fpr));
        read_fpr("revoked", revoked_fpr, sizeof(revoked_fpr));
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
        char *root, *keyrings, *sources, *host;
};

/* The case's own directories: keyrings and sources go there. */
static void case_init(struct case_dirs *d)
{
        d->root = test_tmpdir();
        d->keyrings = test_path(d->root, "keyrings");
        d->sources = test_path(d->root, "sources");
        d->host = test_tmpdir();
        assert_int_equal(mkdir_p(d->sources, 0755), 0);
}

/* A one-entry catalog (cursor) with the given method block and architectures. */
static void write_catalog(struct case_dirs *d, const char *archs, const char *method_block)
{
        _cleanup_free_ char *path = NULL, *text = NULL;

        path = test_path(d->root, "catalog.json");
        text = xasprintf("{\"format\":1,\"fetch\":{\"retries\":0,\"backoff_ms\":50,\"stall_seconds\":2,"
                         "\"connect_timeout_ms\":2000},\"ides\":[{\"id\":\"cursor\",\"ide_name\":\"CURSOR\","
                         "\"display_name\":\"Cursor\",\"packages\":[\"cursor\"],\"command\":\"cursor\","
                         "\"binary\":\"/usr/share/cursor/cursor\","
                         "\"desktop_file\":\"/usr/share/applications/cursor.desktop\","
                         "\"architectures\":[%s],%s}]}", archs, method_block);
        test_write(path, text);
        setenv(IDE_CATALOG_ENV, path, 1);
}

static char *apt_block(const struct case_dirs *d, const char *uri, const char *key_url, const char *fpr)
{
        return xasprintf("\"method\":\"apt_repository\",\"apt\":{\"uri\":\"%s\",\"suite\":\"stable\","
                         "\"components\":[\"main\"],\"key_url\":\"%s\",\"fingerprints\":[\"%s\"],"
                         "\"fingerprint_status\":\"test\",\"keyring_dir\":\"%s\",\"sources_dir\":\"%s\"}",
                         uri, key_url, fpr, d->keyrings, d->sources);
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

/* Runs the catalog's phase (ide-cursor) on the case's fake host; returns
 * the exit code and the phase's failure message (caller frees). */
static int provision(struct case_dirs *d, char **ret_message)
{
        struct engine_opts o;
        struct etest_run r;
        const struct event *ev;
        struct ide_phases *ip;
        struct answers a;
        char err[512];
        int code;

        answers_init(&a);
        ip = ide_phases_load(&a, err, sizeof(err));
        if (!ip)
                fail_msg("%s", err);
        assert_int_equal(ip->n, 1);
        etest_host(d->host);
        {
                const struct phase *const table[] = { &ip->v[0] };

                etest_opts(&o, d->host, MODE_PROVISION, table, 1);
                o.answers.on_failure = ON_FAILURE_KEEP;
                etest_run(&o, NULL, NULL, &r);
        }
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
        ide_phases_free(ip);
        return code;
}

static void expect_failure(struct case_dirs *d, const char *want)
{
        _cleanup_free_ char *msg = NULL, *scratch = test_path(d->host, "state/downloads");
        const char *const dq[] = { "dpkg-query", "-W", "cursor", NULL };
        _cleanup_free_ char *out = NULL;

        assert_int_equal(provision(d, &msg), EXIT_FAILED_KEPT);
        if (!strstr(msg, want))
                fail_msg("the message \"%s\" does not say \"%s\"", msg, want);
        /* nothing left behind: no keyring, no source, no scratch files */
        assert_int_equal(count_entries(d->keyrings), 0);
        assert_int_equal(count_entries(d->sources), 0);
        assert_int_equal(count_entries(scratch), 0);
        /* and nothing installed */
        assert_int_not_equal(run_capture(dq, 4096, &out), 0);
}

/* A catalog entry for repo/REPO with the key keys/KEY.asc and the pin FPR. */
static void key_case(struct case_dirs *d, const char *repo, const char *key, const char *fpr)
{
        _cleanup_free_ char *rp = xasprintf("/repo/%s", repo), *kp = xasprintf("/keys/%s.asc", key);
        _cleanup_free_ char *uri = httpd_url(srv, rp), *key_url = httpd_url(srv, kp), *block = NULL;

        case_init(d);
        block = apt_block(d, uri, key_url, fpr);
        write_catalog(d, "\"amd64\",\"arm64\",\"armhf\",\"i386\"", block);
}

static void fail_fingerprint_mismatch(void **state)
{
        struct case_dirs d;
        _cleanup_free_ char *want = NULL, *key = httpd_url(srv, "/keys/wrong.asc");

        (void)state;
        key_case(&d, "cursor", "wrong", good_fpr);
        want = xasprintf("key fingerprint mismatch for Cursor: %s holds %s, but the IDE catalog", key, wrong_fpr);
        expect_failure(&d, want);
        release_dirs(&d);
}

/* good.asc and wrong.asc in one file, good pinned: the unpinned one is
 * named, the file refused (not merely the pinned key taken from it) */
static void fail_two_primary_keys(void **state)
{
        struct case_dirs d;
        _cleanup_free_ char *want = NULL;

        (void)state;
        key_case(&d, "cursor", "two", good_fpr);
        want = xasprintf("holds 2 primary keys (%s, %s), and %s is not pinned", good_fpr, wrong_fpr,
                         wrong_fpr);
        expect_failure(&d, want);
        release_dirs(&d);
}

static void fail_expired_key(void **state)
{
        struct case_dirs d;
        _cleanup_free_ char *want = NULL, *key = httpd_url(srv, "/keys/expired.asc");

        (void)state;
        key_case(&d, "cursor", "expired", expired_fpr);
        want = xasprintf("the Cursor key %s (from %s) expired on 2020-01-02", expired_fpr, key);
        expect_failure(&d, want);
        release_dirs(&d);
}

static void fail_revoked_key(void **state)
{
        struct case_dirs d;
        _cleanup_free_ char *want = NULL, *key = httpd_url(srv, "/keys/revoked.asc");

        (void)state;
        key_case(&d, "cursor", "revoked", revoked_fpr);
        want = xasprintf("the Cursor key %s (from %s) has been revoked by its owner", revoked_fpr, key);
        expect_failure(&d, want);
        release_dirs(&d);
}

/* repo/badsig's Release is signed by the wrong key; the key file is the
 * pinned one: refused before apt ever sees the source */
static void fail_bad_release_signature(void **state)
{
        struct case_dirs d;
        _cleanup_free_ char *want = NULL;

        (void)state;
        key_case(&d, "badsig", "good", good_fpr);
        want = xasprintf("does not verify with the pinned key %s: it is signed by another key", good_fpr);
        expect_failure(&d, want);
        release_dirs(&d);
}

/* Another file names the repository and other repositories: refused,
 * named, left exactly as it was. */
static void fail_mixed_foreign_source(void **state)
{
        struct case_dirs d;
        _cleanup_free_ char *uri = httpd_url(srv, "/repo/cursor"), *file = NULL, *text = NULL, *back = NULL;
        _cleanup_free_ char *want = NULL;

        (void)state;
        key_case(&d, "cursor", "good", good_fpr);
        file = test_path(d.sources, "mixed.list");
        text = xasprintf("deb http://deb.debian.org/debian trixie main\ndeb %s stable main\n", uri);
        test_write(file, text);
        want = xasprintf("%s configures the Cursor repository %s together with other repositories", file, uri);
        {
                _cleanup_free_ char *msg = NULL;

                assert_int_equal(provision(&d, &msg), EXIT_FAILED_KEPT);
                if (!strstr(msg, want))
                        fail_msg("the message \"%s\" does not say \"%s\"", msg, want);
        }
        back = test_read(file);
        assert_string_equal(back, text);
        assert_int_equal(count_entries(d.sources), 1);
        assert_int_equal(count_entries(d.keyrings), 0);
        release_dirs(&d);
}

static void fail_404(void **state)
{
        struct case_dirs d;

        (void)state;
        key_case(&d, "cursor", "missing", good_fpr);
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

        (void)state;
        case_init(&d);
        path = xasprintf("/debs/cursor_1.0.0-test_%s.deb", arch);
        url = httpd_url(srv, path);
        block = xasprintf("\"method\":\"deb_package\",\"debs\":[{\"arch\":\"%s\",\"url\":\"%s\","
                          "\"sha256\":\"%064d\"}]", arch, url, 0);
        write_catalog(&d, "\"amd64\",\"arm64\",\"armhf\",\"i386\"", block);
        expect_failure(&d, "checksum mismatch for");
        release_dirs(&d);
}

/* ops_download: a file outside the state directory is journaled (a
 * rollback removes it), the same file again is no change, and the
 * program's own scratch under the state directory is not journaled. */
static char *dl_outside, *dl_scratch, *dl_url, dl_sha[SHA256_HEX];
static int dl_results[3];

static int dl_run(struct phase_ctx *c)
{
        dl_results[0] = ops_download(c, &(struct ops_download){ .url = dl_url, .dest = dl_outside,
                                                                .what = "the test key" });
        dl_results[1] = ops_download(c, &(struct ops_download){ .url = dl_url, .dest = dl_outside,
                                                                .sha256 = dl_sha, .what = "the test key" });
        dl_results[2] = ops_download(c, &(struct ops_download){ .url = dl_url, .dest = dl_scratch,
                                                                .what = "the test key" });
        return dl_results[0] < 0 ? dl_results[0] : 0;
}

static int dl_verify(struct phase_ctx *c)
{
        (void)c;
        return path_exists(dl_outside);
}

static void download_journaled(void **state)
{
        static const struct phase dl_phase = { .id = "dl", .title = "Download", .weight = 1,
                                               .verify = dl_verify, .run = dl_run };
        const struct phase *const table[] = { &dl_phase };
        _cleanup_free_ char *kp = test_path(rig, "keys/good.asc");
        char *host = test_tmpdir(), *files = test_tmpdir();
        struct engine_opts o;
        struct etest_run r;

        (void)state;
        dl_url = httpd_url(srv, "/keys/good.asc");
        dl_outside = test_path(files, "key.asc");
        dl_scratch = xasprintf("%s/state/downloads/key.asc", host);
        assert_int_equal(sha256_file(kp, dl_sha), 0);
        etest_host(host);
        assert_int_equal(mkdir_p(dl_scratch, 0700), 0);
        assert_int_equal(rmdir(dl_scratch), 0);
        etest_opts(&o, host, MODE_PROVISION, table, 1);
        etest_run(&o, NULL, NULL, &r);
        assert_int_equal(r.code, EXIT_OK);
        etest_run_release(&r);
        etest_opts_release(&o);
        assert_int_equal(dl_results[0], 0);
        assert_int_equal(dl_results[1], 1);
        assert_int_equal(dl_results[2], 0);
        assert_true(path_exists(dl_outside) && path_exists(dl_scratch));

        etest_opts(&o, host, MODE_ROLLBACK, table, 1);
        o.assume_yes = true;
        etest_run(&o, NULL, NULL, &r);
        assert_int_equal(r.code, EXIT_OK);
        etest_run_release(&r);
        etest_opts_release(&o);
        assert_false(path_exists(dl_outside));
        assert_true(path_exists(dl_scratch));
        free(dl_url);
        free(dl_outside);
        free(dl_scratch);
}

/* The real gpg reads the rig's keys as the phase does. */
static void rig_keys(void **state)
{
        static const char *const names[] = { "good", "two", "expired", "revoked" };
        static const char validity[] = { '-', '-', 'e', 'r' };

        (void)state;
        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                _cleanup_free_ char *kp = xasprintf("%s/keys/%s.asc", rig, names[i]), *out = NULL;
                char *home = test_tmpdir();
                const char *const argv[] = { "gpg", "--homedir", home, "--batch", "--with-colons",
                                             "--show-keys", kp, NULL };
                struct ops_pgp_key *k = NULL;
                size_t n;

                assert_int_equal(run_capture(argv, 1 << 20, &out), 0);
                n = ops_pgp_parse_keys(out, &k);
                assert_int_equal(n, i == 1 ? 2 : 1);
                assert_int_equal(k[0].validity, validity[i]);
                if (i == 1) {
                        assert_string_equal(k[0].fingerprint, good_fpr);
                        assert_string_equal(k[1].fingerprint, wrong_fpr);
                }
                free(k);
        }
}

int main(void)
{
        const struct CMUnitTest pure[] = {
                cmocka_unit_test(pgp_keys),
                cmocka_unit_test(sources_text),
                cmocka_unit_test(source_uris),
                cmocka_unit_test(ldd_and_version),
                cmocka_unit_test(apt_cache_name),
                cmocka_unit_test(deb_contents_and_choice),
                cmocka_unit_test(shipped_catalog),
                cmocka_unit_test(bad_catalogs),
                cmocka_unit_test(catalog_path_choice),
        };
        const struct CMUnitTest with_rig[] = {
                cmocka_unit_test(rig_keys),
                cmocka_unit_test(phases_from_catalog),
                cmocka_unit_test(answers_against_catalog),
                cmocka_unit_test(fail_fingerprint_mismatch),
                cmocka_unit_test(fail_two_primary_keys),
                cmocka_unit_test(fail_expired_key),
                cmocka_unit_test(fail_revoked_key),
                cmocka_unit_test(fail_bad_release_signature),
                cmocka_unit_test(fail_mixed_foreign_source),
                cmocka_unit_test(fail_404),
                cmocka_unit_test(fail_connection_refused),
                cmocka_unit_test(fail_stall),
                cmocka_unit_test(fail_unsupported_architecture),
                cmocka_unit_test(fail_deb_checksum),
                cmocka_unit_test(download_journaled),
        };
        int r;

        r = cmocka_run_group_tests_name("pure", pure, NULL, NULL);
        r += cmocka_run_group_tests_name("rig", with_rig, rig_setup, rig_teardown);
        test_cleanup_all();
        return r;
}
