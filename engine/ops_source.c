/* ops_source.c — apt sources whose key is pinned, downloads, and the few
 * package-level steps that go with them (see the last part of ops.h).
 *
 * DESIGN: everything that decides whether a repository may be trusted
 * happens in a scratch directory under the program's state directory,
 * before the system changes at all: the key file and the Release file are
 * downloaded there, gpg reads them with a home directory of its own (and
 * never starts an agent), and only the keys whose fingerprints are pinned
 * are exported from it. A refusal therefore leaves nothing behind, and the
 * system's apt configuration only ever sees a keyring that holds pinned
 * keys. apt itself checks the signatures again when it refreshes. */
#include "ops.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "apt.h"
#include "engine_int.h"
#include "fetch.h"
#include "journal.h"
#include "log.h"

#define KEY_MAX_BYTES      (1u << 20)
#define RELEASE_MAX_BYTES  (32u << 20)
#define TEXT_MAX           (1u << 20)
#define APT_SOURCES_D      "/etc/apt/sources.list.d"
#define APT_SOURCES_LIST   "/etc/apt/sources.list"
#define APT_TRUSTED_D      "/etc/apt/trusted.gpg.d"
#define APT_ARCHIVES       "/var/cache/apt/archives"
#define UPDATE_TIMEOUT_MS  (15u * 60u * 1000u)

/* ---- pure parts ---------------------------------------------------------- */

/* Field n (1-based) of a colon record [p, p + len), or NULL; *flen its length. */
static const char *colon_field(const char *p, size_t len, int n, size_t *flen)
{
        const char *f = p, *end = p + len;

        for (int i = 1; i < n; i++) {
                const char *c = memchr(f, ':', (size_t)(end - f));
                if (!c)
                        return NULL;
                f = c + 1;
        }
        *flen = 0;
        while (f + *flen < end && f[*flen] != ':')
                (*flen)++;
        return f;
}

size_t ops_pgp_parse_keys(const char *colons, struct ops_pgp_key **ret)
{
        struct ops_pgp_key *v = NULL, cur = { 0 };
        size_t n = 0;
        bool in_pub = false;

        for (const char *p = colons; p && *p; ) {
                const char *nl = strchr(p, '\n');
                size_t len = nl ? (size_t)(nl - p) : strlen(p), fl;
                const char *f;

                if (len >= 4 && strncmp(p, "pub:", 4) == 0) {
                        long exp = 0;

                        in_pub = true;
                        cur = (struct ops_pgp_key){ .validity = '-' };
                        f = colon_field(p, len, 2, &fl);
                        if (f && fl > 0)
                                cur.validity = f[0];
                        f = colon_field(p, len, 7, &fl);
                        if (f && fl > 0 && fl < 20) {
                                char num[24];

                                memcpy(num, f, fl);
                                num[fl] = '\0';
                                if (parse_long(num, 0, LONG_MAX, &exp) < 0)
                                        exp = 0;
                        }
                        cur.expires = (int64_t)exp;
                } else if (len >= 4 && strncmp(p, "fpr:", 4) == 0 && in_pub) {
                        f = colon_field(p, len, 10, &fl);
                        /* 40 hex digits, or no fingerprint: a field of
                         * another shape must not reach gpg's argv */
                        if (f && fl == 40 && strspn(f, "0123456789ABCDEFabcdef") >= 40) {
                                for (size_t i = 0; i < 40; i++)
                                        cur.fingerprint[i] = (char)toupper((unsigned char)f[i]);
                                cur.fingerprint[40] = '\0';
                                v = xrealloc(v, (n + 1) * sizeof(*v));
                                v[n++] = cur;
                        }
                        in_pub = false;
                } else if (len >= 4 && (strncmp(p, "sub:", 4) == 0 || strncmp(p, "sec:", 4) == 0 ||
                                        strncmp(p, "ssb:", 4) == 0))
                        in_pub = false;
                p = nl ? nl + 1 : NULL;
        }
        *ret = v;
        return n;
}

static size_t uri_len(const char *uri)
{
        size_t n = strlen(uri);

        while (n > 0 && uri[n - 1] == '/')
                n--;
        return n;
}

static void push_uri(char ***v, const char *s, size_t n)
{
        _cleanup_free_ char *u = xstrndup(s, n);

        u[uri_len(u)] = '\0';
        if (u[0])
                strv_push(v, u);
}

/* One DEB822 stanza [s, end): its URIs unless "Enabled: no". */
static void stanza_uris(const char *s, const char *end, char ***ret)
{
        _cleanup_strv_ char **uris = NULL;
        bool enabled = true;

        for (const char *l = s; l < end; ) {
                const char *nl = memchr(l, '\n', (size_t)(end - l));
                size_t len = nl ? (size_t)(nl - l) : (size_t)(end - l);

                if (len > 5 && strncasecmp(l, "URIs:", 5) == 0) {
                        const char *v = l + 5, *e = l + len;

                        while (v < e) {
                                size_t w;

                                while (v < e && (*v == ' ' || *v == '\t'))
                                        v++;
                                w = 0;
                                while (v + w < e && v[w] != ' ' && v[w] != '\t' && v[w] != '\r')
                                        w++;
                                if (w)
                                        push_uri(&uris, v, w);
                                v += w;
                                if (v < e && *v == '\r')
                                        v++;
                        }
                } else if (len > 8 && strncasecmp(l, "Enabled:", 8) == 0) {
                        const char *v = l + 8;

                        while (*v == ' ' || *v == '\t')
                                v++;
                        enabled = strncasecmp(v, "no", 2) != 0;
                }
                l = nl ? nl + 1 : end;
        }
        for (size_t i = 0; enabled && uris && uris[i]; i++)
                strv_push(ret, uris[i]);
}

