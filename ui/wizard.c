/* wizard.c — the newt wizard: welcome (with the preflight facts), account,
 * IDEs, ports, options, review. See tui.h.
 *
 * Every page is rebuilt from the answers (and the text still being typed,
 * kept in drafts) whenever it is shown, so Back, a resize and a redraw all
 * take the same path. Fields are checked as they are left — Tab, the
 * arrows and Enter are form hot keys, so the wizard sees every attempt to
 * move on before newt moves the focus — with answers_set(), the very code
 * that checks an answers file, so both say the same words. A bad value
 * keeps the focus on its field and the message names the rule; Next
 * checks every field again (newt also moves focus with Left/Right between
 * buttons, which cannot leave an entry unchecked past Next).
 *
 * newt drops keys typed ahead whenever a window opens (newtOpenWindow()
 * flushes input), so a key pressed twice by accident never acts on the
 * next page; the tests wait for each page before typing. */
#include "tui.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <newt.h>

#include "ide_catalog.h"
#include "util.h"


#define WIN_W 72
#define WIN_H 19
#define MAX_FIELDS 8
#define DRAFT_MAX 256

enum nav { NAV_NEXT, NAV_BACK, NAV_CANCEL, NAV_REFUSED, NAV_HANGUP, NAV_REDRAW };

enum page_id { P_WELCOME, P_USER, P_IDES, P_PORTS, P_OPTIONS, P_REVIEW, _P_MAX };

static const char *const page_titles[_P_MAX] = {
        "Welcome", "Developer account", "IDEs", "Ports", "Options", "Review",
};

struct field {
        newtComponent co;
        const char *section, *key;     /* entries: the answers key they set */
        const char *label;             /* for messages: "Username" */
        char *draft;                   /* what was typed (kept across redraws) */
        bool checkbox;
};

struct wiz {
        struct answers *a;
        struct ide_catalog cat;        /* the IDE page's entries */
        bool cat_ok;
        char cat_err[1024];
        const struct tui_wizard_opts *o;
        char drafts[_P_MAX][MAX_FIELDS][DRAFT_MAX];
        bool drafted[_P_MAX][MAX_FIELDS];
};

struct page {
        enum page_id id;
        int cols, rows;                        /* the terminal size it was drawn for */
        newtComponent form, err, back, next, cancel;
        newtComponent order[MAX_FIELDS + 3];  /* focus order: fields, then buttons */
        size_t n_order;
        struct field f[MAX_FIELDS];
        size_t n_f;
};

/* ---- small helpers ------------------------------------------------------ */

static void root_text(struct wiz *w, enum page_id id)
{
        char t[160];

        newtCls();
        snprintf(t, sizeof(t), " vps-provision %s setup  -  step %d of %d: %s", VPSP_VERSION, (int)id + 1,
                 (int)_P_MAX, page_titles[id]);
        newtDrawRootText(0, 0, t);
        newtPopHelpLine();
        newtPushHelpLine(" Tab/arrows: move  Space: tick  Enter: next  Ctrl-C: cancel (nothing changed yet)");
        (void)w;
}

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

/* The text an entry starts with: what was typed before, else the answer. */
static const char *initial(struct wiz *w, struct page *pg, size_t i, const char *section, const char *key)
{
        char *d = w->drafts[pg->id][i];

        if (!w->drafted[pg->id][i]) {
                get_answer(w, section, key, d, DRAFT_MAX);
                w->drafted[pg->id][i] = true;
        }
        return d;
}

/* A block of wrapped text; it scrolls (and takes focus) only when it does
 * not fit in h lines. */
static void add_text_at(struct page *pg, int x, int y, int w, int h, const char *text, bool may_scroll)
{
        int rw = 0, rh = 0;
        char *flowed = newtReflowText((char *)text, w - 1, 0, 0, &rw, &rh);
        bool scroll = may_scroll && rh > h;
        newtComponent t = newtTextbox(x, y, w, h, NEWT_FLAG_WRAP | (scroll ? NEWT_FLAG_SCROLL : 0));

        free(flowed);
        newtTextboxSetText(t, text);
        newtFormAddComponent(pg->form, t);
        if (scroll)
                pg->order[pg->n_order++] = t;   /* it takes focus to scroll */
}

static void add_text(struct page *pg, int y, int h, const char *text)
{
        add_text_at(pg, 2, y, WIN_W - 4, h, text, true);
}

