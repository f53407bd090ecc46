/* run.c — see run.h.
 *
 * DESIGN: run_command() works in four steps.
 *
 * 1. Prepare (parent, may allocate): check the options, resolve argv[0]
 *    against the PATH of the environment the child will get, open the
 *    pipes (all O_CLOEXEC), allocate the line buffers.
 * 2. Fork with every signal blocked in the calling thread, so that no
 *    handler of ours runs in the child. The child (async-signal-safe calls
 *    only, no allocation) resets every handler to SIG_DFL, calls setsid()
 *    so that the command and everything it starts form one process group
 *    we can kill as a whole, moves its pipe ends above every target fd,
 *    dup2()s them onto 0, 1, 2 and the status fd, changes directory,
 *    closes every other fd (close_range, or a loop up to the fd limit on
 *    kernels without it), clears the signal mask and calls execve(). On
 *    any failure it writes errno into the close-on-exec error pipe and
 *    exits 127; the parent reads that pipe until EOF (exec succeeded) or
 *    an errno (returned as -errno, after reaping).
 * 3. Loop on poll(): stdout, stderr and the status pipe are read and split
 *    into lines; stdin bytes are written as the pipe takes them; the
 *    timeout, the cancel fd and the TERM→KILL grace are deadlines of the
 *    same loop. Whether the child has exited is asked with
 *    waitid(WNOHANG|WNOWAIT) on every turn, and poll() wakes up at least
 *    every TICK_MS for it (a pidfd would save those wake-ups, but
 *    valgrind 3.19, Debian 12's, does not know pidfd_open and warns on
 *    every call). Once the child has exited, the pipes are drained until
 *    EOF, but for at most LINGER_MS: a background process it left behind
 *    may hold them open for good.
 * 4. Reap with waitpid() and fill the result.
 *
 * SIGPIPE: the stdin pipe's reader may exit without reading. Rather than
 * ignoring SIGPIPE for the whole process (which would change behaviour for
 * everyone else in it), the calling thread keeps SIGPIPE blocked while it
 * runs the loop, so a write to a closed pipe only fails with EPIPE. The
 * SIGPIPE that write leaves pending on this thread is consumed with
 * sigtimedwait() before the thread's old mask is restored (unless one was
 * already pending before we started: that one is not ours to take). The
 * on_line callback runs with SIGPIPE blocked too; a SIGPIPE it causes
 * stays pending and arrives when the mask is restored.
 *
 * Killing the process group reaches everything the command started,
 * except what left the group on purpose (setsid, as daemons do).
 *
 * No global mutable state besides the default environment, which is built
 * once under pthread_once(): concurrent calls from several threads share
 * nothing. */
#include "run.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util.h"

#define DEFAULT_LINE_MAX 4096
#define DEFAULT_KILL_AFTER_MS 5000
#define STANDARD_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
/* How long to keep reading after the child exited while something it left
 * behind still holds the output pipes open. */
#define LINGER_MS 1000
/* How often to look whether the child has exited while its output is open
 * (only matters for the linger above). Once all of it is closed the exit
 * is usually a matter of microseconds: look after 1 ms, then back off
 * doubling up to TICK_MS for a child that closed its output and runs on. */
#define TICK_MS 100
#define CHUNK (64 * 1024)
/* Reads per stream and wake-up, so one chatty stream cannot starve the rest. */
#define READS_PER_WAKEUP 16

void run_opts_init(struct run_opts *o)
{
        *o = (struct run_opts){ .status_fd = -1, .cancel_fd = -1 };
}

/* ---- default environment ------------------------------------------------ */

static pthread_once_t default_env_once = PTHREAD_ONCE_INIT;
static char **default_env;

/* PATH is the caller's as it is at the first call (tests put their stub
 * directory first before that). */
static void build_default_env(void)
{
        const char *path = getenv("PATH");
        char **env = NULL;

        strv_pushf(&env, "PATH=%s", path && *path ? path : STANDARD_PATH);
        strv_push(&env, "LANG=C.UTF-8");
        strv_push(&env, "LC_ALL=C.UTF-8");
        strv_push(&env, "HOME=/root");
        /* No package may stop an unattended run with a hidden question. */
        strv_push(&env, "DEBIAN_FRONTEND=noninteractive");
        strv_push(&env, "DEBCONF_NONINTERACTIVE_SEEN=true");
        strv_push(&env, "APT_LISTCHANGES_FRONTEND=none");
        strv_push(&env, "NEEDRESTART_MODE=a");
        strv_push(&env, "NEEDRESTART_SUSPEND=1");
        strv_push(&env, "UCF_FORCE_CONFFOLD=1");
        default_env = env;
}

