/* test_preflight.c — facts and checks against a fake tree (os-release,
 * /proc, dpkg, /run, /sys in a temp dir), the archive check against a
 * loopback HTTP server, the default mirror from fake apt sources, the
 * VPSInstance JSON, and a read-only gather on the real machine. */
#include "testlib.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "check.h"
#include "preflight.h"
#include "util.h"

/* ---- a fake system ------------------------------------------------------ */

struct fake {
        char *dir;
        char *os_release, *proc, *dpkg, *run, *sys;
        struct preflight_env env;
};

static const char *const TRIXIE = "PRETTY_NAME=\"Debian GNU/Linux 13 (trixie)\"\n"
                                  "NAME=\"Debian GNU/Linux\"\n"
                                  "VERSION_ID=\"13\"\n"
                                  "VERSION=\"13 (trixie)\"\n"
                                  "VERSION_CODENAME=trixie\n"
                                  "DEBIAN_VERSION_FULL=13.1\n"
                                  "ID=debian\n"
                                  "HOME_URL=\"https://www.debian.org/\"\n";

static char *sub(const char *dir, const char *name)
{
        char *p = test_path(dir, name);
        assert_int_equal(mkdir(p, 0755), 0);
        return p;
}

/* A healthy Debian 13 server with 4 GiB of RAM, run as root. */
static struct fake *fake_new(void)
{
        struct fake *f = calloc(1, sizeof(*f));
        char *p;

        assert_non_null(f);
        f->dir = test_tmpdir();
        f->os_release = test_path(f->dir, "os-release");
        test_write(f->os_release, TRIXIE);
        f->proc = sub(f->dir, "proc");
        p = test_path(f->proc, "meminfo");
        test_write(p, "MemTotal:        4015812 kB\nMemFree:         3000000 kB\n");
        free(p);
        p = test_path(f->proc, "cpuinfo");
        test_write(p, "processor\t: 0\nflags\t\t: fpu vme de pse\n\n");
        free(p);
        f->dpkg = sub(f->dir, "dpkg");
        p = test_path(f->dpkg, "status");
        test_write(p, "Package: dpkg\nStatus: install ok installed\n");
        free(p);
        free(sub(f->dpkg, "updates"));
        f->run = sub(f->dir, "run");
        f->sys = sub(f->dir, "sys");

        preflight_env_default(&f->env);
        f->env.os_release = f->os_release;
        f->env.proc = f->proc;
        f->env.root = f->dir;
        f->env.dpkg_dir = f->dpkg;
        f->env.run_dir = f->run;
        f->env.sys = f->sys;
        f->env.euid = 0;
        f->env.mirror_url = NULL;
        f->env.min_disk_gb = 0;
        return f;
}

static void fake_free(struct fake *f)
{
        free(f->os_release);
        free(f->proc);
        free(f->dpkg);
        free(f->run);
        free(f->sys);
        free(f);
}

/* Writes dir/name (creating the directories on the way). */
static void put(const char *dir, const char *name, const char *content)
{
        char *p = test_path(dir, name);
        char *slash = strrchr(p, '/');
        *slash = '\0';
        assert_int_equal(mkdir_p(p, 0755), 0);
        *slash = '/';
        test_write(p, content);
        free(p);
}

static const struct check *find_check(const struct check_list *l, const char *name)
{
        for (size_t i = 0; i < l->n; i++)
                if (strcmp(l->v[i].name, name) == 0)
                        return &l->v[i];
        fail_msg("no check named %s", name);
        return NULL;
}

static const char *detail(const struct check *c, const char *key)
{
        for (size_t i = 0; c->details && c->details[i] && c->details[i + 1]; i += 2)
                if (strcmp(c->details[i], key) == 0)
                        return c->details[i + 1];
        fail_msg("check %s has no detail %s", c->name, key);
        return NULL;
}

/* Gathers and checks; returns the failures, l filled. */
static int run_checks(struct fake *f, bool force, struct vps_info *v, struct check_list *l)
{
        preflight_gather(&f->env, v);
        return preflight_check(&f->env, v, force, l);
}

/* ---- os-release --------------------------------------------------------- */

static void healthy_system_passes(void **state)
{
        (void)state;
        struct fake *f = fake_new();
        struct check_list l = { 0 };
        struct vps_info v;
        const struct check *c;

        assert_int_equal(run_checks(f, false, &v, &l), 0);
        assert_true(v.validated);
        assert_int_equal(l.n, 5); /* no mirror: no network check */
        assert_int_equal(check_count(&l, CHECK_PASS), 5);
        assert_string_equal(v.os_name, "Debian GNU/Linux");
        assert_string_equal(v.os_id, "debian");
        assert_string_equal(v.os_version, "13");
        assert_string_equal(v.os_codename, "trixie");
        assert_int_equal(v.ram_mb, 3921);

        c = find_check(&l, "Root privileges");
        assert_string_equal(c->category, "security");
        assert_null(c->fix);
        c = find_check(&l, "Operating system");
        assert_string_equal(c->category, "system");
        assert_string_equal(c->message, "Debian GNU/Linux 13 (trixie)");
        assert_string_equal(detail(c, "codename"), "trixie");
        c = find_check(&l, "Memory");
        assert_string_equal(c->message, "3921 MB of RAM");
        assert_string_equal(detail(c, "required_mb"), "1900");
        c = find_check(&l, "Disk space");
        assert_string_equal(detail(c, "path"), f->dir);
        c = find_check(&l, "Package manager");
        assert_string_equal(c->message, "dpkg is ready");
        assert_string_equal(detail(c, "pending_updates"), "0");
        check_list_release(&l);
        fake_free(f);
}