char **ops_apt_source_uris(const char *text)
{
        char **ret = NULL;
        const char *stanza = NULL;

        for (const char *l = text; ; ) {
                const char *nl = strchr(l, '\n');
                size_t len = nl ? (size_t)(nl - l) : strlen(l);
                const char *s = l;
                bool blank;

                while ((size_t)(s - l) < len && (*s == ' ' || *s == '\t' || *s == '\r'))
                        s++;
                blank = (size_t)(s - l) == len;
                if (!blank && *s != '#' && (strncmp(s, "deb ", 4) == 0 || strncmp(s, "deb\t", 4) == 0 ||
                                            strncmp(s, "deb-src", 7) == 0)) {
                        /* one-line form: deb [opts] URI suite comps */
                        const char *p = s + (s[3] == '-' ? 7 : 3), *e = l + len;

                        while (p < e && (*p == ' ' || *p == '\t'))
                                p++;
                        if (p < e && *p == '[') {
                                const char *close = memchr(p, ']', (size_t)(e - p));
                                p = close ? close + 1 : e;
                                while (p < e && (*p == ' ' || *p == '\t'))
                                        p++;
                        }
                        {
                                size_t w = 0;

                                while (p + w < e && p[w] != ' ' && p[w] != '\t' && p[w] != '\r')
                                        w++;
                                if (w)
                                        push_uri(&ret, p, w);
                        }
                } else if (!blank && *s != '#' && !stanza)
                        stanza = l;
                if (blank || !nl) {
                        if (stanza) {
                                stanza_uris(stanza, nl ? l : l + len, &ret);
                                stanza = NULL;
                        }
                }
                if (!nl)
                        break;
                l = nl + 1;
        }
        return ret;
}

static void cache_quote(struct buf *b, const char *s)
{
        for (; *s; s++)
                if (*s == '_' || *s == ':' || *s == '%' || (unsigned char)*s <= 0x20 ||
                    (unsigned char)*s >= 0x7f)
                        (void)buf_printf(b, "%%%02x", (unsigned char)*s);
                else
                        (void)buf_append(b, s, 1);
}

char *ops_apt_cache_name(const char *pkg, const char *version, const char *arch)
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

char **ops_deb_contents_parse(const char *out)
{
        char **ret = NULL;

        for (const char *l = out; l && *l; ) {
                const char *nl = strchr(l, '\n');
                size_t len = nl ? (size_t)(nl - l) : strlen(l);
                _cleanup_free_ char *line = xstrndup(l, len);
                char *p = line, *arrow;

                /* "-rwxr-xr-x root/root 16 2024-01-01 00:00 ./usr/bin/x" */
                for (int field = 0; field < 5 && p; field++) {
                        p += strspn(p, " \t");
                        p += strcspn(p, " \t");
                }
                if (p) {
                        p += strspn(p, " \t");
                        arrow = strstr(p, " -> ");
                        if (arrow)
                                *arrow = '\0';
                        if (p[0] == '.' && p[1] == '/') {
                                size_t n = strlen(p);

                                while (n > 2 && p[n - 1] == '/')
                                        p[--n] = '\0';
                                if (n > 2)
                                        strv_push(&ret, p + 1);
                        }
                }
                l = nl ? nl + 1 : NULL;
        }
        return ret;
}

/* ---- scratch space and downloads ------------------------------------------ */

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
        (void)st;
        (void)flag;
        (void)f;
        (void)remove(p);
        return 0;
}

static void scratch_remove(char *dir)
{
        if (dir[0])
                (void)nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
        dir[0] = '\0';
}

/* A new private directory under STATE/downloads (not a system change). */
static int scratch_new(struct phase_ctx *c, char *buf, size_t size)
{
        int r;

        if (snprintf(buf, size, "%s/downloads", phase_paths(c)->state_dir) >= (int)size)
                return phase_fail(c, -ENAMETOOLONG, "the state directory's path is too long");
        r = mkdir_p(buf, 0700);
        if (r < 0)
                return phase_fail(c, r, "cannot create %s: %s", buf, strerror(-r));
        if (snprintf(buf, size, "%s/downloads/%s.XXXXXX", phase_paths(c)->state_dir,
                     phase_id(c)) >= (int)size)
                r = -ENAMETOOLONG;
        else
                r = mkdtemp(buf) ? 0 : -errno;
        if (r < 0) {
                buf[0] = '\0';
                return phase_fail(c, r, "cannot create a scratch directory under %s/downloads: %s",
                                  phase_paths(c)->state_dir, strerror(-r));
        }
        return 0;
}

static bool under_dir(const char *path, const char *dir)
{
        size_t n = strlen(dir);

        return n > 0 && strncmp(path, dir, n) == 0 && path[n] == '/';
}

struct progress_map {
        struct phase_ctx *c;
        double from, to;
        const char *what;
};

static bool dl_cancel(void *userdata)
{
        struct progress_map *m = userdata;

        return phase_cancel_requested(m->c);
}

static void dl_progress(void *userdata, size_t index, uint64_t done, uint64_t total)
{
        struct progress_map *m = userdata;

        (void)index;
        if (total > 0 && m->to > m->from)
                phase_progress(m->c, m->from + (m->to - m->from) * ((double)done / (double)total),
                               "downloading %s: %llu of %llu kB", m->what,
                               (unsigned long long)(done / 1024), (unsigned long long)(total / 1024));
}

