/* draw.c — the shared ncurses screen and its primitives (see draw.h). */
#include "draw.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <wchar.h>

#include "tui.h"

#define U_H "\xe2\x94\x80"
#define U_V "\xe2\x94\x82"
#define U_TL "\xe2\x94\x8c"
#define U_TR "\xe2\x94\x90"
#define U_BL "\xe2\x94\x94"
#define U_BR "\xe2\x94\x98"

static struct {
        SCREEN *scr;
        const struct tui_caps *caps;
        bool color;
} S;

static void colors_init(void)
{
        S.color = S.caps->color && has_colors();
        if (!S.color)
                return;
        start_color();
        use_default_colors();
        init_pair(TP_TITLE, COLOR_WHITE, COLOR_BLUE);
        init_pair(TP_DONE, COLOR_GREEN, -1);
        init_pair(TP_RUN, COLOR_YELLOW, -1);
        init_pair(TP_FAIL, COLOR_RED, -1);
        init_pair(TP_BAR, COLOR_CYAN, -1);
        init_pair(TP_DIALOG, COLOR_WHITE, -1);
        init_pair(TP_DIM, -1, -1);
        /* the wizard: the colours of Debian's text installer */
        init_pair(TP_ROOT, COLOR_WHITE, COLOR_BLUE);
        init_pair(TP_WINDOW, COLOR_BLACK, COLOR_WHITE);
        init_pair(TP_WTITLE, COLOR_RED, COLOR_WHITE);
        init_pair(TP_ENTRY, COLOR_WHITE, COLOR_BLUE);
        init_pair(TP_SELECTED, COLOR_BLUE, COLOR_CYAN);
        init_pair(TP_FOCUS, COLOR_WHITE, COLOR_RED);
        init_pair(TP_ERROR, COLOR_RED, COLOR_WHITE);
        init_pair(TP_WARN, COLOR_BLUE, COLOR_WHITE);
}

int tui_screen_open(const struct tui_caps *caps)
{
        if (S.scr)
                return -EALREADY;
        set_escdelay(25);
        S.scr = newterm(NULL, stdout, stdin);
        if (!S.scr)
                return -ENOTTY;
        S.caps = caps;
        tui_term_set_active(true);
        cbreak();
        noecho();
        nonl();
        keypad(stdscr, TRUE);
        nodelay(stdscr, TRUE);
        curs_set(0);
        colors_init();
        return 0;
}

void tui_screen_close(void)
{
        if (!S.scr)
                return;
        bkgdset(' ' | A_NORMAL);
        attrset(A_NORMAL);
        erase();
        refresh();
        curs_set(1);
        endwin();
        delscreen(S.scr);
        S.scr = NULL;
        tui_term_set_active(false);
}

bool tui_screen_is_open(void)
{
        return S.scr != NULL;
}

const struct tui_caps *tui_screen_caps(void)
{
        return S.caps;
}

void tui_screen_resize(void)
{
        int c, r;

        if (!S.scr)
                return;
        if (tui_term_size(STDOUT_FILENO, &c, &r) == 0 && (c != COLS || r != LINES))
                resizeterm(r, c);
        /* the next refresh repaints every cell, whatever ncurses thinks is there */
        clearok(curscr, TRUE);
}

void tui_style_on(enum tui_pair pair, attr_t mono)
{
        if (S.color)
                attron(COLOR_PAIR(pair));
        else
                attron(mono);
}

void tui_style_off(enum tui_pair pair, attr_t mono)
{
        if (S.color)
                attroff(COLOR_PAIR(pair));
        else
                attroff(mono);
}

void tui_style_set(enum tui_pair pair, attr_t mono)
{
        attr_t a = S.color ? COLOR_PAIR(pair) : mono;

        attrset(a);
        bkgdset(' ' | a);
}

int tui_put(int y, int x, int width, const char *text)
{
        mbstate_t mb = { 0 };
        const char *p = text ? text : "";
        int used = 0;

        if (width <= 0 || y < 0 || y >= LINES || x < 0 || x >= COLS)
                return 0;
        if (x + width > COLS)
                width = COLS - x;
        move(y, x);
        while (*p && used < width) {
                unsigned char ch = (unsigned char)*p;
                if (ch < 0x20 || ch == 0x7f) {
                        addch(' ');
                        used++;
                        p++;
                } else if (ch < 0x80) {
                        addch(ch);
                        used++;
                        p++;
                } else if (!S.caps || !S.caps->utf8) {
                        addch('?');
                        used++;
                        p++;
                } else {
                        wchar_t wc;
                        size_t n = mbrtowc(&wc, p, strlen(p), &mb);
                        int w;
                        if (n == (size_t)-1 || n == (size_t)-2 || n == 0) {
                                memset(&mb, 0, sizeof(mb));
                                addch('?');
                                used++;
                                p++;
                                continue;
                        }
                        w = wcwidth(wc);
                        if (w < 0 || used + w > width)
                                break;
                        addnstr(p, (int)n);
                        used += w;
                        p += n;
                }
        }
        return used;
}

