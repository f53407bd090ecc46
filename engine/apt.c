/* apt.c — see apt.h.
 *
 * Everything here asks; nothing changes the system. The changes themselves
 * run in ops.c with the argv built by apt_argv(). */
#include "apt.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <pthread.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "run.h"
#include "util.h"

/* apt-get's output is small text; dpkg's database of a full desktop lists
 * ~2,000 packages at ~60 bytes each. 16 MiB leaves room for any system. */
#define QUERY_MAX (16u << 20)

static bool parse_percent(const char *s, size_t n, double *ret)
{
        char tmp[32], *end;

        if (n == 0 || n >= sizeof(tmp))
                return false;
        memcpy(tmp, s, n);
        tmp[n] = '\0';
        errno = 0;
        *ret = strtod(tmp, &end);
        /* strtod() also reads "nan" and "inf", which no percent is */
        return errno == 0 && end == tmp + n && isfinite(*ret);
}

int apt_status_parse(const char *line, size_t len, struct apt_status *ret)
{
        static const struct {
                const char *word;
                enum apt_status_kind kind;
        } kinds[] = {
                { "dlstatus", APT_ST_DOWNLOAD },   { "pmstatus", APT_ST_INSTALL },
                { "pmerror", APT_ST_ERROR },       { "pmconffile", APT_ST_CONFFILE },
                { "media-change", APT_ST_OTHER },
        };
        const char *end = line + len, *colon, *field, *pct = NULL;
        size_t i;

        memset(ret, 0, sizeof(*ret));
        colon = memchr(line, ':', len);
        if (!colon)
                return -EINVAL;
        for (i = 0; i < ELEMENTSOF(kinds); i++)
                if (strlen(kinds[i].word) == (size_t)(colon - line) &&
                    memcmp(kinds[i].word, line, (size_t)(colon - line)) == 0)
                        break;
        if (i == ELEMENTSOF(kinds))
                return -EINVAL;
        ret->kind = kinds[i].kind;

        /* "KIND:PKG:PERCENT:MESSAGE". PKG may itself hold a ':' (an
         * architecture qualifier, "libc6:amd64"), MESSAGE may hold any: the
         * percent is the first field after KIND that is wholly a number. */
        field = colon + 1;
        for (const char *p = field; p < end;) {
                const char *next = memchr(p, ':', (size_t)(end - p));
                if (!next)
                        break;
                if (p > field && parse_percent(p, (size_t)(next - p), &ret->percent)) {
                        pct = p;
                        snprintf(ret->pkg, sizeof(ret->pkg), "%.*s", (int)(p - 1 - field), field);
                        snprintf(ret->message, sizeof(ret->message), "%.*s",
                                 (int)(end - next - 1), next + 1);
                        break;
                }
                p = next + 1;
        }
        if (!pct)
                return -EINVAL;
        if (ret->percent < 0)
                ret->percent = 0;
        if (ret->percent > 100)
                ret->percent = 100;
        return 0;
}

/* apt_argv() and apt_argv_unpack(): the same options, one more for the
 * second. */
static char **argv_build(int status_fd, bool unsafe_io, const char *const *words)
{
        char **v = NULL;

        strv_push(&v, "apt-get");
        strv_push(&v, "-y");
        strv_push(&v, "-q");
        /* keep the installed version of a changed conffile, never ask */
        strv_push(&v, "-o");
        strv_push(&v, "Dpkg::Options::=--force-confdef");
        strv_push(&v, "-o");
        strv_push(&v, "Dpkg::Options::=--force-confold");
        /* no pty: output comes through our pipes, line by line */
        strv_push(&v, "-o");
        strv_push(&v, "Dpkg::Use-Pty=0");
        strv_push(&v, "-o");
        strv_pushf(&v, "DPkg::Lock::Timeout=%d", APT_LOCK_TIMEOUT_S);
        if (unsafe_io) {
                strv_push(&v, "-o");
                strv_push(&v, APT_UNSAFE_IO);
        }
        if (status_fd >= 0) {
                strv_push(&v, "-o");
                strv_pushf(&v, "APT::Status-Fd=%d", status_fd);
        }
        for (size_t i = 0; words && words[i]; i++)
                strv_push(&v, words[i]);
        return v;
}

char **apt_argv(int status_fd, const char *const *words)
{
        return argv_build(status_fd, false, words);
}

