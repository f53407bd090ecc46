/* ide_catalog.c — strict reading of the IDE catalog (see ide_catalog.h). */
#include "ide_catalog.h"

#include <ctype.h>
#include <errno.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "json_strict.h"
#include "util.h"

#define CATALOG_MAX (1u << 20)
#define DEFAULT_DEB_MAX (UINT64_C(1) << 30)

void ide_catalog_path(const struct answers *a, const struct paths *p, char *buf, size_t size)
{
        const char *env = getenv(IDE_CATALOG_ENV);

        if (a && a->ide_catalog[0])
                (void)strscpy(buf, size, a->ide_catalog);
        else if (env && env[0])
                (void)strscpy(buf, size, env);
        else
                paths_data(p, "ide-catalog.json", buf, size);
}

static void entry_release(struct ide_entry *e)
{
        free(e->id);
        free(e->ide_name);
        free(e->display_name);
        free(e->description);
        strv_free(e->packages);
        free(e->command);
        strv_free(e->version_args);
        free(e->binary);
        free(e->desktop_file);
        strv_free(e->architectures);
        strv_free(e->debconf);
        free(e->uri);
        free(e->suite);
        strv_free(e->components);
        free(e->key_url);
        strv_free(e->fingerprints);
        free(e->fingerprint_status);
        free(e->keyring_dir);
        free(e->sources_dir);
        for (size_t i = 0; i < e->n_debs; i++) {
                free(e->debs[i].arch);
                free(e->debs[i].url);
                free(e->debs[i].sha256);
        }
        free(e->debs);
}

void ide_catalog_release(struct ide_catalog *c)
{
        if (!c)
                return;
        for (size_t i = 0; i < c->n_entries; i++)
                entry_release(&c->entries[i]);
        free(c->entries);
        free(c->path);
        free(c->checked);
        *c = (struct ide_catalog){ 0 };
}

/* Where a message about one entry starts: "FILE: ides[1] (cursor): ". */
struct where {
        const char *path;
        size_t index;
        const char *id;
        char *err;
        size_t errlen;
};

static int bad(const struct where *w, const char *field, const char *fmt, ...) _printf_(3, 4);
static int bad(const struct where *w, const char *field, const char *fmt, ...)
{
        char what[512];
        va_list ap;

        va_start(ap, fmt);
        (void)vsnprintf(what, sizeof(what), fmt, ap);
        va_end(ap);
        if (w->id)
                (void)snprintf(w->err, w->errlen, "%s: ides[%zu] (%s): %s: %s", w->path, w->index,
                               w->id, field, what);
        else
                (void)snprintf(w->err, w->errlen, "%s: ides[%zu]: %s: %s", w->path, w->index, field,
                               what);
        return -EINVAL;
}

static bool printable(const char *s)
{
        for (; *s; s++)
                if ((unsigned char)*s < 0x20 || *s == 0x7f)
                        return false;
        return true;
}

/* A required (or optional) string field. */
static int get_str(const struct where *w, struct json_object *o, const char *key, bool required,
                   char **ret)
{
        struct json_object *v;
        const char *s;

        if (!json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null)) {
                if (required)
                        return bad(w, key, "missing; add it (see the installed ide-catalog.json)");
                *ret = NULL;
                return 0;
        }
        if (!json_object_is_type(v, json_type_string))
                return bad(w, key, "must be a string");
        s = json_object_get_string(v);
        if (!s[0] && required)
                return bad(w, key, "is empty");
        if (!printable(s))
                return bad(w, key, "holds a control character");
        *ret = xstrdup(s);
        return 0;
}

static int get_abs_path(const struct where *w, struct json_object *o, const char *key,
                        bool required, char **ret)
{
        char *s = NULL;
        int r = get_str(w, o, key, required, &s);

        if (r < 0 || !s) {
                *ret = NULL;
                return r;
        }
        if (s[0] != '/' || strstr(s, "/../") || (strlen(s) >= 3 && strcmp(s + strlen(s) - 3, "/..") == 0)) {
                free(s);
                return bad(w, key, "must be an absolute path without \"..\"");
        }
        *ret = s;
        return 0;
}