static void os_bookworm_supported(void **state)
{
        (void)state;
        struct fake *f = fake_new();
        struct check_list l = { 0 };
        struct vps_info v;
        const struct check *c;

        test_write(f->os_release, "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n"
                                  "NAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\n"
                                  "VERSION=\"12 (bookworm)\"\nVERSION_CODENAME=bookworm\n"
                                  "ID=debian\n");
        assert_int_equal(run_checks(f, false, &v, &l), 0);
        c = find_check(&l, "Operating system");
        assert_int_equal(c->status, CHECK_PASS);
        assert_string_equal(c->message,
                            "Debian GNU/Linux 12 (bookworm): supported (Debian 13 is the main target)");
        check_list_release(&l);
        fake_free(f);
}

static void os_debian11_fails_force_warns(void **state)
{
        (void)state;
        struct fake *f = fake_new();
        struct check_list l = { 0 };
        struct vps_info v;
        const struct check *c;

        /* No VERSION_CODENAME: the codename comes from VERSION. */
        test_write(f->os_release, "NAME=\"Debian GNU/Linux\"\nVERSION_ID=\"11\"\n"
                                  "VERSION=\"11 (bullseye)\"\nID=debian\n");
        assert_int_equal(run_checks(f, false, &v, &l), 1);
        assert_false(v.validated);
        assert_string_equal(v.os_codename, "bullseye");
        c = find_check(&l, "Operating system");
        assert_int_equal(c->status, CHECK_FAIL);
        assert_string_equal(c->message, "Debian GNU/Linux 11 (bullseye) is not supported: "
                                        "vps-provision supports Debian 13 and 12");
        assert_non_null(strstr(c->fix, "Debian 13 (trixie)"));
        assert_non_null(strstr(c->fix, "--force"));
        check_list_release(&l);

        assert_int_equal(run_checks(f, true, &v, &l), 0);
        assert_true(v.validated);
        assert_int_equal(find_check(&l, "Operating system")->status, CHECK_WARN);
        check_list_release(&l);

        /* Testing/unstable have no VERSION_ID. */
        test_write(f->os_release, "PRETTY_NAME=\"Debian GNU/Linux forky/sid\"\n"
                                  "NAME=\"Debian GNU/Linux\"\nVERSION_CODENAME=forky\nID=debian\n");
        assert_int_equal(run_checks(f, false, &v, &l), 1);
        c = find_check(&l, "Operating system");
        assert_non_null(strstr(c->message, "without a version number"));
        check_list_release(&l);
        fake_free(f);
}

static void os_ubuntu_fails_force_warns(void **state)
{
        (void)state;
        struct fake *f = fake_new();
        struct check_list l = { 0 };
        struct vps_info v;
        const struct check *c;

        test_write(f->os_release, "PRETTY_NAME=\"Ubuntu 24.04.1 LTS\"\nNAME=\"Ubuntu\"\n"
                                  "VERSION_ID=\"24.04\"\nVERSION=\"24.04.1 LTS (Noble Numbat)\"\n"
                                  "VERSION_CODENAME=noble\nID=ubuntu\nID_LIKE=debian\n");
        assert_int_equal(run_checks(f, false, &v, &l), 1);
        assert_string_equal(v.os_id, "ubuntu");
        assert_string_equal(v.os_version, "24.04");
        c = find_check(&l, "Operating system");
        assert_int_equal(c->status, CHECK_FAIL);
        assert_string_equal(c->message, "Ubuntu 24.04 (noble) is not Debian: vps-provision "
                                        "supports Debian 13 and 12");
        check_list_release(&l);

        assert_int_equal(run_checks(f, true, &v, &l), 0);
        assert_int_equal(find_check(&l, "Operating system")->status, CHECK_WARN);
        check_list_release(&l);
        fake_free(f);
}

static void os_release_quoting(void **state)
{
        (void)state;
        struct fake *f = fake_new();
        struct vps_info v;

        test_write(f->os_release,
                   "# a comment line\n"
                   "\n"
                   "NAME=\"Debian \\\"Special\\\" \\$HOME \\\\ \\`x\\` \\n end\"\n"
                   "ID='debian'\n"
                   "VERSION_ID=1\\3\n"
                   "  VERSION_CODENAME=tri'x'\"ie\"  \n"
                   "HOME_URL=\"https://example.org/\"\n");
        preflight_gather(&f->env, &v);
        /* Escapes of $ ` " \ are honoured in double quotes; other
         * backslashes stay. */
        assert_string_equal(v.os_name, "Debian \"Special\" $HOME \\ `x` \\n end");
        assert_string_equal(v.os_id, "debian");
        assert_string_equal(v.os_version, "13");
        assert_string_equal(v.os_codename, "trixie");

        /* Single quotes are literal; an unterminated quote drops the
         * value; a later assignment wins; too long is cut. */
        test_write(f->os_release,
                   "NAME='a \\\"b\\\" $c'\n"
                   "ID=\"debian\n"
                   "VERSION_ID=12\n"
                   "VERSION_ID=13\n"
                   "VERSION_CODENAME=abcdefghijklmnopqrstuvwxyzabcdefghijklmnop\n");
        preflight_gather(&f->env, &v);
        assert_string_equal(v.os_name, "a \\\"b\\\" $c");
        assert_string_equal(v.os_id, "");
        assert_string_equal(v.os_version, "13");
        assert_int_equal(strlen(v.os_codename), sizeof(v.os_codename) - 1);
        fake_free(f);
}

