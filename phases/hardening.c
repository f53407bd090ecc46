/* hardening.c — SSH server settings, fail2ban and the firewall.
 *
 * DESIGN: three independent parts, each chosen in the answers, run in the
 * order that can never lock the operator out:
 *
 *   1. sshd ([security] hardening): a drop-in in /etc/ssh/sshd_config.d,
 *      named to sort early because sshd keeps the first value it reads. It
 *      is checked twice before sshd reloads: as a candidate with "sshd -t
 *      -f" on a throwaway main file that includes it and then the real
 *      configuration (a bad file never reaches the live directory), and
 *      once in place with "sshd -t" (it is taken out again if that fails).
 *      PermitRootLogin prohibit-password is set only when root has a key:
 *      otherwise root's password may be the only way in. A socket-activated
 *      sshd (ssh.socket enabled or running) ignores its Port lines, so it
 *      is moved to ssh.service first (journaled; see sshd_off_socket).
 *   2. fail2ban ([security] fail2ban): the sshd jail on the SSH port and a
 *      jail for failed RDP logins on the RDP port (a filter of our own for
 *      xrdp-sesman's "AUTHFAIL" lines: the RDP port is as open as SSH's and
 *      the developer account can use sudo), both reading the systemd
 *      journal (Debian 12/13 log sshd and xrdp-sesman only there), both
 *      banning with nftables, ahead of the firewall's rules (see
 *      hardening_jail_text).
 *   3. ufw ([network] firewall): incoming denied by default; the SSH port
 *      and every port SSH is reachable on now are allowed BEFORE the
 *      firewall is enabled, so the operator is never cut off by the run:
 *      the ports of "sshd -T", those an sshd process or an active ssh.socket
 *      (socket activation: systemd holds the socket, sshd -T still says 22)
 *      listens on, and the port this run's own SSH session came in on
 *      ($SSH_CONNECTION, here or in a parent process, as sudo drops it).
 *      Then the RDP port. Each rule added is journaled as "ufw delete
 *      RULE", enabling as "ufw disable"; rules that were there stay.
 *
 * The verification phase looks at the result from outside; verify() here
 * only checks what this phase wrote and that sshd listens on its port. */
#include "hardening.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "journal.h"
#include "ports.h"
#include "ops.h"
#include "phases.h"
#include "sysfile.h"
#include "user.h"
#include "verification.h"

#define SSHD "/usr/sbin/sshd"
#define SSH_SOCKET "ssh.socket"
#define SSHD_CONFIG "/etc/ssh/sshd_config"
#define ROOT_KEYS "/root/.ssh/authorized_keys"
#define UFW_DEFAULTS "/etc/default/ufw"
#define MAX_PORTS 16

char *hardening_sshd_text(uint16_t ssh_port, const uint16_t *old, size_t n_old, bool root_has_key)
{
        _cleanup_free_ char *kept = xstrdup("");

        for (size_t i = 0; i < n_old; i++) {
                char *more;
                if (old[i] == ssh_port)
                        continue;
                more = xasprintf("%s"
                                 "# SSH was reached on port %u before: it stays open until a login on\n"
                                 "# port %u is seen in sshd's log (or confirmed), then vps-provision closes it.\n"
                                 "Port %u\n",
                                 kept, (unsigned)old[i], (unsigned)ssh_port, (unsigned)old[i]);
                free(kept);
                kept = more;
        }
        return xasprintf(
                "# SSH server settings written by vps-provision; removed by its rollback.\n"
                "# sshd keeps the first value it reads for an option, so this file is\n"
                "# named to sort before the other drop-ins.\n"
                "Port %u\n"
                "%s"
                "# The log says on which port each connection came in.\n"
                "LogLevel VERBOSE\n"
                "%s"
                "MaxAuthTries %d\n"
                "LoginGraceTime 30\n"
                "PermitEmptyPasswords no\n",
                (unsigned)ssh_port, kept,
                root_has_key ? "# root logs in with its key only (root has an authorized key).\n"
                               "PermitRootLogin prohibit-password\n"
                             : "# PermitRootLogin is left as it was: root has no authorized key.\n",
                HARDENING_MAX_AUTH_TRIES);
}

size_t hardening_sshd_kept_ports(const char *dropin, uint16_t ssh_port, uint16_t *ports, size_t max)
{
        const char *l = dropin;
        size_t n = 0;

        while (l && *l && n < max) {
                long v;
                char num[8];
                size_t len = strcspn(l, "\n"), d;

                if (len > 5 && strncmp(l, "Port ", 5) == 0) {
                        d = len - 5;
                        if (d < sizeof(num)) {
                                memcpy(num, l + 5, d);
                                num[d] = '\0';
                                if (parse_long(num, 1, 65535, &v) == 0 && v != ssh_port)
                                        ports[n++] = (uint16_t)v;
                        }
                }
                l += len;
                if (*l == '\n')
                        l++;
        }
        return n;
}

/* Copies the word after prefix at the start of s into buf; the rest of s
 * after it, or NULL. */
static const char *word_after(const char *s, const char *prefix, char *buf, size_t size)
{
        size_t len;

        if (strncmp(s, prefix, strlen(prefix)) != 0)
                return NULL;
        s += strlen(prefix);
        len = strcspn(s, " \n");
        if (len == 0 || len >= size)
                return NULL;
        memcpy(buf, s, len);
        buf[len] = '\0';
        return s + len;
}

bool hardening_login_seen(const char *log, uint16_t port)
{
        _cleanup_strv_ char **clients = NULL;   /* "ADDR port P" that came in on port */
        const char *l = log;
        char want[16], server[64];

        snprintf(want, sizeof(want), " port %u", (unsigned)port);
        while (l && *l) {
                size_t len = strcspn(l, "\n");
                char addr[64], cport[8], line[512];
                const char *rest;

                if (len < sizeof(line)) {
                        memcpy(line, l, len);
                        line[len] = '\0';
                        /* Connection from A port P on B port N rdomain "" */
                        if ((rest = word_after(line, "Connection from ", addr, sizeof(addr))) &&
                            (rest = word_after(rest, " port ", cport, sizeof(cport))) &&
                            (rest = word_after(rest, " on ", server, sizeof(server))) &&
                            strncmp(rest, want, strlen(want)) == 0 &&
                            (rest[strlen(want)] == ' ' || rest[strlen(want)] == '\0'))
                                strv_pushf(&clients, "%s port %s", addr, cport);
                        /* Accepted publickey for root from A port P ssh2: … */
                        else if (strncmp(line, "Accepted ", 9) == 0 && strstr(line, " for ")) {
                                const char *from = strstr(line, " from ");
                                for (size_t i = 0; from && clients && clients[i]; i++) {
                                        size_t cl = strlen(clients[i]);
                                        if (strncmp(from + 6, clients[i], cl) == 0 &&
                                            (from[6 + cl] == ' ' || from[6 + cl] == '\0'))
                                                return true;
                                }
                        }
                }
                l += len;
                if (*l == '\n')
                        l++;
        }
        return false;
}

