/* render_plain.c — progress as plain lines, for pipes, logs and people who
 * prefer them. ASCII only, so it reads the same in any terminal or file.
 *
 *   vps-provision 0.1.0, session 20261122-101500
 *   log: /var/log/vps-provision/20261122-101500.log
 *   [  0%] == Preflight checks
 *   [  0%]    ok   Operating system: Debian GNU/Linux 13 (trixie)
 *   [  3%] == System preparation
 *   [  4%]    ..   Refreshing package lists (apt-get update)
 *   [ 12%] -- System preparation: done (41.2 s)
 */
#include "render.h"

#include <math.h>
#include <string.h>

#include "answers.h"
#include "secret.h"
#include "util.h"

struct render_plain {
        FILE *out;
        bool verbose;
        struct ev_phase_info *phases;
        size_t n_phases;
        double overall;
        int last_decile;    /* progress lines every 10 % within long actions */
};

struct render_plain *render_plain_new(FILE *out, bool verbose)
{
        struct render_plain *r = xcalloc(1, sizeof(*r));
        r->out = out;
        r->verbose = verbose;
        r->last_decile = -1;
        return r;
}

static void free_phases(struct render_plain *r)
{
        ev_phases_free(r->phases, r->n_phases);
        r->phases = NULL;
        r->n_phases = 0;
}

void render_plain_free(struct render_plain *r)
{
        if (!r)
                return;
        free_phases(r);
        free(r);
}

static const char *title_of(struct render_plain *r, int i)
{
        if (i >= 0 && (size_t)i < r->n_phases)
                return r->phases[i].title;
        return "";
}

static void line(struct render_plain *r, const char *fmt, ...) _printf_(2, 3);
static void line(struct render_plain *r, const char *fmt, ...)
{
        va_list ap;
        fprintf(r->out, "[%3d%%] ", (int)floor(r->overall * 100.0));
        va_start(ap, fmt);
        vfprintf(r->out, fmt, ap);
        va_end(ap);
        fputc('\n', r->out);
        fflush(r->out);
}

static void fmt_duration(int64_t ms, char *buf, size_t size)
{
        if (ms < 60000)
                snprintf(buf, size, "%.1f s", (double)ms / 1000.0);
        else
                snprintf(buf, size, "%lld min %02lld s", (long long)(ms / 60000),
                         (long long)((ms / 1000) % 60));
}

void render_plain_note(struct render_plain *r, const char *text)
{
        line(r, "!! %s", text);
}

static void print_preflight(struct render_plain *r, const struct event *ev)
{
        const struct vps_info *v = &ev->preflight.info;

        line(r, "   server: %s %s (%s), %s, %d CPU%s, %lld MiB RAM, %.1f GB free, address %s",
             v->os_name, v->os_version, v->os_codename[0] ? v->os_codename : "?",
             v->architecture, v->cpu_cores, v->cpu_cores == 1 ? "" : "s", (long long)v->ram_mb,
             v->disk_available_gb, v->ip_address[0] ? v->ip_address : "unknown");
        for (size_t i = 0; i < ev->preflight.checks.n; i++) {
                const struct check *c = &ev->preflight.checks.v[i];
                const char *mark = c->status == CHECK_PASS ? "ok  " : c->status == CHECK_WARN ? "WARN" : "FAIL";
                line(r, "   %s %s: %s", mark, c->name, c->message);
                if (c->status != CHECK_PASS && c->fix)
                        line(r, "        -> %s", c->fix);
        }
        if (ev->preflight.refused)
                line(r, "   preflight refused this server: nothing was changed");
}

