/* enginelib.c — see enginelib.h. */
#include "testlib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "enginelib.h"
#include <json-c/json.h>

#include "queue.h"
#include "util.h"

void etest_os(const char *root, const char *os_id, const char *version)
{
        char *p = test_path(root, "os-release"), buf[512];

        snprintf(buf, sizeof(buf), "NAME=\"%s\"\nID=%s\nVERSION_ID=\"%s\"\nVERSION_CODENAME=trixie\n",
                 strcmp(os_id, "debian") == 0 ? "Debian GNU/Linux" : "Other Linux", os_id, version);
        test_write(p, buf);
        free(p);
}

static void mkdir_in(const char *root, const char *rel)
{
        char *p = test_path(root, rel);
        assert_int_equal(mkdir_p(p, 0755), 0);
        free(p);
}

static void setenv_in(const char *name, const char *root, const char *rel)
{
        char *p = test_path(root, rel);
        setenv(name, p, 1);
        free(p);
}

void etest_host(const char *root)
{
        char *p;

        etest_os(root, "debian", "13");
        mkdir_in(root, "proc");
        p = test_path(root, "proc/meminfo");
        test_write(p, "MemTotal:        8000000 kB\n");
        free(p);
        mkdir_in(root, "dpkg/updates");
        p = test_path(root, "dpkg/status");
        test_write(p, "");
        free(p);
        mkdir_in(root, "run");
        setenv_in("VPS_PROVISION_STATE_DIR", root, "state");
        setenv_in("VPS_PROVISION_LOG_DIR", root, "log");
        setenv_in("VPS_PROVISION_LOCK", root, "lock/vps-provision.lock");
}

void etest_scratch_begin(struct etest_scratch *s)
{
        static char bin[PATH_MAX];

        if (!bin[0]) {
                snprintf(bin, sizeof(bin), "%s/bin", test_tmpdir());
                test_path_prepend(bin);
        }
        test_rmtree(bin);   /* the last test's stubs and calls.log */
        assert_int_equal(mkdir_p(bin, 0755), 0);
        memset(s, 0, sizeof(*s));
        s->bin = bin;
        s->root = test_tmpdir();
        snprintf(s->files, sizeof(s->files), "%s/files", s->root);
        assert_int_equal(mkdir_p(s->files, 0755), 0);
        etest_host(s->root);
}

void etest_scratch_end(struct etest_scratch *s)
{
        test_rmtree(s->root);
        memset(s, 0, sizeof(*s));
}

void etest_opts(struct engine_opts *o, const char *root, enum session_mode mode,
                const struct phase *const *phases, size_t n)
{
        char err[256];

        memset(o, 0, sizeof(*o));
        o->mode = mode;
        answers_init(&o->answers);
        o->phases = phases;
        o->n_phases = n;
        assert_int_equal(paths_init(&o->paths, err, sizeof(err)), 0);
        preflight_env_default(&o->preflight);
        o->preflight.os_release = test_path(root, "os-release");
        o->preflight.proc = test_path(root, "proc");
        o->preflight.root = "/";
        o->preflight.dpkg_dir = test_path(root, "dpkg");
        o->preflight.run_dir = test_path(root, "run");
        o->preflight.sys = NULL;
        o->preflight.euid = 0;
        o->preflight.mirror_url = NULL;
        o->preflight.apt_dir = NULL;   /* no network check in unit tests */
        o->preflight.min_disk_gb = 0;
        o->preflight.min_ram_mb = 1;
}

void etest_opts_release(struct engine_opts *o)
{
        free((char *)o->preflight.os_release);
        free((char *)o->preflight.proc);
        free((char *)o->preflight.dpkg_dir);
        free((char *)o->preflight.run_dir);
}

void etest_run(struct engine_opts *o, etest_ui_fn ui, void *userdata, struct etest_run *ret)
{
        struct engine *e = NULL;
        struct queue *q;
        bool ended = false, verbose = getenv("ETEST_VERBOSE") != NULL;

        memset(ret, 0, sizeof(*ret));
        assert_int_equal(engine_new(o, &e), 0);
        assert_int_equal(engine_start(e), 0);
        q = engine_events(e);
        while (!ended) {
                struct event *ev = queue_wait_pop(q, 20000);
                assert_non_null(ev);   /* the engine never goes silent for 20 s here */
                if (ev->type == EV_PROMPT)
                        ret->prompts++;
                if (verbose) {   /* ETEST_VERBOSE=1: every event as JSON on stderr */
                        struct json_object *j = event_to_json(ev);
                        fprintf(stderr, "%s\n", json_object_to_json_string(j));
                        json_object_put(j);
                }
                if (ui)
                        ui(e, ev, userdata);
                ended = ev->type == EV_SESSION_END;
                ret->ev = xrealloc(ret->ev, (ret->n + 1) * sizeof(*ret->ev));
                ret->ev[ret->n++] = ev;
        }
        ret->code = engine_join(e);
        engine_free(e);
}

void etest_run_release(struct etest_run *r)
{
        for (size_t i = 0; i < r->n; i++)
                event_free(r->ev[i]);
        free(r->ev);
        memset(r, 0, sizeof(*r));
}

const struct event *etest_find(const struct etest_run *r, enum event_type t, size_t nth)
{
        for (size_t i = 0; i < r->n; i++)
                if (r->ev[i]->type == t && nth-- == 0)
                        return r->ev[i];
        return NULL;
}

enum phase_state etest_end_state(const struct etest_run *r, const char *id)
{
        enum phase_state st = _PHASE_STATE_MAX;

        for (size_t i = 0; i < r->n; i++)
                if (r->ev[i]->type == EV_PHASE_END && strcmp(r->ev[i]->phase_end.id, id) == 0)
                        st = r->ev[i]->phase_end.state;
        return st;
}
