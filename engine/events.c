/* events.c — see events.h.
 *
 * event_to_json() writes {"v":1,"event":"phase_start","time":"…Z","seq":N, …}
 * with the type's fields in snake_case after those four. NULL strings
 * become JSON null; bytes that are not well-formed UTF-8 become U+FFFD, so
 * the output is always valid JSON whatever a child printed.
 *
 * The preflight event's facts and checks use the data model's JSON of
 * preflight.c and check.c. */
#include "events.h"

#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "answers.h"
#include "secret.h"

static const char *const type_names[_EV_TYPE_MAX] = {
        [EV_SESSION_START] = "session_start",
        [EV_PREFLIGHT] = "preflight",
        [EV_PHASE_START] = "phase_start",
        [EV_PHASE_END] = "phase_end",
        [EV_ACTION_START] = "action_start",
        [EV_ACTION_END] = "action_end",
        [EV_PROGRESS] = "progress",
        [EV_PROMPT] = "prompt",
        [EV_CREDENTIALS] = "credentials",
        [EV_SESSION_END] = "session_end",
        [EV_PLAN] = "plan",
        [EV_LOG] = "log",
        [EV_ANSWER] = "answer",
        [EV_CANCEL] = "cancel",
        [EV_CREDENTIALS_SAVED] = "credentials_saved",
        [EV_SSH_PORT_CONFIRMED] = "ssh_port_confirmed",
};

static const char *const phase_state_names[_PHASE_STATE_MAX] = {
        [PHASE_PENDING] = "pending",
        [PHASE_RUNNING] = "running",
        [PHASE_DONE] = "done",
        [PHASE_SKIPPED] = "skipped",
        [PHASE_FAILED] = "failed",
        [PHASE_ROLLED_BACK] = "rolled-back",
        [PHASE_DISABLED] = "disabled",
};

const char *const session_status_names[_SESSION_STATUS_MAX] = {
        [SESSION_INITIALIZING] = "INITIALIZING",
        [SESSION_IN_PROGRESS] = "IN_PROGRESS",
        [SESSION_COMPLETED] = "COMPLETED",
        [SESSION_FAILED] = "FAILED",
        [SESSION_ROLLED_BACK] = "ROLLED_BACK",
};

const char *const session_mode_names[_SESSION_MODE_MAX] = {
        [MODE_PROVISION] = "provision",
        [MODE_DRY_RUN] = "dry-run",
        [MODE_RESUME] = "resume",
        [MODE_ROLLBACK] = "rollback",
};

struct event *event_new(enum event_type type)
{
        struct event *ev = xcalloc(1, sizeof(*ev));

        ev->type = type;
        ev->time_ms = wall_ms();
        switch (type) {
        case EV_LOG:
                ev->log.level = LOG_INFO;
                ev->log.phase_index = -1;
                ev->log.lines = 1;
                break;
        case EV_PROGRESS:
                ev->progress.phase_index = -1;
                ev->progress.eta_ms = -1;
                break;
        default:
                break;
        }
        return ev;
}

struct ev_phase_info *ev_phases_copy(const struct ev_phase_info *v, size_t n)
{
        struct ev_phase_info *c = xcalloc(n + 1, sizeof(*c));

        for (size_t i = 0; i < n; i++) {
                c[i] = v[i];
                c[i].id = xstrdup(v[i].id);
                c[i].title = xstrdup(v[i].title);
        }
        return c;
}

void ev_phases_free(struct ev_phase_info *v, size_t n)
{
        for (size_t i = 0; v && i < n; i++) {
                free(v[i].id);
                free(v[i].title);
        }
        free(v);
}

