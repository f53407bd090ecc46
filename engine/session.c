/* session.c — see session.h.
 *
 * DESIGN: session_to_json() writes the data model's ProvisioningSession
 * (field names as in the data model: session_id, start_time, phases[…],
 * vps_info{…}, developer_user{…}, ide_installations[…]) plus what a later
 * run needs: mode, tool_version, resumed_from, journal_path, log_path,
 * exit_code, credentials (whether a generated password was ever seen;
 * never the password) and "configuration" (the answers, without any
 * password field).
 * Empty time stamps and NULL strings are written as null. Enum values use
 * the data model's upper-case names (status "COMPLETED", installation_method
 * "APT_REPOSITORY"); answers enums use their answers.ini spelling.
 *
 * session_from_json() reads back everything session_to_json() writes; a
 * member of the wrong type, an unknown enum name or a string too long for
 * its field makes the whole document invalid (-EBADMSG). Members that are
 * missing keep their session_init() value, so older files still load.
 *
 * The answers are written field by field here, and vps_info has its own
 * static (de)serializer, because answers.c and preflight.c are other
 * modules; the duplicates can go once those are merged. */
#include "session.h"

#include <dirent.h>
#include <errno.h>
#include <json-c/json.h>
#include <libgen.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "json_strict.h"

#define SESSION_FILE_MAX ((size_t)16 << 20)

/* ---- names ------------------------------------------------------------- */

/* The session's status and mode use events.h's tables (session_status_names,
 * session_mode_names): the UI shows the same words the file holds. */

static const char *const phase_status_names[_PHASE_STATE_MAX] = {
        [PHASE_PENDING] = "PENDING",
        [PHASE_RUNNING] = "RUNNING",
        [PHASE_DONE] = "COMPLETED",
        [PHASE_SKIPPED] = "SKIPPED",
        [PHASE_FAILED] = "FAILED",
        [PHASE_ROLLED_BACK] = "ROLLED_BACK",
        /* the data model has no such status: a phase the answers turned
         * off is written as SKIPPED with "skip_reason": "disabled" */
        [PHASE_DISABLED] = "SKIPPED",
};

static const char *const action_status_names[] = {
        [ACTION_PENDING] = "PENDING",
        [ACTION_COMPLETED] = "COMPLETED",
        [ACTION_FAILED] = "FAILED",
};

const char *const credentials_state_names[_CREDENTIALS_STATE_MAX] = {
        [CREDENTIALS_NONE] = "none",
        [CREDENTIALS_UNSEEN] = "unseen",
        [CREDENTIALS_SHOWN] = "shown",
        [CREDENTIALS_WIPED] = "wiped",
};

static const char *const ide_method_names[] = {
        [IDE_METHOD_APT_REPOSITORY] = "APT_REPOSITORY",
        [IDE_METHOD_DEB_PACKAGE] = "DEB_PACKAGE",
        [IDE_METHOD_APPIMAGE] = "APPIMAGE",
        [IDE_METHOD_SNAP] = "SNAP",
};

static const char *name_of(const char *const *table, size_t n, unsigned v)
{
        return v < n && table[v] ? table[v] : "UNKNOWN";
}

#define NAME_OF(table, v) name_of((table), ELEMENTSOF(table), (unsigned)(v))

/* ---- ids --------------------------------------------------------------- */

/* YYYYMMDD-HHMMSS, optionally followed by -N (N = 2..9999, no leading 0). */
static bool session_id_valid(const char *s)
{
        size_t n = strlen(s);

        if (n < 15)
                return false;
        for (size_t i = 0; i < 15; i++) {
                if (i == 8) {
                        if (s[i] != '-')
                                return false;
                } else if (s[i] < '0' || s[i] > '9')
                        return false;
        }
        if (n == 15)
                return true;
        if (s[15] != '-' || n > 20 || s[16] < '1' || s[16] > '9')
                return false;
        for (size_t i = 17; i < n; i++)
                if (s[i] < '0' || s[i] > '9')
                        return false;
        return true;
}

