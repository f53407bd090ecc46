/* test_ports.c — listening TCP sockets and their processes: recorded
 * /proc/net/tcp{,6} text, a fake /proc with socket links and comm files,
 * and a real listening socket of this test seen through the real /proc. */
#include "testlib.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ports.h"
#include "util.h"

/* 127.0.0.1:22 listening (inode 4242), 0.0.0.0:3389 established only,
 * 0.0.0.0:8080 listening (inode 77, owner not visible); tcp6 :::22
 * listening (inode 4243, the same sshd) and :::3389 listening (inode 99). */
static const char tcp4[] =
        "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
        "   0: 0100007F:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4242 1 0 100 0 0 10 0\n"
        "   1: 00000000:0D3D 0200000A:C350 01 00000000:00000000 00:00000000 00000000     0        0 555 1 0 20 4 30 10 -1\n"
        "   2: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000    33        0 77 1 0 100 0 0 10 0\n";
static const char tcp6[] =
        "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
        "   0: 00000000000000000000000000000000:0016 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4243 1 0 100 0 0 10 0\n"
        "   1: 00000000000000000000000000000000:0D3D 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000   108        0 99 1 0 100 0 0 10 0\n";

static void test_parse(void **state)
{
        (void)state;
        _cleanup_free_ uint16_t *ports = NULL;
        _cleanup_free_ uint64_t *inodes = NULL;
        size_t n = 0;

        ports_parse_proc_net_tcp(tcp4, &ports, &inodes, &n);
        assert_int_equal(n, 2);        /* the established socket is not a listener */
        assert_int_equal(ports[0], 22);
        assert_int_equal(inodes[0], 4242);
        assert_int_equal(ports[1], 8080);
        assert_int_equal(inodes[1], 77);
        ports_parse_proc_net_tcp(tcp6, &ports, &inodes, &n);
        assert_int_equal(n, 4);
        assert_int_equal(ports[3], 3389);
        assert_int_equal(inodes[3], 99);
        ports_parse_proc_net_tcp("", &ports, &inodes, &n);
        ports_parse_proc_net_tcp(NULL, &ports, &inodes, &n);
        ports_parse_proc_net_tcp("header only\n garbage line\n", &ports, &inodes, &n);
        assert_int_equal(n, 4);
}

/* Which listeners face more than the loopback interface: 127.0.0.1:22 does
 * not, 0.0.0.0:8080 and :::3389 do, an established socket is no listener,
 * and ::1 or ::ffff:127.0.0.1 are loopback too (xrdp's tcp://127.0.0.1:N). */
static void test_beyond_loopback(void **state)
{
        static const char loop6[] =
                "  sl  local_address                         remote_address                        st\n"
                "   0: 00000000000000000000000001000000:0D3D 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 1 1\n"
                "   1: 0000000000000000FFFF00000100007F:0D3E 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 2 1\n"
                "   2: 0000000000000000FFFF00000A01D50A:0D3F 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 3 1\n";
        static const char v4[] =
                "  sl  local_address rem_address   st\n"
                "   0: 0100007F:0D3D 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 5 1\n"
                "   1: 7F00000A:0D3E 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 6 1\n";
        (void)state;

        assert_false(ports_listen_beyond_loopback(tcp4, 22));
        assert_true(ports_listen_beyond_loopback(tcp4, 8080));
        assert_false(ports_listen_beyond_loopback(tcp4, 3389));     /* established only */
        assert_true(ports_listen_beyond_loopback(tcp6, 3389));
        assert_true(ports_listen_beyond_loopback(tcp6, 22));
        assert_false(ports_listen_beyond_loopback(tcp4, 9999));
        assert_false(ports_listen_beyond_loopback(loop6, 3389));    /* ::1 */
        assert_false(ports_listen_beyond_loopback(loop6, 3390));    /* ::ffff:127.0.0.1 */
        assert_true(ports_listen_beyond_loopback(loop6, 3391));     /* ::ffff:10.213.1.10 */
        assert_false(ports_listen_beyond_loopback(v4, 3389));       /* 127.0.0.1 */
        assert_true(ports_listen_beyond_loopback(v4, 3390));        /* 10.0.0.127 */
        assert_false(ports_listen_beyond_loopback(NULL, 22));
        assert_false(ports_listen_beyond_loopback("", 22));
}

