/* ops.h — the system changes a phase may make, each journaled with its undo
 * before it is made, each idempotent (asking for what is already so changes
 * nothing and journals nothing); and, at the end, the read-only questions
 * about packages, units and alternatives a phase asks. Phases start no
 * process and download nothing themselves (tests/lint/layering checks it):
 * what they want goes through here, and what they read of files through
 * sysfile.h.
 *
 * Every function runs inside the current action of the phase (see phase.h),
 * sends its commands' output to the log and the dashboard's log pane, and on
 * failure calls phase_fail() with a message that names what failed and
 * returns a negative errno (-EIO for "a command failed"). Commands run
 * through run_command(): argv arrays, never a shell string.
 *
 * Return values: 0 = changed, 1 = nothing to do (already so), < 0 = error. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "phase.h"

struct secret;
struct engine;

struct ops_run_opts {
        const void *stdin_data;   /* bytes for the child's stdin (a secret goes here) */
        size_t stdin_len;
        unsigned timeout_ms;      /* 0 = 10 minutes */
        enum log_level level;     /* level of the child's output lines in the log (default INFO) */
        bool ok_statuses_any;     /* a non-zero exit is returned, not a failure */
};

/* Runs a command that makes no change worth undoing (or whose undo the
 * caller journaled with phase_journal()). Returns the exit status (0 unless
 * ok_statuses_any), or < 0 after phase_fail(). o may be NULL. */
int ops_run(struct phase_ctx *c, const char *const *argv, const struct ops_run_opts *o);
/* Runs a read-only query and returns its stdout (caller frees). Returns the
 * exit status (>= 0, *ret_out set) or -errno (not started). No phase_fail(). */
int ops_query(struct phase_ctx *c, const char *const *argv, char **ret_out);
/* ops_query() for a question whose answer only a change can alter (ufw
 * status, sshd -T, apt-cache policy): until the run changes anything
 * (ops_memo_drop()), the same argv gets the first answer again without a
 * new process. Never for a question polled until its answer changes. */
int ops_query_memo(struct phase_ctx *c, const char *const *argv, char **ret_out);
/* The run is about to change something (a journal entry, a command of
 * ops_run(), apt): every remembered answer is dropped, and nothing is
 * remembered again in this run. */
void ops_memo_drop(struct engine *e);

/* apt-get update, waiting for a dpkg lock held by another process (saying
 * who holds it) and retrying with backoff (2, 4, 8 … s, 5 tries) on
 * network errors. */
int ops_apt_update(struct phase_ctx *c);
/* Waits while another process (unattended-upgrades on a fresh server,
 * typically) holds dpkg's lock: says who on the dashboard and in the log,
 * with the time waited, up to [run] apt_lock_wait; then fails the phase
 * naming the holder. Every apt and dpkg command of ops waits so; a phase
 * calls it itself before its first change when it wants "nothing changed"
 * to hold when the lock never comes free (system-prep does). 0 when the
 * lock is free (or cannot be asked: apt's own Lock::Timeout then waits),
 * -ECANCELED on cancel, < 0 after phase_fail(). */
int ops_wait_package_manager(struct phase_ctx *c);
/* apt-get dist-upgrade (journaled as not undoable), after the same
 * repair of an interrupted dpkg as ops_apt_install(). */
int ops_apt_upgrade(struct phase_ctx *c);

/* ---- dpkg transactions with unsafe I/O ------------------------------------
 *
 * Every apt transaction that unpacks packages (ops_apt_install(),
 * ops_apt_upgrade(), the reinstall of ops_apt_settle()) runs dpkg with
 * --force-unsafe-io (apt_argv_unpack()): dpkg does not fsync each file it
 * extracts, so a power cut can leave those files empty although dpkg's own
 * database (which it always syncs) says the package is unpacked or
 * installed. Two things make that safe:
 *   - when the transaction ends, however it ends (done, failed, cancelled),
 *     ops_disk_sync runs before anything records the step as done (the
 *     action's end in the session, the phase's checkpoint), and then a
 *     journal record of type COMMAND_EXEC, target OPS_SYNC_TARGET, says
 *     that everything before it is on disk; dpkg --configure -a (the
 *     repair) is followed by the same;
 *   - ops_apt_settle(), at the start of every phase, finds the dpkg
 *     transactions of the session journaled after the last such record
 *     (cut off before their sync: a kill or a power cut) and checks their
 *     packages with dpkg --verify, reinstalling those whose files differ. */
