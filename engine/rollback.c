/* rollback.c — see rollback.h.
 *
 * DESIGN: one function per undo kind. Each first looks at the system (with
 * commands found on PATH: dpkg and dpkg-query through apt.h's reader,
 * getent, systemctl, update-alternatives, ufw — so tests can stub them —
 * or with lstat/sha256 on the absolute paths of the journal) and returns 1
 * ("skipped") when there is nothing left to undo; only then does it act.
 * That makes every undo safe to run twice, which the write-ahead journal
 * needs: a change may have been journaled but never made, or undone just
 * before a crash.
 *
 * Commands run through run_command() with the default environment (no
 * debconf questions). Their lines go to env->on_line; the last few are kept
 * so a failure message can quote what the command said. Names taken from
 * the journal are checked before they become arguments (none may start with
 * '-', so none can be taken for an option).
 *
 * A deleted account's home is never removed with files in it that the run
 * did not make. The steps are undone newest first, so by the time the
 * account's own undo comes, every file and directory the run put in its
 * home has been removed or restored by a newer step, and what is left is
 * the skeleton useradd copied plus whatever the person (or their desktop
 * session) made. Anything that is not a skeleton copy means the home is
 * moved whole — one rename, nothing copied, so a home of any size is kept
 * in a moment and cannot half fail — into a root-only directory, and the
 * message says where. Directories the run made that now hold such files
 * cannot be removed by their own undo; the undo sees (env->plan) that a
 * later step deletes the account and leaves them to it instead of
 * failing. */
#include "rollback.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "safepath.h"

#include "apt.h"

#define ROLLBACK_TIMEOUT_DEFAULT_MS (30u * 60u * 1000u)
#define QUERY_MAX ((size_t)16 << 20)
#define RESTORE_MAX ((size_t)64 << 20)
#define TAIL_LINES 3
#define TAIL_LINE_MAX 200

/* What a command said last, for failure messages. */
struct cmd_ctx {
        const struct rollback_env *env;
        char tail[TAIL_LINES][TAIL_LINE_MAX];
        unsigned n_tail;              /* lines seen (ring index = n_tail % TAIL_LINES) */
        bool saw_nonexistent;         /* ufw: "Could not delete non-existent rule" */
};

/* run_line_fn: forwards a line to the caller and keeps it in the ring. */
static void cmd_on_line(void *userdata, enum run_stream stream, const char *line, size_t len,
                        bool truncated)
{
        struct cmd_ctx *c = userdata;
        size_t n;

        if (c->env && c->env->on_line)
                c->env->on_line(c->env->userdata, stream, line, len, truncated);
        if (stream != RUN_STDOUT && stream != RUN_STDERR)
                return;
        if (strstr(line, "non-existent rule"))
                c->saw_nonexistent = true;
        while (len > 0 && isspace((unsigned char)*line)) {
                line++;
                len--;
        }
        if (len == 0)
                return;
        n = len < TAIL_LINE_MAX - 1 ? len : TAIL_LINE_MAX - 1;
        memcpy(c->tail[c->n_tail % TAIL_LINES], line, n);
        c->tail[c->n_tail % TAIL_LINES][n] = '\0';
        c->n_tail++;
}

/* The kept lines joined with " / " (oldest first), "" when none. */
static void cmd_tail(const struct cmd_ctx *c, char *buf, size_t size)
{
        unsigned first = c->n_tail > TAIL_LINES ? c->n_tail - TAIL_LINES : 0;
        size_t used = 0;

        buf[0] = '\0';
        for (unsigned i = first; i < c->n_tail && used < size; i++) {
                int w = snprintf(buf + used, size - used, "%s%s", i > first ? " / " : "",
                                 c->tail[i % TAIL_LINES]);
                if (w < 0)
                        break;
                used += (size_t)w;
        }
}

/* Runs argv to completion, output to env->on_line. Returns like run_command(). */
static int cmd_run(const struct rollback_env *env, const char *const *argv, struct cmd_ctx *c)
{
        struct run_opts o;

        *c = (struct cmd_ctx){ .env = env };
        run_opts_init(&o);
        o.argv = argv;
        o.timeout_ms = env && env->timeout_ms ? env->timeout_ms : ROLLBACK_TIMEOUT_DEFAULT_MS;
        o.on_line = cmd_on_line;
        o.userdata = c;
        return run_command(&o, NULL);
}

/* "exited with status 100 (E: …)" / "could not be started: …" into buf. */
static void describe_result(int r, const struct cmd_ctx *c, char *buf, size_t size)
{
        char tail[TAIL_LINES * (TAIL_LINE_MAX + 3)];

        if (r < 0) {
                if (r == -ENOENT)
                        snprintf(buf, size, "could not be started: not found on PATH");
                else
                        snprintf(buf, size, "could not be started: %s", strerror(-r));
                return;
        }
        if (c)
                cmd_tail(c, tail, sizeof(tail));
        else
                tail[0] = '\0';
        if (tail[0])
                snprintf(buf, size, "exited with status %d (%s)", r, tail);
        else
                snprintf(buf, size, "exited with status %d", r);
}

/* Fills msg for a failed command and returns the error to report. */
static int fail_cmd(char *msg, size_t msglen, const char *what, int r, const struct cmd_ctx *c)
{
        char why[TAIL_LINES * (TAIL_LINE_MAX + 3) + 64];

        describe_result(r, c, why, sizeof(why));
        snprintf(msg, msglen, "%s %s; fix the cause and run the rollback again", what, why);
        return r < 0 ? r : -EIO;
}

/* A name safe to pass as an argument: non-empty, no leading '-', only
 * characters of the given set besides alphanumerics. */
static bool name_ok(const char *s, const char *extra)
{
        if (!s || !*s || *s == '-')
                return false;
        for (const char *p = s; *p; p++)
                if (!isalnum((unsigned char)*p) && !strchr(extra, *p))
                        return false;
        return true;
}

/* An absolute path without ".." components. */
static bool abs_path_ok(const char *s)
{
        if (!s || s[0] != '/')
                return false;
        for (const char *p = s; (p = strstr(p, "..")); p += 2)
                if (p[-1] == '/' && (p[2] == '/' || p[2] == '\0'))
                        return false;
        return true;
}

/* Runs a query (stdout captured, stderr dropped). Returns like run_capture(). */
static int query(const char *const *argv, char **ret_out)
{
        return run_capture(argv, QUERY_MAX, ret_out);
}

/* The first line of s, trimmed, in buf. */
static void first_line(const char *s, char *buf, size_t size)
{
        size_t n = strcspn(s ? s : "", "\n");
        if (n >= size)
                n = size - 1;
        memcpy(buf, s ? s : "", n);
        buf[n] = '\0';
        strstrip(buf);
}

/* ---- packages ---------------------------------------------------------- */

/* Which of the listed packages have anything left to purge: every state
 * of apt.h's reader but ABSENT (installed, half-installed, or only
 * configuration files); *ret_protected says whether apt guards one of them. */
static int packages_installed(char *const *list, char ***ret, bool *ret_protected, char *msg,
                              size_t msglen)
{
        _cleanup_strv_ char **found = NULL;
        struct apt_pkg_list l;
        int r;

        r = apt_pkg_list_query((const char *const *)list, &l);
        if (r < 0)
                return fail_cmd(msg, msglen, "dpkg-query (which packages are installed)", r, NULL);
        *ret_protected = false;
        for (size_t i = 0; i < l.n; i++) {
                if (l.v[i].state == APT_PKG_ABSENT)
                        continue;
                if (l.v[i].guarded)
                        *ret_protected = true;
                if (!strv_contains(found, l.v[i].name))
                        strv_push(&found, l.v[i].name);
        }
        apt_pkg_list_release(&l);
        *ret = TAKE_PTR(found);
        return 0;
}

/* The /etc directories a systemd service of the packages makes when it
 * starts (ConfigurationDirectory=NAME gives /etc/NAME): no package lists
 * them, and the packages' own purge leaves them (colord's /etc/colord,
 * made when the first desktop session starts colord). */
static void unit_config_dirs(const char *unit_path, char ***dirs)
{
        _cleanup_free_ char *text = NULL;
        char *save = NULL;

        if (read_file(unit_path, 256u << 10, &text, NULL) < 0)
                return;
        for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char *v, *w = NULL;

                if (!startswith(line, "ConfigurationDirectory="))
                        continue;
                v = line + strlen("ConfigurationDirectory=");
                for (char *name = strtok_r(v, " \t", &w); name; name = strtok_r(NULL, " \t", &w)) {
                        _cleanup_free_ char *dir = NULL;
                        struct stat st;

                        name[strcspn(name, ":")] = '\0';   /* NAME:LINK */
                        if (!name[0] || name[0] == '/' || strstr(name, "..") ||
                            !name_ok(name, "._-/@+"))
                                continue;
                        dir = xasprintf("/etc/%s", name);
                        if (lstat(dir, &st) == 0 && S_ISDIR(st.st_mode) && !strv_contains(*dirs, dir))
                                strv_push(dirs, dir);
                }
        }
}

/* Directories under /etc that dpkg lists for the packages, or that their
 * services make (before they are purged), deepest first. A bulk purge can
 * leave one behind empty: the package that owns it is purged while another
 * one's files are still in it (xml-core's /etc/xml). */