static void add_entry(struct wiz *w, struct page *pg, int y, const char *label, const char *section,
                      const char *key, int width)
{
        size_t i = pg->n_f++;
        struct field *f = &pg->f[i];
        char text[64];

        snprintf(text, sizeof(text), "%s:", label);
        newtFormAddComponent(pg->form, newtLabel(2, y, text));
        f->co = newtEntry(18, y, initial(w, pg, i, section, key), width, NULL, NEWT_FLAG_SCROLL);
        f->section = section;
        f->key = key;
        f->label = label;
        f->draft = w->drafts[pg->id][i];
        newtFormAddComponent(pg->form, f->co);
        pg->order[pg->n_order++] = f->co;
        add_text_at(pg, 18, y + 1, WIN_W - 20, 2, key_summary(section, key), false);
}

static void add_checkbox(struct page *pg, int y, const char *text, bool value, const char *help)
{
        size_t i = pg->n_f++;
        struct field *f = &pg->f[i];

        /* no result pointer: newtCheckboxGetValue() reads the internal value */
        f->co = newtCheckbox(2, y, (char *)text, value ? '*' : ' ', NULL, NULL);
        f->checkbox = true;
        f->label = text;
        newtFormAddComponent(pg->form, f->co);
        pg->order[pg->n_order++] = f->co;
        if (help)
                add_text_at(pg, 6, y + 1, WIN_W - 8, 1, help, false);
}

/* Opens the window and the form; the caller adds the fields. */
static void page_begin(struct wiz *w, struct page *pg, enum page_id id)
{
        char title[64];

        memset(pg, 0, sizeof(*pg));
        pg->id = id;
        (void)tui_term_size(STDOUT_FILENO, &pg->cols, &pg->rows);
        root_text(w, id);
        snprintf(title, sizeof(title), "%s", page_titles[id]);
        newtCenteredWindow(WIN_W, WIN_H, title);
        pg->form = newtForm(NULL, NULL, 0);
}

/* Adds the message line and the buttons, and the hot keys. */
static void page_end(struct page *pg, const char *next_text, bool can_go_on)
{
        static const int hot[] = { NEWT_KEY_TAB, NEWT_KEY_UNTAB, NEWT_KEY_ENTER, 3 /* Ctrl-C */ };

        pg->err = newtTextbox(2, WIN_H - 7, WIN_W - 4, 3, NEWT_FLAG_WRAP);
        newtTextboxSetColors(pg->err, NEWT_COLORSET_CUSTOM(1), NEWT_COLORSET_CUSTOM(1));
        newtFormAddComponent(pg->form, pg->err);
        if (pg->id != P_WELCOME) {
                pg->back = newtButton(2, WIN_H - 4, "Back");
                newtFormAddComponent(pg->form, pg->back);
        }
        if (can_go_on) {
                pg->next = newtButton(WIN_W / 2 - 6, WIN_H - 4, (char *)next_text);
                newtFormAddComponent(pg->form, pg->next);
        }
        pg->cancel = newtButton(WIN_W - 14, WIN_H - 4, can_go_on ? "Cancel" : "Exit");
        newtFormAddComponent(pg->form, pg->cancel);
        if (pg->next)
                pg->order[pg->n_order++] = pg->next;
        if (pg->back)
                pg->order[pg->n_order++] = pg->back;
        pg->order[pg->n_order++] = pg->cancel;
        for (size_t i = 0; i < ELEMENTSOF(hot); i++)
                newtFormAddHotKey(pg->form, hot[i]);
        if (pg->n_f) {
                /* fields: the arrows move between them (checked); pages of
                 * text keep them for scrolling */
                newtFormAddHotKey(pg->form, NEWT_KEY_UP);
                newtFormAddHotKey(pg->form, NEWT_KEY_DOWN);
        }
        /* Four times a second: the signalfd (not newtFormWatchFd(), whose
         * array newtFormDestroy() never frees) and the terminal's size
         * (newtFormRun() sets SIGWINCH back to SIG_DFL, which discards a
         * pending one before the signalfd could be read). */
        newtFormSetTimer(pg->form, 250);
        newtFormSetCurrent(pg->form, pg->order[0]);
}

static void page_close(struct page *pg)
{
        newtFormDestroy(pg->form);
        newtPopWindow();
}

/* The message line(s) above the buttons: "Username: must start with …". */
static void show_error(struct page *pg, const char *label, const char *msg)
{
        char line[1024];

        if (!msg || !msg[0]) {
                newtTextboxSetText(pg->err, "");
                return;
        }
        snprintf(line, sizeof(line), "%s: %s", label, msg);
        newtTextboxSetText(pg->err, line);
}