/* The -N suffix of a valid id (1 when none). */
static long session_id_suffix(const char *s)
{
        long v = 1;

        if (s[15] == '-' && parse_long(s + 16, 1, 9999, &v) < 0)
                v = 1;
        return v;
}

/* Orders ids oldest first: by time stamp, then by suffix. */
static int session_id_cmp(const char *a, const char *b)
{
        int c = strncmp(a, b, 15);
        long x, y;

        if (c != 0)
                return c;
        x = session_id_suffix(a);
        y = session_id_suffix(b);
        return x < y ? -1 : x > y;
}

/* A new id from the wall clock (UTC). */
void session_new_id(char ret[SESSION_ID_MAX])
{
        time_t t = time(NULL);
        struct tm tm;

        gmtime_r(&t, &tm);
        strftime(ret, SESSION_ID_MAX, "%Y%m%d-%H%M%S", &tm);
}

/* A new id not yet used by a session file in dir. */
int session_new_unique_id(const char *dir, char ret[SESSION_ID_MAX])
{
        char base[SESSION_ID_MAX], id[SESSION_ID_MAX], path[PATH_MAX];
        int r;

        session_new_id(base);
        for (unsigned n = 1; n <= 9999; n++) {
                int w = n == 1 ? snprintf(id, sizeof(id), "%.15s", base)
                               : snprintf(id, sizeof(id), "%.15s-%u", base, n);
                if (w < 0 || (size_t)w >= sizeof(id))
                        return -ENAMETOOLONG;
                r = session_path(dir, id, path, sizeof(path));
                if (r < 0)
                        return r;
                if (!path_exists(path)) {
                        memcpy(ret, id, SESSION_ID_MAX);
                        return 0;
                }
        }
        return -EEXIST;
}

/* ---- in memory --------------------------------------------------------- */

/* An empty session that starts now. */
void session_init(struct session *s, const char *id)
{
        *s = (struct session){ 0 };
        strscpy(s->session_id, sizeof(s->session_id), id ? id : "");
        iso8601_now(s->start_time);
        s->status = SESSION_INITIALIZING;
        s->mode = MODE_PROVISION;
        s->developer_user.uid = -1;
        s->developer_user.gid = -1;
        answers_init(&s->answers);   /* the defaults, so a bare session reads back */
}

/* Frees what an action owns. */
static void action_release(struct session_action *a)
{
        free(a->type);
        free(a->target);
        free(a->output);
        free(a->undo);
}

/* Frees what a phase owns, its actions included. */
static void phase_release(struct session_phase *p)
{
        free(p->name);
        for (size_t i = 0; i < p->n_actions; i++)
                action_release(&p->actions[i]);
        free(p->actions);
        free(p->error_message);
}

/* Frees what an IDE record owns. */
static void ide_release(struct session_ide *d)
{
        free(d->ide_name);
        free(d->version);
        free(d->installation_path);
        free(d->executable_path);
        free(d->desktop_launcher_path);
        free(d->command_name);
        strv_free(d->verification_errors);
}

/* Frees everything the session owns and zeroes it (safe to call twice). */
void session_release(struct session *s)
{
        if (!s)
                return;
        free(s->error_details);
        free(s->tool_version);
        free(s->resumed_from);
        for (size_t i = 0; i < s->n_phases; i++)
                phase_release(&s->phases[i]);
        free(s->phases);
        strv_free(s->developer_user.groups);
        for (size_t i = 0; i < s->n_ides; i++)
                ide_release(&s->ides[i]);
        free(s->ides);
        free(s->journal_path);
        free(s->log_path);
        wipe(&s->answers, sizeof(s->answers));   /* it may hold a password hash */
        *s = (struct session){ 0 };
}

/* Pointers returned by the add functions stay valid until the next add to
 * the same array. */
struct session_phase *session_add_phase(struct session *s, const char *name)
{
        struct session_phase *p;

        s->phases = xrealloc(s->phases, (s->n_phases + 1) * sizeof(*s->phases));
        p = &s->phases[s->n_phases++];
        *p = (struct session_phase){ .name = xstrdup(name), .status = PHASE_PENDING };
        return p;
}

