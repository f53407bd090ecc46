/* wizard.c — the wizard: welcome (with the preflight facts), account, IDEs,
 * ports, options, review. See tui.h.
 *
 * DESIGN: the pages and their fields are built once; what a person types
 * or ticks lives in the fields until the wizard ends, so Back, a resize
 * and a redraw never lose it. The screen is drawn whole from that model
 * after every key, signal or resize (draw.h): a window that grows with the
 * terminal, the page's content in it (scrolled so the focused field shows,
 * with an indicator when there is more), a message line, the buttons and a
 * footer that lists only the keys that work on that page.
 *
 * Entries are checked as they are left — Tab, the arrows and Enter — with
 * answers_set(), the very code that checks an answers file, so both say
 * the same words; a bad value keeps the focus on its field and the message
 * names the rule. Next checks every field again. An entry that gets the
 * focus has its text selected: the first character typed replaces it (the
 * arrows, Home and End keep it and move the cursor). Enter moves to the
 * next field, and on the page's last field (or a check box) goes on to
 * the next page. Esc goes back a page (on the first it asks to leave) and
 * closes a dialog.
 *
 * Keys typed ahead when the next page opens are dropped (flushinp()), so a
 * key pressed twice by accident never acts on the next page (the tests
 * wait for each page before typing); going back they are kept, so that a
 * quick Esc Esc Enter over a slow connection is two pages back and Enter. */
#include "tui.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>
#include <wchar.h>

#include "draw.h"
#include "ide_catalog.h"
#include "review.h"
#include "util.h"

#define WIN_MAX_W 104          /* the window grows with the terminal up to this width */
#define LABEL_W 16             /* "Username:" column, then the entry */
#define MAX_FIELDS 8
#define DRAFT_MAX 256

enum nav { NAV_NONE, NAV_NEXT, NAV_BACK, NAV_CANCEL, NAV_REFUSED, NAV_HANGUP };

enum page_id { P_WELCOME, P_USER, P_IDES, P_PORTS, P_OPTIONS, P_REVIEW, _P_MAX };

static const char *const page_titles[_P_MAX] = {
        "Welcome", "Developer account", "IDEs", "Ports", "Options", "Review",
};

enum field_kind { F_ENTRY, F_CHECK };

struct field {
        enum field_kind kind;
        const char *section, *key;     /* the answers key it sets (NULL: an IDE box) */
        const char *label;             /* "Username", "Visual Studio Code" */
        char *help;                    /* shown under it; may be NULL */
        int width;                     /* entry: at most this many columns */
        char text[DRAFT_MAX];          /* entry: what is typed */
        size_t cur, hscroll;           /* entry: cursor, first byte shown */
        bool selected;                 /* entry: typing replaces the text */
        bool on;                       /* check box */
        int ide;                       /* IDE box: its entry in the catalog, else -1 */
        const char *on_value, *off_value; /* check box of a choice key: its two values
                                             (NULL: a yes/no key) */
};

enum button { B_NEXT, B_BACK, B_CANCEL, _B_MAX };

struct page {
        struct field f[MAX_FIELDS];
        size_t n_f;
        const char *intro;             /* text above the fields; may be NULL */
        int focus;                     /* 0..n_f-1 a field, then n_f + enum button */
        int scroll;                    /* first content row shown */
        char err[512];                 /* the message line */
        bool err_warning;              /* a warning (drawn, but not blocking) */
};

/* One row of a page's content, as laid out for the current width. */
enum row_kind { R_TEXT, R_ENTRY, R_CHECK, R_HELP };
struct row {
        enum row_kind kind;
        int field;                     /* -1 for plain text */
        int indent;
        enum review_style style;
        char *text;
};

struct wiz {
        struct answers *a;
        const struct tui_wizard_opts *o;
        struct ide_catalog cat;        /* the IDE page lists its entries */
        bool cat_ok;
        char cat_err[1024];
        char ide_intro[256];
        struct page pages[_P_MAX];
        enum page_id id;
        bool dialog;                   /* the leave dialog is up */
        int dialog_sel;                /* 0 = leave, 1 = stay */
        bool dirty;
};

/* ---- the model ---------------------------------------------------------- */

static const char *key_summary(const char *section, const char *key)
{
        const struct answers_key *k = answers_key_find(section, key);
        return k ? k->summary : "";
}

static void get_answer(struct wiz *w, const char *section, const char *key, char *buf, size_t size)
{
        if (answers_get(w->a, section, key, buf, size) < 0)
                buf[0] = '\0';
}

static bool get_bool(struct wiz *w, const char *section, const char *key)
{
        char v[16];
        bool on = false;

        get_answer(w, section, key, v, sizeof(v));
        (void)parse_bool(v, &on);
        return on;
}

static struct field *add_entry(struct wiz *w, struct page *pg, const char *label, const char *section,
                               const char *key, int width)
{
        struct field *f = &pg->f[pg->n_f++];

        f->kind = F_ENTRY;
        f->section = section;
        f->key = key;
        f->label = label;
        f->help = xstrdup(key_summary(section, key));
        f->width = width;
        f->ide = -1;
        get_answer(w, section, key, f->text, sizeof(f->text));
        f->cur = strlen(f->text);
        return f;
}

static struct field *add_check(struct page *pg, const char *label, bool on, const char *help)
{
        struct field *f = &pg->f[pg->n_f++];

        f->kind = F_CHECK;
        f->label = label;
        f->help = help ? xstrdup(help) : NULL;
        f->on = on;
        f->ide = -1;
        return f;
}

static struct field *add_bool(struct wiz *w, struct page *pg, const char *label, const char *section,
                              const char *key)
{
        struct field *f = add_check(pg, label, get_bool(w, section, key), key_summary(section, key));

        f->section = section;
        f->key = key;
        return f;
}

