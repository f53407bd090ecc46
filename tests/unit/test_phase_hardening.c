/* test_phase_hardening.c — the hardening phase's pure parts: the sshd
 * drop-in (only known keywords; PermitRootLogin only with a root key), the
 * fail2ban jail, the sshd -t candidate file, reading sshd -T and ufw output
 * (in the formats sshd and ufw print). */
#include "testlib.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hardening.h"
#include "util.h"

/* The keyword of every non-comment line must be one sshd knows, and each
 * appears once (sshd takes the first value; a second would be ignored),
 * except Port, whose lines add up. */
static void assert_sshd_lines(const char *text)
{
        static const char *const known[] = { "Port", "PermitRootLogin", "MaxAuthTries",
                                             "LoginGraceTime", "PermitEmptyPasswords", "LogLevel" };
        char **seen = NULL;
        char *copy = xstrdup(text), *save = NULL;

        for (char *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
                char kw[64];
                bool ok = false;
                if (l[0] == '#')
                        continue;
                assert_int_equal(sscanf(l, "%63s", kw), 1);
                for (size_t i = 0; i < ELEMENTSOF(known); i++)
                        ok = ok || strcmp(kw, known[i]) == 0;
                if (!ok)
                        fail_msg("unexpected sshd line \"%s\"", l);
                assert_false(strcmp(kw, "Port") != 0 && strv_contains(seen, kw));
                strv_push(&seen, kw);
                assert_non_null(strchr(l, ' '));
        }
        strv_free(seen);
        free(copy);
}

/* A login on the new port, as Debian 13's sshd logs it with LogLevel
 * VERBOSE (journalctl -u ssh -o cat), is told from one on the old port,
 * from a connection that never logged in, and from the "Accepted key"
 * line that precedes every public-key login. */
static void login_seen(void **state)
{
        (void)state;
        static const char on22[] =
                "Server listening on 0.0.0.0 port 2222.\n"
                "Connection from 10.213.4.1 port 49162 on 10.213.4.2 port 22 rdomain \"\"\n"
                "Accepted key ED25519 SHA256:HiCq found at /root/.ssh/authorized_keys:1\n"
                "Postponed publickey for root from 10.213.4.1 port 49162 ssh2 [preauth]\n"
                "Accepted publickey for root from 10.213.4.1 port 49162 ssh2: ED25519 SHA256:HiCq\n";
        static const char failed2222[] =
                "Connection from 198.51.100.9 port 40000 on 10.213.4.2 port 2222 rdomain \"\"\n"
                "Accepted key ED25519 SHA256:HiCq found at /root/.ssh/authorized_keys:1\n"
                "Connection closed by authenticating user root 198.51.100.9 port 40000 [preauth]\n"
                "Accepted publickey for root from 198.51.100.9 port 400001 ssh2: ED25519 SHA256:x\n"
                "Accepted publickey for root from 10.213.4.1 port 49162 ssh2: ED25519 SHA256:HiCq\n";
        static const char on2222[] =
                "Connection from 10.213.4.1 port 55926 on 10.213.4.2 port 2222 rdomain \"\"\n"
                "Accepted key ED25519 SHA256:HiCq found at /root/.ssh/authorized_keys:1\n"
                "Accepted publickey for root from 10.213.4.1 port 55926 ssh2: ED25519 SHA256:HiCq\n"
                "pam_unix(sshd:session): session opened for user root(uid=0) by root(uid=0)\n";
        static const char v6pw[] =
                "Connection from 2001:db8::7 port 50022 on 2001:db8::1 port 2222 rdomain \"\"\n"
                "Accepted password for devuser from 2001:db8::7 port 50022 ssh2\n";
        _cleanup_free_ char *both = xasprintf("%s%s", on22, on2222);

        assert_false(hardening_login_seen(on22, 2222));
        assert_true(hardening_login_seen(on22, 22));
        assert_false(hardening_login_seen(failed2222, 2222));
        assert_true(hardening_login_seen(on2222, 2222));
        assert_false(hardening_login_seen(on2222, 222));
        assert_true(hardening_login_seen(both, 2222));
        assert_true(hardening_login_seen(v6pw, 2222));
        assert_false(hardening_login_seen("", 2222));
        assert_false(hardening_login_seen(NULL, 2222));
}