/* The phase named name, or NULL. */
struct session_phase *session_find_phase(struct session *s, const char *name)
{
        for (size_t i = 0; i < s->n_phases; i++)
                if (s->phases[i].name && strcmp(s->phases[i].name, name) == 0)
                        return &s->phases[i];
        return NULL;
}

/* A new PENDING action time-stamped now. */
struct session_action *session_phase_add_action(struct session_phase *p, const char *type,
                                                const char *target)
{
        struct session_action *a;

        p->actions = xrealloc(p->actions, (p->n_actions + 1) * sizeof(*p->actions));
        a = &p->actions[p->n_actions++];
        *a = (struct session_action){
                .type = xstrdup(type),
                .target = target ? xstrdup(target) : NULL,
                .status = ACTION_PENDING,
        };
        iso8601_now(a->timestamp);
        return a;
}

/* A new IDE record (installation method APT_REPOSITORY until set). */
struct session_ide *session_set_ide(struct session *s, const char *ide_name)
{
        for (size_t i = 0; i < s->n_ides; i++)
                if (s->ides[i].ide_name && strcmp(s->ides[i].ide_name, ide_name) == 0) {
                        ide_release(&s->ides[i]);
                        s->ides[i] = (struct session_ide){
                                .ide_name = xstrdup(ide_name),
                                .installation_method = IDE_METHOD_APT_REPOSITORY,
                        };
                        return &s->ides[i];
                }
        return session_add_ide(s, ide_name);
}

struct session_ide *session_add_ide(struct session *s, const char *ide_name)
{
        struct session_ide *d;

        s->ides = xrealloc(s->ides, (s->n_ides + 1) * sizeof(*s->ides));
        d = &s->ides[s->n_ides++];
        *d = (struct session_ide){
                .ide_name = xstrdup(ide_name),
                .installation_method = IDE_METHOD_APT_REPOSITORY,
        };
        return d;
}

/* ---- writing JSON ------------------------------------------------------ */

/* A string member; NULL is written as null. */
static void add_str(struct json_object *o, const char *key, const char *s)
{
        json_object_object_add(o, key, s ? json_object_new_string(s) : NULL);
}

/* A fixed-size text field: "" is written as null (not set). */
static void add_text(struct json_object *o, const char *key, const char *s)
{
        add_str(o, key, s[0] ? s : NULL);
}

/* An integer member. */
static void add_int(struct json_object *o, const char *key, int64_t v)
{
        json_object_object_add(o, key, json_object_new_int64(v));
}

/* A boolean member. */
static void add_bool(struct json_object *o, const char *key, bool v)
{
        json_object_object_add(o, key, json_object_new_boolean(v));
}

/* A strv as an array of strings ([] for NULL). */
static struct json_object *strv_to_json(char *const *v)
{
        struct json_object *a = json_object_new_array();

        for (size_t i = 0; v && v[i]; i++)
                json_object_array_add(a, json_object_new_string(v[i]));
        return a;
}

/* The data model's ProvisioningAction. */
static struct json_object *action_to_json(const struct session_action *a)
{
        struct json_object *o = json_object_new_object();

        add_str(o, "action_type", a->type);
        add_str(o, "target", a->target);
        add_str(o, "status", NAME_OF(action_status_names, a->status));
        add_text(o, "timestamp", a->timestamp);
        add_str(o, "output", a->output);
        add_int(o, "journal_seq", a->journal_seq);
        add_str(o, "undo", a->undo);
        return o;
}

/* The data model's PhaseExecution. */
static struct json_object *phase_to_json(const struct session_phase *p)
{
        struct json_object *o = json_object_new_object();
        struct json_object *actions = json_object_new_array();

