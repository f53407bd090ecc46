/* secret.c — see secret.h.
 *
 * DESIGN: a secret is one private anonymous mapping, rounded up to whole
 * pages, that holds the struct and the text together (so no copy of the
 * text ever lives in the malloc heap). The mapping is mlock()ed and marked
 * MADV_DONTDUMP. When mlock() fails because RLIMIT_MEMLOCK is exhausted
 * (ENOMEM, EPERM, EAGAIN) the secret is still created — unlocked but kept
 * out of core dumps — because refusing to run would help nobody: the
 * machine being provisioned is fresh and its swap (if any) is the risk we
 * accept there. secret_free() wipes with explicit_bzero() before unlocking
 * and unmapping.
 *
 * Password generation draws bytes from getrandom(2) and maps them to an
 * alphabet index by rejection sampling (bytes at or above the largest
 * multiple of the alphabet size are thrown away), so every character is
 * equally likely. A password that lacks one of the four classes is thrown
 * away as a whole and drawn again: that keeps the result uniform over all
 * passwords that contain every class (seeding one character per class and
 * shuffling would favour passwords with few characters of the small
 * classes). For 16 characters about one draw in five is rejected. */
#include "secret.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <unistd.h>

#include "util.h"

/* No look-alikes (O o 0 I l 1), no | ` ' " space \ , ; : < > & $. The
 * symbols also leave out ^ and ~, which are dead keys on many European
 * keyboard layouts, so a password is typed the same way in every RDP
 * client. */
#define UPPER "ABCDEFGHJKLMNPQRSTUVWXYZ"
#define LOWER "abcdefghijkmnpqrstuvwxyz"
#define DIGITS "23456789"
#define SYMBOLS "!#%*+-=?@_"
const char SECRET_UPPER[] = UPPER;
const char SECRET_LOWER[] = LOWER;
const char SECRET_DIGITS[] = DIGITS;
const char SECRET_SYMBOLS[] = SYMBOLS;
/* The layout-safe letters: the same without a m q w y z, which sit on
 * other keys in QWERTZ (y z) or AZERTY (a q w z m); digits are left out
 * because AZERTY types them with Shift. */
#define SAFE_UPPER "BCDEFGHJKLNPRSTUVX"
#define SAFE_LOWER "bcdefghijknprstuvx"
const char SECRET_SAFE_UPPER[] = SAFE_UPPER;
const char SECRET_SAFE_LOWER[] = SAFE_LOWER;
static const char *const FULL_CLASSES[] = { UPPER, LOWER, DIGITS, SYMBOLS };
static const char *const SAFE_CLASSES[] = { SAFE_UPPER, SAFE_LOWER };
#define FULL_SIZE (sizeof(UPPER LOWER DIGITS SYMBOLS) - 1)
#define SAFE_SIZE (sizeof(SAFE_UPPER SAFE_LOWER) - 1)

#define PASSWORD_MIN 16
#define PASSWORD_MAX 128
#define MAX_DRAWS 1000

struct secret {
        size_t len;       /* of text, without the NUL */
        size_t map_len;   /* of the whole mapping */
        bool locked;
        char text[];
};

