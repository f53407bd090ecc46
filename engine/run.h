/* run.h — the one module that starts child processes.
 *
 * Every system change the program makes goes through run_command(): an argv
 * array, never a shell string. The child gets a clean environment (the
 * caller's list, or run_default_env()), stdin from the bytes given (secrets
 * go this way, never in argv or env) or /dev/null, and its stdout, stderr
 * and optional status pipe are read with poll() and handed to a callback one
 * line at a time.
 *
 * DESIGN: argv[0] is resolved against PATH in the parent, all memory the
 * child needs is prepared before fork(), and between fork() and execve()
 * the child calls only async-signal-safe functions (dup2, close, sigaction,
 * sigprocmask, chdir, setsid, execve, write, _exit). An exec failure is sent
 * back as an errno through a close-on-exec pipe, so "not found" is told
 * apart from "the program exited 127". Every fd the parent opens is
 * O_CLOEXEC; the child closes everything above 2 except the status fd.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum run_stream {
        RUN_STDOUT = 1,
        RUN_STDERR = 2,
        RUN_STATUS = 3, /* the extra status pipe (e.g. APT::Status-Fd) */
};

/* Called once per line, without the trailing newline. line is NUL-terminated
 * at len; it may contain other bytes (binary output is passed through).
 * truncated: the line was longer than line_max and was cut there (the rest,
 * up to the next newline, is discarded). A final line without newline is
 * delivered at EOF. Called on the caller's thread, never concurrently. */
typedef void (*run_line_fn)(void *userdata, enum run_stream stream, const char *line,
                            size_t len, bool truncated);

struct run_opts {
        const char *const *argv;  /* required, argv[0] non-empty */
        const char *const *envp;  /* full child environment; NULL = run_default_env() */
        const char *cwd;          /* NULL = "/" */
        const void *stdin_data;   /* written to the child's stdin, then closed; NULL = /dev/null */
        size_t stdin_len;
        int status_fd;            /* child fd (>= 3) wired to a pipe read as RUN_STATUS; -1 = none.
                                     Use 0 only via run_opts_init(), which sets -1. */
        unsigned timeout_ms;      /* 0 = no timeout. On expiry: SIGTERM, then SIGKILL */
        unsigned kill_after_ms;   /* grace between TERM and KILL; 0 = 5000 */
        size_t line_max;          /* per-line cap in bytes; 0 = 4096 */
        run_line_fn on_line;      /* NULL = output discarded */
        /* After each wake-up's reads have been split into lines and handed
         * to on_line (a batch of lines ends here); NULL = none. Called on
         * the caller's thread, like on_line. */
        void (*on_flush)(void *userdata);
        void *userdata;
        int cancel_fd;            /* when readable, the child is terminated (TERM, then KILL); -1 = none */
};

struct run_result {
        int status;               /* what run_command() returned */
        bool timed_out;
        bool cancelled;
        int64_t duration_ms;
        uint64_t lines[4];        /* lines delivered, indexed by enum run_stream */
        uint64_t bytes[4];        /* bytes read, indexed by enum run_stream */
};

/* Fills defaults: status_fd = -1, cancel_fd = -1, everything else 0/NULL. */
void run_opts_init(struct run_opts *o);

/* Runs the command to completion. Returns:
 *   0..255     the child's exit status
 *   128+N      the child was killed by signal N (also after a timeout or
 *              cancel: see ret_result->timed_out / cancelled)
 *   -errno     the child could not be started: -ENOENT (not found in PATH),
 *              -EACCES, -ENOEXEC, … or a parent-side failure (-EMFILE …)
 * ret_result may be NULL; when given it is always filled. Thread-safe: the
 * engine thread calls it while the UI thread runs. Never calls the shell. */
int run_command(const struct run_opts *opts, struct run_result *ret_result);

/* Convenience: runs argv with the default environment and a timeout of
 * RUN_CAPTURE_TIMEOUT_MS (then 128+SIGKILL, as run_command()), and returns
 * its stdout (NUL-terminated, at most max bytes; more → the call fails with
 * -E2BIG after the child is reaped; stderr is discarded). Returns like
 * run_command(); *ret_out is set (caller frees) whenever the return is >= 0. */
#define RUN_CAPTURE_TIMEOUT_MS (5u * 60u * 1000u)
int run_capture(const char *const *argv, size_t max, char **ret_out);

/* The environment every child gets unless the caller passes its own: PATH
 * (the caller's PATH, or the standard sbin/bin list when unset), LANG=C.UTF-8,
 * LC_ALL=C.UTF-8, HOME=/root, and DEBIAN_FRONTEND=noninteractive,
 * DEBCONF_NONINTERACTIVE_SEEN=true, APT_LISTCHANGES_FRONTEND=none,
 * NEEDRESTART_MODE=a, NEEDRESTART_SUSPEND=1, UCF_FORCE_CONFFOLD=1 so that no
 * package can stop a run with a hidden question. The vector is built once and
 * lives until exit. */
const char *const *run_default_env(void);

/* Human-readable description of a run_command() result, for messages:
 * "exited with status 100", "killed by signal 9 (Killed)", "timed out after
 * 30 s", "not found: useradd (is PATH right?)". Writes into buf, returns buf. */
const char *run_describe(int status, const struct run_result *res, const char *argv0,
                         char *buf, size_t size);
