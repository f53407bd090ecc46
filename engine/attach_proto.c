/* attach_proto.c — see attach_proto.h.
 *
 * Every line is read with json_parse_strict() (one object, UTF-8, no key
 * twice), then only the keys a type needs are looked at, each with its
 * JSON type and range checked; a wrong one makes the whole line -EBADMSG.
 * Keys nobody reads are ignored, so a newer peer may add some.
 *
 * The password: the server assembles the credentials line in a secret
 * (locked, never in core dumps) from the event serialized without it plus
 * the password escaped in place. The client decodes the password's JSON
 * string straight into a secret and overwrites its bytes in the line with
 * 'x' before the line is parsed, so json-c's copies never hold it; the
 * parsed value must then be exactly that run of 'x' (so the bytes taken
 * were the "password" member and nothing else). */
#include "attach_proto.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "check.h"
#include "json_strict.h"
#include "preflight.h"
#include "secret.h"
#include "util.h"

static const char *const cmd_names[_ATTACH_CMD_MAX] = {
        [ATTACH_CMD_HELLO] = "hello",
        [ATTACH_CMD_CANCEL] = "cancel",
        [ATTACH_CMD_ANSWER] = "answer",
        [ATTACH_CMD_CREDENTIALS_SAVED] = "credentials_saved",
        [ATTACH_CMD_SSH_PORT_CONFIRMED] = "ssh_port_confirmed",
        [ATTACH_CMD_TAKE] = "take",
        [ATTACH_CMD_DETACH] = "detach",
};

const char *attach_cmd_name(enum attach_cmd_type t)
{
        if ((int)t < 0 || t >= _ATTACH_CMD_MAX)
                return "unknown";
        return cmd_names[t];
}

#define bad(err, errlen, ...) errorf(-EBADMSG, (err), (errlen), __VA_ARGS__)

/* ---- reading members ---------------------------------------------------- */

static struct json_object *member(struct json_object *o, const char *key)
{
        struct json_object *v = NULL;
        return json_object_object_get_ex(o, key, &v) ? v : NULL;
}

/* A string member: required unless nullable (then a missing key or null
 * gives NULL). The result points into o. */
static int get_str(struct json_object *o, const char *key, bool nullable, const char **ret,
                   char *err, size_t errlen)
{
        struct json_object *v = member(o, key);

        if (!v || json_object_is_type(v, json_type_null)) {
                if (!nullable)
                        return bad(err, errlen, "\"%s\" is missing", key);
                *ret = NULL;
                return 0;
        }
        if (!json_object_is_type(v, json_type_string))
                return bad(err, errlen, "\"%s\" is not a string", key);
        *ret = json_object_get_string(v);
        return 0;
}

static int dup_str(struct json_object *o, const char *key, bool nullable, char **ret, char *err,
                   size_t errlen)
{
        const char *s;
        int r = get_str(o, key, nullable, &s, err, errlen);
        if (r < 0)
                return r;
        *ret = s ? xstrdup(s) : NULL;
        return 0;
}

static int get_int(struct json_object *o, const char *key, int64_t min, int64_t max, int64_t *ret,
                   char *err, size_t errlen)
{
        struct json_object *v = member(o, key);
        int64_t x;

        if (!v || !json_object_is_type(v, json_type_int))
                return bad(err, errlen, "\"%s\" is missing or not a whole number", key);
        errno = 0;
        x = json_object_get_int64(v);
        /* json-c clamps what does not fit and says so in errno */
        if (errno != 0 || x < min || x > max)
                return bad(err, errlen, "\"%s\" is out of range", key);
        *ret = x;
        return 0;
}

static int get_i(struct json_object *o, const char *key, int min, int max, int *ret, char *err,
                 size_t errlen)
{
        int64_t x;
        int r = get_int(o, key, min, max, &x, err, errlen);
        if (r == 0)
                *ret = (int)x;
        return r;
}

static int get_bool(struct json_object *o, const char *key, bool *ret, char *err, size_t errlen)
{
        struct json_object *v = member(o, key);

        if (!v || !json_object_is_type(v, json_type_boolean))
                return bad(err, errlen, "\"%s\" is missing or not true/false", key);
        *ret = json_object_get_boolean(v);
        return 0;
}

static int get_double(struct json_object *o, const char *key, double min, double max, double *ret,
                      char *err, size_t errlen)
{
        struct json_object *v = member(o, key);
        double x;

        if (!v || !(json_object_is_type(v, json_type_double) || json_object_is_type(v, json_type_int)))
                return bad(err, errlen, "\"%s\" is missing or not a number", key);
        x = json_object_get_double(v);
        if (!(x >= min && x <= max))
                return bad(err, errlen, "\"%s\" is out of range", key);
        *ret = x;
        return 0;
}

