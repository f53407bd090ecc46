/* rollback.h — carrying out one journaled undo on the real system.
 *
 * rollback_apply() matches journal.h's undo_apply_fn: journal_rollback()
 * calls it for each entry, newest first. Every undo is idempotent and
 * checks before it acts:
 *   nothing          skipped
 *   purge_packages   apt-get purge of those listed that dpkg-query still shows
 *                    (installed or config-files); no autoremove (the list is
 *                    exactly what the install added); --allow-remove-essential
 *                    only when one of them is guarded (Essential, Protected,
 *                    Important), since it too was new in the run; then the
 *                    directories in /etc they listed, or their services made
 *                    (ConfigurationDirectory=), that are left empty and
 *                    unowned are removed
 *   (every path below is reached through safepath.h: a symlink someone
 *   other than root made is never followed)
 *   remove_file      unlink if present; when the journal has a sha256 and the
 *                    file no longer matches it, the file is moved aside to
 *                    PATH.vps-provision-modified instead (msg says so)
 *   restore_file     sha256 of the backup must match the journal, else the
 *                    file is left alone and the undo fails with a message;
 *                    content, mode, uid and gid restored atomically
 *   remove_dir       rmdir; a directory that is not empty is left in place
 *                    and the undo fails (-ENOTEMPTY) saying so — unless it
 *                    lies in the home of a user a later step of the same
 *                    rollback deletes (env->plan): then it is skipped, as
 *                    that step keeps or removes the home whole
 *   delete_user      if getent passwd knows the user: loginctl
 *                    terminate-user and pkill -KILL -u; then, when the home
 *                    holds anything that is not a copy of the skeleton
 *                    (env->skel_dir), i.e. files the run did not make (the
 *                    run's own were undone by the newer steps), the home is
 *                    moved whole into a root-only directory
 *                    STATE_DIR/kept-homes/USER-SESSION (or, on another file
 *                    system, HOME's parent/.vps-provision-kept/USER-SESSION),
 *                    with what is mounted below it unmounted first, and a
 *                    note in env->notes says where; then userdel --remove
 *   delete_group     groupdel if getent group knows it
 *   remove_group_member  gpasswd --delete if getent group lists the user
 *   disable_unit     systemctl disable --now if enabled, stop if only active
 *   stop_unit        systemctl stop if active
 *   unmask_unit      systemctl unmask [--runtime] if masked
 *   restart_unit     systemctl try-reload-or-restart if active
 *   set_alternative  update-alternatives --auto / --set unless already so;
 *                    skipped when the link group no longer exists
 *   ufw_delete_rule  ufw delete RULE…; skipped when ufw is not installed or
 *                    says the rule does not exist
 *   ufw_disable      ufw --force disable if "ufw status" says active
 *   ufw_add_rule     ufw RULE… (ufw skips a rule it has already)
 *   remove_apt_source  unlink the source file and each keyring present
 * Commands go through run_command() (argv only); their output lines are
 * passed to on_line so the log and UI show them. */
#pragma once

#include <stddef.h>

#include "journal.h"
#include "run.h"

struct rollback_env {
        run_line_fn on_line;   /* may be NULL */
        void *userdata;
        unsigned timeout_ms;   /* per command; 0 = 30 minutes */
        /* The whole list being undone, in the order given to
         * journal_rollback() (may be NULL): an undo looks at the steps
         * after its own. */
        const struct journal_entry *const *plan;
        size_t n_plan;
        const char *state_dir;   /* NULL = /var/lib/vps-provision */
        const char *skel_dir;    /* NULL = /etc/skel */
        /* Sentences the person must read once the rollback is over (where a
         * home directory was kept), appended by rollback_apply(); a strv the
         * caller frees. */
        char **notes;
};

/* 0 = undone, 1 = nothing to do, -errno with msg = failed. env is a
 * struct rollback_env *. */
int rollback_apply(void *env, const struct journal_entry *e, char *msg, size_t msglen);

/* man-db's own switch for its index updates: its dpkg trigger and its
 * postinst update the index only while this file exists (the postinst
 * writes it from debconf's man-db/auto-update). */
#define MANDB_AUTO_UPDATE_FLAG "/var/lib/man-db/auto-update"
/* Turns man-db's automatic index updates back on after a run paused them
 * (UNDO_MANDB_AUTO_UPDATE, flag its path): man-db/auto-update true in
 * debconf and the flag file back; when man-db is not installed (a rollback purged it), the
 * pause's debconf answer is forgotten instead. Also how a finished run ends
 * the pause. 0 done, or -errno with msg filled (env may be NULL). */
int rollback_mandb_auto_update(const struct rollback_env *env, const char *flag, char *msg,
                               size_t msglen);
