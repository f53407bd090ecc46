/* summary.c — the last phase: how to connect, and where the records are.
 *
 * It changes nothing on the system; it adds lines to the final screen
 * (phase_summary()), among them the RDP certificate's fingerprint, which the
 * person compares with the one the client shows on its first connect. The password is not among them: the engine hands it to
 * the UI once, in the credentials event, from phase_set_credentials(). The
 * phase runs on every run, because the final screen of a second run needs
 * the same directions as the first. */
#include "summary.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "cert.h"
#include "hardening.h"
#include "phases.h"
#include "rdp.h"
#include "session.h"
#include "sysfile.h"

char **summary_lines(const struct answers *a, bool password_set, const char *host,
                     const char *rdp_fingerprint, const char *log_path, const char *session_path,
                     unsigned old_ssh_port)
{
        char **v = NULL;
        const char *h = host && *host ? host : "this server's address";
        _cleanup_free_ char *target = NULL;

        if (a->rdp_listen == RDP_LISTEN_LOCALHOST) {
                _cleanup_free_ char *tunnel = answers_rdp_tunnel(a->rdp_port, a->ssh_port, h);
                strv_pushf(&v, "Remote desktop: through SSH only (rdp_listen = localhost): open the "
                           "tunnel with %s, leave it open, then connect an RDP client to "
                           "localhost:3389 and log in as %s", tunnel, a->username);
                target = xstrdup("localhost:3389");
        } else {
                strv_pushf(&v, "Remote desktop: connect an RDP client to %s:%u and log in as %s", h,
                           (unsigned)a->rdp_port, a->username);
                target = xasprintf("%s:%u", h, (unsigned)a->rdp_port);
        }
        strv_pushf(&v, "  Windows: mstsc /v:%s (Remote Desktop Connection)", target);
        strv_pushf(&v, "  macOS: Windows App (App Store), Add PC: %s", target);
        strv_pushf(&v, "  Linux: Remmina (RDP, server %s), or xfreerdp /v:%s /u:%s", target, target,
                   a->username);
        /* the client meets a self-signed certificate on its first connect:
         * this is how the person tells this server from one in between */
        if (rdp_fingerprint && *rdp_fingerprint) {
                /* 95 characters: two lines of 16 pairs, so an 80-column end
                 * screen shows it whole */
                size_t half = strlen(rdp_fingerprint) > 48 ? 48 : strlen(rdp_fingerprint);
                strv_push(&v, "RDP certificate, SHA-256 (compare it with what your client shows "
                          "on the first connect):");
                strv_pushf(&v, "  %.*s", (int)(half - (half == 48)), rdp_fingerprint);
                if (rdp_fingerprint[half])
                        strv_pushf(&v, "  %s", rdp_fingerprint + half);
        }
        else
                strv_push(&v, "RDP certificate: its fingerprint could not be read (see the log); "
                          "ask the server's administrator before you trust it");
        strv_pushf(&v, "SSH: ssh -p %u %s@%s", (unsigned)a->ssh_port, a->username, h);
        if (old_ssh_port && old_ssh_port != a->ssh_port) {
                strv_pushf(&v, "SSH port %u stays open as well until a login on port %u is seen in "
                           "sshd's log (or you confirm it on the end screen or with vps-provision "
                           "--attach); then port %u is closed. Try now from another terminal: "
                           "ssh -p %u root@%s", old_ssh_port, (unsigned)a->ssh_port, old_ssh_port,
                           (unsigned)a->ssh_port, h);
                strv_pushf(&v, "If that does not connect, a firewall of your provider probably "
                           "blocks port %u: open it there (port %u stays open meanwhile). A run "
                           "whose process has ended closes port %u at the next vps-provision run "
                           "after that login.", (unsigned)a->ssh_port, old_ssh_port, old_ssh_port);
        }
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

/* The fingerprint of the certificate xrdp presents (the one xrdp.ini names,
 * or xrdp's default), "" with a log line when it cannot be read. */
static void rdp_fingerprint(struct phase_ctx *c, char *buf, size_t size)
{
        _cleanup_free_ char *ini = NULL;
        char path[PATH_MAX];
        int r;

        buf[0] = '\0';
        r = read_file(XRDP_INI, 16u << 20, &ini, NULL);
        if (r == 0)
                r = rdp_cert_path(ini, path, sizeof(path));
        if (r == 0)
                r = cert_sha256_fingerprint(path, buf, size);
        if (r < 0)
                phase_log(c, LOG_WARNING, "cannot read the RDP certificate's fingerprint (%s): %s",
                          ini ? path : XRDP_INI, strerror(-r));
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
        char log_path[4096], session_file[4096], fingerprint[CERT_FINGERPRINT_MAX] = "";
        _cleanup_strv_ char **lines = NULL;

        paths_log(phase_paths(c), phase_session_id(c), log_path, sizeof(log_path));
        if (session_path(phase_paths(c)->sessions_dir, phase_session_id(c), session_file,
                         sizeof(session_file)) < 0)
                session_file[0] = '\0';
        rdp_fingerprint(c, fingerprint, sizeof(fingerprint));
        {
                _cleanup_free_ char *dropin = phase_answers(c)->hardening
                                                      ? sysfile_read(HARDENING_SSHD_DROPIN) : NULL;
                uint16_t old = 0;

                if (!dropin || hardening_sshd_kept_ports(dropin, phase_answers(c)->ssh_port, &old, 1) == 0)
                        old = 0;
                lines = summary_lines(phase_answers(c), user_phase_ran(c), host, fingerprint,
                                      log_path, session_file, old);
        }
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
        .weight = 1,
        .plan = summary_plan,
        .verify = summary_verify,
        .run = summary_run,
};
