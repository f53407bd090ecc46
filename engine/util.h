/* util.h — small helpers shared by every engine module: cleanup
 * attributes, string vectors, bounded growable buffers, time stamps, file
 * I/O with atomic replace, sha256, strict integer parsing, UTF-8 checks.
 *
 * Conventions: functions return 0 or a negative errno; ret_ parameters are
 * written only on success. */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#define ELEMENTSOF(a) (sizeof(a) / sizeof((a)[0]))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _cleanup_(f) __attribute__((cleanup(f)))
#define _unused_ __attribute__((unused))
#define _warn_unused_ __attribute__((warn_unused_result))

static inline void freep(void *p) { free(*(void **)p); }
static inline void closep(int *fd) { if (*fd >= 0) close(*fd); }
#define _cleanup_free_ _cleanup_(freep)
#define _cleanup_close_ _cleanup_(closep)
#define _cleanup_strv_ _cleanup_(strv_freep)

/* Hand ownership on out of a _cleanup_ variable. */
#define TAKE_PTR(p) ({ __typeof__(p) _tp = (p); (p) = NULL; _tp; })
#define TAKE_FD(fd) ({ int _tf = (fd); (fd) = -1; _tf; })

/* Allocation that cannot fail: on out-of-memory the program aborts with a
 * message (a provisioning run cannot continue sensibly without memory). */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) _printf_(1, 2);
/* The same for a va_list, so a function taking "fmt, ..." formats in one
 * call between va_start and va_end. */
char *xvasprintf(const char *fmt, va_list ap) _printf_(1, 0);

/* NULL-terminated string vectors (char **). NULL is an empty vector. */
size_t strv_length(char *const *v);
void strv_push(char ***v, const char *s);           /* copies s */
void strv_push_take(char ***v, char *s);            /* takes s */
void strv_pushf(char ***v, const char *fmt, ...) _printf_(2, 3);
char **strv_copy(char *const *v);
bool strv_contains(char *const *v, const char *s);
void strv_sort(char **v);
char *strv_join(char *const *v, const char *sep);   /* "" for empty */
/* "a, b, c" of the first max entries, then " (and N more)" when there are
 * more; "" for empty. Caller frees. */
char *strv_join_some(char *const *v, size_t max);
void strv_free(char **v);
static inline void strv_freep(char ***v) { strv_free(*v); }

/* Growable byte buffer with a hard maximum: appends past max fail with
 * -E2BIG and leave the buffer unchanged. data is always NUL-terminated. */
struct buf {
        char *data;
        size_t len, cap, max;
};
void buf_init(struct buf *b, size_t max);
int buf_append(struct buf *b, const void *p, size_t n);
int buf_printf(struct buf *b, const char *fmt, ...) _printf_(2, 3);
char *buf_steal(struct buf *b);                     /* caller frees; buffer emptied */
void buf_release(struct buf *b);

/* Times. iso8601 writes "2026-11-22T10:15:00Z" (UTC, 21 bytes with NUL). */
#define ISO8601_MAX 32
void iso8601(time_t t, char ret[ISO8601_MAX]);
void iso8601_now(char ret[ISO8601_MAX]);
int64_t now_ms(void);           /* CLOCK_MONOTONIC, milliseconds */
int64_t wall_ms(void);          /* CLOCK_REALTIME, milliseconds */
void sleep_ms(unsigned ms);

/* Files. */
int mkdir_p(const char *path, mode_t mode);
/* Reads at most max bytes (more → -EFBIG). *ret_data is NUL-terminated.
 * Follows symlinks and reads pipes (an answers file may be <(...)): for
 * paths root controls. A file in a directory another user controls (a
 * home) is read with safepath_read() (safepath.h). */
int read_file(const char *path, size_t max, char **ret_data, size_t *ret_len);
/* Writes through a temp file in the same directory (PATH.vpsp-XXXXXX):
 * write, fchmod/fchown, fsync, rename over path, fsync the directory.
 * uid/gid (uid_t)-1 = keep the caller's. Never leaves a partial file at
 * path; first removes the temp files of path that a killed process left.
 * For paths root controls; in another user's directory use
 * safepath_write(). */
int write_file_atomic(const char *path, const void *data, size_t len, mode_t mode,
                      uid_t uid, gid_t gid);
/* Removes PATH.vpsp-XXXXXX, the temp files of write_file_atomic(path) that
 * a process killed in the middle of it left behind; returns how many. */
int atomic_leftovers_remove(const char *path);
/* The same for the file name in the directory fd dir (safepath.h). */
int atomic_leftovers_remove_at(int dir, const char *name);
int copy_file_synced(const char *from, const char *to, mode_t mode);
int fsync_dir_of(const char *path);
/* Writes all len bytes of data to fd (again after EINTR or a short write):
 * 0, or -errno. */
int write_all(int fd, const void *data, size_t len);
bool path_exists(const char *path);

/* SHA-256 as 64 lower-case hex digits plus NUL. */
#define SHA256_HEX 65
void sha256_hex(const void *data, size_t len, char ret[SHA256_HEX]);
int sha256_file(const char *path, char ret[SHA256_HEX]);
/* Incremental hashing, for digests over many pieces (checkpoint checksum). */
struct sha256_ctx;
struct sha256_ctx *sha256_begin(void);
void sha256_add(struct sha256_ctx *c, const void *data, size_t len);
void sha256_end(struct sha256_ctx *c, char ret[SHA256_HEX]);   /* frees c */

/* Strict number parsing: the whole string, no sign surprises, in range. */
int parse_long(const char *s, long min, long max, long *ret);
int parse_bool(const char *s, bool *ret);      /* yes/no true/false on/off 1/0 */

/* UTF-8: well-formed, no overlongs, no surrogates, no NUL. */
bool utf8_valid(const char *s, size_t len);
/* Length of the character starting at s (n > 0 bytes available): 1 for
 * any ASCII byte (NUL included), 2..4 for a well-formed sequence (no
 * overlong form, no surrogate, nothing above U+10FFFF), 0 for anything
 * else (a stray continuation byte, a cut-off sequence). */
size_t utf8_char_len(const char *s, size_t n);
/* Zeroes memory in a way the compiler may not elide. */
void wipe(void *p, size_t n);
/* Trims ASCII whitespace in place; returns s. */
char *strstrip(char *s);
bool startswith(const char *s, const char *prefix);
/* Copies with truncation; always terminates; returns -ENAMETOOLONG when cut. */
int strscpy(char *dst, size_t size, const char *src);
/* Writes the message into err (when err and errlen) and returns r, so a
 * check says what is wrong in one line: return errorf(-EINVAL, err, errlen,
 * "must be …"). Truncation of a long message is harmless. */
int errorf(int r, char *err, size_t errlen, const char *fmt, ...) _printf_(4, 5);
