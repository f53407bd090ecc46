/* rdp.c — the rdp phase: xrdp and its Xorg back end on the chosen port,
 * XFCE as the session (the desktop phase made it the x-session-manager,
 * which xrdp's startwm.sh starts through /etc/X11/Xsession), TLS key access,
 * a narrow polkit rule, sound where Debian packages the xrdp module, and the
 * service enabled, started and seen listening.
 *
 * DESIGN: Debian's xrdp takes its TLS certificate from the ssl-cert
 * "snakeoil" pair; the key is readable by the ssl-cert group only, and xrdp
 * runs as the xrdp user, so that user joins the group. The port lives in
 * the [Globals] section of /etc/xrdp/xrdp.ini; only that one line is
 * changed (the file is backed up, and a rollback restores it and restarts
 * xrdp). polkit asks an RDP session, which is not a local seat, for an
 * administrator password when colord sets up the session's display and when
 * the software updater refreshes its sources; the rule lets members of
 * devusers do exactly those actions. */
#include "rdp.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "ops.h"
#include "phases.h"
#include "sysfile.h"

#define XRDP_INI       "/etc/xrdp/xrdp.ini"
#define POLKIT_DIR     "/etc/polkit-1"
#define POLKIT_RULES   POLKIT_DIR "/rules.d"
#define POLKIT_RULE    POLKIT_RULES "/45-vps-provision-rdp.rules"
#define LISTEN_WAIT_MS 20000

const char *const rdp_polkit_actions[] = {
        "org.freedesktop.color-manager.create-device",
        "org.freedesktop.color-manager.create-profile",
        "org.freedesktop.color-manager.delete-device",
        "org.freedesktop.color-manager.delete-profile",
        "org.freedesktop.color-manager.modify-device",
        "org.freedesktop.color-manager.modify-profile",
        "org.freedesktop.packagekit.system-sources-refresh",
        NULL,
};

const char rdp_polkit_rule[] =
        "// Written by vps-provision (rdp phase); removed by its rollback.\n"
        "//\n"
        "// An RDP session is not a local seat, so polkit's defaults ask for an\n"
        "// administrator password when colord sets up the session's display and\n"
        "// when the software updater refreshes its sources. Members of the\n"
        "// " RDP_POLKIT_GROUP " group may do exactly these actions without one; any\n"
        "// other action, and any other user, is left to the other rules.\n"
        "polkit.addRule(function(action, subject) {\n"
        "        var allowed = [\n"
        "                \"org.freedesktop.color-manager.create-device\",\n"
        "                \"org.freedesktop.color-manager.create-profile\",\n"
        "                \"org.freedesktop.color-manager.delete-device\",\n"
        "                \"org.freedesktop.color-manager.delete-profile\",\n"
        "                \"org.freedesktop.color-manager.modify-device\",\n"
        "                \"org.freedesktop.color-manager.modify-profile\",\n"
        "                \"org.freedesktop.packagekit.system-sources-refresh\"\n"
        "        ];\n"
        "        if (allowed.indexOf(action.id) >= 0 && subject.isInGroup(\"" RDP_POLKIT_GROUP "\")) {\n"
        "                return polkit.Result.YES;\n"
        "        }\n"
        "        return polkit.Result.NOT_HANDLED;\n"
        "});\n";

/* One line of an INI text: [start, start+len), without its newline. */
struct ini_line {
        const char *start;
        size_t len;
};

static bool ini_next(const char **p, struct ini_line *ret)
{
        const char *end;

        if (!*p || !**p)
                return false;
        end = strchr(*p, '\n');
        ret->start = *p;
        ret->len = end ? (size_t)(end - *p) : strlen(*p);
        *p = end ? end + 1 : *p + ret->len;
        return true;
}

/* Skips leading blanks of a line, shrinking len. */
static const char *ini_lstrip(const struct ini_line *l, size_t *len)
{
        const char *s = l->start;
        *len = l->len;
        while (*len && (*s == ' ' || *s == '\t')) {
                s++;
                (*len)--;
        }
        return s;
}