static int get_strv(const struct where *w, struct json_object *o, const char *key, bool required,
                    char ***ret)
{
        struct json_object *v;
        char **list = NULL;
        size_t n;

        *ret = NULL;
        if (!json_object_object_get_ex(o, key, &v)) {
                if (required)
                        return bad(w, key, "missing; add a list of strings");
                return 0;
        }
        if (!json_object_is_type(v, json_type_array))
                return bad(w, key, "must be a list of strings");
        n = json_object_array_length(v);
        for (size_t i = 0; i < n; i++) {
                struct json_object *it = json_object_array_get_idx(v, i);

                if (!json_object_is_type(it, json_type_string) || !json_object_get_string(it)[0] ||
                    !printable(json_object_get_string(it))) {
                        strv_free(list);
                        return bad(w, key, "item %zu must be a non-empty string", i);
                }
                strv_push(&list, json_object_get_string(it));
        }
        *ret = list;
        return 0;
}

static bool is_hex(const char *s, size_t len)
{
        if (strlen(s) != len)
                return false;
        for (size_t i = 0; i < len; i++)
                if (!isxdigit((unsigned char)s[i]))
                        return false;
        return true;
}

/* Debian package and architecture names: lower case, digits, + - . */
static bool deb_name_ok(const char *s)
{
        if (!s[0] || !(islower((unsigned char)s[0]) || isdigit((unsigned char)s[0])))
                return false;
        for (; *s; s++)
                if (!(islower((unsigned char)*s) || isdigit((unsigned char)*s) || *s == '+' ||
                      *s == '-' || *s == '.'))
                        return false;
        return true;
}

static bool url_ok(const char *s)
{
        return (startswith(s, "https://") || startswith(s, "http://")) && !strpbrk(s, " \t\"'");
}

static int parse_apt(const struct where *w, struct json_object *o, struct ide_entry *e)
{
        struct json_object *apt;
        int r;

        if (!json_object_object_get_ex(o, "apt", &apt) || !json_object_is_type(apt, json_type_object))
                return bad(w, "apt", "missing: method apt_repository needs an \"apt\" object "
                           "(uri, suite, components, key_url, fingerprints)");
        if ((r = get_str(w, apt, "uri", true, &e->uri)) < 0 ||
            (r = get_str(w, apt, "suite", true, &e->suite)) < 0 ||
            (r = get_strv(w, apt, "components", true, &e->components)) < 0 ||
            (r = get_str(w, apt, "key_url", true, &e->key_url)) < 0 ||
            (r = get_strv(w, apt, "fingerprints", true, &e->fingerprints)) < 0 ||
            (r = get_str(w, apt, "fingerprint_status", true, &e->fingerprint_status)) < 0 ||
            (r = get_abs_path(w, apt, "keyring_dir", false, &e->keyring_dir)) < 0 ||
            (r = get_abs_path(w, apt, "sources_dir", false, &e->sources_dir)) < 0)
                return r;
        if (!url_ok(e->uri))
                return bad(w, "apt.uri", "\"%s\" is not an http(s) URL", e->uri);
        if (!url_ok(e->key_url))
                return bad(w, "apt.key_url", "\"%s\" is not an http(s) URL", e->key_url);
        if (strpbrk(e->suite, " \t"))
                return bad(w, "apt.suite", "\"%s\" must be one word", e->suite);
        if (!e->components)
                return bad(w, "apt.components", "is empty; name at least one (main)");
        for (size_t i = 0; e->components[i]; i++)
                if (strpbrk(e->components[i], " \t"))
                        return bad(w, "apt.components", "\"%s\" must be one word", e->components[i]);
        if (!e->fingerprints)
                return bad(w, "apt.fingerprints", "is empty: a repository key is trusted only by "
                           "a pinned fingerprint; add the one the vendor publishes (40 hex "
                           "digits), or remove the entry");
        for (size_t i = 0; e->fingerprints[i]; i++) {
                char *f = e->fingerprints[i];

                if (!is_hex(f, 40))
                        return bad(w, "apt.fingerprints", "\"%s\" is not a 40-hex-digit OpenPGP "
                                   "v4 fingerprint (write it without spaces)", f);
                for (; *f; f++)
                        *f = (char)toupper((unsigned char)*f);
        }
        if (!e->keyring_dir)
                e->keyring_dir = xstrdup("/etc/apt/keyrings");
        if (!e->sources_dir)
                e->sources_dir = xstrdup("/etc/apt/sources.list.d");
        return 0;
}

