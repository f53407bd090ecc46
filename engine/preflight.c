/* preflight.c — see preflight.h.
 *
 * DESIGN
 * Two halves. preflight_gather() reads facts (os-release, uname, /proc,
 * statvfs, DMI, the route to the outside) and never fails: a fact it cannot
 * read stays empty, and the check that needs it says so. preflight_check()
 * turns the facts plus a few direct looks (dpkg's updates/ directory and
 * status file, an HTTP HEAD of the archive's InRelease) into check results
 * with a message and a fix. Every path comes from struct preflight_env so
 * the tests run the same code against a fake tree. Nothing here writes. */
#include "preflight.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <json-c/json.h>
#include <limits.h>
#include <math.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "apt.h"
#include "fetch.h"
#include "util.h"
#include "validate.h"

#define SMALL_FILE_MAX ((size_t)1 << 20)   /* os-release, meminfo, sources */
#define CPUINFO_MAX ((size_t)16 << 20)     /* grows with the number of cores */
#define DEFAULT_TIMEOUT_MS 5000
#define GIB (1024.0 * 1024.0 * 1024.0)

#define FIX_SUPPORTED_OS "use Debian 13 (trixie) or Debian 12 (bookworm), or pass --force to try anyway"

void preflight_env_default(struct preflight_env *env)
{
        *env = (struct preflight_env){
                .os_release = path_exists("/etc/os-release") ? "/etc/os-release"
                                                             : "/usr/lib/os-release",
                .proc = "/proc",
                .root = "/",
                .dpkg_dir = "/var/lib/dpkg",
                .run_dir = "/run",
                .sys = "/sys",
                .euid = geteuid(),
                .mirror_url = NULL,
                .apt_dir = "/etc/apt",
                .network_timeout_ms = DEFAULT_TIMEOUT_MS,
                .min_ram_mb = 1900,
                .min_disk_gb = 10,
                .state_dir = NULL,
                .min_state_mb = 64,
                .dpkg_interrupted_ok = false,
        };
}

/* ---- small readers ------------------------------------------------------ */

/* dir + "/" + name, or NULL when dir is NULL (that source is skipped).
 * Caller frees. */
static char *path_in(const char *dir, const char *name)
{
        if (!dir)
                return NULL;
        return xasprintf("%s/%s", strcmp(dir, "/") == 0 ? "" : dir, name);
}

/* First line of a small file, trimmed, into buf; false when unreadable or
 * empty. */
static bool read_first_line(const char *dir, const char *name, char *buf, size_t size)
{
        _cleanup_free_ char *path = path_in(dir, name);
        _cleanup_free_ char *data = NULL;

        if (!path || read_file(path, SMALL_FILE_MAX, &data, NULL) < 0)
                return false;
        data[strcspn(data, "\n")] = '\0';
        strstrip(data);
        if (!*data)
                return false;
        for (char *p = data; *p; p++)
                if (!isprint((unsigned char)*p))
                        *p = '?';
        strscpy(buf, size, data);
        return true;
}

/* Splits the next line off *cursor in place ('\n' becomes '\0') and
 * returns it; NULL at the end of the data. */
static char *next_line(char **cursor)
{
        char *line = *cursor, *eol;

        if (!line || !*line)
                return NULL;
        eol = strchrnul(line, '\n');
        *cursor = *eol ? eol + 1 : eol;
        *eol = '\0';
        return line;
}

