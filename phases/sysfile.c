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

#include "util.h"

#define SYSFILE_MAX (1u << 20)

bool sysfile_is(const char *path, const char *text, mode_t mode, uid_t uid, gid_t gid)
{
        _cleanup_free_ char *data = NULL;
        struct stat st;
        size_t len = 0;

        if (lstat(path, &st) < 0 || !S_ISREG(st.st_mode))
                return false;
        if ((st.st_mode & 07777) != mode || st.st_uid != uid || st.st_gid != gid)
                return false;
        if (read_file(path, SYSFILE_MAX, &data, &len) < 0)
                return false;
        return len == strlen(text) && memcmp(data, text, len) == 0;
}

char *sysfile_read(const char *path)
{
        char *data = NULL;
        size_t len = 0;

        if (read_file(path, SYSFILE_MAX, &data, &len) < 0)
                return NULL;
        return data;
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