static int parse_debs(const struct where *w, struct json_object *o, struct ide_entry *e)
{
        struct json_object *debs, *v;
        size_t n;

        if (!json_object_object_get_ex(o, "debs", &debs) || !json_object_is_type(debs, json_type_array) ||
            json_object_array_length(debs) == 0)
                return bad(w, "debs", "missing: method deb_package needs a list of "
                           "{\"arch\", \"url\", \"sha256\"}");
        n = json_object_array_length(debs);
        e->max_bytes = DEFAULT_DEB_MAX;
        e->debs = xcalloc(n, sizeof(*e->debs));
        for (size_t i = 0; i < n; i++) {
                struct json_object *d = json_object_array_get_idx(debs, i);
                struct ide_deb *x = &e->debs[e->n_debs];
                int r;

                if (!json_object_is_type(d, json_type_object))
                        return bad(w, "debs", "item %zu must be an object", i);
                e->n_debs++;
                if ((r = get_str(w, d, "arch", true, &x->arch)) < 0 ||
                    (r = get_str(w, d, "url", true, &x->url)) < 0 ||
                    (r = get_str(w, d, "sha256", true, &x->sha256)) < 0)
                        return r;
                if (!url_ok(x->url))
                        return bad(w, "debs.url", "\"%s\" is not an http(s) URL", x->url);
                if (!is_hex(x->sha256, 64))
                        return bad(w, "debs.sha256", "\"%s\" is not 64 hex digits", x->sha256);
        }
        if (json_object_object_get_ex(o, "max_bytes", &v)) {
                int64_t m = json_object_get_int64(v);

                if (!json_object_is_type(v, json_type_int) || m <= 0)
                        return bad(w, "max_bytes", "must be a positive number of bytes");
                e->max_bytes = (uint64_t)m;
        }
        return 0;
}

/* "owner question type value": what debconf-set-selections reads. */
static int check_debconf(const struct where *w, char **lines)
{
        static const char *const types[] = { "boolean", "string", "select", "multiselect",
                                             "note", "text", NULL };

        for (size_t i = 0; lines && lines[i]; i++) {
                const char *s = lines[i];
                char owner[128] = "", question[256] = "", type[32] = "";
                int n = 0;

                if (sscanf(s, "%127s %255s %31s %n", owner, question, type, &n) != 3 || n == 0 ||
                    !deb_name_ok(owner) || !strchr(question, '/') ||
                    !strv_contains((char *const *)types, type))
                        return bad(w, "debconf", "item %zu (\"%s\") must be \"PACKAGE "
                                   "QUESTION TYPE VALUE\", e.g. \"code "
                                   "code/add-microsoft-repo boolean false\"", i, s);
                if (strcmp(type, "boolean") == 0 && strcmp(s + n, "true") != 0 &&
                    strcmp(s + n, "false") != 0)
                        return bad(w, "debconf", "item %zu: a boolean is true or false", i);
        }
        return 0;
}