/* A ban must reach the packets: fail2ban only records it, its ban action
 * blocks. Debian 13's fail2ban bans with nft (defaults-debian.conf), which
 * it only recommends, so the package list brings nftables; Debian 12's bans
 * with iptables, present only when ufw is. Both jails name the action, so
 * both releases block the same way, with or without ufw: an nftables
 * table of fail2ban's own (inet f2b-table) whose input chain has priority
 * -1, ahead of ufw's chains (iptables-nft, priority 0), which accept the
 * SSH and RDP ports; its reject is final. The rule matches IPv4 packets by
 * their source: a client that xrdp's dual-stack socket reports as
 * ::ffff:192.0.2.7 is banned, and blocked, as 192.0.2.7. */
char *hardening_jail_text(uint16_t ssh_port, uint16_t rdp_port)
{
        return xasprintf("# fail2ban jails written by vps-provision; removed by its rollback.\n"
                         "# A ban is an element of a set in the nftables table inet f2b-table,\n"
                         "# checked before the firewall's rules (chain priority -1).\n"
                         "[sshd]\n"
                         "enabled = true\n"
                         "port = %u\n"
                         "backend = systemd\n"
                         "banaction = " HARDENING_BANACTION "\n"
                         "maxretry = 5\n"
                         "findtime = 10m\n"
                         "bantime = 1h\n"
                         "\n"
                         "# failed RDP logins (filter.d/" HARDENING_XRDP_JAIL ".conf)\n"
                         "[" HARDENING_XRDP_JAIL "]\n"
                         "enabled = true\n"
                         "filter = " HARDENING_XRDP_JAIL "\n"
                         "port = %u\n"
                         "backend = systemd\n"
                         "banaction = " HARDENING_BANACTION "\n"
                         "maxretry = 5\n"
                         "findtime = 10m\n"
                         "bantime = 1h\n",
                         (unsigned)ssh_port, (unsigned)rdp_port);
}

/* xrdp 0.10 checks an RDP login's password in xrdp-sesexec, a child of
 * xrdp-sesman (so in its unit's journal), which logs each failure as
 *   [INFO ] AUTHFAIL: user=NAME ip=::ffff:192.0.2.7 time=1796599453
 * The client chooses NAME, and it comes before the address: ".*" is greedy
 * and the line is anchored at its end, so a name that itself holds
 * " ip=ADDRESS time=1" cannot put another address in the client's place. */
const char hardening_xrdp_filter[] =
        "# fail2ban filter written by vps-provision; removed by its rollback.\n"
        "# Failed RDP logins, as xrdp-sesman's xrdp-sesexec logs them:\n"
        "#   [INFO ] AUTHFAIL: user=NAME ip=::ffff:192.0.2.7 time=1796599453\n"
        "# NAME is the client's: the greedy \".*\" and the anchor at the end of\n"
        "# the line take the last address, the one xrdp wrote.\n"
        "[INCLUDES]\n"
        "before = common.conf\n"
        "\n"
        "[Definition]\n"
        "_daemon = xrdp-sesexec\n"
        "failregex = ^%(__prefix_line)s\\[INFO\\s*\\] AUTHFAIL: user=.* ip=(?:::ffff:)?<ADDR> time=\\d+\\s*$\n"
        "ignoreregex =\n"
        "journalmatch = _SYSTEMD_UNIT=xrdp-sesman.service + _COMM=xrdp-sesexec\n";

/* The TCP port of one "Listen=" value ("[::]:2222 (Stream)"), 0 if none. */
static uint16_t listen_port(const char *line, size_t len)
{
        char buf[128];
        const char *colon, *port;
        bool stream;
        long v;

        if (len <= 7 || len >= sizeof(buf) || strncmp(line, "Listen=", 7) != 0)
                return 0;
        memcpy(buf, line + 7, len - 7);
        buf[len - 7] = '\0';
        stream = strstr(buf, " (Stream)") != NULL;
        buf[strcspn(buf, " ")] = '\0';
        colon = strrchr(buf, ':');
        port = colon ? colon + 1 : buf;
        if (!stream || buf[0] == '/' || parse_long(port, 1, 65535, &v) < 0)
                return 0;
        return (uint16_t)v;
}

size_t hardening_socket_ports(const char *show, uint16_t *ports, size_t max)
{
        size_t n = 0;

        /* "systemctl show -p ActiveState -p Listen UNIT…": one block per
         * unit, blank-line separated; Listen=ADDRESS (TYPE) per socket */
        for (const char *blk = show; blk && *blk;) {
                const char *end = strstr(blk, "\n\n");
                const char *stop = end ? end + 1 : blk + strlen(blk);
                bool active = false;

                for (const char *l = blk; l < stop;) {
                        const char *e = memchr(l, '\n', (size_t)(stop - l));
                        size_t len = e ? (size_t)(e - l) : (size_t)(stop - l);

                        active |= len == 18 && strncmp(l, "ActiveState=active", 18) == 0;
                        l = e ? e + 1 : stop;
                }
                for (const char *l = blk; active && l < stop;) {
                        const char *e = memchr(l, '\n', (size_t)(stop - l));
                        size_t len = e ? (size_t)(e - l) : (size_t)(stop - l);
                        uint16_t port = listen_port(l, len);

                        if (port && n < max)
                                ports[n++] = port;
                        l = e ? e + 1 : stop;
                }
                blk = end ? end + 2 : stop;
        }
        return n;
}

