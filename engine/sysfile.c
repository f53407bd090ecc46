/* sysfile.c — see sysfile.h. */
#include "sysfile.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ports.h"
#include "safepath.h"
#include "util.h"

#define SYSFILE_MAX (16u << 20)

bool sysfile_matches(const struct stat *st, const void *have, size_t have_len, const void *data,
                     size_t len, mode_t mode, uid_t uid, gid_t gid)
{
        return S_ISREG(st->st_mode) && (st->st_mode & 07777) == mode && st->st_uid == uid &&
               st->st_gid == gid && have_len == len && memcmp(have, data, len) == 0;
}

bool sysfile_is_data(const char *path, const void *data, size_t len, mode_t mode, uid_t uid,
                     gid_t gid)
{
        _cleanup_free_ char *have = NULL;
        struct stat st;
        size_t have_len = 0;

        if (lstat(path, &st) < 0 || !S_ISREG(st.st_mode))
                return false;
        if ((st.st_mode & 07777) != mode || st.st_uid != uid || st.st_gid != gid)
                return false;
        if ((uint64_t)st.st_size != (uint64_t)len)
                return false;
        /* one byte more than expected shows a file that grew since */
        if (read_file(path, len + 1, &have, &have_len) < 0)
                return false;
        return sysfile_matches(&st, have, have_len, data, len, mode, uid, gid);
}

bool sysfile_is(const char *path, const char *text, mode_t mode, uid_t uid, gid_t gid)
{
        return sysfile_is_data(path, text, strlen(text), mode, uid, gid);
}

char *sysfile_read(const char *path)
{
        char *data = NULL;
        size_t len = 0;

        if (read_file(path, SYSFILE_MAX, &data, &len) < 0)
                return NULL;
        return data;
}

char *sysfile_read_home(const char *path)
{
        char *data = NULL;

        if (safepath_read_file(path, SYSFILE_MAX, &data, NULL, NULL) < 0)
                return NULL;
        return data;
}

bool sysfile_is_home(const char *path, const char *text, mode_t mode, uid_t uid, gid_t gid)
{
        _cleanup_free_ char *have = NULL;
        size_t len = strlen(text), have_len = 0;
        struct stat st;

        /* one byte more than expected shows a file that grew since */
        if (safepath_read_file(path, len + 1, &have, &have_len, &st) < 0)
                return false;
        return sysfile_matches(&st, have, have_len, text, len, mode, uid, gid);
}

int sysfile_write_temp(const char *dir, const char *prefix, const char *text, mode_t mode,
                       char **ret_path)
{
        _cleanup_free_ char *path = xasprintf("%s/%s.XXXXXX", dir, prefix);
        _cleanup_close_ int fd = -1;
        size_t len = strlen(text), off = 0;

        fd = mkostemp(path, O_CLOEXEC);
        if (fd < 0)
                return -errno;
        while (off < len) {
                ssize_t n = write(fd, text + off, len - off);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0) {
                        int r = n < 0 ? -errno : -EIO;
                        unlink(path);
                        return r;
                }
                off += (size_t)n;
        }
        if (fchmod(fd, mode) < 0) {
                int r = -errno;
                unlink(path);
                return r;
        }
        *ret_path = TAKE_PTR(path);
        return 0;
}

/* Start of the first line of text that begins with "KEY=", or NULL. */
static const char *find_key_line(const char *text, const char *key)
{
        size_t kl = strlen(key);

        for (const char *l = text; l && *l;) {
                if (strncmp(l, key, kl) == 0 && l[kl] == '=')
                        return l;
                l = strchr(l, '\n');
                if (l)
                        l++;
        }
        return NULL;
}

char *sysfile_set_key(const char *text, const char *key, const char *value)
{
        const char *l, *end;

        if (!text)
                text = "";
        l = find_key_line(text, key);
        if (!l) {
                size_t n = strlen(text);
                return xasprintf("%s%s%s=%s\n", text, n && text[n - 1] != '\n' ? "\n" : "", key,
                                 value);
        }
        end = strchr(l, '\n');
        return xasprintf("%.*s%s=%s%s", (int)(l - text), text, key, value, end ? end : "\n");
}

char *sysfile_get_key(const char *text, const char *key)
{
        const char *l = text ? find_key_line(text, key) : NULL;
        const char *v, *end;
        size_t n;

        if (!l)
                return NULL;
        v = l + strlen(key) + 1;
        end = strchr(v, '\n');
        n = end ? (size_t)(end - v) : strlen(v);
        while (n && (v[n - 1] == ' ' || v[n - 1] == '\t' || v[n - 1] == '\r'))
                n--;
        if (n >= 2 && (v[0] == '"' || v[0] == '\'') && v[n - 1] == v[0]) {
                v++;
                n -= 2;
        }
        return xstrndup(v, n);
}

bool sysfile_in_group(const struct passwd *pw, const char *group, bool *ret_exists)
{
        struct group *gr = getgrnam(group);

        if (ret_exists)
                *ret_exists = gr != NULL;
        if (!gr)
                return false;
        if (gr->gr_gid == pw->pw_gid)
                return true;
        for (char **m = gr->gr_mem; m && *m; m++)
                if (strcmp(*m, pw->pw_name) == 0)
                        return true;
        return false;
}

bool sysfile_user_in_group(const char *user, const char *group)
{
        struct passwd *pw = getpwnam(user);
        struct passwd copy;
        _cleanup_free_ char *name = NULL;

        if (!pw)
                return false;
        /* getgrnam() may reuse getpwnam()'s static buffer on some NSS modules */
        copy = *pw;
        name = xstrdup(pw->pw_name);
        copy.pw_name = name;
        return sysfile_in_group(&copy, group, NULL);
}

/* Whether port is among the LISTEN sockets ports' one reader found. */
static bool port_among(const uint16_t *ports, size_t n, uint16_t port)
{
        for (size_t i = 0; i < n; i++)
                if (ports[i] == port)
                        return true;
        return false;
}

bool sysfile_parse_proc_net_tcp(const char *text, uint16_t port)
{
        _cleanup_free_ uint16_t *ports = NULL;
        _cleanup_free_ uint64_t *inodes = NULL;
        size_t n = 0;

        ports_parse_proc_net_tcp(text, &ports, &inodes, &n);
        return port_among(ports, n, port);
}

int sysfile_tcp_listening(const char *proc, uint16_t port)
{
        _cleanup_free_ uint16_t *ports = NULL;
        _cleanup_free_ uint64_t *inodes = NULL;
        size_t n = 0;
        int r = ports_read_listening(proc ? proc : "/proc", &ports, &inodes, &n);

        if (r < 0)
                return r;
        return port_among(ports, n, port) ? 1 : 0;
}

int sysfile_tcp_listening_beyond_loopback(const char *proc, uint16_t port)
{
        static const char *const names[] = { "net/tcp", "net/tcp6" };
        int read_ok = 0, last = -ENOENT;

        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                _cleanup_free_ char *path = xasprintf("%s/%s", proc ? proc : "/proc", names[i]);
                _cleanup_free_ char *text = NULL;
                int r = read_file(path, 64u << 20, &text, NULL);

                if (r < 0) {
                        last = r;   /* no IPv6 in this kernel: tcp6 is missing */
                        continue;
                }
                read_ok++;
                if (ports_listen_beyond_loopback(text, port))
                        return 1;
        }
        return read_ok ? 0 : last;
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

int sysfile_ssh_connection(const char *proc, pid_t pid, char *buf, size_t size)
{
        static const char key[] = "SSH_CONNECTION=";

        if (!proc)
                proc = "/proc";

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
