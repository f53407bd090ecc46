/* cert.c — see cert.h. */
#include "cert.h"

#include <errno.h>
#include <stdio.h>

#include "crypto.h"
#include "util.h"

#define CERT_FILE_MAX (1u << 20)

int cert_sha256_fingerprint(const char *path, char *buf, size_t size)
{
        static const char hex[] = "0123456789ABCDEF";
        _cleanup_free_ char *pem = NULL;
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned int mdlen = 0;
        size_t len = 0;
        X509 *x = NULL;
        BIO *bio;
        int r;

        if (!path || !buf)
                return -EINVAL;
        if (size < CERT_FINGERPRINT_MAX)
                return -ENOBUFS;
        r = read_file(path, CERT_FILE_MAX, &pem, &len);
        if (r < 0)
                return r;
        r = crypto_load();
        if (r < 0)
                return r;
        const struct crypto_lib *k = crypto();

        bio = k->BIO_new_mem_buf(pem, (int)len);
        if (!bio)
                return -ENOMEM;
        x = k->PEM_read_bio_X509(bio, NULL, NULL, NULL);
        k->BIO_free(bio);
        if (!x)
                return -EBADMSG;
        r = k->X509_digest(x, k->EVP_sha256(), md, &mdlen) == 1 && mdlen == 32 ? 0 : -EBADMSG;
        k->X509_free(x);
        if (r < 0)
                return r;
        for (unsigned i = 0; i < mdlen; i++) {
                buf[i * 3] = hex[md[i] >> 4];
                buf[i * 3 + 1] = hex[md[i] & 0xf];
                buf[i * 3 + 2] = i + 1 < mdlen ? ':' : '\0';
        }
        return 0;
}