static void sshd_text(void **state)
{
        (void)state;
        static const uint16_t old[] = { 22, 2222, 2200 };
        char *with = hardening_sshd_text(2222, NULL, 0, true);
        char *without = hardening_sshd_text(22, NULL, 0, false);
        char *kept = hardening_sshd_text(2222, old, ELEMENTSOF(old), true);
        uint16_t ports[4];

        assert_sshd_lines(with);
        assert_sshd_lines(without);
        assert_non_null(strstr(with, "\nPort 2222\n"));
        assert_non_null(strstr(with, "\nPermitRootLogin prohibit-password\n"));
        assert_non_null(strstr(with, "\nMaxAuthTries 4\n"));
        assert_non_null(strstr(with, "\nPermitEmptyPasswords no\n"));
        assert_non_null(strstr(without, "\nPort 22\n"));
        /* no root key: root's login is not touched */
        assert_null(strstr(without, "\nPermitRootLogin"));
        /* the port of each login is in the log */
        assert_non_null(strstr(with, "\nLogLevel VERBOSE\n"));

        /* the old ports, kept until a login on the new one: the new port
         * first, each old one once, never the new one twice */
        assert_sshd_lines(kept);
        assert_non_null(strstr(kept, "\nPort 2222\n"));
        assert_non_null(strstr(kept, "\nPort 22\n"));
        assert_non_null(strstr(kept, "\nPort 2200\n"));
        assert_true(strstr(kept, "\nPort 2222\n") < strstr(kept, "\nPort 22\n"));
        assert_null(strstr(strstr(kept, "\nPort 2222\n") + 1, "\nPort 2222\n"));
        assert_int_equal(hardening_sshd_kept_ports(kept, 2222, ports, 4), 2);
        assert_int_equal(ports[0], 22);
        assert_int_equal(ports[1], 2200);
        assert_int_equal(hardening_sshd_kept_ports(kept, 2222, ports, 1), 1);
        assert_int_equal(hardening_sshd_kept_ports(with, 2222, ports, 4), 0);
        assert_int_equal(hardening_sshd_kept_ports("Port 99999\nPort x\n# Port 22\nPort 22", 2222, ports, 4), 1);
        assert_int_equal(ports[0], 22);
        assert_int_equal(hardening_sshd_kept_ports(NULL, 2222, ports, 4), 0);
        free(with);
        free(without);
        free(kept);
}

static void jail_text(void **state)
{
        (void)state;
        char *t = hardening_jail_text(2299, 3390);
        assert_true(startswith(t, "# "));
        /* both jails ban with nftables (fail2ban's table, ahead of ufw's
         * chains), not with a default that differs between releases */
        assert_non_null(strstr(t, "\n[sshd]\nenabled = true\nport = 2299\nbackend = systemd\n"
                                  "banaction = nftables\nmaxretry = 5\n"));
        /* failed RDP logins have a jail of their own, on the RDP port */
        assert_non_null(strstr(t, "\n[vps-provision-xrdp]\nenabled = true\n"
                                  "filter = vps-provision-xrdp\nport = 3390\nbackend = systemd\n"
                                  "banaction = nftables\nmaxretry = 5\n"));
        /* one banaction line per jail, and none in a [DEFAULT] that would
         * change jails of other packages */
        assert_null(strstr(t, "[DEFAULT]"));
        assert_non_null(strstr(strstr(t, "\nbanaction = ") + 1, "\nbanaction = "));
        assert_null(strstr(strstr(strstr(t, "\nbanaction = ") + 1, "\nbanaction = ") + 1, "\nbanaction = "));
        free(t);
        /* the ban action's program comes with fail2ban (which only
         * recommends it; the phase installs without recommendations) */
        {
                bool nft = false;
                for (const char *const *p = hardening_fail2ban_packages; *p; p++)
                        nft |= strcmp(*p, "nftables") == 0;
                assert_true(nft);
        }
        /* the filter: xrdp-sesexec's AUTHFAIL lines in xrdp-sesman's
         * journal, the address anchored at the end of the line */
        assert_non_null(strstr(hardening_xrdp_filter,
                               "\nfailregex = ^%(__prefix_line)s\\[INFO\\s*\\] AUTHFAIL: user=.* "
                               "ip=(?:::ffff:)?<ADDR> time=\\d+\\s*$\n"));
        assert_non_null(strstr(hardening_xrdp_filter,
                               "\njournalmatch = _SYSTEMD_UNIT=xrdp-sesman.service + _COMM=xrdp-sesexec\n"));
}

