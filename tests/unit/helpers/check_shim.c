/* check_shim.c — TEMPORARY: a minimal copy of the check.h functions that
 * test_preflight needs, while check.c is written in parallel on another
 * branch. Linked only into test_preflight (tests/CMakeLists.txt). Remove it
 * and its CMake block when the branches are merged. */
#include "check.h"

#include <stdio.h>
#include <string.h>

struct check *check_add(struct check_list *l, const char *category, const char *name,
                        enum check_status status, const char *fix, const char *fmt, ...)
{
        struct check *c;
        va_list ap;
        char *msg;

        va_start(ap, fmt);
        if (vasprintf(&msg, fmt, ap) < 0)
                abort();
        va_end(ap);
        l->v = xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
        c = &l->v[l->n++];
        *c = (struct check){
                .name = xstrdup(name),
                .category = xstrdup(category),
                .status = status,
                .message = msg,
                .fix = fix ? xstrdup(fix) : NULL,
        };
        return c;
}

void check_detail(struct check *c, const char *key, const char *fmt, ...)
{
        va_list ap;
        char *v;

        va_start(ap, fmt);
        if (vasprintf(&v, fmt, ap) < 0)
                abort();
        va_end(ap);
        strv_push(&c->details, key);
        strv_push_take(&c->details, v);
}

size_t check_count(const struct check_list *l, enum check_status status)
{
        size_t n = 0;
        for (size_t i = 0; i < l->n; i++)
                n += l->v[i].status == status;
        return n;
}

const char *check_status_name(enum check_status s)
{
        return s == CHECK_PASS ? "pass" : s == CHECK_WARN ? "warn" : "fail";
}

void check_list_release(struct check_list *l)
{
        for (size_t i = 0; i < l->n; i++) {
                free(l->v[i].name);
                free(l->v[i].category);
                free(l->v[i].message);
                free(l->v[i].fix);
                strv_free(l->v[i].details);
        }
        free(l->v);
        l->v = NULL;
        l->n = 0;
}
