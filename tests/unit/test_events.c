/* test_events.c — every event type built with all its fields, serialized
 * to one JSON line, parsed back and compared field by field, then freed
 * (valgrind finds leaks); names of the enums; the credentials event's
 * password (serialized only there, wiped and unmapped on free). */
#include "testlib.h"

#include <json-c/json.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "events.h"
#include "secret.h"
#include "util.h"

/* 2026-11-22T10:15:00.123Z */
#define T_MS INT64_C(1795342500123)
#define T_STR "2026-11-22T10:15:00.123Z"

/* Serializes ev to one line, checks the common fields and the number of
 * keys, and returns the object parsed back from the text. */
static struct json_object *roundtrip(const struct event *ev, int n_keys)
{
        struct json_object *o = event_to_json(ev), *back, *v;
        const char *text;

        assert_non_null(o);
        text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
        assert_non_null(text);
        assert_null(strchr(text, '\n'));   /* one line */
        assert_true(startswith(text, "{\"v\":1,\"event\":\""));
        back = json_tokener_parse(text);
        assert_non_null(back);
        json_object_put(o);

        assert_true(json_object_is_type(back, json_type_object));
        assert_true(json_object_object_get_ex(back, "v", &v));
        assert_true(json_object_is_type(v, json_type_int));
        assert_int_equal(json_object_get_int(v), EVENT_FORMAT_VERSION);
        assert_true(json_object_object_get_ex(back, "event", &v));
        assert_string_equal(json_object_get_string(v), event_type_name(ev->type));
        assert_true(json_object_object_get_ex(back, "time", &v));
        assert_string_equal(json_object_get_string(v), T_STR);
        assert_true(json_object_object_get_ex(back, "seq", &v));
        assert_true(json_object_get_uint64(v) == ev->seq);
        assert_int_equal(json_object_object_length(back), 4 + n_keys);
        return back;
}

static struct json_object *get(struct json_object *o, const char *key, enum json_type t)
{
        struct json_object *v = NULL;
        if (!json_object_object_get_ex(o, key, &v))
                fail_msg("key \"%s\" missing", key);
        if (!json_object_is_type(v, t))
                fail_msg("key \"%s\" has type %s", key, json_type_to_name(json_object_get_type(v)));
        return v;
}

static void expect_str(struct json_object *o, const char *key, const char *want)
{
        if (!want) {
                get(o, key, json_type_null);
                return;
        }
        assert_string_equal(json_object_get_string(get(o, key, json_type_string)), want);
}

static void expect_int(struct json_object *o, const char *key, int64_t want)
{
        assert_true(json_object_get_int64(get(o, key, json_type_int)) == want);
}

static void expect_bool(struct json_object *o, const char *key, bool want)
{
        assert_int_equal(json_object_get_boolean(get(o, key, json_type_boolean)), want);
}

static void expect_double(struct json_object *o, const char *key, double want)
{
        struct json_object *v = NULL;
        assert_true(json_object_object_get_ex(o, key, &v));
        /* 0 or 1 may come back as an int; the value is what counts */
        assert_true(json_object_get_double(v) == want);
}

static void expect_strv(struct json_object *o, const char *key, const char *const *want)
{
        struct json_object *a = get(o, key, json_type_array);
        size_t n = 0;
        while (want[n])
                n++;
        assert_int_equal(json_object_array_length(a), n);
        for (size_t i = 0; i < n; i++)
                assert_string_equal(json_object_get_string(json_object_array_get_idx(a, i)), want[i]);
}

static struct event *new_at(enum event_type t, uint64_t seq)
{
        struct event *ev = event_new(t);
        assert_non_null(ev);
        assert_int_equal(ev->type, t);
        ev->time_ms = T_MS;
        ev->seq = seq;
        return ev;
}