        add_str(o, "phase_name", p->name);
        add_str(o, "status", NAME_OF(phase_status_names, p->status));
        if (p->status == PHASE_DISABLED)
                add_str(o, "skip_reason", "disabled");
        else if (p->status == PHASE_SKIPPED)
                add_str(o, "skip_reason", "checkpoint");
        add_text(o, "start_time", p->start_time);
        add_text(o, "end_time", p->end_time);
        add_int(o, "duration_seconds", p->duration_seconds);
        add_bool(o, "checkpoint_exists", p->checkpoint_exists);
        for (size_t i = 0; i < p->n_actions; i++)
                json_object_array_add(actions, action_to_json(&p->actions[i]));
        json_object_object_add(o, "actions", actions);
        add_str(o, "error_message", p->error_message);
        return o;
}

/* The data model's DeveloperUser without any password field. */
static struct json_object *user_to_json(const struct session_user *u)
{
        struct json_object *o = json_object_new_object();

        add_str(o, "username", u->username);
        add_text(o, "full_name", u->full_name);
        add_int(o, "uid", u->uid);
        add_int(o, "gid", u->gid);
        add_text(o, "home_directory", u->home_directory);
        add_text(o, "shell", u->shell);
        json_object_object_add(o, "groups", strv_to_json(u->groups));
        add_bool(o, "password_expires", u->password_expires);
        add_bool(o, "ssh_key_auth_enabled", u->ssh_key_auth_enabled);
        add_text(o, "created_at", u->created_at);
        return o;
}

/* The data model's IDEInstallation. */
static struct json_object *ide_to_json(const struct session_ide *d)
{
        struct json_object *o = json_object_new_object();

        add_str(o, "ide_name", d->ide_name);
        add_str(o, "version", d->version);
        add_str(o, "installation_method", NAME_OF(ide_method_names, d->installation_method));
        add_str(o, "installation_path", d->installation_path);
        add_str(o, "executable_path", d->executable_path);
        add_str(o, "desktop_launcher_path", d->desktop_launcher_path);
        add_str(o, "command_name", d->command_name);
        add_text(o, "installed_at", d->installed_at);
        add_bool(o, "verified", d->verified);
        json_object_object_add(o, "verification_errors", strv_to_json(d->verification_errors));
        return o;
}

/* The answers as {"section": {"key": "value", …}} in the very words an
 * answers file would hold (answers_get over the key table), secret keys
 * left out, so every key is carried and none is spelled twice. */
static struct json_object *answers_to_json(const struct answers *a)
{
        struct json_object *o = json_object_new_object();
        const struct answers_key *k;
        size_t n;

        k = answers_keys(&n);
        for (size_t i = 0; i < n; i++) {
                struct json_object *sec;
                char buf[4096];

                if (k[i].secret || answers_get(a, k[i].section, k[i].name, buf, sizeof(buf)) < 0)
                        continue;
                if (!json_object_object_get_ex(o, k[i].section, &sec)) {
                        sec = json_object_new_object();
                        json_object_object_add(o, k[i].section, sec);
                }
                add_str(sec, k[i].name, buf);
        }
        return o;
}

/* The whole session as the data model's ProvisioningSession plus run details. */
struct json_object *session_to_json(const struct session *s)
{
        struct json_object *o = json_object_new_object();
        struct json_object *phases = json_object_new_array();
        struct json_object *ides = json_object_new_array();

        add_str(o, "session_id", s->session_id);
        add_text(o, "start_time", s->start_time);
        add_text(o, "end_time", s->end_time);
        add_str(o, "status", NAME_OF(session_status_names, s->status));
        add_str(o, "mode", NAME_OF(session_mode_names, s->mode));
        add_str(o, "tool_version", s->tool_version);
        add_str(o, "resumed_from", s->resumed_from);
        add_int(o, "duration_seconds", s->duration_seconds);
        add_str(o, "error_details", s->error_details);
        add_int(o, "exit_code", s->exit_code);
        add_str(o, "credentials", NAME_OF(credentials_state_names, s->credentials));
        add_str(o, "journal_path", s->journal_path);
        add_str(o, "log_path", s->log_path);
        json_object_object_add(o, "vps_info", vps_info_to_json(&s->vps_info));
        for (size_t i = 0; i < s->n_phases; i++)
                json_object_array_add(phases, phase_to_json(&s->phases[i]));
        json_object_object_add(o, "phases", phases);
        json_object_object_add(o, "developer_user",
                               s->has_user ? user_to_json(&s->developer_user) : NULL);
        for (size_t i = 0; i < s->n_ides; i++)
                json_object_array_add(ides, ide_to_json(&s->ides[i]));
        json_object_object_add(o, "ide_installations", ides);
        json_object_object_add(o, "configuration", answers_to_json(&s->answers));
        return o;
}