static struct field *field_of(struct page *pg, newtComponent co)
{
        for (size_t i = 0; i < pg->n_f; i++)
                if (pg->f[i].co == co)
                        return &pg->f[i];
        return NULL;
}

/* Checks and stores one entry; on a bad value shows the rule. */
static bool check_field(struct wiz *w, struct page *pg, struct field *f)
{
        char err[512] = "";
        const char *v;

        if (!f || f->checkbox || !f->key)
                return true;
        v = newtEntryGetValue(f->co);
        strscpy(f->draft, DRAFT_MAX, v);
        if (answers_set(w->a, f->section, f->key, v, err, sizeof(err)) < 0) {
                show_error(pg, f->label, err);
                return false;
        }
        if (pg->id == P_PORTS) {
                struct answers_errors errs = { 0 };
                if (answers_check(w->a, &errs) < 0 && errs.n > 0) {
                        show_error(pg, f->label, errs.v[0].message);
                        answers_errors_release(&errs);
                        return false;
                }
                answers_errors_release(&errs);
        }
        show_error(pg, "", NULL);
        return true;
}

static size_t order_index(struct page *pg, newtComponent co)
{
        for (size_t i = 0; i < pg->n_order; i++)
                if (pg->order[i] == co)
                        return i;
        return 0;
}

/* Moves focus by dir after checking the field being left. */
static void move_focus(struct wiz *w, struct page *pg, int dir)
{
        newtComponent cur = newtFormGetCurrent(pg->form);
        size_t i = order_index(pg, cur), n = pg->n_order;

        if (!check_field(w, pg, field_of(pg, cur))) {
                newtFormSetCurrent(pg->form, cur);
                return;
        }
        i = (i + n + (size_t)(dir > 0 ? 1 : n - 1)) % n;
        newtFormSetCurrent(pg->form, pg->order[i]);
}

static bool check_all(struct wiz *w, struct page *pg)
{
        for (size_t i = 0; i < pg->n_f; i++) {
                if (!check_field(w, pg, &pg->f[i])) {
                        newtFormSetCurrent(pg->form, pg->f[i].co);
                        return false;
                }
        }
        return true;
}

static bool confirm_cancel(void)
{
        return newtWinChoice("Cancel", "Yes, leave", "No, go back",
                             "Leave the setup? Nothing has been changed on this server.") == 1;
}

/* Reads the signalfd: what the page should do, or -1 to go on. */
static int on_signal(struct wiz *w)
{
        struct signalfd_siginfo si;
        int r = -1;

        while (read(w->o->sfd, &si, sizeof(si)) == sizeof(si)) {
                switch (si.ssi_signo) {
                case SIGWINCH:
                        if (r < 0)
                                r = NAV_REDRAW;
                        break;
                case SIGINT:
                        if (r < 0 || r == NAV_REDRAW)
                                r = confirm_cancel() ? NAV_CANCEL : NAV_REDRAW;
                        break;
                case SIGHUP:
                        r = NAV_HANGUP;
                        break;
                default:
                        r = NAV_CANCEL;
                        break;
                }
        }
        return r;
}

/* Runs a page until the person leaves it. */
static enum nav run_page(struct wiz *w, struct page *pg)
{
        for (;;) {
                struct newtExitStruct es;
                newtComponent pressed = NULL;

                newtFormRun(pg->form, &es);
                if (es.reason == NEWT_EXIT_TIMER) {
                        int cols, rows, r;
                        if (w->o->sfd >= 0 && (r = on_signal(w)) >= 0)
                                return (enum nav)r;
                        if (tui_term_size(STDOUT_FILENO, &cols, &rows) == 0 &&
                            (cols != pg->cols || rows != pg->rows))
                                return NAV_REDRAW;
                        continue;
                }
                if (es.reason == NEWT_EXIT_HOTKEY) {
                        newtComponent cur = newtFormGetCurrent(pg->form);
                        switch (es.u.key) {
                        case 3:
                                if (confirm_cancel())
                                        return NAV_CANCEL;
                                return NAV_REDRAW;
                        case NEWT_KEY_TAB:
                        case NEWT_KEY_DOWN:
                                move_focus(w, pg, 1);
                                continue;
                        case NEWT_KEY_UNTAB:
                        case NEWT_KEY_UP:
                                move_focus(w, pg, -1);
                                continue;
                        case NEWT_KEY_ENTER:
                                if (cur == pg->back || cur == pg->next || cur == pg->cancel) {
                                        pressed = cur;
                                } else if (field_of(pg, cur) && !field_of(pg, cur)->checkbox) {
                                        move_focus(w, pg, 1);
                                        continue;
                                } else {
                                        pressed = pg->next ? pg->next : pg->cancel;
                                }
                                break;
                        default:
                                continue;
                        }
                } else if (es.reason == NEWT_EXIT_COMPONENT) {
                        pressed = es.u.co;
                }
                if (!pressed)
                        continue;
                if (pressed == pg->cancel) {
                        if (!pg->next)
                                return NAV_REFUSED;
                        if (confirm_cancel())
                                return NAV_CANCEL;
                        return NAV_REDRAW;
                }
                if (pressed == pg->back)
                        return NAV_BACK;    /* what was typed is kept, checked or not */
                if (pressed == pg->next) {
                        if (check_all(w, pg))
                                return NAV_NEXT;
                        continue;
                }
        }
}

