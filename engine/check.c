/* check.c — see check.h. */
#include "check.h"

#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

static const char *const status_names[] = {
        [CHECK_PASS] = "pass",
        [CHECK_WARN] = "warn",
        [CHECK_FAIL] = "fail",
};

/* "pass", "warn" or "fail". */
const char *check_status_name(enum check_status s)
{
        if ((unsigned)s >= ELEMENTSOF(status_names))
                return "unknown";
        return status_names[s];
}

/* Appends a check; the list owns the copies. */
struct check *check_add(struct check_list *l, const char *category, const char *name,
                        enum check_status status, const char *fix, const char *fmt, ...)
{
        struct check *c;
        va_list ap;
        char *msg;

        va_start(ap, fmt);
        msg = xvasprintf(fmt, ap);
        va_end(ap);

        l->v = xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
        c = &l->v[l->n++];
        *c = (struct check){
                .name = xstrdup(name),
                .category = xstrdup(category),
                .status = status,
                .message = msg,
                .fix = fix ? xstrdup(fix) : NULL,
                .details = NULL,
        };
        return c;
}

/* Adds a key/value detail to a check. */
void check_detail(struct check *c, const char *key, const char *fmt, ...)
{
        va_list ap;
        char *value;

        va_start(ap, fmt);
        value = xvasprintf(fmt, ap);
        va_end(ap);
        strv_push(&c->details, key);
        strv_push_take(&c->details, value);
}

/* How many checks have the given status. */
size_t check_count(const struct check_list *l, enum check_status status)
{
        size_t n = 0;

        for (size_t i = 0; i < l->n; i++)
                if (l->v[i].status == status)
                        n++;
        return n;
}

/* Frees every check and empties the list. */
void check_list_release(struct check_list *l)
{
        if (!l)
                return;
        for (size_t i = 0; i < l->n; i++) {
                struct check *c = &l->v[i];
                free(c->name);
                free(c->category);
                free(c->message);
                free(c->fix);
                strv_free(c->details);
        }
        free(l->v);
        l->v = NULL;
        l->n = 0;
}

/* A JSON string, or null for NULL. */
static struct json_object *string_or_null(const char *s)
{
        return s ? json_object_new_string(s) : NULL;
}

/* The health check document; overall is the worst status seen. */
struct json_object *check_list_checks_json(const struct check_list *l)
{
        struct json_object *checks = json_object_new_array();

        for (size_t i = 0; i < l->n; i++) {
                const struct check *c = &l->v[i];
                struct json_object *co = json_object_new_object();
                struct json_object *details = json_object_new_object();

                json_object_object_add(co, "name", string_or_null(c->name));
                json_object_object_add(co, "category", string_or_null(c->category));
                json_object_object_add(co, "status",
                                       json_object_new_string(check_status_name(c->status)));
                json_object_object_add(co, "message", string_or_null(c->message));
                json_object_object_add(co, "fix", string_or_null(c->fix));
                for (size_t k = 0; c->details && c->details[k] && c->details[k + 1]; k += 2)
                        json_object_object_add(details, c->details[k],
                                               json_object_new_string(c->details[k + 1]));
                json_object_object_add(co, "details", details);
                json_object_array_add(checks, co);
        }

        return checks;
}

struct json_object *check_list_to_json(const struct check_list *l)
{
        struct json_object *o = json_object_new_object();
        struct json_object *checks;
        enum check_status overall = CHECK_PASS;
        char now[ISO8601_MAX];

        if (check_count(l, CHECK_FAIL) > 0)
                overall = CHECK_FAIL;
        else if (check_count(l, CHECK_WARN) > 0)
                overall = CHECK_WARN;

        checks = check_list_checks_json(l);

        iso8601_now(now);
        json_object_object_add(o, "timestamp", json_object_new_string(now));
        json_object_object_add(o, "overall_status",
                               json_object_new_string(check_status_name(overall)));
        json_object_object_add(o, "checks", checks);
        return o;
}