#define OPS_SYNC_TARGET "sync"
#define OPS_REINSTALL_TARGET "apt-get install --reinstall"
/* What puts the written data on disk after a dpkg transaction: sync(2) in
 * the program. A test seam: unit tests point it at a function that
 * records when it is called (only before an engine runs). */
extern void (*ops_disk_sync)(void);
/* When the session's journal holds dpkg transactions after its last sync
 * record (see above): their packages (those the records name, and every
 * package dpkg reports as not fully installed; every package for a cut-off
 * dist-upgrade) are checked with dpkg --verify after dpkg --configure -a has
 * finished dpkg's work, and those with a file whose md5sum differs from the
 * package's (not a configuration file: a reinstall keeps those as they are,
 * so they are only named in the log) are reinstalled with apt-get install
 * --reinstall (journaled with nothing to undo: the packages stay on the
 * purge list of the install that added them). When dpkg --verify cannot
 * run, the log says so and the transactions' packages are reinstalled.
 * Ends with a sync record either way. 1 when nothing was cut off, 0 when
 * checked (and repaired), < 0 after phase_fail(). */
int ops_apt_settle(struct phase_ctx *c);

/* Pauses man-db's index updates for the run (journaled; undo:
 * UNDO_MANDB_AUTO_UPDATE): debconf man-db/auto-update false, so that a man-db
 * the run installs does not build its index, and its flag file removed, so
 * that the trigger of every later install skips it. The engine ends the
 * pause after the last phase (engine_deferred_work(): one index build in
 * the background). 1 when there is nothing to pause (man-db installed with
 * its updates already off: the administrator's choice), 0 when paused,
 * < 0 after phase_fail(). */
int ops_mandb_pause(struct phase_ctx *c);

/* Holds the initramfs updates for the run (journaled; undo:
 * UNDO_INITRAMFS_UPDATE): update_initramfs=no in update-initramfs.conf, so
 * that the installs of the run (initramfs-tools' trigger, plymouth's and
 * others' postinst) do not each regenerate the initramfs; a kernel the run
 * installs still gets its own. 1 when there is nothing to hold (no
 * initramfs-tools, or its updates already off: the administrator's choice),
 * 0 when held, < 0 after phase_fail(). */
int ops_initramfs_hold(struct phase_ctx *c);
/* Ends the hold that ops_initramfs_hold() journaled, when it is still on
 * (also after a resume): the configuration line back, then the one
 * "update-initramfs -u" the run put off (its output in the log, its time
 * in the phase's), journaled as ended. 1 when no hold is on, 0 when ended,
 * < 0 after phase_fail(). */
int ops_initramfs_release(struct phase_ctx *c);
/* Whether a hold of ops_initramfs_hold() is on (journaled and not ended). */
bool ops_initramfs_held(struct phase_ctx *c);

enum {
        OPS_APT_NO_RECOMMENDS = 1 << 0,
};
/* Installs pkgs in one apt transaction. First, when dpkg was interrupted
 * (apt_dpkg_pending(): an earlier run was killed inside an install) or one
 * of pkgs is half-installed, dpkg --configure -a finishes what dpkg began
 * (journaled as a command with nothing to undo: the packages it completes
 * are on an earlier record's purge list). Then the packages the install
 * would newly add are learned by simulation and journaled (undo: purge
 * them) before anything is installed; progress comes from apt's status
 * channel and is reported with phase_progress() scaled into [from, to] of
 * the phase. pkgs are apt-get install words: names, "name-" (keep out),
 * paths of .deb files. A package apt does not know, before this run's
 * first apt-get update, makes it run one (ops_apt_update()) and plan
 * again: the lists of a re-run or resume may be stale or cleaned. */