uint16_t hardening_ssh_connection_port(const char *value)
{
        char a[64], b[16], c[64];
        unsigned port = 0;

        /* "client_ip client_port server_ip server_port" */
        if (!value || sscanf(value, "%63s %15s %63s %u", a, b, c, &port) != 4 || port == 0 ||
            port > 65535)
                return 0;
        return (uint16_t)port;
}

char *hardening_sshd_test_config(const char *candidate_path, const char *sshd_config)
{
        return xasprintf("Include %s\nInclude %s\n", candidate_path, sshd_config);
}

/* Calls fn for each line of text (without its newline) until it returns true. */
static bool each_line(const char *text, bool (*fn)(const char *line, size_t len, void *u), void *u)
{
        for (const char *l = text; l && *l;) {
                const char *e = strchr(l, '\n');
                size_t len = e ? (size_t)(e - l) : strlen(l);
                if (fn(l, len, u))
                        return true;
                l = e ? e + 1 : l + len;
        }
        return false;
}

struct ports_acc {
        uint16_t *ports;
        size_t n, max;
};

static bool port_line(const char *line, size_t len, void *u)
{
        struct ports_acc *p = u;
        char num[8];
        long v;

        if (len < 6 || len - 5 >= sizeof(num) || strncmp(line, "port ", 5) != 0)
                return false;
        memcpy(num, line + 5, len - 5);
        num[len - 5] = '\0';
        if (parse_long(num, 1, 65535, &v) < 0 || p->n >= p->max)
                return false;
        p->ports[p->n++] = (uint16_t)v;
        return false;
}

size_t hardening_sshd_ports(const char *sshd_T, uint16_t *ports, size_t max)
{
        struct ports_acc p = { .ports = ports, .max = max };
        each_line(sshd_T, port_line, &p);
        return p.n;
}

struct value_acc {
        const char *key;
        char *value;
};

static bool value_line(const char *line, size_t len, void *u)
{
        struct value_acc *v = u;
        size_t kl = strlen(v->key);

        if (len > kl && strncmp(line, v->key, kl) == 0 && line[kl] == ' ') {
                v->value = xstrndup(line + kl + 1, len - kl - 1);
                return true;
        }
        return false;
}

char *hardening_sshd_value(const char *sshd_T, const char *key)
{
        struct value_acc v = { .key = key };
        each_line(sshd_T, value_line, &v);
        return v.value;
}

static bool exact_line(const char *line, size_t len, void *u)
{
        const char *want = u;
        while (len && (line[len - 1] == ' ' || line[len - 1] == '\r'))
                len--;
        return len == strlen(want) && strncmp(line, want, len) == 0;
}

bool hardening_ufw_added(const char *show_added, const char *rule)
{
        _cleanup_free_ char *want = xasprintf("ufw %s", rule);
        return each_line(show_added, exact_line, want);
}

bool hardening_ufw_active(const char *status)
{
        return each_line(status, exact_line, (void *)"Status: active");
}

bool hardening_socket_in_use(const char *is_enabled, const char *is_active)
{
        return (is_enabled && (each_line(is_enabled, exact_line, (void *)"enabled") ||
                               each_line(is_enabled, exact_line, (void *)"enabled-runtime"))) ||
               (is_active && each_line(is_active, exact_line, (void *)"active"));
}

static bool allow_line(const char *line, size_t len, void *u)
{
        const char *pp = u;
        size_t n = strlen(pp), i;

        /* "22/tcp                     ALLOW       Anywhere" (also " (v6)") */
        if (len <= n || strncmp(line, pp, n) != 0 || (line[n] != ' '))
                return false;
        i = n;
        while (i < len && line[i] == ' ')
                i++;
        if (len - i >= 5 && strncmp(line + i, "(v6)", 4) == 0) {
                i += 4;
                while (i < len && line[i] == ' ')
                        i++;
        }
        return (len - i >= 5 && strncmp(line + i, "ALLOW", 5) == 0) ||
               (len - i >= 5 && strncmp(line + i, "LIMIT", 5) == 0);
}

bool hardening_ufw_allows(const char *status, const char *port_proto)
{
        return each_line(status, allow_line, (void *)port_proto);
}

/* "`- Jail list:\tsshd, vps-provision-xrdp": names split at commas and
 * blanks, compared whole */
static bool jail_line(const char *line, size_t len, void *u)
{
        static const char tag[] = "Jail list:";
        const char *jail = u, *p, *end = line + len;
        size_t n = strlen(jail);

        p = memmem(line, len, tag, sizeof(tag) - 1);
        if (!p || n == 0)
                return false;
        for (p += sizeof(tag) - 1; p < end;) {
                const char *w;

                while (p < end && (*p == ' ' || *p == '\t' || *p == ','))
                        p++;
                w = p;
                while (p < end && *p != ' ' && *p != '\t' && *p != ',')
                        p++;
                if ((size_t)(p - w) == n && memcmp(w, jail, n) == 0)
                        return true;
        }
        return false;
}

bool hardening_f2b_has_jail(const char *status, const char *jail)
{
        return status && jail && each_line(status, jail_line, (void *)jail);
}

/* ---- the phase ------------------------------------------------------------ */

/* nftables: the nft program of the jails' ban action (fail2ban only
 * recommends it, and the install leaves recommendations out). */
const char *const hardening_fail2ban_packages[] = { "fail2ban", "python3-systemd", "nftables", NULL };
const char *const hardening_firewall_packages[] = { "ufw", NULL };

static bool hardening_enabled(const struct phase *p, const struct answers *a)
{
        (void)p;
        return a->hardening || a->fail2ban || a->firewall;
}

static void hardening_inputs(const struct answers *a, struct sha256_ctx *d)
{
        char buf[96];
        int n = snprintf(buf, sizeof(buf), "ssh %u rdp %u hardening %d fail2ban %d firewall %d%s\n",
                         (unsigned)a->ssh_port, (unsigned)a->rdp_port, a->hardening, a->fail2ban,
                         a->firewall, a->rdp_listen == RDP_LISTEN_LOCALHOST ? " rdp-localhost" : "");
        sha256_add(d, buf, (size_t)n);
}

static bool root_has_key(void)
{
        _cleanup_free_ char *keys = sysfile_read(ROOT_KEYS);
        return keys && user_authorized_keys_count(keys) > 0;
}

/* stdout of a query, or NULL when it could not run or failed. */
static char *query_ok(struct phase_ctx *c, const char *const *argv);
static char *query_ok_memo(struct phase_ctx *c, const char *const *argv);

