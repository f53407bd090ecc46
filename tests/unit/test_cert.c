/* test_cert.c — the RDP certificate's fingerprint, as clients show it. */
#include "testlib.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cert.h"
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

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(fingerprint),
                cmocka_unit_test(through_symlink),
                cmocka_unit_test(failures),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
