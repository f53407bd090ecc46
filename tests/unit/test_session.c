/* test_session.c — the session record: JSON round trip with the data
 * model's field names, no password anywhere, files and their modes,
 * damaged files, ids, listing and finding the latest session. */
#include "testlib.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "session.h"

#define HASH "$y$j9T$F5Jx5fExrKuPp53xLKQ..1$X3DX6M94c7o.9agCG9G317fhZg9SqC.5i5rd.RhAtQ7"

/* A session with every field set to something other than its default. */
static void fill_session(struct session *s, const char *id)
{
        struct session_phase *p;
        struct session_action *a;
        struct session_ide *d;

        session_init(s, id);
        strscpy(s->start_time, sizeof(s->start_time), "2026-11-22T10:15:00Z");
        strscpy(s->end_time, sizeof(s->end_time), "2026-11-22T10:27:15Z");
        s->status = SESSION_FAILED;
        s->mode = MODE_RESUME;
        s->error_details = xstrdup("phase desktop failed: apt-get exited with status 100");
        s->duration_seconds = 735;
        s->tool_version = xstrdup("0.1.0");
        s->resumed_from = xstrdup("20261121-090000");
        s->journal_path = xstrdup("/var/lib/vps-provision/journal-20261122-101500.jsonl");
        s->log_path = xstrdup("/var/log/vps-provision/20261122-101500.log");
        s->exit_code = 4;

        struct vps_info *v = &s->vps_info;
        strscpy(v->hostname, sizeof(v->hostname), "debian-4gb-fra1-01");
        strscpy(v->ip_address, sizeof(v->ip_address), "143.198.45.123");
        strscpy(v->os_name, sizeof(v->os_name), "Debian GNU/Linux");
        strscpy(v->os_id, sizeof(v->os_id), "debian");
        strscpy(v->os_version, sizeof(v->os_version), "13");
        strscpy(v->os_codename, sizeof(v->os_codename), "trixie");
        strscpy(v->kernel_version, sizeof(v->kernel_version), "6.12.0-1-amd64");
        strscpy(v->architecture, sizeof(v->architecture), "amd64");
        strscpy(v->virtualization, sizeof(v->virtualization), "kvm");
        v->cpu_cores = 2;
        v->ram_mb = 4096;
        v->disk_space_gb = 80;
        v->disk_available_gb = 75.3;
        v->validated = true;

        p = session_add_phase(s, "system-prep");
        p->status = PHASE_DONE;
        strscpy(p->start_time, sizeof(p->start_time), "2026-11-22T10:15:01Z");
        strscpy(p->end_time, sizeof(p->end_time), "2026-11-22T10:18:01Z");
        p->duration_seconds = 180;
        p->checkpoint_exists = true;
        a = session_phase_add_action(p, "PACKAGE_INSTALL", "xrdp");
        a->status = ACTION_COMPLETED;
        strscpy(a->timestamp, sizeof(a->timestamp), "2026-11-22T10:16:00Z");
        a->output = xstrdup("Setting up xrdp (0.10.1-1) ...\nProcessing triggers \"x\"");
        a->journal_seq = 12;
        a->undo = xstrdup("purge package xrdp");
        a = session_phase_add_action(p, "COMMAND_EXEC", NULL);
        a->status = ACTION_FAILED;
        p = session_add_phase(s, "desktop");
        p->status = PHASE_FAILED;
        p->error_message = xstrdup("apt-get exited with status 100");
        session_add_phase(s, "ide-cursor")->status = PHASE_DISABLED;

        s->has_user = true;
        struct session_user *u = &s->developer_user;
        strscpy(u->username, sizeof(u->username), "devuser");
        strscpy(u->full_name, sizeof(u->full_name), "Dev Ëlopér");
        u->uid = 1001;
        u->gid = 1002;
        strscpy(u->home_directory, sizeof(u->home_directory), "/home/devuser");
        strscpy(u->shell, sizeof(u->shell), "/bin/bash");
        strv_push(&u->groups, "devuser");
        strv_push(&u->groups, "sudo");
        strv_push(&u->groups, "audio");
        u->password_expires = true;
        u->ssh_key_auth_enabled = true;
        strscpy(u->created_at, sizeof(u->created_at), "2026-11-22T10:20:00Z");

        d = session_add_ide(s, "VSCODE");
        d->version = xstrdup("1.95.3");
        d->installation_method = IDE_METHOD_APT_REPOSITORY;
        d->installation_path = xstrdup("/usr/share/code");
        d->executable_path = xstrdup("/usr/bin/code");
        d->desktop_launcher_path = xstrdup("/usr/share/applications/code.desktop");
        d->command_name = xstrdup("code");
        strscpy(d->installed_at, sizeof(d->installed_at), "2026-11-22T10:24:00Z");
        d->verified = true;
        d = session_add_ide(s, "ANTIGRAVITY");
        d->installation_method = IDE_METHOD_APPIMAGE;
        strv_push(&d->verification_errors, "launcher missing");

        struct answers *an = &s->answers;
        strscpy(an->username, sizeof(an->username), "devuser");
        strscpy(an->full_name, sizeof(an->full_name), "Dev Ëlopér");
        strscpy(an->password_hash, sizeof(an->password_hash), HASH);
        an->password_length = 24;
        an->copy_root_ssh_keys = true;
        /* "example" is in no catalog here: a session still reads back */
        strscpy(an->ides, sizeof(an->ides), "vscode, example");
        strscpy(an->ide_catalog, sizeof(an->ide_catalog), "/etc/vps-provision/ides.ini");
        an->rdp_port = 3390;
        an->ssh_port = 2222;
        an->firewall = true;
        an->hardening = true;
        an->fail2ban = true;
        an->display_manager = true;
        an->screen_locker = true;
        an->sound = true;
        an->upgrade = true;
        strscpy(an->apt_mirror, sizeof(an->apt_mirror), "http://deb.debian.org/debian");
        an->log_level = LOG_DEBUG;
        an->on_failure = ON_FAILURE_KEEP;
}