/* ---- the pages ---------------------------------------------------------- */

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

static void build_welcome(struct wiz *w, struct page *pg)
{
        _cleanup_free_ char *t = welcome_text(w);

        page_begin(w, pg, P_WELCOME);
        add_text(pg, 1, WIN_H - 8, t);
        page_end(pg, "Next", !w->o->refused);
}

static void build_user(struct wiz *w, struct page *pg)
{
        page_begin(w, pg, P_USER);
        add_text(pg, 1, 3,
                 "The account people log in with over Remote Desktop and SSH. It gets sudo; "
                 "its password is generated and shown once at the end.");
        add_entry(w, pg, 5, "Username", "user", "username", 32);
        add_entry(w, pg, 9, "Full name", "user", "full_name", 40);
        page_end(pg, "Next", true);
}

/* The IDE page lists the catalog's entries (at most MAX_FIELDS), each with
 * its one-line description when there is room for it. */
static void build_ides(struct wiz *w, struct page *pg)
{
        _cleanup_strv_ char **wanted = answers_ide_list(w->a);
        size_t n = w->cat_ok ? w->cat.n_entries : 0, shown = n < MAX_FIELDS ? n : MAX_FIELDS;
        int step = shown <= 3 ? 3 : shown <= 5 ? 2 : 1;

        page_begin(w, pg, P_IDES);
        if (!w->cat_ok) {
                add_text(pg, 1, 6, w->cat_err);
                page_end(pg, "Next", true);
                return;
        }
        if (shown < n) {
                char t[160];

                snprintf(t, sizeof(t), "Which IDEs to install (Space ticks). The catalog lists %zu "
                         "more: name them in an answers file.", n - shown);
                add_text(pg, 1, 2, t);
        } else
                add_text(pg, 1, 2, "Which IDEs to install for the developer (Space ticks). Each costs "
                                   "download time and a few hundred MB of disk; none is fine too.");
        for (size_t i = 0; i < shown; i++) {
                const struct ide_entry *e = &w->cat.entries[i];

                add_checkbox(pg, 4 + step * (int)i, e->display_name, strv_contains(wanted, e->id),
                             step > 1 && e->description[0] ? e->description : NULL);
        }
        page_end(pg, "Next", true);
}

static void build_ports(struct wiz *w, struct page *pg)
{
        page_begin(w, pg, P_PORTS);
        add_text(pg, 1, 3, "The ports people connect on. The firewall (next page) opens exactly these. "
                           "They must differ, and neither may be xrdp-sesman's own 3350.");
        add_entry(w, pg, 5, "RDP port", "network", "rdp_port", 6);
        add_entry(w, pg, 9, "SSH port", "network", "ssh_port", 6);
        page_end(pg, "Next", true);
}

static const struct {
        const char *section, *key, *title;
} option_keys[] = {
        { "network", "firewall", "Firewall" },
        { "security", "hardening", "SSH hardening" },
        { "security", "fail2ban", "fail2ban" },
        { "system", "upgrade", "Upgrade the system first" },
        { "user", "copy_root_ssh_keys", "Root's SSH keys for the account" },
};

