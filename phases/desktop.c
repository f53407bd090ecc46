/* desktop.c — the desktop phase: XFCE and its companions in one apt
 * transaction (per-package progress from apt's status channel), and XFCE as
 * the X session every RDP login starts.
 *
 * DESIGN: apt's recommends of xfce4 bring a display manager (lightdm, which
 * starts a local X server with a login screen nobody sees on a server and
 * holds the user's session against xrdp) and screen lockers (which blank
 * and lock RDP sessions). [desktop] display_manager and screen_locker keep
 * them out with apt's "NAME-" words, which also keep out what only they
 * would have pulled in. A "NAME-" word for an installed package would
 * remove it, so those words are given only for packages that are not
 * installed: the phase never removes anything.
 *
 * With [desktop] sound, PipeWire's PulseAudio server is installed in the
 * same transaction, so apt does not choose PulseAudio for the recommends
 * and have it replaced a moment later; the rdp phase adds the xrdp module.
 * Debian 12 has no xrdp sound module: the phase says so and skips sound. */
#include "desktop.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ops.h"
#include "phases.h"
#include "rdp.h"

static const char *const xfce_packages[] = {
        "xfce4", "xfce4-goodies", "xfce4-terminal", "thunar", "dbus-x11", NULL,
};

const char *const desktop_optional_packages[] = {
        "lightdm", "light-locker", "xfce4-screensaver", "xscreensaver", "mate-screensaver", NULL,
};

/* Whether the answers want an optional package. */
static bool optional_wanted(const struct answers *a, const char *pkg)
{
        if (strcmp(pkg, "lightdm") == 0)
                return a->display_manager;
        /* one locker at most: XFCE's own, which works without lightdm
         * (light-locker, lightdm's recommendation, locks only through it) */
        return a->screen_locker && strcmp(pkg, "xfce4-screensaver") == 0;
}

char **desktop_packages(const struct answers *a, bool sound_packaged, char *const *installed)
{
        char **w = NULL;

        for (size_t i = 0; xfce_packages[i]; i++)
                strv_push(&w, xfce_packages[i]);
        if (a->display_manager)
                strv_push(&w, "lightdm");
        if (a->screen_locker)
                strv_push(&w, "xfce4-screensaver");
        if (a->sound && sound_packaged) {
                strv_push(&w, "pipewire-pulse");
                strv_push(&w, "wireplumber");
        }
        for (size_t i = 0; desktop_optional_packages[i]; i++) {
                const char *p = desktop_optional_packages[i];
                if (!optional_wanted(a, p) && !strv_contains(installed, p))
                        strv_pushf(&w, "%s-", p);
        }
        return w;
}

char **desktop_required(char *const *words)
{
        char **req = NULL;

        for (size_t i = 0; words && words[i]; i++) {
                size_t n = strlen(words[i]);
                if (n > 1 && words[i][n - 1] == '-')
                        continue;
                strv_push(&req, words[i]);
        }
        return req;
}

/* The install words for this machine; *ret_sound_packaged says whether
 * Debian has the xrdp sound module here. */
static int compute_words(struct phase_ctx *c, char ***ret, bool *ret_sound_packaged)
{
        const struct answers *a = phase_answers(c);
        _cleanup_strv_ char **installed = NULL;
        bool sound_packaged = false;
        int r;

        r = ops_pkgs_installed(c, desktop_optional_packages, &installed);
        if (r < 0)
                return r;
        if (a->sound) {
                r = ops_apt_has(c, RDP_SOUND_MODULE);
                if (r < 0)
                        return r;
                sound_packaged = r == 1;
        }
        *ret = desktop_packages(a, sound_packaged, installed);
        if (ret_sound_packaged)
                *ret_sound_packaged = sound_packaged;
        return 0;
}

static void desktop_inputs(const struct answers *a, struct sha256_ctx *d)
{
        char line[128];
        int n = snprintf(line, sizeof(line), "display_manager=%d\nscreen_locker=%d\nsound=%d\n",
                         a->display_manager, a->screen_locker, a->sound);
        sha256_add(d, line, (size_t)n);
}

