/* ide.c — the IDE phases: one phase "ide-ID" for each entry of the IDE
 * catalog (ide_catalog.h), each installing its IDE from the vendor's signed
 * apt repository (or a checksummed .deb) as the entry says. Nothing here
 * knows an IDE by name: a new catalog entry is a new phase.
 *
 * DESIGN (apt_repository): ops_apt_add_source() adds the repository once
 * its key (every primary key pinned, none expired or revoked, only the
 * pinned keys exported) and its Release signature check out, replacing
 * another source for the same repository. Of the packages the entry names
 * (preferred first), the first the repository offers whose .deb ships the
 * entry's binary and desktop file is downloaded into apt's cache (checked
 * against the signed index) and installed: a package name that now
 * belongs to another program is never installed for the IDE. The entry's
 * debconf answers are given before the install (VS Code's package then
 * writes no apt source of its own); a source or global key the package
 * adds all the same for the same repository is removed after it, journaled.
 * The result is checked (the command reports a version, the desktop
 * launcher exists, ldd finds every library) and recorded in the session as
 * an IDEInstallation.
 *
 * Undo: every file and package through ops.h, journaled with its undo. */
#include "ide.h"

#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ops.h"
#include "session.h"

#define IDE_WEIGHT 12

/* One IDE phase's data. */
struct ide_def {
        const struct ide_catalog *cat;
        const struct ide_entry *e;
        char *id, *title, *summary;
};

/* ---- pure parts ---------------------------------------------------------- */

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

char **ide_missing_files(const struct ide_entry *e, char *const *files)
{
        char **ret = NULL;

        if (!strv_contains(files, e->desktop_file))
                strv_push(&ret, e->desktop_file);
        if (e->binary && !strv_contains(files, e->binary))
                strv_push(&ret, e->binary);
        return ret;
}

/* ---- one run of a phase -------------------------------------------------- */

struct job {
        const struct ide_def *d;
        const struct ide_entry *e;
        const char *arch;
        struct ops_fetch_tuning tuning;
        struct ops_apt_source src;        /* apt_repository */
        char comment[256], pinned_by[PATH_MAX + 32];
};

static void job_init(struct phase_ctx *c, struct job *j)
{
        const struct ide_def *d = phase_data(c);
        const struct ide_entry *e = d->e;
        const char *arch = phase_vps(c)->architecture;

        *j = (struct job){ .d = d, .e = e, .arch = arch[0] ? arch : "amd64" };
        j->tuning = (struct ops_fetch_tuning){
                .retries = d->cat->fetch.retries,
                .backoff_ms = d->cat->fetch.backoff_ms,
                .stall_seconds = d->cat->fetch.stall_seconds,
                .connect_timeout_ms = d->cat->fetch.connect_timeout_ms,
        };
        (void)snprintf(j->comment, sizeof(j->comment), "# Written by vps-provision (%s phase) for "
                       "%s; removed by its rollback.", d->id, e->display_name);
        (void)snprintf(j->pinned_by, sizeof(j->pinned_by), "the IDE catalog %s", d->cat->path);
        if (e->method == IDE_CAT_APT_REPOSITORY)
                j->src = (struct ops_apt_source){
                        .id = e->id, .name = e->display_name, .comment = j->comment,
                        .uri = e->uri, .suite = e->suite, .components = e->components,
                        .arch = j->arch, .key_url = e->key_url, .fingerprints = e->fingerprints,
                        .pinned_by = j->pinned_by, .keyring_dir = e->keyring_dir,
                        .sources_dir = e->sources_dir, .tuning = &j->tuning,
                        .from = 0.02, .to = 0.15,
                };
}

/* The first of the entry's packages dpkg has installed, or NULL. */
static const char *installed_package(struct phase_ctx *c, const struct ide_entry *e)
{
        _cleanup_strv_ char **installed = NULL;

        if (ops_pkgs_installed(c, (const char *const *)e->packages, &installed) < 0)
                return NULL;
        for (size_t i = 0; e->packages[i]; i++)
                if (strv_contains(installed, e->packages[i]))
                        return e->packages[i];
        return NULL;
}

/* What the checks after an install saw. */
struct ide_check {
        const char *package;      /* the installed one, or NULL */
        char *version;            /* from the command */
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

static void run_checks(struct phase_ctx *c, const struct job *j, struct ide_check *k)
{
        const struct ide_entry *e = j->e;
        _cleanup_strv_ char **argv = NULL, **libs = NULL;
        _cleanup_free_ char *out = NULL, *ldd_out = NULL, *target = NULL, *names = NULL;
        const char *user = dev_user(c), *elf;
        int r;

        *k = (struct ide_check){ .package = installed_package(c, e) };
        if (!k->package) {
                names = strv_join(e->packages, " or ");
                strv_pushf(&k->errors, "package %s is not installed", names);
                return;
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
                        _cleanup_free_ char *list = strv_join(libs, ", ");

                        strv_pushf(&k->errors, "ldd %s: libraries not found: %s", elf, list);
                }
        }
}