/* An array of strings (missing or null = NULL). */
static int get_strv(struct json_object *o, const char *key, char ***ret, char *err, size_t errlen)
{
        struct json_object *a = member(o, key);
        char **v = NULL;
        size_t n;

        if (!a || json_object_is_type(a, json_type_null)) {
                *ret = NULL;
                return 0;
        }
        if (!json_object_is_type(a, json_type_array))
                return bad(err, errlen, "\"%s\" is not an array", key);
        n = json_object_array_length(a);
        for (size_t i = 0; i < n; i++) {
                struct json_object *s = json_object_array_get_idx(a, i);
                if (!s || !json_object_is_type(s, json_type_string)) {
                        strv_free(v);
                        return bad(err, errlen, "\"%s\" holds something that is not a string", key);
                }
                strv_push(&v, json_object_get_string(s));
        }
        *ret = v;
        return 0;
}

/* A name back to its enum value through the name function; -1 if none. */
static int enum_of(const char *name, int n, const char *(*fn)(int))
{
        for (int i = 0; name && i < n; i++)
                if (strcmp(fn(i), name) == 0)
                        return i;
        return -1;
}

static const char *phase_state_fn(int i) { return phase_state_name((enum phase_state)i); }
static const char *session_mode_fn(int i) { return session_mode_name((enum session_mode)i); }
static const char *session_status_fn(int i) { return session_status_name((enum session_status)i); }
static const char *prompt_kind_fn(int i) { return prompt_kind_name((enum prompt_kind)i); }
static const char *prompt_choice_fn(int i) { return prompt_choice_name((enum prompt_choice)i); }
static const char *check_status_fn(int i) { return check_status_name((enum check_status)i); }
static const char *log_level_fn(int i) { return log_level_name((enum log_level)i); }
static const char *creds_password_fn(int i) { return creds_password_name((enum creds_password)i); }
static const char *event_type_fn(int i) { return event_type_name((enum event_type)i); }

static int get_enum(struct json_object *o, const char *key, int n, const char *(*fn)(int), int *ret,
                    char *err, size_t errlen)
{
        const char *s;
        int r = get_str(o, key, false, &s, err, errlen), i;

        if (r < 0)
                return r;
        i = enum_of(s, n, fn);
        if (i < 0)
                return bad(err, errlen, "\"%s\" has an unknown value", key);
        *ret = i;
        return 0;
}

/* "2026-11-22T10:15:00.123Z" back to milliseconds; 0 when it is not one. */
static int64_t time_of(const char *s)
{
        struct tm tm = { 0 };
        unsigned ms = 0;
        char z = 0;

        if (!s || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d.%3u%c", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                         &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms, &z) != 8 || z != 'Z')
                return 0;
        tm.tm_year -= 1900;
        tm.tm_mon -= 1;
        return (int64_t)timegm(&tm) * 1000 + ms;
}

/* ---- commands ----------------------------------------------------------- */

int attach_cmd_parse(const char *line, size_t len, struct attach_cmd *ret, char *err, size_t errlen)
{
        struct json_object *o = NULL;
        struct attach_cmd c = { 0 };
        const char *name;
        char jerr[160];
        int r, i;

        if (len > ATTACH_CMD_MAX)
                return bad(err, errlen, "a command is at most %d bytes", ATTACH_CMD_MAX);
        if (json_parse_strict(line, len, &o, jerr, sizeof(jerr)) < 0)
                return bad(err, errlen, "%s", jerr);
        r = get_str(o, "cmd", false, &name, err, errlen);
        if (r < 0)
                goto out;
        for (i = 0; i < _ATTACH_CMD_MAX && strcmp(cmd_names[i], name) != 0; i++)
                ;
        if (i == _ATTACH_CMD_MAX) {
                r = bad(err, errlen, "unknown command");
                goto out;
        }
        c.type = (enum attach_cmd_type)i;
        if (c.type == ATTACH_CMD_HELLO) {
                const char *want;
                r = get_str(o, "want", true, &want, err, errlen);
                if (r < 0)
                        goto out;
                if (want && strcmp(want, "control") != 0 && strcmp(want, "watch") != 0) {
                        r = bad(err, errlen, "\"want\" is control or watch");
                        goto out;
                }
                c.want_control = want && strcmp(want, "control") == 0;
        } else if (c.type == ATTACH_CMD_ANSWER) {
                int ch = 0;
                r = get_i(o, "prompt_id", 1, INT_MAX, &c.prompt_id, err, errlen);
                if (r == 0)
                        r = get_enum(o, "choice", CHOICE_KEEP + 1, prompt_choice_fn, &ch, err, errlen);
                if (r < 0)
                        goto out;
                if (ch == CHOICE_NONE) {
                        r = bad(err, errlen, "\"choice\" is retry, rollback or keep");
                        goto out;
                }
                c.choice = (enum prompt_choice)ch;
        }
        *ret = c;
        r = 0;
out:
        json_object_put(o);
        return r;
}

/* The object as one line, newline included. Caller frees. */
static char *line_of(struct json_object *o)
{
        const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
                                                                  JSON_C_TO_STRING_NOSLASHESCAPE);
        char *line = xasprintf("%s\n", s);
        json_object_put(o);
        return line;
}