static void test_session_start(void **state)
{
        struct event *ev = new_at(EV_SESSION_START, 1);
        struct json_object *o, *a, *p;
        (void)state;

        ev->session.session_id = xstrdup("20261122-101500-ab12");
        ev->session.mode = MODE_RESUME;
        ev->session.log_path = xstrdup("/var/log/vps-provision/x.log");
        ev->session.session_path = xstrdup("/var/lib/vps-provision/sessions/session-x.json");
        ev->session.n_phases = 2;
        ev->session.phases = xcalloc(2, sizeof(struct ev_phase_info));
        ev->session.phases[0] = (struct ev_phase_info){ xstrdup("desktop"), xstrdup("Desktop"), 30, PHASE_DONE };
        ev->session.phases[1] = (struct ev_phase_info){ xstrdup("ide-cursor"), xstrdup("Cursor"), 5, PHASE_DISABLED };

        o = roundtrip(ev, 5);
        expect_str(o, "session_id", "20261122-101500-ab12");
        expect_str(o, "mode", "resume");
        expect_str(o, "log_path", "/var/log/vps-provision/x.log");
        expect_str(o, "session_path", "/var/lib/vps-provision/sessions/session-x.json");
        a = get(o, "phases", json_type_array);
        assert_int_equal(json_object_array_length(a), 2);
        p = json_object_array_get_idx(a, 0);
        assert_int_equal(json_object_object_length(p), 4);
        expect_str(p, "id", "desktop");
        expect_str(p, "title", "Desktop");
        expect_int(p, "weight", 30);
        expect_str(p, "state", "done");
        p = json_object_array_get_idx(a, 1);
        expect_str(p, "id", "ide-cursor");
        expect_str(p, "title", "Cursor");
        expect_int(p, "weight", 5);
        expect_str(p, "state", "disabled");
        json_object_put(o);
        event_free(ev);

        /* a dry run: no paths, no phases yet */
        ev = new_at(EV_SESSION_START, 2);
        ev->session.session_id = xstrdup("dry");
        ev->session.mode = MODE_DRY_RUN;
        o = roundtrip(ev, 5);
        expect_str(o, "mode", "dry-run");
        expect_str(o, "log_path", NULL);
        expect_str(o, "session_path", NULL);
        assert_int_equal(json_object_array_length(get(o, "phases", json_type_array)), 0);
        json_object_put(o);
        event_free(ev);
}

