/* journal.h — the transaction log: every change with its undo, as data.
 *
 * DESIGN: a JSON-lines file, append-only, mode 0600. A change is journaled
 * *before* it is made (write-ahead), and the record is fsync'd before
 * journal_append() returns, so a crash at any point leaves an undo for
 * every change that may have happened. Undos are therefore written to be
 * idempotent: purge only what is still installed, restore a file only from
 * a backup whose sha256 matches, delete a user only if it exists.
 *
 * Two kinds of lines:
 *   {"seq":7,"time":"…","session":"20261122-101500","phase":"rdp",
 *    "type":"FILE_MODIFY","target":"/etc/xrdp/xrdp.ini",
 *    "undo":{"kind":"restore_file","path":"/etc/xrdp/xrdp.ini",
 *            "backup":"/var/lib/vps-provision/backups/…","sha256":"…",
 *            "mode":420,"uid":0,"gid":0}}
 *   {"seq":31,"time":"…","undo_of":7,"result":"ok","message":"…"}
 * The second kind records the outcome of undoing entry 7 during a
 * rollback; an entry is "undone" once an outcome of "ok" or "skipped" is
 * recorded for it. Nothing is ever rewritten.
 *
 * A torn last line (the process died inside write(2)) is detected on open:
 * the file is truncated back to the last complete line, and
 * journal_repaired() reports it so the caller can log a warning. Any other
 * unparsable line makes journal_open() fail with -EBADMSG and the line
 * number: the journal is never silently half-read. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "util.h"

struct json_object;

enum undo_kind {
        UNDO_NOTHING,              /* recorded for the audit trail only (apt-get update) */
        UNDO_PURGE_PACKAGES,       /* list: packages this change newly installs */
        UNDO_REMOVE_FILE,          /* path: a file this change creates */
        UNDO_RESTORE_FILE,         /* path, backup, sha256, mode, uid, gid */
        UNDO_REMOVE_DIR,           /* path: a directory this change creates (removed if empty) */
        UNDO_DELETE_USER,          /* name: a user this change creates (userdel --remove) */
        UNDO_DELETE_GROUP,         /* name: a group this change creates */
        UNDO_REMOVE_GROUP_MEMBER,  /* name = user, value = group */
        UNDO_DISABLE_UNIT,         /* name: a unit this change enables (systemctl disable --now) */
        UNDO_STOP_UNIT,            /* name: a unit this change starts */
        UNDO_UNMASK_UNIT,          /* name: a unit this change masks */
        UNDO_RESTART_UNIT,         /* name: restart/reload it when undone (journal this *before*
                                      the file changes it depends on, so LIFO restarts last) */
        UNDO_SET_ALTERNATIVE,      /* name = link group, value = previous path, or "" = auto */
        UNDO_UFW_DELETE_RULE,      /* list: the rule as given to "ufw" after "allow"/"limit" …, e.g.
                                      {"allow","3389/tcp"} → "ufw delete allow 3389/tcp" */
        UNDO_UFW_DISABLE,          /* ufw was inactive before this change */
        UNDO_REMOVE_APT_SOURCE,    /* path of a .sources/.list file + list: keyring files */
        UNDO_MANDB_AUTO_UPDATE,    /* path: man-db's flag file. Its index updates were paused
                                    * for the run: turn them back on (debconf
                                    * man-db/auto-update true, the flag file back), or
                                    * forget the pause's debconf answer if man-db is gone */
        UNDO_UFW_ADD_RULE,         /* list: a rule this change deletes, as given to "ufw", e.g.
                                      {"allow","22/tcp"} → "ufw allow 22/tcp" */
        UNDO_INITRAMFS_UPDATE,     /* path: update-initramfs.conf, value: its update_initramfs
                                    * line before the run ("" = none). The initramfs updates
                                    * were held for the run (update_initramfs=no): the line
                                    * back, then one update-initramfs -u */
        UNDO_ENABLE_UNIT,          /* name: a unit this change disables and stops (systemctl
                                      enable --now when undone) */
        UNDO_START_UNIT,           /* name: a unit this change stops (it was running but not
                                      enabled: systemctl start when undone) */
        _UNDO_KIND_MAX,
};

