/* dashboard.c — the dashboard, its failure / rollback dialog and the
 * credentials screen (see tui.h).
 *
 * DESIGN: the loop poll()s the keyboard, the event source (tui_source: the
 * engine's queue today) and main's signalfd. Events only change the model
 * (phase states, bars, a ring of log lines, the prompt); the screen is
 * redrawn whole from the model at most every FRAME_MS, so a flood of output
 * costs one redraw per frame, not one per line, and a burst of events is
 * drained in bounded slices so keys stay responsive. Between a change and
 * its frame the loop does not listen to the event source: what arrives
 * meanwhile waits in the queue (whose log ring coalesces a flood) and is
 * drained at the frame, so a child printing lines wakes the UI about twice
 * a frame, not once a line. The drawing never
 * looks at where events come from, so another source can feed it.
 *
 * The failure dialog keeps the failed phase's row in view, shows the error,
 * the log's path and the failing action's last lines (Up/Down scroll
 * them), and L opens the whole log before a choice is made.
 *
 * The credentials are drawn straight from the event's locked buffer, only
 * on the alternate screen; S then Y (one deliberate confirmation, so no
 * stray key can wipe them) blanks the password's cells and refreshes
 * before the event, and with it the password, is wiped.
 *
 *  vps-provision 0.1.0  session 20261130-081500          elapsed 0:41  ETA 3:10
 *  Overall [##########..........................................]  21%
 *  [x] Preflight checks              done      [####################] 100%    0s
 *  [>] System preparation            running   [########............]  41%   17s
 *  [ ] XFCE desktop                  pending   [....................]   0%
 *  Now: Refreshing package lists - Get:3 http://deb.debian.org …
 *  -- Output of: Refreshing package lists ---- log: /var/log/vps-provision/ID.log --
 *  …
 *  Up/Down PgUp/PgDn: scroll   L: full log   Ctrl-C: cancel
 *
 * A run in another process (tui_source with leave/take/control) adds D,
 * which leaves the run going (also on the failure dialog and the
 * credentials screen, which then wait for the next client), and, for a
 * session that only watches, T to take the keys; Ctrl-C then leaves too.
 */
#include "tui.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "answers.h"
#include "draw.h"
#include "events.h"
#include "queue.h"
#include "secret.h"
#include "util.h"

#define FRAME_MS 50             /* at most 20 redraws a second */
#define EVENTS_PER_SLICE 512    /* then look at the keyboard again */
#define LOG_RING 2000           /* lines kept for the log pane */
#define LOG_MIN_ROWS 6          /* the log pane gets at least this many */

enum dash_state { ST_RUN, ST_CREDS, ST_END };

struct logline {
        char *text;
        int phase;
        uint64_t action;
        enum log_level level;
};

struct dash {
        const struct tui_source *src;
        int sfd;
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
        bool full_log;
        int scroll;              /* lines up from the newest */

        struct event *prompt;
        bool prompt_undo_view;   /* the list of undos before a rollback */
        bool prompt_log_view;    /* the whole log, before choosing */
        int prompt_sel;
        int undo_scroll;
        int tail_scroll;         /* the failing action's lines, up from the newest */
        int failed_phase;        /* -1 = none */
        uint64_t failed_action;

        bool ask_cancel;
        bool cancelling;
        struct event *creds;
        bool creds_confirm;      /* "saved it?" is asked */
        bool ssh_confirmed;      /* the login on the new SSH port was confirmed */
        int creds_row, creds_col;/* where the password is on the screen; 0 = not drawn */
        struct event *end;
        char *end_note;
        tui_end_hook hook;
        void *hook_data;

        bool dirty, hangup, quit;
        int64_t last_draw;
        struct tui_dashboard_result *res;
};

/* ---- the engine as a source --------------------------------------------- */

static int engine_src_fd(void *data)
{
        return queue_fd(engine_events(data));
}

static struct event *engine_src_pop(void *data)
{
        return queue_pop(engine_events(data));
}

static bool engine_src_closed(void *data)
{
        return queue_is_closed(engine_events(data));
}

static void engine_src_send(void *data, struct event *ev)
{
        engine_send(data, ev);
}

static void engine_src_detach(void *data)
{
        engine_detach_ui(data);
}

void tui_source_engine(struct tui_source *ret, struct engine *e)
{
        *ret = (struct tui_source){
                .data = e, .fd = engine_src_fd, .pop = engine_src_pop, .closed = engine_src_closed,
                .send = engine_src_send, .detach = engine_src_detach,
        };
}

/* ---- drawing helpers ---------------------------------------------------- */