static void test_preflight(void **state)
{
        struct event *ev = new_at(EV_PREFLIGHT, 3);
        struct vps_info *v = &ev->preflight.info;
        struct check_list *l = &ev->preflight.checks;
        struct json_object *o, *i, *a, *c, *d;
        (void)state;

        strscpy(v->hostname, sizeof(v->hostname), "dev-box");
        strscpy(v->ip_address, sizeof(v->ip_address), "203.0.113.7");
        strscpy(v->os_name, sizeof(v->os_name), "Debian GNU/Linux");
        strscpy(v->os_id, sizeof(v->os_id), "debian");
        strscpy(v->os_version, sizeof(v->os_version), "13");
        strscpy(v->os_codename, sizeof(v->os_codename), "trixie");
        strscpy(v->kernel_version, sizeof(v->kernel_version), "6.12.0-1-amd64");
        strscpy(v->architecture, sizeof(v->architecture), "amd64");
        strscpy(v->virtualization, sizeof(v->virtualization), "kvm");
        v->cpu_cores = 4;
        v->ram_mb = 7951;
        v->disk_space_gb = 80;
        v->disk_available_gb = 61.5;
        v->validated = false;

        l->n = 2;
        l->v = xcalloc(2, sizeof(struct check));
        l->v[0] = (struct check){ .name = xstrdup("Operating system"), .category = xstrdup("system"),
                                  .status = CHECK_PASS, .message = xstrdup("Debian 13 (trixie)") };
        strv_push(&l->v[0].details, "version_id");
        strv_push(&l->v[0].details, "13");
        l->v[1] = (struct check){ .name = xstrdup("Memory"), .category = xstrdup("system"),
                                  .status = CHECK_FAIL, .message = xstrdup("1024 MB of RAM"),
                                  .fix = xstrdup("Use a server with at least 2 GB of RAM") };
        strv_push(&l->v[1].details, "ram_mb");
        strv_push(&l->v[1].details, "1024");
        strv_push(&l->v[1].details, "min_mb");
        strv_push(&l->v[1].details, "2048");
        ev->preflight.refused = true;

        o = roundtrip(ev, 3);
        expect_bool(o, "refused", true);
        i = get(o, "info", json_type_object);
        assert_int_equal(json_object_object_length(i), 14);
        expect_str(i, "hostname", "dev-box");
        expect_str(i, "ip_address", "203.0.113.7");
        expect_str(i, "os_name", "Debian GNU/Linux");
        expect_str(i, "os_id", "debian");
        expect_str(i, "os_version", "13");
        expect_str(i, "os_codename", "trixie");
        expect_str(i, "kernel_version", "6.12.0-1-amd64");
        expect_str(i, "architecture", "amd64");
        expect_str(i, "virtualization", "kvm");
        expect_int(i, "cpu_cores", 4);
        expect_int(i, "ram_mb", 7951);
        expect_int(i, "disk_space_gb", 80);
        expect_double(i, "disk_available_gb", 61.5);
        expect_bool(i, "validated", false);

        a = get(o, "checks", json_type_array);
        assert_int_equal(json_object_array_length(a), 2);
        c = json_object_array_get_idx(a, 0);
        assert_int_equal(json_object_object_length(c), 6);
        expect_str(c, "name", "Operating system");
        expect_str(c, "category", "system");
        expect_str(c, "status", "pass");
        expect_str(c, "message", "Debian 13 (trixie)");
        expect_str(c, "fix", NULL);
        d = get(c, "details", json_type_object);
        assert_int_equal(json_object_object_length(d), 1);
        expect_str(d, "version_id", "13");
        c = json_object_array_get_idx(a, 1);
        expect_str(c, "name", "Memory");
        expect_str(c, "status", "fail");
        expect_str(c, "message", "1024 MB of RAM");
        expect_str(c, "fix", "Use a server with at least 2 GB of RAM");
        d = get(c, "details", json_type_object);
        assert_int_equal(json_object_object_length(d), 2);
        expect_str(d, "ram_mb", "1024");
        expect_str(d, "min_mb", "2048");
        json_object_put(o);
        event_free(ev);

        /* no checks at all */
        ev = new_at(EV_PREFLIGHT, 4);
        o = roundtrip(ev, 3);
        assert_int_equal(json_object_array_length(get(o, "checks", json_type_array)), 0);
        expect_str(get(o, "info", json_type_object), "hostname", "");
        json_object_put(o);
        event_free(ev);
}

static void test_phase_start_end(void **state)
{
        struct event *ev = new_at(EV_PHASE_START, 5);
        struct json_object *o;
        (void)state;

        ev->phase_start.index = 3;
        ev->phase_start.id = xstrdup("rdp");
        ev->phase_start.title = xstrdup("Remote desktop (xrdp)");
        o = roundtrip(ev, 3);
        expect_int(o, "index", 3);
        expect_str(o, "id", "rdp");
        expect_str(o, "title", "Remote desktop (xrdp)");
        json_object_put(o);
        event_free(ev);

        ev = new_at(EV_PHASE_END, 6);
        ev->phase_end.index = 3;
        ev->phase_end.id = xstrdup("rdp");
        ev->phase_end.state = PHASE_FAILED;
        ev->phase_end.duration_ms = 123456;
        ev->phase_end.message = xstrdup("apt-get install xrdp failed (exit 100)");
        o = roundtrip(ev, 5);
        expect_int(o, "index", 3);
        expect_str(o, "id", "rdp");
        expect_str(o, "state", "failed");
        expect_int(o, "duration_ms", 123456);
        expect_str(o, "message", "apt-get install xrdp failed (exit 100)");
        json_object_put(o);
        event_free(ev);

        ev = new_at(EV_PHASE_END, 7);
        ev->phase_end.id = xstrdup("rdp");
        ev->phase_end.state = PHASE_ROLLED_BACK;
        o = roundtrip(ev, 5);
        expect_str(o, "state", "rolled-back");
        expect_str(o, "message", NULL);
        json_object_put(o);
        event_free(ev);
}