static const struct {
        const char *section, *key, *title;
} option_keys[] = {
        { "network", "firewall", "Firewall" },
        { "security", "hardening", "SSH hardening" },
        { "security", "fail2ban", "fail2ban" },
        { "system", "upgrade", "Upgrade the system first" },
        { "user", "copy_root_ssh_keys", "Root's SSH keys for the account" },
        { "user", "sudo_password", "sudo asks for the password" },
};

static void build_pages(struct wiz *w)
{
        struct page *pg;

        pg = &w->pages[P_USER];
        pg->intro = "The account people log in with over Remote Desktop and SSH. It gets sudo; "
                    "its password is generated and shown once at the end.";
        add_entry(w, pg, "Username", "user", "username", 32);
        add_entry(w, pg, "Full name", "user", "full_name", 40);
        add_bool(w, pg, "Layout-safe password (letters only)", "user", "layout_safe_password");

        /* the IDE catalog's entries, as many as the page holds */
        pg = &w->pages[P_IDES];
        if (!w->cat_ok)
                pg->intro = w->cat_err;
        else if (w->cat.n_entries > MAX_FIELDS) {
                snprintf(w->ide_intro, sizeof(w->ide_intro), "Which IDEs to install (Space ticks). "
                         "The IDE catalog lists %zu more: name them in an answers file.",
                         w->cat.n_entries - MAX_FIELDS);
                pg->intro = w->ide_intro;
        } else
                pg->intro = "Which IDEs to install for the developer (Space ticks). Each costs download "
                            "time and a few hundred MB of disk; none is fine too.";
        for (size_t i = 0; w->cat_ok && i < w->cat.n_entries && i < MAX_FIELDS; i++) {
                const struct ide_entry *e = &w->cat.entries[i];

                add_check(pg, e->display_name, answers_ide_wanted(w->a, e->id),
                          e->description[0] ? e->description : NULL)->ide = (int)i;
        }

        pg = &w->pages[P_PORTS];
        pg->intro = "The ports people connect on. The firewall (next page) opens exactly these. "
                    "They must differ, and neither may be xrdp-sesman's own 3350. A new SSH port: "
                    "the old one stays open until a login on the new one is seen.";
        add_entry(w, pg, "RDP port", "network", "rdp_port", 6);
        add_entry(w, pg, "SSH port", "network", "ssh_port", 6);
        {
                char v[32] = "";
                struct field *f;

                get_answer(w, "network", "rdp_listen", v, sizeof(v));
                f = add_check(pg, "RDP only through an SSH tunnel (rdp_listen = localhost)",
                              strcmp(v, "localhost") == 0,
                              "xrdp listens on 127.0.0.1 only and the firewall keeps the RDP port "
                              "closed; the end shows the ssh -L command to reach it.");
                f->section = "network";
                f->key = "rdp_listen";
                f->on_value = "localhost";
                f->off_value = "all";
        }

        pg = &w->pages[P_OPTIONS];
        for (size_t i = 0; i < ELEMENTSOF(option_keys); i++)
                add_bool(w, pg, option_keys[i].title, option_keys[i].section, option_keys[i].key);
}

static void free_pages(struct wiz *w)
{
        for (int p = 0; p < _P_MAX; p++)
                for (size_t i = 0; i < w->pages[p].n_f; i++)
                        free(w->pages[p].f[i].help);
}

static struct page *cur_page(struct wiz *w)
{
        return &w->pages[w->id];
}

static bool has_back(struct wiz *w)
{
        return w->id != P_WELCOME;
}

static bool has_next(struct wiz *w)
{
        return !(w->id == P_WELCOME && w->o->refused);
}

/* The focus order: the fields, then Next, Back, Cancel (those present). */
static bool focusable(struct wiz *w, int i)
{
        struct page *pg = cur_page(w);

        if (i < (int)pg->n_f)
                return true;
        switch (i - (int)pg->n_f) {
        case B_NEXT: return has_next(w);
        case B_BACK: return has_back(w);
        case B_CANCEL: return true;
        }
        return false;
}

static struct field *focused_field(struct wiz *w)
{
        struct page *pg = cur_page(w);

        return pg->focus < (int)pg->n_f ? &pg->f[pg->focus] : NULL;
}

static void set_focus(struct wiz *w, int i)
{
        struct page *pg = cur_page(w);

        pg->focus = i;
        if (i < (int)pg->n_f && pg->f[i].kind == F_ENTRY) {
                struct field *f = &pg->f[i];
                f->selected = f->text[0] != '\0';
                f->cur = strlen(f->text);
                f->hscroll = 0;
        }
}

static void set_error(struct page *pg, bool warning, const char *label, const char *msg)
{
        if (!msg || !msg[0])
                pg->err[0] = '\0';
        else if (label && label[0])
                snprintf(pg->err, sizeof(pg->err), "%s: %s", label, msg);
        else
                snprintf(pg->err, sizeof(pg->err), "%s", msg);
        pg->err_warning = warning;
}

/* Checks and stores one entry; on a bad value shows the rule. A port some
 * other program listens on is refused here (an answers file cannot know
 * which machine it meets; the wizard can). */
static bool check_field(struct wiz *w, struct page *pg, struct field *f)
{
        char err[512] = "";

        if (!f || f->kind != F_ENTRY)
                return true;
        if (answers_set(w->a, f->section, f->key, f->text, err, sizeof(err)) < 0) {
                set_error(pg, false, f->label, err);
                return false;
        }
        if (w->id == P_PORTS) {
                struct answers_errors errs = { 0 };
                if (answers_check(w->a, &errs) < 0 && errs.n > 0) {
                        set_error(pg, false, f->label, errs.v[0].message);
                        answers_errors_release(&errs);
                        return false;
                }
                answers_errors_release(&errs);
                if (review_port_conflict(w->o->facts, w->a, f->key, err, sizeof(err))) {
                        set_error(pg, false, f->label, err);
                        return false;
                }
        }
        set_error(pg, false, NULL, NULL);
        return true;
}