/* ---- reading JSON ------------------------------------------------------ */

/* Reads members of one object; the first problem sets bad and the rest of
 * the reads are no-ops, so a reader is checked once at the end. Missing
 * members (and null) leave the destination as it was. */
struct reader {
        struct json_object *o;
        bool bad;
};

/* The member, or NULL when absent/null or the reader is already bad. */
static struct json_object *rd_get(struct reader *rd, const char *key, enum json_type type)
{
        struct json_object *v;

        if (rd->bad || !rd->o || !json_object_object_get_ex(rd->o, key, &v) ||
            json_object_is_type(v, json_type_null))
                return NULL;
        if (!json_object_is_type(v, type)) {
                rd->bad = true;
                return NULL;
        }
        return v;
}

/* A string member into a malloc'd field (replacing it). */
static void rd_strdup(struct reader *rd, const char *key, char **dst)
{
        struct json_object *v = rd_get(rd, key, json_type_string);

        if (v) {
                free(*dst);
                *dst = xstrdup(json_object_get_string(v));
        }
}

/* A string member into a fixed-size field; too long is bad. */
static void rd_text(struct reader *rd, const char *key, char *dst, size_t size)
{
        struct json_object *v = rd_get(rd, key, json_type_string);

        if (v && strscpy(dst, size, json_object_get_string(v)) < 0)
                rd->bad = true;
}

/* An integer member within [min, max]. */
static void rd_int(struct reader *rd, const char *key, int64_t min, int64_t max, int64_t *dst)
{
        struct json_object *v = rd_get(rd, key, json_type_int);
        int64_t x;

        if (!v)
                return;
        errno = 0;
        x = json_object_get_int64(v);
        if (errno != 0 || x < min || x > max)
                rd->bad = true;
        else
                *dst = x;
}

/* A boolean member. */
static void rd_bool(struct reader *rd, const char *key, bool *dst)
{
        struct json_object *v = rd_get(rd, key, json_type_boolean);

        if (v)
                *dst = json_object_get_boolean(v);
}

/* An enum written by name; an unknown name is bad. */
static void rd_enum(struct reader *rd, const char *key, const char *const *table, size_t n,
                    int *dst)
{
        struct json_object *v = rd_get(rd, key, json_type_string);

        if (!v)
                return;
        for (size_t i = 0; i < n; i++)
                if (table[i] && strcmp(table[i], json_object_get_string(v)) == 0) {
                        *dst = (int)i;
                        return;
                }
        rd->bad = true;
}

#define RD_ENUM(rd, key, table, dst)                                             \
        do {                                                                     \
                int _v = (int)*(dst);                                            \
                rd_enum((rd), (key), (table), ELEMENTSOF(table), &_v);           \
                *(dst) = (__typeof__(*(dst)))_v;                                 \
        } while (0)

/* An array of strings into a strv (replacing it). */
static void rd_strv(struct reader *rd, const char *key, char ***dst)
{
        struct json_object *v = rd_get(rd, key, json_type_array);
        char **list = NULL;
        size_t n;

        if (!v)
                return;
        n = json_object_array_length(v);
        for (size_t i = 0; i < n; i++) {
                struct json_object *e = json_object_array_get_idx(v, i);
                if (!json_object_is_type(e, json_type_string)) {
                        strv_free(list);
                        rd->bad = true;
                        return;
                }
                strv_push(&list, json_object_get_string(e));
        }
        strv_free(*dst);
        *dst = list;
}

/* A sub-reader for an object member (o = NULL when absent or null). */
static struct reader rd_object(struct reader *rd, const char *key)
{
        return (struct reader){ .o = rd_get(rd, key, json_type_object), .bad = false };
}

