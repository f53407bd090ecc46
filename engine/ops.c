/* ops.c — journaled, idempotent system changes for phases (see ops.h).
 *
 * DESIGN: every operation first finds out whether the change is already so
 * (and returns 1 without journaling), then journals the change with its
 * undo (write-ahead, fsync'd), then makes it. A crash between the two
 * leaves an undo for a change that may not have happened, which is why
 * every undo in rollback.c checks before it acts. */
#include "ops.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "apt.h"
#include "engine_int.h"
#include "faultpoint.h"
#include "journal.h"
#include "log.h"
#include "run.h"
#include "safepath.h"
#include "rollback.h"
#include "secret.h"
#include "sysfile.h"

#define DEFAULT_TIMEOUT_MS (10u * 60u * 1000u)
#define APT_TIMEOUT_MS (90u * 60u * 1000u)
#define STATUS_FD 3

static void on_line(void *userdata, enum run_stream stream, const char *line, size_t len,
                    bool truncated)
{
        ctx_output_line(userdata, stream, line, len, truncated);
}

/* The lines of one read go to the UI together. */
static void on_flush(void *userdata)
{
        ctx_output_flush(userdata);
}

/* "apt-get install xfce4 …" for messages (argv never holds a secret). */
static char *cmdline(const char *const *argv)
{
        return strv_join((char *const *)argv, " ");
}

int ops_run(struct phase_ctx *c, const char *const *argv, const struct ops_run_opts *o)
{
        struct run_opts ro;
        struct run_result res;
        _cleanup_free_ char *cmd = cmdline(argv);
        char why[256];
        int r;

        run_opts_init(&ro);
        ro.argv = argv;
        ro.on_line = on_line;
        ro.on_flush = on_flush;
        ro.userdata = c;
        ro.timeout_ms = o && o->timeout_ms ? o->timeout_ms : DEFAULT_TIMEOUT_MS;
        if (o && o->stdin_data) {
                ro.stdin_data = o->stdin_data;
                ro.stdin_len = o->stdin_len;
        }
        log_write(LOG_DEBUG, phase_id(c), "running: %s", cmd);
        ops_memo_drop(c->e);
        ctx_output_hold(c, true);
        r = run_command(&ro, &res);
        ctx_output_hold(c, false);
        if (r < 0)
                return phase_fail(c, r, "cannot run %s: %s", argv[0],
                                  run_describe(r, &res, argv[0], why, sizeof(why)));
        if (r != 0 && !(o && o->ok_statuses_any))
                return phase_fail(c, -EIO, "\"%s\" %s", cmd,
                                  run_describe(r, &res, argv[0], why, sizeof(why)));
        return r;
}

struct query {
        struct phase_ctx *c;
        struct buf out;
};

static void query_line(void *userdata, enum run_stream stream, const char *line, size_t len,
                       bool truncated)
{
        struct query *q = userdata;
        (void)truncated;
        if (stream == RUN_STDOUT) {
                buf_append(&q->out, line, len);
                buf_append(&q->out, "\n", 1);
        } else
                log_line(LOG_DEBUG, phase_id(q->c), line, len);
}

int ops_query(struct phase_ctx *c, const char *const *argv, char **ret_out)
{
        struct run_opts ro;
        struct query q = { .c = c };
        int r;

        buf_init(&q.out, 16u << 20);
        run_opts_init(&ro);
        ro.argv = argv;
        ro.on_line = query_line;
        ro.userdata = &q;
        ro.timeout_ms = DEFAULT_TIMEOUT_MS;
        ro.line_max = 65536;
        r = run_command(&ro, NULL);
        if (r < 0) {
                buf_release(&q.out);
                return r;
        }
        *ret_out = buf_steal(&q.out);
        return r;
}

/* ---- answers remembered while nothing has changed ---------------------- */

struct query_memo {
        struct query_memo *next;
        char *key;      /* the argv, each word followed by '\n' */
        char *out;
        int status;
};

static char *memo_key(const char *const *argv)
{
        struct buf b;

        buf_init(&b, 1u << 16);
        for (size_t i = 0; argv[i]; i++) {
                buf_append(&b, argv[i], strlen(argv[i]));
                buf_append(&b, "\n", 1);
        }
        return buf_steal(&b);
}

void ops_memo_drop(struct engine *e)
{
        if (!e)
                return;
        e->memo_dead = true;
        while (e->memo) {
                struct query_memo *m = e->memo;
                e->memo = m->next;
                free(m->key);
                free(m->out);
                free(m);
        }
}

int ops_query_memo(struct phase_ctx *c, const char *const *argv, char **ret_out)
{
        struct engine *e = c ? c->e : NULL;
        _cleanup_free_ char *key = NULL;
        struct query_memo *m;
        int r;

        if (!e || e->memo_dead)
                return ops_query(c, argv, ret_out);
        key = memo_key(argv);
        for (m = e->memo; m; m = m->next)
                if (strcmp(m->key, key) == 0) {
                        log_write(LOG_DEBUG, phase_id(c), "asked before, nothing changed since: %s",
                                  argv[0]);
                        *ret_out = xstrdup(m->out);
                        return m->status;
                }
        r = ops_query(c, argv, ret_out);
        if (r < 0)
                return r;
        m = xmalloc(sizeof(*m));
        *m = (struct query_memo){ .next = e->memo, .key = TAKE_PTR(key),
                                  .out = xstrdup(*ret_out ? *ret_out : ""), .status = r };
        e->memo = m;
        return r;
}

/* A read-only question: its exit status (>= 0) and its stdout in *ret_out
 * (NULL: dropped), or -errno when it cannot run (*ret_out untouched). */
static int ask(struct phase_ctx *c, const char *const *argv, char **ret_out)
{
        char *out = NULL;
        int r = ops_query(c, argv, &out);

        if (r < 0)
                return r;
        if (ret_out)
                *ret_out = out;
        else
                free(out);
        return r;
}

/* "45 s", "3 min 20 s", "1 h 5 min": how long a wait has lasted. */
static void say_duration(int64_t ms, char *buf, size_t size)
{
        int64_t s = ms / 1000;

        if (s < 60)
                (void)snprintf(buf, size, "%lld s", (long long)s);
        else if (s < 3600)
                (void)snprintf(buf, size, "%lld min %lld s", (long long)(s / 60), (long long)(s % 60));
        else
                (void)snprintf(buf, size, "%lld h %lld min", (long long)(s / 3600),
                               (long long)(s % 3600 / 60));
}

/* Who holds one of dpkg's locks under dir (the frontend lock every apt
 * frontend takes, then dpkg's own, which a bare dpkg takes alone): 1 with
 * pid and comm filled, 0 when both are free or cannot be asked. */
static int dpkg_lock_holder(const char *dir, pid_t *pid, char *comm, size_t size)
{
        static const char *const names[] = { "lock-frontend", "lock" };

        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
                _cleanup_free_ char *path = xasprintf("%s/%s", dir, names[i]);

                if (path && apt_lock_holder(path, pid, comm, size) > 0)
                        return 1;
        }
        return 0;
}

int ops_wait_package_manager(struct phase_ctx *c)
{
        const char *dir = ctx_dpkg_dir(c);
        int64_t limit_ms = (int64_t)ctx_apt_lock_wait_s(c) * 1000, t0 = now_ms(), next_note = 0;
        bool said = false;

        for (;;) {
                pid_t pid = 0;
                char comm[64] = "", waited[32];
                const char *who;
                int64_t ms = now_ms() - t0;

                if (dpkg_lock_holder(dir, &pid, comm, sizeof(comm)) <= 0) {
                        if (said) {
                                say_duration(ms, waited, sizeof(waited));
                                phase_log(c, LOG_INFO,
                                          "the package manager lock is free after %s; going on",
                                          waited);
                        }
                        return 0;   /* free, or cannot tell: apt's own Lock::Timeout waits */
                }
                who = comm[0] ? comm : "another process";
                say_duration(ms, waited, sizeof(waited));
                if (!said) {
                        phase_log(c, LOG_WARNING,
                                  "%s (pid %d) holds the package manager lock (on a fresh server this is usually the automatic security updates); waiting up to %u s for it to finish",
                                  who, (int)pid, ctx_apt_lock_wait_s(c));
                        said = true;
                        next_note = 60000;
                } else if (ms >= next_note) {
                        phase_log(c, LOG_INFO, "still waiting for %s (pid %d) to release the package manager lock: %s so far",
                                  who, (int)pid, waited);
                        next_note += 60000;
                }
                phase_progress(c, c->fraction, "waiting for %s (pid %d) to release the package manager lock: %s",
                               who, (int)pid, waited);
                if (phase_cancel_requested(c))
                        return -ECANCELED;
                if (ms >= limit_ms)
                        return phase_fail(c, -EBUSY,
                                          "%s (pid %d) still holds the package manager lock after %s; nothing was installed. Wait for it to finish (see: ps -p %d -o args), or raise [run] apt_lock_wait, then run vps-provision again",
                                          who, (int)pid, waited, (int)pid);
                sleep_ms(limit_ms - ms < 1000 ? (unsigned)(limit_ms - ms) + 1 : 1000);
        }
}