static bool check_all(struct wiz *w)
{
        struct page *pg = cur_page(w);

        for (size_t i = 0; i < pg->n_f; i++) {
                if (!check_field(w, pg, &pg->f[i])) {
                        set_focus(w, (int)i);
                        return false;
                }
        }
        return true;
}

/* Check boxes go into the answers when their page is left. */
static void store_checks(struct wiz *w)
{
        struct page *pg = cur_page(w);
        char list[ANSWERS_IDES_MAX] = "", err[256];
        bool any_ide = false;

        for (size_t i = 0; i < pg->n_f; i++) {
                struct field *f = &pg->f[i];
                if (f->kind != F_CHECK)
                        continue;
                if (f->ide >= 0) {
                        any_ide = true;
                        if (!f->on)
                                continue;
                        if (list[0])
                                strncat(list, ", ", sizeof(list) - strlen(list) - 1);
                        strncat(list, w->cat.entries[f->ide].id, sizeof(list) - strlen(list) - 1);
                } else if (f->key) {
                        const char *val = f->on ? (f->on_value ? f->on_value : "yes")
                                                : (f->off_value ? f->off_value : "no");
                        (void)answers_set(w->a, f->section, f->key, val, err, sizeof(err));
                }
        }
        if (!any_ide)
                return;
        /* the IDEs already chosen that the page has no box for (a catalog
         * longer than the page, named in an answers file) stay chosen */
        {
                _cleanup_strv_ char **ids = answers_ide_list(w->a);

                for (size_t i = 0; ids && ids[i]; i++) {
                        bool shown = false;

                        for (size_t j = 0; j < pg->n_f && !shown; j++)
                                shown = pg->f[j].ide >= 0 &&
                                        strcmp(w->cat.entries[pg->f[j].ide].id, ids[i]) == 0;
                        if (shown)
                                continue;
                        if (list[0])
                                strncat(list, ", ", sizeof(list) - strlen(list) - 1);
                        strncat(list, ids[i], sizeof(list) - strlen(list) - 1);
                }
        }
        (void)answers_set(w->a, "ides", "install", list[0] ? list : "none", err, sizeof(err));
}

/* Moves focus by dir (+1/-1) after checking the field being left. */
static void move_focus(struct wiz *w, int dir)
{
        struct page *pg = cur_page(w);
        int n = (int)pg->n_f + _B_MAX, i = pg->focus;

        if (!check_field(w, pg, focused_field(w)))
                return;
        do
                i = (i + n + dir) % n;
        while (!focusable(w, i));
        set_focus(w, i);
}

/* Shows page id. Going forward, keys typed ahead are dropped (a second
 * Enter pressed by accident must not act on the next page); going back
 * they are kept, so Esc Esc Enter is two pages back and then Enter. */
static void enter_page(struct wiz *w, enum page_id id, bool forward)
{
        struct page *pg;

        w->id = id;
        pg = cur_page(w);
        pg->scroll = 0;
        set_error(pg, false, NULL, NULL);
        set_focus(w, pg->n_f ? 0 : (int)pg->n_f + (has_next(w) ? B_NEXT : B_CANCEL));
        if (forward)
                flushinp();
}

/* ---- entry editing ------------------------------------------------------ */

static bool utf8_mode(void)
{
        const struct tui_caps *c = tui_screen_caps();
        return c && c->utf8;
}

static size_t prev_char(const char *s, size_t i)
{
        if (i == 0)
                return 0;
        i--;
        while (i > 0 && utf8_mode() && ((unsigned char)s[i] & 0xc0) == 0x80)
                i--;
        return i;
}

static size_t next_char(const char *s, size_t i)
{
        size_t n = strlen(s);

        if (i >= n)
                return n;
        i++;
        while (i < n && utf8_mode() && ((unsigned char)s[i] & 0xc0) == 0x80)
                i++;
        return i;
}

static void entry_delete(struct field *f, size_t from, size_t to)
{
        size_t n = strlen(f->text);

        if (to > n)
                to = n;
        if (from >= to)
                return;
        memmove(f->text + from, f->text + to, n - to + 1);
        f->cur = from;
}

static void entry_insert(struct field *f, wint_t wc)
{
        char mb[MB_LEN_MAX];
        mbstate_t st = { 0 };
        size_t n, len;

        if (wc < 0x20 || wc == 0x7f)
                return;
        if (utf8_mode()) {
                n = wcrtomb(mb, (wchar_t)wc, &st);
                if (n == (size_t)-1)
                        return;
        } else {
                if (wc > 0xff)
                        return;
                mb[0] = (char)wc;
                n = 1;
        }
        if (f->selected) {
                f->text[0] = '\0';
                f->cur = 0;
                f->selected = false;
        }
        len = strlen(f->text);
        if (len + n >= sizeof(f->text))
                return;
        memmove(f->text + f->cur + n, f->text + f->cur, len - f->cur + 1);
        memcpy(f->text + f->cur, mb, n);
        f->cur += n;
}

