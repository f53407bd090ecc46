/* ide_catalog.h — the IDE catalog (assets/ide-catalog.json): where each
 * IDE comes from, which key signs its repository, what to check after the
 * install. Data, read strictly: an unknown method, a relative path, a
 * fingerprint that is not 40 hex digits, a missing required field all fail
 * with a message naming the file, the entry and the field.
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
        char *id;                 /* "vscode": matches ide_id_name() */
        char *ide_name;           /* "VSCODE": the data model's name */
        char *display_name;
        char *package;            /* dpkg package name */
        char *command;            /* on PATH once installed */
        char **version_args;      /* strv; default { "--version" } */
        char *binary;             /* ELF checked with ldd; NULL = the command's target */
        char *desktop_file;       /* absolute */
        char **architectures;     /* strv of dpkg architectures */
        enum ide_catalog_method method;
        /* apt_repository */
        char *uri, *suite;
        char **components;        /* strv */
        char *key_url;
        char **fingerprints;      /* strv of 40 upper-case hex digits; may be empty */
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
void ide_catalog_release(struct ide_catalog *c);
const struct ide_entry *ide_catalog_find(const struct ide_catalog *c, const char *id);

/* True when arch is one of e->architectures. */
bool ide_entry_supports(const struct ide_entry *e, const char *arch);
/* The direct .deb for arch, or NULL. */
const struct ide_deb *ide_entry_deb(const struct ide_entry *e, const char *arch);