/* The download itself: no journal, no phase_fail(); res says why. */
static int fetch_quiet(struct phase_ctx *c, const struct ops_download *d, struct fetch_result *res)
{
        struct progress_map m = { c, d->from, d->to, d->what };
        struct fetch_opts o;
        int r;

        fetch_opts_init(&o);
        if (d->tuning) {
                if (d->tuning->retries >= 0)
                        o.retries = (unsigned)d->tuning->retries;
                if (d->tuning->backoff_ms)
                        o.backoff_ms = d->tuning->backoff_ms;
                if (d->tuning->stall_seconds)
                        o.low_speed_s = d->tuning->stall_seconds;
                if (d->tuning->connect_timeout_ms)
                        o.connect_timeout_ms = d->tuning->connect_timeout_ms;
        }
        o.cancel = dl_cancel;
        o.progress = dl_progress;
        o.userdata = &m;
        r = fetch_file(&(struct fetch_req){ .url = d->url, .dest = d->dest, .sha256 = d->sha256,
                                            .max_bytes = d->max_bytes }, &o, res);
        if (r == 0)
                log_write(LOG_INFO, phase_id(c), "downloaded %s (%llu bytes, sha256 %s, %u attempt%s, %lld ms)",
                          d->url, (unsigned long long)res->bytes, res->sha256, res->attempts,
                          res->attempts == 1 ? "" : "s", (long long)res->duration_ms);
        return r;
}

int ops_download(struct phase_ctx *c, const struct ops_download *d)
{
        struct fetch_result res;
        char have[SHA256_HEX];
        int r;

        if (d->sha256 && sha256_file(d->dest, have) == 0 && strcasecmp(have, d->sha256) == 0)
                return 1;
        if (!under_dir(d->dest, phase_paths(c)->state_dir)) {
                struct undo u = { .kind = UNDO_REMOVE_FILE, .path = (char *)d->dest };

                if (d->sha256)
                        (void)strscpy(u.sha256, sizeof(u.sha256), d->sha256);
                if (phase_journal(c, "FILE_DOWNLOAD", d->dest, &u) < 0)
                        return -EIO;
        }
        r = fetch_quiet(c, d, &res);
        if (r < 0)
                return phase_fail(c, r, "%s: %s", d->what, res.message);
        return 0;
}

/* ---- gpg ----------------------------------------------------------------- */

/* A gpg home of its own in dir (no agent, no keyboxd: an empty common.conf
 * keeps gpg from choosing keyboxd for a new home). */
static int gpg_home(struct phase_ctx *c, const char *dir, const char *name, char *buf, size_t size)
{
        char conf[PATH_MAX + 32];
        int r;

        if (snprintf(buf, size, "%s/%s", dir, name) >= (int)size)
                return phase_fail(c, -ENAMETOOLONG, "path too long: %s/%s", dir, name);
        r = mkdir_p(buf, 0700);
        if (r == 0 && snprintf(conf, sizeof(conf), "%s/common.conf", buf) < (int)sizeof(conf))
                r = write_file_atomic(conf, "", 0, 0600, (uid_t)-1, (gid_t)-1);
        if (r < 0)
                return phase_fail(c, r, "cannot create %s: %s", buf, strerror(-r));
        return 0;
}

/* gpg --homedir HOME --batch … ARGS; stdout into *ret_out. Exit status or -errno. */
static int gpg(struct phase_ctx *c, const char *home, const char *const *args, char **ret_out)
{
        _cleanup_strv_ char **argv = NULL;
        char *out = NULL;
        int r;

        strv_push(&argv, "gpg");
        strv_push(&argv, "--homedir");
        strv_push(&argv, home);
        strv_push(&argv, "--batch");
        strv_push(&argv, "--no-tty");
        strv_push(&argv, "--no-autostart");
        strv_push(&argv, "--no-permission-warning");
        for (size_t i = 0; args[i]; i++)
                strv_push(&argv, args[i]);
        r = ops_query(c, (const char *const *)argv, &out);
        if (r == -ENOENT)
                return phase_fail(c, r, "gpg is not installed, and it is needed to check "
                                  "repository keys (apt-get install gpg)");
        if (r < 0)
                return phase_fail(c, r, "cannot run gpg: %s", strerror(-r));
        if (ret_out)
                *ret_out = out;
        else
                free(out);
        return r;
}

static char *fingerprints_text(char *const *f)
{
        return strv_join(f, ", ");
}

static void date_text(int64_t t, char *buf, size_t size)
{
        time_t tt = (time_t)t;
        struct tm tm;

        if (!gmtime_r(&tt, &tm) || strftime(buf, size, "%Y-%m-%d", &tm) == 0)
                (void)snprintf(buf, size, "@%lld", (long long)t);
}

/* The key file: downloaded, checked, and exactly its pinned keys exported
 * to DIR/keyring.asc, whose text goes to *ret_text. */