/* An editing key on an entry; false when it is not one. */
static bool entry_key(struct field *f, int code, wint_t wc, bool is_key)
{
        bool sel = f->selected;

        f->selected = false;
        if (!is_key && wc >= 0x20 && wc != 0x7f) {
                f->selected = sel;
                entry_insert(f, wc);
                return true;
        }
        switch (is_key ? code : (int)wc) {
        case KEY_LEFT: f->cur = prev_char(f->text, f->cur); return true;
        case KEY_RIGHT: f->cur = next_char(f->text, f->cur); return true;
        case KEY_HOME: case 1 /* Ctrl-A */: f->cur = 0; return true;
        case KEY_END: case 5 /* Ctrl-E */: f->cur = strlen(f->text); return true;
        case KEY_BACKSPACE: case 127: case 8:
                if (sel)
                        entry_delete(f, 0, strlen(f->text));
                else
                        entry_delete(f, prev_char(f->text, f->cur), f->cur);
                return true;
        case KEY_DC: case 4 /* Ctrl-D */:
                if (sel)
                        entry_delete(f, 0, strlen(f->text));
                else
                        entry_delete(f, f->cur, next_char(f->text, f->cur));
                return true;
        case 21 /* Ctrl-U: clear the field */:
                entry_delete(f, 0, strlen(f->text));
                return true;
        case 11 /* Ctrl-K: to the end */:
                entry_delete(f, f->cur, strlen(f->text));
                return true;
        }
        f->selected = sel;
        return false;
}

/* ---- the text of the pages ---------------------------------------------- */

static char *welcome_text(struct wiz *w)
{
        const struct vps_info *v = w->o->vps;
        struct buf b;
        size_t passed = 0;

        buf_init(&b, 64 * 1024);
        if (w->o->refused)
                (void)buf_printf(&b, "This server cannot be set up: it does not meet the requirements marked "
                                     "FAIL below. Nothing was changed. Fix what they say and run "
                                     "vps-provision again.\n\n");
        else
                (void)buf_printf(&b,
                                 "This turns this server into a remote developer workstation: XFCE over "
                                 "Remote Desktop (xrdp), a developer account with sudo, the IDEs you choose, "
                                 "a firewall and SSH hardening, each change recorded with its undo. Nothing "
                                 "changes until you press Start on the review page.\n\n");
        if (v)
                (void)buf_printf(&b, "This server: %s, %s %s%s%s%s %s\n  %d CPU%s, %lld MiB RAM, %.1f GiB disk "
                                 "free, address %s\n",
                                 v->hostname[0] ? v->hostname : "unnamed", v->os_name[0] ? v->os_name : "unknown OS",
                                 v->os_version, v->os_codename[0] ? " (" : "", v->os_codename,
                                 v->os_codename[0] ? ")" : "", v->architecture, v->cpu_cores,
                                 v->cpu_cores == 1 ? "" : "s", (long long)v->ram_mb, v->disk_available_gb,
                                 v->ip_address[0] ? v->ip_address : "unknown");
        if (w->o->checks) {
                /* what needs reading (failures, warnings) in full; the rest in one line */
                for (size_t i = 0; i < w->o->checks->n; i++) {
                        const struct check *c = &w->o->checks->v[i];
                        if (c->status == CHECK_PASS) {
                                passed++;
                                continue;
                        }
                        (void)buf_printf(&b, "%s %s: %s\n", c->status == CHECK_WARN ? "WARN" : "FAIL", c->name,
                                         c->message);
                        if (c->fix)
                                (void)buf_printf(&b, "     -> %s\n", c->fix);
                }
                if (passed) {
                        (void)buf_printf(&b, "Checks passed:");
                        for (size_t i = 0, k = 0; i < w->o->checks->n; i++) {
                                const struct check *c = &w->o->checks->v[i];
                                if (c->status == CHECK_PASS)
                                        (void)buf_printf(&b, "%s %s", k++ ? "," : "", c->name);
                        }
                        (void)buf_printf(&b, ".\n");
                }
        }
        return buf_steal(&b);
}

/* ---- layout ------------------------------------------------------------- */

struct layout {
        int x, y, w, h;                /* the window, border included */
        int cx, cw;                    /* content column and width */
        int top, rows;                 /* content rows */
        int msg_y, btn_y;
};

static void layout(struct layout *l)
{
        l->w = COLS - 6 > WIN_MAX_W ? WIN_MAX_W : COLS - 6;
        l->h = LINES - 3;
        l->x = (COLS - l->w) / 2;
        l->y = 1;
        l->cx = l->x + 3;
        l->cw = l->w - 6;
        l->top = l->y + 1;
        l->rows = l->h - 6;
        l->msg_y = l->y + l->h - 5;
        l->btn_y = l->y + l->h - 2;
}

static void push_row(struct row **v, size_t *n, enum row_kind kind, int field, int indent,
                     enum review_style style, const char *text)
{
        *v = xrealloc(*v, (*n + 1) * sizeof(**v));
        (*v)[(*n)++] = (struct row){ .kind = kind, .field = field, .indent = indent, .style = style,
                                     .text = xstrdup(text ? text : "") };
}

static void push_text(struct row **v, size_t *n, int field, int indent, int width, int hang,
                      enum review_style style, enum row_kind kind, const char *text)
{
        _cleanup_strv_ char **lines = tui_wrap(text, width - indent, hang);

        for (size_t i = 0; lines && lines[i]; i++)
                push_row(v, n, kind, field, indent, style, lines[i]);
}

/* The page's content as rows for content width cw. */
static struct row *page_rows(struct wiz *w, int cw, size_t *ret_n)
{
        struct page *pg = cur_page(w);
        struct row *v = NULL;
        size_t n = 0;