static bool endswith(const char *s, const char *suffix)
{
        size_t n = strlen(s), m = strlen(suffix);
        return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* ---- os-release --------------------------------------------------------- */

/* Unquotes an os-release value the way os-release(5) says a shell would:
 * '…' is literal, "…" honours the backslash escapes \$ \` \" \\, and
 * outside quotes a backslash quotes the next character. Unquoted
 * whitespace ends the value. false on an unterminated quote. The result is
 * cut to size. */
static bool os_release_unquote(const char *raw, char *out, size_t size)
{
        enum { PLAIN, SINGLE, DOUBLE } q = PLAIN;
        size_t n = 0;

        for (const char *p = raw; *p; p++) {
                char c = *p;

                if (q == PLAIN) {
                        if (c == '\'') {
                                q = SINGLE;
                                continue;
                        }
                        if (c == '"') {
                                q = DOUBLE;
                                continue;
                        }
                        if (isspace((unsigned char)c))
                                break;
                        if (c == '\\' && p[1])
                                c = *++p;
                } else if (q == SINGLE) {
                        if (c == '\'') {
                                q = PLAIN;
                                continue;
                        }
                } else {
                        if (c == '"') {
                                q = PLAIN;
                                continue;
                        }
                        if (c == '\\' && p[1] && strchr("$`\"\\", p[1]))
                                c = *++p;
                }
                if (n + 1 < size)
                        out[n++] = c;
        }
        if (size)
                out[n] = '\0';
        return q == PLAIN;
}

/* NAME, ID, VERSION_ID and VERSION_CODENAME (or the "(codename)" of
 * VERSION) from an os-release file. */
static void gather_os_release(const char *path, struct vps_info *v)
{
        _cleanup_free_ char *data = NULL;
        char version[128] = "";

        if (!path || read_file(path, SMALL_FILE_MAX, &data, NULL) < 0)
                return;
        for (char *cur = data, *line; (line = next_line(&cur));) {
                char *eq, *key = line;
                char *dst = NULL;
                size_t dsize = 0;

                while (isspace((unsigned char)*key))
                        key++;
                if (*key == '#' || !(eq = strchr(key, '=')))
                        continue;
                *eq = '\0';
                if (strcmp(key, "NAME") == 0)
                        dst = v->os_name, dsize = sizeof(v->os_name);
                else if (strcmp(key, "ID") == 0)
                        dst = v->os_id, dsize = sizeof(v->os_id);
                else if (strcmp(key, "VERSION_ID") == 0)
                        dst = v->os_version, dsize = sizeof(v->os_version);
                else if (strcmp(key, "VERSION_CODENAME") == 0)
                        dst = v->os_codename, dsize = sizeof(v->os_codename);
                else if (strcmp(key, "VERSION") == 0)
                        dst = version, dsize = sizeof(version);
                else
                        continue;
                if (!os_release_unquote(eq + 1, dst, dsize))
                        dst[0] = '\0';
        }
        if (!v->os_codename[0]) {
                char *open = strchr(version, '('), *close = open ? strchr(open, ')') : NULL;
                if (close && close > open + 1) {
                        *close = '\0';
                        strscpy(v->os_codename, sizeof(v->os_codename), open + 1);
                }
        }
}

/* ---- network address ---------------------------------------------------- */

/* The source address the kernel picks for the default route: connect a UDP
 * socket to a documentation address (RFC 5737 / RFC 3849); nothing is
 * sent. */
static bool route_source(int family, char *buf, size_t size)
{
        struct sockaddr_storage ss = { 0 };
        socklen_t len;
        _cleanup_close_ int fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);

        if (fd < 0)
                return false;
        if (family == AF_INET) {
                struct sockaddr_in *a = (struct sockaddr_in *)&ss;
                a->sin_family = AF_INET;
                a->sin_port = htons(9);
                inet_pton(AF_INET, "192.0.2.1", &a->sin_addr);
                len = sizeof(*a);
        } else {
                struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
                a->sin6_family = AF_INET6;
                a->sin6_port = htons(9);
                inet_pton(AF_INET6, "2001:db8::1", &a->sin6_addr);
                len = sizeof(*a);
        }
        if (connect(fd, (struct sockaddr *)&ss, len) < 0)
                return false;
        len = sizeof(ss);
        if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
                return false;
        if (family == AF_INET)
                return inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, buf,
                                 (socklen_t)size) != NULL;
        return inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, buf,
                         (socklen_t)size) != NULL;
}

/* True for an address worth reporting: not loopback, not link-local. */
static bool global_address(const struct sockaddr *sa)
{
        if (sa->sa_family == AF_INET) {
                uint32_t a = ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr);
                return (a >> 24) != 127 && (a >> 16) != 0xa9fe && a != 0;
        }
        if (sa->sa_family == AF_INET6) {
                const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
                return !IN6_IS_ADDR_LOOPBACK(a) && !IN6_IS_ADDR_LINKLOCAL(a) &&
                       !IN6_IS_ADDR_UNSPECIFIED(a);
        }
        return false;
}

/* Without a default route: the first global address of an up interface,
 * IPv4 before IPv6. */
