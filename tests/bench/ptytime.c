/* ptytime — how long a program takes to show something in a terminal.
 *
 *   ptytime [-s TEXT [-q MS]] [-t SECONDS] [-x COLS] [-y ROWS] -- COMMAND [ARG...]
 *
 * Starts COMMAND in a session of its own on a new pseudo-terminal of the
 * given size (default 80x24) and reads everything it writes there. With
 * -s, it stops at the first appearance of TEXT in that output (raw bytes,
 * escape sequences and all, so pick TEXT that is written in one piece),
 * then ends the program (SIGTERM, after a second SIGKILL). With -q it goes
 * on reading after TEXT until the program has written nothing for MS
 * milliseconds, and the clock stops at the last byte of that burst: the
 * whole screen TEXT is part of, painted. Without -s it waits for the
 * program to exit (and its output to end).
 *
 * The clock starts just before fork() and stops when TEXT was read (or at
 * exit), so it covers exec, dynamic linking, the program's start-up and the
 * write through the terminal. Prints one line on stdout:
 *
 *   ms=12.345 status=0 bytes=2048
 *
 * status is the exit status (128+N for signal N) for a program that ran to
 * its end, or "-" when it was ended after TEXT appeared.
 *
 * Exit codes: 0 measured; 1 TEXT did not appear or the time limit (-t,
 * default 10 s) passed (the program is killed); 2 bad command line or a
 * system call failed. Used by tests/bench/run. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

/* Output kept for matching: the last stretch, enough for any TEXT. */
#define KEEP_MAX 8192

static double now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static int parse_num(const char *s, long min, long max, long *ret)
{
        char *end;
        long v;

        errno = 0;
        v = strtol(s, &end, 10);
        if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
                return -EINVAL;
        *ret = v;
        return 0;
}

static void usage(FILE *f)
{
        fputs("usage: ptytime [-s TEXT [-q MS]] [-t SECONDS] [-x COLS] [-y ROWS] -- COMMAND [ARG...]\n", f);
}

/* Ends the child: SIGTERM to its process group, SIGKILL after a second. */
static void end_child(pid_t pid)
{
        int st;

        kill(-pid, SIGTERM);
        kill(pid, SIGTERM);
        for (int i = 0; i < 100; i++) {
                if (waitpid(pid, &st, WNOHANG) == pid)
                        return;
                usleep(10000);
        }
        kill(-pid, SIGKILL);
        kill(pid, SIGKILL);
        waitpid(pid, &st, 0);
}