/* Whether sshd's log shows a login on port since the drop-in was last
 * written (its mtime; none without a drop-in). */
static bool login_seen_since_dropin(struct phase_ctx *c, uint16_t port)
{
        struct stat st;
        char since[32];
        _cleanup_free_ char *out = NULL;

        if (stat(HARDENING_SSHD_DROPIN, &st) < 0)
                return false;
        snprintf(since, sizeof(since), "@%lld", (long long)st.st_mtime);
        {
                const char *const argv[] = { "journalctl", "-q", "--no-pager", "-o", "cat", "-u",
                                             "ssh.service", "--since", since, NULL };
                out = query_ok(c, argv);
        }
        return out && hardening_login_seen(out, port);
}

/* The ports SSH is reached on now besides the answers' ssh_port, which
 * the drop-in keeps open until a login on ssh_port is seen: those of
 * "sshd -T" (the configuration as it is, with a drop-in of an earlier run
 * that still keeps them) and the port of this run's own SSH session. Only
 * settle() closes them, so a run never undoes what it waits for. At most
 * max; returns how many. */
static size_t old_ssh_ports(struct phase_ctx *c, uint16_t *out, size_t max)
{
        const struct answers *a = phase_answers(c);
        const char *const sshd_T[] = { SSHD, "-T", NULL };
        _cleanup_free_ char *cfg = NULL;
        uint16_t found[MAX_PORTS + 1];
        size_t n = 0, m = 0;
        char conn[256];
        uint16_t port;

        if (!path_exists(SSHD))
                return 0;
        cfg = query_ok_memo(c, sshd_T);
        if (cfg)
                n = hardening_sshd_ports(cfg, found, MAX_PORTS);
        if (sysfile_ssh_connection(NULL, getpid(), conn, sizeof(conn)) == 1 &&
            (port = hardening_ssh_connection_port(conn)) != 0)
                found[n++] = port;
        for (size_t i = 0; i < n && m < max; i++) {
                bool dup = found[i] == a->ssh_port;
                for (size_t j = 0; j < m; j++)
                        dup = dup || out[j] == found[i];
                if (!dup)
                        out[m++] = found[i];
        }
        return m;
}

/* The drop-in as this run wants it (old ports included). Caller frees. */
static char *sshd_text_now(struct phase_ctx *c)
{
        uint16_t old[MAX_PORTS];
        size_t n = old_ssh_ports(c, old, ELEMENTSOF(old));

        return hardening_sshd_text(phase_answers(c)->ssh_port, old, n, root_has_key());
}

static int hardening_plan(struct phase_ctx *c)
{
        const struct answers *a = phase_answers(c);

        if (a->hardening)
                phase_plan(c, "FILE_CREATE", HARDENING_SSHD_DROPIN,
                           "SSH server on port %u, MaxAuthTries %d%s (checked with sshd -t), then reload ssh",
                           (unsigned)a->ssh_port, HARDENING_MAX_AUTH_TRIES,
                           root_has_key() ? ", root by key only" : ", root login left as is (root has no key)");
        if (a->fail2ban) {
                phase_plan(c, "PACKAGE_INSTALL", "fail2ban", "install fail2ban");
                phase_plan(c, "FILE_CREATE", HARDENING_XRDP_FILTER,
                           "fail2ban filter for failed RDP logins (xrdp-sesman)");
                phase_plan(c, "FILE_CREATE", HARDENING_JAIL, "sshd jail on port %u, RDP jail on port %u",
                           (unsigned)a->ssh_port, (unsigned)a->rdp_port);
                phase_plan(c, "SERVICE_ENABLE", "fail2ban", "enable and start fail2ban");
        }
        if (a->firewall) {
                phase_plan(c, "PACKAGE_INSTALL", "ufw", "install ufw");
                if (a->rdp_listen == RDP_LISTEN_LOCALHOST)
                        phase_plan(c, "COMMAND_EXEC", "ufw",
                                   "allow SSH %u/tcp (and every port SSH is reachable on now), deny other incoming; RDP %u/tcp stays closed (rdp_listen = localhost)",
                                   (unsigned)a->ssh_port, (unsigned)a->rdp_port);
                else
                        phase_plan(c, "COMMAND_EXEC", "ufw",
                                   "allow SSH %u/tcp (and every port SSH is reachable on now) and RDP %u/tcp, deny other incoming",
                                   (unsigned)a->ssh_port, (unsigned)a->rdp_port);
                phase_plan(c, "SERVICE_ENABLE", "ufw", "turn the firewall on (after the rules)");
        }
        return 0;
}

/* stdout of a query, or NULL when it could not run or failed. */
static char *query_ok_as(struct phase_ctx *c, const char *const *argv, bool memo)
{
        char *out = NULL;
        int r = memo ? ops_query_memo(c, argv, &out) : ops_query(c, argv, &out);
        if (r != 0) {
                free(out);
                return NULL;
        }
        return out;
}

static char *query_ok(struct phase_ctx *c, const char *const *argv)
{
        return query_ok_as(c, argv, false);
}

/* query_ok() through ops_query_memo(): for what plan and verify ask (never
 * for a question polled until it changes) */
static char *query_ok_memo(struct phase_ctx *c, const char *const *argv)
{
        return query_ok_as(c, argv, true);
}