        if (w->id == P_WELCOME) {
                _cleanup_free_ char *t = welcome_text(w);
                push_text(&v, &n, -1, 0, cw, 0, RS_NORMAL, R_TEXT, t);
        } else if (w->id == P_REVIEW) {
                struct review_line *lines = NULL;
                size_t nl = review_build(w->a, w->o->facts, w->o->phases, w->o->n_phases, &lines);
                for (size_t i = 0; i < nl; i++)
                        push_text(&v, &n, -1, lines[i].indent, cw, lines[i].hang, lines[i].style, R_TEXT,
                                  lines[i].text);
                review_lines_free(lines, nl);
        }
        if (pg->intro) {
                push_text(&v, &n, -1, 0, cw, 0, RS_NORMAL, R_TEXT, pg->intro);
                push_row(&v, &n, R_TEXT, -1, 0, RS_NORMAL, "");
        }
        for (size_t i = 0; i < pg->n_f; i++) {
                struct field *f = &pg->f[i];
                if (f->kind == F_ENTRY) {
                        push_row(&v, &n, R_ENTRY, (int)i, 0, RS_NORMAL, f->label);
                        if (f->help)
                                push_text(&v, &n, (int)i, LABEL_W, cw, 0, RS_NORMAL, R_HELP, f->help);
                } else {
                        push_row(&v, &n, R_CHECK, (int)i, 0, RS_NORMAL, f->label);
                        if (f->help)
                                push_text(&v, &n, (int)i, 4, cw, 0, RS_NORMAL, R_HELP, f->help);
                }
                if (i + 1 < pg->n_f && (w->id != P_OPTIONS || cw >= 90))
                        push_row(&v, &n, R_TEXT, -1, 0, RS_NORMAL, "");
        }
        *ret_n = n;
        return v;
}

static void free_rows(struct row *v, size_t n)
{
        for (size_t i = 0; i < n; i++)
                free(v[i].text);
        free(v);
}

/* ---- drawing ------------------------------------------------------------ */

static void window_style(void)
{
        tui_style_set(TP_WINDOW, A_NORMAL);
}

/* The entry at (y, x), w columns; returns the cursor's column. */
static int draw_entry(struct field *f, bool focused, int y, int x, int w)
{
        int cursor_x;

        if (w > f->width)
                w = f->width;
        /* keep the cursor inside: scroll the text sideways */
        if (f->cur < f->hscroll)
                f->hscroll = f->cur;
        for (;;) {
                _cleanup_free_ char *part = xstrndup(f->text + f->hscroll, f->cur - f->hscroll);
                if (tui_text_width(part) < w || f->hscroll >= f->cur)
                        break;
                f->hscroll = next_char(f->text, f->hscroll);
        }
        tui_style_on(TP_ENTRY, A_UNDERLINE);
        move(y, x);
        for (int i = 0; i < w; i++)
                addch('_');
        tui_style_off(TP_ENTRY, A_UNDERLINE);
        if (focused && f->selected)
                tui_style_on(TP_SELECTED, A_REVERSE);
        else
                tui_style_on(TP_ENTRY, A_UNDERLINE);
        tui_put(y, x, w, f->text + f->hscroll);
        if (focused && f->selected)
                tui_style_off(TP_SELECTED, A_REVERSE);
        else
                tui_style_off(TP_ENTRY, A_UNDERLINE);
        {
                _cleanup_free_ char *part = xstrndup(f->text + f->hscroll, f->cur - f->hscroll);
                cursor_x = x + tui_text_width(part);
        }
        window_style();
        return cursor_x;
}

static void draw_button(int y, int x, const char *text, bool focused)
{
        char b[32];

        snprintf(b, sizeof(b), "< %s >", text);
        if (focused)
                tui_style_on(TP_FOCUS, A_REVERSE);
        tui_put(y, x, (int)strlen(b), b);
        if (focused)
                tui_style_off(TP_FOCUS, A_REVERSE);
}

static void draw_footer(struct wiz *w, bool scrollable)
{
        struct page *pg = cur_page(w);
        bool entries = false, checks = false;
        const char *items[8];
        /* dropped in this order while the line is wider than the terminal
         * (the keys every page has first; Ctrl-C stays) */
        static const char *const spare[] = { "Tab: move", "Ctrl-U: clear" };
        char t[256];
        size_t n_items = 0, n, width = 0;

        for (size_t i = 0; i < pg->n_f; i++) {
                if (pg->f[i].kind == F_ENTRY)
                        entries = true;
                else
                        checks = true;
        }
        items[n_items++] = "Tab: move";
        items[n_items++] = w->id == P_REVIEW ? "Enter: start" : "Enter: next";
        if (entries)
                items[n_items++] = "Ctrl-U: clear";
        if (checks)
                items[n_items++] = "Space: tick";
        if (scrollable)
                items[n_items++] = "PgUp/PgDn: scroll";
        items[n_items++] = has_back(w) ? "Esc: back" : "Esc: leave";
        items[n_items++] = "Ctrl-C: cancel";
        for (size_t i = 0; i < n_items; i++)
                width += 2 + strlen(items[i]);
        for (size_t s = 0; s < ELEMENTSOF(spare) && COLS > 0 && width > (size_t)COLS; s++)
                for (size_t i = 0; i < n_items; i++)
                        if (items[i] && strcmp(items[i], spare[s]) == 0) {
                                width -= 2 + strlen(items[i]);
                                items[i] = NULL;
                        }
        t[0] = '\0';
        n = 0;
        for (size_t i = 0; i < n_items && n < sizeof(t); i++)
                if (items[i])
                        n += (size_t)snprintf(t + n, sizeof(t) - n, "%s%s", n ? "  " : " ", items[i]);
        tui_style_set(TP_WINDOW, A_REVERSE);
        tui_fill(LINES - 1, 0, COLS);
        tui_put(LINES - 1, 0, COLS, t);
}

