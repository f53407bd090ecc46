/* crypto.c — see crypto.h. */
#include "crypto.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *soname = "libcrypto.so.3";
static struct crypto_lib lib;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static int load_rc;
static char load_err[240];

void crypto_set_library(const char *name)
{
        soname = name;
}

static int load(void)
{
        void *h = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
        const char *missing = NULL;

        if (!h) {
                const char *why = dlerror();

                (void)snprintf(load_err, sizeof(load_err),
                               "libcrypto could not be loaded (%s); install the package libssl3 "
                               "(apt-get install libssl3, libssl3t64 on Debian 13)",
                               why ? why : soname);
                return -ELIBACC;
        }
#define CRYPTO_RESOLVE(ret, name, params) \
        if (!missing && !(*(void **)&lib.name = dlsym(h, #name))) \
                missing = #name;
        CRYPTO_FUNCS(CRYPTO_RESOLVE)
#undef CRYPTO_RESOLVE
        if (missing) {
                (void)snprintf(load_err, sizeof(load_err),
                               "%s has no function %s (not OpenSSL 3?); install the package "
                               "libssl3 of Debian 12 or later", soname, missing);
                memset(&lib, 0, sizeof(lib));
                dlclose(h);
                return -ELIBBAD;
        }
        /* The handle stays open for the life of the process. */
        return 0;
}

static void load_once(void)
{
        load_rc = load();
}

int crypto_load(void)
{
        (void)pthread_once(&once, load_once);
        return load_rc;
}

const char *crypto_error(void)
{
        return crypto_load() < 0 ? load_err : NULL;
}

const struct crypto_lib *crypto(void)
{
        if (crypto_load() < 0) {
                (void)dprintf(STDERR_FILENO, "vps-provision: %s\n", load_err);
                abort();
        }
        return &lib;
}