char **apt_argv_unpack(int status_fd, const char *const *words)
{
        return argv_build(status_fd, true, words);
}

void apt_verify_parse(const char *out, char ***ret_changed, char ***ret_conffiles,
                      char ***ret_missing)
{
        char **changed = NULL, **conffiles = NULL, **missing = NULL;

        for (const char *line = out; line && *line;) {
                const char *nl = strchr(line, '\n');
                size_t len = nl ? (size_t)(nl - line) : strlen(line);
                const char *path = line + 12;
                size_t plen = len > 12 ? len - 12 : 0;
                bool is_missing = len > 12 && strncmp(line, "missing  ", 9) == 0;
                bool is_checks = len > 12 && !is_missing;

                /* "XXXXXXXXX A /path": nine result characters, a space, the
                 * attribute ('c' or a space), a space, the path */
                for (size_t k = 0; is_checks && k < 9; k++)
                        if (line[k] == ' ' || line[k] == '\t')
                                is_checks = false;
                if ((is_missing || is_checks) && line[9] == ' ' &&
                    (line[10] == 'c' || line[10] == ' ') && line[11] == ' ' && path[0] == '/') {
                        if (is_missing) {
                                /* "missing   c /etc/foo (No such file or directory)" */
                                const char *paren = NULL;
                                for (size_t k = plen; k > 1; k--)
                                        if (path[k - 2] == ' ' && path[k - 1] == '(') {
                                                paren = path + k - 2;
                                                break;
                                        }
                                if (paren && path[plen - 1] == ')')
                                        plen = (size_t)(paren - path);
                                strv_push_take(&missing, xstrndup(path, plen));
                        } else if (line[2] == '5')
                                strv_push_take(line[10] == 'c' ? &conffiles : &changed,
                                               xstrndup(path, plen));
                }
                line = nl ? nl + 1 : line + len;
        }
        if (ret_changed)
                *ret_changed = changed;
        else
                strv_free(changed);
        if (ret_conffiles)
                *ret_conffiles = conffiles;
        else
                strv_free(conffiles);
        if (ret_missing)
                *ret_missing = missing;
        else
                strv_free(missing);
}

char *apt_search_pattern(const char *path)
{
        struct buf b;

        buf_init(&b, SIZE_MAX);
        for (const char *p = path; *p; p++) {
                if (*p == '*' || *p == '?' || *p == '[' || *p == '\\')
                        buf_append(&b, "\\", 1);
                buf_append(&b, p, 1);
        }
        return buf_steal(&b);
}

char **apt_search_owners_parse(const char *out)
{
        char **owners = NULL, **uniq = NULL;

        for (const char *line = out; line && *line;) {
                const char *nl = strchr(line, '\n');
                size_t len = nl ? (size_t)(nl - line) : strlen(line);
                _cleanup_free_ char *l = xstrndup(line, len);
                char *sep = strstr(l, ": /"), *save = NULL;

                line = nl ? nl + 1 : line + len;
                if (!sep || startswith(l, "diversion by "))
                        continue;
                *sep = '\0';
                for (char *w = strtok_r(l, ", ", &save); w; w = strtok_r(NULL, ", ", &save))
                        strv_push(&owners, w);
        }
        if (!owners)
                return NULL;
        strv_sort(owners);
        for (size_t i = 0; owners[i]; i++)
                if (i == 0 || strcmp(owners[i], owners[i - 1]) != 0)
                        strv_push(&uniq, owners[i]);
        strv_free(owners);
        return uniq;
}

enum apt_pkg_state apt_pkg_state_parse(const char *abbrev, size_t len)
{
        if (!abbrev || len < 2)
                return APT_PKG_ABSENT;
        /* the error flag, when there is one, spoils any state */
        if (len >= 3 && abbrev[2] != ' ' && abbrev[2] != '\0' && abbrev[1] != 'n')
                return APT_PKG_HALF;
        switch (abbrev[1]) {
        case 'i':
                return APT_PKG_INSTALLED;
        case 'c':
                return APT_PKG_CONFIG_FILES;
        case 'H': case 'U': case 'F': case 'W': case 't':
                return APT_PKG_HALF;
        default:
                return APT_PKG_ABSENT;   /* n, or a letter dpkg does not print */
        }
}

void apt_pkg_list_release(struct apt_pkg_list *l)
{
        for (size_t i = 0; i < l->n; i++)
                free(l->v[i].name);
        free(l->v);
        l->v = NULL;
        l->n = 0;
}

