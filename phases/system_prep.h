/* system_prep.h — the pure parts of the system-prep phase, for its tests. */
#pragma once

#include <stdbool.h>

/* The packages every later phase and a developer expect (NULL-terminated). */
extern const char *const system_prep_base_packages[];

/* The apt.conf.d drop-in and the needrestart drop-in, as written. */
extern const char system_prep_apt_conf[];
extern const char system_prep_needrestart_conf[];

/* The deb822 sources file for a mirror (no trailing slash needed, one is
 * kept if given) and codename, with the security archive beside it, signed
 * by keyring. Caller frees. */
char *system_prep_sources(const char *mirror, const char *codename, const char *keyring);

/* old is a one-line-style sources.list. Sets *ret to a copy in which every
 * active "deb"/"deb-src" line is commented out (with a note saying where
 * the sources went) and returns 0; returns 1 with *ret untouched when there
 * is no active line (nothing to change). */
int system_prep_disable_list(const char *old, const char *moved_to, char **ret);
