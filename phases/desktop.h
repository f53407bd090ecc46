/* desktop.h — the pure parts of the desktop phase, for its tests. */
#pragma once

#include <stdbool.h>

#include "answers.h"

/* The X session every RDP login starts (x-session-manager alternative). */
#define DESKTOP_SESSION_MANAGER "/usr/bin/xfce4-session"

/* Packages the answers may keep out of the install, in the order they are
 * asked about (NULL-terminated): a display manager and screen lockers. */
extern const char *const desktop_optional_packages[];

/* The words after "apt-get install" for the desktop's one transaction:
 * the XFCE set, lightdm and a screen locker when the answers ask for them,
 * the PipeWire sound server when sound is wanted and Debian packages the
 * xrdp module for it (sound_packaged), and "NAME-" for each optional
 * package that is not wanted and not installed (installed: the optional
 * packages already on the machine, which are never removed). Caller frees
 * the strv. */
char **desktop_packages(const struct answers *a, bool sound_packaged, char *const *installed);

/* The package names of desktop_packages() that must end up installed
 * (its words without the "NAME-" exclusions). Caller frees. */
char **desktop_required(char *const *words);
