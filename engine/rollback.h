/* rollback.h — carrying out one journaled undo on the real system.
 *
 * rollback_apply() matches journal.h's undo_apply_fn: journal_rollback()
 * calls it for each entry, newest first. Every undo is idempotent and
 * checks before it acts:
 *   purge_packages   apt-get purge of those listed that are still installed,
 *                    then autoremove --purge of what only they pulled in
 *   remove_file      unlink if present
 *   restore_file     sha256 of the backup must match the journal, else the
 *                    file is left alone and the undo fails with a message
 *   delete_user      userdel --remove if the user exists (sessions ended first)
 *   …
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
};

/* 0 = undone, 1 = nothing to do, -errno with msg = failed. env is a
 * struct rollback_env *. */
int rollback_apply(void *env, const struct journal_entry *e, char *msg, size_t msglen);