static void record_session(struct phase_ctx *c, const struct job *j, const struct ide_check *k)
{
        struct session *s = phase_session(c);
        const struct ide_entry *e = j->e;
        struct session_ide *d = session_set_ide(s, e->ide_name);

        d->version = k->version ? xstrdup(k->version) : NULL;
        d->installation_method = e->method == IDE_CAT_DEB_PACKAGE ? IDE_METHOD_DEB_PACKAGE :
                                 e->method == IDE_CAT_APPIMAGE ? IDE_METHOD_APPIMAGE :
                                 IDE_METHOD_APT_REPOSITORY;
        if (e->binary) {
                _cleanup_free_ char *dir = xstrdup(e->binary);
                char *slash = strrchr(dir, '/');

                if (slash && slash != dir)
                        *slash = '\0';
                d->installation_path = xstrdup(dir);
        }
        d->executable_path = k->executable ? xstrdup(k->executable) : NULL;
        d->desktop_launcher_path = xstrdup(e->desktop_file);
        d->command_name = xstrdup(e->command);
        iso8601_now(d->installed_at);
        d->verified = !k->errors;
        d->verification_errors = strv_copy(k->errors);
        phase_session_save(c);
}

/* Of the entry's packages, preferred first, the first the repository
 * offers whose .deb ships what the IDE must: downloaded into apt's cache,
 * its name=version into *ret_spec. */
static int choose_package(struct phase_ctx *c, const struct job *j, char **ret_spec)
{
        const struct ide_entry *e = j->e;
        _cleanup_strv_ char **why = NULL;
        _cleanup_free_ char *whys = NULL, *must = NULL;
        int r;

        for (size_t i = 0; e->packages[i]; i++) {
                struct ops_apt_package p;
                _cleanup_free_ char *path = NULL, *missing_s = NULL;
                _cleanup_strv_ char **files = NULL, **missing = NULL;

                r = ops_apt_source_package(c, &j->src, e->packages[i], &p);
                if (r == -ENOENT) {
                        strv_pushf(&why, "%s is not in it", e->packages[i]);
                        continue;
                }
                if (r < 0)
                        return phase_fail(c, r, "cannot ask apt about package %s: %s", e->packages[i],
                                          strerror(-r));
                phase_progress(c, 0.16, "downloading %s %s", p.name, p.version);
                r = ops_apt_fetch_package(c, &p, &path);
                if (r >= 0)
                        r = ops_deb_contents(c, path, &files);
                if (r < 0) {
                        ops_apt_package_release(&p);
                        return r;
                }
                missing = ide_missing_files(e, files);
                if (!missing) {
                        phase_log(c, LOG_INFO, "%s %s ships %s%s%s: it is %s", p.name, p.version,
                                  e->desktop_file, e->binary ? " and " : "", e->binary ? e->binary : "",
                                  e->display_name);
                        *ret_spec = xasprintf("%s=%s", p.name, p.version);
                        ops_apt_package_release(&p);
                        return 0;
                }
                missing_s = strv_join(missing, " and ");
                phase_log(c, LOG_WARNING, "%s %s does not ship %s: it is not %s, not installing it",
                          p.name, p.version, missing_s, e->display_name);
                strv_pushf(&why, "%s %s does not ship %s (another program has that name)", p.name,
                           p.version, missing_s);
                ops_apt_package_release(&p);
        }
        whys = strv_join(why, "; ");
        must = e->binary ? xasprintf("%s and %s", e->desktop_file, e->binary) : xstrdup(e->desktop_file);
        return phase_fail(c, -ENOENT, "the %s repository %s offers no package that is %s: %s. The "
                          "catalog %s names its packages and what they must ship (%s); nothing was "
                          "installed", e->display_name, e->uri, e->display_name, whys,
                          j->d->cat->path, must);
}