static void test_action_start_end(void **state)
{
        struct event *ev = new_at(EV_ACTION_START, 8);
        struct json_object *o;
        (void)state;

        ev->action_start.phase_index = 2;
        ev->action_start.type = xstrdup("PACKAGE_INSTALL");
        ev->action_start.target = xstrdup("xfce4");
        ev->action_start.title = xstrdup("Installing 412 packages");
        o = roundtrip(ev, 4);
        expect_int(o, "phase_index", 2);
        expect_str(o, "type", "PACKAGE_INSTALL");
        expect_str(o, "target", "xfce4");
        expect_str(o, "title", "Installing 412 packages");
        json_object_put(o);
        event_free(ev);

        ev = new_at(EV_ACTION_END, 9);
        ev->action_end.phase_index = 2;
        ev->action_end.ok = false;
        ev->action_end.duration_ms = 98765;
        ev->action_end.message = xstrdup("dpkg was interrupted");
        o = roundtrip(ev, 4);
        expect_int(o, "phase_index", 2);
        expect_bool(o, "ok", false);
        expect_int(o, "duration_ms", 98765);
        expect_str(o, "message", "dpkg was interrupted");
        json_object_put(o);
        event_free(ev);

        ev = new_at(EV_ACTION_END, 10);
        ev->action_end.ok = true;
        o = roundtrip(ev, 4);
        expect_bool(o, "ok", true);
        expect_str(o, "message", NULL);
        json_object_put(o);
        event_free(ev);
}

static void test_log_event(void **state)
{
        struct event *ev = new_at(EV_LOG, 11);
        struct json_object *o;
        (void)state;

        assert_int_equal(ev->log.phase_index, -1);   /* default: the engine */
        assert_int_equal(ev->log.level, LOG_INFO);
        ev->log.level = LOG_WARNING;
        ev->log.phase_index = 4;
        ev->log.text = xstrdup("Unpacking xfce4-panel \"4.20\" \\ tab\t");
        ev->log.dropped_before = 17;
        o = roundtrip(ev, 4);
        expect_str(o, "level", "WARNING");
        expect_int(o, "phase_index", 4);
        expect_str(o, "text", "Unpacking xfce4-panel \"4.20\" \\ tab\t");
        expect_int(o, "dropped_before", 17);
        json_object_put(o);
        event_free(ev);

        /* bytes that are not UTF-8 still give valid JSON, good ones are kept */
        ev = new_at(EV_LOG, 12);
        ev->log.text = xstrdup("bad \xff\xc3( ok \xc3\xa9 cut \xe2\x82");
        o = roundtrip(ev, 4);
        expect_str(o, "text", "bad \xef\xbf\xbd\xef\xbf\xbd( ok \xc3\xa9 cut \xef\xbf\xbd\xef\xbf\xbd");
        expect_int(o, "phase_index", -1);
        expect_int(o, "dropped_before", 0);
        json_object_put(o);
        event_free(ev);

        ev = new_at(EV_LOG, 13);   /* no text at all */
        o = roundtrip(ev, 4);
        expect_str(o, "text", NULL);
        json_object_put(o);
        event_free(ev);
}