void event_free(struct event *ev)
{
        if (!ev)
                return;
        switch (ev->type) {
        case EV_SESSION_START:
                free(ev->session.session_id);
                free(ev->session.log_path);
                free(ev->session.session_path);
                ev_phases_free(ev->session.phases, ev->session.n_phases);
                break;
        case EV_PREFLIGHT:
                check_list_release(&ev->preflight.checks);
                break;
        case EV_PHASE_START:
                free(ev->phase_start.id);
                free(ev->phase_start.title);
                break;
        case EV_PHASE_END:
                free(ev->phase_end.id);
                free(ev->phase_end.message);
                break;
        case EV_ACTION_START:
                free(ev->action_start.type);
                free(ev->action_start.target);
                free(ev->action_start.title);
                break;
        case EV_ACTION_END:
                free(ev->action_end.message);
                break;
        case EV_PROGRESS:
                free(ev->progress.detail);
                break;
        case EV_PROMPT:
                free(ev->prompt.title);
                free(ev->prompt.message);
                strv_free(ev->prompt.tail);
                strv_free(ev->prompt.undo);
                break;
        case EV_CREDENTIALS:
                free(ev->credentials.username);
                secret_free(ev->credentials.password);   /* wipes */
                free(ev->credentials.password_to);
                free(ev->credentials.host);
                break;
        case EV_SESSION_END:
                free(ev->session_end.message);
                strv_free(ev->session_end.summary);
                break;
        case EV_PLAN:
                strv_free(ev->plan.steps);
                break;
        case EV_LOG:
                free(ev->log.text);
                break;
        case EV_ANSWER:
        case EV_CANCEL:
        case EV_CREDENTIALS_SAVED:
        case EV_SSH_PORT_CONFIRMED:
        case _EV_TYPE_MAX:
                break;
        }
        free(ev);
}

bool event_is_droppable(const struct event *ev)
{
        return ev && ev->type == EV_LOG;
}

const char *event_type_name(enum event_type t)
{
        if ((int)t < 0 || t >= _EV_TYPE_MAX)
                return "unknown";
        return type_names[t];
}

const char *phase_state_name(enum phase_state s)
{
        if ((int)s < 0 || s >= _PHASE_STATE_MAX)
                return "unknown";
        return phase_state_names[s];
}

const char *session_status_name(enum session_status s)
{
        if ((int)s < 0 || s >= _SESSION_STATUS_MAX)
                return "UNKNOWN";
        return session_status_names[s];
}

const char *prompt_choice_name(enum prompt_choice c)
{
        switch (c) {
        case CHOICE_NONE:
                return "none";
        case CHOICE_RETRY:
                return "retry";
        case CHOICE_ROLLBACK:
                return "rollback";
        case CHOICE_KEEP:
                return "keep";
        }
        return "unknown";
}

const char *session_mode_name(enum session_mode m)
{
        if ((int)m < 0 || m >= _SESSION_MODE_MAX)
                return "unknown";
        return session_mode_names[m];
}

const char *creds_password_name(enum creds_password k)
{
        switch (k) {
        case CREDS_PW_GENERATED:
                return "generated";
        case CREDS_PW_FROM_HASH:
                return "password_hash";
        case CREDS_PW_UNCHANGED:
                return "unchanged";
        case _CREDS_PW_MAX:
                break;
        }
        return "unknown";
}

char *creds_password_note(const struct event *ev)
{
        if (ev->credentials.password)
                return NULL;
        if (ev->credentials.password_to)
                return xasprintf("(written to %s)", ev->credentials.password_to);
        switch (ev->credentials.password_kind) {
        case CREDS_PW_FROM_HASH:
                return xstrdup("(from the answers file's password_hash)");
        case CREDS_PW_UNCHANGED:
                return xstrdup("(unchanged: the account keeps its password)");
        case CREDS_PW_GENERATED:
        case _CREDS_PW_MAX:
                break;
        }
        return xasprintf("(generated but lost: set one with \"passwd %s\")",
                         ev->credentials.username ? ev->credentials.username : "USER");
}

const char *prompt_kind_name(enum prompt_kind k)
{
        switch (k) {
        case PROMPT_PHASE_FAILED:
                return "phase_failed";
        case PROMPT_CONFIRM_ROLLBACK:
                return "confirm_rollback";
        }
        return "unknown";
}

/* A JSON string for s (NULL → null), bad UTF-8 bytes replaced by U+FFFD. */
static struct json_object *jstr(const char *s)
{
        size_t len;
        struct buf b;
        struct json_object *o;

        if (!s)
                return NULL;
        len = strlen(s);
        if (utf8_valid(s, len))
                return json_object_new_string_len(s, (int)len);
        buf_init(&b, SIZE_MAX);
        for (size_t i = 0; i < len;) {
                const unsigned char *p = (const unsigned char *)s + i;
                size_t k = utf8_char_len(s + i, len - i);
                if (k == 0) {
                        buf_append(&b, "\xef\xbf\xbd", 3);
                        i++;
                } else {
                        buf_append(&b, p, k);
                        i += k;
                }
        }
        o = json_object_new_string_len(b.data, (int)b.len);
        buf_release(&b);
        return o;
}

