/* rdp.c — the rdp phase: xrdp and its Xorg back end on the chosen port,
 * XFCE as the session (the desktop phase made it the x-session-manager,
 * which xrdp's startwm.sh starts through /etc/X11/Xsession), TLS key access,
 * a narrow polkit rule, sound where Debian packages the xrdp module, and the
 * service enabled, started and seen listening.
 *
 * DESIGN: Debian's xrdp takes its TLS certificate from the ssl-cert
 * "snakeoil" pair; the key is readable by the ssl-cert group only, and xrdp
 * runs as the xrdp user, so that user joins the group. The port lives in
 * the [Globals] section of /etc/xrdp/xrdp.ini, next to security_layer, set
 * to tls: upstream's "negotiate" lets a client pick classic RDP security
 * (RC4). sesman.ini's [Security] AllowRootLogin goes to false: root may not
 * log in over RDP, as over SSH with a password. Only those lines change
 * (each file is backed up; a rollback restores it and restarts its
 * service). The hardening phase adds a fail2ban jail for failed RDP logins,
 * and the summary shows the certificate's fingerprint. polkit asks an RDP session, which is not a local seat, for an
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

/* When the line is "KEY = VALUE" (key without case), points *val at VALUE
 * (trimmed, length in *vlen) and returns true. */