int ops_apt_update(struct phase_ctx *c)
{
        const char *const words[] = { "update", NULL };
        _cleanup_strv_ char **argv = apt_argv(-1, words);
        struct ops_run_opts o = { .timeout_ms = 20u * 60u * 1000u, .ok_statuses_any = true };
        bool implicit = ctx_action_auto_begin(c, "COMMAND_EXEC", "apt-get update",
                                              "Refreshing package lists (apt-get update)");
        unsigned delay = 2;
        int r = 0;

        for (int attempt = 1; attempt <= 5; attempt++) {
                r = ops_wait_package_manager(c);
                if (r < 0)
                        break;
                r = ops_run(c, (const char *const *)argv, &o);
                if (r == 0)
                        break;
                if (r < 0)
                        break;
                if (attempt == 5) {
                        r = phase_fail(c, -EIO,
                                       "apt-get update failed 5 times (last exit status %d); check the network and the apt sources in /etc/apt, then run vps-provision --resume",
                                       r);
                        break;
                }
                phase_log(c, LOG_WARNING, "apt-get update failed (exit status %d); retrying in %u s (attempt %d of 5)",
                          r, delay, attempt + 1);
                sleep_ms(delay * 1000);
                delay *= 2;
                r = -EAGAIN;
        }
        if (r == 0) {
                c->e->apt_lists_fresh = true;
                engine_prefetch_begin(c);
        }
        if (implicit)
                phase_action_end(c, r);
        return r < 0 ? r : 0;
}

struct apt_run {
        struct phase_ctx *c;
        double from, to;
        bool seen_download;
        char last_error[512];
};

/* The share of an install's progress that is its download. Measured in the
 * test hosts, the desktop's 252 MB came in 7-25 s of a 190-890 s
 * transaction (3-4 %); 0.2 leaves room for a slower mirror. With the
 * weights of phases.c, a replay of a profiled run's progress puts the
 * dashboard's ETA at 0.80x, 1.14x and 1.13x the real remaining time at 25,
 * 50 and 75 % of the run (0.60x, 1.30x and 2.34x with 0.3 and the old
 * weights). */
#define APT_DOWNLOAD_SHARE 0.2

static void apt_line(void *userdata, enum run_stream stream, const char *line, size_t len,
                     bool truncated)
{
        struct apt_run *a = userdata;
        struct apt_status st;
        double span = a->to - a->from, f;

        if (stream != RUN_STATUS) {
                fault_point("output", line, len);
                if (len >= 2 && line[0] == 'E' && line[1] == ':')
                        snprintf(a->last_error, sizeof(a->last_error), "%.*s", (int)len, line);
                ctx_output_line(a->c, stream, line, len, truncated);
                return;
        }
        fault_point("status", line, len);
        if (apt_status_parse(line, len, &st) < 0)
                return;
        switch (st.kind) {
        case APT_ST_DOWNLOAD:
                a->seen_download = true;
                f = a->from + span * APT_DOWNLOAD_SHARE * st.percent / 100.0;
                phase_progress(a->c, f, "%s", st.message);
                break;
        case APT_ST_INSTALL:
                f = a->seen_download ? a->from + span * (APT_DOWNLOAD_SHARE +
                                                         (1 - APT_DOWNLOAD_SHARE) * st.percent / 100.0)
                                     : a->from + span * st.percent / 100.0;
                phase_progress(a->c, f, "%s", st.message);
                break;
        case APT_ST_ERROR:
                snprintf(a->last_error, sizeof(a->last_error), "%s: %s", st.pkg, st.message);
                phase_log(a->c, LOG_ERROR, "dpkg: %s: %s", st.pkg, st.message);
                break;
        case APT_ST_CONFFILE:
                phase_log(a->c, LOG_WARNING, "configuration file question: %s (kept the installed one)",
                          st.message);
                break;
        default:
                break;
        }
}

/* sync(2), not syncfs(2) on "/": dpkg writes under /usr, /etc, /var and
 * /boot, and any of them may be a filesystem of its own; sync() reaches
 * every one, at the price of also flushing what others wrote, which on a
 * server being provisioned is little. On Linux it returns once the data is
 * written. */
static void disk_sync_all(void)
{
        sync();
}

void (*ops_disk_sync)(void) = disk_sync_all;

/* After a dpkg transaction (whatever its outcome): its files to disk, then
 * the journal record that says so (ops.h). Before the caller ends its
 * action or the engine writes a checkpoint. 0, or -EIO after phase_fail(). */
static int transaction_synced(struct phase_ctx *c)
{
        struct undo u = { .kind = UNDO_NOTHING };
        int64_t t0 = now_ms();

        ops_disk_sync();
        log_write(LOG_DEBUG, phase_id(c), "synced the package files to disk in %lld ms",
                  (long long)(now_ms() - t0));
        return phase_journal(c, "COMMAND_EXEC", OPS_SYNC_TARGET, &u) < 0 ? -EIO : 0;
}

/* Runs apt-get with its status channel feeding the phase's progress. The
 * transaction unpacks with unsafe I/O; its end is synced and journaled. */
static int apt_run_words(struct phase_ctx *c, const char *const *words, double from, double to,
                         const char *what)
{
        _cleanup_strv_ char **argv = apt_argv_unpack(STATUS_FD, words);
        _cleanup_free_ char *cmd = cmdline((const char *const *)argv);
        struct apt_run a = { .c = c, .from = from, .to = to };
        struct run_opts ro;
        struct run_result res;
        char why[256];
        int r;

        r = ops_wait_package_manager(c);
        if (r < 0)
                return r;
        run_opts_init(&ro);
        ro.argv = (const char *const *)argv;
        ro.on_line = apt_line;
        ro.userdata = &a;
        ro.status_fd = STATUS_FD;
        ro.timeout_ms = APT_TIMEOUT_MS;
        log_write(LOG_DEBUG, phase_id(c), "running: %s", cmd);
        ops_memo_drop(c->e);
        r = run_command(&ro, &res);
        /* done, failed or cancelled: what dpkg unpacked goes to disk first */
        if (transaction_synced(c) < 0)
                return -EIO;
        if (r == 0) {
                phase_progress(c, to, NULL);
                return 0;
        }
        run_describe(r, &res, argv[0], why, sizeof(why));
        if (a.last_error[0])
                return phase_fail(c, -EIO, "%s failed (%s): %s", what, why, a.last_error);
        return phase_fail(c, r < 0 ? r : -EIO, "%s failed: apt-get %s", what, why);
}

/* The package names among apt-get install words that dpkg has begun and
 * not finished (unpacked, half-configured, triggers pending …), joined
 * by spaces; NULL when none (or when dpkg cannot be asked: then apt says
 * what is wrong). */
static char *half_installed(const char *const *words)
{
        _cleanup_strv_ char **names = apt_word_names(words), **half = NULL;
        struct apt_pkg_list l;

        if (!names || apt_pkg_list_query((const char *const *)names, &l) < 0)
                return NULL;
        for (size_t i = 0; names[i]; i++)
                if (apt_pkg_list_state(&l, names[i]) == APT_PKG_HALF)
                        strv_push(&half, names[i]);
        apt_pkg_list_release(&l);
        return half ? strv_join(half, " ") : NULL;
}

