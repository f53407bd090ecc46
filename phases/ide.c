/* ide.c — the phases ide-vscode, ide-cursor and ide-antigravity: each IDE
 * from its vendor's signed apt repository (or a checksummed .deb), as the
 * IDE catalog says.
 *
 * DESIGN (apt_repository): the key is downloaded (engine/fetch: TLS
 * verified, retried, size-capped) into the program's state directory and
 * shown with gpg --show-keys; every primary key in the file must have a
 * fingerprint the catalog pins, or nothing is written. Then the key is
 * installed as a keyring file used only by this repository (Signed-By in a
 * DEB822 .sources file), apt refreshes that one source
 * (Dir::Etc::sourcelist pointed at it, no other parts, no list cleanup),
 * and the package is installed. A failed refresh (no Release, a signature
 * the key does not verify) removes the source and keyring again, so no
 * half-configured repository is left. Vendor packages (VS Code, Cursor)
 * add their own apt source for the same repository from their maintainer
 * scripts; apt refuses a repository configured twice with different
 * Signed-By, so every source file that appeared during the install and
 * names the same repository is removed (with a keyring it alone used), our
 * own source staying the single one. The result is checked (the command
 * reports a version, the desktop launcher exists, ldd finds every library)
 * and recorded in the session as an IDEInstallation.
 *
 * Undo: the source and keyring are journaled as an apt source (and as
 * created files), the package as newly installed packages (purged on
 * rollback); the vendor's duplicate source is journaled as a deletion with
 * nothing to restore, since the purge removes what it belonged to. */
#include "ide.h"

#include <ctype.h>
#include <stdarg.h>
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fetch.h"
#include "journal.h"
#include "ops.h"
#include "phases.h"
#include "run.h"
#include "session.h"

#define KEY_MAX_BYTES   (1u << 20)
#define APT_SOURCES_D   "/etc/apt/sources.list.d"
#define APT_TRUSTED_D   "/etc/apt/trusted.gpg.d"
#define SOURCE_MARK     "# Written by vps-provision"

/* ---- pure parts ---------------------------------------------------------- */

char **ide_parse_primary_fingerprints(const char *colons)
{
        char **ret = NULL;
        bool after_pub = false;
        const char *p = colons;

        while (p && *p) {
                const char *end = strchr(p, '\n');
                size_t len = end ? (size_t)(end - p) : strlen(p);

                if (len >= 4 && strncmp(p, "pub:", 4) == 0)
                        after_pub = true;
                else if (len >= 4 && strncmp(p, "fpr:", 4) == 0 && after_pub) {
                        /* fpr:::::::::FINGERPRINT: — field 10 */
                        const char *f = p;
                        size_t flen = 0;

                        for (int field = 1; field < 10 && f; field++) {
                                f = memchr(f, ':', len - (size_t)(f - p));
                                if (f)
                                        f++;
                        }
                        if (f) {
                                while ((size_t)(f - p) + flen < len && f[flen] != ':')
                                        flen++;
                                if (flen > 0) {
                                        char *fp = xstrndup(f, flen);

                                        for (char *q = fp; *q; q++)
                                                *q = (char)toupper((unsigned char)*q);
                                        strv_push_take(&ret, fp);
                                }
                        }
                        after_pub = false;
                } else if (len >= 4 && (strncmp(p, "sub:", 4) == 0 || strncmp(p, "sec:", 4) == 0))
                        after_pub = strncmp(p, "sec:", 4) == 0;
                p = end ? end + 1 : NULL;
        }
        return ret;
}

char *ide_sources_text(const struct ide_entry *e, const char *keyring, const char *arch)
{
        _cleanup_free_ char *comps = strv_join(e->components, " ");

        return xasprintf(SOURCE_MARK " (ide-%s phase) for %s; removed by its rollback.\n"
                         "Types: deb\n"
                         "URIs: %s\n"
                         "Suites: %s\n"
                         "Components: %s\n"
                         "Architectures: %s\n"
                         "Signed-By: %s\n",
                         e->id, e->display_name, e->uri, e->suite, comps, arch, keyring);
}

/* uri without its trailing slashes: length to compare. */
static size_t uri_len(const char *uri)
{
        size_t n = strlen(uri);

        while (n > 0 && uri[n - 1] == '/')
                n--;
        return n;
}

bool ide_source_names_uri(const char *text, const char *uri_in)
{
        size_t n = uri_len(uri_in);
        _cleanup_free_ char *uri = xstrndup(uri_in, n);
        const char *line = text;

        if (n == 0)
                return false;

        while (line && *line) {
                const char *end = strchr(line, '\n'), *s = line, *hit;
                size_t len = end ? (size_t)(end - line) : strlen(line);

                while ((size_t)(s - line) < len && (*s == ' ' || *s == '\t'))
                        s++;
                /* a disabled line, or a deb822 "Enabled: no" is not looked at
                 * closer: removing a commented duplicate is harmless either way */
                if (*s != '#') {
                        for (hit = s; (hit = strstr(hit, uri)) && (size_t)(hit - line) < len; hit++) {
                                char after = hit[n];

                                if (strncmp(hit, uri, n) != 0)
                                        continue;
                                if ((hit == line || hit[-1] == ' ' || hit[-1] == '\t' || hit[-1] == ']') &&
                                    (after == '/' || after == ' ' || after == '\t' || after == '\n' ||
                                     after == '\0' || after == '\r'))
                                        return true;
                        }
                }
                line = end ? end + 1 : NULL;
        }
        return false;
}

char *ide_source_signed_by(const char *text)
{
        const char *p;

        p = strcasestr(text, "signed-by=");
        if (p) {
                size_t n;

                p += strlen("signed-by=");
                n = strcspn(p, " \t]\n,");
                return n ? xstrndup(p, n) : NULL;
        }
        p = strcasestr(text, "Signed-By:");
        if (p) {
                size_t n;

                p += strlen("Signed-By:");
                while (*p == ' ' || *p == '\t')
                        p++;
                n = strcspn(p, " \t\n");
                if (n && *p == '/')
                        return xstrndup(p, n);
        }
        return NULL;
}

char *ide_parse_version(const char *out)
{
        size_t n;

        if (!out)
                return NULL;
        while (*out == ' ' || *out == '\t' || *out == '\n' || *out == '\r')
                out++;
        n = strcspn(out, "\n\r");
        while (n > 0 && (out[n - 1] == ' ' || out[n - 1] == '\t'))
                n--;
        return n ? xstrndup(out, n) : NULL;
}

