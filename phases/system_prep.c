/* system_prep.c — the system-prep phase: apt set up so that no run can stop
 * at a hidden question, optionally another Debian mirror, fresh package
 * lists, an optional upgrade, and the base packages.
 *
 * DESIGN: every change is a file written through ops_write_file() (backed
 * up or journaled as created) or an apt transaction through ops.h, so a
 * rollback restores the server's own apt sources and configuration. The
 * upgrade is the one change no rollback undoes (the answers' doc says so);
 * it is an input of the phase (a changed answer re-runs it) and is not
 * looked at by verify(), which would otherwise have to download package
 * lists to decide. */
#include "system_prep.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "ops.h"
#include "phases.h"
#include "sysfile.h"

#define APT_CONF_PATH      "/etc/apt/apt.conf.d/90vps-provision"
#define NEEDRESTART_DIR    "/etc/needrestart/conf.d"
#define NEEDRESTART_PATH   NEEDRESTART_DIR "/90vps-provision.conf"
#define SOURCES_PATH       "/etc/apt/sources.list.d/debian.sources"
#define SOURCES_LIST_PATH  "/etc/apt/sources.list"

const char *const system_prep_base_packages[] = {
        "build-essential", "ca-certificates", "curl", "git", "gnupg", "wget", NULL,
};

/* Every option here is one apt or dpkg reads (apt.conf(5), apt-get(8),
 * dpkg(1)); the environment of each run (run.h) already answers debconf,
 * so this file is what keeps later runs of apt quiet as well. */
const char system_prep_apt_conf[] =
        "// Written by vps-provision (system-prep phase); removed by its rollback.\n"
        "//\n"
        "// Changed configuration files: keep the local version without asking when\n"
        "// the package's default is not wanted, take the new one where the local\n"
        "// file was never edited. No package installation can stop at a question.\n"
        "Dpkg::Options {\n"
        "        \"--force-confdef\";\n"
        "        \"--force-confold\";\n"
        "};\n"
        "// Wait up to two minutes for another package manager (unattended-upgrades\n"
        "// runs on a fresh server's first boot) instead of failing at once.\n"
        "DPkg::Lock::Timeout \"120\";\n"
        "// A download that breaks off is tried again; mirrors have bad minutes.\n"
        "Acquire::Retries \"5\";\n"
        "Acquire::http::Timeout \"30\";\n"
        "Acquire::https::Timeout \"30\";\n"
        "// Translated package descriptions are not needed on a server: apt-get\n"
        "// update downloads less.\n"
        "Acquire::Languages \"none\";\n";

/* needrestart reads Perl; conf.d files override its needrestart.conf. */
const char system_prep_needrestart_conf[] =
        "# Written by vps-provision (system-prep phase); removed by its rollback.\n"
        "# Restart services that use updated libraries without asking, and do not\n"
        "# stop a package installation for kernel or microcode hints.\n"
        "$nrconf{restart} = 'a';\n"
        "$nrconf{kernelhints} = 0;\n"
        "$nrconf{ucodehints} = 0;\n";

char *system_prep_sources(const char *mirror, const char *codename, const char *keyring)
{
        return xasprintf(
                "# Written by vps-provision (system-prep phase, [system] apt_mirror).\n"
                "# The sources it replaced are restored by vps-provision --rollback.\n"
                "Types: deb\n"
                "URIs: %s\n"
                "Suites: %s %s-updates\n"
                "Components: main non-free-firmware\n"
                "Signed-By: %s\n"
                "\n"
                "Types: deb\n"
                "URIs: http://deb.debian.org/debian-security\n"
                "Suites: %s-security\n"
                "Components: main non-free-firmware\n"
                "Signed-By: %s\n",
                mirror, codename, codename, keyring, codename, keyring);
}

/* Whether a sources.list line is an active entry ("deb …", "deb-src …"). */
static bool list_line_active(const char *l, size_t len)
{
        while (len && (*l == ' ' || *l == '\t')) {
                l++;
                len--;
        }
        return (len > 4 && memcmp(l, "deb", 3) == 0 && (l[3] == ' ' || l[3] == '\t')) ||
               (len > 8 && memcmp(l, "deb-src", 7) == 0 && (l[7] == ' ' || l[7] == '\t'));
}