const char *const *run_default_env(void)
{
        pthread_once(&default_env_once, build_default_env);
        return (const char *const *)default_env;
}

/* ---- argv[0] lookup ------------------------------------------------------ */

/* The PATH the child will see; the standard list when it has none. */
static const char *env_path(const char *const *envp)
{
        for (size_t i = 0; envp[i]; i++)
                if (startswith(envp[i], "PATH="))
                        return envp[i][5] ? envp[i] + 5 : STANDARD_PATH;
        return STANDARD_PATH;
}

/* Finds name the way execvp() would, but in the child's PATH and before the
 * fork. A name with a slash is taken as it is (relative to the child's
 * working directory). Empty and relative PATH entries are skipped: they
 * would depend on the working directory. -EACCES when only non-executable
 * candidates exist, -ENOENT when there is none. */
static int resolve_program(const char *name, const char *path, char **ret)
{
        bool denied = false;

        if (strchr(name, '/')) {
                *ret = xstrdup(name);
                return 0;
        }
        for (const char *p = path; *p;) {
                size_t n = strcspn(p, ":");
                if (n > 0 && p[0] == '/') {
                        _cleanup_free_ char *cand = xasprintf("%.*s/%s", (int)n, p, name);
                        struct stat st;
                        if (stat(cand, &st) == 0) {
                                if (S_ISREG(st.st_mode) && access(cand, X_OK) == 0) {
                                        *ret = TAKE_PTR(cand);
                                        return 0;
                                }
                                denied = true;
                        } else if (errno == EACCES)
                                denied = true;
                }
                p += n;
                if (*p == ':')
                        p++;
        }
        return denied ? -EACCES : -ENOENT;
}

/* ---- the child ----------------------------------------------------------- */

/* Everything the child needs, prepared before fork(). */
struct child_plan {
        const char *path;
        char *const *argv;
        char *const *envp;
        const char *cwd;
        int fd_in, fd_out, fd_err, fd_status; /* pipe ends to install */
        int status_target;                    /* -1 = none */
        int err_pipe;
        int low;                              /* first fd above every target */
        long open_max;                        /* for the close loop fallback */
        sigset_t empty;
};

/* Closes fds in [from, to] (to may be ~0). */
static void close_span(unsigned from, unsigned to, long open_max)
{
        if (from > to)
                return;
#ifdef SYS_close_range
        if (syscall(SYS_close_range, from, to, 0) == 0)
                return;
#endif
        for (long fd = from; fd < open_max && (unsigned long)fd <= to; fd++)
                close((int)fd);
}

/* Closes every fd above 2 except keep_a and keep_b (-1 = unused). */
static void close_all_but(int keep_a, int keep_b, long open_max)
{
        int keep[2] = { keep_a, keep_b };
        unsigned from = 3;

        if (keep[0] > keep[1]) {
                keep[0] = keep_b;
                keep[1] = keep_a;
        }
        for (int i = 0; i < 2; i++) {
                if (keep[i] < 3)
                        continue;
                if ((unsigned)keep[i] > from)
                        close_span(from, (unsigned)keep[i] - 1, open_max);
                from = (unsigned)keep[i] + 1;
        }
        close_span(from, ~0U, open_max);
}

/* Runs in the child between fork() and execve(): async-signal-safe calls
 * only. Never returns. */
