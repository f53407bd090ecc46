/* ports.c — listening TCP sockets and their processes (see ports.h). */
#include "ports.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "util.h"

void ports_parse_proc_net_tcp(const char *text, uint16_t **ports, uint64_t **inodes, size_t *n)
{
        const char *l = text ? strchr(text, '\n') : NULL;   /* the first line is a header */
        size_t cap = *n;

        while (l && *++l) {
                unsigned lport = 0, state = 0;
                unsigned long long inode = 0;
                char local[64], line[512];
                size_t len = strcspn(l, "\n");

                /* one line at a time: sscanf's spaces would skip a newline and
                 * read a short line's missing fields from the next one (the
                 * fields looked at are all in a line's first 200 bytes) */
                if (len >= sizeof(line))
                        len = sizeof(line) - 1;
                memcpy(line, l, len);
                line[len] = '\0';
                /* "sl local rem st tx:rx tr:when retrnsmt uid timeout inode":
                 * "0: 00000000:0D3D 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 4242" */
                if (sscanf(line, " %*u: %63[0-9A-Fa-f]:%x %*[0-9A-Fa-f]:%*x %x %*x:%*x %*x:%*x %*x %*u %*u %llu",
                           local, &lport, &state, &inode) == 4 &&
                    state == 0x0A && lport > 0 && lport <= 65535) {
                        if (*n == cap) {        /* doubling: a table of many
                                                 * sockets costs no copy per line */
                                cap = cap ? 2 * cap : 16;
                                *ports = xrealloc(*ports, cap * sizeof(**ports));
                                *inodes = xrealloc(*inodes, cap * sizeof(**inodes));
                        }
                        (*ports)[*n] = (uint16_t)lport;
                        (*inodes)[*n] = inode;
                        (*n)++;
                }
                l = strchr(l, '\n');
        }
}

static void closedirp(DIR **d)
{
        if (*d)
                closedir(*d);
}

/* The name of process pid ("" when it cannot be read), printable. */
static void read_comm(const char *proc, long pid, char *comm, size_t commlen)
{
        _cleanup_free_ char *text = NULL;
        char path[512];

        comm[0] = '\0';
        snprintf(path, sizeof(path), "%s/%ld/comm", proc, pid);
        if (read_file(path, 4096, &text, NULL) < 0)
                return;
        text[strcspn(text, "\n")] = '\0';
        for (char *c = text; *c; c++)
                if (!isprint((unsigned char)*c))
                        *c = '?';
        strscpy(comm, commlen, text);
}

/* One pass over every process's descriptors: the owner of each socket
 * inode in l (pid and name filled where found). */
static void find_owners(const char *proc, const uint64_t *inodes, struct port_listener *l, size_t n)
{
        _cleanup_(closedirp) DIR *d = opendir(proc);
        struct dirent *de;
        size_t found = 0;

        while (d && found < n && (de = readdir(d))) {
                _cleanup_(closedirp) DIR *fds = NULL;
                struct dirent *fe;
                char path[512];
                long pid;

                if (parse_long(de->d_name, 1, 1L << 30, &pid) < 0)
                        continue;
                snprintf(path, sizeof(path), "%s/%ld/fd", proc, pid);
                if (!(fds = opendir(path)))
                        continue;
                while ((fe = readdir(fds))) {
                        char link[1024], target[64];
                        unsigned long long inode;
                        ssize_t k;

                        if (fe->d_name[0] == '.')
                                continue;
                        snprintf(link, sizeof(link), "%s/%s", path, fe->d_name);
                        k = readlink(link, target, sizeof(target) - 1);
                        if (k <= 0)
                                continue;
                        target[k] = '\0';
                        if (sscanf(target, "socket:[%llu]", &inode) != 1)
                                continue;
                        for (size_t i = 0; i < n; i++) {
                                if (inodes[i] != inode || l[i].pid)
                                        continue;
                                l[i].pid = (pid_t)pid;
                                read_comm(proc, pid, l[i].comm, sizeof(l[i].comm));
                                found++;
                        }
                }
        }
}

