/* log.c — see log.h.
 *
 * DESIGN: one process-wide state behind one mutex: the fd, its path, the
 * level and the registered secrets. A line is built completely in memory
 * (time stamp, level, scope, redacted and escaped message, newline) and
 * handed to a single write(2) on an O_APPEND fd while the mutex is held,
 * so lines from several threads (or processes appending to the same file)
 * never interleave.
 *
 * Redaction runs on the raw bytes first: every occurrence of every
 * registered secret is marked in a byte map, also when occurrences overlap
 * (of one secret or of two), and each run of marked bytes becomes one
 * "[REDACTED]". Every non-empty secret is redacted whatever its length: a
 * short password hidden badly is worse than a log line that is hard to
 * read (passwords are validated to be long elsewhere). An empty secret is
 * kept registered but matches nothing.
 *
 * Escaping runs second, on the redacted text: control characters (C0 other
 * than tab, DEL, and the C1 range U+0080..U+009F) and bytes that are not
 * part of well-formed UTF-8 are written as \xNN. So a child cannot end a
 * line early, forge a "[time] [LEVEL]" prefix or reach a terminal that
 * shows the log. A backslash itself is not escaped.
 *
 * A message longer than LOG_MESSAGE_MAX bytes (after redaction) is cut
 * there and marked. */
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "secret.h"

#define LOG_MESSAGE_MAX (64 * 1024)
#define REDACTED "[REDACTED]"

static struct {
        pthread_mutex_t lock;
        int fd;
        char *path;
        enum log_level level;
        const struct secret **secrets;
        size_t n_secrets;
} L = {
        .lock = PTHREAD_MUTEX_INITIALIZER,
        .fd = -1,
        .level = LOG_INFO,
};

static const char *const level_names[_LOG_LEVEL_MAX] = {
        [LOG_DEBUG] = "DEBUG",
        [LOG_INFO] = "INFO",
        [LOG_WARNING] = "WARNING",
        [LOG_ERROR] = "ERROR",
};

int log_open(const char *path)
{
        struct stat st;
        int fd;

        if (!path || !*path)
                return -EINVAL;
        /* O_NONBLOCK: a FIFO planted at path must not hang the open; it is
         * refused below, and cleared again for the regular file. */
        fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW |
                                O_NONBLOCK, 0600);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0) {
                int r = -errno;
                close(fd);
                return r;
        }
        if (!S_ISREG(st.st_mode)) {
                close(fd);
                return -EINVAL;
        }
        if (fcntl(fd, F_SETFL, O_APPEND) < 0 ||
            ((st.st_mode & 07777) != 0600 && fchmod(fd, 0600) < 0)) {
                int r = -errno;
                close(fd);
                return r;
        }

        pthread_mutex_lock(&L.lock);
        if (L.fd >= 0)
                close(L.fd);
        free(L.path);
        L.fd = fd;
        L.path = xstrdup(path);
        pthread_mutex_unlock(&L.lock);
        return 0;
}

void log_close(void)
{
        pthread_mutex_lock(&L.lock);
        if (L.fd >= 0)
                close(L.fd);
        L.fd = -1;
        free(L.path);
        L.path = NULL;
        pthread_mutex_unlock(&L.lock);
}

/* The pointer stays valid until the next log_open() or log_close(). */
const char *log_path(void)
{
        const char *p;

        pthread_mutex_lock(&L.lock);
        p = L.path;
        pthread_mutex_unlock(&L.lock);
        return p;
}

void log_set_level(enum log_level min)
{
        if ((int)min < 0 || min >= _LOG_LEVEL_MAX)
                return;
        pthread_mutex_lock(&L.lock);
        L.level = min;
        pthread_mutex_unlock(&L.lock);
}

enum log_level log_get_level(void)
{
        enum log_level l;

        pthread_mutex_lock(&L.lock);
        l = L.level;
        pthread_mutex_unlock(&L.lock);
        return l;
}

const char *log_level_name(enum log_level l)
{
        if ((int)l < 0 || l >= _LOG_LEVEL_MAX)
                return "UNKNOWN";
        return level_names[l];
}

int log_level_from_string(const char *s, enum log_level *ret)
{
        if (!s)
                return -EINVAL;
        for (int i = 0; i < _LOG_LEVEL_MAX; i++)
                if (strcasecmp(s, level_names[i]) == 0) {
                        *ret = (enum log_level)i;
                        return 0;
                }
        return -EINVAL;
}

/* Appends text[0..len) with every registered secret replaced by REDACTED.
 * Caller holds the lock. */
static void redact_locked(struct buf *out, const char *text, size_t len)
{
        _cleanup_free_ unsigned char *mark = NULL;
        bool any = false;

        for (size_t i = 0; i < L.n_secrets; i++) {
                const char *sec = secret_str(L.secrets[i]);
                size_t slen = secret_len(L.secrets[i]);
                const char *p = text, *end = text + len, *hit;

                if (slen == 0 || slen > len)
                        continue;
                while (p < end && (hit = memmem(p, (size_t)(end - p), sec, slen))) {
                        if (!mark)
                                mark = xcalloc(len, 1);
                        memset(mark + (hit - text), 1, slen);
                        any = true;
                        p = hit + 1;   /* overlapping occurrences too */
                }
        }
        if (!any) {
                buf_append(out, text, len);
                return;
        }
        for (size_t i = 0; i < len;) {
                size_t j = i;
                if (mark[i]) {
                        while (j < len && mark[j])
                                j++;
                        buf_append(out, REDACTED, strlen(REDACTED));
                } else {
                        while (j < len && !mark[j])
                                j++;
                        buf_append(out, text + i, j - i);
                }
                i = j;
        }
}