static void os_release_missing(void **state)
{
        (void)state;
        struct fake *f = fake_new();
        struct check_list l = { 0 };
        struct vps_info v;
        const struct check *c;

        assert_int_equal(unlink(f->os_release), 0);
        assert_int_equal(run_checks(f, false, &v, &l), 1);
        assert_string_equal(v.os_name, "");
        assert_string_equal(v.os_id, "");
        assert_string_equal(v.os_version, "");
        assert_string_equal(v.os_codename, "");
        c = find_check(&l, "Operating system");
        assert_int_equal(c->status, CHECK_FAIL);
        assert_non_null(strstr(c->message, "cannot tell which operating system"));
        check_list_release(&l);
        assert_int_equal(run_checks(f, true, &v, &l), 0);
        assert_int_equal(find_check(&l, "Operating system")->status, CHECK_WARN);
        check_list_release(&l);

        /* A NULL path skips it the same way. */
        f->env.os_release = NULL;
        preflight_gather(&f->env, &v);
        assert_string_equal(v.os_id, "");
        fake_free(f);
}

/* ---- memory, disk, root, dpkg ------------------------------------------- */

static void memory_thresholds(void **state)
{
        (void)state;
        struct fake *f = fake_new();
        struct check_list l = { 0 };
        struct vps_info v;
        const struct check *c;

        /* A "2 GiB" VPS reports a little under 2048 MB: it passes. */
        put(f->proc, "meminfo", "MemFree: 1 kB\nMemTotal:        2009876 kB\n");
        assert_int_equal(run_checks(f, false, &v, &l), 0);
        assert_int_equal(v.ram_mb, 1962);
        assert_int_equal(find_check(&l, "Memory")->status, CHECK_PASS);
        check_list_release(&l);

        /* 1 GiB fails, naming 2 GiB; force makes it a warning. */
        put(f->proc, "meminfo", "MemTotal:        1006632 kB\n");
        assert_int_equal(run_checks(f, false, &v, &l), 1);
        assert_int_equal(v.ram_mb, 983);
        c = find_check(&l, "Memory");
        assert_int_equal(c->status, CHECK_FAIL);
        assert_string_equal(c->message, "983 MB of RAM: the desktop and IDEs need at least 2 GiB");
        assert_non_null(strstr(c->fix, "--force"));
        assert_string_equal(detail(c, "ram_mb"), "983");
        check_list_release(&l);
        assert_int_equal(run_checks(f, true, &v, &l), 0);
        assert_int_equal(find_check(&l, "Memory")->status, CHECK_WARN);
        check_list_release(&l);

        /* Unreadable or garbled meminfo: 0, and the check says so. */
        put(f->proc, "meminfo", "MemTotal: lots\n");
        assert_int_equal(run_checks(f, false, &v, &l), 1);
        assert_int_equal(v.ram_mb, 0);
        assert_non_null(strstr(find_check(&l, "Memory")->message, "cannot read"));
        check_list_release(&l);
        char *p = test_path(f->proc, "meminfo");
        assert_int_equal(unlink(p), 0);
        free(p);
        preflight_gather(&f->env, &v);
        assert_int_equal(v.ram_mb, 0);
        fake_free(f);
}

static void disk_thresholds(void **state)
{
        (void)state;
        struct fake *f = fake_new();
        struct check_list l = { 0 };
        struct vps_info v;
        const struct check *c;

        f->env.min_disk_gb = 1e9;
        assert_int_equal(run_checks(f, false, &v, &l), 1);
        assert_true(v.disk_space_gb >= 0);
        assert_true(v.disk_available_gb > 0);
        c = find_check(&l, "Disk space");
        assert_int_equal(c->status, CHECK_FAIL);
        assert_true(startswith(c->message, "only "));
        assert_non_null(strstr(c->message, "at least 1000000000 GB"));
        assert_non_null(strstr(c->message, f->dir));
        assert_string_equal(detail(c, "required_gb"), "1000000000");
        check_list_release(&l);

        assert_int_equal(run_checks(f, true, &v, &l), 0);
        assert_int_equal(find_check(&l, "Disk space")->status, CHECK_WARN);
        check_list_release(&l);

        f->env.min_disk_gb = 0;
        assert_int_equal(run_checks(f, false, &v, &l), 0);
        assert_int_equal(find_check(&l, "Disk space")->status, CHECK_PASS);
        check_list_release(&l);

        /* statvfs fails: "cannot read". */
        char *gone = test_path(f->dir, "no-such-dir");
        f->env.root = gone;
        f->env.min_disk_gb = 10;
        assert_int_equal(run_checks(f, false, &v, &l), 1);
        assert_int_equal(v.disk_space_gb, 0);
        c = find_check(&l, "Disk space");
        assert_non_null(strstr(c->message, "cannot read the free space"));
        check_list_release(&l);
        free(gone);
        fake_free(f);
}

static void not_root_fails_even_forced(void **state)
{
        (void)state;
        struct fake *f = fake_new();
        struct check_list l = { 0 };
        struct vps_info v;
        const struct check *c;

        f->env.euid = 1000;
        for (int force = 0; force <= 1; force++) {
                assert_int_equal(run_checks(f, force, &v, &l), 1);
                assert_false(v.validated);
                c = find_check(&l, "Root privileges");
                assert_int_equal(c->status, CHECK_FAIL);
                assert_string_equal(c->fix, "run it as root: sudo vps-provision");
                assert_true(startswith(c->message, "running as uid 1000, not root"));
                assert_string_equal(detail(c, "euid"), "1000");
                check_list_release(&l);
        }
        fake_free(f);
}

static void force_turns_failures_into_warnings(void **state)
{
        (void)state;
        struct fake *f = fake_new();
        struct check_list l = { 0 };
        struct vps_info v;

        test_write(f->os_release, "NAME=\"Ubuntu\"\nID=ubuntu\nVERSION_ID=\"22.04\"\n");
        put(f->proc, "meminfo", "MemTotal: 500000 kB\n");
        f->env.min_disk_gb = 1e9;
        assert_int_equal(run_checks(f, false, &v, &l), 3);
        assert_int_equal(check_count(&l, CHECK_FAIL), 3);
        assert_false(v.validated);
        check_list_release(&l);

        assert_int_equal(run_checks(f, true, &v, &l), 0);
        assert_int_equal(check_count(&l, CHECK_WARN), 3);
        assert_int_equal(check_count(&l, CHECK_FAIL), 0);
        assert_true(v.validated);
        check_list_release(&l);

        /* Checks are appended after what the list already holds, and only
         * the new ones count. */
        check_add(&l, "system", "Earlier", CHECK_FAIL, NULL, "an earlier failure");
        assert_int_equal(run_checks(f, true, &v, &l), 0);
        assert_int_equal(l.n, 6);
        assert_string_equal(l.v[0].name, "Earlier");
        assert_true(v.validated);
        check_list_release(&l);
        fake_free(f);
}

