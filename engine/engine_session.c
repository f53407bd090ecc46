/* engine_session.c — what a run holds before its first change: the
 * single-instance lock, the session (a new one, or the unfinished one for
 * --resume) and, once preflight passed, its files: state tree, log,
 * journal, backup directory and the session JSON. A refused preflight or
 * a dry run never gets this far, so they write nothing. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "engine_int.h"
#include "log.h"

/* The single-instance lock. */

int engine_take_lock(struct engine *e)
{
        struct lock_info holder = { 0 };
        char note[512] = "", msg[512];
        int r;

        r = lock_acquire(e->o.paths.lock_path,
                         e->o.mode == MODE_ROLLBACK ? "rollback"
                         : e->o.mode == MODE_RESUME ? "resume"
                                                    : "provision",
                         &e->lock, &holder, note, sizeof(note));
        if (r == -EBUSY) {
                lock_describe_holder(e->o.paths.lock_path, &holder, msg, sizeof(msg));
                engine_finish(e, EXIT_LOCKED, SESSION_FAILED, "%s", msg);
                return EXIT_LOCKED;
        }
        if ((r == -EPERM || r == -EISDIR || r == -ENOTDIR) && note[0]) {
                /* a lock place others could write to, or something in the way */
                engine_finish(e, EXIT_USAGE, SESSION_FAILED,
                              "cannot take the lock %s: %s; nothing was changed",
                              e->o.paths.lock_path, note);
                return EXIT_USAGE;
        }
        if (r < 0) {
                engine_finish(e, EXIT_INTERNAL, SESSION_FAILED, "cannot take the lock %s: %s",
                              e->o.paths.lock_path, strerror(-r));
                return EXIT_INTERNAL;
        }
        if (note[0])
                log_write(LOG_WARNING, "engine", "%s", note);
        return 0;
}

/* Opens (creating) the session's journal and log. */
static int open_session_files(struct engine *e, char *err, size_t errlen)
{
        char jpath[PATH_MAX], lpath[PATH_MAX];
        int r;

        r = paths_create(&e->o.paths);
        if (r < 0) {
                snprintf(err, errlen, "cannot create %s: %s", e->o.paths.state_dir, strerror(-r));
                return r;
        }
        strscpy(lpath, sizeof(lpath), e->session.log_path);
        r = log_open(lpath);
        if (r < 0) {
                snprintf(err, errlen, "cannot open the log %s: %s", lpath, strerror(-r));
                return r;
        }
        paths_journal(&e->o.paths, e->session.session_id, jpath, sizeof(jpath));
        r = journal_open(jpath, &e->journal, err, errlen);
        if (r < 0)
                return r;
        if (journal_repaired(e->journal))
                log_write(LOG_WARNING, "engine",
                          "the journal's last line was torn (the previous run died while writing it) and has been cut off");
        if (snprintf(e->backup_dir, sizeof(e->backup_dir), "%s/%s", e->o.paths.backups_dir,
                     e->session.session_id) >= (int)sizeof(e->backup_dir)) {
                snprintf(err, errlen, "the state directory path is too long");
                return -ENAMETOOLONG;
        }
        r = mkdir_p(e->backup_dir, 0700);
        if (r < 0) {
                snprintf(err, errlen, "cannot create %s: %s", e->backup_dir, strerror(-r));
                return r;
        }
        free(e->session.journal_path);
        e->session.journal_path = xstrdup(jpath);
        return 0;
}

/* Newest session whose status is in mask, loaded into ret. */
static int find_session(struct engine *e, unsigned mask, struct session *ret)
{
        char path[PATH_MAX];
        int r = session_find_latest(e->o.paths.sessions_dir, mask, path, sizeof(path));
        if (r < 0)
                return r;
        return session_load(path, ret);
}

#define UNFINISHED_MASK ((1u << SESSION_IN_PROGRESS) | (1u << SESSION_INITIALIZING) | \
                         (1u << SESSION_FAILED))

/* Whether s generated a password nobody has seen and no live run keeps it
 * for --attach any more (its process died or was stopped). */
static bool password_lost(struct engine *e, const struct session *s)
{
        struct attach_peer *peers = NULL;
        size_t n = 0;
        bool kept = false;

        if (s->credentials != CREDENTIALS_UNSEEN)
                return false;
        if (attach_list(e->o.paths.run_dir, &peers, &n) == 0)
                for (size_t i = 0; i < n; i++)
                        kept |= strcmp(peers[i].hello.session_id, s->session_id) == 0;
        free(peers);
        return !kept;
}

/* Remembers that the account's password was never seen (see
 * phase_unseen_password()). */
static void note_unseen(struct engine *e, const struct session *s)
{
        e->password_unseen = true;
        strscpy(e->unseen_from, sizeof(e->unseen_from), s->session_id);
}

/* Decides the session before anything is written: for --resume the
 * unfinished one (loaded), else a new id — refusing when an earlier run is
 * unfinished. Returns 0, or an exit code after engine_finish(). */