static _Noreturn void child_exec(const struct child_plan *p)
{
        struct sigaction dfl = { .sa_handler = SIG_DFL };
        int errp = p->err_pipe, e, fd;

        /* All signals are blocked (inherited from the parent's fork), so no
         * handler can run before it is reset. glibc refuses sigaction() for
         * the signals it reserves (32, 33); a parent may have left them
         * ignored (Debian 12's make does), and ignored dispositions survive
         * execve, so those go straight to the kernel. An all-zero kernel
         * sigaction is SIG_DFL with no flags and an empty mask on every
         * architecture's layout. */
        for (int sig = 1; sig < NSIG; sig++) {
                if (sig == SIGKILL || sig == SIGSTOP)
                        continue;
                if (sig < SIGRTMIN && sig >= 32) {
                        static const unsigned long zero[8];
                        (void)syscall(SYS_rt_sigaction, sig, zero, NULL, (size_t)(NSIG - 1) / 8);
                } else
                        (void)sigaction(sig, &dfl, NULL);
        }

        if (setsid() < 0)
                goto fail;

        /* Move every pipe end above the targets first, so a dup2() onto 0,
         * 1, 2 or the status fd never clobbers an end still to be moved. */
        fd = fcntl(errp, F_DUPFD_CLOEXEC, p->low);
        if (fd < 0)
                goto fail;
        errp = fd;
        {
                int src[4] = { p->fd_in, p->fd_out, p->fd_err, p->fd_status };
                int dst[4] = { 0, 1, 2, p->status_target };
                int moved[4];

                for (int i = 0; i < 4; i++) {
                        moved[i] = -1;
                        if (src[i] < 0)
                                continue;
                        moved[i] = fcntl(src[i], F_DUPFD_CLOEXEC, p->low);
                        if (moved[i] < 0)
                                goto fail;
                }
                for (int i = 0; i < 4; i++)
                        if (moved[i] >= 0 && dup2(moved[i], dst[i]) < 0)
                                goto fail;
        }

        if (chdir(p->cwd) < 0)
                goto fail;

        close_all_but(p->status_target, errp, p->open_max);

        if (sigprocmask(SIG_SETMASK, &p->empty, NULL) < 0)
                goto fail;

        execve(p->path, p->argv, p->envp);
fail:
        e = errno ? errno : EIO;
        (void)!write(errp, &e, sizeof(e));
        _exit(127);
}

/* ---- the parent's loop --------------------------------------------------- */

struct stream {
        int fd;
        enum run_stream id;
        char *line;             /* line_max + 1 bytes */
        size_t len;
        bool discarding;        /* past line_max: dropping bytes up to the next newline */
};

/* Internal hook for run_capture(): stdout as raw bytes instead of lines.
 * Returns false to stop the child (output over the limit). */
typedef bool (*raw_fn)(void *userdata, const char *data, size_t len);

struct run_ctx {
        const struct run_opts *o;
        struct run_result *res;
        size_t line_max;
        raw_fn raw_stdout;
        void *raw_userdata;
        bool raw_stop;
};

static void deliver(struct run_ctx *c, struct stream *s, bool truncated)
{
        s->line[s->len] = '\0';
        if (c->o->on_line)
                c->o->on_line(c->o->userdata, s->id, s->line, s->len, truncated);
        c->res->lines[s->id]++;
        s->len = 0;
}

/* Splits data into lines; a line over line_max is delivered cut (flagged)
 * as soon as it overflows, and its rest is skipped up to the newline. */
static void feed(struct run_ctx *c, struct stream *s, const char *data, size_t n)
{
        if (s->id == RUN_STDOUT && c->raw_stdout) {
                if (!c->raw_stop && !c->raw_stdout(c->raw_userdata, data, n))
                        c->raw_stop = true;
                return;
        }
        while (n > 0) {
                const char *nl = memchr(data, '\n', n);
                size_t seg = nl ? (size_t)(nl - data) : n;

                if (!s->discarding) {
                        size_t room = c->line_max - s->len;
                        if (seg <= room) {
                                memcpy(s->line + s->len, data, seg);
                                s->len += seg;
                        } else {
                                memcpy(s->line + s->len, data, room);
                                s->len += room;
                                deliver(c, s, true);
                                s->discarding = true;
                        }
                }
                if (!nl)
                        break;
                if (!s->discarding)
                        deliver(c, s, false);
                s->discarding = false;
                data += seg + 1;
                n -= seg + 1;
        }
}

/* End of a stream: the last line without newline, then close. */
static void stream_close(struct run_ctx *c, struct stream *s)
{
        if (s->fd < 0)
                return;
        if (!s->discarding && s->len > 0)
                deliver(c, s, false);
        s->discarding = false;
        close(s->fd);
        s->fd = -1;
}

