/* crypto.h — libcrypto (OpenSSL 3), loaded when it is first needed.
 *
 * The program hashes files (downloads, backups, the journal's records) and
 * reads one certificate's fingerprint; nothing of that happens for --help,
 * --version or the wizard's first screen. So libcrypto is not linked: it is
 * loaded with dlopen() by the first caller (as libcurl is by fetch.c), and
 * a start-up that needs no hash maps none of its 4 MiB. The functions the
 * project uses are the table below; the types and constants come from the
 * headers. */
#pragma once

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

/* X(return type, name, parameters) for every function used. */
#define CRYPTO_FUNCS(X) \
        X(EVP_MD_CTX *, EVP_MD_CTX_new, (void)) \
        X(void, EVP_MD_CTX_free, (EVP_MD_CTX *)) \
        X(const EVP_MD *, EVP_sha256, (void)) \
        X(int, EVP_DigestInit_ex, (EVP_MD_CTX *, const EVP_MD *, ENGINE *)) \
        X(int, EVP_DigestUpdate, (EVP_MD_CTX *, const void *, size_t)) \
        X(int, EVP_DigestFinal_ex, (EVP_MD_CTX *, unsigned char *, unsigned int *)) \
        X(BIO *, BIO_new_mem_buf, (const void *, int)) \
        X(int, BIO_free, (BIO *)) \
        X(X509 *, PEM_read_bio_X509, (BIO *, X509 **, pem_password_cb *, void *)) \
        X(int, X509_digest, (const X509 *, const EVP_MD *, unsigned char *, unsigned int *)) \
        X(void, X509_free, (X509 *))

struct crypto_lib {
#define CRYPTO_MEMBER(ret, name, params) ret(*name) params;
        CRYPTO_FUNCS(CRYPTO_MEMBER)
#undef CRYPTO_MEMBER
};

/* Load the library once (thread-safe). 0, -ELIBACC (it cannot be loaded) or
 * -ELIBBAD (a function is missing); crypto_error() then says what to
 * install. A caller that can report an error calls this early: a run does,
 * before it changes anything. */
int crypto_load(void);
const char *crypto_error(void);

/* The loaded table. A caller with no way to report an error (the sha256
 * helpers of util.h) gets it here: if the library cannot be loaded, the
 * message goes to stderr and the process aborts, as on out-of-memory. */
const struct crypto_lib *crypto(void);

/* Tests: load SONAME instead of libcrypto.so.3 (before the first load). */
void crypto_set_library(const char *soname);