/* Before an apt transaction: finishes what dpkg began and did not end —
 * when dpkg was interrupted (apt's sign: it refuses to work until dpkg
 * --configure -a has run), or when a package the install names is only
 * half-installed (apt would see nothing to install and leave it so). A run
 * killed inside an install leaves either. Journaled as a command with
 * nothing to undo: the packages it completes are on the purge list of the
 * install that began them. 0 when it ran, 1 when there was nothing to do,
 * < 0 after phase_fail(). */
static int dpkg_repair(struct phase_ctx *c, const char *const *words)
{
        /* no --force-unsafe-io: it only changes how dpkg unpacks, and
         * --configure unpacks nothing (it runs maintainer scripts and
         * triggers); what those write is synced after it all the same */
        const char *const argv[] = { "dpkg", "--force-confdef", "--force-confold",
                                     "--configure", "-a", NULL };
        struct ops_run_opts o = { .timeout_ms = APT_TIMEOUT_MS };
        struct undo u = { .kind = UNDO_NOTHING };
        int pending = apt_dpkg_pending(ctx_dpkg_dir(c));
        _cleanup_free_ char *half = pending ? NULL : half_installed(words);
        bool implicit;
        int r;

        if (!pending && !half)
                return 1;
        if (pending)
                phase_log(c, LOG_WARNING,
                          "dpkg was interrupted (%d pending update%s: an earlier run was stopped in the middle of an installation); finishing it with dpkg --configure -a",
                          pending, pending == 1 ? "" : "s");
        else
                phase_log(c, LOG_WARNING,
                          "dpkg has not finished installing %s (an earlier run was stopped in the middle of it); finishing it with dpkg --configure -a",
                          half);
        implicit = ctx_action_auto_begin(c, "COMMAND_EXEC", "dpkg --configure -a",
                                         "Finishing the interrupted package installation");
        r = ops_wait_package_manager(c);
        if (r >= 0)
                r = phase_journal(c, "COMMAND_EXEC", "dpkg --configure -a", &u) < 0 ? -EIO : 0;
        if (r >= 0) {
                r = ops_run(c, argv, &o);
                if (transaction_synced(c) < 0 && r >= 0)
                        r = -EIO;
        }
        if (implicit)
                phase_action_end(c, r);
        return r < 0 ? r : 0;
}

int ops_apt_upgrade(struct phase_ctx *c)
{
        const char *const words[] = { "dist-upgrade", NULL };
        struct undo u = { .kind = UNDO_NOTHING };
        bool implicit = ctx_action_auto_begin(c, "COMMAND_EXEC", "apt-get dist-upgrade",
                                              "Upgrading installed packages");
        int r;

        r = dpkg_repair(c, NULL);
        if (r >= 0)
                r = phase_journal(c, "COMMAND_EXEC", "apt-get dist-upgrade", &u) < 0 ? -EIO : 0;
        if (r == 0)
                r = apt_run_words(c, words, c->fraction, c->fraction, "upgrading the installed packages");
        if (implicit)
                phase_action_end(c, r);
        return r;
}

/* ---- a dpkg transaction cut off before its sync ------------------------- */

/* The packages or files of a list, for the log: the first 20, then how many more. */
static char *log_names(char *const *v)
{
        return strv_join_some(v, 20);
}

/* The dpkg transactions the journal records (ops.h): the packages each
 * names go into *names; *all is set for one that names none but may have
 * touched any (dist-upgrade). false for any other record. */
static bool transaction_packages(const struct journal_entry *je, char ***names, bool *all)
{
        if (!je->type || !je->target)
                return false;
        if (strcmp(je->type, "PACKAGE_INSTALL") == 0 && je->undo.kind == UNDO_PURGE_PACKAGES) {
                /* the words it was asked for, and what apt said it would add */
                _cleanup_strv_ char **words = NULL, **asked = NULL;
                _cleanup_free_ char *t = xstrdup(je->target);
                char *save = NULL;

                for (char *w = strtok_r(t, " ", &save); w; w = strtok_r(NULL, " ", &save))
                        strv_push(&words, w);
                asked = apt_word_names((const char *const *)words);
                for (size_t i = 0; asked && asked[i]; i++)
                        if (!strv_contains(*names, asked[i]))
                                strv_push(names, asked[i]);
        } else if (strcmp(je->type, "COMMAND_EXEC") != 0)
                return false;
        else if (strcmp(je->target, "apt-get dist-upgrade") == 0)
                *all = true;
        else if (strcmp(je->target, OPS_REINSTALL_TARGET) != 0 &&
                 strcmp(je->target, "dpkg --configure -a") != 0)
                return false;
        for (size_t i = 0; je->undo.list && je->undo.list[i]; i++)
                if (!strv_contains(*names, je->undo.list[i]))
                        strv_push(names, je->undo.list[i]);
        return true;
}

/* Whether the session's journal holds dpkg transactions after its last
 * sync record; their packages in *ret_names (may stay NULL), *ret_all as
 * in transaction_packages(), the seq of the first of them in *ret_seq. */
static bool cut_transactions(struct phase_ctx *c, char ***ret_names, bool *ret_all,
                             uint64_t *ret_seq)
{
        struct journal *j = ctx_journal(c);
        _cleanup_strv_ char **names = NULL;
        bool all = false, found = false;
        uint64_t seq = 0;

        if (!j)
                return false;
        for (size_t i = 0; i < journal_count(j); i++) {
                const struct journal_entry *je = journal_entry_at(j, i);

                if (!je->session_id || strcmp(je->session_id, phase_session_id(c)) != 0)
                        continue;
                if (je->type && strcmp(je->type, "COMMAND_EXEC") == 0 && je->target &&
                    strcmp(je->target, OPS_SYNC_TARGET) == 0) {
                        strv_free(names);
                        names = NULL;
                        all = found = false;
                        continue;
                }
                if (transaction_packages(je, &names, &all) && !found) {
                        found = true;
                        seq = je->seq;
                }
        }
        if (!found)
                return false;
        *ret_names = TAKE_PTR(names);
        *ret_all = all;
        *ret_seq = seq;
        return true;
}

/* Of names, those dpkg has a record of as installed or half-installed,
 * plus (with_half) every package dpkg reports as not fully installed.
 * Sorted. -errno when dpkg-query cannot run. */
static int dpkg_present(char *const *names, bool with_half, char ***ret)
{
        struct apt_pkg_list l;
        char **v = NULL;
        int r = apt_pkg_list_query(NULL, &l);

        if (r < 0)
                return r;
        for (size_t i = 0; names && names[i]; i++) {
                enum apt_pkg_state st = apt_pkg_list_state(&l, names[i]);
                if ((st == APT_PKG_INSTALLED || st == APT_PKG_HALF) && !strv_contains(v, names[i]))
                        strv_push(&v, names[i]);
        }
        for (size_t i = 0; with_half && i < l.n; i++)
                if (l.v[i].state == APT_PKG_HALF && !strv_contains(v, l.v[i].name))
                        strv_push(&v, l.v[i].name);
        apt_pkg_list_release(&l);
        strv_sort(v);
        *ret = v;
        return 0;
}

/* Whether owner (as dpkg-query -S names it: "name" or "name:arch") is
 * the package pkg (as the journal names it). */
static bool same_package(const char *owner, const char *pkg)
{
        size_t n = strlen(pkg);

        return strcmp(owner, pkg) == 0 ||
               (!strchr(pkg, ':') && strncmp(owner, pkg, n) == 0 && owner[n] == ':');
}

/* Runs dpkg --verify on pkgs (NULL: every package) and finds which of them
 * own a file whose md5sum differs from the package's. 0 with the packages
 * in *ret (sorted, NULL when none); -ENOEXEC when dpkg --verify cannot
 * check them (why in why), other -errno when a command cannot run. */
