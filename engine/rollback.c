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
 * '-', so none can be taken for an option). */
#include "rollback.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

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

/* Directories under /etc that dpkg lists for the packages (before they are
 * purged), deepest first. A bulk purge can leave one behind empty: the
 * package that owns it is purged while another one's files are still in
 * it (xml-core's /etc/xml). */
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
        for (char *line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
                if (startswith(line, "/etc/") && lstat(line, &st) == 0 && S_ISDIR(st.st_mode) &&
                    !strv_contains(dirs, line))
                        strv_push(&dirs, line);
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

/* ---- files ------------------------------------------------------------- */

/* Moves path aside to PATH.vps-provision-modified (or .N when taken). */
static int move_aside(const char *path, char *aside, size_t size)
{
        for (unsigned i = 0; i < 100; i++) {
                int w = i == 0 ? snprintf(aside, size, "%s.vps-provision-modified", path)
                               : snprintf(aside, size, "%s.vps-provision-modified.%u", path, i);
                if (w < 0 || (size_t)w >= size)
                        return -ENAMETOOLONG;
                if (path_exists(aside))
                        continue;
                if (rename(path, aside) < 0)
                        return -errno;
                return fsync_dir_of(path);
        }
        return -EEXIST;
}

/* lstat() for an undo that removes path: 0 with st filled, 1 when path is
 * gone already, or -errno; msg says which but for 0. */
static int look_at(const char *path, struct stat *st, char *msg, size_t msglen)
{
        int r;

        if (lstat(path, st) == 0)
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
static int undo_remove_file(const struct undo *u, char *msg, size_t msglen)
{
        struct stat st;
        char have[SHA256_HEX];
        char aside[4096];
        int r;

        if (!abs_path_ok(u->path)) {
                snprintf(msg, msglen, "refusing to remove \"%s\": not an absolute path",
                         u->path ? u->path : "");
                return -EINVAL;
        }
        /* a run killed while writing it leaves its temp file too */
        (void)atomic_leftovers_remove(u->path);
        r = look_at(u->path, &st, msg, msglen);
        if (r != 0)
                return r;
        if (S_ISDIR(st.st_mode)) {
                snprintf(msg, msglen, "%s is now a directory, not the file vps-provision wrote; "
                         "left in place", u->path);
                return -EISDIR;
        }
        /* Remove only what we wrote: a file changed since is kept aside. */
        if (S_ISREG(st.st_mode) && u->sha256[0]) {
                r = sha256_file(u->path, have);
                if (r < 0) {
                        snprintf(msg, msglen, "cannot read %s: %s", u->path, strerror(-r));
                        return r;
                }
                if (strcmp(have, u->sha256) != 0) {
                        r = move_aside(u->path, aside, sizeof(aside));
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
        if (unlink(u->path) < 0) {
                r = -errno;
                snprintf(msg, msglen, "cannot remove %s: %s", u->path, strerror(errno));
                return r;
        }
        (void)fsync_dir_of(u->path);
        snprintf(msg, msglen, "removed %s", u->path);
        return 0;
}

/* restore_file: put the backup back (content, mode, owner) if it is intact. */
static int undo_restore_file(const struct undo *u, char *msg, size_t msglen)
{
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

        /* Already as in the backup (content, mode, owner)? */
        if (lstat(u->path, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 07777) == mode &&
            st.st_uid == u->uid && st.st_gid == u->gid && sha256_file(u->path, have) == 0 &&
            strcmp(have, u->sha256) == 0) {
                snprintf(msg, msglen, "%s already matches its backup", u->path);
                return 1;
        }
        r = write_file_atomic(u->path, data, len, mode, u->uid, u->gid);
        if (r < 0) {
                snprintf(msg, msglen, "cannot restore %s from %s: %s", u->path, u->backup,
                         strerror(-r));
                return r;
        }
        snprintf(msg, msglen, "restored %s from %s", u->path, u->backup);
        return 0;
}

/* remove_dir: rmdir when empty; a directory with other files is left and reported. */
static int undo_remove_dir(const struct undo *u, char *msg, size_t msglen)
{
        struct stat st;
        int r;

        if (!abs_path_ok(u->path) || strcmp(u->path, "/") == 0) {
                snprintf(msg, msglen, "refusing to remove directory \"%s\"",
                         u->path ? u->path : "");
                return -EINVAL;
        }
        r = look_at(u->path, &st, msg, msglen);
        if (r != 0)
                return r;
        if (!S_ISDIR(st.st_mode)) {
                snprintf(msg, msglen, "%s is not a directory any more; left in place", u->path);
                return -ENOTDIR;
        }
        if (rmdir(u->path) < 0) {
                r = -errno;
                if (errno == ENOTEMPTY || errno == EEXIST)
                        snprintf(msg, msglen, "%s is not empty (it holds files vps-provision did "
                                 "not make); left in place: remove it by hand if you do not need "
                                 "them", u->path);
                else
                        snprintf(msg, msglen, "cannot remove directory %s: %s", u->path,
                                 strerror(errno));
                return r;
        }
        (void)fsync_dir_of(u->path);
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

#define ACCOUNT_CHARS "._-$"

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

/* Before deleting the account name of kind "user" or "group" (database db
 * of getent): never root or a name that is not an account name. 0 when it
 * exists, 1 when it is gone already (msg says so), or -errno (msg says why). */
static int account_to_delete(const char *kind, const char *db, const char *name, char *msg,
                             size_t msglen)
{
        int r;

        if (!name_ok(name, ACCOUNT_CHARS) || strcmp(name, "root") == 0) {
                snprintf(msg, msglen, "refusing to delete %s \"%s\"", kind, name ? name : "");
                return -EINVAL;
        }
        r = getent(db, name, NULL, msg, msglen);
        if (r < 0)
                return r;
        if (r == 0) {
                snprintf(msg, msglen, "%s %s does not exist any more", kind, name);
                return 1;
        }
        return 0;
}

/* delete_user: end the user's processes, then userdel --remove. */
static int undo_delete_user(const struct rollback_env *env, const struct undo *u, char *msg,
                            size_t msglen)
{
        struct cmd_ctx c;
        int r;

        r = account_to_delete("user", "passwd", u->name, msg, msglen);
        if (r != 0)
                return r;

        for (unsigned attempt = 0;; attempt++) {
                /* userdel refuses while the user has processes (an RDP
                 * session): end them first; failures here do not matter. */
                const char *const terminate[] = { "loginctl", "terminate-user", u->name, NULL };
                const char *const pkill[] = { "pkill", "-KILL", "-u", u->name, NULL };
                const char *const userdel[] = { "userdel", "--remove", u->name, NULL };

                (void)cmd_run(env, terminate, &c);
                (void)cmd_run(env, pkill, &c);
                r = cmd_run(env, userdel, &c);
                if (r == 8 && attempt < 3) {   /* still logged in */
                        sleep_ms(500);
                        continue;
                }
                break;
        }
        switch (r) {
        case 0:
                snprintf(msg, msglen, "deleted user %s and its home directory", u->name);
                return 0;
        case 6:
                snprintf(msg, msglen, "user %s does not exist any more", u->name);
                return 1;
        case 12:
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

        r = account_to_delete("group", "group", u->name, msg, msglen);
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

/* disable_unit, stop_unit, unmask_unit, restart_unit: act on the unit's current state. */
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
        if (u->kind == UNDO_DISABLE_UNIT || u->kind == UNDO_UNMASK_UNIT) {
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

/* ---- entry point ------------------------------------------------------- */

/* undo_apply_fn for journal_rollback(): dispatches on the undo kind. */
int rollback_apply(void *env_, const struct journal_entry *e, char *msg, size_t msglen)
{
        const struct rollback_env *env = env_;
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
                return undo_remove_file(u, msg, msglen);
        case UNDO_RESTORE_FILE:
                return undo_restore_file(u, msg, msglen);
        case UNDO_REMOVE_DIR:
                return undo_remove_dir(u, msg, msglen);
        case UNDO_DELETE_USER:
                return undo_delete_user(env, u, msg, msglen);
        case UNDO_DELETE_GROUP:
                return undo_delete_group(env, u, msg, msglen);
        case UNDO_REMOVE_GROUP_MEMBER:
                return undo_remove_group_member(env, u, msg, msglen);
        case UNDO_DISABLE_UNIT:
        case UNDO_STOP_UNIT:
        case UNDO_UNMASK_UNIT:
        case UNDO_RESTART_UNIT:
                return undo_unit(env, u, msg, msglen);
        case UNDO_SET_ALTERNATIVE:
                return undo_set_alternative(env, u, msg, msglen);
        case UNDO_UFW_DELETE_RULE:
                return undo_ufw_delete_rule(env, u, msg, msglen);
        case UNDO_UFW_DISABLE:
                return undo_ufw_disable(env, msg, msglen);
        case UNDO_REMOVE_APT_SOURCE:
                return undo_remove_apt_source(u, msg, msglen);
        case _UNDO_KIND_MAX:
                break;
        }
        snprintf(msg, msglen, "unknown undo kind %d in journal entry %llu", (int)u->kind,
                 (unsigned long long)e->seq);
        return -EINVAL;
}
