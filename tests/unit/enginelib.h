/* enginelib.h — running the real engine thread in a unit test: a fake host
 * (os-release, /proc/meminfo, dpkg's database, state/log/lock directories
 * under a scratch root) and a loop in which the test thread plays the UI,
 * keeping every event for the assertions. Used by test_engine and test_ops. */
#pragma once

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "engine.h"
#include "events.h"

struct etest_run {
        int code;               /* engine_join() */
        struct event **ev;      /* every event, in order */
        size_t n;
        int prompts;
};

/* Called for every event before it is stored; may engine_send() answers. */
typedef void (*etest_ui_fn)(struct engine *e, const struct event *ev, void *userdata);

/* Creates the fake host under root and points VPS_PROVISION_STATE_DIR,
 * _LOG_DIR and _LOCK there (root/state, root/log, root/lock/…). */
void etest_host(const char *root);
/* One scratch host per test, so that no test sees another's sessions,
 * journal, lock or files: a new root with the fake host of etest_host()
 * and root/files for what test phases write; etest_scratch_end() removes
 * it. bin is the directory for stub commands: run.c reads PATH once per
 * process, so it is one directory per test program, first on PATH from
 * the first etest_scratch_begin() on, and emptied by every call. */
struct etest_scratch {
        char *root;
        char files[PATH_MAX];
        const char *bin;
};
void etest_scratch_begin(struct etest_scratch *s);
void etest_scratch_end(struct etest_scratch *s);

/* Rewrites root/os-release (id "debian" or another, version "13" …). */
void etest_os(const char *root, const char *os_id, const char *version);

/* Engine options for a run on the fake host; release with etest_opts_release. */
void etest_opts(struct engine_opts *o, const char *root, enum session_mode mode,
                const struct phase *const *phases, size_t n);
void etest_opts_release(struct engine_opts *o);

/* Runs the engine to its end (fails the test if it is silent for 20 s). */
void etest_run(struct engine_opts *o, etest_ui_fn ui, void *userdata, struct etest_run *ret);
void etest_run_release(struct etest_run *r);

const struct event *etest_find(const struct etest_run *r, enum event_type t, size_t nth);
/* The last EV_PHASE_END state of phase id, or _PHASE_STATE_MAX if it never ended. */
enum phase_state etest_end_state(const struct etest_run *r, const char *id);