/* Maps, locks and marks a region large enough for len bytes of text. */
int secret_alloc(size_t len, struct secret **ret)
{
        long page = sysconf(_SC_PAGESIZE);
        size_t need, map_len;
        struct secret *s;

        if (page <= 0)
                page = 4096;
        if (len > SIZE_MAX / 2)
                return -E2BIG;
        need = sizeof(struct secret) + len + 1;
        map_len = (need + (size_t)page - 1) / (size_t)page * (size_t)page;

        s = mmap(NULL, map_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (s == MAP_FAILED)
                return -errno;
        if (madvise(s, map_len, MADV_DONTDUMP) < 0) {
                int r = -errno;
                munmap(s, map_len);
                return r;
        }
        s->map_len = map_len;
        if (mlock(s, map_len) == 0)
                s->locked = true;
        else if (errno != ENOMEM && errno != EPERM && errno != EAGAIN) {
                int r = -errno;
                munmap(s, map_len);
                return r;
        }
        s->len = len;
        s->text[len] = '\0';
        *ret = s;
        return 0;
}

/* Fills buf with n random bytes from the kernel. */
static int random_bytes(void *buf, size_t n)
{
        unsigned char *p = buf;

        while (n > 0) {
                ssize_t k = getrandom(p, n, 0);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                p += k;
                n -= (size_t)k;
        }
        return 0;
}

/* A pool of random bytes, refilled on demand and wiped at the end. */
struct pool {
        unsigned char b[256];
        size_t pos;
};

/* A uniformly random integer in [0, n), 1 <= n <= 256. */
static int pool_uniform(struct pool *p, unsigned n, unsigned *ret)
{
        unsigned limit = 256 - 256 % n;   /* largest multiple of n not above 256 */

        for (;;) {
                if (p->pos >= sizeof(p->b)) {
                        int r = random_bytes(p->b, sizeof(p->b));
                        if (r < 0)
                                return r;
                        p->pos = 0;
                }
                unsigned v = p->b[p->pos++];
                if (v < limit) {
                        *ret = v % n;
                        return 0;
                }
        }
}

/* Index of the class c belongs to, or -1. */
static int char_class(const char *const *classes, size_t n_classes, char c)
{
        for (size_t i = 0; c && i < n_classes; i++)
                if (strchr(classes[i], c))
                        return (int)i;
        return -1;
}

/* len characters drawn uniformly from the union of the classes, drawn
 * again until every class occurs. */
static int generate(const char *const *classes, size_t n_classes, size_t len, struct secret **ret)
{
        char alphabet[128];
        struct pool pool = { .pos = sizeof(pool.b) };
        struct secret *s = NULL;
        unsigned n = 0;
        int r;

        if (len < PASSWORD_MIN || len > PASSWORD_MAX)
                return -EINVAL;
        for (size_t i = 0; i < n_classes; i++)
                for (const char *c = classes[i]; *c && n < sizeof(alphabet); c++)
                        alphabet[n++] = *c;

        r = secret_alloc(len, &s);
        if (r < 0)
                return r;
        for (unsigned draw = 0;; draw++) {
                bool seen[4] = { false, false, false, false };
                bool all = true;

                if (draw == MAX_DRAWS) {
                        /* (1/5)^1000: only a broken random source gets here */
                        r = -EIO;
                        goto fail;
                }
                for (size_t i = 0; i < len; i++) {
                        unsigned k;
                        r = pool_uniform(&pool, n, &k);
                        if (r < 0)
                                goto fail;
                        s->text[i] = alphabet[k];
                        seen[char_class(classes, n_classes, alphabet[k])] = true;
                }
                for (size_t i = 0; i < n_classes; i++)
                        all = all && seen[i];
                if (all)
                        break;
        }
        wipe(&pool, sizeof(pool));
        *ret = s;
        return 0;
fail:
        wipe(&pool, sizeof(pool));
        secret_free(s);
        return r;
}

int secret_generate_password(size_t len, struct secret **ret)
{
        return generate(FULL_CLASSES, ELEMENTSOF(FULL_CLASSES), len, ret);
}

int secret_generate_layout_safe(size_t len, struct secret **ret)
{
        return generate(SAFE_CLASSES, ELEMENTSOF(SAFE_CLASSES), len, ret);
}

size_t secret_layout_safe_length(size_t len)
{
        /* as many bits as len characters of the full alphabet:
         * len * log2(FULL_SIZE) / log2(SAFE_SIZE), rounded up */
        double bits = (double)len * log2((double)FULL_SIZE);
        size_t n = (size_t)ceil(bits / log2((double)SAFE_SIZE) - 1e-9);

        return n > PASSWORD_MAX ? PASSWORD_MAX : n;
}

int secret_from(const char *text, size_t len, struct secret **ret)
{
        struct secret *s;
        int r;

        if (!text && len > 0)
                return -EINVAL;
        r = secret_alloc(len, &s);
        if (r < 0)
                return r;
        if (len)
                memcpy(s->text, text, len);
        *ret = s;
        return 0;
}

char *secret_buffer(struct secret *s)
{
        return s ? s->text : NULL;
}

const char *secret_str(const struct secret *s)
{
        return s ? s->text : NULL;
}

size_t secret_len(const struct secret *s)
{
        return s ? s->len : 0;
}

void secret_free(struct secret *s)
{
        size_t map_len;
        bool locked;

        if (!s)
                return;
        map_len = s->map_len;
        locked = s->locked;
        explicit_bzero(s, map_len);
        if (locked)
                munlock(s, map_len);
        munmap(s, map_len);
}

void secret_harden_process(void)
{
        struct rlimit rl = { .rlim_cur = 0, .rlim_max = 0 };

        (void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
        (void)setrlimit(RLIMIT_CORE, &rl);
}