char **ide_parse_ldd_missing(const char *out)
{
        char **ret = NULL;
        const char *line = out;

        while (line && *line) {
                const char *end = strchr(line, '\n');
                size_t len = end ? (size_t)(end - line) : strlen(line);
                _cleanup_free_ char *l = xstrndup(line, len);

                if (strstr(l, "=> not found")) {
                        char *s = strstrip(l);
                        size_t nlen = strcspn(s, " \t");

                        strv_push_take(&ret, xstrndup(s, nlen));
                }
                line = end ? end + 1 : NULL;
        }
        return ret;
}

/* ---- the phase ----------------------------------------------------------- */

/* snprintf into a path buffer; a path too long for it is left "" (and the
 * file operations on it then fail with a message naming the empty path). */
static void pathf(char *buf, size_t size, const char *fmt, ...) _printf_(3, 4);
static void pathf(char *buf, size_t size, const char *fmt, ...)
{
        va_list ap;
        int n;

        va_start(ap, fmt);
        n = vsnprintf(buf, size, fmt, ap);
        va_end(ap);
        if (n < 0 || (size_t)n >= size)
                buf[0] = '\0';
}

/* Everything one run of an IDE phase works with. */
struct ide_job {
        struct ide_catalog cat;
        const struct ide_entry *e;
        const char *arch;
        char work[PATH_MAX];      /* STATE/downloads/ide-ID */
        char keyring[PATH_MAX];   /* where the keyring goes (extension from the key's format) */
        char sources[PATH_MAX];
};

static void job_release(struct ide_job *j)
{
        ide_catalog_release(&j->cat);
}

static int load_job(struct phase_ctx *c, enum ide_id id, struct ide_job *j, bool fail)
{
        char path[PATH_MAX], err[1024];
        const char *name = ide_id_name(id);
        int r;

        *j = (struct ide_job){ 0 };
        ide_catalog_path(phase_answers(c), phase_paths(c), path, sizeof(path));
        r = ide_catalog_load(path, &j->cat, err, sizeof(err));
        if (r < 0)
                return fail ? phase_fail(c, r, "%s", err) : r;
        j->e = ide_catalog_find(&j->cat, name);
        if (!j->e) {
                job_release(j);
                return fail ? phase_fail(c, -ENOENT, "the IDE catalog %s has no entry with id \"%s\"; "
                                         "add one or remove %s from [ides] install", path, name, name)
                            : -ENOENT;
        }
        j->arch = phase_vps(c)->architecture[0] ? phase_vps(c)->architecture : "amd64";
        pathf(j->work, sizeof(j->work), "%s/downloads/ide-%s", phase_paths(c)->state_dir,
                       name);
        if (j->e->method == IDE_CAT_APT_REPOSITORY)
                pathf(j->sources, sizeof(j->sources), "%s/vps-provision-%s.sources",
                               j->e->sources_dir, name);
        return 0;
}

struct progress_map {
        struct phase_ctx *c;
        double from, to;
        const char *what;
};

static bool cancel_cb(void *userdata)
{
        struct progress_map *m = userdata;

        return phase_cancel_requested(m->c);
}

static void progress_cb(void *userdata, size_t index, uint64_t done, uint64_t total)
{
        struct progress_map *m = userdata;

        (void)index;
        if (total > 0)
                phase_progress(m->c, m->from + (m->to - m->from) * ((double)done / (double)total),
                               "downloading %s: %llu of %llu kB", m->what,
                               (unsigned long long)(done / 1024), (unsigned long long)(total / 1024));
}

/* Downloads url to path (sha256 checked when given) with the phase's cancel
 * and progress. 0 or phase_fail()'s error. */
static int download(struct phase_ctx *c, const struct ide_job *j, const char *url, const char *path,
                    const char *sha256, uint64_t max, const char *what, double from, double to)
{
        const struct ide_fetch_tuning *t = &j->cat.fetch;
        struct progress_map m = { c, from, to, what };
        struct fetch_opts o;
        struct fetch_result res;
        int r;

        fetch_opts_init(&o);
        if (t->retries >= 0)
                o.retries = (unsigned)t->retries;
        if (t->backoff_ms)
                o.backoff_ms = t->backoff_ms;
        if (t->stall_seconds)
                o.low_speed_s = t->stall_seconds;
        if (t->connect_timeout_ms)
                o.connect_timeout_ms = t->connect_timeout_ms;
        o.cancel = cancel_cb;
        o.progress = progress_cb;
        o.userdata = &m;
        r = fetch_file(&(struct fetch_req){ .url = url, .dest = path, .sha256 = sha256,
                                            .max_bytes = max }, &o, &res);
        if (r < 0)
                return phase_fail(c, r, "%s: %s", what, res.message);
        phase_log(c, LOG_INFO, "downloaded %s (%llu bytes, sha256 %s, %u attempt%s, %lld ms)", url,
                  (unsigned long long)res.bytes, res.sha256, res.attempts,
                  res.attempts == 1 ? "" : "s", (long long)res.duration_ms);
        return 0;
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
        (void)st;
        (void)flag;
        (void)f;
        (void)remove(p);
        return 0;
}

/* The program's own scratch directory (not a system change): emptied. */
static int work_dir_fresh(struct phase_ctx *c, const char *dir)
{
        int r;

        (void)nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
        r = mkdir_p(dir, 0700);
        if (r < 0)
                return phase_fail(c, r, "cannot create %s: %s", dir, strerror(-r));
        return 0;
}