/* Reads what is there; closes the stream at EOF or on a read error. */
static void stream_read(struct run_ctx *c, struct stream *s, char *chunk)
{
        for (int i = 0; i < READS_PER_WAKEUP; i++) {
                ssize_t n = read(s->fd, chunk, CHUNK);
                if (n > 0) {
                        c->res->bytes[s->id] += (uint64_t)n;
                        feed(c, s, chunk, (size_t)n);
                        continue;
                }
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno == EAGAIN)
                        return;
                stream_close(c, s);
                return;
        }
}

static void stdin_close(int *fd)
{
        if (*fd >= 0) {
                close(*fd);
                *fd = -1;
        }
}

/* Writes as much stdin as the pipe takes. Sets *epipe when the child has
 * closed its end (SIGPIPE is blocked, see DESIGN). */
static void stdin_write(int *fd, const char *data, size_t len, size_t *off, bool *epipe)
{
        while (*off < len) {
                size_t want = len - *off;
                ssize_t n = write(*fd, data + *off, want > CHUNK ? CHUNK : want);
                if (n > 0) {
                        *off += (size_t)n;
                        continue;
                }
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno == EAGAIN)
                        return;
                if (n < 0 && errno == EPIPE)
                        *epipe = true;
                break;
        }
        stdin_close(fd);
}

static void kill_group(pid_t pid, int sig)
{
        /* The child called setsid(): its pid is the group id, and as long
         * as it is not reaped the id cannot be reused. */
        (void)kill(-pid, sig);
}

static int64_t min_deadline(int64_t a, int64_t b)
{
        if (a < 0)
                return b;
        if (b < 0)
                return a;
        return a < b ? a : b;
}

static bool child_exited(pid_t pid)
{
        siginfo_t si = { 0 };
        if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) < 0)
                return errno == ECHILD;
        return si.si_pid == pid;
}