static int verify_packages(struct phase_ctx *c, char *const *pkgs, char ***ret, char *why,
                           size_t whylen)
{
        _cleanup_strv_ char **argv = NULL, **changed = NULL, **conffiles = NULL,
                            **missing = NULL, **owners = NULL, **damaged = NULL;
        _cleanup_free_ char *out = NULL, *owned = NULL;
        int r;

        strv_push(&argv, "dpkg");
        strv_push(&argv, "--verify");
        strv_push(&argv, "--verify-format");
        strv_push(&argv, "rpm");
        for (size_t i = 0; pkgs && pkgs[i]; i++)
                strv_push(&argv, pkgs[i]);
        r = ops_query(c, (const char *const *)argv, &out);
        if (r < 0) {
                snprintf(why, whylen, "it cannot run: %s", strerror(-r));
                return -ENOEXEC;
        }
        /* 1: some file failed a check; 2 and more: dpkg could not check
         * (too old for --verify, a damaged database) */
        if (r > 1) {
                snprintf(why, whylen, "it ended with exit status %d", r);
                return -ENOEXEC;
        }
        apt_verify_parse(out, &changed, &conffiles, &missing);
        if (conffiles) {
                _cleanup_free_ char *l = log_names(conffiles);
                phase_log(c, LOG_WARNING,
                          "dpkg --verify: configuration files differ from the packages' (changed since they were installed, by this run or by hand, or damaged by the interruption); a reinstall keeps them as they are, so check them: %s",
                          l);
        }
        if (missing) {
                _cleanup_free_ char *l = log_names(missing);
                phase_log(c, LOG_WARNING,
                          "dpkg --verify: files missing (left alone: removed on purpose or excluded by dpkg's path-exclude; apt-get install --reinstall restores a package's): %s",
                          l);
        }
        if (!changed) {
                *ret = NULL;
                return 0;
        }
        /* which of the packages own the damaged files */
        strv_free(argv);
        argv = NULL;
        strv_push(&argv, "dpkg-query");
        strv_push(&argv, "-S");
        for (size_t i = 0; changed[i]; i++)
                strv_push_take(&argv, apt_search_pattern(changed[i]));
        r = ops_query(c, (const char *const *)argv, &owned);
        if (r < 0)
                return phase_fail(c, r, "cannot ask dpkg-query which packages own the damaged files: %s",
                                  strerror(-r));
        owners = apt_search_owners_parse(owned);
        for (size_t i = 0; owners && owners[i]; i++) {
                const char *name = owners[i];

                for (size_t k = 0; pkgs && pkgs[k]; k++)
                        if (same_package(owners[i], pkgs[k]))
                                name = pkgs[k];
                if ((!pkgs || strv_contains(pkgs, name)) && !strv_contains(damaged, name))
                        strv_push(&damaged, name);
        }
        if (!damaged) {
                _cleanup_free_ char *l = log_names(changed);
                phase_log(c, LOG_WARNING,
                          "dpkg --verify: files differ from their packages', but dpkg-query names none of the checked packages as their owner: %s",
                          l);
        }
        strv_sort(damaged);
        *ret = TAKE_PTR(damaged);
        return 0;
}

int ops_apt_settle(struct phase_ctx *c)
{
        _cleanup_strv_ char **named = NULL, **check = NULL, **reinstall = NULL, **words = NULL;
        _cleanup_free_ char *list = NULL;
        struct undo u = { .kind = UNDO_NOTHING };
        char why[256] = "";
        uint64_t seq;
        bool all, implicit;
        int r;

        if (!cut_transactions(c, &named, &all, &seq))
                return 1;
        implicit = ctx_action_auto_begin(c, "COMMAND_EXEC", "dpkg --verify",
                                         "Checking the files of an interrupted installation");
        /* before the repair: what dpkg left half-done is part of it */
        r = dpkg_present(named, true, &check);
        if (r < 0) {
                r = phase_fail(c, r, "cannot ask dpkg-query which packages are installed: %s",
                               strerror(-r));
                goto out;
        }
        list = all ? xstrdup("every installed package") : log_names(check);
        phase_log(c, LOG_WARNING,
                  "a package installation of this session (journal entry %llu) was cut off before its files were synced to disk (dpkg unpacks without syncing each file; a power cut can leave them empty); checking %s with dpkg --verify",
                  (unsigned long long)seq, check || all ? list : "nothing: none of its packages is installed");
        r = dpkg_repair(c, (const char *const *)check);
        if (r < 0)
                goto out;
        if (check || all) {
                /* the repair may have finished or dropped some of them */
                _cleanup_strv_ char **now = NULL;

                r = dpkg_present(check, false, &now);
                if (r < 0) {
                        r = phase_fail(c, r, "cannot ask dpkg-query which packages are installed: %s",
                                       strerror(-r));
                        goto out;
                }
                strv_free(check);
                check = TAKE_PTR(now);
        }
        if (check || all) {
                r = verify_packages(c, all ? NULL : check, &reinstall, why, sizeof(why));
                if (r == -ENOEXEC) {
                        free(list);
                        list = log_names(check);
                        phase_log(c, LOG_WARNING,
                                  "dpkg --verify cannot check the files (%s); reinstalling the packages of the interrupted installation instead: %s",
                                  why, check ? list : "(none named)");
                        reinstall = strv_copy(check);
                        r = 0;
                }
                if (r < 0)
                        goto out;
        }
        if (!reinstall) {
                phase_log(c, LOG_INFO, "dpkg --verify: the files of the interrupted installation are intact");
                r = transaction_synced(c);
                goto out;
        }
        free(list);
        list = log_names(reinstall);
        if (!why[0])
                phase_log(c, LOG_WARNING,
                          "reinstalling %zu package%s whose files dpkg --verify found changed (md5sum differs from the package's, as the interruption can leave them): %s",
                          strv_length(reinstall), strv_length(reinstall) == 1 ? "" : "s", list);
        u.list = reinstall;
        if (phase_journal(c, "COMMAND_EXEC", OPS_REINSTALL_TARGET, &u) < 0) {
                r = -EIO;
                goto out;
        }
        strv_push(&words, "install");
        strv_push(&words, "--reinstall");
        for (size_t i = 0; reinstall[i]; i++)
                strv_push(&words, reinstall[i]);
        r = apt_run_words(c, (const char *const *)words, c->fraction, c->fraction,
                          "reinstalling the damaged packages");
out:
        if (implicit)
                phase_action_end(c, r);
        return r < 0 ? r : 0;
}

/* An earlier install of the same packages in this session and phase whose
 * undo is still pending and some of whose packages are installed now,
 * while apt still has packages to add: that install was cut off (the run
 * was killed, dpkg repaired since). apt installs Recommends only for
 * packages it newly installs, so finishing it from here would leave the
 * half-installed ones without theirs: the end state would differ from an
 * uninterrupted run. Returns the entry (and the list of what is installed
 * now, caller frees), or NULL. */
static const struct journal_entry *interrupted_install(struct phase_ctx *c, const char *target,
                                                       char ***ret_installed)
{
        struct journal *j = ctx_journal(c);
        _cleanup_strv_ char **installed = NULL;
        const struct journal_entry *found = NULL;

        if (!j)
                return NULL;
        for (size_t i = 0; i < journal_count(j); i++) {
                const struct journal_entry *je = journal_entry_at(j, i);
                if (je->undo.kind == UNDO_PURGE_PACKAGES && je->result == UNDO_PENDING &&
                    je->type && strcmp(je->type, "PACKAGE_INSTALL") == 0 && je->target &&
                    strcmp(je->target, target) == 0 && je->phase &&
                    strcmp(je->phase, phase_id(c)) == 0 && je->session_id &&
                    strcmp(je->session_id, phase_session_id(c)) == 0)
                        found = je;
        }
        if (!found || apt_installed(&installed) < 0)
                return NULL;
        for (size_t i = 0; found->undo.list && found->undo.list[i]; i++)
                if (apt_is_installed(installed, found->undo.list[i])) {
                        *ret_installed = installed;
                        installed = NULL;
                        return found;
                }
        return NULL;
}

/* For an install that was cut off: the Recommends its already installed
 * packages are missing, which an uninterrupted run would have installed
 * (and which are then asked for by name, and marked automatic after). */