static int hardening_verify(struct phase_ctx *c)
{
        const struct answers *a = phase_answers(c);
        bool ok = true;

        if (a->hardening) {
                _cleanup_free_ char *text = sshd_text_now(c);
                if (!sysfile_is(HARDENING_SSHD_DROPIN, text, 0644, 0, 0)) {
                        phase_verify_note(c, "%s is missing or differs", HARDENING_SSHD_DROPIN);
                        ok = false;
                } else if (sysfile_tcp_listening(NULL, a->ssh_port) != 1) {
                        phase_verify_note(c, "sshd does not listen on port %u", (unsigned)a->ssh_port);
                        ok = false;
                }
                phase_verify_digest(c, "sshd %s", text);
        }
        if (a->fail2ban) {
                _cleanup_free_ char *text = hardening_jail_text(a->ssh_port, a->rdp_port);
                _cleanup_strv_ char **missing = NULL;

                if (!sysfile_is(HARDENING_JAIL, text, 0644, 0, 0)) {
                        phase_verify_note(c, "%s is missing or differs", HARDENING_JAIL);
                        ok = false;
                } else if (!sysfile_is(HARDENING_XRDP_FILTER, hardening_xrdp_filter, 0644, 0, 0)) {
                        phase_verify_note(c, "%s is missing or differs", HARDENING_XRDP_FILTER);
                        ok = false;
                } else if (ops_pkgs_missing(c, hardening_fail2ban_packages, &missing) != 0 || missing) {
                        _cleanup_free_ char *names = missing ? strv_join(missing, ", ") : NULL;
                        phase_verify_note(c, "not installed: %s (fail2ban cannot ban without them)",
                                          names ? names : "unknown (dpkg could not be asked)");
                        ok = false;
                } else if (ops_unit_active(c, "fail2ban") != 1) {
                        phase_verify_note(c, "fail2ban is not running");
                        ok = false;
                }
                phase_verify_digest(c, "jail %s filter %s", text, hardening_xrdp_filter);
        }
        if (a->firewall) {
                const char *const status[] = { "ufw", "status", NULL };
                _cleanup_free_ char *out = query_ok_memo(c, status);
                char ssh[16], rdp[16];

                snprintf(ssh, sizeof(ssh), "%u/tcp", (unsigned)a->ssh_port);
                snprintf(rdp, sizeof(rdp), "%u/tcp", (unsigned)a->rdp_port);
                if (!out || !hardening_ufw_active(out)) {
                        phase_verify_note(c, "the firewall (ufw) is not active");
                        ok = false;
                } else if (a->rdp_listen == RDP_LISTEN_LOCALHOST) {
                        if (!hardening_ufw_allows(out, ssh)) {
                                phase_verify_note(c, "the firewall does not allow %s", ssh);
                                ok = false;
                        } else if (hardening_ufw_allows(out, rdp)) {
                                phase_verify_note(c, "the firewall allows %s although rdp_listen = localhost", rdp);
                                ok = false;
                        }
                } else if (!hardening_ufw_allows(out, ssh) || !hardening_ufw_allows(out, rdp)) {
                        phase_verify_note(c, "the firewall does not allow both %s and %s", ssh, rdp);
                        ok = false;
                }
        }
        return ok ? 1 : 0;
}

/* Puts the sshd drop-in back as it was (old = NULL: it did not exist). */
static void sshd_put_back(struct phase_ctx *c, const char *old)
{
        if (old)
                (void)ops_write_file(c, HARDENING_SSHD_DROPIN, old, strlen(old), 0644, 0, 0);
        else
                (void)ops_remove_file(c, HARDENING_SSHD_DROPIN);
}

/* Takes sshd off socket activation when ssh.socket is enabled or running
 * (Debian 13 ships the unit; some images use it in place of ssh.service).
 * Then systemd listens on the socket's ListenStream (22) and hands it to
 * sshd, which ignores its Port lines: the answers' ssh_port would never be
 * listened on. Worse, on Debian 13 a reload of such an sshd fails whatever
 * the port (the re-executed sshd has no socket and cannot bind 22, which
 * systemd holds: "Cannot bind any address", ssh.service failed), so the
 * phase failed on every such host. ssh.service makes sshd bind what its
 * configuration says: one place for the ports, which sshd -t checks and
 * sshd -T shows, and the rest of this phase (settle() included) works as
 * on any host. Journaled: a rollback stops ssh.service and enables
 * ssh.socket again. Live sessions stay (ssh.service stops only its main
 * process). 1 when switched (sshd must then be restarted, not reloaded),
 * 0 when sshd was not socket-activated, or -errno. */
static int sshd_off_socket(struct phase_ctx *c)
{
        const char *const q_en[] = { "systemctl", "is-enabled", SSH_SOCKET, NULL };
        const char *const q_act[] = { "systemctl", "is-active", SSH_SOCKET, NULL };
        _cleanup_free_ char *en = query_ok(c, q_en), *act = query_ok(c, q_act);
        int r;

        if (!hardening_socket_in_use(en, act))
                return 0;
        phase_log(c, LOG_INFO,
                  "sshd is socket-activated (%s is %s): it listens where the socket says and ignores "
                  "its Port lines, so %s is disabled and ssh.service enabled in its place "
                  "(a rollback switches back)", SSH_SOCKET, act && startswith(act, "active") ? "running" : "enabled",
                  SSH_SOCKET);
        r = ops_unit_disable(c, SSH_SOCKET);
        if (r >= 0)
                r = ops_unit_enable(c, "ssh.service", false);
        return r < 0 ? r : 1;
}

/* sshd reloaded (or restarted) with its configuration as it is now, and
 * listening on the answers' port within 10 s; the old ports it keeps are
 * logged. 0 or -errno (the phase failed). */
static int sshd_restarted(struct phase_ctx *c, size_t n_old, const uint16_t *old_ports, bool reload)
{
        const struct answers *a = phase_answers(c);
        int r = ops_unit_restart(c, "ssh", reload);

        if (r < 0)
                return r;
        r = ops_wait_listening(c, a->ssh_port, 10000);
        if (r < 0)
                return r;
        if (r == 0)
                return phase_fail(c, -EIO, "sshd was %s but does not listen on port %u; look at journalctl -u ssh",
                                  reload ? "reloaded" : "restarted", (unsigned)a->ssh_port);
        phase_log(c, LOG_INFO, "sshd listens on port %u", (unsigned)a->ssh_port);
        for (size_t i = 0; i < n_old; i++)
                phase_log(c, LOG_INFO,
                          "sshd listens on port %u as well until a login on port %u is seen in its log (or confirmed); then that port is closed",
                          (unsigned)old_ports[i], (unsigned)a->ssh_port);
        return 0;
}