/* The loop of step 3. Returns 0, or -errno when poll() itself fails. */
static int io_loop(struct run_ctx *c, pid_t pid, struct stream st[3], int *in_fd, bool *epipe)
{
        const struct run_opts *o = c->o;
        const char *in_data = o->stdin_data;
        size_t in_off = 0;
        _cleanup_free_ char *chunk = xmalloc(CHUNK);
        int64_t start = now_ms();
        int64_t term_at = o->timeout_ms ? start + o->timeout_ms : -1;
        int64_t kill_at = -1, linger_until = -1;
        unsigned grace = o->kill_after_ms ? o->kill_after_ms : DEFAULT_KILL_AFTER_MS;
        bool exited = false, terminating = false, killed = false, all_closed, read_any;
        bool watch_cancel = o->cancel_fd >= 0;
        int closed_tick = 1;

        if (*in_fd >= 0 && o->stdin_len == 0)
                stdin_close(in_fd);

        for (;;) {
                struct pollfd pfd[5];
                int idx[5], n = 0, r;
                int64_t now = now_ms(), wake = -1;
                int timeout;

                if (!exited && !terminating && c->raw_stop) {
                        terminating = true;
                        kill_group(pid, SIGTERM);
                        kill_at = now + grace;
                }
                if (!exited && !terminating && term_at >= 0 && now >= term_at) {
                        c->res->timed_out = true;
                        terminating = true;
                        kill_group(pid, SIGTERM);
                        kill_at = now + grace;
                }
                if (terminating && !killed && now >= kill_at) {
                        kill_group(pid, SIGKILL);
                        killed = true;
                }
                if (!exited)
                        exited = child_exited(pid);
                all_closed = st[0].fd < 0 && st[1].fd < 0 && st[2].fd < 0;
                /* Nothing left to read, write, time or watch: just wait. */
                if (!exited && all_closed && *in_fd < 0 && term_at < 0 && !terminating &&
                    !watch_cancel)
                        break;
                if (exited) {
                        stdin_close(in_fd);
                        if (all_closed)
                                break;
                        if (linger_until < 0)
                                linger_until = now + LINGER_MS;
                        else if (now >= linger_until)
                                break;
                }

                for (int i = 0; i < 3; i++)
                        if (st[i].fd >= 0) {
                                pfd[n] = (struct pollfd){ .fd = st[i].fd, .events = POLLIN };
                                idx[n++] = i;
                        }
                if (*in_fd >= 0) {
                        pfd[n] = (struct pollfd){ .fd = *in_fd, .events = POLLOUT };
                        idx[n++] = 3;
                }
                if (watch_cancel && !terminating && !exited) {
                        pfd[n] = (struct pollfd){ .fd = o->cancel_fd, .events = POLLIN };
                        idx[n++] = 4;
                }

                if (!exited && !terminating)
                        wake = term_at;
                if (terminating && !killed)
                        wake = min_deadline(wake, kill_at);
                if (exited)
                        wake = min_deadline(wake, linger_until);
                if (!exited && all_closed) {
                        wake = min_deadline(wake, now + closed_tick);
                        closed_tick = closed_tick * 2 < TICK_MS ? closed_tick * 2 : TICK_MS;
                } else if (!exited)
                        wake = min_deadline(wake, now + TICK_MS);
                timeout = wake < 0 ? -1 : wake <= now ? 0 : (int)(wake - now);

                r = poll(pfd, (nfds_t)n, timeout);
                if (r < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                read_any = false;
                for (int k = 0; k < n; k++) {
                        short ev = pfd[k].revents;
                        if (!ev)
                                continue;
                        switch (idx[k]) {
                        case 0: case 1: case 2:
                                stream_read(c, &st[idx[k]], chunk);
                                read_any = true;
                                break;
                        case 3:
                                stdin_write(in_fd, in_data, o->stdin_len, &in_off, epipe);
                                break;
                        case 4:
                                if (ev & POLLNVAL) {
                                        watch_cancel = false;
                                        break;
                                }
                                c->res->cancelled = true;
                                terminating = true;
                                kill_group(pid, SIGTERM);
                                kill_at = now_ms() + grace;
                                break;
                        }
                }
                if (read_any && c->o->on_flush)
                        c->o->on_flush(c->o->userdata);
        }

        /* On timeout or cancel the whole group goes, even what outlived the
         * child itself. */
        if (terminating && !killed)
                kill_group(pid, SIGKILL);
        return 0;
}

/* ---- run_command ----------------------------------------------------------- */

static void close_pair(int p[2])
{
        for (int i = 0; i < 2; i++)
                if (p[i] >= 0) {
                        close(p[i]);
                        p[i] = -1;
                }
}

static int status_of(int wstatus)
{
        if (WIFEXITED(wstatus))
                return WEXITSTATUS(wstatus);
        if (WIFSIGNALED(wstatus))
                return 128 + WTERMSIG(wstatus);
        return -EIO;
}

static int run_internal(const struct run_opts *o, struct run_result *res, raw_fn raw,
                        void *raw_userdata)
{
        struct run_ctx c = { .o = o, .res = res, .raw_stdout = raw, .raw_userdata = raw_userdata };
        struct stream st[3] = {
                { .fd = -1, .id = RUN_STDOUT },
                { .fd = -1, .id = RUN_STDERR },
                { .fd = -1, .id = RUN_STATUS },
        };
        int p_in[2] = { -1, -1 }, p_out[2] = { -1, -1 }, p_err[2] = { -1, -1 };
        int p_status[2] = { -1, -1 }, p_exec[2] = { -1, -1 };
        _cleanup_free_ char *path = NULL;
        struct child_plan plan = { .status_target = -1 };
        const char *const *envp;
        sigset_t all, old, piped, pending;
        bool pipe_pending_before, epipe = false, reaped;
        int r, wstatus = 0, exec_errno = 0, fork_errno;
        int64_t t0;
        pid_t pid;

        if (!o || !o->argv || !o->argv[0] || !o->argv[0][0])
                return -EINVAL;
        if (o->status_fd != -1 && o->status_fd < 3)
                return -EINVAL;
        if (o->stdin_len > 0 && !o->stdin_data)
                return -EINVAL;
        if (o->cancel_fd >= 0) {
                struct pollfd cp = { .fd = o->cancel_fd, .events = POLLIN };
                if (fcntl(o->cancel_fd, F_GETFD) < 0)
                        return -EBADF;
                /* Cancelled before the start: do not start at all. */
                if (poll(&cp, 1, 0) > 0) {
                        res->cancelled = true;
                        return -ECANCELED;
                }
        }

        envp = o->envp ? o->envp : run_default_env();
        r = resolve_program(o->argv[0], env_path(envp), &path);
        if (r < 0)
                return r;
        c.line_max = o->line_max ? o->line_max : DEFAULT_LINE_MAX;
        if (c.line_max > SIZE_MAX / 2)
                return -EINVAL;

        /* Step 1: pipes. The parent's ends are non-blocking. */
        if (o->stdin_data) {
                if (pipe2(p_in, O_CLOEXEC) < 0)
                        goto fail_errno;
                if (fcntl(p_in[1], F_SETFL, O_NONBLOCK) < 0)
                        goto fail_errno;
        } else {
                p_in[0] = open("/dev/null", O_RDONLY | O_CLOEXEC);
                if (p_in[0] < 0)
                        goto fail_errno;
        }
        if (pipe2(p_out, O_CLOEXEC | O_NONBLOCK) < 0 || pipe2(p_err, O_CLOEXEC | O_NONBLOCK) < 0)
                goto fail_errno;
        if (o->status_fd >= 3 && pipe2(p_status, O_CLOEXEC | O_NONBLOCK) < 0)
                goto fail_errno;
        if (pipe2(p_exec, O_CLOEXEC) < 0)
                goto fail_errno;
        /* The child's ends must block like ordinary stdio. */
        if (fcntl(p_out[1], F_SETFL, 0) < 0 || fcntl(p_err[1], F_SETFL, 0) < 0 ||
            (p_status[1] >= 0 && fcntl(p_status[1], F_SETFL, 0) < 0))
                goto fail_errno;

        for (int i = 0; i < 3; i++)
                st[i].line = xmalloc(c.line_max + 1);

        plan = (struct child_plan){
                .path = path,
                .argv = (char *const *)o->argv,
                .envp = (char *const *)envp,
                .cwd = o->cwd ? o->cwd : "/",
                .fd_in = p_in[0],
                .fd_out = p_out[1],
                .fd_err = p_err[1],
                .fd_status = p_status[1],
                .status_target = o->status_fd >= 3 ? o->status_fd : -1,
                .err_pipe = p_exec[1],
                .low = o->status_fd >= 3 ? o->status_fd + 1 : 3,
                .open_max = sysconf(_SC_OPEN_MAX),
        };
        if (plan.open_max < 0 || plan.open_max > (1L << 20))
                plan.open_max = 1L << 20;
        sigemptyset(&plan.empty);

        /* Step 2: fork with every signal blocked (see DESIGN). */
        sigfillset(&all);
        sigemptyset(&pending);
        sigpending(&pending);
        pipe_pending_before = sigismember(&pending, SIGPIPE) == 1;
        pthread_sigmask(SIG_SETMASK, &all, &old);
        t0 = now_ms();
        pid = fork();
        if (pid == 0)
                child_exec(&plan);
        fork_errno = errno;
        piped = old;
        sigaddset(&piped, SIGPIPE);
        pthread_sigmask(SIG_SETMASK, &piped, NULL);
        if (pid < 0) {
                r = -fork_errno;
                pthread_sigmask(SIG_SETMASK, &old, NULL);
                goto out;
        }

        close(p_in[0]);
        p_in[0] = -1;
        close(p_out[1]);
        p_out[1] = -1;
        close(p_err[1]);
        p_err[1] = -1;
        if (p_status[1] >= 0) {
                close(p_status[1]);
                p_status[1] = -1;
        }
        close(p_exec[1]);
        p_exec[1] = -1;

        /* EOF: execve() succeeded (the pipe was close-on-exec). */
        for (size_t got = 0; got < sizeof(exec_errno);) {
                ssize_t n = read(p_exec[0], (char *)&exec_errno + got, sizeof(exec_errno) - got);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0) {
                        exec_errno = 0;
                        break;
                }
                got += (size_t)n;
        }

        /* Step 3. */
        if (exec_errno == 0) {
                st[0].fd = TAKE_FD(p_out[0]);
                st[1].fd = TAKE_FD(p_err[0]);
                st[2].fd = TAKE_FD(p_status[0]);
                r = io_loop(&c, pid, st, &p_in[1], &epipe);
                if (r < 0)
                        kill_group(pid, SIGKILL);
                for (int i = 0; i < 3; i++)
                        stream_close(&c, &st[i]);
        }

        /* Step 4. */
        while (!(reaped = waitpid(pid, &wstatus, 0) == pid) && errno == EINTR)
                ;
        res->duration_ms = now_ms() - t0;

        if (epipe && !pipe_pending_before) {
                sigset_t just_pipe;
                struct timespec zero = { 0, 0 };
                sigemptyset(&just_pipe);
                sigaddset(&just_pipe, SIGPIPE);
                while (sigtimedwait(&just_pipe, NULL, &zero) < 0 && errno == EINTR)
                        ;
        }
        pthread_sigmask(SIG_SETMASK, &old, NULL);

        if (exec_errno)
                r = -exec_errno;
        else if (r >= 0)
                r = reaped ? status_of(wstatus) : -ECHILD;
        goto out;

fail_errno:
        r = -errno;
out:
        close_pair(p_in);
        close_pair(p_out);
        close_pair(p_err);
        close_pair(p_status);
        close_pair(p_exec);
        for (int i = 0; i < 3; i++) {
                if (st[i].fd >= 0)
                        close(st[i].fd);
                free(st[i].line);
        }
        return r;
}