int ops_apt_install(struct phase_ctx *c, const char *const *pkgs, unsigned flags, double from,
                    double to);

/* Writes a whole file atomically. An existing file with other content is
 * backed up first (undo: restore it, hash-checked); a new one is journaled
 * as created (undo: remove). Same content, mode and owner: 1, no change. */
int ops_write_file(struct phase_ctx *c, const char *path, const void *data, size_t len,
                   mode_t mode, uid_t uid, gid_t gid);
/* Removes a file after backing it up (undo: restore). Missing: 1. */
int ops_remove_file(struct phase_ctx *c, const char *path);
/* Creates one directory (parents must exist). Exists: 1. */
int ops_mkdir(struct phase_ctx *c, const char *path, mode_t mode, uid_t uid, gid_t gid);

/* useradd --create-home --shell SHELL --comment FULL_NAME --user-group.
 * Undo: userdel --remove. Exists: 1. */
int ops_user_add(struct phase_ctx *c, const char *user, const char *full_name,
                 const char *shell);
/* groupadd [--system]. Undo: groupdel. Exists: 1. */
int ops_group_add(struct phase_ctx *c, const char *group, bool system);
/* gpasswd --add. Undo: gpasswd --delete. Already a member: 1. */
int ops_group_add_member(struct phase_ctx *c, const char *user, const char *group);
/* chpasswd with "user:password" on stdin (never argv/env/log); with
 * hashed=true the secret is a crypt(3) hash (chpasswd -e). Not journaled on
 * its own: the user it belongs to is. */
int ops_set_password(struct phase_ctx *c, const char *user, const struct secret *pw,
                     bool hashed);

/* systemctl enable [--now]. Undo: disable [--now]. Already enabled: 1
 * (and started when now). */
int ops_unit_enable(struct phase_ctx *c, const char *unit, bool now);
/* systemctl disable --now when unit is enabled (undo: enable --now), stop
 * when it only runs (undo: start). Neither enabled nor running: 1. */
int ops_unit_disable(struct phase_ctx *c, const char *unit);
/* systemctl restart / reload-or-restart (no undo of its own). */
int ops_unit_restart(struct phase_ctx *c, const char *unit, bool reload);
/* Journals "restart unit when undone" — call before changing a unit's
 * config so that a rollback restores the config first, then restarts. */
int ops_unit_restart_on_undo(struct phase_ctx *c, const char *unit);

/* update-alternatives --set NAME PATH. Undo: back to the previous choice
 * (or --auto). Already set: 1. */
int ops_set_alternative(struct phase_ctx *c, const char *name, const char *path);

/* ---- looking: read-only questions a phase's plan(), verify() or run()
 * asks. Nothing is journaled and nothing fails the phase: a question that
 * cannot be asked returns -errno and the caller decides. ---------------- */

/* 1 when dpkg has pkg installed, 0 when not (absent, only configuration
 * files left, or half-installed: the rule of apt.h), -errno when dpkg
 * cannot be asked. */
int ops_pkg_installed(struct phase_ctx *c, const char *pkg);
/* Which of the install words pkgs name packages that are not installed,
 * and which are: strv in the order of pkgs, NULL when there are none.
 * Words that are no package name ("name-", options, .deb paths) are not
 * asked about. 0 or -errno. */
int ops_pkgs_missing(struct phase_ctx *c, const char *const *pkgs, char ***ret_missing);
int ops_pkgs_installed(struct phase_ctx *c, const char *const *pkgs, char ***ret_installed);
/* 1 when apt knows an installable version of pkg (a candidate in
 * apt-cache policy), 0 when not, -errno when apt-cache cannot run. */
int ops_apt_has(struct phase_ctx *c, const char *pkg);
/* From "apt-cache policy NAME" output: whether it shows a candidate
 * version ("Candidate: 0.2-2"), not "(none)" or nothing at all. */
bool ops_parse_candidate(const char *out);

/* 1 when systemctl says unit is active, 0 when not, -errno when systemctl
 * cannot run. */
int ops_unit_active(struct phase_ctx *c, const char *unit);

