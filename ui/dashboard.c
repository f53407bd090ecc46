/* dashboard.c — the ncurses dashboard, its failure / rollback dialog and
 * the credentials screen (see tui.h).
 *
 * The loop poll()s the keyboard, the engine's event queue and main's
 * signalfd. Events only change the model (phase states, bars, a ring of
 * log lines); the screen is redrawn from the model at most every
 * FRAME_MS, so a flood of output costs one redraw per frame, not one per
 * line, and a burst of events is drained in bounded slices so keys stay
 * responsive. The engine never waits for the UI except at a prompt.
 *
 * The credentials are drawn straight from the event's locked buffer, only
 * on the alternate screen, and once confirmed the whole screen is blanked
 * and refreshed (so neither the terminal nor ncurses' own screen copies
 * keep them) before the event, and with it the password, is wiped.
 *
 *  vps-provision 0.1.0  session 20261130-081500          elapsed 0:41  ETA 3:10
 *  Overall [##########..........................................]  21%
 *  [x] Preflight checks              done      [####################] 100%    0s
 *  [>] System preparation            running   [########............]  41%   17s
 *  [ ] XFCE desktop                  pending   [....................]   0%
 *  Now: Refreshing package lists — Get:3 http://deb.debian.org …
 *  -- Output of: Refreshing package lists ---------------------------------------
 *  …
 *  Up/Down PgUp/PgDn scroll  L full log  Ctrl-C cancel
 */
#include "tui.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <wchar.h>

#include <curses.h>

#include "events.h"
#include "queue.h"
#include "secret.h"
#include "util.h"

#define FRAME_MS 50             /* at most 20 redraws a second */
#define EVENTS_PER_SLICE 512    /* then look at the keyboard again */
#define LOG_RING 2000           /* lines kept for the log pane */

enum { C_TITLE = 1, C_DONE, C_RUN, C_FAIL, C_BAR, C_DIALOG, C_DIM };

enum dash_state { ST_RUN, ST_CREDS, ST_END };

struct logline {
        char *text;
        int phase;
        uint64_t action;
        enum log_level level;
};

struct dash {
        struct engine *e;
        struct queue *q;
        int sfd;
        const struct tui_caps *caps;
        enum dash_state state;

        struct ev_phase_info *phases;
        size_t n_phases;
        double *pfrac;
        int64_t *pdur;
        double overall;
        int64_t elapsed_ms, elapsed_at, eta_ms;
        int cur_phase;
        char *action;            /* the current action's title */
        char *detail;
        uint64_t action_id;

        struct logline ring[LOG_RING];
        size_t ring_start, ring_n;
        uint64_t dropped;
        bool full_log;
        int scroll;              /* lines up from the newest */

        struct event *prompt;
        bool prompt_undo_view;
        int prompt_sel;
        int undo_scroll;

        bool ask_cancel;
        bool cancelling;
        struct event *creds;
        int creds_row;           /* where the password is on the screen */
        struct event *end;
        char *end_note;
        tui_end_hook hook;
        void *hook_data;

        bool dirty, hangup, quit;
        int64_t last_draw;
        struct tui_dashboard_result *res;
};

/* ---- drawing helpers ---------------------------------------------------- */

/* Writes text at (y, x) in at most width columns: control characters become
 * spaces, and without a UTF-8 locale every non-ASCII byte becomes '?'. */