static bool ini_key_line(const struct ini_line *l, const char *key, const char **val, size_t *vlen)
{
        size_t len, klen = strlen(key);
        const char *s = ini_lstrip(l, &len);

        if (len < klen + 1 || strncasecmp(s, key, klen) != 0)
                return false;
        s += klen;
        len -= klen;
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

/* Finds [section] and its first key line. Returns -ENOENT without the
 * section; otherwise 0 with *ret_header (the header line) set and
 * *ret_line set when the key exists (else ret_line->start is NULL). */
static int ini_find(const char *ini, const char *section, const char *key,
                    struct ini_line *ret_header, struct ini_line *ret_line)
{
        const char *p = ini;
        struct ini_line l;
        bool in_section = false, found = false;

        ret_line->start = NULL;
        ret_line->len = 0;
        while (ini_next(&p, &l)) {
                char name[64];
                const char *v;
                size_t vl;

                if (ini_section(&l, name, sizeof(name))) {
                        if (in_section)
                                break;   /* the section ended without the key */
                        in_section = strcasecmp(name, section) == 0;
                        if (in_section) {
                                *ret_header = l;
                                found = true;
                        }
                        continue;
                }
                if (in_section && ini_key_line(&l, key, &v, &vl)) {
                        *ret_line = l;
                        return 0;
                }
        }
        return found ? 0 : -ENOENT;
}

int rdp_ini_get(const char *ini, const char *section, const char *key, char *buf, size_t size)
{
        struct ini_line header, line;
        const char *v;
        size_t vl;
        int r;

        r = ini_find(ini, section, key, &header, &line);
        if (r < 0)
                return r;
        if (!line.start)
                return -ENOENT;
        ini_key_line(&line, key, &v, &vl);
        if (vl >= size)
                return -ENOBUFS;
        memcpy(buf, v, vl);
        buf[vl] = '\0';
        return 0;
}

int rdp_ini_set(const char *ini, const char *section, const char *key, const char *value,
                char **ret)
{
        struct ini_line header, line;
        char have[256];
        struct buf b;
        const char *cut;
        size_t cut_len;
        int r;

        r = ini_find(ini, section, key, &header, &line);
        if (r < 0)
                return r;
        if (line.start && rdp_ini_get(ini, section, key, have, sizeof(have)) == 0 &&
            strcmp(have, value) == 0)
                return 1;

        buf_init(&b, 64u << 20);
        if (line.start) {
                /* replace the line, keeping a "\r" of a CRLF file */
                cut = line.start;
                cut_len = line.len;
                if (cut_len && cut[cut_len - 1] == '\r')
                        cut_len--;
                buf_append(&b, ini, (size_t)(cut - ini));
                buf_printf(&b, "%s=%s", key, value);
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
                buf_printf(&b, "%s=%s%s\n", key, value, crlf ? "\r" : "");
                buf_append(&b, after, strlen(after));
        }
        *ret = buf_steal(&b);
        return 0;
}

int rdp_ini_get_port(const char *ini, char *buf, size_t size)
{
        return rdp_ini_get(ini, "Globals", "port", buf, size);
}

int rdp_ini_set_port(const char *ini, uint16_t port, char **ret)
{
        char want[16];

        snprintf(want, sizeof(want), "%u", (unsigned)port);
        return rdp_ini_set(ini, "Globals", "port", want, ret);
}

void rdp_port_value(uint16_t port, bool localhost, char *buf, size_t size)
{
        if (localhost)
                snprintf(buf, size, "tcp://127.0.0.1:%u", (unsigned)port);
        else
                snprintf(buf, size, "%u", (unsigned)port);
}

int rdp_xrdp_ini(const char *ini, uint16_t port, bool localhost, char **ret)
{
        _cleanup_free_ char *a = NULL, *b = NULL;
        char want[40];
        int r1, r2;

        rdp_port_value(port, localhost, want, sizeof(want));
        r1 = rdp_ini_set(ini, "Globals", "port", want, &a);
        if (r1 < 0)
                return r1;
        r2 = rdp_ini_set(a ? a : ini, "Globals", "security_layer", RDP_SECURITY_LAYER, &b);
        if (r2 < 0)
                return r2;
        if (r1 == 1 && r2 == 1)
                return 1;
        *ret = b ? TAKE_PTR(b) : TAKE_PTR(a);
        return 0;
}

int rdp_sesman_ini(const char *ini, char **ret)
{
        return rdp_ini_set(ini, "Security", "AllowRootLogin", "false", ret);
}

int rdp_cert_path(const char *ini, char *buf, size_t size)
{
        char v[PATH_MAX];
        int w;

        if (rdp_ini_get(ini, "Globals", "certificate", v, sizeof(v)) < 0 || !v[0])
                w = snprintf(buf, size, "%s", XRDP_DIR "/cert.pem");
        else if (v[0] == '/')
                w = snprintf(buf, size, "%s", v);
        else
                w = snprintf(buf, size, "%s/%s", XRDP_DIR, v);
        return w < 0 || (size_t)w >= size ? -ENOBUFS : 0;
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
        int n = snprintf(line, sizeof(line), "rdp_port=%u\nsound=%d\nlisten=%s\n",
                         (unsigned)a->rdp_port, a->sound, rdp_listen_name(a->rdp_listen));
        sha256_add(d, line, (size_t)n);
}

static int rdp_plan(struct phase_ctx *c)
{
        const struct answers *a = phase_answers(c);
        _cleanup_strv_ char **pkgs = NULL;
        _cleanup_free_ char *list = NULL;
        bool sound_packaged = false, local = a->rdp_listen == RDP_LISTEN_LOCALHOST;
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
        phase_plan(c, "FILE_MODIFY", XRDP_INI, "xrdp listens on port %u%s, TLS only",
                   (unsigned)a->rdp_port, local ? " of 127.0.0.1 only (reached through ssh -L)" : "");
        phase_plan(c, "FILE_MODIFY", SESMAN_INI, "root may not log in over RDP");
        phase_plan(c, "SERVICE_ENABLE", "xrdp", "enabled, started, seen listening on port %u",
                   (unsigned)a->rdp_port);
        return 0;
}

static int rdp_verify(struct phase_ctx *c)
{
        const struct answers *a = phase_answers(c);
        _cleanup_strv_ char **pkgs = NULL, **missing = NULL;
        _cleanup_free_ char *ini = NULL, *sesman = NULL;
        char port[64] = "", want[40], layer[64] = "", root[64] = "";
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
        rdp_port_value(a->rdp_port, a->rdp_listen == RDP_LISTEN_LOCALHOST, want, sizeof(want));
        if (read_file(XRDP_INI, 16u << 20, &ini, NULL) < 0 ||
            rdp_ini_get_port(ini, port, sizeof(port)) < 0 || strcmp(port, want) != 0) {
                phase_verify_note(c, "%s sets port %s, not %s", XRDP_INI, port[0] ? port : "(none)",
                                  want);
                done = 0;
        }
        if (!ini || rdp_ini_get(ini, "Globals", "security_layer", layer, sizeof(layer)) < 0 ||
            strcasecmp(layer, RDP_SECURITY_LAYER) != 0) {
                phase_verify_note(c, "%s sets security_layer %s, not " RDP_SECURITY_LAYER, XRDP_INI,
                                  layer[0] ? layer : "(none)");
                done = 0;
        }
        if (read_file(SESMAN_INI, 16u << 20, &sesman, NULL) < 0 ||
            rdp_ini_get(sesman, "Security", "AllowRootLogin", root, sizeof(root)) < 0 ||
            strcasecmp(root, "false") != 0) {
                phase_verify_note(c, "%s lets root log in over RDP (AllowRootLogin %s)", SESMAN_INI,
                                  root[0] ? root : "not set: true");
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
                        phase_verify_note(c, "nothing listens on TCP port %u", (unsigned)a->rdp_port);
                        done = 0;
                } else if (a->rdp_listen == RDP_LISTEN_LOCALHOST &&
                           sysfile_tcp_listening_beyond_loopback(NULL, a->rdp_port) != 0) {
                        phase_verify_note(c, "TCP port %u listens on more than 127.0.0.1",
                                          (unsigned)a->rdp_port);
                        done = 0;
                }
        }
        phase_verify_digest(c, "port=%s layer=%s root=%s active=%d", port, layer, root, done);
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

/* Sets what the phase wants in one of xrdp's INI files (xrdp.ini: the port
 * and TLS only; sesman.ini: no root login), journaled with a restart of
 * unit on undo. *ret_restart is set when the file changed. */
static int edit_ini(struct phase_ctx *c, const char *path, uint16_t port, bool localhost,
                    const char *unit, bool *ret_restart)
{
        _cleanup_free_ char *ini = NULL, *neu = NULL;
        bool xrdp = strcmp(path, XRDP_INI) == 0;
        struct stat st;
        int r;

        r = read_file(path, 16u << 20, &ini, NULL);
        if (r < 0)
                return phase_fail(c, r, "cannot read %s: %s (is xrdp installed?)", path,
                                  strerror(-r));
        r = xrdp ? rdp_xrdp_ini(ini, port, localhost, &neu) : rdp_sesman_ini(ini, &neu);
        if (r == -ENOENT)
                return phase_fail(c, r,
                                  "%s has no [%s] section; restore the file of the xrdp package (apt-get install --reinstall -o Dpkg::Options::=--force-confask xrdp) and run again",
                                  path, xrdp ? "Globals" : "Security");
        if (r != 0)
                return r < 0 ? r : 0;
        if (stat(path, &st) < 0)
                return phase_fail(c, -errno, "cannot look at %s: %m", path);
        if (xrdp)
                phase_action_begin(c, "FILE_MODIFY", path, "xrdp listens on port %u%s, TLS only",
                                   (unsigned)port, localhost ? " of 127.0.0.1 only" : "");
        else
                phase_action_begin(c, "FILE_MODIFY", path, "No root login over RDP");
        r = ops_unit_restart_on_undo(c, unit);
        if (r >= 0)
                r = ops_write_file(c, path, neu, strlen(neu), st.st_mode & 07777, st.st_uid,
                                   st.st_gid);
        r = phase_action_end(c, r);
        if (r >= 0)
                *ret_restart = true;
        return r < 0 ? r : 0;
}

static int rdp_run(struct phase_ctx *c)
{
        const struct answers *a = phase_answers(c);
        _cleanup_strv_ char **pkgs = NULL;
        bool sound_packaged = false, restart = false, restart_sesman = false;
        int r, was_active, was_sesman;

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

        r = edit_ini(c, XRDP_INI, a->rdp_port, a->rdp_listen == RDP_LISTEN_LOCALHOST, "xrdp",
                     &restart);
        if (r < 0)
                return r;
        r = edit_ini(c, SESMAN_INI, 0, false, "xrdp-sesman", &restart_sesman);
        if (r < 0)
                return r;
        phase_progress(c, 0.75, NULL);

        /* a running xrdp read the old port and groups: restart it; one that
         * is not running reads the new ones when enable --now starts it */
        was_active = ops_unit_active(c, "xrdp");
        if (was_active < 0)
                return phase_fail(c, was_active, "cannot ask systemctl about xrdp: %s",
                                  strerror(-was_active));
        phase_action_begin(c, "SERVICE_ENABLE", "xrdp", "Starting xrdp");
        was_sesman = ops_unit_active(c, "xrdp-sesman");
        if (was_sesman < 0)
                return phase_action_end(c, phase_fail(c, was_sesman,
                        "cannot ask systemctl about xrdp-sesman: %s", strerror(-was_sesman)));
        r = ops_unit_enable(c, "xrdp-sesman", true);
        if (r >= 0)
                r = ops_unit_enable(c, "xrdp", true);
        if (r >= 0 && restart_sesman && was_sesman)
                r = ops_unit_restart(c, "xrdp-sesman", false);
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
        phase_log(c, LOG_INFO, "xrdp listens on TCP port %u%s", (unsigned)a->rdp_port,
                  a->rdp_listen == RDP_LISTEN_LOCALHOST ? " of 127.0.0.1 only" : "");
        phase_progress(c, 1.0, NULL);
        return 0;
}

const struct phase phase_rdp = {
        .id = "rdp",
        .title = "Remote desktop (xrdp)",
        .summary = "xrdp on the chosen port with XFCE, TLS only, no root login, polkit rule, sound",
        .weight = 4,
        /* apt-get --print-uris on a fresh Debian 13: xrdp and xorgxrdp; most of what they need came with the desktop */
        .download_mb = 5,
        .inputs = rdp_inputs,
        .plan = rdp_plan,
        .verify = rdp_verify,
        .run = rdp_run,
};