static void dpkg_interrupted(void **state)
{
        (void)state;
        struct fake *f = fake_new();
        struct check_list l = { 0 };
        struct vps_info v;
        const struct check *c;

        /* dpkg's own temp file is not an interruption. */
        put(f->dpkg, "updates/tmp.i", "");
        assert_int_equal(run_checks(f, false, &v, &l), 0);
        check_list_release(&l);

        put(f->dpkg, "updates/0001", "Package: x\n");
        put(f->dpkg, "updates/0002", "Package: y\n");
        for (int force = 0; force <= 1; force++) {
                assert_int_equal(run_checks(f, force, &v, &l), 1);
                c = find_check(&l, "Package manager");
                assert_int_equal(c->status, CHECK_FAIL);
                assert_string_equal(c->message, "dpkg was interrupted; run: dpkg --configure -a");
                assert_string_equal(c->fix, "run: dpkg --configure -a");
                assert_string_equal(detail(c, "pending_updates"), "2");
                check_list_release(&l);
        }

        /* A run that repairs it itself (--resume) only warns. */
        f->env.dpkg_interrupted_ok = true;
        assert_int_equal(run_checks(f, false, &v, &l), 0);
        assert_true(v.validated);
        c = find_check(&l, "Package manager");
        assert_int_equal(c->status, CHECK_WARN);
        assert_non_null(strstr(c->message, "dpkg was interrupted (2 pending updates)"));
        check_list_release(&l);
        fake_free(f);
}

static void dpkg_status_unreadable(void **state)
{
        (void)state;
        struct fake *f = fake_new();
        struct check_list l = { 0 };
        struct vps_info v;
        const struct check *c;
        char *status = test_path(f->dpkg, "status");

        assert_int_equal(unlink(status), 0);
        f->env.dpkg_interrupted_ok = true;
        assert_int_equal(run_checks(f, true, &v, &l), 1);
        c = find_check(&l, "Package manager");
        assert_int_equal(c->status, CHECK_FAIL);
        assert_non_null(strstr(c->message, "cannot read "));
        assert_non_null(strstr(c->message, "/dpkg/status: No such file or directory"));
        check_list_release(&l);

        f->env.dpkg_dir = NULL;
        assert_int_equal(run_checks(f, false, &v, &l), 1);
        assert_int_equal(find_check(&l, "Package manager")->status, CHECK_FAIL);
        check_list_release(&l);
        free(status);
        fake_free(f);
}

/* ---- virtualization ----------------------------------------------------- */

static void expect_virt(struct fake *f, const char *want)
{
        struct vps_info v;
        preflight_gather(&f->env, &v);
        assert_string_equal(v.virtualization, want);
}

static void virtualization(void **state)
{
        (void)state;
        struct fake *f = fake_new();

        expect_virt(f, "none");

        /* VMs: from DMI, some vendors only with the hypervisor flag. */
        put(f->sys, "class/dmi/id/sys_vendor", "Microsoft Corporation\n");
        expect_virt(f, "none"); /* a Surface is not a VM */
        put(f->proc, "cpuinfo", "processor : 0\nflags : fpu hypervisor sse\n");
        expect_virt(f, "hyperv");
        put(f->sys, "class/dmi/id/sys_vendor", "QEMU\n");
        expect_virt(f, "kvm");
        put(f->sys, "class/dmi/id/sys_vendor", "VMware, Inc.\n");
        expect_virt(f, "vmware");
        put(f->sys, "class/dmi/id/sys_vendor", "Hetzner\n");
        expect_virt(f, "kvm");
        put(f->sys, "class/dmi/id/sys_vendor", "Someone\n");
        expect_virt(f, "vm-other");
        put(f->sys, "class/dmi/id/product_name", "KVM Virtual Machine\n");
        expect_virt(f, "kvm");
        put(f->proc, "cpuinfo", "processor : 0\nflags : fpu hypervisorx\n");
        put(f->sys, "hypervisor/type", "xen\n");
        expect_virt(f, "xen");

        /* Containers win over what the host runs on. */
        put(f->dir, ".dockerenv", "");
        expect_virt(f, "docker");
        put(f->run, ".containerenv", "");
        expect_virt(f, "podman");
        put(f->run, "systemd/container", "systemd-nspawn\n");
        expect_virt(f, "systemd-nspawn");
        put(f->run, "systemd/container", "  lxc\t\n");
        expect_virt(f, "lxc");
        fake_free(f);
}

/* ---- the archive check against a loopback server ------------------------- */

struct server {
        int fd, stop[2];
        int port;
        pthread_t thread;
        pthread_mutex_t mu;
        int requests;
        char last[256];
        int stall;      /* this many first connections get no answer at all */
        int busy;       /* then this many get 503 */
};

/* Reads one request's head and answers 200 for the trixie InRelease (with
 * or without a /debian prefix), 404 for anything else. */
