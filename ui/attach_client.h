/* attach_client.h — the UI's end of the attach channel: a connection to a
 * run's socket whose events arrive on a local event queue, exactly as the
 * engine thread's do, so the dashboard and the line renderers draw a run in
 * another process the same way as one in this process.
 *
 * DESIGN: a reader thread reads the socket line by line, parses each line
 * (attach_proto.h) and pushes the events onto the queue (whose log ring
 * coalesces a flood, so the reader never blocks on a slow screen either).
 * What is not an engine event (the role, the end of the replay, a refused
 * command, the server's bye) changes the client's state and, where a
 * person should know, becomes a log line of its own. When the connection
 * ends before the session's end arrived, the reader adds a session end
 * that says the run's process is gone and points at --resume: the UI always
 * gets an end. Commands are short lines written with a timeout. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "attach_proto.h"
#include "events.h"

struct attach_client;

/* Connects to the socket at path, reads the server's hello and says its
 * own (want_control: ask for the keys), then starts the reader. 0, or
 * -errno with err filled. */
int attach_client_open(const char *path, bool want_control, struct attach_client **ret, char *err,
                       size_t errlen);
/* The same over fd, already connected (taken over: closed by
 * attach_client_free(), also on failure). Both return once the server
 * said which role this client has. */
int attach_client_open_fd(int fd, bool want_control, struct attach_client **ret, char *err,
                          size_t errlen);
/* Sends detach (when still connected), stops the reader, frees. NULL is fine. */
void attach_client_free(struct attach_client *c);

/* The events: poll attach_client_fd(), pop until NULL; closed once the
 * connection ended and every event was popped. */
int attach_client_fd(struct attach_client *c);
struct event *attach_client_pop(struct attach_client *c);
bool attach_client_closed(struct attach_client *c);

/* EV_ANSWER, EV_CANCEL, EV_CREDENTIALS_SAVED, EV_SSH_PORT_CONFIRMED as the
 * matching command; takes ownership of ev. */
void attach_client_send(struct attach_client *c, struct event *ev);
/* Takes the keys from whoever has them. */
void attach_client_take(struct attach_client *c);
/* Leaves on purpose: the run goes on. */
void attach_client_detach(struct attach_client *c);

/* What the server said about itself when we connected. */
const struct attach_hello *attach_client_hello(struct attach_client *c);
/* Whether this client holds the keys now. */
bool attach_client_control(struct attach_client *c);
/* Whether the replay of the run so far is over (events are live now). */
bool attach_client_live(struct attach_client *c);
/* Whether the connection ended without the session's end (the run's
 * process died or dropped us); why says how, for the person. */
bool attach_client_lost(struct attach_client *c, char *why, size_t size);