static int parse_entry(struct where *w, struct json_object *o, struct ide_entry *e)
{
        char *method = NULL, *package = NULL;
        struct json_object *v;
        int r;

        if (!json_object_is_type(o, json_type_object))
                return bad(w, "entry", "must be an object");
        if ((r = get_str(w, o, "id", true, &e->id)) < 0)
                return r;
        w->id = e->id;
        if (!ide_id_valid(e->id))
                return bad(w, "id", "\"%s\" must be 1 to %d lower-case letters, digits or "
                           "\"-\", starting with a letter", e->id, IDE_ID_MAX);
        if (json_object_object_get_ex(o, "package", &v) && json_object_object_get_ex(o, "packages", &v))
                return bad(w, "packages", "give either \"package\" or \"packages\", not both");
        if ((r = get_str(w, o, "ide_name", true, &e->ide_name)) < 0 ||
            (r = get_str(w, o, "display_name", true, &e->display_name)) < 0 ||
            (r = get_str(w, o, "description", false, &e->description)) < 0 ||
            (r = get_str(w, o, "package", false, &package)) < 0 ||
            (r = get_strv(w, o, "packages", false, &e->packages)) < 0 ||
            (r = get_str(w, o, "command", true, &e->command)) < 0 ||
            (r = get_strv(w, o, "version_args", false, &e->version_args)) < 0 ||
            (r = get_abs_path(w, o, "binary", false, &e->binary)) < 0 ||
            (r = get_abs_path(w, o, "desktop_file", true, &e->desktop_file)) < 0 ||
            (r = get_strv(w, o, "architectures", true, &e->architectures)) < 0 ||
            (r = get_strv(w, o, "debconf", false, &e->debconf)) < 0 ||
            (r = get_str(w, o, "method", true, &method)) < 0)
                goto out;
        if (!e->description)
                e->description = xstrdup("");
        if (package)
                strv_push(&e->packages, package);
        if (!e->packages) {
                r = bad(w, "packages", "missing; name the package that holds the IDE "
                        "(\"packages\": [\"NAME\"], preferred first)");
                goto out;
        }
        for (size_t i = 0; e->packages[i]; i++)
                if (!deb_name_ok(e->packages[i])) {
                        r = bad(w, "packages", "\"%s\" is not a Debian package name", e->packages[i]);
                        goto out;
                }
        if (strchr(e->command, '/') || !deb_name_ok(e->command)) {
                r = bad(w, "command", "\"%s\" must be a plain command name", e->command);
                goto out;
        }
        if (!e->architectures) {
                r = bad(w, "architectures", "is empty; list the dpkg architectures (amd64, arm64 …)");
                goto out;
        }
        for (size_t i = 0; e->architectures[i]; i++)
                if (!deb_name_ok(e->architectures[i])) {
                        r = bad(w, "architectures", "\"%s\" is not a dpkg architecture",
                                e->architectures[i]);
                        goto out;
                }
        if ((r = check_debconf(w, e->debconf)) < 0)
                goto out;
        if (!e->version_args)
                strv_push(&e->version_args, "--version");
        if (strcmp(method, "apt_repository") == 0) {
                e->method = IDE_CAT_APT_REPOSITORY;
                r = parse_apt(w, o, e);
        } else if (strcmp(method, "deb_package") == 0) {
                e->method = IDE_CAT_DEB_PACKAGE;
                r = parse_debs(w, o, e);
        } else if (strcmp(method, "appimage") == 0) {
                e->method = IDE_CAT_APPIMAGE;
                r = 0;
        } else
                r = bad(w, "method", "\"%s\" is not one of apt_repository, deb_package, appimage",
                        method);
out:
        free(method);
        free(package);
        return r;
}