void apt_pkg_list_parse(const char *out, const char *native, struct apt_pkg_list *ret)
{
        struct apt_pkg_list l = { 0 };
        size_t cap = 0;

        (void)strscpy(l.native, sizeof(l.native), native ? native : "");
        for (const char *line = out; line && *line;) {
                const char *end = strchr(line, '\n');
                size_t len = end ? (size_t)(end - line) : strlen(line);
                const char *f[4] = { line }, *stop = line + len;
                size_t fl[4] = { 0 }, nf = 1;

                /* tab-separated: status, package, architecture and the
                 * guard (which may be empty, or missing altogether) */
                for (const char *p = line; p < stop && nf < 4; p++)
                        if (*p == '\t') {
                                fl[nf - 1] = (size_t)(p - f[nf - 1]);
                                f[nf++] = p + 1;
                        }
                fl[nf - 1] = (size_t)(stop - f[nf - 1]);
                line = end ? end + 1 : stop;
                if (nf < 3 || fl[1] == 0)
                        continue;
                if (nf == 3)
                        f[3] = "";
                if (l.n == cap) {
                        cap = cap ? cap * 2 : 64;
                        l.v = xrealloc(l.v, cap * sizeof(*l.v));
                }
                l.v[l.n].state = apt_pkg_state_parse(f[0], fl[0]);
                l.v[l.n].guarded = memmem(f[3], fl[3], "yes", 3) != NULL;
                if (fl[2] == 0 || (fl[2] == 3 && memcmp(f[2], "all", 3) == 0) ||
                    (native && strlen(native) == fl[2] && memcmp(f[2], native, fl[2]) == 0))
                        l.v[l.n].name = xstrndup(f[1], fl[1]);
                else
                        l.v[l.n].name = xasprintf("%.*s:%.*s", (int)fl[1], f[1], (int)fl[2], f[2]);
                l.n++;
        }
        *ret = l;
}

/* dpkg's architecture ("amd64"): asked once per process (dpkg's native
 * architecture is fixed when dpkg is built; --add-architecture adds
 * foreign ones only). A copy in *ret. */
static int native_arch(char **ret)
{
        static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
        static char arch[64];
        const char *const argv[] = { "dpkg", "--print-architecture", NULL };
        char *out = NULL;
        int r = 0;

        pthread_mutex_lock(&mu);
        if (!arch[0]) {
                r = run_capture(argv, 256, &out);
                if (r == 0) {
                        strstrip(out);
                        if (*out && strlen(out) < sizeof(arch))
                                strscpy(arch, sizeof(arch), out);
                        else
                                r = -EIO;
                }
                free(out);
        }
        if (r == 0)
                *ret = xstrdup(arch);
        pthread_mutex_unlock(&mu);
        return r < 0 ? r : r > 0 ? -EIO : 0;
}

int apt_pkg_list_query(const char *const *names, struct apt_pkg_list *ret)
{
        _cleanup_strv_ char **argv = NULL;
        _cleanup_free_ char *out = NULL, *native = NULL;
        int r;

        r = native_arch(&native);
        if (r < 0)
                return r;
        strv_push(&argv, "dpkg-query");
        strv_push(&argv, "-W");
        strv_push(&argv, "-f=" APT_DPKG_FORMAT);
        if (names) {
                size_t n = 0;

                strv_push(&argv, "--");
                for (size_t i = 0; names[i]; i++, n++)
                        strv_push(&argv, names[i]);
                if (n == 0) {
                        *ret = (struct apt_pkg_list){ 0 };
                        return 0;
                }
        }
        r = run_capture((const char *const *)argv, QUERY_MAX, &out);
        /* 1: some names are unknown to dpkg; the known ones are printed */
        if (r < 0)
                return r;
        if (r != 0 && !(r == 1 && names))
                return -EIO;
        apt_pkg_list_parse(out, native, ret);
        return 0;
}

enum apt_pkg_state apt_pkg_list_state(const struct apt_pkg_list *l, const char *pkg)
{
        const char *colon = strchr(pkg, ':');
        size_t n = strlen(pkg);