static int harden_sshd(struct phase_ctx *c)
{
        const struct answers *a = phase_answers(c);
        bool key = root_has_key();
        uint16_t old_ports[MAX_PORTS];
        size_t n_old = old_ssh_ports(c, old_ports, ELEMENTSOF(old_ports));
        _cleanup_free_ char *text = hardening_sshd_text(a->ssh_port, old_ports, n_old, key);
        _cleanup_free_ char *old = NULL, *cand = NULL, *main_text = NULL, *main_path = NULL;
        struct ops_run_opts quiet = { .ok_statuses_any = true };
        int r;

        phase_action_begin(c, "FILE_CREATE", HARDENING_SSHD_DROPIN, "SSH server settings");
        if (!path_exists(SSHD)) {
                phase_log(c, LOG_WARNING, "no SSH server (%s) is installed: nothing to harden", SSHD);
                return phase_action_end(c, 0);
        }
        if (!key)
                phase_log(c, LOG_WARNING,
                          "root has no key in %s: PermitRootLogin is left as it is, so root is not locked out",
                          ROOT_KEYS);
        if (sysfile_is(HARDENING_SSHD_DROPIN, text, 0644, 0, 0)) {
                /* in place, but a socket may have taken sshd over since */
                r = sshd_off_socket(c);
                if (r > 0)
                        r = sshd_restarted(c, n_old, old_ports, false);
                return phase_action_end(c, r < 0 ? r : 0);
        }

        /* 1. the candidate alone, before it reaches the live directory */
        r = sysfile_write_temp(phase_paths(c)->state_dir, "sshd-candidate.conf", text, 0600, &cand);
        if (r >= 0) {
                main_text = hardening_sshd_test_config(cand, SSHD_CONFIG);
                r = sysfile_write_temp(phase_paths(c)->state_dir, "sshd-main.conf", main_text, 0600,
                                       &main_path);
        }
        if (r < 0) {
                if (cand)
                        unlink(cand);
                return phase_action_end(c, phase_fail(c, r, "cannot write a candidate sshd configuration in %s: %s",
                                                      phase_paths(c)->state_dir, strerror(-r)));
        }
        {
                const char *const test[] = { SSHD, "-t", "-f", main_path, NULL };
                r = ops_run(c, test, &quiet);
        }
        unlink(main_path);
        unlink(cand);
        if (r < 0)
                return phase_action_end(c, r);
        if (r != 0) {
                /* whose fault: ours, or was the configuration broken already? */
                const char *const test_now[] = { SSHD, "-t", NULL };
                int now = ops_run(c, test_now, &quiet);
                if (now > 0)
                        return phase_action_end(c, phase_fail(c, -EINVAL,
                                "the SSH server's configuration is invalid already (sshd -t fails on it before the new settings are added; its message is in the log); fix /etc/ssh/sshd_config or its drop-ins, then run vps-provision --resume; nothing was changed"));
                return phase_action_end(c, phase_fail(c, -EINVAL,
                        "sshd -t rejects the new SSH settings (exit status %d, its message is in the log); nothing was changed",
                        r));
        }

        /* 2. in place, checked again with everything else in the directory */
        old = sysfile_read(HARDENING_SSHD_DROPIN);
        r = ops_unit_restart_on_undo(c, "ssh");
        if (r >= 0)
                r = ops_write_file(c, HARDENING_SSHD_DROPIN, text, strlen(text), 0644, 0, 0);
        if (r < 0)
                return phase_action_end(c, r);
        {
                const char *const test[] = { SSHD, "-t", NULL };
                r = ops_run(c, test, &quiet);
        }
        if (r != 0) {
                sshd_put_back(c, old);
                return phase_action_end(c, phase_fail(c, r < 0 ? r : -EINVAL,
                        "sshd -t rejects the SSH configuration with %s in it (exit status %d); it was put back as it was",
                        HARDENING_SSHD_DROPIN, r));
        }
        r = sshd_off_socket(c);
        if (r >= 0)
                r = sshd_restarted(c, n_old, old_ports, r == 0);
        return phase_action_end(c, r < 0 ? r : 0);
}

/* Waits up to 20 s for fail2ban's jail to answer (the server answers a
 * moment after systemd says it started). */
static int wait_jail(struct phase_ctx *c, const char *jail)
{
        const char *const argv[] = { "fail2ban-client", "status", jail, NULL };
        int64_t end = now_ms() + 20000;

        for (;;) {
                char *out = NULL;
                int r = ops_query(c, argv, &out);

                free(out);
                if (r == 0)
                        return 0;
                if (now_ms() > end)
                        return phase_fail(c, -EIO,
                                          "fail2ban runs but its %s jail does not answer (fail2ban-client status %s); look at journalctl -u fail2ban",
                                          jail, jail);
                sleep_ms(500);
        }
}

static int setup_fail2ban(struct phase_ctx *c)
{
        const struct answers *a = phase_answers(c);
        _cleanup_free_ char *text = hardening_jail_text(a->ssh_port, a->rdp_port);
        bool was_active, changed = false;
        int r;

        r = ops_apt_install(c, hardening_fail2ban_packages, OPS_APT_NO_RECOMMENDS, 0.35, 0.55);
        if (r < 0)
                return r;
        phase_action_begin(c, "FILE_CREATE", HARDENING_JAIL,
                           "fail2ban jails for SSH on port %u and RDP on port %u",
                           (unsigned)a->ssh_port, (unsigned)a->rdp_port);
        was_active = ops_unit_active(c, "fail2ban") == 1;
        if (!sysfile_is(HARDENING_XRDP_FILTER, hardening_xrdp_filter, 0644, 0, 0) ||
            !sysfile_is(HARDENING_JAIL, text, 0644, 0, 0)) {
                if (was_active)
                        r = ops_unit_restart_on_undo(c, "fail2ban");
                /* the filter first: a jail naming a missing filter stops fail2ban */
                if (r >= 0)
                        r = ops_write_file(c, HARDENING_XRDP_FILTER, hardening_xrdp_filter,
                                           strlen(hardening_xrdp_filter), 0644, 0, 0);
                if (r >= 0)
                        r = ops_write_file(c, HARDENING_JAIL, text, strlen(text), 0644, 0, 0);
                if (r >= 0 && was_active)
                        r = ops_unit_restart(c, "fail2ban", false);
                if (r < 0)
                        return phase_action_end(c, r);
                changed = true;
        }
        r = ops_unit_enable(c, "fail2ban", true);
        if (r < 0)
                return phase_action_end(c, r);
        r = wait_jail(c, "sshd");
        if (r >= 0)
                r = wait_jail(c, HARDENING_XRDP_JAIL);
        if (r >= 0 && changed)
                phase_log(c, LOG_INFO, "fail2ban bans an address for 1 h after 5 failed SSH or RDP logins in 10 min");
        return phase_action_end(c, r < 0 ? r : 0);
}