static void test_progress(void **state)
{
        struct event *ev = new_at(EV_PROGRESS, 14);
        struct json_object *o;
        (void)state;

        assert_int_equal(ev->progress.eta_ms, -1);
        assert_int_equal(ev->progress.phase_index, -1);
        ev->progress.overall = 0.375;
        ev->progress.phase = 0.5;
        ev->progress.phase_index = 2;
        ev->progress.elapsed_ms = 600000;
        ev->progress.eta_ms = 1000000;
        ev->progress.detail = xstrdup("Unpacking xfce4-panel (132/412)");
        o = roundtrip(ev, 6);
        expect_double(o, "overall", 0.375);
        expect_double(o, "phase", 0.5);
        expect_int(o, "phase_index", 2);
        expect_int(o, "elapsed_ms", 600000);
        expect_int(o, "eta_ms", 1000000);
        expect_str(o, "detail", "Unpacking xfce4-panel (132/412)");
        json_object_put(o);
        event_free(ev);

        ev = new_at(EV_PROGRESS, 15);
        o = roundtrip(ev, 6);
        expect_int(o, "eta_ms", -1);
        expect_str(o, "detail", NULL);
        json_object_put(o);
        event_free(ev);
}

static void test_prompt(void **state)
{
        static const char *const tail[] = { "E: Unable to locate package xrdp", "exit 100", NULL };
        static const char *const undo[] = { "remove packages xrdp xorgxrdp", "restore /etc/xrdp/xrdp.ini", NULL };
        static const char *const none[] = { NULL };
        static const char *const fail_choices[] = { "retry", "rollback", "keep", NULL };
        static const char *const confirm_choices[] = { "rollback", "keep", NULL };
        struct event *ev = new_at(EV_PROMPT, 16);
        struct json_object *o;
        (void)state;

        ev->prompt.id = 7;
        ev->prompt.kind = PROMPT_PHASE_FAILED;
        ev->prompt.title = xstrdup("Phase rdp failed");
        ev->prompt.message = xstrdup("apt-get install xrdp failed (exit 100)");
        ev->prompt.tail = strv_copy((char *const *)tail);
        ev->prompt.undo = strv_copy((char *const *)undo);
        o = roundtrip(ev, 7);
        expect_int(o, "id", 7);
        expect_str(o, "kind", "phase_failed");
        expect_strv(o, "choices", fail_choices);
        expect_str(o, "title", "Phase rdp failed");
        expect_str(o, "message", "apt-get install xrdp failed (exit 100)");
        expect_strv(o, "tail", tail);
        expect_strv(o, "undo", undo);
        json_object_put(o);
        event_free(ev);

        ev = new_at(EV_PROMPT, 17);
        ev->prompt.id = 8;
        ev->prompt.kind = PROMPT_CONFIRM_ROLLBACK;
        ev->prompt.title = xstrdup("Roll back?");
        o = roundtrip(ev, 7);
        expect_str(o, "kind", "confirm_rollback");
        expect_strv(o, "choices", confirm_choices);
        expect_str(o, "message", NULL);
        expect_strv(o, "tail", none);
        expect_strv(o, "undo", none);
        json_object_put(o);
        event_free(ev);
}

/* Does any mapping of this process hold addr? (/proc/self/maps) */
static bool is_mapped(const void *addr)
{
        FILE *f = fopen("/proc/self/maps", "re");
        char line[512];
        bool found = false;

        assert_non_null(f);
        while (!found && fgets(line, sizeof(line), f)) {
                uintptr_t a, b;
                if (sscanf(line, "%" SCNxPTR "-%" SCNxPTR, &a, &b) == 2)
                        found = (uintptr_t)addr >= a && (uintptr_t)addr < b;
        }
        fclose(f);
        return found;
}

