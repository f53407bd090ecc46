/* probe.c — read-only system probes for the phases (see probe.h). */
#include "probe.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ops.h"

/* Whether word is one apt reads as "keep this package out" ("lightdm-"). */
static bool is_exclusion(const char *word)
{
        size_t n = strlen(word);
        return n > 1 && word[n - 1] == '-';
}

/* Finds "name" as the package of one dpkg-query line and says whether that
 * line's status means installed. */
static bool dpkg_line_installed(const char *out, const char *name)
{
        size_t nl = strlen(name);

        for (const char *l = out; l && *l;) {
                const char *end = strchr(l, '\n');
                size_t len = end ? (size_t)(end - l) : strlen(l);

                /* "ii  xfce4": three status characters, a space, the name */
                if (len == 4 + nl && memcmp(l + 4, name, nl) == 0 && l[3] == ' ')
                        return l[1] == 'i' && l[2] == ' ';
                l = end ? end + 1 : NULL;
        }
        return false;
}

int probe_parse_dpkg_status(const char *out, const char *const *pkgs, char ***ret_missing)
{
        char **missing = NULL;

        for (size_t i = 0; pkgs[i]; i++) {
                if (is_exclusion(pkgs[i]))
                        continue;
                if (!dpkg_line_installed(out ? out : "", pkgs[i]))
                        strv_push(&missing, pkgs[i]);
        }
        *ret_missing = missing;
        return 0;
}

/* dpkg-query's view of pkgs (exclusions left out); *ret_out caller frees. */
static int dpkg_query(struct phase_ctx *c, const char *const *pkgs, char **ret_out)
{
        _cleanup_free_ const char **argv = NULL;
        size_t n = 0, k = 0;
        int r;

        while (pkgs[n])
                n++;
        argv = xcalloc(n + 6, sizeof(*argv));
        argv[k++] = "dpkg-query";
        argv[k++] = "-W";
        argv[k++] = "-f";
        argv[k++] = "${db:Status-Abbrev} ${Package}\n";
        argv[k++] = "--";
        for (size_t i = 0; i < n; i++)
                if (!is_exclusion(pkgs[i]))
                        argv[k++] = pkgs[i];
        argv[k] = NULL;
        /* exit status 1 only means "some name is unknown to dpkg": the
         * lines for the known ones are still printed */
        r = ops_query(c, argv, ret_out);
        return r < 0 ? r : 0;
}

int probe_missing_packages(struct phase_ctx *c, const char *const *pkgs, char ***ret_missing)
{
        _cleanup_free_ char *out = NULL;
        int r;

        r = dpkg_query(c, pkgs, &out);
        if (r < 0)
                return r;
        return probe_parse_dpkg_status(out, pkgs, ret_missing);
}

int probe_installed_subset(struct phase_ctx *c, const char *const *pkgs, char ***ret_installed)
{
        _cleanup_free_ char *out = NULL;
        char **have = NULL;
        int r;

        r = dpkg_query(c, pkgs, &out);
        if (r < 0)
                return r;
        for (size_t i = 0; pkgs[i]; i++)
                if (!is_exclusion(pkgs[i]) && dpkg_line_installed(out, pkgs[i]))
                        strv_push(&have, pkgs[i]);
        *ret_installed = have;
        return 0;
}

bool probe_parse_candidate(const char *out)
{
        const char *p = out ? strstr(out, "Candidate:") : NULL;

        if (!p)
                return false;
        p += strlen("Candidate:");
        while (*p == ' ' || *p == '\t')
                p++;
        return *p && *p != '\n' && !startswith(p, "(none)");
}

int probe_apt_has(struct phase_ctx *c, const char *pkg)
{
        const char *const argv[] = { "apt-cache", "policy", "--", pkg, NULL };
        _cleanup_free_ char *out = NULL;
        int r;

        r = ops_query(c, argv, &out);
        if (r < 0)
                return r;
        return r == 0 && probe_parse_candidate(out) ? 1 : 0;
}

const char *probe_plan_sound_note(struct phase_ctx *c)
{
        /* xfce4 is in every release this program supports: without a
         * candidate for it the lists are simply empty */
        if (probe_apt_has(c, "xfce4") != 1)
                return "sound: decided after apt-get update (this server's package lists are empty now)";
        return "sound skipped: this Debian release has no xrdp sound module (pipewire-module-xrdp)";
}

bool probe_parse_proc_net_tcp(const char *text, uint16_t port)
{
        const char *l = text ? strchr(text, '\n') : NULL;   /* the first line is a header */

        while (l && *++l) {
                unsigned lport = 0, state = 0;
                char local[64], line[256];
                size_t len = strcspn(l, "\n");

                /* one line at a time: sscanf's spaces would skip a newline and
                 * read a short line's missing fields from the next one (the
                 * fields looked at are all in a line's first 100 bytes) */
                if (len >= sizeof(line))
                        len = sizeof(line) - 1;
                memcpy(line, l, len);
                line[len] = '\0';
                /* "   0: 00000000:0D3D 00000000:0000 0A …" (tcp6: 32 hex digits) */
                if (sscanf(line, " %*u: %63[0-9A-Fa-f]:%x %*[0-9A-Fa-f]:%*x %x", local, &lport,
                           &state) == 3 &&
                    lport == port && state == 0x0A)
                        return true;
                l = strchr(l, '\n');
        }
        return false;
}

