/* draw.h — the one ncurses screen that the wizard, the dashboard and their
 * dialogs share, and the few drawing primitives they all use.
 *
 * DESIGN: main() opens the screen once (tui_screen_open()) before the
 * wizard and closes it after the end screen, so the hand-over from wizard
 * to dashboard neither flashes nor leaves the alternate screen. Every
 * screen is drawn whole from its model on every frame (erase(), draw,
 * refresh()); after a size change tui_screen_resize() also makes the next
 * refresh repaint every cell, so nothing of the old size can stay behind.
 *
 * Text goes through tui_put(): control characters become spaces, wide
 * characters count as two columns, and without a UTF-8 locale every
 * non-ASCII byte is a '?'. Box lines are Unicode in a UTF-8 locale and
 * ASCII otherwise — never the terminal's alternate character set, which
 * PuTTY in UTF-8 mode and tmux with TERM=xterm show as letters. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <curses.h>

#include "util.h"

struct tui_caps;

/* Colour pairs; with NO_COLOR (or a terminal without colours) each use
 * names a monochrome attribute instead. */
enum tui_pair {
        TP_TITLE = 1,     /* title and footer bars */
        TP_DONE,          /* green: a finished phase */
        TP_RUN,           /* yellow: running, the password */
        TP_FAIL,          /* red: failures, errors, warnings */
        TP_BAR,           /* the filled part of a bar */
        TP_DIALOG,        /* dialog boxes over the dashboard */
        TP_DIM,
        TP_ROOT,          /* the wizard's backdrop */
        TP_WINDOW,        /* the wizard's window */
        TP_WTITLE,        /* its title */
        TP_ENTRY,         /* an entry field */
        TP_SELECTED,      /* text selected in an entry (typing replaces it) */
        TP_FOCUS,         /* the focused button or check box */
        TP_ERROR,         /* an error inside the wizard's window */
        TP_WARN,          /* a warning inside the wizard's window */
        _TP_MAX,
};

/* Starts ncurses on the terminal (stdin/stdout): cbreak, no echo, keypad,
 * non-blocking reads, a short Esc delay, colours. 0, -ENOTTY when the
 * terminal cannot be driven, -EALREADY when it is already open. */
int tui_screen_open(const struct tui_caps *caps);
/* Blanks the screen and ends ncurses (back to the normal screen, modes
 * restored). A no-op when it is not open. */
void tui_screen_close(void);
bool tui_screen_is_open(void);
const struct tui_caps *tui_screen_caps(void);
/* After SIGWINCH: takes the terminal's size and makes the next refresh
 * repaint every cell. */
void tui_screen_resize(void);

void tui_style_on(enum tui_pair pair, attr_t mono);
void tui_style_off(enum tui_pair pair, attr_t mono);
/* Sets the background of what follows (and of erase()) for the wizard's
 * coloured backdrop; mono is used without colours. */
void tui_style_set(enum tui_pair pair, attr_t mono);

/* Writes text at (y, x) in at most width columns; returns the columns
 * used. Off-screen rows are ignored. */
int tui_put(int y, int x, int width, const char *text);
void tui_putf(int y, int x, int width, const char *fmt, ...) _printf_(4, 5);
/* The same, but a text too long ends in "…" ("~" without UTF-8). */
int tui_put_cut(int y, int x, int width, const char *text);
/* w spaces from (y, x). */
void tui_fill(int y, int x, int w);
/* A horizontal line, and a frame with its inside blanked. */
void tui_hline(int y, int x, int w);
void tui_box(int y, int x, int h, int w);
/* The display width of text in columns (as tui_put() counts them). */
int tui_text_width(const char *text);
/* The longest prefix of text (in bytes, at a character boundary) that fits
 * in width columns. */
size_t tui_fit(const char *text, int width);

/* Splits text into lines of at most width columns, at spaces where it can
 * (a word longer than a line is cut). '\n' ends a line; an empty line
 * stays. Lines after the first of each paragraph start with indent spaces
 * (a hanging indent for "Label:  value" lines). A strv; caller frees. */
char **tui_wrap(const char *text, int width, int indent);

/* One line of the mark characters: "[x]", bars, scroll arrows. */
const char *tui_glyph_up(void);      /* "▲" or "^" */
const char *tui_glyph_down(void);    /* "▼" or "v" */
