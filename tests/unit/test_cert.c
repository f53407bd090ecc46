/* test_cert.c — the RDP certificate's fingerprint, as clients show it. */
#include "testlib.h"

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cert.h"
#include "crypto.h"
#include "engine.h"
#include "util.h"

/* tests/fixtures/cert/self-signed.pem; "openssl x509 -noout -fingerprint
 * -sha256" says this of it */
#define WANT "FE:B6:48:98:0C:1B:AB:EB:F0:B1:AC:AE:DE:CA:7F:20:10:0C:C9:30:3F:FD:39:03:03:39:CB:34:F7:33:28:5B"

static char *fixture(const char *name)
{
        const char *dir = getenv("VPSP_TEST_FIXTURES");
        assert_non_null(dir);
        return xasprintf("%s/cert/%s", dir, name);
}

static void fingerprint(void **state)
{
        (void)state;
        _cleanup_free_ char *pem = fixture("self-signed.pem");
        char buf[CERT_FINGERPRINT_MAX];

        assert_int_equal(cert_sha256_fingerprint(pem, buf, sizeof(buf)), 0);
        assert_string_equal(buf, WANT);
        assert_int_equal(strlen(buf), 95);
}

/* Debian's xrdp names its certificate through a symlink to ssl-cert's */
static void through_symlink(void **state)
{
        (void)state;
        _cleanup_free_ char *pem = fixture("self-signed.pem");
        char *dir = test_tmpdir();
        _cleanup_free_ char *link = test_path(dir, "cert.pem");
        char buf[CERT_FINGERPRINT_MAX];

        assert_int_equal(symlink(pem, link), 0);
        assert_int_equal(cert_sha256_fingerprint(link, buf, sizeof(buf)), 0);
        assert_string_equal(buf, WANT);
}

static void failures(void **state)
{
        (void)state;
        _cleanup_free_ char *pem = fixture("self-signed.pem");
        char *dir = test_tmpdir();
        _cleanup_free_ char *junk = test_path(dir, "junk.pem");
        _cleanup_free_ char *missing = test_path(dir, "missing.pem");
        char buf[CERT_FINGERPRINT_MAX] = "untouched", small[40] = "untouched";

        test_write(junk, "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n");
        assert_int_equal(cert_sha256_fingerprint(junk, buf, sizeof(buf)), -EBADMSG);
        assert_int_equal(cert_sha256_fingerprint(missing, buf, sizeof(buf)), -ENOENT);
        assert_int_equal(cert_sha256_fingerprint(pem, small, sizeof(small)), -ENOBUFS);
        assert_string_equal(buf, "untouched");
        assert_string_equal(small, "untouched");
}

static bool libcrypto_mapped(void)
{
        char line[512];
        bool found = false;
        FILE *f = fopen("/proc/self/maps", "re");

        assert_non_null(f);
        while (fgets(line, sizeof(line), f))
                found |= strstr(line, "/libcrypto.so") != NULL;
        fclose(f);
        return found;
}

static bool mapped_at_start;

/* libcrypto is loaded by the first hash, not at start-up; a library that
 * cannot be loaded fails with a sentence naming the package (checked in a
 * child forked before anything was loaded, so its load is a first one). */
static void loaded_on_demand(void **state)
{
        _cleanup_free_ char *pem = fixture("self-signed.pem");
        int fds[2], st = 0;
        char out[1024];
        ssize_t n;
        size_t len = 0;
        pid_t pid;

        (void)state;
        assert_false(mapped_at_start);
        assert_false(libcrypto_mapped());
        assert_int_equal(pipe(fds), 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                char buf[CERT_FINGERPRINT_MAX], sum[SHA256_HEX];
                int bad = 0;

                dup2(fds[1], STDOUT_FILENO);
                dup2(fds[1], STDERR_FILENO);
                crypto_set_library("libvpsp-test-absent.so.3");
                bad += crypto_load() != -ELIBACC;
                bad += !crypto_error() || !strstr(crypto_error(), "install the package libssl3");
                bad += cert_sha256_fingerprint(pem, buf, sizeof(buf)) != -ELIBACC;
                bad += !strstr(engine_new_error(-ELIBACC), "libssl3");
                bad += strcmp(engine_new_error(-ENOMEM), strerror(ENOMEM)) != 0;
                printf("checks failed: %d\n", bad);
                fflush(stdout);
                /* no way to report an error from sha256_hex(): a message and abort() */
                sha256_hex("abc", 3, sum);
                _exit(0);
        }
        close(fds[1]);
        while (len < sizeof(out) - 1 && (n = read(fds[0], out + len, sizeof(out) - 1 - len)) > 0)
                len += (size_t)n;
        out[len] = '\0';
        close(fds[0]);
        assert_int_equal(waitpid(pid, &st, 0), pid);
        print_message("%s", out);
        assert_non_null(strstr(out, "checks failed: 0\n"));
        assert_non_null(strstr(out, "vps-provision: libcrypto could not be loaded"));
        assert_true(WIFSIGNALED(st));
        assert_int_equal(WTERMSIG(st), SIGABRT);
        /* here, the real library: loaded by the first use */
        char sum[SHA256_HEX];

        sha256_hex("abc", 3, sum);
        assert_string_equal(sum, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert_true(libcrypto_mapped());
        assert_null(crypto_error());
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(loaded_on_demand),
                cmocka_unit_test(fingerprint),
                cmocka_unit_test(through_symlink),
                cmocka_unit_test(failures),
        };

        mapped_at_start = libcrypto_mapped();
        return cmocka_run_group_tests(tests, NULL, NULL);
}