char *attach_cmd_format(const struct attach_cmd *c)
{
        struct json_object *o = json_object_new_object();

        json_object_object_add(o, "cmd", json_object_new_string(attach_cmd_name(c->type)));
        if (c->type == ATTACH_CMD_HELLO)
                json_object_object_add(o, "want",
                                       json_object_new_string(c->want_control ? "control" : "watch"));
        if (c->type == ATTACH_CMD_ANSWER) {
                json_object_object_add(o, "prompt_id", json_object_new_int(c->prompt_id));
                json_object_object_add(o, "choice",
                                       json_object_new_string(prompt_choice_name(c->choice)));
        }
        return line_of(o);
}

/* ---- server lines ------------------------------------------------------- */

static struct json_object *event_obj(const struct event *ev, uint64_t seq)
{
        struct json_object *o = event_to_json(ev);
        json_object_object_add(o, "seq", json_object_new_uint64(seq));
        return o;
}

char *attach_event_line(const struct event *ev, uint64_t seq)
{
        if (!ev || ev->type == EV_CREDENTIALS)
                return NULL;
        return line_of(event_obj(ev, seq));
}

/* Appends c to dst as JSON string content (dst has room: 6 bytes per c). */
static size_t escape_char(char *dst, unsigned char c)
{
        static const char hex[] = "0123456789abcdef";

        if (c == '"' || c == '\\') {
                dst[0] = '\\';
                dst[1] = (char)c;
                return 2;
        }
        if (c < 0x20 || c == 0x7f) {
                memcpy(dst, "\\u00", 4);
                dst[4] = hex[c >> 4];
                dst[5] = hex[c & 15];
                return 6;
        }
        dst[0] = (char)c;
        return 1;
}

int attach_credentials_line(const struct event *ev, uint64_t seq, struct secret **ret)
{
        static const char slot[] = "\"password\":null";
        struct event copy;
        struct json_object *o;
        const char *text, *at;
        struct secret *s = NULL;
        size_t pw_len, head, n = 0;
        char *dst;
        int r;

        if (!ev || ev->type != EV_CREDENTIALS)
                return -EINVAL;
        copy = *ev;
        copy.credentials.password = NULL;
        o = event_obj(&copy, seq);
        text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
        at = strstr(text, slot);
        if (!at) {
                json_object_put(o);
                return -EINVAL;
        }
        pw_len = ev->credentials.password ? secret_len(ev->credentials.password) : 0;
        head = (size_t)(at - text) + strlen("\"password\":");
        r = secret_alloc(strlen(text) + 6 * pw_len + 3, &s);
        if (r < 0) {
                json_object_put(o);
                return r;
        }
        dst = secret_buffer(s);
        memcpy(dst, text, head);
        n = head;
        if (ev->credentials.password) {
                const unsigned char *pw = (const unsigned char *)secret_str(ev->credentials.password);
                dst[n++] = '"';
                for (size_t i = 0; i < pw_len; i++)
                        n += escape_char(dst + n, pw[i]);
                dst[n++] = '"';
        } else {
                memcpy(dst + n, "null", 4);
                n += 4;
        }
        at += strlen(slot);
        memcpy(dst + n, at, strlen(at));
        n += strlen(at);
        dst[n++] = '\n';
        dst[n] = '\0';
        /* the rest of the mapping stays zero; secret_str() reads to the NUL */
        json_object_put(o);
        *ret = s;
        return 0;
}