static int check_key(struct phase_ctx *c, const struct ops_apt_source *s, const char *dir,
                     char **ret_text, size_t *ret_len)
{
        char keyfile[PATH_MAX], home[PATH_MAX], out_path[PATH_MAX];
        _cleanup_free_ char *colons = NULL, *want = NULL, *what = NULL, *text = NULL;
        _cleanup_free_ struct ops_pgp_key *keys = NULL, *back = NULL;
        _cleanup_strv_ char **found = NULL, **unpinned = NULL, **export_args = NULL;
        size_t n, nb, len = 0;
        int64_t now = wall_ms() / 1000;
        int r;

        want = fingerprints_text(s->fingerprints);
        if (!s->fingerprints || !s->fingerprints[0])
                return phase_fail(c, -EKEYREJECTED, "%s pins no key fingerprint for %s, so its "
                                  "repository key cannot be trusted; nothing was changed",
                                  s->pinned_by, s->name);
        (void)snprintf(keyfile, sizeof(keyfile), "%s/key", dir);
        (void)snprintf(out_path, sizeof(out_path), "%s/keyring.asc", dir);
        what = xasprintf("the %s signing key", s->name);
        r = ops_download(c, &(struct ops_download){ .url = s->key_url, .dest = keyfile,
                                                    .max_bytes = KEY_MAX_BYTES, .what = what,
                                                    .from = s->from, .to = s->from,
                                                    .tuning = s->tuning });
        if (r < 0)
                return r;
        r = gpg_home(c, dir, "gnupg", home, sizeof(home));
        if (r < 0)
                return r;
        {
                const char *const a[] = { "--with-colons", "--show-keys", keyfile, NULL };

                r = gpg(c, home, a, &colons);
        }
        if (r < 0)
                return r;
        n = ops_pgp_parse_keys(colons, &keys);
        if (r != 0 || n == 0)
                return phase_fail(c, -EKEYREJECTED, "%s is not an OpenPGP public key (gpg found no "
                                  "key in it); expected the key with fingerprint %s; nothing was "
                                  "changed", s->key_url, want);
        for (size_t i = 0; i < n; i++) {
                strv_push(&found, keys[i].fingerprint);
                if (!strv_contains(s->fingerprints, keys[i].fingerprint))
                        strv_push(&unpinned, keys[i].fingerprint);
        }
        if (unpinned && n == 1)
                return phase_fail(c, -EKEYREJECTED, "key fingerprint mismatch for %s: %s holds %s, "
                                  "but %s pins %s; nothing was changed. If the vendor changed its "
                                  "key, check the new fingerprint against its published "
                                  "instructions and update the pin", s->name, s->key_url,
                                  keys[0].fingerprint, s->pinned_by, want);
        if (unpinned) {
                _cleanup_free_ char *all = strv_join(found, ", "), *bad = strv_join(unpinned, ", ");

                return phase_fail(c, -EKEYREJECTED, "%s holds %zu primary keys (%s), and %s is not "
                                  "pinned by %s (which pins %s): a key file for %s may hold only "
                                  "pinned keys, so it is refused; nothing was changed. Pin every "
                                  "key the vendor publishes in it, after checking each against "
                                  "its instructions", s->key_url, n, all, bad, s->pinned_by, want,
                                  s->name);
        }
        for (size_t i = 0; i < n; i++) {
                char day[32];

                if (keys[i].validity == 'r')
                        return phase_fail(c, -EKEYREJECTED, "the %s key %s (from %s) has been "
                                          "revoked by its owner, so it may not be trusted; "
                                          "nothing was changed. The vendor publishes a new key: "
                                          "check it against its instructions and update the pin",
                                          s->name, keys[i].fingerprint, s->key_url);
                if (keys[i].validity == 'e' || (keys[i].expires && keys[i].expires <= now)) {
                        date_text(keys[i].expires, day, sizeof(day));
                        return phase_fail(c, -EKEYREJECTED, "the %s key %s (from %s) expired%s%s: "
                                          "apt would refuse every signature made with it; nothing "
                                          "was changed. Try again when the vendor publishes the "
                                          "key with a new expiry date at the same address",
                                          s->name, keys[i].fingerprint, s->key_url,
                                          keys[i].expires ? " on " : "",
                                          keys[i].expires ? day : "");
                }
        }
        /* exactly the pinned keys, exported: never the downloaded bytes */
        {
                const char *const a[] = { "--quiet", "--import", keyfile, NULL };

                r = gpg(c, home, a, NULL);
        }
        if (r != 0)
                return r < 0 ? r : phase_fail(c, -EKEYREJECTED, "gpg could not import %s (exit %d)",
                                              s->key_url, r);
        strv_push(&export_args, "--armor");
        strv_push(&export_args, "--output");
        strv_push(&export_args, out_path);
        strv_push(&export_args, "--export");
        for (size_t i = 0; found[i]; i++)
                strv_push(&export_args, found[i]);
        r = gpg(c, home, (const char *const *)export_args, NULL);
        if (r != 0)
                return r < 0 ? r : phase_fail(c, -EKEYREJECTED, "gpg could not export the pinned "
                                              "keys of %s (exit %d)", s->key_url, r);
        free(colons);
        colons = NULL;
        {
                const char *const a[] = { "--with-colons", "--show-keys", out_path, NULL };

                r = gpg(c, home, a, &colons);
        }
        if (r < 0)
                return r;
        nb = ops_pgp_parse_keys(colons, &back);
        if (r != 0 || nb != n)
                return phase_fail(c, -EKEYREJECTED, "the keyring exported for %s does not hold the "
                                  "%zu pinned key%s it should", s->name, n, n == 1 ? "" : "s");
        for (size_t i = 0; i < nb; i++)
                if (!strv_contains(found, back[i].fingerprint))
                        return phase_fail(c, -EKEYREJECTED, "the keyring exported for %s holds %s, "
                                          "which is not pinned", s->name, back[i].fingerprint);
        r = read_file(out_path, KEY_MAX_BYTES, &text, &len);
        if (r < 0)
                return phase_fail(c, r, "cannot read %s: %s", out_path, strerror(-r));
        log_write(LOG_INFO, phase_id(c), "%s key %s matches the pinned fingerprint; only it goes "
                  "into the keyring", s->name, want);
        *ret_text = TAKE_PTR(text);
        *ret_len = len;
        return 0;
}

/* The value of "Field: value" in the first paragraph of a Release text. */
static char *release_field(const char *text, const char *field)
{
        size_t fl = strlen(field);

        for (const char *l = text; l && *l; ) {
                const char *nl = strchr(l, '\n');
                size_t len = nl ? (size_t)(nl - l) : strlen(l);

                if (len > fl && strncasecmp(l, field, fl) == 0 && l[fl] == ':') {
                        const char *v = l + fl + 1;

                        while (*v == ' ' || *v == '\t')
                                v++;
                        return xstrndup(v, (size_t)(l + len - v));
                }
                l = nl ? nl + 1 : NULL;
        }
        return NULL;
}

