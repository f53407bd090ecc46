/* run_shim.c — TEMPORARY stand-in for engine/run.c, linked only into
 * test_rollback until the real run module is merged. Remove it (and the
 * "rollback" block at the end of tests/CMakeLists.txt) after the merge.
 *
 * Implements just run_opts_init, run_command, run_capture and
 * run_default_env, minimally: fork + execvp, stdout/stderr read with poll()
 * and split into lines, no timeout, no status fd, no cancel. */
#include "run.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util.h"

extern char **environ;

void run_opts_init(struct run_opts *o)
{
        *o = (struct run_opts){ .status_fd = -1, .cancel_fd = -1 };
}

const char *const *run_default_env(void)
{
        static char **env;

        if (!env) {
                const char *path = getenv("PATH");
                strv_pushf(&env, "PATH=%s", path && *path ? path : "/usr/sbin:/usr/bin:/sbin:/bin");
                strv_push(&env, "LANG=C.UTF-8");
                strv_push(&env, "LC_ALL=C.UTF-8");
                strv_push(&env, "HOME=/root");
                strv_push(&env, "DEBIAN_FRONTEND=noninteractive");
        }
        return (const char *const *)env;
}

struct shim_stream {
        int fd;
        enum run_stream id;
        struct buf line;
};

static void shim_flush(const struct run_opts *o, struct shim_stream *s, struct run_result *res)
{
        if (o->on_line)
                o->on_line(o->userdata, s->id, s->line.data ? s->line.data : "", s->line.len, false);
        res->lines[s->id]++;
        s->line.len = 0;
        if (s->line.data)
                s->line.data[0] = '\0';
}

int run_command(const struct run_opts *o, struct run_result *ret_result)
{
        struct run_result res = { 0 };
        int out[2], err[2], ep[2], status, child_errno = 0;
        struct shim_stream st[2];
        pid_t pid;

        if (pipe2(out, O_CLOEXEC) < 0)
                return -errno;
        if (pipe2(err, O_CLOEXEC) < 0 || pipe2(ep, O_CLOEXEC) < 0)
                abort();
        /* execvpe() looks argv[0] up in this process's PATH (tests set it). */
        const char *const *envp = o->envp ? o->envp : run_default_env();
        pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0) {
                int devnull = open("/dev/null", O_RDONLY);
                dup2(devnull, 0);
                dup2(out[1], 1);
                dup2(err[1], 2);
                if (chdir(o->cwd ? o->cwd : "/") < 0)
                        _exit(126);
                execvpe(o->argv[0], (char *const *)o->argv, (char *const *)envp);
                int e = errno;
                (void)!write(ep[1], &e, sizeof(e));
                _exit(127);
        }
        close(out[1]);
        close(err[1]);
        close(ep[1]);
        if (read(ep[0], &child_errno, sizeof(child_errno)) != sizeof(child_errno))
                child_errno = 0;
        close(ep[0]);

        st[0] = (struct shim_stream){ .fd = out[0], .id = RUN_STDOUT };
        st[1] = (struct shim_stream){ .fd = err[0], .id = RUN_STDERR };
        buf_init(&st[0].line, o->line_max ? o->line_max : 4096);
        buf_init(&st[1].line, o->line_max ? o->line_max : 4096);
        for (;;) {
                struct pollfd p[2] = { { .fd = st[0].fd, .events = POLLIN },
                                       { .fd = st[1].fd, .events = POLLIN } };
                if (st[0].fd < 0 && st[1].fd < 0)
                        break;
                if (poll(p, 2, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        abort();
                }
                for (int i = 0; i < 2; i++) {
                        char chunk[4096];
                        ssize_t n;
                        if (st[i].fd < 0 || !(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
                                continue;
                        n = read(st[i].fd, chunk, sizeof(chunk));
                        if (n <= 0) {
                                if (st[i].line.len)
                                        shim_flush(o, &st[i], &res);
                                close(st[i].fd);
                                st[i].fd = -1;
                                continue;
                        }
                        res.bytes[st[i].id] += (uint64_t)n;
                        for (ssize_t k = 0; k < n; k++) {
                                if (chunk[k] == '\n')
                                        shim_flush(o, &st[i], &res);
                                else
                                        (void)buf_append(&st[i].line, &chunk[k], 1);
                        }
                }
        }
        buf_release(&st[0].line);
        buf_release(&st[1].line);
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        if (child_errno)
                res.status = -child_errno;
        else if (WIFEXITED(status))
                res.status = WEXITSTATUS(status);
        else
                res.status = 128 + WTERMSIG(status);
        if (ret_result)
                *ret_result = res;
        return res.status;
}

struct capture {
        struct buf b;
        bool too_big;
};

static void capture_line(void *userdata, enum run_stream stream, const char *line, size_t len,
                         bool truncated)
{
        struct capture *c = userdata;
        (void)truncated;
        if (stream != RUN_STDOUT)
                return;
        if (buf_append(&c->b, line, len) < 0 || buf_append(&c->b, "\n", 1) < 0)
                c->too_big = true;
}

int run_capture(const char *const *argv, size_t max, char **ret_out)
{
        struct capture c = { .too_big = false };
        struct run_opts o;
        int r;

        buf_init(&c.b, max);
        run_opts_init(&o);
        o.argv = argv;
        o.on_line = capture_line;
        o.userdata = &c;
        o.line_max = max ? max : 4096;
        r = run_command(&o, NULL);
        if (r >= 0 && c.too_big)
                r = -E2BIG;
        if (r >= 0)
                *ret_out = buf_steal(&c.b);
        buf_release(&c.b);
        return r;
}