static char **cut_install_extras(struct phase_ctx *c, const struct journal_entry *cut,
                                 char *const *installed, const char *const *pkgs)
{
        _cleanup_strv_ char **excluded = NULL;
        char **extra = NULL;
        size_t n;

        /* not asked for: the "name-" words' names, and what the install
         * names anyway */
        for (size_t i = 0; pkgs[i]; i++) {
                n = strlen(pkgs[i]);
                if (n > 1 && pkgs[i][n - 1] == '-')
                        strv_push_take(&excluded, xstrndup(pkgs[i], n - 1));
                else
                        strv_push(&excluded, pkgs[i]);
        }
        /* every package of the cut-off install that dpkg has at least
         * unpacked: the fully installed ones and the half-done ones alike */
        if (apt_missing_recommends(cut->undo.list, installed, excluded, &extra) < 0) {
                phase_log(c, LOG_WARNING, "cannot ask dpkg for the recommended packages of the interrupted installation");
                return NULL;
        }
        return extra;
}

int ops_mandb_pause(struct phase_ctx *c)
{
        static const char off[] = "man-db man-db/auto-update boolean false\n";
        const char *const set[] = { "debconf-set-selections", NULL };
        struct ops_run_opts o = { .stdin_data = off, .stdin_len = sizeof(off) - 1 };
        struct undo u = { .kind = UNDO_MANDB_AUTO_UPDATE, .path = (char *)MANDB_AUTO_UPDATE_FLAG };
        struct stat st;
        int r;

        r = ops_pkg_installed(c, "man-db");
        if (r < 0)
                return phase_fail(c, r, "cannot ask dpkg whether man-db is installed: %s",
                                  strerror(-r));
        if (r > 0 && lstat(MANDB_AUTO_UPDATE_FLAG, &st) < 0 && errno == ENOENT) {
                phase_log(c, LOG_INFO, "man-db's index updates are off on this server; left so");
                return 1;
        }
        if (phase_journal(c, "COMMAND_EXEC", "man-db/auto-update", &u) < 0)
                return -EIO;
        r = ops_run(c, set, &o);
        if (r < 0)
                return r;
        if (unlink(MANDB_AUTO_UPDATE_FLAG) < 0 && errno != ENOENT)
                return phase_fail(c, -errno, "cannot remove %s: %s", MANDB_AUTO_UPDATE_FLAG,
                                  strerror(errno));
        phase_log(c, LOG_INFO,
                  "man-db's index updates paused for the run (no index rebuild after each installation); one rebuild follows at the end, in the background");
        return 0;
}

/* The target of the journal records of the initramfs hold: the hold
 * (UNDO_INITRAMFS_UPDATE) and its end (a record with nothing to undo). */
#define INITRAMFS_TARGET "initramfs-tools/update_initramfs"

int ops_initramfs_hold(struct phase_ctx *c)
{
        _cleanup_free_ char *text = NULL, *line = NULL;
        struct undo u = { .kind = UNDO_INITRAMFS_UPDATE, .path = (char *)INITRAMFS_CONF };
        const char *v;
        int r;

        r = ops_pkg_installed(c, "initramfs-tools");
        if (r < 0)
                return phase_fail(c, r, "cannot ask dpkg whether initramfs-tools is installed: %s",
                                  strerror(-r));
        text = r > 0 ? sysfile_read(INITRAMFS_CONF) : NULL;
        if (!text) {
                phase_log(c, LOG_INFO, "no initramfs-tools configuration (%s): no initramfs updates to hold",
                          INITRAMFS_CONF);
                return 1;
        }
        line = initramfs_conf_setting(text);
        v = line ? line + strlen("update_initramfs=") : "yes";
        if (strcmp(v, "no") == 0 || strcmp(v, "\"no\"") == 0 || strcmp(v, "'no'") == 0) {
                phase_log(c, LOG_INFO, "the initramfs updates are off on this server (%s); left so",
                          INITRAMFS_CONF);
                return 1;
        }
        u.value = line ? line : (char *)"";
        if (phase_journal(c, "FILE_MODIFY", INITRAMFS_TARGET, &u) < 0)
                return -EIO;
        r = initramfs_conf_swap(INITRAMFS_CONF, line, INITRAMFS_HOLD_LINE);
        if (r < 0)
                return phase_fail(c, r, "cannot write %s: %s", INITRAMFS_CONF, strerror(-r));
        phase_log(c, LOG_INFO,
                  "initramfs updates held for the run (%s in %s): one regeneration follows, before the verification",
                  INITRAMFS_HOLD_LINE, INITRAMFS_CONF);
        return 0;
}

/* The configuration line the hold replaced, when a hold is on (the latest
 * journal record of INITRAMFS_TARGET is the hold); NULL otherwise. Caller
 * frees. */
static char *initramfs_held_line(struct phase_ctx *c)
{
        const struct journal_entry **list = NULL;
        char *value = NULL;
        size_t n;

        if (!c->e->journal)
                return NULL;
        /* newest first: the latest record of the hold says whether it is on */
        n = journal_pending(c->e->journal, NULL, &list);
        for (size_t i = 0; i < n; i++)
                if (list[i]->target && strcmp(list[i]->target, INITRAMFS_TARGET) == 0) {
                        if (list[i]->undo.kind == UNDO_INITRAMFS_UPDATE && list[i]->undo.value)
                                value = xstrdup(list[i]->undo.value);
                        break;
                }
        free(list);
        return value;
}

bool ops_initramfs_held(struct phase_ctx *c)
{
        _cleanup_free_ char *value = initramfs_held_line(c);
        return value != NULL;
}

int ops_initramfs_release(struct phase_ctx *c)
{
        const char *const argv[] = { "update-initramfs", "-u", NULL };
        struct ops_run_opts o = { .timeout_ms = 30 * 60 * 1000 };
        struct undo done = { .kind = UNDO_NOTHING };
        _cleanup_free_ char *value = initramfs_held_line(c);
        int64_t t0;
        int r;

        if (!value)
                return 1;
        /* 1 (no hold line): a resumed run that was killed after this */
        r = initramfs_conf_swap(INITRAMFS_CONF, INITRAMFS_HOLD_LINE, value);
        if (r < 0 && r != -ENOENT)
                return phase_fail(c, r, "cannot write %s: %s", INITRAMFS_CONF, strerror(-r));
        if (r != -ENOENT) {
                phase_progress(c, 0.05, "regenerating the initramfs");
                t0 = now_ms();
                r = ops_run(c, argv, &o);
                if (r < 0)
                        return r;
                phase_log(c, LOG_INFO, "initramfs regenerated once, in %.1f s (its updates were held during the run)",
                          (double)(now_ms() - t0) / 1000.0);
        }
        if (phase_journal(c, "COMMAND_EXEC", INITRAMFS_TARGET, &done) < 0)
                return -EIO;
        return 0;
}