/* The repository's Release signature, checked with the exported keyring. */
static int check_release(struct phase_ctx *c, const struct ops_apt_source *s, const char *dir)
{
        char inrel[PATH_MAX], rel[PATH_MAX], relsig[PATH_MAX], home[PATH_MAX], keyring[PATH_MAX];
        _cleanup_free_ char *base = xstrndup(s->uri, uri_len(s->uri));
        _cleanup_free_ char *u1 = NULL, *u2 = NULL, *u3 = NULL, *status = NULL, *text = NULL;
        _cleanup_free_ char *archs = NULL, *want = fingerprints_text(s->fingerprints);
        _cleanup_free_ char *what = xasprintf("the %s repository's Release file", s->name);
        struct fetch_result res;
        bool detached = false, good = false;
        char signer[80] = "", problem[32] = "";
        int r;

        (void)snprintf(inrel, sizeof(inrel), "%s/InRelease", dir);
        (void)snprintf(rel, sizeof(rel), "%s/Release", dir);
        (void)snprintf(relsig, sizeof(relsig), "%s/Release.gpg", dir);
        (void)snprintf(keyring, sizeof(keyring), "%s/keyring.asc", dir);
        u1 = xasprintf("%s/dists/%s/InRelease", base, s->suite);
        r = fetch_quiet(c, &(struct ops_download){ .url = u1, .dest = inrel, .what = what,
                                                   .max_bytes = RELEASE_MAX_BYTES,
                                                   .tuning = s->tuning }, &res);
        if (r < 0 && res.kind == FETCH_ERR_HTTP && res.http_status == 404) {
                /* an older layout: Release with a detached Release.gpg */
                u2 = xasprintf("%s/dists/%s/Release", base, s->suite);
                u3 = xasprintf("%s/dists/%s/Release.gpg", base, s->suite);
                r = fetch_quiet(c, &(struct ops_download){ .url = u2, .dest = rel, .what = what,
                                                           .max_bytes = RELEASE_MAX_BYTES,
                                                           .tuning = s->tuning }, &res);
                if (r == 0)
                        r = fetch_quiet(c, &(struct ops_download){ .url = u3, .dest = relsig,
                                                                   .what = what,
                                                                   .max_bytes = KEY_MAX_BYTES,
                                                                   .tuning = s->tuning }, &res);
                detached = true;
        }
        if (r < 0)
                return phase_fail(c, r, "%s (%s/dists/%s): %s; nothing was changed", what, base,
                                  s->suite, res.message);
        r = gpg_home(c, dir, "verify", home, sizeof(home));
        if (r < 0)
                return r;
        {
                const char *const a[] = { "--quiet", "--import", keyring, NULL };

                r = gpg(c, home, a, NULL);
        }
        if (r != 0)
                return r < 0 ? r : phase_fail(c, -EKEYREJECTED, "gpg could not read the exported "
                                              "keyring (exit %d)", r);
        {
                const char *const a1[] = { "--status-fd", "1", "--verify", inrel, NULL };
                const char *const a2[] = { "--status-fd", "1", "--verify", relsig, rel, NULL };

                r = gpg(c, home, detached ? a2 : a1, &status);
        }
        if (r < 0)
                return r;
        for (const char *l = status; l && *l; ) {
                const char *nl = strchr(l, '\n');
                _cleanup_free_ char *line = xstrndup(l, nl ? (size_t)(nl - l) : strlen(l));
                char *p;

                if (startswith(line, "[GNUPG:] VALIDSIG ")) {
                        /* VALIDSIG fpr date ts expire ver 0 pk hash class PRIMARY */
                        char *last = strrchr(line, ' ');

                        if (last && strlen(last + 1) == 40) {
                                for (p = last + 1; *p; p++)
                                        *p = (char)toupper((unsigned char)*p);
                                if (strv_contains(s->fingerprints, last + 1))
                                        good = true;
                                else
                                        (void)strscpy(signer, sizeof(signer), last + 1);
                        }
                } else if (startswith(line, "[GNUPG:] ")) {
                        static const char *const bad_kinds[] = { "BADSIG", "EXPKEYSIG", "REVKEYSIG",
                                                                 "EXPSIG", "ERRSIG", "NODATA" };

                        for (size_t i = 0; i < ELEMENTSOF(bad_kinds); i++)
                                if (startswith(line + 9, bad_kinds[i]) && !problem[0]) {
                                        (void)strscpy(problem, sizeof(problem), bad_kinds[i]);
                                        p = line + 9 + strlen(bad_kinds[i]);
                                        p += strspn(p, " ");
                                        (void)snprintf(signer, sizeof(signer), "%.*s",
                                                       (int)strcspn(p, " "), p);
                                }
                }
                l = nl ? nl + 1 : NULL;
        }
        if (!good || (problem[0] && strcmp(problem, "ERRSIG") != 0)) {
                const char *why;

                if (!strcmp(problem, "BADSIG"))
                        why = "its signature is bad (the file was changed after it was signed)";
                else if (!strcmp(problem, "EXPKEYSIG") || !strcmp(problem, "EXPSIG"))
                        why = "it was signed with an expired key or the signature has expired";
                else if (!strcmp(problem, "REVKEYSIG"))
                        why = "it was signed with a revoked key";
                else if (!strcmp(problem, "NODATA"))
                        why = "it carries no signature";
                else
                        why = "it is signed by another key";
                return phase_fail(c, -EKEYREJECTED, "the %s repository %s does not verify with "
                                  "the pinned key %s: %s%s%s%s, though the key file matched the "
                                  "pin. apt would refuse it; nothing was changed",
                                  s->name, base, want, why, signer[0] ? " (key " : "", signer,
                                  signer[0] ? ")" : "");
        }
        if (read_file(detached ? rel : inrel, RELEASE_MAX_BYTES, &text, NULL) == 0 &&
            (archs = release_field(text, "Architectures"))) {
                _cleanup_free_ char *padded = xasprintf(" %s ", archs), *me = xasprintf(" %s ", s->arch);

                if (!strstr(padded, me))
                        return phase_fail(c, -ENOTSUP, "the %s repository %s publishes packages "
                                          "for %s, not for this server's %s; nothing was changed",
                                          s->name, base, archs, s->arch);
        }
        log_write(LOG_INFO, phase_id(c), "the %s repository's %s is signed by the pinned key",
                  s->name, detached ? "Release" : "InRelease");
        return 0;
}