static void test_credentials(void **state)
{
        struct event *ev = new_at(EV_CREDENTIALS, 18);
        struct secret *pw = NULL;
        struct json_object *o;
        const char *where;
        (void)state;

        assert_int_equal(secret_generate_password(20, &pw), 0);
        ev->credentials.username = xstrdup("devuser");
        ev->credentials.password = pw;
        ev->credentials.host = xstrdup("203.0.113.7");
        ev->credentials.rdp_port = 3389;
        ev->credentials.ssh_port = 2222;
        o = roundtrip(ev, 7);
        expect_str(o, "username", "devuser");
        expect_str(o, "password", secret_str(pw));
        expect_str(o, "password_source", "generated");
        assert_null(creds_password_note(ev));   /* the password itself is shown */
        expect_str(o, "host", "203.0.113.7");
        expect_int(o, "rdp_port", 3389);
        expect_int(o, "ssh_port", 2222);
        expect_str(o, "rdp_listen", "all");
        json_object_put(o);

        /* rdp_listen = localhost: the tunnel to take instead of the address */
        ev->credentials.rdp_localhost = true;
        ev->seq = 18;
        o = roundtrip(ev, 8);
        expect_str(o, "rdp_listen", "localhost");
        expect_str(o, "rdp_tunnel", "ssh -L 3389:localhost:3389 -p 2222 root@203.0.113.7");
        json_object_put(o);
        ev->credentials.rdp_localhost = false;

        where = secret_str(pw);
        assert_true(is_mapped(where));
        event_free(ev);   /* wipes and unmaps the password */
        assert_false(is_mapped(where));

        /* a hash was supplied: no password to show */
        ev = new_at(EV_CREDENTIALS, 19);
        ev->credentials.username = xstrdup("devuser");
        ev->credentials.password_kind = CREDS_PW_FROM_HASH;
        o = roundtrip(ev, 7);
        expect_str(o, "password", NULL);
        expect_str(o, "password_source", "password_hash");
        expect_str(o, "host", NULL);
        json_object_put(o);
        event_free(ev);
}

/* What each UI shows in place of a password the event does not hold: true
 * for each case, never "the answers file's hash" when there was none. */
static void test_credentials_note(void **state)
{
        struct event *ev = new_at(EV_CREDENTIALS, 21);
        struct json_object *o;
        char *note;
        (void)state;

        ev->credentials.username = xstrdup("devuser");

        /* an existing account whose password this run kept */
        ev->credentials.password_kind = CREDS_PW_UNCHANGED;
        note = creds_password_note(ev);
        assert_string_equal(note, "(unchanged: the account keeps its password)");
        assert_null(strstr(note, "hash"));
        free(note);
        o = roundtrip(ev, 7);
        expect_str(o, "password", NULL);
        expect_str(o, "password_source", "unchanged");
        json_object_put(o);

        /* from the answers' password_hash */
        ev->credentials.password_kind = CREDS_PW_FROM_HASH;
        note = creds_password_note(ev);
        assert_string_equal(note, "(from the answers file's password_hash)");
        free(note);

        /* generated, and sent where the person named */
        ev->credentials.password_kind = CREDS_PW_GENERATED;
        ev->credentials.password_to = xstrdup("file descriptor 3");
        note = creds_password_note(ev);
        assert_string_equal(note, "(written to file descriptor 3)");
        free(note);
        o = roundtrip(ev, 8);
        expect_str(o, "password_source", "generated");
        expect_str(o, "password_to", "file descriptor 3");
        json_object_put(o);

        /* generated, but not in the event (its copy could not be made) */
        free(ev->credentials.password_to);
        ev->credentials.password_to = NULL;
        note = creds_password_note(ev);
        assert_string_equal(note, "(generated but lost: set one with \"passwd devuser\")");
        free(note);

        assert_string_equal(creds_password_name(CREDS_PW_GENERATED), "generated");
        assert_string_equal(creds_password_name(CREDS_PW_FROM_HASH), "password_hash");
        assert_string_equal(creds_password_name(CREDS_PW_UNCHANGED), "unchanged");
        event_free(ev);
}

