/* test_phase_probe.c — the read-only probes of the system-prep, desktop and
 * rdp phases: dpkg-query, apt-cache policy and update-alternatives output,
 * /proc/net/tcp{,6} (recorded text and a fake /proc), /etc/group members,
 * a real listening socket of this test seen through the real /proc, and
 * dpkg's "interrupted" sign in a fake dpkg directory. */
#include "testlib.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dpkg_repair.h"
#include <stdio.h>
#include <sys/stat.h>

#include "probe.h"
#include "util.h"

static void test_dpkg_status(void **state)
{
        (void)state;
        const char *out = "ii  xfce4\n"
                          "un  lightdm\n"
                          "rc  xscreensaver\n"
                          "iF  xrdp\n"              /* half-configured: not installed */
                          "hi  curl\n"              /* held, installed */
                          "ii  xfce4-terminal\n";
        const char *const pkgs[] = { "xfce4", "xfce4-term", "xfce4-terminal", "lightdm",
                                     "xscreensaver", "xrdp", "curl", "unknown-to-dpkg",
                                     "mate-screensaver-", NULL };
        _cleanup_strv_ char **missing = NULL, **none = NULL;
        _cleanup_free_ char *s = NULL;

        assert_int_equal(probe_parse_dpkg_status(out, pkgs, &missing), 0);
        s = strv_join(missing, " ");
        /* a prefix of a name is not the name; exclusions are not asked about */
        assert_string_equal(s, "xfce4-term lightdm xscreensaver xrdp unknown-to-dpkg");

        assert_int_equal(probe_parse_dpkg_status("ii  a\nii  b\n",
                                                 (const char *const[]){ "b", "a", NULL }, &none),
                         0);
        assert_null(none);
}

static void test_candidate(void **state)
{
        (void)state;
        assert_true(probe_parse_candidate("pipewire-module-xrdp:\n  Installed: (none)\n"
                                          "  Candidate: 0.2-2\n  Version table:\n"));
        assert_false(probe_parse_candidate("foo:\n  Installed: (none)\n  Candidate: (none)\n"));
        assert_false(probe_parse_candidate(""));      /* apt-cache prints nothing for unknown names */
        assert_false(probe_parse_candidate(NULL));
}

/* Recorded lines: 127.0.0.1:22 listening, 0.0.0.0:3389 established only,
 * and (tcp6) :::13389 listening. */
static const char tcp4[] =
        "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
        "   0: 0100007F:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0 100 0 0 10 0\n"
        "   1: 00000000:0D3D 0200000A:C350 01 00000000:00000000 00:00000000 00000000     0        0 2 1 0 20 4 30 10 -1\n";
static const char tcp6[] =
        "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
        "   0: 00000000000000000000000000000000:344D 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000   108        0 3 1 0 100 0 0 10 0\n";

static void test_proc_net_tcp(void **state)
{
        (void)state;
        assert_true(probe_parse_proc_net_tcp(tcp4, 22));
        assert_false(probe_parse_proc_net_tcp(tcp4, 3389));   /* connected, not listening */
        assert_false(probe_parse_proc_net_tcp(tcp4, 13389));
        assert_true(probe_parse_proc_net_tcp(tcp6, 13389));
        assert_false(probe_parse_proc_net_tcp(tcp6, 22));
        assert_false(probe_parse_proc_net_tcp("", 22));
        assert_false(probe_parse_proc_net_tcp(NULL, 22));
}

static void test_fake_proc(void **state)
{
        (void)state;
        char *dir = test_tmpdir();
        _cleanup_free_ char *net = test_path(dir, "net");
        _cleanup_free_ char *f4 = test_path(dir, "net/tcp");
        _cleanup_free_ char *f6 = test_path(dir, "net/tcp6");

        assert_int_equal(probe_tcp_listening(dir, 22), -ENOENT);
        assert_int_equal(mkdir_p(net, 0755), 0);
        test_write(f4, tcp4);
        assert_int_equal(probe_tcp_listening(dir, 22), 1);      /* tcp6 missing is fine */
        assert_int_equal(probe_tcp_listening(dir, 13389), 0);
        test_write(f6, tcp6);
        assert_int_equal(probe_tcp_listening(dir, 13389), 1);
}

static void test_real_socket(void **state)
{
        (void)state;
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t len = sizeof(sa);
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        uint16_t port;

        assert_true(fd >= 0);
        assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
        assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
        port = ntohs(sa.sin_port);
        assert_int_equal(probe_tcp_listening("/proc", port), 0);   /* bound, not listening */
        assert_int_equal(listen(fd, 1), 0);
        assert_int_equal(probe_tcp_listening("/proc", port), 1);
        close(fd);
        assert_int_equal(probe_tcp_listening("/proc", port), 0);
}

static void test_group_member(void **state)
{
        (void)state;
        const char *g = "root:x:0:\n"
                        "ssl-cert:x:109:postgres,xrdp\n"
                        "ssl:x:110:xrdp2\n"
                        "devusers:x:1001:dev\n";

        assert_true(probe_parse_group_member(g, "ssl-cert", "xrdp"));
        assert_true(probe_parse_group_member(g, "ssl-cert", "postgres"));
        assert_false(probe_parse_group_member(g, "ssl-cert", "xrd"));
        assert_false(probe_parse_group_member(g, "ssl", "xrdp"));
        assert_false(probe_parse_group_member(g, "root", "root"));
        assert_false(probe_parse_group_member(g, "nogroup", "xrdp"));
        assert_true(probe_parse_group_member("devusers:x:1001:dev", "devusers", "dev"));
}

