/* session.h — the ProvisioningSession of the data model, in memory and as
 * JSON on disk (DIR/session-ID.json, written atomically, mode 0600).
 *
 * It holds what a person or a later run needs to know: phases with their
 * actions, the server's facts, the developer user (never a password or
 * hash), the IDE installations, the answers (secret keys left out), and
 * where the journal and log are. The password is never part of it. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "answers.h"
#include "events.h"
#include "preflight.h"
#include "util.h"

#define SESSION_ID_MAX 32

enum action_status {
        ACTION_PENDING,
        ACTION_COMPLETED,
        ACTION_FAILED,
};

struct session_action {
        char *type;               /* PACKAGE_INSTALL, FILE_CREATE, … (data model) */
        char *target;
        enum action_status status;
        char timestamp[ISO8601_MAX];
        char *output;             /* last lines, redacted, at most 4 KiB */
        int64_t journal_seq;      /* 0 = no change recorded */
        char *undo;               /* undo_describe() text, or NULL */
};

struct session_phase {
        char *name;
        enum phase_state status;
        char start_time[ISO8601_MAX];   /* "" = not started */
        char end_time[ISO8601_MAX];
        int64_t duration_seconds;
        bool checkpoint_exists;
        struct session_action *actions;
        size_t n_actions;
        char *error_message;
};

struct session_user {
        char username[USERNAME_MAX + 1];
        char full_name[65];
        int64_t uid, gid;
        char home_directory[256];
        char shell[64];
        char **groups;            /* strv */
        bool password_expires;
        bool ssh_key_auth_enabled;
        char created_at[ISO8601_MAX];
};

enum ide_method {
        IDE_METHOD_APT_REPOSITORY,
        IDE_METHOD_DEB_PACKAGE,
        IDE_METHOD_APPIMAGE,
        IDE_METHOD_SNAP,
};

struct session_ide {
        char *ide_name;           /* VSCODE, CURSOR, ANTIGRAVITY */
        char *version;
        enum ide_method installation_method;
        char *installation_path;
        char *executable_path;
        char *desktop_launcher_path;
        char *command_name;
        char installed_at[ISO8601_MAX];
        bool verified;
        char **verification_errors;  /* strv */
};

/* What became of a password the run generated ("credentials"). */
enum credentials_state {
        CREDENTIALS_NONE,      /* none generated (a hash, or the account was kept) */
        CREDENTIALS_UNSEEN,    /* generated and set, not yet confirmed as seen */
        CREDENTIALS_SHOWN,     /* shown to the person (confirmed, or printed once) */
        CREDENTIALS_WIPED,     /* never seen: wiped after [run] credentials_wait */
        _CREDENTIALS_STATE_MAX,
};
extern const char *const credentials_state_names[_CREDENTIALS_STATE_MAX]; /* "none", … */

struct session {
        char session_id[SESSION_ID_MAX];     /* YYYYMMDD-HHMMSS */
        char start_time[ISO8601_MAX];
        char end_time[ISO8601_MAX];          /* "" = running */
        enum session_status status;
        enum session_mode mode;
        char *error_details;
        int64_t duration_seconds;
        char *tool_version;
        char *resumed_from;                  /* session id, or NULL */
        struct vps_info vps_info;
        struct session_phase *phases;
        size_t n_phases;
        bool has_user;
        struct session_user developer_user;
        struct session_ide *ides;
        size_t n_ides;
        struct answers answers;              /* password_hash never serialized */
        char *journal_path;
        char *log_path;
        int exit_code;
        enum credentials_state credentials;
};

/* "20261122-101500" from the wall clock (UTC). Two runs started in the same
 * second get the same id: use session_new_unique_id() where that matters. */
void session_new_id(char ret[SESSION_ID_MAX]);
/* session_new_id(), with "-2", "-3", … appended while DIR/session-ID.json
 * already exists (ids still sort by time, then by that suffix). 0 or
 * -EEXIST/-ENAMETOOLONG. Callers hold the run lock, so no one else picks an
 * id in between. */
int session_new_unique_id(const char *dir, char ret[SESSION_ID_MAX]);
/* session_init() zeroes answers (answers_init() is the caller's to call);
 * developer_user.uid/gid start at -1. */
void session_init(struct session *s, const char *id);
void session_release(struct session *s);

struct session_phase *session_add_phase(struct session *s, const char *name);
struct session_phase *session_find_phase(struct session *s, const char *name);
struct session_action *session_phase_add_action(struct session_phase *p, const char *type,
                                                const char *target);
struct session_ide *session_add_ide(struct session *s, const char *ide_name);
/* The record of ide_name, emptied (a new run of its phase fills it again),
 * or a new one. */
struct session_ide *session_set_ide(struct session *s, const char *ide_name);

struct json_object *session_to_json(const struct session *s);
int session_from_json(struct json_object *o, struct session *ret);

/* Atomic write (temp + fsync + rename), 0600, creating dir 0700. */
int session_save(const struct session *s, const char *path);
/* -ENOENT, -EBADMSG (not a session file), or 0. */
int session_load(const char *path, struct session *ret);
/* The same from a file's text (len bytes, at most the size session_load()
 * reads). */
int session_parse(const char *text, size_t len, struct session *ret);
/* DIR/session-ID.json into buf. */
int session_path(const char *dir, const char *id, char *buf, size_t size);
/* The newest session file in dir (by id, which sorts by time), optionally
 * only those whose status is in the mask (1 << enum session_status);
 * mask 0 = any. -ENOENT when none. */
int session_find_latest(const char *dir, unsigned status_mask, char *buf, size_t size);
/* Every session id in dir, newest first (strv; never NULL, empty when the
 * directory is missing or holds none). Caller frees with strv_free(). */
char **session_list(const char *dir);