static void test_session_end(void **state)
{
        static const char *const summary[] = { "RDP: 203.0.113.7:3389", "User: devuser", "Took 14 min", NULL };
        struct event *ev = new_at(EV_SESSION_END, 20);
        struct json_object *o;
        (void)state;

        ev->session_end.status = SESSION_ROLLED_BACK;
        ev->session_end.exit_code = 5;
        ev->session_end.message = xstrdup("Phase rdp failed and was rolled back; see the log");
        ev->session_end.summary = strv_copy((char *const *)summary);
        o = roundtrip(ev, 5);
        expect_str(o, "status", "ROLLED_BACK");
        expect_int(o, "exit_code", 5);
        expect_str(o, "message", "Phase rdp failed and was rolled back; see the log");
        expect_strv(o, "summary", summary);
        assert_false(json_object_get_boolean(get(o, "settle_waiting", json_type_boolean)));
        json_object_put(o);
        event_free(ev);
}

static void test_answer_cancel(void **state)
{
        struct event *ev = new_at(EV_ANSWER, 21);
        struct json_object *o;
        (void)state;

        ev->answer.prompt_id = 7;
        ev->answer.choice = CHOICE_ROLLBACK;
        o = roundtrip(ev, 2);
        expect_int(o, "prompt_id", 7);
        expect_str(o, "choice", "rollback");
        json_object_put(o);
        event_free(ev);

        ev = new_at(EV_CANCEL, UINT64_MAX);   /* the largest seq survives too */
        o = roundtrip(ev, 0);
        json_object_put(o);
        event_free(ev);
}

static void test_new_free_droppable(void **state)
{
        int64_t before = wall_ms(), after;
        (void)state;

        for (int t = 0; t < _EV_TYPE_MAX; t++) {
                struct event *ev = event_new((enum event_type)t);
                after = wall_ms();
                assert_true(ev->time_ms >= before && ev->time_ms <= after);
                assert_true(ev->seq == 0);
                assert_int_equal(event_is_droppable(ev), t == EV_LOG);
                event_free(ev);   /* an empty event of every type frees cleanly */
        }
        assert_false(event_is_droppable(NULL));
        event_free(NULL);
        assert_null(event_to_json(NULL));
}

static void test_time_format(void **state)
{
        struct event *ev = event_new(EV_CANCEL);
        struct json_object *o, *v;
        (void)state;

        ev->time_ms = -1;   /* before 1970: still well-formed */
        o = event_to_json(ev);
        assert_true(json_object_object_get_ex(o, "time", &v));
        assert_string_equal(json_object_get_string(v), "1969-12-31T23:59:59.999Z");
        json_object_put(o);
        ev->time_ms = 5;
        o = event_to_json(ev);
        assert_true(json_object_object_get_ex(o, "time", &v));
        assert_string_equal(json_object_get_string(v), "1970-01-01T00:00:00.005Z");
        json_object_put(o);
        event_free(ev);
}