static void serve_one(struct server *s, int c)
{
        char req[4096], method[16] = "", path[200] = "", resp[256];
        size_t len = 0;
        int code, n;

        while (len < sizeof(req) - 1) {
                ssize_t r = read(c, req + len, sizeof(req) - 1 - len);
                if (r <= 0)
                        break;
                len += (size_t)r;
                req[len] = '\0';
                if (strstr(req, "\r\n\r\n"))
                        break;
        }
        req[len] = '\0';
        if (sscanf(req, "%15s %199s", method, path) != 2)
                return;
        code = strcmp(path, "/dists/trixie/InRelease") == 0 ||
                               strcmp(path, "/debian/dists/trixie/InRelease") == 0
                       ? 200
                       : 404;
        pthread_mutex_lock(&s->mu);
        if (s->stall > 0) {
                /* no answer: the client gives up and closes */
                s->stall--;
                s->requests++;
                pthread_mutex_unlock(&s->mu);
                while (read(c, req, sizeof(req)) > 0)
                        ;
                return;
        }
        if (s->busy > 0) {
                s->busy--;
                code = 503;
        }
        s->requests++;
        snprintf(s->last, sizeof(s->last), "%s %s", method, path);
        pthread_mutex_unlock(&s->mu);
        n = snprintf(resp, sizeof(resp),
                     "HTTP/1.1 %d %s\r\nContent-Length: 5\r\nConnection: close\r\n\r\n%s", code,
                     code == 200 ? "OK" : code == 503 ? "Service Unavailable" : "Not Found",
                     strcmp(method, "HEAD") == 0 ? "" : "hello");
        (void)!write(c, resp, (size_t)n);
}

static void *server_main(void *arg)
{
        struct server *s = arg;

        for (;;) {
                struct pollfd p[2] = { { .fd = s->fd, .events = POLLIN },
                                       { .fd = s->stop[0], .events = POLLIN } };
                if (poll(p, 2, -1) < 0)
                        continue;
                if (p[1].revents)
                        break;
                int c = accept4(s->fd, NULL, NULL, SOCK_CLOEXEC);
                if (c < 0)
                        continue;
                serve_one(s, c);
                close(c);
        }
        return NULL;
}

/* A listening socket on 127.0.0.1, any port. */
static int listen_loopback(int *ret_port)
{
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = 0 };
        socklen_t len = sizeof(a);
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

        assert_true(fd >= 0);
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
        assert_int_equal(listen(fd, 8), 0);
        assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
        *ret_port = ntohs(a.sin_port);
        return fd;
}

static void server_start(struct server *s)
{
        *s = (struct server){ 0 };
        s->fd = listen_loopback(&s->port);
        assert_int_equal(pipe2(s->stop, O_CLOEXEC), 0);
        pthread_mutex_init(&s->mu, NULL);
        assert_int_equal(pthread_create(&s->thread, NULL, server_main, s), 0);
}

static void server_stop(struct server *s)
{
        assert_int_equal(write(s->stop[1], "x", 1), 1);
        pthread_join(s->thread, NULL);
        close(s->fd);
        close(s->stop[0]);
        close(s->stop[1]);
        pthread_mutex_destroy(&s->mu);
}

static void archive_reachable(void **state)
{
        (void)state;
        struct fake *f = fake_new();
        struct check_list l = { 0 };
        struct server s;
        struct vps_info v;
        const struct check *c;
        char mirror[128], url[256];

        server_start(&s);
        snprintf(mirror, sizeof(mirror), "http://127.0.0.1:%d", s.port);
        f->env.mirror_url = mirror;
        assert_int_equal(run_checks(f, false, &v, &l), 0);
        assert_int_equal(l.n, 6);
        c = find_check(&l, "Debian archive");
        assert_string_equal(c->category, "network");
        assert_int_equal(c->status, CHECK_PASS);
        snprintf(url, sizeof(url), "%s is reachable", mirror);
        assert_string_equal(c->message, url);
        snprintf(url, sizeof(url), "%s/dists/trixie/InRelease", mirror);
        assert_string_equal(detail(c, "url"), url);
        assert_string_equal(detail(c, "http_code"), "200");
        pthread_mutex_lock(&s.mu);
        assert_int_equal(s.requests, 1);
        assert_string_equal(s.last, "HEAD /dists/trixie/InRelease");
        pthread_mutex_unlock(&s.mu);
        check_list_release(&l);

        /* A trailing slash and a path prefix. */
        snprintf(mirror, sizeof(mirror), "http://127.0.0.1:%d/debian/", s.port);
        assert_int_equal(run_checks(f, false, &v, &l), 0);
        assert_int_equal(find_check(&l, "Debian archive")->status, CHECK_PASS);
        pthread_mutex_lock(&s.mu);
        assert_string_equal(s.last, "HEAD /debian/dists/trixie/InRelease");
        pthread_mutex_unlock(&s.mu);
        check_list_release(&l);

        /* Not an archive for this release: 404. Force does not help. */
        test_write(f->os_release, "NAME=\"Debian GNU/Linux\"\nID=debian\nVERSION_ID=12\n"
                                  "VERSION_CODENAME=bookworm\n");
        snprintf(mirror, sizeof(mirror), "http://127.0.0.1:%d/debian", s.port);
        assert_int_equal(run_checks(f, true, &v, &l), 1);
        c = find_check(&l, "Debian archive");
        assert_int_equal(c->status, CHECK_FAIL);
        snprintf(url, sizeof(url), "%s answered HTTP 404 for dists/bookworm/InRelease", mirror);
        assert_true(startswith(c->message, url));
        assert_non_null(strstr(c->message, "[system] apt_mirror"));
        assert_string_equal(detail(c, "http_code"), "404");
        check_list_release(&l);
        server_stop(&s);
        fake_free(f);
}