int ops_apt_install(struct phase_ctx *c, const char *const *pkgs, unsigned flags, double from,
                    double to)
{
        _cleanup_strv_ char **words = NULL, **args = NULL, **new_pkgs = NULL, **upgraded = NULL,
                            **auto_marks = NULL;
        _cleanup_free_ char *target = NULL, *title = NULL;
        struct undo u = { .kind = UNDO_PURGE_PACKAGES };
        char err[512] = "";
        bool implicit;
        int r;

        /* the simulation gets exactly the words the install gets after "install" */
        if (flags & OPS_APT_NO_RECOMMENDS)
                strv_push(&args, "--no-install-recommends");
        for (size_t i = 0; pkgs[i]; i++)
                strv_push(&args, pkgs[i]);
        strv_push(&words, "install");
        for (size_t i = 0; args && args[i]; i++)
                strv_push(&words, args[i]);
        target = strv_join((char *const *)pkgs, " ");

        r = dpkg_repair(c, pkgs);
        if (r < 0)
                return r;
        r = apt_simulate_install((const char *const *)args, &new_pkgs, &upgraded, err,
                                 sizeof(err));
        if (r == -ENOENT && !c->e->apt_lists_fresh) {
                /* a re-run or resume whose system-prep is done never
                 * refreshed the lists, and they may be old or cleaned
                 * (apt-get clean, a cloud image's first boot): once per run */
                phase_log(c, LOG_WARNING,
                          "no package \"%s\" in apt's package lists, which this run has not refreshed yet; running apt-get update once and trying again",
                          err);
                r = ops_apt_update(c);
                if (r < 0)
                        return r;
                /* the failed plan left new_pkgs and upgraded untouched */
                r = apt_simulate_install((const char *const *)args, &new_pkgs, &upgraded, err,
                                         sizeof(err));
        }
        if (r == -ENOENT)
                return phase_fail(c, r,
                                  "no package \"%s\" in the configured apt sources; check /etc/apt/sources.list* (and [system] apt_mirror)",
                                  err);
        if (r < 0)
                return phase_fail(c, r, "apt cannot plan the installation of %s: %s", target,
                                  err[0] ? err : strerror(-r));
        if (strv_length(new_pkgs) > 0) {
                _cleanup_strv_ char **installed = NULL, **extra = NULL;
                const struct journal_entry *cut = interrupted_install(c, target, &installed);

                if (cut)
                        extra = cut_install_extras(c, cut, installed, pkgs);
                if (strv_length(extra) > 0) {
                        _cleanup_strv_ char **args2 = strv_copy(args), **new2 = NULL, **up2 = NULL;
                        _cleanup_free_ char *list = strv_join(extra, " ");
                        char err2[512] = "";

                        for (size_t i = 0; extra[i]; i++)
                                strv_push(&args2, extra[i]);
                        phase_log(c, LOG_WARNING,
                                  "the earlier installation of %s in this run was cut off; adding the recommended packages its finished part still lacks, as an uninterrupted run has them: %s",
                                  target, list);
                        if (apt_simulate_install((const char *const *)args2, &new2, &up2, err2,
                                                 sizeof(err2)) == 0) {
                                strv_free(new_pkgs);
                                strv_free(upgraded);
                                new_pkgs = TAKE_PTR(new2);
                                upgraded = TAKE_PTR(up2);
                                for (size_t i = 0; extra[i]; i++)
                                        strv_push(&words, extra[i]);
                                auto_marks = TAKE_PTR(extra);
                        } else
                                phase_log(c, LOG_WARNING,
                                          "apt cannot add them (%s); going on without them", err2);
                }
        }
        if (strv_length(new_pkgs) == 0 && strv_length(upgraded) == 0) {
                phase_log(c, LOG_INFO, "already installed: %s", target);
                phase_progress(c, to, NULL);
                return 1;
        }

        r = engine_prefetch_ready(c, from);
        if (r < 0)
                return r;
        title = xasprintf("Installing %zu package%s (%s)", strv_length(new_pkgs),
                          strv_length(new_pkgs) == 1 ? "" : "s", target);
        implicit = ctx_action_auto_begin(c, "PACKAGE_INSTALL", target, title);
        u.list = new_pkgs;
        if (phase_journal(c, "PACKAGE_INSTALL", target, &u) < 0) {
                r = -EIO;
                goto out;
        }
        phase_log(c, LOG_INFO, "%zu new package%s, %zu upgraded", strv_length(new_pkgs),
                  strv_length(new_pkgs) == 1 ? "" : "s", strv_length(upgraded));
        r = apt_run_words(c, (const char *const *)words, from, to, "installing packages");
        if (r == 0 && auto_marks) {
                /* named only to complete a cut-off install: automatic, as
                 * they would be after an uninterrupted one */
                _cleanup_strv_ char **mark = NULL;
                strv_push(&mark, "apt-mark");
                strv_push(&mark, "auto");
                for (size_t i = 0; auto_marks[i]; i++)
                        strv_push(&mark, auto_marks[i]);
                r = ops_run(c, (const char *const *)mark, NULL);
                r = r < 0 ? r : 0;
        }
out:
        if (implicit)
                phase_action_end(c, r);
        return r;
}

/* "/etc/xrdp/xrdp.ini" → "etc_xrdp_xrdp.ini" for a backup's name. */
static void flatten(const char *path, char *buf, size_t size)
{
        size_t n = 0;
        for (const char *p = path; *p && n + 1 < size; p++) {
                if (*p == '/' && p == path)
                        continue;
                buf[n++] = *p == '/' ? '_' : *p;
        }
        buf[n] = '\0';
}

/* Keeps a copy of data (the current content of path) in the run's backup
 * directory; its name in ret_backup, its sha256 in ret_sha. */
static int backup_data(struct phase_ctx *c, const char *path, const char *data, size_t len,
                       char *ret_backup, size_t size, char ret_sha[SHA256_HEX])
{
        char flat[200];
        int fd, r;

        flatten(path, flat, sizeof(flat));
        if (snprintf(ret_backup, size, "%s/%s.XXXXXX", ctx_backup_dir(c), flat) >= (int)size)
                return -ENAMETOOLONG;
        fd = mkostemp(ret_backup, O_CLOEXEC);
        if (fd < 0)
                return -errno;
        close(fd);
        fault_point("backup", path, strlen(path));
        r = write_file_atomic(ret_backup, data, len, 0600, (uid_t)-1, (gid_t)-1);
        if (r < 0) {
                unlink(ret_backup);
                return r;
        }
        sha256_hex(data, len, ret_sha);
        return 0;
}

/* The undo of a change to the existing file path (st: its lstat, old: its
 * content): a backup in backup[size], restored with path's mode and owner.
 * < 0 after phase_fail() (doing: "changing", "removing"). */
static int restore_undo(struct phase_ctx *c, const char *path, const struct stat *st,
                        const char *old, size_t old_len, const char *doing, char *backup,
                        size_t size, struct undo *u)
{
        int r = backup_data(c, path, old, old_len, backup, size, u->sha256);

        if (r < 0)
                return phase_fail(c, r, "cannot back up %s before %s it: %s", path, doing,
                                  strerror(-r));
        u->kind = UNDO_RESTORE_FILE;
        u->path = (char *)path;
        u->backup = backup;
        u->mode = st->st_mode & 07777;
        u->uid = st->st_uid;
        u->gid = st->st_gid;
        return 0;
}

/* Opens the directory of path for a change (safepath.h: no symlink that
 * someone other than root made is followed on the way), or phase_fail()s
 * saying which link is in the way. */
static int open_for_change(struct phase_ctx *c, const char *path, struct safepath *ret)
{
        char why[512];
        int r = safepath_open(path, ret, why, sizeof(why));

        if (r == -ELOOP)
                return phase_fail(c, r, "%s: %s (root does not write through another user's "
                                  "link); move the link away and run again", path, why);
        if (r < 0)
                return phase_fail(c, r, "cannot reach %s: %s", path, strerror(-r));
        return 0;
}

