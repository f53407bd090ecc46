/* attach_proto.h — the wire format of the attach channel, both ends.
 *
 * A run serves a UNIX stream socket (attach_server.h); `vps-provision
 * --attach` connects to it. Both directions carry JSON objects, one per
 * line (UTF-8, '\n'-terminated, no '\n' inside a line).
 *
 * Server → client: first {"event":"hello",…} (who serves: pid, session,
 * whether the run ended, whether credentials wait); after the client's
 * hello {"event":"role",…}, the replay of the run so far, {"event":
 * "replay_end"}, then every engine event as it happens, in exactly the
 * form the --json renderer prints (event_to_json()). Further lines of the
 * channel itself: "role" (the client got or lost the keys), "refused" (a
 * command needs the keys) and "bye" (the server drops the client, with a
 * reason).
 *
 * Client → server: {"cmd":"hello","want":"control"|"watch"} first, then
 * any of {"cmd":"cancel"}, {"cmd":"answer","prompt_id":N,"choice":"retry"|
 * "rollback"|"keep"}, {"cmd":"credentials_saved"}, {"cmd":
 * "ssh_port_confirmed"}, {"cmd":"take"} (take the keys from another
 * client) and {"cmd":"detach"}.
 *
 * The parsers take a buffer and its length (no NUL needed) and never
 * trust it: they are the fuzzing entry points of the channel. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "events.h"

struct secret;

#define ATTACH_PROTO_VERSION 1
/* Longest client line (newline excluded); a longer one ends the client. */
#define ATTACH_CMD_MAX 1024
/* Longest server line a client accepts (a prompt's undo list can be long). */
#define ATTACH_LINE_MAX (8u << 20)

enum attach_cmd_type {
        ATTACH_CMD_HELLO,
        ATTACH_CMD_CANCEL,
        ATTACH_CMD_ANSWER,
        ATTACH_CMD_CREDENTIALS_SAVED,
        ATTACH_CMD_SSH_PORT_CONFIRMED,
        ATTACH_CMD_TAKE,
        ATTACH_CMD_DETACH,
        _ATTACH_CMD_MAX,
};

struct attach_cmd {
        enum attach_cmd_type type;
        bool want_control;          /* hello */
        int prompt_id;              /* answer */
        enum prompt_choice choice;  /* answer: never CHOICE_NONE */
};

/* "hello", "cancel", … */
const char *attach_cmd_name(enum attach_cmd_type t);

/* One client line (without its newline) into *ret. 0, or -EBADMSG with err
 * saying what is wrong (ret untouched). Unknown keys are ignored (a newer
 * client), an unknown "cmd" is refused. */
int attach_cmd_parse(const char *line, size_t len, struct attach_cmd *ret, char *err,
                     size_t errlen);
/* The line for a command, newline included. Caller frees. */
char *attach_cmd_format(const struct attach_cmd *c);

/* What a server says about itself in its hello (and what a probe learns). */
struct attach_hello {
        int proto;
        pid_t pid;
        char version[32];
        char session_id[64];        /* "" before the run has one */
        char mode[16];              /* "provision", "resume", "rollback", "" */
        bool ended;                 /* the session's end was sent */
        int exit_code;              /* when ended */
        bool credentials_waiting;   /* a password nobody has confirmed is kept */
        bool has_controller;        /* a client holds the keys */
};

enum attach_msg_type {
        ATTACH_MSG_EVENT,           /* an engine event: msg.ev */
        ATTACH_MSG_HELLO,           /* msg.hello */
        ATTACH_MSG_ROLE,            /* msg.control */
        ATTACH_MSG_REPLAY_END,
        ATTACH_MSG_REFUSED,         /* msg.text: why */
        ATTACH_MSG_BYE,             /* msg.text: why */
};

struct attach_msg {
        enum attach_msg_type type;
        struct event *ev;           /* ATTACH_MSG_EVENT; the caller frees it */
        struct attach_hello hello;
        bool control;
        char text[256];
};

/* One server line (without its newline) into *ret. The line is writable
 * because a credentials event's password is copied into locked memory and
 * then wiped from it (so it is never in ordinary memory once parsed).
 * 0, or -EBADMSG with err filled (ret untouched), -ENOMEM. Events of a
 * type this client does not know are -ENOMSG (to be skipped). */
int attach_msg_parse(char *line, size_t len, struct attach_msg *ret, char *err, size_t errlen);

/* Server lines. attach_event_line(): an engine event other than the
 * credentials, with seq as its sequence number; newline included; caller
 * frees. attach_credentials_line(): the credentials event, password
 * included, assembled in locked memory (secret_str() of *ret is the line);
 * 0 or -errno. */
char *attach_event_line(const struct event *ev, uint64_t seq);
int attach_credentials_line(const struct event *ev, uint64_t seq, struct secret **ret);
/* hello, role, replay_end, refused and bye lines; caller frees. */
char *attach_hello_line(const struct attach_hello *h);
char *attach_role_line(bool control);
char *attach_replay_end_line(void);
char *attach_refused_line(const char *cmd, const char *why);
char *attach_bye_line(const char *why);

/* The server's side of a JSON object parsed back into an event (the
 * inverse of event_to_json(), for the types a UI shows). 0, -EBADMSG,
 * -ENOMSG for an unknown type. For tests and the fuzzer; the client goes
 * through attach_msg_parse(). */
int attach_event_from_json(struct json_object *o, struct event **ret, char *err, size_t errlen);