static bool first_interface_address(char *buf, size_t size)
{
        struct ifaddrs *list, *i;
        bool found = false;

        if (getifaddrs(&list) < 0)
                return false;
        for (int family = AF_INET; !found; family = AF_INET6) {
                for (i = list; i && !found; i = i->ifa_next) {
                        if (!i->ifa_addr || i->ifa_addr->sa_family != family ||
                            !(i->ifa_flags & IFF_UP) || (i->ifa_flags & IFF_LOOPBACK) ||
                            !global_address(i->ifa_addr))
                                continue;
                        if (family == AF_INET)
                                found = inet_ntop(AF_INET,
                                                  &((struct sockaddr_in *)i->ifa_addr)->sin_addr,
                                                  buf, (socklen_t)size) != NULL;
                        else
                                found = inet_ntop(AF_INET6,
                                                  &((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr,
                                                  buf, (socklen_t)size) != NULL;
                }
                if (family == AF_INET6)
                        break;
        }
        freeifaddrs(list);
        return found;
}

static void gather_ip(struct vps_info *v)
{
        if (route_source(AF_INET, v->ip_address, sizeof(v->ip_address)) ||
            route_source(AF_INET6, v->ip_address, sizeof(v->ip_address)) ||
            first_interface_address(v->ip_address, sizeof(v->ip_address)))
                return;
        v->ip_address[0] = '\0';
}

/* ---- kernel, architecture, memory, disk -------------------------------- */

/* uname machine → Debian architecture name. */
static const char *dpkg_architecture(const char *machine)
{
        static const struct {
                const char *machine, *arch;
        } map[] = {
                { "x86_64", "amd64" },   { "aarch64", "arm64" },  { "armv7l", "armhf" },
                { "armv8l", "armhf" },   { "armv6l", "armel" },   { "armv5tel", "armel" },
                { "i386", "i386" },      { "i486", "i386" },      { "i586", "i386" },
                { "i686", "i386" },      { "ppc64le", "ppc64el" }, { "ppc64", "ppc64" },
                { "s390x", "s390x" },    { "riscv64", "riscv64" }, { "loongarch64", "loong64" },
                { "mips64", "mips64el" },
        };
        for (size_t i = 0; i < ELEMENTSOF(map); i++)
                if (strcmp(machine, map[i].machine) == 0)
                        return map[i].arch;
        return machine;
}

/* MemTotal of meminfo, in MB (MiB, as free -m shows it); 0 if unknown. */
static int64_t read_mem_total_mb(const char *proc)
{
        _cleanup_free_ char *path = path_in(proc, "meminfo");
        _cleanup_free_ char *data = NULL;

        if (!path || read_file(path, SMALL_FILE_MAX, &data, NULL) < 0)
                return 0;
        for (char *cur = data, *line; (line = next_line(&cur));) {
                char num[24];
                size_t n;
                long kb;
                const char *p;

                if (!startswith(line, "MemTotal:"))
                        continue;
                p = line + strlen("MemTotal:");
                p += strspn(p, " \t");
                n = strspn(p, "0123456789");
                if (n == 0 || n >= sizeof(num))
                        return 0;
                memcpy(num, p, n);
                num[n] = '\0';
                if (parse_long(num, 0, LONG_MAX, &kb) < 0)
                        return 0;
                return (int64_t)(kb / 1024);
        }
        return 0;
}

static void gather_disk(const char *root, struct vps_info *v)
{
        struct statvfs s;

        if (!root || statvfs(root, &s) < 0)
                return;
        /* Rounded to the nearest GiB (no libm: the engine does not link it). */
        v->disk_space_gb = (int64_t)((double)s.f_blocks * (double)s.f_frsize / GIB + 0.5);
        v->disk_available_gb = (double)s.f_bavail * (double)s.f_frsize / GIB;
}

/* ---- virtualization ----------------------------------------------------- */

/* True when the "flags" line of cpuinfo has the hypervisor bit (x86: the
 * CPU runs under a hypervisor). */
static bool cpu_has_hypervisor_flag(const char *proc)
{
        _cleanup_free_ char *path = path_in(proc, "cpuinfo");
        _cleanup_free_ char *data = NULL;

        if (!path || read_file(path, CPUINFO_MAX, &data, NULL) < 0)
                return false;
        for (char *cur = data, *line; (line = next_line(&cur));) {
                char *colon;
                if (!startswith(line, "flags") || !(colon = strchr(line, ':')))
                        continue;
                for (char *w = colon + 1; *w;) {
                        size_t n;
                        w += strspn(w, " \t");
                        n = strcspn(w, " \t");
                        if (n == strlen("hypervisor") && memcmp(w, "hypervisor", n) == 0)
                                return true;
                        w += n;
                }
                return false;
        }
        return false;
}

/* Hypervisor from the DMI vendor. Vendors that only ever mean a VM count
 * alone; vendors that also make real machines (Microsoft's Surface, cloud
 * bare metal) count only with the CPU's hypervisor flag. */
static const char *vm_from_dmi(const char *vendor, const char *product, bool flag)
{
        static const struct {
                const char *match, *name;
                bool needs_flag;
        } map[] = {
                { "QEMU", "kvm", false },
                { "KVM", "kvm", false },
                { "VMware", "vmware", false },
                { "Xen", "xen", false },
                { "innotek", "oracle", false },
                { "Parallels", "parallels", false },
                { "Bochs", "bochs", false },
                { "Microsoft", "hyperv", true },
                { "Amazon EC2", "amazon", true },
                { "Red Hat", "kvm", true },
                { "OpenStack", "kvm", true },
                { "DigitalOcean", "kvm", true },
                { "Hetzner", "kvm", true },
                { "Google", "kvm", true },
                { "Oracle", "oracle", true },
        };
        for (size_t i = 0; i < ELEMENTSOF(map); i++)
                if (vendor[0] && strncasecmp(vendor, map[i].match, strlen(map[i].match)) == 0 &&
                    (flag || !map[i].needs_flag))
                        return map[i].name;
        if (flag && strstr(product, "KVM"))
                return "kvm";
        return NULL;
}

static void gather_virtualization(const struct preflight_env *env, struct vps_info *v)
{
        char vendor[128] = "", product[128] = "", hv[32] = "";
        _cleanup_free_ char *containerenv = path_in(env->run_dir, ".containerenv");
        _cleanup_free_ char *dockerenv = path_in(env->root, ".dockerenv");
        const char *vm;
        bool flag;

        /* Containers first: inside one, the hypervisor is the host's. */
        if (read_first_line(env->run_dir, "systemd/container", v->virtualization,
                            sizeof(v->virtualization)))
                return;
        if (containerenv && path_exists(containerenv)) {
                strscpy(v->virtualization, sizeof(v->virtualization), "podman");
                return;
        }
        if (dockerenv && path_exists(dockerenv)) {
                strscpy(v->virtualization, sizeof(v->virtualization), "docker");
                return;
        }

        flag = cpu_has_hypervisor_flag(env->proc);
        read_first_line(env->sys, "class/dmi/id/sys_vendor", vendor, sizeof(vendor));
        read_first_line(env->sys, "class/dmi/id/product_name", product, sizeof(product));
        vm = vm_from_dmi(vendor, product, flag);
        if (!vm && read_first_line(env->sys, "hypervisor/type", hv, sizeof(hv)) &&
            strcmp(hv, "xen") == 0)
                vm = "xen";
        if (!vm && flag)
                vm = "vm-other";
        strscpy(v->virtualization, sizeof(v->virtualization), vm ? vm : "none");
}

void preflight_gather(const struct preflight_env *env, struct vps_info *ret)
{
        struct vps_info v = { 0 };
        struct utsname u;
        long cores;

        if (gethostname(v.hostname, sizeof(v.hostname)) < 0)
                v.hostname[0] = '\0';
        v.hostname[sizeof(v.hostname) - 1] = '\0';
        gather_ip(&v);
        gather_os_release(env->os_release, &v);
        if (uname(&u) == 0) {
                strscpy(v.kernel_version, sizeof(v.kernel_version), u.release);
                strscpy(v.architecture, sizeof(v.architecture), dpkg_architecture(u.machine));
        }
        cores = sysconf(_SC_NPROCESSORS_ONLN);
        v.cpu_cores = cores > 0 && cores < INT_MAX ? (int)cores : 0;
        v.ram_mb = read_mem_total_mb(env->proc);
        gather_disk(env->root, &v);
        gather_virtualization(env, &v);
        *ret = v;
}

/* ---- checks ------------------------------------------------------------- */

/* Fail, or warn when forced. */
static enum check_status fail_unless(bool force)
{
        return force ? CHECK_WARN : CHECK_FAIL;
}

static void check_root(const struct preflight_env *env, struct check_list *l)
{
        struct check *c;

        if (env->euid == 0)
                c = check_add(l, "security", "Root privileges", CHECK_PASS, NULL,
                              "running as root");
        else
                c = check_add(l, "security", "Root privileges", CHECK_FAIL,
                              "run it as root: sudo vps-provision",
                              "running as uid %u, not root: vps-provision installs packages "
                              "and creates users",
                              (unsigned)env->euid);
        check_detail(c, "euid", "%u", (unsigned)env->euid);
}

/* "Debian GNU/Linux 13 (trixie)" or whatever is known of it. */
static void describe_os(const struct vps_info *v, char *buf, size_t size)
{
        const char *os = v->os_name[0] ? v->os_name : v->os_id;
        snprintf(buf, size, "%s%s%s%s%s%s", os, v->os_version[0] ? " " : "", v->os_version,
                 v->os_codename[0] ? " (" : "", v->os_codename, v->os_codename[0] ? ")" : "");
}

static void check_os(const struct vps_info *v, bool force, struct check_list *l)
{
        const char *name = "Operating system";
        char os[256];
        struct check *c;

        describe_os(v, os, sizeof(os));
        if (!v->os_version[0])
                snprintf(os, sizeof(os), "%s without a version number (testing or unstable)",
                         v->os_name[0] ? v->os_name : v->os_id);
        if (!v->os_id[0])
                c = check_add(l, "system", name, fail_unless(force), FIX_SUPPORTED_OS,
                              "cannot tell which operating system this is: os-release is "
                              "missing or has no ID");
        else if (strcmp(v->os_id, "debian") != 0)
                c = check_add(l, "system", name, fail_unless(force), FIX_SUPPORTED_OS,
                              "%s is not Debian: vps-provision supports Debian 13 and 12", os);
        else if (strcmp(v->os_version, "13") == 0)
                c = check_add(l, "system", name, CHECK_PASS, NULL, "%s", os);
        else if (strcmp(v->os_version, "12") == 0)
                c = check_add(l, "system", name, CHECK_PASS, NULL,
                              "%s: supported (Debian 13 is the main target)", os);
        else
                c = check_add(l, "system", name, fail_unless(force), FIX_SUPPORTED_OS,
                              "%s is not supported: vps-provision supports Debian 13 and 12",
                              os);
        check_detail(c, "id", "%s", v->os_id);
        check_detail(c, "version_id", "%s", v->os_version);
        check_detail(c, "codename", "%s", v->os_codename);
        check_detail(c, "architecture", "%s", v->architecture);
        check_detail(c, "kernel", "%s", v->kernel_version);
}

static void check_ram(const struct preflight_env *env, const struct vps_info *v, bool force,
                      struct check_list *l)
{
        const char *name = "Memory";
        int64_t gib = (env->min_ram_mb + 1023) / 1024;
        struct check *c;

        if (v->ram_mb <= 0)
                c = check_add(l, "system", name, fail_unless(force),
                              "check that /proc is mounted, or pass --force to continue anyway",
                              "cannot read the amount of RAM (MemTotal of meminfo)");
        else if (v->ram_mb >= env->min_ram_mb)
                c = check_add(l, "system", name, CHECK_PASS, NULL, "%lld MB of RAM",
                              (long long)v->ram_mb);
        else
                c = check_add(l, "system", name, fail_unless(force),
                              "use a server with more RAM, or pass --force to continue anyway",
                              "%lld MB of RAM: the desktop and IDEs need at least %lld GiB",
                              (long long)v->ram_mb, (long long)gib);
        check_detail(c, "ram_mb", "%lld", (long long)v->ram_mb);
        check_detail(c, "required_mb", "%lld", (long long)env->min_ram_mb);
}

static void check_disk(const struct preflight_env *env, const struct vps_info *v, bool force,
                       struct check_list *l)
{
        const char *name = "Disk space";
        const char *root = env->root ? env->root : "/";
        struct check *c;

        if (v->disk_space_gb <= 0 && v->disk_available_gb <= 0 && env->min_disk_gb > 0)
                c = check_add(l, "system", name, fail_unless(force),
                              "check the file system, or pass --force to continue anyway",
                              "cannot read the free space on %s", root);
        else if (v->disk_available_gb >= env->min_disk_gb)
                c = check_add(l, "system", name, CHECK_PASS, NULL, "%.1f GB free on %s (of %lld GB)",
                              v->disk_available_gb, root, (long long)v->disk_space_gb);
        else
                c = check_add(l, "system", name, fail_unless(force),
                              "free some space or grow the disk, or pass --force to continue "
                              "anyway",
                              "only %.1f GB free on %s: the installation needs at least %.0f GB",
                              v->disk_available_gb, root, env->min_disk_gb);
        check_detail(c, "path", "%s", root);
        check_detail(c, "available_gb", "%.1f", v->disk_available_gb);
        check_detail(c, "total_gb", "%lld", (long long)v->disk_space_gb);
        check_detail(c, "required_gb", "%.0f", env->min_disk_gb);
}

/* The state directory (or the nearest parent that exists, since the run
 * creates it): a run that cannot write its journal, session and backups
 * must not start. Not a --force matter: without its journal a run could
 * not be resumed or undone. */
static void check_state_dir(const struct preflight_env *env, struct check_list *l)
{
        const char *name = "State directory";
        char dir[PATH_MAX];
        struct statvfs s;
        struct check *c;
        int64_t free_mb;

        if (!env->state_dir)
                return;
        if (strscpy(dir, sizeof(dir), env->state_dir) < 0 || dir[0] != '/') {
                check_add(l, "system", name, CHECK_FAIL,
                          "set VPS_PROVISION_STATE_DIR to an absolute path of a directory",
                          "%s is not a usable directory path", env->state_dir);
                return;
        }
        while (!path_exists(dir) && strcmp(dir, "/") != 0) {
                char *slash = strrchr(dir, '/');

                if (slash == dir)
                        dir[1] = '\0';
                else
                        *slash = '\0';
        }
        if (statvfs(dir, &s) < 0) {
                c = check_add(l, "system", name, CHECK_FAIL,
                              "check the file system, or point VPS_PROVISION_STATE_DIR elsewhere",
                              "cannot look at %s: %s", dir, strerror(errno));
                check_detail(c, "path", "%s", env->state_dir);
                return;
        }
        free_mb = (int64_t)(((uint64_t)s.f_bavail * s.f_frsize) >> 20);
        if ((s.f_flag & ST_RDONLY) || (access(dir, W_OK) < 0 && errno == EROFS))
                c = check_add(l, "system", name, CHECK_FAIL,
                              "remount it read-write, or point VPS_PROVISION_STATE_DIR at a "
                              "writable directory; nothing was changed",
                              "%s is on a read-only file system: the journal of changes, the "
                              "session and the backups cannot be written", dir);
        else if (free_mb < env->min_state_mb)
                c = check_add(l, "system", name, CHECK_FAIL,
                              "free some space there, or point VPS_PROVISION_STATE_DIR at a file "
                              "system with room; nothing was changed",
                              "only %lld MiB free for %s: the journal of changes, the session "
                              "and the backups need at least %lld MiB",
                              (long long)free_mb, env->state_dir, (long long)env->min_state_mb);
        else
                c = check_add(l, "system", name, CHECK_PASS, NULL, "%s: writable, %lld MiB free",
                              env->state_dir, (long long)free_mb);
        check_detail(c, "path", "%s", env->state_dir);
        check_detail(c, "available_mb", "%lld", (long long)free_mb);
        check_detail(c, "required_mb", "%lld", (long long)env->min_state_mb);
}

static void check_dpkg(const struct preflight_env *env, struct check_list *l)
{
        const char *name = "Package manager";
        _cleanup_free_ char *status = path_in(env->dpkg_dir, "status");
        const char *dir = env->dpkg_dir ? env->dpkg_dir : "(none)";
        struct check *c;
        int pending = 0, fd, err = 0;

        if (!status) {
                err = ENOENT;
        } else {
                fd = open(status, O_RDONLY | O_CLOEXEC | O_NOCTTY);
                if (fd < 0)
                        err = errno;
                else
                        close(fd);
        }
        if (!err)
                pending = apt_dpkg_pending(env->dpkg_dir);   /* apt's rule, as ops' repair */

        if (err)
                c = check_add(l, "system", name, CHECK_FAIL,
                              "check that dpkg is installed and its database is intact",
                              "cannot read %s/status: %s", dir, strerror(err));
        else if (pending > 0 && env->dpkg_interrupted_ok)
                c = check_add(l, "system", name, CHECK_WARN,
                              "nothing to do: this run repairs it first with dpkg --configure -a",
                              "dpkg was interrupted (%d pending update%s); this run repairs it "
                              "first",
                              pending, pending == 1 ? "" : "s");
        else if (pending > 0)
                c = check_add(l, "system", name, CHECK_FAIL, "run: dpkg --configure -a",
                              "dpkg was interrupted; run: dpkg --configure -a");
        else
                c = check_add(l, "system", name, CHECK_PASS, NULL, "dpkg is ready");
        check_detail(c, "dpkg_dir", "%s", dir);
        check_detail(c, "pending_updates", "%d", pending);
}

static void check_archive(const struct preflight_env *env, const struct vps_info *v,
                          struct check_list *l)
{
        const char *name = "Debian archive";
        const char *codename = v->os_codename[0] ? v->os_codename : "stable";
        unsigned timeout = env->network_timeout_ms ? env->network_timeout_ms : DEFAULT_TIMEOUT_MS;
        _cleanup_free_ char *mirror = xstrdup(env->mirror_url);
        _cleanup_free_ char *url = NULL;
        struct fetch_opts o;
        struct fetch_result res;
        struct check *c;
        size_t n = strlen(mirror);
        unsigned attempts = 1;
        int64_t t0;
        bool answered;

        while (n > 0 && mirror[n - 1] == '/')
                mirror[--n] = '\0';
        url = xasprintf("%s/dists/%s/InRelease", mirror, codename);
        fetch_opts_init(&o);
        o.proxy = env->proxy;
        t0 = now_ms();
        (void)fetch_head(url, timeout, &o, &res);
        answered = res.kind == FETCH_OK || res.kind == FETCH_ERR_HTTP;
        /* A mirror or proxy that is slow for a moment (a proxy that waits
         * on its upstream, a DNS hiccup, a 503) must not refuse the server
         * when apt itself would retry and succeed: once more, with three
         * times the time. A wrong address (4xx) or a bad URL is final. */
        if (res.kind != FETCH_ERR_URL && (!answered || res.http_status >= 500)) {
                attempts = 2;
                (void)fetch_head(url, timeout * 3, &o, &res);
                answered = res.kind == FETCH_OK || res.kind == FETCH_ERR_HTTP;
        }
        res.duration_ms = now_ms() - t0;
        if (!answered)
                c = check_add(l, "network", name, CHECK_FAIL,
                              "check the network and DNS, or set [system] apt_mirror",
                              "cannot reach %s (%s; %u attempts in %.1f s): check the network "
                              "and DNS, or set [system] apt_mirror",
                              mirror, res.detail[0] ? res.detail : res.message, attempts,
                              (double)res.duration_ms / 1000.0);
        else if (res.http_status >= 500)
                c = check_add(l, "network", name, CHECK_FAIL,
                              "try again later, or set [system] apt_mirror",
                              "%s answered HTTP %ld for dists/%s/InRelease twice (a server or "
                              "proxy error): try again later, or set [system] apt_mirror",
                              mirror, res.http_status, codename);
        else if (res.http_status != 200)
                c = check_add(l, "network", name, CHECK_FAIL,
                              "check the mirror address, or set [system] apt_mirror",
                              "%s answered HTTP %ld for dists/%s/InRelease: it does not look "
                              "like a Debian archive that carries %s; check the address, or "
                              "set [system] apt_mirror",
                              mirror, res.http_status, codename, codename);
        else
                c = check_add(l, "network", name, CHECK_PASS, NULL, "%s is reachable", mirror);
        check_detail(c, "url", "%s", url);
        if (env->proxy && *env->proxy)
                check_detail(c, "proxy", "%s", env->proxy);
        if (answered)
                check_detail(c, "http_code", "%ld", res.http_status);
        else
                check_detail(c, "error", "%s", res.message);
        check_detail(c, "time_ms", "%lld", (long long)res.duration_ms);
        check_detail(c, "attempts", "%u", attempts);
}

int preflight_check(const struct preflight_env *env, struct vps_info *info, bool force,
                    struct check_list *ret)
{
        size_t first = ret->n;
        int failures = 0;

        check_root(env, ret);
        check_os(info, force, ret);
        check_ram(env, info, force, ret);
        check_disk(env, info, force, ret);
        check_state_dir(env, ret);
        check_dpkg(env, ret);
        if (env->mirror_url && *env->mirror_url)
                check_archive(env, info, ret);

        for (size_t i = first; i < ret->n; i++)
                failures += ret->v[i].status == CHECK_FAIL;
        info->validated = failures == 0;
        return failures;
}

/* ---- the default mirror ------------------------------------------------- */

/* The best archive URI seen so far; lower rank wins, the first of a rank
 * stays. */
struct mirror_pick {
        int rank;
        char *uri;
};

/* Ranks a URI from an apt source: 1 names "debian" in a file Debian
 * writes, 2 any archive in such a file, 3 names "debian" elsewhere;
 * 0 for what is not a candidate (not http(s), a security mirror). */
static int mirror_rank(const char *uri, bool official)
{
        const char *host;
        bool debian;

        if (strncasecmp(uri, "http://", 7) == 0)
                host = uri + 7;
        else if (strncasecmp(uri, "https://", 8) == 0)
                host = uri + 8;
        else
                return 0;
        if (!*host || strcasestr(uri, "debian-security") || strncasecmp(host, "security.", 9) == 0)
                return 0;
        debian = strcasestr(uri, "debian") != NULL;
        if (official)
                return debian ? 1 : 2;
        return debian ? 3 : 0;
}

static void mirror_consider(struct mirror_pick *m, const char *uri, size_t len, bool official)
{
        _cleanup_free_ char *u = xstrndup(uri, len);
        int rank = mirror_rank(u, official);

        if (rank == 0 || (m->uri && rank >= m->rank))
                return;
        /* the rule of the answers' apt_mirror: a broken source line (a stray
         * CR, a control character) must not become the URL checked and
         * written back into system-prep's sources */
        if (validate_url(u, NULL, 0) < 0)
                return;
        free(m->uri);
        m->uri = TAKE_PTR(u);
        m->rank = rank;
}

/* One-line format: deb [ options ] uri suite [component…]. */
static void scan_one_line(char *data, bool official, struct mirror_pick *m)
{
        for (char *cur = data, *line; (line = next_line(&cur));) {
                char *p = line + strspn(line, " \t");
                size_t n = strcspn(p, " \t");

                if (n != 3 || strncmp(p, "deb", 3) != 0)
                        continue; /* comments, deb-src, blank lines */
                p += n;
                p += strspn(p, " \t");
                if (*p == '[') {
                        p = strchr(p, ']');
                        if (!p)
                                continue;
                        p++;
                        p += strspn(p, " \t");
                }
                n = strcspn(p, " \t#");
                if (n > 0)
                        mirror_consider(m, p, n, official);
        }
}

/* Whether a whitespace-separated list has the word w. */
static bool has_word(const char *list, const char *w)
{
        size_t wl = strlen(w);
        for (const char *p = list; *p;) {
                size_t n;
                p += strspn(p, " \t\n");
                n = strcspn(p, " \t\n");
                if (n == wl && strncmp(p, w, n) == 0)
                        return true;
                p += n;
        }
        return false;
}

/* Ends a deb822 stanza: its URIs count when it is enabled and of type deb. */
static void end_stanza(struct buf *types, struct buf *uris, bool *enabled, bool official,
                       struct mirror_pick *m)
{
        if (*enabled && types->data && uris->data && has_word(types->data, "deb"))
                for (const char *p = uris->data; *p;) {
                        size_t n;
                        p += strspn(p, " \t\n");
                        n = strcspn(p, " \t\n");
                        if (n)
                                mirror_consider(m, p, n, official);
                        p += n;
                }
        buf_release(types);
        buf_release(uris);
        *enabled = true;
}

/* deb822 format: stanzas of "Field: value" lines separated by blank
 * lines; a line starting with a space continues the field above. */
static void scan_deb822(char *data, bool official, struct mirror_pick *m)
{
        struct buf types, uris;
        struct buf *field = NULL;
        bool enabled = true;

        buf_init(&types, SMALL_FILE_MAX);
        buf_init(&uris, SMALL_FILE_MAX);
        for (char *cur = data, *line; (line = next_line(&cur));) {
                char *colon, *value;

                if (line[0] == '#')
                        continue;
                if (line[strspn(line, " \t\r")] == '\0') {
                        end_stanza(&types, &uris, &enabled, official, m);
                        field = NULL;
                        continue;
                }
                if (line[0] == ' ' || line[0] == '\t') {
                        if (field) {
                                buf_append(field, " ", 1);
                                buf_append(field, line, strlen(line));
                        }
                        continue;
                }
                field = NULL;
                colon = strchr(line, ':');
                if (!colon)
                        continue;
                *colon = '\0';
                value = strstrip(colon + 1);
                if (strcasecmp(line, "Types") == 0)
                        field = &types;
                else if (strcasecmp(line, "URIs") == 0)
                        field = &uris;
                else if (strcasecmp(line, "Enabled") == 0) {
                        bool b;
                        if (parse_bool(value, &b) == 0)
                                enabled = b;
                        continue;
                } else
                        continue;
                buf_append(field, " ", 1);
                buf_append(field, value, strlen(value));
        }
        end_stanza(&types, &uris, &enabled, official, m);
}

/* Scans one sources file of either format. */
static void scan_sources_file(const char *path, bool deb822, bool official,
                              struct mirror_pick *m)
{
        _cleanup_free_ char *data = NULL;

        if (read_file(path, SMALL_FILE_MAX, &data, NULL) < 0)
                return;
        if (deb822)
                scan_deb822(data, official, m);
        else
                scan_one_line(data, official, m);
}

/* File names apt reads in sources.list.d: letters, digits, _ - . and the
 * right extension. */
static bool apt_source_name(const char *name)
{
        if (name[0] == '.' || strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                           "0123456789_-.") != strlen(name))
                return false;
        return endswith(name, ".list") || endswith(name, ".sources");
}

int preflight_default_mirror(const char *apt_dir, char *buf, size_t size)
{
        struct mirror_pick m = { 0 };
        _cleanup_free_ char *list = xasprintf("%s/sources.list", apt_dir);
        _cleanup_free_ char *dir = xasprintf("%s/sources.list.d", apt_dir);
        _cleanup_strv_ char **names = NULL;
        char *path;
        DIR *d;
        int r;

        scan_sources_file(list, false, true, &m);
        d = opendir(dir);
        if (d) {
                struct dirent *de;
                while ((de = readdir(d)))
                        if (apt_source_name(de->d_name))
                                strv_push(&names, de->d_name);
                closedir(d);
        }
        strv_sort(names);
        for (size_t i = 0; names && names[i]; i++) {
                _cleanup_free_ char *file = xasprintf("%s/%s", dir, names[i]);
                scan_sources_file(file, endswith(names[i], ".sources"),
                                  strcmp(names[i], "debian.sources") == 0, &m);
        }
        if (!m.uri)
                return -ENOENT;
        /* "http://deb.debian.org/debian/" → "…/debian"; the host stays. */
        path = strstr(m.uri, "://") + 3;
        path += strcspn(path, "/");
        for (size_t n = strlen(path); n > 0 && path[n - 1] == '/'; n--)
                path[n - 1] = '\0';
        r = strlen(m.uri) < size ? 0 : -ENAMETOOLONG;
        if (r == 0)
                strscpy(buf, size, m.uri);
        free(m.uri);
        return r;
}

/* ---- JSON --------------------------------------------------------------- */

struct json_object *vps_info_to_json(const struct vps_info *v)
{
        struct json_object *o = json_object_new_object();
        char avail[32];

        json_object_object_add(o, "hostname", json_object_new_string(v->hostname));
        json_object_object_add(o, "ip_address", json_object_new_string(v->ip_address));
        json_object_object_add(o, "os_name", json_object_new_string(v->os_name));
        json_object_object_add(o, "os_id", json_object_new_string(v->os_id));
        json_object_object_add(o, "os_version", json_object_new_string(v->os_version));
        json_object_object_add(o, "os_codename", json_object_new_string(v->os_codename));
        json_object_object_add(o, "kernel_version", json_object_new_string(v->kernel_version));
        json_object_object_add(o, "architecture", json_object_new_string(v->architecture));
        json_object_object_add(o, "virtualization", json_object_new_string(v->virtualization));
        json_object_object_add(o, "cpu_cores", json_object_new_int(v->cpu_cores));
        json_object_object_add(o, "ram_mb", json_object_new_int64(v->ram_mb));
        json_object_object_add(o, "disk_space_gb", json_object_new_int64(v->disk_space_gb));
        /* One decimal, as the data model shows it (75.3, not 75.29999…). */
        snprintf(avail, sizeof(avail), "%.1f", v->disk_available_gb);
        json_object_object_add(o, "disk_available_gb",
                               json_object_new_double_s((double)(int64_t)(v->disk_available_gb * 10 + 0.5) / 10,
                                                        avail));
        json_object_object_add(o, "validated", json_object_new_boolean(v->validated));
        return o;
}

/* A string member into a fixed field: missing or null → "", wrong type or
 * too long → -EINVAL. */
static int json_string_field(struct json_object *o, const char *key, char *dst, size_t size)
{
        struct json_object *m;

        if (!json_object_object_get_ex(o, key, &m) || !m) {
                dst[0] = '\0';
                return 0;
        }
        if (!json_object_is_type(m, json_type_string))
                return -EINVAL;
        return strscpy(dst, size, json_object_get_string(m)) < 0 ? -EINVAL : 0;
}

/* An integer member in [min, max]: missing → 0. */
static int json_int_field(struct json_object *o, const char *key, int64_t min, int64_t max,
                          int64_t *ret)
{
        struct json_object *m;
        int64_t x;

        if (!json_object_object_get_ex(o, key, &m) || !m) {
                *ret = 0;
                return 0;
        }
        if (!json_object_is_type(m, json_type_int))
                return -EINVAL;
        errno = 0;
        x = json_object_get_int64(m);
        if (errno || x < min || x > max)
                return -EINVAL;
        *ret = x;
        return 0;
}

int vps_info_from_json(struct json_object *o, struct vps_info *ret)
{
        static const struct {
                const char *key;
                size_t off, size;
        } strings[] = {
#define S(f) { #f, offsetof(struct vps_info, f), sizeof(((struct vps_info *)0)->f) }
                S(hostname),       S(ip_address),   S(os_name),        S(os_id),
                S(os_version),     S(os_codename),  S(kernel_version), S(architecture),
                S(virtualization),
#undef S
        };
        struct vps_info v = { 0 };
        struct json_object *m;
        int64_t x;
        int r;

        if (!o || !json_object_is_type(o, json_type_object))
                return -EINVAL;
        for (size_t i = 0; i < ELEMENTSOF(strings); i++) {
                r = json_string_field(o, strings[i].key, (char *)&v + strings[i].off,
                                      strings[i].size);
                if (r < 0)
                        return r;
        }
        if ((r = json_int_field(o, "cpu_cores", 0, INT_MAX, &x)) < 0)
                return r;
        v.cpu_cores = (int)x;
        if ((r = json_int_field(o, "ram_mb", 0, INT64_MAX, &v.ram_mb)) < 0)
                return r;
        if ((r = json_int_field(o, "disk_space_gb", 0, INT64_MAX, &v.disk_space_gb)) < 0)
                return r;
        if (json_object_object_get_ex(o, "disk_available_gb", &m) && m) {
                if (!json_object_is_type(m, json_type_double) &&
                    !json_object_is_type(m, json_type_int))
                        return -EINVAL;
                v.disk_available_gb = json_object_get_double(m);
                /* a zettabyte is no server's disk; beyond it, the tenths
                 * the JSON writer rounds to would not fit an int64 */
                if (!isfinite(v.disk_available_gb) || v.disk_available_gb < 0 ||
                    v.disk_available_gb > VPS_DISK_GB_MAX)
                        return -EINVAL;
        }
        if (json_object_object_get_ex(o, "validated", &m) && m) {
                if (!json_object_is_type(m, json_type_boolean))
                        return -EINVAL;
                v.validated = json_object_get_boolean(m);
        }
        *ret = v;
        return 0;
}