int ops_write_file(struct phase_ctx *c, const char *path, const void *data, size_t len,
                   mode_t mode, uid_t uid, gid_t gid)
{
        _cleanup_safepath_ struct safepath p = { .dir = -1 };
        struct stat st;
        struct undo u = { 0 };
        char backup[PATH_MAX];
        const char *type;
        bool implicit;
        int r;

        r = open_for_change(c, path, &p);
        if (r < 0)
                return r;
        if (fstatat(p.dir, p.name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
                _cleanup_free_ char *old = NULL;
                size_t old_len = 0;

                if (!S_ISREG(st.st_mode))
                        return phase_fail(c, -EEXIST,
                                          "%s exists and is not a regular file (%s); move it away and run again",
                                          path, S_ISLNK(st.st_mode) ? "a symbolic link" : "a directory or special file");
                r = safepath_read(&p, 256u << 20, &old, &old_len);
                if (r < 0)
                        return phase_fail(c, r, "cannot read %s: %s", path, strerror(-r));
                if (sysfile_matches(&st, old, old_len, data, len, mode, uid, gid))
                        return 1;
                implicit = ctx_action_auto_begin(c, "FILE_MODIFY", path, path);
                r = restore_undo(c, path, &st, old, old_len, "changing", backup, sizeof(backup), &u);
                if (r < 0)
                        goto out;
                type = "FILE_MODIFY";
        } else {
                implicit = ctx_action_auto_begin(c, "FILE_CREATE", path, path);
                u.kind = UNDO_REMOVE_FILE;
                u.path = (char *)path;
                sha256_hex(data, len, u.sha256);
                type = "FILE_CREATE";
        }
        if (phase_journal(c, type, path, &u) < 0) {
                r = -EIO;
                goto out;
        }
        r = safepath_write(&p, data, len, mode, uid, gid);
        if (r < 0)
                r = phase_fail(c, r, "cannot write %s: %s", path, strerror(-r));
        else
                phase_log(c, LOG_INFO, "%s %s", type[5] == 'C' ? "created" : "updated", path);
out:
        if (implicit)
                phase_action_end(c, r);
        return r;
}

int ops_remove_file(struct phase_ctx *c, const char *path)
{
        _cleanup_safepath_ struct safepath p = { .dir = -1 };
        _cleanup_free_ char *old = NULL;
        struct stat st;
        struct undo u = { 0 };
        char backup[PATH_MAX];
        char why[512];
        size_t old_len = 0;
        bool implicit;
        int r;

        r = safepath_open(path, &p, why, sizeof(why));
        if (r == -ENOENT)
                return 1;
        if (r == -ELOOP)
                return phase_fail(c, r, "%s: %s (root does not remove through another user's "
                                  "link); move the link away and run again", path, why);
        if (r < 0)
                return phase_fail(c, r, "cannot reach %s: %s", path, strerror(-r));
        if (fstatat(p.dir, p.name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 1 : phase_fail(c, -errno, "cannot look at %s: %m", path);
        if (!S_ISREG(st.st_mode))
                return phase_fail(c, -EISDIR, "%s is not a regular file; not removing it", path);
        r = safepath_read(&p, 256u << 20, &old, &old_len);
        if (r < 0)
                return phase_fail(c, r, "cannot read %s: %s", path, strerror(-r));
        implicit = ctx_action_auto_begin(c, "FILE_MODIFY", path, path);
        r = restore_undo(c, path, &st, old, old_len, "removing", backup, sizeof(backup), &u);
        if (r < 0)
                goto out;
        if (phase_journal(c, "FILE_MODIFY", path, &u) < 0) {
                r = -EIO;
                goto out;
        }
        if (unlinkat(p.dir, p.name, 0) < 0)
                r = phase_fail(c, -errno, "cannot remove %s: %m", path);
        else {
                (void)safepath_sync_dir(&p);
                phase_log(c, LOG_INFO, "removed %s", path);
                r = 0;
        }
out:
        if (implicit)
                phase_action_end(c, r);
        return r;
}

int ops_mkdir(struct phase_ctx *c, const char *path, mode_t mode, uid_t uid, gid_t gid)
{
        _cleanup_safepath_ struct safepath p = { .dir = -1 };
        struct stat st;
        struct undo u = { .kind = UNDO_REMOVE_DIR, .path = (char *)path };
        int r;

        r = open_for_change(c, path, &p);
        if (r < 0)
                return r;
        if (fstatat(p.dir, p.name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
                if (S_ISDIR(st.st_mode))
                        return 1;
                return phase_fail(c, -ENOTDIR, "%s exists and is not a directory%s", path,
                                  S_ISLNK(st.st_mode) ? " (a symbolic link)" : "");
        }
        if (phase_journal(c, "FILE_CREATE", path, &u) < 0)
                return -EIO;
        /* made root-only, then opened without following and given its owner
         * and mode through that fd: a link swapped in meanwhile is never
         * chmod'ed or chown'ed */
        r = safepath_mkdir(&p, mode, uid, gid);
        if (r == 1 || r == -ELOOP || r == -ENOTDIR)
                return phase_fail(c, r < 0 ? r : -EEXIST, "%s appeared while it was being made; "
                                  "look at it and run again", path);
        if (r < 0)
                return phase_fail(c, r, "cannot create directory %s: %s", path, strerror(-r));
        return 0;
}

/* ask() for an op: a question that cannot be asked fails the phase. */
static int query_status(struct phase_ctx *c, const char *const *argv, char **ret_out)
{
        int r = ask(c, argv, ret_out);
        if (r < 0)
                return phase_fail(c, r, "cannot run %s: %s", argv[0], strerror(-r));
        return r;
}

/* 1 when getent finds name in the account database db ("passwd",
 * "group"), 0 when not, < 0 after phase_fail(). */
static int account_exists(struct phase_ctx *c, const char *db, const char *name)
{
        const char *const q[] = { "getent", db, name, NULL };
        int r = query_status(c, q, NULL);

        return r < 0 ? r : r == 0;
}

int ops_user_add(struct phase_ctx *c, const char *user, const char *full_name,
                 const char *shell)
{
        struct undo u = { .kind = UNDO_DELETE_USER, .name = (char *)user };
        const char *argv[12];
        size_t n = 0;
        bool implicit;
        int r;

        r = account_exists(c, "passwd", user);
        if (r != 0)
                return r;
        implicit = ctx_action_auto_begin(c, "USER_CREATE", user, user);
        argv[n++] = "useradd";
        argv[n++] = "--create-home";
        argv[n++] = "--user-group";
        argv[n++] = "--shell";
        argv[n++] = shell;
        if (full_name && *full_name) {
                argv[n++] = "--comment";
                argv[n++] = full_name;
        }
        argv[n++] = user;
        argv[n] = NULL;
        r = phase_journal(c, "USER_CREATE", user, &u) < 0 ? -EIO : ops_run(c, argv, NULL);
        if (implicit)
                phase_action_end(c, r);
        return r < 0 ? r : 0;
}

int ops_group_add(struct phase_ctx *c, const char *group, bool system)
{
        const char *const add_sys[] = { "groupadd", "--system", group, NULL };
        const char *const add[] = { "groupadd", group, NULL };
        struct undo u = { .kind = UNDO_DELETE_GROUP, .name = (char *)group };
        int r;

        r = account_exists(c, "group", group);
        if (r != 0)
                return r;
        if (phase_journal(c, "USER_MODIFY", group, &u) < 0)
                return -EIO;
        r = ops_run(c, system ? add_sys : add, NULL);
        return r < 0 ? r : 0;
}

int ops_group_add_member(struct phase_ctx *c, const char *user, const char *group)
{
        const char *const q[] = { "id", "-nG", user, NULL };
        const char *const argv[] = { "gpasswd", "--add", user, group, NULL };
        struct undo u = { .kind = UNDO_REMOVE_GROUP_MEMBER, .name = (char *)user,
                          .value = (char *)group };
        _cleanup_free_ char *out = NULL;
        char *save = NULL;
        int r;

        r = query_status(c, q, &out);
        if (r < 0)
                return r;
        if (r == 0)
                for (char *w = strtok_r(out, " \n", &save); w; w = strtok_r(NULL, " \n", &save))
                        if (strcmp(w, group) == 0)
                                return 1;
        if (phase_journal(c, "USER_MODIFY", user, &u) < 0)
                return -EIO;
        r = ops_run(c, argv, NULL);
        return r < 0 ? r : 0;
}

int ops_set_password(struct phase_ctx *c, const char *user, const struct secret *pw,
                     bool hashed)
{
        const char *const plain[] = { "chpasswd", NULL };
        const char *const crypted[] = { "chpasswd", "--encrypted", NULL };
        size_t ul = strlen(user), pl = secret_len(pw);
        struct secret *line = NULL;
        struct ops_run_opts o = { 0 };
        char *b;
        int r;

        /* "user:password\n" assembled in locked memory, sent on stdin */
        r = secret_alloc(ul + 1 + pl + 1, &line);
        if (r < 0)
                return phase_fail(c, r, "cannot allocate locked memory: %s", strerror(-r));
        b = secret_buffer(line);
        memcpy(b, user, ul);
        b[ul] = ':';
        memcpy(b + ul + 1, secret_str(pw), pl);
        b[ul + 1 + pl] = '\n';
        o.stdin_data = b;
        o.stdin_len = ul + 1 + pl + 1;
        r = ops_run(c, hashed ? crypted : plain, &o);
        secret_free(line);
        return r < 0 ? r : 0;
}

int ops_unit_enable(struct phase_ctx *c, const char *unit, bool now)
{
        const char *const q_en[] = { "systemctl", "is-enabled", unit, NULL };
        const char *const q_act[] = { "systemctl", "is-active", unit, NULL };
        const char *const en_now[] = { "systemctl", "enable", "--now", unit, NULL };
        const char *const en[] = { "systemctl", "enable", unit, NULL };
        const char *const start[] = { "systemctl", "start", unit, NULL };
        _cleanup_free_ char *state = NULL;
        struct undo u = { .name = (char *)unit };
        int r;

        r = query_status(c, q_en, &state);
        if (r < 0)
                return r;
        if (r == 0 && startswith(state, "enabled")) {
                if (!now)
                        return 1;
                r = query_status(c, q_act, NULL);
                if (r < 0)
                        return r;
                if (r == 0)
                        return 1;
                u.kind = UNDO_STOP_UNIT;
                if (phase_journal(c, "SERVICE_START", unit, &u) < 0)
                        return -EIO;
                r = ops_run(c, start, NULL);
                return r < 0 ? r : 0;
        }
        u.kind = UNDO_DISABLE_UNIT;
        if (phase_journal(c, "SERVICE_ENABLE", unit, &u) < 0)
                return -EIO;
        r = ops_run(c, now ? en_now : en, NULL);
        return r < 0 ? r : 0;
}

int ops_unit_disable(struct phase_ctx *c, const char *unit)
{
        const char *const q_en[] = { "systemctl", "is-enabled", unit, NULL };
        const char *const q_act[] = { "systemctl", "is-active", unit, NULL };
        const char *const dis_now[] = { "systemctl", "disable", "--now", unit, NULL };
        const char *const stop[] = { "systemctl", "stop", unit, NULL };
        _cleanup_free_ char *state = NULL, *target = NULL;
        struct undo u = { .name = (char *)unit };
        bool enabled;
        int r;

        r = query_status(c, q_en, &state);
        if (r < 0)
                return r;
        enabled = r == 0 && startswith(state, "enabled");
        if (!enabled) {
                r = query_status(c, q_act, NULL);
                if (r < 0)
                        return r;
                if (r != 0)
                        return 1;
        }
        u.kind = enabled ? UNDO_ENABLE_UNIT : UNDO_START_UNIT;
        /* the data model has no action type for stopping a service */
        target = xasprintf("systemctl %s %s", enabled ? "disable --now" : "stop", unit);
        if (phase_journal(c, "COMMAND_EXEC", target, &u) < 0)
                return -EIO;
        r = ops_run(c, enabled ? dis_now : stop, NULL);
        return r < 0 ? r : 0;
}

int ops_unit_restart(struct phase_ctx *c, const char *unit, bool reload)
{
        const char *const argv[] = { "systemctl", reload ? "reload-or-restart" : "restart", unit,
                                     NULL };
        int r = ops_run(c, argv, NULL);
        return r < 0 ? r : 0;
}

int ops_unit_restart_on_undo(struct phase_ctx *c, const char *unit)
{
        struct undo u = { .kind = UNDO_RESTART_UNIT, .name = (char *)unit };
        return phase_journal(c, "COMMAND_EXEC", unit, &u) < 0 ? -EIO : 0;
}

void ops_parse_alternative(const char *out, char *buf, size_t size, bool *ret_manual)
{
        buf[0] = '\0';
        if (ret_manual)
                *ret_manual = false;
        for (const char *l = out; l && *l;) {
                const char *end = strchr(l, '\n');
                size_t len = end ? (size_t)(end - l) : strlen(l);

                if (len == 0)
                        return;   /* the first stanza is the group's own; the rest are choices */
                if (len > 7 && memcmp(l, "Value: ", 7) == 0 && len - 7 < size) {
                        memcpy(buf, l + 7, len - 7);
                        buf[len - 7] = '\0';
                } else if (ret_manual && len == 14 && memcmp(l, "Status: manual", 14) == 0)
                        *ret_manual = true;
                l = end ? end + 1 : NULL;
        }
}

int ops_alternative(struct phase_ctx *c, const char *name, char *buf, size_t size,
                    bool *ret_manual)
{
        const char *const q[] = { "update-alternatives", "--query", name, NULL };
        _cleanup_free_ char *out = NULL;
        int r;

        buf[0] = '\0';
        if (ret_manual)
                *ret_manual = false;
        r = ask(c, q, &out);
        if (r < 0)
                return r;
        /* exit status 2: no such group */
        if (r == 0)
                ops_parse_alternative(out, buf, size, ret_manual);
        return 0;
}

int ops_set_alternative(struct phase_ctx *c, const char *name, const char *path)
{
        const char *const q[] = { "update-alternatives", "--query", name, NULL };
        const char *const set[] = { "update-alternatives", "--set", name, path, NULL };
        _cleanup_free_ char *out = NULL;
        char value[PATH_MAX] = "";
        bool manual = false;
        struct undo u = { .kind = UNDO_SET_ALTERNATIVE, .name = (char *)name };
        int r;

        r = query_status(c, q, &out);
        if (r < 0)
                return r;
        if (r != 0)
                return phase_fail(c, -ENOENT, "no alternatives group \"%s\" (is its package installed?)",
                                  name);
        ops_parse_alternative(out, value, sizeof(value), &manual);
        if (strcmp(value, path) == 0)
                return 1;
        u.value = manual ? value : (char *)"";
        if (phase_journal(c, "COMMAND_EXEC", name, &u) < 0)
                return -EIO;
        r = ops_run(c, set, NULL);
        return r < 0 ? r : 0;
}

/* ---- looking ------------------------------------------------------------- */

int ops_pkg_installed(struct phase_ctx *c, const char *pkg)
{
        const char *const one[] = { pkg, NULL };
        _cleanup_strv_ char **have = NULL;
        int r = ops_pkgs_installed(c, one, &have);

        return r < 0 ? r : have != NULL;
}

/* The words' package names split by whether dpkg has them installed. */
static int pkgs_split(struct phase_ctx *c, const char *const *pkgs, char ***ret_missing,
                      char ***ret_installed)
{
        _cleanup_strv_ char **names = apt_word_names(pkgs), **missing = NULL, **have = NULL;
        struct apt_pkg_list l = { 0 };
        int r;

        if (names) {
                r = apt_pkg_list_query((const char *const *)names, &l);
                if (r < 0) {
                        log_write(LOG_DEBUG, phase_id(c), "cannot ask dpkg-query: %s", strerror(-r));
                        return r;
                }
        }
        for (size_t i = 0; names && names[i]; i++)
                strv_push(apt_pkg_list_state(&l, names[i]) == APT_PKG_INSTALLED ? &have : &missing,
                          names[i]);
        apt_pkg_list_release(&l);
        if (ret_missing)
                *ret_missing = TAKE_PTR(missing);
        if (ret_installed)
                *ret_installed = TAKE_PTR(have);
        return 0;
}

int ops_pkgs_missing(struct phase_ctx *c, const char *const *pkgs, char ***ret_missing)
{
        return pkgs_split(c, pkgs, ret_missing, NULL);
}

int ops_pkgs_installed(struct phase_ctx *c, const char *const *pkgs, char ***ret_installed)
{
        return pkgs_split(c, pkgs, NULL, ret_installed);
}

bool ops_parse_candidate(const char *out)
{
        const char *p = out ? strstr(out, "Candidate:") : NULL;

        if (!p)
                return false;
        p += strlen("Candidate:");
        while (*p == ' ' || *p == '\t')
                p++;
        return *p && *p != '\n' && !startswith(p, "(none)");
}

int ops_apt_has(struct phase_ctx *c, const char *pkg)
{
        const char *const argv[] = { "apt-cache", "policy", "--", pkg, NULL };
        _cleanup_free_ char *out = NULL;
        int r = ops_query_memo(c, argv, &out);

        return r < 0 ? r : r == 0 && ops_parse_candidate(out);
}

int ops_unit_active(struct phase_ctx *c, const char *unit)
{
        const char *const argv[] = { "systemctl", "is-active", "--quiet", unit, NULL };
        int r = ask(c, argv, NULL);

        return r < 0 ? r : r == 0;
}

int ops_wait_listening(struct phase_ctx *c, uint16_t port, unsigned timeout_ms)
{
        int64_t end = now_ms() + timeout_ms;

        for (;;) {
                if (sysfile_tcp_listening(NULL, port) == 1)
                        return 1;
                if (now_ms() > end)
                        return 0;
                if (phase_cancel_requested(c))
                        return -ECANCELED;
                sleep_ms(250);
        }
}
