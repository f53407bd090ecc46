/* events.h — the typed messages between the engine thread and the UI.
 *
 * Engine → UI: what is happening (session, preflight, phases, actions, log
 * lines, progress), questions (prompt), the credentials (once), the end.
 * UI → engine: the answer to a prompt, a request to cancel, and two
 * confirmations (the credentials were saved; the new SSH port works).
 *
 * An event owns every string and array it points to; event_free() frees
 * them (and wipes + frees a credentials event's password). Events travel
 * through a struct queue (queue.h), which takes ownership on push. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "check.h"
#include "log.h"
#include "preflight.h"

struct secret;
struct json_object;

enum event_type {
        /* engine → UI; state events are never dropped */
        EV_SESSION_START,
        EV_PREFLIGHT,
        EV_PHASE_START,
        EV_PHASE_END,
        EV_ACTION_START,
        EV_ACTION_END,
        EV_PROGRESS,
        EV_PROMPT,
        EV_CREDENTIALS,
        EV_SESSION_END,
        EV_PLAN,            /* dry run: one phase's planned steps */
        /* engine → UI; may be coalesced when the UI falls behind */
        EV_LOG,
        /* UI → engine */
        EV_ANSWER,
        EV_CANCEL,
        EV_CREDENTIALS_SAVED,   /* the person confirmed the credentials screen */
        EV_SSH_PORT_CONFIRMED,  /* the person logged in on the new SSH port */
        _EV_TYPE_MAX,
};

enum phase_state {
        PHASE_PENDING,
        PHASE_RUNNING,
        PHASE_DONE,
        PHASE_SKIPPED,      /* verified as already done */
        PHASE_FAILED,
        PHASE_ROLLED_BACK,
        PHASE_DISABLED,     /* not selected by the answers (e.g. an IDE not chosen) */
        _PHASE_STATE_MAX,
};

enum session_mode {
        MODE_PROVISION,
        MODE_DRY_RUN,
        MODE_RESUME,
        MODE_ROLLBACK,
        _SESSION_MODE_MAX,
};

enum prompt_kind {
        PROMPT_PHASE_FAILED,     /* choices: retry, rollback, keep */
        PROMPT_CONFIRM_ROLLBACK, /* choices: rollback, keep (cancel) */
};

enum prompt_choice {
        CHOICE_NONE,
        CHOICE_RETRY,
        CHOICE_ROLLBACK,
        CHOICE_KEEP,
};

/* Where the developer's password of a credentials event comes from. */
enum creds_password {
        CREDS_PW_GENERATED,  /* made by this run (in the event, or sent to password_to) */
        CREDS_PW_FROM_HASH,  /* set from the answers' password_hash: nothing to show */
        CREDS_PW_UNCHANGED,  /* the existing account keeps its password */
        _CREDS_PW_MAX,
};

/* Overall end of a session; exit codes are in engine.h. */
enum session_status {
        SESSION_INITIALIZING,
        SESSION_IN_PROGRESS,
        SESSION_COMPLETED,
        SESSION_FAILED,
        SESSION_ROLLED_BACK,
        _SESSION_STATUS_MAX,
};

struct ev_phase_info {
        char *id;
        char *title;
        unsigned weight;
        enum phase_state state;
};

/* A copy of a session_start event's phase list, for a UI that keeps it
 * (n entries and a zeroed one after them), and its release. */
struct ev_phase_info *ev_phases_copy(const struct ev_phase_info *v, size_t n);
void ev_phases_free(struct ev_phase_info *v, size_t n);