/* Adds "ufw allow PORT/tcp" unless ufw already has it, journaled first. */
static int ufw_allow(struct phase_ctx *c, uint16_t port, const char *added)
{
        char pp[16], target[48];
        const char *rule[] = { "allow", pp, NULL };
        const char *const argv[] = { "ufw", "allow", pp, NULL };
        struct undo u = { .kind = UNDO_UFW_DELETE_RULE, .list = (char **)rule };
        int r;

        snprintf(pp, sizeof(pp), "%u/tcp", (unsigned)port);
        snprintf(target, sizeof(target), "ufw allow %s", pp);
        if (hardening_ufw_added(added, target + 4)) {
                phase_log(c, LOG_INFO, "the firewall already allows %s", pp);
                return 1;
        }
        if (phase_journal(c, "COMMAND_EXEC", target, &u) < 0)
                return -EIO;
        r = ops_run(c, argv, NULL);
        return r < 0 ? r : 0;
}

/* Adds port to ports (at most max, no duplicates) and says why it stays
 * open when it is not the answers' SSH port. */
static void keep_port(struct phase_ctx *c, uint16_t *ports, size_t *n, size_t max, uint16_t port,
                      const char *why)
{
        for (size_t i = 0; i < *n; i++)
                if (ports[i] == port)
                        return;
        if (*n >= max)
                return;
        ports[(*n)++] = port;
        if (port != phase_answers(c)->ssh_port)
                phase_log(c, LOG_INFO, "the firewall keeps TCP port %u open too: %s", (unsigned)port,
                          why);
}

/* The ports SSH is reachable on now beyond what sshd -T says: where an
 * sshd process or an active ssh.socket listens, and the port of this
 * run's own SSH session. At most max; returns how many. */
static size_t ssh_ports_now(struct phase_ctx *c, uint16_t *ports, size_t max)
{
        const char *const show[] = { "systemctl", "show", "-p", "ActiveState", "-p", "Listen",
                                     "ssh.socket", "sshd.socket", NULL };
        _cleanup_free_ char *out = query_ok(c, show);
        struct port_listeners l = { 0 };
        uint16_t sock[MAX_PORTS];
        char conn[256];
        size_t n = 0, ns;
        uint16_t port;

        if (ports_listeners("/proc", &l) == 0) {
                for (size_t i = 0; i < l.n; i++)
                        if (strncmp(l.v[i].comm, "sshd", 4) == 0)
                                keep_port(c, ports, &n, max, l.v[i].port, "sshd listens there");
                port_listeners_release(&l);
        }
        ns = out ? hardening_socket_ports(out, sock, ELEMENTSOF(sock)) : 0;
        for (size_t i = 0; i < ns; i++)
                keep_port(c, ports, &n, max, sock[i],
                          "a systemd socket for sshd listens there (socket activation)");
        if (sysfile_ssh_connection(NULL, getpid(), conn, sizeof(conn)) == 1 &&
            (port = hardening_ssh_connection_port(conn)) != 0)
                keep_port(c, ports, &n, max, port, "this run's own SSH session came in on it");
        return n;
}

static int setup_firewall(struct phase_ctx *c)
{
        const struct answers *a = phase_answers(c);
        const char *const show[] = { "ufw", "show", "added", NULL };
        const char *const status[] = { "ufw", "status", NULL };
        const char *const sshd_T[] = { SSHD, "-T", NULL };
        _cleanup_free_ char *defaults = NULL, *policy = NULL, *added = NULL, *st = NULL;
        _cleanup_free_ char *sshd_out = NULL;
        uint16_t ports[3 * MAX_PORTS + 2];
        size_t n = 0;
        bool policy_changed = false;
        int r;

        r = ops_apt_install(c, hardening_firewall_packages, OPS_APT_NO_RECOMMENDS, 0.6, 0.8);
        if (r < 0)
                return r;
        if (a->rdp_listen == RDP_LISTEN_LOCALHOST)
                phase_action_begin(c, "COMMAND_EXEC", "ufw",
                                   "Firewall: SSH %u/tcp; RDP %u/tcp closed (reached through ssh -L)",
                                   (unsigned)a->ssh_port, (unsigned)a->rdp_port);
        else
                phase_action_begin(c, "COMMAND_EXEC", "ufw", "Firewall: SSH %u/tcp and RDP %u/tcp",
                                   (unsigned)a->ssh_port, (unsigned)a->rdp_port);

        /* default deny incoming, in ufw's own defaults file (restored on rollback) */
        defaults = sysfile_read(UFW_DEFAULTS);
        policy = sysfile_get_key(defaults, "DEFAULT_INPUT_POLICY");
        if (!policy || strcmp(policy, "DROP") != 0) {
                _cleanup_free_ char *text = sysfile_set_key(defaults, "DEFAULT_INPUT_POLICY", "\"DROP\"");
                r = ops_write_file(c, UFW_DEFAULTS, text, strlen(text), 0644, 0, 0);
                if (r < 0)
                        return phase_action_end(c, r);
                policy_changed = true;
        }

        /* every port SSH is reachable on now stays reachable, plus the
         * answers' ports */
        ports[n++] = a->ssh_port;
        if (path_exists(SSHD)) {
                sshd_out = query_ok(c, sshd_T);
                if (sshd_out)
                        n += hardening_sshd_ports(sshd_out, ports + n, MAX_PORTS);
        }
        n += ssh_ports_now(c, ports + n, MAX_PORTS);
        if (a->rdp_listen != RDP_LISTEN_LOCALHOST)
                ports[n++] = a->rdp_port;

        added = query_ok(c, show);
        if (!added)
                return phase_action_end(c, phase_fail(c, -EIO, "\"ufw show added\" failed; is ufw installed correctly?"));
        for (size_t i = 0; i < n; i++) {
                bool dup = false;
                for (size_t j = 0; j < i; j++)
                        dup = dup || ports[j] == ports[i];
                if (dup)
                        continue;
                r = ufw_allow(c, ports[i], added);
                if (r < 0)
                        return phase_action_end(c, r);
        }
        /* rdp_listen = localhost after an earlier run with all: its RDP rule
         * goes (journaled as "ufw allow", so a rollback brings it back) */
        if (a->rdp_listen == RDP_LISTEN_LOCALHOST) {
                char pp[16];
                const char *rule[] = { "allow", pp, NULL };
                const char *const del[] = { "ufw", "delete", "allow", pp, NULL };
                struct undo u = { .kind = UNDO_UFW_ADD_RULE, .list = (char **)rule };
                _cleanup_free_ char *target = NULL;

                snprintf(pp, sizeof(pp), "%u/tcp", (unsigned)a->rdp_port);
                target = xasprintf("ufw delete allow %s", pp);
                if (hardening_ufw_added(added, target + 11)) {
                        phase_log(c, LOG_INFO, "the firewall closes %s again: rdp_listen = localhost", pp);
                        if (phase_journal(c, "COMMAND_EXEC", target, &u) < 0)
                                return phase_action_end(c, -EIO);
                        r = ops_run(c, del, NULL);
                        if (r < 0)
                                return phase_action_end(c, r);
                }
        }

        /* only now, with SSH allowed, may the firewall come on */
        st = query_ok(c, status);
        if (!st)
                return phase_action_end(c, phase_fail(c, -EIO, "\"ufw status\" failed"));
        if (!hardening_ufw_active(st)) {
                const char *const enable[] = { "ufw", "--force", "enable", NULL };
                struct undo u = { .kind = UNDO_UFW_DISABLE };
                if (phase_journal(c, "SERVICE_ENABLE", "ufw", &u) < 0)
                        return phase_action_end(c, -EIO);
                r = ops_run(c, enable, NULL);
        } else if (policy_changed) {
                const char *const reload[] = { "ufw", "reload", NULL };
                r = ops_run(c, reload, NULL);
        }
        if (r < 0)
                return phase_action_end(c, r);
        r = ops_unit_enable(c, "ufw", false);
        return phase_action_end(c, r < 0 ? r : 0);
}