int main(int argc, char **argv)
{
        const char *text = NULL;
        long limit_s = 10, cols = 80, rows = 24, quiet_ms = 0;
        struct winsize ws = { 0 };
        char keep[KEEP_MAX + 1];
        size_t kept = 0, text_len = 0, total = 0;
        int master, opt, st = 0;
        bool found = false, exited = false;
        double t0, t1 = 0, deadline;
        pid_t pid;

        while ((opt = getopt(argc, argv, "+s:q:t:x:y:h")) != -1) {
                switch (opt) {
                case 's':
                        text = optarg;
                        break;
                case 'q':
                        if (parse_num(optarg, 1, 10000, &quiet_ms) < 0) {
                                fprintf(stderr, "ptytime: -q %s: want milliseconds, 1 to 10000\n", optarg);
                                return 2;
                        }
                        break;
                case 't':
                        if (parse_num(optarg, 1, 3600, &limit_s) < 0) {
                                fprintf(stderr, "ptytime: -t %s: want whole seconds, 1 to 3600\n", optarg);
                                return 2;
                        }
                        break;
                case 'x':
                case 'y':
                        if (parse_num(optarg, 2, 1000, opt == 'x' ? &cols : &rows) < 0) {
                                fprintf(stderr, "ptytime: -%c %s: want 2 to 1000\n", opt, optarg);
                                return 2;
                        }
                        break;
                case 'h':
                        usage(stdout);
                        return 0;
                default:
                        usage(stderr);
                        return 2;
                }
        }
        if (optind >= argc) {
                usage(stderr);
                return 2;
        }
        if (text) {
                text_len = strlen(text);
                if (text_len == 0 || text_len > KEEP_MAX / 2) {
                        fprintf(stderr, "ptytime: -s: TEXT must be 1 to %d bytes\n", KEEP_MAX / 2);
                        return 2;
                }
        }

        master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (master < 0 || grantpt(master) < 0 || unlockpt(master) < 0) {
                perror("ptytime: cannot open a pseudo-terminal");
                return 2;
        }
        ws.ws_col = (unsigned short)cols;
        ws.ws_row = (unsigned short)rows;
        if (ioctl(master, TIOCSWINSZ, &ws) < 0) {
                perror("ptytime: TIOCSWINSZ");
                return 2;
        }
        const char *slave_name = ptsname(master);
        if (!slave_name) {
                perror("ptytime: ptsname");
                return 2;
        }

        t0 = now_ms();
        pid = fork();
        if (pid < 0) {
                perror("ptytime: fork");
                return 2;
        }
        if (pid == 0) {
                int s;

                setsid();
                s = open(slave_name, O_RDWR);
                if (s < 0)
                        _exit(126);
                ioctl(s, TIOCSCTTY, 0);
                dup2(s, 0);
                dup2(s, 1);
                dup2(s, 2);
                if (s > 2)
                        close(s);
                execvp(argv[optind], argv + optind);
                _exit(127);
        }

        deadline = t0 + (double)limit_s * 1000.0;
        for (;;) {
                struct pollfd p = { .fd = master, .events = POLLIN };
                double left = deadline - now_ms();
                char buf[4096];
                ssize_t n;
                int pr;

                if (left <= 0)
                        break;
                pr = poll(&p, 1, (int)(left + 1));
                if (pr < 0 && errno == EINTR)
                        continue;
                if (pr <= 0)
                        break;
                n = read(master, buf, sizeof(buf));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0) {
                        /* EIO: every slave fd is closed, the program is gone */
                        break;
                }
                total += (size_t)n;
                if (!text)
                        continue;
                /* keep the tail plus the new bytes, then look for TEXT */
                for (ssize_t i = 0; i < n; i++) {
                        if (kept == KEEP_MAX) {
                                memmove(keep, keep + KEEP_MAX / 2, KEEP_MAX / 2);
                                kept = KEEP_MAX / 2;
                        }
                        keep[kept++] = buf[i];
                        if (kept >= text_len && memcmp(keep + kept - text_len, text, text_len) == 0) {
                                found = true;
                                break;
                        }
                }
                if (found) {
                        t1 = now_ms();
                        break;
                }
        }
        /* -q: the rest of the burst TEXT came in */
        while (found && quiet_ms > 0) {
                struct pollfd p = { .fd = master, .events = POLLIN };
                char buf[4096];
                ssize_t n;
                int pr = poll(&p, 1, (int)quiet_ms);

                if (pr < 0 && errno == EINTR)
                        continue;
                if (pr <= 0)
                        break;
                n = read(master, buf, sizeof(buf));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break;
                total += (size_t)n;
                t1 = now_ms();
        }

        if (!text && now_ms() < deadline) {
                /* output ended: the program exits (or has) */
                while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
                        ;
                t1 = now_ms();
                exited = true;
        }
        if (!exited)
                end_child(pid);
        close(master);

        if (text && !found) {
                fprintf(stderr, "ptytime: \"%s\" did not appear within %ld s (%zu bytes of output)\n", text,
                        limit_s, total);
                return 1;
        }
        if (!text && !exited) {
                fprintf(stderr, "ptytime: the program did not finish within %ld s\n", limit_s);
                return 1;
        }
        if (exited)
                printf("ms=%.3f status=%d bytes=%zu\n", t1 - t0,
                       WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st), total);
        else
                printf("ms=%.3f status=- bytes=%zu\n", t1 - t0, total);
        return 0;
}