static void fake_fd(const char *dir, const char *pid, const char *fd, const char *target)
{
        _cleanup_free_ char *fds = xasprintf("%s/%s/fd", dir, pid);
        _cleanup_free_ char *link = xasprintf("%s/%s", fds, fd);

        assert_int_equal(mkdir_p(fds, 0755), 0);
        assert_int_equal(symlink(target, link), 0);
}

static void test_fake_proc(void **state)
{
        (void)state;
        char *dir = test_tmpdir();
        _cleanup_free_ char *net = test_path(dir, "net");
        _cleanup_free_ char *f4 = test_path(dir, "net/tcp");
        _cleanup_free_ char *f6 = test_path(dir, "net/tcp6");
        _cleanup_free_ char *c1 = test_path(dir, "812/comm");
        _cleanup_free_ char *c2 = test_path(dir, "913/comm");
        struct port_listeners l = { .n = 99 };
        const struct port_listener *p;

        assert_int_equal(ports_listeners(dir, &l), -ENOENT);
        assert_int_equal(l.n, 99);     /* untouched on failure */
        assert_int_equal(mkdir_p(net, 0755), 0);
        test_write(f4, tcp4);
        test_write(f6, tcp6);
        /* sshd (812) holds both of port 22's sockets, "nginx\tx" (913) 3389 */
        fake_fd(dir, "812", "3", "socket:[4242]");
        fake_fd(dir, "812", "4", "socket:[4243]");
        fake_fd(dir, "812", "0", "/dev/null");
        fake_fd(dir, "913", "7", "socket:[99]");
        fake_fd(dir, "913", "8", "pipe:[99]");
        test_write(c1, "sshd\n");
        test_write(c2, "nginx\tx\n");
        assert_int_equal(ports_listeners(dir, &l), 0);
        assert_int_equal(l.n, 3);      /* 22 once: one process on IPv4 and IPv6 */
        assert_int_equal(l.v[0].port, 22);
        assert_int_equal(l.v[0].pid, 812);
        assert_string_equal(l.v[0].comm, "sshd");
        assert_int_equal(l.v[1].port, 3389);
        assert_int_equal(l.v[1].pid, 913);
        assert_string_equal(l.v[1].comm, "nginx?x");   /* not printable: masked */
        assert_int_equal(l.v[2].port, 8080);
        assert_int_equal(l.v[2].pid, 0);               /* the owner is not visible */
        assert_string_equal(l.v[2].comm, "");
        p = ports_find(&l, 3389);
        assert_non_null(p);
        assert_int_equal(p->pid, 913);
        assert_null(ports_find(&l, 3390));
        assert_null(ports_find(NULL, 22));
        port_listeners_release(&l);
        assert_int_equal(l.n, 0);
        port_listeners_release(&l);
        port_listeners_release(NULL);
}

static void test_real_socket(void **state)
{
        (void)state;
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t len = sizeof(sa);
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct port_listeners l = { 0 };
        const struct port_listener *p;
        _cleanup_free_ char *comm = NULL;
        uint16_t port;

        assert_true(fd >= 0);
        assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
        assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
        port = ntohs(sa.sin_port);
        assert_int_equal(ports_listeners("/proc", &l), 0);
        assert_null(ports_find(&l, port));             /* bound, not listening */
        port_listeners_release(&l);
        assert_int_equal(listen(fd, 1), 0);
        assert_int_equal(ports_listeners("/proc", &l), 0);
        p = ports_find(&l, port);
        assert_non_null(p);
        assert_int_equal(p->pid, getpid());
        assert_int_equal(read_file("/proc/self/comm", 4096, &comm, NULL), 0);
        comm[strcspn(comm, "\n")] = '\0';
        assert_string_equal(p->comm, comm);
        port_listeners_release(&l);
        close(fd);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parse),
                cmocka_unit_test(test_beyond_loopback),
                cmocka_unit_test(test_fake_proc),
                cmocka_unit_test(test_real_socket),
        };
        int r = cmocka_run_group_tests(tests, NULL, NULL);
        test_cleanup_all();
        return r;
}