static char **owned_etc_dirs(char *const *pkgs)
{
        _cleanup_strv_ char **argv = NULL;
        _cleanup_free_ char *out = NULL;
        char **dirs = NULL, *save = NULL;
        struct stat st;
        int r;

        strv_push(&argv, "dpkg-query");
        strv_push(&argv, "-L");
        for (size_t i = 0; pkgs[i]; i++)
                strv_push(&argv, pkgs[i]);
        r = query((const char *const *)argv, &out);
        if (r < 0 || !out)
                return NULL;
        for (char *line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                if (startswith(line, "/etc/") && lstat(line, &st) == 0 && S_ISDIR(st.st_mode) &&
                    !strv_contains(dirs, line))
                        strv_push(&dirs, line);
                else if ((startswith(line, "/usr/lib/systemd/system/") ||
                          startswith(line, "/lib/systemd/system/")) &&
                         strlen(line) > 8 && strcmp(line + strlen(line) - 8, ".service") == 0)
                        unit_config_dirs(line, &dirs);
        }
        if (dirs) {
                /* deepest first: reverse order of a sorted list puts
                 * /etc/a/b before /etc/a */
                size_t n = strv_length(dirs);
                strv_sort(dirs);
                for (size_t i = 0; i < n / 2; i++) {
                        char *t = dirs[i];
                        dirs[i] = dirs[n - 1 - i];
                        dirs[n - 1 - i] = t;
                }
        }
        return dirs;
}

static bool dir_is_empty(const char *path)
{
        DIR *d = opendir(path);
        struct dirent *de;
        bool empty = true;

        if (!d)
                return false;
        while (empty && (de = readdir(d)))
                empty = strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0;
        closedir(d);
        return empty;
}

/* After the purge: those directories that are empty and that no installed
 * package lists any more are removed. Emptiness is looked at first: most
 * of them are gone or still hold other packages' files, and dpkg need not
 * be asked about those. */
static size_t remove_orphan_dirs(char *const *dirs)
{
        size_t removed = 0;

        for (size_t i = 0; dirs && dirs[i]; i++) {
                const char *const argv[] = { "dpkg-query", "-S", dirs[i], NULL };
                _cleanup_free_ char *out = NULL;

                if (!dir_is_empty(dirs[i]))
                        continue;
                if (query(argv, &out) == 0)
                        continue;   /* still someone's */
                if (rmdir(dirs[i]) == 0)
                        removed++;
        }
        return removed;
}

static int hold_ask(struct initramfs_rb_hold *h);

/* purge_packages: purge those still installed. */
static int undo_purge_packages(const struct rollback_env *env, const struct undo *u, char *msg,
                               size_t msglen)
{
        _cleanup_strv_ char **installed = NULL;
        _cleanup_strv_ char **argv = NULL, **dirs = NULL;
        struct cmd_ctx c;
        size_t n_listed = strv_length(u->list), n, n_dirs;
        bool guarded = false;
        int r;

        if (n_listed == 0) {
                snprintf(msg, msglen, "no packages listed");
                return 1;
        }
        for (size_t i = 0; u->list[i]; i++)
                if (!name_ok(u->list[i], "+.-:")) {
                        snprintf(msg, msglen, "refusing to purge \"%s\": not a package name",
                                 u->list[i]);
                        return -EINVAL;
                }
        r = packages_installed(u->list, &installed, &guarded, msg, msglen);
        if (r < 0)
                return r;
        n = strv_length(installed);
        if (n == 0) {
                snprintf(msg, msglen, "none of the %zu package%s is installed any more", n_listed,
                         n_listed == 1 ? "" : "s");
                return 1;
        }

        strv_push(&argv, "apt-get");
        strv_push(&argv, "-y");
        strv_push(&argv, "-q");
        strv_push(&argv, "-o");
        strv_push(&argv, "Dpkg::Options::=--force-confdef");
        strv_push(&argv, "-o");
        strv_push(&argv, "Dpkg::Options::=--force-confold");
        /* No --force-unsafe-io (apt_argv_unpack()): it only changes how dpkg
         * unpacks, and a purge unpacks nothing; dpkg keeps its defaults. */
        /* Every listed package was new in this run (the install's
         * simulation said so), so a guarded one among them (Debian 13's
         * e2fsprogs, "Important: yes", comes with udisks2) was not there
         * before either: removing it is what restores the server. */
        if (guarded)
                strv_push(&argv, "--allow-remove-essential");
        strv_push(&argv, "purge");
        for (size_t i = 0; installed[i]; i++)
                strv_push(&argv, installed[i]);
        dirs = owned_etc_dirs(installed);
        /* a package's removal may ask for a new initramfs (initramfs-tools'
         * trigger); during the rollback's hold it is made once, at the end */
        if (env && env->initramfs_hold && env->initramfs_hold->on) {
                r = hold_ask(env->initramfs_hold);
                if (r < 0) {
                        snprintf(msg, msglen, "cannot write %s: %s; run the rollback again",
                                 env->initramfs_hold->record, strerror(-r));
                        return r;
                }
        }
        r = cmd_run(env, (const char *const *)argv, &c);
        if (r != 0)
                return fail_cmd(msg, msglen, "apt-get purge", r, &c);
        n_dirs = remove_orphan_dirs(dirs);

        /* No autoremove: the list is exactly what the install added, and
         * an autoremove would also take packages that were orphaned before
         * this run, which a rollback must not touch. */
        if (n < n_listed)
                snprintf(msg, msglen, "purged %zu of %zu packages (the others were already gone)",
                         n, n_listed);
        else
                snprintf(msg, msglen, "purged %zu package%s", n, n == 1 ? "" : "s");
        if (n_dirs > 0) {
                size_t len = strlen(msg);
                snprintf(msg + len, msglen - len, "; removed %zu empty director%s they left in /etc",
                         n_dirs, n_dirs == 1 ? "y" : "ies");
        }
        return 0;
}

/* ---- home directories -------------------------------------------------- */

#define ACCOUNT_CHARS "._-$"
#define KEPT_HOMES "kept-homes"
#define KEPT_ASIDE ".vps-provision-kept"
#define SURVEY_DEPTH_MAX 128
#define DEFAULT_STATE_DIR "/var/lib/vps-provision"
#define DEFAULT_SKEL_DIR "/etc/skel"

/* 1 = exists, 0 = does not (getent exit 2), -errno with msg on failure. */
static int getent(const char *db, const char *name, char **ret_out, char *msg, size_t msglen)
{
        const char *const argv[] = { "getent", db, name, NULL };
        _cleanup_free_ char *out = NULL;
        char what[64];
        int r;

        r = query(argv, &out);
        if (r == 0) {
                if (ret_out)
                        *ret_out = TAKE_PTR(out);
                return 1;
        }
        if (r == 2)
                return 0;
        snprintf(what, sizeof(what), "getent %s", db);
        return fail_cmd(msg, msglen, what, r, NULL);
}

/* The home directory (sixth field) of a passwd line, in buf; "" when the
 * line has none or it is not an absolute path. */
static void passwd_home(const char *line, char *buf, size_t size)
{
        const char *p = line ? line : "";
        size_t n;

        buf[0] = '\0';
        for (int field = 0; field < 5; field++) {
                p = strchr(p, ':');
                if (!p)
                        return;
                p++;
        }
        n = strcspn(p, ":\n");
        if (n == 0 || n >= size || p[0] != '/')
                return;
        memcpy(buf, p, n);
        buf[n] = '\0';
        while (n > 1 && buf[n - 1] == '/')
                buf[--n] = '\0';
}

/* Whether path lies inside dir (not dir itself). */
static bool path_inside(const char *path, const char *dir)
{
        size_t n = strlen(dir);

        if (n <= 1)
                return false;   /* "/" is nobody's home to keep */
        return strncmp(path, dir, n) == 0 && path[n] == '/' && path[n + 1];
}

/* Whether a step after e in env->plan deletes a user whose home holds
 * path; the user's name goes to owner. */
static bool home_deleted_later(const struct rollback_env *env, const struct journal_entry *e,
                               const char *path, char *owner, size_t owner_size)
{
        bool after = false;

        if (!env || !env->plan)
                return false;
        for (size_t i = 0; i < env->n_plan; i++) {
                const struct journal_entry *x = env->plan[i];
                _cleanup_free_ char *line = NULL;
                char home[4096], ignored[256];

                if (!after) {
                        after = x == e || x->seq == e->seq;
                        continue;
                }
                if (x->undo.kind != UNDO_DELETE_USER || !name_ok(x->undo.name, ACCOUNT_CHARS) ||
                    strcmp(x->undo.name, "root") == 0)
                        continue;
                if (getent("passwd", x->undo.name, &line, ignored, sizeof(ignored)) != 1)
                        continue;
                passwd_home(line, home, sizeof(home));
                if (home[0] && path_inside(path, home)) {
                        strscpy(owner, owner_size, x->undo.name);
                        return true;
                }
        }
        return false;
}

/* What a home holds beyond the skeleton. */
struct survey {
        uint64_t entries;   /* anything that is not a skeleton copy */
        uint64_t files;     /* of those, everything but directories */
        uint64_t bytes;     /* the regular files' sizes */
};