        /* "name:amd64" on amd64, and "name:all", are listed as "name" */
        if (colon && (strcmp(colon + 1, "all") == 0 || (l->native[0] && strcmp(colon + 1, l->native) == 0)))
                n = (size_t)(colon - pkg);
        for (size_t i = 0; i < l->n; i++)
                if (strlen(l->v[i].name) == n && memcmp(l->v[i].name, pkg, n) == 0)
                        return l->v[i].state;
        return APT_PKG_ABSENT;
}

/* Whether an install word names a package (see apt_word_names()). */
static bool word_is_package(const char *word)
{
        size_t n = strlen(word);

        if (n == 0 || word[0] == '-' || word[n - 1] == '-' || word[0] == '.' || word[0] == '/')
                return false;
        /* a path: "dir/x.deb" (a "name/release" has no ".deb" at its end) */
        return !(n > 4 && strcmp(word + n - 4, ".deb") == 0 && strchr(word, '/'));
}

char **apt_word_names(const char *const *words)
{
        char **names = NULL;

        for (size_t i = 0; words && words[i]; i++)
                if (word_is_package(words[i]))
                        strv_push_take(&names, xstrndup(words[i], strcspn(words[i], "=/")));
        return names;
}

int apt_installed(char ***ret)
{
        struct apt_pkg_list l;
        char **list = NULL;
        int r;

        r = apt_pkg_list_query(NULL, &l);
        if (r < 0)
                return r;
        for (size_t i = 0; i < l.n; i++)
                if (l.v[i].state == APT_PKG_INSTALLED)
                        strv_push(&list, l.v[i].name);
        apt_pkg_list_release(&l);
        if (!list)
                list = xcalloc(1, sizeof(char *));
        strv_sort(list);
        *ret = list;
        return 0;
}

bool apt_is_installed(char *const *installed, const char *pkg)
{
        return strv_contains(installed, pkg);
}

int apt_dpkg_pending(const char *dpkg_dir)
{
        _cleanup_free_ char *path = xasprintf("%s/updates", dpkg_dir ? dpkg_dir : APT_DPKG_DIR);
        DIR *d = opendir(path);
        struct dirent *de;
        int n = 0;

        if (!d)
                return 0;
        while ((de = readdir(d)))
                if (de->d_name[0] && strspn(de->d_name, "0123456789") == strlen(de->d_name))
                        n++;
        closedir(d);
        return n;
}

/* "Inst NAME [OLD] (NEW REPO [ARCH])": NAME, and whether [OLD] is there. */
static bool parse_inst(char *line, char **ret_name, bool *ret_upgrade)
{
        char *name, *sp;

        if (!startswith(line, "Inst "))
                return false;
        name = line + 5;
        sp = strchr(name, ' ');
        if (sp)
                *sp = '\0';
        if (!name[0])
                return false;
        *ret_name = name;
        *ret_upgrade = sp && sp[1] == '[';
        return true;
}

/* The package named in "E: Unable to locate package NAME" or
 * "E: Package 'NAME' has no installation candidate". */
bool apt_missing_package(const char *line, char *err, size_t errlen)
{
        const char *p;

        if ((p = strstr(line, "Unable to locate package "))) {
                snprintf(err, errlen, "%s", p + strlen("Unable to locate package "));
                return true;
        }
        if ((p = strstr(line, "Package '")) && strstr(line, "has no installation candidate")) {
                const char *q = strchr(p + 9, '\'');
                snprintf(err, errlen, "%.*s", q ? (int)(q - p - 9) : 0, p + 9);
                return true;
        }
        return false;
}

/* Collects stdout and stderr together, in the order they arrive. */
static void collect_line(void *userdata, enum run_stream stream, const char *line, size_t len,
                         bool truncated)
{
        struct buf *b = userdata;

        (void)stream;
        (void)truncated;
        if (buf_append(b, line, len) < 0 || buf_append(b, "\n", 1) < 0)
                return;   /* over the cap: the rest is not needed to plan */
}