char *attach_hello_line(const struct attach_hello *h)
{
        struct json_object *o = json_object_new_object();

        json_object_object_add(o, "event", json_object_new_string("hello"));
        json_object_object_add(o, "proto", json_object_new_int(h->proto));
        json_object_object_add(o, "pid", json_object_new_int64(h->pid));
        json_object_object_add(o, "version", json_object_new_string(h->version));
        json_object_object_add(o, "session_id",
                               h->session_id[0] ? json_object_new_string(h->session_id) : NULL);
        json_object_object_add(o, "mode", h->mode[0] ? json_object_new_string(h->mode) : NULL);
        json_object_object_add(o, "ended", json_object_new_boolean(h->ended));
        json_object_object_add(o, "exit_code", json_object_new_int(h->exit_code));
        json_object_object_add(o, "credentials_waiting",
                               json_object_new_boolean(h->credentials_waiting));
        json_object_object_add(o, "has_controller", json_object_new_boolean(h->has_controller));
        return line_of(o);
}

char *attach_role_line(bool control)
{
        struct json_object *o = json_object_new_object();

        json_object_object_add(o, "event", json_object_new_string("role"));
        json_object_object_add(o, "role", json_object_new_string(control ? "control" : "watch"));
        return line_of(o);
}

char *attach_replay_end_line(void)
{
        struct json_object *o = json_object_new_object();

        json_object_object_add(o, "event", json_object_new_string("replay_end"));
        return line_of(o);
}

static char *reason_line(const char *event, const char *cmd, const char *why)
{
        struct json_object *o = json_object_new_object();

        json_object_object_add(o, "event", json_object_new_string(event));
        if (cmd)
                json_object_object_add(o, "command", json_object_new_string(cmd));
        json_object_object_add(o, "reason", json_object_new_string(why ? why : ""));
        return line_of(o);
}

char *attach_refused_line(const char *cmd, const char *why)
{
        return reason_line("refused", cmd, why);
}

char *attach_bye_line(const char *why)
{
        return reason_line("bye", NULL, why);
}

/* ---- events back from JSON ---------------------------------------------- */

static int phases_from(struct json_object *o, struct event *ev, char *err, size_t errlen)
{
        struct json_object *a = member(o, "phases");
        size_t n;

        if (!a || !json_object_is_type(a, json_type_array))
                return bad(err, errlen, "\"phases\" is missing or not an array");
        n = json_object_array_length(a);
        if (n > 4096)
                return bad(err, errlen, "\"phases\" has too many entries");
        ev->session.phases = xcalloc(n + 1, sizeof(*ev->session.phases));
        ev->session.n_phases = n;
        for (size_t i = 0; i < n; i++) {
                struct json_object *p = json_object_array_get_idx(a, i);
                struct ev_phase_info *pi = &ev->session.phases[i];
                int64_t w;
                int st = 0, r;

                if (!p || !json_object_is_type(p, json_type_object))
                        return bad(err, errlen, "a phase is not an object");
                if ((r = dup_str(p, "id", false, &pi->id, err, errlen)) < 0 ||
                    (r = dup_str(p, "title", false, &pi->title, err, errlen)) < 0 ||
                    (r = get_int(p, "weight", 0, 1000000, &w, err, errlen)) < 0 ||
                    (r = get_enum(p, "state", _PHASE_STATE_MAX, phase_state_fn, &st, err, errlen)) < 0)
                        return r;
                pi->weight = (unsigned)w;
                pi->state = (enum phase_state)st;
        }
        return 0;
}

static int checks_from(struct json_object *o, struct check_list *l, char *err, size_t errlen)
{
        struct json_object *a = member(o, "checks");
        size_t n;

        if (!a || !json_object_is_type(a, json_type_array))
                return bad(err, errlen, "\"checks\" is missing or not an array");
        n = json_object_array_length(a);
        for (size_t i = 0; i < n; i++) {
                struct json_object *c = json_object_array_get_idx(a, i);
                const char *name, *category, *message, *fix;
                struct check *added;
                int st = 0, r;

                if (!c || !json_object_is_type(c, json_type_object))
                        return bad(err, errlen, "a check is not an object");
                if ((r = get_str(c, "name", false, &name, err, errlen)) < 0 ||
                    (r = get_str(c, "category", false, &category, err, errlen)) < 0 ||
                    (r = get_str(c, "message", false, &message, err, errlen)) < 0 ||
                    (r = get_str(c, "fix", true, &fix, err, errlen)) < 0 ||
                    (r = get_enum(c, "status", CHECK_FAIL + 1, check_status_fn, &st, err, errlen)) < 0)
                        return r;
                added = check_add(l, category, name, (enum check_status)st, fix, "%s", message);
                /* details are an object of strings; keep what is one */
                if (json_object_is_type(member(c, "details"), json_type_object)) {
                        json_object_object_foreach(member(c, "details"), k, v) {
                                if (json_object_is_type(v, json_type_string))
                                        check_detail(added, k, "%s", json_object_get_string(v));
                        }
                }
        }
        return 0;
}