static void test_alternative(void **state)
{
        (void)state;
        char buf[64];
        const char *out = "Name: x-session-manager\n"
                          "Link: /usr/bin/x-session-manager\n"
                          "Status: manual\n"
                          "Best: /usr/bin/startxfce4\n"
                          "Value: /usr/bin/xfce4-session\n"
                          "\n"
                          "Alternative: /usr/bin/startxfce4\n"
                          "Priority: 50\n";

        probe_parse_alternative(out, buf, sizeof(buf));
        assert_string_equal(buf, "/usr/bin/xfce4-session");
        probe_parse_alternative("Name: x\nStatus: auto\n\nValue: /not/the/group\n", buf, sizeof(buf));
        assert_string_equal(buf, "");
        probe_parse_alternative(out, buf, 5);   /* does not fit: empty, not cut */
        assert_string_equal(buf, "");
}

static void test_file_equals(void **state)
{
        (void)state;
        char *dir = test_tmpdir();
        _cleanup_free_ char *f = test_path(dir, "f");

        assert_int_equal(probe_file_equals(f, "a", 1), 0);
        test_write(f, "abc");
        assert_int_equal(probe_file_equals(f, "abc", 3), 1);
        assert_int_equal(probe_file_equals(f, "ab", 2), 0);
        assert_int_equal(probe_file_equals(f, "abcd", 4), 0);
        assert_int_equal(probe_file_equals(f, "abd", 3), 0);
}

static void test_dpkg_interrupted(void **state)
{
        (void)state;
        char *dir = test_tmpdir();
        _cleanup_free_ char *updates = test_path(dir, "updates");
        _cleanup_free_ char *entry = test_path(dir, "updates/0001");

        assert_false(dpkg_interrupted(dir));          /* no updates/ at all */
        assert_int_equal(mkdir_p(updates, 0755), 0);
        assert_false(dpkg_interrupted(dir));          /* empty: a clean dpkg */
        test_write(entry, "Package: xfce4\nStatus: install ok unpacked\n");
        assert_true(dpkg_interrupted(dir));
}

/* sudo vps-provision: SSH_CONNECTION is in the login shell's environment,
 * two processes up, not in the program's own. */
static void test_ssh_connection(void **state)
{
        (void)state;
        char *proc = test_tmpdir();
        char buf[128] = "untouched";
        static const struct {
                int pid, ppid;
                const char *env;   /* NUL-separated, as /proc/PID/environ */
                size_t len;
        } procs[] = {
                { 700, 650, "PATH=/usr/bin\0TERM=xterm\0", 25 },
                { 650, 600, "SUDO_USER=ops\0", 14 },
                { 600, 500, "HOME=/root\0SSH_CONNECTION=198.51.100.7 50022 192.0.2.10 2222\0", 62 },
                { 500, 1, "SSH_CONNECTION=203.0.113.9 1 192.0.2.10 22\0", 44 },
        };

        for (size_t i = 0; i < ELEMENTSOF(procs); i++) {
                _cleanup_free_ char *dir = xasprintf("%s/%d", proc, procs[i].pid);
                _cleanup_free_ char *st = xasprintf("%s/stat", dir);
                _cleanup_free_ char *env = xasprintf("%s/environ", dir);
                _cleanup_free_ char *line = xasprintf("%d (a) b) S %d 1 1 0 -1\n", procs[i].pid,
                                                      procs[i].ppid);
                FILE *f;

                assert_int_equal(mkdir(dir, 0755), 0);
                test_write(st, line);
                f = fopen(env, "wb");
                assert_non_null(f);
                assert_int_equal(fwrite(procs[i].env, 1, procs[i].len, f), procs[i].len);
                fclose(f);
        }
        assert_int_equal(probe_ssh_connection(proc, 700, buf, sizeof(buf)), 1);
        assert_string_equal(buf, "198.51.100.7 50022 192.0.2.10 2222");   /* the nearest */
        assert_int_equal(probe_ssh_connection(proc, 500, buf, sizeof(buf)), 1);
        assert_string_equal(buf, "203.0.113.9 1 192.0.2.10 22");
        strscpy(buf, sizeof(buf), "untouched");
        assert_int_equal(probe_ssh_connection(proc, 650 + 1, buf, sizeof(buf)), 0);   /* no such process */
        assert_string_equal(buf, "untouched");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_dpkg_status),
                cmocka_unit_test(test_candidate),
                cmocka_unit_test(test_proc_net_tcp),
                cmocka_unit_test(test_fake_proc),
                cmocka_unit_test(test_real_socket),
                cmocka_unit_test(test_group_member),
                cmocka_unit_test(test_alternative),
                cmocka_unit_test(test_file_equals),
                cmocka_unit_test(test_dpkg_interrupted),
                cmocka_unit_test(test_ssh_connection),
        };
        int r = cmocka_run_group_tests(tests, NULL, NULL);
        test_cleanup_all();
        return r;
}