/* A JSON array of the strings of a strv (NULL → []). */
static struct json_object *jstrv(char *const *v)
{
        struct json_object *a = json_object_new_array();
        for (size_t i = 0; v && v[i]; i++)
                json_object_array_add(a, jstr(v[i]));
        return a;
}

/* "2026-11-22T10:15:00.123Z" */
static void iso8601_ms(int64_t ms, char ret[ISO8601_MAX])
{
        int64_t sec = ms / 1000, frac = ms % 1000;
        time_t t;
        struct tm tm;
        char base[ISO8601_MAX];

        if (frac < 0) {
                frac += 1000;
                sec--;
        }
        t = (time_t)sec;
        gmtime_r(&t, &tm);
        if (strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm) == 0)
                base[0] = '\0';
        if (snprintf(ret, ISO8601_MAX, "%s.%03dZ", base, (int)frac) >= ISO8601_MAX)
                ret[0] = '\0';
}

static void add(struct json_object *o, const char *key, struct json_object *v)
{
        json_object_object_add(o, key, v);
}

static void add_str(struct json_object *o, const char *key, const char *s)
{
        add(o, key, jstr(s));
}

static void add_int(struct json_object *o, const char *key, int64_t v)
{
        add(o, key, json_object_new_int64(v));
}

static void add_bool(struct json_object *o, const char *key, bool v)
{
        add(o, key, json_object_new_boolean(v));
}

static void add_double(struct json_object *o, const char *key, double v)
{
        add(o, key, json_object_new_double(v));
}

/* The choices a prompt of this kind offers, in the order they are shown. */
static struct json_object *choices_json(enum prompt_kind k)
{
        struct json_object *a = json_object_new_array();

        if (k == PROMPT_PHASE_FAILED)
                json_object_array_add(a, json_object_new_string(prompt_choice_name(CHOICE_RETRY)));
        json_object_array_add(a, json_object_new_string(prompt_choice_name(CHOICE_ROLLBACK)));
        json_object_array_add(a, json_object_new_string(prompt_choice_name(CHOICE_KEEP)));
        return a;
}

struct json_object *event_to_json(const struct event *ev)
{
        struct json_object *o;
        char ts[ISO8601_MAX];

        if (!ev)
                return NULL;
        o = json_object_new_object();
        iso8601_ms(ev->time_ms, ts);
        add_int(o, "v", EVENT_FORMAT_VERSION);
        add_str(o, "event", event_type_name(ev->type));
        add_str(o, "time", ts);
        add(o, "seq", json_object_new_uint64(ev->seq));

