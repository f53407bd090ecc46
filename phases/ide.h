/* ide.h — the IDE phases (ide-vscode, ide-cursor, ide-antigravity) and the
 * pure parts they are made of, for the unit tests: reading gpg's colon
 * listing, the DEB822 source text, spotting another apt source for the same
 * repository. */
#pragma once

#include <stdbool.h>

#include "ide_catalog.h"
#include "phase.h"

extern const struct phase phase_ide_vscode;
extern const struct phase phase_ide_cursor;
extern const struct phase phase_ide_antigravity;

/* The primary-key fingerprints in the output of
 * gpg --show-keys --with-colons (the "fpr" record that follows each "pub"
 * record; subkeys' are ignored), upper case, as a strv (NULL when none). */
char **ide_parse_primary_fingerprints(const char *colons);

/* The .sources text (DEB822) for e's repository with keyring as Signed-By,
 * restricted to arch. Caller frees. */
char *ide_sources_text(const struct ide_entry *e, const char *keyring, const char *arch);

/* True when an apt source file's text (one-line .list or DEB822 .sources)
 * names uri (trailing slashes ignored) in an active entry. */
bool ide_source_names_uri(const char *text, const char *uri);
/* The Signed-By keyring path in a source file's text (signed-by= option of
 * a .list line or a Signed-By: field naming a file), or NULL. Caller frees. */
char *ide_source_signed_by(const char *text);

/* The version in "code --version" output: its first line, trimmed; NULL
 * when empty. Caller frees. */
char *ide_parse_version(const char *out);
/* The file name apt gives a downloaded package in /var/cache/apt/archives:
 * NAME_VERSION_ARCH.deb with '_', ':' and '%' as %XX ("1:2.0" → "1%3a2.0").
 * Caller frees. */
char *ide_apt_cache_name(const char *pkg, const char *version, const char *arch);
/* The libraries ldd reports as "not found", as a strv (NULL when none). */
char **ide_parse_ldd_missing(const char *out);