int system_prep_disable_list(const char *old, const char *moved_to, char **ret)
{
        struct buf b;
        bool any = false;

        buf_init(&b, 16u << 20);
        buf_printf(&b, "# vps-provision ([system] apt_mirror) moved the Debian sources to %s;\n"
                       "# the lines below are the server's own, restored by vps-provision --rollback.\n",
                   moved_to);
        for (const char *l = old; *l;) {
                const char *end = strchr(l, '\n');
                size_t len = end ? (size_t)(end - l) : strlen(l);

                if (list_line_active(l, len)) {
                        any = true;
                        buf_append(&b, "# ", 2);
                }
                buf_append(&b, l, len);
                buf_append(&b, "\n", 1);
                l = end ? end + 1 : l + len;
        }
        if (!any) {
                buf_release(&b);
                return 1;
        }
        *ret = buf_steal(&b);
        return 0;
}

/* The archive keyring that Debian's own sources name: trixie ships .pgp,
 * bookworm .gpg. */
static const char *archive_keyring(void)
{
        static const char pgp[] = "/usr/share/keyrings/debian-archive-keyring.pgp";
        return path_exists(pgp) ? pgp : "/usr/share/keyrings/debian-archive-keyring.gpg";
}

static bool needrestart_present(void)
{
        struct stat st;
        return stat(NEEDRESTART_DIR, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The file contents this phase wants for sources, or NULL without a mirror. */
static char *wanted_sources(struct phase_ctx *c)
{
        const struct answers *a = phase_answers(c);
        const struct vps_info *v = phase_vps(c);

        if (!a->apt_mirror[0])
                return NULL;
        return system_prep_sources(a->apt_mirror, v->os_codename[0] ? v->os_codename : "trixie",
                                   archive_keyring());
}

/* The rewritten sources.list when it still has active lines, else NULL. */
static char *wanted_list(void)
{
        _cleanup_free_ char *old = sysfile_read(SOURCES_LIST_PATH);
        char *neu = NULL;

        if (!old)
                return NULL;
        if (system_prep_disable_list(old, SOURCES_PATH, &neu) != 0)
                return NULL;
        return neu;
}

static void system_prep_inputs(const struct answers *a, struct sha256_ctx *d)
{
        char line[600];
        int n = snprintf(line, sizeof(line), "upgrade=%d\napt_mirror=%s\n", a->upgrade,
                         a->apt_mirror);
        sha256_add(d, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}

static int system_prep_plan(struct phase_ctx *c)
{
        const struct answers *a = phase_answers(c);
        _cleanup_strv_ char **missing = NULL;
        _cleanup_free_ char *list = NULL;

        phase_plan(c, "FILE_CREATE", APT_CONF_PATH,
                   "apt and dpkg set up never to ask a question; downloads retried");
        if (needrestart_present())
                phase_plan(c, "FILE_CREATE", NEEDRESTART_PATH,
                           "needrestart restarts services without asking");
        if (a->apt_mirror[0]) {
                phase_plan(c, "FILE_MODIFY", SOURCES_PATH, "Debian sources point to %s",
                           a->apt_mirror);
                list = wanted_list();
                if (list)
                        phase_plan(c, "FILE_MODIFY", SOURCES_LIST_PATH,
                                   "its old entries commented out (backed up)");
        }
        phase_plan(c, "COMMAND_EXEC", "apt-get update",
                   "refresh the package lists (waiting for a held dpkg lock, retrying)");
        phase_plan(c, "COMMAND_EXEC", "man-db/auto-update",
                   "man-db's index updates paused until the last phase (then one rebuild, in the background)");
        phase_plan(c, "FILE_MODIFY", "initramfs-tools/update_initramfs",
                   "initramfs updates held until the verification (then one update-initramfs -u), when initramfs-tools is installed");
        if (a->upgrade)
                phase_plan(c, "COMMAND_EXEC", "apt-get dist-upgrade",
                           "upgrade every installed package (not undone by a rollback)");
        if (ops_pkgs_missing(c, system_prep_base_packages, &missing) == 0 && missing) {
                _cleanup_free_ char *names = strv_join(missing, " ");
                phase_plan(c, "PACKAGE_INSTALL", names, "base packages: %s", names);
        } else
                phase_plan(c, "PACKAGE_INSTALL", "base packages",
                           "base packages: already installed");
        return 0;
}

static int system_prep_verify(struct phase_ctx *c)
{
        _cleanup_strv_ char **missing = NULL;
        _cleanup_free_ char *sources = wanted_sources(c);
        _cleanup_free_ char *list = NULL;
        int done = 1, r;

        if (!sysfile_is(APT_CONF_PATH, system_prep_apt_conf, 0644, 0, 0)) {
                phase_verify_note(c, "%s is missing or differs", APT_CONF_PATH);
                done = 0;
        }
        if (needrestart_present() &&
            !sysfile_is(NEEDRESTART_PATH, system_prep_needrestart_conf, 0644, 0, 0)) {
                phase_verify_note(c, "%s is missing or differs", NEEDRESTART_PATH);
                done = 0;
        }
        if (sources) {
                if (!sysfile_is(SOURCES_PATH, sources, 0644, 0, 0)) {
                        phase_verify_note(c, "%s does not point to %s", SOURCES_PATH,
                                          phase_answers(c)->apt_mirror);
                        done = 0;
                }
                list = wanted_list();
                if (list) {
                        phase_verify_note(c, "%s still has active entries", SOURCES_LIST_PATH);
                        done = 0;
                }
        }
        r = ops_pkgs_missing(c, system_prep_base_packages, &missing);
        if (r < 0)
                return r;
        if (missing) {
                _cleanup_free_ char *names = strv_join(missing, ", ");
                phase_verify_note(c, "not installed: %s", names);
                done = 0;
        }
        phase_verify_digest(c, "apt.conf=%d sources=%s", done, sources ? "mirror" : "own");
        return done;
}

static int system_prep_run(struct phase_ctx *c)
{
        const struct answers *a = phase_answers(c);
        _cleanup_free_ char *sources = wanted_sources(c);
        int r;

        /* before the first change: another package manager (the automatic
         * updates of a freshly booted server) that never lets go leaves
         * the server as it was */
        r = ops_wait_package_manager(c);
        if (r < 0)
                return r;
        phase_action_begin(c, "FILE_CREATE", APT_CONF_PATH,
                           "Setting apt up for unattended runs");
        r = ops_write_file(c, APT_CONF_PATH, system_prep_apt_conf, strlen(system_prep_apt_conf),
                           0644, 0, 0);
        if (r >= 0 && needrestart_present())
                r = ops_write_file(c, NEEDRESTART_PATH, system_prep_needrestart_conf,
                                   strlen(system_prep_needrestart_conf), 0644, 0, 0);
        r = phase_action_end(c, r);
        if (r < 0)
                return r;
        phase_progress(c, 0.02, NULL);

        if (sources) {
                _cleanup_free_ char *list = wanted_list();

                phase_action_begin(c, "FILE_MODIFY", SOURCES_PATH, "Using the Debian mirror %s",
                                   a->apt_mirror);
                r = ops_write_file(c, SOURCES_PATH, sources, strlen(sources), 0644, 0, 0);
                if (r >= 0 && list)
                        r = ops_write_file(c, SOURCES_LIST_PATH, list, strlen(list), 0644, 0, 0);
                r = phase_action_end(c, r);
                if (r < 0)
                        return r;
        }

        phase_progress(c, 0.03, "refreshing the package lists");
        phase_action_begin(c, "COMMAND_EXEC", "apt-get update", "Refreshing the package lists");
        r = phase_action_end(c, ops_apt_update(c));
        if (r < 0)
                return r;
        phase_progress(c, 0.15, NULL);

        /* every install of the run would otherwise rebuild the manual
         * page index (man-db's trigger); nobody needs it before the first
         * login */
        phase_action_begin(c, "COMMAND_EXEC", "man-db/auto-update",
                           "Pausing man-db's index updates until the end of the run");
        r = phase_action_end(c, ops_mandb_pause(c));
        if (r < 0)
                return r;

        /* initramfs-tools' trigger and the postinst of plymouth and others
         * would each regenerate the kernel's initramfs (minutes on a small
         * server); once, after the last install, is enough */
        phase_action_begin(c, "FILE_MODIFY", "initramfs-tools/update_initramfs",
                           "Holding the initramfs updates until the end of the run");
        r = phase_action_end(c, ops_initramfs_hold(c));
        if (r < 0)
                return r;

        if (a->upgrade) {
                phase_action_begin(c, "COMMAND_EXEC", "apt-get dist-upgrade",
                                   "Upgrading the installed packages");
                r = phase_action_end(c, ops_apt_upgrade(c));
                if (r < 0)
                        return r;
        }
        phase_progress(c, 0.4, "installing the base packages");
        phase_action_begin(c, "PACKAGE_INSTALL", "base packages",
                           "Installing the base packages (build-essential, curl, git, …)");
        r = phase_action_end(c, ops_apt_install(c, system_prep_base_packages, 0, 0.4, 1.0));
        return r < 0 ? r : 0;
}

const struct phase phase_system_prep = {
        .id = "system-prep",
        .title = "System preparation",
        .summary = "apt set up for unattended runs, package lists, base packages",
        .weight = 8,
        /* apt-get --print-uris on a fresh Debian 13: build-essential, git, curl and their recommends */
        .download_mb = 104,
        .inputs = system_prep_inputs,
        .plan = system_prep_plan,
        .verify = system_prep_verify,
        .run = system_prep_run,
};