static void archive_unreachable(void **state)
{
        (void)state;
        struct fake *f = fake_new();
        struct check_list l = { 0 };
        struct vps_info v;
        const struct check *c;
        char mirror[128], want[256];
        int port, fd;

        /* A port that was just free: connection refused. */
        fd = listen_loopback(&port);
        close(fd);
        snprintf(mirror, sizeof(mirror), "http://127.0.0.1:%d/debian", port);
        f->env.mirror_url = mirror;
        assert_int_equal(run_checks(f, false, &v, &l), 1);
        assert_false(v.validated);
        c = find_check(&l, "Debian archive");
        assert_int_equal(c->status, CHECK_FAIL);
        snprintf(want, sizeof(want), "cannot reach %s (", mirror);
        assert_true(startswith(c->message, want));
        assert_non_null(strstr(c->message, "): check the network and DNS, or set [system] "
                                           "apt_mirror"));
        assert_string_equal(c->fix, "check the network and DNS, or set [system] apt_mirror");
        assert_true(strlen(detail(c, "error")) > 0);
        check_list_release(&l);

        /* A server that accepts and never answers: the timeout holds. */
        fd = listen_loopback(&port);
        snprintf(mirror, sizeof(mirror), "http://127.0.0.1:%d", port);
        f->env.network_timeout_ms = 300;
        int64_t t0 = now_ms();
        assert_int_equal(run_checks(f, false, &v, &l), 1);
        /* asked twice: 300 ms, then 900 ms */
        assert_true(now_ms() - t0 >= 1200);
        assert_true(now_ms() - t0 < 5000);
        c = find_check(&l, "Debian archive");
        assert_int_equal(c->status, CHECK_FAIL);
        assert_non_null(strstr(c->message, "timed out"));
        assert_non_null(strstr(c->message, "; 2 attempts in "));
        assert_string_equal(detail(c, "attempts"), "2");
        check_list_release(&l);
        close(fd);

        /* Not http(s): refused by libcurl, not read from disk. */
        f->env.mirror_url = "file:///etc";
        assert_int_equal(run_checks(f, false, &v, &l), 1);
        assert_int_equal(find_check(&l, "Debian archive")->status, CHECK_FAIL);
        check_list_release(&l);
        fake_free(f);
}

/* What the server does with its next requests (stall: no answer at all,
 * then busy: 503); its request count starts again at 0. */
static void server_script(struct server *s, int stall, int busy)
{
        pthread_mutex_lock(&s->mu);
        s->stall = stall;
        s->busy = busy;
        s->requests = 0;
        pthread_mutex_unlock(&s->mu);
}

static int server_requests(struct server *s)
{
        int n;

        pthread_mutex_lock(&s->mu);
        n = s->requests;
        pthread_mutex_unlock(&s->mu);
        return n;
}

/* The checks run with want_failures failures; the archive check of them. */
static const struct check *archive_checked(struct fake *f, struct check_list *l, int want_failures)
{
        struct vps_info v;

        assert_int_equal(run_checks(f, false, &v, l), want_failures);
        return find_check(l, "Debian archive");
}

/* A mirror (or the proxy in front of it) that is slow or busy for a
 * moment: asked once more, and the server is not refused for it. */
static void archive_slow_once(void **state)
{
        (void)state;
        struct fake *f = fake_new();
        struct check_list l = { 0 };
        struct server s;
        const struct check *c;
        char mirror[128];

        server_start(&s);
        snprintf(mirror, sizeof(mirror), "http://127.0.0.1:%d", s.port);
        f->env.mirror_url = mirror;
        f->env.network_timeout_ms = 300;

        /* no answer to the first request within its time */
        server_script(&s, 1, 0);
        c = archive_checked(f, &l, 0);
        assert_int_equal(c->status, CHECK_PASS);
        assert_string_equal(detail(c, "attempts"), "2");
        assert_string_equal(detail(c, "http_code"), "200");
        assert_int_equal(server_requests(&s), 2);
        check_list_release(&l);

        /* 503 once (a proxy whose upstream is slow) */
        server_script(&s, 0, 1);
        c = archive_checked(f, &l, 0);
        assert_int_equal(c->status, CHECK_PASS);
        assert_string_equal(detail(c, "attempts"), "2");
        assert_int_equal(server_requests(&s), 2);
        check_list_release(&l);

        /* 503 twice: refused, and the message says it is the server's error */
        server_script(&s, 0, 2);
        c = archive_checked(f, &l, 1);
        assert_int_equal(c->status, CHECK_FAIL);
        assert_non_null(strstr(c->message, "answered HTTP 503 for dists/trixie/InRelease twice"));
        assert_string_equal(c->fix, "try again later, or set [system] apt_mirror");
        assert_string_equal(detail(c, "http_code"), "503");
        assert_int_equal(server_requests(&s), 2);
        check_list_release(&l);

        /* a 404 is final: asked once */
        server_script(&s, 0, 0);
        snprintf(mirror, sizeof(mirror), "http://127.0.0.1:%d/nothing", s.port);
        c = archive_checked(f, &l, 1);
        assert_string_equal(detail(c, "attempts"), "1");
        assert_int_equal(server_requests(&s), 1);
        check_list_release(&l);
        server_stop(&s);
        fake_free(f);
}

/* ---- default mirror ----------------------------------------------------- */

static void expect_mirror(const char *apt, const char *want)
{
        char buf[256] = "untouched";
        assert_int_equal(preflight_default_mirror(apt, buf, sizeof(buf)), 0);
        assert_string_equal(buf, want);
}