static void draw_dialog(struct wiz *w)
{
        static const char *const text = "Leave the setup? Nothing has been changed on this server.";
        int bw = 40 + 4, bh = 7;
        int x = (COLS - bw) / 2, y = (LINES - bh) / 2;
        _cleanup_strv_ char **lines = tui_wrap(text, bw - 4, 0);

        window_style();
        tui_box(y, x, bh, bw);
        tui_style_on(TP_WTITLE, A_BOLD);
        tui_put(y, x + (bw - 8) / 2, 8, " Cancel ");
        tui_style_off(TP_WTITLE, A_BOLD);
        for (size_t i = 0; lines && lines[i] && i < 2; i++)
                tui_put(y + 1 + (int)i + 1, x + 2, bw - 4, lines[i]);
        draw_button(y + bh - 2, x + 4, "Yes, leave", w->dialog_sel == 0);
        draw_button(y + bh - 2, x + bw - 19, "No, go back", w->dialog_sel == 1);
}

static void draw_too_small(void)
{
        char msg[160];

        tui_style_set(TP_DIM, A_NORMAL);
        erase();
        snprintf(msg, sizeof(msg), "Terminal %dx%d: too small, needs %dx%d. Enlarge it (Ctrl-C leaves).",
                 COLS, LINES, TUI_MIN_COLS, TUI_MIN_ROWS);
        {
                _cleanup_strv_ char **v = tui_wrap(msg, COLS > 2 ? COLS - 1 : 1, 0);
                for (size_t i = 0; v && v[i] && (int)i < LINES; i++)
                        tui_put((int)i, 0, COLS, v[i]);
        }
}

/* Which n content rows show in a window of `rows`: pg->scroll (clamped)
 * is the first; an indicator row is taken at the top when there is more
 * above and at the bottom when there is more below; the focused field's
 * rows [ff, fl] (ff < 0: none) are kept in view, its first row first. */
static void scroll_window(struct page *pg, int n, int rows, int ff, int fl, int *ret_avail, bool *ret_above,
                          bool *ret_below)
{
        int avail = rows;
        bool above = false, below = false;

        if (n <= rows) {
                pg->scroll = 0;
        } else {
                for (int round = 0; round < 3; round++) {
                        above = pg->scroll > 0;
                        below = pg->scroll + rows - (above ? 1 : 0) < n;
                        avail = rows - (above ? 1 : 0) - (below ? 1 : 0);
                        if (ff >= 0) {
                                if (fl >= pg->scroll + avail)
                                        pg->scroll = fl - avail + 1;
                                if (ff < pg->scroll)
                                        pg->scroll = ff;
                        }
                        if (pg->scroll > n - (rows - 1))
                                pg->scroll = n - (rows - 1);
                        if (pg->scroll < 0)
                                pg->scroll = 0;
                }
                above = pg->scroll > 0;
                below = pg->scroll + rows - (above ? 1 : 0) < n;
                avail = rows - (above ? 1 : 0) - (below ? 1 : 0);
        }
        *ret_avail = avail;
        *ret_above = above;
        *ret_below = below;
}