/* ---- the source files ----------------------------------------------------- */

void ops_apt_source_paths(const struct ops_apt_source *s, char *sources, size_t ssize,
                          char *keyring, size_t ksize)
{
        if (sources && snprintf(sources, ssize, "%s/vps-provision-%s.sources", s->sources_dir,
                                s->id) >= (int)ssize)
                sources[0] = '\0';
        if (keyring && snprintf(keyring, ksize, "%s/vps-provision-%s.asc", s->keyring_dir,
                                s->id) >= (int)ksize)
                keyring[0] = '\0';
}

char *ops_apt_sources_text(const struct ops_apt_source *s, const char *keyring)
{
        _cleanup_free_ char *comps = strv_join(s->components, " ");
        _cleanup_free_ char *fps = fingerprints_text(s->fingerprints);

        return xasprintf("%s\n"
                         "# Signed-By holds only the pinned key %s.\n"
                         "Types: deb\n"
                         "URIs: %s\n"
                         "Suites: %s\n"
                         "Components: %s\n"
                         "Architectures: %s\n"
                         "Signed-By: %s\n",
                         s->comment, fps, s->uri, s->suite, comps, s->arch, keyring);
}

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

static bool is_source_file(const char *path)
{
        size_t n = strlen(path);

        return strcmp(path, APT_SOURCES_LIST) == 0 || (n > 5 && strcmp(path + n - 5, ".list") == 0) ||
               (n > 8 && strcmp(path + n - 8, ".sources") == 0);
}

/* Every apt source file: sources.list, sources.list.d and s->sources_dir. */
static char **source_files(const struct ops_apt_source *s)
{
        _cleanup_strv_ char **a = list_dir(APT_SOURCES_D), **b = NULL;
        char **ret = NULL;

        if (path_exists(APT_SOURCES_LIST))
                strv_push(&ret, APT_SOURCES_LIST);
        for (size_t i = 0; a && a[i]; i++)
                strv_push(&ret, a[i]);
        if (s->sources_dir && strcmp(s->sources_dir, APT_SOURCES_D) != 0) {
                b = list_dir(s->sources_dir);
                for (size_t i = 0; b && b[i]; i++)
                        strv_push(&ret, b[i]);
        }
        return ret;
}

/* How a source file's active entries relate to uri: 0 none name it, 1 all
 * of them do, 2 it names uri and other repositories. */
static int names_repository(const char *path, const char *uri)
{
        _cleanup_free_ char *text = NULL, *want = xstrndup(uri, uri_len(uri));
        _cleanup_strv_ char **uris = NULL;
        bool ours = false, others = false;

        if (!is_source_file(path) || read_file(path, TEXT_MAX, &text, NULL) < 0)
                return 0;
        uris = ops_apt_source_uris(text);
        for (size_t i = 0; uris && uris[i]; i++) {
                if (strcmp(uris[i], want) == 0)
                        ours = true;
                else
                        others = true;
        }
        return !ours ? 0 : others ? 2 : 1;
}

/* Other source files naming the repository: those that name it alone
 * (ret_only) and those that name other repositories too (ret_mixed). */
static void other_sources(const struct ops_apt_source *s, const char *ours, char ***ret_only,
                          char ***ret_mixed)
{
        _cleanup_strv_ char **files = source_files(s);

        for (size_t i = 0; files && files[i]; i++) {
                int k;

                if (strcmp(files[i], ours) == 0)
                        continue;
                k = names_repository(files[i], s->uri);
                /* sources.list is never replaced whole: it holds the system's own */
                if (k == 1 && strcmp(files[i], APT_SOURCES_LIST) != 0)
                        strv_push(ret_only, files[i]);
                else if (k != 0)
                        strv_push(ret_mixed, files[i]);
        }
}

int ops_apt_source_in_place(const struct ops_apt_source *s, char *why, size_t whylen)
{
        char sources[PATH_MAX], keyring[PATH_MAX];
        _cleanup_free_ char *have = NULL, *want = NULL;
        _cleanup_strv_ char **only = NULL, **mixed = NULL;

        ops_apt_source_paths(s, sources, sizeof(sources), keyring, sizeof(keyring));
        want = ops_apt_sources_text(s, keyring);
        if (read_file(sources, TEXT_MAX, &have, NULL) < 0) {
                (void)snprintf(why, whylen, "its apt source %s is missing", sources);
                return 0;
        }
        if (strcmp(have, want) != 0) {
                (void)snprintf(why, whylen, "its apt source %s is not what the catalog asks for "
                               "now (repository or pinned key changed)", sources);
                return 0;
        }
        if (!path_exists(keyring)) {
                (void)snprintf(why, whylen, "its keyring %s is missing", keyring);
                return 0;
        }
        other_sources(s, sources, &only, &mixed);
        if (only || mixed) {
                (void)snprintf(why, whylen, "%s configures the same repository a second time",
                               only ? only[0] : mixed[0]);
                return 0;
        }
        return 1;
}