struct undo {
        enum undo_kind kind;
        char *path;
        char *backup;
        char sha256[SHA256_HEX];   /* of backup (RESTORE_FILE) or of what was written (REMOVE_FILE, may be "") */
        mode_t mode;
        uid_t uid;
        gid_t gid;
        char *name;
        char *value;
        char **list;               /* strv */
};

void undo_release(struct undo *u);
struct undo undo_copy(const struct undo *u);
const char *undo_kind_name(enum undo_kind k);     /* "restore_file" */
/* One line a person can read before confirming a rollback:
 * "restore /etc/ssh/sshd_config from backup", "purge 412 packages (xfce4, …)",
 * "delete user devuser and its home". Caller frees. */
char *undo_describe(const struct undo *u);
struct json_object *undo_to_json(const struct undo *u);
int undo_from_json(struct json_object *o, struct undo *ret);

enum undo_result {
        UNDO_PENDING,
        UNDO_OK,
        UNDO_SKIPPED,   /* nothing to do (already undone, never happened) */
        UNDO_FAILED,
};

struct journal_entry {
        uint64_t seq;
        char time[ISO8601_MAX];
        char *session_id;
        char *phase;
        char *type;     /* data model action type: PACKAGE_INSTALL, FILE_CREATE, … */
        char *target;
        struct undo undo;
        enum undo_result result;   /* latest recorded outcome */
        char *result_message;
};

struct journal;

/* Opens path (creating it 0600 if missing) and reads every entry. */
int journal_open(const char *path, struct journal **ret, char *err, size_t errlen);
/* The same on an open file (read-write, O_APPEND), which it takes over
 * (closed on failure too); path names it in messages. For a file opened
 * elsewhere (tests, fuzzing: a memfd). */
int journal_open_fd(int fd, const char *path, struct journal **ret, char *err, size_t errlen);
void journal_free(struct journal *j);
bool journal_repaired(const struct journal *j);   /* a torn tail was cut off on open */
const char *journal_path(const struct journal *j);

/* The highest seq a journal holds: 2^53, the largest integer every JSON
 * reader keeps exact. A line beyond it is refused as damaged (json-c
 * clamps a longer number to INT64_MAX, and the next seq would overflow);
 * an append past it fails with -EOVERFLOW. */
#define JOURNAL_SEQ_MAX (UINT64_C(1) << 53)

/* Appends a change record, fsyncs, returns its seq (>= 1) or -errno
 * (-EOVERFLOW past JOURNAL_SEQ_MAX). The undo is copied. */
int64_t journal_append(struct journal *j, const char *session_id, const char *phase,
                       const char *type, const char *target, const struct undo *u);
/* Appends an outcome for entry seq, fsyncs (-EOVERFLOW like journal_append). */
int journal_record_result(struct journal *j, uint64_t seq, enum undo_result r,
                          const char *message);

size_t journal_count(const struct journal *j);                   /* change records */
uint64_t journal_last_seq(const struct journal *j);              /* of any line; 0 when empty */
const struct journal_entry *journal_entry_at(const struct journal *j, size_t i); /* in seq order */
/* Change records still to undo (result PENDING or FAILED), in the given
 * session (NULL = any), newest first. UNDO_NOTHING records are included
 * (their undo is "skipped"). Returns a malloc'd array of pointers into the
 * journal (NULL when none); they stay valid across later appends until
 * journal_free(). Caller frees the array only. */
size_t journal_pending(const struct journal *j, const char *session_id,
                       const struct journal_entry ***ret);

/* Undoes a list in the order given, calling apply for each and recording
 * its outcome. apply returns 0 (ok), 1 (skipped: nothing to do) or -errno
 * with msg filled. Stops at nothing: a failed undo is recorded and the rest
 * go on (a later undo often does not depend on an earlier one, and leaving
 * more behind helps nobody). Returns the number of failures. */
typedef int (*undo_apply_fn)(void *userdata, const struct journal_entry *e, char *msg,
                             size_t msglen);
int journal_rollback(struct journal *j, const struct journal_entry *const *list, size_t n,
                     undo_apply_fn apply, void *userdata);