int probe_tcp_listening(const char *proc, uint16_t port)
{
        static const char *const names[] = { "net/tcp", "net/tcp6" };
        int read_ok = 0, last = -ENOENT;

        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                _cleanup_free_ char *text = NULL;
                char path[512];
                int r;

                if (snprintf(path, sizeof(path), "%s/%s", proc, names[i]) >= (int)sizeof(path))
                        return -ENAMETOOLONG;
                r = read_file(path, 64u << 20, &text, NULL);
                if (r < 0) {
                        last = r;   /* no IPv6 in this kernel: tcp6 is missing */
                        continue;
                }
                read_ok++;
                if (probe_parse_proc_net_tcp(text, port))
                        return 1;
        }
        return read_ok ? 0 : last;
}

int probe_wait_tcp_listening(struct phase_ctx *c, uint16_t port, unsigned timeout_ms)
{
        int64_t end = now_ms() + timeout_ms;

        for (;;) {
                if (probe_tcp_listening("/proc", port) == 1)
                        return 1;
                if (now_ms() > end)
                        return 0;
                if (c && phase_cancel_requested(c))
                        return -ECANCELED;
                sleep_ms(250);
        }
}

int probe_file_equals(const char *path, const char *data, size_t len)
{
        _cleanup_free_ char *have = NULL;
        size_t have_len = 0;

        if (read_file(path, len + 1, &have, &have_len) < 0)
                return 0;
        return have_len == len && memcmp(have, data, len) == 0;
}

bool probe_parse_group_member(const char *etc_group, const char *group, const char *user)
{
        size_t gl = strlen(group), ul = strlen(user);

        for (const char *l = etc_group; l && *l;) {
                const char *end = strchr(l, '\n');
                size_t len = end ? (size_t)(end - l) : strlen(l);

                /* "ssl-cert:x:110:xrdp,postgres" */
                if (len > gl && memcmp(l, group, gl) == 0 && l[gl] == ':') {
                        const char *m = l, *stop = l + len;
                        for (int colons = 0; m < stop && colons < 3; m++)
                                if (*m == ':')
                                        colons++;
                        while (m < stop) {
                                const char *comma = memchr(m, ',', (size_t)(stop - m));
                                const char *me = comma ? comma : stop;
                                if ((size_t)(me - m) == ul && memcmp(m, user, ul) == 0)
                                        return true;
                                m = me + 1;
                        }
                        return false;
                }
                l = end ? end + 1 : NULL;
        }
        return false;
}

int probe_unit_active(struct phase_ctx *c, const char *unit)
{
        const char *const argv[] = { "systemctl", "is-active", "--quiet", unit, NULL };
        _cleanup_free_ char *out = NULL;
        int r;

        r = ops_query(c, argv, &out);
        if (r < 0)
                return r;
        return r == 0;
}

void probe_parse_alternative(const char *out, char *buf, size_t size)
{
        buf[0] = '\0';
        for (const char *l = out; l && *l;) {
                const char *end = strchr(l, '\n');
                size_t len = end ? (size_t)(end - l) : strlen(l);

                if (len == 0)
                        return;   /* the first stanza is the group's own; the rest are choices */
                if (len > 7 && memcmp(l, "Value: ", 7) == 0) {
                        if (len - 7 < size) {
                                memcpy(buf, l + 7, len - 7);
                                buf[len - 7] = '\0';
                        }
                        return;
                }
                l = end ? end + 1 : NULL;
        }
}

/* The parent of pid from proc/PID/stat ("pid (comm) state ppid …"; comm
 * may hold spaces and parentheses: the last ')' ends it). 0 when unknown. */
static pid_t parent_of(const char *proc, pid_t pid)
{
        _cleanup_free_ char *path = xasprintf("%s/%d/stat", proc, (int)pid);
        _cleanup_free_ char *stat = NULL;
        const char *close;
        long ppid;
        char state, num[24];

        if (read_file(path, 4096, &stat, NULL) < 0)
                return 0;
        close = strrchr(stat, ')');
        if (!close || sscanf(close + 1, " %c %23s", &state, num) != 2 ||
            parse_long(num, 0, 1L << 30, &ppid) < 0)
                return 0;
        return (pid_t)ppid;
}

int probe_ssh_connection(const char *proc, pid_t pid, char *buf, size_t size)
{
        static const char key[] = "SSH_CONNECTION=";

        for (int depth = 0; pid > 1 && depth < 64; depth++) {
                _cleanup_free_ char *path = xasprintf("%s/%d/environ", proc, (int)pid);
                _cleanup_free_ char *env = NULL;
                size_t len = 0;

                if (read_file(path, 1u << 20, &env, &len) == 0) {
                        /* NUL-separated NAME=VALUE entries */
                        for (size_t i = 0; i < len; i += strlen(env + i) + 1)
                                if (strncmp(env + i, key, strlen(key)) == 0) {
                                        strscpy(buf, size, env + i + strlen(key));
                                        return 1;
                                }
                }
                pid = parent_of(proc, pid);
        }
        return 0;
}
