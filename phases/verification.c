/* verification.c — the final health check.
 *
 * DESIGN: health_gather() collects facts (systemctl, ss-like /proc reads,
 * sshd -T, ufw status, visudo, the account database) without changing
 * anything; health_evaluate() judges them against the answers, so the
 * judging is tested on fixtures. The result is written as the data
 * model's health check JSON beside the session (sessions/health-ID.json,
 * 0600) and summarized on the final screen.
 *
 * Policy: a "fail" fails the phase (the run then ends with the failure
 * choices: keep or roll back), a "warn" is reported and the run goes on.
 * Fail means the workstation is not usable or not safe as asked (no RDP
 * listener, the account or its sudo rights broken, the firewall the
 * answers asked for is off); warn means something worth a look that does
 * not stop anyone working (little free disk, Debian 12, no root key so root
 * login was left as is, a tool like curl missing).
 *
 * The phase runs on every run (a health check is only worth its time
 * stamp): verify() is "done" only once this session's health file exists
 * and has no failure. */
#include "verification.h"

#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/statvfs.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "hardening.h"
#include "ide_catalog.h"
#include "ops.h"
#include "phases.h"
#include "session.h"
#include "sysfile.h"
#include "user.h"

#define ROOT_KEYS "/root/.ssh/authorized_keys"

/* ---- gathering ------------------------------------------------------------ */

/* The states of n units ("active", "inactive", "failed", ...; "" when
 * systemctl cannot be asked) with one "systemctl is-active U...", which
 * prints one line per unit in the order asked. */
static void unit_states(struct phase_ctx *c, const char *const *units, char *const *bufs,
                        size_t size, size_t n)
{
        const char *q[8] = { "systemctl", "is-active" };
        _cleanup_free_ char *out = NULL;
        const char *p;

        assert(n <= ELEMENTSOF(q) - 3);
        for (size_t i = 0; i < n; i++) {
                q[2 + i] = units[i];
                bufs[i][0] = '\0';
        }
        q[2 + n] = NULL;
        if (ops_query(c, q, &out) < 0 || !out)
                return;
        p = out;
        for (size_t i = 0; i < n && *p; i++) {
                size_t len = strcspn(p, " \n");
                snprintf(bufs[i], size, "%.*s", (int)len, p);
                p += strcspn(p, "\n");
                if (*p)
                        p++;
        }
}

/* Where command is on the usual PATH, "" when nowhere. */
static void find_command(const char *command, char *buf, size_t size)
{
        static const char *const dirs[] = { "/usr/local/bin", "/usr/bin", "/bin", "/usr/sbin",
                                            "/sbin" };
        buf[0] = '\0';
        for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
                char p[256];
                snprintf(p, sizeof(p), "%s/%s", dirs[i], command);
                if (access(p, X_OK) == 0) {
                        strscpy(buf, size, p);
                        return;
                }
        }
}

static void add_app(struct health_facts *f, const char *name, const char *command,
                    const char *recorded_path, bool required)
{
        struct health_app *app;

        if (f->n_apps >= HEALTH_MAX_APPS)
                return;
        app = &f->apps[f->n_apps++];
        strscpy(app->name, sizeof(app->name), name);
        strscpy(app->command, sizeof(app->command), command);
        app->required = required;
        app->path[0] = '\0';
        if (recorded_path && *recorded_path && access(recorded_path, X_OK) == 0)
                strscpy(app->path, sizeof(app->path), recorded_path);
        else
                find_command(command, app->path, sizeof(app->path));
}