static int plan_from(struct json_object *o, struct event *ev, char *err, size_t errlen)
{
        struct json_object *a = member(o, "steps");
        size_t n;

        if (!a || !json_object_is_type(a, json_type_array))
                return bad(err, errlen, "\"steps\" is missing or not an array");
        n = json_object_array_length(a);
        for (size_t i = 0; i < n; i++) {
                struct json_object *s = json_object_array_get_idx(a, i);
                const char *type, *target, *desc;
                int r;

                if (!s || !json_object_is_type(s, json_type_object))
                        return bad(err, errlen, "a step is not an object");
                if ((r = get_str(s, "description", false, &desc, err, errlen)) < 0 ||
                    (r = get_str(s, "action_type", true, &type, err, errlen)) < 0 ||
                    (r = get_str(s, "target", true, &target, err, errlen)) < 0)
                        return r;
                if (type && target)
                        strv_pushf(&ev->plan.steps, "%s\t%s\t%s", type, target, desc);
                else
                        strv_push(&ev->plan.steps, desc);
        }
        return 0;
}

/* The fields of one event type; ev is freshly made and freed by the
 * caller on failure. */
static int fields_from(struct json_object *o, struct event *ev, char *err, size_t errlen)
{
        int64_t x;
        int i = 0, r = 0;

        switch (ev->type) {
        case EV_SESSION_START:
                if ((r = dup_str(o, "session_id", false, &ev->session.session_id, err, errlen)) < 0 ||
                    (r = get_enum(o, "mode", _SESSION_MODE_MAX, session_mode_fn, &i, err, errlen)) < 0 ||
                    (r = dup_str(o, "log_path", true, &ev->session.log_path, err, errlen)) < 0 ||
                    (r = dup_str(o, "session_path", true, &ev->session.session_path, err, errlen)) < 0)
                        return r;
                ev->session.mode = (enum session_mode)i;
                return phases_from(o, ev, err, errlen);
        case EV_PREFLIGHT:
                if (vps_info_from_json(member(o, "info"), &ev->preflight.info) < 0)
                        return bad(err, errlen, "\"info\" is not the server's facts");
                if ((r = get_bool(o, "refused", &ev->preflight.refused, err, errlen)) < 0)
                        return r;
                return checks_from(o, &ev->preflight.checks, err, errlen);
        case EV_PHASE_START:
                if ((r = get_i(o, "index", -1, INT_MAX, &ev->phase_start.index, err, errlen)) < 0 ||
                    (r = dup_str(o, "id", false, &ev->phase_start.id, err, errlen)) < 0 ||
                    (r = dup_str(o, "title", false, &ev->phase_start.title, err, errlen)) < 0)
                        return r;
                return 0;
        case EV_PHASE_END:
                if ((r = get_i(o, "index", -1, INT_MAX, &ev->phase_end.index, err, errlen)) < 0 ||
                    (r = dup_str(o, "id", false, &ev->phase_end.id, err, errlen)) < 0 ||
                    (r = get_enum(o, "state", _PHASE_STATE_MAX, phase_state_fn, &i, err, errlen)) < 0 ||
                    (r = get_int(o, "duration_ms", -1, INT64_MAX, &ev->phase_end.duration_ms, err, errlen)) < 0 ||
                    (r = dup_str(o, "message", true, &ev->phase_end.message, err, errlen)) < 0)
                        return r;
                ev->phase_end.state = (enum phase_state)i;
                return 0;
        case EV_ACTION_START:
                if ((r = get_i(o, "phase_index", -1, INT_MAX, &ev->action_start.phase_index, err, errlen)) < 0 ||
                    (r = dup_str(o, "type", false, &ev->action_start.type, err, errlen)) < 0 ||
                    (r = dup_str(o, "target", true, &ev->action_start.target, err, errlen)) < 0 ||
                    (r = dup_str(o, "title", false, &ev->action_start.title, err, errlen)) < 0)
                        return r;
                return 0;
        case EV_ACTION_END:
                if ((r = get_i(o, "phase_index", -1, INT_MAX, &ev->action_end.phase_index, err, errlen)) < 0 ||
                    (r = get_bool(o, "ok", &ev->action_end.ok, err, errlen)) < 0 ||
                    (r = get_int(o, "duration_ms", -1, INT64_MAX, &ev->action_end.duration_ms, err, errlen)) < 0 ||
                    (r = dup_str(o, "message", true, &ev->action_end.message, err, errlen)) < 0)
                        return r;
                return 0;
        case EV_PROGRESS:
                if ((r = get_double(o, "overall", 0, 1, &ev->progress.overall, err, errlen)) < 0 ||
                    (r = get_double(o, "phase", 0, 1, &ev->progress.phase, err, errlen)) < 0 ||
                    (r = get_i(o, "phase_index", -1, INT_MAX, &ev->progress.phase_index, err, errlen)) < 0 ||
                    (r = get_int(o, "elapsed_ms", 0, INT64_MAX, &ev->progress.elapsed_ms, err, errlen)) < 0 ||
                    (r = get_int(o, "eta_ms", -1, INT64_MAX, &ev->progress.eta_ms, err, errlen)) < 0 ||
                    (r = dup_str(o, "detail", true, &ev->progress.detail, err, errlen)) < 0)
                        return r;
                return 0;
        case EV_PROMPT:
                if ((r = get_i(o, "id", 1, INT_MAX, &ev->prompt.id, err, errlen)) < 0 ||
                    (r = get_enum(o, "kind", PROMPT_CONFIRM_ROLLBACK + 1, prompt_kind_fn, &i, err, errlen)) < 0 ||
                    (r = dup_str(o, "title", false, &ev->prompt.title, err, errlen)) < 0 ||
                    (r = dup_str(o, "message", false, &ev->prompt.message, err, errlen)) < 0 ||
                    (r = get_strv(o, "tail", &ev->prompt.tail, err, errlen)) < 0 ||
                    (r = get_strv(o, "undo", &ev->prompt.undo, err, errlen)) < 0)
                        return r;
                ev->prompt.kind = (enum prompt_kind)i;
                return 0;
        case EV_CREDENTIALS:
                if ((r = dup_str(o, "username", false, &ev->credentials.username, err, errlen)) < 0 ||
                    (r = dup_str(o, "host", false, &ev->credentials.host, err, errlen)) < 0 ||
                    (r = get_int(o, "rdp_port", 0, 65535, &x, err, errlen)) < 0)
                        return r;
                ev->credentials.rdp_port = (unsigned)x;
                if ((r = get_int(o, "ssh_port", 0, 65535, &x, err, errlen)) < 0)
                        return r;
                ev->credentials.ssh_port = (unsigned)x;
                {
                        struct json_object *l = member(o, "rdp_listen");
                        ev->credentials.rdp_localhost = l && json_object_is_type(l, json_type_string) &&
                                                        strcmp(json_object_get_string(l), "localhost") == 0;
                }
                if ((r = get_enum(o, "password_source", _CREDS_PW_MAX, creds_password_fn, &i, err, errlen)) < 0)
                        return r;
                ev->credentials.password_kind = (enum creds_password)i;
                return 0;
        case EV_SESSION_END:
                if ((r = get_enum(o, "status", _SESSION_STATUS_MAX, session_status_fn, &i, err, errlen)) < 0 ||
                    (r = get_i(o, "exit_code", 0, 255, &ev->session_end.exit_code, err, errlen)) < 0 ||
                    (r = dup_str(o, "message", false, &ev->session_end.message, err, errlen)) < 0 ||
                    (r = get_strv(o, "summary", &ev->session_end.summary, err, errlen)) < 0)
                        return r;
                {
                        struct json_object *sw = member(o, "settle_waiting");
                        ev->session_end.settle_waiting = sw && json_object_is_type(sw, json_type_boolean) &&
                                                         json_object_get_boolean(sw);
                }
                ev->session_end.status = (enum session_status)i;
                return 0;
        case EV_PLAN:
                if ((r = get_i(o, "phase_index", -1, INT_MAX, &ev->plan.phase_index, err, errlen)) < 0)
                        return r;
                return plan_from(o, ev, err, errlen);
        case EV_LOG:
                if ((r = get_enum(o, "level", _LOG_LEVEL_MAX, log_level_fn, &i, err, errlen)) < 0 ||
                    (r = get_i(o, "phase_index", -1, INT_MAX, &ev->log.phase_index, err, errlen)) < 0 ||
                    (r = dup_str(o, "text", false, &ev->log.text, err, errlen)) < 0 ||
                    (r = get_int(o, "dropped_before", 0, INT64_MAX, &x, err, errlen)) < 0)
                        return r;
                ev->log.level = (enum log_level)i;
                ev->log.dropped_before = (uint64_t)x;
                /* the run sends a read's worth of output lines as one
                 * event, its lines joined with '\n' */
                ev->log.lines = 1;
                for (const char *nl = strchr(ev->log.text, '\n'); nl; nl = strchr(nl + 1, '\n'))
                        ev->log.lines++;
                return 0;
        default:
                return -ENOMSG;
        }
}