static int desktop_plan(struct phase_ctx *c)
{
        const struct answers *a = phase_answers(c);
        _cleanup_strv_ char **words = NULL;
        _cleanup_free_ char *list = NULL;
        bool sound_packaged = false;
        int r;

        r = compute_words(c, &words, &sound_packaged);
        if (r < 0)
                return r;
        list = strv_join(words, " ");
        phase_plan(c, "PACKAGE_INSTALL", list,
                   "XFCE desktop in one apt transaction%s%s: apt-get install %s",
                   a->display_manager ? ", with lightdm" : ", no display manager",
                   a->screen_locker ? ", with a screen locker" : ", no screen locker", list);
        if (a->sound && !sound_packaged)
                phase_plan(c, "COMMAND_EXEC", "sound", "%s", rdp_plan_sound_note(c));
        phase_plan(c, "COMMAND_EXEC", "x-session-manager",
                   "default X session: " DESKTOP_SESSION_MANAGER);
        return 0;
}

static int desktop_verify(struct phase_ctx *c)
{
        _cleanup_strv_ char **words = NULL, **req = NULL, **missing = NULL;
        char sm[4096];
        int done = 1, r;

        r = compute_words(c, &words, NULL);
        if (r < 0)
                return r;
        req = desktop_required(words);
        r = ops_pkgs_missing(c, (const char *const *)req, &missing);
        if (r < 0)
                return r;
        if (missing) {
                _cleanup_free_ char *names = strv_join(missing, ", ");
                phase_verify_note(c, "not installed: %s", names);
                done = 0;
        }
        r = ops_alternative(c, "x-session-manager", sm, sizeof(sm), NULL);
        if (r < 0)
                return r;
        if (strcmp(sm, DESKTOP_SESSION_MANAGER) != 0) {
                phase_verify_note(c, "the default X session is %s, not %s",
                                  sm[0] ? sm : "not set", DESKTOP_SESSION_MANAGER);
                done = 0;
        }
        {
                _cleanup_free_ char *list = strv_join(req, " ");
                phase_verify_digest(c, "installed=%s session=%s", list, sm);
        }
        return done;
}

static int desktop_run(struct phase_ctx *c)
{
        const struct answers *a = phase_answers(c);
        _cleanup_strv_ char **words = NULL;
        bool sound_packaged = false;
        int r;

        r = compute_words(c, &words, &sound_packaged);
        if (r < 0)
                return phase_fail(c, r, "cannot ask dpkg and apt about the desktop packages: %s",
                                  strerror(-r));
        if (a->sound && !sound_packaged)
                phase_log(c, LOG_WARNING,
                          "sound over RDP skipped: this Debian release has no xrdp sound module (" RDP_SOUND_MODULE "; Debian 13 has it)");
        if (!a->display_manager)
                phase_log(c, LOG_INFO,
                          "no display manager ([desktop] display_manager = no): xrdp starts the sessions");
        if (!a->screen_locker)
                phase_log(c, LOG_INFO,
                          "no screen locker ([desktop] screen_locker = no): RDP sessions are not blanked");

        phase_action_begin(c, "PACKAGE_INSTALL", "xfce4", "Installing the XFCE desktop");
        r = phase_action_end(c, ops_apt_install(c, (const char *const *)words, 0, 0.0, 0.95));
        if (r < 0)
                return r;

        phase_action_begin(c, "COMMAND_EXEC", "x-session-manager",
                           "Making XFCE the default X session");
        r = phase_action_end(c, ops_set_alternative(c, "x-session-manager",
                                                    DESKTOP_SESSION_MANAGER));
        if (r < 0)
                return r;
        phase_progress(c, 1.0, NULL);
        return 0;
}

const struct phase phase_desktop = {
        .id = "desktop",
        .title = "XFCE desktop",
        .summary = "XFCE and its applications in one apt transaction, XFCE as the X session",
        .weight = 25,
        /* apt-get --print-uris on a fresh Debian 13: XFCE with its recommends, without a display manager or screen lockers */
        .download_mb = 245,
        .inputs = desktop_inputs,
        .plan = desktop_plan,
        .verify = desktop_verify,
        .run = desktop_run,
};