static void gather_apps(struct phase_ctx *c, struct health_facts *f)
{
        const struct answers *a = phase_answers(c);
        struct session *s = phase_session(c);
        _cleanup_strv_ char **wanted = answers_ide_list(a);
        struct ide_catalog cat;
        char err[1024];
        bool cat_ok;

        add_app(f, "XFCE desktop", "xfce4-session", NULL, true);
        add_app(f, "Terminal (xfce4-terminal)", "xfce4-terminal", NULL, true);
        add_app(f, "Git", "git", NULL, false);
        add_app(f, "curl", "curl", NULL, false);
        /* the IDEs as the catalog describes them */
        cat_ok = ide_catalog_load_for(a, &cat, NULL, 0, err, sizeof(err)) == 0;
        if (!cat_ok && wanted)
                phase_log(c, LOG_WARNING, "%s", err);
        for (size_t i = 0; wanted && wanted[i]; i++) {
                const struct ide_entry *e = cat_ok ? ide_catalog_find(&cat, wanted[i]) : NULL;
                const char *recorded = NULL;

                for (size_t k = 0; e && s && k < s->n_ides; k++)
                        if (s->ides[k].ide_name && strcmp(s->ides[k].ide_name, e->ide_name) == 0)
                                recorded = s->ides[k].executable_path;
                add_app(f, e ? e->display_name : wanted[i], e ? e->command : wanted[i], recorded, true);
        }
        if (cat_ok)
                ide_catalog_release(&cat);
}

static void gather_user(struct phase_ctx *c, struct health_facts *f)
{
        const struct answers *a = phase_answers(c);
        struct passwd *pw = getpwnam(a->username);
        _cleanup_free_ char *sudoers = user_sudoers_path(a->username);
        struct buf missing;

        f->sudoers_valid = -1;
        f->user_exists = pw != NULL;
        if (pw) {
                struct passwd copy = *pw;
                _cleanup_free_ char *name = xstrdup(pw->pw_name);

                copy.pw_name = name;
                f->user_uid = (uint32_t)pw->pw_uid;
                buf_init(&missing, sizeof(f->user_missing_groups) - 1);
                for (size_t i = 0; user_groups[i]; i++) {
                        bool exists;
                        bool in = sysfile_in_group(&copy, user_groups[i], &exists);
                        bool needed = exists || strcmp(user_groups[i], "sudo") == 0 ||
                                      strcmp(user_groups[i], USER_DEVGROUP) == 0;
                        if (!in && needed)
                                buf_printf(&missing, "%s%s", missing.len ? ", " : "", user_groups[i]);
                }
                strscpy(f->user_missing_groups, sizeof(f->user_missing_groups),
                        missing.data ? missing.data : "");
                buf_release(&missing);
        }
        f->sudoers_present = path_exists(sudoers);
        if (f->sudoers_present) {
                const char *const check[] = { "visudo", "--check", "--quiet", "--file", sudoers, NULL };
                _cleanup_free_ char *out = NULL;
                int r = ops_query(c, check, &out);
                f->sudoers_valid = r < 0 ? r : r == 0;
        }
}

static void gather_security(struct phase_ctx *c, struct health_facts *f)
{
        const struct answers *a = phase_answers(c);
        _cleanup_free_ char *keys = sysfile_read(ROOT_KEYS);

        f->root_has_key = keys && user_authorized_keys_count(keys) > 0;
        f->sshd_dropin = path_exists(HARDENING_SSHD_DROPIN);
        f->sshd_max_auth_tries = -1;
        if (path_exists("/usr/sbin/sshd")) {
                const char *const q[] = { "/usr/sbin/sshd", "-T", NULL };
                _cleanup_free_ char *out = NULL;
                if (ops_query_memo(c, q, &out) == 0 && out) {
                        _cleanup_free_ char *prl = hardening_sshd_value(out, "permitrootlogin");
                        _cleanup_free_ char *mat = hardening_sshd_value(out, "maxauthtries");
                        uint16_t ports[16];
                        size_t n = hardening_sshd_ports(out, ports, ELEMENTSOF(ports));
                        long v;

                        if (prl)
                                strscpy(f->sshd_permit_root, sizeof(f->sshd_permit_root), prl);
                        if (mat && parse_long(mat, 0, 1000, &v) == 0)
                                f->sshd_max_auth_tries = (int)v;
                        for (size_t i = 0; i < n; i++)
                                if (ports[i] == a->ssh_port)
                                        f->sshd_port_configured = true;
                }
        }
        f->ufw_installed = path_exists("/usr/sbin/ufw");
        if (f->ufw_installed) {
                const char *const q[] = { "ufw", "status", NULL };
                _cleanup_free_ char *out = NULL;
                if (ops_query_memo(c, q, &out) == 0 && out) {
                        char ssh[16], rdp[16];
                        snprintf(ssh, sizeof(ssh), "%u/tcp", (unsigned)a->ssh_port);
                        snprintf(rdp, sizeof(rdp), "%u/tcp", (unsigned)a->rdp_port);
                        f->ufw_active = hardening_ufw_active(out);
                        f->ufw_allows_ssh = hardening_ufw_allows(out, ssh);
                        f->ufw_allows_rdp = hardening_ufw_allows(out, rdp);
                }
        }
        f->f2b_jail = -1;
        f->f2b_rdp_jail = -1;
        if (a->fail2ban) {
                /* one question for both jails (a python start each) */
                const char *const q[] = { "fail2ban-client", "status", NULL };
                _cleanup_free_ char *out = NULL;
                int r = ops_query(c, q, &out);
                f->f2b_jail = r == 0 && hardening_f2b_has_jail(out, "sshd");
                f->f2b_rdp_jail = r == 0 && hardening_f2b_has_jail(out, HARDENING_XRDP_JAIL);
        }
}

