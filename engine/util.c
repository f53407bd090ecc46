/* util.c — see util.h. */
#include "util.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "crypto.h"
#include "faultpoint.h"

static void oom(void)
{
        static const char msg[] = "vps-provision: out of memory\n";
        (void)!write(STDERR_FILENO, msg, sizeof(msg) - 1);
        abort();
}

void *xmalloc(size_t n)
{
        void *p = malloc(n ? n : 1);
        if (!p)
                oom();
        return p;
}

void *xcalloc(size_t n, size_t size)
{
        void *p = calloc(n ? n : 1, size ? size : 1);
        if (!p)
                oom();
        return p;
}

void *xrealloc(void *p, size_t n)
{
        void *q = realloc(p, n ? n : 1);
        if (!q)
                oom();
        return q;
}

char *xstrdup(const char *s)
{
        char *p = strdup(s ? s : "");
        if (!p)
                oom();
        return p;
}

char *xstrndup(const char *s, size_t n)
{
        char *p = strndup(s, n);
        if (!p)
                oom();
        return p;
}

char *xvasprintf(const char *fmt, va_list ap)
{
        char *p;

        if (vasprintf(&p, fmt, ap) < 0)
                oom();
        return p;
}

char *xasprintf(const char *fmt, ...)
{
        va_list ap;
        char *p;

        va_start(ap, fmt);
        p = xvasprintf(fmt, ap);
        va_end(ap);
        return p;
}

size_t strv_length(char *const *v)
{
        size_t n = 0;
        while (v && v[n])
                n++;
        return n;
}

void strv_push_take(char ***v, char *s)
{
        size_t n = strv_length(*v);
        *v = xrealloc(*v, (n + 2) * sizeof(char *));
        (*v)[n] = s;
        (*v)[n + 1] = NULL;
}

void strv_push(char ***v, const char *s)
{
        strv_push_take(v, xstrdup(s));
}

void strv_pushf(char ***v, const char *fmt, ...)
{
        va_list ap;
        char *p;

        va_start(ap, fmt);
        p = xvasprintf(fmt, ap);
        va_end(ap);
        strv_push_take(v, p);
}

char **strv_copy(char *const *v)
{
        char **r = NULL;
        for (size_t i = 0; v && v[i]; i++)
                strv_push(&r, v[i]);
        if (!r)
                r = xcalloc(1, sizeof(char *));
        return r;
}

bool strv_contains(char *const *v, const char *s)
{
        for (size_t i = 0; v && v[i]; i++)
                if (strcmp(v[i], s) == 0)
                        return true;
        return false;
}

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

void strv_sort(char **v)
{
        size_t n = strv_length(v);
        if (n > 1)
                qsort(v, n, sizeof(char *), cmp_str);
}

char *strv_join(char *const *v, const char *sep)
{
        struct buf b;
        buf_init(&b, SIZE_MAX);
        for (size_t i = 0; v && v[i]; i++) {
                if (i)
                        buf_append(&b, sep, strlen(sep));
                buf_append(&b, v[i], strlen(v[i]));
        }
        return buf_steal(&b);
}

char *strv_join_some(char *const *v, size_t max)
{
        size_t n = strv_length(v);
        struct buf b;

        buf_init(&b, SIZE_MAX);
        for (size_t i = 0; i < n && i < max; i++)
                buf_printf(&b, "%s%s", i ? ", " : "", v[i]);
        if (n > max)
                buf_printf(&b, " (and %zu more)", n - max);
        return buf_steal(&b);
}

void strv_free(char **v)
{
        for (size_t i = 0; v && v[i]; i++)
                free(v[i]);
        free(v);
}

void buf_init(struct buf *b, size_t max)
{
        *b = (struct buf){ .max = max };
}

int buf_append(struct buf *b, const void *p, size_t n)
{
        if (n > b->max || b->len > b->max - n)
                return -E2BIG;
        if (b->len + n + 1 > b->cap) {
                size_t cap = b->cap ? b->cap : 64;
                while (cap < b->len + n + 1)
                        cap *= 2;
                b->data = xrealloc(b->data, cap);
                b->cap = cap;
        }
        if (n)
                memcpy(b->data + b->len, p, n);
        b->len += n;
        b->data[b->len] = '\0';
        return 0;
}

