/* faulthook.c — sets faultpoint.h's hook in the test programs of
 * tests/faults (never in vps-provision itself).
 *
 * Environment:
 *   VPSP_FAULT_TRACE=FILE  appends "KIND<TAB>N<TAB>DETAIL" for every point
 *                          passed (N counts the points of that kind), so a
 *                          run that is not stopped lists every point.
 *   VPSP_FAULT_AT=KIND:N   the fault happens at the Nth point of KIND;
 *   VPSP_FAULT_AT=KIND~TEXT  or at the first point of KIND whose detail
 *                          holds TEXT.
 *   VPSP_FAULT_DO=kill     (default) SIGKILL for the program and everything
 *                          it started (apt, dpkg, maintainer scripts), as a
 *                          power cut would stop them; first frozen with
 *                          SIGSTOP so none of them gets one step further;
 *   VPSP_FAULT_PS=FILE     with kill: the frozen processes, "PID ARGV..."
 *                          a line each, go to FILE before the SIGKILL (which
 *                          dpkg stage, which maintainer script was cut off);
 *   VPSP_FAULT_DO=fill:DIR fills the filesystem of DIR (a file DIR/.fill
 *                          written until ENOSPC), then goes on.
 * The fault happens once; the trace gets a "FAULT" line first.
 *
 * Points of kind "script" are maintainer scripts seen running: a thread
 * looks every 2 ms for processes this program started whose command line
 * names /var/lib/dpkg/info/ (dpkg runs "/bin/sh /var/lib/dpkg/info/P.postinst
 * configure V", and "... triggered NAMES" for a trigger), each pid once;
 * the detail is the command line. A cut at one (VPSP_FAULT_AT=script~TEXT)
 * freezes the tree while that script runs, which a point at dpkg's own
 * line cannot: the script starts milliseconds after it. The thread runs
 * when VPSP_FAULT_AT's kind is script, or with VPSP_FAULT_SCRIPTS=1 (a
 * trace that lists them). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/types.h>
#include <unistd.h>

#include "faultpoint.h"

#define KINDS 8

static struct {
        const char *kind;
        unsigned long n;
} counts[KINDS];
static char at_kind[32], at_text[256];
static unsigned long at_n;
static const char *action, *trace;
static int done;

static unsigned long count(const char *kind)
{
        for (int i = 0; i < KINDS; i++) {
                if (!counts[i].kind)
                        counts[i].kind = kind;
                if (strcmp(counts[i].kind, kind) == 0)
                        return ++counts[i].n;
        }
        return 0;
}

static void trace_line(const char *tag, const char *kind, unsigned long n, const char *detail,
                       size_t len)
{
        char line[512];
        int fd, w;

        if (!trace)
                return;
        if (len > 300)
                len = 300;
        w = snprintf(line, sizeof(line), "%s%s\t%lu\t%.*s\n", tag, kind, n, (int)len, detail);
        for (char *p = line; p < line + w - 1; p++)
                if (*p == '\n')
                        *p = ' ';
        fd = open(trace, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
        if (fd < 0)
                return;
        (void)!write(fd, line, (size_t)w);
        close(fd);
}

/* The parent pid of pid from /proc/PID/stat, or 0. */
static pid_t parent_of(pid_t pid)
{
        char path[64], buf[512], *p;
        ssize_t n;
        int fd, ppid = 0;

        snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return 0;
        n = read(fd, buf, sizeof(buf) - 1);
        close(fd);
        if (n <= 0)
                return 0;
        buf[n] = '\0';
        p = strrchr(buf, ')');   /* the command name may hold anything */
        if (!p || sscanf(p + 1, " %*c %d", &ppid) != 1)
                return 0;
        return (pid_t)ppid;
}

static bool descends(pid_t pid, pid_t root)
{
        for (int depth = 0; pid > 1 && depth < 64; depth++) {
                pid = parent_of(pid);
                if (pid == root)
                        return true;
        }
        return false;
}

/* The pids of every descendant of this process into v (at most max). */
static size_t tree_pids(pid_t *v, size_t max)
{
        pid_t self = getpid();
        DIR *d = opendir("/proc");
        struct dirent *de;
        size_t n = 0;

        if (!d)
                return 0;
        while ((de = readdir(d)) && n < max) {
                char *end;
                long pid = strtol(de->d_name, &end, 10);

                if (*end || pid <= 1 || pid == self)
                        continue;
                if (descends((pid_t)pid, self))
                        v[n++] = (pid_t)pid;
        }
        closedir(d);
        return n;
}

#define TREE_MAX 4096

/* Sends sig to every descendant of this process; returns how many. */
static int signal_tree(int sig)
{
        static pid_t v[TREE_MAX];
        size_t n = tree_pids(v, TREE_MAX);
        int k = 0;

        for (size_t i = 0; i < n; i++)
                k += kill(v[i], sig) == 0;
        return k;
}

static size_t cmdline_of(long pid, char *buf, size_t size);

/* Writes "PID ARGV..." of every descendant of this process to path. */
static void list_tree(const char *path)
{
        static pid_t v[TREE_MAX];
        size_t n = tree_pids(v, TREE_MAX);
        FILE *out = fopen(path, "we");

        if (!out)
                return;
        for (size_t i = 0; i < n; i++) {
                char argv[1024];

                if (cmdline_of(v[i], argv, sizeof(argv)))
                        fprintf(out, "%ld %s\n", (long)v[i], argv);
        }
        fclose(out);
}

