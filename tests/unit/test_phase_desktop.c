/* test_phase_desktop.c — the desktop phase's package words for every
 * combination of the [desktop] answers, with and without the xrdp sound
 * module in the archive, and with optional packages already installed
 * (which must never get a "NAME-" word: apt would remove them). */
#include "testlib.h"

#include <string.h>

#include "answers.h"
#include "desktop.h"
#include "util.h"

static char *words_for(bool dm, bool locker, bool sound, bool packaged, char *const *installed)
{
        struct answers a;
        _cleanup_strv_ char **w = NULL;

        answers_init(&a);
        a.display_manager = dm;
        a.screen_locker = locker;
        a.sound = sound;
        w = desktop_packages(&a, packaged, installed);
        return strv_join(w, " ");
}

static void test_defaults(void **state)
{
        (void)state;
        struct answers a;
        _cleanup_strv_ char **w = NULL, **req = NULL;
        _cleanup_free_ char *s = NULL, *r = NULL;

        answers_init(&a);   /* display_manager no, screen_locker no, sound yes */
        w = desktop_packages(&a, true, NULL);
        s = strv_join(w, " ");
        assert_string_equal(s, "xfce4 xfce4-goodies xfce4-terminal thunar dbus-x11 "
                               "pipewire-pulse wireplumber "
                               "lightdm- light-locker- xfce4-screensaver- xscreensaver- "
                               "mate-screensaver-");
        req = desktop_required(w);
        r = strv_join(req, " ");
        assert_string_equal(r, "xfce4 xfce4-goodies xfce4-terminal thunar dbus-x11 "
                               "pipewire-pulse wireplumber");
}

static void test_every_combination(void **state)
{
        (void)state;
        static const struct {
                bool dm, locker, sound, packaged;
                const char *want;
        } cases[] = {
                { false, false, false, true,
                  "lightdm- light-locker- xfce4-screensaver- xscreensaver- mate-screensaver-" },
                { true, false, false, true,
                  "lightdm light-locker- xfce4-screensaver- xscreensaver- mate-screensaver-" },
                { false, true, false, true,
                  "xfce4-screensaver lightdm- light-locker- xscreensaver- mate-screensaver-" },
                /* one locker: XFCE's own, even with lightdm (whose light-locker stays out) */
                { true, true, false, true,
                  "lightdm xfce4-screensaver light-locker- xscreensaver- mate-screensaver-" },
                /* sound, but Debian 12 has no xrdp module: no PipeWire switch */
                { false, false, true, false,
                  "lightdm- light-locker- xfce4-screensaver- xscreensaver- mate-screensaver-" },
                { true, true, true, true,
                  "lightdm xfce4-screensaver pipewire-pulse wireplumber light-locker- xscreensaver- "
                  "mate-screensaver-" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *got = words_for(cases[i].dm, cases[i].locker, cases[i].sound,
                                                     cases[i].packaged, NULL);
                _cleanup_free_ char *want = xasprintf(
                        "xfce4 xfce4-goodies xfce4-terminal thunar dbus-x11 %s", cases[i].want);
                assert_string_equal(got, want);
        }
}

static void test_installed_packages_are_never_excluded(void **state)
{
        (void)state;
        _cleanup_strv_ char **installed = NULL;
        _cleanup_free_ char *got = NULL;

        strv_push(&installed, "lightdm");
        strv_push(&installed, "xscreensaver");
        got = words_for(false, false, false, true, installed);
        assert_string_equal(got, "xfce4 xfce4-goodies xfce4-terminal thunar dbus-x11 "
                                 "light-locker- xfce4-screensaver- mate-screensaver-");
        assert_null(strstr(got, "lightdm-"));
        assert_null(strstr(got, "xscreensaver-"));
}

static void test_optional_list(void **state)
{
        (void)state;
        size_t n = 0;

        /* every optional package the answers can exclude is listed once */
        while (desktop_optional_packages[n])
                n++;
        assert_int_equal(n, 5);
        for (size_t i = 0; i < n; i++)
                for (size_t j = i + 1; j < n; j++)
                        assert_string_not_equal(desktop_optional_packages[i],
                                                desktop_optional_packages[j]);
        assert_string_equal(DESKTOP_SESSION_MANAGER, "/usr/bin/xfce4-session");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_defaults),
                cmocka_unit_test(test_every_combination),
                cmocka_unit_test(test_installed_packages_are_never_excluded),
                cmocka_unit_test(test_optional_list),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