int buf_printf(struct buf *b, const char *fmt, ...)
{
        va_list ap;
        char *p;
        int r;

        va_start(ap, fmt);
        p = xvasprintf(fmt, ap);
        va_end(ap);
        r = buf_append(b, p, strlen(p));
        free(p);
        return r;
}

char *buf_steal(struct buf *b)
{
        char *p = b->data ? b->data : xstrdup("");
        b->data = NULL;
        b->len = b->cap = 0;
        return p;
}

void buf_release(struct buf *b)
{
        free(b->data);
        b->data = NULL;
        b->len = b->cap = 0;
}

void iso8601(time_t t, char ret[ISO8601_MAX])
{
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(ret, ISO8601_MAX, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void iso8601_now(char ret[ISO8601_MAX])
{
        iso8601(time(NULL), ret);
}

int64_t now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t wall_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void sleep_ms(unsigned ms)
{
        struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000 };
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

int mkdir_p(const char *path, mode_t mode)
{
        char tmp[PATH_MAX];

        if (strscpy(tmp, sizeof(tmp), path) < 0)
                return -ENAMETOOLONG;
        for (char *p = tmp + 1; *p; p++) {
                if (*p != '/')
                        continue;
                *p = '\0';
                if (mkdir(tmp, mode) < 0 && errno != EEXIST)
                        return -errno;
                *p = '/';
        }
        if (mkdir(tmp, mode) < 0 && errno != EEXIST)
                return -errno;
        return 0;
}

/* Reads the file at path to its end, handing each chunk to take, which may
 * stop the reading with a negative errno (returned). */
static int read_chunks(const char *path, int (*take)(void *userdata, const char *p, size_t n),
                       void *userdata)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        char chunk[65536];

        if (fd < 0)
                return -errno;
        for (;;) {
                ssize_t n = read(fd, chunk, sizeof(chunk));
                int r;

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        return 0;
                r = take(userdata, chunk, (size_t)n);
                if (r < 0)
                        return r;
        }
}

static int take_into_buf(void *userdata, const char *p, size_t n)
{
        return buf_append(userdata, p, n) < 0 ? -EFBIG : 0;
}

int read_file(const char *path, size_t max, char **ret_data, size_t *ret_len)
{
        struct buf b;
        int r;

        buf_init(&b, max);
        r = read_chunks(path, take_into_buf, &b);
        if (r < 0) {
                buf_release(&b);
                return r;
        }
        if (ret_len)
                *ret_len = b.len;
        *ret_data = buf_steal(&b);
        return 0;
}

int write_all(int fd, const void *data, size_t len)
{
        const char *p = data;
        while (len > 0) {
                ssize_t n = write(fd, p, len);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                p += n;
                len -= (size_t)n;
        }
        return 0;
}

int fsync_dir_of(const char *path)
{
        char tmp[PATH_MAX];
        if (strscpy(tmp, sizeof(tmp), path) < 0)
                return -ENAMETOOLONG;
        _cleanup_close_ int dfd = open(dirname(tmp), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return -errno;
        if (fsync(dfd) < 0)
                return -errno;
        return 0;
}

#define ATOMIC_SUFFIX ".vpsp-"

int atomic_leftovers_remove_at(int dir, const char *base)
{
        size_t blen = strlen(base);
        struct dirent *de;
        DIR *d;
        int fd, n = 0;

        if (blen == 0)
                return -EINVAL;
        fd = openat(dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOENT ? 0 : -errno;
        d = fdopendir(fd);
        if (!d) {
                int r = -errno;
                close(fd);
                return r;
        }
        while ((de = readdir(d))) {
                const char *rest = de->d_name + blen;
                size_t k = 0;

                /* exactly NAME.vpsp- and mkstemp's six letters or digits */
                if (strncmp(de->d_name, base, blen) != 0 ||
                    strncmp(rest, ATOMIC_SUFFIX, strlen(ATOMIC_SUFFIX)) != 0)
                        continue;
                rest += strlen(ATOMIC_SUFFIX);
                while (rest[k] && isalnum((unsigned char)rest[k]))
                        k++;
                if (k != 6 || rest[k])
                        continue;
                if (unlinkat(dirfd(d), de->d_name, 0) == 0)
                        n++;
        }
        closedir(d);
        return n;
}

int atomic_leftovers_remove(const char *path)
{
        char dir[PATH_MAX];
        const char *base;
        char *slash;
        int fd, n;

        if (strscpy(dir, sizeof(dir), path) < 0)
                return -ENAMETOOLONG;
        slash = strrchr(dir, '/');
        if (!slash)
                return -EINVAL;
        base = path + (slash - dir) + 1;
        if (slash == dir)
                dir[1] = '\0';
        else
                *slash = '\0';
        fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOENT ? 0 : -errno;
        n = atomic_leftovers_remove_at(fd, base);
        close(fd);
        return n;
}

/* Set only by test programs (faultpoint.h). */
void (*fault_point_hook)(const char *kind, const char *detail, size_t len);

int write_file_atomic(const char *path, const void *data, size_t len, mode_t mode,
                      uid_t uid, gid_t gid)
{
        char tmp[PATH_MAX];
        int fd, r;

        if (snprintf(tmp, sizeof(tmp), "%s" ATOMIC_SUFFIX "XXXXXX", path) >= (int)sizeof(tmp))
                return -ENAMETOOLONG;
        (void)atomic_leftovers_remove(path);
        fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0)
                return -errno;
        r = write_all(fd, data, len);
        fault_point("atomic", path, strlen(path));
        if (r == 0 && fchmod(fd, mode) < 0)
                r = -errno;
        if (r == 0 && (uid != (uid_t)-1 || gid != (gid_t)-1) && fchown(fd, uid, gid) < 0)
                r = -errno;
        if (r == 0 && fsync(fd) < 0)
                r = -errno;
        if (close(fd) < 0 && r == 0)
                r = -errno;
        if (r == 0 && rename(tmp, path) < 0)
                r = -errno;
        if (r < 0) {
                unlink(tmp);
                return r;
        }
        return fsync_dir_of(path);
}

int copy_file_synced(const char *from, const char *to, mode_t mode)
{
        _cleanup_free_ char *data = NULL;
        size_t len = 0;
        int r = read_file(from, (size_t)1 << 30, &data, &len);
        if (r < 0)
                return r;
        return write_file_atomic(to, data, len, mode, (uid_t)-1, (gid_t)-1);
}

bool path_exists(const char *path)
{
        struct stat st;
        return lstat(path, &st) == 0;
}

void sha256_hex(const void *data, size_t len, char ret[SHA256_HEX])
{
        struct sha256_ctx *c = sha256_begin();
        sha256_add(c, data, len);
        sha256_end(c, ret);
}

struct sha256_ctx {
        EVP_MD_CTX *md;
};

struct sha256_ctx *sha256_begin(void)
{
        struct sha256_ctx *c = xmalloc(sizeof(*c));
        const struct crypto_lib *k = crypto();

        c->md = k->EVP_MD_CTX_new();
        if (!c->md || k->EVP_DigestInit_ex(c->md, k->EVP_sha256(), NULL) != 1)
                oom();
        return c;
}

void sha256_add(struct sha256_ctx *c, const void *data, size_t len)
{
        if (len)
                crypto()->EVP_DigestUpdate(c->md, data, len);
}

void sha256_end(struct sha256_ctx *c, char ret[SHA256_HEX])
{
        unsigned char d[EVP_MAX_MD_SIZE];
        unsigned int n = 0;
        static const char hex[] = "0123456789abcdef";

        const struct crypto_lib *k = crypto();

        k->EVP_DigestFinal_ex(c->md, d, &n);
        for (unsigned i = 0; i < n && i < 32; i++) {
                ret[2 * i] = hex[d[i] >> 4];
                ret[2 * i + 1] = hex[d[i] & 15];
        }
        ret[64] = '\0';
        k->EVP_MD_CTX_free(c->md);
        free(c);
}

static int take_into_sha256(void *userdata, const char *p, size_t n)
{
        sha256_add(userdata, p, n);
        return 0;
}

int sha256_file(const char *path, char ret[SHA256_HEX])
{
        struct sha256_ctx *c = sha256_begin();
        char digest[SHA256_HEX];
        int r = read_chunks(path, take_into_sha256, c);

        sha256_end(c, digest);
        if (r < 0)
                return r;
        memcpy(ret, digest, SHA256_HEX);
        return 0;
}

int parse_long(const char *s, long min, long max, long *ret)
{
        char *end;
        long v;

        if (!s || !*s || isspace((unsigned char)*s))
                return -EINVAL;
        errno = 0;
        v = strtol(s, &end, 10);
        if (errno == ERANGE)
                return -ERANGE;
        if (*end != '\0')
                return -EINVAL;
        if (v < min || v > max)
                return -ERANGE;
        *ret = v;
        return 0;
}

int parse_bool(const char *s, bool *ret)
{
        static const char *const yes[] = { "yes", "true", "on", "1" };
        static const char *const no[] = { "no", "false", "off", "0" };

        for (size_t i = 0; i < ELEMENTSOF(yes); i++) {
                if (strcasecmp(s, yes[i]) == 0) {
                        *ret = true;
                        return 0;
                }
                if (strcasecmp(s, no[i]) == 0) {
                        *ret = false;
                        return 0;
                }
        }
        return -EINVAL;
}

size_t utf8_char_len(const char *s, size_t n)
{
        const unsigned char *p = (const unsigned char *)s;
        size_t k;
        uint32_t cp;

        if (n == 0)
                return 0;
        if (p[0] < 0x80)
                return 1;
        if (p[0] >= 0xc2 && p[0] <= 0xdf) {
                k = 2;
                cp = p[0] & 0x1f;
        } else if (p[0] >= 0xe0 && p[0] <= 0xef) {
                k = 3;
                cp = p[0] & 0x0f;
        } else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
                k = 4;
                cp = p[0] & 0x07;
        } else
                return 0;
        if (k > n)
                return 0;
        for (size_t i = 1; i < k; i++) {
                if ((p[i] & 0xc0) != 0x80)
                        return 0;
                cp = (cp << 6) | (p[i] & 0x3f);
        }
        if ((k == 3 && cp < 0x800) || (k == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff))
                return 0;
        return k;
}

bool utf8_valid(const char *s, size_t len)
{
        size_t i = 0;

        while (i < len) {
                size_t k;

                if ((unsigned char)s[i] < 0x80) {   /* the common case, without a call */
                        if (s[i] == '\0')
                                return false;
                        i++;
                        continue;
                }
                k = utf8_char_len(s + i, len - i);
                if (k == 0)
                        return false;
                i += k;
        }
        return true;
}

void wipe(void *p, size_t n)
{
        if (p && n)
                explicit_bzero(p, n);
}

char *strstrip(char *s)
{
        char *e;
        char *b = s;

        while (*b && isspace((unsigned char)*b))
                b++;
        if (b != s)
                memmove(s, b, strlen(b) + 1);
        e = s + strlen(s);
        while (e > s && isspace((unsigned char)e[-1]))
                *--e = '\0';
        return s;
}

bool startswith(const char *s, const char *prefix)
{
        return strncmp(s, prefix, strlen(prefix)) == 0;
}

int strscpy(char *dst, size_t size, const char *src)
{
        size_t n = strlen(src);
        if (size == 0)
                return -ENAMETOOLONG;
        if (n >= size) {
                memcpy(dst, src, size - 1);
                dst[size - 1] = '\0';
                return -ENAMETOOLONG;
        }
        memcpy(dst, src, n + 1);
        return 0;
}

int errorf(int r, char *err, size_t errlen, const char *fmt, ...)
{
        va_list ap;

        if (err && errlen) {
                va_start(ap, fmt);
                (void)!vsnprintf(err, errlen, fmt, ap);
                va_end(ap);
        }
        return r;
}