static void kill_all(void)
{
        static pid_t frozen[TREE_MAX];
        const char *ps = getenv("VPSP_FAULT_PS");
        size_t n;

        /* freeze the tree until no new process shows up, then kill it */
        for (int i = 0, last = -1, k; i < 20 && (k = signal_tree(SIGSTOP)) != last; i++)
                last = k;
        if (ps)
                list_tree(ps);
        /* Frozen, the tree holds still: its pids are taken once, before any
         * dies. A walk that kills as it goes loses a child whose parent died
         * first (reparented to init, it no longer descends from here) and
         * leaves it stopped for good, holding dpkg's lock. */
        n = tree_pids(frozen, TREE_MAX);
        for (size_t i = 0; i < n; i++)
                kill(frozen[i], SIGKILL);
        kill(getpid(), SIGKILL);
        _exit(137);
}

static void fill(const char *dir)
{
        static char zeros[65536];
        char path[4096];
        int fd;

        snprintf(path, sizeof(path), "%s/.fill", dir);
        fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        if (fd < 0)
                return;
        for (size_t chunk = sizeof(zeros); chunk >= 512;) {
                if (write(fd, zeros, chunk) < 0)
                        chunk /= 2;   /* the last pages: smaller writes */
        }
        fsync(fd);
        close(fd);
}

static pthread_mutex_t hook_lock = PTHREAD_MUTEX_INITIALIZER;

static void hook_locked(const char *kind, const char *detail, size_t len)
{
        unsigned long n = count(kind);
        bool hit;

        trace_line("", kind, n, detail, len);
        if (done || !at_kind[0] || strcmp(kind, at_kind) != 0)
                return;
        if (at_n)
                hit = n == at_n;
        else
                hit = memmem(detail, len, at_text, strlen(at_text)) != NULL;
        if (!hit)
                return;
        done = 1;
        trace_line("FAULT ", kind, n, detail, len);
        if (action && strncmp(action, "fill:", 5) == 0)
                fill(action + 5);
        else
                kill_all();
}

/* The program's points and the script watcher's, one at a time. */
static void hook(const char *kind, const char *detail, size_t len)
{
        pthread_mutex_lock(&hook_lock);
        hook_locked(kind, detail, len);
        pthread_mutex_unlock(&hook_lock);
}

/* The command line of pid, NULs as spaces, into buf; its length or 0. */
static size_t cmdline_of(long pid, char *buf, size_t size)
{
        char file[64];
        ssize_t n;
        int fd;

        snprintf(file, sizeof(file), "/proc/%ld/cmdline", pid);
        fd = open(file, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return 0;
        n = read(fd, buf, size - 1);
        close(fd);
        if (n <= 0)
                return 0;
        while (n > 0 && buf[n - 1] == '\0')
                n--;
        for (ssize_t i = 0; i < n; i++)
                if (buf[i] == '\0' || buf[i] == '\n')
                        buf[i] = ' ';
        buf[n] = '\0';
        return (size_t)n;
}

#define SEEN 4096

static void *watch_scripts(void *unused)
{
        static long seen[SEEN];
        size_t nseen = 0;
        pid_t self = getpid();
        const struct timespec tick = { .tv_nsec = 2 * 1000 * 1000 };

        (void)unused;
        for (;;) {
                DIR *d = opendir("/proc");
                struct dirent *de;

                while (d && (de = readdir(d))) {
                        char *end, argv[1024];
                        long pid = strtol(de->d_name, &end, 10);
                        size_t len;
                        bool old = false;

                        if (*end || pid <= 1 || pid == self)
                                continue;
                        for (size_t i = 0; i < nseen && i < SEEN && !old; i++)
                                old = seen[i] == pid;
                        if (old)
                                continue;
                        len = cmdline_of(pid, argv, sizeof(argv));
                        /* dpkg's fork shows dpkg's line until its exec: looked at again */
                        if (!len || !strstr(argv, "/var/lib/dpkg/info/") || !descends((pid_t)pid, self))
                                continue;
                        seen[nseen++ % SEEN] = pid;
                        hook("script", argv, len);
                }
                if (d)
                        closedir(d);
                nanosleep(&tick, NULL);
        }
        return NULL;
}

__attribute__((constructor)) static void faulthook_init(void)
{
        const char *at = getenv("VPSP_FAULT_AT");

        trace = getenv("VPSP_FAULT_TRACE");
        action = getenv("VPSP_FAULT_DO");
        if (at) {
                const char *sep = strpbrk(at, ":~");

                if (!sep || (size_t)(sep - at) >= sizeof(at_kind)) {
                        fprintf(stderr, "VPSP_FAULT_AT: want KIND:N or KIND~TEXT\n");
                        _exit(2);
                }
                memcpy(at_kind, at, (size_t)(sep - at));
                if (*sep == ':') {
                        char *end;

                        at_n = strtoul(sep + 1, &end, 10);
                        if (*end || at_n == 0) {
                                fprintf(stderr, "VPSP_FAULT_AT: N must be a number from 1\n");
                                _exit(2);
                        }
                } else
                        snprintf(at_text, sizeof(at_text), "%s", sep + 1);
        }
        if (trace || at)
                fault_point_hook = hook;
        if (strcmp(at_kind, "script") == 0 ||
            (trace && getenv("VPSP_FAULT_SCRIPTS") && strcmp(getenv("VPSP_FAULT_SCRIPTS"), "1") == 0)) {
                pthread_t t;
                pthread_attr_t attr;

                pthread_attr_init(&attr);
                pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
                if (pthread_create(&t, &attr, watch_scripts, NULL) != 0) {
                        fprintf(stderr, "VPSP_FAULT: cannot start the maintainer-script watcher\n");
                        _exit(2);
                }
                pthread_attr_destroy(&attr);
        }
}