/* The current choice of the alternatives group name into buf ("" when the
 * group has none or does not exist); *ret_manual (may be NULL) says
 * whether it was set by hand. 0, or -errno when update-alternatives cannot
 * run. ops_set_alternative() asks the same way. */
int ops_alternative(struct phase_ctx *c, const char *name, char *buf, size_t size,
                    bool *ret_manual);
/* From "update-alternatives --query NAME" output: the group's "Value:"
 * into buf ("" when none, or when it does not fit) and whether its
 * "Status:" is manual. Only the first stanza (the group's own) is read. */
void ops_parse_alternative(const char *out, char *buf, size_t size, bool *ret_manual);

/* Waits up to timeout_ms for something to listen on TCP port (a service
 * takes a moment to bind after a start or reload): 1 listening, 0 not in
 * time, -ECANCELED when the run was asked to stop meanwhile. */
int ops_wait_listening(struct phase_ctx *c, uint16_t port, unsigned timeout_ms);

/* ---- apt sources with pinned keys, and downloads (ops_source.c) ---------
 *
 * A vendor's apt repository is added only once its key and its Release
 * signature have been checked, before anything on the system changes: the
 * key file is downloaded, every primary key in it must have a pinned
 * fingerprint (a file with another primary key, an expired or a revoked
 * key is refused), exactly the pinned keys are exported into the keyring
 * apt gets (never the downloaded bytes), and the repository's InRelease
 * (or Release + Release.gpg) must carry a good signature of a pinned key.
 * Then, journaled: another source file that configures the same repository
 * alone is replaced (backed up; a file that configures other repositories
 * too is refused, named, untouched), the keyring goes to KEYRING_DIR and a
 * DEB822 .sources file with Signed-By to SOURCES_DIR, and apt refreshes
 * that one source. A refresh that fails takes both away again. */

struct ops_fetch_tuning {
        int retries;                 /* further attempts; < 0 = the default (3) */
        unsigned backoff_ms, stall_seconds, connect_timeout_ms; /* 0 = defaults */
};

struct ops_download {
        const char *url;
        const char *dest;            /* absolute; whole or absent, never half */
        const char *sha256;          /* expected digest, NULL = not checked */
        uint64_t max_bytes;          /* 0 = 2 GiB */
        const char *what;            /* "the Cursor signing key", for messages */
        double from, to;             /* the phase's progress while it runs */
        const struct ops_fetch_tuning *tuning;   /* NULL = defaults */
};
/* Downloads d->url to d->dest (TLS verified, retried and resumed on
 * transient errors, size-capped, sha256 checked when given), with the
 * phase's progress and cancel. A dest outside the program's state
 * directory is journaled as a created file (undo: remove it); the state
 * directory is the program's own scratch. 0, 1 (dest already holds the
 * expected sha256), or -errno after phase_fail(). */
int ops_download(struct phase_ctx *c, const struct ops_download *d);

struct ops_apt_source {
        const char *id;              /* names the files: vps-provision-ID.sources/.asc */
        const char *name;            /* "Cursor", for messages */
        const char *comment;         /* the .sources file's first line, "# …" */
        const char *uri, *suite;
        char *const *components;     /* strv */
        const char *arch;            /* dpkg architecture of this server */
        const char *key_url;
        char *const *fingerprints;   /* pinned: 40 upper-case hex digits each */
        const char *pinned_by;       /* where the pins come from, for messages */
        const char *keyring_dir;     /* /etc/apt/keyrings */
        const char *sources_dir;     /* /etc/apt/sources.list.d */
        const struct ops_fetch_tuning *tuning;   /* NULL = defaults */
        double from, to;             /* progress range of the whole */
};
/* SOURCES_DIR/vps-provision-ID.sources and KEYRING_DIR/vps-provision-ID.asc. */
void ops_apt_source_paths(const struct ops_apt_source *s, char *sources, size_t ssize,
                          char *keyring, size_t ksize);
