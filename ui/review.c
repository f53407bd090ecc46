/* review.c — the review page's text (see review.h). */
#include "review.h"

#include <errno.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ide_catalog.h"
#include "secret.h"
#include "util.h"

#define VALUE_COL 11           /* "Account:   " */

char *review_ide_names(const struct answers *a)
{
        _cleanup_strv_ char **ids = answers_ide_list(a), **names = NULL;
        struct ide_catalog cat;
        char err[512];
        bool ok;

        if (!ids)
                return xstrdup("none");
        ok = ide_catalog_load_for(a, &cat, NULL, 0, err, sizeof(err)) == 0;
        for (size_t i = 0; ids[i]; i++) {
                const struct ide_entry *e = ok ? ide_catalog_find(&cat, ids[i]) : NULL;

                strv_push(&names, e ? e->display_name : ids[i]);
        }
        if (ok)
                ide_catalog_release(&cat);
        return strv_join(names, ", ");
}

struct lines {
        struct review_line *v;
        size_t n;
};

static void add(struct lines *l, int indent, int hang, enum review_style style, const char *fmt, ...)
        _printf_(5, 6);
static void add(struct lines *l, int indent, int hang, enum review_style style, const char *fmt, ...)
{
        va_list ap;
        char *text;

        va_start(ap, fmt);
        if (vasprintf(&text, fmt, ap) < 0)
                text = NULL;
        va_end(ap);
        if (!text)
                abort();
        l->v = xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
        l->v[l->n++] = (struct review_line){ .text = text, .indent = indent, .hang = hang, .style = style };
}

/* "Label:     value", continuation lines under the value. */
#define ROW(l, label, fmt, ...) add(l, 0, VALUE_COL, RS_NORMAL, "%-*s" fmt, VALUE_COL, label, ##__VA_ARGS__)
/* A consequence under a row's value; "! " warnings wrap under their text. */
#define SUB(l, style, ...) add(l, VALUE_COL, (style) == RS_WARN ? 2 : 0, style, __VA_ARGS__)

void review_lines_free(struct review_line *v, size_t n)
{
        for (size_t i = 0; i < n; i++)
                free(v[i].text);
        free(v);
}

/* The uid of an existing account name in passwd_path; -ENOENT when none. */
static int lookup_uid(const char *passwd_path, const char *name, uid_t *ret)
{
        FILE *f = fopen(passwd_path ? passwd_path : "/etc/passwd", "re");
        struct passwd *pw;
        int r = -ENOENT;

        if (!f)
                return -errno;
        while ((pw = fgetpwent(f))) {
                if (strcmp(pw->pw_name, name) == 0) {
                        *ret = pw->pw_uid;
                        r = 0;
                        break;
                }
        }
        fclose(f);
        return r;
}

/* The listeners, once they are known (see review_facts.ready). */
static const struct port_listeners *listeners_of(const struct review_facts *f)
{
        if (!f)
                return NULL;
        if (f->ready)
                f->ready(f->ready_data);
        return f->listeners;
}

/* The ports sshd listens on now, as "22" or "22 and 2200"; n = how many. */
static size_t sshd_ports(const struct review_facts *f, char *buf, size_t size, bool *has_port, uint16_t port)
{
        const struct port_listeners *l = listeners_of(f);
        size_t n = 0, len = 0;

        buf[0] = '\0';
        *has_port = false;
        for (size_t i = 0; l && i < l->n; i++) {
                const struct port_listener *p = &l->v[i];
                if (strcmp(p->comm, "sshd") != 0)
                        continue;
                if (i > 0 && l->v[i - 1].port == p->port && strcmp(l->v[i - 1].comm, "sshd") == 0)
                        continue;   /* one port, several sshd processes */
                if (p->port == port)
                        *has_port = true;
                len += (size_t)snprintf(buf + len, len < size ? size - len : 0, "%s%u", n ? ", " : "",
                                        (unsigned)p->port);
                n++;
        }
        if (n == 0 && f && f->ssh_session_port) {
                /* sshd is not visible (another namespace): the port of this session */
                snprintf(buf, size, "%u", (unsigned)f->ssh_session_port);
                *has_port = f->ssh_session_port == port;
                n = 1;
        }
        return n;
}

static const char *expected_owner(const char *key)
{
        return strcmp(key, "rdp_port") == 0 ? "xrdp" : "sshd";
}