static void draw(struct wiz *w)
{
        struct page *pg = cur_page(w);
        struct layout l;
        struct row *rows;
        size_t n_rows;
        int focus_first = -1, focus_last = -1, cursor_y = -1, cursor_x = -1;
        int avail, first, shown;
        bool more_above, more_below;
        char t[160];

        w->dirty = false;
        if (COLS < TUI_MIN_COLS || LINES < TUI_MIN_ROWS) {
                draw_too_small();
                curs_set(0);
                refresh();
                return;
        }
        layout(&l);
        tui_style_set(TP_ROOT, A_NORMAL);
        erase();
        snprintf(t, sizeof(t), " vps-provision %s setup  -  step %d of %d: %s", VPSP_VERSION, (int)w->id + 1,
                 (int)_P_MAX, page_titles[w->id]);
        tui_style_on(TP_ROOT, A_BOLD);
        tui_put(0, 0, COLS, t);
        tui_style_off(TP_ROOT, A_BOLD);

        window_style();
        tui_box(l.y, l.x, l.h, l.w);
        snprintf(t, sizeof(t), " %s ", page_titles[w->id]);
        tui_style_on(TP_WTITLE, A_BOLD);
        tui_put(l.y, l.x + (l.w - tui_text_width(t)) / 2, l.w - 2, t);
        tui_style_off(TP_WTITLE, A_BOLD);

        /* the content, scrolled so that the focused field shows */
        rows = page_rows(w, l.cw - 1, &n_rows);
        for (size_t i = 0; i < n_rows; i++) {
                if (rows[i].field >= 0 && rows[i].field == pg->focus) {
                        if (focus_first < 0)
                                focus_first = (int)i;
                        focus_last = (int)i;
                }
        }
        if (pg->n_f == 0)
                l.rows += 2;   /* a page of text has no message line: its room goes to the text */
        scroll_window(pg, (int)n_rows, l.rows, focus_first, focus_last, &avail, &more_above, &more_below);
        first = pg->scroll;
        shown = 0;
        for (int i = first; i < (int)n_rows && shown < avail; i++, shown++) {
                struct row *r = &rows[i];
                int y = l.top + (more_above ? 1 : 0) + shown;
                if (r->kind == R_ENTRY) {
                        struct field *f = &pg->f[r->field];
                        char lab[64];
                        snprintf(lab, sizeof(lab), "%s:", r->text);
                        tui_put(y, l.cx, LABEL_W, lab);
                        int cx = draw_entry(f, r->field == pg->focus, y, l.cx + LABEL_W, l.cw - LABEL_W - 1);
                        if (r->field == pg->focus) {
                                cursor_y = y;
                                cursor_x = cx;
                        }
                } else if (r->kind == R_CHECK) {
                        struct field *f = &pg->f[r->field];
                        bool foc = r->field == pg->focus;
                        tui_put(y, l.cx, 3, f->on ? "[*]" : "[ ]");
                        if (foc) {
                                tui_style_on(TP_FOCUS, A_REVERSE);
                                cursor_y = y;
                                cursor_x = l.cx + 1;
                        }
                        tui_put(y, l.cx + 4, l.cw - 5, r->text);
                        if (foc)
                                tui_style_off(TP_FOCUS, A_REVERSE);
                } else {
                        enum tui_pair pair = r->style == RS_WARN ? TP_ERROR
                                             : r->style == RS_NOTE ? TP_WARN
                                                                   : TP_WINDOW;
                        attr_t mono = r->style == RS_WARN ? A_BOLD : r->style == RS_HEAD ? A_BOLD : A_NORMAL;
                        if (r->style == RS_HEAD)
                                pair = TP_WTITLE;
                        tui_style_on(pair, mono);
                        tui_put(y, l.cx + r->indent, l.cw - 1 - r->indent, r->text);
                        tui_style_off(pair, mono);
                }
        }
        /* where the list goes on: arrows and a count, never silently cut */
        tui_style_on(TP_WARN, A_BOLD);
        if (more_above)
                tui_putf(l.top, l.cx, l.cw, "%s %d more line%s above (PgUp)", tui_glyph_up(), first,
                         first == 1 ? "" : "s");
        if (more_below) {
                int below = (int)n_rows - first - avail;
                tui_putf(l.top + l.rows - 1, l.cx, l.cw, "%s %d more line%s below (PgDn)", tui_glyph_down(),
                         below, below == 1 ? "" : "s");
        }
        tui_style_off(TP_WARN, A_BOLD);
        free_rows(rows, n_rows);

        /* the message line(s) */
        if (pg->err[0]) {
                _cleanup_strv_ char **v = tui_wrap(pg->err, l.cw, 2);
                tui_style_on(pg->err_warning ? TP_WARN : TP_ERROR, A_BOLD);
                for (size_t i = 0; v && v[i] && i < 2; i++)
                        tui_put(l.msg_y + (int)i, l.cx, l.cw, v[i]);
                tui_style_off(pg->err_warning ? TP_WARN : TP_ERROR, A_BOLD);
        }

        /* the buttons: Back left, Next centred, Cancel right */
        {
                int nf = (int)pg->n_f;
                if (has_back(w))
                        draw_button(l.btn_y, l.x + 3, "Back", pg->focus == nf + B_BACK);
                if (has_next(w)) {
                        const char *nt = w->id == P_REVIEW ? "Start" : "Next";
                        draw_button(l.btn_y, l.x + (l.w - (int)strlen(nt) - 4) / 2, nt, pg->focus == nf + B_NEXT);
                }
                draw_button(l.btn_y, l.x + l.w - 3 - (has_next(w) ? 10 : 8), has_next(w) ? "Cancel" : "Exit",
                            pg->focus == nf + B_CANCEL);
                if (pg->focus >= nf) {
                        cursor_y = l.btn_y;
                        cursor_x = l.x + 3;
                }
        }
        draw_footer(w, (int)n_rows > l.rows);
        if (w->dialog)
                draw_dialog(w);
        if (!w->dialog && cursor_y >= 0) {
                struct field *f = focused_field(w);
                curs_set(f && f->kind == F_ENTRY ? 1 : 0);
                move(cursor_y, cursor_x);
        } else {
                curs_set(0);
        }
        refresh();
}

/* ---- input -------------------------------------------------------------- */

/* Whether an entry follows field i on the page. */
static bool entry_after(struct page *pg, int i)
{
        for (size_t k = (size_t)i + 1; k < pg->n_f; k++)
                if (pg->f[k].kind == F_ENTRY)
                        return true;
        return false;
}

/* Goes forward: from an entry to the next entry; from the page's last
 * entry, a check box or Next to the next page, once every field checks. */
static enum nav forward(struct wiz *w, bool from_field)
{
        struct page *pg = cur_page(w);
        struct field *f = focused_field(w);

        if (from_field && f && f->kind == F_ENTRY && entry_after(pg, pg->focus)) {
                move_focus(w, 1);
                return NAV_NONE;
        }
        if (!has_next(w))
                return NAV_NONE;
        if (!check_all(w))
                return NAV_NONE;
        return NAV_NEXT;
}

static enum nav press(struct wiz *w, enum button b)
{
        switch (b) {
        case B_NEXT: return forward(w, false);
        case B_BACK: return NAV_BACK;    /* what was typed is kept, checked or not */
        case B_CANCEL:
                if (!has_next(w))
                        return NAV_REFUSED;
                w->dialog = true;
                w->dialog_sel = 0;
                return NAV_NONE;
        default: return NAV_NONE;
        }
}

static enum nav dialog_key(struct wiz *w, int k)
{
        switch (k) {
        case 'y': case 'Y':
                return NAV_CANCEL;
        case 'n': case 'N': case 27:
                w->dialog = false;
                return NAV_NONE;
        case KEY_LEFT: case KEY_RIGHT: case '\t': case KEY_BTAB:
                w->dialog_sel ^= 1;
                return NAV_NONE;
        case '\r': case '\n': case KEY_ENTER: case ' ':
                if (w->dialog_sel == 0)
                        return NAV_CANCEL;
                w->dialog = false;
                return NAV_NONE;
        }
        return NAV_NONE;
}

static enum nav on_key(struct wiz *w, int code, wint_t wc, bool is_key)
{
        struct page *pg = cur_page(w);
        struct field *f = focused_field(w);
        int k = is_key ? code : (int)wc;
        int nf = (int)pg->n_f;