static void work_dir_remove(const char *dir)
{
        (void)nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Fetches the key and checks it against the pinned fingerprints. On
 * success *ret_key holds the key file's bytes and *ret_armored its format. */
static int fetch_and_check_key(struct phase_ctx *c, struct ide_job *j, char **ret_key,
                               size_t *ret_len, bool *ret_armored)
{
        const struct ide_entry *e = j->e;
        char keyfile[PATH_MAX + 16], home[PATH_MAX + 16];
        _cleanup_free_ char *out = NULL, *key = NULL, *want = NULL, *got_s = NULL;
        _cleanup_strv_ char **got = NULL;
        size_t len = 0;
        int r;

        if (!e->fingerprints)
                return phase_fail(c, -EKEYREJECTED,
                                  "the IDE catalog %s pins no key fingerprint for %s, so its "
                                  "repository key cannot be trusted; add the fingerprint published "
                                  "by the vendor to apt.fingerprints, or remove %s from [ides] install",
                                  j->cat.path, e->display_name, e->id);
        pathf(keyfile, sizeof(keyfile), "%s/key", j->work);
        pathf(home, sizeof(home), "%s/gnupg", j->work);
        r = download(c, j, e->key_url, keyfile, NULL, KEY_MAX_BYTES, "signing key", 0.02, 0.08);
        if (r < 0)
                return r;
        r = mkdir_p(home, 0700);
        if (r < 0)
                return phase_fail(c, r, "cannot create %s: %s", home, strerror(-r));
        {
                const char *const argv[] = { "gpg", "--homedir", home, "--batch", "--no-tty",
                                             "--with-colons", "--show-keys", keyfile, NULL };

                r = ops_query(c, argv, &out);
        }
        if (r == -ENOENT)
                return phase_fail(c, r, "gpg is not installed, and it is needed to check the %s key "
                                  "(apt-get install gpg)", e->display_name);
        if (r < 0)
                return phase_fail(c, r, "cannot run gpg: %s", strerror(-r));
        got = ide_parse_primary_fingerprints(out);
        want = strv_join(e->fingerprints, ", ");
        if (r != 0 || !got)
                return phase_fail(c, -EKEYREJECTED,
                                  "%s is not an OpenPGP public key (gpg found no key in it); "
                                  "expected the key with fingerprint %s", e->key_url, want);
        got_s = strv_join(got, ", ");
        for (size_t i = 0; got[i]; i++)
                if (!strv_contains(e->fingerprints, got[i]))
                        return phase_fail(c, -EKEYREJECTED,
                                          "key fingerprint mismatch for %s: %s holds %s, but the "
                                          "catalog %s pins %s; nothing was installed. If the vendor "
                                          "changed its key, check the new fingerprint against its "
                                          "published instructions and update the catalog",
                                          e->display_name, e->key_url, got_s, j->cat.path, want);
        phase_log(c, LOG_INFO, "%s key %s matches the pinned fingerprint", e->display_name, got_s);
        r = read_file(keyfile, KEY_MAX_BYTES, &key, &len);
        if (r < 0)
                return phase_fail(c, r, "cannot read %s: %s", keyfile, strerror(-r));
        *ret_armored = len > 10 && strstr(key, "-----BEGIN PGP PUBLIC KEY BLOCK-----") != NULL;
        *ret_key = TAKE_PTR(key);
        *ret_len = len;
        return 0;
}

/* Names of the regular files in dir (strv, sorted; NULL when none). */
static char **list_dir(const char *dir)
{
        char **ret = NULL;
        DIR *d = opendir(dir);
        struct dirent *de;

        if (!d)
                return NULL;
        while ((de = readdir(d)))
                if (de->d_name[0] != '.')
                        strv_pushf(&ret, "%s/%s", dir, de->d_name);
        closedir(d);
        strv_sort(ret);
        return ret;
}

/* The directories where other apt sources (and global keyrings) live. */
static char **watched_files(const struct ide_job *j)
{
        _cleanup_strv_ char **a = list_dir(APT_SOURCES_D), **b = NULL, **t = list_dir(APT_TRUSTED_D);
        char **ret = strv_copy(a);

        if (j->e->sources_dir && strcmp(j->e->sources_dir, APT_SOURCES_D) != 0) {
                b = list_dir(j->e->sources_dir);
                for (size_t i = 0; b && b[i]; i++)
                        strv_push(&ret, b[i]);
        }
        for (size_t i = 0; t && t[i]; i++)
                strv_push(&ret, t[i]);
        return ret;
}

/* A source file other than ours that names the repository already: the
 * repository is configured by someone else. Returns its path or NULL. */
static char *foreign_source(const struct ide_job *j)
{
        _cleanup_strv_ char **files = watched_files(j);

        for (size_t i = 0; files && files[i]; i++) {
                _cleanup_free_ char *text = NULL;

                if (strcmp(files[i], j->sources) == 0 || startswith(files[i], APT_TRUSTED_D "/"))
                        continue;
                if (read_file(files[i], 1u << 20, &text, NULL) == 0 &&
                    ide_source_names_uri(text, j->e->uri))
                        return xstrdup(files[i]);
        }
        return NULL;
}

/* Journals and removes one file a package's maintainer script created. */
static int remove_vendor_file(struct phase_ctx *c, const char *path, const char *why)
{
        const char *const argv[] = { "rm", "-f", "--", path, NULL };
        struct undo u = { .kind = UNDO_NOTHING };
        int64_t seq;

        seq = phase_journal(c, "FILE_DELETE", path, &u);
        if (seq < 0)
                return phase_fail(c, (int)seq, "cannot journal the removal of %s", path);
        phase_log(c, LOG_INFO, "removing %s: %s", path, why);
        return ops_run(c, argv, NULL) < 0 ? -EIO : 0;
}

/* After the install: sources the package added for the same repository,
 * and the keyrings only they used, go. */
static int remove_duplicate_sources(struct phase_ctx *c, const struct ide_job *j,
                                    char *const *before)
{
        _cleanup_strv_ char **after = watched_files(j), **dup_keys = NULL;
        int r;

        for (size_t i = 0; after && after[i]; i++) {
                _cleanup_free_ char *text = NULL, *kr = NULL;

                if (strv_contains(before, after[i]) || strcmp(after[i], j->sources) == 0 ||
                    startswith(after[i], APT_TRUSTED_D "/"))
                        continue;
                if (read_file(after[i], 1u << 20, &text, NULL) < 0 ||
                    !ide_source_names_uri(text, j->e->uri))
                        continue;
                kr = ide_source_signed_by(text);
                if (kr && strcmp(kr, j->keyring) != 0)
                        strv_push(&dup_keys, kr);
                r = remove_vendor_file(c, after[i], "the package added this second source for the "
                                       "same repository (apt refuses a repository configured twice)");
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; dup_keys && dup_keys[i]; i++)
                if (!strv_contains(before, dup_keys[i]) && path_exists(dup_keys[i])) {
                        r = remove_vendor_file(c, dup_keys[i], "keyring of the removed duplicate source");
                        if (r < 0)
                                return r;
                }
        /* A key the package dropped into trusted.gpg.d would make apt trust it
         * for every repository: that is not what this phase set up. */
        for (size_t i = 0; after && after[i]; i++)
                if (startswith(after[i], APT_TRUSTED_D "/") && !strv_contains(before, after[i])) {
                        r = remove_vendor_file(c, after[i], "the package added a key trusted for "
                                               "every repository; its repository has its own keyring");
                        if (r < 0)
                                return r;
                }
        return 0;
}

/* What the checks after an install saw. */
struct ide_check {
        bool package_installed;
        char *version;            /* from the command, else dpkg's */
        char *executable;         /* resolved command path */
        char **errors;            /* strv: one line per failed check */
};

static void check_release(struct ide_check *k)
{
        free(k->version);
        free(k->executable);
        strv_free(k->errors);
        *k = (struct ide_check){ 0 };
}

/* The first PATH entry holding an executable name. */
static char *which(const char *name)
{
        static const char *const dirs[] = { "/usr/local/bin", "/usr/bin", "/bin", "/usr/local/sbin",
                                            "/usr/sbin", "/sbin", NULL };

        for (size_t i = 0; dirs[i]; i++) {
                char *p = xasprintf("%s/%s", dirs[i], name);

                if (access(p, X_OK) == 0)
                        return p;
                free(p);
        }
        return NULL;
}

/* The developer account, when it exists: the IDE is started as it. */
static const char *dev_user(struct phase_ctx *c)
{
        const char *u = phase_answers(c)->username;

        return u[0] && getpwnam(u) ? u : NULL;
}

static int run_checks(struct phase_ctx *c, const struct ide_job *j, struct ide_check *k)
{
        const struct ide_entry *e = j->e;
        const char *const dq[] = { "dpkg-query", "-W", "-f=${db:Status-Abbrev}", e->package, NULL };
        _cleanup_strv_ char **argv = NULL, **libs = NULL;
        _cleanup_free_ char *out = NULL, *ldd_out = NULL, *target = NULL, *status = NULL;
        const char *user = dev_user(c), *elf;
        int r;

        *k = (struct ide_check){ 0 };
        r = ops_query(c, dq, &status);
        if (r < 0)
                return r;
        /* "ii " = installed and configured; dpkg-query exits 1 for an unknown name */
        k->package_installed = r == 0 && startswith(status, "ii");
        if (!k->package_installed) {
                strv_pushf(&k->errors, "package %s is not installed", e->package);
                return 0;
        }
        k->executable = which(e->command);
        if (!k->executable) {
                strv_pushf(&k->errors, "command %s is not on PATH", e->command);
        } else {
                if (user) {
                        strv_push(&argv, "runuser");
                        strv_push(&argv, "-u");
                        strv_push(&argv, user);
                        strv_push(&argv, "--");
                }
                strv_push(&argv, k->executable);
                for (size_t i = 0; e->version_args[i]; i++)
                        strv_push(&argv, e->version_args[i]);
                r = ops_query(c, (const char *const *)argv, &out);
                if (r != 0 || !(k->version = ide_parse_version(out)))
                        strv_pushf(&k->errors, "%s %s did not report a version (exit %d)", e->command,
                                   e->version_args[0], r);
        }
        if (!path_exists(e->desktop_file))
                strv_pushf(&k->errors, "desktop launcher %s is missing", e->desktop_file);
        if (e->binary)
                elf = e->binary;
        else
                elf = k->executable ? (target = realpath(k->executable, NULL)) : NULL;
        if (elf) {
                const char *const ldd[] = { "ldd", elf, NULL };

                if (!path_exists(elf))
                        strv_pushf(&k->errors, "program %s is missing", elf);
                else if (ops_query(c, ldd, &ldd_out) >= 0 && (libs = ide_parse_ldd_missing(ldd_out))) {
                        _cleanup_free_ char *names = strv_join(libs, ", ");

                        strv_pushf(&k->errors, "ldd %s: libraries not found: %s", elf, names);
                }
        }
        return 0;
}

/* The sources file we wrote names our keyring: both must be there. */
static bool our_source_in_place(const struct ide_job *j)
{
        _cleanup_free_ char *text = NULL, *kr = NULL;

        if (read_file(j->sources, 1u << 20, &text, NULL) < 0 || !startswith(text, SOURCE_MARK) ||
            !ide_source_names_uri(text, j->e->uri))
                return false;
        kr = ide_source_signed_by(text);
        return kr && path_exists(kr);
}

static int ide_verify(struct phase_ctx *c, enum ide_id id)
{
        struct ide_job j;
        struct ide_check k;
        int r, done;

        r = load_job(c, id, &j, false);
        if (r < 0) {
                phase_verify_note(c, "the IDE catalog cannot be read or has no entry for %s",
                                  ide_id_name(id));
                return 0;
        }
        r = run_checks(c, &j, &k);
        if (r < 0) {
                job_release(&j);
                return r;
        }
        done = !k.errors;
        if (k.errors)
                phase_verify_note(c, "%s", k.errors[0]);
        if (done && j.e->method == IDE_CAT_APT_REPOSITORY && !our_source_in_place(&j)) {
                _cleanup_free_ char *other = foreign_source(&j);

                /* installed from a repository someone else configured: fine */
                if (!other) {
                        phase_verify_note(c, "%s is installed but its apt source %s is missing",
                                          j.e->display_name, j.sources);
                        done = 0;
                }
        }
        phase_verify_digest(c, "%s %s %s", j.e->package, k.version ? k.version : "-",
                            done ? "ok" : "not-ok");
        check_release(&k);
        job_release(&j);
        return done;
}

static void record_session(struct phase_ctx *c, const struct ide_job *j, const struct ide_check *k)
{
        struct session *s = phase_session(c);
        struct session_ide *d = NULL;

        for (size_t i = 0; i < s->n_ides; i++)
                if (s->ides[i].ide_name && strcmp(s->ides[i].ide_name, j->e->ide_name) == 0) {
                        d = &s->ides[i];
                        free(d->version);
                        free(d->installation_path);
                        free(d->executable_path);
                        free(d->desktop_launcher_path);
                        free(d->command_name);
                        strv_free(d->verification_errors);
                        d->version = d->installation_path = d->executable_path = NULL;
                        d->desktop_launcher_path = d->command_name = NULL;
                        d->verification_errors = NULL;
                        break;
                }
        if (!d)
                d = session_add_ide(s, j->e->ide_name);
        d->version = k->version ? xstrdup(k->version) : NULL;
        d->installation_method = j->e->method == IDE_CAT_DEB_PACKAGE ? IDE_METHOD_DEB_PACKAGE :
                                 j->e->method == IDE_CAT_APPIMAGE ? IDE_METHOD_APPIMAGE :
                                 IDE_METHOD_APT_REPOSITORY;
        if (j->e->binary) {
                _cleanup_free_ char *dir = xstrdup(j->e->binary);
                char *slash = strrchr(dir, '/');

                if (slash && slash != dir)
                        *slash = '\0';
                d->installation_path = xstrdup(dir);
        }
        d->executable_path = k->executable ? xstrdup(k->executable) : NULL;
        d->desktop_launcher_path = xstrdup(j->e->desktop_file);
        d->command_name = xstrdup(j->e->command);
        iso8601_now(d->installed_at);
        d->verified = !k->errors;
        d->verification_errors = strv_copy(k->errors);
        phase_session_save(c);
}

/* The repository part: key, keyring, source, refresh. */
static int setup_repository(struct phase_ctx *c, struct ide_job *j)
{
        const struct ide_entry *e = j->e;
        _cleanup_free_ char *key = NULL, *text = NULL, *other = NULL;
        bool armored = false;
        size_t len = 0;
        int r, st;

        other = foreign_source(j);
        if (other) {
                phase_log(c, LOG_WARNING, "%s is already configured in %s; using that source as it "
                          "is instead of adding a second one", e->uri, other);
                (void)strscpy(j->sources, sizeof(j->sources), other);
        }

        phase_action_begin(c, "KEY_IMPORT", e->key_url, "Fetching and checking the %s signing key",
                           e->display_name);
        r = phase_action_end(c, fetch_and_check_key(c, j, &key, &len, &armored));
        if (r < 0)
                return r;
        pathf(j->keyring, sizeof(j->keyring), "%s/vps-provision-%s.%s", e->keyring_dir, e->id,
                       armored ? "asc" : "gpg");
        if (other)
                return 0;   /* the key was checked; the other source keeps its own keyring */

        phase_action_begin(c, "REPOSITORY_ADD", e->uri, "Adding the %s apt repository",
                           e->display_name);
        {
                struct undo u = { .kind = UNDO_REMOVE_APT_SOURCE, .path = j->sources };
                char *list[] = { j->keyring, NULL };
                int64_t seq;

                u.list = list;
                seq = phase_journal(c, "REPOSITORY_ADD", j->sources, &u);
                r = seq < 0 ? phase_fail(c, (int)seq, "cannot journal the apt source %s", j->sources) : 0;
        }
        if (r >= 0)
                r = ops_mkdir(c, e->keyring_dir, 0755, 0, 0);
        if (r >= 0)
                r = ops_write_file(c, j->keyring, key, len, 0644, 0, 0);
        if (r >= 0) {
                text = ide_sources_text(e, j->keyring, j->arch);
                r = ops_write_file(c, j->sources, text, strlen(text), 0644, 0, 0);
        }
        r = phase_action_end(c, r);
        if (r < 0)
                return r;
        phase_progress(c, 0.12, "refreshing the %s repository", e->display_name);

        phase_action_begin(c, "COMMAND_EXEC", "apt-get update", "Refreshing the %s repository only",
                           e->display_name);
        {
                _cleanup_free_ char *o1 = xasprintf("Dir::Etc::sourcelist=%s", j->sources);
                const char *const argv[] = { "apt-get", "update", "-q", "-o", o1, "-o",
                                             "Dir::Etc::sourceparts=-", "-o",
                                             "APT::Get::List-Cleanup=0", NULL };
                struct ops_run_opts ro = { .ok_statuses_any = true, .timeout_ms = 15 * 60 * 1000 };

                st = ops_run(c, argv, &ro);
        }
        if (st != 0) {
                /* No half-configured repository: take the source and key away again. */
                (void)ops_remove_file(c, j->sources);
                (void)ops_remove_file(c, j->keyring);
                if (st < 0)
                        return phase_action_end(c, st);
                return phase_action_end(c, phase_fail(c, -EIO,
                        "apt could not use the %s repository %s (apt-get update exited %d): its "
                        "Release file is missing or unreachable, or its signature does not verify "
                        "with the pinned key %s (see apt's messages in the log); the source and "
                        "keyring were removed again",
                        e->display_name, e->uri, st, e->fingerprints[0]));
        }
        return phase_action_end(c, 0);
}

/* ---- prefetch: the packages of every IDE still to install, at once --------
 *
 * The first IDE phase to run downloads the packages of all enabled IDEs in
 * one apt run (apt fetches from the vendors' hosts in parallel) into apt's
 * package cache, through a private apt configuration in the state
 * directory: the sources, keyrings (checked against the pinned
 * fingerprints) and lists live there, so nothing of the system's apt
 * configuration changes, only its package cache fills. apt refreshes the
 * private lists (checking the Release signatures) and names each package's
 * file, size and sha256 from the signed index; the files themselves come
 * side by side through engine/fetch (apt would fetch one host at a time
 * from repositories on one server) and are checked against that sha256. Each phase then
 * configures its repository and installs as usual, and apt finds the
 * package already downloaded (same hash). A failed prefetch only costs time:
 * the phases download what is missing themselves.
 * VPS_PROVISION_IDE_PREFETCH=0 turns it off (to measure the difference). */

#define APT_ARCHIVES "/var/cache/apt/archives"

static bool prefetch_ran;


/* The installed-state of a package: true when dpkg has it configured. */
static bool pkg_installed(struct phase_ctx *c, const char *pkg)
{
        const char *const dq[] = { "dpkg-query", "-W", "-f=${db:Status-Abbrev}", pkg, NULL };
        _cleanup_free_ char *out = NULL;

        return ops_query(c, dq, &out) == 0 && startswith(out, "ii");
}

static void prefetch_line(void *userdata, enum run_stream stream, const char *line, size_t len,
                          bool truncated)
{
        (void)stream;
        (void)len;
        (void)truncated;
        phase_log(userdata, LOG_DEBUG, "prefetch: %s", line);
}

/* Runs argv in cwd, its output into the log at debug level. Exit status or -errno. */
static int prefetch_cmd(struct phase_ctx *c, const char *const *argv, const char *cwd)
{
        struct run_opts ro;

        run_opts_init(&ro);
        ro.argv = argv;
        ro.cwd = cwd;
        ro.timeout_ms = 30 * 60 * 1000;
        ro.on_line = prefetch_line;
        ro.userdata = c;
        return run_command(&ro, NULL);
}

/* One package's record from apt-cache show: where it is and what it hashes to. */
struct prefetch_deb {
        char *filename, *sha256, *cache_name, *url, *dest;
        uint64_t size;
};

static void prefetch_deb_release(struct prefetch_deb *d)
{
        free(d->filename);
        free(d->sha256);
        free(d->cache_name);
        free(d->url);
        free(d->dest);
        *d = (struct prefetch_deb){ 0 };
}

/* The value of "Field: value" in one record [rec, end), or NULL. */
static char *record_field(const char *rec, const char *end, const char *field)
{
        size_t fl = strlen(field);

        for (const char *l = rec; l && l < end; ) {
                const char *nl = memchr(l, '\n', (size_t)(end - l));
                size_t len = nl ? (size_t)(nl - l) : (size_t)(end - l);

                if (len > fl + 1 && strncmp(l, field, fl) == 0 && l[fl] == ':') {
                        const char *v = l + fl + 1;

                        while (v < l + len && *v == ' ')
                                v++;
                        return xstrndup(v, (size_t)(l + len - v));
                }
                l = nl ? nl + 1 : NULL;
        }
        return NULL;
}

/* apt's name for a package in its cache: NAME_VERSION_ARCH.deb, with '_',
 * ':' and '%' written as %XX (an epoch's colon as %3a). */
static void cache_quote(struct buf *b, const char *s)
{
        for (; *s; s++)
                if (*s == '_' || *s == ':' || *s == '%' || (unsigned char)*s <= 0x20 ||
                    (unsigned char)*s >= 0x7f)
                        (void)buf_printf(b, "%%%02x", (unsigned char)*s);
                else
                        (void)buf_append(b, s, 1);
}

char *ide_apt_cache_name(const char *pkg, const char *version, const char *arch)
{
        struct buf b;

        buf_init(&b, 4096);
        cache_quote(&b, pkg);
        (void)buf_append(&b, "_", 1);
        cache_quote(&b, version);
        (void)buf_append(&b, "_", 1);
        cache_quote(&b, arch);
        (void)buf_append(&b, ".deb", 4);
        return buf_steal(&b);
}

/* Finds pkg's record in apt-cache show output and fills d. */
static int prefetch_parse_record(const char *records, const char *pkg, struct prefetch_deb *d)
{
        const char *rec = records;

        while (rec && *rec) {
                const char *end = strstr(rec, "\n\n");
                _cleanup_free_ char *name = NULL, *ver = NULL, *arch = NULL, *size = NULL;

                if (!end)
                        end = rec + strlen(rec);
                name = record_field(rec, end, "Package");
                if (name && strcmp(name, pkg) == 0) {
                        long sz;

                        ver = record_field(rec, end, "Version");
                        arch = record_field(rec, end, "Architecture");
                        size = record_field(rec, end, "Size");
                        d->filename = record_field(rec, end, "Filename");
                        d->sha256 = record_field(rec, end, "SHA256");
                        if (!ver || !arch || !size || !d->filename || !d->sha256 ||
                            parse_long(size, 1, LONG_MAX, &sz) < 0 || strlen(d->sha256) != 64 ||
                            strstr(d->filename, "..") || strchr(ver, '/') || strchr(arch, '/')) {
                                prefetch_deb_release(d);
                                return -EINVAL;
                        }
                        d->size = (uint64_t)sz;
                        d->cache_name = ide_apt_cache_name(pkg, ver, arch);
                        return 0;
                }
                rec = *end ? end + 2 : NULL;
        }
        return -ENOENT;
}

static void prefetch_all(struct phase_ctx *c)
{
        const struct answers *a = phase_answers(c);
        const char *env = getenv("VPS_PROVISION_IDE_PREFETCH");
        char path[PATH_MAX], err[1024], dir[PATH_MAX] = "", lists[PATH_MAX + 16],
             debs[PATH_MAX + 16], sources[PATH_MAX + 16];
        struct ide_catalog cat = { 0 };
        const struct ide_entry *todo[_IDE_MAX];
        struct fetch_req reqs[_IDE_MAX];
        struct fetch_result res[_IDE_MAX];
        char *keyfile[_IDE_MAX] = { NULL };
        _cleanup_strv_ char **pkgs = NULL;
        struct buf text;
        struct fetch_opts fo;
        size_t n = 0, moved = 0;
        uint64_t bytes = 0;
        int64_t t0 = now_ms();
        int r;

        if (prefetch_ran || (env && strcmp(env, "0") == 0))
                return;
        prefetch_ran = true;
        ide_catalog_path(a, phase_paths(c), path, sizeof(path));
        if (ide_catalog_load(path, &cat, err, sizeof(err)) < 0)
                return;
        for (int i = 0; i < _IDE_MAX; i++) {
                const struct ide_entry *e = ide_catalog_find(&cat, ide_id_name(i));
                const char *arch = phase_vps(c)->architecture;

                if (a->ide[i] && e && e->method == IDE_CAT_APT_REPOSITORY && e->fingerprints &&
                    ide_entry_supports(e, arch[0] ? arch : "amd64") && !pkg_installed(c, e->package))
                        todo[n++] = e;
        }
        if (n < 2)
                goto out;   /* nothing to do side by side */

        pathf(dir, sizeof(dir), "%s/downloads/prefetch", phase_paths(c)->state_dir);
        pathf(lists, sizeof(lists), "%s/lists", dir);
        pathf(debs, sizeof(debs), "%s/debs", dir);
        pathf(sources, sizeof(sources), "%s/all.sources", dir);
        work_dir_remove(dir);
        if (mkdir_p(lists, 0700) < 0 || mkdir_p(debs, 0755) < 0)
                goto out;
        {
                char partial[PATH_MAX + 32];

                pathf(partial, sizeof(partial), "%s/partial", lists);
                if (mkdir_p(partial, 0700) < 0)
                        goto out;
        }
        phase_progress(c, 0.01, "downloading %zu IDEs at once", n);

        /* the keys, all at once, each checked like the phase checks it */
        for (size_t i = 0; i < n; i++) {
                keyfile[i] = xasprintf("%s/%s.key", dir, todo[i]->id);
                reqs[i] = (struct fetch_req){ .url = todo[i]->key_url, .dest = keyfile[i],
                                              .max_bytes = KEY_MAX_BYTES };
        }
        fetch_opts_init(&fo);
        if (cat.fetch.retries >= 0)
                fo.retries = (unsigned)cat.fetch.retries;
        if (cat.fetch.backoff_ms)
                fo.backoff_ms = cat.fetch.backoff_ms;
        if (cat.fetch.stall_seconds)
                fo.low_speed_s = cat.fetch.stall_seconds;
        if (fetch_many(reqs, n, &fo, res) < 0) {
                phase_log(c, LOG_INFO, "prefetch skipped: a key download failed (the phase will say why)");
                goto out;
        }
        buf_init(&text, 1u << 20);
        for (size_t i = 0; i < n; i++) {
                char home[PATH_MAX + 16], keyring[PATH_MAX + 16];
                const char *const argv[] = { "gpg", "--homedir", home, "--batch", "--no-tty",
                                             "--with-colons", "--show-keys", keyfile[i], NULL };
                _cleanup_free_ char *out = NULL, *key = NULL, *stanza = NULL;
                _cleanup_strv_ char **got = NULL;
                bool ok;
                size_t len = 0;

                pathf(home, sizeof(home), "%s/gnupg-%s", dir, todo[i]->id);
                if (mkdir_p(home, 0700) < 0 || ops_query(c, argv, &out) != 0)
                        break;
                got = ide_parse_primary_fingerprints(out);
                ok = got != NULL;
                for (size_t k = 0; got && got[k]; k++)
                        ok &= strv_contains(todo[i]->fingerprints, got[k]);
                if (!ok || read_file(keyfile[i], KEY_MAX_BYTES, &key, &len) < 0)
                        break;
                pathf(keyring, sizeof(keyring), "%s/%s.%s", dir, todo[i]->id,
                      strstr(key, "-----BEGIN PGP PUBLIC KEY BLOCK-----") ? "asc" : "gpg");
                if (rename(keyfile[i], keyring) < 0)
                        break;
                stanza = ide_sources_text(todo[i], keyring, phase_vps(c)->architecture[0] ?
                                          phase_vps(c)->architecture : "amd64");
                (void)buf_printf(&text, "%s%s", text.len ? "\n" : "", stanza);
                strv_push(&pkgs, todo[i]->package);
        }
        if (strv_length(pkgs) != n) {
                phase_log(c, LOG_INFO, "prefetch skipped: a key does not match its pinned fingerprint "
                          "(the phase will say why)");
                buf_release(&text);
                goto out;
        }
        r = write_file_atomic(sources, text.data, text.len, 0644, (uid_t)-1, (gid_t)-1);
        buf_release(&text);
        if (r < 0)
                goto out;
        {
                _cleanup_free_ char *o_src = xasprintf("Dir::Etc::sourcelist=%s", sources);
                _cleanup_free_ char *o_lists = xasprintf("Dir::State::Lists=%s", lists);
                const char *base[] = { "-q", "-o", o_src, "-o", "Dir::Etc::sourceparts=-",
                                       "-o", o_lists, "-o", "Dir::Cache::pkgcache=",
                                       "-o", "Dir::Cache::srcpkgcache=", "-o", "APT::Sandbox::User=root" };
                _cleanup_strv_ char **update = NULL, **show = NULL;
                _cleanup_free_ char *records = NULL;
                struct fetch_req dreq[_IDE_MAX];
                struct fetch_result dres[_IDE_MAX];
                struct prefetch_deb debinfo[_IDE_MAX] = { 0 };
                size_t nd = 0;

                strv_push(&update, "apt-get");
                strv_push(&show, "apt-cache");
                for (size_t i = 0; i < ELEMENTSOF(base); i++) {
                        strv_push(&update, base[i]);
                        strv_push(&show, base[i]);
                }
                strv_push(&update, "update");
                strv_push(&show, "show");
                strv_push(&show, "--no-all-versions");
                for (size_t i = 0; pkgs[i]; i++)
                        strv_push(&show, pkgs[i]);
                /* apt checks the Release signatures and gives each package's
                 * file, size and sha256 from the signed index */
                if (prefetch_cmd(c, (const char *const *)update, "/") != 0 ||
                    ops_query(c, (const char *const *)show, &records) != 0) {
                        phase_log(c, LOG_INFO, "prefetch skipped: apt could not read the repositories "
                                  "(the phases will say why)");
                        goto out;
                }
                for (size_t i = 0; i < n; i++) {
                        struct prefetch_deb *d = &debinfo[nd];

                        if (prefetch_parse_record(records, todo[i]->package, d) < 0)
                                continue;
                        d->url = xasprintf("%.*s/%s", (int)uri_len(todo[i]->uri), todo[i]->uri, d->filename);
                        d->dest = xasprintf("%s/%s", debs, d->cache_name);
                        dreq[nd] = (struct fetch_req){ .url = d->url, .dest = d->dest, .sha256 = d->sha256,
                                                       .max_bytes = d->size };
                        nd++;
                }
                /* the packages themselves, side by side (libcurl multi) */
                fo.max_parallel = _IDE_MAX;
                r = nd ? fetch_many(dreq, nd, &fo, dres) : 0;
                for (size_t i = 0; i < nd; i++) {
                        _cleanup_free_ char *to = xasprintf(APT_ARCHIVES "/%s", debinfo[i].cache_name);

                        if (dres[i].kind == FETCH_OK &&
                            (rename(debinfo[i].dest, to) == 0 ||
                             copy_file_synced(debinfo[i].dest, to, 0644) == 0)) {
                                moved++;
                                bytes += dres[i].bytes;
                        } else if (dres[i].kind != FETCH_OK)
                                phase_log(c, LOG_INFO, "prefetch of %s failed: %s (the phase will "
                                          "download it)", debinfo[i].url, dres[i].message);
                        prefetch_deb_release(&debinfo[i]);
                }
                (void)r;
        }
        phase_log(c, LOG_INFO, "prefetched %zu IDE packages (%llu kB) in %lld ms, side by side", moved,
                  (unsigned long long)(bytes / 1024), (long long)(now_ms() - t0));
out:
        for (size_t i = 0; i < n; i++)
                free(keyfile[i]);
        if (dir[0])
                work_dir_remove(dir);
        ide_catalog_release(&cat);
}

static int ide_run(struct phase_ctx *c, enum ide_id id)
{
        struct ide_job j;
        struct ide_check k = { 0 };
        _cleanup_strv_ char **before = NULL;
        _cleanup_free_ char *debpath = NULL, *errs = NULL;
        int r;

        r = load_job(c, id, &j, true);
        if (r < 0)
                return r;
        if (!ide_entry_supports(j.e, j.arch)) {
                _cleanup_free_ char *archs = strv_join(j.e->architectures, ", ");

                r = phase_fail(c, -ENOTSUP, "%s is published for %s, and this server is %s; remove %s "
                               "from [ides] install (nothing was changed)", j.e->display_name, archs,
                               j.arch, j.e->id);
                goto out;
        }
        if (j.e->method == IDE_CAT_APPIMAGE) {
                r = phase_fail(c, -ENOTSUP, "the catalog %s says to install %s as an AppImage, which "
                               "this version of vps-provision does not do; use apt_repository or "
                               "deb_package", j.cat.path, j.e->display_name);
                goto out;
        }
        prefetch_all(c);
        r = work_dir_fresh(c, j.work);
        if (r < 0)
                goto out;

        if (j.e->method == IDE_CAT_APT_REPOSITORY) {
                r = setup_repository(c, &j);
                if (r < 0)
                        goto out;
        } else {
                const struct ide_deb *d = ide_entry_deb(j.e, j.arch);

                if (!d) {
                        r = phase_fail(c, -ENOTSUP, "the catalog %s has no %s .deb for %s",
                                       j.cat.path, j.e->display_name, j.arch);
                        goto out;
                }
                debpath = xasprintf("%s/%s_%s.deb", j.work, j.e->package, j.arch);
                phase_action_begin(c, "FILE_DOWNLOAD", d->url, "Downloading %s", j.e->display_name);
                r = phase_action_end(c, download(c, &j, d->url, debpath, d->sha256,
                                                 j.e->max_bytes ? j.e->max_bytes : (UINT64_C(1) << 30),
                                                 j.e->display_name, 0.02, 0.3));
                if (r < 0)
                        goto out;
        }
        phase_progress(c, 0.3, "installing %s", j.e->display_name);

        before = watched_files(&j);
        phase_action_begin(c, "PACKAGE_INSTALL", j.e->package, "Installing %s", j.e->display_name);
        {
                const char *const pkgs[] = { debpath ? debpath : j.e->package, NULL };

                r = phase_action_end(c, ops_apt_install(c, pkgs, 0, 0.3, 0.85));
        }
        if (r < 0)
                goto out;
        if (j.e->method == IDE_CAT_APT_REPOSITORY) {
                phase_action_begin(c, "FILE_DELETE", j.e->uri, "Keeping a single apt source for %s",
                                   j.e->display_name);
                r = phase_action_end(c, remove_duplicate_sources(c, &j, before));
                if (r < 0)
                        goto out;
        }
        phase_progress(c, 0.9, "checking %s", j.e->display_name);

        r = run_checks(c, &j, &k);
        if (r < 0) {
                r = phase_fail(c, r, "cannot check the %s install: %s", j.e->display_name, strerror(-r));
                goto out;
        }
        record_session(c, &j, &k);
        if (k.errors) {
                errs = strv_join(k.errors, "; ");
                r = phase_fail(c, -EIO, "%s was installed but does not work: %s", j.e->display_name,
                               errs);
                goto out;
        }
        phase_summary(c, "%s %s: %s", j.e->display_name, k.version, j.e->command);
        phase_progress(c, 1.0, NULL);
        r = 0;
out:
        if (j.work[0])
                work_dir_remove(j.work);
        check_release(&k);
        job_release(&j);
        return r;
}

static int ide_plan(struct phase_ctx *c, enum ide_id id)
{
        struct ide_job j;
        int r = load_job(c, id, &j, true);

        if (r < 0)
                return r;
        if (!ide_entry_supports(j.e, j.arch))
                phase_plan(c, "COMMAND_EXEC", j.e->id, "fails: %s is not published for %s",
                           j.e->display_name, j.arch);
        else if (j.e->method == IDE_CAT_APT_REPOSITORY) {
                _cleanup_free_ char *fps = strv_join(j.e->fingerprints, ", ");

                phase_plan(c, "KEY_IMPORT", j.e->key_url, "fetch the signing key, require fingerprint %s",
                           fps && fps[0] ? fps : "(none pinned: will refuse)");
                phase_plan(c, "REPOSITORY_ADD", j.sources, "%s %s %s, Signed-By a keyring of its own in %s",
                           j.e->uri, j.e->suite, j.e->components[0], j.e->keyring_dir);
                phase_plan(c, "COMMAND_EXEC", "apt-get update", "refresh only that source");
                phase_plan(c, "PACKAGE_INSTALL", j.e->package, "install %s", j.e->display_name);
                phase_plan(c, "FILE_DELETE", j.e->uri, "remove a second source for the same "
                           "repository if the package adds one");
        } else if (j.e->method == IDE_CAT_DEB_PACKAGE) {
                const struct ide_deb *d = ide_entry_deb(j.e, j.arch);

                phase_plan(c, "FILE_DOWNLOAD", d ? d->url : j.e->id, "download, require sha256 %s",
                           d ? d->sha256 : "(no .deb for this architecture)");
                phase_plan(c, "PACKAGE_INSTALL", j.e->package, "install %s", j.e->display_name);
        }
        phase_plan(c, "COMMAND_EXEC", j.e->command, "check: %s %s reports a version, %s exists, "
                   "ldd finds every library", j.e->command, j.e->version_args[0], j.e->desktop_file);
        job_release(&j);
        return 0;
}

/* The catalog entry is this phase's input: a changed source re-runs it. */
static void ide_inputs(const struct answers *a, struct sha256_ctx *d, enum ide_id id)
{
        struct paths p;
        struct ide_catalog cat;
        char path[PATH_MAX], err[512];
        const struct ide_entry *e;

        if (paths_init(&p, err, sizeof(err)) < 0)
                return;
        ide_catalog_path(a, &p, path, sizeof(path));
        if (ide_catalog_load(path, &cat, err, sizeof(err)) < 0)
                return;
        e = ide_catalog_find(&cat, ide_id_name(id));
        if (e) {
                _cleanup_free_ char *line = NULL, *fps = strv_join(e->fingerprints, ",");

                line = xasprintf("%s|%d|%s|%s|%s|%s\n", e->package, (int)e->method,
                                 e->uri ? e->uri : "", e->suite ? e->suite : "", fps,
                                 e->n_debs ? e->debs[0].sha256 : "");
                sha256_add(d, line, strlen(line));
        }
        ide_catalog_release(&cat);
}

#define IDE_PHASE(name, ID, idname, title_, summary_)                                         \
        static bool name##_enabled(const struct answers *a) { return a->ide[ID]; }           \
        static void name##_inputs(const struct answers *a, struct sha256_ctx *d)             \
        {                                                                                    \
                ide_inputs(a, d, ID);                                                        \
        }                                                                                    \
        static int name##_plan(struct phase_ctx *c) { return ide_plan(c, ID); }              \
        static int name##_verify(struct phase_ctx *c) { return ide_verify(c, ID); }          \
        static int name##_run(struct phase_ctx *c) { return ide_run(c, ID); }                \
        const struct phase phase_##name = {                                                  \
                .id = idname,                                                                \
                .title = title_,                                                             \
                .summary = summary_,                                                         \
                .weight = 12,                                                                \
                .enabled = name##_enabled,                                                   \
                .inputs = name##_inputs,                                                     \
                .plan = name##_plan,                                                         \
                .verify = name##_verify,                                                     \
                .run = name##_run,                                                           \
        }

IDE_PHASE(ide_vscode, IDE_VSCODE, "ide-vscode", "Visual Studio Code",
          "VS Code from Microsoft's signed apt repository, key fingerprint pinned");
IDE_PHASE(ide_cursor, IDE_CURSOR, "ide-cursor", "Cursor",
          "Cursor from Anysphere's signed apt repository, key fingerprint pinned");
IDE_PHASE(ide_antigravity, IDE_ANTIGRAVITY, "ide-antigravity", "Google Antigravity",
          "Antigravity from Google's signed apt repository, key fingerprint pinned");