bool review_port_conflict(const struct review_facts *facts, const struct answers *a, const char *key,
                          char *err, size_t errlen)
{
        uint16_t port = strcmp(key, "rdp_port") == 0 ? a->rdp_port : a->ssh_port;
        const char *want = expected_owner(key);
        const struct port_listeners *l = listeners_of(facts);
        const struct port_listener *p;

        if (!l)
                return false;
        for (size_t i = 0; i < l->n; i++) {
                p = &l->v[i];
                if (p->port != port)
                        continue;
                /* xrdp itself (a second run), or sshd for SSH: that is fine */
                if (strncmp(p->comm, want, strlen(want)) == 0)
                        continue;
                if (p->pid > 0)
                        snprintf(err, errlen,
                                 "%s (pid %d) already listens on port %u, so %s could not; choose another "
                                 "port, or stop %s first",
                                 p->comm[0] ? p->comm : "a program", (int)p->pid, (unsigned)port, want,
                                 p->comm[0] ? p->comm : "it");
                else
                        snprintf(err, errlen,
                                 "something already listens on port %u (its process is not visible here), "
                                 "so %s could not; choose another port",
                                 (unsigned)port, want);
                return true;
        }
        return false;
}

unsigned review_download_mb(const struct answers *a, const struct phase *const *phases, size_t n_phases)
{
        unsigned mb = 0;

        for (size_t i = 0; i < n_phases; i++)
                if (phase_is_enabled(phases[i], a))
                        mb += phases[i]->download_mb;
        return mb;
}

/* "40 s", "3 min": how long mb megabytes take at mbit megabits per second. */
static void fmt_duration(unsigned mb, unsigned mbit, char *buf, size_t size)
{
        unsigned s = (unsigned)((mb * 8.0) / mbit + 0.5);

        if (s < 90)
                snprintf(buf, size, "%u s", s < 1 ? 1 : s);
        else
                snprintf(buf, size, "%u min", (s + 30) / 60);
}

static void account_rows(struct lines *l, const struct answers *a, const struct review_facts *f)
{
        uid_t uid = 0;
        int r = lookup_uid(f ? f->passwd_path : NULL, a->username, &uid);
        char name[160];

        if (a->full_name[0])
                snprintf(name, sizeof(name), "%s (%s)", a->username, a->full_name);
        else
                snprintf(name, sizeof(name), "%s", a->username);
        if (r == 0) {
                ROW(l, "Account:", "%s, an existing account", name);
                SUB(l, RS_WARN, "! %s exists (uid %u): it is adopted as it is (home, shell and files stay), "
                                "gets sudo, and its password is replaced",
                    a->username, (unsigned)uid);
        } else {
                ROW(l, "Account:", "%s, a new account", name);
        }
        if (a->password_hash[0])
                ROW(l, "Password:", "set from the answers' hash");
        else if (a->layout_safe_password)
                ROW(l, "Password:", "generated, %zu letters (layout-safe); shown once at the end",
                    secret_layout_safe_length(a->password_length));
        else
                ROW(l, "Password:", "generated, %u characters; shown once at the end", a->password_length);
        if (a->sudo_password)
                ROW(l, "Sudo:", "yes, with the account's password");
        else
                ROW(l, "Sudo:", "yes, without a password ([user] sudo_password)");
}

static void port_rows(struct lines *l, const struct answers *a, const struct review_facts *f)
{
        char now[128], err[512];
        bool same = false;
        size_t n = sshd_ports(f, now, sizeof(now), &same, a->ssh_port);
        const struct port_listener *x = ports_find(listeners_of(f), a->rdp_port);
        bool conflict;

        if (a->rdp_listen == RDP_LISTEN_LOCALHOST)
                ROW(l, "RDP:", "port %u on 127.0.0.1 only, through an SSH tunnel (ssh -L); the firewall "
                    "keeps it closed", (unsigned)a->rdp_port);
        else
                ROW(l, "RDP:", "%s:%u (Remote Desktop client)",
                    f && f->vps && f->vps->ip_address[0] ? f->vps->ip_address : "this server", (unsigned)a->rdp_port);
        if (review_port_conflict(f, a, "rdp_port", err, sizeof(err)))
                SUB(l, RS_WARN, "! %s", err);
        else if (x)
                SUB(l, RS_NOTE, "xrdp listens there already: it is set up again");

        conflict = review_port_conflict(f, a, "ssh_port", err, sizeof(err));
        if (n == 0)
                ROW(l, "SSH:", "port %u (no SSH server is seen listening now)", (unsigned)a->ssh_port);
        else if (same)
                ROW(l, "SSH:", "port %u, as now", (unsigned)a->ssh_port);
        else
                ROW(l, "SSH:", "port %u", (unsigned)a->ssh_port);
        if (conflict)
                SUB(l, RS_WARN, "! %s", err);
        if (n > 0 && !same && a->hardening)
                SUB(l, RS_WARN,
                    "! SSH moves from port %s to %u; the old port stays open until a login on "
                    "port %u (ssh -p %u) is seen. Let %u/tcp in at your provider's firewall (security group) "
                    "first, if it has one.",
                    now, (unsigned)a->ssh_port, (unsigned)a->ssh_port, (unsigned)a->ssh_port,
                    (unsigned)a->ssh_port);
        else if (n > 0 && !same)
                SUB(l, RS_NOTE, "sshd stays on port %s: only SSH hardening moves it", now);
}

