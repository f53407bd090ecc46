/* test_sysfile.c — the system's files as the program reads them: the one
 * "is this file exactly so?" rule (content, mode, owner, regular file),
 * small reads, candidate files, KEY=VALUE text, group membership through
 * the real account database, and TCP listeners in /proc/net/tcp{,6}
 * (recorded text, a fake /proc, and a real socket of this test seen
 * through the real /proc). */
#include "testlib.h"

#include <arpa/inet.h>
#include <errno.h>
#include <grp.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sysfile.h"
#include "util.h"

static void file_is(void **state)
{
        (void)state;
        char *dir = test_tmpdir();
        _cleanup_free_ char *p = test_path(dir, "f");
        _cleanup_free_ char *link = test_path(dir, "link");

        assert_false(sysfile_is(p, "", 0644, getuid(), getgid()));   /* missing */
        test_write(p, "hello\n");
        assert_int_equal(chmod(p, 0640), 0);
        assert_true(sysfile_is(p, "hello\n", 0640, getuid(), getgid()));
        assert_false(sysfile_is(p, "hello\n", 0644, getuid(), getgid()));     /* mode */
        assert_false(sysfile_is(p, "hello\n", 0640, getuid() + 1, getgid())); /* owner */
        assert_false(sysfile_is(p, "hello\n", 0640, getuid(), getgid() + 1));
        assert_false(sysfile_is(p, "hello", 0640, getuid(), getgid()));       /* shorter */
        assert_false(sysfile_is(p, "hello\n\n", 0640, getuid(), getgid()));   /* longer */
        assert_false(sysfile_is(p, "hellO\n", 0640, getuid(), getgid()));
        /* bytes, not a C string */
        assert_true(sysfile_is_data(p, "hello\nX", 6, 0640, getuid(), getgid()));
        /* a link to the right file is not the file; a directory is not one */
        assert_int_equal(symlink(p, link), 0);
        assert_false(sysfile_is(link, "hello\n", 0640, getuid(), getgid()));
        assert_false(sysfile_is(dir, "", 0700, getuid(), getgid()));
        /* empty file */
        test_write(p, "");
        assert_int_equal(chmod(p, 0600), 0);
        assert_true(sysfile_is(p, "", 0600, getuid(), getgid()));
}

static void read_and_candidates(void **state)
{
        (void)state;
        char *dir = test_tmpdir();
        char *tmp = NULL, *back;

        assert_int_equal(sysfile_write_temp(dir, "cand", "x y\n", 0440, &tmp), 0);
        assert_true(startswith(tmp, dir));
        assert_true(sysfile_is(tmp, "x y\n", 0440, getuid(), getgid()));
        back = sysfile_read(tmp);
        assert_string_equal(back, "x y\n");
        assert_null(sysfile_read("/nonexistent/vpsp"));
        assert_int_equal(sysfile_write_temp("/nonexistent/vpsp", "cand", "x", 0600, &tmp) < 0, 1);
        unlink(tmp);
        free(back);
        free(tmp);
}

static void key_value_text(void **state)
{
        (void)state;
        const char *deflt = "# /etc/default/ufw\nIPV6=yes\nDEFAULT_INPUT_POLICY=\"ACCEPT\"\nDEFAULT_OUTPUT_POLICY=\"ACCEPT\"\n";
        char *v = sysfile_get_key(deflt, "DEFAULT_INPUT_POLICY");
        char *n, *v2;

        assert_string_equal(v, "ACCEPT");
        n = sysfile_set_key(deflt, "DEFAULT_INPUT_POLICY", "\"DROP\"");
        assert_string_equal(n, "# /etc/default/ufw\nIPV6=yes\nDEFAULT_INPUT_POLICY=\"DROP\"\nDEFAULT_OUTPUT_POLICY=\"ACCEPT\"\n");
        v2 = sysfile_get_key(n, "DEFAULT_INPUT_POLICY");
        assert_string_equal(v2, "DROP");
        assert_null(sysfile_get_key(deflt, "DEFAULT_INPUT"));
        assert_null(sysfile_get_key(NULL, "X"));
        free(v);
        free(v2);
        free(n);
        n = sysfile_set_key("A=1", "B", "2");
        assert_string_equal(n, "A=1\nB=2\n");
        free(n);
        n = sysfile_set_key(NULL, "B", "2");
        assert_string_equal(n, "B=2\n");
        free(n);
}

/* Membership as the account database has it: the primary group counts,
 * a listed member counts, nothing else does. */