/* 1 when the line is a section header; the name is copied into buf. */
static int ini_section(const struct ini_line *l, char *buf, size_t size)
{
        size_t len, n;
        const char *s = ini_lstrip(l, &len);
        const char *close;

        if (len < 2 || s[0] != '[')
                return 0;
        close = memchr(s, ']', len);
        if (!close)
                return 0;
        n = (size_t)(close - s - 1);
        if (n >= size)
                n = size - 1;
        memcpy(buf, s + 1, n);
        buf[n] = '\0';
        return 1;
}

/* When the line is "port = VALUE", points *val at VALUE (trimmed, length in
 * *vlen) and returns true. */
static bool ini_port_line(const struct ini_line *l, const char **val, size_t *vlen)
{
        size_t len;
        const char *s = ini_lstrip(l, &len);

        if (len < 5 || strncasecmp(s, "port", 4) != 0)
                return false;
        s += 4;
        len -= 4;
        while (len && (*s == ' ' || *s == '\t')) {
                s++;
                len--;
        }
        if (!len || *s != '=')
                return false;
        s++;
        len--;
        while (len && (*s == ' ' || *s == '\t')) {
                s++;
                len--;
        }
        while (len && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\r'))
                len--;
        *val = s;
        *vlen = len;
        return true;
}

/* Finds [Globals] and its first port line. Returns -ENOENT without the
 * section; otherwise 0 with *ret_header (the header line) set and
 * *ret_port set when the key exists (else ret_port->start is NULL). */
static int ini_find_port(const char *ini, struct ini_line *ret_header, struct ini_line *ret_port)
{
        const char *p = ini;
        struct ini_line l;
        bool in_globals = false, found = false;

        ret_port->start = NULL;
        ret_port->len = 0;
        while (ini_next(&p, &l)) {
                char name[64];
                const char *v;
                size_t vl;

                if (ini_section(&l, name, sizeof(name))) {
                        if (in_globals)
                                break;   /* [Globals] ended without a port */
                        in_globals = strcasecmp(name, "Globals") == 0;
                        if (in_globals) {
                                *ret_header = l;
                                found = true;
                        }
                        continue;
                }
                if (in_globals && ini_port_line(&l, &v, &vl)) {
                        *ret_port = l;
                        return 0;
                }
        }
        return found ? 0 : -ENOENT;
}

int rdp_ini_get_port(const char *ini, char *buf, size_t size)
{
        struct ini_line header, port;
        const char *v;
        size_t vl;
        int r;

        r = ini_find_port(ini, &header, &port);
        if (r < 0)
                return r;
        if (!port.start)
                return -ENOENT;
        ini_port_line(&port, &v, &vl);
        if (vl >= size)
                return -ENOBUFS;
        memcpy(buf, v, vl);
        buf[vl] = '\0';
        return 0;
}

int rdp_ini_set_port(const char *ini, uint16_t port, char **ret)
{
        struct ini_line header, line;
        char want[16], have[64];
        struct buf b;
        const char *cut;
        size_t cut_len;
        int r;

        r = ini_find_port(ini, &header, &line);
        if (r < 0)
                return r;
        snprintf(want, sizeof(want), "%u", (unsigned)port);
        if (line.start && rdp_ini_get_port(ini, have, sizeof(have)) == 0 &&
            strcmp(have, want) == 0)
                return 1;

        buf_init(&b, 64u << 20);
        if (line.start) {
                /* replace the line, keeping a "\r" of a CRLF file */
                cut = line.start;
                cut_len = line.len;
                if (cut_len && cut[cut_len - 1] == '\r')
                        cut_len--;
                buf_append(&b, ini, (size_t)(cut - ini));
                buf_printf(&b, "port=%s", want);
                buf_append(&b, cut + cut_len, strlen(cut + cut_len));
        } else {
                /* insert after the header line (and its newline, if any) */
                const char *after = header.start + header.len;
                bool crlf = header.len && header.start[header.len - 1] == '\r';
                if (*after == '\n')
                        after++;
                buf_append(&b, ini, (size_t)(after - ini));
                if (after == header.start + header.len)
                        buf_append(&b, "\n", 1);   /* the header was the last line, unterminated */
                buf_printf(&b, "port=%s%s\n", want, crlf ? "\r" : "");
                buf_append(&b, after, strlen(after));
        }
        *ret = buf_steal(&b);
        return 0;
}

/* The packages of the phase for these answers on this machine. */
static int rdp_packages(struct phase_ctx *c, char ***ret, bool *ret_sound_packaged)
{
        static const char *const base[] = { "xrdp", "xorgxrdp", "ssl-cert", "polkitd", NULL };
        const struct answers *a = phase_answers(c);
        char **w = NULL;
        bool sound_packaged = false;

        for (size_t i = 0; base[i]; i++)
                strv_push(&w, base[i]);
        if (a->sound) {
                int r = ops_apt_has(c, RDP_SOUND_MODULE);
                if (r < 0) {
                        strv_free(w);
                        return r;
                }
                sound_packaged = r == 1;
                if (sound_packaged)
                        strv_push(&w, RDP_SOUND_MODULE);
        }
        *ret = w;
        if (ret_sound_packaged)
                *ret_sound_packaged = sound_packaged;
        return 0;
}

/* 1 when the system user xrdp exists (xrdp 0.10 runs as it). */
static int xrdp_user_exists(struct phase_ctx *c)
{
        const char *const argv[] = { "getent", "passwd", "xrdp", NULL };
        _cleanup_free_ char *out = NULL;
        int r = ops_query(c, argv, &out);
        return r < 0 ? r : r == 0;
}

const char *rdp_plan_sound_note(struct phase_ctx *c)
{
        /* xfce4 is in every release this program supports: without a
         * candidate for it the lists are simply empty */
        if (ops_apt_has(c, "xfce4") != 1)
                return "sound: decided after apt-get update (this server's package lists are empty now)";
        return "sound skipped: this Debian release has no xrdp sound module (" RDP_SOUND_MODULE ")";
}

static void rdp_inputs(const struct answers *a, struct sha256_ctx *d)
{
        char line[64];
        int n = snprintf(line, sizeof(line), "rdp_port=%u\nsound=%d\n", (unsigned)a->rdp_port,
                         a->sound);
        sha256_add(d, line, (size_t)n);
}

static int rdp_plan(struct phase_ctx *c)
{
        const struct answers *a = phase_answers(c);
        _cleanup_strv_ char **pkgs = NULL;
        _cleanup_free_ char *list = NULL;
        bool sound_packaged = false;
        int r;

        r = rdp_packages(c, &pkgs, &sound_packaged);
        if (r < 0)
                return r;
        list = strv_join(pkgs, " ");
        phase_plan(c, "PACKAGE_INSTALL", list, "xrdp with its Xorg back end%s: %s",
                   sound_packaged ? " and sound" : "", list);
        if (a->sound && !sound_packaged)
                phase_plan(c, "COMMAND_EXEC", "sound", "%s", rdp_plan_sound_note(c));
        phase_plan(c, "USER_MODIFY", "xrdp", "xrdp joins ssl-cert (reads the TLS key)");
        phase_plan(c, "FILE_CREATE", POLKIT_RULE,
                   "members of " RDP_POLKIT_GROUP " set up colour management and refresh software sources without a password");
        phase_plan(c, "FILE_MODIFY", XRDP_INI, "xrdp listens on port %u", (unsigned)a->rdp_port);
        phase_plan(c, "SERVICE_ENABLE", "xrdp", "enabled, started, seen listening on port %u",
                   (unsigned)a->rdp_port);
        return 0;
}

static int rdp_verify(struct phase_ctx *c)
{
        const struct answers *a = phase_answers(c);
        _cleanup_strv_ char **pkgs = NULL, **missing = NULL;
        _cleanup_free_ char *ini = NULL;
        char port[64] = "", want[16];
        int done = 1, r;

        r = rdp_packages(c, &pkgs, NULL);
        if (r < 0)
                return r;
        r = ops_pkgs_missing(c, (const char *const *)pkgs, &missing);
        if (r < 0)
                return r;
        if (missing) {
                _cleanup_free_ char *names = strv_join(missing, ", ");
                phase_verify_note(c, "not installed: %s", names);
                return 0;   /* the rest cannot be in place either */
        }
        if (xrdp_user_exists(c) == 1 && !sysfile_user_in_group("xrdp", "ssl-cert")) {
                phase_verify_note(c, "the xrdp user is not in the ssl-cert group");
                done = 0;
        }
        if (!sysfile_is(POLKIT_RULE, rdp_polkit_rule, 0644, 0, 0)) {
                phase_verify_note(c, "%s is missing or differs", POLKIT_RULE);
                done = 0;
        }
        snprintf(want, sizeof(want), "%u", (unsigned)a->rdp_port);
        if (read_file(XRDP_INI, 16u << 20, &ini, NULL) < 0 ||
            rdp_ini_get_port(ini, port, sizeof(port)) < 0 || strcmp(port, want) != 0) {
                phase_verify_note(c, "%s sets port %s, not %s", XRDP_INI, port[0] ? port : "(none)",
                                  want);
                done = 0;
        }
        r = ops_unit_active(c, "xrdp");
        if (r < 0)
                return r;
        if (r == 0) {
                phase_verify_note(c, "xrdp is not running");
                done = 0;
        } else {
                r = sysfile_tcp_listening(NULL, a->rdp_port);
                if (r <= 0) {
                        phase_verify_note(c, "nothing listens on TCP port %s", want);
                        done = 0;
                }
        }
        phase_verify_digest(c, "port=%s active=%d", port, done);
        return done;
}

/* Waits until something listens on port, up to LISTEN_WAIT_MS. */
static int wait_listening(struct phase_ctx *c, uint16_t port)
{
        int r = ops_wait_listening(c, port, LISTEN_WAIT_MS);

        if (r == 0)
                return phase_fail(c, -ETIMEDOUT,
                                  "xrdp is running but nothing listens on TCP port %u after %d s; see journalctl -u xrdp (is the port taken by another program? ss -ltnp)",
                                  (unsigned)port, LISTEN_WAIT_MS / 1000);
        return r < 0 ? r : 0;
}

static int rdp_run(struct phase_ctx *c)
{
        const struct answers *a = phase_answers(c);
        _cleanup_strv_ char **pkgs = NULL;
        _cleanup_free_ char *ini = NULL, *neu = NULL;
        bool sound_packaged = false, restart = false;
        struct stat st;
        int r, was_active;

        r = rdp_packages(c, &pkgs, &sound_packaged);
        if (r < 0)
                return phase_fail(c, r, "cannot ask apt about the xrdp packages: %s", strerror(-r));
        if (a->sound && !sound_packaged)
                phase_log(c, LOG_WARNING,
                          "sound over RDP skipped: this Debian release has no xrdp sound module (" RDP_SOUND_MODULE "; Debian 13 has it)");

        phase_action_begin(c, "PACKAGE_INSTALL", "xrdp", "Installing xrdp");
        r = phase_action_end(c, ops_apt_install(c, (const char *const *)pkgs, 0, 0.0, 0.6));
        if (r < 0)
                return r;

        r = xrdp_user_exists(c);
        if (r < 0)
                return phase_fail(c, r, "cannot look up the xrdp user: %s", strerror(-r));
        if (r == 1) {
                phase_action_begin(c, "USER_MODIFY", "xrdp",
                                   "Letting xrdp read its TLS key (group ssl-cert)");
                r = phase_action_end(c, ops_group_add_member(c, "xrdp", "ssl-cert"));
                if (r < 0)
                        return r;
                restart |= r == 0;
        } else
                phase_log(c, LOG_INFO, "no xrdp user: xrdp runs as root here and reads its key as root");
        phase_progress(c, 0.65, NULL);

        phase_action_begin(c, "FILE_CREATE", POLKIT_RULE,
                           "No password prompts for colour management and source refresh in RDP sessions");
        r = ops_mkdir(c, POLKIT_DIR, 0755, 0, 0);
        if (r >= 0)
                r = ops_mkdir(c, POLKIT_RULES, 0755, 0, 0);
        if (r >= 0)
                r = ops_write_file(c, POLKIT_RULE, rdp_polkit_rule, strlen(rdp_polkit_rule), 0644,
                                   0, 0);
        r = phase_action_end(c, r);
        if (r < 0)
                return r;
        phase_progress(c, 0.7, NULL);

        r = read_file(XRDP_INI, 16u << 20, &ini, NULL);
        if (r < 0)
                return phase_fail(c, r, "cannot read %s: %s (is xrdp installed?)", XRDP_INI,
                                  strerror(-r));
        r = rdp_ini_set_port(ini, a->rdp_port, &neu);
        if (r == -ENOENT)
                return phase_fail(c, r,
                                  "%s has no [Globals] section; restore the file of the xrdp package (apt-get install --reinstall -o Dpkg::Options::=--force-confask xrdp) and run again",
                                  XRDP_INI);
        if (r == 0) {
                if (stat(XRDP_INI, &st) < 0)
                        return phase_fail(c, -errno, "cannot look at %s: %m", XRDP_INI);
                phase_action_begin(c, "FILE_MODIFY", XRDP_INI, "xrdp listens on port %u",
                                   (unsigned)a->rdp_port);
                r = ops_unit_restart_on_undo(c, "xrdp");
                if (r >= 0)
                        r = ops_write_file(c, XRDP_INI, neu, strlen(neu), st.st_mode & 07777,
                                           st.st_uid, st.st_gid);
                r = phase_action_end(c, r);
                if (r < 0)
                        return r;
                restart = true;
        }
        phase_progress(c, 0.75, NULL);

        /* a running xrdp read the old port and groups: restart it; one that
         * is not running reads the new ones when enable --now starts it */
        was_active = ops_unit_active(c, "xrdp");
        if (was_active < 0)
                return phase_fail(c, was_active, "cannot ask systemctl about xrdp: %s",
                                  strerror(-was_active));
        phase_action_begin(c, "SERVICE_ENABLE", "xrdp", "Starting xrdp");
        r = ops_unit_enable(c, "xrdp-sesman", true);
        if (r >= 0)
                r = ops_unit_enable(c, "xrdp", true);
        if (r >= 0 && restart && was_active)
                r = ops_unit_restart(c, "xrdp", false);
        if (r >= 0) {
                phase_progress(c, 0.85, "waiting for xrdp to listen on port %u",
                               (unsigned)a->rdp_port);
                r = wait_listening(c, a->rdp_port);
        }
        r = phase_action_end(c, r);
        if (r < 0)
                return r;
        phase_log(c, LOG_INFO, "xrdp listens on TCP port %u", (unsigned)a->rdp_port);
        phase_progress(c, 1.0, NULL);
        return 0;
}

const struct phase phase_rdp = {
        .id = "rdp",
        .title = "Remote desktop (xrdp)",
        .summary = "xrdp on the chosen port with XFCE, TLS key access, polkit rule, sound",
        .weight = 9,
        /* apt-get --print-uris on a fresh Debian 13: xrdp and xorgxrdp; most of what they need came with the desktop */
        .download_mb = 5,
        .inputs = rdp_inputs,
        .plan = rdp_plan,
        .verify = rdp_verify,
        .run = rdp_run,
};