static void test_names(void **state)
{
        static const char *const types[] = {
                "session_start", "preflight", "phase_start", "phase_end", "action_start",
                "action_end", "progress", "prompt", "credentials", "session_end", "plan", "log",
                "answer", "cancel", "credentials_saved", "ssh_port_confirmed",
        };
        static const char *const states[] = {
                "pending", "running", "done", "skipped", "failed", "rolled-back", "disabled",
        };
        static const char *const statuses[] = {
                "INITIALIZING", "IN_PROGRESS", "COMPLETED", "FAILED", "ROLLED_BACK",
        };
        (void)state;

        assert_int_equal(ELEMENTSOF(types), _EV_TYPE_MAX);
        for (int i = 0; i < _EV_TYPE_MAX; i++)
                assert_string_equal(event_type_name((enum event_type)i), types[i]);
        assert_int_equal(ELEMENTSOF(states), _PHASE_STATE_MAX);
        for (int i = 0; i < _PHASE_STATE_MAX; i++)
                assert_string_equal(phase_state_name((enum phase_state)i), states[i]);
        assert_int_equal(ELEMENTSOF(statuses), _SESSION_STATUS_MAX);
        for (int i = 0; i < _SESSION_STATUS_MAX; i++)
                assert_string_equal(session_status_name((enum session_status)i), statuses[i]);
        assert_string_equal(prompt_choice_name(CHOICE_NONE), "none");
        assert_string_equal(prompt_choice_name(CHOICE_RETRY), "retry");
        assert_string_equal(prompt_choice_name(CHOICE_ROLLBACK), "rollback");
        assert_string_equal(prompt_choice_name(CHOICE_KEEP), "keep");
        assert_string_equal(prompt_kind_name(PROMPT_PHASE_FAILED), "phase_failed");
        assert_string_equal(prompt_kind_name(PROMPT_CONFIRM_ROLLBACK), "confirm_rollback");
        assert_string_equal(session_mode_name(MODE_PROVISION), "provision");
        assert_string_equal(session_mode_name(MODE_DRY_RUN), "dry-run");
        assert_string_equal(session_mode_name(MODE_RESUME), "resume");
        assert_string_equal(session_mode_name(MODE_ROLLBACK), "rollback");

        /* out of range never crashes a printf */
        assert_string_equal(event_type_name(_EV_TYPE_MAX), "unknown");
        assert_string_equal(event_type_name((enum event_type)-1), "unknown");
        assert_string_equal(phase_state_name(_PHASE_STATE_MAX), "unknown");
        assert_string_equal(session_status_name(_SESSION_STATUS_MAX), "UNKNOWN");
        assert_string_equal(prompt_choice_name((enum prompt_choice)42), "unknown");
        assert_string_equal(prompt_kind_name((enum prompt_kind)42), "unknown");
        assert_string_equal(session_mode_name((enum session_mode)42), "unknown");
}

/* The phase list a UI keeps from session_start: a deep copy, zeroed after
 * its end, freed with ev_phases_free. */
static void test_phases_copy(void **state)
{
        struct ev_phase_info v[2] = {
                { .id = (char *)"preflight", .title = (char *)"Preflight checks", .weight = 1,
                  .state = PHASE_DONE },
                { .id = (char *)"desktop", .title = (char *)"XFCE desktop", .weight = 25,
                  .state = PHASE_PENDING },
        };
        struct ev_phase_info *c;
        (void)state;

        c = ev_phases_copy(v, 2);
        for (size_t i = 0; i < 2; i++) {
                assert_string_equal(c[i].id, v[i].id);
                assert_ptr_not_equal(c[i].id, v[i].id);
                assert_string_equal(c[i].title, v[i].title);
                assert_ptr_not_equal(c[i].title, v[i].title);
                assert_int_equal(c[i].weight, v[i].weight);
                assert_int_equal(c[i].state, v[i].state);
        }
        assert_null(c[2].id);
        assert_null(c[2].title);
        ev_phases_free(c, 2);
        c = ev_phases_copy(NULL, 0);
        assert_null(c[0].id);
        ev_phases_free(c, 0);
        ev_phases_free(NULL, 3);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_session_start),
                cmocka_unit_test(test_phases_copy),
                cmocka_unit_test(test_preflight),
                cmocka_unit_test(test_phase_start_end),
                cmocka_unit_test(test_action_start_end),
                cmocka_unit_test(test_log_event),
                cmocka_unit_test(test_progress),
                cmocka_unit_test(test_prompt),
                cmocka_unit_test(test_credentials),
                cmocka_unit_test(test_credentials_note),
                cmocka_unit_test(test_session_end),
                cmocka_unit_test(test_answer_cancel),
                cmocka_unit_test(test_new_free_droppable),
                cmocka_unit_test(test_time_format),
                cmocka_unit_test(test_names),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