/* The .sources text for s with keyring as Signed-By. Caller frees. */
char *ops_apt_sources_text(const struct ops_apt_source *s, const char *keyring);
/* Adds s as described above; -EKEYREJECTED for a key or signature that
 * is refused, -EEXIST for a source file that cannot be replaced whole.
 * 0 = added, 1 = it was in place already (refreshed all the same). */
int ops_apt_add_source(struct phase_ctx *c, const struct ops_apt_source *s);
/* verify(): 1 when s is in place as ops_apt_add_source() leaves it (its
 * .sources text as it would be written now, the keyring present) and no
 * other source file names the repository; 0 with why filled otherwise. */
int ops_apt_source_in_place(const struct ops_apt_source *s, char *why, size_t whylen);

/* A package as the source's signed index describes it. */
struct ops_apt_package {
        char *name, *version, *arch, *filename, *sha256;
        uint64_t size;
};
void ops_apt_package_release(struct ops_apt_package *p);
/* The candidate of package name in source s alone (apt-cache show through
 * that source only, after ops_apt_add_source()). 0, -ENOENT when the
 * repository does not offer it, other -errno (no phase_fail()). */
int ops_apt_source_package(struct phase_ctx *c, const struct ops_apt_source *s, const char *name,
                           struct ops_apt_package *ret);
/* Has apt download p (apt-get install --download-only NAME=VERSION: apt's
 * own sandboxed download, checked against the signed index, with the
 * dependencies the install will need) into its package cache, unless the
 * file is there already; *ret_path (caller frees) is where it is. 0 or
 * -errno after phase_fail(). */
int ops_apt_fetch_package(struct phase_ctx *c, const struct ops_apt_package *p, char **ret_path);
/* The paths a .deb holds ("/usr/bin/code"), as a strv. 0 or -errno after
 * phase_fail(). */
int ops_deb_contents(struct phase_ctx *c, const char *deb, char ***ret);
/* debconf-set-selections for lines "OWNER QUESTION TYPE VALUE", before the
 * package that asks them is installed. Journaled without an undo: purging
 * the package drops its answers. */
int ops_debconf_set(struct phase_ctx *c, char *const *lines);

/* The apt source files and globally trusted keys now, to compare with
 * after an install (strv of paths; caller frees). */
char **ops_apt_sources_snapshot(const struct ops_apt_source *s);
/* After an install whose package may add its own source for the same
 * repository (apt refuses a repository configured twice with different
 * Signed-By): source files that appeared since the snapshot and name the
 * repository, and keys that appeared in /etc/apt/trusted.gpg.d (trusted
 * for every repository), are removed, each removal journaled. They came
 * with the package the run installed, so their undo is that package's
 * purge (restoring them first would make apt refuse the purge). Keyrings
 * the removed sources name are left alone: the program did not make them.
 * Returns how many files it removed, or -errno after phase_fail(). */
int ops_apt_remove_new_duplicates(struct phase_ctx *c, const struct ops_apt_source *s,
                                  char *const *before);

/* Pure parts, for the tests. */
struct ops_pgp_key {
        char fingerprint[41];        /* upper case */
        char validity;               /* gpg's: '-', 'e' expired, 'r' revoked, … */
        int64_t expires;             /* seconds since the epoch, 0 = never */
};
/* The primary keys in gpg --with-colons --show-keys output; returns how
 * many, *ret (caller frees) NULL when none. */
size_t ops_pgp_parse_keys(const char *colons, struct ops_pgp_key **ret);
/* The URIs of the active entries of an apt source file's text (one-line
 * "deb [opts] URI …" or DEB822 "URIs:" stanzas, "Enabled: no" skipped),
 * trailing slashes removed. strv, NULL when none. */
char **ops_apt_source_uris(const char *text);
/* apt's name for a package in its cache: NAME_VERSION_ARCH.deb, with '_',
 * ':' and '%' as %XX ("1:2.0" → "1%3a2.0"). Caller frees. */
char *ops_apt_cache_name(const char *pkg, const char *version, const char *arch);
/* The paths in dpkg-deb --contents output, "/usr/bin/x" form. */
char **ops_deb_contents_parse(const char *out);