/* Reads one action back; action_type is required. */
static int action_from_json(struct json_object *o, struct session_action *a)
{
        struct reader rd = { .o = o };

        if (!json_object_is_type(o, json_type_object))
                return -EBADMSG;
        rd_strdup(&rd, "action_type", &a->type);
        rd_strdup(&rd, "target", &a->target);
        RD_ENUM(&rd, "status", action_status_names, &a->status);
        rd_text(&rd, "timestamp", a->timestamp, sizeof(a->timestamp));
        rd_strdup(&rd, "output", &a->output);
        rd_int(&rd, "journal_seq", 0, INT64_MAX, &a->journal_seq);
        rd_strdup(&rd, "undo", &a->undo);
        if (!rd.bad && !a->type)
                rd.bad = true;
        return rd.bad ? -EBADMSG : 0;
}

/* Reads one phase and its actions back; phase_name is required. */
static int phase_from_json(struct json_object *o, struct session_phase *p)
{
        struct reader rd = { .o = o };
        struct json_object *actions;

        if (!json_object_is_type(o, json_type_object))
                return -EBADMSG;
        rd_strdup(&rd, "phase_name", &p->name);
        RD_ENUM(&rd, "status", phase_status_names, &p->status);
        if (p->status == PHASE_SKIPPED) {
                char why[32] = "";
                rd_text(&rd, "skip_reason", why, sizeof(why));
                if (strcmp(why, "disabled") == 0)
                        p->status = PHASE_DISABLED;
        }
        rd_text(&rd, "start_time", p->start_time, sizeof(p->start_time));
        rd_text(&rd, "end_time", p->end_time, sizeof(p->end_time));
        rd_int(&rd, "duration_seconds", 0, INT64_MAX, &p->duration_seconds);
        rd_bool(&rd, "checkpoint_exists", &p->checkpoint_exists);
        rd_strdup(&rd, "error_message", &p->error_message);
        actions = rd_get(&rd, "actions", json_type_array);
        if (rd.bad || !p->name)
                return -EBADMSG;
        for (size_t i = 0; actions && i < json_object_array_length(actions); i++) {
                struct session_action *a = session_phase_add_action(p, "", NULL);
                free(a->type);
                a->type = NULL;
                a->timestamp[0] = '\0';
                if (action_from_json(json_object_array_get_idx(actions, i), a) < 0)
                        return -EBADMSG;
        }
        return 0;
}

/* Reads developer_user back; username is required. */
static int user_from_json(struct json_object *o, struct session_user *u)
{
        struct reader rd = { .o = o };

        rd_text(&rd, "username", u->username, sizeof(u->username));
        rd_text(&rd, "full_name", u->full_name, sizeof(u->full_name));
        rd_int(&rd, "uid", -1, UINT32_MAX, &u->uid);
        rd_int(&rd, "gid", -1, UINT32_MAX, &u->gid);
        rd_text(&rd, "home_directory", u->home_directory, sizeof(u->home_directory));
        rd_text(&rd, "shell", u->shell, sizeof(u->shell));
        rd_strv(&rd, "groups", &u->groups);
        rd_bool(&rd, "password_expires", &u->password_expires);
        rd_bool(&rd, "ssh_key_auth_enabled", &u->ssh_key_auth_enabled);
        rd_text(&rd, "created_at", u->created_at, sizeof(u->created_at));
        return rd.bad || !u->username[0] ? -EBADMSG : 0;
}

/* Reads one IDE record back; ide_name is required. */
static int ide_from_json(struct json_object *o, struct session_ide *d)
{
        struct reader rd = { .o = o };

        if (!json_object_is_type(o, json_type_object))
                return -EBADMSG;
        rd_strdup(&rd, "ide_name", &d->ide_name);
        rd_strdup(&rd, "version", &d->version);
        RD_ENUM(&rd, "installation_method", ide_method_names, &d->installation_method);
        rd_strdup(&rd, "installation_path", &d->installation_path);
        rd_strdup(&rd, "executable_path", &d->executable_path);
        rd_strdup(&rd, "desktop_launcher_path", &d->desktop_launcher_path);
        rd_strdup(&rd, "command_name", &d->command_name);
        rd_text(&rd, "installed_at", d->installed_at, sizeof(d->installed_at));
        rd_bool(&rd, "verified", &d->verified);
        rd_strv(&rd, "verification_errors", &d->verification_errors);
        return rd.bad || !d->ide_name ? -EBADMSG : 0;
}

