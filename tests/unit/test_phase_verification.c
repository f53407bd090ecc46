/* test_phase_verification.c — the health check's judging on fixtures: a
 * healthy workstation passes every category; each broken part turns into
 * the right fail or warn; the JSON document carries the worst status. */
#include "testlib.h"

#include <json-c/json.h>
#include <string.h>

#include "answers.h"
#include "check.h"
#include "verification.h"

/* A provisioned Debian 13 server with every part working. */
static void healthy(struct health_facts *f)
{
        memset(f, 0, sizeof(*f));
        strscpy(f->os_id, sizeof(f->os_id), "debian");
        strscpy(f->os_version, sizeof(f->os_version), "13");
        strscpy(f->os_codename, sizeof(f->os_codename), "trixie");
        strscpy(f->kernel, sizeof(f->kernel), "6.12.0-1-amd64");
        f->disk_available_gb = 40;
        f->ram_mb = 4000;
        strscpy(f->xrdp, sizeof(f->xrdp), "active");
        strscpy(f->xrdp_sesman, sizeof(f->xrdp_sesman), "active");
        strscpy(f->ssh, sizeof(f->ssh), "active");
        strscpy(f->fail2ban, sizeof(f->fail2ban), "active");
        f->rdp_listening = 1;
        f->ssh_listening = 1;
        f->n_apps = 2;
        strscpy(f->apps[0].name, sizeof(f->apps[0].name), "XFCE desktop");
        strscpy(f->apps[0].command, sizeof(f->apps[0].command), "xfce4-session");
        strscpy(f->apps[0].path, sizeof(f->apps[0].path), "/usr/bin/xfce4-session");
        f->apps[0].required = true;
        strscpy(f->apps[1].name, sizeof(f->apps[1].name), "curl");
        strscpy(f->apps[1].command, sizeof(f->apps[1].command), "curl");
        strscpy(f->apps[1].path, sizeof(f->apps[1].path), "/usr/bin/curl");
        strscpy(f->ip_address, sizeof(f->ip_address), "203.0.113.7");
        f->ufw_installed = f->ufw_active = f->ufw_allows_ssh = f->ufw_allows_rdp = true;
        f->user_exists = true;
        f->user_uid = 1000;
        f->sudoers_present = true;
        f->sudoers_valid = 1;
        f->sshd_dropin = true;
        strscpy(f->sshd_permit_root, sizeof(f->sshd_permit_root), "prohibit-password");
        f->sshd_max_auth_tries = 4;
        f->sshd_port_configured = true;
        f->root_has_key = true;
        f->f2b_jail = 1;
        f->f2b_rdp_jail = 1;
}

static const struct check *find(const struct check_list *l, const char *name)
{
        for (size_t i = 0; i < l->n; i++)
                if (strcmp(l->v[i].name, name) == 0)
                        return &l->v[i];
        fail_msg("no check named \"%s\"", name);
        return NULL;
}

static enum check_status status_of(const struct health_facts *f, const struct answers *a,
                                   const char *name)
{
        struct check_list l = { 0 };
        enum check_status s;

        health_evaluate(f, a, &l);
        s = find(&l, name)->status;
        check_list_release(&l);
        return s;
}

static void all_pass(void **state)
{
        (void)state;
        struct answers a;
        struct health_facts f;
        struct check_list l = { 0 };
        const char *cats[] = { "system", "services", "applications", "network", "security" };

        answers_init(&a);
        healthy(&f);
        health_evaluate(&f, &a, &l);
        for (size_t i = 0; i < l.n; i++)
                if (l.v[i].status != CHECK_PASS)
                        fail_msg("%s: %s (%s)", l.v[i].name, l.v[i].message, check_status_name(l.v[i].status));
        for (size_t c = 0; c < ELEMENTSOF(cats); c++) {
                size_t n = 0;
                for (size_t i = 0; i < l.n; i++)
                        n += strcmp(l.v[i].category, cats[c]) == 0;
                if (n == 0)
                        fail_msg("no check in category %s", cats[c]);
        }
        assert_string_equal(find(&l, "RDP server")->message, "xrdp running and listening on port 3389");
        check_list_release(&l);
}