        w->dirty = true;
        if (is_key && code == KEY_RESIZE) {
                tui_screen_resize();
                return NAV_NONE;
        }
        if (k == 12 /* Ctrl-L */) {
                clearok(curscr, TRUE);
                return NAV_NONE;
        }
        if (w->dialog)
                return dialog_key(w, k);
        if (k == 3) {
                w->dialog = true;
                w->dialog_sel = 0;
                return NAV_NONE;
        }
        if (COLS < TUI_MIN_COLS || LINES < TUI_MIN_ROWS)
                return NAV_NONE;
        if (k == 27) {
                if (has_back(w))
                        return NAV_BACK;
                w->dialog = true;
                w->dialog_sel = 0;
                return NAV_NONE;
        }
        if (f && f->kind == F_ENTRY && entry_key(f, code, wc, is_key))
                return NAV_NONE;
        switch (k) {
        case '\t': case KEY_DOWN:
                if (!f && nf == 0 && k == KEY_DOWN) {
                        pg->scroll++;
                        return NAV_NONE;
                }
                move_focus(w, 1);
                return NAV_NONE;
        case KEY_BTAB: case KEY_UP:
                if (!f && nf == 0 && k == KEY_UP) {
                        pg->scroll = pg->scroll > 0 ? pg->scroll - 1 : 0;
                        return NAV_NONE;
                }
                move_focus(w, -1);
                return NAV_NONE;
        case KEY_NPAGE:
                pg->scroll += LINES / 2;
                return NAV_NONE;
        case KEY_PPAGE:
                pg->scroll = pg->scroll > LINES / 2 ? pg->scroll - LINES / 2 : 0;
                return NAV_NONE;
        case KEY_LEFT: case KEY_RIGHT:
                if (!f) {
                        /* between the buttons */
                        int i = pg->focus;
                        do
                                i = nf + ((i - nf) + (k == KEY_RIGHT ? 1 : _B_MAX - 1)) % _B_MAX;
                        while (!focusable(w, i));
                        set_focus(w, i);
                }
                return NAV_NONE;
        case ' ':
                if (f && f->kind == F_CHECK) {
                        f->on = !f->on;
                        return NAV_NONE;
                }
                if (!f)
                        return press(w, (enum button)(pg->focus - nf));
                return NAV_NONE;
        case '\r': case '\n': case KEY_ENTER:
                if (!f)
                        return press(w, (enum button)(pg->focus - nf));
                if (f->kind == F_ENTRY && !check_field(w, pg, f))
                        return NAV_NONE;
                return forward(w, true);
        }
        return NAV_NONE;
}

/* Reads the signalfd: a navigation, or NAV_NONE to go on. */
static enum nav on_signal(struct wiz *w)
{
        struct signalfd_siginfo si;
        enum nav r = NAV_NONE;

        while (read(w->o->sfd, &si, sizeof(si)) == sizeof(si)) {
                switch (si.ssi_signo) {
                case SIGWINCH:
                        tui_screen_resize();
                        w->dirty = true;
                        break;
                case SIGINT:
                        if (!w->dialog) {
                                w->dialog = true;
                                w->dialog_sel = 0;
                        }
                        w->dirty = true;
                        break;
                case SIGHUP:
                        r = NAV_HANGUP;
                        break;
                default:
                        if (r != NAV_HANGUP)
                                r = NAV_CANCEL;
                        break;
                }
        }
        return r;
}

enum tui_wizard_result tui_wizard_run(struct answers *a, const struct tui_wizard_opts *o)
{
        struct wiz *w = xcalloc(1, sizeof(*w));
        enum tui_wizard_result result = TUI_WIZARD_CANCEL;
        struct answers saved = *a;
        bool done = false;

        w->a = a;
        w->o = o;
        w->cat_ok = ide_catalog_load_for(a, &w->cat, NULL, 0, w->cat_err, sizeof(w->cat_err)) == 0;
        build_pages(w);
        enter_page(w, P_WELCOME, true);
        tui_screen_resize();
        w->dirty = true;

        while (!done) {
                struct pollfd p[2] = { { .fd = STDIN_FILENO, .events = POLLIN },
                                       { .fd = o->sfd, .events = POLLIN } };
                enum nav nav = NAV_NONE;
                wint_t wc;
                int r;

                if (w->dirty)
                        draw(w);
                if (poll(p, o->sfd >= 0 ? 2 : 1, -1) < 0)
                        continue;
                if (o->sfd >= 0 && (p[1].revents & POLLIN))
                        nav = on_signal(w);
                if (nav == NAV_NONE && (p[0].revents & (POLLHUP | POLLERR | POLLNVAL)))
                        nav = NAV_HANGUP;
                while (nav == NAV_NONE && (r = get_wch(&wc)) != ERR)
                        nav = on_key(w, r == KEY_CODE_YES ? (int)wc : 0, wc, r == KEY_CODE_YES);
                switch (nav) {
                case NAV_NONE:
                        break;
                case NAV_NEXT:
                        store_checks(w);
                        if (w->id == P_REVIEW) {
                                result = TUI_WIZARD_START;
                                done = true;
                        } else {
                                enter_page(w, w->id + 1, true);
                        }
                        w->dirty = true;
                        break;
                case NAV_BACK:
                        store_checks(w);
                        enter_page(w, w->id - 1, false);
                        w->dirty = true;
                        break;
                case NAV_REFUSED:
                        result = TUI_WIZARD_REFUSED;
                        done = true;
                        break;
                case NAV_HANGUP:
                        result = TUI_WIZARD_HANGUP;
                        done = true;
                        break;
                case NAV_CANCEL:
                        result = TUI_WIZARD_CANCEL;
                        done = true;
                        break;
                }
        }
        curs_set(0);
        if (result != TUI_WIZARD_START)
                *a = saved;
        free_pages(w);
        ide_catalog_release(&w->cat);
        wipe(w, sizeof(*w));
        free(w);
        return result;
}