static char *to_text(const struct session *s)
{
        struct json_object *o = session_to_json(s);
        char *t = xstrdup(json_object_to_json_string_ext(
                o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE));
        json_object_put(o);
        return t;
}

static void assert_str_eq_null(const char *a, const char *b)
{
        if (!a || !b)
                assert_ptr_equal(a, b);
        else
                assert_string_equal(a, b);
}

static void assert_strv_equal(char **a, char **b)
{
        assert_int_equal(strv_length(a), strv_length(b));
        for (size_t i = 0; a && a[i]; i++)
                assert_string_equal(a[i], b[i]);
}

/* Field by field (not only through JSON text) so a field lost both ways
 * is still caught. */
static void assert_session_equal(const struct session *a, const struct session *b)
{
        assert_string_equal(a->session_id, b->session_id);
        assert_string_equal(a->start_time, b->start_time);
        assert_string_equal(a->end_time, b->end_time);
        assert_int_equal(a->status, b->status);
        assert_int_equal(a->mode, b->mode);
        assert_str_eq_null(a->error_details, b->error_details);
        assert_int_equal(a->duration_seconds, b->duration_seconds);
        assert_str_eq_null(a->tool_version, b->tool_version);
        assert_str_eq_null(a->resumed_from, b->resumed_from);
        assert_str_eq_null(a->journal_path, b->journal_path);
        assert_str_eq_null(a->log_path, b->log_path);
        assert_int_equal(a->exit_code, b->exit_code);

        assert_string_equal(a->vps_info.hostname, b->vps_info.hostname);
        assert_string_equal(a->vps_info.ip_address, b->vps_info.ip_address);
        assert_string_equal(a->vps_info.os_name, b->vps_info.os_name);
        assert_string_equal(a->vps_info.os_id, b->vps_info.os_id);
        assert_string_equal(a->vps_info.os_version, b->vps_info.os_version);
        assert_string_equal(a->vps_info.os_codename, b->vps_info.os_codename);
        assert_string_equal(a->vps_info.kernel_version, b->vps_info.kernel_version);
        assert_string_equal(a->vps_info.architecture, b->vps_info.architecture);
        assert_string_equal(a->vps_info.virtualization, b->vps_info.virtualization);
        assert_int_equal(a->vps_info.cpu_cores, b->vps_info.cpu_cores);
        assert_int_equal(a->vps_info.ram_mb, b->vps_info.ram_mb);
        assert_int_equal(a->vps_info.disk_space_gb, b->vps_info.disk_space_gb);
        assert_true(a->vps_info.disk_available_gb == b->vps_info.disk_available_gb);
        assert_int_equal(a->vps_info.validated, b->vps_info.validated);

        assert_int_equal(a->n_phases, b->n_phases);
        for (size_t i = 0; i < a->n_phases; i++) {
                const struct session_phase *p = &a->phases[i], *q = &b->phases[i];
                assert_string_equal(p->name, q->name);
                assert_int_equal(p->status, q->status);
                assert_string_equal(p->start_time, q->start_time);
                assert_string_equal(p->end_time, q->end_time);
                assert_int_equal(p->duration_seconds, q->duration_seconds);
                assert_int_equal(p->checkpoint_exists, q->checkpoint_exists);
                assert_str_eq_null(p->error_message, q->error_message);
                assert_int_equal(p->n_actions, q->n_actions);
                for (size_t k = 0; k < p->n_actions; k++) {
                        const struct session_action *x = &p->actions[k], *y = &q->actions[k];
                        assert_string_equal(x->type, y->type);
                        assert_str_eq_null(x->target, y->target);
                        assert_int_equal(x->status, y->status);
                        assert_string_equal(x->timestamp, y->timestamp);
                        assert_str_eq_null(x->output, y->output);
                        assert_int_equal(x->journal_seq, y->journal_seq);
                        assert_str_eq_null(x->undo, y->undo);
                }
        }

        assert_int_equal(a->has_user, b->has_user);
        if (a->has_user) {
                const struct session_user *u = &a->developer_user, *w = &b->developer_user;
                assert_string_equal(u->username, w->username);
                assert_string_equal(u->full_name, w->full_name);
                assert_int_equal(u->uid, w->uid);
                assert_int_equal(u->gid, w->gid);
                assert_string_equal(u->home_directory, w->home_directory);
                assert_string_equal(u->shell, w->shell);
                assert_strv_equal(u->groups, w->groups);
                assert_int_equal(u->password_expires, w->password_expires);
                assert_int_equal(u->ssh_key_auth_enabled, w->ssh_key_auth_enabled);
                assert_string_equal(u->created_at, w->created_at);
        }

        assert_int_equal(a->n_ides, b->n_ides);
        for (size_t i = 0; i < a->n_ides; i++) {
                const struct session_ide *x = &a->ides[i], *y = &b->ides[i];
                assert_string_equal(x->ide_name, y->ide_name);
                assert_str_eq_null(x->version, y->version);
                assert_int_equal(x->installation_method, y->installation_method);
                assert_str_eq_null(x->installation_path, y->installation_path);
                assert_str_eq_null(x->executable_path, y->executable_path);
                assert_str_eq_null(x->desktop_launcher_path, y->desktop_launcher_path);
                assert_str_eq_null(x->command_name, y->command_name);
                assert_string_equal(x->installed_at, y->installed_at);
                assert_int_equal(x->verified, y->verified);
                assert_strv_equal(x->verification_errors, y->verification_errors);
        }

        const struct answers *p = &a->answers, *q = &b->answers;
        assert_string_equal(p->username, q->username);
        assert_string_equal(p->full_name, q->full_name);
        assert_int_equal(p->copy_root_ssh_keys, q->copy_root_ssh_keys);
        assert_string_equal(p->ides, q->ides);
        assert_string_equal(p->ide_catalog, q->ide_catalog);
        assert_int_equal(p->rdp_port, q->rdp_port);
        assert_int_equal(p->ssh_port, q->ssh_port);
        assert_int_equal(p->firewall, q->firewall);
        assert_int_equal(p->hardening, q->hardening);
        assert_int_equal(p->fail2ban, q->fail2ban);
        assert_int_equal(p->display_manager, q->display_manager);
        assert_int_equal(p->screen_locker, q->screen_locker);
        assert_int_equal(p->sound, q->sound);
        assert_int_equal(p->upgrade, q->upgrade);
        assert_string_equal(p->apt_mirror, q->apt_mirror);
        assert_int_equal(p->log_level, q->log_level);
        assert_int_equal(p->on_failure, q->on_failure);
}