static void group_membership(void **state)
{
        (void)state;
        struct passwd fake = { .pw_name = (char *)"vpsp-nobody-here", .pw_gid = 0 };
        struct group *g;
        bool exists = false;

        /* primary group (gid 0 is root's group on every Debian system) */
        assert_true(sysfile_in_group(&fake, "root", &exists));
        assert_true(exists);
        fake.pw_gid = 65000;
        assert_false(sysfile_in_group(&fake, "root", &exists));
        assert_true(exists);
        assert_false(sysfile_in_group(&fake, "vpsp-no-such-group", &exists));
        assert_false(exists);
        assert_true(sysfile_user_in_group("root", "root"));
        assert_false(sysfile_user_in_group("vpsp-no-such-user", "root"));

        /* a listed member of some group of this system, when there is one */
        setgrent();
        while ((g = getgrent()) && !(g->gr_mem && g->gr_mem[0]))
                ;
        if (g) {
                _cleanup_free_ char *member = xstrdup(g->gr_mem[0]);
                _cleanup_free_ char *group = xstrdup(g->gr_name);
                gid_t gid = g->gr_gid;

                endgrent();
                fake.pw_name = member;
                fake.pw_gid = gid + 1;
                assert_true(sysfile_in_group(&fake, group, NULL));
                fake.pw_name = (char *)"vpsp-nobody-here";
                assert_false(sysfile_in_group(&fake, group, NULL));
        } else
                endgrent();
}

/* Recorded lines: 127.0.0.1:22 listening, 0.0.0.0:3389 established only,
 * and (tcp6) :::13389 listening. */
static const char tcp4[] =
        "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
        "   0: 0100007F:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0 100 0 0 10 0\n"
        "   1: 00000000:0D3D 0200000A:C350 01 00000000:00000000 00:00000000 00000000     0        0 2 1 0 20 4 30 10 -1\n"
        "   2: 0100007F:0CEA 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0 100 0 0 10 0\n";
static const char tcp6[] =
        "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
        "   0: 00000000000000000000000000000000:344D 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000   108        0 3 1 0 100 0 0 10 0\n";

static void proc_net_tcp(void **state)
{
        (void)state;
        assert_true(sysfile_parse_proc_net_tcp(tcp4, 22));
        assert_true(sysfile_parse_proc_net_tcp(tcp4, 3306));    /* 0x0CEA */
        assert_false(sysfile_parse_proc_net_tcp(tcp4, 3389));   /* connected, not listening */
        assert_false(sysfile_parse_proc_net_tcp(tcp4, 13389));
        assert_true(sysfile_parse_proc_net_tcp(tcp6, 13389));
        assert_false(sysfile_parse_proc_net_tcp(tcp6, 22));
        assert_false(sysfile_parse_proc_net_tcp("", 22));
        assert_false(sysfile_parse_proc_net_tcp(NULL, 22));
        assert_false(sysfile_parse_proc_net_tcp("garbage\n  0: x:zz y 0A\n", 22));
}

static void fake_proc(void **state)
{
        (void)state;
        char *dir = test_tmpdir();
        _cleanup_free_ char *net = test_path(dir, "net");
        _cleanup_free_ char *f4 = test_path(dir, "net/tcp");
        _cleanup_free_ char *f6 = test_path(dir, "net/tcp6");

        assert_int_equal(sysfile_tcp_listening(dir, 22), -ENOENT);
        assert_int_equal(mkdir_p(net, 0755), 0);
        test_write(f4, tcp4);
        assert_int_equal(sysfile_tcp_listening(dir, 22), 1);      /* tcp6 missing is fine */
        assert_int_equal(sysfile_tcp_listening(dir, 13389), 0);
        test_write(f6, tcp6);
        assert_int_equal(sysfile_tcp_listening(dir, 13389), 1);
}

static void real_socket(void **state)
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
        assert_int_equal(sysfile_tcp_listening(NULL, port), 0);   /* bound, not listening */
        assert_int_equal(listen(fd, 1), 0);
        assert_int_equal(sysfile_tcp_listening(NULL, port), 1);
        close(fd);
        assert_int_equal(sysfile_tcp_listening("/proc", port), 0);
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
        assert_int_equal(sysfile_ssh_connection(proc, 700, buf, sizeof(buf)), 1);
        assert_string_equal(buf, "198.51.100.7 50022 192.0.2.10 2222");   /* the nearest */
        assert_int_equal(sysfile_ssh_connection(proc, 500, buf, sizeof(buf)), 1);
        assert_string_equal(buf, "203.0.113.9 1 192.0.2.10 22");
        strscpy(buf, sizeof(buf), "untouched");
        assert_int_equal(sysfile_ssh_connection(proc, 650 + 1, buf, sizeof(buf)), 0);   /* no such process */
        assert_string_equal(buf, "untouched");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(file_is),
                cmocka_unit_test(read_and_candidates),
                cmocka_unit_test(key_value_text),
                cmocka_unit_test(group_membership),
                cmocka_unit_test(proc_net_tcp),
                cmocka_unit_test(fake_proc),
                cmocka_unit_test(real_socket),
                cmocka_unit_test(test_ssh_connection),
        };
        int r = cmocka_run_group_tests(tests, NULL, NULL);
        test_cleanup_all();
        return r;
}