static int put(int y, int x, int width, const char *text)
{
        mbstate_t mb = { 0 };
        const char *p = text ? text : "";
        int used = 0;

        if (width <= 0 || y < 0 || y >= LINES)
                return 0;
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

static void putf(int y, int x, int width, const char *fmt, ...) _printf_(4, 5);
static void putf(int y, int x, int width, const char *fmt, ...)
{
        char buf[1024];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(buf, sizeof(buf), fmt, ap);
        va_end(ap);
        put(y, x, width, buf);
}

static void style_on(struct dash *d, int pair, attr_t mono)
{
        if (d->caps->color && has_colors())
                attron(COLOR_PAIR(pair));
        else
                attron(mono);
}

static void style_off(struct dash *d, int pair, attr_t mono)
{
        if (d->caps->color && has_colors())
                attroff(COLOR_PAIR(pair));
        else
                attroff(mono);
}

/* Box lines: Unicode in a UTF-8 locale, ASCII otherwise. Never the
 * terminal's alternate character set: PuTTY in UTF-8 mode and tmux with
 * TERM=xterm show its letters ("qqqq") instead of lines. */
#define U_H "\xe2\x94\x80"
#define U_V "\xe2\x94\x82"
#define U_TL "\xe2\x94\x8c"
#define U_TR "\xe2\x94\x90"
#define U_BL "\xe2\x94\x94"
#define U_BR "\xe2\x94\x98"

static void line_ch(struct dash *d, const char *u, char ascii)
{
        if (d->caps->utf8)
                addstr(u);
        else
                addch((chtype)(unsigned char)ascii);
}

static void hline_at(struct dash *d, int y, int x, int w)
{
        move(y, x);
        for (int i = 0; i < w; i++)
                line_ch(d, U_H, '-');
}

static void box_at(struct dash *d, int y, int x, int h, int w)
{
        for (int r = y; r < y + h; r++) {
                move(r, x);
                for (int c = 0; c < w; c++)
                        addch(' ');
        }
        move(y, x);
        line_ch(d, U_TL, '+');
        for (int c = x + 1; c < x + w - 1; c++)
                line_ch(d, U_H, '-');
        line_ch(d, U_TR, '+');
        move(y + h - 1, x);
        line_ch(d, U_BL, '+');
        for (int c = x + 1; c < x + w - 1; c++)
                line_ch(d, U_H, '-');
        line_ch(d, U_BR, '+');
        for (int r = y + 1; r < y + h - 1; r++) {
                move(r, x);
                line_ch(d, U_V, '|');
                move(r, x + w - 1);
                line_ch(d, U_V, '|');
        }
}

static void bar(struct dash *d, int y, int x, int w, double f)
{
        int fill;

        if (w < 3)
                return;
        if (f < 0)
                f = 0;
        if (f > 1)
                f = 1;
        fill = (int)(f * (w - 2) + 0.5);
        mvaddch(y, x, '[');
        style_on(d, C_BAR, A_BOLD);
        for (int i = 0; i < w - 2; i++) {
                if (i < fill) {
                        if (d->caps->utf8)
                                addstr("\xe2\x96\x88");   /* U+2588 full block */
                        else
                                addch('#');
                } else {
                        if (i == fill)
                                style_off(d, C_BAR, A_BOLD);
                        if (d->caps->utf8)
                                addstr("\xe2\x96\x91");   /* U+2591 light shade */
                        else
                                addch('.');
                }
        }
        style_off(d, C_BAR, A_BOLD);
        addch(']');
}

static void fmt_clock(int64_t ms, char *buf, size_t size)
{
        long long s = ms < 0 ? 0 : ms / 1000;
        if (s >= 3600)
                snprintf(buf, size, "%lld:%02lld:%02lld", s / 3600, (s / 60) % 60, s % 60);
        else
                snprintf(buf, size, "%lld:%02lld", s / 60, s % 60);
}

/* Splits text into lines of at most width bytes at spaces. */
static char **wrap(const char *text, int width)
{
        char **v = NULL;
        const char *p = text ? text : "";

        if (width < 10)
                width = 10;
        while (*p) {
                const char *nl = strchr(p, '\n');
                size_t n = nl ? (size_t)(nl - p) : strlen(p);
                if (n > (size_t)width) {
                        size_t cut = (size_t)width;
                        while (cut > 0 && p[cut] != ' ')
                                cut--;
                        n = cut ? cut : (size_t)width;
                }
                strv_push_take(&v, xstrndup(p, n));
                p += n;
                while (*p == ' ' || *p == '\n')
                        p++;
        }
        return v;
}

/* ---- the model ---------------------------------------------------------- */

static void free_phases(struct dash *d)
{
        ev_phases_free(d->phases, d->n_phases);
        free(d->pfrac);
        free(d->pdur);
        d->phases = NULL;
        d->pfrac = NULL;
        d->pdur = NULL;
        d->n_phases = 0;
}

static void log_add(struct dash *d, int phase, enum log_level level, const char *text)
{
        struct logline *l;

        if (d->ring_n == LOG_RING) {
                l = &d->ring[d->ring_start];
                free(l->text);
                d->ring_start = (d->ring_start + 1) % LOG_RING;
                d->ring_n--;
        }
        l = &d->ring[(d->ring_start + d->ring_n) % LOG_RING];
        l->text = xstrdup(text);
        l->phase = phase;
        l->action = d->action_id;
        l->level = level;
        d->ring_n++;
        if (d->scroll > 0 && (d->full_log || l->action == d->action_id))
                d->scroll++;    /* keep the view still while the person reads */
}

static bool valid_phase(struct dash *d, int i)
{
        return i >= 0 && (size_t)i < d->n_phases;
}

static void handle_event(struct dash *d, struct event *ev)
{
        struct tui_dashboard_result *res = d->res;
        bool keep = false;

        switch (ev->type) {
        case EV_SESSION_START:
                free_phases(d);
                d->n_phases = ev->session.n_phases;
                d->phases = ev_phases_copy(ev->session.phases, d->n_phases);
                d->pfrac = xcalloc(d->n_phases + 1, sizeof(double));
                d->pdur = xcalloc(d->n_phases + 1, sizeof(int64_t));
                for (size_t i = 0; i < d->n_phases; i++) {
                        d->pdur[i] = -1;
                        if (d->phases[i].state == PHASE_DONE || d->phases[i].state == PHASE_SKIPPED)
                                d->pfrac[i] = 1;
                }
                strscpy(res->session_id, sizeof(res->session_id), ev->session.session_id);
                strscpy(res->log_path, sizeof(res->log_path),
                        ev->session.log_path ? ev->session.log_path : "");
                break;
        case EV_PREFLIGHT:
                for (size_t i = 0; i < ev->preflight.checks.n; i++) {
                        const struct check *c = &ev->preflight.checks.v[i];
                        char line[1024];
                        snprintf(line, sizeof(line), "%s %s: %s",
                                 c->status == CHECK_PASS ? "ok  " : c->status == CHECK_WARN ? "WARN" : "FAIL",
                                 c->name, c->message);
                        log_add(d, 0, c->status == CHECK_FAIL ? LOG_ERROR : LOG_INFO, line);
                }
                break;
        case EV_PHASE_START:
                d->cur_phase = ev->phase_start.index;
                if (valid_phase(d, d->cur_phase))
                        d->phases[d->cur_phase].state = PHASE_RUNNING;
                free(d->action);
                d->action = xstrdup(ev->phase_start.title);
                free(d->detail);
                d->detail = NULL;
                d->action_id++;
                break;
        case EV_PHASE_END:
                if (valid_phase(d, ev->phase_end.index)) {
                        int i = ev->phase_end.index;
                        d->phases[i].state = ev->phase_end.state;
                        d->pdur[i] = ev->phase_end.duration_ms;
                        if (ev->phase_end.state == PHASE_DONE || ev->phase_end.state == PHASE_SKIPPED)
                                d->pfrac[i] = 1;
                }
                free(d->detail);        /* the last step's detail is over */
                d->detail = NULL;
                if (ev->phase_end.message) {
                        char line[1024];
                        snprintf(line, sizeof(line), "%s: %s",
                                 phase_state_name(ev->phase_end.state), ev->phase_end.message);
                        log_add(d, ev->phase_end.index,
                                ev->phase_end.state == PHASE_FAILED ? LOG_ERROR : LOG_INFO, line);
                }
                break;
        case EV_ACTION_START:
                d->action_id++;
                free(d->action);
                d->action = xstrdup(ev->action_start.title);
                free(d->detail);
                d->detail = NULL;
                if (!d->full_log)
                        d->scroll = 0;   /* a new action's output starts at its top */
                break;
        case EV_ACTION_END:
                if (!ev->action_end.ok && ev->action_end.message)
                        log_add(d, ev->action_end.phase_index, LOG_ERROR, ev->action_end.message);
                break;
        case EV_PROGRESS:
                d->overall = ev->progress.overall;
                d->elapsed_ms = ev->progress.elapsed_ms;
                d->elapsed_at = now_ms();
                d->eta_ms = ev->progress.eta_ms;
                if (valid_phase(d, ev->progress.phase_index) &&
                    d->phases[ev->progress.phase_index].state == PHASE_RUNNING)
                        d->pfrac[ev->progress.phase_index] = ev->progress.phase;
                if (ev->progress.detail) {
                        free(d->detail);
                        d->detail = xstrdup(ev->progress.detail);
                }
                break;
        case EV_LOG:
                if (ev->log.dropped_before) {
                        char line[128];
                        d->dropped += ev->log.dropped_before;
                        snprintf(line, sizeof(line), "(%llu lines not shown here; the log file has them)",
                                 (unsigned long long)ev->log.dropped_before);
                        log_add(d, ev->log.phase_index, LOG_INFO, line);
                }
                log_add(d, ev->log.phase_index, ev->log.level, ev->log.text);
                break;
        case EV_PLAN:
                break;
        case EV_PROMPT:
                event_free(d->prompt);
                d->prompt = ev;
                if (!ev->prompt.tail) {
                        /* no command output to show: the phase's own last lines */
                        size_t idx[8], n = 0;
                        for (size_t k = d->ring_n; k > 0 && n < ELEMENTSOF(idx); k--) {
                                size_t i = (d->ring_start + k - 1) % LOG_RING;
                                if (d->ring[i].phase == d->cur_phase)
                                        idx[n++] = i;
                        }
                        while (n > 0)
                                strv_push(&ev->prompt.tail, d->ring[idx[--n]].text);
                }
                d->prompt_undo_view = ev->prompt.kind == PROMPT_CONFIRM_ROLLBACK;
                d->prompt_sel = 0;
                d->undo_scroll = 0;
                keep = true;
                break;
        case EV_CREDENTIALS:
                event_free(d->creds);
                d->creds = ev;
                keep = true;
                break;
        case EV_SESSION_END:
                d->end = ev;
                res->exit_code = ev->session_end.exit_code;
                strscpy(res->end_message, sizeof(res->end_message),
                        ev->session_end.message ? ev->session_end.message : "");
                keep = true;
                if (d->hook)
                        d->end_note = d->hook(res->session_id, d->hook_data);
                d->state = d->creds ? ST_CREDS : ST_END;
                if (d->hangup)
                        d->quit = true;
                break;
        default:
                break;
        }
        if (!keep)
                event_free(ev);
        d->dirty = true;
}

/* ---- screens ------------------------------------------------------------ */

static const char *state_mark(struct dash *d, enum phase_state s)
{
        (void)d;
        switch (s) {
        case PHASE_RUNNING: return "[>]";
        case PHASE_DONE: return "[x]";
        case PHASE_SKIPPED: return "[=]";
        case PHASE_FAILED: return "[!]";
        case PHASE_ROLLED_BACK: return "[<]";
        case PHASE_DISABLED: return "[-]";
        default: return "[ ]";
        }
}

static void draw_too_small(int cols, int rows)
{
        char **v = NULL;
        char msg[256];

        snprintf(msg, sizeof(msg),
                 "This terminal is %dx%d. The dashboard needs at least %dx%d: please enlarge the window. "
                 "The run goes on meanwhile; Ctrl-C asks before cancelling.",
                 cols, rows, TUI_MIN_COLS, TUI_MIN_ROWS);
        v = wrap(msg, cols > 2 ? cols - 2 : 1);
        for (size_t i = 0; v && v[i] && (int)i < rows; i++)
                put((int)i, 1, cols - 1, v[i]);
        strv_free(v);
}

static void draw_log(struct dash *d, int top, int bottom, int cols)
{
        int h = bottom - top, shown = 0;
        size_t idx[LOG_RING];
        size_t n = 0;
        int skip;

        if (h <= 0)
                return;
        for (size_t k = 0; k < d->ring_n; k++) {
                size_t i = (d->ring_start + k) % LOG_RING;
                if (d->full_log || d->ring[i].action == d->action_id)
                        idx[n++] = i;
        }
        if (d->scroll > (int)n - h)
                d->scroll = (int)n - h > 0 ? (int)n - h : 0;
        skip = (int)n - h - d->scroll;
        if (skip < 0)
                skip = 0;
        for (size_t k = (size_t)skip; k < n && shown < h; k++, shown++) {
                struct logline *l = &d->ring[idx[k]];
                bool err = l->level >= LOG_WARNING;
                if (err)
                        style_on(d, C_FAIL, A_BOLD);
                put(top + shown, 1, cols - 2, l->text);
                if (err)
                        style_off(d, C_FAIL, A_BOLD);
        }
}

static void draw_dashboard(struct dash *d, int cols, int rows)
{
        char el[32], eta[32], right[96];
        int y, list_h, first = 0, now_y, log_top;
        int64_t elapsed = d->elapsed_ms + (d->elapsed_at && !d->end ? now_ms() - d->elapsed_at : 0);
        int title_w = cols >= 100 ? 40 : 30;
        int bar_w;

        fmt_clock(elapsed, el, sizeof(el));
        if (d->eta_ms >= 0)
                fmt_clock(d->eta_ms, eta, sizeof(eta));
        else
                snprintf(eta, sizeof(eta), "--:--");
        snprintf(right, sizeof(right), "elapsed %s  ETA %s ", el, eta);

        style_on(d, C_TITLE, A_REVERSE);
        move(0, 0);
        for (int i = 0; i < cols; i++)
                addch(' ');
        putf(0, 1, cols - (int)strlen(right) - 2, "vps-provision %s  session %s%s", VPSP_VERSION,
             d->res->session_id[0] ? d->res->session_id : "(starting)",
             d->cancelling ? "  CANCELLING" : "");
        put(0, cols - (int)strlen(right), (int)strlen(right), right);
        style_off(d, C_TITLE, A_REVERSE);

        put(1, 1, 8, "Overall");
        bar(d, 1, 9, cols - 9 - 7, d->overall);
        putf(1, cols - 6, 6, "%4d%%", (int)(d->overall * 100.0));

        /* the phase list gets what the log pane (at least 6 lines) leaves */
        list_h = rows - 2 - 1 - 1 - 6 - 1;
        if (list_h > (int)d->n_phases)
                list_h = (int)d->n_phases;
        if (d->cur_phase >= list_h)
                first = d->cur_phase - list_h + 2 < (int)d->n_phases - list_h
                                ? d->cur_phase - list_h + 2
                                : (int)d->n_phases - list_h;
        if (first < 0)
                first = 0;
        bar_w = cols - 5 - title_w - 11 - 6 - 9;
        for (y = 0; y < list_h; y++) {
                int i = first + y;
                struct ev_phase_info *p = &d->phases[i];
                int pair = p->state == PHASE_DONE || p->state == PHASE_SKIPPED ? C_DONE
                           : p->state == PHASE_RUNNING                        ? C_RUN
                           : p->state == PHASE_FAILED                         ? C_FAIL
                                                                              : C_DIM;
                attr_t mono = p->state == PHASE_RUNNING || p->state == PHASE_FAILED ? A_BOLD : A_NORMAL;
                style_on(d, pair, mono);
                put(2 + y, 1, 3, state_mark(d, p->state));
                style_off(d, pair, mono);
                put(2 + y, 5, title_w, p->title);
                style_on(d, pair, mono);
                put(2 + y, 5 + title_w + 1, 9, phase_state_name(p->state));
                style_off(d, pair, mono);
                if (p->state != PHASE_DISABLED) {
                        bar(d, 2 + y, 5 + title_w + 11, bar_w, d->pfrac[i]);
                        putf(2 + y, 5 + title_w + 11 + bar_w, 6, " %4d%%", (int)(d->pfrac[i] * 100.0));
                }
                if (d->pdur[i] >= 0) {
                        char dur[32];
                        fmt_clock(d->pdur[i], dur, sizeof(dur));
                        put(2 + y, cols - 7, 6, dur);
                }
        }

        now_y = 2 + list_h;
        putf(now_y, 1, cols - 2, "Now: %s%s%s", d->action ? d->action : "starting",
             d->detail ? " - " : "", d->detail ? d->detail : "");

        log_top = now_y + 1;
        hline_at(d, log_top, 0, cols);
        putf(log_top, 2, cols - 4, " %s%s%s ", d->full_log ? "Full log" : "Output of: ",
             d->full_log ? "" : d->action ? d->action : "",
             d->scroll ? "  (scrolled back)" : "");
        draw_log(d, log_top + 1, rows - 1, cols);

        style_on(d, C_TITLE, A_REVERSE);
        move(rows - 1, 0);
        for (int i = 0; i < cols; i++)
                addch(' ');
        put(rows - 1, 1, cols - 2,
            d->full_log ? "Up/Down PgUp/PgDn: scroll   L: current action only   Ctrl-C: cancel"
                        : "Up/Down PgUp/PgDn: scroll   L: full log   Ctrl-C: cancel");
        style_off(d, C_TITLE, A_REVERSE);
}

static void draw_prompt(struct dash *d, int cols, int rows)
{
        struct event *p = d->prompt;
        int w = cols - 4 > 76 ? 76 : cols - 4;
        int x = (cols - w) / 2, y, h, inner = w - 4;
        char **msg = wrap(p->prompt.message, inner);
        size_t n_msg = strv_length(msg), n_tail = strv_length(p->prompt.tail);
        size_t n_undo = strv_length(p->prompt.undo);

        if (!d->prompt_undo_view) {
                static const char *const items[] = {
                        "R  Retry the phase",
                        "B  Roll back: undo every change of this run (shows the list first)",
                        "K  Keep the changes and exit (fix the cause, then --resume)",
                };
                int tail_max = rows - 4 - 2 - (int)n_msg - 2 - 4 - 1;
                size_t t0;
                if (tail_max < 0)
                        tail_max = 0;
                t0 = n_tail > (size_t)tail_max ? n_tail - (size_t)tail_max : 0;
                h = 2 + 1 + (int)n_msg + 1 + (n_tail ? 1 + (int)(n_tail - t0) : 0) + 1 + 3 + 1;
                y = (rows - h) / 2;
                style_on(d, C_DIALOG, A_NORMAL);
                box_at(d, y, x, h, w);
                style_off(d, C_DIALOG, A_NORMAL);
                style_on(d, C_FAIL, A_BOLD);
                putf(y, x + 2, w - 4, " %s ", p->prompt.title);
                style_off(d, C_FAIL, A_BOLD);
                y += 2;
                for (size_t i = 0; i < n_msg; i++)
                        put(y++, x + 2, inner, msg[i]);
                y++;
                if (n_tail) {
                        put(y++, x + 2, inner, "Last lines of its output:");
                        for (size_t i = t0; i < n_tail; i++)
                                put(y++, x + 4, inner - 2, p->prompt.tail[i]);
                }
                y++;
                for (int i = 0; i < 3; i++) {
                        if (i == d->prompt_sel)
                                attron(A_REVERSE);
                        put(y, x + 2, inner, i == d->prompt_sel ? ">" : " ");
                        put(y, x + 4, inner - 2, items[i]);
                        if (i == d->prompt_sel)
                                attroff(A_REVERSE);
                        y++;
                }
        } else {
                int list_h = rows - 4 - 8;
                char head[160];
                if (list_h < 3)
                        list_h = 3;
                if (list_h > (int)n_undo)
                        list_h = n_undo ? (int)n_undo : 1;
                if (d->undo_scroll > (int)n_undo - list_h)
                        d->undo_scroll = (int)n_undo - list_h > 0 ? (int)n_undo - list_h : 0;
                h = 2 + 1 + 1 + list_h + 1 + 1 + 1 + 1;
                y = (rows - h) / 2;
                style_on(d, C_DIALOG, A_NORMAL);
                box_at(d, y, x, h, w);
                style_off(d, C_DIALOG, A_NORMAL);
                style_on(d, C_FAIL, A_BOLD);
                putf(y, x + 2, w - 4, " %s ",
                     p->prompt.kind == PROMPT_CONFIRM_ROLLBACK && p->prompt.title ? p->prompt.title : "Roll back");
                style_off(d, C_FAIL, A_BOLD);
                y += 2;
                snprintf(head, sizeof(head), "These %zu change%s will be undone, newest first%s:", n_undo,
                         n_undo == 1 ? "" : "s", (int)n_undo > list_h ? " (Up/Down scroll)" : "");
                put(y++, x + 2, inner, head);
                y++;
                if (!n_undo)
                        put(y, x + 4, inner - 2, "(nothing to undo)");
                for (int i = 0; i < list_h && d->undo_scroll + i < (int)n_undo; i++)
                        putf(y + i, x + 4, inner - 2, "%3d. %s", d->undo_scroll + i + 1,
                             p->prompt.undo[d->undo_scroll + i]);
                y += list_h + 1;
                put(y, x + 2, inner,
                    p->prompt.kind == PROMPT_CONFIRM_ROLLBACK
                            ? "Y  Yes, roll back      N  No, keep everything and exit"
                            : "Y  Yes, roll back      N  No, go back to the choices");
        }
        strv_free(msg);
}

static void draw_ask_cancel(struct dash *d, int cols, int rows)
{
        int w = cols - 8 > 64 ? 64 : cols - 8, h = 8;
        int x = (cols - w) / 2, y = (rows - h) / 2;
        char **v = wrap("Cancel the run? The current step finishes first; the changes made so far "
                        "are kept, and vps-provision --resume continues later (or --rollback undoes them).",
                        w - 4);

        style_on(d, C_DIALOG, A_NORMAL);
        box_at(d, y, x, h, w);
        style_off(d, C_DIALOG, A_NORMAL);
        put(y, x + 2, w - 4, " Cancel? ");
        for (size_t i = 0; v && v[i] && i < 3; i++)
                put(y + 2 + (int)i, x + 2, w - 4, v[i]);
        put(y + h - 2, x + 2, w - 4, "Y  Yes, cancel       N  No, keep going");
        strv_free(v);
}

static void draw_creds(struct dash *d, int cols, int rows)
{
        const struct event *c = d->creds;
        int y = 2;
        (void)rows;

        style_on(d, C_TITLE, A_REVERSE);
        move(0, 0);
        for (int i = 0; i < cols; i++)
                addch(' ');
        put(0, 1, cols - 2, "Your login: save it now");
        style_off(d, C_TITLE, A_REVERSE);
        put(y++, 2, cols - 4, d->res->exit_code == 0 ? "The workstation is ready."
                                                     : "The run did not finish, but this account exists:");
        put(y++, 2, cols - 4, "These are shown once, here only: they are not stored or logged anywhere.");
        y++;
        putf(y++, 4, cols - 6, "User:      %s", c->credentials.username);
        put(y, 4, 11, "Password:");
        d->creds_row = y;
        style_on(d, C_RUN, A_BOLD);
        /* drawn straight from the locked buffer; no copy is made */
        put(y++, 15, cols - 17,
            c->credentials.password ? secret_str(c->credentials.password)
                                    : "(the one whose hash the answers file holds)");
        style_off(d, C_RUN, A_BOLD);
        putf(y++, 4, cols - 6, "RDP:       %s:%u  (Remote Desktop client)", c->credentials.host,
             c->credentials.rdp_port);
        putf(y++, 4, cols - 6, "SSH:       ssh -p %u %s@%s", c->credentials.ssh_port,
             c->credentials.username, c->credentials.host);
        y++;
        put(y++, 2, cols - 4, "Write the password into your password manager now.");
        style_on(d, C_TITLE, A_REVERSE);
        put(y + 1, 2, cols - 4, " Press S when you have saved it (the screen and memory are then wiped) ");
        style_off(d, C_TITLE, A_REVERSE);
}

static void draw_end(struct dash *d, int cols, int rows)
{
        const struct event *ev = d->end;
        int y = 2;
        char **msg = wrap(ev->session_end.message, cols - 4);

        style_on(d, C_TITLE, A_REVERSE);
        move(0, 0);
        for (int i = 0; i < cols; i++)
                addch(' ');
        putf(0, 1, cols - 2, "%s (exit code %d)", ev->session_end.exit_code == 0 ? "Finished" : "Stopped",
             ev->session_end.exit_code);
        style_off(d, C_TITLE, A_REVERSE);
        style_on(d, ev->session_end.exit_code == 0 ? C_DONE : C_FAIL, A_BOLD);
        for (size_t i = 0; msg && msg[i] && y < rows - 3; i++)
                put(y++, 2, cols - 4, msg[i]);
        style_off(d, ev->session_end.exit_code == 0 ? C_DONE : C_FAIL, A_BOLD);
        y++;
        for (size_t i = 0; ev->session_end.summary && ev->session_end.summary[i] && y < rows - 5; i++)
                put(y++, 4, cols - 6, ev->session_end.summary[i]);
        if (d->res->log_path[0] && y < rows - 4) {
                putf(++y, 2, cols - 4, "Log: %s", d->res->log_path);
                y++;
        }
        if (d->end_note) {
                char **note = wrap(d->end_note, cols - 4);
                y++;
                for (size_t i = 0; note && note[i] && y < rows - 3; i++)
                        put(y++, 2, cols - 4, note[i]);
                strv_free(note);
        }
        style_on(d, C_TITLE, A_REVERSE);
        put(rows - 2, 2, cols - 4, " Press Enter to exit ");
        style_off(d, C_TITLE, A_REVERSE);
        strv_free(msg);
}

static void redraw(struct dash *d)
{
        int cols = COLS, rows = LINES;

        if (d->hangup) {
                /* nobody to draw for: the model still follows the run */
                d->dirty = false;
                d->last_draw = now_ms();
                return;
        }
        erase();
        if (cols < TUI_MIN_COLS || rows < TUI_MIN_ROWS) {
                draw_too_small(cols, rows);
        } else if (d->state == ST_CREDS) {
                draw_creds(d, cols, rows);
        } else if (d->state == ST_END) {
                draw_end(d, cols, rows);
        } else {
                draw_dashboard(d, cols, rows);
                if (d->prompt)
                        draw_prompt(d, cols, rows);
                else if (d->ask_cancel)
                        draw_ask_cancel(d, cols, rows);
        }
        refresh();
        d->dirty = false;
        d->last_draw = now_ms();
}

/* ---- input -------------------------------------------------------------- */

static void answer(struct dash *d, enum prompt_choice c)
{
        struct event *a = event_new(EV_ANSWER);

        a->answer.prompt_id = d->prompt->prompt.id;
        a->answer.choice = c;
        engine_send(d->e, a);
        event_free(d->prompt);
        d->prompt = NULL;
}

static void request_cancel(struct dash *d)
{
        if (!d->cancelling) {
                engine_send(d->e, event_new(EV_CANCEL));
                d->cancelling = true;
        }
}

static void key_prompt(struct dash *d, int k)
{
        if (d->prompt_undo_view) {
                switch (k) {
                case 'y': case 'Y':
                        answer(d, CHOICE_ROLLBACK);
                        break;
                case 'n': case 'N': case 27:
                        if (d->prompt->prompt.kind == PROMPT_CONFIRM_ROLLBACK)
                                answer(d, CHOICE_KEEP);
                        else
                                d->prompt_undo_view = false;
                        break;
                case KEY_UP: d->undo_scroll = d->undo_scroll > 0 ? d->undo_scroll - 1 : 0; break;
                case KEY_DOWN: d->undo_scroll++; break;
                case KEY_PPAGE: d->undo_scroll = d->undo_scroll > 10 ? d->undo_scroll - 10 : 0; break;
                case KEY_NPAGE: d->undo_scroll += 10; break;
                }
                return;
        }
        switch (k) {
        case KEY_UP: d->prompt_sel = (d->prompt_sel + 2) % 3; break;
        case KEY_DOWN: case '\t': d->prompt_sel = (d->prompt_sel + 1) % 3; break;
        case 'r': case 'R': answer(d, CHOICE_RETRY); break;
        case 'b': case 'B': d->prompt_undo_view = true; d->undo_scroll = 0; break;
        case 'k': case 'K': answer(d, CHOICE_KEEP); break;
        case '\n': case '\r': case KEY_ENTER:
                if (d->prompt_sel == 0)
                        answer(d, CHOICE_RETRY);
                else if (d->prompt_sel == 1)
                        d->prompt_undo_view = true;
                else
                        answer(d, CHOICE_KEEP);
                break;
        }
}

/* Overwrites the password's cells in place, with other text, before any
 * screen clear: terminals without an alternate screen (linux, vt100) under
 * tmux, VTE and others push a cleared screen into their scrollback, and
 * the password must not go there. The overwrite also replaces ncurses' own
 * copies of those cells. Then the event, and with it the password, is
 * wiped. */
static void wipe_creds(struct dash *d)
{
        if (d->creds_row > 0 && !d->hangup) {
                move(d->creds_row, 15);
                for (int x = 15; x < COLS - 1; x++)
                        addch('.');
                refresh();
                move(d->creds_row, 15);
                clrtoeol();
                put(d->creds_row, 15, COLS - 17, "(wiped)");
                refresh();
        }
        d->creds_row = 0;
        event_free(d->creds);   /* wipes the password */
        d->creds = NULL;
}

static void on_key(struct dash *d, int k)
{
        if (k == KEY_RESIZE) {
                d->dirty = true;
                return;
        }
        switch (d->state) {
        case ST_CREDS:
                if (k == 's' || k == 'S') {
                        wipe_creds(d);
                        d->state = ST_END;
                }
                break;
        case ST_END:
                if (k == '\n' || k == '\r' || k == KEY_ENTER || k == 'q' || k == 'Q' || k == 3)
                        d->quit = true;
                break;
        case ST_RUN:
                if (d->prompt) {
                        key_prompt(d, k);
                } else if (d->ask_cancel) {
                        if (k == 'y' || k == 'Y') {
                                request_cancel(d);
                                d->ask_cancel = false;
                        } else if (k == 'n' || k == 'N' || k == 27) {
                                d->ask_cancel = false;
                        }
                } else {
                        switch (k) {
                        case 3: case 'q': case 'Q': d->ask_cancel = !d->cancelling; break;
                        case 'l': case 'L': d->full_log = !d->full_log; d->scroll = 0; break;
                        case KEY_UP: d->scroll++; break;
                        case KEY_DOWN: d->scroll = d->scroll > 0 ? d->scroll - 1 : 0; break;
                        case KEY_PPAGE: d->scroll += LINES / 2; break;
                        case KEY_NPAGE: d->scroll = d->scroll > LINES / 2 ? d->scroll - LINES / 2 : 0; break;
                        case KEY_END: d->scroll = 0; break;
                        }
                }
                break;
        }
        d->dirty = true;
}

static void on_signal(struct dash *d)
{
        struct signalfd_siginfo si;

        while (read(d->sfd, &si, sizeof(si)) == sizeof(si)) {
                switch (si.ssi_signo) {
                case SIGINT:
                        on_key(d, 3);
                        break;
                case SIGWINCH: {
                        int c, r;
                        if (tui_term_size(STDOUT_FILENO, &c, &r) == 0)
                                resizeterm(r, c);
                        d->dirty = true;
                        break;
                }
                case SIGHUP:
                        /* the terminal is gone: nobody can answer any more */
                        engine_detach_ui(d->e);
                        d->hangup = true;
                        d->res->hangup = true;
                        if (d->prompt) {
                                event_free(d->prompt);
                                d->prompt = NULL;
                        }
                        if (d->state != ST_RUN)
                                d->quit = true;
                        break;
                default:        /* TERM, QUIT: cancel at the next safe point */
                        if (d->state == ST_RUN)
                                request_cancel(d);
                        else
                                d->quit = true;
                        break;
                }
        }
}

static void colors_init(struct dash *d)
{
        if (!d->caps->color || !has_colors())
                return;
        start_color();
        use_default_colors();
        init_pair(C_TITLE, COLOR_WHITE, COLOR_BLUE);
        init_pair(C_DONE, COLOR_GREEN, -1);
        init_pair(C_RUN, COLOR_YELLOW, -1);
        init_pair(C_FAIL, COLOR_RED, -1);
        init_pair(C_BAR, COLOR_CYAN, -1);
        init_pair(C_DIALOG, COLOR_WHITE, -1);
        init_pair(C_DIM, -1, -1);
}

int tui_dashboard_run(struct engine *e, int sfd, const struct tui_caps *caps, tui_end_hook hook,
                      void *userdata, struct tui_dashboard_result *ret)
{
        struct dash *d = xcalloc(1, sizeof(*d));
        SCREEN *scr;
        int code;

        *ret = (struct tui_dashboard_result){ .exit_code = EXIT_INTERNAL };
        d->e = e;
        d->q = engine_events(e);
        d->sfd = sfd;
        d->caps = caps;
        d->hook = hook;
        d->hook_data = userdata;
        d->res = ret;
        d->eta_ms = -1;
        d->cur_phase = -1;
        d->dirty = true;

        set_escdelay(25);
        scr = newterm(NULL, stdout, stdin);
        if (!scr) {
                free(d);
                return -ENOTTY;
        }
        tui_term_set_active(true);
        cbreak();
        noecho();
        nonl();
        keypad(stdscr, TRUE);
        nodelay(stdscr, TRUE);
        curs_set(0);
        colors_init(d);

        while (!d->quit) {
                struct pollfd p[3] = {
                        { .fd = STDIN_FILENO, .events = POLLIN },
                        { .fd = sfd, .events = POLLIN },
                        { .fd = d->end ? -1 : queue_fd(d->q), .events = POLLIN },
                };
                int64_t now = now_ms();
                /* the elapsed clock ticks once a second while the run goes on */
                int timeout = d->state == ST_RUN && !d->end ? (int)(d->last_draw + 1000 - now) : -1;
                struct event *ev;
                int k, n = 0;

                if (d->dirty) {
                        int64_t wait = d->last_draw + FRAME_MS - now;
                        if (wait <= 0) {
                                redraw(d);
                                if (d->state == ST_RUN)
                                        continue;
                        } else {
                                timeout = (int)wait;
                        }
                }
                if (timeout < 0 && d->state == ST_RUN && !d->end)
                        timeout = 0;
                if (d->hangup)
                        p[0].fd = -1;
                if (poll(p, 3, timeout) < 0 && errno != EINTR)
                        break;
                if (p[0].revents & (POLLHUP | POLLERR | POLLNVAL)) {
                        /* stdin gone without a SIGHUP (a closed pty): same thing */
                        engine_detach_ui(e);
                        d->hangup = ret->hangup = true;
                        if (d->state != ST_RUN)
                                d->quit = true;
                }
                if (p[1].revents & POLLIN)
                        on_signal(d);
                while (!d->hangup && (k = getch()) != ERR)
                        on_key(d, k);
                while (!d->end && n++ < EVENTS_PER_SLICE && (ev = queue_pop(d->q)))
                        handle_event(d, ev);
                if (!d->end && n <= EVENTS_PER_SLICE && queue_is_closed(d->q)) {
                        /* closed without a session end: should not happen, but do not spin */
                        if ((ev = queue_pop(d->q)))
                                handle_event(d, ev);
                        else
                                d->quit = true;
                }
                if (d->state == ST_RUN && d->elapsed_at && !d->end && now_ms() - d->last_draw >= 1000)
                        d->dirty = true;    /* the elapsed clock ticks */
        }

        if (d->creds && !d->hangup)
                wipe_creds(d);
        event_free(d->creds);
        d->creds = NULL;
        erase();
        refresh();
        endwin();
        delscreen(scr);
        tui_term_set_active(false);

        code = engine_join(e);
        ret->exit_code = code;
        for (size_t k = 0; k < d->ring_n; k++)
                free(d->ring[(d->ring_start + k) % LOG_RING].text);
        event_free(d->prompt);
        event_free(d->end);
        free(d->end_note);
        free(d->action);
        free(d->detail);
        free_phases(d);
        free(d);
        return code;
}