/* A second run of an IDE phase refills its record: one record, emptied. */
static void test_set_ide(void **state)
{
        struct session s;
        struct session_ide *d;

        (void)state;
        session_init(&s, "20261206-120000");
        d = session_set_ide(&s, "EXAMPLE");
        d->version = xstrdup("1.0.0");
        strv_push(&d->verification_errors, "command example-ide is not on PATH");
        (void)session_add_ide(&s, "VSCODE");
        d = session_set_ide(&s, "EXAMPLE");
        assert_int_equal(s.n_ides, 2);
        assert_ptr_equal(d, &s.ides[0]);
        assert_string_equal(d->ide_name, "EXAMPLE");
        assert_null(d->version);
        assert_null(d->verification_errors);
        assert_string_equal(session_set_ide(&s, "CURSOR")->ide_name, "CURSOR");
        assert_int_equal(s.n_ides, 3);
        session_release(&s);
}

static void test_json_roundtrip(void **state)
{
        (void)state;
        struct session s, back;
        _cleanup_free_ char *text = NULL, *again = NULL;

        fill_session(&s, "20261122-101500");
        text = to_text(&s);
        struct json_object *o = json_tokener_parse(text);
        assert_non_null(o);
        assert_int_equal(session_from_json(o, &back), 0);
        json_object_put(o);
        assert_session_equal(&s, &back);
        /* the password hash is not carried over */
        assert_string_equal(back.answers.password_hash, "");
        again = to_text(&back);
        assert_string_equal(text, again);
        session_release(&back);

        /* a bare new session round-trips too (nulls, empty arrays, no user) */
        session_release(&s);
        session_init(&s, "20261122-101501");
        free(text);
        text = to_text(&s);
        o = json_tokener_parse(text);
        assert_int_equal(session_from_json(o, &back), 0);
        json_object_put(o);
        assert_session_equal(&s, &back);
        assert_false(back.has_user);
        assert_string_equal(back.end_time, "");
        assert_null(back.error_details);
        session_release(&back);
        session_release(&s);
}

