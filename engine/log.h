/* log.h — the run's log file.
 *
 * One process-wide log: "[2026-11-22T10:15:00Z] [INFO] [desktop] message",
 * one line per call, written with a single write(2) on an O_APPEND file of
 * mode 0600. Every registered secret is replaced by "[REDACTED]" before a
 * line is written, and control characters other than tab are escaped, so a
 * child's output cannot forge log lines or carry a terminal escape.
 * Thread-safe. Until log_open() succeeds, lines are kept nowhere (dry runs
 * and unit tests write no file). */
#pragma once

#include <stdarg.h>
#include <stddef.h>

#include "util.h"

enum log_level {
        LOG_DEBUG,
        LOG_INFO,
        LOG_WARNING,
        LOG_ERROR,
        _LOG_LEVEL_MAX,
};

struct secret;

/* Opens (creating 0600, or tightening an existing file to 0600) and appends.
 * A symlink (-ELOOP) or anything but a regular file (-EINVAL) is refused.
 * Calling it again replaces the open file. Default level: LOG_INFO. */
int log_open(const char *path);
void log_close(void);
const char *log_path(void);            /* NULL when no file is open */

void log_set_level(enum log_level min); /* lines below min are not written */
enum log_level log_get_level(void);
const char *log_level_name(enum log_level l);     /* "INFO" */
int log_level_from_string(const char *s, enum log_level *ret); /* debug|info|warning|error, any case */

/* scope: the phase id or "engine"; NULL = "-". */
void log_write(enum log_level level, const char *scope, const char *fmt, ...) _printf_(3, 4);
void log_writev(enum log_level level, const char *scope, const char *fmt, va_list ap) _printf_(3, 0);
/* A line of a child's output, written as is (after redaction/escaping).
 * One trailing "\n" (or "\r\n") is taken as the line's end and dropped. */
void log_line(enum log_level level, const char *scope, const char *line, size_t len);

/* Secrets: the log keeps a pointer (no copy) until unregistered; the secret
 * must outlive its registration. Every non-empty secret is redacted, however
 * short; registering one twice registers it once. */
void log_register_secret(const struct secret *s);
void log_unregister_secret(const struct secret *s);

/* Redacts every registered secret in text (in place; "[REDACTED]" may make
 * the text longer, so the result is a new string the caller frees). Used by
 * every path that stores or shows a child's output (session JSON, events). */
char *log_redact(const char *text, size_t len);
