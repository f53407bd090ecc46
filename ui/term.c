/* term.c — terminal facts and the last-resort restore (see tui.h).
 *
 * The restore must work from a crash signal handler, so everything it
 * needs (the saved termios and the terminal's own "leave alternate screen",
 * "cursor visible" and "attributes off" strings) is copied into static
 * storage up front and it uses only tcsetattr() and write(). */
#include "tui.h"

#include <errno.h>
#include <stdio.h>
#include <langinfo.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <curses.h>
#include <term.h>

#include "util.h"

void tui_caps_detect(struct tui_caps *ret)
{
        const char *cs = nl_langinfo(CODESET);
        const char *nc = getenv("NO_COLOR");

        ret->utf8 = cs && (strcasecmp(cs, "UTF-8") == 0 || strcasecmp(cs, "utf8") == 0);
        /* no-color.org: set and not empty means no colour */
        ret->color = !(nc && nc[0]);
}

int tui_term_size(int fd, int *ret_cols, int *ret_rows)
{
        struct winsize ws;

        if (ioctl(fd, TIOCGWINSZ, &ws) < 0)
                return -errno;
        if (ws.ws_col == 0 || ws.ws_row == 0)
                return -ENOTTY;
        *ret_cols = ws.ws_col;
        *ret_rows = ws.ws_row;
        return 0;
}

int tui_term_check(int fd, char *why, size_t whylen)
{
        const char *term = getenv("TERM");
        TERMINAL *saved_term = cur_term;
        int cols = 0, rows = 0, err = 0;
        bool addressable;
        char *cup;

        if (!term || !term[0] || setupterm(NULL, fd, &err) != OK) {
                snprintf(why, whylen, "the terminal type TERM=%s is not known here (install ncurses-term, or set TERM=xterm)",
                         term && term[0] ? term : "(unset)");
                return -ENOTTY;
        }
        cup = tigetstr((char *)"cup");
        addressable = cup && cup != (char *)-1;
        del_curterm(cur_term);
        set_curterm(saved_term);
        if (!addressable) {
                snprintf(why, whylen, "the terminal type TERM=%s cannot move the cursor", term);
                return -ENOTTY;
        }
        if (tui_term_size(fd, &cols, &rows) < 0) {
                snprintf(why, whylen, "the terminal does not report its size");
                return -ENOTTY;
        }
        if (cols < TUI_MIN_COLS || rows < TUI_MIN_ROWS) {
                snprintf(why, whylen, "this terminal is %dx%d;\nthe full-screen UI needs at least %dx%d",
                         cols, rows, TUI_MIN_COLS, TUI_MIN_ROWS);
                return -ERANGE;
        }
        return 0;
}

static struct {
        bool saved;
        volatile sig_atomic_t active;   /* ncurses owns the screen */
        int fd;
        struct termios tio;
        char reset[256];       /* sgr0 + cnorm + rmcup, as this terminal spells them */
        size_t reset_len;
} st;

static void append_cap(const char *name)
{
        char *s = tigetstr((char *)name);
        size_t n;

        if (!s || s == (char *)-1)
                return;
        n = strlen(s);
        if (st.reset_len + n < sizeof(st.reset)) {
                memcpy(st.reset + st.reset_len, s, n);
                st.reset_len += n;
        }
}

void tui_term_restore(void)
{
        if (!st.saved || !st.active)
                return;
        st.active = 0;
        (void)!write(st.fd, st.reset, st.reset_len);
        (void)!write(st.fd, "\r\n", 2);
        tcsetattr(st.fd, TCSAFLUSH, &st.tio);
}

void tui_term_set_active(bool active)
{
        st.active = active;
}

static void on_crash(int sig)
{
        int saved_errno = errno;

        tui_term_restore();
        signal(sig, SIG_DFL);
        errno = saved_errno;
        raise(sig);
}

void tui_term_save(int fd)
{
        static const int crash[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT };
        TERMINAL *saved_term = cur_term;
        int err = 0;

        if (st.saved)
                return;
        if (tcgetattr(fd, &st.tio) < 0)
                return;
        st.fd = fd;
        /* read this terminal's strings without disturbing a later initscr() */
        if (setupterm(NULL, fd, &err) == OK) {
                append_cap("sgr0");
                append_cap("cnorm");
                append_cap("rmcup");
                del_curterm(cur_term);
                set_curterm(saved_term);
        }
        st.saved = true;
        for (size_t i = 0; i < ELEMENTSOF(crash); i++) {
                struct sigaction sa = { .sa_handler = on_crash, .sa_flags = SA_RESETHAND };
                sigemptyset(&sa.sa_mask);
                sigaction(crash[i], &sa, NULL);
        }
        atexit(tui_term_restore);
}