static int ide_run(struct phase_ctx *c)
{
        struct job j;
        struct ide_check k = { 0 };
        _cleanup_strv_ char **before = NULL;
        _cleanup_free_ char *spec = NULL, *debpath = NULL, *errs = NULL, *work = NULL;
        const struct ide_entry *e;
        int r;

        job_init(c, &j);
        e = j.e;
        if (!ide_entry_supports(e, j.arch)) {
                _cleanup_free_ char *archs = strv_join(e->architectures, ", ");

                return phase_fail(c, -ENOTSUP, "%s is published for %s, and this server is %s; remove "
                                  "%s from [ides] install (nothing was changed)", e->display_name,
                                  archs, j.arch, e->id);
        }
        if (e->method == IDE_CAT_APPIMAGE)
                return phase_fail(c, -ENOTSUP, "the catalog %s says to install %s as an AppImage, "
                                  "which this version of vps-provision does not do; use "
                                  "apt_repository or deb_package", j.d->cat->path, e->display_name);

        if (e->method == IDE_CAT_APT_REPOSITORY) {
                phase_action_begin(c, "REPOSITORY_ADD", e->uri, "Adding the %s apt repository, its "
                                   "key checked against the pinned fingerprint", e->display_name);
                r = phase_action_end(c, ops_apt_add_source(c, &j.src));
                if (r < 0)
                        return r;
                phase_action_begin(c, "FILE_DOWNLOAD", e->uri, "Choosing and downloading the %s "
                                   "package", e->display_name);
                r = phase_action_end(c, choose_package(c, &j, &spec));
                if (r < 0)
                        return r;
        } else {
                const struct ide_deb *d = ide_entry_deb(e, j.arch);

                if (!d)
                        return phase_fail(c, -ENOTSUP, "the catalog %s has no %s .deb for %s",
                                          j.d->cat->path, e->display_name, j.arch);
                work = xasprintf("%s/downloads/%s", phase_paths(c)->state_dir, j.d->id);
                r = mkdir_p(work, 0700);
                if (r < 0)
                        return phase_fail(c, r, "cannot create %s: %s", work, strerror(-r));
                debpath = xasprintf("%s/%s_%s.deb", work, e->packages[0], j.arch);
                phase_action_begin(c, "FILE_DOWNLOAD", d->url, "Downloading %s", e->display_name);
                r = phase_action_end(c, ops_download(c, &(struct ops_download){
                        .url = d->url, .dest = debpath, .sha256 = d->sha256,
                        .max_bytes = e->max_bytes ? e->max_bytes : (UINT64_C(1) << 30),
                        .what = e->display_name, .from = 0.02, .to = 0.5, .tuning = &j.tuning }));
                if (r < 0)
                        goto out;
                spec = xstrdup(debpath);
        }

        if (e->debconf) {
                phase_action_begin(c, "COMMAND_EXEC", "debconf-set-selections", "Answering %s's "
                                   "installation questions in advance", e->display_name);
                r = phase_action_end(c, ops_debconf_set(c, e->debconf));
                if (r < 0)
                        goto out;
        }
        phase_progress(c, 0.55, "installing %s", e->display_name);
        if (e->method == IDE_CAT_APT_REPOSITORY)
                before = ops_apt_sources_snapshot(&j.src);
        phase_action_begin(c, "PACKAGE_INSTALL", spec, "Installing %s", e->display_name);
        {
                const char *const pkgs[] = { spec, NULL };

                r = phase_action_end(c, ops_apt_install(c, pkgs, 0, 0.55, 0.88));
        }
        if (r < 0)
                goto out;
        if (e->method == IDE_CAT_APT_REPOSITORY) {
                /* a guard: the debconf answers should have kept the package
                 * from adding a source of its own */
                phase_action_begin(c, "FILE_DELETE", e->uri, "Keeping a single apt source for %s",
                                   e->display_name);
                r = phase_action_end(c, ops_apt_remove_new_duplicates(c, &j.src, before));
                if (r < 0)
                        goto out;
        }
        phase_progress(c, 0.9, "checking %s", e->display_name);
        run_checks(c, &j, &k);
        record_session(c, &j, &k);
        if (k.errors) {
                errs = strv_join(k.errors, "; ");
                r = phase_fail(c, -EIO, "%s was installed but does not work: %s", e->display_name, errs);
                goto out;
        }
        phase_summary(c, "%s %s: %s", e->display_name, k.version, e->command);
        phase_progress(c, 1.0, NULL);
        r = 0;
out:
        if (work) {
                if (debpath)
                        (void)unlink(debpath);
                (void)rmdir(work);
        }
        check_release(&k);
        return r;
}

static int ide_verify(struct phase_ctx *c)
{
        struct job j;
        struct ide_check k;
        char why[PATH_MAX + 256];
        int done;

        job_init(c, &j);
        run_checks(c, &j, &k);
        done = !k.errors;
        if (k.errors)
                phase_verify_note(c, "%s", k.errors[0]);
        if (done && j.e->method == IDE_CAT_APT_REPOSITORY &&
            !ops_apt_source_in_place(&j.src, why, sizeof(why))) {
                phase_verify_note(c, "%s is installed but %s", j.e->display_name, why);
                done = 0;
        }
        phase_verify_digest(c, "%s %s %s", k.package ? k.package : "-", k.version ? k.version : "-",
                            done ? "ok" : "not-ok");
        check_release(&k);
        return done;
}