static void default_mirror_one_line(void **state)
{
        (void)state;
        char *apt = test_tmpdir();
        char buf[16] = "untouched";

        put(apt, "sources.list",
            "# deb http://commented.example/debian bookworm main\n"
            "\n"
            "deb-src http://src.example/debian bookworm main\n"
            "deb http://security.debian.org/debian-security bookworm-security main\n"
            "deb [arch=amd64 signed-by=/usr/share/keyrings/x.gpg] "
            "http://ftp.de.debian.org/debian/ bookworm main contrib\n"
            "deb http://deb.debian.org/debian bookworm-updates main\n");
        expect_mirror(apt, "http://ftp.de.debian.org/debian");

        /* Too small a buffer. */
        assert_int_equal(preflight_default_mirror(apt, buf, sizeof(buf)), -ENAMETOOLONG);
        assert_string_equal(buf, "untouched");

        /* Only security and third-party archives: none. */
        put(apt, "sources.list", "deb http://security.debian.org/ bookworm/updates main\n"
                                 "deb cdrom:[Debian 12]/ bookworm main\n");
        put(apt, "sources.list.d/vscode.list",
            "deb [arch=amd64] https://packages.microsoft.com/repos/code stable main\n");
        assert_int_equal(preflight_default_mirror(apt, buf, sizeof(buf)), -ENOENT);

        /* A mirror without "debian" in sources.list still beats a
         * third-party "debian" URI elsewhere; the host-only URI keeps its
         * slashes right. */
        put(apt, "sources.list", "deb https://mirror.example.net/ bookworm main\n");
        put(apt, "sources.list.d/docker.list",
            "deb [arch=amd64] https://download.docker.com/linux/debian bookworm stable\n");
        expect_mirror(apt, "https://mirror.example.net");

        /* In sources.list, an archive naming "debian" beats an earlier
         * line that does not (a third-party repository added there). */
        put(apt, "sources.list", "deb https://packages.microsoft.com/repos/code stable main\n"
                                 "deb http://deb.debian.org/debian trixie main\n");
        expect_mirror(apt, "http://deb.debian.org/debian");

        /* Nothing at all. */
        char *empty = test_tmpdir();
        assert_int_equal(preflight_default_mirror(empty, buf, sizeof(buf)), -ENOENT);
}

static void default_mirror_deb822(void **state)
{
        (void)state;
        char *apt = test_tmpdir();

        put(apt, "sources.list", "# moved to /etc/apt/sources.list.d/debian.sources\n");
        put(apt, "sources.list.d/debian.sources",
            "# Debian 13 default\n"
            "Types: deb\n"
            "URIs: http://disabled.example/debian\n"
            "Suites: trixie\n"
            "Components: main\n"
            "Enabled: no\n"
            "\n"
            "Types: deb-src\n"
            "URIs: http://src.example/debian\n"
            "Suites: trixie\n"
            "Components: main\n"
            "\n"
            "types: deb deb-src\n"
            "uris: https://security.debian.org/debian-security\n"
            "Suites: trixie-security\n"
            "Components: main\n"
            "\n"
            "Types: deb-src\n"
            "   deb\n"
            "URIs:\n"
            " mirror+file:/etc/apt/mirrors.txt\n"
            " https://deb.debian.org/debian/\n"
            "Suites: trixie trixie-updates\n"
            "Components: main non-free-firmware\n"
            "Signed-By:\n"
            " -----BEGIN PGP PUBLIC KEY BLOCK-----\n"
            " .\n"
            " mQINBGb\n"
            " -----END PGP PUBLIC KEY BLOCK-----\n");
        /* Files apt ignores, and a later one. */
        put(apt, "sources.list.d/aaa.sources.bak", "Types: deb\nURIs: http://bak.example/debian\n");
        put(apt, "sources.list.d/.hidden.list", "deb http://hidden.example/debian trixie main\n");
        put(apt, "sources.list.d/zz.sources", "Types: deb\nURIs: http://zz.example/debian\n");
        expect_mirror(apt, "https://deb.debian.org/debian");

        /* Disable it: the next candidate by name. */
        put(apt, "sources.list.d/debian.sources",
            "Types: deb\nURIs: https://deb.debian.org/debian\nEnabled: false\n");
        expect_mirror(apt, "http://zz.example/debian");

        /* A one-line .list in the same directory. */
        put(apt, "sources.list.d/00-mirror.list", "deb http://mirror.example/debian trixie main\n");
        expect_mirror(apt, "http://mirror.example/debian");
}

/* ---- JSON --------------------------------------------------------------- */

static void json_round_trip(void **state)
{
        (void)state;
        struct vps_info v = { .cpu_cores = 2,
                              .ram_mb = 4096,
                              .disk_space_gb = 80,
                              .disk_available_gb = 75.31234,
                              .validated = true };
        struct vps_info back;
        struct json_object *o, *m;
        const char *text;

        snprintf(v.hostname, sizeof(v.hostname), "debian-4gb-fra1-01");
        snprintf(v.ip_address, sizeof(v.ip_address), "143.198.45.123");
        snprintf(v.os_name, sizeof(v.os_name), "Debian GNU/Linux");
        snprintf(v.os_id, sizeof(v.os_id), "debian");
        snprintf(v.os_version, sizeof(v.os_version), "13");
        snprintf(v.os_codename, sizeof(v.os_codename), "trixie");
        snprintf(v.kernel_version, sizeof(v.kernel_version), "6.12.0-1-amd64");
        snprintf(v.architecture, sizeof(v.architecture), "amd64");
        snprintf(v.virtualization, sizeof(v.virtualization), "kvm");

        o = vps_info_to_json(&v);
        text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
        assert_non_null(strstr(text, "\"hostname\":\"debian-4gb-fra1-01\""));
        assert_non_null(strstr(text, "\"ip_address\":\"143.198.45.123\""));
        assert_non_null(strstr(text, "\"os_version\":\"13\""));
        assert_non_null(strstr(text, "\"kernel_version\":\"6.12.0-1-amd64\""));
        assert_non_null(strstr(text, "\"cpu_cores\":2"));
        assert_non_null(strstr(text, "\"ram_mb\":4096"));
        assert_non_null(strstr(text, "\"disk_space_gb\":80"));
        assert_non_null(strstr(text, "\"disk_available_gb\":75.3,"));
        assert_non_null(strstr(text, "\"validated\":true"));
        assert_non_null(strstr(text, "\"virtualization\":\"kvm\""));

        /* Through text and back. */
        m = json_tokener_parse(text);
        assert_non_null(m);
        assert_int_equal(vps_info_from_json(m, &back), 0);
        json_object_put(m);
        json_object_put(o);
        assert_string_equal(back.hostname, v.hostname);
        assert_string_equal(back.ip_address, v.ip_address);
        assert_string_equal(back.os_name, v.os_name);
        assert_string_equal(back.os_id, v.os_id);
        assert_string_equal(back.os_version, v.os_version);
        assert_string_equal(back.os_codename, v.os_codename);
        assert_string_equal(back.kernel_version, v.kernel_version);
        assert_string_equal(back.architecture, v.architecture);
        assert_string_equal(back.virtualization, v.virtualization);
        assert_int_equal(back.cpu_cores, 2);
        assert_int_equal(back.ram_mb, 4096);
        assert_int_equal(back.disk_space_gb, 80);
        assert_true(back.disk_available_gb > 75.29 && back.disk_available_gb < 75.31);
        assert_true(back.validated);
}