        switch (ev->type) {
        case EV_SESSION_START: {
                struct json_object *a = json_object_new_array();
                add_str(o, "session_id", ev->session.session_id);
                add_str(o, "mode", session_mode_name(ev->session.mode));
                add_str(o, "log_path", ev->session.log_path);
                add_str(o, "session_path", ev->session.session_path);
                for (size_t i = 0; ev->session.phases && i < ev->session.n_phases; i++) {
                        const struct ev_phase_info *p = &ev->session.phases[i];
                        struct json_object *po = json_object_new_object();
                        add_str(po, "id", p->id);
                        add_str(po, "title", p->title);
                        add_int(po, "weight", p->weight);
                        add_str(po, "state", phase_state_name(p->state));
                        json_object_array_add(a, po);
                }
                add(o, "phases", a);
                break;
        }
        case EV_PREFLIGHT:
                add(o, "info", vps_info_to_json(&ev->preflight.info));
                add(o, "checks", check_list_checks_json(&ev->preflight.checks));
                add_bool(o, "refused", ev->preflight.refused);
                break;
        case EV_PHASE_START:
                add_int(o, "index", ev->phase_start.index);
                add_str(o, "id", ev->phase_start.id);
                add_str(o, "title", ev->phase_start.title);
                break;
        case EV_PHASE_END:
                add_int(o, "index", ev->phase_end.index);
                add_str(o, "id", ev->phase_end.id);
                add_str(o, "state", phase_state_name(ev->phase_end.state));
                add_int(o, "duration_ms", ev->phase_end.duration_ms);
                add_str(o, "message", ev->phase_end.message);
                break;
        case EV_ACTION_START:
                add_int(o, "phase_index", ev->action_start.phase_index);
                add_str(o, "type", ev->action_start.type);
                add_str(o, "target", ev->action_start.target);
                add_str(o, "title", ev->action_start.title);
                break;
        case EV_ACTION_END:
                add_int(o, "phase_index", ev->action_end.phase_index);
                add_bool(o, "ok", ev->action_end.ok);
                add_int(o, "duration_ms", ev->action_end.duration_ms);
                add_str(o, "message", ev->action_end.message);
                break;
        case EV_PROGRESS:
                add_double(o, "overall", ev->progress.overall);
                add_double(o, "phase", ev->progress.phase);
                add_int(o, "phase_index", ev->progress.phase_index);
                add_int(o, "elapsed_ms", ev->progress.elapsed_ms);
                add_int(o, "eta_ms", ev->progress.eta_ms);
                add_str(o, "detail", ev->progress.detail);
                break;
        case EV_PROMPT:
                add_int(o, "id", ev->prompt.id);
                add_str(o, "kind", prompt_kind_name(ev->prompt.kind));
                add(o, "choices", choices_json(ev->prompt.kind));
                add_str(o, "title", ev->prompt.title);
                add_str(o, "message", ev->prompt.message);
                add(o, "tail", jstrv(ev->prompt.tail));
                add(o, "undo", jstrv(ev->prompt.undo));
                break;
        case EV_CREDENTIALS:
                add_str(o, "username", ev->credentials.username);
                /* as it is: a password is shown exactly, never "repaired" */
                add(o, "password", ev->credentials.password
                                           ? json_object_new_string_len(
                                                     secret_str(ev->credentials.password),
                                                     (int)secret_len(ev->credentials.password))
                                           : NULL);
                add_str(o, "password_source", creds_password_name(ev->credentials.password_kind));
                if (ev->credentials.password_to)
                        add_str(o, "password_to", ev->credentials.password_to);
                add_str(o, "host", ev->credentials.host);
                add_int(o, "rdp_port", ev->credentials.rdp_port);
                add_int(o, "ssh_port", ev->credentials.ssh_port);
                add_str(o, "rdp_listen", ev->credentials.rdp_localhost ? "localhost" : "all");
                if (ev->credentials.rdp_localhost) {
                        _cleanup_free_ char *t = answers_rdp_tunnel(ev->credentials.rdp_port,
                                                                    ev->credentials.ssh_port,
                                                                    ev->credentials.host);
                        add_str(o, "rdp_tunnel", t);
                }
                break;
        case EV_SESSION_END:
                add_str(o, "status", session_status_name(ev->session_end.status));
                add_int(o, "exit_code", ev->session_end.exit_code);
                add_str(o, "message", ev->session_end.message);
                add(o, "summary", jstrv(ev->session_end.summary));
                add(o, "settle_waiting", json_object_new_boolean(ev->session_end.settle_waiting));
                break;
        case EV_PLAN: {
                /* each step "TYPE\ttarget\tdescription" as an object */
                struct json_object *steps = json_object_new_array();
                for (size_t i = 0; ev->plan.steps && ev->plan.steps[i]; i++) {
                        const char *s1 = ev->plan.steps[i], *t1 = strchr(s1, '\t');
                        const char *t2 = t1 ? strchr(t1 + 1, '\t') : NULL;
                        struct json_object *st = json_object_new_object();
                        if (t1 && t2) {
                                json_object_object_add(st, "action_type",
                                                       json_object_new_string_len(s1, (int)(t1 - s1)));
                                json_object_object_add(st, "target",
                                                       json_object_new_string_len(t1 + 1, (int)(t2 - t1 - 1)));
                                json_object_object_add(st, "description", json_object_new_string(t2 + 1));
                        } else
                                json_object_object_add(st, "description", json_object_new_string(s1));
                        json_object_array_add(steps, st);
                }
                add_int(o, "phase_index", ev->plan.phase_index);
                add(o, "steps", steps);
                break;
        }
        case EV_LOG:
                add_str(o, "level", log_level_name(ev->log.level));
                add_int(o, "phase_index", ev->log.phase_index);
                add_str(o, "text", ev->log.text);
                add(o, "dropped_before", json_object_new_uint64(ev->log.dropped_before));
                break;
        case EV_ANSWER:
                add_int(o, "prompt_id", ev->answer.prompt_id);
                add_str(o, "choice", prompt_choice_name(ev->answer.choice));
                break;
        case EV_CANCEL:
        case EV_CREDENTIALS_SAVED:
        case EV_SSH_PORT_CONFIRMED:
        case _EV_TYPE_MAX:
                break;
        }
        return o;
}
