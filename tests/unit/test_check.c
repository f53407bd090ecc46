/* test_check.c — check lists: adding, details, counting, the health check
 * JSON with its overall status. */
#include "testlib.h"

#include <json-c/json.h>
#include <string.h>

#include "check.h"

static struct json_object *member(struct json_object *o, const char *key)
{
        struct json_object *v = NULL;
        if (!json_object_object_get_ex(o, key, &v))
                fail_msg("no member %s", key);
        return v;
}

static const char *overall(const struct check_list *l)
{
        static char buf[16];
        struct json_object *o = check_list_to_json(l);
        strscpy(buf, sizeof(buf), json_object_get_string(member(o, "overall_status")));
        json_object_put(o);
        return buf;
}

static void test_add_and_count(void **state)
{
        (void)state;
        struct check_list l = { 0 };
        struct check *c;

        c = check_add(&l, "system", "Operating system", CHECK_PASS, NULL, "Debian %d (%s)", 13,
                      "trixie");
        assert_string_equal(c->message, "Debian 13 (trixie)");
        assert_string_equal(c->category, "system");
        assert_null(c->fix);
        check_detail(c, "os_version", "%s", "13");
        check_detail(c, "codename", "trixie");
        c = check_add(&l, "system", "Memory", CHECK_WARN, "Use a server with 2 GiB or more",
                      "%d MiB", 1900);
        c = check_add(&l, "system", "Disk", CHECK_FAIL, "Free some space", "%.1f GB free", 3.5);
        assert_string_equal(c->fix, "Free some space");
        assert_int_equal(l.n, 3);
        /* earlier checks survive the array growing */
        assert_string_equal(l.v[0].name, "Operating system");
        assert_int_equal(strv_length(l.v[0].details), 4);
        assert_int_equal(check_count(&l, CHECK_PASS), 1);
        assert_int_equal(check_count(&l, CHECK_WARN), 1);
        assert_int_equal(check_count(&l, CHECK_FAIL), 1);
        assert_string_equal(check_status_name(CHECK_PASS), "pass");
        assert_string_equal(check_status_name(CHECK_WARN), "warn");
        assert_string_equal(check_status_name(CHECK_FAIL), "fail");
        check_list_release(&l);
        assert_int_equal(l.n, 0);
        assert_null(l.v);
        check_list_release(&l);
}

static void test_json(void **state)
{
        (void)state;
        struct check_list l = { 0 };
        struct check *c;

        c = check_add(&l, "services", "xrdp", CHECK_PASS, NULL, "listening on %d", 3389);
        check_detail(c, "port", "%d", 3389);
        check_detail(c, "unit", "xrdp.service");
        check_add(&l, "security", "Firewall", CHECK_WARN, "Run ufw enable", "inactive");

        struct json_object *o = check_list_to_json(&l);
        assert_int_equal(strlen(json_object_get_string(member(o, "timestamp"))), 20);
        assert_string_equal(json_object_get_string(member(o, "overall_status")), "warn");
        struct json_object *checks = member(o, "checks");
        assert_int_equal(json_object_array_length(checks), 2);
        struct json_object *c0 = json_object_array_get_idx(checks, 0);
        assert_string_equal(json_object_get_string(member(c0, "name")), "xrdp");
        assert_string_equal(json_object_get_string(member(c0, "category")), "services");
        assert_string_equal(json_object_get_string(member(c0, "status")), "pass");
        assert_string_equal(json_object_get_string(member(c0, "message")), "listening on 3389");
        assert_true(json_object_is_type(member(c0, "fix"), json_type_null));
        struct json_object *d = member(c0, "details");
        assert_string_equal(json_object_get_string(member(d, "port")), "3389");
        assert_string_equal(json_object_get_string(member(d, "unit")), "xrdp.service");
        struct json_object *c1 = json_object_array_get_idx(checks, 1);
        assert_string_equal(json_object_get_string(member(c1, "fix")), "Run ufw enable");
        assert_int_equal(json_object_object_length(member(c1, "details")), 0);
        json_object_put(o);
        check_list_release(&l);
}

static void test_overall_status(void **state)
{
        (void)state;
        struct check_list l = { 0 };

        assert_string_equal(overall(&l), "pass");   /* nothing checked, nothing failed */
        check_add(&l, "system", "a", CHECK_PASS, NULL, "ok");
        assert_string_equal(overall(&l), "pass");
        check_add(&l, "system", "b", CHECK_WARN, "x", "meh");
        assert_string_equal(overall(&l), "warn");
        check_add(&l, "system", "c", CHECK_FAIL, "y", "bad");
        assert_string_equal(overall(&l), "fail");
        check_add(&l, "system", "d", CHECK_WARN, "z", "meh");
        assert_string_equal(overall(&l), "fail");
        check_list_release(&l);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_add_and_count),
                cmocka_unit_test(test_json),
                cmocka_unit_test(test_overall_status),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