static void json_bad_input(void **state)
{
        (void)state;
        static const char *const bad[] = {
                "[]",
                "{\"hostname\":5}",
                "{\"cpu_cores\":\"2\"}",
                "{\"cpu_cores\":-1}",
                "{\"cpu_cores\":99999999999}",
                "{\"ram_mb\":1.5}",
                "{\"disk_available_gb\":\"75\"}",
                "{\"disk_available_gb\":-1.0}",
                /* found by the long fuzz/session campaign: 1e113 made the
                 * writer's rounding cast a double beyond int64 (UB) */
                "{\"disk_available_gb\":1e113}",
                "{\"disk_available_gb\":1000000000000.5}",
                "{\"validated\":\"yes\"}",
                "{\"os_version\":\"12345678901234567890\"}",
        };
        struct vps_info v, sentinel;
        struct json_object *o;

        memset(&sentinel, 0x5a, sizeof(sentinel));
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                o = json_tokener_parse(bad[i]);
                assert_non_null(o);
                v = sentinel;
                if (vps_info_from_json(o, &v) != -EINVAL)
                        fail_msg("accepted %s", bad[i]);
                assert_memory_equal(&v, &sentinel, sizeof(v));
                json_object_put(o);
        }
        assert_int_equal(vps_info_from_json(NULL, &v), -EINVAL);

        /* Missing keys and nulls (an older session): empty, 0; ints are
         * fine for disk_available_gb. */
        o = json_tokener_parse("{\"hostname\":\"h\",\"os_name\":null,\"disk_available_gb\":12}");
        assert_int_equal(vps_info_from_json(o, &v), 0);
        json_object_put(o);
        assert_string_equal(v.hostname, "h");
        assert_string_equal(v.os_name, "");
        assert_string_equal(v.virtualization, "");
        assert_int_equal(v.cpu_cores, 0);
        assert_true(v.disk_available_gb == 12.0);
        assert_false(v.validated);
}

/* ---- the real machine (reads only) --------------------------------------- */

static void gather_real_machine(void **state)
{
        (void)state;
        struct preflight_env env;
        struct vps_info v;
        struct utsname u;

        preflight_env_default(&env);
        assert_int_equal(env.euid, geteuid());
        assert_null(env.mirror_url);
        assert_int_equal(env.network_timeout_ms, 5000);
        assert_int_equal(env.min_ram_mb, 1900);
        assert_true(env.min_disk_gb == 10);
        assert_false(env.dpkg_interrupted_ok);
        assert_string_equal(env.dpkg_dir, "/var/lib/dpkg");

        preflight_gather(&env, &v);
        assert_true(strlen(v.hostname) > 0);
        assert_true(strlen(v.kernel_version) > 0);
        assert_true(v.cpu_cores > 0);
        assert_true(v.ram_mb > 0);
        assert_true(strlen(v.virtualization) > 0);
        assert_int_equal(uname(&u), 0);
        assert_string_equal(v.kernel_version, u.release);
        if (strcmp(u.machine, "x86_64") == 0)
                assert_string_equal(v.architecture, "amd64");
        else if (strcmp(u.machine, "aarch64") == 0)
                assert_string_equal(v.architecture, "arm64");
        /* The address, when there is one, is an address. */
        if (v.ip_address[0]) {
                unsigned char a[16];
                assert_true(inet_pton(AF_INET, v.ip_address, a) == 1 ||
                            inet_pton(AF_INET6, v.ip_address, a) == 1);
        }
        assert_false(v.validated);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(healthy_system_passes),
                cmocka_unit_test(os_bookworm_supported),
                cmocka_unit_test(os_debian11_fails_force_warns),
                cmocka_unit_test(os_ubuntu_fails_force_warns),
                cmocka_unit_test(os_release_quoting),
                cmocka_unit_test(os_release_missing),
                cmocka_unit_test(memory_thresholds),
                cmocka_unit_test(disk_thresholds),
                cmocka_unit_test(not_root_fails_even_forced),
                cmocka_unit_test(force_turns_failures_into_warnings),
                cmocka_unit_test(dpkg_interrupted),
                cmocka_unit_test(dpkg_status_unreadable),
                cmocka_unit_test(virtualization),
                cmocka_unit_test(archive_reachable),
                cmocka_unit_test(archive_unreachable),
                cmocka_unit_test(archive_slow_once),
                cmocka_unit_test(default_mirror_one_line),
                cmocka_unit_test(default_mirror_deb822),
                cmocka_unit_test(json_round_trip),
                cmocka_unit_test(json_bad_input),
                cmocka_unit_test(gather_real_machine),
        };

        /* Loopback only: no proxy from the environment in the way. */
        setenv("no_proxy", "*", 1);
        setenv("NO_PROXY", "*", 1);
        return cmocka_run_group_tests(tests, NULL, NULL);
}