/* apt-get update of this one source. Exit status or -errno after phase_fail(). */
static int update_one(struct phase_ctx *c, const char *sources)
{
        _cleanup_free_ char *o1 = xasprintf("Dir::Etc::sourcelist=%s", sources);
        const char *const argv[] = { "apt-get", "update", "-q", "-o", o1, "-o",
                                     "Dir::Etc::sourceparts=-", "-o", "APT::Get::List-Cleanup=0",
                                     NULL };
        struct ops_run_opts ro = { .ok_statuses_any = true, .timeout_ms = UPDATE_TIMEOUT_MS };
        struct undo u = { .kind = UNDO_NOTHING };

        if (phase_journal(c, "COMMAND_EXEC", "apt-get update", &u) < 0)
                return -EIO;
        return ops_run(c, argv, &ro);
}

int ops_apt_add_source(struct phase_ctx *c, const struct ops_apt_source *s)
{
        char dir[PATH_MAX] = "", sources[PATH_MAX], keyring[PATH_MAX];
        _cleanup_free_ char *key = NULL, *text = NULL, *base = xstrndup(s->uri, uri_len(s->uri));
        _cleanup_strv_ char **only = NULL, **mixed = NULL;
        size_t len = 0;
        bool changed = false;
        int r, st;

        ops_apt_source_paths(s, sources, sizeof(sources), keyring, sizeof(keyring));
        if (!sources[0] || !keyring[0])
                return phase_fail(c, -ENAMETOOLONG, "the source or keyring path for %s is too long",
                                  s->name);
        other_sources(s, sources, &only, &mixed);
        if (mixed)
                return phase_fail(c, -EEXIST, "%s configures the %s repository %s together with "
                                  "other repositories; apt refuses a repository configured twice "
                                  "with different keys, and vps-provision replaces only a file "
                                  "that holds that repository alone: remove (or comment out) its "
                                  "lines for %s and run again. Nothing was changed",
                                  mixed[0], s->name, base, base);
        r = scratch_new(c, dir, sizeof(dir));
        if (r < 0)
                return r;
        r = check_key(c, s, dir, &key, &len);
        if (r >= 0)
                r = check_release(c, s, dir);
        if (r < 0)
                goto out;
        phase_progress(c, s->from + (s->to - s->from) * 0.3, "adding the %s repository", s->name);

        /* from here on the system changes, each step journaled */
        for (size_t i = 0; only && only[i]; i++) {
                phase_log(c, LOG_WARNING, "%s already configures the %s repository, without the "
                          "pinned key: replacing it with %s (a rollback puts it back)", only[i],
                          s->name, sources);
                r = ops_remove_file(c, only[i]);
                if (r < 0)
                        goto out;
                changed = true;
        }
        r = ops_mkdir(c, s->keyring_dir, 0755, 0, 0);
        if (r >= 0)
                r = ops_write_file(c, keyring, key, len, 0644, 0, 0);
        if (r >= 0) {
                changed |= r == 0;
                text = ops_apt_sources_text(s, keyring);
                r = ops_write_file(c, sources, text, strlen(text), 0644, 0, 0);
                changed |= r == 0;
        }
        if (r < 0)
                goto out;
        phase_progress(c, s->from + (s->to - s->from) * 0.4, "refreshing the %s repository",
                       s->name);
        st = update_one(c, sources);
        if (st != 0) {
                /* no half-configured repository: take the source and key away again */
                (void)ops_remove_file(c, sources);
                (void)ops_remove_file(c, keyring);
                r = st < 0 ? st : phase_fail(c, -EIO, "apt could not use the %s repository %s "
                                             "(apt-get update exited %d; its messages are in the "
                                             "log); the source and keyring were removed again",
                                             s->name, base, st);
                goto out;
        }
        phase_progress(c, s->to, NULL);
        r = changed ? 0 : 1;
out:
        scratch_remove(dir);
        return r;
}

/* ---- packages -------------------------------------------------------------- */