int engine_prepare_session(struct engine *e)
{
        struct session prev = { 0 };
        char lpath[PATH_MAX];

        if (e->o.mode == MODE_RESUME) {
                bool lost = false;

                if (find_session(e, UNFINISHED_MASK, &prev) == 0) {
                        lost = password_lost(e, &prev);
                } else {
                        /* a finished run whose password nobody saw is
                         * resumed to set and show a new one */
                        if (find_session(e, 0, &prev) == 0)
                                lost = password_lost(e, &prev);
                        if (!lost) {
                                session_release(&prev);
                                engine_finish(e, EXIT_OK, SESSION_COMPLETED,
                                              "there is no unfinished run to resume: nothing to do");
                                return EXIT_OK;
                        }
                }
                if (lost)
                        note_unseen(e, &prev);
                e->session = prev;
                if (!e->o.answers_from_file) {
                        /* the run's own answers; a password hash is never stored */
                        e->o.answers = prev.answers;
                        e->o.answers.password_hash[0] = '\0';
                } else
                        e->session.answers = e->o.answers;
                free(e->session.resumed_from);
                e->session.resumed_from = xstrdup(prev.session_id);
                e->session.mode = MODE_RESUME;
                for (size_t i = 1; i < e->n_slots; i++) {
                        const struct phase *p = e->slots[i].p;
                        e->slots[i].enabled = phase_is_enabled(p, &e->o.answers);
                        e->slots[i].state = e->slots[i].enabled ? PHASE_PENDING : PHASE_DISABLED;
                }
        } else {
                char id[SESSION_ID_MAX];

                if (!e->o.force && find_session(e, UNFINISHED_MASK, &prev) == 0) {
                        engine_finish(e, EXIT_UNFINISHED, SESSION_FAILED,
                                      "an earlier run (session %s, %s) did not finish: run vps-provision --resume to continue it, --rollback to undo it, or --force to start a new run anyway",
                                      prev.session_id, session_status_name(prev.status));
                        session_release(&prev);
                        return EXIT_UNFINISHED;
                }
                if (e->o.mode == MODE_PROVISION && find_session(e, 0, &prev) == 0) {
                        if (password_lost(e, &prev) &&
                            strcmp(prev.answers.username, e->o.answers.username) == 0)
                                note_unseen(e, &prev);
                        session_release(&prev);
                }
                if (session_new_unique_id(e->o.paths.sessions_dir, id) < 0)
                        session_new_id(id);
                session_init(&e->session, id);
                e->session.mode = e->o.mode;
                e->session.answers = e->o.answers;
                /* carried on until this run shows a new one */
                if (e->password_unseen)
                        e->session.credentials = CREDENTIALS_UNSEEN;
        }
        free(e->session.tool_version);
        e->session.tool_version = xstrdup(VPSP_VERSION);
        for (size_t i = 1; i < e->n_slots; i++) {
                struct session_phase *sp = session_find_phase(&e->session, e->slots[i].id);
                if (!sp)
                        sp = session_add_phase(&e->session, e->slots[i].id);
                if (sp->status != PHASE_DONE && sp->status != PHASE_SKIPPED)
                        sp->status = e->slots[i].state;
        }
        session_path(e->o.paths.sessions_dir, e->session.session_id, e->session_path,
                     sizeof(e->session_path));
        paths_log(&e->o.paths, e->session.session_id, lpath, sizeof(lpath));
        free(e->session.log_path);
        e->session.log_path = xstrdup(lpath);
        return 0;
}

/* After preflight passed: state tree, log, journal, session file. Returns
 * 0 or an exit code after engine_finish(). */
int engine_create_session_files(struct engine *e)
{
        char err[512] = "";
        int r;

        r = open_session_files(e, err, sizeof(err));
        if (r < 0) {
                engine_finish(e, EXIT_INTERNAL, SESSION_FAILED, "%s", err);
                return EXIT_INTERNAL;
        }
        e->have_session = true;
        e->session.vps_info = e->vps;
        e->session.status = SESSION_IN_PROGRESS;
        e->session.end_time[0] = '\0';
        log_set_level(e->o.answers.log_level);
        log_write(LOG_INFO, "engine", "vps-provision %s, session %s (%s)", VPSP_VERSION,
                  e->session.session_id, e->o.mode == MODE_RESUME ? "resume" : "provision");
        if (e->o.note[0])
                log_write(LOG_INFO, "engine", "%s", e->o.note);
        if (e->server)
                log_write(LOG_INFO, "engine", "vps-provision --attach follows this run (%s)",
                          attach_server_path(e->server));
        if (e->password_unseen)
                engine_log(e, -1, LOG_WARNING, "engine",
                           "the password session %s generated for %s was never shown (its process "
                           "ended first): this run sets a new one and shows it",
                           e->unseen_from, e->o.answers.username);
        log_write(LOG_INFO, "preflight", "%s %s (%s), %d CPUs, %lld MiB RAM, %.1f GB free, %s",
                  e->vps.os_name, e->vps.os_version, e->vps.os_codename, e->vps.cpu_cores,
                  (long long)e->vps.ram_mb, e->vps.disk_available_gb, e->vps.virtualization);
        engine_save_session(e);
        return 0;
}
