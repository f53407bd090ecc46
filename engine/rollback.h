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

struct initramfs_rb_hold;

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
        /* The rollback's hold of the initramfs updates, when it is on (may
         * be NULL): a purge marks the regeneration as owed, and the undo of
         * a run's own hold (UNDO_INITRAMFS_UPDATE) changes what the
         * configuration gets back at the hold's end instead of the file. */
        struct initramfs_rb_hold *initramfs_hold;
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

/* update-initramfs's configuration: a shell fragment it sources, whose
 * update_initramfs=no makes "update-initramfs -u" (initramfs-tools' dpkg
 * trigger, and the postinst of packages with initramfs hooks) do nothing;
 * a kernel's own "update-initramfs -c" still builds its initramfs. */
#define INITRAMFS_CONF "/etc/initramfs-tools/update-initramfs.conf"
/* The line a run writes there to hold the updates. */
#define INITRAMFS_HOLD_LINE "update_initramfs=no"
/* The line of text (a whole configuration file) that sets update_initramfs:
 * the last one, as sh reads it. Caller frees; NULL when there is none. */
char *initramfs_conf_setting(const char *text);
/* Rewrites the file at path (atomically, mode and owner kept) with its last
 * line equal to from replaced by to; from NULL appends to, to "" removes the
 * line. 0 when rewritten, 1 when there is no such line (nothing changed),
 * -errno (-ENOENT: no file). */
int initramfs_conf_swap(const char *path, const char *from, const char *to);
/* Ends the hold of the initramfs updates (UNDO_INITRAMFS_UPDATE, u->path the
 * configuration, u->value its line before, "" for none): the line back, then
 * "update-initramfs -u", which the hold put off. 0 done, 1 nothing to do
 * (the hold already ended, or initramfs-tools is gone), -errno with msg
 * filled (env may be NULL). */
int rollback_initramfs_update(const struct rollback_env *env, const struct undo *u, char *msg,
                              size_t msglen);

/* The initramfs updates held during a rollback: the purges of packages
 * with initramfs hooks or initramfs-tools' trigger would each regenerate
 * the initramfs (minutes on a small server); the hold makes it once, at the
 * rollback's end. A record in the state directory (root-only) keeps the
 * configuration's text to put back and whether a regeneration is owed, so
 * that a rollback that is stopped and run again ends the same way:
 *   begin  the record (the configuration's bytes, "asked=0"), then
 *          update_initramfs=no in the configuration (left as it is when it
 *          says no already: the administrator's, or a stopped run's hold);
 *          a record already there (a stopped rollback) is taken over and
 *          the configuration held again
 *   during a purge sets asked=1 before it runs; the undo of a run's hold
 *          changes the record's text (its line back) and sets asked=1
 *   end    the record's text written back (mode and owner kept), then one
 *          "update-initramfs -u" when asked=1, the text does not say no and
 *          boot_dir has a kernel, then the record removed; the
 *          configuration gone (initramfs-tools purged): only the record
 *          goes. */
struct initramfs_rb_hold {
        const char *conf;       /* INITRAMFS_CONF */
        const char *record;     /* STATE_DIR/initramfs-hold */
        const char *boot_dir;   /* "/boot" */
        bool on;
        bool asked;
        char *text;             /* what conf gets back at the end */
};
/* The record's name in the state directory. */
#define INITRAMFS_HOLD_RECORD "initramfs-hold"
/* 0 held, 1 nothing to hold (no configuration, or on already), -errno with
 * msg filled (nothing held, the record not left behind). */
int initramfs_rb_hold_begin(struct initramfs_rb_hold *h, char *msg, size_t msglen);
/* 0 ended with one regeneration, 1 ended without (or not on), -errno with
 * msg filled (the hold stays recorded: the next rollback ends it). env may
 * be NULL. */
int initramfs_rb_hold_end(struct initramfs_rb_hold *h, const struct rollback_env *env, char *msg,
                          size_t msglen);
/* Frees what begin kept (not the record). */
void initramfs_rb_hold_release(struct initramfs_rb_hold *h);