static void broken_parts_fail(void **state)
{
        (void)state;
        struct answers a;
        struct health_facts f;

        answers_init(&a);

        healthy(&f);
        f.rdp_listening = 0;
        assert_int_equal(status_of(&f, &a, "RDP server"), CHECK_FAIL);
        /* a kernel without its initramfs would not boot */
        healthy(&f);
        f.n_kernels = 2;
        assert_int_equal(status_of(&f, &a, "Initramfs"), CHECK_PASS);
        strscpy(f.initrd_missing, sizeof(f.initrd_missing), "6.12.0-1-amd64");
        assert_int_equal(status_of(&f, &a, "Initramfs"), CHECK_FAIL);
        healthy(&f);
        strscpy(f.xrdp, sizeof(f.xrdp), "failed");
        assert_int_equal(status_of(&f, &a, "RDP server"), CHECK_FAIL);
        healthy(&f);
        strscpy(f.xrdp_sesman, sizeof(f.xrdp_sesman), "inactive");
        assert_int_equal(status_of(&f, &a, "RDP session manager"), CHECK_FAIL);

        healthy(&f);
        f.apps[0].path[0] = '\0';          /* a required program is missing */
        assert_int_equal(status_of(&f, &a, "XFCE desktop"), CHECK_FAIL);
        healthy(&f);
        f.apps[1].path[0] = '\0';          /* an optional one: a warning */
        assert_int_equal(status_of(&f, &a, "curl"), CHECK_WARN);

        healthy(&f);
        f.user_exists = false;
        assert_int_equal(status_of(&f, &a, "Developer account"), CHECK_FAIL);
        healthy(&f);
        strscpy(f.user_missing_groups, sizeof(f.user_missing_groups), "video");
        assert_int_equal(status_of(&f, &a, "Developer account"), CHECK_FAIL);
        healthy(&f);
        f.sudoers_valid = 0;
        assert_int_equal(status_of(&f, &a, "sudo rights"), CHECK_FAIL);

        healthy(&f);
        f.ufw_active = false;
        assert_int_equal(status_of(&f, &a, "Firewall"), CHECK_FAIL);
        healthy(&f);
        f.ufw_allows_rdp = false;
        assert_int_equal(status_of(&f, &a, "Firewall rules"), CHECK_FAIL);

        healthy(&f);
        f.sshd_max_auth_tries = 6;         /* another drop-in won */
        assert_int_equal(status_of(&f, &a, "SSH configuration"), CHECK_FAIL);
        healthy(&f);
        strscpy(f.sshd_permit_root, sizeof(f.sshd_permit_root), "yes");
        assert_int_equal(status_of(&f, &a, "SSH configuration"), CHECK_FAIL);
        healthy(&f);
        f.ssh_listening = 0;
        assert_int_equal(status_of(&f, &a, "SSH server"), CHECK_FAIL);

        healthy(&f);
        f.f2b_jail = 0;
        assert_int_equal(status_of(&f, &a, "fail2ban"), CHECK_FAIL);
        healthy(&f);
        f.f2b_rdp_jail = 0;
        assert_int_equal(status_of(&f, &a, "fail2ban for RDP"), CHECK_FAIL);
        assert_int_equal(status_of(&f, &a, "fail2ban"), CHECK_PASS);

        healthy(&f);
        f.disk_available_gb = 0.2;
        assert_int_equal(status_of(&f, &a, "Disk space"), CHECK_FAIL);
        f.disk_available_gb = 1.5;
        assert_int_equal(status_of(&f, &a, "Disk space"), CHECK_WARN);
}

static void choices_turn_into_warnings(void **state)
{
        (void)state;
        struct answers a;
        struct health_facts f;
        struct check_list l = { 0 };

        /* firewall, hardening and fail2ban turned off in the answers: warn,
         * whatever the (now irrelevant) facts say, and no fail2ban check */
        answers_init(&a);
        a.firewall = false;
        a.hardening = false;
        a.fail2ban = false;
        healthy(&f);
        f.ufw_active = f.ufw_allows_ssh = f.ufw_allows_rdp = false;
        f.sshd_dropin = false;
        f.ssh_listening = 0;
        health_evaluate(&f, &a, &l);
        assert_int_equal(find(&l, "Firewall")->status, CHECK_WARN);
        assert_int_equal(find(&l, "Firewall rules")->status, CHECK_WARN);
        assert_int_equal(find(&l, "SSH configuration")->status, CHECK_WARN);
        assert_int_equal(find(&l, "SSH server")->status, CHECK_WARN);
        for (size_t i = 0; i < l.n; i++)
                assert_string_not_equal(l.v[i].name, "fail2ban");
        assert_int_equal(check_count(&l, CHECK_FAIL), 0);
        check_list_release(&l);

        /* root without a key: hardened, root login left alone, a warning */
        answers_init(&a);
        healthy(&f);
        f.root_has_key = false;
        strscpy(f.sshd_permit_root, sizeof(f.sshd_permit_root), "yes");
        assert_int_equal(status_of(&f, &a, "SSH configuration"), CHECK_WARN);

        /* Debian 12 is supported, another system only warned about */
        healthy(&f);
        strscpy(f.os_version, sizeof(f.os_version), "12");
        assert_int_equal(status_of(&f, &a, "Operating system"), CHECK_PASS);
        strscpy(f.os_id, sizeof(f.os_id), "ubuntu");
        assert_int_equal(status_of(&f, &a, "Operating system"), CHECK_WARN);
}

static void json_document(void **state)
{
        (void)state;
        struct answers a;
        struct health_facts f;
        struct check_list l = { 0 };
        struct json_object *o, *v, *checks, *first, *details;

        answers_init(&a);
        healthy(&f);
        f.rdp_listening = 0;
        health_evaluate(&f, &a, &l);
        o = check_list_to_json(&l);
        assert_true(json_object_object_get_ex(o, "overall_status", &v));
        assert_string_equal(json_object_get_string(v), "fail");
        assert_true(json_object_object_get_ex(o, "checks", &checks));
        assert_int_equal(json_object_array_length(checks), l.n);
        first = json_object_array_get_idx(checks, 0);
        assert_true(json_object_object_get_ex(first, "category", &v));
        assert_string_equal(json_object_get_string(v), "system");
        assert_true(json_object_object_get_ex(first, "details", &details));
        assert_true(json_object_object_get_ex(details, "os_version", &v));
        assert_string_equal(json_object_get_string(v), "13");
        json_object_put(o);
        check_list_release(&l);

        {
                char *p = health_json_path("/var/lib/vps-provision/sessions", "20261130-080000");
                assert_string_equal(p, "/var/lib/vps-provision/sessions/health-20261130-080000.json");
                free(p);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(all_pass),
                cmocka_unit_test(broken_parts_fail),
                cmocka_unit_test(choices_turn_into_warnings),
                cmocka_unit_test(json_document),
        };
        int r = cmocka_run_group_tests(tests, NULL, NULL);
        test_cleanup_all();
        return r;
}