void ops_apt_package_release(struct ops_apt_package *p)
{
        free(p->name);
        free(p->version);
        free(p->arch);
        free(p->filename);
        free(p->sha256);
        *p = (struct ops_apt_package){ 0 };
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

int ops_apt_source_package(struct phase_ctx *c, const struct ops_apt_source *s, const char *name,
                           struct ops_apt_package *ret)
{
        char sources[PATH_MAX];
        _cleanup_free_ char *o1 = NULL, *out = NULL;
        struct ops_apt_package p = { 0 };
        const char *end;
        long sz;
        int r;

        ops_apt_source_paths(s, sources, sizeof(sources), NULL, 0);
        o1 = xasprintf("Dir::Etc::sourcelist=%s", sources);
        {
                const char *const argv[] = { "apt-cache", "-q", "-o", o1, "-o",
                                             "Dir::Etc::sourceparts=-", "-o", "Dir::Cache::pkgcache=",
                                             "-o", "Dir::Cache::srcpkgcache=", "show",
                                             "--no-all-versions", name, NULL };

                r = ops_query(c, argv, &out);
        }
        if (r < 0)
                return r;
        if (r != 0 || !out || !out[0])
                return -ENOENT;
        end = strstr(out, "\n\n");
        if (!end)
                end = out + strlen(out);
        p.name = record_field(out, end, "Package");
        p.version = record_field(out, end, "Version");
        p.arch = record_field(out, end, "Architecture");
        p.filename = record_field(out, end, "Filename");
        p.sha256 = record_field(out, end, "SHA256");
        {
                _cleanup_free_ char *size = record_field(out, end, "Size");

                if (!p.name || strcmp(p.name, name) != 0 || !p.version || !p.arch || !p.filename ||
                    !p.sha256 || strlen(p.sha256) != 64 || !size ||
                    parse_long(size, 1, LONG_MAX, &sz) < 0 || strstr(p.filename, "..") ||
                    strchr(p.version, '/') || strchr(p.arch, '/')) {
                        ops_apt_package_release(&p);
                        /* installed, but no longer offered: no Filename */
                        return -ENOENT;
                }
        }
        p.size = (uint64_t)sz;
        *ret = p;
        return 0;
}

int ops_apt_fetch_package(struct phase_ctx *c, const struct ops_apt_package *p, char **ret_path)
{
        _cleanup_free_ char *name = ops_apt_cache_name(p->name, p->version, p->arch);
        _cleanup_free_ char *path = xasprintf(APT_ARCHIVES "/%s", name);
        _cleanup_free_ char *spec = xasprintf("%s=%s", p->name, p->version);
        const char *const words[] = { "install", "--download-only", spec, NULL };
        _cleanup_strv_ char **argv = apt_argv(-1, words);
        struct ops_run_opts ro = { .timeout_ms = 60u * 60u * 1000u };
        char have[SHA256_HEX];
        int r;

        if (sha256_file(path, have) != 0 || strcasecmp(have, p->sha256) != 0) {
                /* apt fetches it (as its sandbox user, checked against the
                 * signed index) with the dependencies the install will need */
                r = ops_run(c, (const char *const *)argv, &ro);
                if (r < 0)
                        return r;
                if (sha256_file(path, have) != 0)
                        return phase_fail(c, -ENOENT, "apt downloaded %s, but %s is not in its cache",
                                          spec, name);
                if (strcasecmp(have, p->sha256) != 0)
                        return phase_fail(c, -EBADMSG, "%s in apt's cache is not the file the "
                                          "repository's signed index describes (sha256 %s, "
                                          "expected %s)", path, have, p->sha256);
        }
        *ret_path = TAKE_PTR(path);
        return 0;
}

int ops_deb_contents(struct phase_ctx *c, const char *deb, char ***ret)
{
        const char *const argv[] = { "dpkg-deb", "--contents", deb, NULL };
        _cleanup_free_ char *out = NULL;
        int r = ops_query(c, argv, &out);

        if (r < 0)
                return phase_fail(c, r, "cannot run dpkg-deb: %s", strerror(-r));
        if (r != 0)
                return phase_fail(c, -EBADMSG, "%s is not a Debian package that dpkg-deb can read "
                                  "(exit %d)", deb, r);
        *ret = ops_deb_contents_parse(out);
        return 0;
}

int ops_debconf_set(struct phase_ctx *c, char *const *lines)
{
        const char *const argv[] = { "debconf-set-selections", NULL };
        _cleanup_free_ char *text = NULL, *joined = strv_join(lines, "\n");
        struct ops_run_opts ro = { 0 };
        struct undo u = { .kind = UNDO_NOTHING };
        bool implicit;
        int r;

        if (!lines || !lines[0])
                return 1;
        text = xasprintf("%s\n", joined);
        implicit = ctx_action_auto_begin(c, "COMMAND_EXEC", "debconf-set-selections",
                                         "Answering the packages' questions in advance");
        ro.stdin_data = text;
        ro.stdin_len = strlen(text);
        r = phase_journal(c, "COMMAND_EXEC", "debconf-set-selections", &u) < 0 ? -EIO : 0;
        if (r == 0) {
                for (size_t i = 0; lines[i]; i++)
                        phase_log(c, LOG_INFO, "debconf: %s", lines[i]);
                r = ops_run(c, argv, &ro);
        }
        if (implicit)
                phase_action_end(c, r);
        return r < 0 ? r : 0;
}

/* ---- a second source added by a package --------------------------------- */

char **ops_apt_sources_snapshot(const struct ops_apt_source *s)
{
        char **ret = source_files(s);
        _cleanup_strv_ char **t = list_dir(APT_TRUSTED_D);

        for (size_t i = 0; t && t[i]; i++)
                strv_push(&ret, t[i]);
        strv_sort(ret);
        return ret;
}

int ops_apt_remove_new_duplicates(struct phase_ctx *c, const struct ops_apt_source *s,
                                  char *const *before)
{
        _cleanup_strv_ char **after = ops_apt_sources_snapshot(s);
        struct undo u = { .kind = UNDO_NOTHING };
        char sources[PATH_MAX];
        int removed = 0;

        ops_apt_source_paths(s, sources, sizeof(sources), NULL, 0);
        for (size_t i = 0; after && after[i]; i++) {
                bool trusted = startswith(after[i], APT_TRUSTED_D "/");

                if (strv_contains(before, after[i]) || strcmp(after[i], sources) == 0)
                        continue;
                if (!trusted && names_repository(after[i], s->uri) == 0)
                        continue;
                phase_log(c, LOG_INFO, "removing %s: %s", after[i], trusted
                          ? "the package added a key that apt would trust for every repository; "
                            "its repository has a keyring of its own"
                          : "the package added this second source for the same repository (apt "
                            "refuses a repository configured twice)");
                /* journaled without a restore: the file came with the
                 * package this run installed, whose purge (its undo)
                 * takes the rest of it away; restoring it first would
                 * make apt refuse the purge (the repository twice) */
                if (phase_journal(c, "FILE_DELETE", after[i], &u) < 0)
                        return -EIO;
                if (unlink(after[i]) < 0 && errno != ENOENT)
                        return phase_fail(c, -errno, "cannot remove %s: %m", after[i]);
                (void)fsync_dir_of(after[i]);
                removed++;
        }
        return removed;
}