/* Socket activation: systemd listens for sshd, and sshd -T still says 22. */
static void socket_ports(void **state)
{
        (void)state;
        uint16_t p[8];
        const char *show =
                "ActiveState=active\n"
                "Listen=[::]:2222 (Stream)\n"
                "Listen=0.0.0.0:2200 (Stream)\n"
                "Listen=/run/ssh-unix-local/socket (Stream)\n"
                "Listen=[::]:5353 (Datagram)\n"
                "\n"
                "ActiveState=inactive\n"
                "Listen=[::]:22 (Stream)\n";

        assert_int_equal(hardening_socket_ports(show, p, 8), 2);
        assert_int_equal(p[0], 2222);
        assert_int_equal(p[1], 2200);
        /* an inactive socket (the second unit) listens nowhere */
        assert_int_equal(hardening_socket_ports("ActiveState=inactive\nListen=[::]:22 (Stream)\n", p, 8), 0);
        assert_int_equal(hardening_socket_ports("Listen=2022 (Stream)\nActiveState=active\n", p, 8), 1);
        assert_int_equal(p[0], 2022);
        assert_int_equal(hardening_socket_ports(show, p, 1), 1);
        assert_int_equal(hardening_socket_ports("", p, 8), 0);

        assert_int_equal(hardening_ssh_connection_port("198.51.100.7 50022 192.0.2.10 2222"), 2222);
        assert_int_equal(hardening_ssh_connection_port("2001:db8::7 50022 2001:db8::1 22"), 22);
        assert_int_equal(hardening_ssh_connection_port("198.51.100.7 50022 192.0.2.10"), 0);
        assert_int_equal(hardening_ssh_connection_port("a b c 70000"), 0);
        assert_int_equal(hardening_ssh_connection_port(NULL), 0);
}

/* ssh.socket in use: enabled (at boot) or running now. */
static void socket_in_use(void **state)
{
        (void)state;
        assert_true(hardening_socket_in_use("enabled\n", NULL));
        assert_true(hardening_socket_in_use("enabled-runtime\n", NULL));
        assert_true(hardening_socket_in_use(NULL, "active\n"));
        assert_true(hardening_socket_in_use("disabled\n", "active\n"));
        /* systemctl answers these with a non-zero status: NULL here */
        assert_false(hardening_socket_in_use(NULL, NULL));
        /* printed on exit status 0 all the same, but not "in use" */
        assert_false(hardening_socket_in_use("static\n", "inactive\n"));
        assert_false(hardening_socket_in_use("masked\n", "activating\n"));
        assert_false(hardening_socket_in_use("", ""));
}

static void test_config(void **state)
{
        (void)state;
        char *t = hardening_sshd_test_config("/var/lib/x/cand.conf", "/etc/ssh/sshd_config");
        /* the candidate first: the first value wins, as it will once installed */
        assert_string_equal(t, "Include /var/lib/x/cand.conf\nInclude /etc/ssh/sshd_config\n");
        free(t);
}

static const char sshd_T[] =
        "port 22\n"
        "port 24011\n"
        "addressfamily any\n"
        "listenaddress 127.0.0.1:24011\n"
        "listenaddress 127.0.0.1:22\n"
        "maxauthtries 4\n"
        "permitrootlogin prohibit-password\n"
        "portx 9\n";