static void test_data_model_names(void **state)
{
        (void)state;
        struct session s;
        fill_session(&s, "20261122-101500");
        _cleanup_free_ char *text = to_text(&s);
        static const char *const want[] = {
                "\"session_id\": \"20261122-101500\"", "\"start_time\": \"2026-11-22T10:15:00Z\"",
                "\"end_time\"", "\"status\": \"FAILED\"", "\"duration_seconds\": 735",
                "\"error_details\"", "\"phases\"", "\"phase_name\": \"system-prep\"",
                "\"status\": \"COMPLETED\"", "\"checkpoint_exists\": true", "\"actions\"",
                "\"action_type\": \"PACKAGE_INSTALL\"", "\"target\": \"xrdp\"", "\"timestamp\"",
                "\"output\"", "\"error_message\"", "\"vps_info\"",
                "\"hostname\": \"debian-4gb-fra1-01\"", "\"ip_address\"", "\"os_name\"",
                "\"os_version\": \"13\"", "\"kernel_version\"", "\"cpu_cores\": 2",
                "\"ram_mb\": 4096", "\"disk_space_gb\": 80", "\"disk_available_gb\": 75.3",
                "\"validated\": true", "\"developer_user\"", "\"username\": \"devuser\"",
                "\"full_name\"", "\"uid\": 1001", "\"gid\": 1002", "\"home_directory\"",
                "\"shell\"", "\"groups\"", "\"password_expires\": true",
                "\"ssh_key_auth_enabled\": true", "\"created_at\"", "\"ide_installations\"",
                "\"ide_name\": \"VSCODE\"", "\"version\"",
                "\"installation_method\": \"APT_REPOSITORY\"",
                "\"installation_method\": \"APPIMAGE\"", "\"installation_path\"",
                "\"executable_path\"", "\"desktop_launcher_path\"", "\"command_name\"",
                "\"installed_at\"", "\"verified\": true", "\"verification_errors\"",
                "\"mode\": \"resume\"", "\"tool_version\"", "\"resumed_from\"",
                "\"journal_path\"", "\"log_path\"", "\"exit_code\": 4", "\"configuration\"",
                "\"rdp_port\": \"3390\"", "\"on_failure\": \"keep\"", "\"log_level\": \"debug\"",
                "\"skip_reason\": \"disabled\"",
        };
        for (size_t i = 0; i < ELEMENTSOF(want); i++)
                if (!strstr(text, want[i]))
                        fail_msg("session JSON lacks %s:\n%s", want[i], text);
        /* only the data model's phase statuses */
        assert_null(strstr(text, "\"DISABLED\""));
        session_release(&s);
}

