/* attach_server.h — the run's side of the attach channel: a UNIX socket
 * that `vps-provision --attach` connects to (wire format: attach_proto.h).
 *
 * DESIGN: the server has a thread of its own. The engine hands it every
 * event (attach_server_publish()), which serializes it once, keeps what a
 * late client needs to see the run as it is (every state event, the
 * newest progress, the last ATTACH_LOG_LINES log lines) and queues the
 * line for each client; the thread writes the queues out with
 * non-blocking sends. So the engine never waits for a client: a client
 * that falls behind by more than ATTACH_CLIENT_BACKLOG bytes, or accepts
 * nothing for ATTACH_STALL_MS while lines wait, is dropped (with a "bye"
 * line when there is room for one).
 *
 * The socket lives in a directory only root can enter (the run
 * directory, 0700, created when missing and refused when another user
 * can write to it), is created 0600 and bound under a temporary name,
 * then renamed into place once it listens, so a client never finds a
 * name that refuses connections while the server is alive; one that does
 * is stale (its server died) and attach_list() removes it. Every client's
 * uid is checked with SO_PEERCRED (root, or this program's own uid).
 *
 * Clients: the first one that asks for control gets the keys (cancel, the
 * failure dialog, the credentials screen, confirming the new SSH port);
 * the others watch. A server started with an owner (the terminal that
 * started the run, on one end of a socketpair made before the socket
 * exists) keeps the keys for that one: it gets them when it says hello,
 * whoever connected first, and nobody else gets them before it did or
 * left. When the controller leaves, the oldest client that
 * asked for control gets them; "take" moves them on purpose. A pending
 * prompt and kept credentials go only to the controller, at the place of
 * the replay where they happened. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "attach_proto.h"
#include "events.h"

#define ATTACH_LOG_LINES 2000
#define ATTACH_CLIENT_BACKLOG (16u << 20)
#define ATTACH_STALL_MS 30000
#define ATTACH_HELLO_MS 10000      /* a client says hello within this */
#define ATTACH_MAX_CLIENTS 32

struct attach_server;

/* Called on the server's thread for each command of a client that may
 * give it (the controller; anyone for detach and take). */
typedef void (*attach_command_fn)(void *userdata, const struct attach_cmd *cmd);

/* Creates dir when missing (0700; its parents 0755) and checks it is ours
 * alone, removes stale sockets there, binds DIR/attach-PID.sock and starts
 * the thread. 0, or -errno with err saying what is wrong and what to do. */
int attach_server_start(const char *dir, attach_command_fn on_command, void *userdata,
                        struct attach_server **ret, char *err, size_t errlen);
/* The same, with owner_fd (one end of a socketpair; taken over on
 * success, closed with the server) as the first client, the one the keys
 * wait for. */
int attach_server_start_owned(const char *dir, int owner_fd, attach_command_fn on_command,
                              void *userdata, struct attach_server **ret, char *err, size_t errlen);
/* Stops the thread, says "bye" to every client (why, when given), removes
 * the socket. NULL is fine. */
void attach_server_stop(struct attach_server *s, const char *why);
const char *attach_server_path(const struct attach_server *s);

/* From the engine thread: an event as it is sent to the UI (a credentials
 * event goes through attach_server_keep_credentials() instead). */
void attach_server_publish(struct attach_server *s, const struct event *ev);
/* The credentials event (taking ownership): the controller sees it now, a
 * later controller at its place in the replay, until
 * attach_server_drop_credentials() wipes it. */
void attach_server_keep_credentials(struct attach_server *s, struct event *creds);
void attach_server_drop_credentials(struct attach_server *s);
/* The prompt with this id is answered (or given up): it is not shown to
 * the next controller any more. */
void attach_server_prompt_done(struct attach_server *s, int prompt_id);

/* Whether a client holds the keys right now. */
bool attach_server_has_controller(struct attach_server *s);
/* Whether the session's end has been sent whole to a client with the keys
 * (a person saw how the run ended). */
bool attach_server_end_delivered(struct attach_server *s);
/* How many clients are connected (tests). */
size_t attach_server_clients(struct attach_server *s);

/* ---- finding servers (the client's side and the engine's) -------------- */

struct attach_peer {
        char path[256];
        struct attach_hello hello;
};

/* Every live server in dir (newest session first, a running one before
 * ended ones), from each one's hello; stale sockets are removed. 0 with
 * *ret (free()) and *ret_n (maybe 0), or -errno (-ENOENT: no directory). */
int attach_list(const char *dir, struct attach_peer **ret, size_t *ret_n);
/* Connects to a server's socket and checks that the server runs as root
 * (or as this user). The fd (blocking, close-on-exec) or -errno. */
int attach_connect(const char *path);
/* Opens the run directory (create = make it when missing) and checks that
 * it is ours alone. The fd or -errno with err filled. */
int attach_dir_open(const char *dir, bool create, char *err, size_t errlen);