int attach_event_from_json(struct json_object *o, struct event **ret, char *err, size_t errlen)
{
        const char *name;
        struct event *ev;
        int64_t seq = 0;
        int type, r;

        if (!o || !json_object_is_type(o, json_type_object))
                return bad(err, errlen, "not an object");
        r = get_str(o, "event", false, &name, err, errlen);
        if (r < 0)
                return r;
        type = enum_of(name, _EV_TYPE_MAX, event_type_fn);
        /* answers and cancels go the other way */
        if (type < 0 || type >= EV_ANSWER)
                return errorf(-ENOMSG, err, errlen, "unknown event \"%.40s\"", name);
        if (member(o, "seq") && (r = get_int(o, "seq", 0, INT64_MAX, &seq, err, errlen)) < 0)
                return r;
        ev = event_new((enum event_type)type);
        ev->seq = (uint64_t)seq;
        if (member(o, "time") && json_object_is_type(member(o, "time"), json_type_string))
                ev->time_ms = time_of(json_object_get_string(member(o, "time")));
        r = fields_from(o, ev, err, errlen);
        if (r < 0) {
                event_free(ev);
                return r;
        }
        *ret = ev;
        return 0;
}

/* ---- client: one server line -------------------------------------------- */

/* A JSON string starting at p (after its opening quote), up to end:
 * decodes it into dst (NULL: only counts) and returns the number of bytes
 * it took from p including the closing quote, or -1. Only code points
 * below U+0080 may be escaped as \u (the server escapes nothing else in a
 * password). *ret_len is the decoded length. */