int apt_simulate_install(const char *const *pkgs, char ***ret_new, char ***ret_upgraded,
                         char *err, size_t errlen)
{
        _cleanup_strv_ char **argv = NULL, **fresh = NULL, **upgraded = NULL;
        _cleanup_free_ char *out = NULL;
        struct run_opts o;
        struct run_result res;
        struct buf b;
        char *save = NULL, first_error[512] = "", missing[256] = "";
        int r;

        if (err && errlen)
                err[0] = '\0';
        strv_push(&argv, "apt-get");
        strv_push(&argv, "-s");
        strv_push(&argv, "-q");
        /* a simulation only reads; without this, apt-get -s as root still
         * takes dpkg's lock and would queue behind unattended-upgrades */
        strv_push(&argv, "-o");
        strv_push(&argv, "Debug::NoLocking=1");
        strv_push(&argv, "install");
        for (size_t i = 0; pkgs && pkgs[i]; i++)
                strv_push(&argv, pkgs[i]);

        buf_init(&b, QUERY_MAX);
        run_opts_init(&o);
        o.argv = (const char *const *)argv;
        o.timeout_ms = 10u * 60u * 1000u;
        o.line_max = 8192;
        o.on_line = collect_line;
        o.userdata = &b;
        r = run_command(&o, &res);
        out = buf_steal(&b);
        buf_release(&b);
        if (r < 0) {
                if (err && errlen)
                        run_describe(r, &res, "apt-get", err, errlen);
                return r;
        }

        for (char *line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char *name;
                bool up;

                if (parse_inst(line, &name, &up)) {
                        strv_push(up ? &upgraded : &fresh, name);
                        continue;
                }
                if (!startswith(line, "E: "))
                        continue;
                if (!missing[0] && apt_missing_package(line, missing, sizeof(missing)))
                        continue;
                if (!first_error[0])
                        snprintf(first_error, sizeof(first_error), "%s", line + 3);
        }
        if (missing[0]) {
                if (err && errlen)
                        snprintf(err, errlen, "%s", missing);
                return -ENOENT;
        }
        if (r != 0) {
                if (err && errlen) {
                        if (first_error[0])
                                snprintf(err, errlen, "%s", first_error);
                        else
                                run_describe(r, &res, "apt-get", err, errlen);
                }
                return -EIO;
        }
        if (!fresh)
                fresh = xcalloc(1, sizeof(char *));
        if (!upgraded)
                upgraded = xcalloc(1, sizeof(char *));
        strv_sort(fresh);
        strv_sort(upgraded);
        *ret_new = fresh;
        fresh = NULL;
        if (ret_upgraded) {
                *ret_upgraded = upgraded;
                upgraded = NULL;
        }
        return 0;
}

int apt_lock_holder(const char *lock_path, pid_t *ret_pid, char *ret_comm, size_t comm_size)
{
        _cleanup_close_ int fd = -1;
        struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
        char path[64];
        _cleanup_free_ char *comm = NULL;

        if (ret_comm && comm_size)
                ret_comm[0] = '\0';
        fd = open(lock_path ? lock_path : APT_LOCK_FRONTEND, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return errno == ENOENT ? 0 : -errno;
        /* dpkg and apt lock with fcntl(F_SETLK); F_GETLK reports the holder
         * without taking anything (a read-only fd may ask about a write lock) */
        if (fcntl(fd, F_GETLK, &fl) < 0)
                return -errno;
        if (fl.l_type == F_UNLCK)
                return 0;
        if (ret_pid)
                *ret_pid = fl.l_pid;
        if (ret_comm && comm_size && fl.l_pid > 0) {
                snprintf(path, sizeof(path), "/proc/%d/comm", (int)fl.l_pid);
                if (read_file(path, 256, &comm, NULL) >= 0)
                        snprintf(ret_comm, comm_size, "%s", strstrip(comm));
        }
        return 1;
}

/* The values of n apt configuration keys with one "apt-config shell V0 KEY0
 * V1 KEY1 ...", which prints VI='value' for each key that is set (each
 * call costs a start of apt's configuration parser): vals[i] gets the
 * value, "" when unset. 0, or -errno. */
static int apt_config_values(const char *const *keys, size_t n, char (*vals)[320])
{
        const char *argv[2 + 2 * 4 + 1] = { "apt-config", "shell" };
        static const char *const names[] = { "V0", "V1", "V2", "V3" };
        _cleanup_free_ char *out = NULL;
        char *line, *save = NULL;
        int r;

        if (n > ELEMENTSOF(names))
                return -EINVAL;
        for (size_t i = 0; i < n; i++) {
                argv[2 + 2 * i] = names[i];
                argv[3 + 2 * i] = keys[i];
                vals[i][0] = '\0';
        }
        argv[2 + 2 * n] = NULL;
        r = run_capture(argv, 4096, &out);
        if (r < 0)
                return r;
        if (r != 0)
                return -EIO;
        for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char *q;

                if (line[0] != 'V' || line[1] < '0' || line[1] >= (char)('0' + n) || line[2] != '=' ||
                    line[3] != '\'')
                        continue;
                q = strchr(line + 4, '\'');
                if (!q)
                        continue;
                *q = '\0';
                snprintf(vals[line[1] - '0'], sizeof(vals[0]), "%s", line + 4);
        }
        return 0;
}