void render_plain_event(struct render_plain *r, const struct event *ev)
{
        char d[64];

        switch (ev->type) {
        case EV_SESSION_START:
                free_phases(r);
                r->n_phases = ev->session.n_phases;
                r->phases = ev_phases_copy(ev->session.phases, r->n_phases);
                fprintf(r->out, "vps-provision %s, session %s%s\n", VPSP_VERSION,
                        ev->session.session_id,
                        ev->session.mode == MODE_DRY_RUN    ? " (dry run: nothing will be changed)"
                        : ev->session.mode == MODE_RESUME   ? " (resumed)"
                        : ev->session.mode == MODE_ROLLBACK ? " (rollback)"
                                                            : "");
                if (ev->session.log_path)
                        fprintf(r->out, "log: %s\n", ev->session.log_path);
                fflush(r->out);
                break;
        case EV_PREFLIGHT:
                print_preflight(r, ev);
                break;
        case EV_PHASE_START:
                r->last_decile = -1;
                line(r, "== %s", ev->phase_start.title);
                break;
        case EV_PHASE_END:
                fmt_duration(ev->phase_end.duration_ms, d, sizeof(d));
                switch (ev->phase_end.state) {
                case PHASE_DONE:
                        line(r, "-- %s: done (%s)", title_of(r, ev->phase_end.index), d);
                        break;
                case PHASE_SKIPPED:
                        line(r, "-- %s: skipped, %s", title_of(r, ev->phase_end.index),
                             ev->phase_end.message ? ev->phase_end.message : "already done");
                        break;
                default:
                        line(r, "-- %s: %s%s%s", title_of(r, ev->phase_end.index),
                             phase_state_name(ev->phase_end.state),
                             ev->phase_end.message ? ": " : "",
                             ev->phase_end.message ? ev->phase_end.message : "");
                }
                break;
        case EV_ACTION_START:
                line(r, "   .. %s", ev->action_start.title);
                break;
        case EV_ACTION_END:
                if (!ev->action_end.ok)
                        line(r, "   FAILED %s", ev->action_end.message ? ev->action_end.message : "");
                break;
        case EV_PROGRESS: {
                int decile = (int)floor(ev->progress.phase * 10.0);
                r->overall = ev->progress.overall;
                if (ev->progress.detail && decile > r->last_decile && decile > 0 && decile < 10) {
                        char eta[96] = "";
                        if (ev->progress.eta_ms >= 0) {
                                fmt_duration(ev->progress.eta_ms, d, sizeof(d));
                                snprintf(eta, sizeof(eta), ", about %s left", d);
                        }
                        line(r, "      %d%% of %s%s: %s", decile * 10, title_of(r, ev->progress.phase_index),
                             eta, ev->progress.detail);
                }
                if (decile > r->last_decile)
                        r->last_decile = decile;
                break;
        }
        case EV_LOG:
                if (ev->log.dropped_before && r->verbose)
                        line(r, "      (%llu output lines not shown; they are in the log)",
                             (unsigned long long)ev->log.dropped_before);
                /* a batch of output lines: one printed line each */
                for (const char *p = ev->log.text, *nl;; p = nl + 1) {
                        int n;

                        nl = ev->log.lines > 1 ? strchr(p, '\n') : NULL;
                        n = (int)(nl ? (size_t)(nl - p) : strlen(p));
                        if (ev->log.level >= LOG_WARNING)
                                line(r, "   %s: %.*s", ev->log.level == LOG_ERROR ? "error" : "warning",
                                     n, p);
                        else if (r->verbose)
                                line(r, "      | %.*s", n, p);
                        else
                                break;
                        if (!nl)
                                break;
                }
                break;
        case EV_PLAN:
                line(r, "== %s: plan", title_of(r, ev->plan.phase_index));
                for (size_t i = 0; ev->plan.steps && ev->plan.steps[i]; i++) {
                        char *s = xstrdup(ev->plan.steps[i]);
                        char *type = s, *target = strchr(s, '\t'), *desc = NULL;
                        if (target) {
                                *target++ = '\0';
                                desc = strchr(target, '\t');
                                if (desc)
                                        *desc++ = '\0';
                        }
                        line(r, "   %-16s %s", type, desc && *desc ? desc : target ? target : "");
                        free(s);
                }
                if (!ev->plan.steps)
                        line(r, "   (nothing to do)");
                break;
        case EV_PROMPT:
                /* only reached when a UI would answer; plain mode never does */
                line(r, "!! %s: %s", ev->prompt.title, ev->prompt.message);
                break;
        case EV_CREDENTIALS:
                fprintf(r->out,
                        "\n==== VPS-PROVISION CREDENTIALS (shown once; they are not stored anywhere) ====\n"
                        "VPS-PROVISION-CREDENTIALS user: %s\n",
                        ev->credentials.username);
                /* only with a terminal, or a destination the person named
                 * (main.c refuses to start otherwise) */
                if (ev->credentials.password) {
                        fprintf(r->out, "VPS-PROVISION-CREDENTIALS password: %s\n",
                                secret_str(ev->credentials.password));
                } else {
                        _cleanup_free_ char *note = creds_password_note(ev);
                        fprintf(r->out, "VPS-PROVISION-CREDENTIALS password: %s\n", note);
                }
                if (ev->credentials.rdp_localhost) {
                        _cleanup_free_ char *t = answers_rdp_tunnel(ev->credentials.rdp_port,
                                                                    ev->credentials.ssh_port,
                                                                    ev->credentials.host);
                        fprintf(r->out, "VPS-PROVISION-CREDENTIALS rdp: localhost:3389 through the tunnel %s\n", t);
                } else {
                        fprintf(r->out, "VPS-PROVISION-CREDENTIALS rdp: %s:%u\n", ev->credentials.host,
                                ev->credentials.rdp_port);
                }
                fprintf(r->out,
                        "VPS-PROVISION-CREDENTIALS ssh: ssh -p %u %s@%s\n"
                        "==== END OF CREDENTIALS ====\n\n",
                        ev->credentials.ssh_port, ev->credentials.username, ev->credentials.host);
                fflush(r->out);
                break;
        case EV_SESSION_END:
                for (size_t i = 0; ev->session_end.summary && ev->session_end.summary[i]; i++)
                        fprintf(r->out, "  %s\n", ev->session_end.summary[i]);
                fprintf(r->out, "%s: %s (exit code %d)\n",
                        ev->session_end.exit_code == 0 ? "Done" : "Stopped", ev->session_end.message,
                        ev->session_end.exit_code);
                fflush(r->out);
                break;
        default:
                break;
        }
}
