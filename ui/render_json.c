/* render_json.c — one JSON object per event and line (see render.h). */
#include "render.h"

#include <string.h>

#include <json-c/json.h>

#include "util.h"

static void render_one(FILE *out, const struct event *ev);

void render_json_event(FILE *out, const struct event *ev)
{
        /* A batch of output lines is printed as one log object a line, as
         * if each had come alone (the first carries dropped_before). */
        if (ev->type == EV_LOG && ev->log.lines > 1 && ev->log.text) {
                struct event one = *ev;
                const char *p = ev->log.text, *nl;

                for (;; p = nl + 1) {
                        nl = strchr(p, '\n');
                        one.log.text = nl ? xstrndup(p, (size_t)(nl - p)) : (char *)p;
                        one.log.lines = 1;
                        render_one(out, &one);
                        if (!nl)
                                break;
                        free(one.log.text);
                        one.log.dropped_before = 0;
                }
                return;
        }
        render_one(out, ev);
}

static void render_one(FILE *out, const struct event *ev)
{
        struct json_object *o = event_to_json(ev);
        const char *s;

        if (!o)
                return;
        s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
        fputs(s, out);
        fputc('\n', out);
        fflush(out);
        if (ev->type == EV_CREDENTIALS)
                wipe((char *)s, strlen(s));   /* the password was in that string */
        json_object_put(o);
}