int apt_proxy(const char *scheme, const char *host, char *buf, size_t size)
{
        /* the keys in the order apt takes them: a per-host setting (DIRECT
         * included), the scheme's, and for https the http proxy */
        char keys[3][320], vals[3][320];
        const char *k[3];
        size_t n = 0;
        int r;

        buf[0] = '\0';
        if (host && *host)
                snprintf(keys[n++], sizeof(keys[0]), "Acquire::%s::Proxy::%s", scheme, host);
        snprintf(keys[n++], sizeof(keys[0]), "Acquire::%s::Proxy", scheme);
        if (strcmp(scheme, "http") != 0)
                snprintf(keys[n++], sizeof(keys[0]), "Acquire::http::Proxy");
        for (size_t i = 0; i < n; i++)
                k[i] = keys[i];
        r = apt_config_values(k, n, vals);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n && !buf[0]; i++)
                snprintf(buf, size, "%s", vals[i]);
        if (strcasecmp(buf, "DIRECT") == 0)
                buf[0] = '\0';
        return 0;
}

/* "name:any (>= 1.0)" → "name" in buf. */
static void clause_name(const char *alt, char *buf, size_t size)
{
        size_t n = 0;

        while (*alt == ' ')
                alt++;
        while (alt[n] && alt[n] != ' ' && alt[n] != '(' && alt[n] != ':' && alt[n] != '[')
                n++;
        snprintf(buf, size, "%.*s", (int)n, alt);
}

int apt_missing_recommends(char *const *pkgs, char *const *installed, char *const *excluded,
                           char ***ret)
{
        _cleanup_strv_ char **argv = NULL, **want = NULL;
        _cleanup_free_ char *out = NULL;
        char *save = NULL;
        int r;

        *ret = NULL;
        strv_push(&argv, "dpkg-query");
        strv_push(&argv, "-W");
        /* the status too: a package the cut-off install only unpacked
         * (iU, iF, iH) counts, since apt will merely configure it and so
         * not add its Recommends either */
        strv_push(&argv, "-f=${db:Status-Abbrev}\t${Package}\t${Recommends}\n");
        for (size_t i = 0; pkgs && pkgs[i]; i++)
                strv_push(&argv, pkgs[i]);
        if (strv_length(argv) == 3) {
                *ret = xcalloc(1, sizeof(char *));
                return 0;
        }
        r = run_capture((const char *const *)argv, QUERY_MAX, &out);
        /* 1: some names unknown to dpkg, fine */
        if (r < 0)
                return r;
        if (r != 0 && r != 1)
                return -EIO;
        for (char *line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char *rec = strchr(line, '\t'), *csave = NULL;
                enum apt_pkg_state st = rec ? apt_pkg_state_parse(line, (size_t)(rec - line))
                                            : APT_PKG_ABSENT;

                /* unpacked at least: not absent, not only its conffiles */
                if (st != APT_PKG_HALF && st != APT_PKG_INSTALLED)
                        continue;
                rec = strchr(rec + 1, '\t');
                if (!rec)
                        continue;
                rec++;
                for (char *clause = strtok_r(rec, ",", &csave); clause;
                     clause = strtok_r(NULL, ",", &csave)) {
                        char first[128] = "", name[128], *asave = NULL;
                        bool satisfied = false;

                        for (char *alt = strtok_r(clause, "|", &asave); alt;
                             alt = strtok_r(NULL, "|", &asave)) {
                                clause_name(alt, name, sizeof(name));
                                if (!name[0])
                                        continue;
                                if (!first[0])
                                        snprintf(first, sizeof(first), "%s", name);
                                if (strv_contains(installed, name))
                                        satisfied = true;
                        }
                        if (satisfied || !first[0] || strv_contains(excluded, first) ||
                            strv_contains(want, first))
                                continue;
                        strv_push(&want, first);
                }
        }
        if (!want)
                want = xcalloc(1, sizeof(char *));
        strv_sort(want);
        *ret = want;
        want = NULL;
        return 0;
}