static ssize_t decode_jstring(const char *p, const char *end, char *dst, size_t *ret_len)
{
        const char *s = p;
        size_t n = 0;

        while (s < end && *s != '"') {
                unsigned char c = (unsigned char)*s, out;
                if (c < 0x20)
                        return -1;
                if (c != '\\') {
                        out = c;
                        s++;
                } else if (end - s < 2) {
                        return -1;
                } else if (s[1] == 'u') {
                        unsigned v = 0;
                        if (end - s < 6)
                                return -1;
                        for (int i = 2; i < 6; i++) {
                                char h = s[i];
                                v <<= 4;
                                if (h >= '0' && h <= '9')
                                        v |= (unsigned)(h - '0');
                                else if (h >= 'a' && h <= 'f')
                                        v |= (unsigned)(h - 'a' + 10);
                                else if (h >= 'A' && h <= 'F')
                                        v |= (unsigned)(h - 'A' + 10);
                                else
                                        return -1;
                        }
                        if (v == 0 || v >= 0x80)
                                return -1;
                        out = (unsigned char)v;
                        s += 6;
                } else {
                        const char *from = "\"\\/bfnrt", *to = "\"\\/\b\f\n\r\t";
                        const char *k = s[1] ? strchr(from, s[1]) : NULL;
                        if (!k)
                                return -1;
                        out = (unsigned char)to[k - from];
                        s += 2;
                }
                if (dst)
                        dst[n] = (char)out;
                n++;
        }
        if (s >= end)
                return -1;
        *ret_len = n;
        return s - p + 1;
}

/* Takes the credentials line's password out of line (see DESIGN): 0 with
 * *ret (NULL for "password":null) and *ret_mask_len, the length of the run
 * of 'x' left in its place; -EBADMSG or -ENOMEM. The line keeps its
 * length: what the escapes took is blanked at its end. */
static int take_password(char *line, size_t len, struct secret **ret, size_t *ret_mask_len)
{
        static const char key[] = "\"password\":";
        char *at = memmem(line, len, key, sizeof(key) - 1), *v, *end = line + len;
        struct secret *s = NULL;
        size_t pw_len = 0, raw;
        ssize_t used;

        *ret = NULL;
        *ret_mask_len = 0;
        if (!at)
                return -EBADMSG;
        v = at + sizeof(key) - 1;
        if (end - v >= 4 && memcmp(v, "null", 4) == 0)
                return 0;
        if (v >= end || *v != '"')
                return -EBADMSG;
        v++;
        used = decode_jstring(v, end, NULL, &pw_len);
        if (used < 1)
                return -EBADMSG;
        if (secret_alloc(pw_len, &s) < 0)
                return -ENOMEM;
        (void)decode_jstring(v, end, secret_buffer(s), &pw_len);
        raw = (size_t)used - 1;
        memset(v, 'x', raw);
        if (raw > pw_len) {
                memmove(v + pw_len, v + raw, (size_t)(end - (v + raw)));
                memset(end - (raw - pw_len), ' ', raw - pw_len);
        }
        *ret = s;
        *ret_mask_len = pw_len;
        return 0;
}