int run_command(const struct run_opts *opts, struct run_result *ret_result)
{
        struct run_result res = { 0 };

        res.status = run_internal(opts, &res, NULL, NULL);
        if (ret_result)
                *ret_result = res;
        return res.status;
}

/* ---- run_capture ----------------------------------------------------------- */

struct capture {
        struct buf b;
        bool too_big;
};

static bool capture_raw(void *userdata, const char *data, size_t len)
{
        struct capture *cap = userdata;
        if (buf_append(&cap->b, data, len) < 0) {
                cap->too_big = true;
                return false;
        }
        return true;
}

int run_capture(const char *const *argv, size_t max, char **ret_out)
{
        struct capture cap = { .too_big = false };
        struct run_result res = { 0 };
        struct run_opts o;
        int r;

        run_opts_init(&o);
        o.argv = argv;
        /* queries (dpkg-query, getent, systemctl is-enabled) answer in
         * seconds; a hung one must not hang a rollback */
        o.timeout_ms = RUN_CAPTURE_TIMEOUT_MS;
        buf_init(&cap.b, max);
        /* Output past max stops the child (TERM, then KILL): a runaway
         * query must not keep us reading forever. */
        r = run_internal(&o, &res, capture_raw, &cap);
        if (r >= 0 && cap.too_big)
                r = -E2BIG;
        if (r >= 0) {
                char *out = buf_steal(&cap.b);
                *ret_out = out ? out : xstrdup("");
        }
        buf_release(&cap.b);
        return r;
}