int tui_put_cut(int y, int x, int width, const char *text)
{
        const char *mark = S.caps && S.caps->utf8 ? "\xe2\x80\xa6" : "~";
        size_t fit;

        if (tui_text_width(text) <= width)
                return tui_put(y, x, width, text);
        if (width < 2)
                return 0;
        fit = tui_fit(text, width - 1);
        {
                _cleanup_free_ char *cut = xasprintf("%.*s%s", (int)fit, text, mark);
                return tui_put(y, x, width, cut);
        }
}

void tui_putf(int y, int x, int width, const char *fmt, ...)
{
        char buf[1024];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(buf, sizeof(buf), fmt, ap);
        va_end(ap);
        tui_put(y, x, width, buf);
}

void tui_fill(int y, int x, int w)
{
        if (y < 0 || y >= LINES)
                return;
        move(y, x);
        for (int i = 0; i < w && x + i < COLS; i++)
                addch(' ');
}

static void line_ch(const char *u, char ascii)
{
        if (S.caps && S.caps->utf8)
                addstr(u);
        else
                addch((chtype)(unsigned char)ascii);
}

void tui_hline(int y, int x, int w)
{
        if (y < 0 || y >= LINES)
                return;
        move(y, x);
        for (int i = 0; i < w && x + i < COLS; i++)
                line_ch(U_H, '-');
}

void tui_box(int y, int x, int h, int w)
{
        if (h < 2 || w < 2)
                return;
        for (int r = y; r < y + h; r++)
                tui_fill(r, x, w);
        move(y, x);
        line_ch(U_TL, '+');
        for (int c = x + 1; c < x + w - 1; c++)
                line_ch(U_H, '-');
        line_ch(U_TR, '+');
        move(y + h - 1, x);
        line_ch(U_BL, '+');
        for (int c = x + 1; c < x + w - 1; c++)
                line_ch(U_H, '-');
        line_ch(U_BR, '+');
        for (int r = y + 1; r < y + h - 1; r++) {
                move(r, x);
                line_ch(U_V, '|');
                move(r, x + w - 1);
                line_ch(U_V, '|');
        }
}

/* The width of the character at p in columns and its length in bytes, as
 * tui_put() draws it. */
static int char_cols(const char *p, size_t *ret_len)
{
        unsigned char ch = (unsigned char)*p;
        mbstate_t mb = { 0 };
        wchar_t wc;
        size_t n;
        int w;

        *ret_len = 1;
        if (ch < 0x80 || !S.caps || !S.caps->utf8)
                return 1;
        n = mbrtowc(&wc, p, strlen(p), &mb);
        if (n == (size_t)-1 || n == (size_t)-2 || n == 0)
                return 1;
        *ret_len = n;
        w = wcwidth(wc);
        return w < 0 ? 1 : w;
}

int tui_text_width(const char *text)
{
        int w = 0;

        for (const char *p = text ? text : ""; *p;) {
                size_t n;
                w += char_cols(p, &n);
                p += n;
        }
        return w;
}

size_t tui_fit(const char *text, int width)
{
        const char *p = text ? text : "";
        int used = 0;

        while (*p) {
                size_t n;
                int w = char_cols(p, &n);
                if (used + w > width)
                        break;
                used += w;
                p += n;
        }
        return (size_t)(p - (text ? text : ""));
}

char **tui_wrap(const char *text, int width, int indent)
{
        char **v = NULL;
        const char *p = text ? text : "";

        if (width < 10)
                width = 10;
        if (indent < 0 || indent > width / 2)
                indent = 0;
        while (*p) {
                const char *nl = strchr(p, '\n');
                size_t para = nl ? (size_t)(nl - p) : strlen(p);
                _cleanup_free_ char *line = xstrndup(p, para);
                const char *q = line;
                bool first = true;

                if (!*q)
                        strv_push(&v, "");
                while (*q) {
                        int room = first ? width : width - indent;
                        size_t fit = tui_fit(q, room), cut = fit;

                        if (q[fit]) {
                                /* break at the last space that fits */
                                while (cut > 0 && q[cut] != ' ')
                                        cut--;
                                if (cut == 0)
                                        cut = fit ? fit : 1;
                        }
                        if (first)
                                strv_push_take(&v, xstrndup(q, cut));
                        else
                                strv_pushf(&v, "%*s%.*s", indent, "", (int)cut, q);
                        q += cut;
                        while (*q == ' ')
                                q++;
                        first = false;
                }
                p += para;
                if (*p == '\n')
                        p++;
        }
        return v;
}

const char *tui_glyph_up(void)
{
        return S.caps && S.caps->utf8 ? "\xe2\x96\xb2" : "^";
}

const char *tui_glyph_down(void)
{
        return S.caps && S.caps->utf8 ? "\xe2\x96\xbc" : "v";
}