static void build_options(struct wiz *w, struct page *pg)
{
        page_begin(w, pg, P_OPTIONS);
        for (size_t i = 0; i < ELEMENTSOF(option_keys); i++) {
                char v[16], help[WIN_W];
                bool on = false;
                get_answer(w, option_keys[i].section, option_keys[i].key, v, sizeof(v));
                (void)parse_bool(v, &on);
                snprintf(help, sizeof(help), "%s", key_summary(option_keys[i].section, option_keys[i].key));
                if (strlen(help) > WIN_W - 10)
                        help[WIN_W - 10] = '\0';
                add_checkbox(pg, 1 + 2 * (int)i, option_keys[i].title, on, help);
        }
        page_end(pg, "Next", true);
}

static char *review_text(struct wiz *w)
{
        struct buf b;
        char v[512], v2[512];

        buf_init(&b, 64 * 1024);
        get_answer(w, "user", "username", v, sizeof(v));
        get_answer(w, "user", "full_name", v2, sizeof(v2));
        (void)buf_printf(&b, "Account:  %s%s%s%s\n", v, v2[0] ? " (" : "", v2, v2[0] ? ")" : "");
        get_answer(w, "ides", "install", v, sizeof(v));
        (void)buf_printf(&b, "IDEs:     %s\n", v);
        get_answer(w, "network", "rdp_port", v, sizeof(v));
        get_answer(w, "network", "ssh_port", v2, sizeof(v2));
        (void)buf_printf(&b, "Ports:    RDP %s, SSH %s\n", v, v2);
        (void)buf_printf(&b, "Options: ");
        for (size_t i = 0; i < ELEMENTSOF(option_keys); i++) {
                get_answer(w, option_keys[i].section, option_keys[i].key, v, sizeof(v));
                (void)buf_printf(&b, " %s: %s%s", option_keys[i].title, v,
                                 i + 1 < ELEMENTSOF(option_keys) ? "," : "\n");
        }
        (void)buf_printf(&b, "Phases that will run:\n");
        for (size_t i = 0; i < w->o->n_phases; i++) {
                const struct phase *p = w->o->phases[i];
                if (!phase_is_enabled(p, w->a))
                        continue;
                (void)buf_printf(&b, "  %-24s %s\n", p->title, p->summary ? p->summary : "");
        }
        return buf_steal(&b);
}

static void build_review(struct wiz *w, struct page *pg)
{
        _cleanup_free_ char *t = review_text(w);

        page_begin(w, pg, P_REVIEW);
        add_text(pg, 1, WIN_H - 8, t);
        page_end(pg, "Start", true);
}

/* ---- the wizard --------------------------------------------------------- */

static void set_ides(struct wiz *w, struct page *pg)
{
        _cleanup_strv_ char **list = NULL;
        _cleanup_free_ char *text = NULL;
        char err[256];

        if (!w->cat_ok)
                return;
        for (size_t i = 0; i < pg->n_f && i < w->cat.n_entries; i++)
                if (newtCheckboxGetValue(pg->f[i].co) == '*')
                        strv_push(&list, w->cat.entries[i].id);
        text = strv_join(list, ", ");
        (void)answers_set(w->a, "ides", "install", text[0] ? text : "none", err, sizeof(err));
}

static void set_options(struct wiz *w, struct page *pg)
{
        char err[256];

        for (size_t i = 0; i < ELEMENTSOF(option_keys); i++)
                (void)answers_set(w->a, option_keys[i].section, option_keys[i].key,
                                  newtCheckboxGetValue(pg->f[i].co) == '*' ? "yes" : "no", err,
                                  sizeof(err));
}

/* Too small to draw a page: say so and wait for a resize (or Ctrl-C). */
static enum nav wait_for_size(struct wiz *w)
{
        for (;;) {
                int cols = 0, rows = 0;
                char msg[160];
                struct pollfd p[2] = { { .fd = STDIN_FILENO, .events = POLLIN },
                                       { .fd = w->o->sfd, .events = POLLIN } };

                newtResizeScreen(0);
                if (tui_term_size(STDOUT_FILENO, &cols, &rows) < 0 ||
                    (cols >= TUI_MIN_COLS && rows >= TUI_MIN_ROWS))
                        return NAV_REDRAW;
                newtCls();
                snprintf(msg, sizeof(msg), "Terminal %dx%d: too small, needs %dx%d. Enlarge it (Ctrl-C leaves).",
                         cols, rows, TUI_MIN_COLS, TUI_MIN_ROWS);
                newtDrawRootText(0, 0, msg);
                newtRefresh();
                if (poll(p, w->o->sfd >= 0 ? 2 : 1, 250) < 0)
                        continue;
                if (p[0].revents & POLLIN) {
                        unsigned char k = 0;
                        if (read(STDIN_FILENO, &k, 1) == 1 && k == 3)
                                return NAV_CANCEL;
                }
                if (p[0].revents & (POLLHUP | POLLERR))
                        return NAV_HANGUP;
                if (w->o->sfd >= 0 && (p[1].revents & POLLIN)) {
                        int r = on_signal(w);
                        if (r == NAV_CANCEL || r == NAV_HANGUP)
                                return (enum nav)r;
                }
        }
}

