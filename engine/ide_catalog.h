/* ide_catalog.h — the IDE catalog (assets/ide-catalog.json), the one table
 * of the IDEs the program knows: for each, its id and names, the packages
 * that may hold it, what it must ship (command, binary, desktop file), the
 * architectures it is published for, where it comes from (a signed apt
 * repository with pinned key fingerprints, or a checksummed .deb) and how
 * it is checked after the install. The answers' [ides] install names its
 * ids, the wizard lists its entries, the IDE phases are made from it (one
 * phase "ide-ID" per entry) and the verification phase checks what it says:
 * an IDE added to the catalog needs no change of the program.
 *
 * Data, read strictly: an unknown method, a relative path, a fingerprint
 * that is not 40 hex digits, an apt entry without a pinned fingerprint, a
 * missing required field all fail with a message naming the file, the entry
 * and the field.
 *
 * Which file: the answers' [ides] catalog when set, else the environment
 * variable VPS_PROVISION_IDE_CATALOG (tests, mirrors), else
 * DATA_DIR/ide-catalog.json. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "answers.h"
#include "paths.h"

#define IDE_CATALOG_ENV "VPS_PROVISION_IDE_CATALOG"
#define IDE_ID_MAX 32             /* bytes of an id, without the NUL */

enum ide_catalog_method {
        IDE_CAT_APT_REPOSITORY,   /* signed apt repository (the preferred way) */
        IDE_CAT_DEB_PACKAGE,      /* a .deb per architecture, checked by sha256 */
        IDE_CAT_APPIMAGE,         /* named by the data model; not installed by this version */
};

struct ide_deb {
        char *arch;
        char *url;
        char *sha256;             /* required: 64 hex digits */
};

struct ide_entry {
        char *id;                 /* "vscode": [ides] install names it; phase "ide-vscode" */
        char *ide_name;           /* "VSCODE": the data model's name (session records) */
        char *display_name;       /* "Visual Studio Code" */
        char *description;        /* one line for the wizard ("" when none) */
        char **packages;          /* strv: the packages that may hold the IDE, preferred first */
        char *command;            /* on PATH once installed */
        char **version_args;      /* strv; default { "--version" } */
        char *binary;             /* ELF the package must ship, checked with ldd; NULL = the
                                     command's target */
        char *desktop_file;       /* absolute; the package must ship it */
        char **architectures;     /* strv of dpkg architectures */
        char **debconf;           /* strv of "owner question type value", preseeded before the
                                     install (debconf-set-selections), NULL when none */
        enum ide_catalog_method method;
        /* apt_repository */
        char *uri, *suite;
        char **components;        /* strv */
        char *key_url;
        char **fingerprints;      /* strv of 40 upper-case hex digits; at least one */
        char *fingerprint_status; /* where the pinned fingerprints come from */
        char *keyring_dir;        /* default /etc/apt/keyrings */
        char *sources_dir;        /* default /etc/apt/sources.list.d */
        /* deb_package */
        struct ide_deb *debs;
        size_t n_debs;
        uint64_t max_bytes;       /* download cap; default 1 GiB */
};

/* Optional "fetch" object: download tuning for slow mirrors (and tests). */
struct ide_fetch_tuning {
        int retries;              /* -1 = fetch's default */
        unsigned backoff_ms;      /* 0 = default */
        unsigned stall_seconds;   /* 0 = default */
        unsigned connect_timeout_ms; /* 0 = default */
};

struct ide_catalog {
        char *path;
        char *checked;            /* date the sources were checked, or NULL */
        struct ide_fetch_tuning fetch;
        struct ide_entry *entries;
        size_t n_entries;
};

/* The catalog file to use, into buf. */
void ide_catalog_path(const struct answers *a, const struct paths *p, char *buf, size_t size);

/* Parses a catalog from text (path only names it in messages). 0 or
 * -EINVAL with err filled ("ide-catalog.json: ides[1] (cursor): apt.uri:
 * missing"). */
int ide_catalog_parse(const char *text, const char *path, struct ide_catalog *ret, char *err,
                      size_t errlen);
/* Reads and parses path (at most 1 MiB): -ENOENT/-EACCES … or -EINVAL,
 * err filled in both cases. */
int ide_catalog_load(const char *path, struct ide_catalog *ret, char *err, size_t errlen);
/* The catalog the answers name (ide_catalog_path() with this process's
 * paths); ret_path (may be NULL) gets its path even on failure. */
int ide_catalog_load_for(const struct answers *a, struct ide_catalog *ret, char *ret_path,
                         size_t path_size, char *err, size_t errlen);
void ide_catalog_release(struct ide_catalog *c);
const struct ide_entry *ide_catalog_find(const struct ide_catalog *c, const char *id);

/* True when arch is one of e->architectures. */
bool ide_entry_supports(const struct ide_entry *e, const char *arch);
/* The direct .deb for arch, or NULL. */
const struct ide_deb *ide_entry_deb(const struct ide_entry *e, const char *arch);

/* The rule for an id (what [ides] install may name): 1 to IDE_ID_MAX
 * characters, lower-case letters, digits and "-", starting with a letter. */
bool ide_id_valid(const char *id);