static void bar(int y, int x, int w, double f)
{
        bool utf8 = tui_screen_caps()->utf8;
        int fill;

        if (w < 3)
                return;
        if (f < 0)
                f = 0;
        if (f > 1)
                f = 1;
        fill = (int)(f * (w - 2) + 0.5);
        mvaddch(y, x, '[');
        tui_style_on(TP_BAR, A_BOLD);
        for (int i = 0; i < w - 2; i++) {
                if (i == fill)
                        tui_style_off(TP_BAR, A_BOLD);
                if (i < fill)
                        addstr(utf8 ? "\xe2\x96\x88" : "#");   /* U+2588 full block */
                else
                        addstr(utf8 ? "\xe2\x96\x91" : ".");   /* U+2591 light shade */
        }
        tui_style_off(TP_BAR, A_BOLD);
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

/* A bar across the whole row in the title style, with text from column 1. */
static void title_bar(int y, const char *text)
{
        tui_style_on(TP_TITLE, A_REVERSE);
        tui_fill(y, 0, COLS);
        tui_put(y, 1, COLS - 2, text);
        tui_style_off(TP_TITLE, A_REVERSE);
}

/* The longest tail of path that fits in w columns, "…" in front when cut. */
static void fit_path(const char *path, int w, char *buf, size_t size)
{
        int n = tui_text_width(path);

        if (n <= w || w < 4) {
                snprintf(buf, size, "%s", path);
                return;
        }
        while (*path && tui_text_width(path) > w - 3)
                path++;
        snprintf(buf, size, "...%s", path);
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

static struct logline *ring_at(struct dash *d, size_t k)
{
        return &d->ring[(d->ring_start + k) % LOG_RING];
}

static void log_add_len(struct dash *d, int phase, enum log_level level, const char *text, size_t len)
{
        struct logline *l;

        if (d->ring_n == LOG_RING) {
                l = &d->ring[d->ring_start];
                free(l->text);
                d->ring_start = (d->ring_start + 1) % LOG_RING;
                d->ring_n--;
        }
        l = &d->ring[(d->ring_start + d->ring_n) % LOG_RING];
        l->text = xstrndup(text, len);
        l->phase = phase;
        l->action = d->action_id;
        l->level = level;
        d->ring_n++;
        /* keep the view still while the person reads */
        if (d->scroll > 0 && (d->full_log || l->action == d->action_id))
                d->scroll++;
        if (d->tail_scroll > 0 && !d->prompt_log_view && l->action == d->failed_action)
                d->tail_scroll++;
}

static void log_add(struct dash *d, int phase, enum log_level level, const char *text)
{
        log_add_len(d, phase, level, text, strlen(text));
}

/* A log event's lines (a batch of a command's output holds several, '\n'
 * between them); only the last LOG_RING can stay in the ring. */
static void log_add_event(struct dash *d, const struct event *ev)
{
        const char *p = ev->log.text;
        uint32_t skip = ev->log.lines > LOG_RING ? ev->log.lines - LOG_RING : 0;

        if (ev->log.lines <= 1) {
                log_add(d, ev->log.phase_index, ev->log.level, p);
                return;
        }
        for (;;) {
                const char *nl = strchr(p, '\n');
                size_t n = nl ? (size_t)(nl - p) : strlen(p);

                if (skip)
                        skip--;
                else
                        log_add_len(d, ev->log.phase_index, ev->log.level, p, n);
                if (!nl)
                        break;
                p = nl + 1;
        }
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
                res->mode = ev->session.mode;
                strscpy(res->session_id, sizeof(res->session_id), ev->session.session_id);
                strscpy(res->log_path, sizeof(res->log_path), ev->session.log_path ? ev->session.log_path : "");
                strscpy(res->session_path, sizeof(res->session_path),
                        ev->session.session_path ? ev->session.session_path : "");
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
                        if (ev->phase_end.state == PHASE_FAILED) {
                                d->failed_phase = i;
                                d->failed_action = d->action_id;
                        }
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
                if (!ev->action_end.ok)
                        d->failed_action = d->action_id;
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
                        snprintf(line, sizeof(line), "(%llu lines not shown here; the log file has them)",
                                 (unsigned long long)ev->log.dropped_before);
                        log_add(d, ev->log.phase_index, LOG_INFO, line);
                }
                log_add_event(d, ev);
                break;
        case EV_PLAN:
                break;
        case EV_PROMPT:
                event_free(d->prompt);
                d->prompt = ev;
                d->prompt_undo_view = ev->prompt.kind == PROMPT_CONFIRM_ROLLBACK;
                d->prompt_log_view = false;
                d->prompt_sel = 0;
                d->undo_scroll = 0;
                d->tail_scroll = 0;
                if (d->failed_phase < 0 && valid_phase(d, d->cur_phase) && ev->prompt.kind == PROMPT_PHASE_FAILED)
                        d->failed_phase = d->cur_phase;
                if (d->failed_action == 0)
                        d->failed_action = d->action_id;
                keep = true;
                break;
        case EV_CREDENTIALS:
                event_free(d->creds);
                d->creds = ev;
                /* given with the keys after the end (another session left them) */
                if (d->state == ST_END)
                        d->state = ST_CREDS;
                res->login = true;
                strscpy(res->username, sizeof(res->username), ev->credentials.username ? ev->credentials.username : "");
                strscpy(res->host, sizeof(res->host), ev->credentials.host ? ev->credentials.host : "");
                res->rdp_port = ev->credentials.rdp_port;
                res->ssh_port = ev->credentials.ssh_port;
                res->rdp_localhost = ev->credentials.rdp_localhost;
                keep = true;
                break;
        case EV_SESSION_END:
                d->end = ev;
                res->ended = true;
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

static const char *state_mark(enum phase_state s)
{
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

/* Lines of text from row y on, wrapped to w columns, at most max rows;
 * returns the rows used. */
static int put_wrapped(int y, int x, int w, int max, const char *text)
{
        _cleanup_strv_ char **v = tui_wrap(text, w, 0);
        int n = 0;

        for (size_t i = 0; v && v[i] && n < max; i++, n++)
                tui_put(y + n, x, w, v[i]);
        return n;
}

static void draw_too_small(struct dash *d)
{
        char msg[256];

        if (d->state == ST_RUN)
                snprintf(msg, sizeof(msg),
                         "This terminal is %dx%d. The dashboard needs at least %dx%d: please enlarge the "
                         "window. The run goes on meanwhile; Ctrl-C asks before cancelling.",
                         COLS, LINES, TUI_MIN_COLS, TUI_MIN_ROWS);
        else
                snprintf(msg, sizeof(msg),
                         "This terminal is %dx%d. The run has ended; what it left for you is shown once the "
                         "window is at least %dx%d: please enlarge it.",
                         COLS, LINES, TUI_MIN_COLS, 12);
        put_wrapped(0, 1, COLS > 2 ? COLS - 2 : 1, LINES, msg);
}

static bool run_over(struct dash *d)
{
        return d->end || d->prompt || d->failed_phase >= 0 || d->cancelling;
}

static void draw_header(struct dash *d)
{
        char el[32], eta[32], right[128], left[160];
        int64_t elapsed = d->elapsed_ms + (d->elapsed_at && !run_over(d) ? now_ms() - d->elapsed_at : 0);
        const char *status = d->cancelling && !d->end ? "CANCELLING  "
                             : d->prompt && d->prompt->prompt.kind == PROMPT_PHASE_FAILED ? "FAILED  "
                                                                                           : "";
        const char *sid = d->res->session_id[0] ? d->res->session_id : "(starting)";
        int room;

        fmt_clock(elapsed, el, sizeof(el));
        /* an estimate only while the run goes on: not after a failure or a cancel */
        if (d->eta_ms >= 0 && !run_over(d))
                fmt_clock(d->eta_ms, eta, sizeof(eta));
        else
                snprintf(eta, sizeof(eta), "--");
        snprintf(right, sizeof(right), "%selapsed %s  ETA %s ", status, el, eta);
        room = COLS - 2 - tui_text_width(right) - 1;
        /* the status on the right is never cut; the left gives way */
        snprintf(left, sizeof(left), "vps-provision %s  session %s", VPSP_VERSION, sid);
        if (tui_text_width(left) > room)
                snprintf(left, sizeof(left), "vps-provision  session %s", sid);
        if (tui_text_width(left) > room)
                snprintf(left, sizeof(left), "session %s", sid);
        tui_style_on(TP_TITLE, A_REVERSE);
        tui_fill(0, 0, COLS);
        tui_put(0, 1, room, left);
        tui_put(0, COLS - tui_text_width(right), tui_text_width(right), right);
        tui_style_off(TP_TITLE, A_REVERSE);
}

/* The phase rows from row y, at most h of them, so that phase `show` (or
 * the running one) is in view. Returns the rows used. */
static int draw_phases(struct dash *d, int y, int h, int show)
{
        int n = (int)d->n_phases, first = 0;
        int title_w = COLS >= 100 ? 40 : 30;
        int bar_w = COLS - 5 - title_w - 11 - 6 - 9;

        if (h > n)
                h = n;
        if (h <= 0)
                return 0;
        if (show < 0)
                show = d->cur_phase;
        if (show >= h - 1)
                first = show - h + 2 < n - h ? show - h + 2 : n - h;
        if (first < 0)
                first = 0;
        for (int r = 0; r < h; r++) {
                int i = first + r;
                struct ev_phase_info *p = &d->phases[i];
                enum tui_pair pair = p->state == PHASE_DONE || p->state == PHASE_SKIPPED ? TP_DONE
                                     : p->state == PHASE_RUNNING                        ? TP_RUN
                                     : p->state == PHASE_FAILED                         ? TP_FAIL
                                                                                        : TP_DIM;
                attr_t mono = p->state == PHASE_RUNNING || p->state == PHASE_FAILED ? A_BOLD : A_NORMAL;

                tui_style_on(pair, mono);
                tui_put(y + r, 1, 3, state_mark(p->state));
                tui_style_off(pair, mono);
                tui_put(y + r, 5, title_w, p->title);
                tui_style_on(pair, mono);
                tui_put(y + r, 5 + title_w + 1, 9, phase_state_name(p->state));
                tui_style_off(pair, mono);
                if (p->state != PHASE_DISABLED) {
                        bar(y + r, 5 + title_w + 11, bar_w, d->pfrac[i]);
                        tui_putf(y + r, 5 + title_w + 11 + bar_w, 6, " %4d%%", (int)(d->pfrac[i] * 100.0));
                }
                if (d->pdur[i] >= 0) {
                        char dur[32];
                        fmt_clock(d->pdur[i], dur, sizeof(dur));
                        tui_put(y + r, COLS - 7, 6, dur);
                }
        }
        return h;
}

/* Indexes of the ring lines the pane shows: all, or one action's. Lines
 * that only repeat `skip` (the failure's message, shown above them) are
 * left out. */
static size_t ring_select(struct dash *d, bool all, uint64_t action, const char *skip, size_t *idx)
{
        size_t n = 0, sl = skip ? strlen(skip) : 0;

        for (size_t k = 0; k < d->ring_n; k++) {
                const char *t = ring_at(d, k)->text;
                size_t tl = strlen(t);
                if (!all && ring_at(d, k)->action != action)
                        continue;
                if (sl && tl >= sl && strcmp(t + tl - sl, skip) == 0 && ring_at(d, k)->level >= LOG_ERROR)
                        continue;
                idx[n++] = k;
        }
        return n;
}

/* Lines idx[0..n) in rows top..bottom-1, *scroll lines up from the end
 * (clamped). */
static void draw_lines(struct dash *d, const size_t *idx, size_t n, int top, int bottom, int x, int w,
                       int *scroll)
{
        int h = bottom - top, skip;

        if (h <= 0)
                return;
        if (*scroll > (int)n - h)
                *scroll = (int)n - h > 0 ? (int)n - h : 0;
        skip = (int)n - h - *scroll;
        if (skip < 0)
                skip = 0;
        for (int k = skip, row = 0; k < (int)n && row < h; k++, row++) {
                struct logline *l = ring_at(d, idx[k]);
                bool err = l->level >= LOG_WARNING;
                if (err)
                        tui_style_on(TP_FAIL, A_BOLD);
                tui_put(top + row, x, w, l->text);
                if (err)
                        tui_style_off(TP_FAIL, A_BOLD);
        }
}

/* The log pane: a title line with the log file's path, then lines. */
static void draw_log_pane(struct dash *d, int top, int bottom, bool all, uint64_t action, const char *what)
{
        static size_t idx[LOG_RING];
        char path[512], title[1024];
        size_t n;

        tui_hline(top, 0, COLS);
        snprintf(title, sizeof(title), "%s", what);
        if (d->res->log_path[0]) {
                /* the path whole where it fits: a second session can tail -f it */
                char tag[600];
                int tw, used;
                fit_path(d->res->log_path, COLS - 4 - 7 - 12, path, sizeof(path));
                snprintf(tag, sizeof(tag), " log: %s ", path);
                tw = tui_text_width(tag);
                used = tui_put(top, 2, 1, " ");
                used += tui_put_cut(top, 3, COLS - 2 - tw - 6, title);
                tui_put(top, 2 + used, 1, " ");
                tui_put(top, COLS - 2 - tw, tw, tag);
        } else {
                int used = tui_put(top, 2, 1, " ");
                used += tui_put_cut(top, 3, COLS - 7, title);
                tui_put(top, 2 + used, 1, " ");
        }
        n = ring_select(d, all, action, NULL, idx);
        draw_lines(d, idx, n, top + 1, bottom, 1, COLS - 2, &d->scroll);
}

static void draw_footer(const char *text)
{
        title_bar(LINES - 1, text);
}

/* The run is in another process and this session only watches it. */
static bool watching(const struct dash *d)
{
        return d->src->control && !d->src->control(d->src->data);
}

/* The dashboard's footer: for a run elsewhere, D (and T when watching). */
static void run_footer(struct dash *d, const char *text)
{
        char f[256];

        if (watching(d))
                snprintf(f, sizeof(f), "WATCHING (another session has the keys)  T: take them  D: detach  L: log");
        else if (d->src->leave)
                snprintf(f, sizeof(f), "%s  D: detach", text);
        else
                snprintf(f, sizeof(f), "%s", text);
        draw_footer(f);
}

static void draw_dashboard(struct dash *d)
{
        int list_h, now_y, y;
        char what[512];

        draw_header(d);
        tui_put(1, 1, 8, "Overall");
        bar(1, 9, COLS - 9 - 7, d->overall);
        tui_putf(1, COLS - 6, 6, "%4d%%", (int)(d->overall * 100.0));

        /* the phase list gets what the log pane leaves */
        list_h = LINES - 2 - 1 - 1 - LOG_MIN_ROWS - 1;
        y = 2 + draw_phases(d, 2, list_h, -1);
        now_y = y;
        tui_putf(now_y, 1, COLS - 2, "Now: %s%s%s", d->action ? d->action : "starting", d->detail ? " - " : "",
                 d->detail ? d->detail : "");
        if (d->full_log)
                snprintf(what, sizeof(what), "Full log");
        else
                snprintf(what, sizeof(what), "Output of: %s", d->action ? d->action : "");
        draw_log_pane(d, now_y + 1, LINES - 1, d->full_log, d->action_id, what);
        if (d->scroll)
                run_footer(d, d->full_log ? "(scrolled back) End: newest  PgUp/PgDn: scroll  L: this action  Ctrl-C: cancel"
                                          : "(scrolled back) End: newest  PgUp/PgDn: scroll  L: full log  Ctrl-C: cancel");
        else
                run_footer(d, d->full_log ? "Up/Down PgUp/PgDn: scroll   L: current action only   Ctrl-C: cancel"
                                          : "Up/Down PgUp/PgDn: scroll   L: full log   Ctrl-C: cancel");
}

/* The failure dialog: the failed phase's row stays in view above it. */
static void draw_failure(struct dash *d)
{
        static const char *const items[] = {
                "R  Retry the phase",
                "B  Roll back: undo every change of this run (shows the list first)",
                "K  Keep the changes and exit (fix the cause, then --resume)",
        };
        static size_t idx[LOG_RING];
        struct event *p = d->prompt;
        int w = COLS, inner = w - 4, y, top, bottom, tail_rows, msg_rows, list_h;
        _cleanup_strv_ char **msg = tui_wrap(p->prompt.message, inner, 2);
        char path[512], head[256];
        size_t n;

        draw_header(d);
        tui_put(1, 1, 8, "Overall");
        bar(1, 9, COLS - 9 - 7, d->overall);
        tui_putf(1, COLS - 6, 6, "%4d%%", (int)(d->overall * 100.0));

        msg_rows = (int)strv_length(msg);
        if (msg_rows > 3)
                msg_rows = 3;
        /* phases: up to the failed one, leaving the dialog at least 14 rows */
        list_h = LINES - 2 - 1 - 14;
        if (list_h < 1)
                list_h = 1;
        y = 2 + draw_phases(d, 2, list_h, d->failed_phase);

        top = y;
        bottom = LINES - 2;        /* the box's last row */
        tui_style_on(TP_DIALOG, A_NORMAL);
        tui_box(top, 0, bottom - top + 1, w);
        tui_style_off(TP_DIALOG, A_NORMAL);
        tui_style_on(TP_FAIL, A_BOLD);
        tui_putf(top, 2, w - 4, " %s ", p->prompt.title ? p->prompt.title : "A phase failed");
        tui_style_off(TP_FAIL, A_BOLD);
        y = top + 1;
        for (int i = 0; i < msg_rows; i++)
                tui_put(y++, 2, inner, msg[i]);
        if (d->res->log_path[0]) {
                fit_path(d->res->log_path, inner - 5, path, sizeof(path));
                tui_putf(y++, 2, inner, "Log: %s", path);
        }
        /* the failing action's lines; the engine's own tail when the ring lost them */
        n = ring_select(d, false, d->failed_action, p->prompt.message, idx);
        tail_rows = bottom - 3 - 1 - (y + 1);
        if (n > 0 || p->prompt.tail) {
                snprintf(head, sizeof(head), "Last lines of its output%s:",
                         (int)n > tail_rows ? " (PgUp/PgDn: scroll)" : "");
                tui_put(y++, 2, inner, head);
                if (n > 0) {
                        draw_lines(d, idx, n, y, y + tail_rows, 4, inner - 2, &d->tail_scroll);
                } else {
                        size_t nt = strv_length(p->prompt.tail);
                        size_t t0 = nt > (size_t)tail_rows ? nt - (size_t)tail_rows : 0;
                        for (size_t i = t0, r = 0; i < nt; i++, r++)
                                tui_put(y + (int)r, 4, inner - 2, p->prompt.tail[i]);
                }
        }
        y = bottom - 3;
        for (int i = 0; i < 3; i++) {
                if (i == d->prompt_sel)
                        attron(A_REVERSE);
                tui_put(y, 2, inner, i == d->prompt_sel ? ">" : " ");
                tui_put(y, 4, inner - 2, items[i]);
                if (i == d->prompt_sel)
                        attroff(A_REVERSE);
                y++;
        }
        run_footer(d, "R B K or Up/Down+Enter: choose  PgUp/PgDn: its output  L: full log");
}

/* Before a rollback: what it will do (the prompt's message: how many
 * runs), then every undo it will make, newest first. */
static void draw_undo(struct dash *d)
{
        struct event *p = d->prompt;
        size_t n_undo = strv_length(p->prompt.undo);
        int w = COLS - 4 > 96 ? 96 : COLS - 4;
        int x = (COLS - w) / 2, inner = w - 4, list_h, h, y, msg_rows;
        _cleanup_strv_ char **msg = p->prompt.kind == PROMPT_CONFIRM_ROLLBACK ? tui_wrap(p->prompt.message, inner, 0)
                                                                             : NULL;
        char head[160];

        draw_header(d);
        msg_rows = (int)strv_length(msg);
        if (msg_rows > 5)
                msg_rows = 5;
        list_h = LINES - 4 - 8 - (msg_rows ? msg_rows + 1 : 0);
        if (list_h < 3)
                list_h = 3;
        if (list_h > (int)n_undo)
                list_h = n_undo ? (int)n_undo : 1;
        if (d->undo_scroll > (int)n_undo - list_h)
                d->undo_scroll = (int)n_undo - list_h > 0 ? (int)n_undo - list_h : 0;
        h = 2 + (msg_rows ? msg_rows + 1 : 0) + 1 + 1 + list_h + 1 + 1 + 1 + 1;
        y = (LINES - h) / 2;
        tui_style_on(TP_DIALOG, A_NORMAL);
        tui_box(y, x, h, w);
        tui_style_off(TP_DIALOG, A_NORMAL);
        tui_style_on(TP_FAIL, A_BOLD);
        tui_putf(y, x + 2, w - 4, " %s ",
                 p->prompt.kind == PROMPT_CONFIRM_ROLLBACK && p->prompt.title ? p->prompt.title : "Roll back");
        tui_style_off(TP_FAIL, A_BOLD);
        y += 2;
        for (int i = 0; i < msg_rows; i++)
                tui_put(y++, x + 2, inner, msg[i]);
        if (msg_rows)
                y++;
        snprintf(head, sizeof(head), "These %zu change%s will be undone, newest first%s:", n_undo,
                 n_undo == 1 ? "" : "s", (int)n_undo > list_h ? " (Up/Down: scroll)" : "");
        tui_put(y++, x + 2, inner, head);
        y++;
        if (!n_undo)
                tui_put(y, x + 4, inner - 2, "(nothing to undo)");
        for (int i = 0; i < list_h && d->undo_scroll + i < (int)n_undo; i++)
                tui_putf(y + i, x + 4, inner - 2, "%3d. %s", d->undo_scroll + i + 1, p->prompt.undo[d->undo_scroll + i]);
        y += list_h + 1;
        tui_put(y, x + 2, inner,
                p->prompt.kind == PROMPT_CONFIRM_ROLLBACK ? "Y  Yes, roll back      N  No, keep everything and exit"
                                                          : "Y  Yes, roll back      N  No, go back to the choices");
        draw_footer(p->prompt.kind == PROMPT_CONFIRM_ROLLBACK
                            ? "Y: roll back   N/Esc: keep everything and exit   Up/Down PgUp/PgDn: scroll"
                            : "Y: roll back   N/Esc: back to the choices   Up/Down PgUp/PgDn: scroll");
}

/* The whole log while a failure waits for its answer. */
static void draw_prompt_log(struct dash *d)
{
        draw_header(d);
        draw_log_pane(d, 1, LINES - 1, true, 0, "Full log");
        draw_footer(d->scroll ? "(scrolled back) End: newest  PgUp/PgDn: scroll  Esc/L: back  R B K: choose"
                              : "Up/Down PgUp/PgDn: scroll   Esc/L: back to the choices   R B K: choose now");
}

static void draw_ask_cancel(void)
{
        int w = COLS - 8 > 64 ? 64 : COLS - 8, h = 8;
        int x = (COLS - w) / 2, y = (LINES - h) / 2;
        _cleanup_strv_ char **v = tui_wrap("Cancel the run? The current step finishes first; the changes made so far "
                                           "are kept, and vps-provision --resume continues later (or --rollback "
                                           "undoes them).",
                                           w - 4, 0);

        tui_style_on(TP_DIALOG, A_NORMAL);
        tui_box(y, x, h, w);
        tui_style_off(TP_DIALOG, A_NORMAL);
        tui_put(y, x + 2, w - 4, " Cancel? ");
        for (size_t i = 0; v && v[i] && i < 3; i++)
                tui_put(y + 2 + (int)i, x + 2, w - 4, v[i]);
        tui_put(y + h - 2, x + 2, w - 4, "Y  Yes, cancel       N/Esc  No, keep going");
}

/* The login, once. It fits any terminal where its lines do; the password's
 * line is never cut (the screen asks for more room instead). */
static void draw_creds(struct dash *d)
{
        const struct event *c = d->creds;
        /* no password in the event: what is true of it instead (written
         * to a file, set from the answers' hash, unchanged) */
        _cleanup_free_ char *note = creds_password_note(c);
        const char *pw = note ? note : secret_str(c->credentials.password);
        int w = COLS - 4, y = 2;
        char line[512];

        d->creds_row = 0;
        if (LINES < 12 || (!note && 4 + 11 + tui_text_width(pw) > COLS)) {
                put_wrapped(0, 1, COLS - 2, LINES,
                            "The run has ended. Your login is shown here once the window is wide and tall "
                            "enough for it: please enlarge the window.");
                return;
        }
        title_bar(0, "Your login: save it now");
        y += put_wrapped(y, 2, w, 2,
                         d->res->exit_code == 0 ? "The workstation is ready."
                                                : "The run did not finish, but this account exists:");
        y += put_wrapped(y, 2, w, 2, "These are shown once, here only: they are not stored or logged anywhere.");
        if (LINES >= 16)
                y++;
        tui_putf(y++, 4, w - 2, "User:      %s", c->credentials.username);
        tui_put(y, 4, 11, "Password:");
        d->creds_row = y;
        d->creds_col = 15;
        tui_style_on(TP_RUN, A_BOLD);
        /* drawn straight from the locked buffer; no copy is made */
        tui_put(y++, 15, COLS - 16, pw);
        tui_style_off(TP_RUN, A_BOLD);
        if (c->credentials.rdp_localhost) {
                _cleanup_free_ char *t = answers_rdp_tunnel(c->credentials.rdp_port, c->credentials.ssh_port,
                                                            c->credentials.host);
                snprintf(line, sizeof(line), "Tunnel:    %s", t);
                tui_put(y++, 4, w - 2, line);
                snprintf(line, sizeof(line), "RDP:       localhost:3389  (through the tunnel above)");
        } else {
                snprintf(line, sizeof(line), "RDP:       %s:%u  (Remote Desktop client)", c->credentials.host,
                         c->credentials.rdp_port);
        }
        tui_put(y++, 4, w - 2, line);
        snprintf(line, sizeof(line), "SSH:       ssh -p %u %s@%s", c->credentials.ssh_port, c->credentials.username,
                 c->credentials.host);
        tui_put(y++, 4, w - 2, line);
        if (LINES >= 16)
                y++;
        if (!note)
                y += put_wrapped(y, 2, w, 2, "Write the password into your password manager now.");
        else if (c->credentials.password_to)
                y += put_wrapped(y, 2, w, 2, "Take the password from there into your password manager now.");
        if (d->creds_confirm) {
                tui_style_on(TP_FAIL, A_BOLD);
                y += put_wrapped(y + 1, 2, w, 3,
                                 "Saved it? The password is then wiped from this screen and from memory, "
                                 "and cannot be shown again.");
                tui_style_off(TP_FAIL, A_BOLD);
                draw_footer("Y: yes, I saved it: wipe it   N/Esc: not yet");
        } else {
                run_footer(d, "S: I have saved the password (asks once more before wiping it)");
        }
}

static void draw_end(struct dash *d)
{
        const struct event *ev = d->end;
        int y = 2, w = COLS - 4, bottom = LINES - 2;
        bool ok = ev->session_end.exit_code == 0;
        char t[128];

        snprintf(t, sizeof(t), "%s (exit code %d)", ok ? "Finished" : "Stopped", ev->session_end.exit_code);
        title_bar(0, t);
        tui_style_on(ok ? TP_DONE : TP_FAIL, A_BOLD);
        y += put_wrapped(y, 2, w, bottom - y, ev->session_end.message);
        tui_style_off(ok ? TP_DONE : TP_FAIL, A_BOLD);
        y++;
        for (size_t i = 0; ev->session_end.summary && ev->session_end.summary[i] && y < bottom; i++)
                y += put_wrapped(y, 4, w - 2, bottom - y, ev->session_end.summary[i]);
        if (d->res->log_path[0] && y + 1 < bottom) {
                char path[512];
                fit_path(d->res->log_path, w - 5, path, sizeof(path));
                tui_putf(++y, 2, w, "Log: %s", path);
                y++;
        }
        if (d->end_note && y + 1 < bottom)
                y += put_wrapped(y + 1, 2, w, bottom - y - 1, d->end_note) + 1;
        if (ev->session_end.settle_waiting && !d->ssh_confirmed && !watching(d))
                draw_footer("P: I have logged in on the new SSH port: close the old one   Enter: exit");
        else
                draw_footer(d->res->mode == MODE_PROVISION || d->res->mode == MODE_RESUME
                                    ? "Press Enter to exit (how to connect stays in the terminal)"
                                    : "Press Enter to exit");
}

static void redraw(struct dash *d)
{
        if (d->hangup) {
                /* nobody to draw for: the model still follows the run */
                d->dirty = false;
                d->last_draw = now_ms();
                return;
        }
        /* the keys went to another session: its dialog is not ours to answer */
        if (d->prompt && watching(d)) {
                event_free(d->prompt);
                d->prompt = NULL;
        }
        tui_style_set(TP_DIM, A_NORMAL);
        erase();
        if (d->state == ST_CREDS && COLS >= 40) {
                draw_creds(d);
        } else if (COLS < TUI_MIN_COLS || LINES < (d->state == ST_RUN ? TUI_MIN_ROWS : 12)) {
                d->creds_row = 0;
                draw_too_small(d);
        } else if (d->state == ST_END) {
                draw_end(d);
        } else if (d->prompt && d->prompt_log_view) {
                draw_prompt_log(d);
        } else if (d->prompt && d->prompt_undo_view) {
                draw_undo(d);
        } else if (d->prompt) {
                draw_failure(d);
        } else {
                draw_dashboard(d);
                if (d->ask_cancel)
                        draw_ask_cancel();
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
        d->src->send(d->src->data, a);
        event_free(d->prompt);
        d->prompt = NULL;
        d->prompt_log_view = d->prompt_undo_view = false;
        if (c == CHOICE_RETRY) {
                d->failed_phase = -1;
                d->failed_action = 0;
        }
}

static void request_cancel(struct dash *d)
{
        if (!d->cancelling) {
                d->src->send(d->src->data, event_new(EV_CANCEL));
                d->cancelling = true;
        }
}

/* Up/Down/PgUp/PgDn/End on a scroll offset counted up from the end. */
static bool scroll_key(int k, int *scroll)
{
        switch (k) {
        case KEY_UP: (*scroll)++; return true;
        case KEY_DOWN: *scroll = *scroll > 0 ? *scroll - 1 : 0; return true;
        case KEY_PPAGE: *scroll += LINES / 2; return true;
        case KEY_NPAGE: *scroll = *scroll > LINES / 2 ? *scroll - LINES / 2 : 0; return true;
        case KEY_END: *scroll = 0; return true;
        }
        return false;
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
        if (d->prompt_log_view) {
                if (k == 27 || k == 'l' || k == 'L' || k == 'q' || k == 'Q') {
                        d->prompt_log_view = false;
                        d->scroll = 0;
                        return;
                }
                if (scroll_key(k, &d->scroll))
                        return;
        }
        switch (k) {
        case KEY_UP: case KEY_BTAB: d->prompt_sel = (d->prompt_sel + 2) % 3; break;
        case KEY_DOWN: case '\t': d->prompt_sel = (d->prompt_sel + 1) % 3; break;
        case KEY_PPAGE: d->tail_scroll += 5; break;
        case KEY_NPAGE: d->tail_scroll = d->tail_scroll > 5 ? d->tail_scroll - 5 : 0; break;
        case 'l': case 'L':
                d->prompt_log_view = true;
                d->scroll = 0;
                break;
        case 'r': case 'R': answer(d, CHOICE_RETRY); break;
        case 'b': case 'B': d->prompt_undo_view = true; d->prompt_log_view = false; d->undo_scroll = 0; break;
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
                move(d->creds_row, d->creds_col);
                for (int x = d->creds_col; x < COLS - 1; x++)
                        addch('.');
                refresh();
                move(d->creds_row, d->creds_col);
                clrtoeol();
                tui_put(d->creds_row, d->creds_col, COLS - d->creds_col - 1, "(wiped)");
                refresh();
        }
        d->creds_row = 0;
        event_free(d->creds);   /* wipes the password */
        d->creds = NULL;
}

/* D: leave the run going; the source says goodbye to it. */
static void leave(struct dash *d)
{
        d->src->leave(d->src->data);
        d->res->detached = true;
        d->quit = true;
}

static void on_key(struct dash *d, int k)
{
        /* a run elsewhere: D leaves it going wherever the dashboard is, except
         * while "saved it?" waits for Y or N */
        if (d->src->leave && (k == 'd' || k == 'D') && !d->creds_confirm && !d->ask_cancel) {
                leave(d);
                return;
        }
        if (d->src->take && (k == 't' || k == 'T') && watching(d)) {
                d->src->take(d->src->data);
                d->dirty = true;
                return;
        }
        if (k == 3 && watching(d) && d->state == ST_RUN) {
                leave(d);   /* nothing to cancel from here */
                return;
        }
        if (k == KEY_RESIZE) {
                tui_screen_resize();
                d->dirty = true;
                return;
        }
        if (k == 12) {          /* Ctrl-L: paint every cell again */
                clearok(curscr, TRUE);
                d->dirty = true;
                return;
        }
        switch (d->state) {
        case ST_CREDS:
                if (!d->creds_confirm && (k == 's' || k == 'S')) {
                        d->creds_confirm = true;
                } else if (d->creds_confirm && (k == 'y' || k == 'Y')) {
                        wipe_creds(d);
                        /* the run's process may forget it too */
                        d->src->send(d->src->data, event_new(EV_CREDENTIALS_SAVED));
                        d->creds_confirm = false;
                        d->state = ST_END;
                } else if (d->creds_confirm && (k == 'n' || k == 'N' || k == 27)) {
                        d->creds_confirm = false;
                }
                break;
        case ST_END:
                if (k == '\n' || k == '\r' || k == KEY_ENTER || k == 'q' || k == 'Q' || k == 3)
                        d->quit = true;
                else if ((k == 'p' || k == 'P') && d->end && d->end->session_end.settle_waiting &&
                         !d->ssh_confirmed && !watching(d)) {
                        /* the run's process closes the old SSH port now */
                        d->src->send(d->src->data, event_new(EV_SSH_PORT_CONFIRMED));
                        d->ssh_confirmed = true;
                        {
                                static const char msg[] = "Confirmed: the old SSH port is being closed "
                                                          "now (the log says when it is).";
                                char *n = d->end_note ? xasprintf("%s %s", d->end_note, msg) : xstrdup(msg);
                                free(d->end_note);
                                d->end_note = n;
                        }
                        d->dirty = true;
                }
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
                        default: (void)scroll_key(k, &d->scroll); break;
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
                case SIGWINCH:
                        tui_screen_resize();
                        d->dirty = true;
                        break;
                case SIGHUP:
                        /* the terminal is gone: nobody can answer any more */
                        d->src->detach(d->src->data);
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

int tui_dashboard_run(const struct tui_source *src, int sfd, tui_end_hook hook, void *userdata,
                      struct tui_dashboard_result *ret)
{
        struct dash *d;

        if (!tui_screen_is_open())
                return -ENOTTY;
        d = xcalloc(1, sizeof(*d));
        *ret = (struct tui_dashboard_result){ .exit_code = EXIT_INTERNAL };
        d->src = src;
        d->sfd = sfd;
        d->hook = hook;
        d->hook_data = userdata;
        d->res = ret;
        d->eta_ms = -1;
        d->cur_phase = -1;
        d->failed_phase = -1;
        d->dirty = true;
        curs_set(0);
        flushinp();

        bool backlog = false;   /* the last slice stopped with events left */
        while (!d->quit) {
                struct pollfd p[3] = {
                        { .fd = STDIN_FILENO, .events = POLLIN },
                        { .fd = sfd, .events = POLLIN },
                        { .fd = d->end ? -1 : src->fd(src->data), .events = POLLIN },
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
                                /* events wait for the frame (a backlog
                                 * goes on draining, slice by slice) */
                                if (!backlog)
                                        p[2].fd = -1;
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
                        src->detach(src->data);
                        d->hangup = ret->hangup = true;
                        if (d->state != ST_RUN)
                                d->quit = true;
                }
                if (p[1].revents & POLLIN)
                        on_signal(d);
                while (!d->hangup && (k = getch()) != ERR)
                        on_key(d, k);
                while (!d->end && n++ < EVENTS_PER_SLICE && (ev = src->pop(src->data)))
                        handle_event(d, ev);
                backlog = n > EVENTS_PER_SLICE;
                if (!d->end && n <= EVENTS_PER_SLICE && src->closed(src->data)) {
                        /* closed without a session end: should not happen, but do not spin */
                        if ((ev = src->pop(src->data)))
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
        for (size_t k = 0; k < d->ring_n; k++)
                free(ring_at(d, k)->text);
        event_free(d->prompt);
        event_free(d->end);
        free(d->end_note);
        free(d->action);
        free(d->detail);
        free_phases(d);
        free(d);
        return 0;
}