static int cmp_listener(const void *a, const void *b)
{
        const struct port_listener *x = a, *y = b;

        if (x->port != y->port)
                return x->port < y->port ? -1 : 1;
        return (x->pid > y->pid) - (x->pid < y->pid);
}

/* A local address of /proc/net/tcp(6) in its hex form: each 32-bit word
 * printed as a number in host byte order, so 127.0.0.1 is 0100007F on a
 * little-endian machine and 7F000001 on a big-endian one. */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define WORD_127 6              /* where the first octet's hex sits in a word */
#define V6_ONE "00000000000000000000000001000000"
#define V6_FFFF "0000000000000000FFFF0000"
#else
#define WORD_127 0
#define V6_ONE "00000000000000000000000000000001"
#define V6_FFFF "00000000000000000000FFFF"
#endif
static bool hex_is_loopback(const char *hex)
{
        size_t len = strlen(hex);

        if (len == 8)           /* 127.x.y.z */
                return strncasecmp(hex + WORD_127, "7F", 2) == 0;
        if (len != 32)
                return false;
        if (strcasecmp(hex, V6_ONE) == 0)       /* ::1 */
                return true;
        /* ::ffff:127.x.y.z */
        return strncasecmp(hex, V6_FFFF, 24) == 0 && strncasecmp(hex + 24 + WORD_127, "7F", 2) == 0;
}

bool ports_listen_beyond_loopback(const char *text, uint16_t port)
{
        const char *l = text ? strchr(text, '\n') : NULL;   /* the first line is a header */

        while (l && *++l) {
                unsigned lport = 0, state = 0;
                char local[64], line[512];
                size_t len = strcspn(l, "\n");

                if (len >= sizeof(line))
                        len = sizeof(line) - 1;
                memcpy(line, l, len);
                line[len] = '\0';
                if (sscanf(line, " %*u: %63[0-9A-Fa-f]:%x %*[0-9A-Fa-f]:%*x %x", local, &lport,
                           &state) == 3 &&
                    state == 0x0A && lport == port && !hex_is_loopback(local))
                        return true;
                l = strchr(l, '\n');
        }
        return false;
}

int ports_read_listening(const char *proc, uint16_t **ports, uint64_t **inodes, size_t *n)
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
                ports_parse_proc_net_tcp(text, ports, inodes, n);
        }
        return read_ok ? 0 : last;
}

int ports_listeners(const char *proc, struct port_listeners *ret)
{
        _cleanup_free_ uint16_t *ports = NULL;
        _cleanup_free_ uint64_t *inodes = NULL;
        _cleanup_free_ struct port_listener *all = NULL;
        struct port_listeners l = { 0 };
        size_t n = 0;
        int r = ports_read_listening(proc, &ports, &inodes, &n);

        if (r < 0)
                return r;
        all = xcalloc(n + 1, sizeof(*all));
        for (size_t i = 0; i < n; i++)
                all[i].port = ports[i];
        find_owners(proc, inodes, all, n);
        for (size_t i = 0; i < n; i++) {
                bool dup = false;

                for (size_t k = 0; k < l.n && !dup; k++)
                        dup = l.v[k].port == all[i].port && l.v[k].pid == all[i].pid;
                if (dup)
                        continue;   /* the same program on IPv4 and IPv6 */
                l.v = xrealloc(l.v, (l.n + 1) * sizeof(*l.v));
                l.v[l.n++] = all[i];
        }
        if (l.n)
                qsort(l.v, l.n, sizeof(*l.v), cmp_listener);
        *ret = l;
        return 0;
}

void port_listeners_release(struct port_listeners *l)
{
        if (!l)
                return;
        free(l->v);
        l->v = NULL;
        l->n = 0;
}

const struct port_listener *ports_find(const struct port_listeners *l, uint16_t port)
{
        for (size_t i = 0; l && i < l->n; i++)
                if (l->v[i].port == port)
                        return &l->v[i];
        return NULL;
}