int ide_catalog_parse(const char *text, const char *path, struct ide_catalog *ret, char *err,
                      size_t errlen)
{
        struct ide_catalog c = { .path = xstrdup(path) };
        struct json_object *root = NULL, *ides, *v;
        char why[256];
        int r = -EINVAL;

        if (json_parse_strict(text, strlen(text), &root, why, sizeof(why)) < 0) {
                (void)snprintf(err, errlen, "%s: %s", path, why);
                goto out;
        }
        if (!json_object_object_get_ex(root, "format", &v) || json_object_get_int(v) != 1) {
                (void)snprintf(err, errlen, "%s: \"format\" must be 1 (this is a catalog for "
                               "another version of vps-provision)", path);
                goto out;
        }
        if (json_object_object_get_ex(root, "checked", &v) && json_object_is_type(v, json_type_string))
                c.checked = xstrdup(json_object_get_string(v));
        c.fetch.retries = -1;
        if (json_object_object_get_ex(root, "fetch", &v)) {
                static const char *const keys[] = { "retries", "backoff_ms", "stall_seconds",
                                                    "connect_timeout_ms" };
                int64_t val[4] = { -1, 0, 0, 0 };

                if (!json_object_is_type(v, json_type_object)) {
                        (void)snprintf(err, errlen, "%s: \"fetch\" must be an object", path);
                        goto out;
                }
                for (size_t i = 0; i < ELEMENTSOF(keys); i++) {
                        struct json_object *n;

                        if (!json_object_object_get_ex(v, keys[i], &n))
                                continue;
                        val[i] = json_object_get_int64(n);
                        if (!json_object_is_type(n, json_type_int) || val[i] < 0 || val[i] > 3600000) {
                                (void)snprintf(err, errlen, "%s: fetch.%s must be a number from 0 to "
                                               "3600000", path, keys[i]);
                                goto out;
                        }
                }
                c.fetch.retries = (int)val[0];
                c.fetch.backoff_ms = (unsigned)val[1];
                c.fetch.stall_seconds = (unsigned)val[2];
                c.fetch.connect_timeout_ms = (unsigned)val[3];
        }
        if (!json_object_object_get_ex(root, "ides", &ides) || !json_object_is_type(ides, json_type_array)) {
                (void)snprintf(err, errlen, "%s: \"ides\" must be a list of IDE entries", path);
                goto out;
        }
        c.entries = xcalloc(json_object_array_length(ides) + 1, sizeof(*c.entries));
        for (size_t i = 0; i < json_object_array_length(ides); i++) {
                struct where w = { .path = path, .index = i, .err = err, .errlen = errlen };

                c.n_entries++;
                r = parse_entry(&w, json_object_array_get_idx(ides, i), &c.entries[i]);
                if (r < 0)
                        goto out;
                for (size_t j = 0; j < i; j++)
                        if (strcmp(c.entries[j].id, c.entries[i].id) == 0) {
                                r = bad(&w, "id", "\"%s\" appears twice", c.entries[i].id);
                                goto out;
                        }
        }
        *ret = c;
        c = (struct ide_catalog){ 0 };
        r = 0;
out:
        if (root)
                json_object_put(root);
        ide_catalog_release(&c);
        return r;
}

int ide_catalog_load(const char *path, struct ide_catalog *ret, char *err, size_t errlen)
{
        _cleanup_free_ char *text = NULL;
        int r = read_file(path, CATALOG_MAX, &text, NULL);

        if (r < 0) {
                (void)snprintf(err, errlen, "cannot read the IDE catalog %s: %s%s", path,
                               strerror(-r), r == -ENOENT ? " (set [ides] catalog in the answers, "
                               "or reinstall vps-provision)" : "");
                return r;
        }
        return ide_catalog_parse(text, path, ret, err, errlen);
}

int ide_catalog_load_for(const struct answers *a, struct ide_catalog *ret, char *ret_path,
                         size_t path_size, char *err, size_t errlen)
{
        struct paths p;
        char path[PATH_MAX];
        int r;

        r = paths_init(&p, err, errlen);
        if (r < 0)
                return r;
        ide_catalog_path(a, &p, path, sizeof(path));
        if (ret_path)
                (void)strscpy(ret_path, path_size, path);
        return ide_catalog_load(path, ret, err, errlen);
}

const struct ide_entry *ide_catalog_find(const struct ide_catalog *c, const char *id)
{
        for (size_t i = 0; i < c->n_entries; i++)
                if (strcmp(c->entries[i].id, id) == 0)
                        return &c->entries[i];
        return NULL;
}

bool ide_id_valid(const char *id)
{
        size_t n = strlen(id);

        if (n == 0 || n > IDE_ID_MAX || !islower((unsigned char)id[0]))
                return false;
        for (; *id; id++)
                if (!(islower((unsigned char)*id) || isdigit((unsigned char)*id) || *id == '-'))
                        return false;
        return true;
}

bool ide_entry_supports(const struct ide_entry *e, const char *arch)
{
        return strv_contains(e->architectures, arch);
}

const struct ide_deb *ide_entry_deb(const struct ide_entry *e, const char *arch)
{
        for (size_t i = 0; i < e->n_debs; i++)
                if (strcmp(e->debs[i].arch, arch) == 0)
                        return &e->debs[i];
        return NULL;
}
