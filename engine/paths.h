/* paths.h — where the program keeps its state, logs, lock and data.
 *
 * Defaults (docs/ARCHITECTURE.md, "Data on disk"): state
 * /var/lib/vps-provision (sessions/, checkpoints/, backups/,
 * journal-ID.jsonl), logs /var/log/vps-provision, lock
 * /run/vps-provision/lock (a root-only
 * directory), data VPSP_DATADIR (the build's
 * DATADIR/vps-provision: /usr/share/vps-provision in the package).
 * Each can be moved with an environment variable (documented in
 * vps-provision(8)): VPS_PROVISION_STATE_DIR, VPS_PROVISION_LOG_DIR,
 * VPS_PROVISION_LOCK, VPS_PROVISION_DATA_DIR (a program run from its build
 * directory uses VPS_PROVISION_DATA_DIR=SOURCE/assets). The attach sockets
 * live in /run/vps-provision, or the lock's directory when
 * VPS_PROVISION_LOCK moves it, or VPS_PROVISION_RUN_DIR. */
#pragma once

#include <limits.h>
#include <stddef.h>

struct paths {
        char state_dir[PATH_MAX];
        char sessions_dir[PATH_MAX];
        char checkpoints_dir[PATH_MAX];
        char backups_dir[PATH_MAX];
        char log_dir[PATH_MAX];
        char lock_path[PATH_MAX];
        char data_dir[PATH_MAX];
        char run_dir[PATH_MAX];     /* attach sockets (attach_server.h) */
};

/* Fills p from defaults and the environment; -EINVAL with err filled (the
 * variable, its value, why and what to do) when an override is not an
 * absolute path, has a ".." component or a control character, or is too
 * long. An empty variable counts as unset; a trailing slash is dropped. p
 * is written only on success. */
int paths_init(struct paths *p, char *err, size_t errlen);
/* state_dir/journal-ID.jsonl, log_dir/ID.log, data_dir/NAME; buf is ""
 * when the path does not fit in size. */
void paths_journal(const struct paths *p, const char *session_id, char *buf, size_t size);
void paths_log(const struct paths *p, const char *session_id, char *buf, size_t size);
void paths_data(const struct paths *p, const char *name, char *buf, size_t size);
/* Creates the state tree (0700) and log dir (0700) like mkdir -p; existing
 * ones get mode 0700 too. 0 or -errno (-ENOTDIR when a file is in the way). */
int paths_create(const struct paths *p);