/* S-Lang's key reader retries a hung-up terminal for ever (read() gives 0)
 * and never returns to the form loop, so the signalfd cannot be looked at.
 * Before the engine starts nothing has been changed, so a hang-up during
 * the wizard simply ends the program. */
static void on_hangup(int sig)
{
        (void)sig;
        _exit(EXIT_INTERRUPTED);
}

enum tui_wizard_result tui_wizard_run(struct answers *a, const struct tui_wizard_opts *o)
{
        struct sigaction sa = { .sa_handler = on_hangup }, old_sa;
        sigset_t hup;
        struct wiz *w = xcalloc(1, sizeof(*w));
        enum tui_wizard_result result = TUI_WIZARD_CANCEL;
        enum page_id id = P_WELCOME;
        struct answers saved = *a;
        bool done = false;

        w->a = a;
        w->o = o;
        w->cat_ok = ide_catalog_load_for(a, &w->cat, NULL, 0, w->cat_err, sizeof(w->cat_err)) == 0;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGHUP, &sa, &old_sa);
        sigemptyset(&hup);
        sigaddset(&hup, SIGHUP);
        pthread_sigmask(SIG_UNBLOCK, &hup, NULL);
        if (!o->caps->color)
                setenv("NEWT_MONO", "1", 1);
        newtInit();
        tui_term_set_active(true);
        newtSetColor(NEWT_COLORSET_CUSTOM(1), o->caps->color ? "red" : "black",
                     o->caps->color ? "lightgray" : "lightgray");
        newtPushHelpLine("");

        while (!done) {
                struct page pg;
                enum nav nav;
                int cols = 0, rows = 0;

                if (tui_term_size(STDOUT_FILENO, &cols, &rows) == 0 &&
                    (cols < TUI_MIN_COLS || rows < TUI_MIN_ROWS)) {
                        nav = wait_for_size(w);
                        if (nav == NAV_REDRAW)
                                continue;
                        result = nav == NAV_HANGUP ? TUI_WIZARD_HANGUP : TUI_WIZARD_CANCEL;
                        break;
                }
                switch (id) {
                case P_WELCOME: build_welcome(w, &pg); break;
                case P_USER: build_user(w, &pg); break;
                case P_IDES: build_ides(w, &pg); break;
                case P_PORTS: build_ports(w, &pg); break;
                case P_OPTIONS: build_options(w, &pg); break;
                default: build_review(w, &pg); break;
                }
                nav = run_page(w, &pg);
                /* what was typed or ticked survives Back, a redraw and a resize */
                for (size_t i = 0; i < pg.n_f; i++)
                        if (!pg.f[i].checkbox)
                                strscpy(pg.f[i].draft, DRAFT_MAX, newtEntryGetValue(pg.f[i].co));
                if (nav == NAV_NEXT || nav == NAV_BACK || nav == NAV_REDRAW) {
                        if (id == P_IDES)
                                set_ides(w, &pg);
                        else if (id == P_OPTIONS)
                                set_options(w, &pg);
                }
                page_close(&pg);
                switch (nav) {
                case NAV_NEXT:
                        if (id == P_REVIEW) {
                                result = TUI_WIZARD_START;
                                done = true;
                        } else {
                                id++;
                        }
                        break;
                case NAV_BACK:
                        if (id > P_WELCOME)
                                id--;
                        break;
                case NAV_REDRAW:
                        newtResizeScreen(0);
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
        newtPopHelpLine();
        newtCls();
        newtRefresh();
        newtFinished();
        tui_term_set_active(false);
        pthread_sigmask(SIG_BLOCK, &hup, NULL);
        sigaction(SIGHUP, &old_sa, NULL);
        if (result != TUI_WIZARD_START)
                *a = saved;
        ide_catalog_release(&w->cat);
        wipe(w, sizeof(*w));
        free(w);
        return result;
}