struct event {
        enum event_type type;
        uint64_t seq;       /* set by the queue */
        int64_t time_ms;    /* wall clock, set by event_new() */
        union {
                struct {
                        char *session_id;
                        enum session_mode mode;
                        char *log_path;      /* NULL in a dry run */
                        char *session_path;  /* NULL in a dry run */
                        struct ev_phase_info *phases;
                        size_t n_phases;
                } session;
                struct {
                        struct vps_info info;
                        struct check_list checks;
                        bool refused;
                } preflight;
                struct {
                        int index;           /* into session.phases */
                        char *id;
                        char *title;
                } phase_start;
                struct {
                        int index;
                        char *id;
                        enum phase_state state;
                        int64_t duration_ms;
                        char *message;       /* error or skip reason; may be NULL */
                } phase_end;
                struct {
                        int phase_index;
                        char *type;          /* data model action_type: PACKAGE_INSTALL … */
                        char *target;
                        char *title;         /* "Installing 412 packages" */
                } action_start;
                struct {
                        int phase_index;
                        bool ok;
                        int64_t duration_ms;
                        char *message;       /* failure text; may be NULL */
                } action_end;
                struct {
                        enum log_level level;
                        int phase_index;     /* -1 = engine */
                        char *text;          /* already redacted; with lines > 1, that
                                                many output lines joined by '\n' */
                        uint32_t lines;      /* 1 (event_new()), or more for a batch of a
                                                command's output lines */
                        uint64_t dropped_before; /* lines dropped just before this one (set by the queue) */
                } log;
                struct {
                        double overall;      /* 0..1, weighted over enabled phases */
                        double phase;        /* 0..1 of the current phase */
                        int phase_index;
                        int64_t elapsed_ms;
                        int64_t eta_ms;      /* -1 = not known yet */
                        char *detail;        /* "Unpacking xfce4-panel (132/412)"; may be NULL */
                } progress;
                struct {
                        int id;
                        enum prompt_kind kind;
                        char *title;         /* "Phase desktop failed" */
                        char *message;       /* the error */
                        char **tail;         /* last lines of output (strv) */
                        char **undo;         /* what a rollback would do, newest first (strv) */
                } prompt;
                struct {
                        char *username;
                        struct secret *password;  /* NULL when a hash was supplied, the
                                                     password is unchanged, or the UI
                                                     sent it to password_to */
                        enum creds_password password_kind;
                        char *password_to;        /* set by the UI: where the password
                                                     went instead ("/root/pw",
                                                     "file descriptor 3"), or NULL */
                        char *host;
                        unsigned rdp_port;
                        unsigned ssh_port;
                        bool rdp_localhost;       /* rdp_listen = localhost: reached
                                                     through ssh -L (answers_rdp_tunnel) */
                } credentials;
                struct {
                        enum session_status status;
                        int exit_code;
                        char *message;       /* one line: what happened, what to do */
                        char **summary;      /* lines for the final screen (strv) */
                        bool settle_waiting; /* a change waits for the person: the old
                                                SSH port, until a login on the new one */
                } session_end;
                struct {
                        int prompt_id;
                        enum prompt_choice choice;
                } answer;
                struct {
                        int phase_index;
                        char **steps;        /* strv of "TYPE\ttarget\tdescription" */
                } plan;
        };
};

/* Zeroed, with time_ms = wall_ms(); also log.level = LOG_INFO,
 * log.phase_index = -1, progress.phase_index = -1, progress.eta_ms = -1. */
struct event *event_new(enum event_type type);
void event_free(struct event *ev);
static inline void event_freep(struct event **ev) { event_free(*ev); }
bool event_is_droppable(const struct event *ev);   /* EV_LOG only */

const char *event_type_name(enum event_type t);    /* "phase_start" */
const char *phase_state_name(enum phase_state s);  /* "pending", "running", "done", … */
const char *session_status_name(enum session_status s); /* data model: "COMPLETED" … */
const char *prompt_choice_name(enum prompt_choice c);   /* "retry", "rollback", "keep" */
const char *prompt_kind_name(enum prompt_kind k);       /* "phase_failed", "confirm_rollback" */
const char *session_mode_name(enum session_mode m);     /* "provision", "dry-run", "resume", "rollback" */
const char *creds_password_name(enum creds_password k); /* "generated", "password_hash", "unchanged" */
/* What a credentials event's UI shows in place of a password it does not
 * hold, true for each case: "(written to /root/pw)", "(from the answers
 * file's password_hash)", "(unchanged: the account keeps its password)". NULL when the
 * event holds the password itself. Caller frees. */
char *creds_password_note(const struct event *ev);
/* The tables behind session_status_name() and session_mode_name(), indexed
 * by the enum, for a reader that maps a name back (the session file). */
extern const char *const session_status_names[_SESSION_STATUS_MAX];
extern const char *const session_mode_names[_SESSION_MODE_MAX];

/* The version of the --json event format, the "v" of every event. It changes
 * only when a documented field changes meaning or goes away (adding an event
 * type or a field does not change it); docs/json-events.md is the contract. */
#define EVENT_FORMAT_VERSION 1

/* One JSON object for the --json renderer:
 * {"v":1,"event":"phase_start","time":"2026-11-22T10:15:00.123Z","seq":7,
 * …the type's fields in snake_case}. NULL strings are null; strings that are not
 * UTF-8 get U+FFFD for their bad bytes. A prompt also lists its "choices".
 * A credentials event includes the password (the one place it is ever
 * serialized; the caller prints it once and frees the string with wipe()).
 * The caller frees the object with json_object_put(). */
struct json_object *event_to_json(const struct event *ev);