/* Appends text[0..len) with control characters and bytes outside
 * well-formed UTF-8 written as \xNN. */
static void escape_into(struct buf *out, const char *text, size_t len)
{
        static const char hex[] = "0123456789abcdef";
        const unsigned char *p = (const unsigned char *)text;
        size_t i = 0, run = 0;   /* run: start of bytes copied as they are */

        while (i < len) {
                size_t k = 1;
                bool esc;

                if (p[i] < 0x80)
                        esc = (p[i] < 0x20 && p[i] != '\t') || p[i] == 0x7f;
                else {
                        k = utf8_char_len(text + i, len - i);
                        /* U+0080..U+009F (C1 controls) are 0xc2 0x80..0x9f */
                        esc = k == 0 || (p[i] == 0xc2 && p[i + 1] < 0xa0);
                }
                if (!esc) {
                        i += k;
                        continue;
                }
                if (k == 0)
                        k = 1;
                buf_append(out, text + run, i - run);
                for (size_t j = i; j < i + k; j++) {
                        char e[4] = { '\\', 'x', hex[p[j] >> 4], hex[p[j] & 15] };
                        buf_append(out, e, sizeof(e));
                }
                i += k;
                run = i;
        }
        buf_append(out, text + run, len - run);
}

/* Builds and writes one line; text is the raw message. */
static void emit(enum log_level level, const char *scope, const char *text, size_t len)
{
        char ts[ISO8601_MAX];
        struct buf red, line;

        if ((int)level < 0 || level >= _LOG_LEVEL_MAX)
                level = LOG_ERROR;
        if (!scope)
                scope = "-";

        pthread_mutex_lock(&L.lock);
        if (L.fd < 0 || level < L.level) {
                pthread_mutex_unlock(&L.lock);
                return;
        }
        buf_init(&red, SIZE_MAX);
        redact_locked(&red, text, len);

        iso8601_now(ts);
        buf_init(&line, SIZE_MAX);
        buf_printf(&line, "[%s] [%s] [", ts, level_names[level]);
        escape_into(&line, scope, strlen(scope));
        buf_append(&line, "] ", 2);
        if (red.len > LOG_MESSAGE_MAX) {
                escape_into(&line, red.data, LOG_MESSAGE_MAX);
                buf_printf(&line, " [%zu more bytes cut]", red.len - LOG_MESSAGE_MAX);
        } else if (red.len) {
                escape_into(&line, red.data, red.len);
        }
        buf_append(&line, "\n", 1);
        (void)write_all(L.fd, line.data, line.len);   /* nowhere to report a failing log */
        pthread_mutex_unlock(&L.lock);

        wipe(red.data, red.len);
        buf_release(&red);
        buf_release(&line);
}

void log_writev(enum log_level level, const char *scope, const char *fmt, va_list ap)
{
        char *msg;
        size_t n;

        pthread_mutex_lock(&L.lock);
        bool off = L.fd < 0 || level < L.level;
        pthread_mutex_unlock(&L.lock);
        if (off || !fmt)
                return;

        msg = xvasprintf(fmt, ap);
        n = strlen(msg);
        emit(level, scope, msg, n);
        wipe(msg, n);   /* it may hold a secret */
        free(msg);
}

void log_write(enum log_level level, const char *scope, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        log_writev(level, scope, fmt, ap);
        va_end(ap);
}

/* One trailing "\n" (or "\r\n") is the line's end, not part of it. */
void log_line(enum log_level level, const char *scope, const char *line, size_t len)
{
        if (!line)
                len = 0;
        if (len > 0 && line[len - 1] == '\n') {
                len--;
                if (len > 0 && line[len - 1] == '\r')
                        len--;
        }
        emit(level, scope, line ? line : "", len);
}

void log_register_secret(const struct secret *s)
{
        if (!s)
                return;
        pthread_mutex_lock(&L.lock);
        for (size_t i = 0; i < L.n_secrets; i++)
                if (L.secrets[i] == s)
                        goto out;
        L.secrets = xrealloc(L.secrets, (L.n_secrets + 1) * sizeof(*L.secrets));
        L.secrets[L.n_secrets++] = s;
out:
        pthread_mutex_unlock(&L.lock);
}

void log_unregister_secret(const struct secret *s)
{
        pthread_mutex_lock(&L.lock);
        for (size_t i = 0; i < L.n_secrets; i++)
                if (L.secrets[i] == s) {
                        L.secrets[i] = L.secrets[--L.n_secrets];
                        break;
                }
        if (L.n_secrets == 0) {
                free(L.secrets);
                L.secrets = NULL;
        }
        pthread_mutex_unlock(&L.lock);
}

char *log_redact(const char *text, size_t len)
{
        struct buf out;

        buf_init(&out, SIZE_MAX);
        if (text && len) {
                pthread_mutex_lock(&L.lock);
                redact_locked(&out, text, len);
                pthread_mutex_unlock(&L.lock);
        }
        return buf_steal(&out);
}
