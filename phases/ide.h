/* ide.h — the IDE phases, one per entry of the IDE catalog ("ide-ID"),
 * and the pure parts they are made of, for the unit tests. */
#pragma once

#include <stdbool.h>

#include "ide_catalog.h"
#include "phase.h"

/* The IDE phases of the catalog the answers name, in catalog order. Each
 * phase's data is its catalog entry; enabled() says whether [ides] install
 * names it. */
struct ide_phases {
        struct ide_catalog cat;
        struct phase *v;
        size_t n;
        struct ide_def *defs;     /* one per phase (ide.c) */
};
/* NULL with err filled when the catalog cannot be read. */
struct ide_phases *ide_phases_load(const struct answers *a, char *err, size_t errlen);
void ide_phases_free(struct ide_phases *p);

/* The version in "code --version" output: its first line, trimmed; NULL
 * when empty. Caller frees. */
char *ide_parse_version(const char *out);
/* The libraries ldd reports as "not found", as a strv (NULL when none). */
char **ide_parse_ldd_missing(const char *out);
/* What the entry says its package must ship (the desktop file and the
 * binary) and files (a package's paths, ops_deb_contents()) lacks; strv,
 * NULL when it ships both. */
char **ide_missing_files(const struct ide_entry *e, char *const *files);
