/* check.h — one check result, as used by preflight and by the final health
 * check: a name, a category (system, services, applications, network,
 * security), pass / warn / fail, a message, what to do about it, and
 * details as key/value pairs. A list of checks serializes to the health
 * check JSON of the data model. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "util.h"

struct json_object;

enum check_status {
        CHECK_PASS,
        CHECK_WARN,
        CHECK_FAIL,
};

struct check {
        char *name;      /* "Operating system" */
        char *category;  /* "system" */
        enum check_status status;
        char *message;   /* "Debian 13 (trixie)" */
        char *fix;       /* what to do when not pass; NULL when pass */
        char **details;  /* strv of alternating key, value */
};

struct check_list {
        struct check *v;
        size_t n;
};

/* Appends a check; strings are copied; returns the new check so the caller
 * can add details. fix may be NULL. */
struct check *check_add(struct check_list *l, const char *category, const char *name,
                        enum check_status status, const char *fix, const char *fmt, ...)
        _printf_(6, 7);
void check_detail(struct check *c, const char *key, const char *fmt, ...) _printf_(3, 4);
size_t check_count(const struct check_list *l, enum check_status status);
const char *check_status_name(enum check_status s);  /* "pass" / "warn" / "fail" */
void check_list_release(struct check_list *l);

/* Just the "checks" array: [{"name","category","status","message","fix","details"}]. */
struct json_object *check_list_checks_json(const struct check_list *l);
/* {"timestamp":…, "overall_status":"pass|warn|fail", "checks":[…]} */
struct json_object *check_list_to_json(const struct check_list *l);