/* ---- run_describe ---------------------------------------------------------- */

static const char *signal_text(int sig)
{
        const char *s = sigdescr_np(sig);
        return s ? s : "unknown signal";
}

static const char *errno_text(int e)
{
        const char *s = strerrordesc_np(e);
        return s ? s : "unknown error";
}

const char *run_describe(int status, const struct run_result *res, const char *argv0,
                         char *buf, size_t size)
{
        const char *name = argv0 && *argv0 ? argv0 : "command";

        if (!buf || size == 0)
                return buf;
        if (res && res->timed_out) {
                int64_t ms = res->duration_ms;
                if (ms < 10000)
                        snprintf(buf, size, "timed out after %.1f s", (double)ms / 1000.0);
                else
                        snprintf(buf, size, "timed out after %lld s", (long long)(ms / 1000));
        } else if (res && res->cancelled)
                snprintf(buf, size, "cancelled");
        else if (status == -ENOENT)
                snprintf(buf, size, "not found: %s (is PATH right?)", name);
        else if (status == -ECANCELED)
                snprintf(buf, size, "cancelled before it started");
        else if (status < 0)
                snprintf(buf, size, "cannot run %s: %s", name, errno_text(-status));
        /* A shell reports its child's death by signal N as exit 128+N too,
         * so the two readings coincide; run_command() returns only this
         * number, and "killed by" is the likelier one above 128. */
        else if (status > 128 && status < 128 + NSIG)
                snprintf(buf, size, "killed by signal %d (%s)", status - 128,
                         signal_text(status - 128));
        else
                snprintf(buf, size, "exited with status %d", status);
        return buf;
}