/* Reads "configuration" back through answers_set(), so a stored value is
 * checked by the same rules as a file; keys it lacks keep their defaults.
 * The password hash is never stored and stays empty. */
static int answers_from_json(struct json_object *o, struct answers *a)
{
        answers_init(a);
        json_object_object_foreach(o, section, keys) {
                if (!json_object_is_type(keys, json_type_object))
                        return -EBADMSG;
                json_object_object_foreach(keys, key, value) {
                        char err[512];
                        const struct answers_key *k = answers_key_find(section, key);

                        if (!k || k->secret || !json_object_is_type(value, json_type_string) ||
                            answers_set(a, section, key, json_object_get_string(value), err,
                                        sizeof(err)) < 0)
                                return -EBADMSG;
                }
        }
        return 0;
}

/* Reads back everything session_to_json() writes; *ret only on success. */
int session_from_json(struct json_object *o, struct session *ret)
{
        struct session s;
        struct reader rd = { .o = o };
        struct json_object *v;
        int64_t exit_code = 0;
        char id[SESSION_ID_MAX] = "";
        int r = -EBADMSG;

        if (!o || !json_object_is_type(o, json_type_object))
                return -EBADMSG;
        rd_text(&rd, "session_id", id, sizeof(id));
        if (rd.bad || !session_id_valid(id) || !rd_get(&rd, "status", json_type_string))
                return -EBADMSG;

        session_init(&s, id);
        s.start_time[0] = '\0';
        rd_text(&rd, "start_time", s.start_time, sizeof(s.start_time));
        rd_text(&rd, "end_time", s.end_time, sizeof(s.end_time));
        RD_ENUM(&rd, "status", session_status_names, &s.status);
        RD_ENUM(&rd, "mode", session_mode_names, &s.mode);
        rd_strdup(&rd, "tool_version", &s.tool_version);
        rd_strdup(&rd, "resumed_from", &s.resumed_from);
        rd_int(&rd, "duration_seconds", 0, INT64_MAX, &s.duration_seconds);
        rd_strdup(&rd, "error_details", &s.error_details);
        rd_int(&rd, "exit_code", 0, 255, &exit_code);
        s.exit_code = (int)exit_code;
        RD_ENUM(&rd, "credentials", credentials_state_names, &s.credentials);
        rd_strdup(&rd, "journal_path", &s.journal_path);
        rd_strdup(&rd, "log_path", &s.log_path);
        if (rd.bad)
                goto fail;

        v = rd_get(&rd, "vps_info", json_type_object);
        if (rd.bad || (v && vps_info_from_json(v, &s.vps_info) < 0))
                goto fail;

        v = rd_get(&rd, "phases", json_type_array);
        if (rd.bad)
                goto fail;
        for (size_t i = 0; v && i < json_object_array_length(v); i++) {
                struct session_phase *p = session_add_phase(&s, "");
                free(p->name);
                p->name = NULL;
                if (phase_from_json(json_object_array_get_idx(v, i), p) < 0)
                        goto fail;
        }

        struct reader user = rd_object(&rd, "developer_user");
        if (rd.bad)
                goto fail;
        if (user.o) {
                if (user_from_json(user.o, &s.developer_user) < 0)
                        goto fail;
                s.has_user = true;
        }

        v = rd_get(&rd, "ide_installations", json_type_array);
        if (rd.bad)
                goto fail;
        for (size_t i = 0; v && i < json_object_array_length(v); i++) {
                struct session_ide *d = session_add_ide(&s, "");
                free(d->ide_name);
                d->ide_name = NULL;
                if (ide_from_json(json_object_array_get_idx(v, i), d) < 0)
                        goto fail;
        }

        v = rd_get(&rd, "configuration", json_type_object);
        if (rd.bad || (v && answers_from_json(v, &s.answers) < 0))
                goto fail;

        *ret = s;
        return 0;
fail:
        session_release(&s);
        return r;
}