static void sshd_T_parsing(void **state)
{
        (void)state;
        uint16_t ports[4];
        char *v;

        assert_int_equal(hardening_sshd_ports(sshd_T, ports, 4), 2);
        assert_int_equal(ports[0], 22);
        assert_int_equal(ports[1], 24011);
        assert_int_equal(hardening_sshd_ports(sshd_T, ports, 1), 1);
        assert_int_equal(hardening_sshd_ports("port 0\nport 70000\nport x\n", ports, 4), 0);
        v = hardening_sshd_value(sshd_T, "permitrootlogin");
        assert_string_equal(v, "prohibit-password");
        free(v);
        v = hardening_sshd_value(sshd_T, "maxauthtries");
        assert_string_equal(v, "4");
        free(v);
        assert_null(hardening_sshd_value(sshd_T, "port2"));
        assert_null(hardening_sshd_value(sshd_T, "maxauth"));
}

static const char ufw_added[] =
        "Added user rules (see 'ufw status' for running firewall):\n"
        "ufw allow 22/tcp\n"
        "ufw allow 3389/tcp\n";

static const char ufw_status_active[] =
        "Status: active\n"
        "\n"
        "To                         Action      From\n"
        "--                         ------      ----\n"
        "22/tcp                     ALLOW       Anywhere\n"
        "3389/tcp                   ALLOW       Anywhere\n"
        "2222/tcp                   DENY        Anywhere\n"
        "22/tcp (v6)                ALLOW       Anywhere (v6)\n"
        "3389/tcp (v6)              ALLOW       Anywhere (v6)\n";

static void ufw_parsing(void **state)
{
        (void)state;
        assert_true(hardening_ufw_added(ufw_added, "allow 22/tcp"));
        assert_true(hardening_ufw_added(ufw_added, "allow 3389/tcp"));
        assert_false(hardening_ufw_added(ufw_added, "allow 2/tcp"));
        assert_false(hardening_ufw_added("Added user rules (see 'ufw status' for running firewall):\n(None)\n",
                                         "allow 22/tcp"));

        assert_true(hardening_ufw_active(ufw_status_active));
        assert_false(hardening_ufw_active("Status: inactive\n"));
        assert_true(hardening_ufw_allows(ufw_status_active, "22/tcp"));
        assert_true(hardening_ufw_allows(ufw_status_active, "3389/tcp"));
        /* a DENY rule, a prefix of another port, or no rule at all are not "allowed" */
        assert_false(hardening_ufw_allows(ufw_status_active, "2222/tcp"));
        assert_false(hardening_ufw_allows(ufw_status_active, "2/tcp"));
        assert_false(hardening_ufw_allows(ufw_status_active, "22"));
        assert_false(hardening_ufw_allows("Status: inactive\n", "22/tcp"));
        assert_true(hardening_ufw_allows("22/tcp (v6)                LIMIT       Anywhere (v6)\n", "22/tcp"));

        /* fail2ban-client status, as fail2ban 1.1 prints it */
        static const char f2b[] = "Status\n|- Number of jail:\t2\n`- Jail list:\tsshd, vps-provision-xrdp\n";
        assert_true(hardening_f2b_has_jail(f2b, "sshd"));
        assert_true(hardening_f2b_has_jail(f2b, "vps-provision-xrdp"));
        /* a prefix, a longer name, or a jail of another line are not it */
        assert_false(hardening_f2b_has_jail(f2b, "ssh"));
        assert_false(hardening_f2b_has_jail(f2b, "vps-provision"));
        assert_false(hardening_f2b_has_jail("Status\n|- Number of jail:\t0\n`- Jail list:\t\n", "sshd"));
        assert_false(hardening_f2b_has_jail("sshd\n", "sshd"));
        assert_false(hardening_f2b_has_jail(f2b, ""));
        assert_false(hardening_f2b_has_jail(NULL, "sshd"));
        assert_true(hardening_f2b_has_jail("`- Jail list:\tsshd\n", "sshd"));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(sshd_text),
                cmocka_unit_test(login_seen),
                cmocka_unit_test(jail_text),
                cmocka_unit_test(socket_ports),
                cmocka_unit_test(socket_in_use),
                cmocka_unit_test(test_config),
                cmocka_unit_test(sshd_T_parsing),
                cmocka_unit_test(ufw_parsing),
        };
        int r = cmocka_run_group_tests(tests, NULL, NULL);
        test_cleanup_all();
        return r;
}
