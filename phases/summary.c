/* summary.c — the last phase: how to connect, and where the records are.
 *
 * It changes nothing on the system; it adds lines to the final screen
 * (phase_summary()). The password is not among them: the engine hands it to
 * the UI once, in the credentials event, from phase_set_credentials(). The
 * phase runs on every run, because the final screen of a second run needs
 * the same directions as the first. */
#include "summary.h"

#include <stdio.h>
#include <string.h>

#include "phases.h"
#include "session.h"

char **summary_lines(const struct answers *a, bool password_set, const char *host,
                     const char *log_path, const char *session_path)
{
        char **v = NULL;
        const char *h = host && *host ? host : "this server's address";

        strv_pushf(&v, "Remote desktop: connect an RDP client to %s:%u and log in as %s", h,
                   (unsigned)a->rdp_port, a->username);
        strv_pushf(&v, "SSH: ssh -p %u %s@%s", (unsigned)a->ssh_port, a->username, h);
        if (a->password_hash[0])
                strv_push(&v, "Password: the one whose hash is in the answers file");
        else if (password_set)
                strv_push(&v, "Password: generated, shown once at the end of this run; note it now");
        else
                strv_push(&v, "Password: unchanged by this run (the one shown when it was set)");
        if (log_path && *log_path)
                strv_pushf(&v, "Log: %s", log_path);
        if (session_path && *session_path)
                strv_pushf(&v, "Session record: %s", session_path);
        strv_push(&v, "Undo everything this run changed: vps-provision --rollback");
        return v;
}

/* Whether the user phase ran (and so set the password) in this session;
 * when it was skipped as already done, no password is shown this time. */
static bool user_phase_ran(struct phase_ctx *c)
{
        struct session *s = phase_session(c);
        struct session_phase *p = s ? session_find_phase(s, "user") : NULL;
        return p && p->status == PHASE_DONE;
}

/* The session this process has summarized (one session per process). */
static char done_for[SESSION_ID_MAX];

static int summary_plan(struct phase_ctx *c)
{
        phase_plan(c, "COMMAND_EXEC", "summary", "show how to connect and where the log and session files are");
        return 0;
}

static int summary_verify(struct phase_ctx *c)
{
        if (strcmp(done_for, phase_session_id(c)) == 0)
                return 1;
        phase_verify_note(c, "the summary is made on every run");
        return 0;
}

static int summary_run(struct phase_ctx *c)
{
        const struct vps_info *v = phase_vps(c);
        const char *host = v->ip_address[0] ? v->ip_address : v->hostname;
        char log_path[4096], session_file[4096];
        _cleanup_strv_ char **lines = NULL;

        paths_log(phase_paths(c), phase_session_id(c), log_path, sizeof(log_path));
        if (session_path(phase_paths(c)->sessions_dir, phase_session_id(c), session_file,
                         sizeof(session_file)) < 0)
                session_file[0] = '\0';
        lines = summary_lines(phase_answers(c), user_phase_ran(c), host, log_path, session_file);
        for (size_t i = 0; lines[i]; i++) {
                phase_summary(c, "%s", lines[i]);
                phase_log(c, LOG_INFO, "%s", lines[i]);
        }
        strscpy(done_for, sizeof(done_for), phase_session_id(c));
        return 0;
}

const struct phase phase_summary_phase = {
        .id = "summary",
        .title = "Summary",
        .summary = "How to connect, and where the log and session files are",
        .weight = 2,
        .plan = summary_plan,
        .verify = summary_verify,
        .run = summary_run,
};
