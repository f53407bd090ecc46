/* render.h — the line renderers: plain text (also for logs and pipes) and
 * JSON lines (for other programs). Both consume engine events as they come
 * and never block the engine: they only write to stdout. */
#pragma once

#include <stdbool.h>
#include <stdio.h>

#include "events.h"

struct render_plain;

/* verbose: also print every output line of the commands (the log file has
 * them anyway). */
struct render_plain *render_plain_new(FILE *out, bool verbose);
void render_plain_event(struct render_plain *r, const struct event *ev);
/* A note from the UI itself ("cancelling at the next safe point"). */
void render_plain_note(struct render_plain *r, const char *text);
void render_plain_free(struct render_plain *r);

/* One JSON object per line; flushes after each. */
void render_json_event(FILE *out, const struct event *ev);