/* ---- files ------------------------------------------------------------- */

/* Writes the session atomically (0600), creating its directory (0700). */
int session_save(const struct session *s, const char *path)
{
        char dir[PATH_MAX];
        struct json_object *o;
        const char *text;
        int r;

        if (strscpy(dir, sizeof(dir), path) < 0)
                return -ENAMETOOLONG;
        r = mkdir_p(dirname(dir), 0700);
        if (r < 0)
                return r;
        o = session_to_json(s);
        text = json_object_to_json_string_ext(
                o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                           JSON_C_TO_STRING_NOSLASHESCAPE);
        _cleanup_free_ char *data = xasprintf("%s\n", text);
        json_object_put(o);
        return write_file_atomic(path, data, strlen(data), 0600, (uid_t)-1, (gid_t)-1);
}

/* Reads a session file; -EBADMSG for anything that is not one. */
int session_load(const char *path, struct session *ret)
{
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        int r;

        r = read_file(path, SESSION_FILE_MAX, &text, &len);
        if (r == -EFBIG)
                return -EBADMSG;
        if (r < 0)
                return r;
        return session_parse(text, len, ret);
}

/* A session file's text: exactly one JSON object that is a session. */
int session_parse(const char *text, size_t len, struct session *ret)
{
        struct json_object *o;
        int r;

        if (len > SESSION_FILE_MAX)
                return -EBADMSG;
        if (json_parse_strict(text, len, &o, NULL, 0) < 0)
                return -EBADMSG;
        r = session_from_json(o, ret);
        json_object_put(o);
        return r;
}

/* DIR/session-ID.json into buf; -EINVAL for a malformed id. */
int session_path(const char *dir, const char *id, char *buf, size_t size)
{
        int w;

        if (!session_id_valid(id))
                return -EINVAL;
        w = snprintf(buf, size, "%s/session-%s.json", dir, id);
        if (w < 0 || (size_t)w >= size)
                return -ENAMETOOLONG;
        return 0;
}

/* qsort comparator: newest id first. */
static int cmp_newest_first(const void *a, const void *b)
{
        return session_id_cmp(*(char *const *)b, *(char *const *)a);
}

/* The ids of the session files in dir, newest first. */
char **session_list(const char *dir)
{
        char **ids = NULL;
        DIR *d = opendir(dir);
        struct dirent *de;

        while (d && (de = readdir(d))) {
                const char *name = de->d_name;
                size_t len = strlen(name);
                char id[SESSION_ID_MAX];

                if (!startswith(name, "session-") || len <= 13 ||
                    strcmp(name + len - 5, ".json") != 0 || len - 13 >= sizeof(id))
                        continue;
                memcpy(id, name + 8, len - 13);
                id[len - 13] = '\0';
                if (session_id_valid(id))
                        strv_push(&ids, id);
        }
        if (d)
                closedir(d);
        if (!ids)
                return xcalloc(1, sizeof(char *));
        qsort(ids, strv_length(ids), sizeof(char *), cmp_newest_first);
        return ids;
}

/* The newest session file whose status is in the mask (0 = any). */
int session_find_latest(const char *dir, unsigned status_mask, char *buf, size_t size)
{
        _cleanup_strv_ char **ids = session_list(dir);
        char path[PATH_MAX];
        int r;

        for (size_t i = 0; ids[i]; i++) {
                struct session s;

                r = session_path(dir, ids[i], path, sizeof(path));
                if (r < 0)
                        continue;
                if (status_mask) {
                        if (session_load(path, &s) < 0)
                                continue;   /* unreadable: not a candidate */
                        bool match = (unsigned)s.status < 32 && (status_mask & (1u << s.status));
                        session_release(&s);
                        if (!match)
                                continue;
                }
                if (strscpy(buf, size, path) < 0)
                        return -ENAMETOOLONG;
                return 0;
        }
        return -ENOENT;
}