static bool is_event(const char *line, size_t len, const char *name)
{
        char want[48];
        int n = snprintf(want, sizeof(want), "\"event\":\"%s\"", name);
        return n > 0 && memmem(line, len, want, (size_t)n) != NULL;
}

static int hello_from(struct json_object *o, struct attach_hello *h, char *err, size_t errlen)
{
        const char *s;
        int64_t pid;
        int r;

        *h = (struct attach_hello){ 0 };
        if ((r = get_i(o, "proto", 1, INT_MAX, &h->proto, err, errlen)) < 0 ||
            (r = get_int(o, "pid", 1, INT_MAX, &pid, err, errlen)) < 0 ||
            (r = get_bool(o, "ended", &h->ended, err, errlen)) < 0 ||
            (r = get_i(o, "exit_code", 0, 255, &h->exit_code, err, errlen)) < 0 ||
            (r = get_bool(o, "credentials_waiting", &h->credentials_waiting, err, errlen)) < 0 ||
            (r = get_bool(o, "has_controller", &h->has_controller, err, errlen)) < 0)
                return r;
        h->pid = (pid_t)pid;
        if ((r = get_str(o, "version", true, &s, err, errlen)) < 0)
                return r;
        strscpy(h->version, sizeof(h->version), s ? s : "");
        if ((r = get_str(o, "session_id", true, &s, err, errlen)) < 0)
                return r;
        strscpy(h->session_id, sizeof(h->session_id), s ? s : "");
        if ((r = get_str(o, "mode", true, &s, err, errlen)) < 0)
                return r;
        strscpy(h->mode, sizeof(h->mode), s ? s : "");
        return 0;
}

int attach_msg_parse(char *line, size_t len, struct attach_msg *ret, char *err, size_t errlen)
{
        struct json_object *o = NULL;
        struct attach_msg m = { 0 };
        struct secret *pw = NULL;
        size_t mask_len = 0;
        const char *name, *s;
        char jerr[160];
        int r;

        if (len > ATTACH_LINE_MAX)
                return bad(err, errlen, "a line is longer than %u bytes", ATTACH_LINE_MAX);
        if (is_event(line, len, "credentials")) {
                r = take_password(line, len, &pw, &mask_len);
                if (r < 0)
                        return r == -ENOMEM ? r : bad(err, errlen, "the credentials' password is not a JSON string");
        }
        if (json_parse_strict(line, len, &o, jerr, sizeof(jerr)) < 0) {
                r = bad(err, errlen, "%s", jerr);
                goto out;
        }
        r = get_str(o, "event", false, &name, err, errlen);
        if (r < 0)
                goto out;
        if (strcmp(name, "hello") == 0) {
                m.type = ATTACH_MSG_HELLO;
                r = hello_from(o, &m.hello, err, errlen);
        } else if (strcmp(name, "role") == 0) {
                m.type = ATTACH_MSG_ROLE;
                r = get_str(o, "role", false, &s, err, errlen);
                if (r == 0 && strcmp(s, "control") != 0 && strcmp(s, "watch") != 0)
                        r = bad(err, errlen, "\"role\" is control or watch");
                m.control = r == 0 && strcmp(s, "control") == 0;
        } else if (strcmp(name, "replay_end") == 0) {
                m.type = ATTACH_MSG_REPLAY_END;
        } else if (strcmp(name, "refused") == 0 || strcmp(name, "bye") == 0) {
                m.type = name[0] == 'r' ? ATTACH_MSG_REFUSED : ATTACH_MSG_BYE;
                r = get_str(o, "reason", false, &s, err, errlen);
                if (r == 0)
                        strscpy(m.text, sizeof(m.text), s);
        } else {
                m.type = ATTACH_MSG_EVENT;
                r = attach_event_from_json(o, &m.ev, err, errlen);
                if (r == 0 && m.ev->type == EV_CREDENTIALS) {
                        const char *got = NULL;
                        bool same = pw ? (get_str(o, "password", false, &got, NULL, 0) == 0 &&
                                          strlen(got) == mask_len &&
                                          strspn(got, "x") == mask_len)
                                       : !member(o, "password") ||
                                                 json_object_is_type(member(o, "password"), json_type_null);
                        if (!same) {
                                r = bad(err, errlen, "the credentials' password is not where it belongs");
                                event_free(m.ev);
                                m.ev = NULL;
                                goto out;
                        }
                        m.ev->credentials.password = TAKE_PTR(pw);
                }
        }
        if (r == 0)
                *ret = m;
out:
        json_object_put(o);
        secret_free(pw);
        return r;
}