/* Whether the regular files a and b (same size) have the same bytes. */
static bool same_bytes(int dfd, const char *name, int sdfd)
{
        _cleanup_close_ int a = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        _cleanup_close_ int b = openat(sdfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        char x[8192], y[8192];

        if (a < 0 || b < 0)
                return false;
        for (;;) {
                ssize_t n = read(a, x, sizeof(x));
                ssize_t m = n > 0 ? read(b, y, (size_t)n) : read(b, y, 1);

                if (n < 0 || m < 0 || n != m)
                        return false;
                if (n == 0)
                        return true;
                if (memcmp(x, y, (size_t)n) != 0)
                        return false;
        }
}

/* Whether the symlinks name in dfd and sdfd point at the same text. */
static bool same_link(int dfd, const char *name, int sdfd)
{
        char a[4096], b[4096];
        ssize_t n = readlinkat(dfd, name, a, sizeof(a));
        ssize_t m = readlinkat(sdfd, name, b, sizeof(b));

        return n >= 0 && n == m && memcmp(a, b, (size_t)n) == 0;
}

/* Adds to s everything in directory dfd that is not a copy of the same
 * name in the skeleton directory sdfd (-1: the skeleton has no such
 * directory). Never follows a symlink. What cannot be read counts as
 * not a copy. */
static void survey_dir(int dfd, int sdfd, unsigned depth, struct survey *s)
{
        int fd = dup(dfd);
        DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
        struct dirent *de;

        if (!d) {
                if (fd >= 0)
                        close(fd);
                s->entries++;
                return;
        }
        while ((de = readdir(d))) {
                struct stat st, sst;
                bool in_skel;

                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                        s->entries++;
                        s->files++;
                        continue;
                }
                in_skel = sdfd >= 0 && fstatat(sdfd, de->d_name, &sst, AT_SYMLINK_NOFOLLOW) == 0;
                if (S_ISDIR(st.st_mode)) {
                        _cleanup_close_ int sub = -1, ssub = -1;

                        if (!in_skel || !S_ISDIR(sst.st_mode))
                                s->entries++;
                        else
                                ssub = openat(sdfd, de->d_name,
                                              O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        sub = openat(dfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        if (sub < 0 || depth >= SURVEY_DEPTH_MAX) {
                                s->entries++;
                                continue;
                        }
                        survey_dir(sub, ssub, depth + 1, s);
                        continue;
                }
                if (S_ISREG(st.st_mode) && in_skel && S_ISREG(sst.st_mode) &&
                    st.st_size == sst.st_size && same_bytes(dfd, de->d_name, sdfd))
                        continue;
                if (S_ISLNK(st.st_mode) && in_skel && S_ISLNK(sst.st_mode) &&
                    same_link(dfd, de->d_name, sdfd))
                        continue;
                s->entries++;
                s->files++;
                if (S_ISREG(st.st_mode))
                        s->bytes += (uint64_t)st.st_size;
        }
        closedir(d);
}

/* "3 files, 1.2 MiB" for a message. */
static void describe_survey(const struct survey *s, char *buf, size_t size)
{
        static const char *const units[] = { "bytes", "KiB", "MiB", "GiB", "TiB" };
        double v = (double)s->bytes;
        unsigned u = 0;

        while (v >= 1024 && u + 1 < ELEMENTSOF(units)) {
                v /= 1024;
                u++;
        }
        if (u == 0)
                snprintf(buf, size, "%" PRIu64 " file%s, %" PRIu64 " bytes", s->files,
                         s->files == 1 ? "" : "s", s->bytes);
        else
                snprintf(buf, size, "%" PRIu64 " file%s, %.1f %s", s->files,
                         s->files == 1 ? "" : "s", v, units[u]);
}

/* Decodes the octal escapes (\040 …) of a mountinfo field in place. */
static void unescape_mountinfo(char *s)
{
        char *w = s;

        for (char *r = s; *r; r++) {
                if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' &&
                    r[3] >= '0' && r[3] <= '7') {
                        *w++ = (char)((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
                        r += 3;
                } else
                        *w++ = *r;
        }
        *w = '\0';
}

/* Detaches whatever is mounted inside home (xrdp's thinclient_drives, a
 * FUSE mount of the person's session), deepest first, so the home can be
 * moved without dragging a dead mount along. Returns the number of mounts
 * found that could not be detached. */
static unsigned unmount_inside(const char *home)
{
        _cleanup_free_ char *info = NULL;
        _cleanup_strv_ char **points = NULL;
        unsigned left = 0;
        char *save = NULL;

        if (read_file("/proc/self/mountinfo", QUERY_MAX, &info, NULL) < 0)
                return 0;
        for (char *line = strtok_r(info, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char *field = line;

                /* id parent major:minor root MOUNTPOINT … */
                for (int i = 0; i < 4 && field; i++) {
                        field = strchr(field, ' ');
                        if (field)
                                field++;
                }
                if (!field)
                        continue;
                field[strcspn(field, " ")] = '\0';
                unescape_mountinfo(field);
                if (path_inside(field, home) && !strv_contains(points, field))
                        strv_push(&points, field);
        }
        if (!points)
                return 0;
        strv_sort(points);
        for (size_t n = strv_length(points); n > 0; n--)
                if (umount2(points[n - 1], MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
                        left++;
        return left;
}

/* Opens (creating it 0700 when missing) the root-only directory path and
 * checks it is one: a directory, not a symlink, owned by us, mode 0700. */
static int open_private_dir(const char *path)
{
        struct stat st;
        int fd;

        if (mkdir(path, 0700) < 0 && errno != EEXIST)
                return -errno;
        fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0 || st.st_uid != geteuid() || (st.st_mode & 07777) != 0700) {
                close(fd);
                return -EPERM;
        }
        return fd;
}

/* Moves home into directory dir as USER-SESSION (or USER-SESSION.N when
 * taken). ret_path gets the new path. */
static int move_into(const char *home, const char *dir, const char *user, const char *session,
                     char *ret_path, size_t size)
{
        _cleanup_close_ int dfd = open_private_dir(dir);

        if (dfd < 0)
                return dfd;
        for (unsigned i = 0; i < 100; i++) {
                char name[256];
                int w = i == 0 ? snprintf(name, sizeof(name), "%s-%s", user, session)
                               : snprintf(name, sizeof(name), "%s-%s.%u", user, session, i);

                if (w < 0 || (size_t)w >= sizeof(name))
                        return -ENAMETOOLONG;
                if (renameat(AT_FDCWD, home, dfd, name) < 0) {
                        if (errno == EEXIST || errno == ENOTEMPTY)
                                continue;
                        return -errno;
                }
                (void)fsync(dfd);
                (void)fsync_dir_of(home);
                w = snprintf(ret_path, size, "%s/%s", dir, name);
                return w < 0 || (size_t)w >= size ? -ENAMETOOLONG : 0;
        }
        return -EEXIST;
}

/* Keeps the home of user: moved whole into STATE_DIR/kept-homes, or into
 * HOME's parent/.vps-provision-kept when that is another file system. */
static int keep_home(const struct rollback_env *env, const char *home, const char *user,
                     const char *session, char *ret_path, size_t size)
{
        char dir[4096], parent[4096];
        char *slash;
        int r;

        snprintf(dir, sizeof(dir), "%s", env->state_dir ? env->state_dir : DEFAULT_STATE_DIR);
        r = mkdir_p(dir, 0700);
        if (r < 0)
                return r;
        strscpy(dir + strlen(dir), sizeof(dir) - strlen(dir), "/" KEPT_HOMES);
        r = move_into(home, dir, user, session, ret_path, size);
        if (r != -EXDEV)
                return r;
        /* another file system: next to the home, never a copy */
        strscpy(parent, sizeof(parent), home);
        slash = strrchr(parent, '/');
        if (!slash)
                return -EXDEV;
        if (slash == parent)
                slash[1] = '\0';
        else
                *slash = '\0';
        snprintf(dir, sizeof(dir), "%s%s" KEPT_ASIDE, parent, strcmp(parent, "/") ? "/" : "");
        return move_into(home, dir, user, session, ret_path, size);
}

/* ---- files ------------------------------------------------------------- */

/* Opens the directory that holds path without following a symlink that
 * someone other than root could have made (safepath.h). 0; 1 when the
 * parent is gone (nothing to undo, msg says so); 2 when such a link lies
 * in the home of a user a later step deletes (left to that step, msg says
 * so); -errno with msg. */
static int open_target(const struct rollback_env *env, const struct journal_entry *e,
                       const char *path, struct safepath *ret, char *msg, size_t msglen)
{
        char why[512], owner[64];
        int r = safepath_open(path, ret, why, sizeof(why));

        if (r == -ENOENT) {
                snprintf(msg, msglen, "%s is already gone", path);
                return 1;
        }
        if (r == -ELOOP && home_deleted_later(env, e, path, owner, sizeof(owner))) {
                snprintf(msg, msglen, "%s: %s; left to the later step that deletes user %s, which "
                         "keeps that home directory whole", path, why, owner);
                return 2;
        }
        if (r == -ELOOP) {
                snprintf(msg, msglen, "%s was left alone: %s (it could point anywhere); look at "
                         "it and remove it by hand if it is vps-provision's", path, why);
                return r;
        }
        if (r < 0) {
                snprintf(msg, msglen, "cannot reach %s: %s", path, strerror(-r));
                return r;
        }
        return 0;
}

/* sha256 of the regular file name in dir, read without following a link. */
static int sha256_at(int dir, const char *name, char ret[SHA256_HEX])
{
        _cleanup_close_ int fd = openat(dir, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        struct sha256_ctx *c;
        char chunk[65536];
        ssize_t n;

        if (fd < 0)
                return -errno;
        c = sha256_begin();
        while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        int r = -errno;
                        sha256_end(c, ret);
                        return r;
                }
                sha256_add(c, chunk, (size_t)n);
        }
        sha256_end(c, ret);
        return 0;
}

/* Moves p aside to NAME.vps-provision-modified (or .N when taken), in the
 * same directory; aside gets the new path. */
static int move_aside(const struct safepath *p, const char *path, char *aside, size_t size)
{
        for (unsigned i = 0; i < 100; i++) {
                char name[NAME_MAX + 1];
                struct stat st;
                int w = i == 0 ? snprintf(name, sizeof(name), "%s.vps-provision-modified", p->name)
                               : snprintf(name, sizeof(name), "%s.vps-provision-modified.%u",
                                          p->name, i);

                if (w < 0 || (size_t)w >= sizeof(name))
                        return -ENAMETOOLONG;
                if (fstatat(p->dir, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
                        continue;
                if (renameat(p->dir, p->name, p->dir, name) < 0)
                        return -errno;
                w = snprintf(aside, size, "%s.vps-provision-modified%s", path,
                             i == 0 ? "" : strrchr(name, '.'));
                if (w < 0 || (size_t)w >= size)
                        aside[0] = '\0';
                return safepath_sync_dir(p);
        }
        return -EEXIST;
}

/* fstatat() of p (path, for messages) for an undo that removes it: 0 with
 * st filled, 1 when it is gone already, or -errno; msg says which but for 0. */
static int look_at(const struct safepath *p, const char *path, struct stat *st, char *msg,
                   size_t msglen)
{
        int r;

        if (fstatat(p->dir, p->name, st, AT_SYMLINK_NOFOLLOW) == 0)
                return 0;
        if (errno == ENOENT) {
                snprintf(msg, msglen, "%s is already gone", path);
                return 1;
        }
        r = -errno;
        snprintf(msg, msglen, "cannot look at %s: %s", path, strerror(-r));
        return r;
}

/* remove_file: unlink what we wrote; a file changed since is moved aside. */
static int undo_remove_file(const struct rollback_env *env, const struct journal_entry *e,
                            const struct undo *u, char *msg, size_t msglen)
{
        _cleanup_safepath_ struct safepath p = { .dir = -1 };
        struct stat st;
        char have[SHA256_HEX];
        char aside[4096];
        int r;

        if (!abs_path_ok(u->path)) {
                snprintf(msg, msglen, "refusing to remove \"%s\": not an absolute path",
                         u->path ? u->path : "");
                return -EINVAL;
        }
        r = open_target(env, e, u->path, &p, msg, msglen);
        if (r != 0)
                return r > 0 ? 1 : r;
        /* a run killed while writing it leaves its temp file too */
        (void)atomic_leftovers_remove_at(p.dir, p.name);
        r = look_at(&p, u->path, &st, msg, msglen);
        if (r != 0)
                return r;
        if (S_ISDIR(st.st_mode)) {
                snprintf(msg, msglen, "%s is now a directory, not the file vps-provision wrote; "
                         "left in place", u->path);
                return -EISDIR;
        }
        /* Remove only what we wrote: a file changed since is kept aside. */
        if (S_ISREG(st.st_mode) && u->sha256[0]) {
                r = sha256_at(p.dir, p.name, have);
                if (r < 0) {
                        snprintf(msg, msglen, "cannot read %s: %s", u->path, strerror(-r));
                        return r;
                }
                if (strcmp(have, u->sha256) != 0) {
                        r = move_aside(&p, u->path, aside, sizeof(aside));
                        if (r < 0) {
                                snprintf(msg, msglen, "%s was changed since vps-provision wrote it "
                                         "and could not be moved aside: %s", u->path, strerror(-r));
                                return r;
                        }
                        snprintf(msg, msglen, "%s was changed since vps-provision wrote it: "
                                 "moved aside to %s", u->path, aside);
                        return 0;
                }
        }
        if (unlinkat(p.dir, p.name, 0) < 0) {
                r = -errno;
                snprintf(msg, msglen, "cannot remove %s: %s", u->path, strerror(errno));
                return r;
        }
        (void)safepath_sync_dir(&p);
        snprintf(msg, msglen, "removed %s", u->path);
        return 0;
}

/* restore_file: put the backup back (content, mode, owner) if it is intact. */
static int undo_restore_file(const struct rollback_env *env, const struct journal_entry *e,
                             const struct undo *u, char *msg, size_t msglen)
{
        _cleanup_safepath_ struct safepath p = { .dir = -1 };
        _cleanup_free_ char *data = NULL;
        char have[SHA256_HEX];
        struct stat st;
        size_t len = 0;
        mode_t mode = u->mode & 07777;
        int r;

        if (!abs_path_ok(u->path) || !abs_path_ok(u->backup)) {
                snprintf(msg, msglen, "refusing to restore \"%s\" from \"%s\": not absolute paths",
                         u->path ? u->path : "", u->backup ? u->backup : "");
                return -EINVAL;
        }
        if (!u->sha256[0]) {
                snprintf(msg, msglen, "no checksum of the backup of %s in the journal; "
                         "%s was left as it is", u->path, u->path);
                return -EINVAL;
        }
        if (lstat(u->backup, &st) < 0 || !S_ISREG(st.st_mode)) {
                snprintf(msg, msglen, "the backup %s of %s is missing; %s was left as it is "
                         "(restore it by hand if you have another copy)",
                         u->backup, u->path, u->path);
                return -ENOENT;
        }
        r = read_file(u->backup, RESTORE_MAX, &data, &len);
        if (r < 0) {
                snprintf(msg, msglen, "cannot read the backup %s of %s: %s; %s was left as it is",
                         u->backup, u->path, strerror(-r), u->path);
                return r;
        }
        sha256_hex(data, len, have);
        if (strcmp(have, u->sha256) != 0) {
                snprintf(msg, msglen, "the backup %s does not match the journal (sha256 %.12s…, "
                         "expected %.12s…): it was changed or damaged; %s was left as it is",
                         u->backup, have, u->sha256, u->path);
                return -EBADMSG;
        }
        r = open_target(env, e, u->path, &p, msg, msglen);
        if (r == 1)
                /* the directory is gone: nothing to restore into */
                snprintf(msg, msglen, "the directory of %s is gone; nothing to restore", u->path);
        if (r != 0)
                return r > 0 ? 1 : r;

        /* Already as in the backup (content, mode, owner)? */
        if (fstatat(p.dir, p.name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
            (st.st_mode & 07777) == mode && st.st_uid == u->uid && st.st_gid == u->gid &&
            sha256_at(p.dir, p.name, have) == 0 && strcmp(have, u->sha256) == 0) {
                snprintf(msg, msglen, "%s already matches its backup", u->path);
                return 1;
        }
        r = safepath_write(&p, data, len, mode, u->uid, u->gid);
        if (r < 0) {
                snprintf(msg, msglen, "cannot restore %s from %s: %s", u->path, u->backup,
                         strerror(-r));
                return r;
        }
        snprintf(msg, msglen, "restored %s from %s", u->path, u->backup);
        return 0;
}

/* remove_dir: rmdir when empty; a directory with other files is left and
 * reported, or left to a later step that deletes the home it is in. */
static int undo_remove_dir(const struct rollback_env *env, const struct journal_entry *e,
                           const struct undo *u, char *msg, size_t msglen)
{
        _cleanup_safepath_ struct safepath p = { .dir = -1 };
        char owner[64];
        struct stat st;
        int r;

        if (!abs_path_ok(u->path) || strcmp(u->path, "/") == 0) {
                snprintf(msg, msglen, "refusing to remove directory \"%s\"",
                         u->path ? u->path : "");
                return -EINVAL;
        }
        r = open_target(env, e, u->path, &p, msg, msglen);
        if (r != 0)
                return r > 0 ? 1 : r;
        r = look_at(&p, u->path, &st, msg, msglen);
        if (r != 0)
                return r;
        if (!S_ISDIR(st.st_mode)) {
                snprintf(msg, msglen, "%s is not a directory any more; left in place", u->path);
                return -ENOTDIR;
        }
        if (unlinkat(p.dir, p.name, AT_REMOVEDIR) < 0) {
                r = -errno;
                if ((errno == ENOTEMPTY || errno == EEXIST) &&
                    home_deleted_later(env, e, u->path, owner, sizeof(owner))) {
                        snprintf(msg, msglen, "%s is not empty (it holds files vps-provision did "
                                 "not make); left to the later step that deletes user %s, which "
                                 "keeps that home directory whole", u->path, owner);
                        return 1;
                }
                if (errno == ENOTEMPTY || errno == EEXIST)
                        snprintf(msg, msglen, "%s is not empty (it holds files vps-provision did "
                                 "not make); left in place: remove it by hand if you do not need "
                                 "them", u->path);
                else
                        snprintf(msg, msglen, "cannot remove directory %s: %s", u->path,
                                 strerror(errno));
                return r;
        }
        (void)safepath_sync_dir(&p);
        snprintf(msg, msglen, "removed directory %s", u->path);
        return 0;
}

/* remove_apt_source: unlink the source file and its keyrings. */
static int undo_remove_apt_source(const struct undo *u, char *msg, size_t msglen)
{
        _cleanup_strv_ char **paths = NULL;
        size_t removed = 0;

        strv_push(&paths, u->path ? u->path : "");
        for (size_t i = 0; u->list && u->list[i]; i++)
                strv_push(&paths, u->list[i]);
        for (size_t i = 0; paths[i]; i++)
                if (!abs_path_ok(paths[i])) {
                        snprintf(msg, msglen, "refusing to remove \"%s\": not an absolute path",
                                 paths[i]);
                        return -EINVAL;
                }
        for (size_t i = 0; paths[i]; i++) {
                struct stat st;
                int r;

                (void)atomic_leftovers_remove(paths[i]);
                if (lstat(paths[i], &st) < 0) {
                        if (errno == ENOENT)
                                continue;
                        r = -errno;
                        snprintf(msg, msglen, "cannot look at %s: %s", paths[i], strerror(errno));
                        return r;
                }
                if (S_ISDIR(st.st_mode)) {
                        snprintf(msg, msglen, "%s is a directory, not an apt source or keyring; "
                                 "left in place", paths[i]);
                        return -EISDIR;
                }
                if (unlink(paths[i]) < 0) {
                        r = -errno;
                        snprintf(msg, msglen, "cannot remove %s: %s", paths[i], strerror(errno));
                        return r;
                }
                (void)fsync_dir_of(paths[i]);
                removed++;
        }
        if (removed == 0) {
                snprintf(msg, msglen, "apt source %s and its keyrings are already gone", u->path);
                return 1;
        }
        snprintf(msg, msglen, "removed apt source %s (%zu file%s)", u->path, removed,
                 removed == 1 ? "" : "s");
        return 0;
}

/* ---- users and groups -------------------------------------------------- */

/* Looks at the home of user (its processes ended) and, when it holds
 * anything that is not a skeleton copy, moves it whole out of userdel's
 * way. 0 = nothing of the person's there (or no home), 1 = kept (kept
 * says where and what), -errno with msg when it cannot be kept. */
static int keep_home_if_used(const struct rollback_env *env, const struct journal_entry *e,
                             const char *user, const char *home, char *kept, size_t kept_size,
                             char *msg, size_t msglen)
{
        const char *skel = env && env->skel_dir ? env->skel_dir : DEFAULT_SKEL_DIR;
        const char *session = e->session_id && name_ok(e->session_id, "-_.") ? e->session_id
                                                                                 : "unknown";
        _cleanup_close_ int hfd = -1, sfd = -1;
        struct survey s = { 0 };
        char what[96], where[4096];
        struct stat st;
        unsigned mounts;
        int r;

        if (!home[0] || strcmp(home, "/") == 0 || lstat(home, &st) < 0 || !S_ISDIR(st.st_mode))
                return 0;   /* no home of its own to lose (a symlink is not followed) */
        hfd = open(home, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (hfd < 0) {
                r = -errno;
                snprintf(msg, msglen, "cannot look into %s's home directory %s: %s; the account "
                         "was left in place", user, home, strerror(-r));
                return r;
        }
        sfd = open(skel, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        survey_dir(hfd, sfd, 0, &s);
        if (s.entries == 0)
                return 0;

        mounts = unmount_inside(home);
        describe_survey(&s, what, sizeof(what));
        if (mounts > 0) {
                snprintf(msg, msglen, "%s's home directory %s holds files vps-provision did not "
                         "make (%s) and %u mount%s that could not be detached; the account and "
                         "its home were left in place: unmount them and run the rollback again",
                         user, home, what, mounts, mounts == 1 ? "" : "s");
                return -EBUSY;
        }
        r = keep_home(env, home, user, session, where, sizeof(where));
        if (r < 0) {
                snprintf(msg, msglen, "%s's home directory %s holds files vps-provision did not "
                         "make (%s) and could not be moved aside (%s); the account and its home "
                         "were left in place: copy what you need out of it, then run the rollback "
                         "again", user, home, what, strerror(-r));
                return r;
        }
        snprintf(kept, kept_size, "The home directory of %s held files vps-provision did not make "
                 "(%s): it was kept, whole, in %s (readable by root only).", user, what, where);
        return 1;
}

/* Before deleting the account name of kind "user" or "group" (database db
 * of getent): never root or a name that is not an account name. 0 when it
 * exists (ret_line, may be NULL, gets getent's line), 1 when it is gone
 * already (msg says so), or -errno (msg says why). */
static int account_to_delete(const char *kind, const char *db, const char *name, char **ret_line,
                             char *msg, size_t msglen)
{
        int r;

        if (!name_ok(name, ACCOUNT_CHARS) || strcmp(name, "root") == 0) {
                snprintf(msg, msglen, "refusing to delete %s \"%s\"", kind, name ? name : "");
                return -EINVAL;
        }
        r = getent(db, name, ret_line, msg, msglen);
        if (r < 0)
                return r;
        if (r == 0) {
                snprintf(msg, msglen, "%s %s does not exist any more", kind, name);
                return 1;
        }
        return 0;
}

/* delete_user: end the user's processes, keep a home the person used, then
 * userdel --remove. */
static int undo_delete_user(struct rollback_env *env, const struct journal_entry *e,
                            const struct undo *u, char *msg, size_t msglen)
{
        _cleanup_free_ char *line = NULL;
        char home[4096], kept[4600] = "";
        struct cmd_ctx c;
        bool looked = false;
        int r;

        r = account_to_delete("user", "passwd", u->name, &line, msg, msglen);
        if (r != 0)
                return r;
        passwd_home(line, home, sizeof(home));

        for (unsigned attempt = 0;; attempt++) {
                /* userdel refuses while the user has processes (an RDP
                 * session): end them first; failures here do not matter. */
                const char *const terminate[] = { "loginctl", "terminate-user", u->name, NULL };
                const char *const pkill[] = { "pkill", "-KILL", "-u", u->name, NULL };
                const char *const userdel[] = { "userdel", "--remove", u->name, NULL };

                (void)cmd_run(env, terminate, &c);
                (void)cmd_run(env, pkill, &c);
                if (!looked) {
                        /* with nothing of the user's running that could
                         * still write into it */
                        looked = true;
                        r = keep_home_if_used(env, e, u->name, home, kept, sizeof(kept), msg,
                                              msglen);
                        if (r < 0)
                                return r;
                        if (r > 0 && env)
                                strv_push(&env->notes, kept);
                }
                r = cmd_run(env, userdel, &c);
                if (r == 8 && attempt < 3) {   /* still logged in */
                        sleep_ms(500);
                        continue;
                }
                break;
        }
        switch (r) {
        case 0:
                if (kept[0])
                        snprintf(msg, msglen, "deleted user %s. %s", u->name, kept);
                else
                        snprintf(msg, msglen, "deleted user %s and its home directory", u->name);
                return 0;
        case 6:
                snprintf(msg, msglen, "user %s does not exist any more", u->name);
                return 1;
        case 12:
                if (kept[0] && !path_exists(home)) {
                        /* an older userdel counts the home it did not find
                         * as a failure: it was moved aside on purpose */
                        snprintf(msg, msglen, "deleted user %s. %s", u->name, kept);
                        return 0;
                }
                snprintf(msg, msglen, "deleted user %s, but its home directory or mail spool "
                         "could not be removed: remove them by hand", u->name);
                return -EIO;
        default: {
                char what[128];
                snprintf(what, sizeof(what), "userdel --remove %s", u->name);
                return fail_cmd(msg, msglen, what, r, &c);
        }
        }
}

/* delete_group: groupdel if the group exists. */
static int undo_delete_group(const struct rollback_env *env, const struct undo *u, char *msg,
                             size_t msglen)
{
        struct cmd_ctx c;
        int r;

        r = account_to_delete("group", "group", u->name, NULL, msg, msglen);
        if (r != 0)
                return r;
        const char *const argv[] = { "groupdel", u->name, NULL };
        r = cmd_run(env, argv, &c);
        if (r != 0) {
                char what[128];
                snprintf(what, sizeof(what), "groupdel %s", u->name);
                return fail_cmd(msg, msglen, what, r, &c);
        }
        snprintf(msg, msglen, "deleted group %s", u->name);
        return 0;
}

/* Whether user is listed in the member field of a group line
 * "name:x:gid:a,b,c". */
static bool group_line_has_member(const char *line, const char *user)
{
        const char *p = line;
        size_t ulen = strlen(user);

        for (int field = 0; field < 3; field++) {
                p = strchr(p, ':');
                if (!p)
                        return false;
                p++;
        }
        while (*p && *p != '\n') {
                size_t n = strcspn(p, ",\n");
                if (n == ulen && strncmp(p, user, n) == 0)
                        return true;
                p += n;
                if (*p == ',')
                        p++;
        }
        return false;
}

/* remove_group_member: gpasswd --delete if the user is a member. */
static int undo_remove_group_member(const struct rollback_env *env, const struct undo *u,
                                    char *msg, size_t msglen)
{
        _cleanup_free_ char *line = NULL;
        struct cmd_ctx c;
        int r;

        if (!name_ok(u->name, ACCOUNT_CHARS) || !name_ok(u->value, ACCOUNT_CHARS)) {
                snprintf(msg, msglen, "refusing to remove \"%s\" from group \"%s\"",
                         u->name ? u->name : "", u->value ? u->value : "");
                return -EINVAL;
        }
        r = getent("group", u->value, &line, msg, msglen);
        if (r < 0)
                return r;
        if (r == 0) {
                snprintf(msg, msglen, "group %s does not exist any more", u->value);
                return 1;
        }
        if (!group_line_has_member(line, u->name)) {
                snprintf(msg, msglen, "%s is not a member of group %s", u->name, u->value);
                return 1;
        }
        const char *const argv[] = { "gpasswd", "--delete", u->name, u->value, NULL };
        r = cmd_run(env, argv, &c);
        if (r != 0) {
                char what[160];
                snprintf(what, sizeof(what), "gpasswd --delete %s %s", u->name, u->value);
                return fail_cmd(msg, msglen, what, r, &c);
        }
        snprintf(msg, msglen, "removed %s from group %s", u->name, u->value);
        return 0;
}

/* ---- systemd units ----------------------------------------------------- */

#define UNIT_CHARS "@._:-\\"

/* "systemctl VERB UNIT" output's first line in buf (exit status ignored:
 * is-enabled and is-active say "disabled"/"inactive" with a non-zero one). */
static int unit_query(const char *verb, const char *unit, char *buf, size_t size, char *msg,
                      size_t msglen)
{
        const char *const argv[] = { "systemctl", verb, unit, NULL };
        _cleanup_free_ char *out = NULL;
        int r;

        r = query(argv, &out);
        if (r < 0) {
                char what[64];
                snprintf(what, sizeof(what), "systemctl %s", verb);
                return fail_cmd(msg, msglen, what, r, NULL);
        }
        first_line(out, buf, size);
        return 0;
}

/* Whether state is one of the NULL-terminated set. */
static bool state_in(const char *state, const char *const *set)
{
        for (size_t i = 0; set[i]; i++)
                if (strcmp(state, set[i]) == 0)
                        return true;
        return false;
}

static const char *const enabled_states[] = { "enabled", "enabled-runtime", "linked",
                                              "linked-runtime", "alias", NULL };
static const char *const active_states[] = { "active", "activating", "reloading", "refreshing",
                                             NULL };

/* Runs "systemctl ARGS… UNIT"; fills msg either way. */
static int systemctl_do(const struct rollback_env *env, const char *verb, const char *opt,
                        const char *unit, const char *done, char *msg, size_t msglen)
{
        const char *argv[5] = { "systemctl", verb, NULL, NULL, NULL };
        struct cmd_ctx c;
        char what[256];
        size_t i = 2;
        int r;

        if (opt)
                argv[i++] = opt;
        argv[i] = unit;
        r = cmd_run(env, argv, &c);
        if (r != 0) {
                snprintf(what, sizeof(what), "systemctl %s%s%s %s", verb, opt ? " " : "",
                         opt ? opt : "", unit);
                return fail_cmd(msg, msglen, what, r, &c);
        }
        snprintf(msg, msglen, "%s %s", done, unit);
        return 0;
}

/* disable_unit, stop_unit, unmask_unit, restart_unit, enable_unit, start_unit: act on the
 * unit's current state. */
static int undo_unit(const struct rollback_env *env, const struct undo *u, char *msg,
                     size_t msglen)
{
        char enabled[64] = "", active[64] = "";
        bool is_enabled, is_active;
        int r;

        if (!name_ok(u->name, UNIT_CHARS)) {
                snprintf(msg, msglen, "refusing to touch unit \"%s\": not a unit name",
                         u->name ? u->name : "");
                return -EINVAL;
        }
        if (u->kind == UNDO_DISABLE_UNIT || u->kind == UNDO_UNMASK_UNIT || u->kind == UNDO_ENABLE_UNIT) {
                r = unit_query("is-enabled", u->name, enabled, sizeof(enabled), msg, msglen);
                if (r < 0)
                        return r;
        }
        if (u->kind != UNDO_UNMASK_UNIT) {
                r = unit_query("is-active", u->name, active, sizeof(active), msg, msglen);
                if (r < 0)
                        return r;
        }
        is_enabled = state_in(enabled, enabled_states);
        is_active = state_in(active, active_states);

        switch (u->kind) {
        case UNDO_DISABLE_UNIT:
                if (is_enabled)
                        return systemctl_do(env, "disable", "--now", u->name,
                                            "disabled and stopped", msg, msglen);
                if (is_active)
                        return systemctl_do(env, "stop", NULL, u->name, "stopped", msg, msglen);
                snprintf(msg, msglen, "%s is neither enabled nor running", u->name);
                return 1;
        case UNDO_STOP_UNIT:
                if (is_active)
                        return systemctl_do(env, "stop", NULL, u->name, "stopped", msg, msglen);
                snprintf(msg, msglen, "%s is not running", u->name);
                return 1;
        case UNDO_UNMASK_UNIT:
                if (strcmp(enabled, "masked") == 0)
                        return systemctl_do(env, "unmask", NULL, u->name, "unmasked", msg, msglen);
                if (strcmp(enabled, "masked-runtime") == 0)
                        return systemctl_do(env, "unmask", "--runtime", u->name, "unmasked", msg,
                                            msglen);
                snprintf(msg, msglen, "%s is not masked", u->name);
                return 1;
        case UNDO_RESTART_UNIT:
                if (is_active)
                        return systemctl_do(env, "try-reload-or-restart", NULL, u->name,
                                            "reloaded or restarted", msg, msglen);
                snprintf(msg, msglen, "%s is not running; nothing to restart", u->name);
                return 1;
        case UNDO_ENABLE_UNIT:
                if (!is_enabled)
                        return systemctl_do(env, "enable", "--now", u->name, "enabled and started",
                                            msg, msglen);
                if (!is_active)
                        return systemctl_do(env, "start", NULL, u->name, "started", msg, msglen);
                snprintf(msg, msglen, "%s is enabled and running already", u->name);
                return 1;
        case UNDO_START_UNIT:
                if (!is_active)
                        return systemctl_do(env, "start", NULL, u->name, "started", msg, msglen);
                snprintf(msg, msglen, "%s is running already", u->name);
                return 1;
        default:
                return -EINVAL;
        }
}

/* ---- alternatives ------------------------------------------------------ */

/* set_alternative: back to automatic, or back to the previous value. */
static int undo_set_alternative(const struct rollback_env *env, const struct undo *u, char *msg,
                                size_t msglen)
{
        const char *const q[] = { "update-alternatives", "--query", u->name, NULL };
        _cleanup_free_ char *out = NULL;
        char status[32] = "", value[4096] = "";
        bool want_auto = !u->value || !*u->value;
        struct cmd_ctx c;
        int r;

        if (!name_ok(u->name, "._+-") || (!want_auto && !abs_path_ok(u->value))) {
                snprintf(msg, msglen, "refusing to set alternative \"%s\" to \"%s\"",
                         u->name ? u->name : "", u->value ? u->value : "");
                return -EINVAL;
        }
        r = query(q, &out);
        if (r < 0)
                return fail_cmd(msg, msglen, "update-alternatives --query", r, NULL);
        if (r != 0) {
                snprintf(msg, msglen, "link group %s does not exist any more", u->name);
                return 1;
        }
        /* The first paragraph describes the link group. */
        for (char *line = out, *next; line && *line && *line != '\n'; line = next) {
                next = strchr(line, '\n');
                if (next)
                        *next++ = '\0';
                if (startswith(line, "Status: "))
                        strscpy(status, sizeof(status), line + 8);
                else if (startswith(line, "Value: "))
                        strscpy(value, sizeof(value), line + 7);
        }
        strstrip(status);
        strstrip(value);

        if (want_auto) {
                if (strcmp(status, "auto") == 0) {
                        snprintf(msg, msglen, "alternative %s is already automatic", u->name);
                        return 1;
                }
                const char *const argv[] = { "update-alternatives", "--auto", u->name, NULL };
                r = cmd_run(env, argv, &c);
                if (r != 0)
                        return fail_cmd(msg, msglen, "update-alternatives --auto", r, &c);
                snprintf(msg, msglen, "set alternative %s back to automatic", u->name);
                return 0;
        }
        if (strcmp(status, "manual") == 0 && strcmp(value, u->value) == 0) {
                snprintf(msg, msglen, "alternative %s is already %s", u->name, u->value);
                return 1;
        }
        const char *const argv[] = { "update-alternatives", "--set", u->name, u->value, NULL };
        r = cmd_run(env, argv, &c);
        if (r != 0)
                return fail_cmd(msg, msglen, "update-alternatives --set", r, &c);
        snprintf(msg, msglen, "set alternative %s back to %s", u->name, u->value);
        return 0;
}

/* ---- firewall ---------------------------------------------------------- */

/* ufw_delete_rule: "ufw delete RULE…"; a rule already gone is skipped. */
static int undo_ufw_delete_rule(const struct rollback_env *env, const struct undo *u, char *msg,
                                size_t msglen)
{
        _cleanup_strv_ char **argv = NULL;
        _cleanup_free_ char *rule = NULL;
        struct cmd_ctx c;
        int r;

        if (strv_length(u->list) == 0) {
                snprintf(msg, msglen, "no firewall rule listed");
                return 1;
        }
        for (size_t i = 0; u->list[i]; i++)
                if (!name_ok(u->list[i], "/:.,_-")) {
                        snprintf(msg, msglen, "refusing to pass \"%s\" to ufw", u->list[i]);
                        return -EINVAL;
                }
        rule = strv_join(u->list, " ");
        strv_push(&argv, "ufw");
        strv_push(&argv, "delete");
        for (size_t i = 0; u->list[i]; i++)
                strv_push(&argv, u->list[i]);
        r = cmd_run(env, (const char *const *)argv, &c);
        if (r == -ENOENT) {
                snprintf(msg, msglen, "ufw is not installed; no rule \"%s\" to delete", rule);
                return 1;
        }
        if (r != 0) {
                char what[512];
                snprintf(what, sizeof(what), "ufw delete %s", rule);
                return fail_cmd(msg, msglen, what, r, &c);
        }
        if (c.saw_nonexistent) {
                snprintf(msg, msglen, "firewall rule \"%s\" is already gone", rule);
                return 1;
        }
        snprintf(msg, msglen, "deleted firewall rule \"%s\"", rule);
        return 0;
}

/* ufw_add_rule: "ufw RULE…" (a rule ufw has already, it keeps once). */
static int undo_ufw_add_rule(const struct rollback_env *env, const struct undo *u, char *msg,
                             size_t msglen)
{
        _cleanup_strv_ char **argv = NULL;
        _cleanup_free_ char *rule = NULL;
        struct cmd_ctx c;
        int r;

        if (strv_length(u->list) == 0) {
                snprintf(msg, msglen, "no firewall rule listed");
                return 1;
        }
        for (size_t i = 0; u->list[i]; i++)
                if (!name_ok(u->list[i], "/:.,_-")) {
                        snprintf(msg, msglen, "refusing to pass \"%s\" to ufw", u->list[i]);
                        return -EINVAL;
                }
        rule = strv_join(u->list, " ");
        strv_push(&argv, "ufw");
        for (size_t i = 0; u->list[i]; i++)
                strv_push(&argv, u->list[i]);
        r = cmd_run(env, (const char *const *)argv, &c);
        if (r == -ENOENT) {
                snprintf(msg, msglen, "ufw is not installed; no rule \"%s\" to add", rule);
                return 1;
        }
        if (r != 0) {
                char what[512];
                snprintf(what, sizeof(what), "ufw %s", rule);
                return fail_cmd(msg, msglen, what, r, &c);
        }
        snprintf(msg, msglen, "added firewall rule \"%s\" again", rule);
        return 0;
}

/* ufw_disable: turn ufw off if it is active. */
static int undo_ufw_disable(const struct rollback_env *env, char *msg, size_t msglen)
{
        const char *const status[] = { "ufw", "status", NULL };
        const char *const disable[] = { "ufw", "--force", "disable", NULL };
        _cleanup_free_ char *out = NULL;
        struct cmd_ctx c;
        int r;

        r = query(status, &out);
        if (r == -ENOENT) {
                snprintf(msg, msglen, "ufw is not installed; nothing to turn off");
                return 1;
        }
        if (r != 0)
                return fail_cmd(msg, msglen, "ufw status", r, NULL);
        if (strstr(out, "Status: inactive")) {
                snprintf(msg, msglen, "the firewall is already inactive");
                return 1;
        }
        r = cmd_run(env, disable, &c);
        if (r != 0)
                return fail_cmd(msg, msglen, "ufw --force disable", r, &c);
        snprintf(msg, msglen, "turned the firewall (ufw) off");
        return 0;
}

/* ---- man-db ------------------------------------------------------------ */

/* cmd_run() with bytes on the child's stdin. */
static int cmd_run_input(const struct rollback_env *env, const char *const *argv,
                         const char *input, struct cmd_ctx *c)
{
        struct run_opts o;

        *c = (struct cmd_ctx){ .env = env };
        run_opts_init(&o);
        o.argv = argv;
        o.timeout_ms = env && env->timeout_ms ? env->timeout_ms : ROLLBACK_TIMEOUT_DEFAULT_MS;
        o.on_line = cmd_on_line;
        o.userdata = c;
        o.stdin_data = input;
        o.stdin_len = strlen(input);
        return run_command(&o, NULL);
}

int rollback_mandb_auto_update(const struct rollback_env *env, const char *flag, char *msg,
                               size_t msglen)
{
        const char *const names[] = { "man-db", NULL };
        const char *const set[] = { "debconf-set-selections", NULL };
        const char *const forget[] = { "debconf-communicate", "man-db", NULL };
        struct apt_pkg_list l = { 0 };
        enum apt_pkg_state st;
        struct cmd_ctx c;
        int r, fd;

        if (!abs_path_ok(flag)) {
                snprintf(msg, msglen, "the journal entry names no usable flag file (%s)",
                         flag ? flag : "none");
                return -EINVAL;
        }
        r = apt_pkg_list_query(names, &l);
        if (r < 0) {
                snprintf(msg, msglen, "cannot ask dpkg whether man-db is installed: %s; run the rollback again",
                         strerror(-r));
                return r;
        }
        st = apt_pkg_list_state(&l, "man-db");
        apt_pkg_list_release(&l);
        if (st == APT_PKG_ABSENT) {
                /* only the pause's own debconf answer is left of it */
                r = cmd_run_input(env, forget, "PURGE\n", &c);
                if (r != 0)
                        return fail_cmd(msg, msglen, "debconf-communicate man-db (PURGE)", r, &c);
                snprintf(msg, msglen, "man-db is not installed; its debconf answers are forgotten");
                return 0;
        }
        r = cmd_run_input(env, set, "man-db man-db/auto-update boolean true\n", &c);
        if (r != 0)
                return fail_cmd(msg, msglen, "debconf-set-selections (man-db/auto-update true)", r, &c);
        /* its directory is man-db's: gone with it, nothing to put back */
        fd = open(flag, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd < 0 && errno != ENOENT) {
                r = -errno;
                snprintf(msg, msglen, "cannot create %s: %s", flag, strerror(-r));
                return r;
        }
        if (fd >= 0)
                close(fd);
        snprintf(msg, msglen, "man-db's automatic index updates are on again");
        return 0;
}

/* ---- initramfs --------------------------------------------------------- */

char *initramfs_conf_setting(const char *text)
{
        const char *found = NULL;
        size_t found_len = 0;

        for (const char *p = text; p && *p;) {
                size_t n = strcspn(p, "\n");
                if (n >= strlen("update_initramfs=") &&
                    strncmp(p, "update_initramfs=", strlen("update_initramfs=")) == 0) {
                        found = p;
                        found_len = n;
                }
                p += n;
                if (*p == '\n')
                        p++;
        }
        return found ? xstrndup(found, found_len) : NULL;
}

/* text (len bytes) with its last line equal to from replaced by to, into
 * out (from NULL: to appended; to "": the line removed). 1 when there is no
 * such line (out untouched), 0 done. */
static int conf_text_swap(const char *text, size_t len, const char *from, const char *to,
                          struct buf *out)
{
        const char *hit = NULL;
        size_t hit_len = 0;

        if (from) {
                for (const char *p = text; *p;) {
                        size_t n = strcspn(p, "\n");
                        if (n == strlen(from) && strncmp(p, from, n) == 0) {
                                hit = p;
                                hit_len = n;
                        }
                        p += n;
                        if (*p == '\n')
                                p++;
                }
                if (!hit)
                        return 1;
                buf_init(out, len + strlen(to) + 2);
                buf_append(out, text, (size_t)(hit - text));
                if (*to)
                        buf_append(out, to, strlen(to));
                else if (hit[hit_len] == '\n')
                        hit_len++;   /* the whole line goes */
                buf_append(out, hit + hit_len, len - (size_t)(hit - text) - hit_len);
        } else {
                buf_init(out, len + strlen(to) + 2);
                buf_append(out, text, len);
                if (len && text[len - 1] != '\n')
                        buf_append(out, "\n", 1);
                buf_append(out, to, strlen(to));
                buf_append(out, "\n", 1);
        }
        return 0;
}

int initramfs_conf_swap(const char *path, const char *from, const char *to)
{
        _cleanup_free_ char *text = NULL;
        struct buf out;
        size_t len;
        struct stat st;
        int r;

        r = read_file(path, 1 << 20, &text, &len);
        if (r < 0)
                return r;
        if (strlen(text) != len)
                return -EINVAL;   /* not a text file */
        if (stat(path, &st) < 0)
                return -errno;
        r = conf_text_swap(text, len, from, to, &out);
        if (r == 1)
                return 1;
        r = write_file_atomic(path, out.data ? out.data : "", out.len, st.st_mode & 07777,
                              st.st_uid, st.st_gid);
        buf_release(&out);
        return r < 0 ? r : 0;
}

/* Whether an update_initramfs line's value is "no" (as sh reads it). */
static bool initramfs_value_no(const char *line)
{
        const char *v = line ? line + strlen("update_initramfs=") : "yes";
        return strcmp(v, "no") == 0 || strcmp(v, "\"no\"") == 0 || strcmp(v, "'no'") == 0;
}

/* The record's first line says whether a regeneration is owed. */
#define HOLD_RECORD_ASKED "asked=1\n"
#define HOLD_RECORD_NOT_ASKED "asked=0\n"

/* Writes the record: the flag, then the text the configuration gets back. */
static int hold_record_save(const struct initramfs_rb_hold *h)
{
        _cleanup_free_ char *data = xasprintf("%s%s", h->asked ? HOLD_RECORD_ASKED : HOLD_RECORD_NOT_ASKED,
                                              h->text);
        return write_file_atomic(h->record, data, strlen(data), 0600, (uid_t)-1, (gid_t)-1);
}

/* Sets the hold's update_initramfs line in the configuration, unless it
 * says no already. 0 or -errno. */
static int hold_conf_set(const char *conf)
{
        _cleanup_free_ char *text = NULL, *line = NULL;
        size_t len;
        int r;

        r = read_file(conf, 1 << 20, &text, &len);
        if (r < 0)
                return r;
        if (strlen(text) != len)
                return -EINVAL;
        line = initramfs_conf_setting(text);
        if (line && initramfs_value_no(line))
                return 0;
        r = initramfs_conf_swap(conf, line, INITRAMFS_HOLD_LINE);
        return r == 1 ? -EIO : r;
}

int initramfs_rb_hold_begin(struct initramfs_rb_hold *h, char *msg, size_t msglen)
{
        _cleanup_free_ char *data = NULL;
        size_t len;
        int r;

        if (h->on)
                return 1;
        r = read_file(h->record, 1 << 20, &data, &len);
        if (r == 0) {
                /* a rollback was stopped during its hold: it goes on */
                bool asked = len >= strlen(HOLD_RECORD_ASKED) &&
                             strncmp(data, HOLD_RECORD_ASKED, strlen(HOLD_RECORD_ASKED)) == 0;
                if (strlen(data) != len ||
                    (!asked && (len < strlen(HOLD_RECORD_NOT_ASKED) ||
                                strncmp(data, HOLD_RECORD_NOT_ASKED, strlen(HOLD_RECORD_NOT_ASKED)) != 0))) {
                        snprintf(msg, msglen, "%s is damaged: it should hold what %s gets back", h->record,
                                 h->conf);
                        return -EBADMSG;
                }
                free(h->text);
                h->text = xstrdup(data + strlen(HOLD_RECORD_ASKED));
                h->asked = asked;
                r = hold_conf_set(h->conf);
                if (r < 0 && r != -ENOENT) {
                        snprintf(msg, msglen, "cannot write %s: %s", h->conf, strerror(-r));
                        return r;
                }
                h->on = true;
                snprintf(msg, msglen, "the initramfs updates stay held, as by the rollback that was stopped (%s)",
                         h->record);
                return 0;
        }
        if (r != -ENOENT) {
                snprintf(msg, msglen, "cannot read %s: %s", h->record, strerror(-r));
                return r;
        }
        free(data);
        data = NULL;
        r = read_file(h->conf, 1 << 20, &data, &len);
        if (r == -ENOENT) {
                snprintf(msg, msglen, "no %s: no initramfs updates to hold", h->conf);
                return 1;
        }
        if (r == 0 && strlen(data) != len)
                r = -EINVAL;
        if (r < 0) {
                snprintf(msg, msglen, "cannot read %s: %s", h->conf, strerror(-r));
                return r;
        }
        free(h->text);
        h->text = TAKE_PTR(data);
        h->asked = false;
        /* the record first: a rollback stopped between the two writes finds
         * the configuration as it was, and puts back the same bytes */
        r = hold_record_save(h);
        if (r == 0)
                r = hold_conf_set(h->conf);
        if (r < 0) {
                snprintf(msg, msglen, "cannot hold the initramfs updates (%s, %s): %s", h->record, h->conf,
                         strerror(-r));
                (void)unlink(h->record);
                return r;
        }
        h->on = true;
        snprintf(msg, msglen, "initramfs updates held during the rollback (%s in %s)", INITRAMFS_HOLD_LINE,
                 h->conf);
        return 0;
}

/* Marks the regeneration as owed (in the record first). */
static int hold_ask(struct initramfs_rb_hold *h)
{
        if (h->asked)
                return 0;
        h->asked = true;
        return hold_record_save(h);
}

/* Whether boot_dir has a kernel (a vmlinuz-VERSION). */
static bool boot_has_kernel(const char *boot_dir)
{
        DIR *d = opendir(boot_dir);
        struct dirent *de;
        bool found = false;

        if (!d)
                return false;
        while (!found && (de = readdir(d)))
                found = strncmp(de->d_name, "vmlinuz-", strlen("vmlinuz-")) == 0;
        closedir(d);
        return found;
}

int initramfs_rb_hold_end(struct initramfs_rb_hold *h, const struct rollback_env *env, char *msg,
                          size_t msglen)
{
        const char *const argv[] = { "update-initramfs", "-u", NULL };
        _cleanup_free_ char *line = NULL;
        struct cmd_ctx c;
        struct stat st;
        bool regen;
        int r;

        if (!h->on)
                return 1;
        if (stat(h->conf, &st) < 0) {
                if (errno != ENOENT) {
                        r = -errno;
                        snprintf(msg, msglen, "cannot look at %s: %s", h->conf, strerror(-r));
                        return r;
                }
                /* initramfs-tools was purged: nothing to put back, nothing to make */
                if (unlink(h->record) < 0 && errno != ENOENT) {
                        r = -errno;
                        snprintf(msg, msglen, "cannot remove %s: %s", h->record, strerror(-r));
                        return r;
                }
                h->on = false;
                snprintf(msg, msglen, "%s is gone (initramfs-tools was removed): no initramfs to make", h->conf);
                return 1;
        }
        r = write_file_atomic(h->conf, h->text, strlen(h->text), st.st_mode & 07777, st.st_uid, st.st_gid);
        if (r < 0) {
                snprintf(msg, msglen, "cannot write %s: %s; run the rollback again", h->conf, strerror(-r));
                return r;
        }
        line = initramfs_conf_setting(h->text);
        regen = h->asked && !initramfs_value_no(line) && boot_has_kernel(h->boot_dir);
        if (regen) {
                /* before the record goes: a rollback stopped here makes it again */
                r = cmd_run(env, argv, &c);
                if (r != 0)
                        return fail_cmd(msg, msglen, "update-initramfs -u", r, &c);
        }
        if (unlink(h->record) < 0 && errno != ENOENT) {
                r = -errno;
                snprintf(msg, msglen, "cannot remove %s: %s", h->record, strerror(-r));
                return r;
        }
        h->on = false;
        if (regen)
                snprintf(msg, msglen, "the initramfs updates are on again (%s) and the initramfs is regenerated once",
                         h->conf);
        else
                snprintf(msg, msglen, "the initramfs updates are as before the rollback (%s)%s", h->conf,
                         !h->asked ? "; nothing asked for a new initramfs"
                         : !boot_has_kernel(h->boot_dir) ? "; no kernel in /boot to make one for" : "");
        return regen ? 0 : 1;
}

void initramfs_rb_hold_release(struct initramfs_rb_hold *h)
{
        free(h->text);
        h->text = NULL;
}

int rollback_initramfs_update(const struct rollback_env *env, const struct undo *u, char *msg,
                              size_t msglen)
{
        const char *const argv[] = { "update-initramfs", "-u", NULL };
        struct cmd_ctx c;
        int r;

        if (!abs_path_ok(u->path) || !u->value) {
                snprintf(msg, msglen, "the journal entry names no usable configuration file (%s)",
                         u->path ? u->path : "none");
                return -EINVAL;
        }
        if (env && env->initramfs_hold && env->initramfs_hold->on &&
            strcmp(env->initramfs_hold->conf, u->path) == 0) {
                /* the rollback holds the updates: the run's line goes back
                 * into what the configuration gets at the rollback's end */
                struct initramfs_rb_hold *h = env->initramfs_hold;
                struct buf out;

                r = conf_text_swap(h->text, strlen(h->text), INITRAMFS_HOLD_LINE, u->value, &out);
                if (r == 1) {
                        snprintf(msg, msglen, "the initramfs updates are on already (%s had no %s)", u->path,
                                 INITRAMFS_HOLD_LINE);
                        return 1;
                }
                free(h->text);
                h->text = buf_steal(&out);
                h->asked = true;   /* the regeneration the run put off */
                r = hold_record_save(h);
                if (r < 0) {
                        snprintf(msg, msglen, "cannot write %s: %s; run the rollback again", h->record,
                                 strerror(-r));
                        return r;
                }
                snprintf(msg, msglen,
                         "the initramfs updates will be on again (%s) at the end of the rollback, with one regeneration",
                         u->path);
                return 0;
        }
        r = initramfs_conf_swap(u->path, INITRAMFS_HOLD_LINE, u->value);
        if (r == -ENOENT) {
                snprintf(msg, msglen, "%s is gone (initramfs-tools was removed): nothing to turn back on",
                         u->path);
                return 1;
        }
        if (r < 0) {
                snprintf(msg, msglen, "cannot rewrite %s: %s; run the rollback again", u->path,
                         strerror(-r));
                return r;
        }
        if (r == 1) {
                snprintf(msg, msglen, "the initramfs updates are on already (%s has no %s)", u->path,
                         INITRAMFS_HOLD_LINE);
                return 1;
        }
        r = cmd_run(env, argv, &c);
        if (r != 0)
                return fail_cmd(msg, msglen, "update-initramfs -u", r, &c);
        snprintf(msg, msglen, "the initramfs updates are on again (%s) and the initramfs is regenerated",
                 u->path);
        return 0;
}

/* ---- entry point ------------------------------------------------------- */

/* undo_apply_fn for journal_rollback(): dispatches on the undo kind. */
int rollback_apply(void *env_, const struct journal_entry *e, char *msg, size_t msglen)
{
        struct rollback_env *env = env_;
        const struct undo *u = &e->undo;

        if (msglen)
                msg[0] = '\0';
        switch (u->kind) {
        case UNDO_NOTHING:
                snprintf(msg, msglen, "nothing to undo");
                return 1;
        case UNDO_PURGE_PACKAGES:
                return undo_purge_packages(env, u, msg, msglen);
        case UNDO_REMOVE_FILE:
                return undo_remove_file(env, e, u, msg, msglen);
        case UNDO_RESTORE_FILE:
                return undo_restore_file(env, e, u, msg, msglen);
        case UNDO_REMOVE_DIR:
                return undo_remove_dir(env, e, u, msg, msglen);
        case UNDO_DELETE_USER:
                return undo_delete_user(env, e, u, msg, msglen);
        case UNDO_DELETE_GROUP:
                return undo_delete_group(env, u, msg, msglen);
        case UNDO_REMOVE_GROUP_MEMBER:
                return undo_remove_group_member(env, u, msg, msglen);
        case UNDO_DISABLE_UNIT:
        case UNDO_STOP_UNIT:
        case UNDO_UNMASK_UNIT:
        case UNDO_RESTART_UNIT:
        case UNDO_ENABLE_UNIT:
        case UNDO_START_UNIT:
                return undo_unit(env, u, msg, msglen);
        case UNDO_SET_ALTERNATIVE:
                return undo_set_alternative(env, u, msg, msglen);
        case UNDO_UFW_DELETE_RULE:
                return undo_ufw_delete_rule(env, u, msg, msglen);
        case UNDO_UFW_ADD_RULE:
                return undo_ufw_add_rule(env, u, msg, msglen);
        case UNDO_UFW_DISABLE:
                return undo_ufw_disable(env, msg, msglen);
        case UNDO_REMOVE_APT_SOURCE:
                return undo_remove_apt_source(u, msg, msglen);
        case UNDO_MANDB_AUTO_UPDATE:
                return rollback_mandb_auto_update(env, u->path, msg, msglen);
        case UNDO_INITRAMFS_UPDATE:
                return rollback_initramfs_update(env, u, msg, msglen);
        case _UNDO_KIND_MAX:
                break;
        }
        snprintf(msg, msglen, "unknown undo kind %d in journal entry %llu", (int)u->kind,
                 (unsigned long long)e->seq);
        return -EINVAL;
}