static int hardening_run(struct phase_ctx *c)
{
        const struct answers *a = phase_answers(c);
        int r;

        if (a->hardening) {
                r = harden_sshd(c);
                if (r < 0)
                        return r;
        }
        phase_progress(c, 0.3, NULL);
        if (a->fail2ban) {
                r = setup_fail2ban(c);
                if (r < 0)
                        return r;
        }
        phase_progress(c, 0.6, NULL);
        if (a->firewall) {
                r = setup_firewall(c);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Closes the old SSH ports the drop-in keeps once a login on the new one
 * is in sshd's log, or the person confirmed it: the drop-in without them
 * (checked with sshd -t, journaled: a rollback puts them back), sshd
 * restarted, and their firewall rules deleted (journaled as "ufw allow"). */
static int hardening_settle(struct phase_ctx *c, bool confirmed)
{
        const struct answers *a = phase_answers(c);
        const char *const show[] = { "ufw", "show", "added", NULL };
        struct ops_run_opts quiet = { .ok_statuses_any = true };
        _cleanup_free_ char *dropin = NULL, *text = NULL;
        uint16_t kept[MAX_PORTS];
        size_t n;
        bool seen;
        int r;

        if (!a->hardening || !(dropin = sysfile_read(HARDENING_SSHD_DROPIN)))
                return 1;
        n = hardening_sshd_kept_ports(dropin, a->ssh_port, kept, ELEMENTSOF(kept));
        if (n == 0)
                return 1;
        seen = login_seen_since_dropin(c, a->ssh_port);
        if (!seen && !confirmed)
                return 0;

        phase_action_begin(c, "FILE_MODIFY", HARDENING_SSHD_DROPIN,
                           "Closing the old SSH port %u: %s", (unsigned)kept[0],
                           seen ? "a login on the new port was seen" : "the login on the new port was confirmed");
        text = hardening_sshd_text(a->ssh_port, NULL, 0, root_has_key());
        r = ops_unit_restart_on_undo(c, "ssh");
        if (r >= 0)
                r = ops_write_file(c, HARDENING_SSHD_DROPIN, text, strlen(text), 0644, 0, 0);
        if (r < 0)
                return phase_action_end(c, r);
        {
                const char *const test[] = { SSHD, "-t", NULL };
                r = ops_run(c, test, &quiet);
        }
        if (r != 0) {
                sshd_put_back(c, dropin);
                return phase_action_end(c, phase_fail(c, r < 0 ? r : -EINVAL,
                        "sshd -t rejects the SSH configuration without the old port (exit status %d); it was put back as it was",
                        r));
        }
        r = ops_unit_restart(c, "ssh", true);
        if (r >= 0 && a->firewall && path_exists("/usr/sbin/ufw")) {
                _cleanup_free_ char *added = query_ok(c, show);
                for (size_t i = 0; added && i < n && r >= 0; i++) {
                        char pp[16], target[48];
                        const char *rule[] = { "allow", pp, NULL };
                        const char *const argv[] = { "ufw", "delete", "allow", pp, NULL };
                        struct undo u = { .kind = UNDO_UFW_ADD_RULE, .list = (char **)rule };

                        snprintf(pp, sizeof(pp), "%u/tcp", (unsigned)kept[i]);
                        snprintf(target, sizeof(target), "ufw delete allow %s", pp);
                        if (!hardening_ufw_added(added, target + 11))
                                continue;
                        if (phase_journal(c, "COMMAND_EXEC", target, &u) < 0)
                                r = -EIO;
                        else
                                r = ops_run(c, argv, NULL);
                }
        }
        if (r < 0)
                return phase_action_end(c, r);
        for (size_t i = 0; i < n; i++)
                phase_log(c, LOG_INFO, "SSH port %u is closed (%s); SSH answers on port %u only",
                          (unsigned)kept[i], seen ? "a login on the new port was seen in sshd's log" : "confirmed",
                          (unsigned)a->ssh_port);
        r = phase_action_end(c, 0);
        return r < 0 ? r : 1;
}

const struct phase phase_hardening = {
        .id = "hardening",
        .title = "Security hardening",
        .summary = "SSH server settings, fail2ban for SSH, and a firewall that lets in only SSH and RDP",
        .weight = 5,
        /* apt-get --print-uris on a fresh Debian 13: ufw and fail2ban, without recommends
         * (nftables adds 0.4 MB) */
        .download_mb = 7,
        .enabled = hardening_enabled,
        .inputs = hardening_inputs,
        .plan = hardening_plan,
        .verify = hardening_verify,
        .run = hardening_run,
        .settle = hardening_settle,
};