static int ide_plan(struct phase_ctx *c)
{
        struct job j;
        const struct ide_entry *e;
        _cleanup_free_ char *pkgs = NULL;

        job_init(c, &j);
        e = j.e;
        pkgs = strv_join(e->packages, ", else ");
        if (!ide_entry_supports(e, j.arch)) {
                phase_plan(c, "COMMAND_EXEC", e->id, "fails: %s is not published for %s",
                           e->display_name, j.arch);
                return 0;
        }
        if (e->method == IDE_CAT_APT_REPOSITORY) {
                _cleanup_free_ char *fps = strv_join(e->fingerprints, ", ");
                char sources[PATH_MAX], keyring[PATH_MAX];

                ops_apt_source_paths(&j.src, sources, sizeof(sources), keyring, sizeof(keyring));
                phase_plan(c, "KEY_IMPORT", e->key_url, "fetch the signing key, require fingerprint "
                           "%s, put only that key into %s", fps, keyring);
                phase_plan(c, "REPOSITORY_ADD", sources, "%s %s %s, once its Release signature "
                           "verifies with that key", e->uri, e->suite, e->components[0]);
                phase_plan(c, "COMMAND_EXEC", "apt-get update", "refresh only that source");
                phase_plan(c, "FILE_DOWNLOAD", e->uri, "%s, the first the repository offers that "
                           "ships %s", pkgs, e->desktop_file);
        } else if (e->method == IDE_CAT_DEB_PACKAGE) {
                const struct ide_deb *d = ide_entry_deb(e, j.arch);

                phase_plan(c, "FILE_DOWNLOAD", d ? d->url : e->id, "download, require sha256 %s",
                           d ? d->sha256 : "(no .deb for this architecture)");
        }
        for (size_t i = 0; e->debconf && e->debconf[i]; i++)
                phase_plan(c, "COMMAND_EXEC", "debconf-set-selections", "%s", e->debconf[i]);
        phase_plan(c, "PACKAGE_INSTALL", e->packages[0], "install %s", e->display_name);
        if (e->method == IDE_CAT_APT_REPOSITORY)
                phase_plan(c, "FILE_DELETE", e->uri, "remove a second source for the same "
                           "repository if the package adds one");
        phase_plan(c, "COMMAND_EXEC", e->command, "check: %s %s reports a version, %s exists, "
                   "ldd finds every library", e->command, e->version_args[0], e->desktop_file);
        return 0;
}

static bool ide_enabled(const struct phase *p, const struct answers *a)
{
        const struct ide_def *d = p->data;

        return answers_ide_wanted(a, d->e->id);
}

/* ---- the phases ---------------------------------------------------------- */

struct ide_phases *ide_phases_load(const struct answers *a, char *err, size_t errlen)
{
        struct ide_phases *ip = xcalloc(1, sizeof(*ip));

        if (ide_catalog_load_for(a, &ip->cat, NULL, 0, err, errlen) < 0) {
                free(ip);
                return NULL;
        }
        ip->n = ip->cat.n_entries;
        ip->v = xcalloc(ip->n + 1, sizeof(*ip->v));
        ip->defs = xcalloc(ip->n + 1, sizeof(*ip->defs));
        for (size_t i = 0; i < ip->n; i++) {
                const struct ide_entry *e = &ip->cat.entries[i];
                struct ide_def *d = &ip->defs[i];

                d->cat = &ip->cat;
                d->e = e;
                d->id = xasprintf("ide-%s", e->id);
                d->title = xstrdup(e->display_name);
                if (e->method == IDE_CAT_APT_REPOSITORY)
                        d->summary = xasprintf("%s from its vendor's signed apt repository, key "
                                               "fingerprint pinned", e->display_name);
                else if (e->method == IDE_CAT_DEB_PACKAGE)
                        d->summary = xasprintf("%s from its vendor's .deb, sha256 pinned",
                                               e->display_name);
                else
                        d->summary = xasprintf("%s (AppImage: not installed by this version)",
                                               e->display_name);
                ip->v[i] = (struct phase){
                        .id = d->id,
                        .title = d->title,
                        .summary = d->summary,
                        .weight = IDE_WEIGHT,
                        .enabled = ide_enabled,
                        .plan = ide_plan,
                        .verify = ide_verify,
                        .run = ide_run,
                        .data = d,
                };
        }
        return ip;
}

void ide_phases_free(struct ide_phases *ip)
{
        if (!ip)
                return;
        for (size_t i = 0; i < ip->n; i++) {
                free(ip->defs[i].id);
                free(ip->defs[i].title);
                free(ip->defs[i].summary);
        }
        free(ip->defs);
        free(ip->v);
        ide_catalog_release(&ip->cat);
        free(ip);
}