size_t review_build(const struct answers *a, const struct review_facts *f, const struct phase *const *phases,
                    size_t n_phases, struct review_line **ret)
{
        struct lines l = { 0 };
        _cleanup_free_ char *ides = review_ide_names(a);
        bool any_ide = a->ides[0] != '\0';
        int title_w = 0;
        unsigned mb;

        account_rows(&l, a, f);
        ROW(&l, "IDEs:", "%s", ides);
        port_rows(&l, a, f);
        if (a->firewall) {
                char now[128], ssh[256];
                bool same = false;

                /* every port sshd listens on now stays open: with SSH hardening
                 * until a login on the new one, without it for good */
                if (sshd_ports(f, now, sizeof(now), &same, a->ssh_port) > 0 && !same && a->hardening)
                        snprintf(ssh, sizeof(ssh), "%u, and %s until a login on %u", (unsigned)a->ssh_port,
                                 now, (unsigned)a->ssh_port);
                else if (sshd_ports(f, now, sizeof(now), &same, a->ssh_port) > 0 && !same)
                        snprintf(ssh, sizeof(ssh), "%s and %u", now, (unsigned)a->ssh_port);
                else
                        snprintf(ssh, sizeof(ssh), "%u", (unsigned)a->ssh_port);
                if (a->rdp_listen == RDP_LISTEN_LOCALHOST)
                        ROW(&l, "Firewall:", "ufw lets in only SSH (%s); RDP goes through it", ssh);
                else
                        ROW(&l, "Firewall:", "ufw lets in only SSH (%s) and RDP (%u)", ssh,
                            (unsigned)a->rdp_port);
        } else
                ROW(&l, "Firewall:", "none (every listening port stays reachable)");
        {
                const char *on[4], *off[4];
                size_t n_on = 0, n_off = 0;
                char text[256] = "";
                if (a->hardening)
                        on[n_on++] = "SSH hardening";
                else
                        off[n_off++] = "SSH hardening";
                if (a->fail2ban)
                        on[n_on++] = "fail2ban";
                else
                        off[n_off++] = "fail2ban";
                if (a->copy_root_ssh_keys)
                        on[n_on++] = "root's SSH keys for the account";
                else
                        off[n_off++] = "root's SSH keys";
                if (a->upgrade)
                        on[n_on++] = "a system upgrade first";
                else
                        off[n_off++] = "system upgrade";
                for (size_t i = 0; i < n_on; i++)
                        snprintf(text + strlen(text), sizeof(text) - strlen(text), "%s%s", i ? ", " : "", on[i]);
                for (size_t i = 0; i < n_off; i++)
                        snprintf(text + strlen(text), sizeof(text) - strlen(text), "%s%s", i ? ", " : n_on ? "; no " : "no ",
                                 off[i]);
                ROW(&l, "Options:", "%s", text);
        }
        mb = review_download_mb(a, phases, n_phases);
        if (mb) {
                char fast[32], slow[32];
                fmt_duration(mb, 100, fast, sizeof(fast));
                fmt_duration(mb, 10, slow, sizeof(slow));
                ROW(&l, "Download:", "about %u MB of Debian packages%s%s (%s at 100 Mbit/s, %s at 10 Mbit/s)", mb,
                    a->upgrade ? " plus the upgrade" : "", any_ide ? ", plus the IDEs from their vendors" : "",
                    fast, slow);
        }
        add(&l, 0, 0, RS_HEAD, "Phases that will run:");
        for (size_t i = 0; i < n_phases; i++) {
                int w = (int)strlen(phases[i]->title);
                if (w > title_w)
                        title_w = w;
        }
        for (size_t i = 0; i < n_phases; i++) {
                const struct phase *p = phases[i];
                if (!phase_is_enabled(p, a))
                        continue;
                add(&l, 2, title_w + 2, RS_NORMAL, "%-*s  %s", title_w, p->title, p->summary ? p->summary : "");
        }
        *ret = l.v;
        return l.n;
}