/* Every "password" in text is the start of "password_expires" or of the
 * generated password's length setting, or the end of the yes/no keys
 * layout_safe_password and sudo_password; never a password or its hash. */
static void assert_no_password(const char *text)
{
        for (const char *p = text; (p = strcasestr(p, "password")); p++) {
                bool yes_no = (p - text >= 12 && startswith(p - 12, "layout_safe_password\": \"")) ||
                              (p - text >= 5 && startswith(p - 5, "sudo_password\": \""));
                if (!startswith(p, "password_expires") && !startswith(p, "password_length") && !yes_no)
                        fail_msg("session JSON mentions a password: …%.40s…", p);
        }
        assert_null(strstr(text, HASH));
        assert_null(strstr(text, "$y$"));
}

static void test_no_password_anywhere(void **state)
{
        (void)state;
        char *dir = test_tmpdir();
        _cleanup_free_ char *path = test_path(dir, "session-20261122-101500.json");
        struct session s;

        fill_session(&s, "20261122-101500");
        _cleanup_free_ char *text = to_text(&s);
        assert_no_password(text);
        assert_int_equal(session_save(&s, path), 0);
        _cleanup_free_ char *file = test_read(path);
        assert_no_password(file);
        assert_non_null(strstr(file, "password_expires"));   /* the check above saw it */
        session_release(&s);
}

static mode_t mode_of(const char *p)
{
        struct stat st;
        assert_int_equal(stat(p, &st), 0);
        return st.st_mode & 07777;
}

static void test_save_load(void **state)
{
        (void)state;
        _cleanup_free_ char *dir = test_path(test_tmpdir(), "state/sessions");
        char path[4096];
        struct session s, back;

        fill_session(&s, "20261122-101500");
        assert_int_equal(session_path(dir, s.session_id, path, sizeof(path)), 0);
        assert_non_null(strstr(path, "/state/sessions/session-20261122-101500.json"));
        assert_int_equal(session_save(&s, path), 0);
        assert_int_equal(mode_of(dir), 0700);
        assert_int_equal(mode_of(path), 0600);
        assert_int_equal(session_load(path, &back), 0);
        assert_session_equal(&s, &back);
        session_release(&back);

        /* saved again over the old one */
        s.status = SESSION_ROLLED_BACK;
        assert_int_equal(session_save(&s, path), 0);
        assert_int_equal(session_load(path, &back), 0);
        assert_int_equal(back.status, SESSION_ROLLED_BACK);
        session_release(&back);
        session_release(&s);
}

static void check_load_fails(const char *content, int want)
{
        char *dir = test_tmpdir();
        _cleanup_free_ char *path = test_path(dir, "session-20261122-101500.json");
        struct session back = { .exit_code = 77 };

        test_write(path, content);
        int r = session_load(path, &back);
        if (r != want)
                fail_msg("session_load gave %d, wanted %d, for: %s", r, want, content);
        assert_int_equal(back.exit_code, 77);   /* untouched */
}

