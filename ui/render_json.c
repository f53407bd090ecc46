/* render_json.c — one JSON object per event and line (see render.h). */
#include "render.h"

#include <string.h>

#include <json-c/json.h>

#include "util.h"

void render_json_event(FILE *out, const struct event *ev)
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