/* Every kernel in /boot and whether its initramfs is there (the next boot
 * needs it), when initramfs-tools makes them. */
static void gather_initramfs(struct health_facts *f)
{
        struct dirent *de;
        DIR *d;

        if (!path_exists("/usr/sbin/update-initramfs"))
                return;
        d = opendir("/boot");
        if (!d)
                return;
        while ((de = readdir(d))) {
                _cleanup_free_ char *initrd = NULL;
                const char *ver;
                struct stat st;
                size_t used;

                if (strncmp(de->d_name, "vmlinuz-", 8) != 0 || !de->d_name[8])
                        continue;
                ver = de->d_name + 8;
                f->n_kernels++;
                initrd = xasprintf("/boot/initrd.img-%s", ver);
                if (stat(initrd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0)
                        continue;
                used = strlen(f->initrd_missing);
                snprintf(f->initrd_missing + used, sizeof(f->initrd_missing) - used, "%s%s",
                         used ? ", " : "", ver);
        }
        closedir(d);
}

void health_gather(struct phase_ctx *c, struct health_facts *f)
{
        const struct answers *a = phase_answers(c);
        const struct vps_info *v = phase_vps(c);
        struct statvfs sv;

        memset(f, 0, sizeof(*f));
        strscpy(f->os_id, sizeof(f->os_id), v->os_id);
        strscpy(f->os_version, sizeof(f->os_version), v->os_version);
        strscpy(f->os_codename, sizeof(f->os_codename), v->os_codename);
        strscpy(f->kernel, sizeof(f->kernel), v->kernel_version);
        strscpy(f->ip_address, sizeof(f->ip_address), v->ip_address);
        f->ram_mb = v->ram_mb;
        f->disk_available_gb = statvfs("/", &sv) == 0
                                       ? (double)sv.f_bavail * (double)sv.f_frsize / (1024.0 * 1024.0 * 1024.0)
                                       : -1;
        {
                const char *const units[] = { "xrdp", "xrdp-sesman", "ssh", "fail2ban" };
                char *const bufs[] = { f->xrdp, f->xrdp_sesman, f->ssh, f->fail2ban };

                static_assert(sizeof(f->xrdp) == sizeof(f->fail2ban) &&
                                      sizeof(f->xrdp_sesman) == sizeof(f->xrdp) &&
                                      sizeof(f->ssh) == sizeof(f->xrdp),
                              "one size for every unit state");
                unit_states(c, units, bufs, sizeof(f->xrdp), a->fail2ban ? 4 : 3);
        }
        f->rdp_listening = sysfile_tcp_listening(NULL, a->rdp_port);
        f->rdp_beyond_loopback = sysfile_tcp_listening_beyond_loopback(NULL, a->rdp_port);
        f->ssh_listening = sysfile_tcp_listening(NULL, a->ssh_port);
        gather_initramfs(f);
        gather_apps(c, f);
        gather_user(c, f);
        gather_security(c, f);
}

/* ---- judging -------------------------------------------------------------- */

static void eval_system(const struct health_facts *f, struct check_list *out)
{
        struct check *k;
        bool debian = strcmp(f->os_id, "debian") == 0;
        bool supported = debian && (strcmp(f->os_version, "13") == 0 || strcmp(f->os_version, "12") == 0);

        k = check_add(out, "system", "Operating system", supported ? CHECK_PASS : CHECK_WARN,
                      supported ? NULL : "vps-provision is made for Debian 13 (and 12); other systems are not tested",
                      "%s %s%s%s%s", debian ? "Debian" : (f->os_id[0] ? f->os_id : "unknown system"),
                      f->os_version, f->os_codename[0] ? " (" : "", f->os_codename,
                      f->os_codename[0] ? ")" : "");
        check_detail(k, "os_id", "%s", f->os_id);
        check_detail(k, "os_version", "%s", f->os_version);
        check_detail(k, "kernel", "%s", f->kernel);

        if (f->disk_available_gb < 0)
                k = check_add(out, "system", "Disk space", CHECK_WARN, "Check free space with df -h /",
                              "free space on / could not be read");
        else if (f->disk_available_gb < 0.5)
                k = check_add(out, "system", "Disk space", CHECK_FAIL,
                              "Free space on / (apt-get clean, remove old files) or grow the disk",
                              "%.1f GiB free on /: too little for the desktop to work", f->disk_available_gb);
        else if (f->disk_available_gb < 2)
                k = check_add(out, "system", "Disk space", CHECK_WARN,
                              "Free some space on / soon (apt-get clean helps)",
                              "%.1f GiB free on /", f->disk_available_gb);
        else
                k = check_add(out, "system", "Disk space", CHECK_PASS, NULL, "%.1f GiB free on /",
                              f->disk_available_gb);
        check_detail(k, "available_gb", "%.1f", f->disk_available_gb);

        k = check_add(out, "system", "Memory", f->ram_mb >= 1900 ? CHECK_PASS : CHECK_WARN,
                      f->ram_mb >= 1900 ? NULL : "An XFCE session with an IDE wants 2 GiB of RAM or more",
                      "%lld MiB of RAM", (long long)f->ram_mb);
        check_detail(k, "ram_mb", "%lld", (long long)f->ram_mb);

        if (f->n_kernels == 0)
                return;   /* no kernel of its own (a container): nothing boots from here */
        if (f->initrd_missing[0])
                k = check_add(out, "system", "Initramfs", CHECK_FAIL,
                              "Make it before rebooting: update-initramfs -c -k VERSION",
                              "no initramfs in /boot for kernel %s: the next boot would fail",
                              f->initrd_missing);
        else
                k = check_add(out, "system", "Initramfs", CHECK_PASS, NULL,
                              "every kernel in /boot has its initramfs (%u)", f->n_kernels);
        check_detail(k, "kernels", "%u", f->n_kernels);
}

static void eval_services(const struct health_facts *f, const struct answers *a,
                          struct check_list *out)
{
        struct check *k;
        bool xrdp_up = strcmp(f->xrdp, "active") == 0;
        bool ssh_up = strcmp(f->ssh, "active") == 0;
        bool local = a->rdp_listen == RDP_LISTEN_LOCALHOST;

        if (xrdp_up && f->rdp_listening == 1 && local && f->rdp_beyond_loopback != 0)
                k = check_add(out, "services", "RDP server", CHECK_FAIL,
                              "Set port=tcp://127.0.0.1:PORT in [Globals] of /etc/xrdp/xrdp.ini and restart xrdp, or run vps-provision --resume",
                              "port %u listens on more than 127.0.0.1 although rdp_listen = localhost",
                              (unsigned)a->rdp_port);
        else if (xrdp_up && f->rdp_listening == 1 && local)
                k = check_add(out, "services", "RDP server", CHECK_PASS, NULL,
                              "xrdp running and listening on port %u of 127.0.0.1 only (reach it through ssh -L)",
                              (unsigned)a->rdp_port);
        else if (xrdp_up && f->rdp_listening == 1)
                k = check_add(out, "services", "RDP server", CHECK_PASS, NULL,
                              "xrdp running and listening on port %u", (unsigned)a->rdp_port);
        else if (xrdp_up)
                k = check_add(out, "services", "RDP server", CHECK_FAIL,
                              "Look at journalctl -u xrdp and /etc/xrdp/xrdp.ini (port=)",
                              "xrdp runs but nothing listens on port %u", (unsigned)a->rdp_port);
        else
                k = check_add(out, "services", "RDP server", CHECK_FAIL,
                              "Start it with systemctl start xrdp and look at journalctl -u xrdp",
                              "xrdp is %s", f->xrdp[0] ? f->xrdp : "not installed");
        check_detail(k, "service_status", "%s", f->xrdp);
        check_detail(k, "port", "%u", (unsigned)a->rdp_port);
        check_detail(k, "listen", "%s", rdp_listen_name(a->rdp_listen));

        k = check_add(out, "services", "RDP session manager", strcmp(f->xrdp_sesman, "active") == 0 ? CHECK_PASS : CHECK_FAIL,
                      strcmp(f->xrdp_sesman, "active") == 0 ? NULL : "Start it with systemctl start xrdp-sesman",
                      "xrdp-sesman is %s", f->xrdp_sesman[0] ? f->xrdp_sesman : "not installed");
        check_detail(k, "service_status", "%s", f->xrdp_sesman);

        if (ssh_up && f->ssh_listening == 1)
                k = check_add(out, "services", "SSH server", CHECK_PASS, NULL,
                              "sshd running and listening on port %u", (unsigned)a->ssh_port);
        else if (ssh_up && a->hardening)
                k = check_add(out, "services", "SSH server", CHECK_FAIL,
                              "Look at sshd -T | grep ^port and journalctl -u ssh",
                              "sshd runs but does not listen on port %u", (unsigned)a->ssh_port);
        else if (ssh_up)
                k = check_add(out, "services", "SSH server", CHECK_WARN,
                              "[security] hardening = no leaves sshd's port alone; set it in sshd_config or use the port sshd listens on",
                              "sshd runs, but not on port %u", (unsigned)a->ssh_port);
        else
                k = check_add(out, "services", "SSH server", CHECK_WARN,
                              "Install and start openssh-server to reach the server over SSH",
                              "sshd is %s", f->ssh[0] ? f->ssh : "not installed");
        check_detail(k, "service_status", "%s", f->ssh);
        check_detail(k, "port", "%u", (unsigned)a->ssh_port);
}

static void eval_apps(const struct health_facts *f, struct check_list *out)
{
        for (size_t i = 0; i < f->n_apps; i++) {
                const struct health_app *app = &f->apps[i];
                struct check *k;

                if (app->path[0])
                        k = check_add(out, "applications", app->name, CHECK_PASS, NULL,
                                      "%s installed at %s", app->name, app->path);
                else
                        k = check_add(out, "applications", app->name,
                                      app->required ? CHECK_FAIL : CHECK_WARN,
                                      "Run vps-provision --resume, or install it with apt",
                                      "%s is not installed (no %s command)", app->name, app->command);
                check_detail(k, "command", "%s", app->command);
                check_detail(k, "executable_path", "%s", app->path);
        }
}

static void eval_network(const struct health_facts *f, const struct answers *a,
                         struct check_list *out)
{
        struct check *k;

        k = check_add(out, "network", "Address", f->ip_address[0] ? CHECK_PASS : CHECK_WARN,
                      f->ip_address[0] ? NULL : "Check the network configuration (ip route)",
                      "%s", f->ip_address[0] ? f->ip_address : "no default route: the server's address is unknown");
        check_detail(k, "ip_address", "%s", f->ip_address);

        if (!a->firewall) {
                k = check_add(out, "network", "Firewall rules", CHECK_WARN,
                              "[network] firewall = no: make sure another firewall lets in only SSH and RDP",
                              "not managed by vps-provision (firewall = no)");
        } else if (a->rdp_listen == RDP_LISTEN_LOCALHOST && f->ufw_allows_ssh && !f->ufw_allows_rdp) {
                k = check_add(out, "network", "Firewall rules", CHECK_PASS, NULL,
                              "SSH %u/tcp allowed; RDP %u/tcp not (rdp_listen = localhost)",
                              (unsigned)a->ssh_port, (unsigned)a->rdp_port);
        } else if (a->rdp_listen == RDP_LISTEN_LOCALHOST && f->ufw_allows_rdp) {
                k = check_add(out, "network", "Firewall rules", CHECK_FAIL,
                              "RDP is reached through ssh -L: remove the rule with ufw delete allow PORT/tcp",
                              "the firewall lets RDP %u/tcp in although rdp_listen = localhost%s",
                              (unsigned)a->rdp_port, f->ufw_allows_ssh ? "" : ", and does not allow SSH");
        } else if (a->rdp_listen == RDP_LISTEN_LOCALHOST) {
                k = check_add(out, "network", "Firewall rules", CHECK_FAIL,
                              "Allow it with ufw allow PORT/tcp, or run vps-provision --resume",
                              "the firewall does not allow SSH %u/tcp", (unsigned)a->ssh_port);
        } else if (f->ufw_allows_ssh && f->ufw_allows_rdp) {
                k = check_add(out, "network", "Firewall rules", CHECK_PASS, NULL,
                              "SSH %u/tcp and RDP %u/tcp allowed", (unsigned)a->ssh_port,
                              (unsigned)a->rdp_port);
        } else {
                k = check_add(out, "network", "Firewall rules", CHECK_FAIL,
                              "Allow them with ufw allow PORT/tcp (SSH first), or run vps-provision --resume",
                              "the firewall does not allow %s%s%s", f->ufw_allows_ssh ? "" : "SSH",
                              !f->ufw_allows_ssh && !f->ufw_allows_rdp ? " and " : "",
                              f->ufw_allows_rdp ? "" : "RDP");
        }
        check_detail(k, "ssh_port", "%u", (unsigned)a->ssh_port);
        check_detail(k, "rdp_port", "%u", (unsigned)a->rdp_port);
}

static void eval_security(const struct health_facts *f, const struct answers *a,
                          struct check_list *out)
{
        struct check *k;

        if (!f->user_exists)
                k = check_add(out, "security", "Developer account", CHECK_FAIL,
                              "Run vps-provision --resume to create it",
                              "there is no account %s", a->username);
        else if (f->user_missing_groups[0])
                k = check_add(out, "security", "Developer account", CHECK_FAIL,
                              "Run vps-provision --resume (or gpasswd --add USER GROUP)",
                              "%s is not in: %s", a->username, f->user_missing_groups);
        else
                k = check_add(out, "security", "Developer account", CHECK_PASS, NULL,
                              "%s exists with its groups", a->username);
        check_detail(k, "username", "%s", a->username);
        if (f->user_exists)
                check_detail(k, "uid", "%u", (unsigned)f->user_uid);

        if (f->sudoers_present && f->sudoers_valid == 1)
                k = check_add(out, "security", "sudo rights", CHECK_PASS, NULL,
                              "sudoers drop-in for %s passes visudo", a->username);
        else
                k = check_add(out, "security", "sudo rights", CHECK_FAIL,
                              "Run vps-provision --resume; check /etc/sudoers.d with visudo --check",
                              f->sudoers_present ? "the sudoers drop-in for %s does not pass visudo"
                                                 : "there is no sudoers drop-in for %s",
                              a->username);

        if (!a->firewall)
                k = check_add(out, "security", "Firewall", CHECK_WARN,
                              "[network] firewall = no: make sure another firewall protects the server",
                              "ufw is not managed by vps-provision");
        else if (f->ufw_active)
                k = check_add(out, "security", "Firewall", CHECK_PASS, NULL,
                              "ufw is active, incoming connections denied by default");
        else
                k = check_add(out, "security", "Firewall", CHECK_FAIL,
                              "Run vps-provision --resume (it allows SSH before turning ufw on)",
                              "ufw is %s", f->ufw_installed ? "inactive" : "not installed");

        if (!a->hardening) {
                k = check_add(out, "security", "SSH configuration", CHECK_WARN,
                              "[security] hardening = no: review /etc/ssh/sshd_config yourself",
                              "not hardened by vps-provision (hardening = no)");
        } else if (!f->sshd_dropin || !f->sshd_port_configured ||
                   f->sshd_max_auth_tries != HARDENING_MAX_AUTH_TRIES) {
                k = check_add(out, "security", "SSH configuration", CHECK_FAIL,
                              "Look at sshd -T and /etc/ssh/sshd_config.d; run vps-provision --resume",
                              "the SSH settings are not in effect (drop-in %s, port %u %s, maxauthtries %d)",
                              f->sshd_dropin ? "present" : "missing", (unsigned)a->ssh_port,
                              f->sshd_port_configured ? "configured" : "not configured",
                              f->sshd_max_auth_tries);
        } else if (!f->root_has_key) {
                k = check_add(out, "security", "SSH configuration", CHECK_WARN,
                              "Add a key to /root/.ssh/authorized_keys, then run vps-provision again to allow root by key only",
                              "hardened; root login left as it was (%s) because root has no SSH key",
                              f->sshd_permit_root[0] ? f->sshd_permit_root : "unknown");
        } else if (strcmp(f->sshd_permit_root, "prohibit-password") != 0 &&
                   strcmp(f->sshd_permit_root, "without-password") != 0 &&
                   strcmp(f->sshd_permit_root, "no") != 0) {
                k = check_add(out, "security", "SSH configuration", CHECK_FAIL,
                              "Another sshd drop-in sorts first and sets PermitRootLogin; look at sshd -T",
                              "root may still log in with a password (permitrootlogin %s)",
                              f->sshd_permit_root);
        } else {
                k = check_add(out, "security", "SSH configuration", CHECK_PASS, NULL,
                              "port %u, root by key only, at most %d tries per connection",
                              (unsigned)a->ssh_port, f->sshd_max_auth_tries);
        }
        check_detail(k, "permitrootlogin", "%s", f->sshd_permit_root);
        check_detail(k, "maxauthtries", "%d", f->sshd_max_auth_tries);

        if (a->fail2ban) {
                bool up = strcmp(f->fail2ban, "active") == 0 && f->f2b_jail == 1;
                k = check_add(out, "security", "fail2ban", up ? CHECK_PASS : CHECK_FAIL,
                              up ? NULL : "Look at journalctl -u fail2ban and fail2ban-client status sshd",
                              up ? "fail2ban guards sshd on port %u" : "fail2ban's sshd jail is not running (port %u)",
                              (unsigned)a->ssh_port);
                check_detail(k, "service_status", "%s", f->fail2ban);
                up = strcmp(f->fail2ban, "active") == 0 && f->f2b_rdp_jail == 1;
                check_add(out, "security", "fail2ban for RDP", up ? CHECK_PASS : CHECK_FAIL,
                          up ? NULL : "Look at journalctl -u fail2ban and fail2ban-client status " HARDENING_XRDP_JAIL,
                          up ? "fail2ban guards RDP logins on port %u" : "fail2ban's RDP jail is not running (port %u)",
                          (unsigned)a->rdp_port);
        }
}

void health_evaluate(const struct health_facts *f, const struct answers *a,
                     struct check_list *out)
{
        eval_system(f, out);
        eval_services(f, a, out);
        eval_apps(f, out);
        eval_network(f, a, out);
        eval_security(f, a, out);
}

char *health_json_path(const char *sessions_dir, const char *session_id)
{
        return xasprintf("%s/health-%s.json", sessions_dir, session_id);
}

/* ---- the phase ------------------------------------------------------------ */

static int verification_plan(struct phase_ctx *c)
{
        _cleanup_free_ char *path = health_json_path(phase_paths(c)->sessions_dir, "ID");
        phase_plan(c, "COMMAND_EXEC", "update-initramfs -u",
                   "regenerate the initramfs once, when system preparation held its updates");
        phase_plan(c, "COMMAND_EXEC", "health check",
                   "check system, services, applications, network and security; write %s", path);
        return 0;
}

/* Done when this session's health file exists and reports no failure. */
static int verification_verify(struct phase_ctx *c)
{
        _cleanup_free_ char *path = health_json_path(phase_paths(c)->sessions_dir, phase_session_id(c));
        _cleanup_free_ char *text = sysfile_read(path);
        struct json_object *o, *st = NULL;
        int r = 0;

        if (!text) {
                phase_verify_note(c, "the health check runs on every run");
                return 0;
        }
        o = json_tokener_parse(text);
        if (o && json_object_object_get_ex(o, "overall_status", &st) &&
            strcmp(json_object_get_string(st), "fail") != 0)
                r = 1;
        else
                phase_verify_note(c, "%s reports a failure", path);
        json_object_put(o);
        return r;
}

static int verification_run(struct phase_ctx *c)
{
        const struct answers *a = phase_answers(c);
        _cleanup_free_ char *path = health_json_path(phase_paths(c)->sessions_dir, phase_session_id(c));
        struct check_list l = { 0 };
        struct health_facts f;
        struct json_object *o;
        const char *text;
        size_t n_fail, n_warn, n_pass;
        int r;

        /* the installs are over: the initramfs the run held, regenerated
         * once, before it is checked */
        if (ops_initramfs_held(c)) {
                phase_action_begin(c, "COMMAND_EXEC", "update-initramfs -u",
                                   "Regenerating the initramfs (held during the run)");
                r = phase_action_end(c, ops_initramfs_release(c));
                if (r < 0)
                        return r;
        }

        phase_action_begin(c, "COMMAND_EXEC", "health check", "Health check");
        health_gather(c, &f);
        phase_progress(c, 0.8, "judging");
        health_evaluate(&f, a, &l);

        o = check_list_to_json(&l);
        text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
        r = write_file_atomic(path, text, strlen(text), 0600, 0, 0);
        json_object_put(o);
        if (r < 0) {
                check_list_release(&l);
                return phase_action_end(c, phase_fail(c, r, "cannot write %s: %s", path, strerror(-r)));
        }

        n_pass = check_count(&l, CHECK_PASS);
        n_warn = check_count(&l, CHECK_WARN);
        n_fail = check_count(&l, CHECK_FAIL);
        phase_summary(c, "Health check: %zu passed, %zu warning%s, %zu failed (%s)", n_pass, n_warn,
                      n_warn == 1 ? "" : "s", n_fail, path);
        for (size_t i = 0; i < l.n; i++) {
                const struct check *k = &l.v[i];
                phase_log(c, k->status == CHECK_FAIL ? LOG_ERROR : k->status == CHECK_WARN ? LOG_WARNING : LOG_INFO,
                          "[%s] %s: %s — %s%s%s", check_status_name(k->status), k->category, k->name,
                          k->message, k->fix ? "; " : "", k->fix ? k->fix : "");
                if (k->status != CHECK_PASS)
                        phase_summary(c, "  %s %s: %s", k->status == CHECK_FAIL ? "FAIL" : "warn",
                                      k->name, k->message);
        }
        if (n_fail) {
                _cleanup_strv_ char **names = NULL;
                _cleanup_free_ char *list = NULL;
                for (size_t i = 0; i < l.n; i++)
                        if (l.v[i].status == CHECK_FAIL)
                                strv_push(&names, l.v[i].name);
                list = strv_join(names, ", ");
                check_list_release(&l);
                return phase_action_end(c, phase_fail(c, -EPROTO,
                        "the health check found %zu failure%s: %s (details in %s)", n_fail,
                        n_fail == 1 ? "" : "s", list, path));
        }
        check_list_release(&l);
        return phase_action_end(c, 0);
}

const struct phase phase_verification = {
        .id = "verification",
        .title = "Health check",
        .summary = "Checks system, services, applications, network and security; writes the health check JSON",
        .weight = 1,
        .plan = verification_plan,
        .verify = verification_verify,
        .run = verification_run,
};