static void test_load_errors(void **state)
{
        (void)state;
        char *dir = test_tmpdir();
        _cleanup_free_ char *missing = test_path(dir, "session-20261122-101500.json");
        struct session back;

        assert_int_equal(session_load(missing, &back), -ENOENT);
        check_load_fails("", -EBADMSG);
        check_load_fails("{\"session_id\":\"20261122-101500\"", -EBADMSG);   /* cut short */
        check_load_fails("[]", -EBADMSG);
        check_load_fails("{\"hello\":1}", -EBADMSG);   /* not a session */
        check_load_fails("{\"session_id\":\"../../etc\",\"status\":\"FAILED\"}", -EBADMSG);
        check_load_fails("{\"session_id\":\"20261122-101500\"}", -EBADMSG);   /* no status */
        check_load_fails("{\"session_id\":\"20261122-101500\",\"status\":\"EXPLODED\"}", -EBADMSG);
        check_load_fails("{\"session_id\":\"20261122-101500\",\"status\":3}", -EBADMSG);
        check_load_fails("{\"session_id\":\"20261122-101500\",\"status\":\"FAILED\","
                         "\"phases\":[{\"phase_name\":\"x\",\"status\":\"WEIRD\"}]}", -EBADMSG);
        check_load_fails("{\"session_id\":\"20261122-101500\",\"status\":\"FAILED\","
                         "\"phases\":[{\"status\":\"PENDING\"}]}", -EBADMSG);
        check_load_fails("{\"session_id\":\"20261122-101500\",\"status\":\"FAILED\","
                         "\"vps_info\":{\"ram_mb\":\"lots\"}}", -EBADMSG);
        check_load_fails("{\"session_id\":\"20261122-101500\",\"status\":\"FAILED\","
                         "\"developer_user\":{\"username\":\"a-name-much-longer-than-thirty-two-characters\"}}",
                         -EBADMSG);
        check_load_fails("{\"session_id\":\"20261122-101500\",\"status\":\"FAILED\","
                         "\"configuration\":{\"ides\":[\"emacs\"]}}", -EBADMSG);
        check_load_fails("{\"session_id\":\"20261122-101500\",\"status\":\"FAILED\","
                         "\"configuration\":{\"rdp_port\":70000}}", -EBADMSG);
        check_load_fails("{\"session_id\":\"20261122-101500\",\"status\":\"FAILED\","
                         "\"ide_installations\":[{\"ide_name\":\"VSCODE\","
                         "\"installation_method\":\"FLATPAK\"}]}", -EBADMSG);
        check_load_fails("{\"session_id\":\"20261122-101500\",\"status\":\"FAILED\"} extra",
                         -EBADMSG);
        check_load_fails("{\"session_id\":\"20261122-101500\",\"status\":\"FAILED\","
                         "\"status\":\"COMPLETED\"}", -EBADMSG);   /* a key twice */

        /* a minimal document from an older version loads with defaults */
        _cleanup_free_ char *p = test_path(dir, "minimal.json");
        test_write(p, "{\"session_id\":\"20261122-101500-2\",\"status\":\"COMPLETED\"}\n");
        assert_int_equal(session_load(p, &back), 0);
        assert_int_equal(back.status, SESSION_COMPLETED);
        assert_int_equal(back.n_phases, 0);
        assert_false(back.has_user);
        session_release(&back);
}

static void test_ids_and_paths(void **state)
{
        (void)state;
        char id[SESSION_ID_MAX], buf[64], small[16];
        char *dir = test_tmpdir();

        session_new_id(id);
        assert_int_equal(strlen(id), 15);
        assert_int_equal(id[8], '-');
        assert_int_equal(session_path("/d", id, buf, sizeof(buf)), 0);
        assert_int_equal(session_path("/d", "../x", buf, sizeof(buf)), -EINVAL);
        assert_int_equal(session_path("/d", "20261122-1015", buf, sizeof(buf)), -EINVAL);
        assert_int_equal(session_path("/d", "20261122-101500-0", buf, sizeof(buf)), -EINVAL);
        assert_int_equal(session_path("/d", "20261122-101500-2", buf, sizeof(buf)), 0);
        assert_int_equal(session_path("/d", "20261122-101500", small, sizeof(small)),
                         -ENAMETOOLONG);

        /* unique within a directory: a second run in the same second gets -2 */
        char first[SESSION_ID_MAX], second[SESSION_ID_MAX], path[4096];
        struct session s;
        assert_int_equal(session_new_unique_id(dir, first), 0);
        session_init(&s, first);
        assert_int_equal(session_path(dir, first, path, sizeof(path)), 0);
        assert_int_equal(session_save(&s, path), 0);
        session_release(&s);
        assert_int_equal(session_new_unique_id(dir, second), 0);
        assert_string_not_equal(first, second);
        if (strncmp(first, second, 15) == 0)
                assert_string_equal(second + 15, "-2");
}

static void test_phases_actions_ides(void **state)
{
        (void)state;
        struct session s;

        session_init(&s, "20261122-101500");
        assert_int_equal(s.status, SESSION_INITIALIZING);
        assert_int_equal(strlen(s.start_time), 20);
        session_add_phase(&s, "preflight");
        session_add_phase(&s, "desktop");
        struct session_phase *p = session_find_phase(&s, "desktop");
        assert_non_null(p);
        assert_string_equal(p->name, "desktop");
        assert_int_equal(p->status, PHASE_PENDING);
        assert_null(session_find_phase(&s, "rdp"));
        struct session_action *a = session_phase_add_action(p, "PACKAGE_INSTALL", "xfce4");
        assert_int_equal(a->status, ACTION_PENDING);
        assert_int_equal(strlen(a->timestamp), 20);
        assert_int_equal(p->n_actions, 1);
        struct session_ide *d = session_add_ide(&s, "CURSOR");
        assert_string_equal(d->ide_name, "CURSOR");
        assert_int_equal(s.n_ides, 1);
        session_release(&s);
        assert_int_equal(s.n_phases, 0);
        session_release(&s);   /* twice is fine */
}

static void save_with_status(const char *dir, const char *id, enum session_status st)
{
        struct session s;
        char path[4096];

        session_init(&s, id);
        s.status = st;
        assert_int_equal(session_path(dir, id, path, sizeof(path)), 0);
        assert_int_equal(session_save(&s, path), 0);
        session_release(&s);
}

static void test_list_and_find_latest(void **state)
{
        (void)state;
        char *dir = test_tmpdir();
        _cleanup_free_ char *nodir = test_path(dir, "nonexistent");
        _cleanup_free_ char *junk1 = test_path(dir, "session-garbage.json");
        _cleanup_free_ char *junk2 = test_path(dir, "notes.json");
        _cleanup_free_ char *broken = test_path(dir, "session-20261124-000000.json");
        char buf[4096];

        /* nothing yet */
        char **ids = session_list(nodir);
        assert_non_null(ids);
        assert_null(ids[0]);
        strv_free(ids);
        assert_int_equal(session_find_latest(nodir, 0, buf, sizeof(buf)), -ENOENT);

        save_with_status(dir, "20261121-235959", SESSION_COMPLETED);
        save_with_status(dir, "20261122-101500", SESSION_FAILED);
        save_with_status(dir, "20261122-101500-2", SESSION_ROLLED_BACK);
        save_with_status(dir, "20261122-101500-10", SESSION_IN_PROGRESS);
        test_write(junk1, "{}");
        test_write(junk2, "{}");
        test_write(broken, "not json");   /* newest by name, but unreadable */

        ids = session_list(dir);
        assert_int_equal(strv_length(ids), 5);
        assert_string_equal(ids[0], "20261124-000000");
        assert_string_equal(ids[1], "20261122-101500-10");   /* -10 after -2: numeric */
        assert_string_equal(ids[2], "20261122-101500-2");
        assert_string_equal(ids[3], "20261122-101500");
        assert_string_equal(ids[4], "20261121-235959");
        strv_free(ids);

        /* any status: the newest file, even unreadable */
        assert_int_equal(session_find_latest(dir, 0, buf, sizeof(buf)), 0);
        assert_non_null(strstr(buf, "/session-20261124-000000.json"));
        /* with a mask the file must load and match */
        assert_int_equal(session_find_latest(dir, 1u << SESSION_FAILED, buf, sizeof(buf)), 0);
        assert_non_null(strstr(buf, "/session-20261122-101500.json"));
        assert_int_equal(session_find_latest(dir, (1u << SESSION_FAILED) |
                                                          (1u << SESSION_IN_PROGRESS),
                                             buf, sizeof(buf)), 0);
        assert_non_null(strstr(buf, "/session-20261122-101500-10.json"));
        assert_int_equal(session_find_latest(dir, 1u << SESSION_COMPLETED, buf, sizeof(buf)), 0);
        assert_non_null(strstr(buf, "/session-20261121-235959.json"));
        assert_int_equal(session_find_latest(dir, 1u << SESSION_INITIALIZING, buf, sizeof(buf)),
                         -ENOENT);
        char tiny[8];
        assert_int_equal(session_find_latest(dir, 0, tiny, sizeof(tiny)), -ENAMETOOLONG);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_json_roundtrip),
                cmocka_unit_test(test_set_ide),
                cmocka_unit_test(test_data_model_names),
                cmocka_unit_test(test_no_password_anywhere),
                cmocka_unit_test(test_save_load),
                cmocka_unit_test(test_load_errors),
                cmocka_unit_test(test_ids_and_paths),
                cmocka_unit_test(test_phases_actions_ides),
                cmocka_unit_test(test_list_and_find_latest),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
